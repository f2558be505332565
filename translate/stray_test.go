package translate

import (
	"bytes"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// TestStrayMPTCP: a client segment other than a SYN whose 4-tuple names no
// connection or subflow and that carries an MPTCP option, toward a
// destination the config translates, never reaches S: it is answered with
// an RST carrying MP_TCPRST back to its sender (an RST is only dropped),
// counted as stray_mptcp (I33). Without an MPTCP option, toward a
// destination not translated, on the server side, or as a SYN, an
// untracked segment is routed unchanged as before (plain TCP through
// flexcp). The tracked connection is not touched.
func TestStrayMPTCP(t *testing.T) {
	// Only port 5201 is translated: port 80 stands for an MPTCP server
	// flexcp routes to without translating.
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Ports: []uint16{5201}})
	var w optWriter
	w.dss(0x1122334455667788, false, 0, 0, 0, false, false, 0)
	dssAck := bytes.Clone(w.pad())
	w.n = 0
	w.dss(0x1122334455667788, true, 0x99, 1, 100, false, false, 0)
	dssMap := bytes.Clone(w.pad())
	w.n = 0
	w.tcpRst(tcpRstUnspecified)
	mpRst := bytes.Clone(w.pad())
	ts := []byte{optNOP, optNOP, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}       // NOP NOP TS
	capV0 := []byte{optMPTCP, 12, 0x00, 0x81, 1, 2, 3, 4, 5, 6, 7, 8} // MP_CAPABLE version 0
	c6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: 2}
	s6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 3, 15: 2}
	pay := make([]byte, 100)
	v4 := func(dport uint16, flags uint8, opts, payload []byte) []byte {
		return simBuild(simC0, simS, 40999, dport, 1000, 2000, flags, 1024, opts, payload)
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		side    Side
		want    Verdict
		stray   bool   // counted as stray_mptcp
		rstSeq  uint32 // the answer's seq and ack, when want is Forward
		rstAck  uint32
		rstFlag uint8
	}{
		{name: "plain ack with timestamps", in: v4(5201, ackF, ts, pay), side: Access, want: Pass},
		{name: "plain ack without options", in: v4(5201, ackF, nil, nil), side: Access, want: Pass},
		{name: "dss ack", in: v4(5201, ackF, dssAck, nil), side: Access, want: Forward, stray: true,
			rstSeq: 2000, rstAck: 1000, rstFlag: header.TCPFlagRst | header.TCPFlagAck},
		{name: "dss data", in: v4(5201, ackF|header.TCPFlagPsh, dssMap, pay), side: Access, want: Forward, stray: true,
			rstSeq: 2000, rstAck: 1100, rstFlag: header.TCPFlagRst | header.TCPFlagAck},
		{name: "dss fin without ack", in: v4(5201, header.TCPFlagFin, dssAck, nil), side: Access, want: Forward, stray: true,
			rstSeq: 0, rstAck: 1001, rstFlag: header.TCPFlagRst | header.TCPFlagAck},
		{name: "dss after timestamps ipv6", in: simBuildIP(true, c6, s6, 40999, 5201, 1000, 2000, ackF, 1024, append(bytes.Clone(ts), dssAck...), nil),
			side: Access, want: Forward, stray: true, rstSeq: 2000, rstAck: 1000, rstFlag: header.TCPFlagRst | header.TCPFlagAck},
		{name: "rst with mp_tcprst", in: v4(5201, header.TCPFlagRst|header.TCPFlagAck, mpRst, nil), side: Access, want: Drop, stray: true},
		{name: "dss to a destination not translated", in: v4(80, ackF, dssAck, pay), side: Access, want: Pass},
		{name: "syn with mp_capable v0", in: v4(5201, header.TCPFlagSyn, capV0, nil), side: Access, want: Pass},
		{name: "dss from the server side", in: simBuild(simS, simC0, 5201, 40999, 2000, 1000, ackF, 1024, dssAck, nil), side: Core, want: Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.e.cnt
			p := mkPacket(tc.in, tc.side, 0)
			v := f.e.Process(f.m.now, &p)
			em := len(f.e.Emitted())
			f.e.ClearEmitted()
			f.m.alloc.reset()
			if v != tc.want || em != 0 {
				t.Fatalf("verdict %v, %d emitted; want %v and none", v, em, tc.want)
			}
			if got := f.e.cnt.Drops[DropStrayMPTCP] - before.Drops[DropStrayMPTCP]; got != map[bool]uint64{true: 1}[tc.stray] {
				t.Errorf("stray_mptcp +%d", got)
			}
			for r := range DropReasonCount {
				if r != DropStrayMPTCP && f.e.cnt.Drops[r] != before.Drops[r] {
					t.Errorf("drops[%v] %d -> %d", r, before.Drops[r], f.e.cnt.Drops[r])
				}
			}
			if f.e.ActiveConnections() != 1 || f.e.ActiveSubflows() != 2 {
				t.Errorf("connections %d subflows %d; want the fixture's 1 and 2", f.e.ActiveConnections(), f.e.ActiveSubflows())
			}
			switch v {
			case Pass:
				if !bytes.Equal(p.Bytes(), tc.in) {
					t.Error("a passed packet was modified")
				}
			case Forward:
				if p.Side != Access {
					t.Fatalf("answer toward %v; want the client (Access)", p.Side)
				}
				rst, o := checkOut(t, &p)
				in := mkPacket(tc.in, Access, 0)
				inTCP, _, _ := view(t, in.Bytes())
				if rst.Flags() != tc.rstFlag || uint32(rst.Seq()) != tc.rstSeq || uint32(rst.Ack()) != tc.rstAck || !o.mpRst || o.dss ||
					rst.SourcePort() != inTCP.DestinationPort() || rst.DestinationPort() != inTCP.SourcePort() || len(rst.Payload()) != 0 {
					t.Errorf("answer: flags %#x seq %d ack %d MP_TCPRST %v DSS %v ports %d->%d payload %d; want flags %#x seq %d ack %d, MP_TCPRST, back to %d",
						rst.Flags(), rst.Seq(), rst.Ack(), o.mpRst, o.dss, rst.SourcePort(), rst.DestinationPort(), len(rst.Payload()),
						tc.rstFlag, tc.rstSeq, tc.rstAck, inTCP.SourcePort())
				}
				if !sameAddrsSwapped(p.Bytes(), tc.in) {
					t.Error("the answer's addresses are not the segment's, swapped")
				}
			}
		})
	}
}

