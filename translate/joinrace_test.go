package translate

import (
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// TestJoinRacingClose replays the short-connection test's bad_state drops
// (make compare, 2026-12-07: 515 in 47517 connections, every one on a
// pending join). The client's path manager sends a join SYN right after
// the connection is established; the connection (connect, 64 bytes each
// way, close) sends its DATA_FIN before P's SYN/ACK comes back, and Linux
// then answers the SYN/ACK without MP_JOIN (DATA_FIN takes precedence):
// an ACK with a DSS DATA_FIN, repeated, then a FIN retransmitted with
// backoff. P dropped each as bad_state until the linger ended, about 7 s
// and 9 drops per such connection. Now the first of them frees the join
// and resets the subflow, counted as joins_rejected{no_join_ack}; the
// copies that follow find no subflow and are answered with RSTs too,
// never routed to S (I33, counted as stray_mptcp).
func TestJoinRacingClose(t *testing.T) {
	for _, first := range []struct {
		name  string
		flags uint8
	}{{"ack with DATA_FIN", ackF}, {"subflow FIN", ackF | header.TCPFlagFin}} {
		t.Run(first.name, func(t *testing.T) {
			f := newFixture(t)
			_, c := f.connIdx()
			subs := f.e.ActiveSubflows()
			v, out := f.send(t, joinSynPkt(f, 50002, c.tokenP), Access, 1)
			if v != Forward || len(out) != 1 {
				t.Fatalf("join SYN: %v", v)
			}
			synack, _ := checkOut(t, &out[0])
			// DSS: DATA_ACK (8 bytes) + mapping with DATA_FIN, len 1, as
			// in the capture (mptcp 26 dss fin ack ... len 1).
			dss := make([]byte, 26)
			dss[0], dss[1], dss[2], dss[3] = optMPTCP, 26, mptcpSubDSS<<4, 0x1f // F, m, M, a, A
			dss[22], dss[23] = 0, 1                                             // data-level length 1 (subflow offset 0)
			ack := simBuildIP(false, f.m.c.sub[1].addr, f.m.sAddr, 50002, 5201, 778, uint32(synack.Seq())+1, first.flags, 1024, dss, nil)
			bad := f.e.cnt.Drops[DropBadState]
			v, out = f.send(t, ack, Access, 1)
			if v != Forward || len(out) != 1 {
				t.Fatalf("third ACK without MP_JOIN: %v, %d out; want an RST", v, len(out))
			}
			rst, o := checkOut(t, &out[0])
			if rst.Flags()&header.TCPFlagRst == 0 || rst.Seq() != synack.Seq().Add(1) || !o.mpRst {
				t.Errorf("answer: flags %#x seq %d (SYN/ACK %d), MP_TCPRST %v; want RST at SYN/ACK+1 with MP_TCPRST",
					rst.Flags(), rst.Seq(), synack.Seq(), o.mpRst)
			}
			if f.e.cnt.JoinsRejected[JoinNoJoinAck] != 1 || f.e.cnt.Drops[DropBadState] != bad {
				t.Errorf("rejected %v, bad_state %d -> %d; want one no_join_ack and no bad_state",
					f.e.cnt.JoinsRejected, bad, f.e.cnt.Drops[DropBadState])
			}
			if f.e.ActiveSubflows() != subs {
				t.Errorf("subflows %d, want %d (the join freed)", f.e.ActiveSubflows(), subs)
			}
			// I33: the client's duplicates of that ACK, already in flight
			// (one or two in the captures), no longer belong to a subflow.
			// Routed, they reached S untranslated (a 4-tuple it does not
			// know: it answered RSTs); now P answers each with an RST of
			// its own, and nothing goes toward S.
			stray := f.e.cnt.Drops[DropStrayMPTCP]
			join := f.m.c.sub[1].addr // the join's address; its port is 50002
			for i := range 2 {
				v, out := f.send(t, ack, Access, 1)
				if v != Forward || len(out) != 1 {
					t.Fatalf("duplicate %d: %v, %d out; want one RST", i, v, len(out))
				}
				for _, q := range out {
					if q.Side != Access {
						t.Fatalf("duplicate %d: a packet toward S", i)
					}
				}
				rst, o := checkOut(t, &out[0])
				ip := out[0].Bytes()
				if rst.Flags()&header.TCPFlagRst == 0 || !o.mpRst || o.dss || rst.Seq() != synack.Seq().Add(1) ||
					rst.DestinationPort() != 50002 || rst.SourcePort() != 5201 || [4]byte(ip[16:20]) != [4]byte(join[:4]) {
					t.Errorf("duplicate %d: flags %#x seq %d MP_TCPRST %v to %v:%d; want an RST at SYN/ACK+1 with MP_TCPRST to the join's address",
						i, rst.Flags(), rst.Seq(), o.mpRst, ip[16:20], rst.DestinationPort())
				}
			}
			if got := f.e.cnt.Drops[DropStrayMPTCP] - stray; got != 2 || f.e.cnt.Drops[DropBadState] != bad {
				t.Errorf("stray_mptcp +%d, bad_state %d -> %d; want +2 and no bad_state", got, bad, f.e.cnt.Drops[DropBadState])
			}
			if f.e.ActiveSubflows() != subs || f.e.ActiveConnections() != 1 || f.e.cnt.JoinsRejected[JoinNoJoinAck] != 1 {
				t.Errorf("after the duplicates: subflows %d connections %d no_join_ack %d; want %d, 1, 1",
					f.e.ActiveSubflows(), f.e.ActiveConnections(), f.e.cnt.JoinsRejected[JoinNoJoinAck], subs)
			}
		})
	}
}
