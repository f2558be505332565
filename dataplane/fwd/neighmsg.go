package fwd

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/header"
)

// handleARP processes an ARP frame received on fr.Port (Off at Ethernet):
// it learns the sender if it is on a connected network of the port, and
// answers requests for the port's own addresses in place.
func (f *Forwarder) handleARP(now int64, fr *Frame, out *Output) {
	pkt := fr.Buf[fr.Off : fr.Off+fr.Len]
	a := ARP(pkt[EthernetHeaderLen:])
	if !a.IsValid() {
		f.dropFrame(fr, DropARPMalformed, out)
		return
	}
	pi := &f.t.ports[fr.Port]
	forUs := pi.ownV4(a.TargetIP())
	learned := f.learnARP(now, fr.Port, a, forUs, out)
	if a.Op() == ARPRequest && forUs {
		sha, spa, tpa := a.SenderMAC(), a.SenderIP(), a.TargetIP()
		a.SetOp(ARPReply)
		a.SetTargetMAC(sha)
		a.SetTargetIP(spa)
		a.SetSenderMAC(pi.mac)
		a.SetSenderIP(tpa)
		eth := Ethernet(pkt)
		eth.SetDst(eth.Src())
		eth.SetSrc(pi.mac)
		f.ctr.ARPReceived++
		f.ctr.ARPRepliesSent++
		f.transmit(fr, false, out)
		return
	}
	if learned || forUs {
		f.ctr.ARPReceived++
		out.free(fr.Ref)
		return
	}
	f.dropFrame(fr, DropARPNotForUs, out)
}

// learnARP learns the sender of a, received on port, if its address is on
// a connected network of the port and not ours; it makes a new entry only
// if create.
func (f *Forwarder) learnARP(now int64, port uint16, a ARP, create bool, out *Output) bool {
	spa := a.SenderIP()
	if spa == ([4]byte{}) || f.t.ports[port].ownV4(spa) || !f.onLink4(port, spa) {
		return false
	}
	k := v4Key(spa)
	return f.learn(now, port, &k, a.SenderMAC(), create, out)
}

// onLink4 reports whether a is on a connected IPv4 network of port.
func (f *Forwarder) onLink4(port uint16, a [4]byte) bool {
	nh := &f.t.nextHops[f.t.lpm4.Lookup(binary.BigEndian.Uint32(a[:]))]
	return nh.kind == nhConnected && nh.port == port && f.t.ports[port].onNetwork4(a)
}

// onNetwork4 reports whether a is inside one of the port's IPv4 prefixes.
func (pi *portInfo) onNetwork4(a [4]byte) bool {
	for i := range pi.v4 {
		b := pi.v4[i].Addr().As4()
		if prefixMatch(b[:], a[:], pi.v4[i].Bits()) {
			return true
		}
	}
	return false
}

// handleNDP processes an NS or NA received on fr.Port (Off at the IPv6
// header, Ethernet header before it): RFC 4861 section 7.1 validation,
// learning, and a Neighbor Advertisement, built in place, for an NS whose
// target is one of the port's addresses.
func (f *Forwarder) handleNDP(now int64, fr *Frame, out *Output) Verdict {
	ip := header.IPv6(fr.Buf[fr.Off : fr.Off+fr.Len])
	msg := ip[header.IPv6MinimumSize:]
	n := NDP(msg)
	src, dst := ip.SourceAddress(), ip.DestinationAddress()
	if ip.HopLimit() != ndpHopLimit || !n.IsValid() || !ICMP(msg).ChecksumValidV6(src[:], dst[:]) || msg[ndpTarget] == 0xff {
		return f.dropFrame(fr, DropNDPMalformed, out)
	}
	pi := &f.t.ports[fr.Port]
	target := n.Target()
	if msg[icmpType] == ICMPv6NeighborAdvert {
		if f.learnNA(now, fr.Port, n, &target, out) {
			f.ctr.NDPReceived++
			out.free(fr.Ref)
			return VerdictConsumed
		}
		return f.dropFrame(fr, DropNDPNotForUs, out)
	}
	if !pi.ownV6(&target) {
		return f.dropFrame(fr, DropNDPNotForUs, out)
	}
	const need = EthernetHeaderLen + header.IPv6MinimumSize + NDPLen + ndpOptLLALen
	if fr.Off < EthernetHeaderLen || len(fr.Buf)-(fr.Off-EthernetHeaderLen) < need {
		return f.dropFrame(fr, DropNoHeadroom, out)
	}
	start := fr.Off - EthernetHeaderLen
	ethDst := Ethernet(fr.Buf[start:]).Src()
	replyTo := src
	flags := uint8(NDPFlagRouter | NDPFlagSolicited | NDPFlagOverride)
	sll, hasSLL := n.LinkAddr(NDPOptSourceLinkAddr)
	if src == ([16]byte{}) {
		// Duplicate address detection for our address (RFC 4862 5.4.3):
		// defend it to all nodes.
		if hasSLL || dst[0] != 0xff {
			return f.dropFrame(fr, DropNDPMalformed, out)
		}
		replyTo = [16]byte{0: 0xff, 1: 0x02, 15: 1}
		ethDst = MAC{0x33, 0x33, 0, 0, 0, 1}
		flags = NDPFlagRouter | NDPFlagOverride
	} else if hasSLL {
		ethDst = sll
		f.learn(now, fr.Port, &src, sll, true, out)
	}
	b := fr.Buf[start : start+need]
	Ethernet(b).Encode(ethDst, pi.mac, EtherTypeIPv6)
	writeIPv6(b[EthernetHeaderLen:], NDPLen+ndpOptLLALen, ipProtoICMPv6, ndpHopLimit, &target, &replyTo)
	m := b[EthernetHeaderLen+header.IPv6MinimumSize:]
	writeNDP(m, ICMPv6NeighborAdvert, flags, &target, NDPOptTargetLinkAddr, pi.mac)
	ICMP(m).SetChecksum(ICMP(m).CalculateChecksumV6(target[:], replyTo[:]))
	fr.Off, fr.Len = start, need
	f.ctr.NDPReceived++
	f.ctr.NASent++
	f.transmit(fr, false, out)
	return VerdictTX
}

