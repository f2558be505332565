package translate

import (
	"testing"
	"time"
)

// TestClientReinjectsDeadSubflowMapping: path 2 is cut during an upload.
// The data the client had sent on subflow 1 never reaches P, so S holds
// subflow 0's later mappings out of order, one SACKed range per mapping
// between the lost ones: more ranges than P's SACKed table holds
// (maxSacked). The subflow ack P sends on subflow 0 walks over the ranges
// it remembers and then waits; the client's subflow 0 retransmits its
// first unacknowledged segment, S answers it with a DSACK, and P must
// acknowledge it at the subflow level (I25) even though the table is full
// of ranges the subflow ack has already passed (I29): otherwise the
// subflow sits in retransmission backoff with the client's reinjection of
// the dead subflow's data queued behind it, and the upload never
// completes (TestE2EPathDownUpload). The reinjected data then fills S's
// hole and everything is acknowledged.
func TestClientReinjectsDeadSubflowMapping(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	_, c := f.connIdx()
	pay := make([]byte, 1000)
	const n = 2*maxSacked + 4 // subflow-0 mappings between lost ones
	// The fixture sent data 0..1000 on subflow 0 (SSN 1..1001). After it,
	// data [1000+2000i, 2000+2000i) went out on subflow 1 and was lost;
	// [2000+2000i, 3000+2000i) goes on subflow 0 at SSN 1001+1000i.
	base := cl.sub[0].isn + 1 // S's TCP sequence of data offset 0
	rng := func(i int) [2]uint32 {
		return [2]uint32{base + 2000 + 2000*uint32(i), base + 3000 + 2000*uint32(i)}
	}
	sub0Ack := func(out []Packet) uint32 {
		t.Helper()
		a := uint32(0)
		for _, p := range outTo(t, out, 40000) {
			tcp, _ := checkOut(t, &p)
			if x := uint32(tcp.Ack()) - cl.sub[0].isn; int32(x-a) > 0 {
				a = x
			}
		}
		return a
	}
	var acked uint32
	for i := 0; i < n; i++ {
		ssn := 1001 + 1000*uint32(i)
		f.send(t, f.cpkt(0, ssn, cl.sub[0].peerISN+1, pshF, cl.dss(0, true, cl.idsnC+1+2000+2000*uint64(i), ssn, 1000, pay), pay), Access, 0)
		// S acknowledges data 0..1000 and SACKs the new range first, then
		// the three before it (RFC 2018: the most recent first).
		blocks := [][2]uint32{rng(i)}
		for k := i - 1; k >= 0 && k >= i-3; k-- {
			blocks = append(blocks, rng(k))
		}
		_, out := f.send(t, f.spkt(0, base+1000, ackF, sackOpt(blocks...), nil), Core, 0)
		if a := sub0Ack(out); int32(a-acked) > 0 {
			acked = a
		}
	}
	// The client's subflow 0 retransmits its first segment P has not
	// acknowledged; S already holds it and answers with a DSACK block for
	// it, then its most recent ranges.
	for round := 0; round < n && acked != 1001+1000*n; round++ {
		k := int(acked-1001) / 1000
		ssn := 1001 + 1000*uint32(k)
		_, out := f.send(t, f.cpkt(0, ssn, cl.sub[0].peerISN+1, pshF, cl.dss(0, true, cl.idsnC+1+2000+2000*uint64(k), ssn, 1000, pay), pay), Access, 0)
		if len(outTo(t, out, 5201)) == 0 {
			t.Fatalf("round %d: the retransmission at SSN %d did not reach S", round, ssn)
		}
		_, out = f.send(t, f.spkt(0, base+1000, ackF, sackOpt(rng(k), rng(n-1), rng(n-2), rng(n-3)), nil), Core, 0)
		a := sub0Ack(out)
		if int32(a-acked) <= 0 {
			t.Fatalf("I29: S DSACKed subflow 0's segment at SSN %d, but the subflow ack stays at %d (%d SACKed ranges remembered)",
				ssn, acked, c.nsacked)
		}
		acked = a
	}
	if acked != 1001+1000*n {
		t.Fatalf("I25: subflow 0 acked to %d, want %d (every byte SACKed)", acked, 1001+1000*n)
	}
	// Now the client reinjects the dead subflow's data on subflow 0 (new
	// mappings at higher SSNs, lower DSNs); S's cumulative ack covers
	// everything and subflow 0 is acknowledged to its end.
	var out []Packet
	for i := 0; i < n; i++ {
		ssn := 1001 + 1000*uint32(n+i)
		f.send(t, f.cpkt(0, ssn, cl.sub[0].peerISN+1, pshF, cl.dss(0, true, cl.idsnC+1+1000+2000*uint64(i), ssn, 1000, pay), pay), Access, 0)
		_, out = f.send(t, f.spkt(0, base+1000+2000*uint32(i+1), ackF, sackOpt(rng(n-1)), nil), Core, 0)
	}
	if a := sub0Ack(out); a != 1001+2000*n {
		t.Errorf("subflow 0 acked to %d after the reinjection, want %d", a, 1001+2000*n)
	}
	if c.nsacked != 0 || c.sackIdx != 0 {
		t.Errorf("I25: %d SACKed ranges (table %d) left below the cumulative ack", c.nsacked, c.sackIdx)
	}
	checkSlab(t, f.e)
}

