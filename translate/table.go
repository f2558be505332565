package translate

import "math/bits"

// table is a fixed-capacity open-addressing hash table with linear probing
// and backward-shift deletion (no tombstones). A slot holds a 32-bit hash
// and a 32-bit value; the key itself lives in the connection state, so the
// caller compares candidates (every slot whose hash matches) against its
// key. It never grows: insert fails once limit entries are in use. It holds
// no pointers, so the garbage collector does not scan it. Not safe for
// concurrent use.
type table struct {
	slots []tableSlot
	mask  uint32
	n     int
	limit int
}

// tableSlot is one slot; val 0 marks an empty slot (stored values are +1).
type tableSlot struct {
	hash uint32
	val  uint32
}

// newTable returns a table for up to limit entries, sized to a power of
// two at least 4/3 of limit (load factor at most 3/4) so probes stay
// short.
func newTable(limit int) table {
	size := limit + limit/3
	if size < 8 {
		size = 8
	}
	size = 1 << bits.Len(uint(size-1))
	return table{slots: make([]tableSlot, size), mask: uint32(size - 1), limit: limit}
}

// insert adds (hash, val); it reports false when the table is full.
func (t *table) insert(hash, val uint32) bool {
	if t.n >= t.limit {
		return false
	}
	i := hash & t.mask
	for t.slots[i].val != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = tableSlot{hash: hash, val: val + 1}
	t.n++
	return true
}

// remove deletes the entry (hash, val), if present, shifting later
// entries of the probe run back so lookups stay correct (Knuth 6.4
// algorithm R).
func (t *table) remove(hash, val uint32) bool {
	i := hash & t.mask
	for {
		s := t.slots[i]
		if s.val == 0 {
			return false
		}
		if s.hash == hash && s.val == val+1 {
			break
		}
		i = (i + 1) & t.mask
	}
	j := i
	for {
		j = (j + 1) & t.mask
		s := t.slots[j]
		if s.val == 0 {
			break
		}
		k := s.hash & t.mask // home of the entry at j
		// Leave it if its home lies cyclically in (i, j].
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		t.slots[i] = s
		i = j
	}
	t.slots[i] = tableSlot{}
	t.n--
	return true
}

// mix64 is a 64-bit finaliser (splitmix64) used to hash flow keys.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// flowHash hashes a flow key: source and destination address (4 or 16
// bytes, the IP header's own byte order), ports and side, with seed.
func flowHash(seed uint64, src, dst *[16]byte, sport, dport uint16, side Side) uint32 {
	// Three independent multiplies (they overlap in the pipeline, where
	// a chain of four did not), xored, then one full finaliser: the seed
	// keeps the result unpredictable to a sender choosing ports, and each
	// product is a bijection of its input word, so two ports of one
	// address never meet before the finaliser.
	const k1, k2, k3 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9
	a := (le64(src[0:8]) ^ seed) * k1
	b := (le64(dst[0:8]) ^ uint64(sport)<<32 ^ uint64(dport)<<16 ^ uint64(side)) * k2
	c := (le64(src[8:16]) ^ bits.RotateLeft64(le64(dst[8:16]), 32) ^ seed>>7) * k3
	h := mix64(a ^ b ^ c)
	return uint32(h ^ h>>32)
}

// tokenHash hashes an MPTCP token with seed.
func tokenHash(seed uint64, token uint32) uint32 {
	h := mix64(seed ^ uint64(token))
	return uint32(h ^ h>>32)
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
