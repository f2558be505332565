package translate

import (
	"encoding/binary"
	"runtime"
	"testing"
	"unsafe"

	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/mpcrypto"
)

func reportPerPkt(b *testing.B, pkts int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pkts), "ns/pkt")
}

// pktClock measures a data-path benchmark in two clocks: wall time
// (ns/pkt, what the testing package measures) and the CPU time of the
// benchmark's own OS thread (cpu-ns/pkt), which leaves out the time the
// thread spent waiting for a CPU on a shared, loaded machine. The
// goroutine is locked to its thread between start and stop.
type pktClock struct {
	cpu0 int64
}

func (c *pktClock) start(b *testing.B) {
	runtime.LockOSThread()
	b.ResetTimer()
	c.cpu0 = threadCPU()
}

func (c *pktClock) stop(b *testing.B) {
	cpu1 := threadCPU()
	b.StopTimer()
	runtime.UnlockOSThread()
	reportPerPkt(b, 1)
	if c.cpu0 >= 0 && cpu1 >= 0 {
		b.ReportMetric(float64(cpu1-c.cpu0)/float64(b.N), "cpu-ns/pkt")
	}
}

// The data-path benchmarks below restore only the IP and TCP headers of
// their template before each packet (fixture.runHdr): the engine rewrites
// headers and never touches the payload of a packet it forwards, so a
// payload copy per packet would time the harness, not the engine. What
// the restore itself costs is BenchmarkHarnessRestore, reported beside
// them and not subtracted.

// BenchmarkHarnessRestore: the per-packet harness work of the data-path
// benchmarks alone (restoring a C->S data segment's headers), the
// baseline to read their numbers against.
func BenchmarkHarnessRestore(b *testing.B) {
	f := newFixture(b)
	f.prime(f.c2sData, Access)
	n := hdrLen(f.c2sData)
	var clk pktClock
	b.ReportAllocs()
	clk.start(b)
	for i := 0; i < b.N; i++ {
		setPacket(&f.pkt, f.buf, f.c2sData[:n], Access, 0)
		f.pkt.Len = len(f.c2sData)
	}
	clk.stop(b)
}

// BenchmarkC2SData: a client data segment (1000 bytes, DSS with DATA_ACK
// and mapping, subflow 0 of two) translated to S (mapping lookup,
// rewrite, option removal, checksum).
func BenchmarkC2SData(b *testing.B) {
	f := newFixture(b)
	f.prime(f.c2sData, Access)
	var clk pktClock
	b.ReportAllocs()
	clk.start(b)
	for i := 0; i < b.N; i++ {
		f.runHdr(b, f.c2sData, Access, Forward)
	}
	clk.stop(b)
}

// BenchmarkS2CNewData: a new server segment (1000 bytes) scheduled,
// mapped and given a DSS (plus one client ACK per 256 segments, on each
// subflow, to keep the store bounded; those ACKs are timed too).
func BenchmarkS2CNewData(b *testing.B) {
	f := newFixture(b)
	f.prime(f.s2cData, Core)
	var clk pktClock
	b.ReportAllocs()
	clk.start(b)
	for i := 0; i < b.N; i++ {
		f.s2cNewHdr(b)
	}
	clk.stop(b)
}

// BenchmarkS2CPureAck: a pure ACK from S sent on the owner subflow.
func BenchmarkS2CPureAck(b *testing.B) {
	f := newFixture(b)
	f.prime(f.s2cAck, Core)
	var clk pktClock
	b.ReportAllocs()
	clk.start(b)
	for i := 0; i < b.N; i++ {
		f.runHdr(b, f.s2cAck, Core, Forward)
	}
	clk.stop(b)
}

// BenchmarkC2SPureAck: a client pure ACK with DATA_ACK translated to S.
func BenchmarkC2SPureAck(b *testing.B) {
	f := newFixture(b)
	f.prime(f.c2sAck, Access)
	var clk pktClock
	b.ReportAllocs()
	clk.start(b)
	for i := 0; i < b.N; i++ {
		f.runHdr(b, f.c2sAck, Access, Forward)
	}
	clk.stop(b)
}

