package translate

import (
	"encoding/binary"
	"testing"
)

// TestAllocsEstablished: the established data paths allocate nothing
// (I22): C->S data, S->C new data, pure ACKs each way.
func TestAllocsEstablished(t *testing.T) {
	f := newFixture(t)
	// S's ack of nothing new that SACKs half the client's data: takes a
	// SACKed-range table (I25), returned after each run.
	base := f.m.c.sub[0].isn + 1
	sackAck := f.spkt(0, base, ackF, sackOpt([2]uint32{base + 500, base + 1000}), nil)
	_, c := f.connIdx()
	cases := []struct {
		name string
		fn   func()
	}{
		{"c2s-data", func() { f.run(t, f.c2sData, Access, Forward) }},
		{"s2c-new-data", func() { f.s2cNew(t) }},
		{"s2c-pure-ack", func() { f.run(t, f.s2cAck, Core, Forward) }},
		{"c2s-pure-ack", func() { f.run(t, f.c2sAck, Access, Forward) }},
		{"s2c-sack-table", func() {
			f.run(t, sackAck, Core, Forward)
			if c.sackIdx == 0 {
				t.Fatal("I25: no SACKed-range table taken")
			}
			f.e.putSackTable(c)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
				t.Errorf("I22: %v allocs per packet", n)
			}
		})
	}
}

// TestAllocsClosedReset: answering S's segment after the client reset the
// connection allocates nothing (I22, I32), nor does dropping one within
// closedResetGap.
func TestAllocsClosedReset(t *testing.T) {
	f := newFixture(t)
	_, c := f.connIdx()
	cl := f.m.c
	opts := make([]byte, 12)
	opts[0], opts[1], opts[2] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4
	binary.BigEndian.PutUint64(opts[4:], c.keyP)
	f.run(t, f.cpkt(0, 1001, cl.sub[0].peerISN+1, ackF, opts, nil), Access, Forward)
	retrans := f.spkt(0, cl.sub[0].isn+1001, pshF, nil, make([]byte, 500))
	for _, answered := range []bool{true, false} {
		name := "dropped"
		if answered {
			name = "answered"
		}
		t.Run(name, func(t *testing.T) {
			before := f.e.cnt.ClosedResets
			n := testing.AllocsPerRun(1000, func() {
				if answered {
					f.m.now += closedResetGap
				}
				f.run(t, retrans, Core, Drop)
				f.e.ClearEmitted()
				f.m.alloc.reset()
			})
			if n != 0 {
				t.Errorf("I22: %v allocs per packet", n)
			}
			if got := f.e.cnt.ClosedResets - before; answered && got != 1001 || !answered && got != 0 {
				t.Errorf("%d RSTs sent in 1001 runs", got)
			}
		})
	}
}
