package dtree

// rec is one mapping: subflow bytes [ssn, ssn+len) carry data bytes
// [dsn, dsn+len). A free slab block keeps its free-list links in the ssn
// (next) and ls (prev) fields of its first record.
type rec struct {
	dsn dsn64
	ssn seq32
	ls  uint32 // length in bits 0-23, subflow id in bits 24-27
}

const (
	recLenBits = 24
	recLenMask = 1<<recLenBits - 1
)

func mkrec(dsn dsn64, ssn seq32, n uint32, sub uint8) rec {
	return rec{dsn: dsn, ssn: ssn, ls: n | uint32(sub)<<recLenBits}
}

func (r *rec) len() uint32           { return r.ls & recLenMask }
func (r *rec) sub() uint8            { return uint8(r.ls >> recLenBits & 0xf) }
func (r *rec) ssnEnd() seq32         { return r.ssn.add(r.len()) }
func (r *rec) dsnEnd() dsn64         { return r.dsn.add(r.len()) }
func (r *rec) same(o *rec) bool      { return *r == *o }
func (r *rec) dsnAt(x seq32) dsn64   { return r.dsn.add(x.diff(r.ssn)) }
func (r *rec) covers(x seq32) bool   { return r.ssn.le(x) && x.lt(r.ssnEnd()) }
func (r *rec) below(ack dsn64) bool  { return r.dsnEnd().le(ack) }
func (r *rec) belowS(ack seq32) bool { return r.ssnEnd().le(ack) }

const (
	minOrder = 2  // smallest block: 4 records (64 bytes)
	maxOrder = 15 // largest block, and largest ring: 32768 records
	nilIdx   = ^uint32(0)
	tagFree  = 0x80
)

// maxRecords bounds the slab: ring.ol keeps a block offset in 28 bits.
const maxRecords = 1 << 30

// slab is a binary buddy allocator over one flat record array. Blocks of
// 2^k records (minOrder <= k <= top) are aligned to their size; tag[i]
// describes the block starting at record 4*i: tagFree|k while it is a
// free block of order k, 0 otherwise.
type slab struct {
	recs []rec
	tag  []uint8
	free [maxOrder + 1]uint32 // head of each order's free list, or nilIdx
	top  uint8
	used int // records in allocated blocks
}

func (s *slab) init(records int) {
	top := uint8(minOrder)
	for top < maxOrder && 1<<top < records {
		top++
	}
	blocks := (records + 1<<top - 1) >> top
	if blocks < 1 {
		blocks = 1
	}
	n := blocks << top
	s.recs = make([]rec, n)
	s.tag = make([]uint8, n>>minOrder)
	s.top = top
	for i := range s.free {
		s.free[i] = nilIdx
	}
	for b := blocks - 1; b >= 0; b-- {
		s.push(uint32(b)<<top, top)
	}
}

func (s *slab) push(off uint32, k uint8) {
	h := s.free[k]
	s.recs[off].ssn = seq32(h)
	s.recs[off].ls = nilIdx
	if h != nilIdx {
		s.recs[h].ls = off
	}
	s.free[k] = off
	s.tag[off>>minOrder] = tagFree | k
}

func (s *slab) unlink(off uint32, k uint8) {
	next, prev := uint32(s.recs[off].ssn), s.recs[off].ls
	if prev == nilIdx {
		s.free[k] = next
	} else {
		s.recs[prev].ssn = seq32(next)
	}
	if next != nilIdx {
		s.recs[next].ls = prev
	}
	s.tag[off>>minOrder] = 0
}

// alloc returns the offset of a free block of 2^k records.
func (s *slab) alloc(k uint8) (uint32, bool) {
	for o := k; o <= s.top; o++ {
		off := s.free[o]
		if off == nilIdx {
			continue
		}
		s.unlink(off, o)
		for o > k {
			o--
			s.push(off+1<<o, o)
		}
		s.used += 1 << k
		return off, true
	}
	return 0, false
}

// release returns the block of 2^k records at off, merging free buddies.
func (s *slab) release(off uint32, k uint8) {
	s.used -= 1 << k
	for k < s.top {
		b := off ^ 1<<k
		if s.tag[b>>minOrder] != tagFree|k {
			break
		}
		s.unlink(b, k)
		off &^= 1 << k
		k++
	}
	s.push(off, k)
}

// ring is an ordered sequence of records held in one slab block of 2^lg
// records, starting at head and wrapping; lg == 0 means no block yet.
//
// It is 8 bytes, packed because every tree header holds nine: the block's
// offset (a multiple of 2^minOrder below 2^30) and lg share one word.
type ring struct {
	ol   uint32 // block offset >> minOrder in bits 4-31, lg in bits 0-3
	head uint16
	n    uint16
}

func (r *ring) lg() uint8   { return uint8(r.ol & 15) }
func (r *ring) off() uint32 { return r.ol >> 4 << minOrder }