// BenchmarkHandshake: SYN, SYN/ACK (with key_P drawn, token checked and
// inserted) and third ACK, then the state is released. Keys come from a
// RandomKeys refilled by Tick every 128 connections as the dataplane
// would, so key generation is timed with the handshake: with cores=24
// every token must name core 0 of 24 (steering's TokenEncoding: owner
// field token&31, so one random key in 32 fits, about 32 SHA-256 per
// key); cores=1 accepts every key. ns/conn is the whole handshake, ns/pkt
// a third of it.
func BenchmarkHandshake(b *testing.B) {
	b.Run("cores=24", func(b *testing.B) { benchHandshake(b, 31) })
	b.Run("cores=1", func(b *testing.B) { benchHandshake(b, 0) })
}

func benchHandshake(b *testing.B, mask uint32) {
	alloc := newTestAlloc(8)
	keys := NewRandomKeys(256, func(token uint32) bool { return token&mask == 0 })
	e, err := New(Config{MaxConnections: 1024, MaxSubflows: 2, Keys: keys}, alloc)
	if err != nil {
		b.Fatal(err)
	}
	h := newHandshakeBench()
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := 0; i < b.N; i++ {
		ci := h.run(b, e, uint16(1+i%60000))
		if e.conns[ci].tokenP&mask != 0 {
			b.Fatalf("token %#x does not name core 0", e.conns[ci].tokenP)
		}
		e.release(ci)
		if i%128 == 127 {
			e.Tick(0)
		}
	}
	cpu1 := threadCPU()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/conn")
	if cpu0 >= 0 && cpu1 >= 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/conn")
	}
	reportPerPkt(b, 3)
}

// BenchmarkJoin: MP_JOIN SYN answered (HMAC-64 computed) and third ACK
// verified (HMAC-160) with the fourth ACK sent; the client's own HMAC is
// computed outside the timer.
// handshakeBench is one MP_CAPABLE handshake through an engine: the
// client's SYN, the server's SYN/ACK and the client's third ACK, built
// once and sent again with a new client port each time.
type handshakeBench struct {
	syn, synAck, third, buf []byte
	p                       Packet
}

func newHandshakeBench() *handshakeBench {
	return &handshakeBench{
		syn: simBuild(simC0, simS, 1, 5201, 1000, 0, header.TCPFlagSyn, 1024,
			[]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil),
		synAck: simBuild(simS, simC0, 5201, 1, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024,
			[]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7}, nil),
		third: simBuild(simC0, simS, 1, 5201, 1001, 5001, header.TCPFlagAck, 1024, make([]byte, 20), nil),
		buf:   make([]byte, 2048),
	}
}

// run sends the handshake of client port port through e and returns the
// connection's index; the third ACK carries both keys, key_P read from
// the SYN/ACK the engine sent (built outside the engine).
func (h *handshakeBench) run(b *testing.B, e *Engine, port uint16) int32 {
	p := &h.p
	header.TCP(h.syn[20:]).SetSourcePortWithChecksumUpdate(port)
	setPacket(p, h.buf, h.syn, Access, 0)
	if e.Process(0, p) != Forward {
		b.Fatal("SYN")
	}
	header.TCP(h.synAck[20:]).SetDestinationPortWithChecksumUpdate(port)
	setPacket(p, h.buf, h.synAck, Core, 0)
	if e.Process(0, p) != Forward {
		b.Fatal("SYN/ACK")
	}
	tcp := header.TCP(p.Buf[p.Off+20 : p.Off+p.Len])
	var o tcpOpts
	parseOpts(tcp.Options(), &o)
	opt := h.third[40:60]
	opt[0], opt[1], opt[2], opt[3] = optMPTCP, optLenCapableAck, mptcpSubCapable<<4|1, mpCapableFlagH
	binary.BigEndian.PutUint64(opt[4:], 0x1122334455667788)
	binary.BigEndian.PutUint64(opt[12:], o.capKeyA)
	t3 := header.TCP(h.third[20:])
	t3.SetSourcePort(port)
	t3.SetChecksum(0)
	t3.SetChecksum(t3.CalculateChecksum(header.IPv4(h.third).PseudoHeaderSum()))
	setPacket(p, h.buf, h.third, Access, 0)
	if e.Process(0, p) != Forward {
		b.Fatal("third ACK")
	}
	ci, _, _ := e.lookup(&e.pk, Access)
	return ci
}

