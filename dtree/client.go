package dtree

// mergeMax bounds merging of touching mappings in a ClientMap, so that the
// union of a new mapping with the records it overlaps stays below 2^24.
const mergeMax = 1 << 22

// consistent reports whether x and a new mapping (ssn, dsn) agree on the
// data sequence number of the first subflow byte they share.
func consistent(x *rec, ssn seq32, dsn dsn64) bool {
	p := ssn
	if ssn.lt(x.ssn) {
		p = x.ssn
	}
	return x.dsnAt(p) == dsn.add(p.diff(ssn))
}

// ClientInsert records the client's mapping of subflow sub's bytes
// [ssn, ssn+n) to data bytes [dsn, dsn+n), as carried in a DSS option.
// A mapping that overlaps stored ones consistently (same DSN for every
// shared byte) is merged with them, and so is a stored neighbour it
// continues exactly; bytes below the subflow's trim floor are clipped off.
// Inserted, Duplicate (nothing new), Conflict, Old, Full or Invalid.
func (s *Store) ClientInsert(m ClientMap, sub uint8, ssn uint32, dsn uint64, n uint32) Verdict {
	v, _ := s.clientInsert(m, sub, ssn, dsn, n)
	return v
}

// ClientInsertLookup is ClientInsert of the mapping (sub, ssn, dsn, n)
// followed by ClientLookup(m, sub, seg, segLen) of the segment that
// carried it, with the same results. When the stored mapping covers the
// whole segment, the lookup is answered from the mapping itself: a
// stored mapping agrees with every record it overlaps, so the records
// give the segment the same DSN.
func (s *Store) ClientInsertLookup(m ClientMap, sub uint8, ssn uint32, dsn uint64, n uint32, seg, segLen uint32) (v Verdict, segDSN uint64, covered uint32, ok bool) {
	v, lo := s.clientInsert(m, sub, ssn, dsn, n)
	if v == Inserted || v == Duplicate {
		// [lo, ssn+n) is stored (lo is above ssn when the floor clipped
		// the mapping); the segment must lie inside it.
		if x := seq32(seg); lo.le(x) && x.add(segLen).le(seq32(ssn).add(n)) && segLen > 0 && segLen <= n {
			return v, uint64(dsn64(dsn).add(x.diff(seq32(ssn)))), segLen, true
		}
	}
	segDSN, covered, ok = s.ClientLookup(m, sub, seg, segLen)
	return v, segDSN, covered, ok
}

// clientInsert is ClientInsert; it also returns the first subflow byte of
// the mapping that is stored (ssn, or the trim floor if that is above).
func (s *Store) clientInsert(m ClientMap, sub uint8, ssn uint32, dsn uint64, n uint32) (Verdict, seq32) {
	s.cver++ // invalidates ClientAcked's memo
	t := s.tree(m.h, kindClient)
	if uint32(sub) >= t.nsub || n == 0 || n > MaxMappingLen {
		return Invalid, 0
	}
	lo, d := seq32(ssn), dsn64(dsn)
	if t.floorOK&(1<<sub) != 0 {
		f := t.floor[sub]
		if lo.add(n).le(f) {
			return Old, 0
		}
		if lo.lt(f) {
			k := f.diff(lo)
			lo, d, n = f, d.add(k), n-k
		}
	}
	lo0 := lo
	hi := lo.add(n)
	r := &t.rings[sub]
	cnt := r.len()

	// Fast path: the client repeats its current mapping on every segment
	// it covers, and records are disjoint, so a last record holding all of
	// [lo, hi) is the only one it overlaps.
	if cnt > 0 {
		if x := s.sl.at(r, cnt-1); x.ssn.le(lo) && hi.le(x.ssnEnd()) {
			if !consistent(x, lo, d) {
				return Conflict, 0
			}
			return Duplicate, lo0
		}
	}

	// Records [a, b) overlap [lo, hi); they must all agree with the new one.
	a := s.sl.lastSSN(r, lo)
	if a < 0 || s.sl.at(r, a).ssnEnd().le(lo) {
		a++
	}
	b := a
	for ; b < cnt; b++ {
		x := s.sl.at(r, b)
		if !x.ssn.lt(hi) {
			break
		}
		if !consistent(x, lo, d) {
			return Conflict, 0
		}
	}
	if b-a == 1 {
		x := s.sl.at(r, a)
		if x.ssn.le(lo) && hi.le(x.ssnEnd()) {
			return Duplicate, lo0
		}
	}
	if b > a {
		if x := s.sl.at(r, a); x.ssn.lt(lo) {
			d, lo = x.dsn, x.ssn
		}
		if e := s.sl.at(r, b-1).ssnEnd(); hi.lt(e) {
			hi = e
		}
		if hi.diff(lo) > recLenMask {
			return Conflict, 0
		}
	}
	// Touching neighbours that the union continues exactly join it.
	if a > 0 {
		x := s.sl.at(r, a-1)
		if x.ssnEnd() == lo && x.dsnEnd() == d && hi.diff(x.ssn) <= mergeMax {
			a--
			d, lo = x.dsn, x.ssn
		}
	}
	if b < cnt {
		x := s.sl.at(r, b)
		if x.ssn == hi && x.dsn == d.add(hi.diff(lo)) && x.ssnEnd().diff(lo) <= mergeMax {
			b++
			hi = x.ssnEnd()
		}
	}
	u := mkrec(d, lo, hi.diff(lo), sub)
	if a == b {
		if !s.sl.room(r) {
			return Full, 0
		}
		s.sl.insertAt(r, a, u)
		return Inserted, lo0
	}
	*s.sl.at(r, a) = u
	s.sl.removeRange(r, a+1, b)
	return Inserted, lo0
}

