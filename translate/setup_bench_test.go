package translate

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/mpcrypto"
)

// setupWave and setupBatch are the shape of flexcp-pktgen engine's setup
// phase (bench/pktgen: waves of 128 connections with a Tick after each,
// 4096 connections per batch, then released by the engine's timers).
const (
	setupWave  = 128
	setupBatch = 4096
)

// setupBench drives the engine's connection setup as flexcp-pktgen
// engine's setup phase does, with the client's and the server's packets
// built outside the timed parts: one template per connection and packet
// (its own client addresses and ports), patched between the engine's
// phases with what the engine chose (key_P, token_P, R_P and the join's
// ISN, read from the engine's state instead of parsed out of its packets).
type setupBench struct {
	e     *Engine
	alloc *testAlloc
	buf   []byte
	p     Packet
	hs    mpcrypto.Hasher
	// per connection of a batch: the templates, the connection slot the
	// SYN took, and key_C and R_C
	syn, synAck, third, jsyn, jack [][]byte
	ci                             []int32
	keyC                           []uint64
	nonceC                         []uint32
	now                            int64
	engNs                          int64 // wall time inside the engine's timed phases
	relNs                          int64 // wall time of the releases
	conns                          int
}

// setupClient returns the address and port of connection i's subflow j:
// 198.18.0.0/15 (RFC 2544), 16 ports per address, subflow 1 in the upper
// half of the /16.
func setupClient(i, j int) ([4]byte, uint16) {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 198<<24|18<<16|uint32(j)<<15|uint32(i>>4))
	return a, uint16(10000 + i&15)
}

func newSetupBench(tb testing.TB, keys KeySource) *setupBench {
	cfg := Config{MaxConnections: setupBatch, MaxSubflows: 2, JoinSubflows: setupBatch,
		MappingRecords: 48, DeadAfter: 1 << 62, Keys: keys}
	e, err := New(cfg, newTestAlloc(8))
	if err != nil {
		tb.Fatal(err)
	}
	sb := &setupBench{e: e, alloc: e.alloc.(*testAlloc), buf: make([]byte, 2048),
		ci: make([]int32, setupBatch), keyC: make([]uint64, setupBatch), nonceC: make([]uint32, setupBatch)}
	for i := 0; i < setupBatch; i++ {
		a0, p0 := setupClient(i, 0)
		a1, p1 := setupClient(i, 1)
		sb.syn = append(sb.syn, simBuild(a0, simS, p0, 5201, 1000, 0, header.TCPFlagSyn, 1024,
			[]byte{optMSS, 4, 0x05, 0xb4, optSACKPerm, 2, optNOP, optWS, 3, 7, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil))
		sb.synAck = append(sb.synAck, simBuild(simS, a0, 5201, p0, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024,
			[]byte{optMSS, 4, 0x05, 0xb4, optSACKPerm, 2, optNOP, optWS, 3, 7}, nil))
		capAck := make([]byte, optLenCapableAck)
		capAck[0], capAck[1], capAck[2], capAck[3] = optMPTCP, optLenCapableAck, mptcpSubCapable<<4|1, mpCapableFlagH
		sb.third = append(sb.third, simBuild(a0, simS, p0, 5201, 1001, 5001, header.TCPFlagAck, 1024, capAck, nil))
		jo := []byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 7, optSACKPerm, 2, optNOP, optNOP,
			optMPTCP, optLenJoinSyn, mptcpSubJoin << 4, 1, 0, 0, 0, 0, 0, 0, 0, 0}
		sb.jsyn = append(sb.jsyn, simBuild(a1, simS, p1, 5201, 9000, 0, header.TCPFlagSyn, 1024, jo, nil))
		ja := make([]byte, optLenJoinAck)
		ja[0], ja[1], ja[2] = optMPTCP, optLenJoinAck, mptcpSubJoin<<4
		sb.jack = append(sb.jack, simBuild(a1, simS, p1, 5201, 9001, 0, header.TCPFlagAck, 1024, ja, nil))
		sb.keyC[i] = 0x1122334455667788 ^ uint64(i)<<20
		sb.nonceC[i] = 0x5eed0000 + uint32(i)
	}
	return sb
}

