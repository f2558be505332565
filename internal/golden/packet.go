package golden

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// TCP flag bits (RFC 9293 section 3.1).
const (
	FlagFIN uint8 = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// TCP option kinds that appear in the captures.
const (
	OptEnd       = 0  // end of option list
	OptNOP       = 1  // no-operation
	OptMSS       = 2  // maximum segment size
	OptWScale    = 3  // window scale
	OptSACKPerm  = 4  // SACK permitted
	OptSACK      = 5  // SACK blocks
	OptTimestamp = 8  // timestamps
	OptMPTCP     = 30 // Multipath TCP (RFC 8684)
)

const (
	protoTCP     = 6
	ipv4MinLen   = 20
	ipv6Len      = 40
	tcpMinLen    = 20
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6DestOpts = 60
)

// Version returns 4 or 6, or 0 if Data is empty.
func (p Packet) Version() int {
	if len(p.Data) == 0 {
		return 0
	}
	return int(p.Data[0] >> 4)
}

// network returns the offset of the transport header and the protocol
// number, or -1 when the packet is malformed or a non-first fragment.
func (p Packet) network() (off int, proto uint8) {
	b := p.Data
	switch p.Version() {
	case 4:
		if len(b) < ipv4MinLen {
			return -1, 0
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < ipv4MinLen || ihl > len(b) {
			return -1, 0
		}
		if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
			return -1, 0
		}
		return ihl, b[9]
	case 6:
		if len(b) < ipv6Len {
			return -1, 0
		}
		next, off := b[6], ipv6Len
		// Skip the extension headers Linux may put before TCP.
		for next == ipv6HopByHop || next == ipv6Routing || next == ipv6DestOpts {
			if off+8 > len(b) {
				return -1, 0
			}
			next, off = b[off], off+8+int(b[off+1])*8
		}
		if off > len(b) {
			return -1, 0
		}
		return off, next
	}
	return -1, 0
}

// Src returns the IP source address (invalid if Data is not IP).
func (p Packet) Src() netip.Addr {
	switch p.Version() {
	case 4:
		if len(p.Data) >= ipv4MinLen {
			return netip.AddrFrom4([4]byte(p.Data[12:16]))
		}
	case 6:
		if len(p.Data) >= ipv6Len {
			return netip.AddrFrom16([16]byte(p.Data[8:24]))
		}
	}
	return netip.Addr{}
}

// Dst returns the IP destination address (invalid if Data is not IP).
func (p Packet) Dst() netip.Addr {
	switch p.Version() {
	case 4:
		if len(p.Data) >= ipv4MinLen {
			return netip.AddrFrom4([4]byte(p.Data[16:20]))
		}
	case 6:
		if len(p.Data) >= ipv6Len {
			return netip.AddrFrom16([16]byte(p.Data[24:40]))
		}
	}
	return netip.Addr{}
}

// IPHeaderLen returns the length of the IP header including IPv6
// extension headers, or -1 if the packet is malformed.
func (p Packet) IPHeaderLen() int {
	off, _ := p.network()
	return off
}

// TCP returns the TCP segment (header, options, payload), or nil when the
// packet is not a well-formed TCP segment.
func (p Packet) TCP() []byte {
	off, proto := p.network()
	if off < 0 || proto != protoTCP || len(p.Data)-off < tcpMinLen {
		return nil
	}
	t := p.Data[off:]
	if hl := int(t[12]>>4) * 4; hl < tcpMinLen || hl > len(t) {
		return nil
	}
	return t
}

// IsTCP reports whether the packet is a well-formed TCP segment. The TCP
// accessors below return zero values when it is not.
func (p Packet) IsTCP() bool { return p.TCP() != nil }

// SrcPort returns the TCP source port.
func (p Packet) SrcPort() uint16 {
	if t := p.TCP(); t != nil {
		return binary.BigEndian.Uint16(t[0:])
	}
	return 0
}

// DstPort returns the TCP destination port.
func (p Packet) DstPort() uint16 {
	if t := p.TCP(); t != nil {
		return binary.BigEndian.Uint16(t[2:])
	}
	return 0
}

// SrcAddrPort returns the source address and TCP port.
func (p Packet) SrcAddrPort() netip.AddrPort { return netip.AddrPortFrom(p.Src(), p.SrcPort()) }

// DstAddrPort returns the destination address and TCP port.
func (p Packet) DstAddrPort() netip.AddrPort { return netip.AddrPortFrom(p.Dst(), p.DstPort()) }

// Seq returns the TCP sequence number.
func (p Packet) Seq() uint32 {
	if t := p.TCP(); t != nil {
		return binary.BigEndian.Uint32(t[4:])
	}
	return 0
}

// Ack returns the TCP acknowledgment number.
func (p Packet) Ack() uint32 {
	if t := p.TCP(); t != nil {
		return binary.BigEndian.Uint32(t[8:])
	}
	return 0
}

// Flags returns the TCP flags byte (FlagFIN ... FlagCWR).
func (p Packet) Flags() uint8 {
	if t := p.TCP(); t != nil {
		return t[13]
	}
	return 0
}

// Window returns the raw (unscaled) TCP window field.
func (p Packet) Window() uint16 {
	if t := p.TCP(); t != nil {
		return binary.BigEndian.Uint16(t[14:])
	}
	return 0
}

// TCPChecksum returns the TCP checksum field.
func (p Packet) TCPChecksum() uint16 {
	if t := p.TCP(); t != nil {
		return binary.BigEndian.Uint16(t[16:])
	}
	return 0
}

// Options returns the raw TCP options (header bytes after the first 20).
func (p Packet) Options() []byte {
	if t := p.TCP(); t != nil {
		return t[tcpMinLen : int(t[12]>>4)*4]
	}
	return nil
}

// Payload returns the TCP payload.
func (p Packet) Payload() []byte {
	if t := p.TCP(); t != nil {
		return t[int(t[12]>>4)*4:]
	}
	return nil
}

// Option is one TCP option: Kind and the whole option as on the wire
// (kind and length bytes included). NOP and EOL are not reported.
type Option struct {
	Kind uint8
	Raw  []byte
}

// TCPOptions splits the TCP options. It stops at EOL or at the first
// malformed option (length below 2 or past the header).
func (p Packet) TCPOptions() []Option {
	var out []Option
	b := p.Options()
	for len(b) > 0 {
		switch b[0] {
		case OptEnd:
			return out
		case OptNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return out
		}
		out = append(out, Option{Kind: b[0], Raw: b[:b[1]]})
		b = b[b[1]:]
	}
	return out
}

// Option returns the first TCP option of kind, or nil.
func (p Packet) Option(kind uint8) []byte {
	for _, o := range p.TCPOptions() {
		if o.Kind == kind {
			return o.Raw
		}
	}
	return nil
}

// MPTCPOptions returns the raw MPTCP options (kind 30) of the segment.
func (p Packet) MPTCPOptions() [][]byte {
	var out [][]byte
	for _, o := range p.TCPOptions() {
		if o.Kind == OptMPTCP {
			out = append(out, o.Raw)
		}
	}
	return out
}

// MPTCP returns the first MPTCP option of subtype, or nil.
func (p Packet) MPTCP(subtype uint8) []byte {
	for _, o := range p.MPTCPOptions() {
		if Subtype(o) == subtype {
			return o
		}
	}
	return nil
}

// String formats the packet on one line, tcpdump-like, for test failures.
func (p Packet) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s#%d ", p.File, p.Index)
	if !p.IsTCP() {
		fmt.Fprintf(&sb, "%v > %v non-TCP len %d", p.Src(), p.Dst(), len(p.Data))
		return sb.String()
	}
	fmt.Fprintf(&sb, "%v > %v [%s] seq %d ack %d win %d len %d",
		p.SrcAddrPort(), p.DstAddrPort(), FlagString(p.Flags()), p.Seq(), p.Ack(), p.Window(), len(p.Payload()))
	for _, o := range p.MPTCPOptions() {
		fmt.Fprintf(&sb, " mptcp(%s,%d)", SubtypeName(Subtype(o)), len(o))
	}
	return sb.String()
}

