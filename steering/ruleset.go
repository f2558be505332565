package steering

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DefaultSubflowsPerCore is the number of join subflows each core may have
// 5-tuple rules for unless Config says otherwise. A classifier's table
// holds Workers times this many entries in twice as many 40-byte slots
// (24 workers: 24576 entries, 2.5 MB per worker).
const DefaultSubflowsPerCore = 1024

// MaxSubflows bounds Workers * SubflowsPerCore (the rule id has 20 bits of
// slot).
const MaxSubflows = 1 << 20

const (
	idSlotBits = 20
	idSlotMask = 1<<idSlotBits - 1
	idGenMask  = 1<<(32-idSlotBits) - 1
)

// Errors returned by Ruleset methods.
var (
	ErrSubflowQuota   = errors.New("steering: subflow rules of this core at their limit")
	ErrSubflowExists  = errors.New("steering: subflow rule for this 5-tuple exists")
	ErrSubflowUnknown = errors.New("steering: no such subflow rule")
	ErrCore           = errors.New("steering: core out of range")
)

// JoinLayout says where a client puts the MP_JOIN option in its SYN. A NIC
// matches bytes at fixed offsets only, so a token rule exists per layout;
// a join SYN of another layout reaches the default RSS queue and the
// software classifier there, which parses the options, hands it over.
type JoinLayout struct {
	Name         string
	OptionOffset int // MP_JOIN option, bytes from the start of the TCP header
	HeaderLen    int // TCP header length of such a SYN (data offset * 4)
}

// LinuxJoinLayouts returns the join SYN layouts of the Linux kernel with its
// default sysctls (tcp_sack=1, tcp_window_scaling=1), with and without
// timestamps (tcp_timestamps), as tcp_options_write orders them and as the
// captures in translate/testdata show:
//
//	linux-ts:   MSS(4) SACK_PERM+TS(12) NOP WSCALE(4) MP_JOIN(12)  option at 40, header 52
//	linux-nots: MSS(4) NOP NOP SACK_PERM(4) NOP WSCALE(4) MP_JOIN(12)  option at 32, header 44
//
// Timestamps without SACK (NOP NOP TS) also put MP_JOIN at 40.
func LinuxJoinLayouts() []JoinLayout {
	return []JoinLayout{
		{Name: "linux-ts", OptionOffset: 40, HeaderLen: 52},
		{Name: "linux-nots", OptionOffset: 32, HeaderLen: 44},
	}
}

// Config sets up a Ruleset.
type Config struct {
	// Workers is the number of worker cores, which is also the number of
	// receive queues per port (worker i polls queue i of every port).
	Workers int
	// SymmetricRSS says the ports take a 16-bit-periodic RSS key, so that
	// the default rule sends both directions of a connection to one
	// queue. Without it the default rule hashes with a key that is not
	// symmetric (a port that refuses ours), the classifier still names
	// owners by the symmetric hash, and what lands on another core is
	// handed over.
	SymmetricRSS bool
	// RSSKey is the key of the default rule; default SymmetricKey(40)
	// with SymmetricRSS, else VerificationKey(). With SymmetricRSS it
	// must be 16-bit periodic and at least 40 bytes.
	RSSKey []byte
	// RETASize is the redirection table size, a power of two; default
	// DefaultRETASize.
	RETASize int
	// SubflowsPerCore bounds the join-subflow rules each core may own;
	// default DefaultSubflowsPerCore.
	SubflowsPerCore int
	// JoinLayouts lists the MP_JOIN SYN layouts to emit token rules for;
	// default LinuxJoinLayouts().
	JoinLayouts []JoinLayout
}

// Ruleset is the steering rule set of the proxy: the default symmetric RSS
// rule, one MP_JOIN token rule per core, IP version and join layout, and
// the 5-tuple rules of accepted join subflows, each naming the owner core.
// It is built and changed by the control plane (one goroutine); workers
// never read it after start-up: each one keeps a Classifier copy updated
// by messages (see the package documentation). Not safe for concurrent
// use.
type Ruleset struct {
	workers    int
	enc        TokenEncoding
	symmetric  bool
	key        []byte
	ownerKey   []byte
	reta       *RETA
	layouts    []JoinLayout
	perCoreMax int

	slots   []subflowSlot
	free    []int32
	byKey   map[flowKey]RuleID
	perCore []int
}

type subflowSlot struct {
	gen  uint32
	used bool
	t    Tuple
	core int
}

