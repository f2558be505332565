package dtree

// Piece is one part of a retransmitted data range: either bytes that a
// stored mapping covers, to be resent on subflow Sub at SSN with the DSS
// mapping (MapDSN, MapSSN, MapLen) exactly as first sent, or a gap no live
// mapping covers (Sub == NoSubflow), to be sent as a new mapping.
type Piece struct {
	DSN    uint64 // first data byte of the piece
	MapDSN uint64 // the wire mapping's first data byte
	Len    uint32 // bytes in the piece
	SSN    uint32 // subflow sequence number of the piece's first byte
	MapSSN uint32 // the wire mapping's first subflow byte
	MapLen uint32 // the wire mapping's length
	Sub    uint8  // subflow id, or NoSubflow for a gap
}

// Range is a data-level byte range [DSN, DSN+Len).
type Range struct {
	DSN uint64
	Len uint32
}

// dead reports whether p lies wholly below the trimmed DATA_ACK: such a
// record only waits to be freed and is invisible to every query.
func (t *tree) dead(p *rec) bool { return t.dataOK && p.below(t.dataFloor) }

// ProxyInsert records that the proxy sent data bytes [dsn, dsn+n) on
// subflow sub at subflow bytes [ssn, ssn+n), with exactly this DSS mapping
// on the wire. Mappings are never merged or extended: the client rejects
// a retransmission whose mapping differs from the one it holds (RFC 8684
// 3.3.1; Linux MAPPING_INVALID), so the boundaries stay as sent. Inserting
// the identical mapping again is Duplicate; a different one over stored
// subflow bytes is Conflict; data bytes may be mapped more than once
// (reinjection on another subflow). Any subflow byte below the subflow's
// trim floor, or all data bytes below the trimmed DATA_ACK, is Old.
// Amortised O(1) when dsn and ssn are the highest so far.
func (s *Store) ProxyInsert(m ProxyMap, dsn uint64, sub uint8, ssn uint32, n uint32) Verdict {
	t := s.tree(m.h, kindProxy)
	if uint32(sub) >= t.nsub || n == 0 || n > MaxMappingLen {
		return Invalid
	}
	x := mkrec(dsn64(dsn), seq32(ssn), n, sub)
	if t.floorOK&(1<<sub) != 0 && x.ssn.lt(t.floor[sub]) || t.dead(&x) {
		return Old
	}
	r, dr := &t.rings[sub], &t.dring
	// Fast path: new data goes after everything on its subflow and in
	// the DSN index, into rings with room: two appends, which is what
	// the general path below ends in, without its searches and calls.
	if k, kd := r.len(), dr.len(); k > 0 && kd > 0 && k < r.cap() && kd < dr.cap() &&
		s.sl.at(r, k-1).ssnEnd().le(x.ssn) && s.sl.at(dr, kd-1).dsn.le(x.dsn) {
		r.n++
		*s.sl.at(r, k) = x
		dr.n++
		*s.sl.at(dr, kd) = x
		if n > t.maxLen {
			t.maxLen = n
		}
		return Inserted
	}
	i := s.sl.lastSSN(r, x.ssn)
	if i >= 0 {
		if p := s.sl.at(r, i); x.ssn.lt(p.ssnEnd()) {
			if p.same(&x) {
				return Duplicate
			}
			return Conflict
		}
	}
	if i+1 < r.len() && s.sl.at(r, i+1).ssn.lt(x.ssnEnd()) {
		return Conflict
	}
	if !s.sl.room(r) || !s.sl.room(dr) {
		return Full
	}
	s.sl.insertAt(r, i+1, x)
	s.sl.insertAt(dr, s.sl.lastDSN(dr, x.dsn)+1, x)
	if n > t.maxLen {
		t.maxLen = n
	}
	return Inserted
}

// serving returns the index of the live record that serves data byte x,
// given i, the index of the last record starting at or before x: of the
// records covering x, the one starting last (among equal starts, the one
// inserted last). -1 if none covers x.
func (s *Store) serving(t *tree, i int, x dsn64) int {
	r := &t.dring
	for ; i >= 0; i-- {
		p := s.sl.at(r, i)
		if x.diff(p.dsn) >= uint64(t.maxLen) {
			return -1 // every earlier record starts even earlier and ends before x
		}
		if x.lt(p.dsnEnd()) && !t.dead(p) {
			return i
		}
	}
	return -1
}

// ProxyPieces writes into out, in data order, the pieces of data range
// [dsn, dsn+n) for a retransmission: each byte goes to the live mapping
// that covers it and starts last, so a range first sent over several
// subflows comes back as several pieces, and bytes no mapping covers come
// back as gap pieces. It returns the number of pieces written; if out
// fills up first, the pieces cover only a prefix of the range and the
// caller asks again from its end. O(log n) plus the pieces written.
func (s *Store) ProxyPieces(m ProxyMap, dsn uint64, n uint32, out []Piece) int {
	t := s.tree(m.h, kindProxy)
	r := &t.dring
	x, end := dsn64(dsn), dsn64(dsn).add(n)
	i := s.sl.lastDSN(r, x)
	k := 0
	for k < len(out) && x.lt(end) {
		stop := end
		for j := i + 1; j < r.len(); j++ {
			if p := s.sl.at(r, j); !t.dead(p) {
				if p.dsn.lt(stop) {
					stop = p.dsn
				}
				break
			}
		}
		pc := &out[k]
		if c := s.serving(t.tree, i, x); c >= 0 {
			p := s.sl.at(r, c)
			if e := p.dsnEnd(); e.lt(stop) {
				stop = e
			}
			off := uint32(x.diff(p.dsn))
			*pc = Piece{DSN: uint64(x), MapDSN: uint64(p.dsn), Len: uint32(stop.diff(x)),
				SSN: uint32(p.ssn.add(off)), MapSSN: uint32(p.ssn), MapLen: p.len(), Sub: p.sub()}
		} else {
			*pc = Piece{DSN: uint64(x), Len: uint32(stop.diff(x)), Sub: NoSubflow}
		}
		k++
		x = stop
		for i+1 < r.len() && s.sl.at(r, i+1).dsn.le(x) {
			i++
		}
	}
	return k
}

