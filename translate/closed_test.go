package translate

import (
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// closedCounts snapshots the two reasons an S->C segment without a
// carrier can be dropped for.
func closedCounts(e *Engine) (closed, noSub uint64) {
	return e.cnt.Drops[DropClosed], e.cnt.Drops[DropNoSubflow]
}

// wantClosedDrop sends S's segment ip and checks that it is dropped as
// DropClosed, never DropNoSubflow, with nothing sent anywhere.
func wantClosedDrop(t *testing.T, f *fixture, what string, ip []byte) {
	t.Helper()
	closed, noSub := closedCounts(f.e)
	v, out := f.send(t, ip, Core, 0)
	c2, n2 := closedCounts(f.e)
	if v != Drop || len(out) != 0 || c2 != closed+1 || n2 != noSub {
		t.Fatalf("%s: %v, %d packets out, closed %d -> %d, no_subflow %d -> %d; want one closed drop and nothing sent",
			what, v, len(out), closed, c2, noSub, n2)
	}
}

// TestServerDataAfterClientAbort reproduces the demo's drops (iperf3 -R:
// the receiving client closes its socket with data unread, Linux sends
// RST+MP_FASTCLOSE on every subflow, and S's window of data in flight,
// 13 to 808 segments in the runs of 2026-12-07, keeps arriving at P after
// P closed the connection and sent S an RST). Those segments, and S's
// FIN, are dropped as DropClosed: the client refused them.
func TestServerDataAfterClientAbort(t *testing.T) {
	for _, abort := range []string{"fastclose", "rst on the last subflow"} {
		t.Run(abort, func(t *testing.T) {
			f := newFixture(t)
			ci, c := f.connIdx()
			cl := f.m.c
			pay := make([]byte, 500)
			var closeRst []byte // P's RST to S at the close
			// S sends; P carries it while the connection lives.
			if _, out := f.send(t, f.spkt(0, cl.sub[0].isn+1001, pshF, nil, pay), Core, 0); len(out) == 0 {
				t.Fatal("S->C data before the abort not forwarded")
			}
			if abort == "fastclose" {
				opts := make([]byte, 12)
				opts[0], opts[1], opts[2] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4
				binary.BigEndian.PutUint64(opts[4:], c.keyP)
				v, out := f.send(t, f.cpkt(0, 1001, cl.sub[0].peerISN+1, ackF, opts, nil), Access, 0)
				if v != Forward || out[0].Side != Core {
					t.Fatalf("fastclose: %v", v)
				}
				closeRst = out[0].Bytes()
			} else {
				f.send(t, f.cpkt(1, 1, 0, header.TCPFlagRst, nil, nil), Access, 1)
				v, out := f.send(t, f.cpkt(0, 1001, 0, header.TCPFlagRst, nil, nil), Access, 0)
				if v != Forward || out[0].Side != Core || header.TCP(out[0].Bytes()[20:]).Flags()&header.TCPFlagRst == 0 {
					t.Fatalf("RST on the last subflow: %v, want an RST to S", v)
				}
				closeRst = out[0].Bytes()
			}
			if c.state != connClosed || f.e.sub(ci, 0).state == subEstablished {
				t.Fatalf("after the abort: connection state %d, subflow 0 state %d", c.state, f.e.sub(ci, 0).state)
			}
			// S's segments in flight: new data, a retransmission of
			// data the client has not acknowledged, and S's FIN.
			for k := uint32(1); k < 4; k++ {
				wantClosedDrop(t, f, "new data in flight", f.spkt(k*500, cl.sub[0].isn+1001, pshF, nil, pay))
			}
			wantClosedDrop(t, f, "retransmission", f.spkt(0, cl.sub[0].isn+1001, pshF, nil, pay))
			wantClosedDrop(t, f, "FIN", f.spkt(2000, cl.sub[0].isn+1001, ackF|header.TCPFlagFin, nil, nil))
			wantClosedDrop(t, f, "pure ACK", f.spkt(2001, cl.sub[0].isn+1001, ackF, nil, nil))
			wantClosedResets(t, f, closeRst)
		})
	}
}

// wantClosedReset sends S's segment ip and checks that it is dropped as
// DropClosed and answered by one RST to S on T0 (the 4-tuple of P's RST
// at the close, closeRst) with sequence number seq, ack and flags (I32).
func wantClosedReset(t *testing.T, f *fixture, what string, ip, closeRst []byte, seq, ack uint32, flags uint8) {
	t.Helper()
	closed, noSub := closedCounts(f.e)
	resets := f.e.cnt.ClosedResets
	v, out := f.send(t, ip, Core, 0)
	c2, n2 := closedCounts(f.e)
	if v != Drop || c2 != closed+1 || n2 != noSub || f.e.cnt.ClosedResets != resets+1 || len(out) != 1 || out[0].Side != Core {
		t.Fatalf("%s: %v, %d packets out, closed %d -> %d, no_subflow %d -> %d, closed resets %d -> %d; want one closed drop and one RST to S",
			what, v, len(out), closed, c2, noSub, n2, resets, f.e.cnt.ClosedResets)
	}
	b := out[0].Bytes() // its checksums were checked by send
	tcp, want := header.TCP(b[20:]), header.TCP(closeRst[20:])
	if header.IPv4(b).SourceAddress() != header.IPv4(closeRst).SourceAddress() ||
		header.IPv4(b).DestinationAddress() != header.IPv4(closeRst).DestinationAddress() ||
		tcp.SourcePort() != want.SourcePort() || tcp.DestinationPort() != want.DestinationPort() {
		t.Fatalf("%s: the RST is not on T0", what)
	}
	if uint32(tcp.Seq()) != seq || uint32(tcp.Ack()) != ack || tcp.Flags() != flags || len(tcp.Payload()) != 0 || len(tcp.Options()) != 0 {
		t.Fatalf("%s: RST seq %d ack %d flags %#x, %d payload and %d option bytes; want seq %d ack %d flags %#x and nothing else",
			what, tcp.Seq(), tcp.Ack(), tcp.Flags(), len(tcp.Payload()), len(tcp.Options()), seq, ack, flags)
	}
}

// wantClosedResets continues TestServerDataAfterClientAbort once S's
// burst after the close was dropped unanswered: P's RST at the close is
// taken as lost, and S's retransmissions after closedResetGap are each
// answered by an RST (RFC 9293 3.10.7.1), at most one per gap (I32).
func wantClosedResets(t *testing.T, f *fixture, closeRst []byte) {
	t.Helper()
	if f.e.cnt.ClosedResets != 0 {
		t.Fatalf("%d RSTs answered S's burst right after the close, want none", f.e.cnt.ClosedResets)
	}
	ack := f.m.c.sub[0].isn + 1001
	pay := make([]byte, 500)
	f.m.now += closedResetGap
	// S's retransmission timeout: seq = SEG.ACK, RST alone.
	wantClosedReset(t, f, "retransmission after the gap", f.spkt(0, ack, pshF, nil, pay), closeRst, ack, 0, header.TCPFlagRst)
	// More within the gap (S's other retransmissions, a FIN): dropped.
	f.m.now += closedResetGap / 2
	wantClosedDrop(t, f, "retransmission within the gap", f.spkt(500, ack, pshF, nil, pay))
	wantClosedDrop(t, f, "FIN within the gap", f.spkt(2000, ack, ackF|header.TCPFlagFin, nil, nil))
	// The next after the gap is answered again; one without ACK (never
	// sent by a synchronized Linux S) gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN>.
	f.m.now += closedResetGap / 2
	seq := f.m.s.isn + 1 + 2000
	wantClosedReset(t, f, "FIN without ACK", f.spkt(2000, 0, header.TCPFlagFin, nil, pay[:10]), closeRst,
		0, seq+11, header.TCPFlagRst|header.TCPFlagAck)
	// S's own RST (P's answer taken) is never answered.
	f.m.now += 2 * closedResetGap
	resets := f.e.cnt.ClosedResets
	if _, out := f.send(t, f.spkt(0, 0, header.TCPFlagRst, nil, nil), Core, 0); len(out) != 0 || f.e.cnt.ClosedResets != resets {
		t.Fatalf("S's RST answered: %d packets out", len(out))
	}
}

// TestServerAckAfterEverySubflowClosed reproduces the short connections'
// drops (the soak's and a 50-connection echo probe's, 2026-12-07): Linux
// sends its DATA_FIN on every subflow, P forwards each copy to S as a FIN
// (the client repeats a DATA_FIN whose DATA_ACK it has not seen), and S
// answers the repeat with a duplicate ACK. When that ACK reaches P after
// the client acknowledged P's FIN on every subflow, the connection is
// closed with no subflow left, and the client needs nothing in it: it is
// dropped as DropClosed.
func TestServerAckAfterEverySubflowClosed(t *testing.T) {
	f := newFixture(t)
	ci, c := f.connIdx()
	cl := f.m.c
	e := f.e
	ackC := cl.sub[0].isn + 1001 // S's ack of the client's 1000 bytes
	// S acknowledges the client's data, echoes 64 bytes and closes.
	pay := make([]byte, 64)
	f.send(t, f.spkt(0, ackC, pshF, nil, pay), Core, 0)
	f.send(t, f.spkt(64, ackC, ackF|header.TCPFlagFin, nil, nil), Core, 0)
	if !c.s2cFin {
		t.Fatal("S's FIN not taken as a DATA_FIN")
	}
	// The client's DATA_FIN (acknowledging S's data and DATA_FIN), on
	// subflow 0 and again on subflow 1: each goes to S as a FIN.
	finDSN := c.c2sNxt
	dfin := func(j int) []byte {
		var w optWriter
		w.dss(uint64(c.s2cFinDSN)+1, true, uint64(finDSN), 0, 1, true, false, 0)
		s := e.sub(ci, j)
		return f.cpkt(j, s.rcvNxt, uint32(s.isnP.Add(s.sndNxt)), ackF, w.pad(), nil)
	}
	for j := 0; j < 2; j++ {
		v, out := f.send(t, dfin(j), Access, uint8(j))
		if v != Forward || out[0].Side != Core || header.TCP(out[0].Bytes()[20:]).Flags()&header.TCPFlagFin == 0 {
			t.Fatalf("DATA_FIN on subflow %d: %v, want a FIN to S", j, v)
		}
	}
	// S acknowledges the first FIN: both DATA_FINs are acknowledged, the
	// connection is closed, its subflows still established.
	f.send(t, f.spkt(65, ackC+1, ackF, nil, nil), Core, 0)
	if c.state != connClosed {
		t.Fatalf("connection state %d after both DATA_FINs were acknowledged", c.state)
	}
	// Each subflow's FIN exchange: the client's FIN, P's FIN/ACK, the
	// client's ACK of it.
	dack := func() []byte {
		var w optWriter
		w.dss(uint64(c.s2cFinDSN)+1, false, 0, 0, 0, false, false, 0)
		return w.pad()
	}
	for j := 0; j < 2; j++ {
		s := e.sub(ci, j)
		f.send(t, f.cpkt(j, s.rcvNxt, uint32(s.isnP.Add(s.sndNxt)), ackF|header.TCPFlagFin, dack(), nil), Access, uint8(j))
		if !s.finSent {
			t.Fatalf("subflow %d: P did not answer the client's FIN", j)
		}
		f.send(t, f.cpkt(j, s.rcvNxt+1, uint32(s.isnP.Add(s.sndNxt)), ackF, dack(), nil), Access, uint8(j))
		if s.state != subClosed {
			t.Fatalf("subflow %d state %d after the FIN exchange", j, s.state)
		}
	}
	// S's duplicate ACK, its answer to the repeated FIN: dropped, never
	// answered with an RST (the close was graceful; I32), however late.
	f.m.now += 2 * closedResetGap
	wantClosedDrop(t, f, "S's duplicate ACK after every subflow closed", f.spkt(65, ackC+1, ackF, nil, nil))
	// A retransmission of S's FIN is still answered for the client (I3).
	v, out := f.send(t, f.spkt(64, ackC+1, ackF|header.TCPFlagFin, nil, nil), Core, 0)
	if v != Forward || len(out) != 1 || out[0].Side != Core {
		t.Fatalf("S's retransmitted FIN after the close: %v, %d packets; want P's ACK to S", v, len(out))
	}
}