// writeIPv6 writes an IPv6 header (traffic class and flow label 0) at b.
func writeIPv6(b []byte, payloadLen int, next, hopLimit uint8, src, dst *[16]byte) {
	binary.BigEndian.PutUint32(b, 6<<28)
	binary.BigEndian.PutUint16(b[header.IPv6PayloadLengthOffset:], uint16(payloadLen))
	b[header.IPv6NextHeaderOffset] = next
	b[header.IPv6HopLimitOffset] = hopLimit
	copy(b[header.IPv6SourceOffset:], src[:])
	copy(b[header.IPv6DestinationOffset:], dst[:])
}

// writeIPv4 writes a 20-byte IPv4 header with its checksum at b.
func writeIPv4(b []byte, totalLen int, proto, ttl uint8, src, dst [4]byte) {
	ip := header.IPv4(b[:header.IPv4MinimumSize])
	ip.SetHeaderLength(header.IPv4MinimumSize)
	ip.SetTOS(0xc0) // internetwork control, as for other ICMP errors
	ip.SetTotalLength(uint16(totalLen))
	ip.SetID(0)
	ip.SetFlagsFragmentOffset(0)
	ip.SetTTL(ttl)
	ip.SetProtocol(proto)
	ip.SetSourceAddress(src)
	ip.SetDestinationAddress(dst)
	ip.SetChecksum(0)
	ip.SetChecksum(ip.CalculateChecksum())
}

// writeNDP writes an NS or NA (type typ) with one link-layer address option
// at m; the checksum is left zero.
func writeNDP(m []byte, typ, flags uint8, target *[16]byte, opt uint8, mac MAC) {
	n := NDP(m[:NDPLen+ndpOptLLALen])
	n[icmpType] = typ
	n[icmpCode] = 0
	ICMP(n).SetChecksum(0)
	n.SetFlags(flags)
	n.SetTarget(*target)
	n.SetLinkAddrOption(opt, mac)
}

// newFrame allocates a frame with room for n bytes at Off, counting a
// failure.
func (f *Forwarder) newFrame(n int, out *Output) (Frame, bool) {
	nf, ok := f.alloc.Alloc()
	if !ok {
		f.ctr.AllocFailures++
		return nf, false
	}
	if nf.Off < EthernetHeaderLen || nf.Off > len(nf.Buf) || len(nf.Buf)-nf.Off < n {
		f.ctr.AllocFailures++
		out.free(nf.Ref)
		return nf, false
	}
	return nf, true
}