// promptRun sends S->C segments 0..3 (1000 bytes each) over a
// round-robin fixture, has the client acknowledge at the subflow level
// the two that went on the other subflow than segment 0's (segment 0's
// path is cut: its bytes never arrive, so the DATA_ACK stays at data
// offset 0), and returns the fixture, segment 0's subflow, and the S
// sequence ranges the client holds.
func promptRun(t *testing.T, cfg Config) (*fixture, int, [][2]uint32) {
	t.Helper()
	f := newFixtureCfg(t, cfg)
	cl := f.m.c
	pay := make([]byte, 1000)
	sBase := f.m.s.isn + 1 // S's sequence of its data offset 0
	cAck := cl.sub[0].isn + 1 + 1000
	subOf := func(p *Packet) int {
		if dstPort(t, p) == 40001 {
			return 1
		}
		return 0
	}
	var sub [4]int
	var end [4]uint32 // subflow ack covering each segment
	for i := 0; i < 4; i++ {
		_, out := f.send(t, f.spkt(1000*uint32(i), cAck, pshF, nil, pay), Core, 0)
		if len(out) == 0 { // out[0] is the data, then generated ACKs
			t.Fatalf("segment %d: nothing out", i)
		}
		tcp, _ := checkOut(t, &out[0])
		sub[i], end[i] = subOf(&out[0]), uint32(tcp.Seq())+1000
	}
	cut := sub[0]
	live := 1 - cut
	var held [][2]uint32
	var ack uint32
	for i := 1; i < 4; i++ {
		if sub[i] == live {
			held = append(held, [2]uint32{sBase + 1000*uint32(i), sBase + 1000*uint32(i+1)})
			ack = end[i]
		}
	}
	if len(held) == 0 || sub[1] == sub[0] {
		t.Fatalf("round robin sent segments on subflows %v", sub)
	}
	// The client acknowledges the live subflow's segments; its DATA_ACK
	// stays at offset 0.
	rel := uint32(1)
	if live == 0 {
		rel = 1001
	}
	f.send(t, f.cpkt(live, rel, ack, ackF, cl.dss(live, false, 0, 0, 0, nil), nil), Access, uint8(live))
	return f, cut, held
}

