package fwd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/flexcp/flexcp/translate/header"
)

// Kind is what Classify found a received frame to be.
type Kind uint8

// Kinds returned by Classify.
const (
	// KindConsumed: fwd handled the frame (ARP, NDP, echo to us) or dropped
	// it; it is on a TX list, queued, or on the free list.
	KindConsumed Kind = iota
	// KindTransit4: a valid IPv4 packet to route; the frame now holds the
	// IP packet (Off at the IPv4 header, Len its total length).
	KindTransit4
	// KindTransit6: a valid IPv6 packet to route; the frame now holds the
	// IP packet (Off at the IPv6 header, Len 40 plus its payload length).
	KindTransit6
)

// Verdict is what RouteIP and SendIP did with a packet.
type Verdict uint8

// Verdicts.
const (
	// VerdictTX: the frame is on a TX list.
	VerdictTX Verdict = iota
	// VerdictPending: the frame waits for its next hop to resolve; fwd
	// later puts it on a TX list, or on the free list if resolution fails.
	VerdictPending
	// VerdictDrop: the frame is on the free list and a drop reason counted.
	VerdictDrop
	// VerdictConsumed: fwd used the frame (an NDP message it learned from)
	// and put it on the free list; nothing was dropped.
	VerdictConsumed
)

// Forwarder is one worker's forwarding state: the neighbor table, pending
// queues, timers, ICMP rate limiter and counters, over a shared read-only
// Table. It is owned by one worker and not safe for concurrent use; every
// worker makes its own.
type Forwarder struct {
	t     *Table
	alloc Allocator

	neigh      []neighbor
	neighShift uint
	nhCache    int32 // slot of the last next hop resolved

	pend     []Frame // pending packets; linked through pendNext
	pendNext []int32
	pendFree int32 // head of the free list of pend slots, -1 if none

	nextTimer  int64
	icmpTokens int64 // ICMP error tokens, in units of 1e-9 token
	icmpLast   int64

	ctr Counters
}

// NewForwarder returns a worker's Forwarder over t, originating packets in
// buffers from alloc, with t's static neighbors installed.
func NewForwarder(t *Table, alloc Allocator) (*Forwarder, error) {
	if t == nil || alloc == nil {
		return nil, errors.New("fwd: NewForwarder needs a Table and an Allocator")
	}
	c := &t.cfg
	n := 1 << bits.Len(uint(max(c.NeighborCapacity, neighProbeWindow)-1))
	f := &Forwarder{
		t:          t,
		alloc:      alloc,
		neigh:      make([]neighbor, n),
		neighShift: uint(64 - bits.Len(uint(n-1))),
		nhCache:    -1,
		pend:       make([]Frame, c.PendingTotal),
		pendNext:   make([]int32, c.PendingTotal),
		icmpTokens: int64(c.ICMPErrorBurst) * 1e9,
	}
	f.ctr.Ports = make([]PortCounters, len(t.ports))
	for i := range f.pendNext {
		f.pendNext[i] = int32(i + 1)
	}
	f.pendNext[len(f.pendNext)-1] = -1
	for _, sn := range c.Neighbors {
		k := sn.Addr.Unmap().As16()
		if sn.Addr.Unmap().Is4() {
			k = v4Key(sn.Addr.Unmap().As4())
		}
		s := f.lookupNeighbor(sn.Port, &k)
		if s < 0 {
			s = f.insertNeighbor(sn.Port, &k, nil)
		}
		if s < 0 {
			return nil, fmt.Errorf("fwd: static neighbor %v: neighbor table too small (%d slots)", sn.Addr, n)
		}
		f.neigh[s].state = nsStatic
		f.neigh[s].mac = sn.MAC
	}
	return f, nil
}

// Counters returns the worker's counters, for the owner to read and
// publish.
func (f *Forwarder) Counters() *Counters { return &f.ctr }

// HandleBurst classifies and routes every frame of in, which it may modify,
// and runs the neighbor timers when due. now is a monotonic clock in
// nanoseconds, read once per burst. Every frame ends up on a TX list of out,
// on its free list, or in a pending queue that later empties into one of
// them.
func (f *Forwarder) HandleBurst(now int64, in []Frame, out *Output) {
	f.Tick(now, out)
	for i := range in {
		fr := &in[i]
		switch kind, nh := f.classify(now, fr, out); kind {
		case KindTransit4:
			f.route4(now, fr, nh, true, out)
		case KindTransit6:
			f.route6(now, fr, nh, true, out)
		}
	}
}

