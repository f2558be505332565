package dtree

import (
	"runtime"
	"testing"
	"unsafe"
)

// The alternative measured against the slab rings: each connection's DSN
// index as a Go slice of records kept sorted by copy-insert, trimmed by
// reslicing, reached through a pointer per connection (what a
// straightforward Go implementation would do).

type sliceIndex struct {
	recs []rec
}

func (x *sliceIndex) lastDSN(d dsn64) int {
	lo, hi := 0, len(x.recs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x.recs[m].dsn.le(d) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

func (x *sliceIndex) insert(r rec) {
	i := x.lastDSN(r.dsn) + 1
	if i == len(x.recs) {
		x.recs = append(x.recs, r)
		return
	}
	x.recs = append(x.recs, rec{})
	copy(x.recs[i+1:], x.recs[i:])
	x.recs[i] = r
}

func (x *sliceIndex) trim(ack dsn64) {
	k := 0
	for k < len(x.recs) && x.recs[k].below(ack) {
		k++
	}
	x.recs = x.recs[k:]
}

func (x *sliceIndex) lookup(d dsn64) (rec, bool) {
	i := x.lastDSN(d)
	if i < 0 || !d.lt(x.recs[i].dsnEnd()) {
		return rec{}, false
	}
	return x.recs[i], true
}

func fillSlice(n int) *sliceIndex {
	x := &sliceIndex{}
	for i := 0; i < n; i++ {
		x.insert(mkrec(dsn64(i*mss), seq32(i/2*mss), mss, uint8(i%2)))
	}
	return x
}

// BenchmarkAltSliceAppend is BenchmarkProxyAppend's DSN-index work on the
// sorted slice.
func BenchmarkAltSliceAppend(b *testing.B) {
	x := fillSlice(window)
	b.ReportAllocs()
	b.ResetTimer()
	for i := window; i < window+b.N; i++ {
		x.insert(mkrec(dsn64(i*mss), seq32(i/2*mss), mss, uint8(i%2)))
		x.trim(dsn64((i - window + 1) * mss))
	}
	perOp(b, "segment")
}

// BenchmarkAltRingAppend is the same work on one slab ring (the DSN index
// of a ProxyMap alone), for a like-for-like comparison.
func BenchmarkAltRingAppend(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m, _ := s.NewProxy()
	t := s.tree(m.h, kindProxy)
	r := &t.dring
	for i := 0; i < window; i++ {
		s.sl.room(r)
		s.sl.insertAt(r, r.len(), mkrec(dsn64(i*mss), seq32(i/2*mss), mss, uint8(i%2)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := window; i < window+b.N; i++ {
		x := mkrec(dsn64(i*mss), seq32(i/2*mss), mss, uint8(i%2))
		s.sl.room(r)
		s.sl.insertAt(r, s.sl.lastDSN(r, x.dsn)+1, x)
		ack := dsn64((i - window + 1) * mss)
		k := 0
		for k < r.len() && s.sl.at(r, k).below(ack) {
			k++
		}
		r.popFront(k)
	}
	perOp(b, "segment")
}

// BenchmarkAltSliceLookup is a random covering lookup in the slice.
func BenchmarkAltSliceLookup(b *testing.B) {
	x := fillSlice(window)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := x.lookup(dsn64((i * 7919 % (window - 1)) * mss)); !ok {
			b.Fatal("miss")
		}
	}
	perOp(b, "lookup")
}

// BenchmarkAltRingLookup is the same lookup on a slab ring.
func BenchmarkAltRingLookup(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m := fillProxy(b, s, window)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := s.ProxyOwner(m, uint64((i*7919%(window-1))*mss)); !ok {
			b.Fatal("miss")
		}
	}
	perOp(b, "lookup")
}

// BenchmarkAltSliceMiddle is a reinjection into the middle of the window:
// a copy-insert, then removal of the same record.
func BenchmarkAltSliceMiddle(b *testing.B) {
	x := fillSlice(window)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := mkrec(dsn64(window/2*mss), 0, mss, 2)
		j := x.lastDSN(r.dsn) + 1
		x.insert(r)
		x.recs = append(x.recs[:j], x.recs[j+1:]...)
	}
	perOp(b, "reinjection")
}

// BenchmarkAltRingMiddle is the same on a slab ring.
func BenchmarkAltRingMiddle(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m := fillProxy(b, s, window)
	t := s.tree(m.h, kindProxy)
	r := &t.dring
	s.sl.room(r)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := mkrec(dsn64(window/2*mss), 0, mss, 2)
		j := s.sl.lastDSN(r, x.dsn) + 1
		s.sl.insertAt(r, j, x)
		s.sl.removeRange(r, j, j+1)
	}
	perOp(b, "reinjection")
}

// BenchmarkAltSliceMillion is BenchmarkMillionConns with the slice
// alternative: two indexes (DSN and one per subflow would be more; two
// is generous) of three records per connection, plus a client slice.
func BenchmarkAltSliceMillion(b *testing.B) {
	const conns = 1 << 20
	type conn struct{ client, dsn, sub *sliceIndex }
	for i := 0; i < b.N; i++ {
		cs := make([]*conn, conns)
		for c := range cs {
			cn := &conn{&sliceIndex{}, &sliceIndex{}, &sliceIndex{}}
			for k := 0; k < 3; k++ {
				r := mkrec(dsn64(k*mss), seq32(k*mss), mss, 0)
				cn.client.insert(r)
				cn.dsn.insert(r)
				cn.sub.insert(r)
			}
			cs[c] = cn
		}
		bytes := uintptr(conns) * (unsafe.Sizeof(cs[0]) + unsafe.Sizeof(conn{}) + 3*unsafe.Sizeof(sliceIndex{}) + 3*4*unsafe.Sizeof(rec{}))
		reportGC(b, conns, bytes)
		runtime.KeepAlive(cs)
	}
}