// sendRequest sends an ARP request or an NS for e's address to dst
// (broadcast to resolve, the cached MAC to probe a stale entry).
func (f *Forwarder) sendRequest(e *neighbor, dst MAC, out *Output) {
	pi := &f.t.ports[e.port]
	if isV4Key(&e.addr) {
		tgt := [4]byte(e.addr[12:])
		src, ok := pi.srcV4(tgt)
		if !ok {
			return
		}
		const n = 60 // minimum Ethernet frame without FCS
		nf, ok := f.newFrame(n, out)
		if !ok {
			return
		}
		b := nf.Buf[nf.Off : nf.Off+n]
		Ethernet(b).Encode(dst, pi.mac, EtherTypeARP)
		ARP(b[EthernetHeaderLen:]).Encode(ARPRequest, pi.mac, src, MAC{}, tgt)
		clear(b[EthernetHeaderLen+ARPLen:])
		nf.Len, nf.Port = n, e.port
		f.ctr.ARPRequestsSent++
		f.transmit(&nf, false, out)
		return
	}
	tgt := e.addr
	src := pi.srcV6(&tgt)
	ipDst := tgt
	if dst == BroadcastMAC { // solicited-node multicast, RFC 4291 2.7.1
		ipDst = [16]byte{0: 0xff, 1: 0x02, 11: 1, 12: 0xff, 13: tgt[13], 14: tgt[14], 15: tgt[15]}
		dst = MAC{0x33, 0x33, 0xff, tgt[13], tgt[14], tgt[15]}
	}
	const n = EthernetHeaderLen + header.IPv6MinimumSize + NDPLen + ndpOptLLALen
	nf, ok := f.newFrame(n, out)
	if !ok {
		return
	}
	b := nf.Buf[nf.Off : nf.Off+n]
	Ethernet(b).Encode(dst, pi.mac, EtherTypeIPv6)
	writeIPv6(b[EthernetHeaderLen:], NDPLen+ndpOptLLALen, ipProtoICMPv6, ndpHopLimit, &src, &ipDst)
	m := b[EthernetHeaderLen+header.IPv6MinimumSize:]
	writeNDP(m, ICMPv6NeighborSolicit, 0, &tgt, NDPOptSourceLinkAddr, pi.mac)
	ICMP(m).SetChecksum(ICMP(m).CalculateChecksumV6(src[:], ipDst[:]))
	nf.Len, nf.Port = n, e.port
	f.ctr.NSSent++
	f.transmit(&nf, false, out)
}

// learnNA applies the Neighbor Advertisement n for target, received on
// port, to an existing entry (RFC 4861 7.2.5): with a Target Link-Layer
// Address option it learns the address; without one, a solicited
// advertisement confirms the address the entry holds (confirm). Before,
// the second kind was ignored: the unicast NS probes of a stale IPv6 entry
// were answered, by Linux, without the option, so the entry failed
// MaxTries probes later under steady traffic, ReachableTime + 2 s after
// it was learned, dropped the next hop's packets for FailedTime
// (neighbor_failed) and resolved it again (pending_full for what did not
// fit the queue; seen in a 45 s IPv6 iperf3 run, 2026-12-07). It reports
// whether an entry was updated.
func (f *Forwarder) learnNA(now int64, port uint16, n NDP, target *[16]byte, out *Output) bool {
	if mac, ok := n.LinkAddr(NDPOptTargetLinkAddr); ok {
		return f.learn(now, port, target, mac, false, out)
	}
	return n.Flags()&NDPFlagSolicited != 0 && f.confirm(now, port, target)
}

// Learn updates the neighbor table from an ARP or NDP (NS/NA) Ethernet
// frame that another worker received on fr.Port, without answering it and
// without taking ownership of it: fr is only read. A worker that receives
// ARP and NDP (with RSS usually the one polling queue 0) hands each such
// frame to the other workers' Learn, so that next hops they are resolving
// complete and their pending packets leave. Malformed frames are ignored.
func (f *Forwarder) Learn(now int64, fr *Frame, out *Output) {
	if !fr.valid() || int(fr.Port) >= len(f.t.ports) || !f.t.ports[fr.Port].valid || fr.Len < EthernetHeaderLen {
		return
	}
	pkt := fr.Buf[fr.Off : fr.Off+fr.Len]
	pi := &f.t.ports[fr.Port]
	switch Ethernet(pkt).Type() {
	case EtherTypeARP:
		if a := ARP(pkt[EthernetHeaderLen:]); a.IsValid() {
			f.learnARP(now, fr.Port, a, pi.ownV4(a.TargetIP()), out)
		}
	case EtherTypeIPv6:
		l3 := pkt[EthernetHeaderLen:]
		if checkIPv6(l3) != noDrop {
			return
		}
		ip := header.IPv6(l3[:header.IPv6MinimumSize+int(header.IPv6(l3).PayloadLength())])
		msg := ip[header.IPv6MinimumSize:]
		n := NDP(msg)
		if ip.NextHeader() != ipProtoICMPv6 || ip.HopLimit() != ndpHopLimit || !n.IsValid() {
			return
		}
		src, dst, target := ip.SourceAddress(), ip.DestinationAddress(), n.Target()
		if !ICMP(msg).ChecksumValidV6(src[:], dst[:]) {
			return
		}
		switch msg[icmpType] {
		case ICMPv6NeighborSolicit:
			if mac, ok := n.LinkAddr(NDPOptSourceLinkAddr); ok && src != ([16]byte{}) {
				f.learn(now, fr.Port, &src, mac, pi.ownV6(&target), out)
			}
		case ICMPv6NeighborAdvert:
			f.learnNA(now, fr.Port, n, &target, out)
		}
	}
}
