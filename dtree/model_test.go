package dtree

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// The reference: a naive implementation of the documented semantics. The
// client side is byte by byte (a map from subflow byte to data byte); the
// proxy side keeps mappings in plain slices and scans them linearly.

type cModel struct {
	bytes   [MaxSubflows]map[seq32]dsn64
	floor   [MaxSubflows]seq32
	floorOK [MaxSubflows]bool
}

func newCModel() *cModel {
	m := &cModel{}
	for i := range m.bytes {
		m.bytes[i] = map[seq32]dsn64{}
	}
	return m
}

func (m *cModel) insert(sub uint8, ssn seq32, dsn dsn64, n uint32) Verdict {
	if sub >= MaxSubflows || n == 0 || n > MaxMappingLen {
		return Invalid
	}
	if m.floorOK[sub] {
		f := m.floor[sub]
		if ssn.add(n).le(f) {
			return Old
		}
		if ssn.lt(f) {
			k := f.diff(ssn)
			ssn, dsn, n = f, dsn.add(k), n-k
		}
	}
	b := m.bytes[sub]
	all := true
	for k := uint32(0); k < n; k++ {
		d, ok := b[ssn.add(k)]
		if !ok {
			all = false
		} else if d != dsn.add(k) {
			return Conflict
		}
	}
	if all {
		return Duplicate
	}
	for k := uint32(0); k < n; k++ {
		b[ssn.add(k)] = dsn.add(k)
	}
	return Inserted
}

func (m *cModel) lookup(sub uint8, ssn seq32, n uint32) (dsn64, uint32, bool) {
	if sub >= MaxSubflows {
		return 0, 0, false
	}
	b := m.bytes[sub]
	d, ok := b[ssn]
	if !ok {
		return 0, 0, false
	}
	k := uint32(0)
	for k < n {
		e, ok := b[ssn.add(k)]
		if !ok || e != d.add(k) {
			break
		}
		k++
	}
	return d, k, true
}

// sorted returns the subflow's mapped bytes in subflow order.
func (m *cModel) sorted(sub uint8) []seq32 {
	var xs []seq32
	for x := range m.bytes[sub] {
		xs = append(xs, x)
	}
	slices.SortFunc(xs, func(a, b seq32) int {
		switch {
		case a.lt(b):
			return -1
		case b.lt(a):
			return 1
		}
		return 0
	})
	return xs
}

func (m *cModel) firstUnacked(sub uint8, ack dsn64) (seq32, bool) {
	for _, x := range m.sorted(sub) {
		if !m.bytes[sub][x].lt(ack) {
			return x, true
		}
	}
	return 0, false
}

func (m *cModel) acked(sub uint8, ack dsn64) (seq32, bool) {
	if sub >= MaxSubflows {
		return 0, false
	}
	if x, ok := m.firstUnacked(sub, ack); ok {
		return x, true
	}
	if xs := m.sorted(sub); len(xs) > 0 {
		return xs[len(xs)-1].add(1), true
	}
	return m.floor[sub], m.floorOK[sub]
}

func (m *cModel) trim(sub uint8, ack dsn64, ssnAck seq32) {
	if sub >= MaxSubflows {
		return
	}
	cut := ssnAck
	if x, ok := m.firstUnacked(sub, ack); ok && x.lt(cut) {
		cut = x
	}
	if m.floorOK[sub] && cut.le(m.floor[sub]) {
		return
	}
	m.floor[sub], m.floorOK[sub] = cut, true
	for x := range m.bytes[sub] {
		if x.lt(cut) {
			delete(m.bytes[sub], x)
		}
	}
}

func (m *cModel) drop(sub uint8) {
	if sub >= MaxSubflows {
		return
	}
	m.bytes[sub] = map[seq32]dsn64{}
	m.floorOK[sub] = false
}

type pMap struct {
	dsn dsn64
	ssn seq32
	n   uint32
	sub uint8
}

func (p pMap) dend() dsn64 { return p.dsn.add(p.n) }
func (p pMap) send() seq32 { return p.ssn.add(p.n) }

type pModel struct {
	byDSN     []pMap // by dsn, equal starts in insertion order
	bySub     [MaxSubflows][]pMap
	floor     [MaxSubflows]seq32
	floorOK   [MaxSubflows]bool
	dataFloor dsn64
	dataOK    bool
}

