package steering

import "encoding/binary"

// Sizes of the Toeplitz hash inputs NICs use for TCP (Microsoft RSS
// "TCP_IPV4" and "TCP_IPV6" hash types): source address, destination
// address, source port, destination port, all in network byte order.
const (
	InputLenV4     = 4 + 4 + 2 + 2   // IPv4 TCP 4-tuple
	InputLenV6     = 16 + 16 + 2 + 2 // IPv6 TCP 4-tuple
	InputLenAddrV4 = 4 + 4           // IPv4 2-tuple (non-TCP, fragments)
	InputLenAddrV6 = 16 + 16         // IPv6 2-tuple
)

// Toeplitz returns the Toeplitz hash of input under key, bit by bit, as the
// Microsoft RSS specification defines it: for every set bit of input (most
// significant bit of input[0] first), XOR the 32 key bits starting at that
// bit position. Key bits past the end of key count as zero, so a key must
// be at least len(input)+4 bytes long to hash every input bit (40 bytes
// for the IPv6 TCP 4-tuple). It is the reference the table variant is
// tested against; use a Table on the hot path.
func Toeplitz(key []byte, input []byte) uint32 {
	var h uint32
	for i, b := range input {
		// w holds key bits [8i, 8i+40) in its low 40 bits.
		w := keyWindow(key, i)
		for j := 0; j < 8; j++ {
			if b&(0x80>>j) != 0 {
				h ^= uint32(w >> (8 - j))
			}
		}
	}
	return h
}

// keyWindow returns key bytes [i, i+5) as the low 40 bits of a uint64, zero
// past the end of key.
func keyWindow(key []byte, i int) uint64 {
	var w uint64
	for k := 0; k < 5; k++ {
		w <<= 8
		if i+k < len(key) {
			w |= uint64(key[i+k])
		}
	}
	return w
}

// SymmetricKey returns an n-byte RSS key of the 16-bit pattern 0x6d5a
// repeated (n is rounded up to an even number). Because the pattern
// repeats every 16 bits, the 32-bit key window at bit k equals the one at
// bit k+16, so swapping the source and destination addresses (a shift by
// 32 or 128 bits) and ports (16 bits) of a TCP 4-tuple leaves the hash
// unchanged: both directions of a connection land on the same queue
// (Woo and Park, "Scalable TCP Session Monitoring with Symmetric
// Receive-side Scaling", 2012). Use 40 bytes for most NICs and 52 for
// those with a 52-byte key (Intel i40e/ice, Mellanox use 40).
func SymmetricKey(n int) []byte {
	if n < 0 {
		n = 0
	}
	n += n & 1
	k := make([]byte, n)
	for i := 0; i < n; i += 2 {
		k[i], k[i+1] = 0x6d, 0x5a
	}
	return k
}

// Table is a Toeplitz hash precomputed for one key: for every input byte
// position and byte value, the XOR of the key windows of its set bits, so
// a hash costs one lookup per input byte instead of eight conditional
// XORs. When the key repeats every 16 bits (a symmetric key), it also
// keeps a two-row folded table: the hash then depends only on the XOR of
// the input's 16-bit words and costs two lookups whatever the input length.
// A Table is read-only after NewTable and safe for concurrent use.
type Table struct {
	key  []byte
	rows [][256]uint32
	// folded is set when the key has a 16-bit period over its whole
	// length; fold[0] and fold[1] are then rows 0 and 1.
	folded bool
}

// NewTable precomputes the Toeplitz hash for key. The key is copied. It
// hashes inputs up to len(key) bytes (bytes past that see only zero key
// bits and add nothing, as in Toeplitz).
func NewTable(key []byte) *Table {
	t := &Table{key: append([]byte(nil), key...), rows: make([][256]uint32, len(key))}
	for i := range t.rows {
		w := keyWindow(key, i)
		for j := 0; j < 8; j++ {
			kw := uint32(w >> (8 - j))
			bit := 0x80 >> j
			for v := 0; v < 256; v++ {
				if v&bit != 0 {
					t.rows[i][v] ^= kw
				}
			}
		}
	}
	t.folded = len(key) >= InputLenV6+4
	for i := 2; i < len(key) && t.folded; i++ {
		if key[i] != key[i-2] {
			t.folded = false
		}
	}
	return t
}

// Key returns a copy of the table's key.
func (t *Table) Key() []byte { return append([]byte(nil), t.key...) }