// ProxyOwner returns the subflow whose live mapping serves data byte dsn
// (the one ProxyPieces would pick): the subflow that must carry pure ACKs
// and dup-ACKs while dsn is the first unacknowledged byte.
func (s *Store) ProxyOwner(m ProxyMap, dsn uint64) (sub uint8, ok bool) {
	t := s.tree(m.h, kindProxy)
	x := dsn64(dsn)
	c := s.serving(t.tree, s.sl.lastDSN(&t.dring, x), x)
	if c < 0 {
		return NoSubflow, false
	}
	return s.sl.at(&t.dring, c).sub(), true
}

// ProxySACK translates a client SACK block, subflow bytes [ssn, ssn+n) of
// subflow sub, into the data ranges its mapped bytes carry: written into
// out in subflow order, data-contiguous neighbours merged. It returns the
// number written (at most len(out)). Unmapped and trimmed bytes are left
// out.
func (s *Store) ProxySACK(m ProxyMap, sub uint8, ssn uint32, n uint32, out []Range) int {
	t := s.tree(m.h, kindProxy)
	if uint32(sub) >= t.nsub || n == 0 {
		return 0
	}
	r := &t.rings[sub]
	lo := seq32(ssn)
	hi := lo.add(n)
	i := s.sl.lastSSN(r, lo)
	if i < 0 || s.sl.at(r, i).ssnEnd().le(lo) {
		i++
	}
	k := 0
	for ; i < r.len(); i++ {
		p := s.sl.at(r, i)
		if !p.ssn.lt(hi) {
			break
		}
		if t.dead(p) {
			continue
		}
		a, b := p.ssn, p.ssnEnd()
		if a.lt(lo) {
			a = lo
		}
		if hi.lt(b) {
			b = hi
		}
		d, l := p.dsnAt(a), b.diff(a)
		if k > 0 && dsn64(out[k-1].DSN).add(out[k-1].Len) == d && out[k-1].Len+l >= l {
			out[k-1].Len += l
			continue
		}
		if k == len(out) {
			break
		}
		out[k] = Range{DSN: uint64(d), Len: l}
		k++
	}
	return k
}

// ProxyTrim forgets the mappings wholly below dataAck, the client's
// cumulative DATA_ACK; it never moves back. A mapping that a subflow sent
// after a still-live one waits in that subflow's index until the earlier
// one goes, invisible to every query meanwhile; the DSN index frees in
// the same way, so ProxyLen may count such mappings.
func (s *Store) ProxyTrim(m ProxyMap, dataAck uint64) {
	t := s.tree(m.h, kindProxy)
	a := dsn64(dataAck)
	if t.dataOK && a.le(t.dataFloor) {
		return
	}
	t.dataFloor, t.dataOK = a, true
	for i := -1; i < int(t.nsub); i++ {
		r := &t.dring // i == -1: the DSN index, then each subflow's
		if i >= 0 {
			r = &t.rings[i]
		}
		if r.len() == 0 {
			continue
		}
		k := 0
		for k < r.len() && s.sl.at(r, k).below(a) {
			k++
		}
		r.popFront(k)
		s.sl.shrink(r)
	}
}

// ProxyTrimSubflow forgets, for SACK translation, subflow sub's mappings
// wholly below ssnAck, the client's subflow-level ack; ssnAck becomes the
// subflow's floor (later inserts below it are Old). The mappings stay
// available to ProxyPieces and ProxyOwner until ProxyTrim passes them, so
// a server retransmission of bytes the client holds only at subflow level
// still goes out with its original mapping.
func (s *Store) ProxyTrimSubflow(m ProxyMap, sub uint8, ssnAck uint32) {
	t := s.tree(m.h, kindProxy)
	if uint32(sub) >= t.nsub {
		return
	}
	a, bit := seq32(ssnAck), uint8(1)<<sub
	if t.floorOK&bit != 0 && a.le(t.floor[sub]) {
		return
	}
	t.floor[sub] = a
	t.floorOK |= bit
	r := &t.rings[sub]
	k := 0
	for k < r.len() && s.sl.at(r, k).belowS(a) {
		k++
	}
	r.popFront(k)
	s.sl.shrink(r)
}

// ProxyDrop forgets every mapping of subflow sub (it died or closed), so
// their data bytes come back from ProxyPieces as gaps to reinject, and
// forgets its floor so the id can be reused. O(n) in the stored mappings.
func (s *Store) ProxyDrop(m ProxyMap, sub uint8) {
	t := s.tree(m.h, kindProxy)
	if uint32(sub) >= t.nsub {
		return
	}
	s.sl.drop(&t.rings[sub])
	t.floorOK &^= 1 << sub
	r := &t.dring
	w := 0
	for i := 0; i < r.len(); i++ {
		if p := s.sl.at(r, i); p.sub() != sub {
			*s.sl.at(r, w) = *p
			w++
		}
	}
	r.n = uint16(w)
	s.sl.shrink(r)
}

// ProxyLen returns the number of mappings in m's DSN index, including
// trimmed ones still waiting to be freed.
func (s *Store) ProxyLen(m ProxyMap) int {
	return s.tree(m.h, kindProxy).dring.len()
}
