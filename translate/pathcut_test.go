package translate

import (
	"testing"
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