// set records the block at off of 2^lg records (lg 0: none).
func (r *ring) set(off uint32, lg uint8) { r.ol = off>>minOrder<<4 | uint32(lg) }

func (r *ring) cap() int {
	if r.lg() == 0 {
		return 0
	}
	return 1 << r.lg()
}
func (r *ring) len() int  { return int(r.n) }
func (r *ring) mask() int { return 1<<r.lg() - 1 }

// at returns record i of r (0 <= i < r.n).
func (s *slab) at(r *ring, i int) *rec {
	return &s.recs[r.off()+uint32((int(r.head)+i)&r.mask())]
}

// resize moves r into a block of 2^lg records (lg >= minOrder, 2^lg >= r.n).
func (s *slab) resize(r *ring, lg uint8) bool {
	off, ok := s.alloc(lg)
	if !ok {
		return false
	}
	dst := s.recs[off : off+1<<lg]
	for i := 0; i < r.len(); i++ {
		dst[i] = *s.at(r, i)
	}
	if r.lg() != 0 {
		s.release(r.off(), r.lg())
	}
	r.set(off, lg)
	r.head = 0
	return true
}

// room makes sure r can take one more record.
func (s *slab) room(r *ring) bool {
	switch {
	case r.lg() == 0:
		return s.resize(r, minOrder)
	case r.len() < r.cap():
		return true
	case r.lg() >= maxOrder:
		return false
	}
	return s.resize(r, r.lg()+1)
}

// shrink moves r into a smaller block once it is at most a quarter full.
func (s *slab) shrink(r *ring) {
	if r.lg() <= minOrder || r.len()*4 > r.cap() {
		return
	}
	lg := uint8(minOrder)
	for 1<<lg < 2*r.len() {
		lg++
	}
	s.resize(r, lg) // on failure r keeps its block, which is fine
}

// drop frees r's block.
func (s *slab) drop(r *ring) {
	if r.lg() != 0 {
		s.release(r.off(), r.lg())
	}
	*r = ring{}
}

// move copies k records of r from logical index src to dst (the ranges
// may overlap), a memmove in at most three contiguous pieces each way.
func (s *slab) move(r *ring, dst, src, k int) {
	blk := s.recs[r.off() : r.off()+uint32(r.cap())]
	mask, h := r.mask(), int(r.head)
	if dst < src {
		for k > 0 {
			ps, pd := (h+src)&mask, (h+dst)&mask
			c := min(k, len(blk)-ps, len(blk)-pd)
			copy(blk[pd:pd+c], blk[ps:ps+c])
			src, dst, k = src+c, dst+c, k-c
		}
		return
	}
	for k > 0 && dst != src {
		ps, pd := (h+src+k-1)&mask, (h+dst+k-1)&mask // last record of each range
		c := min(k, ps+1, pd+1)
		copy(blk[pd+1-c:pd+1], blk[ps+1-c:ps+1])
		k -= c
	}
}

// insertAt inserts x before record p (0 <= p <= r.n); room must hold.
func (s *slab) insertAt(r *ring, p int, x rec) {
	n := r.len()
	if p == n { // append, the common case: nothing moves
		r.n++
		*s.at(r, p) = x
		return
	}
	if p < n-p {
		r.head = uint16((int(r.head) - 1) & r.mask())
		s.move(r, 0, 1, p)
	} else {
		s.move(r, p+1, p, n-p)
	}
	r.n++
	*s.at(r, p) = x
}

// removeRange deletes records [p, q) of r, moving the shorter side.
func (s *slab) removeRange(r *ring, p, q int) {
	k, n := q-p, r.len()
	if k <= 0 {
		return
	}
	if p < n-q {
		s.move(r, k, 0, p)
		r.head = uint16((int(r.head) + k) & r.mask())
	} else {
		s.move(r, p, q, n-q)
	}
	r.n -= uint16(k)
}

// popFront deletes the first k records of r.
func (r *ring) popFront(k int) {
	r.head = uint16((int(r.head) + k) & r.mask())
	r.n -= uint16(k)
}

// lastSSN returns the index of the last record whose ssn is at or before
// x, or -1. r must be sorted by ssn.
func (s *slab) lastSSN(r *ring, x seq32) int {
	n := r.len()
	if n == 0 {
		return -1
	}
	if s.at(r, n-1).ssn.le(x) {
		return n - 1
	}
	lo, hi := 0, n-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.at(r, m).ssn.le(x) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// lastDSN returns the index of the last record whose dsn is at or before
// x, or -1. r must be sorted by dsn.
func (s *slab) lastDSN(r *ring, x dsn64) int {
	n := r.len()
	if n == 0 {
		return -1
	}
	if s.at(r, n-1).dsn.le(x) {
		return n - 1
	}
	lo, hi := 0, n-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.at(r, m).dsn.le(x) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}
