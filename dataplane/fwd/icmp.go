package fwd

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/header"
)

// Offsets of the fields of an ICMP (v4 or v6) header.
const (
	icmpType     = 0
	icmpCode     = 1
	icmpChecksum = 2
	icmpRest     = 4 // "rest of header": echo id/seq, MTU, pointer
	// ICMPHeaderLen is the length of the fixed ICMP/ICMPv6 header.
	ICMPHeaderLen = 8
)

// ICMPv4 message types and codes used by fwd (RFC 792, RFC 1191).
const (
	// ICMPv4EchoReply is an echo reply.
	ICMPv4EchoReply = 0
	// ICMPv4DestUnreachable is destination unreachable.
	ICMPv4DestUnreachable = 3
	// ICMPv4EchoRequest is an echo request.
	ICMPv4EchoRequest = 8
	// ICMPv4TimeExceeded is time exceeded.
	ICMPv4TimeExceeded = 11
	// ICMPv4CodeFragNeeded is the destination-unreachable code for
	// "fragmentation needed and DF set"; bytes 6-7 carry the next-hop MTU.
	ICMPv4CodeFragNeeded = 4
	// ICMPv4CodeTTLExceeded is the time-exceeded code for "TTL exceeded in
	// transit".
	ICMPv4CodeTTLExceeded = 0
)

// ICMPv6 message types used by fwd (RFC 4443, RFC 4861).
const (
	// ICMPv6PacketTooBig is packet too big; bytes 4-7 carry the MTU.
	ICMPv6PacketTooBig = 2
	// ICMPv6TimeExceeded is time exceeded (code 0: hop limit exceeded).
	ICMPv6TimeExceeded = 3
	// ICMPv6EchoRequest is an echo request.
	ICMPv6EchoRequest = 128
	// ICMPv6EchoReply is an echo reply.
	ICMPv6EchoReply = 129
	// ICMPv6RouterSolicit is a router solicitation.
	ICMPv6RouterSolicit = 133
	// ICMPv6RouterAdvert is a router advertisement.
	ICMPv6RouterAdvert = 134
	// ICMPv6NeighborSolicit is a neighbor solicitation.
	ICMPv6NeighborSolicit = 135
	// ICMPv6NeighborAdvert is a neighbor advertisement.
	ICMPv6NeighborAdvert = 136
)

// ICMP is a view of an ICMPv4 or ICMPv6 message: the fixed 8-byte header
// and the body. Valid iff len >= ICMPHeaderLen (IsValid). The two versions
// share the layout and differ in their checksum: ICMPv4 covers the message
// only, ICMPv6 also an IPv6 pseudo-header (RFC 4443 section 2.3).
type ICMP []byte

// IsValid reports whether m holds a whole ICMP header.
func (m ICMP) IsValid() bool { return len(m) >= ICMPHeaderLen }

// Type returns the message type.
func (m ICMP) Type() uint8 { return m[icmpType] }

// SetType sets the message type.
func (m ICMP) SetType(t uint8) { m[icmpType] = t }

// Code returns the message code.
func (m ICMP) Code() uint8 { return m[icmpCode] }

// SetCode sets the message code.
func (m ICMP) SetCode(c uint8) { m[icmpCode] = c }

// Checksum returns the checksum field.
func (m ICMP) Checksum() uint16 { return binary.BigEndian.Uint16(m[icmpChecksum:]) }

// SetChecksum sets the checksum field.
func (m ICMP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(m[icmpChecksum:], c) }

// SetTypeWithChecksumUpdate sets the message type and updates the checksum
// incrementally (RFC 1624); type and code form one 16-bit word.
func (m ICMP) SetTypeWithChecksumUpdate(t uint8) {
	old := binary.BigEndian.Uint16(m[icmpType:])
	m[icmpType] = t
	m.SetChecksum(header.UpdateChecksum16(m.Checksum(), old, binary.BigEndian.Uint16(m[icmpType:])))
}

// Rest returns the 32-bit "rest of header" word (echo identifier and
// sequence, the MTU of packet-too-big, or unused).
func (m ICMP) Rest() uint32 { return binary.BigEndian.Uint32(m[icmpRest:]) }

// SetRest sets the "rest of header" word.
func (m ICMP) SetRest(v uint32) { binary.BigEndian.PutUint32(m[icmpRest:], v) }

// Body returns the bytes after the fixed header.
func (m ICMP) Body() []byte { return m[ICMPHeaderLen:] }

// CalculateChecksumV4 returns the ICMPv4 checksum of m (with the checksum
// field taken as zero).
func (m ICMP) CalculateChecksumV4() uint16 {
	s := header.OnesSum(m[:icmpChecksum], 0)
	s = header.OnesSum(m[icmpChecksum+2:], s)
	return ^s
}