// Tick runs the neighbor timers (retries, expiry of unresolved next hops)
// if they are due. HandleBurst calls it; a worker whose bursts are empty
// calls it itself at least every TimerInterval.
func (f *Forwarder) Tick(now int64, out *Output) {
	if now >= f.nextTimer {
		f.nextTimer = now + int64(f.t.cfg.TimerInterval)
		f.runTimers(now, out)
	}
}

// Classify checks a frame received on port fr.Port and handles what is
// fwd's own: ARP, NDP, echo requests to our addresses; it drops what is
// malformed or not for this host (counted). For a transit IP packet it
// moves the frame to the IP header (Off past Ethernet, Len the IP length
// without Ethernet padding) and returns KindTransit4 or KindTransit6; the
// caller then passes the frame to RouteIP, translated or not. IPv4 header
// checksums are verified here and nowhere else.
func (f *Forwarder) Classify(now int64, fr *Frame, out *Output) Kind {
	k, _ := f.classify(now, fr, out)
	return k
}

// ClassifyHop is Classify, also returning the next hop of a transit
// packet for RouteHop (0 for KindConsumed).
func (f *Forwarder) ClassifyHop(now int64, fr *Frame, out *Output) (Kind, uint32) {
	return f.classify(now, fr, out)
}

// RouteHop routes a transit packet straight from ClassifyHop (kind
// KindTransit4 or KindTransit6, next hop nh), unchanged since, as
// HandleBurst does: RouteIP without repeating the header checks and the
// route lookup ClassifyHop did. A packet that was rewritten goes to
// RouteIP instead.
func (f *Forwarder) RouteHop(now int64, fr *Frame, kind Kind, nh uint32, out *Output) Verdict {
	if kind == KindTransit6 {
		return f.route6(now, fr, nh, true, out)
	}
	return f.route4(now, fr, nh, true, out)
}

// RouteIP routes a transit IP packet: fr holds the packet from its IP
// header (Off) for Len bytes, fr.Port is its ingress port, and there must be
// at least 14 bytes of headroom before Off for the Ethernet header RouteIP
// writes. The packet may come straight from Classify, be rewritten by the
// translator (its header moved back into the headroom), or be new in a
// fresh buffer. RouteIP checks the header's structure (not the IPv4
// checksum, which Classify verified or the translator computed),
// decrements TTL / hop limit with an incremental checksum update, sends
// ICMP time exceeded / fragmentation needed / packet too big as needed,
// resolves the next hop and appends the frame to its egress TX list.
// Packets to our own addresses get the local treatment (echo reply or
// drop).
func (f *Forwarder) RouteIP(now int64, fr *Frame, out *Output) Verdict {
	return f.routeIP(now, fr, true, out)
}

// SendIP is RouteIP for packets fwd's caller originates (for example the
// translator's own SYN/ACKs, ACKs and RSTs): the same, but without the
// TTL / hop-limit decrement and its expiry check.
func (f *Forwarder) SendIP(now int64, fr *Frame, out *Output) Verdict {
	return f.routeIP(now, fr, false, out)
}

func (f *Forwarder) routeIP(now int64, fr *Frame, transit bool, out *Output) Verdict {
	if !fr.valid() || int(fr.Port) >= len(f.t.ports) || !f.t.ports[fr.Port].valid || fr.Len < 1 {
		return f.dropFrame(fr, DropBadFrame, out)
	}
	pkt := fr.Buf[fr.Off : fr.Off+fr.Len]
	switch pkt[0] >> 4 {
	case 4:
		if r := checkIPv4(pkt); r != noDrop {
			return f.dropFrame(fr, r, out)
		}
		ip := header.IPv4(pkt)
		fr.Len = int(ip.TotalLength())
		dst := ip.DestinationAddress()
		if dst[0] >= 224 {
			return f.dropFrame(fr, DropMulticast, out)
		}
		return f.route4(now, fr, f.t.lpm4.Lookup(binary.BigEndian.Uint32(dst[:])), transit, out)
	case 6:
		if r := checkIPv6(pkt); r != noDrop {
			return f.dropFrame(fr, r, out)
		}
		ip := header.IPv6(pkt)
		fr.Len = header.IPv6MinimumSize + int(ip.PayloadLength())
		if pkt[header.IPv6DestinationOffset] == 0xff {
			return f.dropFrame(fr, DropMulticast, out)
		}
		return f.route6(now, fr, f.lookup6(pkt[header.IPv6DestinationOffset:]), transit, out)
	}
	return f.dropFrame(fr, DropIPv4Version, out)
}

