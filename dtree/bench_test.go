package dtree

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
	"unsafe"
)

const (
	mss    = 1448 // one proxy mapping per server segment
	window = 4096 // mappings in flight: about 6 MB at one per MSS
)

func perOp(b *testing.B, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/"+unit)
}

// fillProxy sends window mappings round-robin over two subflows.
func fillProxy(b *testing.B, s *Store, n int) ProxyMap {
	m, _ := s.NewProxy()
	for i := 0; i < n; i++ {
		sub := uint8(i % 2)
		if v := s.ProxyInsert(m, uint64(i*mss), sub, uint32(i/2*mss), mss); v != Inserted {
			b.Fatalf("fill: %v", v)
		}
	}
	return m
}

// BenchmarkProxyAppend: the send path in steady state, one append and one
// DATA_ACK trim per server segment, window mappings in flight.
func BenchmarkProxyAppend(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m := fillProxy(b, s, window)
	b.ReportAllocs()
	b.ResetTimer()
	for i := window; i < window+b.N; i++ {
		s.ProxyInsert(m, uint64(i*mss), uint8(i%2), uint32(i/2*mss), mss)
		s.ProxyTrim(m, uint64((i-window+1)*mss))
	}
	perOp(b, "segment")
}

// BenchmarkProxyPieces: a retransmission of two segments' worth at a
// random point of the window, spanning mappings on both subflows.
func BenchmarkProxyPieces(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m := fillProxy(b, s, window)
	out := make([]Piece, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	at := make([]uint64, 1024)
	for i := range at {
		at[i] = uint64(rng.IntN(window-2)*mss + mss/2)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.ProxyPieces(m, at[i&1023], 2*mss, out) != 3 {
			b.Fatal("want 3 pieces")
		}
	}
	perOp(b, "lookup")
}

// BenchmarkProxySACK: one SACK block of three segments at a random point.
func BenchmarkProxySACK(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m := fillProxy(b, s, window)
	out := make([]Range, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	at := make([]uint32, 1024)
	for i := range at {
		at[i] = uint32(rng.IntN(window/2-4) * mss)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.ProxySACK(m, 1, at[i&1023], 3*mss, out)
	}
	perOp(b, "block")
}

// BenchmarkProxyReinject: a reinjection of old data on a third subflow,
// which lands in the middle of the DSN index, then a subflow-level trim;
// every 64 the third subflow is dropped (not timed).
func BenchmarkProxyReinject(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m := fillProxy(b, s, window)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := uint64((window/2 + i%64) * mss)
		if v := s.ProxyInsert(m, d, 2, uint32(i*mss), mss); v != Inserted {
			b.Fatal(v)
		}
		s.ProxyTrimSubflow(m, 2, uint32((i+1)*mss))
		if i%64 == 63 {
			b.StopTimer()
			s.ProxyDrop(m, 2)
			b.StartTimer()
		}
	}
	perOp(b, "reinjection")
}

// BenchmarkClientPath: the client-to-server path, one 64 KB mapping per 45
// segments, one lookup per segment, acked and trimmed per segment.
func BenchmarkClientPath(b *testing.B) {
	s := newStore(b, 1, 1<<12)
	m, _ := s.NewClient()
	const mapLen = 45 * mss
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ssn, dsn := uint32(i)*mss, uint64(i)*mss+7 // the SSN wraps every 2.97M segments
		if i%45 == 0 {
			if v := s.ClientInsert(m, 0, ssn, dsn, mapLen); v != Inserted {
				b.Fatalf("segment %d: %v", i, v)
			}
		}
		if _, n, ok := s.ClientLookup(m, 0, ssn, mss); !ok || n != mss {
			b.Fatalf("segment %d: lookup failed", i)
		}
		ack := dsn - 10*mss
		x, _ := s.ClientAcked(m, 0, ack)
		s.ClientTrim(m, 0, ack, x)
	}
	perOp(b, "segment")
}

// BenchmarkClientLookup: random lookups among window mappings that do not
// merge (each continues at another DSN).
func BenchmarkClientLookup(b *testing.B) {
	s := newStore(b, 1, 1<<16)
	m, _ := s.NewClient()
	for i := 0; i < window; i++ {
		s.ClientInsert(m, 0, uint32(i*mss), uint64(2*i*mss), mss)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	at := make([]uint32, 1024)
	for i := range at {
		at[i] = uint32(rng.IntN(window*mss - mss))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := s.ClientLookup(m, 0, at[i&1023], 100); !ok {
			b.Fatal("miss")
		}
	}
	perOp(b, "lookup")
}

// gcCost forces a collection and returns its stop-the-world pauses (from
// the runtime/metrics histogram, each pause counted at its bucket's upper
// bound), its wall time, and the live heap it found.
func gcCost() (pause, wall time.Duration, heap uint64) {
	samples := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/gc/heap/live:bytes"}}
	total := func() float64 {
		metrics.Read(samples)
		h := samples[0].Value.Float64Histogram()
		sum := 0.0
		for i, c := range h.Counts {
			if hi := h.Buckets[i+1]; !math.IsInf(hi, 1) {
				sum += float64(c) * hi
			} else {
				sum += float64(c) * h.Buckets[i]
			}
		}
		return sum
	}
	before := total()
	start := time.Now()
	runtime.GC()
	wall = time.Since(start)
	after := total()
	return time.Duration((after - before) * 1e9), wall, samples[1].Value.Uint64()
}

// reportGC runs gcCost and reports it per the benchmark's connections.
func reportGC(b *testing.B, conns int, bytes uintptr) {
	pause, wall, heap := gcCost()
	b.ReportMetric(float64(bytes)/float64(conns), "B/conn")
	b.ReportMetric(float64(heap)/float64(conns), "heap-B/conn")
	b.ReportMetric(float64(pause.Microseconds()), "gc-pause-us")
	b.ReportMetric(float64(wall.Microseconds())/1000, "gc-ms")
}

// BenchmarkMillionConns: a million connections, each with a ClientMap and
// a ProxyMap holding a few mappings; reports bytes per connection and the
// pause of a forced GC with all of them live.
func BenchmarkMillionConns(b *testing.B) {
	const conns = 1 << 20
	for i := 0; i < b.N; i++ {
		// Per connection: a 4-record ring for the client's subflow, and
		// for the proxy one per subflow plus the DSN index.
		s := newStore(b, 2*conns, 16*conns)
		cs := make([]ClientMap, conns)
		ps := make([]ProxyMap, conns)
		for c := range conns {
			cs[c], _ = s.NewClient()
			ps[c], _ = s.NewProxy()
			for k := uint32(0); k < 3; k++ {
				v1 := s.ClientInsert(cs[c], 0, k*mss, uint64(2*k*mss), mss)
				v2 := s.ProxyInsert(ps[c], uint64(k*mss), uint8(k%2), k/2*mss, mss)
				if v1 != Inserted || v2 != Inserted {
					b.Fatalf("connection %d: %v, %v", c, v1, v2)
				}
			}
		}
		bytes := uintptr(len(s.sl.recs))*unsafe.Sizeof(rec{}) + uintptr(len(s.sl.tag)) +
			uintptr(len(s.trees))*unsafe.Sizeof(tree{}) + uintptr(conns)*unsafe.Sizeof(cs[0])*2
		reportGC(b, conns, bytes)
		runtime.KeepAlive(s)
		runtime.KeepAlive(cs)
		runtime.KeepAlive(ps)
	}
}