func (m *pModel) dead(p pMap) bool { return m.dataOK && p.dend().le(m.dataFloor) }

func (m *pModel) insert(dsn dsn64, sub uint8, ssn seq32, n uint32) Verdict {
	if sub >= MaxSubflows || n == 0 || n > MaxMappingLen {
		return Invalid
	}
	x := pMap{dsn, ssn, n, sub}
	if m.floorOK[sub] && ssn.lt(m.floor[sub]) || m.dead(x) {
		return Old
	}
	for _, p := range m.bySub[sub] {
		if p.ssn.lt(x.send()) && x.ssn.lt(p.send()) {
			if p == x {
				return Duplicate
			}
			return Conflict
		}
	}
	i := 0
	for i < len(m.bySub[sub]) && m.bySub[sub][i].ssn.lt(ssn) {
		i++
	}
	m.bySub[sub] = slices.Insert(m.bySub[sub], i, x)
	i = 0
	for i < len(m.byDSN) && m.byDSN[i].dsn.le(dsn) {
		i++
	}
	m.byDSN = slices.Insert(m.byDSN, i, x)
	return Inserted
}

// serve returns the live mapping serving byte x: the covering one with the
// greatest (start, insertion order).
func (m *pModel) serve(x dsn64) (pMap, bool) {
	var best pMap
	found := false
	for _, p := range m.byDSN {
		if m.dead(p) || !p.dsn.le(x) || !x.lt(p.dend()) {
			continue
		}
		if !found || best.dsn.le(p.dsn) {
			best, found = p, true
		}
	}
	return best, found
}

func (m *pModel) pieces(dsn dsn64, n uint32, max int) []Piece {
	var out []Piece
	for k := uint32(0); k < n; k++ {
		x := dsn.add(k)
		p, ok := m.serve(x)
		pc := Piece{DSN: uint64(x), Len: 1, Sub: NoSubflow}
		if ok {
			off := uint32(x.diff(p.dsn))
			pc = Piece{DSN: uint64(x), MapDSN: uint64(p.dsn), Len: 1, SSN: uint32(p.ssn.add(off)),
				MapSSN: uint32(p.ssn), MapLen: p.n, Sub: p.sub}
		}
		if l := len(out); l > 0 && out[l-1].Sub == pc.Sub && out[l-1].MapDSN == pc.MapDSN &&
			out[l-1].MapSSN == pc.MapSSN && out[l-1].MapLen == pc.MapLen {
			out[l-1].Len++
			continue
		}
		if len(out) == max {
			break
		}
		out = append(out, pc)
	}
	return out
}

func (m *pModel) sack(sub uint8, ssn seq32, n uint32, max int) []Range {
	var out []Range
	if sub >= MaxSubflows || n == 0 {
		return nil
	}
	hi := ssn.add(n)
	for _, p := range m.bySub[sub] {
		if !(p.ssn.lt(hi) && ssn.lt(p.send())) || m.dead(p) {
			continue
		}
		a, b := p.ssn, p.send()
		if a.lt(ssn) {
			a = ssn
		}
		if hi.lt(b) {
			b = hi
		}
		r := Range{DSN: uint64(p.dsn.add(a.diff(p.ssn))), Len: b.diff(a)}
		if l := len(out); l > 0 && dsn64(out[l-1].DSN).add(out[l-1].Len) == dsn64(r.DSN) {
			out[l-1].Len += r.Len
			continue
		}
		if len(out) == max {
			break
		}
		out = append(out, r)
	}
	return out
}

func (m *pModel) trim(ack dsn64) {
	if m.dataOK && ack.le(m.dataFloor) {
		return
	}
	m.dataFloor, m.dataOK = ack, true
	for len(m.byDSN) > 0 && m.byDSN[0].dend().le(ack) {
		m.byDSN = m.byDSN[1:]
	}
	for i := range m.bySub {
		for len(m.bySub[i]) > 0 && m.bySub[i][0].dend().le(ack) {
			m.bySub[i] = m.bySub[i][1:]
		}
	}
}

func (m *pModel) trimSub(sub uint8, a seq32) {
	if sub >= MaxSubflows || m.floorOK[sub] && a.le(m.floor[sub]) {
		return
	}
	m.floor[sub], m.floorOK[sub] = a, true
	for len(m.bySub[sub]) > 0 && m.bySub[sub][0].send().le(a) {
		m.bySub[sub] = m.bySub[sub][1:]
	}
}

