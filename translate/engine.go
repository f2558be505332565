package translate

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"github.com/flexcp/flexcp/translate/mpcrypto"
	"github.com/flexcp/flexcp/translate/option"
	"math/rand/v2"
	"net/netip"

	"github.com/flexcp/flexcp/dtree"
	"github.com/flexcp/flexcp/translate/header"
)

// Engine translates the packets of one worker core. It owns its
// connection table, token table, timer wheel and mapping store. An Engine
// is owned by one goroutine and is not safe for concurrent use.
type Engine struct {
	cfg    Config
	alloc  Allocator
	scheds []Scheduler // index conn.sched: Config.Scheduler, then SchedulerRules
	keys   KeySource
	hkeys  HashedKeySource // keys, when it also gives tokens and IDSNs
	hasher mpcrypto.Hasher
	rng    *rand.ChaCha8
	seed   uint64

	conns  []conn
	subs   []subflow // the subflow slab (see joinFree)
	free   []int32   // stack of free connection slots
	maxSub int
	flows  table // 4-tuple + side -> (conn, subflow or core)
	tokens table // token_P -> conn
	wheel  wheel
	store  *dtree.Store

	// The subflow slab subs holds [0] a zero subflow standing for every
	// subflow id without a slot (never written), [1+i] subflow 0 of
	// connection i, then Config.JoinSubflows slots for join subflows,
	// named by conn.subIdx; joinFree stacks the free ones.
	joinFree []int32

	// The SACKed-range pool (I25, sacked.go): Config.SackTables tables
	// named by conn.sackIdx from 1 ([0] is never used); sackFree stacks
	// the free ones.
	sackTabs []sackTable
	sackFree []int32

	emitted []Packet
	cnt     Counters
	path    PathStats
	owner   ownerCheck // flexcpdebug builds: the one goroutine allowed in
	nconn   int
	nsub    int

	// per-packet scratch, reused
	pk     pkt
	ow     optWriter
	info   [maxSubflowsLimit]SubflowInfo
	pieces [8]dtree.Piece
	psum   [8]uint16

	csums    []csumSlot // mapping payload sums for DSS checksums, direct-mapped
	csumMask uint32
	ranges   [4]dtree.Range
	hranges  [16]dtree.Range
	blocks   [maxSACKBlocks][2]uint32
}

// kindCore marks a flow-table value naming a connection's core-side key.
const kindCore = 15

// New returns an Engine for cfg (defaults filled in) that creates packets
// with alloc.
func New(cfg Config, alloc Allocator) (*Engine, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if alloc == nil {
		return nil, fmt.Errorf("translate: nil allocator")
	}
	scheds, _ := newSchedulers(&cfg) // checked by fill
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("translate: seeding: %w", err)
	}
	store, err := dtree.New(dtree.Config{Trees: 2 * cfg.MaxConnections, Records: recordsFor(cfg), Subflows: cfg.MaxSubflows})
	if err != nil {
		return nil, fmt.Errorf("translate: mapping store: %w", err)
	}
	e := &Engine{
		cfg:     cfg,
		alloc:   alloc,
		scheds:  scheds,
		keys:    cfg.Keys,
		rng:     rand.NewChaCha8(seed),
		seed:    binary.LittleEndian.Uint64(seed[:8]),
		conns:   make([]conn, cfg.MaxConnections),
		subs:    make([]subflow, 1+cfg.MaxConnections+cfg.JoinSubflows),
		free:    make([]int32, cfg.MaxConnections),
		maxSub:  cfg.MaxSubflows,
		flows:   newTable(2*cfg.MaxConnections + cfg.JoinSubflows),
		tokens:  newTable(cfg.MaxConnections),
		wheel:   newWheel(cfg.MaxConnections),
		store:   store,
		emitted: make([]Packet, 0, cfg.EmitCapacity),
	}
	e.hkeys, _ = cfg.Keys.(HashedKeySource)
	for i := range e.free {
		e.free[i] = int32(cfg.MaxConnections - 1 - i)
	}
	// The flow table holds a core key and a subflow-0 key per connection
	// and one key per join slot.
	e.joinFree = make([]int32, cfg.JoinSubflows)
	for i := range e.joinFree {
		e.joinFree[i] = int32(len(e.subs) - 1 - i)
	}
	e.sackTabs = make([]sackTable, 1+cfg.SackTables)
	e.sackFree = make([]int32, cfg.SackTables)
	for i := range e.sackFree {
		e.sackFree[i] = int32(cfg.SackTables - i)
	}
	// At least room for one largest ring of S->C mappings (two records
	// each), so one busy connection's sums are evicted only when a set
	// overflows. It is not sized by the whole slab: that would cost 12
	// bytes per mapping record for every connection, while DSS checksums
	// are rare (off by default on Linux).
	n := 256
	for n < max(cfg.ChecksumCache, dtree.MaxRingMappings/2) {
		n <<= 1
	}
	e.csums = make([]csumSlot, n)
	e.csumMask = uint32(n - 1)
	return e, nil
}

