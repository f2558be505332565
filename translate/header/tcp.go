package header

import "encoding/binary"

// Offsets of the TCP header fields (RFC 9293 section 3.1).
const (
	TCPSrcPortOffset    = 0
	TCPDstPortOffset    = 2
	TCPSeqOffset        = 4
	TCPAckOffset        = 8
	TCPDataOffsetOffset = 12 // data offset in the high 4 bits
	TCPFlagsOffset      = 13
	TCPWindowOffset     = 14
	TCPChecksumOffset   = 16
	TCPUrgentOffset     = 18
	TCPMinimumSize      = 20 // header without options
	TCPMaximumSize      = 60 // data offset 15
	TCPOptionsMaxSize   = TCPMaximumSize - TCPMinimumSize
)

// TCP control flags, the bits of the byte at TCPFlagsOffset.
const (
	TCPFlagFin = 1 << 0
	TCPFlagSyn = 1 << 1
	TCPFlagRst = 1 << 2
	TCPFlagPsh = 1 << 3
	TCPFlagAck = 1 << 4
	TCPFlagUrg = 1 << 5
	TCPFlagEce = 1 << 6
	TCPFlagCwr = 1 << 7
)

// TCP is a view of a TCP segment: header, options and payload, sliced to
// the length the IP header gives. Valid iff IsValid returns true; the
// methods trust a valid view.
type TCP []byte

// IsValid reports whether b holds a TCP header with a data offset of at
// least 5 words that fits in b. It does not check the checksum.
func (b TCP) IsValid() bool {
	if len(b) < TCPMinimumSize {
		return false
	}
	off := int(b[TCPDataOffsetOffset]>>4) * 4
	return off >= TCPMinimumSize && off <= len(b)
}

// SourcePort returns the source port.
func (b TCP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[TCPSrcPortOffset:]) }

// SetSourcePort sets the source port.
func (b TCP) SetSourcePort(v uint16) { binary.BigEndian.PutUint16(b[TCPSrcPortOffset:], v) }

// SetSourcePortWithChecksumUpdate sets the source port and updates the
// checksum incrementally.
func (b TCP) SetSourcePortWithChecksumUpdate(v uint16) {
	b.SetChecksum(UpdateChecksum16(b.Checksum(), b.SourcePort(), v))
	b.SetSourcePort(v)
}

// DestinationPort returns the destination port.
func (b TCP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[TCPDstPortOffset:]) }

// SetDestinationPort sets the destination port.
func (b TCP) SetDestinationPort(v uint16) { binary.BigEndian.PutUint16(b[TCPDstPortOffset:], v) }

// SetDestinationPortWithChecksumUpdate sets the destination port and
// updates the checksum incrementally.
func (b TCP) SetDestinationPortWithChecksumUpdate(v uint16) {
	b.SetChecksum(UpdateChecksum16(b.Checksum(), b.DestinationPort(), v))
	b.SetDestinationPort(v)
}

// Seq returns the sequence number.
func (b TCP) Seq() Seq32 { return Seq32(binary.BigEndian.Uint32(b[TCPSeqOffset:])) }

// SetSeq sets the sequence number.
func (b TCP) SetSeq(v Seq32) { binary.BigEndian.PutUint32(b[TCPSeqOffset:], uint32(v)) }

// SetSeqWithChecksumUpdate sets the sequence number and updates the
// checksum incrementally.
func (b TCP) SetSeqWithChecksumUpdate(v Seq32) {
	b.SetChecksum(UpdateChecksum32(b.Checksum(), uint32(b.Seq()), uint32(v)))
	b.SetSeq(v)
}

// Ack returns the acknowledgment number.
func (b TCP) Ack() Seq32 { return Seq32(binary.BigEndian.Uint32(b[TCPAckOffset:])) }

// SetAck sets the acknowledgment number.
func (b TCP) SetAck(v Seq32) { binary.BigEndian.PutUint32(b[TCPAckOffset:], uint32(v)) }

// SetAckWithChecksumUpdate sets the acknowledgment number and updates the
// checksum incrementally.
func (b TCP) SetAckWithChecksumUpdate(v Seq32) {
	b.SetChecksum(UpdateChecksum32(b.Checksum(), uint32(b.Ack()), uint32(v)))
	b.SetAck(v)
}

// DataOffset returns the header length in bytes, options included.
func (b TCP) DataOffset() int { return int(b[TCPDataOffsetOffset]>>4) * 4 }

// SetDataOffset sets the header length to n bytes (a multiple of 4 from 20
// to 60), keeping the reserved bits.
func (b TCP) SetDataOffset(n int) {
	b[TCPDataOffsetOffset] = uint8(n/4)<<4 | b[TCPDataOffsetOffset]&0xf
}

