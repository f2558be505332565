package header

import (
	"math/rand/v2"
	"testing"
)

func TestSeq32(t *testing.T) {
	tests := []struct {
		name       string
		a, b       Seq32
		less, leq  bool
		sub        int32
		size       uint32
		maxv, minv Seq32
	}{
		{"equal", 5, 5, false, true, 0, 0, 5, 5},
		{"before", 5, 9, true, true, -4, 4, 9, 5},
		{"after", 9, 5, false, false, 4, 0xfffffffc, 9, 5},
		{"across wrap", 0xfffffff0, 0x10, true, true, -0x20, 0x20, 0x10, 0xfffffff0},
		{"half space", 0, 0x7fffffff, true, true, -0x7fffffff, 0x7fffffff, 0x7fffffff, 0},
	}
	for _, tt := range tests {
		if got := tt.a.LessThan(tt.b); got != tt.less {
			t.Errorf("%s: LessThan = %v", tt.name, got)
		}
		if got := tt.a.LessThanEq(tt.b); got != tt.leq {
			t.Errorf("%s: LessThanEq = %v", tt.name, got)
		}
		if got := tt.a.Sub(tt.b); got != tt.sub {
			t.Errorf("%s: Sub = %d", tt.name, got)
		}
		if got := tt.a.Size(tt.b); got != tt.size {
			t.Errorf("%s: Size = %#x", tt.name, got)
		}
		if got := tt.a.Max(tt.b); got != tt.maxv {
			t.Errorf("%s: Max = %#x", tt.name, got)
		}
		if got := tt.a.Min(tt.b); got != tt.minv {
			t.Errorf("%s: Min = %#x", tt.name, got)
		}
	}
	if got := Seq32(0xffffffff).Add(2); got != 1 {
		t.Errorf("Add across wrap = %#x, want 1", got)
	}
}

func TestSeq32InRange(t *testing.T) {
	tests := []struct {
		s, a, b Seq32
		want    bool
	}{
		{10, 10, 20, true},  // first byte
		{19, 10, 20, true},  // last byte
		{20, 10, 20, false}, // end is exclusive
		{9, 10, 20, false},
		{2, 0xfffffff0, 5, true}, // range across the wrap
		{0xfffffff0, 0xfffffff0, 5, true},
		{5, 0xfffffff0, 5, false},
		{7, 7, 7, false}, // empty range
	}
	for _, tt := range tests {
		if got := tt.s.InRange(tt.a, tt.b); got != tt.want {
			t.Errorf("%#x.InRange(%#x, %#x) = %v", tt.s, tt.a, tt.b, got)
		}
		if got := tt.s.InWindow(tt.a, tt.a.Size(tt.b)); got != tt.want {
			t.Errorf("%#x.InWindow(%#x, %d) = %v", tt.s, tt.a, tt.a.Size(tt.b), got)
		}
	}
}

func TestDSN64(t *testing.T) {
	a, b := DSN64(0xfffffffffffffff0), DSN64(0x10)
	if !a.LessThan(b) || b.LessThan(a) || !a.LessThanEq(a) || a.LessThan(a) {
		t.Error("ordering across the 64-bit wrap")
	}
	if a.Sub(b) != -0x20 || a.Size(b) != 0x20 || a.Add(0x20) != b {
		t.Errorf("Sub %d Size %d Add %#x", a.Sub(b), a.Size(b), a.Add(0x20))
	}
	if !DSN64(3).InRange(a, b) || b.InRange(a, b) || !a.InWindow(a, 1) || a.InWindow(a, 0) {
		t.Error("InRange/InWindow across the wrap")
	}
	if a.Max(b) != b || a.Min(b) != a || DSN64(0x1_2345_6789).Lower32() != 0x2345_6789 {
		t.Error("Max/Min/Lower32")
	}
}

func TestDSN64Expand(t *testing.T) {
	tests := []struct {
		name string
		ref  DSN64
		low  uint32
		want DSN64
	}{
		{"same", 0x5_0000_1000, 0x1000, 0x5_0000_1000},
		{"ahead", 0x5_0000_1000, 0x2000, 0x5_0000_2000},
		{"behind", 0x5_0000_2000, 0x1000, 0x5_0000_1000},
		{"ahead across 2^32", 0x5_ffff_fff0, 0x10, 0x6_0000_0010},
		{"behind across 2^32", 0x6_0000_0010, 0xffff_fff0, 0x5_ffff_fff0},
		{"ahead 2^31-1", 0x5_0000_0000, 0x7fff_ffff, 0x5_7fff_ffff},
		{"behind 2^31", 0x5_8000_0000, 0x0, 0x5_0000_0000},
		{"wrap of 64 bits", 0xffff_ffff_ffff_fff0, 0x10, 0x10},
		{"back across 0", 0x10, 0xffff_fff0, 0xffff_ffff_ffff_fff0},
	}
	for _, tt := range tests {
		if got := tt.ref.Expand(tt.low); got != tt.want {
			t.Errorf("%s: %#x.Expand(%#x) = %#x, want %#x", tt.name, tt.ref, tt.low, got, tt.want)
		}
	}
}

// TestDSN64ExpandNearest checks the defining property: the low 32 bits are
// kept and the result is within [ref-2^31, ref+2^31).
func TestDSN64ExpandNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		ref := DSN64(r.Uint64())
		off := int64(int32(r.Uint32()))
		want := DSN64(uint64(ref) + uint64(off))
		got := ref.Expand(want.Lower32())
		if got != want {
			t.Fatalf("%#x.Expand(%#x) = %#x, want %#x", ref, want.Lower32(), got, want)
		}
	}
}

func TestSeqAllocs(t *testing.T) {
	var d DSN64 = 1
	var s Seq32 = 1
	if n := testing.AllocsPerRun(100, func() {
		d = d.Expand(uint32(d) + 5)
		s = s.Add(uint32(d.Lower32()) & 0xff)
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}
