package translate

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/flexcp/flexcp/translate/header"
)

const (
	ackF = header.TCPFlagAck
	pshF = header.TCPFlagAck | header.TCPFlagPsh
)

// outTo returns the output packets whose destination port is port.
func outTo(tb testing.TB, out []Packet, port uint16) []Packet {
	var r []Packet
	for i := range out {
		if dstPort(tb, &out[i]) == port {
			r = append(r, out[i])
		}
	}
	return r
}

// TestPureAckOwnerAndGeneratedAcks: a pure ACK from S goes out on the
// subflow that carried the first byte S has not acknowledged (I15); the
// subflow whose ack S's ACK advanced gets a generated ACK with the
// DATA_ACK (I14, I4); the join subflow's window is rescaled from its
// scale (5) to subflow 0's (7) on the way to S (I23).
func TestPureAckOwnerAndGeneratedAcks(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	pay := make([]byte, 1000)
	// Data offsets 1000..2000 on subflow 1 (subflow 0 carried 0..1000).
	v, out := f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+1000, 1, 1000, pay), pay), Access, 1)
	if v != Forward || len(out) != 1 {
		t.Fatalf("C->S on join: %v, %d packets", v, len(out))
	}
	tcp, _, _ := view(t, out[0].Bytes())
	if tcp.Window() != 1024<<5>>7 {
		t.Errorf("I23: window %d, want %d", tcp.Window(), 1024<<5>>7)
	}
	if tcp.SourcePort() != 40000 || tcp.Seq() != header.Seq32(cl.sub[0].isn+1+1000) {
		t.Errorf("I1: join data reached S as port %d seq %d", tcp.SourcePort(), tcp.Seq())
	}
	// S acknowledges only the first 1000 bytes.
	v, out = f.send(t, f.spkt(0, cl.sub[0].isn+1+1000, ackF, nil, nil), Core, 0)
	if v != Forward {
		t.Fatalf("S ACK: %v", v)
	}
	if dstPort(t, &out[0]) != 40001 {
		t.Errorf("I15: S's ACK went to port %d, want the join subflow (40001)", dstPort(t, &out[0]))
	}
	tcp, o := checkOut(t, &out[0])
	if tcp.Ack() != header.Seq32(cl.sub[1].isn+1) {
		t.Errorf("I13: join subflow acked %d, nothing of it is acknowledged by S", tcp.Ack()-header.Seq32(cl.sub[1].isn))
	}
	if !o.dss || o.dataAck != cl.idsnC+1+1000 {
		t.Errorf("I4: DATA_ACK %#x, want %#x", o.dataAck, cl.idsnC+1+1000)
	}
	gen := outTo(t, out, 40000)
	if len(gen) != 1 {
		t.Fatalf("I14: %d generated ACKs on subflow 0, want 1", len(gen))
	}
	tcp, o = checkOut(t, &gen[0])
	if tcp.Ack() != header.Seq32(cl.sub[0].isn+1001) || tcp.Flags() != ackF || !o.dss || len(tcp.Payload()) != 0 {
		t.Errorf("I14: generated ACK ack %d flags %#x", tcp.Ack()-header.Seq32(cl.sub[0].isn), tcp.Flags())
	}
}

// TestSubflowAckNeedsSeenBytes: S acknowledges data the client reinjected
// on subflow 0, but P never saw subflow 1's bytes below its out-of-order
// segment, so subflow 1 is not acknowledged past them (I13).
func TestSubflowAckNeedsSeenBytes(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	pay := make([]byte, 1000)
	// Subflow 1: SSN 1001.. carries data 2000..3000; SSN 1..1001 never seen.
	f.send(t, f.cpkt(1, 1001, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+2000, 1001, 1000, pay), pay), Access, 1)
	// Subflow 0 carries data 1000..2000 (the client reinjected it there).
	f.send(t, f.cpkt(0, 1001, cl.sub[0].peerISN+1, pshF, cl.dss(0, true, cl.idsnC+1+1000, 1001, 1000, pay), pay), Access, 0)
	_, out := f.send(t, f.spkt(0, cl.sub[0].isn+1+3000, ackF, nil, nil), Core, 0)
	for _, p := range outTo(t, out, 40001) {
		tcp, _, _ := view(t, p.Bytes())
		if tcp.Ack() != header.Seq32(cl.sub[1].isn+1) {
			t.Errorf("I13: subflow 1 acked to %d past bytes P never saw", tcp.Ack()-header.Seq32(cl.sub[1].isn))
		}
	}
	var acked bool
	for _, p := range outTo(t, out, 40000) {
		tcp, _, _ := view(t, p.Bytes())
		acked = acked || tcp.Ack() == header.Seq32(cl.sub[0].isn+2001)
	}
	if !acked {
		t.Error("I13: subflow 0 not acknowledged to 2001")
	}
}

// joinSynPkt is a join SYN from the second client address.
func joinSynPkt(f *fixture, port uint16, token uint32) []byte {
	opts := make([]byte, 12)
	opts[0], opts[1], opts[2], opts[3] = optMPTCP, optLenJoinSyn, mptcpSubJoin<<4, 2
	binary.BigEndian.PutUint32(opts[4:], token)
	binary.BigEndian.PutUint32(opts[8:], 99)
	return simBuildIP(false, f.m.c.sub[1].addr, f.m.sAddr, port, 5201, 777, 0, header.TCPFlagSyn, 1024, opts, nil)
}