func (m *pModel) drop(sub uint8) {
	if sub >= MaxSubflows {
		return
	}
	m.bySub[sub] = nil
	m.floorOK[sub] = false
	m.byDSN = slices.DeleteFunc(m.byDSN, func(p pMap) bool { return p.sub == sub })
}

// bytesReader hands out fuzz input; past the end it returns zeros.
type bytesReader struct {
	b []byte
	i int
}

func (r *bytesReader) more() bool { return r.i < len(r.b) }

func (r *bytesReader) u8() uint8 {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *bytesReader) u16() uint16 { return uint16(r.u8()) | uint16(r.u8())<<8 }

var ssnBases = [...]uint32{0, 1<<32 - 700, 1<<31 - 300, 0x9e3779b9}
var dsnBases = [...]uint64{0, 1<<64 - 900, 1<<63 - 100, 0x9e3779b97f4a7c15}

// slot is one tree under test and its reference.
type slot struct {
	client bool
	cm     ClientMap
	pm     ProxyMap
	c      *cModel
	p      *pModel
	live   bool
}

// drive runs the operation sequence encoded in data against a Store and
// the reference, failing on the first difference or broken invariant.
func drive(t testing.TB, data []byte) {
	r := &bytesReader{b: data}
	cfg := r.u8()
	s, err := New(Config{Trees: 4, Records: 16 << (cfg % 8)})
	if err != nil {
		t.Fatal(err)
	}
	sb := seq32(ssnBases[cfg>>3&3])
	db := dsn64(dsnBases[cfg>>5&3])
	var slots [3]slot
	ssnArg := func() seq32 { return sb.add(uint32(r.u16() % 2048)) }
	dsnArg := func() dsn64 { return db.add(uint32(r.u16() % 2048)) }
	lenArg := func() uint32 { return uint32(r.u8()%200) + 1 }
	subArg := func() uint8 {
		v := r.u8()
		if v == 0xff {
			return MaxSubflows // an invalid id now and then
		}
		return v % 3
	}
	outs := make([]Piece, 8)
	ranges := make([]Range, 8)
	for step := 0; r.more(); step++ {
		op := r.u8()
		sl := &slots[op%3]
		op /= 3
		if !sl.live {
			sl.client = op&1 == 0
			if sl.client {
				m, ok := s.NewClient()
				if !ok {
					t.Fatalf("step %d: NewClient failed with %d trees", step, s.Trees())
				}
				sl.cm, sl.c = m, newCModel()
			} else {
				m, ok := s.NewProxy()
				if !ok {
					t.Fatalf("step %d: NewProxy failed", step)
				}
				sl.pm, sl.p = m, &pModel{}
			}
			sl.live = true
			continue
		}
		if sl.client {
			m, c := sl.cm, sl.c
			switch op % 8 {
			case 0, 1, 2: // insert, mostly with one of two DSN offsets per subflow
				sub, ssn, n := subArg(), ssnArg(), lenArg()
				delta := uint64(sub)*10000 + uint64(r.u8()%2)*500
				dsn := db.add(uint32(uint64(ssn.diff(sb)) + delta))
				got := s.ClientInsert(m, sub, uint32(ssn), uint64(dsn), n)
				if got == Full {
					break
				}
				if want := c.insert(sub, ssn, dsn, n); got != want {
					t.Fatalf("step %d: ClientInsert(%d, %#x, %#x, %d) = %v, want %v", step, sub, ssn, dsn, n, got, want)
				}
			case 3, 4:
				sub, ssn, n := subArg(), ssnArg(), lenArg()
				d, k, ok := s.ClientLookup(m, sub, uint32(ssn), n)
				wd, wk, wok := c.lookup(sub, ssn, n)
				if ok != wok || ok && (dsn64(d) != wd || k != wk) {
					t.Fatalf("step %d: ClientLookup(%d, %#x, %d) = %#x %d %v, want %#x %d %v", step, sub, ssn, n, d, k, ok, wd, wk, wok)
				}
			case 5:
				sub := subArg()
				ack := dsnArg().add(uint32(sub) * 10000)
				x, ok := s.ClientAcked(m, sub, uint64(ack))
				wx, wok := c.acked(sub, ack)
				if ok != wok || ok && seq32(x) != wx {
					t.Fatalf("step %d: ClientAcked(%d, %#x) = %#x %v, want %#x %v", step, sub, ack, x, ok, wx, wok)
				}
			case 6:
				sub := subArg()
				ack, sa := dsnArg().add(uint32(sub)*10000), ssnArg()
				s.ClientTrim(m, sub, uint64(ack), uint32(sa))
				c.trim(sub, ack, sa)
			case 7:
				if r.u8()%4 == 0 {
					s.ReleaseClient(m)
					sl.live = false
				} else {
					sub := subArg()
					s.ClientDrop(m, sub)
					c.drop(sub)
				}
			}
			if sl.live {
				checkClient(t, s, m, c)
			}
		} else {
			m, p := sl.pm, sl.p
			switch op % 9 {
			case 0, 1, 2:
				sub, ssn, dsn, n := subArg(), ssnArg(), dsnArg(), lenArg()
				got := s.ProxyInsert(m, uint64(dsn), sub, uint32(ssn), n)
				if got == Full {
					break
				}
				if want := p.insert(dsn, sub, ssn, n); got != want {
					t.Fatalf("step %d: ProxyInsert(%#x, %d, %#x, %d) = %v, want %v", step, dsn, sub, ssn, n, got, want)
				}
			case 3:
				dsn, n, k := dsnArg(), uint32(r.u16()%400), int(r.u8()%8)+1
				got := outs[:s.ProxyPieces(m, uint64(dsn), n, outs[:k])]
				if want := p.pieces(dsn, n, k); !slices.Equal(got, want) {
					t.Fatalf("step %d: ProxyPieces(%#x, %d, %d) = %+v, want %+v", step, dsn, n, k, got, want)
				}
			case 4:
				dsn := dsnArg()
				sub, ok := s.ProxyOwner(m, uint64(dsn))
				w, wok := p.serve(dsn)
				if ok != wok || ok && sub != w.sub {
					t.Fatalf("step %d: ProxyOwner(%#x) = %d %v, want %d %v", step, dsn, sub, ok, w.sub, wok)
				}
			case 5:
				sub, ssn, n, k := subArg(), ssnArg(), uint32(r.u16()%600), int(r.u8()%4)+1
				got := ranges[:s.ProxySACK(m, sub, uint32(ssn), n, ranges[:k])]
				if want := p.sack(sub, ssn, n, k); !slices.Equal(got, want) {
					t.Fatalf("step %d: ProxySACK(%d, %#x, %d, %d) = %+v, want %+v", step, sub, ssn, n, k, got, want)
				}
			case 6:
				a := dsnArg()
				s.ProxyTrim(m, uint64(a))
				p.trim(a)
			case 7:
				sub, a := subArg(), ssnArg()
				s.ProxyTrimSubflow(m, sub, uint32(a))
				p.trimSub(sub, a)
			case 8:
				if r.u8()%4 == 0 {
					s.ReleaseProxy(m)
					sl.live = false
				} else {
					sub := subArg()
					s.ProxyDrop(m, sub)
					p.drop(sub)
				}
			}
			if sl.live {
				checkProxy(t, s, m, p)
			}
		}
		checkSlab(t, s)
	}
	for i := range slots {
		if slots[i].live {
			if slots[i].client {
				s.ReleaseClient(slots[i].cm)
			} else {
				s.ReleaseProxy(slots[i].pm)
			}
		}
	}
	if s.Used() != 0 || s.Trees() != 0 {
		t.Fatalf("after releasing every tree: Used() = %d, Trees() = %d", s.Used(), s.Trees())
	}
	checkSlab(t, s)
}