// recordsFor sizes the mapping slab: Config.MappingRecords per
// connection, and at least one largest ring so one busy connection fits.
func recordsFor(cfg Config) int {
	return max(cfg.MaxConnections*cfg.MappingRecords, dtree.MaxRingMappings)
}

// BindOwner makes the calling goroutine the engine's owner: in builds with
// the flexcpdebug tag, Process, Tick and ClearEmitted then panic when
// entered from any other goroutine. Other builds do nothing. A
// worker calls it once, from its own goroutine, before its loop.
func (e *Engine) BindOwner() { e.owner.bind() }

// Counters returns a copy of the statistics.
func (e *Engine) Counters() Counters { return e.cnt }

// ActiveConnections returns the number of connections holding state.
func (e *Engine) ActiveConnections() int { return e.nconn }

// ActiveSubflows returns the number of subflows holding state.
func (e *Engine) ActiveSubflows() int { return e.nsub }

// Mappings returns the number of mapping trees and slab records in use
// (both zero once every connection is released).
func (e *Engine) Mappings() (trees, records int) { return e.store.Trees(), e.store.Used() }

// Tokens returns the number of tokens in the token table.
func (e *Engine) Tokens() int { return e.tokens.n }

// HasToken reports whether token names a connection of this engine.
func (e *Engine) HasToken(token uint32) bool { return e.findToken(token) >= 0 }

// Emitted returns the packets the engine created since the last
// ClearEmitted, in creation order. Their Side and Port are egress hints.
func (e *Engine) Emitted() []Packet { return e.emitted }

// ClearEmitted empties the emitted list; call it after draining.
func (e *Engine) ClearEmitted() {
	e.owner.enter()
	e.emitted = e.emitted[:0]
}

// ProcessBurst runs Process on each packet and stores the verdicts in
// out, which must be at least as long as pkts.
func (e *Engine) ProcessBurst(now int64, pkts []Packet, out []Verdict) {
	out = out[:len(pkts)]
	for i := range pkts {
		out[i] = e.Process(now, &pkts[i])
	}
}

// sub returns subflow j of connection ci. A join subflow id without a
// slot yields the shared zero subflow (state subFree), which callers only
// read: a subflow is written only once its state says it is in use.
func (e *Engine) sub(ci int32, j int) *subflow {
	if j == 0 {
		return &e.subs[1+int(ci)]
	}
	return &e.subs[e.conns[ci].subIdx[j-1]]
}

// takeJoinSlot gives join subflow j of connection ci a slot from the
// slab, zero as every free slot is (I34); it reports false when the slab
// is empty.
func (e *Engine) takeJoinSlot(ci int32, j int) bool {
	n := len(e.joinFree)
	if n == 0 {
		return false
	}
	x := e.joinFree[n-1]
	e.joinFree = e.joinFree[:n-1]
	e.conns[ci].subIdx[j-1] = x
	return true
}

// putJoinSlot returns the slot of join subflow j of connection ci, zeroed
// (I34).
func (e *Engine) putJoinSlot(ci int32, j int) {
	c := &e.conns[ci]
	if x := c.subIdx[j-1]; x != 0 {
		e.subs[x] = subflow{}
		e.joinFree = append(e.joinFree, x)
		c.subIdx[j-1] = 0
	}
}

func (e *Engine) drop(r DropReason) Verdict {
	e.cnt.Drops[r]++
	return Drop
}

// pkt is the parsed form of the packet being processed.
type pkt struct {
	v6     bool
	ipHL   int
	tcpHL  int
	payLen int
	payOff int // absolute offset of the payload in Buf
	src    [16]byte
	dst    [16]byte
	sport  uint16
	dport  uint16
	seq    header.Seq32
	ack    header.Seq32
	flags  uint8
	win    uint16
	urg    uint16
	paySum uint16
	opts   option.Options

	tcp    header.TCP // the TCP segment, for finish
	pseudo uint16     // pseudo-header sum, for finish
}