// NewRuleset builds the rule set for cfg.
func NewRuleset(cfg Config) (*Ruleset, error) {
	enc, err := NewTokenEncoding(cfg.Workers)
	if err != nil {
		return nil, err
	}
	rs := &Ruleset{workers: cfg.Workers, enc: enc, symmetric: cfg.SymmetricRSS}
	switch {
	case cfg.RSSKey != nil:
		rs.key = append([]byte(nil), cfg.RSSKey...)
	case cfg.SymmetricRSS:
		rs.key = SymmetricKey(40)
	default:
		rs.key = VerificationKey()
	}
	if cfg.SymmetricRSS && !NewTable(rs.key).Symmetric() {
		return nil, errors.New("steering: SymmetricRSS needs a 16-bit-periodic RSS key of at least 40 bytes")
	}
	// Ownership is always the symmetric hash: with a symmetric port key
	// it is the port's hash, otherwise the classifier's own.
	rs.ownerKey = rs.key
	if !cfg.SymmetricRSS {
		rs.ownerKey = SymmetricKey(40)
	}
	size := cfg.RETASize
	if size == 0 {
		size = DefaultRETASize
	}
	if rs.reta, err = NewRETA(size, cfg.Workers); err != nil {
		return nil, err
	}
	rs.layouts = cfg.JoinLayouts
	if rs.layouts == nil {
		rs.layouts = LinuxJoinLayouts()
	}
	rs.layouts = append([]JoinLayout(nil), rs.layouts...)
	for _, l := range rs.layouts {
		if l.OptionOffset < tcpMinHeaderLen || l.OptionOffset+optLenJoinSYN > l.HeaderLen || l.HeaderLen > 60 || l.HeaderLen%4 != 0 {
			return nil, fmt.Errorf("steering: join layout %q: option at %d does not fit a %d-byte TCP header", l.Name, l.OptionOffset, l.HeaderLen)
		}
	}
	rs.perCoreMax = cfg.SubflowsPerCore
	if rs.perCoreMax == 0 {
		rs.perCoreMax = DefaultSubflowsPerCore
	}
	if rs.perCoreMax < 0 || rs.perCoreMax*cfg.Workers > MaxSubflows {
		return nil, fmt.Errorf("steering: %d subflows per core times %d workers exceeds %d", rs.perCoreMax, cfg.Workers, MaxSubflows)
	}
	rs.byKey = make(map[flowKey]RuleID)
	rs.perCore = make([]int, cfg.Workers)
	return rs, nil
}

// Workers returns the number of worker cores.
func (rs *Ruleset) Workers() int { return rs.workers }

// Tokens returns the token encoding.
func (rs *Ruleset) Tokens() TokenEncoding { return rs.enc }

// Symmetric reports whether the ports run symmetric RSS.
func (rs *Ruleset) Symmetric() bool { return rs.symmetric }

// RSSKey returns a copy of the default rule's RSS key.
func (rs *Ruleset) RSSKey() []byte { return append([]byte(nil), rs.key...) }

// RETA returns a copy of the redirection table every port must use (worker
// i polls queue i; nicconf programs it, Resize'd to the port's size).
func (rs *Ruleset) RETA() *RETA { return rs.reta.Clone() }

// JoinLayouts returns the join SYN layouts token rules are emitted for.
func (rs *Ruleset) JoinLayouts() []JoinLayout { return append([]JoinLayout(nil), rs.layouts...) }

// SubflowsPerCore returns the per-core bound on subflow rules.
func (rs *Ruleset) SubflowsPerCore() int { return rs.perCoreMax }

// DefaultRule returns the lowest-priority rule: every packet, RSS over all
// queues with the rule set's key.
func (rs *Ruleset) DefaultRule() Rule {
	a := RSS(rs.symmetric, rs.queues())
	a.RSS.Key = rs.RSSKey()
	return Rule{
		Kind:     RuleDefault,
		Priority: PriorityDefault,
		Core:     -1,
		Pattern:  []Item{{Type: ItemETH}},
		Actions:  []Action{a},
	}
}

func (rs *Ruleset) queues() []int {
	q := make([]int, rs.workers)
	for i := range q {
		q[i] = i
	}
	return q
}