// FlagString renders TCP flags as tcpdump does ("S", "S.", "F.", "R.", ".").
func FlagString(f uint8) string {
	var sb strings.Builder
	for _, x := range []struct {
		bit uint8
		c   byte
	}{{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'}, {FlagURG, 'U'}, {FlagECE, 'E'}, {FlagCWR, 'W'}} {
		if f&x.bit != 0 {
			sb.WriteByte(x.c)
		}
	}
	if f&FlagACK != 0 {
		sb.WriteByte('.')
	}
	if sb.Len() == 0 {
		return "none"
	}
	return sb.String()
}

// Pred selects packets.
type Pred func(Packet) bool

// Filter returns the packets that satisfy every predicate, in order.
func Filter(pkts []Packet, preds ...Pred) []Packet {
	var out []Packet
	for _, p := range pkts {
		if all(p, preds) {
			out = append(out, p)
		}
	}
	return out
}

// First returns the first packet that satisfies every predicate.
func First(pkts []Packet, preds ...Pred) (Packet, bool) {
	for _, p := range pkts {
		if all(p, preds) {
			return p, true
		}
	}
	return Packet{}, false
}

// Count returns how many packets satisfy every predicate.
func Count(pkts []Packet, preds ...Pred) int {
	n := 0
	for _, p := range pkts {
		if all(p, preds) {
			n++
		}
	}
	return n
}

func all(p Packet, preds []Pred) bool {
	for _, f := range preds {
		if !f(p) {
			return false
		}
	}
	return true
}

// IsTCP selects well-formed TCP segments.
func IsTCP(p Packet) bool { return p.IsTCP() }

// IsSYN selects SYNs without ACK (connection or join requests).
func IsSYN(p Packet) bool { return p.IsTCP() && p.Flags()&(FlagSYN|FlagACK) == FlagSYN }

// IsSYNACK selects SYN/ACKs.
func IsSYNACK(p Packet) bool {
	return p.IsTCP() && p.Flags()&(FlagSYN|FlagACK) == FlagSYN|FlagACK
}

// HasData selects segments with a TCP payload.
func HasData(p Packet) bool { return len(p.Payload()) > 0 }

// IsPureACK selects segments with ACK, no payload and no SYN, FIN or RST.
func IsPureACK(p Packet) bool {
	return p.IsTCP() && len(p.Payload()) == 0 && p.Flags()&(FlagSYN|FlagFIN|FlagRST|FlagACK) == FlagACK
}

// HasFlags selects segments with all of the given flags set.
func HasFlags(f uint8) Pred {
	return func(p Packet) bool { return p.IsTCP() && p.Flags()&f == f }
}

// From selects packets sent from addr (any port).
func From(addr netip.Addr) Pred { return func(p Packet) bool { return p.Src() == addr } }

// To selects packets sent to addr (any port).
func To(addr netip.Addr) Pred { return func(p Packet) bool { return p.Dst() == addr } }

// FromPort selects TCP segments with source port port.
func FromPort(port uint16) Pred {
	return func(p Packet) bool { return p.IsTCP() && p.SrcPort() == port }
}

// ToPort selects TCP segments with destination port port.
func ToPort(port uint16) Pred {
	return func(p Packet) bool { return p.IsTCP() && p.DstPort() == port }
}

// WithOption selects TCP segments that carry an option of kind.
func WithOption(kind uint8) Pred { return func(p Packet) bool { return p.Option(kind) != nil } }

// WithMPTCP selects segments that carry an MPTCP option of subtype.
func WithMPTCP(subtype uint8) Pred { return func(p Packet) bool { return p.MPTCP(subtype) != nil } }

// WithoutMPTCP selects TCP segments that carry no MPTCP option at all.
func WithoutMPTCP(p Packet) bool { return p.IsTCP() && len(p.MPTCPOptions()) == 0 }

// Not negates a predicate.
func Not(f Pred) Pred { return func(p Packet) bool { return !f(p) } }

// TCPChecksumValid reports whether the TCP checksum (over the pseudo-header
// of RFC 9293 section 3.1 / RFC 8200 section 8.1) is correct. The captures
// were taken with checksum offload off, so every segment in them is valid.
func (p Packet) TCPChecksumValid() bool {
	t := p.TCP()
	if t == nil {
		return false
	}
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	if p.Version() == 4 {
		add(p.Data[12:20])
	} else {
		add(p.Data[8:40])
	}
	sum += protoTCP + uint32(len(t))>>16 + uint32(len(t))&0xffff
	add(t)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}
