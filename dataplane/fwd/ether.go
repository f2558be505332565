package fwd

import "encoding/binary"

// MAC is an IEEE 802 48-bit MAC address.
type MAC [6]byte

// BroadcastMAC is the Ethernet broadcast address ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsMulticast reports whether m is a group address (I/G bit set); the
// broadcast address is one.
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m as six colon-separated lower-case hex bytes. It is for
// logs and tests, never the hot path.
func (m MAC) String() string {
	const hex = "0123456789abcdef"
	var b [17]byte
	for i, x := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i] = hex[x>>4]
		b[3*i+1] = hex[x&0xf]
	}
	return string(b[:])
}

// EtherType values that fwd dispatches on.
const (
	// EtherTypeIPv4 is IPv4 (RFC 894).
	EtherTypeIPv4 = 0x0800
	// EtherTypeARP is the Address Resolution Protocol (RFC 826).
	EtherTypeARP = 0x0806
	// EtherTypeVLAN is an IEEE 802.1Q tag; fwd does not support VLANs.
	EtherTypeVLAN = 0x8100
	// EtherTypeQinQ is an IEEE 802.1ad service tag; unsupported.
	EtherTypeQinQ = 0x88a8
	// EtherTypeIPv6 is IPv6 (RFC 2464).
	EtherTypeIPv6 = 0x86dd
)

// Offsets of the fields of an Ethernet II header.
const (
	ethDst  = 0
	ethSrc  = 6
	ethType = 12
	// EthernetHeaderLen is the length of an untagged Ethernet II header.
	EthernetHeaderLen = 14
)

// Ethernet is a view of an untagged Ethernet II header. Valid iff
// len >= EthernetHeaderLen (IsValid); the getters and setters assume it.
type Ethernet []byte

// IsValid reports whether e is long enough to hold an Ethernet header.
func (e Ethernet) IsValid() bool { return len(e) >= EthernetHeaderLen }

// Dst returns the destination MAC address.
func (e Ethernet) Dst() MAC { return MAC(e[ethDst : ethDst+6]) }

// SetDst sets the destination MAC address.
func (e Ethernet) SetDst(m MAC) { copy(e[ethDst:ethDst+6], m[:]) }

// Src returns the source MAC address.
func (e Ethernet) Src() MAC { return MAC(e[ethSrc : ethSrc+6]) }

// SetSrc sets the source MAC address.
func (e Ethernet) SetSrc(m MAC) { copy(e[ethSrc:ethSrc+6], m[:]) }

// Type returns the EtherType.
func (e Ethernet) Type() uint16 { return binary.BigEndian.Uint16(e[ethType:]) }

// SetType sets the EtherType.
func (e Ethernet) SetType(t uint16) { binary.BigEndian.PutUint16(e[ethType:], t) }

// Payload returns the bytes after the header.
func (e Ethernet) Payload() []byte { return e[EthernetHeaderLen:] }

// Encode writes a whole header: dst, src and EtherType t.
func (e Ethernet) Encode(dst, src MAC, t uint16) {
	e.SetDst(dst)
	e.SetSrc(src)
	e.SetType(t)
}
