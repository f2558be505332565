package header

// Seq32 is a TCP sequence or acknowledgment number: arithmetic modulo 2^32
// (RFC 9293 section 3.4). Comparisons are valid between numbers less than
// 2^31 apart.
type Seq32 uint32

// Add returns s advanced by n bytes.
func (s Seq32) Add(n uint32) Seq32 { return s + Seq32(n) }

// Sub returns the signed distance s - o, valid when |s - o| < 2^31.
func (s Seq32) Sub(o Seq32) int32 { return int32(s - o) }

// Size returns the number of bytes from s up to end, modulo 2^32.
func (s Seq32) Size(end Seq32) uint32 { return uint32(end - s) }

// LessThan reports whether s comes before o.
func (s Seq32) LessThan(o Seq32) bool { return int32(s-o) < 0 }

// LessThanEq reports whether s comes before o or equals it.
func (s Seq32) LessThanEq(o Seq32) bool { return int32(s-o) <= 0 }

// InRange reports whether a <= s < b, for a range [a, b) shorter than 2^32.
func (s Seq32) InRange(a, b Seq32) bool { return uint32(s-a) < uint32(b-a) }

// InWindow reports whether s lies in the window of size bytes starting at
// first.
func (s Seq32) InWindow(first Seq32, size uint32) bool { return uint32(s-first) < size }

// Max returns the later of s and o.
func (s Seq32) Max(o Seq32) Seq32 {
	if s.LessThan(o) {
		return o
	}
	return s
}

// Min returns the earlier of s and o.
func (s Seq32) Min(o Seq32) Seq32 {
	if o.LessThan(s) {
		return o
	}
	return s
}

// DSN64 is an MPTCP data sequence number or DATA_ACK: arithmetic modulo
// 2^64 (RFC 8684 section 3.3). Comparisons are valid between numbers less
// than 2^63 apart.
type DSN64 uint64

// Add returns d advanced by n bytes.
func (d DSN64) Add(n uint64) DSN64 { return d + DSN64(n) }

// Sub returns the signed distance d - o, valid when |d - o| < 2^63.
func (d DSN64) Sub(o DSN64) int64 { return int64(d - o) }

// Size returns the number of bytes from d up to end, modulo 2^64.
func (d DSN64) Size(end DSN64) uint64 { return uint64(end - d) }

// LessThan reports whether d comes before o.
func (d DSN64) LessThan(o DSN64) bool { return int64(d-o) < 0 }

// LessThanEq reports whether d comes before o or equals it.
func (d DSN64) LessThanEq(o DSN64) bool { return int64(d-o) <= 0 }

// InRange reports whether a <= d < b, for a range [a, b) shorter than 2^64.
func (d DSN64) InRange(a, b DSN64) bool { return uint64(d-a) < uint64(b-a) }

// InWindow reports whether d lies in the window of size bytes starting at
// first.
func (d DSN64) InWindow(first DSN64, size uint64) bool { return uint64(d-first) < size }

// Max returns the later of d and o.
func (d DSN64) Max(o DSN64) DSN64 {
	if d.LessThan(o) {
		return o
	}
	return d
}

// Min returns the earlier of d and o.
func (d DSN64) Min(o DSN64) DSN64 {
	if o.LessThan(d) {
		return o
	}
	return d
}

// Lower32 returns the least significant 32 bits of d, as sent in a 4-byte
// DSN or DATA_ACK (RFC 8684 section 3.3).
func (d DSN64) Lower32() uint32 { return uint32(d) }

// Expand returns the 64-bit value whose least significant 32 bits are
// lower32 and that lies nearest to the reference d, within [d - 2^31,
// d + 2^31). This turns a 4-byte DSN or DATA_ACK into a full one (RFC 8684
// section 3.3.1: the upper bits are implied by the connection state; the
// Linux kernel's __mptcp_expand_seq makes the same choice).
func (d DSN64) Expand(lower32 uint32) DSN64 {
	return d + DSN64(int64(int32(lower32-uint32(d))))
}