// TestStalePrompt: once the subflow that carried the first byte the
// client has not acknowledged goes stale, P sends S three duplicate ACKs
// of that byte with SACK blocks for what the client holds beyond it, once
// per DATA_ACK value; S's retransmission is then reinjected on the live
// subflow beside its original mapping (I30). Only with Config.StalePrompt.
func TestStalePrompt(t *testing.T) {
	cfg := Config{MaxConnections: 4, MaxSubflows: 4, Scheduler: "roundrobin", DeadAfter: time.Second, StaleAfter: 100 * time.Millisecond, StalePrompt: true}
	f, cut, held := promptRun(t, cfg)
	sBase := f.m.s.isn + 1
	tick := func() []Packet {
		f.e.Tick(f.m.now)
		var out []Packet
		for _, q := range f.e.Emitted() {
			q.Buf = append([]byte(nil), q.Buf...)
			checkOut(t, &q)
			out = append(out, q)
		}
		f.e.ClearEmitted()
		f.m.alloc.reset()
		return out
	}
	f.m.now += int64(50 * time.Millisecond)
	if out := tick(); len(out) != 0 {
		t.Fatalf("I30: %d packets before the subflow is stale", len(out))
	}
	f.m.now += int64(100 * time.Millisecond)
	out := tick()
	if len(out) != promptDupAcks || f.e.cnt.Prompts != 1 || f.e.cnt.PromptAcks != promptDupAcks {
		t.Fatalf("I30: %d packets, %d prompts, %d prompt ACKs after the subflow went stale, want 3, 1, 3", len(out), f.e.cnt.Prompts, f.e.cnt.PromptAcks)
	}
	for _, p := range out {
		tcp, o := checkOut(t, &p)
		if p.Side != Core || tcp.DestinationPort() != 5201 || tcp.Flags() != ackF || len(tcp.Payload()) != 0 {
			t.Fatalf("I30: prompt is not a pure ACK to S (side %v, port %d, flags %#x)", p.Side, tcp.DestinationPort(), tcp.Flags())
		}
		if uint32(tcp.Ack()) != sBase {
			t.Errorf("I30: prompt acks %d, want S's first byte %d", uint32(tcp.Ack())-sBase, 0)
		}
		if o.hasMPTCP || o.nsack != len(held) {
			t.Fatalf("I30: prompt with MPTCP %v, %d SACK blocks %v, want %v", o.hasMPTCP, o.nsack, o.sack[:o.nsack], held)
		}
		for _, b := range held {
			found := false
			for i := 0; i < o.nsack; i++ {
				found = found || o.sack[i] == b
			}
			if !found {
				t.Errorf("I30: SACK blocks %v miss the client's range %v", o.sack[:o.nsack], b)
			}
		}
	}
	// No second prompt for the same DATA_ACK.
	f.m.now += int64(200 * time.Millisecond)
	if out := tick(); len(out) != 0 || f.e.cnt.Prompts != 1 {
		t.Errorf("I30: prompted again (%d packets) with the DATA_ACK unchanged", len(out))
	}
	// S fast-retransmits segment 0: reinjected on the live subflow, and
	// resent on its original mapping on the stale one (not yet dead).
	_, out = f.send(t, f.spkt(0, f.m.c.sub[0].isn+1+1000, pshF, nil, make([]byte, 1000)), Core, 0)
	if len(out) != 2 || f.e.cnt.Reinjections != 1 {
		t.Fatalf("I30: %d packets, %d reinjections for the stale subflow's retransmission, want 2, 1", len(out), f.e.cnt.Reinjections)
	}
	if dstPort(t, &out[0]) != 40000+uint16(1-cut) || dstPort(t, &out[1]) != 40000+uint16(cut) {
		t.Errorf("I30: retransmission on ports %d, %d, want the live subflow's %d first", dstPort(t, &out[0]), dstPort(t, &out[1]), 40000+1-cut)
	}
}