// Symmetric reports whether the key repeats every 16 bits, which makes the
// TCP 4-tuple and IP 2-tuple hashes symmetric and enables the folded path
// of HashV4 and HashV6.
func (t *Table) Symmetric() bool { return t.folded }

// Hash returns Toeplitz(key, input) by table lookup.
func (t *Table) Hash(input []byte) uint32 {
	var h uint32
	n := min(len(input), len(t.rows))
	for i := 0; i < n; i++ {
		h ^= t.rows[i][input[i]]
	}
	return h
}

// HashV4 returns the Toeplitz hash of an IPv4 TCP 4-tuple in NIC order
// (src, dst, sport, dport); src and dst are the addresses as they appear on
// the wire. With a 16-bit-periodic key it folds the input to one 16-bit
// word first (HashV4Bytes does not fold and is the per-byte measure).
func (t *Table) HashV4(src, dst [4]byte, sport, dport uint16) uint32 {
	if t.folded {
		a := binary.BigEndian.Uint32(src[:]) ^ binary.BigEndian.Uint32(dst[:])
		return t.fold16(uint16(a>>16) ^ uint16(a) ^ sport ^ dport)
	}
	return t.HashV4Bytes(src, dst, sport, dport)
}

// HashV4Bytes is HashV4 by one table lookup per input byte, without the
// folded path.
func (t *Table) HashV4Bytes(src, dst [4]byte, sport, dport uint16) uint32 {
	var in [InputLenV4]byte
	copy(in[0:4], src[:])
	copy(in[4:8], dst[:])
	binary.BigEndian.PutUint16(in[8:10], sport)
	binary.BigEndian.PutUint16(in[10:12], dport)
	return t.Hash(in[:])
}

// HashV6 returns the Toeplitz hash of an IPv6 TCP 4-tuple in NIC order
// (src, dst, sport, dport), folded as in HashV4 when the key allows it.
func (t *Table) HashV6(src, dst *[16]byte, sport, dport uint16) uint32 {
	if t.folded {
		x := binary.BigEndian.Uint64(src[0:8]) ^ binary.BigEndian.Uint64(src[8:16]) ^
			binary.BigEndian.Uint64(dst[0:8]) ^ binary.BigEndian.Uint64(dst[8:16])
		x ^= x >> 32
		return t.fold16(uint16(x>>16) ^ uint16(x) ^ sport ^ dport)
	}
	return t.HashV6Bytes(src, dst, sport, dport)
}

// HashV6Bytes is HashV6 by one table lookup per input byte, without the
// folded path.
func (t *Table) HashV6Bytes(src, dst *[16]byte, sport, dport uint16) uint32 {
	var in [InputLenV6]byte
	copy(in[0:16], src[:])
	copy(in[16:32], dst[:])
	binary.BigEndian.PutUint16(in[32:34], sport)
	binary.BigEndian.PutUint16(in[34:36], dport)
	return t.Hash(in[:])
}

// HashAddrV4 returns the Toeplitz hash of an IPv4 2-tuple (src, dst), the
// input NICs use for IP packets that are not TCP or are fragments.
func (t *Table) HashAddrV4(src, dst [4]byte) uint32 {
	if t.folded {
		a := binary.BigEndian.Uint32(src[:]) ^ binary.BigEndian.Uint32(dst[:])
		return t.fold16(uint16(a>>16) ^ uint16(a))
	}
	var in [InputLenAddrV4]byte
	copy(in[0:4], src[:])
	copy(in[4:8], dst[:])
	return t.Hash(in[:])
}

// HashAddrV6 returns the Toeplitz hash of an IPv6 2-tuple (src, dst).
func (t *Table) HashAddrV6(src, dst *[16]byte) uint32 {
	if t.folded {
		x := binary.BigEndian.Uint64(src[0:8]) ^ binary.BigEndian.Uint64(src[8:16]) ^
			binary.BigEndian.Uint64(dst[0:8]) ^ binary.BigEndian.Uint64(dst[8:16])
		x ^= x >> 32
		return t.fold16(uint16(x>>16) ^ uint16(x))
	}
	var in [InputLenAddrV6]byte
	copy(in[0:16], src[:])
	copy(in[16:32], dst[:])
	return t.Hash(in[:])
}

// fold16 hashes the XOR of an input's 16-bit words under a 16-bit-periodic
// key: every even input byte sees the key windows of row 0, every odd one
// those of row 1, and the hash is linear in the input.
func (t *Table) fold16(w uint16) uint32 {
	return t.rows[0][w>>8] ^ t.rows[1][w&0xff]
}