// tcpSum recomputes the TCP checksum of an IPv4 template.
func tcpSum(ip []byte) {
	t := header.TCP(ip[header.IPv4MinimumSize:])
	t.SetChecksum(0)
	t.SetChecksum(t.CalculateChecksum(header.IPv4(ip).PseudoHeaderSum()))
}

// phase runs packets [first, first+n) of pkts through the engine, timed,
// and fails unless each is forwarded (the SYN and the SYN/ACK to the other
// side, the third ACK to S, the join's answers back to the client).
func (sb *setupBench) phase(tb testing.TB, pkts [][]byte, side Side, first, n int, what string) {
	e := sb.e
	t0 := nanotime()
	for i := first; i < first+n; i++ {
		if side == Access && what == "SYN" {
			sb.ci[i] = e.free[len(e.free)-1] // the slot capableSyn takes
		}
		setPacket(&sb.p, sb.buf, pkts[i], side, 0)
		if v := e.Process(sb.now, &sb.p); v != Forward {
			tb.Fatalf("connection %d: %s: verdict %v (drops %v, fallbacks %v, join rejects %v)",
				i, what, v, e.cnt.Drops, e.cnt.ConnFallback, e.cnt.JoinsRejected)
		}
		e.ClearEmitted()
		sb.alloc.reset()
	}
	sb.engNs += nanotime() - t0
}

// wave sets up connections [first, first+n) of the batch.
func (sb *setupBench) wave(tb testing.TB, first, n int) {
	e := sb.e
	sb.phase(tb, sb.syn, Access, first, n, "SYN")
	sb.phase(tb, sb.synAck, Core, first, n, "SYN/ACK")
	for i := first; i < first+n; i++ {
		c := &e.conns[sb.ci[i]]
		o := sb.third[i][40:]
		binary.BigEndian.PutUint64(o[4:], sb.keyC[i])
		binary.BigEndian.PutUint64(o[12:], c.keyP)
		tcpSum(sb.third[i])
	}
	sb.phase(tb, sb.third, Access, first, n, "third ACK")
	for i := first; i < first+n; i++ {
		o := sb.jsyn[i][40+12:]
		binary.BigEndian.PutUint32(o[4:], e.conns[sb.ci[i]].tokenP)
		binary.BigEndian.PutUint32(o[8:], sb.nonceC[i])
		tcpSum(sb.jsyn[i])
	}
	sb.phase(tb, sb.jsyn, Access, first, n, "join SYN")
	for i := first; i < first+n; i++ {
		c := &e.conns[sb.ci[i]]
		s := e.sub(sb.ci[i], 1)
		mac := sb.hs.JoinHMAC(sb.keyC[i], c.keyP, sb.nonceC[i], s.nonceP)
		copy(sb.jack[i][40+4:], mac[:])
		header.TCP(sb.jack[i][20:]).SetAck(s.isnP.Add(1))
		tcpSum(sb.jack[i])
	}
	sb.phase(tb, sb.jack, Access, first, n, "join third ACK")
	t0 := nanotime()
	e.Tick(sb.now)
	sb.engNs += nanotime() - t0
	sb.conns += n
}

// release lets the engine's timers free every connection, as
// flexcp-pktgen's Release does (timed apart).
func (sb *setupBench) release(tb testing.TB) {
	e := sb.e
	d := DefaultConfig()
	t0 := nanotime()
	for i := 0; i < 3; i++ {
		sb.now += int64(d.IdleTimeout + d.Linger + d.SynTimeout + d.JoinTimeout + time.Minute)
		e.Tick(sb.now)
		e.ClearEmitted()
		sb.alloc.reset()
	}
	sb.relNs += nanotime() - t0
	if e.ActiveConnections() != 0 || e.Tokens() != 0 {
		tb.Fatalf("release: %d connections, %d tokens left", e.ActiveConnections(), e.Tokens())
	}
}

