package header

import "encoding/binary"

// Offsets of the IPv6 header fields (RFC 8200 section 3).
const (
	IPv6VersionTCFLOffset   = 0
	IPv6PayloadLengthOffset = 4
	IPv6NextHeaderOffset    = 6
	IPv6HopLimitOffset      = 7
	IPv6SourceOffset        = 8
	IPv6DestinationOffset   = 24
	IPv6MinimumSize         = 40 // fixed header
	IPv6AddressSize         = 16
	IPv6Version             = 6
)

// IPv6 extension header and upper-layer numbers this package names (IANA
// "Assigned Internet Protocol Numbers"; RFC 8200 section 4).
const (
	IPv6HopByHop     = 0
	IPv6ProtocolTCP  = 6
	IPv6Routing      = 43
	IPv6Fragment     = 44
	IPv6ESP          = 50
	IPv6AH           = 51
	IPv6NoNextHeader = 59
	IPv6DestOptions  = 60
	IPv6Mobility     = 135
	IPv6HIP          = 139
	IPv6Shim6        = 140
	IPv6Experiment1  = 253
	IPv6Experiment2  = 254
)

// IPv6 is a view of an IPv6 packet starting at its fixed header. Valid iff
// IsValid returns true; the methods trust a valid view.
type IPv6 []byte

// IsValid reports whether b holds an IPv6 fixed header of version 6 whose
// payload length fits in b (b may be longer, as with Ethernet padding).
// Jumbograms (payload length 0 with a Jumbo Payload option) are not valid.
func (b IPv6) IsValid() bool {
	if len(b) < IPv6MinimumSize || b[IPv6VersionTCFLOffset]>>4 != IPv6Version {
		return false
	}
	return IPv6MinimumSize+int(binary.BigEndian.Uint16(b[IPv6PayloadLengthOffset:])) <= len(b)
}

// Version returns the version field.
func (b IPv6) Version() uint8 { return b[IPv6VersionTCFLOffset] >> 4 }

// TrafficClass returns the traffic class (DSCP and ECN).
func (b IPv6) TrafficClass() uint8 {
	return uint8(binary.BigEndian.Uint16(b[IPv6VersionTCFLOffset:]) >> 4)
}

// SetTrafficClass sets the traffic class.
func (b IPv6) SetTrafficClass(v uint8) {
	w := binary.BigEndian.Uint16(b[IPv6VersionTCFLOffset:])&0xf00f | uint16(v)<<4
	binary.BigEndian.PutUint16(b[IPv6VersionTCFLOffset:], w)
}

// FlowLabel returns the 20-bit flow label.
func (b IPv6) FlowLabel() uint32 {
	return binary.BigEndian.Uint32(b[IPv6VersionTCFLOffset:]) & 0xfffff
}

// SetFlowLabel sets the flow label (low 20 bits of v).
func (b IPv6) SetFlowLabel(v uint32) {
	w := binary.BigEndian.Uint32(b[IPv6VersionTCFLOffset:])&^0xfffff | v&0xfffff
	binary.BigEndian.PutUint32(b[IPv6VersionTCFLOffset:], w)
}

// SetVersion sets the version field to 6, keeping traffic class and flow
// label.
func (b IPv6) SetVersion() { b[IPv6VersionTCFLOffset] = IPv6Version<<4 | b[IPv6VersionTCFLOffset]&0xf }

// PayloadLength returns the payload length: the bytes after the fixed
// header, extension headers included.
func (b IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(b[IPv6PayloadLengthOffset:]) }

// SetPayloadLength sets the payload length. IPv6 has no header checksum.
func (b IPv6) SetPayloadLength(v uint16) {
	binary.BigEndian.PutUint16(b[IPv6PayloadLengthOffset:], v)
}

// NextHeader returns the next header field.
func (b IPv6) NextHeader() uint8 { return b[IPv6NextHeaderOffset] }

// SetNextHeader sets the next header field.
func (b IPv6) SetNextHeader(v uint8) { b[IPv6NextHeaderOffset] = v }

// IsDirectTCP reports whether the fixed header is followed directly by a
// TCP header. A packet with extension headers reports false and is passed
// through untranslated.
func (b IPv6) IsDirectTCP() bool { return b.NextHeader() == IPv6ProtocolTCP }

// HasExtensionHeader reports whether the next header field names an IPv6
// extension header (RFC 8200 section 4; RFC 7045's list).
func (b IPv6) HasExtensionHeader() bool { return IsIPv6ExtensionHeader(b.NextHeader()) }

// IsIPv6ExtensionHeader reports whether next header value nh names an IPv6
// extension header rather than an upper-layer protocol.
func IsIPv6ExtensionHeader(nh uint8) bool {
	switch nh {
	case IPv6HopByHop, IPv6Routing, IPv6Fragment, IPv6ESP, IPv6AH, IPv6DestOptions,
		IPv6Mobility, IPv6HIP, IPv6Shim6, IPv6Experiment1, IPv6Experiment2:
		return true
	}
	return false
}

// HopLimit returns the hop limit.
func (b IPv6) HopLimit() uint8 { return b[IPv6HopLimitOffset] }

// SetHopLimit sets the hop limit. IPv6 has no header checksum.
func (b IPv6) SetHopLimit(v uint8) { b[IPv6HopLimitOffset] = v }

// SourceAddress returns the source address.
func (b IPv6) SourceAddress() [16]byte { return [16]byte(b[IPv6SourceOffset:]) }

// SetSourceAddress sets the source address. The TCP checksum covers it:
// update it with TCP.UpdateChecksumPseudoAddress.
func (b IPv6) SetSourceAddress(a [16]byte) { copy(b[IPv6SourceOffset:], a[:]) }

// DestinationAddress returns the destination address.
func (b IPv6) DestinationAddress() [16]byte { return [16]byte(b[IPv6DestinationOffset:]) }

// SetDestinationAddress sets the destination address. The TCP checksum
// covers it: update it with TCP.UpdateChecksumPseudoAddress.
func (b IPv6) SetDestinationAddress(a [16]byte) { copy(b[IPv6DestinationOffset:], a[:]) }

// Payload returns the bytes after the fixed header up to the payload
// length, without any link-layer padding that follows.
func (b IPv6) Payload() []byte {
	return b[IPv6MinimumSize : IPv6MinimumSize+int(b.PayloadLength())]
}

// PseudoHeaderSum returns the one's-complement sum of the pseudo-header of
// a transport segment that directly follows the fixed header (RFC 8200
// section 8.1): addresses, payload length, next header.
func (b IPv6) PseudoHeaderSum() uint16 {
	return PseudoHeaderSum(b[IPv6SourceOffset:IPv6SourceOffset+16], b[IPv6DestinationOffset:IPv6DestinationOffset+16],
		b.NextHeader(), uint32(b.PayloadLength()))
}
