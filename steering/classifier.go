package steering

import (
	"math/bits"
	"math/rand/v2"
)

// Reason says how Classifier.Owner chose a core, one value per rule kind
// and per fallback, for a per-reason counter.
type Reason uint8

// Reasons.
const (
	// ReasonRSS: a TCP packet matched no specific rule; the symmetric
	// Toeplitz hash of its 4-tuple indexed the RETA.
	ReasonRSS Reason = iota
	// ReasonSubflow: the packet belongs to a join subflow with a 5-tuple
	// entry (either direction); the entry names the owner.
	ReasonSubflow
	// ReasonJoinToken: an MP_JOIN SYN; its token's owner field names the
	// core.
	ReasonJoinToken
	// ReasonJoinBadToken: an MP_JOIN SYN whose token's owner field names
	// no core (no key of this proxy has it); RSS decided, and the core
	// that receives it answers with a reset.
	ReasonJoinBadToken
	// ReasonNotTCP: an IP packet that is not TCP; RSS over the addresses.
	ReasonNotTCP
	// ReasonFragment: an IPv4 fragment; RSS over the addresses, as NICs
	// hash fragments.
	ReasonFragment
	// ReasonMalformed: the IP or TCP header is cut short or
	// inconsistent; RSS over the addresses.
	ReasonMalformed
	// ReasonNotIP: not IPv4 or IPv6, or the addresses are cut off; the
	// RETA entry of hash 0 (core 0 with the default table).
	ReasonNotIP
	// NumReasons is the number of reasons, for counter arrays.
	NumReasons
)

// String returns a short name for metric labels.
func (r Reason) String() string {
	switch r {
	case ReasonRSS:
		return "rss"
	case ReasonSubflow:
		return "subflow"
	case ReasonJoinToken:
		return "join-token"
	case ReasonJoinBadToken:
		return "join-bad-token"
	case ReasonNotTCP:
		return "not-tcp"
	case ReasonFragment:
		return "fragment"
	case ReasonMalformed:
		return "malformed"
	case ReasonNotIP:
		return "not-ip"
	}
	return "invalid"
}

// UpdateOp is the operation of an Update.
type UpdateOp uint8

// Update operations.
const (
	UpdateInstall UpdateOp = iota + 1 // add or move a subflow entry
	UpdateRemove                      // delete a subflow entry
)

// Update is the message an owner core sends every other worker, through
// its single-producer ring to that worker, when it accepts or closes a
// join subflow. It is a plain pointer-free value.
type Update struct {
	Op    UpdateOp
	Core  uint16
	Tuple Tuple
}

// Classifier names the owner core of a packet by evaluating a Ruleset's
// rules in software: join-subflow 5-tuple entries, then MP_JOIN tokens
// (options parsed properly, at any offset), then symmetric RSS through the
// RETA. Each worker has its own Classifier; its subflow entries change
// only through Install, Remove or Apply, called by that worker (for its
// own joins, and for the Updates other owners send it). Owner neither
// allocates nor locks. Not safe for concurrent use.
type Classifier struct {
	enc      TokenEncoding
	hash     *Table
	reta     []uint16
	retaMask uint32
	flows    flowTable
}

// NewClassifier returns a classifier for rs holding rs's current subflow
// entries. Call it from the control plane before the workers start (rs
// must not change meanwhile); later changes reach the copy as Updates.
func NewClassifier(rs *Ruleset) *Classifier {
	c := &Classifier{
		enc:      rs.enc,
		hash:     NewTable(rs.ownerKey),
		reta:     rs.reta.Entries(),
		retaMask: rs.reta.mask,
	}
	c.flows.init(rs.workers, rs.perCoreMax)
	for i := range rs.slots {
		if s := &rs.slots[i]; s.used {
			c.flows.install(s.t.key(), s.core)
		}
	}
	return c
}

// Owner returns the core that owns an IP packet (no link-layer header) and
// why. It never panics and always returns a core in [0, Workers).
func (c *Classifier) Owner(pkt []byte) (core int, why Reason) {
	var p ipInfo
	switch parse(pkt, &p) {
	case classNotIP, classNoAddr:
		return int(c.reta[0]), ReasonNotIP
	case classMalformed, classTCPShort:
		return c.addrOwner(&p), ReasonMalformed
	case classFragment:
		return c.addrOwner(&p), ReasonFragment
	case classNotTCP:
		return c.addrOwner(&p), ReasonNotTCP
	}
	return c.segmentOwner(&p)
}

// segmentOwner applies the TCP rules to a parsed segment: a join
// subflow's 5-tuple, an MP_JOIN SYN's token, else symmetric RSS.
func (c *Classifier) segmentOwner(p *ipInfo) (core int, why Reason) {
	sp, dp := p.ports()
	if c.flows.n > 0 {
		k := keyOf(&p.src, &p.dst, sp, dp, p.v6)
		if i, ok := c.flows.find(&k); ok {
			return int(c.flows.slots[i].core), ReasonSubflow
		}
	}
	if tok, ok := joinToken(p.tcp); ok {
		if core, ok := c.enc.TokenOwner(tok); ok {
			return core, ReasonJoinToken
		}
		return c.tcpOwner(p, sp, dp), ReasonJoinBadToken
	}
	return c.tcpOwner(p, sp, dp), ReasonRSS
}