func BenchmarkJoin(b *testing.B) {
	f := newFixture(b)
	e := f.e
	var ci int32
	for i := range e.conns {
		if e.conns[i].state == connEstablished {
			ci = int32(i)
		}
	}
	c := &e.conns[ci]
	c1 := [4]byte{198, 18, 2, 3}
	var jo [12]byte
	jo[0], jo[1], jo[2], jo[3] = optMPTCP, optLenJoinSyn, mptcpSubJoin<<4, 2
	binary.BigEndian.PutUint32(jo[4:], c.tokenP)
	binary.BigEndian.PutUint32(jo[8:], 77)
	syn := simBuild(c1, simS, 50000, 5201, 9000, 0, header.TCPFlagSyn, 1024, jo[:], nil)
	ack := simBuild(c1, simS, 50000, 5201, 9001, 0, header.TCPFlagAck, 1024, make([]byte, 24), nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.run(b, syn, Access, Forward)
		tcp := header.TCP(f.pkt.Buf[f.pkt.Off+20 : f.pkt.Off+f.pkt.Len])
		b.StopTimer()
		var o tcpOpts
		parseOpts(tcp.Options(), &o)
		var hs mpcrypto.Hasher
		mac := hs.JoinHMAC(c.keyC, c.keyP, 77, o.joinNonce)
		opt := ack[40:64]
		opt[0], opt[1], opt[2] = optMPTCP, optLenJoinAck, mptcpSubJoin<<4
		copy(opt[4:], mac[:20])
		t3 := header.TCP(ack[20:])
		t3.SetAck(tcp.Seq() + 1)
		t3.SetChecksum(0)
		t3.SetChecksum(t3.CalculateChecksum(header.IPv4(ack).PseudoHeaderSum()))
		b.StartTimer()
		f.run(b, ack, Access, Forward)
		for j := 2; j < e.maxSub; j++ {
			if e.sub(ci, j).state != subFree {
				e.closeSub(ci, j)
			}
		}
	}
	// No thread CPU time here: reading it is a system call, and this
	// loop would need two per join to leave out the client's work.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/join")
	reportPerPkt(b, 2)
}

// BenchmarkStatePerConnection reports the bytes of state a connection
// costs: the per-slot preallocation (connection, subflow 0 and a share of
// the join-subflow slab, table slots, wheel entry, mapping tree headers,
// checksum cache share) measured from the heap, the mapping slab
// reserved per slot (shared), the mapping records an idle established
// two-subflow connection actually holds, and B/conn-idle: the slot plus
// those records, what an idle established connection costs when the slab
// is provisioned for the busy ones.
func BenchmarkStatePerConnection(b *testing.B) {
	const n = 1 << 16 // Config.MaxConnections' default
	var perSlot float64
	for i := 0; i < b.N; i++ {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		e, err := New(Config{MaxConnections: n, MaxSubflows: 4}, newTestAlloc(1))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		slab := e.store.Capacity() * 16
		perSlot = float64(m1.HeapAlloc-m0.HeapAlloc-uint64(slab)) / n
		b.ReportMetric(perSlot, "B/conn-slot")
		b.ReportMetric(float64(slab)/n, "B/conn-mapping-slab")
		b.ReportMetric(float64(unsafe.Sizeof(conn{})), "B/conn-struct")
		b.ReportMetric(float64(unsafe.Sizeof(subflow{})), "B/subflow-struct")
		runtime.KeepAlive(e)
	}
	f := newFixture(b)
	_, recs := f.e.Mappings()
	b.ReportMetric(float64(recs*16), "B/conn-mappings-idle")
	b.ReportMetric(perSlot+float64(recs*16), "B/conn-idle")
}

// BenchmarkMissPlain: a plain TCP segment of a flow the engine does not
// track (NOP, NOP, timestamps, 1000 bytes), passed to be routed: a header
// parse, a flow-table miss and the walk over its options for an MPTCP
// option (I33).
func BenchmarkMissPlain(b *testing.B) {
	f := newFixture(b)
	ts := []byte{optNOP, optNOP, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	plain := simBuild(simC0, simS, 40999, 5201, 1000, 2000, ackF, 1024, ts, make([]byte, 1000))
	f.prime(plain, Access)
	var clk pktClock
	b.ReportAllocs()
	clk.start(b)
	for i := 0; i < b.N; i++ {
		f.runHdr(b, plain, Access, Pass)
	}
	clk.stop(b)
}