// noDrop is the "no reason" result of the check functions.
const noDrop = NumDropReasons

// checkIPv4 returns why pkt is not a usable IPv4 packet, or noDrop.
func checkIPv4(pkt []byte) DropReason {
	if len(pkt) < header.IPv4MinimumSize {
		return DropIPv4Truncated
	}
	if pkt[0]>>4 != 4 {
		return DropIPv4Version
	}
	hl := int(pkt[0]&0xf) * 4
	tl := int(binary.BigEndian.Uint16(pkt[header.IPv4TotalLengthOffset:]))
	if tl > len(pkt) {
		return DropIPv4TotalLen
	}
	if hl < header.IPv4MinimumSize || hl > tl {
		return DropIPv4HeaderLen
	}
	return noDrop
}

// checkIPv6 returns why pkt is not a usable IPv6 packet, or noDrop.
func checkIPv6(pkt []byte) DropReason {
	if len(pkt) < header.IPv6MinimumSize {
		return DropIPv6Truncated
	}
	if pkt[0]>>4 != 6 {
		return DropIPv6Version
	}
	if header.IPv6MinimumSize+int(binary.BigEndian.Uint16(pkt[header.IPv6PayloadLengthOffset:])) > len(pkt) {
		return DropIPv6PayloadLen
	}
	return noDrop
}

// lookup6 looks up the 16-byte address at a.
func (f *Forwarder) lookup6(a []byte) uint32 {
	return f.t.lpm6.Lookup(binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(a[8:]))
}

// classify is Classify, also returning the next hop of a transit packet.
func (f *Forwarder) classify(now int64, fr *Frame, out *Output) (Kind, uint32) {
	if !fr.valid() || int(fr.Port) >= len(f.t.ports) || !f.t.ports[fr.Port].valid {
		f.dropFrame(fr, DropBadFrame, out)
		return KindConsumed, 0
	}
	pc := &f.ctr.Ports[fr.Port]
	pc.RXPackets++
	pc.RXBytes += uint64(fr.Len)
	pkt := fr.Buf[fr.Off : fr.Off+fr.Len]
	if len(pkt) < EthernetHeaderLen {
		f.dropFrame(fr, DropEthTruncated, out)
		return KindConsumed, 0
	}
	eth := Ethernet(pkt)
	pi := &f.t.ports[fr.Port]
	if eth.Dst() != pi.mac && !pi.accepts(eth.Dst()) {
		f.dropFrame(fr, DropEthNotForUs, out)
		return KindConsumed, 0
	}
	l3 := pkt[EthernetHeaderLen:]
	switch eth.Type() {
	case EtherTypeIPv4:
		if r := checkIPv4(l3); r != noDrop {
			f.dropFrame(fr, r, out)
			return KindConsumed, 0
		}
		ip := header.IPv4(l3)
		if !ip.IsChecksumValid() {
			f.dropFrame(fr, DropIPv4Checksum, out)
			return KindConsumed, 0
		}
		fr.Off += EthernetHeaderLen
		fr.Len = int(ip.TotalLength())
		dst := ip.DestinationAddress()
		if dst[0] >= 224 { // multicast, reserved, limited broadcast
			f.dropFrame(fr, DropMulticast, out)
			return KindConsumed, 0
		}
		nh := f.t.lpm4.Lookup(binary.BigEndian.Uint32(dst[:]))
		if f.t.nextHops[nh].kind == nhLocal {
			f.local4(now, fr, out)
			return KindConsumed, 0
		}
		return KindTransit4, nh
	case EtherTypeIPv6:
		if r := checkIPv6(l3); r != noDrop {
			f.dropFrame(fr, r, out)
			return KindConsumed, 0
		}
		ip := header.IPv6(l3)
		fr.Off += EthernetHeaderLen
		fr.Len = header.IPv6MinimumSize + int(ip.PayloadLength())
		dst := l3[header.IPv6DestinationOffset : header.IPv6DestinationOffset+16]
		if dst[0] == 0xff {
			if pi.acceptsGroup(dst) {
				f.local6(now, fr, true, true, out)
			} else {
				f.dropFrame(fr, DropMulticast, out)
			}
			return KindConsumed, 0
		}
		nh := f.lookup6(dst)
		if f.t.nextHops[nh].kind == nhLocal {
			f.local6(now, fr, false, true, out)
			return KindConsumed, 0
		}
		return KindTransit6, nh
	case EtherTypeARP:
		f.handleARP(now, fr, out)
	case EtherTypeVLAN, EtherTypeQinQ:
		f.dropFrame(fr, DropVLAN, out)
	default:
		f.dropFrame(fr, DropEtherType, out)
	}
	return KindConsumed, 0
}