// checkClient checks a ClientMap's structure: every subflow ring sorted,
// disjoint and maximal (no two records that one consistent run would
// merge), and the same mapped bytes as the reference.
func checkClient(t testing.TB, s *Store, m ClientMap, c *cModel) {
	tr := s.tree(m.h, kindClient)
	total := 0
	for sub := uint8(0); uint32(sub) < tr.nsub; sub++ {
		r := &tr.rings[sub]
		bytes := 0
		for i := 0; i < r.len(); i++ {
			p := s.sl.at(r, i)
			if p.sub() != sub || p.len() == 0 {
				t.Fatalf("client ring %d record %d: %+v", sub, i, *p)
			}
			bytes += int(p.len())
			if i > 0 {
				q := s.sl.at(r, i-1)
				if !q.ssnEnd().le(p.ssn) {
					t.Fatalf("client ring %d: records %d and %d overlap or are unsorted", sub, i-1, i)
				}
				if q.ssnEnd() == p.ssn && q.dsnEnd() == p.dsn && p.ssnEnd().diff(q.ssn) <= mergeMax {
					t.Fatalf("client ring %d: records %d and %d should have merged", sub, i-1, i)
				}
			}
		}
		if bytes != len(c.bytes[sub]) {
			t.Fatalf("client ring %d holds %d bytes, reference %d", sub, bytes, len(c.bytes[sub]))
		}
		total += r.len()
	}
	if s.ClientLen(m) != total {
		t.Fatalf("ClientLen = %d, rings hold %d", s.ClientLen(m), total)
	}
}