// parse decodes p's IP and TCP headers into e.pk. It returns false when p
// is not a TCP packet the engine can translate (the caller passes it). The
// options and the payload sum, the costly part, are left to finish, which
// Process calls only for packets of a connection it tracks and for SYNs:
// plain TCP routed through flexcp pays a header read and a table lookup.
func (e *Engine) parse(p *Packet) bool {
	pk := &e.pk
	if p.Off < 0 || p.Len < header.IPv4MinimumSize || p.Off+p.Len > len(p.Buf) {
		return false
	}
	b := p.Buf[p.Off : p.Off+p.Len]
	var t header.TCP
	var pseudo uint16
	switch b[0] >> 4 {
	case 4:
		ip := header.IPv4(b)
		if !ip.IsValid() || ip.Protocol() != header.IPv4ProtocolTCP || ip.IsFragment() || ip.HeaderLength() != header.IPv4MinimumSize {
			return false
		}
		pk.v6 = false
		pk.ipHL = header.IPv4MinimumSize
		pk.src = [16]byte{}
		pk.dst = [16]byte{}
		copy(pk.src[:4], b[header.IPv4SourceOffset:])
		copy(pk.dst[:4], b[header.IPv4DestinationOffset:])
		t = header.TCP(ip.Payload())
		if !t.IsValid() {
			return false
		}
		// pseudoSum for IPv4, from the addresses in the header.
		pseudo = header.Fold(uint64(header.IPv4ProtocolTCP) + uint64(len(t)) +
			uint64(binary.BigEndian.Uint32(ip[header.IPv4SourceOffset:])) + uint64(binary.BigEndian.Uint32(ip[header.IPv4DestinationOffset:])))
	case 6:
		ip := header.IPv6(b)
		if !ip.IsValid() || !ip.IsDirectTCP() {
			return false
		}
		pk.v6 = true
		pk.ipHL = header.IPv6MinimumSize
		copy(pk.src[:], b[header.IPv6SourceOffset:])
		copy(pk.dst[:], b[header.IPv6DestinationOffset:])
		t = header.TCP(ip.Payload())
		if !t.IsValid() {
			return false
		}
		pseudo = header.Fold(pseudoSum(true, &pk.src, &pk.dst, len(t)))
	default:
		return false
	}
	pk.tcpHL = t.DataOffset()
	pk.payLen = len(t) - pk.tcpHL
	pk.payOff = p.Off + pk.ipHL + pk.tcpHL
	pk.sport = t.SourcePort()
	pk.dport = t.DestinationPort()
	pk.seq = t.Seq()
	pk.ack = t.Ack()
	pk.flags = t.Flags()
	pk.win = t.Window()
	pk.urg = t.UrgentPointer()
	pk.tcp, pk.pseudo = t, pseudo
	return true
}

// unparsed decides the fate of a packet parse refused. A packet whose
// 4-tuple belongs to a tracked connection is dropped and counted: routed
// as it is, it would reach S (or C) untranslated, with a subflow's
// sequence numbers or a join's 4-tuple. IPv4 options, IPv6 extension
// headers and first fragments are DropUnsupported, a TCP header that
// fails validation DropMalformed.
// Anything else passes and is routed like any IP packet, non-first
// fragments included (they carry no ports to look up).
func (e *Engine) unparsed(p *Packet) Verdict {
	if p.Off < 0 || p.Len < header.IPv4MinimumSize || p.Off+p.Len > len(p.Buf) {
		return Pass
	}
	b := p.Buf[p.Off : p.Off+p.Len]
	pk := &e.pk
	var l4 []byte
	reason := DropMalformed
	switch b[0] >> 4 {
	case 4:
		ip := header.IPv4(b)
		if !ip.IsValid() || ip.Protocol() != header.IPv4ProtocolTCP || ip.FragmentOffset() != 0 {
			return Pass
		}
		if ip.IsFragment() || ip.HeaderLength() != header.IPv4MinimumSize {
			reason = DropUnsupported
		}
		pk.v6 = false
		pk.src, pk.dst = [16]byte{}, [16]byte{}
		copy(pk.src[:4], b[header.IPv4SourceOffset:])
		copy(pk.dst[:4], b[header.IPv4DestinationOffset:])
		l4 = ip.Payload()
	case 6:
		ip := header.IPv6(b)
		if !ip.IsValid() {
			return Pass
		}
		pk.v6 = true
		copy(pk.src[:], b[header.IPv6SourceOffset:])
		copy(pk.dst[:], b[header.IPv6DestinationOffset:])
		var ok bool
		if l4, ok = ipv6TCP(ip); !ok {
			return Pass
		}
		if !ip.IsDirectTCP() {
			reason = DropUnsupported
		}
	default:
		return Pass
	}
	if len(l4) < 4 {
		return Pass
	}
	pk.sport = uint16(l4[0])<<8 | uint16(l4[1])
	pk.dport = uint16(l4[2])<<8 | uint16(l4[3])
	if _, _, ok := e.lookup(pk, p.Side); !ok {
		if p.Side == Access && e.strayUnparsed(l4) {
			// I33 for a packet P cannot rewrite into an RST: dropped.
			return e.drop(DropStrayMPTCP)
		}
		return Pass
	}
	return e.drop(reason)
}