// accepts reports whether the port listens to multicast or broadcast MAC m:
// broadcast, all-nodes (33:33:00:00:00:01) and the solicited-node groups of
// its IPv6 addresses (33:33:ff:xx:xx:xx, RFC 2464 section 7).
func (pi *portInfo) accepts(m MAC) bool {
	if m == BroadcastMAC {
		return true
	}
	if m[0] != 0x33 || m[1] != 0x33 {
		return false
	}
	if m == (MAC{0x33, 0x33, 0, 0, 0, 1}) {
		return true
	}
	return m[2] == 0xff && pi.solicitedFor(uint32(m[3])<<16|uint32(m[4])<<8|uint32(m[5]))
}

// solicitedFor reports whether low24 names a solicited-node group of the
// port.
func (pi *portInfo) solicitedFor(low24 uint32) bool {
	for _, s := range pi.solicited {
		if s == low24 {
			return true
		}
	}
	return false
}

// acceptsGroup reports whether the IPv6 multicast address a is all-nodes
// (ff02::1) or a solicited-node group (ff02::1:ffxx:xxxx, RFC 4291 section
// 2.7.1) of the port.
func (pi *portInfo) acceptsGroup(a []byte) bool {
	if binary.BigEndian.Uint64(a) != 0xff02<<48 {
		return false
	}
	lo := binary.BigEndian.Uint64(a[8:])
	if lo == 1 {
		return true
	}
	return lo>>24 == 0x1ff && pi.solicitedFor(uint32(lo)&0xffffff)
}

// ownV6 reports whether a is one of the port's IPv6 addresses.
func (pi *portInfo) ownV6(a *[16]byte) bool {
	for i := range pi.v6 {
		if pi.v6[i].Addr().As16() == *a {
			return true
		}
	}
	return false
}

// ownV4 reports whether a is one of the port's IPv4 addresses.
func (pi *portInfo) ownV4(a [4]byte) bool {
	for i := range pi.v4 {
		if pi.v4[i].Addr().As4() == a {
			return true
		}
	}
	return false
}

// srcV4 returns the port's IPv4 address on the network of dst, or its
// first IPv4 address; ok is false if it has none.
func (pi *portInfo) srcV4(dst [4]byte) (a [4]byte, ok bool) {
	if len(pi.v4) == 0 {
		return a, false
	}
	for i := range pi.v4 {
		p := pi.v4[i]
		b := p.Addr().As4()
		m := ^uint32(0) << (32 - p.Bits())
		if p.Bits() == 0 || binary.BigEndian.Uint32(b[:])&m == binary.BigEndian.Uint32(dst[:])&m {
			return b, true
		}
	}
	return pi.v4[0].Addr().As4(), true
}

// srcV6 returns the port's IPv6 address on the network of dst: its
// link-local address for a link-local dst, else a global address on dst's
// network, its first global address, or its link-local one.
func (pi *portInfo) srcV6(dst *[16]byte) [16]byte {
	if dst[0] == 0xfe && dst[1]&0xc0 == 0x80 || len(pi.v6) == 1 {
		return pi.v6[0].Addr().As16()
	}
	for i := 1; i < len(pi.v6); i++ {
		p := pi.v6[i]
		b := p.Addr().As16()
		if prefixMatch(b[:], dst[:], p.Bits()) {
			return b
		}
	}
	return pi.v6[1].Addr().As16()
}

// prefixMatch reports whether a and b agree on their first n bits.
func prefixMatch(a, b []byte, n int) bool {
	for i := 0; n > 0; i++ {
		m := byte(0xff)
		if n < 8 {
			m <<= 8 - n
		}
		if (a[i]^b[i])&m != 0 {
			return false
		}
		n -= 8
	}
	return true
}

