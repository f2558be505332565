package fwd

import "encoding/binary"

// Offsets and constants of an ARP packet for IPv4 over Ethernet (RFC 826).
const (
	arpHType = 0  // hardware type, 1 for Ethernet
	arpPType = 2  // protocol type, 0x0800 for IPv4
	arpHLen  = 4  // hardware address length, 6
	arpPLen  = 5  // protocol address length, 4
	arpOp    = 6  // operation
	arpSHA   = 8  // sender hardware address
	arpSPA   = 14 // sender protocol address
	arpTHA   = 18 // target hardware address
	arpTPA   = 24 // target protocol address

	// ARPLen is the length of an Ethernet/IPv4 ARP packet.
	ARPLen = 28

	// ARPRequest is the ARP operation code of a request.
	ARPRequest = 1
	// ARPReply is the ARP operation code of a reply.
	ARPReply = 2

	arpHTypeEthernet = 1
)

// ARP is a view of an ARP packet (the Ethernet payload). Valid iff it is at
// least ARPLen bytes long and says Ethernet hardware addresses (type 1,
// length 6) and IPv4 protocol addresses (type 0x0800, length 4); the
// getters and setters assume it.
type ARP []byte

// IsValid reports whether a is an Ethernet/IPv4 ARP packet.
func (a ARP) IsValid() bool {
	return len(a) >= ARPLen &&
		binary.BigEndian.Uint16(a[arpHType:]) == arpHTypeEthernet &&
		binary.BigEndian.Uint16(a[arpPType:]) == EtherTypeIPv4 &&
		a[arpHLen] == 6 && a[arpPLen] == 4
}

// Op returns the operation (ARPRequest, ARPReply).
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[arpOp:]) }

// SetOp sets the operation.
func (a ARP) SetOp(op uint16) { binary.BigEndian.PutUint16(a[arpOp:], op) }

// SenderMAC returns the sender hardware address.
func (a ARP) SenderMAC() MAC { return MAC(a[arpSHA : arpSHA+6]) }

// SetSenderMAC sets the sender hardware address.
func (a ARP) SetSenderMAC(m MAC) { copy(a[arpSHA:arpSHA+6], m[:]) }

// SenderIP returns the sender protocol (IPv4) address.
func (a ARP) SenderIP() [4]byte { return [4]byte(a[arpSPA : arpSPA+4]) }

// SetSenderIP sets the sender protocol address.
func (a ARP) SetSenderIP(ip [4]byte) { copy(a[arpSPA:arpSPA+4], ip[:]) }

// TargetMAC returns the target hardware address.
func (a ARP) TargetMAC() MAC { return MAC(a[arpTHA : arpTHA+6]) }

// SetTargetMAC sets the target hardware address.
func (a ARP) SetTargetMAC(m MAC) { copy(a[arpTHA:arpTHA+6], m[:]) }

// TargetIP returns the target protocol (IPv4) address.
func (a ARP) TargetIP() [4]byte { return [4]byte(a[arpTPA : arpTPA+4]) }

// SetTargetIP sets the target protocol address.
func (a ARP) SetTargetIP(ip [4]byte) { copy(a[arpTPA:arpTPA+4], ip[:]) }

// Encode writes a whole Ethernet/IPv4 ARP packet with operation op.
func (a ARP) Encode(op uint16, sha MAC, spa [4]byte, tha MAC, tpa [4]byte) {
	binary.BigEndian.PutUint16(a[arpHType:], arpHTypeEthernet)
	binary.BigEndian.PutUint16(a[arpPType:], EtherTypeIPv4)
	a[arpHLen] = 6
	a[arpPLen] = 4
	a.SetOp(op)
	a.SetSenderMAC(sha)
	a.SetSenderIP(spa)
	a.SetTargetMAC(tha)
	a.SetTargetIP(tpa)
}