// strayUnparsed reports whether l4, the TCP header of a client packet
// parse refused and lookup did not find (e.pk holds its addresses and
// ports), is a stray MPTCP segment (I33): a valid data offset, not a SYN,
// an MPTCP option, a translated destination.
func (e *Engine) strayUnparsed(l4 []byte) bool {
	if len(l4) < header.TCPMinimumSize {
		return false
	}
	t := header.TCP(l4)
	n := t.DataOffset()
	if n < header.TCPMinimumSize || n > len(l4) || t.Flags()&(header.TCPFlagSyn|header.TCPFlagAck|header.TCPFlagRst) == header.TCPFlagSyn {
		return false
	}
	pk := &e.pk
	return option.HasMPTCP(l4[header.TCPMinimumSize:n]) && e.cfg.translates(addr(&pk.dst, pk.v6), pk.dport)
}

// stray decides the fate of a client segment that lookup did not find,
// that is not a SYN and that carries an MPTCP option (I33). Toward a
// destination the config does not translate it is an MPTCP connection
// between the client and an MPTCP server, routed unchanged. Toward one it
// translates, the server speaks only TCP and must never see it: routed,
// it reached the server untranslated (a join's 4-tuple the server does
// not know, or subflow 0's subflow sequence numbers on T0, which the
// server may take for its connection's bytes), and the server's RST came
// back to the client untranslated too. These are the client's duplicate
// ACKs still in flight after P reset a join that raced the close (a
// no_join_ack rejection frees the join at the first of them), segments
// of a connection whose state ended (linger, idle timeout, a restart of
// flexcp), or forgeries.
//
// P answers as the endpoint of the subflow, which it is for every join
// subflow (DESIGN 3.2): RFC 9293 3.10.7.1 has a host answer a segment
// for which it has no connection with an RST (an RST itself is dropped),
// and RFC 8684 3.2 and 3.8 do the same for a join it will not take,
// with MP_TCPRST "MPTCP-specific error" (3.6). An RST rather than a
// silent drop, because the client otherwise keeps retransmitting into a
// subflow nobody holds (until its own timeouts, minutes for an
// established one), and because it is what the client got before, from
// the server. The RST is the segment rewritten in place: no allocation,
// and nothing is sent that a segment did not bring (no amplification).
// With several workers a segment reaches the engine that owns its
// 4-tuple (a join subflow's classifier entry is in place before P's
// SYN/ACK leaves, docs/steering.md), so a miss here is a segment of no
// connection, never one of another worker's.
func (e *Engine) stray(p *Packet) Verdict {
	pk := &e.pk
	if !e.cfg.translates(addr(&pk.dst, pk.v6), pk.dport) {
		return Pass
	}
	e.cnt.Drops[DropStrayMPTCP]++
	if pk.flags&header.TCPFlagRst != 0 {
		return Drop
	}
	return e.resetSender(p, tcpRstMPTCP)
}

// ipv6TCP walks the extension headers of ip (RFC 8200 section 4: hop-by-
// hop, routing and destination options, and a first fragment) to the TCP
// header and returns it; ok is false when the packet carries no TCP header
// (another protocol, a non-first fragment, ESP, a chain it cannot follow).
// Like Linux it follows a chain of any length: each header is at least 8
// bytes, so the walk ends with the packet (a fixed limit let a longer
// chain on a tracked 4-tuple be routed untranslated).
func ipv6TCP(ip header.IPv6) (l4 []byte, ok bool) {
	nh, rest := ip.NextHeader(), ip.Payload()
	for len(rest) > 0 {
		switch nh {
		case header.IPv6ProtocolTCP:
			return rest, true
		case header.IPv6HopByHop, header.IPv6Routing, header.IPv6DestOptions:
			if len(rest) < 8 || len(rest) < (int(rest[1])+1)*8 {
				return nil, false
			}
			nh, rest = rest[0], rest[(int(rest[1])+1)*8:]
		case header.IPv6Fragment:
			if len(rest) < 8 || (uint16(rest[2])<<8|uint16(rest[3]))&^7 != 0 {
				return nil, false
			}
			nh, rest = rest[0], rest[8:]
		default:
			return nil, false
		}
	}
	return nil, false
}

