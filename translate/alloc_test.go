package translate

import "testing"

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