// checkProxy checks a ProxyMap's structure against the reference: the DSN
// index and every subflow index hold the same mappings in the same order.
func checkProxy(t testing.TB, s *Store, m ProxyMap, p *pModel) {
	tr := s.tree(m.h, kindProxy)
	ringIs := func(r *ring, want []pMap, name string) {
		if r.len() != len(want) {
			t.Fatalf("%s: %d records, reference %d", name, r.len(), len(want))
		}
		for i, w := range want {
			if got := *s.sl.at(r, i); got != mkrec(w.dsn, w.ssn, w.n, w.sub) {
				t.Fatalf("%s record %d: %+v, reference %+v", name, i, got, w)
			}
		}
	}
	ringIs(&tr.dring, p.byDSN, "DSN index")
	for sub := range p.bySub {
		ringIs(&tr.rings[sub], p.bySub[sub], "subflow index")
	}
	if s.ProxyLen(m) != len(p.byDSN) {
		t.Fatalf("ProxyLen = %d, reference %d", s.ProxyLen(m), len(p.byDSN))
	}
}

// checkSlab checks the allocator: free blocks plus live rings account for
// every record, and no block is both free and in a ring.
func checkSlab(t testing.TB, s *Store) {
	owner := make([]int8, len(s.sl.recs))
	freeRecs := 0
	for k := minOrder; k <= int(s.sl.top); k++ {
		for off := s.sl.free[k]; off != nilIdx; off = uint32(s.sl.recs[off].ssn) {
			for i := off; i < off+1<<k; i++ {
				if owner[i] != 0 {
					t.Fatalf("record %d is in two free blocks", i)
				}
				owner[i] = 1
			}
			freeRecs += 1 << k
		}
	}
	ringRecs := 0
	for ti := 1; ti < len(s.trees); ti++ {
		tr := &s.trees[ti]
		all := []*ring{&tr.dring} // the DSN index, then the subflows'
		for i := uint32(0); i < s.nsub; i++ {
			all = append(all, &s.rings[uint32(ti)*s.nsub+i])
		}
		for ri, r := range all {
			if r.lg() == 0 {
				if r.n != 0 {
					t.Fatalf("tree %d ring %d: %d records without a block", ti, ri, r.n)
				}
				continue
			}
			if tr.kind == kindFree {
				t.Fatalf("free tree %d holds a block", ti)
			}
			for i := r.off(); i < r.off()+1<<r.lg(); i++ {
				if owner[i] != 0 {
					t.Fatalf("tree %d ring %d: record %d is free or shared", ti, ri, i)
				}
				owner[i] = 2
			}
			ringRecs += 1 << r.lg()
		}
	}
	if ringRecs != s.Used() || freeRecs+ringRecs != s.Capacity() {
		t.Fatalf("slab: %d in rings, Used() %d, %d free, capacity %d", ringRecs, s.Used(), freeRecs, s.Capacity())
	}
}

// TestModel runs random operation sequences against the reference.
func TestModel(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		data := make([]byte, 4000)
		for i := 0; i+8 <= len(data); i += 8 {
			binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
		}
		drive(t, data)
	}
}

// FuzzStore drives random operation sequences against the reference.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{0x2b, 0, 0, 1, 0, 10, 100, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	for seed := range 8 {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		data := make([]byte, 256)
		for i := range data {
			data[i] = uint8(rng.Uint32())
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<14 {
			data = data[:1<<14]
		}
		drive(t, data)
	})
}
