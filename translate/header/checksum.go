package header

import (
	"encoding/binary"
	"math/bits"
)

// OnesSum returns the 16-bit one's-complement sum of b added to initial. An
// odd final byte is summed as if followed by a zero byte. The sum of bytes
// that start at an odd offset of the checksummed region must be passed
// through OddOffsetSum before it is combined with the rest.
func OnesSum(b []byte, initial uint16) uint16 {
	var s, c uint64
	s = uint64(initial)
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	s, c = bits.Add64(s, c, 0)
	s += c // s was at most 2^64-1 before, so this cannot carry again
	if len(b) >= 4 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint32(b)), 0)
		s += c
		b = b[4:]
	}
	if len(b) >= 2 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint16(b)), 0)
		s += c
		b = b[2:]
	}
	if len(b) == 1 {
		s, c = bits.Add64(s, uint64(b[0])<<8, 0)
		s += c
	}
	return Fold(s)
}

// Fold folds a 64-bit accumulator of 16-bit words into a 16-bit
// one's-complement sum (end-around carry).
func Fold(s uint64) uint16 {
	// Branch-free end-around carry: 64 -> 33 -> 17 -> 16 bits (+1 carry)
	// -> 16 bits.
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// Combine returns the one's-complement sum of a and b.
func Combine(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// OddOffsetSum converts the one's-complement sum of bytes that start at an
// odd offset of the checksummed region into its contribution to the whole
// (RFC 1071 section 2(B): byte order independence; a one-byte shift swaps
// the bytes of the sum).
func OddOffsetSum(sum uint16) uint16 {
	return bits.ReverseBytes16(sum)
}

// UpdateChecksumSum returns checksum csum (the value stored in a header,
// the complement of the sum) after a part of the covered data whose
// one's-complement sum was oldSum changed to data whose sum is newSum
// (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
func UpdateChecksumSum(csum, oldSum, newSum uint16) uint16 {
	return ^Combine(Combine(^csum, ^oldSum), newSum)
}

// UpdateChecksum16 returns checksum csum after a 16-bit field at an even
// offset changed from old to new (RFC 1624).
func UpdateChecksum16(csum, old, new uint16) uint16 {
	return UpdateChecksumSum(csum, old, new)
}

// UpdateChecksum32 returns checksum csum after a 32-bit field at an even
// offset changed from old to new (RFC 1624).
func UpdateChecksum32(csum uint16, old, new uint32) uint16 {
	o := Combine(uint16(old>>16), uint16(old))
	n := Combine(uint16(new>>16), uint16(new))
	return UpdateChecksumSum(csum, o, n)
}

// UpdateChecksumBytes returns checksum csum after the bytes old, starting at
// an even offset of the covered data, were replaced by new at the same
// offset. old and new may differ in length, as when TCP options are
// rewritten, provided what follows them stays at an offset of the same
// parity; a change of the TCP length itself must also be applied to the
// pseudo-header (TCP.UpdateChecksumPseudoLength).
func UpdateChecksumBytes(csum uint16, old, new []byte) uint16 {
	return UpdateChecksumSum(csum, OnesSum(old, 0), OnesSum(new, 0))
}

// PseudoHeaderSum returns the one's-complement sum of the TCP/UDP
// pseudo-header: source and destination address (4 bytes each for IPv4,
// RFC 793 section 3.1; 16 each for IPv6, RFC 8200 section 8.1), the
// protocol number and the upper-layer length.
func PseudoHeaderSum(src, dst []byte, proto uint8, length uint32) uint16 {
	s := uint64(proto) + uint64(length)
	if len(src) == 4 && len(dst) == 4 {
		// 32-bit words summed in 64 bits fold to the same 16-bit sum
		// (2^16 = 1 mod 2^16-1).
		s += uint64(binary.BigEndian.Uint32(src)) + uint64(binary.BigEndian.Uint32(dst))
		return Fold(s)
	}
	s += uint64(OnesSum(src, 0)) + uint64(OnesSum(dst, 0))
	return Fold(s)
}
