package header

import "encoding/binary"

// Offsets of the IPv4 header fields (RFC 791 section 3.1).
const (
	IPv4VersionIHLOffset   = 0
	IPv4TOSOffset          = 1
	IPv4TotalLengthOffset  = 2
	IPv4IDOffset           = 4
	IPv4FlagsFragOffset    = 6
	IPv4TTLOffset          = 8
	IPv4ProtocolOffset     = 9
	IPv4ChecksumOffset     = 10
	IPv4SourceOffset       = 12
	IPv4DestinationOffset  = 16
	IPv4MinimumSize        = 20 // header without options
	IPv4MaximumHeaderSize  = 60 // IHL 15
	IPv4AddressSize        = 4
	IPv4Version            = 4
	IPv4ProtocolTCP        = 6 // IANA protocol number of TCP
	IPv4FlagMoreFragments  = 0x2000
	IPv4FlagDontFragment   = 0x4000
	IPv4FragmentOffsetMask = 0x1fff // in units of 8 bytes
)

// IPv4 is a view of an IPv4 packet starting at its header. Valid iff
// IsValid returns true; the methods trust a valid view.
type IPv4 []byte

// IsValid reports whether b holds an IPv4 header of version 4 with IHL at
// least 5 and a total length that covers the header and fits in b (b may
// be longer, as with Ethernet padding). It does not check the checksum.
func (b IPv4) IsValid() bool {
	if len(b) < IPv4MinimumSize || b[IPv4VersionIHLOffset]>>4 != IPv4Version {
		return false
	}
	hl := int(b[IPv4VersionIHLOffset]&0xf) * 4
	tl := int(binary.BigEndian.Uint16(b[IPv4TotalLengthOffset:]))
	return hl >= IPv4MinimumSize && hl <= tl && tl <= len(b)
}

// Version returns the version field.
func (b IPv4) Version() uint8 { return b[IPv4VersionIHLOffset] >> 4 }

// HeaderLength returns the header length in bytes (IHL * 4).
func (b IPv4) HeaderLength() int { return int(b[IPv4VersionIHLOffset]&0xf) * 4 }

// SetHeaderLength sets the version to 4 and IHL to n/4; n must be a
// multiple of 4 between 20 and 60.
func (b IPv4) SetHeaderLength(n int) { b[IPv4VersionIHLOffset] = IPv4Version<<4 | uint8(n/4) }

// TOS returns the type-of-service byte (DSCP and ECN).
func (b IPv4) TOS() uint8 { return b[IPv4TOSOffset] }

// SetTOS sets the type-of-service byte.
func (b IPv4) SetTOS(v uint8) { b[IPv4TOSOffset] = v }

// TotalLength returns the total length of the packet in bytes.
func (b IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(b[IPv4TotalLengthOffset:]) }

// SetTotalLength sets the total length.
func (b IPv4) SetTotalLength(v uint16) { binary.BigEndian.PutUint16(b[IPv4TotalLengthOffset:], v) }

// SetTotalLengthWithChecksumUpdate sets the total length and updates the
// header checksum incrementally.
func (b IPv4) SetTotalLengthWithChecksumUpdate(v uint16) {
	b.SetChecksum(UpdateChecksum16(b.Checksum(), b.TotalLength(), v))
	b.SetTotalLength(v)
}

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[IPv4IDOffset:]) }

// SetID sets the identification field.
func (b IPv4) SetID(v uint16) { binary.BigEndian.PutUint16(b[IPv4IDOffset:], v) }

// FlagsFragmentOffset returns the 16-bit word holding the flags (DF, MF)
// and the fragment offset in 8-byte units.
func (b IPv4) FlagsFragmentOffset() uint16 { return binary.BigEndian.Uint16(b[IPv4FlagsFragOffset:]) }

// SetFlagsFragmentOffset sets the flags and fragment offset word.
func (b IPv4) SetFlagsFragmentOffset(v uint16) {
	binary.BigEndian.PutUint16(b[IPv4FlagsFragOffset:], v)
}

// DontFragment reports whether DF is set.
func (b IPv4) DontFragment() bool { return b.FlagsFragmentOffset()&IPv4FlagDontFragment != 0 }

// MoreFragments reports whether MF is set.
func (b IPv4) MoreFragments() bool { return b.FlagsFragmentOffset()&IPv4FlagMoreFragments != 0 }

// FragmentOffset returns the fragment offset in bytes.
func (b IPv4) FragmentOffset() int {
	return int(b.FlagsFragmentOffset()&IPv4FragmentOffsetMask) * 8
}