// BenchmarkHandshakeJoin is the engine's part of what flexcp-pktgen
// engine's setup phase measures: per connection the MP_CAPABLE handshake
// (the client's SYN, S's SYN/ACK with key_P drawn, its token checked and
// inserted, the client's third ACK with key_C and IDSN_C computed) and one
// MP_JOIN (the SYN answered with R_P and the 64-bit HMAC, the third ACK's
// 160-bit HMAC verified and answered by the fourth ACK), in waves of 128
// connections with a Tick (key refill) after each, 4096 per batch, then
// released by the engine's timers. Keys come from a RandomKeys of 1024
// that accepts every token (what --key-cores 1 costs: one SHA-256 per
// key), refilled by the Ticks. The packets of the client and the server
// are built between the engine's phases; ns/conn counts only the time
// inside Process and Tick (wall), cpu-ns/conn that time scaled by the
// thread's CPU time over the wall time of the whole loop (the estimate
// flexcp-pktgen uses), conn/s is 1e9 over cpu-ns/conn, and
// release-ns/conn is the release by the timers, not in the others. One
// packet buffer serves every packet, so the packets themselves are warm
// in cache (in flexcp-pktgen each has its own buffer).
func BenchmarkHandshakeJoin(b *testing.B) {
	sb := newSetupBench(b, NewRandomKeys(1024, nil))
	// One untimed batch first: every slot and table line touched once.
	for first := 0; first < setupBatch; first += setupWave {
		sb.wave(b, first, setupWave)
	}
	sb.release(b)
	sb.engNs, sb.relNs, sb.conns = 0, 0, 0
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0, w0 := threadCPU(), nanotime()
	for sb.conns < b.N {
		for first := 0; first < setupBatch && sb.conns < b.N; first += setupWave {
			sb.wave(b, first, setupWave)
		}
		sb.release(b)
	}
	cpu1, w1 := threadCPU(), nanotime()
	b.StopTimer()
	n := float64(sb.conns)
	b.ReportMetric(float64(sb.engNs)/n, "ns/conn")
	b.ReportMetric(float64(sb.relNs)/n, "release-ns/conn")
	if cpu0 >= 0 && cpu1 >= 0 && w1 > w0 {
		cpuNs := float64(sb.engNs) * float64(cpu1-cpu0) / float64(w1-w0) / n
		b.ReportMetric(cpuNs, "cpu-ns/conn")
		b.ReportMetric(1e9/cpuNs, "conn/s")
	}
	if c := sb.e.Counters(); c.JoinsAccepted < uint64(sb.conns) {
		b.Fatalf("%d joins accepted for %d connections", c.JoinsAccepted, sb.conns)
	}
}

// nanotime returns monotonic nanoseconds (a vDSO clock read).
func nanotime() int64 { return int64(time.Since(benchEpoch)) }

var benchEpoch = time.Now()

// TestFreeSlotsZero: connections set up (handshake and join) in waves and
// released by the timers leave every free slot zero (I34), twice over the
// same slots, and the second round sets up every connection again from
// slots newConn and takeJoinSlot no longer clear.
func TestFreeSlotsZero(t *testing.T) {
	sb := newSetupBench(t, NewRandomKeys(256, nil))
	for round := 0; round < 2; round++ {
		for first := 0; first < 512; first += setupWave {
			sb.wave(t, first, setupWave)
		}
		if n := sb.e.ActiveConnections(); n != 512 {
			t.Fatalf("round %d: %d connections", round, n)
		}
		sb.release(t)
		checkSlab(t, sb.e)
	}
	if c := sb.e.Counters(); c.JoinsAccepted != 1024 || c.ConnOpened != 1024 {
		t.Fatalf("joins %d, connections %d, want 1024", c.JoinsAccepted, c.ConnOpened)
	}
}