// finish completes e.pk after parse: the payload's one's-complement sum
// and the options.
func (e *Engine) finish() {
	pk := &e.pk
	opts := pk.tcp[header.TCPMinimumSize:pk.tcpHL]
	// header.TCP.PayloadSum, from the fields parse read and the options
	// as 32-bit words (at most 10, so no carry leaves the 64 bits): the
	// same value, as the sum is never zero (the pseudo-header holds the
	// protocol).
	sum := uint64(pk.pseudo) + uint64(pk.sport) + uint64(pk.dport) + uint64(pk.seq) + uint64(pk.ack) +
		uint64(binary.BigEndian.Uint16(pk.tcp[header.TCPDataOffsetOffset:])) + uint64(pk.win) + uint64(pk.tcp.Checksum()) + uint64(pk.urg)
	for o := opts; len(o) >= 4; o = o[4:] {
		sum += uint64(binary.BigEndian.Uint32(o))
	}
	pk.paySum = ^header.Fold(sum)
	pk.opts.Parse(opts, pk.flags, pk.payLen > 0)
}

// Process translates one packet; see Verdict. now is the caller's clock
// in nanoseconds, read once per burst.
func (e *Engine) Process(now int64, p *Packet) Verdict {
	e.owner.enter()
	if !e.parse(p) {
		return e.unparsed(p)
	}
	pk := &e.pk
	if p.Side == Core {
		ci, _, ok := e.lookup(pk, Core)
		if !ok {
			return Pass
		}
		e.finish()
		c := &e.conns[ci]
		c.lastSeen = now
		return e.fromServer(now, p, ci, c)
	}
	ci, j, ok := e.lookup(pk, Access)
	if !ok {
		if pk.flags&(header.TCPFlagSyn|header.TCPFlagAck|header.TCPFlagRst) == header.TCPFlagSyn {
			e.finish()
			if pk.opts.Present.Has(option.MPJoin) {
				return e.joinSyn(now, p)
			}
			if pk.opts.Present.Has(option.MPCapable) {
				return e.capableSyn(now, p)
			}
			// An MPTCP option the codec does not accept on a SYN (version 0,
			// RFC 6824, or a malformed MP_CAPABLE): not translated; S
			// ignores it and the client falls back.
			if pk.opts.Present.Has(option.MPTCPOther) && e.cfg.translates(addr(&pk.dst, pk.v6), pk.dport) {
				e.cnt.ConnFallback[FallbackVersion]++
			}
			return Pass
		}
		// Not ours and not a SYN: plain TCP routed through flexcp, unless
		// it carries an MPTCP option (I33). The walk over the option kinds
		// costs a plain segment a few steps, and nothing without options
		// (BenchmarkMissPlain: no difference above the noise, 2026-12-07).
		if pk.tcpHL > header.TCPMinimumSize && option.HasMPTCP(pk.tcp[header.TCPMinimumSize:pk.tcpHL]) {
			return e.stray(p)
		}
		return Pass
	}
	e.finish()
	c := &e.conns[ci]
	c.lastSeen = now
	s := e.sub(ci, int(j))
	s.port = p.Port
	return e.fromClient(now, p, ci, c, int(j), s)
}

// lookup finds the connection (and, on the access side, the subflow) of
// the parsed packet.
func (e *Engine) lookup(pk *pkt, side Side) (ci int32, j uint8, ok bool) {
	h := flowHash(e.seed, &pk.src, &pk.dst, pk.sport, pk.dport, side)
	t := &e.flows
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := t.slots[i]
		if sl.val == 0 {
			return 0, 0, false
		}
		if sl.hash != h {
			continue
		}
		v := sl.val - 1
		ci, k := int32(v>>4), uint8(v&15)
		c := &e.conns[ci]
		if c.v6 != pk.v6 {
			continue
		}
		if k == kindCore {
			if side != Core {
				continue
			}
			s := e.sub(ci, 0)
			if pk.sport == s.rport && pk.dport == s.cport && pk.src == s.raddr && pk.dst == s.caddr {
				return ci, 0, true
			}
			continue
		}
		if side != Access {
			continue
		}
		s := e.sub(ci, int(k))
		if pk.sport == s.cport && pk.dport == s.rport && pk.src == s.caddr && pk.dst == s.raddr {
			return ci, k, true
		}
	}
}