// TestStalePromptOff: without Config.StalePrompt (off in a zero Config), a stale
// subflow prompts nothing and S's retransmission goes out on its
// original mapping only, until the subflow is dead (I26).
func TestStalePromptOff(t *testing.T) {
	cfg := Config{MaxConnections: 4, MaxSubflows: 4, Scheduler: "roundrobin", DeadAfter: time.Second, StaleAfter: 100 * time.Millisecond}
	f, cut, _ := promptRun(t, cfg)
	f.m.now += int64(300 * time.Millisecond)
	f.e.Tick(f.m.now)
	if n := len(f.e.Emitted()); n != 0 || f.e.cnt.Prompts != 0 {
		t.Errorf("no StalePrompt: %d packets, %d prompts", n, f.e.cnt.Prompts)
	}
	f.e.ClearEmitted()
	f.m.alloc.reset()
	_, out := f.send(t, f.spkt(0, f.m.c.sub[0].isn+1+1000, pshF, nil, make([]byte, 1000)), Core, 0)
	if len(out) != 1 || dstPort(t, &out[0]) != 40000+uint16(cut) || f.e.cnt.Reinjections != 0 {
		t.Errorf("no StalePrompt: retransmission as %d packets (first on %d), %d reinjections; want 1 on %d, 0", len(out), dstPort(t, &out[0]), f.e.cnt.Reinjections, 40000+cut)
	}
}

// TestStalePromptNothingHeld: when the stale subflow carried everything
// above the DATA_ACK, the client holds nothing P could SACK, and
// duplicate ACKs without SACK blocks do nothing to a SACK sender: P sends
// none, but from then on reports what the client takes on a live
// subflow (I24, I30). S's retransmission timeout sends new data (F-RTO,
// RFC 5682); the client's subflow ack of it reaches S with a SACK block,
// so S knows its loss is real and retransmits the hole at once instead
// of waiting for a backed-off timeout per segment (TestPathCut: 1.0-1.8
// s stalls).
func TestStalePromptNothingHeld(t *testing.T) {
	cfg := Config{MaxConnections: 4, MaxSubflows: 4, Scheduler: "roundrobin", DeadAfter: time.Second, StaleAfter: 100 * time.Millisecond, StalePrompt: true}
	f := newFixtureCfg(t, cfg)
	cl := f.m.c
	pay := make([]byte, 1000)
	sBase := f.m.s.isn + 1
	cAck := cl.sub[0].isn + 1 + 1000
	_, out := f.send(t, f.spkt(0, cAck, pshF, nil, pay), Core, 0)
	if len(out) == 0 {
		t.Fatalf("segment 0: nothing out")
	}
	cut := 0
	if dstPort(t, &out[0]) == 40001 {
		cut = 1
	}
	live := 1 - cut
	f.m.now += int64(150 * time.Millisecond)
	f.e.Tick(f.m.now)
	if n := len(f.e.Emitted()); n != 0 || f.e.cnt.Prompts != 0 {
		t.Fatalf("I30: %d packets, %d prompts with nothing to SACK, want none", n, f.e.cnt.Prompts)
	}
	f.e.ClearEmitted()
	f.m.alloc.reset()
	// S's timeout sends new data (F-RTO): segment 1, on the live
	// subflow, which the client acknowledges there.
	_, out = f.send(t, f.spkt(1000, cAck, pshF, nil, pay), Core, 0)
	if len(out) == 0 || dstPort(t, &out[0]) != 40000+uint16(live) {
		t.Fatalf("segment 1 not sent on the live subflow %d", live)
	}
	tcp, _ := checkOut(t, &out[0])
	end := uint32(tcp.Seq()) + 1000
	rel := uint32(1)
	if live == 0 {
		rel = 1001
	}
	_, out = f.send(t, f.cpkt(live, rel, end, ackF, cl.dss(live, false, 0, 0, 0, nil), nil), Access, uint8(live))
	toS := outTo(t, out, 5201)
	if len(toS) != 1 {
		t.Fatalf("the client's ack gave %d packets to S, want 1", len(toS))
	}
	tcp, o := checkOut(t, &toS[0])
	if uint32(tcp.Ack()) != sBase {
		t.Errorf("ack to S %d, want S's first byte", uint32(tcp.Ack())-sBase)
	}
	want := [2]uint32{sBase + 1000, sBase + 2000}
	if o.nsack != 1 || o.sack[0] != want {
		t.Errorf("I30: ack to S with SACK blocks %v, want %v (the client holds segment 1)", o.sack[:o.nsack], want)
	}
	checkSlab(t, f.e)
}
