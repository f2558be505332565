package translate

import (
	"runtime"
	"testing"
)

// ExchangeKeys, set by keyexchange_test.go (package translate_test, which
// may import steering), returns the key sources of the workers of one
// steering.KeyExchange (one pool per worker, as the dataplane wires them)
// and a function returning the SHA-256 computations of all pools so far.
// It lives in a test file so that translate itself imports no steering.
var ExchangeKeys func(workers int) (keys []HashedKeySource, hashes func() uint64)

// BenchmarkHandshakeExchange is BenchmarkHandshake/cores=24 with the
// dataplane's key source: 24 engines, one per simulated worker, each
// drawing key_P from its pool of one steering.KeyExchange, run round-robin
// in this goroutine (a handshake on engine 0, then 1, ... 23, then 0), so
// the timer charges the grinding of all 24 producers and the keys they
// hand each other, as 24 equally busy workers would share it. Every
// engine's Tick (key refill) runs every 128 of its connections, timed.
// ns/conn is the whole handshake including key generation; sha256/key is
// all pools' SHA-256 computations over the keys handed out (BenchmarkHandshake/cores=24:
// about 32; the engine's own SHA-256 of key_C comes on top, as there).
func BenchmarkHandshakeExchange(b *testing.B) {
	if ExchangeKeys == nil {
		b.Fatal("ExchangeKeys not set: keyexchange_test.go missing")
	}
	const workers = 24
	const mask = 31 // steering.TokenEncoding of 24 workers
	keys, hashes := ExchangeKeys(workers)
	engines := make([]*Engine, workers)
	for c := range engines {
		e, err := New(Config{MaxConnections: 1024, MaxSubflows: 2, Keys: keys[c]}, newTestAlloc(8))
		if err != nil {
			b.Fatal(err)
		}
		engines[c] = e
	}
	h := newHandshakeBench()
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h0 := hashes()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := 0; i < b.N; i++ {
		c := i % workers
		e := engines[c]
		port := uint16(1 + (i/workers)%60000)
		ci := h.run(b, e, port)
		if tok := e.conns[ci].tokenP; int(tok&mask) != c || tok != keyToken(e.conns[ci].keyP) {
			b.Fatalf("engine %d: token %#x of key %#x", c, tok, e.conns[ci].keyP)
		}
		e.release(ci)
		if (i/workers)%128 == 127 {
			e.Tick(0)
		}
	}
	cpu1 := threadCPU()
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/conn")
	if cpu0 >= 0 && cpu1 >= 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/conn")
	}
	b.ReportMetric(float64(hashes()-h0)/float64(b.N), "sha256/key")
	reportPerPkt(b, 3)
}