// TestJoinRejects: unknown token and too many subflows are answered by
// RST with MP_TCPRST and keep no state (I17); joins whose third ACK never
// comes are released by the join timeout (I21).
func TestJoinRejects(t *testing.T) {
	f := newFixture(t)
	_, c := f.connIdx()
	subs := f.e.ActiveSubflows()
	v, out := f.send(t, joinSynPkt(f, 50001, c.tokenP^1), Access, 1)
	if v != Forward || len(out) != 1 {
		t.Fatalf("unknown token: %v", v)
	}
	tcp, o := checkOut(t, &out[0])
	if tcp.Flags()&header.TCPFlagRst == 0 || !o.mpRst || f.e.cnt.JoinsRejected[JoinUnknownToken] != 1 || f.e.ActiveSubflows() != subs {
		t.Errorf("I17: unknown token: flags %#x mpRst %v rejected %v", tcp.Flags(), o.mpRst, f.e.cnt.JoinsRejected)
	}
	for i, port := range []uint16{50002, 50003} {
		v, out = f.send(t, joinSynPkt(f, port, c.tokenP), Access, 1)
		tcp, _ = checkOut(t, &out[0])
		if v != Forward || tcp.Flags() != header.TCPFlagSyn|header.TCPFlagAck || f.e.ActiveSubflows() != subs+i+1 {
			t.Fatalf("join %d: %v flags %#x", i, v, tcp.Flags())
		}
	}
	v, out = f.send(t, joinSynPkt(f, 50004, c.tokenP), Access, 1)
	tcp, o = checkOut(t, &out[0])
	if tcp.Flags()&header.TCPFlagRst == 0 || !o.mpRst || f.e.cnt.JoinsRejected[JoinTooManySubflows] != 1 {
		t.Errorf("I17: too many subflows: flags %#x rejected %v", tcp.Flags(), f.e.cnt.JoinsRejected)
	}
	f.e.Tick(f.m.now + int64(f.e.cfg.JoinTimeout) + int64(20*time.Millisecond))
	if f.e.ActiveSubflows() != subs || f.e.cnt.JoinsRejected[JoinTimeout] != 2 || f.e.ActiveConnections() != 1 {
		t.Errorf("I21: join timeout: subflows %d rejected %v", f.e.ActiveSubflows(), f.e.cnt.JoinsRejected)
	}
	checkSlab(t, f.e) // I34: the timed-out joins' slots are zero again
}

// TestClientSubflowRst: an RST on one subflow closes it only (its slot is
// freed for a new join); S's data then goes to the other (DESIGN 3.3).
func TestClientSubflowRst(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	subs := f.e.ActiveSubflows()
	v, _ := f.send(t, f.cpkt(1, 1, 0, header.TCPFlagRst, nil, nil), Access, 1)
	if v != Consumed || f.e.ActiveConnections() != 1 || f.e.ActiveSubflows() != subs-1 {
		t.Fatalf("subflow RST: %v, subflows %d -> %d", v, subs, f.e.ActiveSubflows())
	}
	pay := make([]byte, 500)
	for k := uint32(0); k < 4; k++ {
		_, out := f.send(t, f.spkt(k*500, cl.sub[0].isn+1001, pshF, nil, pay), Core, 0)
		if len(out) == 0 || dstPort(t, &out[0]) != 40000 {
			t.Fatalf("segment %d not on subflow 0", k)
		}
	}
}

// TestClientFastclose: MP_FASTCLOSE with key_P resets S and every other
// subflow (RFC 8684 3.5); the state goes after the linger (I21).
func TestClientFastclose(t *testing.T) {
	f := newFixture(t)
	_, c := f.connIdx()
	opts := make([]byte, 12)
	opts[0], opts[1], opts[2] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4
	binary.BigEndian.PutUint64(opts[4:], c.keyP)
	v, out := f.send(t, f.cpkt(0, 1001, f.m.c.sub[0].peerISN+1, ackF, opts, nil), Access, 0)
	if v != Forward || out[0].Side != Core {
		t.Fatalf("fastclose: %v", v)
	}
	tcp, o := checkOut(t, &out[0])
	if tcp.Flags()&header.TCPFlagRst == 0 || o.hasMPTCP || tcp.SourcePort() != 40000 {
		t.Errorf("RST to S: flags %#x", tcp.Flags())
	}
	if len(outTo(t, out, 40001)) != 1 {
		t.Errorf("no RST on subflow 1")
	}
	f.e.Tick(f.m.now + int64(f.e.cfg.Linger) + int64(20*time.Millisecond))
	if f.e.ActiveConnections() != 0 || f.e.cnt.Resets != 1 {
		t.Errorf("I21: conns %d resets %d", f.e.ActiveConnections(), f.e.cnt.Resets)
	}
}

