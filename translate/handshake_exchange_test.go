package translate

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
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
	syn := simBuild(simC0, simS, 1, 5201, 1000, 0, header.TCPFlagSyn, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil)
	synAck := simBuild(simS, simC0, 5201, 1, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7}, nil)
	third := simBuild(simC0, simS, 1, 5201, 1001, 5001, header.TCPFlagAck, 1024, make([]byte, 20), nil)
	buf := make([]byte, 2048)
	var p Packet
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
		header.TCP(syn[20:]).SetSourcePortWithChecksumUpdate(port)
		setPacket(&p, buf, syn, Access, 0)
		if e.Process(0, &p) != Forward {
			b.Fatal("SYN")
		}
		header.TCP(synAck[20:]).SetDestinationPortWithChecksumUpdate(port)
		setPacket(&p, buf, synAck, Core, 0)
		if e.Process(0, &p) != Forward {
			b.Fatal("SYN/ACK")
		}
		tcp := header.TCP(p.Buf[p.Off+20 : p.Off+p.Len])
		var o tcpOpts
		parseOpts(tcp.Options(), &o)
		// The client's third ACK with both keys (built outside the engine).
		opt := third[40:60]
		opt[0], opt[1], opt[2], opt[3] = optMPTCP, optLenCapableAck, mptcpSubCapable<<4|1, mpCapableFlagH
		binary.BigEndian.PutUint64(opt[4:], 0x1122334455667788)
		binary.BigEndian.PutUint64(opt[12:], o.capKeyA)
		t3 := header.TCP(third[20:])
		t3.SetSourcePort(port)
		t3.SetChecksum(0)
		t3.SetChecksum(t3.CalculateChecksum(header.IPv4(third).PseudoHeaderSum()))
		setPacket(&p, buf, third, Access, 0)
		if e.Process(0, &p) != Forward {
			b.Fatal("third ACK")
		}
		ci, _, _ := e.lookup(&e.pk, Access)
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