func (e *Engine) accessHash(s *subflow) uint32 {
	return flowHash(e.seed, &s.caddr, &s.raddr, s.cport, s.rport, Access)
}

func (e *Engine) coreHash(s0 *subflow) uint32 {
	return flowHash(e.seed, &s0.raddr, &s0.caddr, s0.rport, s0.cport, Core)
}

// findToken returns the connection with token_P token, or -1.
func (e *Engine) findToken(token uint32) int32 {
	h := tokenHash(e.seed, token)
	t := &e.tokens
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := t.slots[i]
		if sl.val == 0 {
			return -1
		}
		if sl.hash == h {
			ci := int32(sl.val - 1)
			if e.conns[ci].tokenP == token && e.conns[ci].state != connFree && e.conns[ci].keyP != 0 {
				return ci
			}
		}
	}
}

// newConn takes a free connection slot, or -1. Its conn and subflow 0
// are zero, as every free slot's are (I34: New allocates them zeroed,
// release and undoConn zero them when they free the slot), so they are
// written once per connection, not twice.
func (e *Engine) newConn() int32 {
	n := len(e.free)
	if n == 0 {
		return -1
	}
	ci := e.free[n-1]
	e.free = e.free[:n-1]
	e.nconn++
	return ci
}

// release frees a connection and everything it holds.
func (e *Engine) release(ci int32) {
	c := &e.conns[ci]
	if c.state == connFree {
		return
	}
	for j := 0; j < int(c.nsub); j++ {
		s := e.sub(ci, j)
		if s.state == subFree {
			continue
		}
		e.flows.remove(e.accessHash(s), uint32(ci)<<4|uint32(j))
		if j != 0 {
			e.joinGone(c, s)
		}
		s.state = subFree
		e.nsub--
		e.cnt.SubflowClosed++
	}
	for j := 1; j < int(c.nsub); j++ {
		e.putJoinSlot(ci, j)
	}
	s0 := e.sub(ci, 0)
	e.flows.remove(e.coreHash(s0), uint32(ci)<<4|kindCore)
	if c.keyP != 0 {
		e.tokens.remove(tokenHash(e.seed, c.tokenP), uint32(ci))
	}
	if c.cmap.Valid() {
		e.store.ReleaseClient(c.cmap)
	}
	if c.pmap.Valid() {
		e.store.ReleaseProxy(c.pmap)
	}
	e.wheel.cancel(ci)
	e.putSackTable(c)
	*c = conn{}
	*s0 = subflow{}
	e.free = append(e.free, ci)
	e.nconn--
	e.cnt.ConnClosed++
}

// closeSub releases one subflow of a connection that lives on.
func (e *Engine) closeSub(ci int32, j int) {
	s := e.sub(ci, j)
	if s.state == subFree {
		return
	}
	c := &e.conns[ci]
	if j != 0 {
		e.flows.remove(e.accessHash(s), uint32(ci)<<4|uint32(j))
		e.joinGone(c, s)
		if c.pmap.Valid() {
			e.store.ProxyDrop(c.pmap, uint8(j))
		}
		if c.cmap.Valid() {
			e.store.ClientDrop(c.cmap, uint8(j))
		}
		s.state = subFree
		e.putJoinSlot(ci, j)
		e.nsub--
		e.cnt.SubflowClosed++
		return
	}
	// Subflow 0 keeps its addresses: they are T0, the key of the core
	// side. It is only marked closed and its mappings dropped.
	s.state = subClosed
	s.dead = true
	if c.pmap.Valid() {
		e.store.ProxyDrop(c.pmap, 0)
	}
}

// newPacket appends a fresh packet to the emitted list, or counts why it
// cannot.
func (e *Engine) newPacket() *Packet {
	if len(e.emitted) == cap(e.emitted) {
		e.cnt.Drops[DropEmitFull]++
		return nil
	}
	q, ok := e.alloc.Alloc()
	if !ok || q.Off < 0 || q.Off+header.IPv6MinimumSize+header.TCPMaximumSize > len(q.Buf) {
		e.cnt.Drops[DropAllocFailed]++
		return nil
	}
	e.emitted = append(e.emitted, q)
	return &e.emitted[len(e.emitted)-1]
}