// TokenRules returns the MP_JOIN token rules: for each core, IP version
// and join layout, a TCP SYN (ACK clear) of the layout's header length
// whose option bytes at the layout's offset are an MP_JOIN SYN option with
// the token's owner field equal to the core, sent to that core's queue.
func (rs *Ruleset) TokenRules() []Rule {
	var out []Rule
	for core := 0; core < rs.workers; core++ {
		for _, v6 := range []bool{false, true} {
			for _, l := range rs.layouts {
				out = append(out, Rule{
					Kind:     RuleJoinToken,
					Priority: PriorityJoinToken,
					Core:     core,
					Pattern: []Item{
						ethItem(v6),
						ipItem(v6, nil),
						{Type: ItemTCP, TCP: TCPSpec{
							DataOff: uint8(l.HeaderLen/4) << 4, DataOffMask: 0xf0,
							Flags: tcpFlagSYN, FlagsMask: tcpFlagSYN | tcpFlagACK,
						}},
						{Type: ItemRaw, Raw: joinRawSpec(l.OptionOffset, uint32(core), rs.enc.Mask())},
					},
					Actions: []Action{Queue(core)},
				})
			}
		}
	}
	return out
}

func ethItem(v6 bool) Item {
	if v6 {
		return Item{Type: ItemETH, ETH: ETHSpec{Type: 0x86dd, TypeMask: 0xffff}}
	}
	return Item{Type: ItemETH, ETH: ETHSpec{Type: 0x0800, TypeMask: 0xffff}}
}

// ipItem returns the IP item for TCP, with exact addresses from t if t is
// not nil.
func ipItem(v6 bool, t *Tuple) Item {
	if v6 {
		it := Item{Type: ItemIPv6, IPv6: IPv6Spec{Proto: protoTCP, ProtoMask: 0xff}}
		if t != nil {
			it.IPv6.Src, it.IPv6.Dst = t.Src, t.Dst
			it.IPv6.SrcMask, it.IPv6.DstMask = allOnes16, allOnes16
		}
		return it
	}
	it := Item{Type: ItemIPv4, IPv4: IPv4Spec{Proto: protoTCP, ProtoMask: 0xff}}
	if t != nil {
		it.IPv4.Src, it.IPv4.Dst = [4]byte(t.Src[:4]), [4]byte(t.Dst[:4])
		it.IPv4.SrcMask, it.IPv4.DstMask = [4]byte{0xff, 0xff, 0xff, 0xff}, [4]byte{0xff, 0xff, 0xff, 0xff}
	}
	return it
}

var allOnes16 = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// subflowRules returns the two rules of one subflow (one per direction:
// the client's packets arrive on the access port; the reverse direction is
// P's own, but a hairpin, a mirror or a test may deliver it, and the rule
// set says who owns the subflow, not only what arrives).
func subflowRules(id RuleID, t Tuple, core int) []Rule {
	out := make([]Rule, 0, 2)
	for _, d := range []Tuple{t, t.Reverse()} {
		out = append(out, Rule{
			Kind:     RuleSubflow,
			ID:       id,
			Priority: PrioritySubflow,
			Core:     core,
			Pattern: []Item{
				ethItem(d.IPv6),
				ipItem(d.IPv6, &d),
				{Type: ItemTCP, TCP: TCPSpec{SrcPort: d.SrcPort, DstPort: d.DstPort, SrcPortMask: 0xffff, DstPortMask: 0xffff}},
			},
			Actions: []Action{Queue(core)},
		})
	}
	return out
}

// AddSubflow records that core owns the join subflow t and returns the id
// of its rules. It fails when core already owns SubflowsPerCore subflow
// rules or when a rule for t (either direction) exists.
func (rs *Ruleset) AddSubflow(t Tuple, core int) (RuleID, error) {
	if core < 0 || core >= rs.workers {
		return 0, ErrCore
	}
	k := t.key()
	if _, ok := rs.byKey[k]; ok {
		return 0, ErrSubflowExists
	}
	if rs.perCore[core] >= rs.perCoreMax {
		return 0, ErrSubflowQuota
	}
	var slot int
	if n := len(rs.free); n > 0 {
		slot = int(rs.free[n-1])
		rs.free = rs.free[:n-1]
	} else {
		slot = len(rs.slots)
		rs.slots = append(rs.slots, subflowSlot{})
	}
	s := &rs.slots[slot]
	s.gen = (s.gen + 1) & idGenMask
	if s.gen == 0 {
		s.gen = 1
	}
	s.used, s.t, s.core = true, t, core
	id := RuleID(s.gen<<idSlotBits | uint32(slot))
	rs.byKey[k] = id
	rs.perCore[core]++
	return id, nil
}

