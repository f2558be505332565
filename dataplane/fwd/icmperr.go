package fwd

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/header"
)

// Limits on the original packet quoted in an ICMP error: an ICMPv4 error
// is at most 576 bytes (RFC 1812 section 4.3.2.3), an ICMPv6 error at most
// the IPv6 minimum MTU, 1280 (RFC 4443 section 2.4(c)).
const (
	icmp4MaxLen = 576
	icmp6MaxLen = 1280
)

// icmpAllowed takes a token from the ICMP error bucket, refilled at
// ICMPErrorRate per second up to ICMPErrorBurst.
func (f *Forwarder) icmpAllowed(now int64) bool {
	const unit = int64(1e9)
	c := &f.t.cfg
	limit := int64(c.ICMPErrorBurst) * unit
	elapsed := now - f.icmpLast
	f.icmpLast = now
	if elapsed > limit { // any longer refills the bucket anyway
		elapsed = limit
	}
	if elapsed > 0 {
		f.icmpTokens = min(limit, f.icmpTokens+elapsed*int64(c.ICMPErrorRate))
	}
	if f.icmpTokens < unit {
		f.ctr.ICMPRateLimited++
		return false
	}
	f.icmpTokens -= unit
	return true
}

// isICMPv4Error reports whether ICMP type t is an error message (RFC 792:
// destination unreachable, source quench, redirect, time exceeded,
// parameter problem).
func isICMPv4Error(t uint8) bool {
	return t == 3 || t == 4 || t == 5 || t == 11 || t == 12
}

// icmpError4 sends an ICMPv4 error of type typ, code code and rest-of-header
// rest about the IPv4 packet in fr (Off at its header, as received) to its
// source, unless RFC 1812 section 4.3.2.7 forbids it, the rate limit says
// no or no buffer is available. fr is left as it is.
func (f *Forwarder) icmpError4(now int64, fr *Frame, typ, code uint8, rest uint32, out *Output) {
	ip := header.IPv4(fr.Buf[fr.Off : fr.Off+fr.Len])
	src := ip.SourceAddress()
	if src[0] == 0 || src[0] == 127 || src[0] >= 224 || ip.FragmentOffset() != 0 {
		return
	}
	if ip.Protocol() == ipProtoICMP {
		if p := ip.Payload(); len(p) == 0 || isICMPv4Error(p[0]) {
			return
		}
	}
	pi := &f.t.ports[fr.Port]
	me, ok := pi.srcV4(src)
	if !ok {
		return
	}
	if !f.icmpAllowed(now) {
		return
	}
	quote := min(len(ip), icmp4MaxLen-header.IPv4MinimumSize-ICMPHeaderLen)
	n := header.IPv4MinimumSize + ICMPHeaderLen + quote
	nf, ok := f.newFrame(n, out)
	if !ok {
		return
	}
	b := nf.Buf[nf.Off : nf.Off+n]
	writeIPv4(b, n, ipProtoICMP, defaultTTL, me, src)
	m := ICMP(b[header.IPv4MinimumSize:])
	m.SetType(typ)
	m.SetCode(code)
	m.SetRest(rest)
	copy(m.Body(), ip[:quote])
	m.SetChecksum(0)
	m.SetChecksum(m.CalculateChecksumV4())
	nf.Len, nf.Port = n, fr.Port
	switch typ {
	case ICMPv4TimeExceeded:
		f.ctr.TimeExceededSent++
	default:
		f.ctr.FragNeededSent++
	}
	f.route4(now, &nf, f.t.lpm4.Lookup(binary.BigEndian.Uint32(src[:])), false, out)
}

// icmpError6 is icmpError4 for IPv6 (RFC 4443 section 2.4: no error about
// an error, nor to an unspecified or multicast source).
func (f *Forwarder) icmpError6(now int64, fr *Frame, typ, code uint8, rest uint32, out *Output) {
	ip := header.IPv6(fr.Buf[fr.Off : fr.Off+fr.Len])
	src := ip.SourceAddress()
	if src[0] == 0xff || src == ([16]byte{}) {
		return
	}
	if ip.NextHeader() == ipProtoICMPv6 {
		if p := ip[header.IPv6MinimumSize:]; len(p) == 0 || p[0] < 128 {
			return
		}
	}
	if !f.icmpAllowed(now) {
		return
	}
	me := f.t.ports[fr.Port].srcV6(&src)
	quote := min(len(ip), icmp6MaxLen-header.IPv6MinimumSize-ICMPHeaderLen)
	n := header.IPv6MinimumSize + ICMPHeaderLen + quote
	nf, ok := f.newFrame(n, out)
	if !ok {
		return
	}
	b := nf.Buf[nf.Off : nf.Off+n]
	writeIPv6(b, ICMPHeaderLen+quote, ipProtoICMPv6, defaultTTL, &me, &src)
	m := ICMP(b[header.IPv6MinimumSize:])
	m.SetType(typ)
	m.SetCode(code)
	m.SetRest(rest)
	copy(m.Body(), ip[:quote])
	m.SetChecksum(0)
	m.SetChecksum(m.CalculateChecksumV6(me[:], src[:]))
	nf.Len, nf.Port = n, fr.Port
	switch typ {
	case ICMPv6TimeExceeded:
		f.ctr.TimeExceededSent++
	default:
		f.ctr.PacketTooBigSent++
	}
	f.route6(now, &nf, f.lookup6(src[:]), false, out)
}
