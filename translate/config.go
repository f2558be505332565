package translate

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/flexcp/flexcp/translate/mpcrypto"
)

// Config is the engine's setup. The zero value of every field selects its
// default (see DefaultConfig).
type Config struct {
	// MaxConnections bounds the translated connections one Engine tracks
	// (DESIGN 3.8). Default 65536.
	MaxConnections int
	// MaxSubflows bounds the subflows of a connection, subflow 0 included
	// (at most 8). Default 4. Each connection's two mapping trees reserve
	// 12 bytes per subflow id (dtree.Config.Subflows).
	MaxSubflows int
	// JoinSubflows bounds the join subflows (every subflow but subflow 0)
	// alive at once over all connections of the engine: they take slots
	// from one slab of this size instead of MaxSubflows-1 slots reserved
	// in every connection. When the slab is empty a join is refused with
	// an RST (JoinTableFull). Default MaxConnections (one join per
	// connection on average), at most MaxConnections*(MaxSubflows-1).
	JoinSubflows int
	// SackTables bounds the connections that remember ranges S has
	// SACKed (I25) at once: each takes a table of 16 ranges from one pool
	// of this size while S reports SACKs above its cumulative ack, instead
	// of carrying the table in every connection. When the pool is empty
	// the connection's subflow acks follow only S's cumulative ack
	// (DESIGN 3.4), counted as SackTableMisses. Default MaxConnections/4
	// (at least 1), at most MaxConnections.
	SackTables int
	// MappingRecords sizes the mapping store (package dtree): 16-byte
	// records per connection on average, shared by all connections of the
	// engine (a busy connection takes more, an idle one 4). An S->C
	// mapping in flight takes two records, a run of client mappings one.
	// When the store is full, new S->C segments are dropped (DropMapFull)
	// until acknowledgements free room. Default 32.
	MappingRecords int

	// SynTimeout releases a connection whose handshake did not complete.
	// Default 10 s.
	SynTimeout time.Duration
	// JoinTimeout releases a join subflow whose third ACK did not come.
	// Default 5 s.
	JoinTimeout time.Duration
	// IdleTimeout releases an established connection with no packet.
	// Default 10 min.
	IdleTimeout time.Duration
	// Linger keeps a closed connection's state for late segments
	// (retransmitted FINs and their ACKs). Default 2 s.
	Linger time.Duration
	// DeadAfter declares a subflow dead when it has data outstanding and
	// its subflow ack has not moved for this long (DESIGN 3.5). Default 1 s.
	DeadAfter time.Duration

	// StaleAfter marks a subflow stale when it has data outstanding and
	// its subflow ack has not moved for this long: it gets no new data
	// while another subflow is live (it is not dead: its mappings stay).
	// Default DeadAfter/4.
	StaleAfter time.Duration
	// StalePrompt turns on the prompt of I30: when a subflow goes stale
	// holding the first S->C byte the client has not acknowledged, P
	// sends S three duplicate ACKs of it with SACK blocks for what the
	// client holds beyond, so S retransmits at once, and reinjects a
	// stale subflow's retransmitted data on a live subflow. Off in a
	// zero Config; flexcp's configuration turns it on by default
	// (config.DefaultStalePrompt, results/path.md).
	StalePrompt bool

	// Scheduler names the S->C scheduler (DESIGN 3.5): "minrtt"
	// (default), "roundrobin", "weighted", "active-standby" or
	// "priority"; see sched.go.
	Scheduler string
	// SchedulerRules choose another scheduler for connections toward a
	// prefix (longest match), once per connection at its SYN.
	SchedulerRules []SchedulerRule
	// PortPriority orders the access ports (indices) for the "priority"
	// scheduler, preferred first.
	PortPriority []uint8
	// BackupPorts are access port indices whose subflows P treats as
	// backup (whatever the client says) and announces so with MP_PRIO
	// (RFC 8684 3.3.8) on the join's fourth ACK, or for subflow 0 on the
	// first segment P sends on it once established, so that the client,
	// too, sends on them only when no other subflow is live.
	BackupPorts []uint8

	// Translate decides whether a SYN toward dst:port starts a translated
	// connection. When nil, Prefixes and Ports decide.
	Translate func(dst netip.Addr, port uint16) bool
	// Prefixes: destinations translated when Translate is nil; empty
	// means every destination.
	Prefixes []netip.Prefix
	// Ports: destination ports translated when Translate is nil; empty
	// means every port.
	Ports []uint16

	// Keys supplies key_P. Default: NewRandomKeys(256, nil).
	Keys KeySource

	// Subflows, when not nil, learns the 4-tuple of every join subflow
	// the engine creates and releases, so that a dataplane with several
	// workers can steer the subflow's packets to this engine's core
	// (DESIGN 5). Default nil.
	Subflows SubflowObserver

	// AccessMTU bounds the MSS P announces on join subflows. Default 1500.
	AccessMTU int
	// ChecksumCache is the least number of S->C mapping sums remembered
	// for connections with DSS checksums (24 bytes each), so a server
	// retransmission covering part of a mapping can carry the mapping's
	// checksum. It is shared by the engine's connections and not sized by
	// them: DSS checksums are rare (off by default on Linux), and a miss
	// has a defined outcome (the part goes out as a new mapping). At
	// least, and by default, 16384 (one largest mapping ring).
	ChecksumCache int
	// EmitCapacity bounds the packets created per burst (Emitted).
	// Default 256.
	EmitCapacity int
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		MaxConnections: 65536,
		MaxSubflows:    4,
		MappingRecords: 32,
		SynTimeout:     10 * time.Second,
		JoinTimeout:    5 * time.Second,
		IdleTimeout:    10 * time.Minute,
		Linger:         2 * time.Second,
		DeadAfter:      time.Second,
		Scheduler:      "minrtt",
		AccessMTU:      1500,
		EmitCapacity:   256,
	}
}

