package translate

import (
	"net/netip"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// TestSeqMathWorkedExample checks the numbers of docs/translation.md
// section 1 (I1-I4).
func TestSeqMathWorkedExample(t *testing.T) {
	c := &conn{isnC: 0xfffffff0, idsnC: 0x0000_0001_ffff_fff8, isnS: 0x10, idsnP: 0xffff_ffff_ffff_fff0}
	c.c2sNxt = c.idsnC.Add(1)
	c.s2cNxt = c.idsnP.Add(1)
	c.dataAck = c.idsnP.Add(1)
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"I1 first byte", uint64(c.c2sSeq(c.idsnC.Add(1))), 0xfffffff1},
		{"I1 wrapped", uint64(c.c2sSeq(0x2_0000_0010)), 0x00000008},
		{"I2 first byte", uint64(c.s2cDSN(0x11)), 0xffff_ffff_ffff_fff1},
		{"I3 ack to S", uint64(c.ackToS(0xffff_ffff_ffff_fff1 + 5)), 0x16},
		{"I3 4-byte DATA_ACK", uint64(c.dataAck.Expand(0xfffffff6)), 0xffff_ffff_ffff_fff6},
		{"I4 DATA_ACK to C", uint64(c.dataAckToC(0x0000000b)), 0x2_0000_0013},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
	// I2: monotonic across the 32-bit wrap of seq.
	c.s2cNxt = c.idsnP.Add(1 << 32)
	if d := c.s2cDSN(c.isnS.Add(99)); d != c.idsnP.Add(1<<32+99) {
		t.Errorf("I2: wrap: %#x", uint64(d))
	}
}

// TestTable checks insert, lookup-by-probe and backward-shift removal in
// long collision runs.
func TestTable(t *testing.T) {
	tb := newTable(100)
	for i := uint32(0); i < 100; i++ {
		if !tb.insert(i%7, i) { // all in 7 homes: long runs
			t.Fatalf("insert %d", i)
		}
	}
	if tb.insert(1, 1000) {
		t.Fatal("I18: insert beyond limit")
	}
	find := func(h, v uint32) bool {
		for i := h & tb.mask; tb.slots[i].val != 0; i = (i + 1) & tb.mask {
			if tb.slots[i].hash == h && tb.slots[i].val == v+1 {
				return true
			}
		}
		return false
	}
	for i := uint32(0); i < 100; i += 2 {
		if !tb.remove(i%7, i) {
			t.Fatalf("remove %d", i)
		}
	}
	for i := uint32(0); i < 100; i++ {
		if find(i%7, i) != (i%2 == 1) {
			t.Fatalf("entry %d present=%v after removals", i, !(i%2 == 1))
		}
	}
	if tb.n != 50 {
		t.Fatalf("n=%d", tb.n)
	}
}

// TestWheel checks deadlines near and beyond one revolution, cancel and
// reschedule.
func TestWheel(t *testing.T) {
	w := newWheel(4)
	w.advance(0)
	w.schedule(0, 25e6)
	w.schedule(1, 30e9) // beyond one revolution (10.24 s)
	w.schedule(2, 5e6)
	w.cancel(2)
	if got := w.advance(20e6); len(got) != 0 {
		t.Fatalf("early: %v", got)
	}
	if got := w.advance(30e6); len(got) != 1 || got[0] != 0 {
		t.Fatalf("at 30ms: %v", got)
	}
	if got := w.advance(20e9); len(got) != 0 {
		t.Fatalf("at 20s: %v", got)
	}
	if got := w.advance(31e9); len(got) != 1 || got[0] != 1 {
		t.Fatalf("at 31s: %v", got)
	}
	if w.scheduled(0) || w.scheduled(1) || w.scheduled(2) {
		t.Fatal("still scheduled")
	}
}