// TestMPPrioBackup: a subflow the client marks backup (MP_PRIO) carries
// no new data while another is live (DESIGN 3.5).
func TestMPPrioBackup(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	opts := append([]byte{optMPTCP, optLenPrio, mptcpSubPrio<<4 | 1, optNOP}, cl.dss(1, false, 0, 0, 0, nil)...)
	f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, ackF, opts, nil), Access, 1)
	pay := make([]byte, 500)
	for k := uint32(0); k < 6; k++ {
		_, out := f.send(t, f.spkt(k*500, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
		if dstPort(t, &out[0]) != 40000 {
			t.Fatalf("segment %d on the backup subflow", k)
		}
	}
}

// TestSACKTranslation: the client's SACK (subflow SSN space of S->C data)
// reaches S in TCP space, and S's SACK (TCP space of C->S data) reaches
// the client in the owner subflow's SSN space (DESIGN 3.3, 3.4).
func TestSACKTranslation(t *testing.T) {
	f := newFixture(t)
	_, c := f.connIdx()
	cl := f.m.c
	pay := make([]byte, 1000)
	var last Packet
	for k := uint32(0); k < 3; k++ {
		_, out := f.send(t, f.spkt(k*1000, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
		last = out[0]
	}
	tcp, _, _ := view(t, last.Bytes())
	j := 0
	if tcp.DestinationPort() == 40001 {
		j = 1
	}
	l, r := uint32(tcp.Seq()), uint32(tcp.Seq())+1000
	sack := []byte{optNOP, optNOP, optSACK, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(sack[4:], l)
	binary.BigEndian.PutUint32(sack[8:], r)
	opts := append(cl.dss(j, false, 0, 0, 0, nil), sack...)
	_, out := f.send(t, f.cpkt(j, max(cl.sub[j].nxt, 1001*uint32(1-j)+uint32(j)), l-1000, ackF, opts, nil), Access, uint8(j))
	_, o := checkOut(t, &out[0])
	wantL := f.m.s.isn + 1 + 2000
	if o.nsack != 1 || o.sack[0] != [2]uint32{wantL, wantL + 1000} {
		t.Errorf("client SACK to S: %d blocks %v, want [%d %d]", o.nsack, o.sack[:o.nsack], wantL, wantL+1000)
	}
	// C->S: subflow 1 carries data 1000..3000 as SSN 1..2001; S acks
	// 1000 and SACKs 2000..3000.
	f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+1000, 1, 1000, pay), pay), Access, 1)
	f.send(t, f.cpkt(1, 1001, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+2000, 1001, 1000, pay), pay), Access, 1)
	base := cl.sub[0].isn + 1
	sack = []byte{optNOP, optNOP, optSACK, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(sack[4:], base+2000)
	binary.BigEndian.PutUint32(sack[8:], base+3000)
	_, out = f.send(t, f.spkt(3000, base+1000, ackF, sack, nil), Core, 0)
	if dstPort(t, &out[0]) != 40001 {
		t.Fatalf("I15: dup-ACK not on the subflow owning data 1000")
	}
	_, o = checkOut(t, &out[0])
	want := [2]uint32{cl.sub[1].isn + 1001, cl.sub[1].isn + 2001}
	if !c.sackOK || o.nsack != 1 || o.sack[0] != want {
		t.Errorf("S SACK to client: %d blocks %v, want %v", o.nsack, o.sack[:o.nsack], want)
	}
}

// TestDeadSubflowReinjection: when the subflow a range first went out on
// is dead (no subflow-ack progress for DeadAfter), S's retransmission is
// reinjected on a live subflow as a new mapping (I12).
func TestDeadSubflowReinjection(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 100 * time.Millisecond})
	cl := f.m.c
	pay := make([]byte, 1000)
	_, out := f.send(t, f.spkt(0, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	first := dstPort(t, &out[0])
	f.m.now += int64(300 * time.Millisecond)
	_, out = f.send(t, f.spkt(0, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	if dstPort(t, &out[0]) == first || f.e.cnt.Reinjections != 1 {
		t.Errorf("not reinjected: first on %d, again on %d, reinjections %d", first, dstPort(t, &out[0]), f.e.cnt.Reinjections)
	}
	_, o := checkOut(t, &out[0])
	if o.dsn != uint64(f.m.c.idsnP+1) || o.dataLen != 1000 {
		t.Errorf("reinjected mapping dsn %#x len %d", o.dsn, o.dataLen)
	}
}

// TestInfiniteMappingFallback: an infinite mapping on a connection that
// never had a second subflow turns it into plain forwarding (RFC 8684
// 3.7, DESIGN 3.1 step 4).
func TestInfiniteMappingFallback(t *testing.T) {
	e, _ := New(Config{MaxConnections: 4, Keys: &fixedKeys{keys: []uint64{0x0102030405060708}}}, newTestAlloc(4))
	syn := simBuild(simC0, simS, 1, 5201, 1000, 0, header.TCPFlagSyn, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil)
	synAck := simBuild(simS, simC0, 5201, 1, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024, []byte{optMSS, 4, 0x05, 0xb4}, nil)
	cap := make([]byte, 20)
	cap[0], cap[1], cap[2], cap[3] = optMPTCP, optLenCapableAck, mptcpSubCapable<<4|1, mpCapableFlagH
	binary.BigEndian.PutUint64(cap[4:], 0x1111)
	binary.BigEndian.PutUint64(cap[12:], 0x0102030405060708)
	third := simBuild(simC0, simS, 1, 5201, 1001, 5001, ackF, 1024, cap, nil)
	for i, ip := range [][]byte{syn, synAck, third} {
		side := Access
		if i == 1 {
			side = Core
		}
		p := mkPacket(ip, side, 0)
		if v := e.Process(1, &p); v != Forward {
			t.Fatalf("handshake packet %d: %v", i, v)
		}
	}
	var w optWriter
	w.dss(0x0102, true, keyIDSN(0x1111)+1, 1, 0, false, false, 0)
	data := simBuild(simC0, simS, 1, 5201, 1001, 5001, pshF, 1024, w.pad(), make([]byte, 100))
	p := mkPacket(data, Access, 0)
	if v := e.Process(2, &p); v != Pass || e.ActiveConnections() != 0 || e.cnt.ConnFallback[FallbackInfiniteMapping] != 1 {
		t.Errorf("infinite mapping: %v conns %d fallback %v", v, e.ActiveConnections(), e.cnt.ConnFallback)
	}
}

// TestLastSubflowFinReachesS: with no DATA_FIN, the subflow FIN that ends
// the last live subflow becomes the TCP FIN to S, at the next data-level
// position (I20).
func TestLastSubflowFinReachesS(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	f.send(t, f.cpkt(1, 1, 0, header.TCPFlagRst, nil, nil), Access, 1)
	v, out := f.send(t, f.cpkt(0, 1001, cl.sub[0].peerISN+1, ackF|header.TCPFlagFin, cl.dss(0, false, 0, 0, 0, nil), nil), Access, 0)
	if v != Forward || out[0].Side != Core {
		t.Fatalf("FIN: %v", v)
	}
	tcp, _ := checkOut(t, &out[0])
	if tcp.Flags()&header.TCPFlagFin == 0 || tcp.Seq() != header.Seq32(cl.sub[0].isn+1001) {
		t.Errorf("I20: flags %#x seq %d", tcp.Flags(), tcp.Seq()-header.Seq32(cl.sub[0].isn))
	}
}

// TestOptionSpaceSACKFirst: when S's SACK blocks do not fit beside the
// DSS, blocks are dropped, never the mapping, and the header stays within
// 40 option bytes (I10).
func TestOptionSpaceSACKFirst(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	// Subflow 1 becomes backup, so S's data goes to subflow 0.
	opts := append([]byte{optMPTCP, optLenPrio, mptcpSubPrio<<4 | 1, optNOP}, cl.dss(1, false, 0, 0, 0, nil)...)
	f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, ackF, opts, nil), Access, 1)
	pay := make([]byte, 1000)
	for k := uint32(1); k < 4; k++ {
		f.send(t, f.cpkt(0, 1+k*1000, cl.sub[0].peerISN+1, pshF, cl.dss(0, true, cl.idsnC+1+uint64(k)*1000, 1+k*1000, 1000, pay), pay), Access, 0)
	}
	base := cl.sub[0].isn + 1
	sack := []byte{optNOP, optNOP, optSACK, 26}
	for _, b := range [][2]uint32{{2000, 2500}, {3000, 3500}, {3600, 3900}} {
		sack = binary.BigEndian.AppendUint32(sack, base+b[0])
		sack = binary.BigEndian.AppendUint32(sack, base+b[1])
	}
	_, out := f.send(t, f.spkt(0, base+1000, pshF, sack, pay), Core, 0)
	tcp, o := checkOut(t, &out[0])
	if dstPort(t, &out[0]) != 40000 || !o.dss || o.dssFlags&dssHasMap == 0 {
		t.Fatalf("I10: no mapping on port %d", tcp.DestinationPort())
	}
	if o.nsack < 1 || o.nsack > 1 || o.sack[0] != [2]uint32{cl.sub[0].isn + 2001, cl.sub[0].isn + 2501} {
		t.Errorf("I10: SACK blocks %v", o.sack[:o.nsack])
	}
}

// TestHandshakeFallbacks: the fallbacks of DESIGN 3.1 leave no state and
// are counted by reason: S's SYN/ACK without room for MP_CAPABLE is
// forwarded unchanged; no key_P available; a client third ACK without
// MPTCP options (the client dropped MP_CAPABLE); an MP_CAPABLE SYN of
// version 0 passes untranslated.
func TestHandshakeFallbacks(t *testing.T) {
	syn := simBuild(simC0, simS, 1, 5201, 1000, 0, header.TCPFlagSyn, 1024,
		[]byte{optMSS, 4, 0x05, 0xb4, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil)
	synAck := simBuild(simS, simC0, 5201, 1, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024, []byte{optMSS, 4, 0x05, 0xb4}, nil)
	// 32 option bytes: MSS, SACK-permitted, window scale and an unknown
	// 21-byte option leave no room for the 12-byte MP_CAPABLE.
	full := append([]byte{optMSS, 4, 0x05, 0xb4, optSACKPerm, 2, optWS, 3, 7, 253, 21}, make([]byte, 19)...)
	synAckFull := simBuild(simS, simC0, 5201, 1, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, 1024, full, nil)
	plainAck := simBuild(simC0, simS, 1, 5201, 1001, 5001, ackF, 1024, nil, nil)
	v0 := simBuild(simC0, simS, 2, 5201, 1000, 0, header.TCPFlagSyn, 1024,
		append([]byte{optMPTCP, 12, mptcpSubCapable << 4, mpCapableFlagH}, make([]byte, 8)...), nil)
	tests := []struct {
		name    string
		keys    []uint64
		pkts    [][]byte
		want    []Verdict
		reason  FallbackReason
		noState bool
	}{
		{"no option room", []uint64{7}, [][]byte{syn, synAckFull}, []Verdict{Forward, Pass}, FallbackNoOptionSpace, true},
		{"no key", nil, [][]byte{syn, synAck}, []Verdict{Forward, Pass}, FallbackNoKey, true},
		{"client dropped MP_CAPABLE", []uint64{7}, [][]byte{syn, synAck, plainAck}, []Verdict{Forward, Forward, Pass}, FallbackClientDropped, true},
		{"version 0", []uint64{7}, [][]byte{v0}, []Verdict{Pass}, FallbackVersion, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := New(Config{MaxConnections: 4, Keys: &fixedKeys{keys: tc.keys}}, newTestAlloc(4))
			for i, ip := range tc.pkts {
				side := Access
				if [4]byte(ip[12:16]) == simS {
					side = Core
				}
				orig := append([]byte(nil), ip...)
				p := mkPacket(ip, side, 0)
				v := e.Process(1, &p)
				if v != tc.want[i] {
					t.Fatalf("packet %d: %v, want %v", i, v, tc.want[i])
				}
				if v == Pass && !bytesEqual(p.Bytes(), orig) {
					t.Errorf("packet %d passed but modified", i)
				}
				if v == Forward {
					if _, o := checkOut(t, &p); side == Access && o.hasMPTCP {
						t.Errorf("packet %d to S carries MPTCP", i)
					}
				}
			}
			if e.cnt.ConnFallback[tc.reason] != 1 || tc.noState && (e.ActiveConnections() != 0 || e.Tokens() != 0) {
				t.Errorf("fallbacks %v, conns %d tokens %d", e.cnt.ConnFallback, e.ActiveConnections(), e.Tokens())
			}
		})
	}
}

func bytesEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSynReusesTuple: a new SYN (another ISN) on the 4-tuple of a
// connection still in its handshake replaces the old state (the client
// gave up and reused the port) instead of being held until the SYN
// timeout.
func TestSynReusesTuple(t *testing.T) {
	e, _ := New(Config{MaxConnections: 4}, newTestAlloc(4))
	syn := func(isn uint32) []byte {
		return simBuild(simC0, simS, 1, 5201, isn, 0, header.TCPFlagSyn, 1024,
			[]byte{optMSS, 4, 0x05, 0xb4, optMPTCP, 4, mptcpSubCapable<<4 | 1, mpCapableFlagH}, nil)
	}
	for _, isn := range []uint32{1000, 1000, 9000} {
		p := mkPacket(syn(isn), Access, 0)
		if v := e.Process(1, &p); v != Forward {
			t.Fatalf("SYN %d: %v", isn, v)
		}
	}
	synAck := simBuild(simS, simC0, 5201, 1, 5000, 9001, header.TCPFlagSyn|header.TCPFlagAck, 1024, []byte{optMSS, 4, 0x05, 0xb4}, nil)
	p := mkPacket(synAck, Core, 0)
	if v := e.Process(1, &p); v != Forward || e.ActiveConnections() != 1 || e.cnt.ConnOpened != 2 {
		t.Errorf("SYN/ACK for the new ISN: %v, conns %d opened %d", v, e.ActiveConnections(), e.cnt.ConnOpened)
	}
	if _, o := checkOut(t, &p); !o.capable {
		t.Error("SYN/ACK without MP_CAPABLE")
	}
}

// TestServerKeepalive: a keepalive from S (seq one below SND.NXT, no
// data) is answered by P with the client's DATA_ACK, since the client
// acknowledged everything (I3).
func TestServerKeepalive(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	pay := make([]byte, 100)
	_, out := f.send(t, f.spkt(0, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	tcp, _, _ := view(t, out[0].Bytes())
	j := 0
	if tcp.DestinationPort() == 40001 {
		j = 1
	}
	var w optWriter
	w.dss(cl.idsnP+1+100, false, 0, 0, 0, false, false, 0)
	f.send(t, f.cpkt(j, max(cl.sub[j].nxt, 1)+uint32(1-j)*1000, uint32(tcp.Seq())+100, ackF, w.pad(), nil), Access, uint8(j))
	v, out := f.send(t, f.spkt(99, cl.sub[0].isn+1, ackF, nil, nil), Core, 0)
	if v != Forward || out[0].Side != Core {
		t.Fatalf("keepalive: %v", v)
	}
	tcp, _, _ = view(t, out[0].Bytes())
	if tcp.Ack() != header.Seq32(f.m.s.isn+1+100) || tcp.DestinationPort() != 5201 {
		t.Errorf("keepalive answer ack %d", tcp.Ack()-header.Seq32(f.m.s.isn))
	}
}

// TestSplitKeepsBadChecksum: a corrupted server retransmission that P
// would split is dropped rather than given fresh, valid checksums (I9).
func TestSplitKeepsBadChecksum(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	pay := make([]byte, 1000)
	for k := uint32(0); k < 2; k++ {
		f.send(t, f.spkt(k*1000, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	}
	ip := f.spkt(500, cl.sub[0].isn+1, pshF, nil, pay) // spans both mappings
	ip[len(ip)-1] ^= 0x55                              // corrupt the payload, keep the checksum
	if v, _ := f.send(t, ip, Core, 0); v != Drop || f.e.cnt.Drops[DropMalformed] != 1 {
		t.Fatalf("corrupted split: %v, drops %v", v, f.e.cnt.Drops)
	}
	ip = f.spkt(500, cl.sub[0].isn+1, pshF, nil, pay)
	before := f.e.cnt
	if v, out := f.send(t, ip, Core, 0); v != Forward || len(out) != 2 || f.e.cnt.SplitRetransmits != 1 {
		t.Fatalf("split: %v, %d packets", v, len(out))
	}
	// Both pieces count as translated segments, their bytes once.
	if n, b := f.e.cnt.SegmentsS2C-before.SegmentsS2C, f.e.cnt.BytesS2C-before.BytesS2C; n != 2 || b != 1000 {
		t.Errorf("split counted as %d segments, %d bytes; want 2, 1000", n, b)
	}
}

// TestChecksumPartialRetransmission: on a connection with DSS checksums,
// a server retransmission covering part of a mapping carries the whole
// mapping's checksum (remembered when it was first sent); if that sum was
// lost from the cache, the part goes out as a new mapping with its own
// checksum (RFC 8684 3.3.1, I12).
func TestChecksumPartialRetransmission(t *testing.T) {
	f := newFixtureOpt(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62}, true)
	cl := f.m.c
	pay := make([]byte, 1000)
	for i := range pay {
		pay[i] = byte(i * 7)
	}
	_, out := f.send(t, f.spkt(0, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	_, first := checkOut(t, &out[0])
	want := dssChecksum(first.dsn, first.ssn, 1000, header.OnesSum(pay, 0))
	if !first.dssCsum || first.dssSum != want {
		t.Fatalf("DSS checksum %#x, want %#x", first.dssSum, want)
	}
	// S retransmits the second half only.
	_, out = f.send(t, f.spkt(500, cl.sub[0].isn+1, pshF, nil, pay[500:]), Core, 0)
	_, o := checkOut(t, &out[0])
	if o.dsn != first.dsn || o.ssn != first.ssn || o.dataLen != 1000 || o.dssSum != want {
		t.Errorf("partial retransmission: mapping %#x/%d/%d sum %#x, want the original's", o.dsn, o.ssn, o.dataLen, o.dssSum)
	}
	// Forget the cached sums: the part becomes a new mapping.
	clear(f.e.csums)
	_, out = f.send(t, f.spkt(500, cl.sub[0].isn+1, pshF, nil, pay[500:]), Core, 0)
	_, o = checkOut(t, &out[0])
	if f.e.cnt.ChecksumMisses != 1 || o.dsn != first.dsn+500 || o.dataLen != 500 ||
		o.dssSum != dssChecksum(o.dsn, o.ssn, 500, header.OnesSum(pay[500:], 0)) {
		t.Errorf("after a miss: mapping %#x/%d/%d, misses %d", o.dsn-first.dsn, o.ssn, o.dataLen, f.e.cnt.ChecksumMisses)
	}
}

// TestSACKForHoleBeforeP: S's segment at offset 1000 never reaches P (lost
// before it); P maps the later ones, the client acknowledges every subflow
// to its end while its DATA_ACK stays at the hole. The ACK P forwards to
// S must SACK the bytes the client holds (I24), or S sees duplicate ACKs
// without SACK and recovers only by RTO; the SACK must not cover the
// hole, nor reach past what the client acknowledged.
func TestSACKForHoleBeforeP(t *testing.T) {
	f := newFixture(t)
	ci, c := f.connIdx()
	pay := make([]byte, 1000)
	for _, off := range []uint32{0, 2000, 3000, 4000} {
		if v, _ := f.send(t, f.spkt(off, f.m.c.sub[0].isn+1001, pshF, nil, pay), Core, 0); v != Forward {
			t.Fatalf("S->C data at %d: %v", off, v)
		}
	}
	dataAck := uint64(c.idsnP) + 1 + 1000
	sBase := f.m.s.isn + 1
	check := func(j int, wantBlocks [][2]uint32) {
		t.Helper()
		s := f.e.sub(ci, j)
		sub := &f.m.c.sub[j]
		var w optWriter
		w.dss(dataAck, false, 0, 0, 0, false, false, 0)
		ip := simBuildIP(false, sub.addr, f.m.sAddr, sub.port, 5201, uint32(s.isnC.Add(s.rcvNxt)), uint32(s.isnP.Add(s.sndNxt)), ackF, 1024, w.pad(), nil)
		v, out := f.send(t, ip, Access, uint8(j))
		if v != Forward {
			t.Fatalf("client ACK on %d: %v", j, v)
		}
		tcp, o := checkOut(t, &out[0])
		if want := header.Seq32(sBase + uint32(dataAck-uint64(c.idsnP)-1)); tcp.Ack() != want {
			t.Errorf("I3: ack %d, want %d", tcp.Ack(), want)
		}
		got := o.sack[:o.nsack]
		if len(got) != len(wantBlocks) {
			t.Fatalf("I24: after the ACK on subflow %d S got SACK %v, want %v", j, got, wantBlocks)
		}
		for i := range got {
			if got[i] != wantBlocks[i] {
				t.Errorf("I24: after the ACK on subflow %d S got SACK %v, want %v", j, got, wantBlocks)
			}
		}
	}
	// Which data went where depends on the scheduler: compute the
	// expected blocks from the engine's subflows after each ACK.
	held := map[uint32]bool{}
	for j := 0; j < 2; j++ {
		for _, off := range []uint32{2000, 3000, 4000} {
			if sub, ok := f.e.store.ProxyOwner(c.pmap, uint64(c.idsnP)+1+uint64(off)); ok && int(sub) == j {
				held[off] = true
			}
		}
		var want [][2]uint32
		for off := uint32(2000); off <= 4000; off += 1000 {
			if !held[off] {
				continue
			}
			if n := len(want); n > 0 && want[n-1][1] == sBase+off {
				want[n-1][1] += 1000
			} else {
				want = append(want, [2]uint32{sBase + off, sBase + off + 1000})
			}
		}
		check(j, want)
	}
	if !held[2000] || !held[3000] || !held[4000] {
		t.Fatalf("not every segment was mapped: %v", held)
	}
	// S retransmits the hole; once the DATA_ACK covers it, no more SACK.
	f.send(t, f.spkt(1000, f.m.c.sub[0].isn+1001, pshF, nil, pay), Core, 0)
	dataAck += 4000
	check(0, nil)
	if c.nheld != 0 || c.hole {
		t.Errorf("I24: %d ranges held after the hole closed", c.nheld)
	}
}

// sackOpt is S's SACK option (NOP, NOP, kind 5) with the given blocks.
func sackOpt(blocks ...[2]uint32) []byte {
	o := []byte{optNOP, optNOP, 5, byte(2 + 8*len(blocks))}
	for _, b := range blocks {
		o = binary.BigEndian.AppendUint32(o, b[0])
		o = binary.BigEndian.AppendUint32(o, b[1])
	}
	return o
}

// TestSubflowAckCoversSACKed: P acknowledges at the subflow level the
// client bytes whose data-level range S has SACKed, even while S's
// cumulative ack is stuck below them on another subflow's data; the
// DATA_ACK stays S's cumulative ack (I25, relaxing I13's data-level
// condition; a deliberate departure from DESIGN 3.4).
func TestSubflowAckCoversSACKed(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	_, c := f.connIdx()
	pay := make([]byte, 1000)
	// The fixture sent data 0..1000 on subflow 0 (SSN 1..1001). Subflow 1
	// carries data 1000..3000 in two mappings (SSN 1..1001, 1001..2001).
	for k := uint32(0); k < 2; k++ {
		f.send(t, f.cpkt(1, 1+1000*k, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+1000+uint64(1000*k), 1+1000*k, 1000, pay), pay), Access, 1)
	}
	base := cl.sub[0].isn + 1 // S's TCP sequence of data offset 0
	ackOf := func(out []Packet, port uint16) (uint32, uint64, bool) {
		t.Helper()
		ps := outTo(t, out, port)
		if len(ps) == 0 {
			return 0, 0, false
		}
		tcp, o := checkOut(t, &ps[len(ps)-1])
		return uint32(tcp.Ack()), o.dataAck, true
	}
	// S lost data 0..1000 (subflow 0's) and SACKs 1000..2500: subflow 1
	// is acknowledged to SSN 1501, subflow 0 not at all, and the DATA_ACK
	// stays at data offset 0.
	_, out := f.send(t, f.spkt(0, base, ackF, sackOpt([2]uint32{base + 1000, base + 2500}), nil), Core, 0)
	a, da, ok := ackOf(out, 40001)
	if !ok || a != cl.sub[1].isn+1501 {
		t.Errorf("I25: subflow 1 acked to %d (sent %v), want 1501", a-cl.sub[1].isn, ok)
	}
	if ok && da != uint64(c.idsnC)+1 {
		t.Errorf("I25: DATA_ACK %d past S's cumulative ack %d", da, uint64(c.idsnC)+1)
	}
	if a, _, ok := ackOf(out, 40000); ok && a != cl.sub[0].isn+1 {
		t.Errorf("I13: subflow 0 acked to %d, S has neither acked nor SACKed its data", a-cl.sub[0].isn)
	}
	// A SACK block beyond what the client sent is ignored.
	f.send(t, f.spkt(0, base, ackF, sackOpt([2]uint32{base + 1000, base + 9000}), nil), Core, 0)
	if c.nsacked != 1 || c.sackIdx == 0 || f.e.sackedEnd(c, c.idsnC+1+1000) != c.idsnC+1+2500 {
		t.Errorf("I25: %d SACKed ranges (table %d) after a block beyond the sent data, want one up to 2500", c.nsacked, c.sackIdx)
	}
	// The rest of subflow 1's data is SACKed: acked to its end.
	_, out = f.send(t, f.spkt(0, base, ackF, sackOpt([2]uint32{base + 1000, base + 3000}), nil), Core, 0)
	if a, _, ok := ackOf(out, 40001); !ok || a != cl.sub[1].isn+2001 {
		t.Errorf("I25: subflow 1 acked to %d (sent %v), want 2001", a-cl.sub[1].isn, ok)
	}
	// S's cumulative ack covers everything: the SACKed set empties and
	// subflow 0 is acknowledged too.
	_, out = f.send(t, f.spkt(0, base+3000, ackF, nil, nil), Core, 0)
	if a, da, ok := ackOf(out, 40000); !ok || a != cl.sub[0].isn+1001 || da != uint64(c.idsnC)+1+3000 {
		t.Errorf("subflow 0 acked to %d, DATA_ACK %d (sent %v)", a-cl.sub[0].isn, da, ok)
	}
	if c.nsacked != 0 || c.sackIdx != 0 {
		t.Errorf("I25: %d SACKed ranges (table %d) left below the cumulative ack", c.nsacked, c.sackIdx)
	}
	checkSlab(t, f.e)
}

// TestDeadSubflowHoleFill: S's retransmission of a piece whose subflow is
// dead is reinjected on a live subflow and also resent on its original
// mapping, so the hole in the dead subflow fills if its path works again
// and an ack revives it; with every subflow dead, the original mapping
// alone carries the retransmission and new data goes out on an
// established subflow instead of being dropped (I26).
func TestDeadSubflowHoleFill(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 100 * time.Millisecond})
	ci, _ := f.connIdx()
	pay := make([]byte, 1000)
	_, out := f.send(t, f.spkt(0, f.m.c.sub[0].isn+1, pshF, nil, pay), Core, 0)
	first := dstPort(t, &out[0])
	_, o0 := checkOut(t, &out[0])
	f.m.now += int64(300 * time.Millisecond)
	_, out = f.send(t, f.spkt(0, f.m.c.sub[0].isn+1, pshF, nil, pay), Core, 0)
	if len(out) != 2 {
		t.Fatalf("I26: %d packets for a dead subflow's retransmission, want 2 (reinjection, original)", len(out))
	}
	if dstPort(t, &out[0]) == first || f.e.cnt.Reinjections != 1 {
		t.Errorf("I12: not reinjected: first on %d, again on %d", first, dstPort(t, &out[0]))
	}
	tcp, o := checkOut(t, &out[1])
	if tcp.DestinationPort() != first || o.dsn != o0.dsn || o.ssn != o0.ssn || o.dataLen != o0.dataLen {
		t.Errorf("I26: copy on port %d with mapping (%#x, %d, %d), want port %d with (%#x, %d, %d)",
			tcp.DestinationPort(), o.dsn, o.ssn, o.dataLen, first, o0.dsn, o0.ssn, o0.dataLen)
	}
	// Both subflows dead: the retransmission goes out on the latest
	// mapping's subflow only, new data on an established subflow.
	f.m.now += int64(300 * time.Millisecond)
	_, out = f.send(t, f.spkt(0, f.m.c.sub[0].isn+1, pshF, nil, pay), Core, 0)
	for j := 0; j < 2; j++ {
		if s := f.e.sub(ci, j); !f.e.isDead(f.m.now, s) {
			t.Fatalf("subflow %d not dead (una %d nxt %d)", j, s.sndUna, s.sndNxt)
		}
	}
	if len(out) != 1 || f.e.cnt.Reinjections != 1 {
		t.Errorf("I26: every subflow dead: %d packets, %d reinjections; want 1 on the original mapping", len(out), f.e.cnt.Reinjections)
	}
	drops := f.e.cnt.Drops[DropNoSubflow]
	v, out := f.send(t, f.spkt(1000, f.m.c.sub[0].isn+1, pshF, nil, pay), Core, 0)
	if v != Forward || len(out) != 1 || f.e.cnt.Drops[DropNoSubflow] != drops {
		t.Errorf("I26: new data with every subflow dead: %v, %d packets, no_subflow drops %d", v, len(out), f.e.cnt.Drops[DropNoSubflow]-drops)
	}
}

// TestLostAtDataLevelReinjected: bytes the client acknowledged on their
// subflow but not at the data level, which S therefore sends again, go
// out once more on their original mapping (the DATA_ACK may have been
// lost); the second time S sends them they are reinjected as a new
// mapping, because the client's subflow would discard the original as a
// duplicate while its MPTCP level lacks them (I27).
func TestLostAtDataLevelReinjected(t *testing.T) {
	f := newFixture(t)
	ci, c := f.connIdx()
	pay := make([]byte, 1000)
	_, out := f.send(t, f.spkt(0, f.m.c.sub[0].isn+1001, pshF, nil, pay), Core, 0)
	_, o0 := checkOut(t, &out[0])
	j := 0
	if dstPort(t, &out[0]) == 40001 {
		j = 1
	}
	// The client acknowledges the segment on its subflow; its DATA_ACK
	// stays below it (its MPTCP level dropped the data).
	s := f.e.sub(ci, j)
	sub := &f.m.c.sub[j]
	var w optWriter
	w.dss(uint64(c.idsnP)+1, false, 0, 0, 0, false, false, 0)
	f.send(t, simBuildIP(false, sub.addr, f.m.sAddr, sub.port, 5201, uint32(s.isnC.Add(s.rcvNxt)), uint32(s.isnP.Add(s.sndNxt)), ackF, 1024, w.pad(), nil), Access, uint8(j))
	if s.sndUna != s.sndNxt {
		t.Fatalf("subflow ack not taken: una %d nxt %d", s.sndUna, s.sndNxt)
	}
	_, out = f.send(t, f.spkt(0, f.m.c.sub[0].isn+1001, pshF, nil, pay), Core, 0)
	_, o := checkOut(t, &out[0])
	if o.ssn != o0.ssn || o.dsn != o0.dsn || f.e.cnt.Reinjections != 0 {
		t.Errorf("I27: first resend: mapping (%#x, %d), %d reinjections; want the original (%#x, %d)", o.dsn, o.ssn, f.e.cnt.Reinjections, o0.dsn, o0.ssn)
	}
	_, out = f.send(t, f.spkt(0, f.m.c.sub[0].isn+1001, pshF, nil, pay), Core, 0)
	_, o = checkOut(t, &out[0])
	if o.dsn != o0.dsn || o.dataLen != o0.dataLen || dstPort(t, &out[0]) == uint16(40000+j) && o.ssn == o0.ssn || f.e.cnt.Reinjections != 1 {
		t.Errorf("I27: second resend: mapping (%#x, %d, %d) on %d, %d reinjections; want a new mapping of the same data",
			o.dsn, o.ssn, o.dataLen, dstPort(t, &out[0]), f.e.cnt.Reinjections)
	}
}

// TestWindowFromOlderDataAck: a client segment whose DATA_ACK is older
// than one P has already seen (overtaken on another subflow) has its
// window shortened by the difference, so S's right edge, counted from
// the highest DATA_ACK, stays where the client put it (I28).
func TestWindowFromOlderDataAck(t *testing.T) {
	f := newFixture(t)
	ci, c := f.connIdx()
	pay := make([]byte, 1000)
	for _, off := range []uint32{0, 1000} {
		f.send(t, f.spkt(off, f.m.c.sub[0].isn+1001, pshF, nil, pay), Core, 0)
	}
	s0 := f.e.sub(ci, 0)
	base := uint64(c.idsnP) + 1
	ack := func(j int, dataAck uint64, win uint16) (header.TCP, bool) {
		t.Helper()
		s := f.e.sub(ci, j)
		sub := &f.m.c.sub[j]
		var w optWriter
		w.dss(dataAck, false, 0, 0, 0, false, false, 0)
		ip := simBuildIP(false, sub.addr, f.m.sAddr, sub.port, 5201, uint32(s.isnC.Add(s.rcvNxt)), uint32(s.isnP.Add(s.sndUna)), ackF, win, w.pad(), nil)
		_, out := f.send(t, ip, Access, uint8(j))
		for i := range out {
			if dstPort(t, &out[i]) == 5201 {
				tcp, _ := checkOut(t, &out[i])
				return tcp, true
			}
		}
		return nil, false
	}
	// The newer DATA_ACK (2000 bytes) arrives first on subflow 1, then the
	// older one (1000 bytes) on subflow 0, both with a window of 500 units.
	ack(1, base+2000, 500)
	tcp, ok := ack(0, base+1000, 500)
	if !ok {
		t.Fatal("the client's ACK was not forwarded to S")
	}
	want := 500 - uint16(1000>>s0.ws)
	if tcp.Window() != want {
		t.Errorf("I28: window %d to S (scale %d), want %d", tcp.Window(), s0.ws, want)
	}
	if a := uint64(c.dataAck); a != base+2000 {
		t.Errorf("DATA_ACK went back to %d", a-base)
	}
}

// TestSubflowAckAfterClientReinjection: a subflow that carries, after
// bytes S has only SACKed, bytes the client sent again at the data level
// (lower DSNs, already acknowledged by S) is acknowledged through both
// (I25, I13).
func TestSubflowAckAfterClientReinjection(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	pay := make([]byte, 1000)
	// Subflow 1: SSN 1..1001 carries data 1000..2000, SSN 1001..2001
	// data 0..1000 again (the fixture sent it on subflow 0 first).
	f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+1000, 1, 1000, pay), pay), Access, 1)
	f.send(t, f.cpkt(1, 1001, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1, 1001, 1000, pay), pay), Access, 1)
	base := cl.sub[0].isn + 1
	// S acknowledges data 0..1000 and SACKs 1000..2000.
	_, out := f.send(t, f.spkt(0, base+1000, ackF, sackOpt([2]uint32{base + 1000, base + 2000}), nil), Core, 0)
	var got uint32
	for _, p := range outTo(t, out, 40001) {
		tcp, _ := checkOut(t, &p)
		got = uint32(tcp.Ack()) - cl.sub[1].isn
	}
	if got != 2001 {
		t.Errorf("I25: subflow 1 acked to %d, want 2001 (SACKed, then acknowledged data)", got)
	}
}