// sameAddrsSwapped reports whether IP packet out goes from in's
// destination to in's source.
func sameAddrsSwapped(out, in []byte) bool {
	if out[0]>>4 != in[0]>>4 {
		return false
	}
	if in[0]>>4 == 4 {
		return bytes.Equal(out[12:16], in[16:20]) && bytes.Equal(out[16:20], in[12:16])
	}
	return bytes.Equal(out[8:24], in[24:40]) && bytes.Equal(out[24:40], in[8:24])
}

// TestAllocsMiss: the paths of an untracked client segment allocate
// nothing (I22): plain TCP routed unchanged, and a stray MPTCP segment
// answered with an RST (I33).
func TestAllocsMiss(t *testing.T) {
	f := newFixture(t)
	var w optWriter
	w.dss(1, false, 0, 0, 0, false, false, 0)
	plain := simBuild(simC0, simS, 40999, 5201, 1000, 2000, ackF, 1024, []byte{optNOP, optNOP, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, make([]byte, 100))
	stray := simBuild(simC0, simS, 40999, 5201, 1000, 2000, ackF, 1024, w.pad(), nil)
	for _, tc := range []struct {
		name string
		in   []byte
		want Verdict
	}{{"plain", plain, Pass}, {"stray", stray, Forward}} {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, func() { f.run(t, tc.in, Access, tc.want) }); n != 0 {
				t.Errorf("I22: %v allocs per packet", n)
			}
		})
	}
}