// ClientLookup maps the segment of subflow sub with subflow bytes
// [ssn, ssn+n): it returns the DSN of the first byte and how many of the
// segment's bytes, from the first, one stored mapping covers (at most n).
// ok is false if no mapping covers the first byte.
func (s *Store) ClientLookup(m ClientMap, sub uint8, ssn uint32, n uint32) (dsn uint64, covered uint32, ok bool) {
	t := s.tree(m.h, kindClient)
	if uint32(sub) >= t.nsub {
		return 0, 0, false
	}
	r := &t.rings[sub]
	x := seq32(ssn)
	i := s.sl.lastSSN(r, x)
	if i < 0 {
		return 0, 0, false
	}
	p := s.sl.at(r, i)
	if !p.covers(x) {
		return 0, 0, false
	}
	covered = p.ssnEnd().diff(x)
	if n < covered {
		covered = n
	}
	return uint64(p.dsnAt(x)), covered, true
}

// firstUnacked returns the subflow sequence number of sub's first mapped
// byte (in subflow order) whose DSN is not below dataAck, and the index of
// the record holding it; found is false if every mapped byte is acked.
func (s *Store) firstUnacked(r *ring, dataAck dsn64) (x seq32, i int, found bool) {
	for i = 0; i < r.len(); i++ {
		p := s.sl.at(r, i)
		if p.below(dataAck) {
			continue
		}
		if p.dsn.lt(dataAck) {
			return p.ssn.add(uint32(dataAck.diff(p.dsn))), i, true
		}
		return p.ssn, i, true
	}
	return 0, i, false
}

// ClientAcked returns the highest subflow sequence number x of subflow sub
// such that every mapped byte of sub below x has a DSN below dataAck (the
// server's cumulative acknowledgement as a DSN); when every stored byte is
// acknowledged, x is the end of the last stored mapping, or the trim floor
// if none is stored. ok is false if the subflow has neither mappings nor a
// floor. The engine acknowledges min(x, what it has seen contiguously).
// Cost: the number of fully acknowledged mappings not yet trimmed, plus one;
// a repeat for the same tree, subflow and dataAck with no ClientMap
// changed in between is answered from a memo (the engine asks for the
// same subflow ack several times per packet).
func (s *Store) ClientAcked(m ClientMap, sub uint8, dataAck uint64) (ssn uint32, ok bool) {
	// A memo hit needs no handle check: the memo was filled through a
	// valid handle, and releasing the tree since would have changed
	// cver. (1<<sub is 0 for a sub past MaxSubflows: a miss.)
	if mm := &s.memo; mm.known&(1<<sub) != 0 && mm.h == m.h && mm.ack == dsn64(dataAck) && mm.ver == s.cver {
		return uint32(mm.val[sub%MaxSubflows]), mm.ok&(1<<sub) != 0
	}
	t := s.tree(m.h, kindClient)
	if uint32(sub) >= t.nsub {
		return 0, false
	}
	mm, bit := &s.memo, uint8(1)<<sub
	if mm.h != m.h || mm.ack != dsn64(dataAck) || mm.ver != s.cver {
		mm.h, mm.ack, mm.ver, mm.known, mm.ok = m.h, dsn64(dataAck), s.cver, 0, 0
	} else if mm.known&bit != 0 {
		return uint32(mm.val[sub]), mm.ok&bit != 0
	}
	x, ok := s.clientAcked(t, sub, dsn64(dataAck))
	mm.known |= bit
	if ok {
		mm.ok |= bit
	}
	mm.val[sub] = x
	return uint32(x), ok
}