// TestSchedulers checks the two policies of DESIGN 3.5.
func TestSchedulers(t *testing.T) {
	subs := []SubflowInfo{
		{Live: true, SRTT: 30, InFlight: 0, Window: 10},
		{Live: true, SRTT: 10, InFlight: 10, Window: 10}, // full
		{Live: true, SRTT: 20, InFlight: 0, Window: 10},
		{Live: true, Backup: true, SRTT: 1, Window: 10},
		{Live: false, SRTT: 1, Window: 10},
	}
	tests := []struct {
		name string
		s    Scheduler
		subs []SubflowInfo
		last int
		want int
	}{
		{"minrtt lowest rtt with room", MinRTT{}, subs, -1, 2},
		// A short path full by its small window (1 ms + 100 kB at 1 GB/s:
		// 1.1 ms) still delivers before a path 80 ms longer with room.
		{"minrtt full short path before a long one", MinRTT{}, []SubflowInfo{
			{Live: true, SRTT: 2e6, MinRTT: 1e6, Rate: 1e9, InFlight: 1e5, Window: 5e4},
			{Live: true, SRTT: 81e6, MinRTT: 81e6, Rate: 1e9, InFlight: 0, Window: 1e6},
		}, -1, 0},
		// Similar delays: the one with room delivers sooner.
		{"minrtt room on a path of similar delay", MinRTT{}, []SubflowInfo{
			{Live: true, SRTT: 2e6, MinRTT: 1e6, Rate: 1e9, InFlight: 1e5, Window: 5e4},
			{Live: true, SRTT: 1.5e6, MinRTT: 1e6, Rate: 2.5e8, InFlight: 0, Window: 1e6},
		}, -1, 1},
		{"minrtt all full", MinRTT{}, []SubflowInfo{{Live: true, SRTT: 5, InFlight: 9, Window: 1}, {Live: true, SRTT: 3, InFlight: 9, Window: 1}}, -1, 1},
		{"minrtt backup only", MinRTT{}, []SubflowInfo{{Live: false}, {Live: true, Backup: true}}, -1, 1},
		{"minrtt none", MinRTT{}, []SubflowInfo{{}, {}}, -1, -1},
		{"roundrobin next with room", RoundRobin{}, subs, 0, 2},
		{"roundrobin wraps", RoundRobin{}, subs, 2, 0},
		{"roundrobin none", RoundRobin{}, []SubflowInfo{{}}, 0, -1},
	}
	for _, tc := range tests {
		if got := tc.s.Pick(tc.subs, tc.last, 0); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if _, err := newScheduler("redundant"); err == nil {
		t.Error("unknown scheduler accepted")
	}
}

// capSyn is a client MP_CAPABLE SYN from port sport.
func capSyn(sport uint16) []byte {
	return simBuild(simC0, simS, sport, 5201, 1000, 0, header.TCPFlagSyn, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil)
}

// TestTableFullFallback: with the connection table full, a new
// MP_CAPABLE SYN is forwarded without MPTCP, counted, with no state (I18).
func TestTableFullFallback(t *testing.T) {
	e, err := New(Config{MaxConnections: 2}, newTestAlloc(4))
	if err != nil {
		t.Fatal(err)
	}
	for i := uint16(0); i < 3; i++ {
		p := mkPacket(capSyn(1000+i), Access, 0)
		if v := e.Process(1, &p); v != Forward {
			t.Fatalf("SYN %d: %v", i, v)
		}
		_, o := checkOut(t, &p)
		if o.hasMPTCP {
			t.Errorf("I18: SYN %d forwarded with MPTCP", i)
		}
		if i == 2 && o.mss != 1460 {
			t.Errorf("fallback SYN MSS %d, want unclamped 1460", o.mss)
		}
	}
	if e.ActiveConnections() != 2 || e.cnt.ConnFallback[FallbackTableFull] != 1 {
		t.Errorf("I18: conns %d fallback %v", e.ActiveConnections(), e.cnt.ConnFallback)
	}
	// Not translated destinations pass untouched.
	e2, _ := New(Config{MaxConnections: 2, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}, newTestAlloc(1))
	p := mkPacket(capSyn(1), Access, 0)
	if v := e2.Process(1, &p); v != Pass || e2.ActiveConnections() != 0 {
		t.Errorf("untranslated destination: %v", v)
	}
}

// TestTimersRelease: SYN timeout, idle timeout and linger release all
// state (I21).
func TestTimersRelease(t *testing.T) {
	e, _ := New(Config{MaxConnections: 4}, newTestAlloc(4))
	p := mkPacket(capSyn(7), Access, 0)
	e.Process(0, &p)
	e.Tick(int64(e.cfg.SynTimeout) - 1)
	if e.ActiveConnections() != 1 {
		t.Fatal("released before the SYN timeout")
	}
	e.Tick(int64(e.cfg.SynTimeout) + int64(20e6))
	if e.ActiveConnections() != 0 || e.ActiveSubflows() != 0 {
		t.Fatalf("I21: SYN timeout left %d conns", e.ActiveConnections())
	}
	if tr, rec := e.Mappings(); tr != 0 || rec != 0 {
		t.Fatalf("I21: mapping trees %d records %d", tr, rec)
	}
	// An established two-subflow connection: idle timeout.
	f := newFixture(t)
	now := f.m.now
	f.e.Tick(now + int64(f.e.cfg.IdleTimeout) + int64(1e9))
	if f.e.ActiveConnections() != 0 || f.e.ActiveSubflows() != 0 || f.e.Tokens() != 0 {
		t.Fatalf("I21: idle timeout left conns %d subflows %d tokens %d", f.e.ActiveConnections(), f.e.ActiveSubflows(), f.e.Tokens())
	}
	if tr, rec := f.e.Mappings(); tr != 0 || rec != 0 {
		t.Fatalf("I21: mapping trees %d records %d", tr, rec)
	}
}

// TestDataFin: the client's DATA_FIN on a pure ACK (SSN 0, length 1)
// becomes a TCP FIN at tcp_seq(DSN); S's FIN becomes a DATA_FIN with no
// subflow FIN; after both are acknowledged the connection lingers and is
// released (I19, I21).
func TestDataFin(t *testing.T) {
	f := newFixture(t)
	e := f.e
	var ci int32
	for i := range e.conns {
		if e.conns[i].state == connEstablished {
			ci = int32(i)
		}
	}
	c := &e.conns[ci]
	cl := f.m.c
	s0 := &cl.sub[0]
	fin := c.c2sNxt
	var w optWriter
	w.dss(uint64(c.s2cNxt), true, uint64(fin), 0, 1, true, false, 0)
	ip := simBuild(simC0, simS, 40000, 5201, s0.isn+1001, s0.peerISN+1, header.TCPFlagAck, 1024, w.pad(), nil)
	p := mkPacket(ip, Access, 0)
	if v := e.Process(f.m.now, &p); v != Forward {
		t.Fatalf("DATA_FIN: %v drops %v", v, e.cnt.Drops)
	}
	tcp, o := checkOut(t, &p)
	if tcp.Flags()&header.TCPFlagFin == 0 || tcp.Seq() != c.c2sSeq(fin) || o.hasMPTCP {
		t.Fatalf("I19: flags %#x seq %d want FIN at %d", tcp.Flags(), tcp.Seq(), c.c2sSeq(fin))
	}
	// S acks the FIN and sends its own.
	sv := f.m.s
	ip = simBuild(simS, simC0, 5201, 40000, sv.isn+1, uint32(tcp.Seq())+1, header.TCPFlagAck|header.TCPFlagFin, 1024, nil, nil)
	p = mkPacket(ip, Core, 0)
	if v := e.Process(f.m.now, &p); v != Forward {
		t.Fatalf("S FIN: %v", v)
	}
	tcp, o = checkOut(t, &p)
	if tcp.Flags()&header.TCPFlagFin != 0 || !o.dss || o.dssFlags&dssDataFin == 0 || o.ssn != 0 || o.dataLen != 1 {
		t.Fatalf("I19: S FIN became flags %#x dss %+v", tcp.Flags(), o)
	}
	if o.dataAck != uint64(fin)+1 {
		t.Errorf("I4: DATA_ACK %#x, want %#x", o.dataAck, uint64(fin)+1)
	}
	// The client acknowledges the DATA_FIN.
	w = optWriter{}
	w.dss(o.dsn+1, false, 0, 0, 0, false, false, 0)
	ip = simBuild(simC0, simS, 40000, 5201, s0.isn+1001, uint32(tcp.Seq()), header.TCPFlagAck, 1024, w.pad(), nil)
	p = mkPacket(ip, Access, 0)
	if v := e.Process(f.m.now, &p); v != Forward {
		t.Fatalf("ack of DATA_FIN: %v", v)
	}
	tcp, _ = checkOut(t, &p)
	if tcp.Ack() != header.Seq32(sv.isn+2) {
		t.Errorf("I19: S's FIN acked with %d, want %d", tcp.Ack(), sv.isn+2)
	}
	if c.state != connClosed {
		t.Fatalf("state %v after both FINs acked", c.state)
	}
	e.Tick(f.m.now + int64(e.cfg.Linger) + int64(20e6))
	if e.ActiveConnections() != 0 {
		t.Fatal("I21: not released after linger")
	}
}

// TestServerRst: S's RST becomes an RST with MP_FASTCLOSE (key_C) on every
// client subflow and the state is released after the linger (I21).
func TestServerRst(t *testing.T) {
	f := newFixture(t)
	e := f.e
	sv := f.m.s
	ip := simBuild(simS, simC0, 5201, 40000, sv.isn+1, sv.peerISN+1, header.TCPFlagRst|header.TCPFlagAck, 0, nil, nil)
	p := mkPacket(ip, Core, 0)
	if v := e.Process(f.m.now, &p); v != Forward {
		t.Fatalf("RST: %v", v)
	}
	outs := append([]Packet{p}, e.Emitted()...)
	if len(outs) != 2 {
		t.Fatalf("%d RSTs, want one per subflow", len(outs))
	}
	for i := range outs {
		tcp, o := checkOut(t, &outs[i])
		if tcp.Flags()&header.TCPFlagRst == 0 || !o.fastclose || o.fastcloseKey != f.m.c.keyC || outs[i].Side != Access {
			t.Errorf("packet %d: flags %#x fastclose %v key %#x", i, tcp.Flags(), o.fastclose, o.fastcloseKey)
		}
	}
	e.ClearEmitted()
	e.Tick(f.m.now + int64(e.cfg.Linger) + int64(20e6))
	if e.ActiveConnections() != 0 || e.ActiveSubflows() != 0 || e.cnt.Resets != 1 {
		t.Fatalf("I21: conns %d subflows %d resets %d", e.ActiveConnections(), e.ActiveSubflows(), e.cnt.Resets)
	}
}