// RemoveSubflow deletes the rules of id; the id is not valid after.
func (rs *Ruleset) RemoveSubflow(id RuleID) error {
	s, slot := rs.lookup(id)
	if s == nil {
		return ErrSubflowUnknown
	}
	delete(rs.byKey, s.t.key())
	rs.perCore[s.core]--
	s.used, s.t, s.core = false, Tuple{}, 0
	rs.free = append(rs.free, int32(slot))
	return nil
}

func (rs *Ruleset) lookup(id RuleID) (*subflowSlot, int) {
	slot := int(id & idSlotMask)
	if slot >= len(rs.slots) {
		return nil, 0
	}
	s := &rs.slots[slot]
	if !s.used || s.gen != uint32(id)>>idSlotBits {
		return nil, 0
	}
	return s, slot
}

// Subflow returns the tuple and owner of a subflow rule.
func (rs *Ruleset) Subflow(id RuleID) (t Tuple, core int, ok bool) {
	s, _ := rs.lookup(id)
	if s == nil {
		return Tuple{}, 0, false
	}
	return s.t, s.core, true
}

// SubflowRulesOf returns the rules of one subflow: two, one per direction,
// sharing its id.
func (rs *Ruleset) SubflowRulesOf(id RuleID) []Rule {
	s, _ := rs.lookup(id)
	if s == nil {
		return nil
	}
	return subflowRules(id, s.t, s.core)
}

// Subflows returns the number of subflow entries.
func (rs *Ruleset) Subflows() int { return len(rs.byKey) }

// SubflowRules returns the rules of every subflow, in slot order.
func (rs *Ruleset) SubflowRules() []Rule {
	var out []Rule
	for i := range rs.slots {
		s := &rs.slots[i]
		if s.used {
			out = append(out, subflowRules(RuleID(s.gen<<idSlotBits|uint32(i)), s.t, s.core)...)
		}
	}
	return out
}

// Rules returns every rule, highest priority first: subflow rules, token
// rules, the default.
func (rs *Ruleset) Rules() []Rule {
	out := rs.SubflowRules()
	out = append(out, rs.TokenRules()...)
	return append(out, rs.DefaultRule())
}

// Steer returns the queue a NIC that installed every rule of rs would
// deliver an IP packet to, and the kind of rule that decided: the first
// matching rule by priority, its Queue action (-1 for Drop), or for the default RSS
// rule the RETA entry of the Toeplitz hash of the 4-tuple (TCP, not a
// fragment), of the addresses (other IP), or queue 0 (not IP). It is the
// NIC model the tests hold Classifier against; it allocates and is slow.
func (rs *Ruleset) Steer(pkt []byte) (queue int, kind RuleKind) {
	for _, r := range rs.Rules() {
		if !r.Matches(pkt) {
			continue
		}
		a := r.Actions[0]
		switch a.Type {
		case ActionQueue:
			return a.Queue, r.Kind
		case ActionDrop:
			return -1, r.Kind
		}
		return rs.reta.QueueOf(rssHash(NewTable(a.RSS.Key), pkt)), r.Kind
	}
	return 0, RuleDefault
}

// rssHash returns the hash a NIC computes for pkt: TCP 4-tuple, else IP
// 2-tuple, else 0.
func rssHash(t *Table, pkt []byte) uint32 {
	var p ipInfo
	switch parse(pkt, &p) {
	case classNotIP, classNoAddr:
		return 0
	case classTCP:
		sp, dp := p.ports()
		if p.v6 {
			return t.HashV6(&p.src, &p.dst, sp, dp)
		}
		return t.HashV4([4]byte(p.src[:4]), [4]byte(p.dst[:4]), sp, dp)
	}
	if p.v6 {
		return t.HashAddrV6(&p.src, &p.dst)
	}
	return t.HashAddrV4([4]byte(p.src[:4]), [4]byte(p.dst[:4]))
}

// VerificationKey returns the 40-byte RSS key of the Microsoft RSS
// verification suite, which many drivers also use as their default.
func VerificationKey() []byte {
	var k [40]byte
	for i, w := range [...]uint64{0x6d5a56da255b0ec2, 0x4167253d43a38fb0, 0xd0ca2bcbae7b30b4, 0x77cb2da38030f20c, 0x6a42b73bbeac01fa} {
		binary.BigEndian.PutUint64(k[i*8:], w)
	}
	return k[:]
}