// SetDataOffsetWithChecksumUpdate sets the header length and updates the
// checksum for the changed word. The bytes that the change adds or
// removes, and the TCP length in the pseudo-header, must be accounted for
// separately (UpdateChecksumBytes, UpdateChecksumPseudoLength).
func (b TCP) SetDataOffsetWithChecksumUpdate(n int) {
	old := binary.BigEndian.Uint16(b[TCPDataOffsetOffset:])
	b.SetDataOffset(n)
	b.SetChecksum(UpdateChecksum16(b.Checksum(), old, binary.BigEndian.Uint16(b[TCPDataOffsetOffset:])))
}

// Flags returns the control flags (TCPFlagFin ... TCPFlagCwr).
func (b TCP) Flags() uint8 { return b[TCPFlagsOffset] }

// SetFlags sets the control flags.
func (b TCP) SetFlags(v uint8) { b[TCPFlagsOffset] = v }

// SetFlagsWithChecksumUpdate sets the control flags and updates the
// checksum incrementally (the flags are the low byte of the word they
// share with the data offset).
func (b TCP) SetFlagsWithChecksumUpdate(v uint8) {
	old := binary.BigEndian.Uint16(b[TCPDataOffsetOffset:])
	b.SetFlags(v)
	b.SetChecksum(UpdateChecksum16(b.Checksum(), old, binary.BigEndian.Uint16(b[TCPDataOffsetOffset:])))
}

// Window returns the window field, unscaled.
func (b TCP) Window() uint16 { return binary.BigEndian.Uint16(b[TCPWindowOffset:]) }

// SetWindow sets the window field.
func (b TCP) SetWindow(v uint16) { binary.BigEndian.PutUint16(b[TCPWindowOffset:], v) }

// SetWindowWithChecksumUpdate sets the window field and updates the
// checksum incrementally.
func (b TCP) SetWindowWithChecksumUpdate(v uint16) {
	b.SetChecksum(UpdateChecksum16(b.Checksum(), b.Window(), v))
	b.SetWindow(v)
}

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[TCPChecksumOffset:]) }

// SetChecksum sets the checksum field.
func (b TCP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[TCPChecksumOffset:], v) }

// UrgentPointer returns the urgent pointer.
func (b TCP) UrgentPointer() uint16 { return binary.BigEndian.Uint16(b[TCPUrgentOffset:]) }

// SetUrgentPointer sets the urgent pointer.
func (b TCP) SetUrgentPointer(v uint16) { binary.BigEndian.PutUint16(b[TCPUrgentOffset:], v) }

// Options returns the option block between the fixed header and the data
// offset (possibly empty).
func (b TCP) Options() []byte { return b[TCPMinimumSize:b.DataOffset()] }

// Payload returns the segment's data.
func (b TCP) Payload() []byte { return b[b.DataOffset():] }

// CalculateChecksum returns the checksum of the segment as if the checksum
// field were zero, starting from the pseudo-header sum pseudo
// (IPv4.PseudoHeaderSum, IPv6.PseudoHeaderSum or PseudoHeaderSum).
func (b TCP) CalculateChecksum(pseudo uint16) uint16 {
	s := OnesSum(b[:TCPChecksumOffset], pseudo)
	return ^OnesSum(b[TCPChecksumOffset+2:], s)
}

// IsChecksumValid reports whether the checksum is correct for the
// pseudo-header sum pseudo.
func (b TCP) IsChecksumValid(pseudo uint16) bool { return OnesSum(b, pseudo) == 0xffff }

// PayloadSum returns the one's-complement sum of the payload, recovered
// from a valid checksum and the pseudo-header sum by summing only the
// header: pseudo + header + payload = 0xffff, so payload = ~(pseudo +
// header). A zero sum may come back as 0xffff (the other one's-complement
// zero), which is equivalent in any further sum. The result is garbage if
// the checksum was not valid.
func (b TCP) PayloadSum(pseudo uint16) uint16 {
	return ^OnesSum(b[:b.DataOffset()], pseudo)
}

// UpdateChecksumPseudoAddress updates the checksum after an address of the
// pseudo-header changed from old to new (4 bytes each for IPv4, 16 for
// IPv6); the IP header itself is the caller's.
func (b TCP) UpdateChecksumPseudoAddress(old, new []byte) {
	b.SetChecksum(UpdateChecksumBytes(b.Checksum(), old, new))
}

// UpdateChecksumPseudoLength updates the checksum after the TCP length of
// the pseudo-header changed from old to new bytes.
func (b TCP) UpdateChecksumPseudoLength(old, new uint32) {
	b.SetChecksum(UpdateChecksum32(b.Checksum(), old, new))
}