// IsFragment reports whether the packet is a fragment (MF set or a
// non-zero offset), whose transport header may be absent or incomplete.
func (b IPv4) IsFragment() bool {
	return b.FlagsFragmentOffset()&(IPv4FlagMoreFragments|IPv4FragmentOffsetMask) != 0
}

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return b[IPv4TTLOffset] }

// SetTTL sets the time to live.
func (b IPv4) SetTTL(v uint8) { b[IPv4TTLOffset] = v }

// SetTTLWithChecksumUpdate sets the time to live and updates the header
// checksum incrementally (TTL is the high byte of the word it shares with
// the protocol).
func (b IPv4) SetTTLWithChecksumUpdate(v uint8) {
	old := binary.BigEndian.Uint16(b[IPv4TTLOffset:])
	b[IPv4TTLOffset] = v
	b.SetChecksum(UpdateChecksum16(b.Checksum(), old, binary.BigEndian.Uint16(b[IPv4TTLOffset:])))
}

// Protocol returns the protocol number of the payload.
func (b IPv4) Protocol() uint8 { return b[IPv4ProtocolOffset] }

// SetProtocol sets the protocol number.
func (b IPv4) SetProtocol(v uint8) { b[IPv4ProtocolOffset] = v }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[IPv4ChecksumOffset:]) }

// SetChecksum sets the header checksum field.
func (b IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[IPv4ChecksumOffset:], v) }

// CalculateChecksum returns the header checksum computed over the header
// as if the checksum field were zero (RFC 791 section 3.1).
func (b IPv4) CalculateChecksum() uint16 {
	hl := b.HeaderLength()
	s := OnesSum(b[:IPv4ChecksumOffset], 0)
	return ^OnesSum(b[IPv4ChecksumOffset+2:hl], s)
}

// IsChecksumValid reports whether the header checksum is correct.
func (b IPv4) IsChecksumValid() bool {
	return OnesSum(b[:b.HeaderLength()], 0) == 0xffff
}

// SourceAddress returns the source address.
func (b IPv4) SourceAddress() [4]byte { return [4]byte(b[IPv4SourceOffset:]) }

// SetSourceAddress sets the source address.
func (b IPv4) SetSourceAddress(a [4]byte) { copy(b[IPv4SourceOffset:], a[:]) }

// SetSourceAddressWithChecksumUpdate sets the source address and updates
// the header checksum incrementally. The TCP checksum covers the address
// too: update it with TCP.UpdateChecksumPseudoAddress.
func (b IPv4) SetSourceAddressWithChecksumUpdate(a [4]byte) {
	old := binary.BigEndian.Uint32(b[IPv4SourceOffset:])
	b.SetChecksum(UpdateChecksum32(b.Checksum(), old, binary.BigEndian.Uint32(a[:])))
	b.SetSourceAddress(a)
}

// DestinationAddress returns the destination address.
func (b IPv4) DestinationAddress() [4]byte { return [4]byte(b[IPv4DestinationOffset:]) }

// SetDestinationAddress sets the destination address.
func (b IPv4) SetDestinationAddress(a [4]byte) { copy(b[IPv4DestinationOffset:], a[:]) }

// SetDestinationAddressWithChecksumUpdate sets the destination address and
// updates the header checksum incrementally. The TCP checksum covers the
// address too: update it with TCP.UpdateChecksumPseudoAddress.
func (b IPv4) SetDestinationAddressWithChecksumUpdate(a [4]byte) {
	old := binary.BigEndian.Uint32(b[IPv4DestinationOffset:])
	b.SetChecksum(UpdateChecksum32(b.Checksum(), old, binary.BigEndian.Uint32(a[:])))
	b.SetDestinationAddress(a)
}

// Options returns the IPv4 options (possibly empty).
func (b IPv4) Options() []byte { return b[IPv4MinimumSize:b.HeaderLength()] }

// Payload returns the bytes after the header up to the total length,
// without any link-layer padding that follows.
func (b IPv4) Payload() []byte { return b[b.HeaderLength():b.TotalLength()] }

// PseudoHeaderSum returns the one's-complement sum of the pseudo-header of
// the transport segment this packet carries (addresses, protocol, payload
// length), the starting point of its TCP checksum.
func (b IPv4) PseudoHeaderSum() uint16 {
	return PseudoHeaderSum(b[IPv4SourceOffset:IPv4SourceOffset+4], b[IPv4DestinationOffset:IPv4DestinationOffset+4],
		b.Protocol(), uint32(int(b.TotalLength())-b.HeaderLength()))
}
