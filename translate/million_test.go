package translate

import (
	"encoding/binary"
	"math"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
	"unsafe"

	"github.com/flexcp/flexcp/translate/header"
)

// establishConns drives n MP_CAPABLE handshakes (SYN, SYN/ACK, third
// ACK) through e, each from its own client address and port (198.18.0.0/15),
// and fails b unless every one is established. Keys come from the
// engine's KeySource, refilled by Tick every 128 connections as the
// dataplane would.
func establishConns(b *testing.B, e *Engine, n int) {
	syn := simBuild(simC0, simS, 1, 5201, 1000, 0, header.TCPFlagSyn, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil)
	synAck := simBuild(simS, simC0, 5201, 1, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7}, nil)
	third := simBuild(simC0, simS, 1, 5201, 1001, 5001, header.TCPFlagAck, 1024, make([]byte, 20), nil)
	buf := make([]byte, 2048)
	var p Packet
	var o tcpOpts
	for i := 0; i < n; i++ {
		// Client 198.18.0.0 + i/16, port 10000 + i%16.
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], 198<<24|18<<16+uint32(i>>4))
		port := uint16(10000 + i&15)
		setFlow(syn, a, port, true)
		setPacket(&p, buf, syn, Access, 0)
		if v := e.Process(0, &p); v != Forward {
			b.Fatalf("connection %d: SYN %v (drops %v)", i, v, e.cnt.Drops)
		}
		setFlow(synAck, a, port, false)
		setPacket(&p, buf, synAck, Core, 0)
		if v := e.Process(0, &p); v != Forward {
			b.Fatalf("connection %d: SYN/ACK %v (fallbacks %v)", i, v, e.cnt.ConnFallback)
		}
		tcp := header.TCP(p.Buf[p.Off+20 : p.Off+p.Len])
		o = tcpOpts{}
		parseOpts(tcp.Options(), &o)
		opt := third[40:60]
		opt[0], opt[1], opt[2], opt[3] = optMPTCP, optLenCapableAck, mptcpSubCapable<<4|1, mpCapableFlagH
		binary.BigEndian.PutUint64(opt[4:], 0x1122334455667788+uint64(i))
		binary.BigEndian.PutUint64(opt[12:], o.capKeyA)
		setFlow(third, a, port, true)
		setPacket(&p, buf, third, Access, 0)
		if v := e.Process(0, &p); v != Forward {
			b.Fatalf("connection %d: third ACK %v (drops %v)", i, v, e.cnt.Drops)
		}
		if i%128 == 127 {
			e.Tick(0)
		}
	}
	if e.ActiveConnections() != n || e.Tokens() != n {
		b.Fatalf("%d connections, %d tokens, want %d", e.ActiveConnections(), e.Tokens(), n)
	}
}

// setFlow writes the client address and port into an IPv4 template (as
// source if fromClient, else as destination) and recomputes both
// checksums.
func setFlow(ip []byte, a [4]byte, port uint16, fromClient bool) {
	v4 := header.IPv4(ip)
	t := header.TCP(ip[20:])
	if fromClient {
		v4.SetSourceAddress(a)
		t.SetSourcePort(port)
	} else {
		v4.SetDestinationAddress(a)
		t.SetDestinationPort(port)
	}
	v4.SetChecksum(0)
	v4.SetChecksum(v4.CalculateChecksum())
	t.SetChecksum(0)
	t.SetChecksum(t.CalculateChecksum(v4.PseudoHeaderSum()))
}

// gcPauses returns the cumulative stop-the-world pause histogram of the
// garbage collector (runtime/metrics /gc/pauses:seconds).
func gcPauses() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/gc/pauses:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// pauseStats returns the number of pauses between two readings of
// gcPauses and their median and largest value (each the upper bound of
// its histogram bucket), in seconds.
func pauseStats(before, after *metrics.Float64Histogram) (n uint64, p50, max float64) {
	d := make([]uint64, len(after.Counts))
	for i := range d {
		d[i] = after.Counts[i] - before.Counts[i]
		n += d[i]
	}
	var seen uint64
	for i, c := range d {
		if c == 0 {
			continue
		}
		up := after.Buckets[i+1]
		if math.IsInf(up, 1) {
			up = after.Buckets[i]
		}
		if seen < (n+1)/2 && seen+c >= (n+1)/2 {
			p50 = up
		}
		seen += c
		max = up
	}
	return n, p50, max
}

// BenchmarkMillionConnections sets up 2^20 established connections in
// one engine (Config.MaxConnections = 2^20, other fields default: 4
// subflows per connection, a join slab of one per connection, 32 mapping
// records per connection) and reports the engine's heap per connection
// (B/conn: everything New allocates plus what the connections took;
// B/conn-slab: the mapping-record slab's share of it), the per-slot
// struct sizes, and the garbage collector's stop-the-world pauses
// (runtime/metrics /gc/pauses:seconds, bucket upper bounds) and wall
// time over 5 forced collections with every connection live.
func BenchmarkMillionConnections(b *testing.B) {
	benchConns(b, Config{MaxConnections: 1 << 20, DeadAfter: time.Hour})
}

// BenchmarkMillionConnectionsLean is BenchmarkMillionConnections sized
// for mostly idle connections: 8 mapping records per connection (an idle
// connection holds none to four; a busy one borrows from the shared
// slab).
func BenchmarkMillionConnectionsLean(b *testing.B) {
	benchConns(b, Config{MaxConnections: 1 << 20, MappingRecords: 8, DeadAfter: time.Hour})
}

func benchConns(b *testing.B, cfg Config) {
	n := cfg.MaxConnections
	for i := 0; i < b.N; i++ {
		var m0, m1, m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		e, err := New(cfg, newTestAlloc(4))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		establishConns(b, e, n)
		runtime.GC()
		runtime.ReadMemStats(&m2)
		slab := e.store.Capacity() * 16
		b.ReportMetric(float64(m2.HeapAlloc-m0.HeapAlloc)/float64(n), "B/conn")
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(n), "B/conn-at-New")
		b.ReportMetric(float64(slab)/float64(n), "B/conn-slab")
		b.ReportMetric(float64(unsafe.Sizeof(conn{})), "B/conn-struct")
		b.ReportMetric(float64(unsafe.Sizeof(subflow{})), "B/subflow-struct")

		before := gcPauses()
		t0 := time.Now()
		const gcs = 5
		for k := 0; k < gcs; k++ {
			runtime.GC()
		}
		wall := time.Since(t0) / gcs
		after := gcPauses()
		if before != nil && after != nil {
			cnt, p50, max := pauseStats(before, after)
			b.ReportMetric(float64(cnt), "gc-pauses")
			b.ReportMetric(p50*1e6, "gc-pause-p50-us")
			b.ReportMetric(max*1e6, "gc-pause-max-us")
		}
		b.ReportMetric(float64(wall.Microseconds())/1e3, "gc-wall-ms")
		if e.ActiveConnections() != n {
			b.Fatalf("connections %d after GC, want %d", e.ActiveConnections(), n)
		}
		runtime.KeepAlive(e)
	}
}