// dropFrame frees fr and counts r.
func (f *Forwarder) dropFrame(fr *Frame, r DropReason, out *Output) Verdict {
	f.ctr.drop(r)
	out.free(fr.Ref)
	return VerdictDrop
}

// transmit appends fr, an Ethernet frame for port fr.Port, to its TX list;
// routed says it is an IP packet that went through routing.
func (f *Forwarder) transmit(fr *Frame, routed bool, out *Output) {
	pc := &f.ctr.Ports[fr.Port]
	pc.TXPackets++
	pc.TXBytes += uint64(fr.Len)
	if routed {
		pc.FwdPackets++
		pc.FwdBytes += uint64(fr.Len)
	}
	out.tx(fr)
}

// route4 forwards the IPv4 packet in fr (Off at the IP header) along next
// hop nh. transit says to decrement the TTL.
func (f *Forwarder) route4(now int64, fr *Frame, nh uint32, transit bool, out *Output) Verdict {
	h := &f.t.nextHops[nh]
	switch h.kind {
	case nhConnected, nhVia:
	case nhLocal:
		return f.local4(now, fr, out)
	case nhMartian:
		return f.dropFrame(fr, DropMartian, out)
	default:
		return f.dropFrame(fr, DropNoRoute, out)
	}
	ip := header.IPv4(fr.Buf[fr.Off : fr.Off+fr.Len])
	ttl := ip.TTL()
	if transit && ttl <= 1 {
		f.icmpError4(now, fr, ICMPv4TimeExceeded, ICMPv4CodeTTLExceeded, 0, out)
		return f.dropFrame(fr, DropTTLExpired, out)
	}
	pi := &f.t.ports[h.port]
	if fr.Len > pi.mtu {
		if !ip.DontFragment() {
			return f.dropFrame(fr, DropTooBigNoDF, out)
		}
		f.icmpError4(now, fr, ICMPv4DestUnreachable, ICMPv4CodeFragNeeded, uint32(pi.mtu), out)
		return f.dropFrame(fr, DropTooBig, out)
	}
	if fr.Off < EthernetHeaderLen {
		return f.dropFrame(fr, DropNoHeadroom, out)
	}
	if transit {
		ip.SetTTLWithChecksumUpdate(ttl - 1)
	}
	key := h.via
	if h.kind == nhConnected {
		key = v4Key(ip.DestinationAddress())
	}
	return f.l2out(now, fr, h.port, &key, EtherTypeIPv4, out)
}

// route6 is route4 for IPv6.
func (f *Forwarder) route6(now int64, fr *Frame, nh uint32, transit bool, out *Output) Verdict {
	ip := header.IPv6(fr.Buf[fr.Off : fr.Off+fr.Len])
	h := &f.t.nextHops[nh]
	switch h.kind {
	case nhConnected, nhVia:
	case nhLocal:
		return f.local6(now, fr, false, false, out)
	case nhMartian:
		dst := ip[header.IPv6DestinationOffset:]
		if transit || dst[0] != 0xfe || dst[1]&0xc0 != 0x80 {
			return f.dropFrame(fr, DropMartian, out)
		}
		// A reply to a link-local address leaves by the port the
		// request came in on.
		ll := nextHop{kind: nhConnected, port: fr.Port}
		h = &ll
	default:
		return f.dropFrame(fr, DropNoRoute, out)
	}
	if transit {
		src := ip[header.IPv6SourceOffset:]
		if src[0] == 0xfe && src[1]&0xc0 == 0x80 { // link-local source: RFC 4291 2.5.6
			return f.dropFrame(fr, DropMartian, out)
		}
	}
	hl := ip.HopLimit()
	if transit && hl <= 1 {
		f.icmpError6(now, fr, ICMPv6TimeExceeded, 0, 0, out)
		return f.dropFrame(fr, DropTTLExpired, out)
	}
	pi := &f.t.ports[h.port]
	if fr.Len > pi.mtu {
		f.icmpError6(now, fr, ICMPv6PacketTooBig, 0, uint32(pi.mtu), out)
		return f.dropFrame(fr, DropTooBig, out)
	}
	if fr.Off < EthernetHeaderLen {
		return f.dropFrame(fr, DropNoHeadroom, out)
	}
	if transit {
		ip.SetHopLimit(hl - 1) // IPv6 has no header checksum
	}
	key := h.via
	if h.kind == nhConnected {
		key = ip.DestinationAddress()
	}
	return f.l2out(now, fr, h.port, &key, EtherTypeIPv6, out)
}