// hdrOut describes the IP/TCP header of a rewritten or created packet.
type hdrOut struct {
	src, dst     *[16]byte
	sport, dport uint16
	seq, ack     header.Seq32
	flags        uint8
	win          uint16
	opts         []byte // padded to 4 bytes
}

// rewrite replaces the IP and TCP headers of p by h, keeping the IP
// header's other fields and the payload [payOff, payOff+payLen) in place
// (whose one's-complement sum is paySum), moving the headers into the
// headroom or toward the payload as needed. It reports false when the
// headroom is too small.
func (e *Engine) rewrite(p *Packet, v6 bool, h *hdrOut, payOff, payLen int, paySum uint16) bool {
	ipHL := header.IPv4MinimumSize
	if v6 {
		ipHL = header.IPv6MinimumSize
	}
	hl := ipHL + header.TCPMinimumSize + len(h.opts)
	off := payOff - hl
	if off < 0 {
		return false
	}
	if off != p.Off {
		if v6 {
			copy(p.Buf[off:off+ipHL], p.Buf[p.Off:p.Off+ipHL])
		} else {
			// 20 bytes through registers (all loaded before any store,
			// so the regions may overlap): cheaper than a memmove call.
			src, dst := p.Buf[p.Off:p.Off+header.IPv4MinimumSize], p.Buf[off:off+header.IPv4MinimumSize]
			w0, w1, w2 := binary.LittleEndian.Uint64(src), binary.LittleEndian.Uint64(src[8:]), binary.LittleEndian.Uint32(src[16:])
			binary.LittleEndian.PutUint64(dst, w0)
			binary.LittleEndian.PutUint64(dst[8:], w1)
			binary.LittleEndian.PutUint32(dst[16:], w2)
		}
	}
	p.Off = off
	p.Len = hl + payLen
	e.writeHeaders(p.Buf[off:off+p.Len], v6, h, paySum, false)
	return true
}

// build writes a complete packet (new IP header, TCP header, payload) at
// q.Off.
func (e *Engine) build(q *Packet, v6 bool, h *hdrOut, payload []byte) {
	ipHL := header.IPv4MinimumSize
	if v6 {
		ipHL = header.IPv6MinimumSize
	}
	hl := ipHL + header.TCPMinimumSize + len(h.opts)
	q.Len = hl + len(payload)
	b := q.Buf[q.Off : q.Off+q.Len]
	copy(b[hl:], payload)
	e.writeHeaders(b, v6, h, header.OnesSum(payload, 0), true)
}