// clientAcked is ClientAcked without the memo.
func (s *Store) clientAcked(t tview, sub uint8, dataAck dsn64) (seq32, bool) {
	x, _, found := s.firstUnacked(&t.rings[sub], dataAck)
	if found {
		return x, true
	}
	r := &t.rings[sub]
	if r.len() > 0 {
		return s.sl.at(r, r.len()-1).ssnEnd(), true
	}
	if t.floorOK&(1<<sub) != 0 {
		return t.floor[sub], true
	}
	return 0, false
}

// ClientCarries reports whether a stored mapping of subflow sub maps a
// subflow byte at or after from to a data byte in [lo, hi): whether an
// acknowledgement of sub from from onwards may still depend on S holding
// those data bytes. Cost: the stored mappings of sub at or after from.
func (s *Store) ClientCarries(m ClientMap, sub uint8, from uint32, lo, hi uint64) bool {
	t := s.tree(m.h, kindClient)
	if sub >= MaxSubflows {
		return false
	}
	r := &t.rings[sub]
	f := seq32(from)
	i := s.sl.lastSSN(r, f)
	if i < 0 {
		i = 0
	}
	for ; i < r.len(); i++ {
		p := s.sl.at(r, i)
		if p.ssnEnd().le(f) {
			continue
		}
		d, n := p.dsn, p.len()
		if p.ssn.lt(f) {
			k := f.diff(p.ssn)
			d, n = d.add(k), n-k
		}
		if d.lt(dsn64(hi)) && dsn64(lo).lt(d.add(n)) {
			return true
		}
	}
	return false
}

// ClientTrim forgets subflow sub's bytes below cut = min(ssnAck, the first
// mapped byte whose DSN is not below dataAck): every forgotten byte is
// below both acknowledgements. cut becomes the subflow's floor (it never
// moves back); later inserts below it are clipped or Old.
func (s *Store) ClientTrim(m ClientMap, sub uint8, dataAck uint64, ssnAck uint32) {
	s.cver++ // invalidates ClientAcked's memo
	t := s.tree(m.h, kindClient)
	if uint32(sub) >= t.nsub {
		return
	}
	cut := seq32(ssnAck)
	if x, _, found := s.firstUnacked(&t.rings[sub], dsn64(dataAck)); found && x.lt(cut) {
		cut = x
	}
	bit := uint8(1) << sub
	if t.floorOK&bit != 0 && cut.le(t.floor[sub]) {
		return
	}
	t.floor[sub] = cut
	t.floorOK |= bit
	r := &t.rings[sub]
	k := 0
	for k < r.len() && s.sl.at(r, k).belowS(cut) {
		k++
	}
	r.popFront(k)
	if r.len() > 0 {
		if p := s.sl.at(r, 0); p.ssn.lt(cut) {
			c := cut.diff(p.ssn)
			*p = mkrec(p.dsn.add(c), cut, p.len()-c, sub)
		}
	}
	s.sl.shrink(r)
}

// ClientDrop forgets subflow sub entirely (it closed): its mappings and its
// floor, so the id can be reused by a new subflow.
func (s *Store) ClientDrop(m ClientMap, sub uint8) {
	s.cver++ // invalidates ClientAcked's memo
	t := s.tree(m.h, kindClient)
	if uint32(sub) >= t.nsub {
		return
	}
	s.sl.drop(&t.rings[sub])
	t.floorOK &^= 1 << sub
}

// ClientLen returns the number of stored mappings of m (merged runs count
// once).
func (s *Store) ClientLen(m ClientMap) int {
	t := s.tree(m.h, kindClient)
	n := 0
	for i := range t.nsub {
		n += t.rings[i].len()
	}
	return n
}
