package translate

import "testing"

// TestAllocsEstablished: the established data paths allocate nothing
// (I22): C->S data, S->C new data, pure ACKs each way.
func TestAllocsEstablished(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		fn   func()
	}{
		{"c2s-data", func() { f.run(t, f.c2sData, Access, Forward) }},
		{"s2c-new-data", func() { f.s2cNew(t) }},
		{"s2c-pure-ack", func() { f.run(t, f.s2cAck, Core, Forward) }},
		{"c2s-pure-ack", func() { f.run(t, f.c2sAck, Access, Forward) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
				t.Errorf("I22: %v allocs per packet", n)
			}
		})
	}
}
