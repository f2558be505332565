package dtree

// seq32 is a 32-bit subflow sequence number (SSN). Comparisons are modulo
// 2^32 (RFC 9293 3.4): a.lt(b) iff b is ahead of a by less than 2^31.
type seq32 uint32

// lt reports whether a comes before b.
func (a seq32) lt(b seq32) bool { return int32(uint32(a)-uint32(b)) < 0 }

// le reports whether a comes before b or equals it.
func (a seq32) le(b seq32) bool { return int32(uint32(a)-uint32(b)) <= 0 }

// add returns a advanced by n bytes.
func (a seq32) add(n uint32) seq32 { return seq32(uint32(a) + n) }

// diff returns the distance from b up to a (a - b modulo 2^32).
func (a seq32) diff(b seq32) uint32 { return uint32(a) - uint32(b) }

// dsn64 is a 64-bit data sequence number (DSN). Comparisons are modulo
// 2^64: a.lt(b) iff b is ahead of a by less than 2^63.
type dsn64 uint64

// lt reports whether a comes before b.
func (a dsn64) lt(b dsn64) bool { return int64(uint64(a)-uint64(b)) < 0 }

// le reports whether a comes before b or equals it.
func (a dsn64) le(b dsn64) bool { return int64(uint64(a)-uint64(b)) <= 0 }

// add returns a advanced by n bytes.
func (a dsn64) add(n uint32) dsn64 { return dsn64(uint64(a) + uint64(n)) }

// diff returns the distance from b up to a (a - b modulo 2^64).
func (a dsn64) diff(b dsn64) uint64 { return uint64(a) - uint64(b) }