// l2out prepends the Ethernet header to the IP packet in fr and sends it to
// neighbor key on port, or queues it until the neighbor resolves.
func (f *Forwarder) l2out(now int64, fr *Frame, port uint16, key *[16]byte, etype uint16, out *Output) Verdict {
	fr.Off -= EthernetHeaderLen
	fr.Len += EthernetHeaderLen
	fr.Port = port
	eth := Ethernet(fr.Buf[fr.Off : fr.Off+EthernetHeaderLen])
	eth.SetSrc(f.t.ports[port].mac)
	eth.SetType(etype)
	mac, v := f.resolve(now, port, key, fr, out)
	if v != VerdictTX {
		return v
	}
	eth.SetDst(mac)
	f.transmit(fr, true, out)
	return VerdictTX
}

// local4 handles an IPv4 packet to one of our addresses (Off at the IP
// header): echo requests are answered in place, the rest dropped.
func (f *Forwarder) local4(now int64, fr *Frame, out *Output) Verdict {
	ip := header.IPv4(fr.Buf[fr.Off : fr.Off+fr.Len])
	if ip.Protocol() != ipProtoICMP {
		return f.dropFrame(fr, DropLocal, out)
	}
	icmp := ICMP(ip.Payload())
	if ip.IsFragment() || !icmp.IsValid() || !icmp.ChecksumValidV4() {
		return f.dropFrame(fr, DropICMPMalformed, out)
	}
	if icmp.Type() != ICMPv4EchoRequest {
		return f.dropFrame(fr, DropLocal, out)
	}
	src, dst := ip.SourceAddress(), ip.DestinationAddress()
	if src[0] >= 224 || src[0] == 0 {
		return f.dropFrame(fr, DropMartian, out)
	}
	// Swapping the addresses leaves the header checksum as it is.
	ip.SetSourceAddress(dst)
	ip.SetDestinationAddress(src)
	ip.SetTTLWithChecksumUpdate(defaultTTL)
	icmp.SetTypeWithChecksumUpdate(ICMPv4EchoReply)
	f.ctr.EchoReplies++
	return f.route4(now, fr, f.t.lpm4.Lookup(binary.BigEndian.Uint32(src[:])), false, out)
}

// defaultTTL is the TTL / hop limit of packets fwd originates.
const defaultTTL = 64

// local6 handles an IPv6 packet to one of our addresses or, if multicast,
// to a group the port listens to (Off at the IP header): NDP is processed
// if the packet came from the wire (its Ethernet header before it), unicast
// echo requests answered in place, the rest dropped.
func (f *Forwarder) local6(now int64, fr *Frame, multicast, wire bool, out *Output) Verdict {
	ip := header.IPv6(fr.Buf[fr.Off : fr.Off+fr.Len])
	if ip.NextHeader() != ipProtoICMPv6 {
		return f.dropFrame(fr, DropLocal, out)
	}
	icmp := ICMP(ip[header.IPv6MinimumSize:])
	if !icmp.IsValid() {
		return f.dropFrame(fr, DropICMPMalformed, out)
	}
	switch icmp.Type() {
	case ICMPv6NeighborSolicit, ICMPv6NeighborAdvert:
		if !wire {
			return f.dropFrame(fr, DropLocal, out)
		}
		return f.handleNDP(now, fr, out)
	case ICMPv6EchoRequest:
		if multicast {
			return f.dropFrame(fr, DropMulticast, out)
		}
	default:
		return f.dropFrame(fr, DropICMPv6Ignored, out)
	}
	src, dst := ip.SourceAddress(), ip.DestinationAddress()
	if !icmp.ChecksumValidV6(src[:], dst[:]) {
		return f.dropFrame(fr, DropICMPMalformed, out)
	}
	if src[0] == 0xff || src == ([16]byte{}) {
		return f.dropFrame(fr, DropMartian, out)
	}
	// The pseudo-header sum does not depend on the order of the addresses.
	ip.SetSourceAddress(dst)
	ip.SetDestinationAddress(src)
	ip.SetHopLimit(defaultTTL)
	icmp.SetTypeWithChecksumUpdate(ICMPv6EchoReply)
	f.ctr.EchoReplies++
	return f.route6(now, fr, f.lookup6(src[:]), false, out)
}