// writeHeaders fills b's IP fields that change and its whole TCP header,
// then both checksums (I9). fresh initialises the IP header's other
// fields too. The TCP checksum is summed from the values written (not
// read back) plus the options and paySum; the IPv4 header checksum of a
// rewritten packet is updated incrementally (RFC 1624) for the fields
// that change (total length, addresses), so a corrupted input header is
// not laundered.
func (e *Engine) writeHeaders(b []byte, v6 bool, h *hdrOut, paySum uint16, fresh bool) {
	ipHL := header.IPv4MinimumSize
	if v6 {
		ipHL = header.IPv6MinimumSize
	}
	// Views of constant length (the IP header, the fixed TCP header, the
	// options) let the compiler drop the bounds check of every field
	// access; b holds at least the headers (callers size it from h).
	hl := header.TCPMinimumSize + len(h.opts)
	if len(b) < ipHL+hl {
		panic("translate: writeHeaders: short buffer")
	}
	var sum uint64
	if v6 {
		ip := header.IPv6(b[:header.IPv6MinimumSize])
		if fresh {
			clear(ip)
			ip.SetVersion()
			ip.SetNextHeader(header.IPv6ProtocolTCP)
			ip.SetHopLimit(64)
		}
		ip.SetPayloadLength(uint16(len(b) - header.IPv6MinimumSize))
		ip.SetSourceAddress(*h.src)
		ip.SetDestinationAddress(*h.dst)
		sum = pseudoSum(true, h.src, h.dst, len(b)-header.IPv6MinimumSize)
	} else {
		ip := header.IPv4(b[:header.IPv4MinimumSize])
		src, dst := binary.BigEndian.Uint32(h.src[:4]), binary.BigEndian.Uint32(h.dst[:4])
		if fresh {
			clear(ip)
			ip.SetHeaderLength(header.IPv4MinimumSize)
			ip.SetFlagsFragmentOffset(header.IPv4FlagDontFragment)
			ip.SetTTL(64)
			ip.SetProtocol(header.IPv4ProtocolTCP)
			ip.SetTotalLength(uint16(len(b)))
			ip.SetSourceAddress([4]byte(h.src[:4]))
			ip.SetDestinationAddress([4]byte(h.dst[:4]))
			ip.SetChecksum(0)
			ip.SetChecksum(ip.CalculateChecksum())
		} else {
			// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), in one 64-bit
			// sum folded once: ~m is the sum of the old fields' words
			// complemented (a 32-bit complement complements both), m'
			// the new values as written.
			sum := uint64(^ip.Checksum()) + uint64(^ip.TotalLength()) +
				uint64(^binary.BigEndian.Uint32(ip[header.IPv4SourceOffset:])) + uint64(^binary.BigEndian.Uint32(ip[header.IPv4DestinationOffset:])) +
				uint64(len(b)) + uint64(src) + uint64(dst)
			ip.SetTotalLength(uint16(len(b)))
			ip.SetSourceAddress([4]byte(h.src[:4]))
			ip.SetDestinationAddress([4]byte(h.dst[:4]))
			ip.SetChecksum(^header.Fold(sum))
		}
		// The IPv4 pseudo-header (pseudoSum) from the addresses at hand.
		sum = uint64(header.IPv4ProtocolTCP) + uint64(len(b)-header.IPv4MinimumSize) + uint64(src) + uint64(dst)
	}
	t := header.TCP(b[ipHL : ipHL+header.TCPMinimumSize])
	doff := byte(hl/4) << 4
	t.SetSourcePort(h.sport)
	t.SetDestinationPort(h.dport)
	t.SetSeq(h.seq)
	t.SetAck(h.ack)
	t[header.TCPDataOffsetOffset] = doff
	t.SetFlags(h.flags)
	t.SetWindow(h.win)
	t.SetUrgentPointer(0)
	// RFC 9293 3.1: pseudo-header, TCP header (checksum field zero),
	// payload. 32-bit words summed in 64 bits fold to the same sum.
	sum += uint64(h.sport) + uint64(h.dport) + uint64(h.seq) + uint64(h.ack) +
		uint64(doff)<<8 + uint64(h.flags) + uint64(h.win) + uint64(paySum)
	// The options, whole 32-bit words (at most 10: no carry out of 64
	// bits), copied and summed in one pass, without a memmove call.
	d := b[ipHL+header.TCPMinimumSize : ipHL+hl]
	for o := h.opts; len(o) >= 4 && len(d) >= 4; o, d = o[4:], d[4:] {
		w := binary.BigEndian.Uint32(o)
		binary.BigEndian.PutUint32(d, w)
		sum += uint64(w)
	}
	t.SetChecksum(^header.Fold(sum))
}

// pseudoSum returns the unfolded one's-complement sum of the TCP
// pseudo-header (RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6) for
// addresses held in src and dst (the first 4 bytes for IPv4) and a TCP
// length.
func pseudoSum(v6 bool, src, dst *[16]byte, tcpLen int) uint64 {
	s := uint64(header.IPv4ProtocolTCP) + uint64(tcpLen)
	if !v6 {
		return s + uint64(binary.BigEndian.Uint32(src[:4])) + uint64(binary.BigEndian.Uint32(dst[:4]))
	}
	return s + uint64(binary.BigEndian.Uint32(src[0:4])) + uint64(binary.BigEndian.Uint32(src[4:8])) +
		uint64(binary.BigEndian.Uint32(src[8:12])) + uint64(binary.BigEndian.Uint32(src[12:16])) +
		uint64(binary.BigEndian.Uint32(dst[0:4])) + uint64(binary.BigEndian.Uint32(dst[4:8])) +
		uint64(binary.BigEndian.Uint32(dst[8:12])) + uint64(binary.BigEndian.Uint32(dst[12:16]))
}

// addr returns the netip form of a 4- or 16-byte address held in a.
func addr(a *[16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(*a)
	}
	return netip.AddrFrom4([4]byte(a[:4]))
}

// random32 returns a random 32-bit value (nonces, ISNs).
func (e *Engine) random32() uint32 { return uint32(e.rng.Uint64()) }

// Tick runs the timer wheel: SYN and join handshake timeouts, idle
// timeout and closing linger. It also refills the key source. It never
// allocates.
func (e *Engine) Tick(now int64) {
	e.owner.enter()
	e.keys.Refill()
	for _, ci := range e.wheel.advance(now) {
		e.onTimer(now, ci)
	}
}