func (c *Classifier) tcpOwner(p *ipInfo, sp, dp uint16) int {
	var h uint32
	if p.v6 {
		h = c.hash.HashV6(&p.src, &p.dst, sp, dp)
	} else {
		h = c.hash.HashV4([4]byte(p.src[:4]), [4]byte(p.dst[:4]), sp, dp)
	}
	return int(c.reta[h&c.retaMask])
}

func (c *Classifier) addrOwner(p *ipInfo) int {
	var h uint32
	if p.v6 {
		h = c.hash.HashAddrV6(&p.src, &p.dst)
	} else {
		h = c.hash.HashAddrV4([4]byte(p.src[:4]), [4]byte(p.dst[:4]))
	}
	return int(c.reta[h&c.retaMask])
}

// Workers returns the number of cores the classifier names.
func (c *Classifier) Workers() int { return c.enc.Workers() }

// Install adds (or moves) the entry for subflow t, both directions, owned
// by core. It returns false when core is out of range or already owns
// SubflowsPerCore entries. An owner calls it on its own classifier first:
// false means the join cannot be steered and must be refused; true means
// the same Update will succeed on every other worker (each owner's
// Updates reach a worker in order, so no worker ever holds more than
// SubflowsPerCore entries of one owner).
func (c *Classifier) Install(t Tuple, core int) bool {
	if core < 0 || core >= c.enc.Workers() {
		return false
	}
	return c.flows.install(t.key(), core)
}

// Remove deletes the entry for subflow t (either direction); it returns
// false if there was none.
func (c *Classifier) Remove(t Tuple) bool {
	k := t.key()
	return c.flows.remove(&k)
}

// Apply performs an Update received from an owner core.
func (c *Classifier) Apply(u Update) bool {
	switch u.Op {
	case UpdateInstall:
		return c.Install(u.Tuple, int(u.Core))
	case UpdateRemove:
		return c.Remove(u.Tuple)
	}
	return false
}

// Subflows returns the number of subflow entries held.
func (c *Classifier) Subflows() int { return c.flows.n }

// SubflowsOf returns the number of subflow entries core owns.
func (c *Classifier) SubflowsOf(core int) int {
	if core < 0 || core >= len(c.flows.perCore) {
		return 0
	}
	return int(c.flows.perCore[core])
}

// flowTable is a fixed-capacity open-addressing hash table (linear
// probing, deletion by backward shift, so no tombstones) from canonical
// subflow keys to cores. Its slot count is a power of two at least twice
// its capacity, so a miss, the common case, probes about 2.5 slots. The
// hash mixes the key with a per-table random seed (128-bit multiply
// folding, as wyhash does), so peers cannot aim collisions without
// knowing the seed.
type flowTable struct {
	slots   []flowEntry
	mask    uint64
	n       int
	perCore []int32
	quota   int32
	seed    [4]uint64
}

type flowEntry struct {
	key  flowKey
	core uint16
	used bool
}

func (f *flowTable) init(workers, perCore int) {
	capacity := max(workers*perCore, 1)
	size := 1 << bits.Len(uint(2*capacity-1))
	f.slots = make([]flowEntry, size)
	f.mask = uint64(size - 1)
	f.perCore = make([]int32, workers)
	f.quota = int32(perCore)
	for i := range f.seed {
		f.seed[i] = rand.Uint64() | 1
	}
}

// home returns the first slot to probe for k: every key word goes through
// a seeded multiply, then both products through a final one, so that keys
// differing in a port alone spread over the whole table.
func (f *flowTable) home(k *flowKey) uint64 {
	h1 := mum(k.a0^f.seed[0], k.b0^f.seed[1]) ^ k.a1
	h2 := mum(k.b1^f.seed[2], (uint64(k.ports)<<8|uint64(k.fam))^f.seed[3])
	return mum(h1^f.seed[1], h2^f.seed[2]) & f.mask
}

// mum multiplies a and b to 128 bits and folds the halves.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// find returns the slot of k, or the empty slot where it would go.
func (f *flowTable) find(k *flowKey) (int, bool) {
	i := f.home(k)
	for {
		e := &f.slots[i]
		if !e.used {
			return int(i), false
		}
		if e.key == *k {
			return int(i), true
		}
		i = (i + 1) & f.mask
	}
}

func (f *flowTable) install(k flowKey, core int) bool {
	i, found := f.find(&k)
	e := &f.slots[i]
	if found {
		if int(e.core) == core {
			return true
		}
		if f.perCore[core] >= f.quota {
			return false
		}
		f.perCore[e.core]--
		f.perCore[core]++
		e.core = uint16(core)
		return true
	}
	if f.perCore[core] >= f.quota {
		return false
	}
	*e = flowEntry{key: k, core: uint16(core), used: true}
	f.perCore[core]++
	f.n++
	return true
}

func (f *flowTable) remove(k *flowKey) bool {
	i, found := f.find(k)
	if !found {
		return false
	}
	f.perCore[f.slots[i].core]--
	f.n--
	// Backward shift: move later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, j].
	hole := uint64(i)
	for j := (hole + 1) & f.mask; f.slots[j].used; j = (j + 1) & f.mask {
		h := f.home(&f.slots[j].key)
		var stays bool
		if hole <= j {
			stays = hole < h && h <= j
		} else {
			stays = hole < h || h <= j
		}
		if !stays {
			f.slots[hole] = f.slots[j]
			hole = j
		}
	}
	f.slots[hole] = flowEntry{}
	return true
}