// CalculateChecksumV6 returns the ICMPv6 checksum of m between src and dst
// (16 bytes each), with the checksum field taken as zero.
func (m ICMP) CalculateChecksumV6(src, dst []byte) uint16 {
	s := header.PseudoHeaderSum(src, dst, ipProtoICMPv6, uint32(len(m)))
	s = header.OnesSum(m[:icmpChecksum], s)
	s = header.OnesSum(m[icmpChecksum+2:], s)
	return ^s
}

// ChecksumValidV4 reports whether m carries a correct ICMPv4 checksum.
func (m ICMP) ChecksumValidV4() bool { return header.OnesSum(m, 0) == 0xffff }

// ChecksumValidV6 reports whether m carries a correct ICMPv6 checksum
// between src and dst.
func (m ICMP) ChecksumValidV6(src, dst []byte) bool {
	s := header.PseudoHeaderSum(src, dst, ipProtoICMPv6, uint32(len(m)))
	return header.OnesSum(m, s) == 0xffff
}

// Offsets and constants of NDP messages (RFC 4861 sections 4.3, 4.4, 4.6).
const (
	ndpFlags  = 4  // NA: R, S, O flags in the first byte of the reserved word
	ndpTarget = 8  // NS and NA: target address
	ndpOpts   = 24 // first option

	// NDPLen is the length of an NS or NA without options.
	NDPLen = 24

	// NDPFlagRouter is the NA R flag: the sender is a router.
	NDPFlagRouter = 0x80
	// NDPFlagSolicited is the NA S flag: sent in response to an NS.
	NDPFlagSolicited = 0x40
	// NDPFlagOverride is the NA O flag: override a cached link-layer
	// address.
	NDPFlagOverride = 0x20

	// NDPOptSourceLinkAddr is the source link-layer address option type.
	NDPOptSourceLinkAddr = 1
	// NDPOptTargetLinkAddr is the target link-layer address option type.
	NDPOptTargetLinkAddr = 2
	// ndpOptLLALen is the length of a link-layer address option for
	// Ethernet: type, length (1, in units of 8 bytes), 6-byte MAC.
	ndpOptLLALen = 8

	// ndpHopLimit is the hop limit every NDP message must carry
	// (RFC 4861 section 7.1.1).
	ndpHopLimit = 255
)

// NDP is a view of an ICMPv6 Neighbor Solicitation or Neighbor
// Advertisement (the two share their layout up to the options). Valid iff
// it is at least NDPLen bytes long, its code is 0 and every option has a
// non-zero length that fits (IsValid, RFC 4861 section 7.1); the checksum
// and the hop limit are the caller's to check.
type NDP []byte

// IsValid reports whether n is a well-formed NS or NA.
func (n NDP) IsValid() bool {
	if len(n) < NDPLen || n[icmpCode] != 0 {
		return false
	}
	for o := n[ndpOpts:]; len(o) > 0; {
		if len(o) < 2 || o[1] == 0 || int(o[1])*8 > len(o) {
			return false
		}
		o = o[int(o[1])*8:]
	}
	return true
}

// Flags returns the NA flags byte (NDPFlagRouter, NDPFlagSolicited,
// NDPFlagOverride); reserved in an NS.
func (n NDP) Flags() uint8 { return n[ndpFlags] }

// SetFlags sets the NA flags byte and clears the rest of the reserved word.
func (n NDP) SetFlags(f uint8) {
	n[ndpFlags] = f
	n[ndpFlags+1], n[ndpFlags+2], n[ndpFlags+3] = 0, 0, 0
}

// Target returns the target address.
func (n NDP) Target() [16]byte { return [16]byte(n[ndpTarget : ndpTarget+16]) }

// SetTarget sets the target address.
func (n NDP) SetTarget(a [16]byte) { copy(n[ndpTarget:ndpTarget+16], a[:]) }

// LinkAddr returns the MAC of the first link-layer address option of type
// typ (NDPOptSourceLinkAddr, NDPOptTargetLinkAddr), if there is one with
// room for a MAC.
func (n NDP) LinkAddr(typ uint8) (MAC, bool) {
	for o := n[ndpOpts:]; len(o) >= 2 && o[1] != 0 && int(o[1])*8 <= len(o); o = o[int(o[1])*8:] {
		if o[0] == typ && o[1] == 1 {
			return MAC(o[2:8]), true
		}
	}
	return MAC{}, false
}

// SetLinkAddrOption writes one link-layer address option of type typ
// carrying m at the start of the options and returns the message length
// (NDPLen + 8); the caller truncates the view to it.
func (n NDP) SetLinkAddrOption(typ uint8, m MAC) int {
	o := n[ndpOpts : ndpOpts+ndpOptLLALen]
	o[0] = typ
	o[1] = 1
	copy(o[2:], m[:])
	return ndpOpts + ndpOptLLALen
}