// maxSubflowsLimit is the largest Config.MaxSubflows: subflow indices and
// the per-connection bitmaps use one byte.
const maxSubflowsLimit = 8

func (c *Config) fill() error {
	d := DefaultConfig()
	if c.MaxConnections == 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.MaxSubflows == 0 {
		c.MaxSubflows = d.MaxSubflows
	}
	if c.MappingRecords == 0 {
		c.MappingRecords = d.MappingRecords
	}
	if c.JoinSubflows == 0 && c.MaxSubflows >= 1 {
		c.JoinSubflows = min(c.MaxConnections, c.MaxConnections*(c.MaxSubflows-1))
	}
	if c.SackTables == 0 {
		c.SackTables = max(1, c.MaxConnections/4)
	}
	if c.SynTimeout == 0 {
		c.SynTimeout = d.SynTimeout
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = d.JoinTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.Linger == 0 {
		c.Linger = d.Linger
	}
	if c.DeadAfter == 0 {
		c.DeadAfter = d.DeadAfter
	}
	if c.Scheduler == "" {
		c.Scheduler = d.Scheduler
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = c.DeadAfter / 4
	}
	if c.AccessMTU == 0 {
		c.AccessMTU = d.AccessMTU
	}
	if c.EmitCapacity == 0 {
		c.EmitCapacity = d.EmitCapacity
	}
	if c.ChecksumCache == 0 {
		c.ChecksumCache = 1 << 14
	}
	switch {
	case c.MaxConnections < 1 || c.MaxConnections > 1<<24:
		return fmt.Errorf("translate: max connections %d: want 1..%d", c.MaxConnections, 1<<24)
	case c.MaxSubflows < 1 || c.MaxSubflows > maxSubflowsLimit:
		return fmt.Errorf("translate: max subflows %d: want 1..%d", c.MaxSubflows, maxSubflowsLimit)
	case c.JoinSubflows < 0 || c.JoinSubflows > c.MaxConnections*(c.MaxSubflows-1):
		return fmt.Errorf("translate: join subflows %d: want 0..%d (max connections x (max subflows - 1))", c.JoinSubflows, c.MaxConnections*(c.MaxSubflows-1))
	case c.SackTables < 1 || c.SackTables > c.MaxConnections:
		return fmt.Errorf("translate: sack tables %d: want 1..%d (max connections)", c.SackTables, c.MaxConnections)
	case c.MappingRecords < 4 || c.MappingRecords > 1<<16:
		return fmt.Errorf("translate: mapping records %d per connection: want 4..%d", c.MappingRecords, 1<<16)
	case c.MaxConnections*c.MappingRecords > 1<<28:
		return fmt.Errorf("translate: %d connections x %d mapping records: more than 2^28 records", c.MaxConnections, c.MappingRecords)
	case c.AccessMTU < 1280 || c.AccessMTU > 65535:
		return fmt.Errorf("translate: access MTU %d: want 1280..65535", c.AccessMTU)
	case c.EmitCapacity < 8:
		return fmt.Errorf("translate: emit capacity %d: want at least 8", c.EmitCapacity)
	case c.SynTimeout < 0 || c.JoinTimeout < 0 || c.IdleTimeout < 0 || c.Linger < 0 || c.DeadAfter < 0 || c.StaleAfter < 0:
		return errors.New("translate: negative timeout")
	}
	if _, err := newSchedulers(c); err != nil {
		return err
	}
	if c.Keys == nil {
		c.Keys = NewRandomKeys(256, nil)
	}
	return nil
}

// translates reports whether a SYN toward dst:port is to be translated.
func (c *Config) translates(dst netip.Addr, port uint16) bool {
	if c.Translate != nil {
		return c.Translate(dst, port)
	}
	if len(c.Ports) > 0 {
		ok := false
		for _, p := range c.Ports {
			if p == port {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(c.Prefixes) == 0 {
		return true
	}
	for _, p := range c.Prefixes {
		if p.Contains(dst) {
			return true
		}
	}
	return false
}

// KeySource supplies MPTCP keys key_P (RFC 8684 section 3.1). NextKey is
// called on the packet path (once per new connection) and must not block
// or allocate; Refill is called from Engine.Tick, off the packet path, and
// may do both. ok is false when no key is ready. The engine rejects keys
// whose token is already in use and draws again.
type KeySource interface {
	NextKey() (key uint64, ok bool)
	Refill()
}

// HashedKeySource is a KeySource that hashed its keys when it chose them
// (to test their tokens) and hands out each key with its token and IDSN
// (RFC 8684 section 3.1: the most and least significant bits of
// SHA-256(key)), sparing the engine one SHA-256 per handshake. The engine
// uses NextHashedKey instead of NextKey when Config.Keys implements it; a
// wrong token or IDSN breaks the connection, so only a source that
// computed them from the key itself may implement it.
type HashedKeySource interface {
	KeySource
	NextHashedKey() (key uint64, token uint32, idsn uint64, ok bool)
}

// RandomKeys is the default KeySource: keys from crypto/rand in batches,
// each kept only if its token passes an accept predicate (multicore: the
// token's low bits must name the owner core, DESIGN 5). It hashes every
// key in Refill and keeps its token and IDSN (HashedKeySource), so the
// packet path does not hash key_P. Not safe for concurrent use: it
// belongs to one Engine.
type RandomKeys struct {
	accept func(token uint32) bool
	keys   []hashedKey // ring of ready keys
	head   int
	n      int
	raw    []byte // candidates from crypto/rand, 8 bytes each
	pos    int    // bytes of raw already used
}

// hashedKey is a ready key with its token and IDSN.
type hashedKey struct {
	key, idsn uint64
	token     uint32
}

// NewRandomKeys returns a RandomKeys holding up to batch keys whose token
// accept approves (nil accepts all). It is filled once before returning.
func NewRandomKeys(batch int, accept func(token uint32) bool) *RandomKeys {
	if batch < 4 {
		batch = 4
	}
	r := &RandomKeys{accept: accept, keys: make([]hashedKey, batch), raw: make([]byte, 8*batch)}
	r.pos = len(r.raw)
	r.Refill()
	return r
}

// NextKey pops a ready key.
func (r *RandomKeys) NextKey() (uint64, bool) {
	k, _, _, ok := r.NextHashedKey()
	return k, ok
}

// NextHashedKey pops a ready key with its token and IDSN.
func (r *RandomKeys) NextHashedKey() (key uint64, token uint32, idsn uint64, ok bool) {
	if r.n == 0 {
		return 0, 0, 0, false
	}
	k := r.keys[r.head]
	r.head++
	if r.head == len(r.keys) {
		r.head = 0
	}
	r.n--
	return k.key, k.token, k.idsn, true
}

// Refill tops the batch up from crypto/rand, keeping only keys whose token
// is accepted. It computes one SHA-256 per candidate: with a predicate
// that accepts one token in N, about N per key. Candidates left over in
// the buffer serve the next Refill, so each candidate costs 8 bytes of
// randomness: a Tick that tops up 128 keys used to read the whole buffer
// (8 KiB for a batch of 1024), which made crypto/rand a third of the
// Ticks' time in BenchmarkHandshakeJoin.
func (r *RandomKeys) Refill() {
	for reads := 0; r.n < len(r.keys); {
		if r.pos+8 > len(r.raw) {
			if reads == 64 {
				return
			}
			reads++
			if _, err := rand.Read(r.raw); err != nil {
				return
			}
			r.pos = 0
		}
		for ; r.pos+8 <= len(r.raw) && r.n < len(r.keys); r.pos += 8 {
			k := binary.BigEndian.Uint64(r.raw[r.pos:])
			if k == 0 {
				continue
			}
			tok, idsn := mpcrypto.KeyHash(k)
			if r.accept != nil && !r.accept(tok) {
				continue
			}
			r.keys[(r.head+r.n)%len(r.keys)] = hashedKey{key: k, idsn: idsn, token: tok}
			r.n++
		}
	}
}

// Ready returns the number of keys ready to pop.
func (r *RandomKeys) Ready() int { return r.n }

// SubflowObserver learns the 4-tuples of join subflows as an engine
// creates and releases their state. Its methods are called on the packet
// path by the engine's goroutine: they must not block or allocate.
type SubflowObserver interface {
	// JoinAdded is called when a join SYN created subflow state, before
	// P's SYN/ACK leaves. Returning false refuses the join: the client
	// gets an RST and JoinTableFull is counted.
	JoinAdded(t FlowTuple) bool
	// JoinRemoved is called when the state of a subflow JoinAdded
	// accepted is released.
	JoinRemoved(t FlowTuple)
}

// FlowTuple is a join subflow's 4-tuple as the client sends it: client
// address and port to proxy-side (server) address and port. IPv4
// addresses sit in the first 4 bytes.
type FlowTuple struct {
	Client, Server         [16]byte
	ClientPort, ServerPort uint16
	V6                     bool
}
