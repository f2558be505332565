package fwd

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func mustLPM4(t testing.TB, es []LPMEntry) *LPM4 {
	t.Helper()
	l, err := NewLPM4(es)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func u32(s string) uint32 {
	a := netip.MustParseAddr(s).As4()
	return binary.BigEndian.Uint32(a[:])
}

func TestLPM4Table(t *testing.T) {
	es := []LPMEntry{
		{netip.MustParsePrefix("0.0.0.0/0"), 1},
		{netip.MustParsePrefix("198.18.0.0/15"), 2},
		{netip.MustParsePrefix("198.18.1.0/24"), 3},
		{netip.MustParsePrefix("198.18.1.1/32"), 4},
		{netip.MustParsePrefix("198.18.1.128/25"), 5},
		{netip.MustParsePrefix("255.255.255.255/32"), 6},
		{netip.MustParsePrefix("10.1.2.3/8"), 7}, // host bits ignored
	}
	l := mustLPM4(t, es)
	tests := []struct {
		name string
		in   string
		want uint32
	}{
		{"default", "8.8.8.8", 1},
		{"lowest", "0.0.0.0", 1},
		{"in /15", "198.19.255.255", 2},
		{"below /15", "198.17.255.255", 1},
		{"in /24", "198.18.1.2", 3},
		{"host", "198.18.1.1", 4},
		{"/25 start", "198.18.1.128", 5},
		{"/25 end", "198.18.1.255", 5},
		{"after /24", "198.18.2.0", 2},
		{"highest", "255.255.255.255", 6},
		{"below highest", "255.255.255.254", 1},
		{"masked /8", "10.200.0.1", 7},
	}
	for _, tt := range tests {
		if got := l.Lookup(u32(tt.in)); got != tt.want {
			t.Errorf("%s: Lookup(%s) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
	}
	empty := mustLPM4(t, nil)
	if empty.Lookup(u32("1.2.3.4")) != 0 {
		t.Error("empty table matched")
	}
	if l.Intervals() < len(es) {
		t.Errorf("Intervals = %d", l.Intervals())
	}
}

func TestLPMErrors(t *testing.T) {
	tests := []struct {
		name string
		v6   bool
		in   []LPMEntry
	}{
		{"duplicate", false, []LPMEntry{{netip.MustParsePrefix("10.0.0.0/8"), 1}, {netip.MustParsePrefix("10.9.0.0/8"), 2}}},
		{"zero value", false, []LPMEntry{{netip.MustParsePrefix("10.0.0.0/8"), 0}}},
		{"v6 in v4", false, []LPMEntry{{netip.MustParsePrefix("2001:db8::/32"), 1}}},
		{"v4 in v6", true, []LPMEntry{{netip.MustParsePrefix("10.0.0.0/8"), 1}}},
		{"invalid", true, []LPMEntry{{netip.Prefix{}, 1}}},
	}
	for _, tt := range tests {
		var err error
		if tt.v6 {
			_, err = NewLPM6(tt.in)
		} else {
			_, err = NewLPM4(tt.in)
		}
		if err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestLPM6Table(t *testing.T) {
	es := []LPMEntry{
		{netip.MustParsePrefix("::/0"), 1},
		{netip.MustParsePrefix("2001:db8::/32"), 2},
		{netip.MustParsePrefix("2001:db8:1::/64"), 3},
		{netip.MustParsePrefix("2001:db8:1::1/128"), 4},
		{netip.MustParsePrefix("2001:db8:1:0:8000::/65"), 5},
		{netip.MustParsePrefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 6},
		{netip.MustParsePrefix("fe80::/10"), 7},
	}
	l, err := NewLPM6(es)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want uint32
	}{
		{"::", 1},
		{"2001:db7:ffff::", 1},
		{"2001:db8::", 2},
		{"2001:db8:1::2", 3},
		{"2001:db8:1::1", 4},
		{"2001:db8:1::7fff:ffff:ffff:ffff", 3},
		{"2001:db8:1::8000:0:0:0", 5},
		{"2001:db8:1:0:ffff:ffff:ffff:ffff", 5},
		{"2001:db8:1:1::", 2},
		{"2001:db9::", 1},
		{"fe80::1", 7},
		{"febf:ffff::", 7},
		{"fec0::", 1},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 1},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.in).As16()
		if got := l.Lookup(binary.BigEndian.Uint64(a[:]), binary.BigEndian.Uint64(a[8:])); got != tt.want {
			t.Errorf("Lookup(%s) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// naiveLookup is the reference: the longest prefix of es containing a.
func naiveLookup(es []LPMEntry, a netip.Addr) uint32 {
	best, bits := uint32(0), -1
	for _, e := range es {
		if e.Prefix.Contains(a) && e.Prefix.Bits() > bits {
			best, bits = e.Value, e.Prefix.Bits()
		}
	}
	return best
}

// randomEntries returns n distinct random prefixes of width bits, with
// lengths clustered like real tables, near a few bases so that they nest.
func randomEntries(r *rand.Rand, n, width int) []LPMEntry {
	seen := map[netip.Prefix]bool{}
	var es []LPMEntry
	bases := make([][16]byte, 8)
	for i := range bases {
		for j := range bases[i] {
			bases[i][j] = byte(r.IntN(256))
		}
	}
	for len(es) < n {
		b := bases[r.IntN(len(bases))]
		for j := 1 + r.IntN(width/8); j < 16; j++ { // keep a random-length base prefix
			b[j] = byte(r.IntN(256))
		}
		var a netip.Addr
		if width == 32 {
			a = netip.AddrFrom4([4]byte(b[:4]))
		} else {
			a = netip.AddrFrom16(b)
		}
		p := netip.PrefixFrom(a, r.IntN(width+1)).Masked()
		if seen[p] {
			continue
		}
		seen[p] = true
		es = append(es, LPMEntry{p, uint32(len(es) + 1)})
	}
	return es
}

func TestLPMRandomAgainstLinearScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		n := 1 + r.IntN(300)
		es4 := randomEntries(r, n, 32)
		es6 := randomEntries(r, n, 128)
		l4 := mustLPM4(t, es4)
		l6, err := NewLPM6(es6)
		if err != nil {
			t.Fatal(err)
		}
		for range 2000 {
			// Addresses near prefix boundaries, and random ones.
			e := es4[r.IntN(len(es4))]
			x := u32(e.Prefix.Addr().String())
			switch r.IntN(5) {
			case 0:
				x = r.Uint32()
			case 1: // just below the prefix
				x--
			case 2: // its last address
				x |= ^uint32(0) >> e.Prefix.Bits()
			case 3: // just after it
				x = (x | ^uint32(0)>>e.Prefix.Bits()) + 1
			}
			a := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
			if got, want := l4.Lookup(x), naiveLookup(es4, a); got != want {
				t.Fatalf("round %d: v4 %v: got %d want %d", round, a, got, want)
			}
			e6 := es6[r.IntN(len(es6))]
			b := e6.Prefix.Addr().As16()
			switch r.IntN(3) {
			case 0:
				for j := range b {
					b[j] = byte(r.IntN(256))
				}
			case 1:
				for j := e6.Prefix.Bits()/8 + 1; j < 16; j++ {
					b[j] = 0xff
				}
			}
			a6 := netip.AddrFrom16(b)
			if got, want := l6.Lookup(binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint64(b[8:])), naiveLookup(es6, a6); got != want {
				t.Fatalf("round %d: v6 %v: got %d want %d", round, a6, got, want)
			}
		}
	}
}

func TestLPMLookupAllocs(t *testing.T) {
	l := mustLPM4(t, randomEntries(rand.New(rand.NewPCG(3, 4)), 100, 32))
	l6, _ := NewLPM6(randomEntries(rand.New(rand.NewPCG(3, 4)), 100, 128))
	var sink uint32
	if n := testing.AllocsPerRun(100, func() { sink += l.Lookup(12345) + l6.Lookup(1, 2) }); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
	_ = sink
}

func benchLPM4(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(5, 6))
	es := make([]LPMEntry, 0, n)
	seen := map[netip.Prefix]bool{}
	for len(es) < n { // a BGP-like mix: mostly /24, some /16-/23, a few longer
		bits := 24
		switch x := r.IntN(10); {
		case x < 3:
			bits = 16 + r.IntN(8)
		case x == 9:
			bits = 25 + r.IntN(8)
		}
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), bits).Masked()
		if !seen[p] {
			seen[p] = true
			es = append(es, LPMEntry{p, uint32(len(es) + 1)})
		}
	}
	l := mustLPM4(b, es)
	addrs := make([]uint32, 4096)
	for i := range addrs {
		addrs[i] = r.Uint32()
	}
	b.ReportAllocs()
	b.ResetTimer()
	var sink uint32
	for i := 0; i < b.N; i++ {
		sink += l.Lookup(addrs[i&4095])
	}
	_ = sink
}

func BenchmarkLPM4Lookup100k(b *testing.B) { benchLPM4(b, 100000) }
func BenchmarkLPM4Lookup32(b *testing.B)   { benchLPM4(b, 32) }

func BenchmarkLPM6Lookup100k(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	es := make([]LPMEntry, 0, 100000)
	seen := map[netip.Prefix]bool{}
	for len(es) < cap(es) { // /32-/48 allocations under 2000::/3
		var a [16]byte
		for j := range 8 {
			a[j] = byte(r.IntN(256))
		}
		a[0] = 0x20 | a[0]&0x1f
		p := netip.PrefixFrom(netip.AddrFrom16(a), 29+r.IntN(20)).Masked()
		if !seen[p] {
			seen[p] = true
			es = append(es, LPMEntry{p, uint32(len(es) + 1)})
		}
	}
	l, err := NewLPM6(es)
	if err != nil {
		b.Fatal(err)
	}
	type a6 struct{ hi, lo uint64 }
	addrs := make([]a6, 4096)
	for i := range addrs {
		addrs[i] = a6{0x2000<<48 | r.Uint64()>>3, r.Uint64()}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var sink uint32
	for i := 0; i < b.N; i++ {
		x := addrs[i&4095]
		sink += l.Lookup(x.hi, x.lo)
	}
	_ = sink
}
