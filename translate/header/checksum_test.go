package header

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// naiveSum is the RFC 1071 reference: add 16-bit big-endian words, pad an
// odd byte with zero, fold the carries.
func naiveSum(b []byte, initial uint16) uint16 {
	s := uint32(initial)
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
		s = s&0xffff + s>>16
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func TestOnesSum(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		initial uint16
		want    uint16
	}{
		// RFC 1071 section 3 example: 0001 f203 f4f5 f6f7 sums to ddf2.
		{"rfc1071", []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 0, 0xddf2},
		{"empty", nil, 0, 0},
		{"empty initial", nil, 0x1234, 0x1234},
		{"odd byte padded", []byte{0xab}, 0, 0xab00},
		{"end-around carry", []byte{0xff, 0xff, 0x00, 0x01}, 0, 0x0001},
		{"all ones", []byte{0xff, 0xff, 0xff, 0xff}, 0, 0xffff},
		{"initial carries", []byte{0x80, 0x00}, 0x8000, 0x0001},
	}
	for _, tt := range tests {
		if got := OnesSum(tt.in, tt.initial); got != tt.want {
			t.Errorf("%s: OnesSum = %#04x, want %#04x", tt.name, got, tt.want)
		}
	}
}

func TestOnesSumMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 2000)
	for i := range 5000 {
		n := r.IntN(len(buf))
		for j := range n {
			buf[j] = byte(r.Uint32())
		}
		if i%7 == 0 { // runs of 0xff exercise the carries
			for j := range n {
				buf[j] = 0xff
			}
		}
		init := uint16(r.Uint32())
		if got, want := OnesSum(buf[:n], init), naiveSum(buf[:n], init); got != want {
			t.Fatalf("len %d initial %#x: OnesSum = %#04x, naive %#04x", n, init, got, want)
		}
	}
}

func TestOddOffsetSum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 301)
	for range 1000 {
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		cut := 1 + 2*r.IntN(len(buf)/2) // odd split point
		head := OnesSum(buf[:cut], 0)
		tail := OddOffsetSum(OnesSum(buf[cut:], 0))
		if got, want := Combine(head, tail), OnesSum(buf, 0); !sameOnes(got, want) {
			t.Fatalf("cut %d: head+swapped tail = %#04x, whole = %#04x", cut, got, want)
		}
	}
}

// sameOnes reports whether two one's-complement sums are equal, counting
// 0x0000 and 0xffff as the same zero.
func sameOnes(a, b uint16) bool {
	if a == 0xffff {
		a = 0
	}
	if b == 0xffff {
		b = 0
	}
	return a == b
}

// TestUpdateChecksum checks each RFC 1624 helper against a full recompute
// on random data.
func TestUpdateChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 64)
	for range 20000 {
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		csum := ^OnesSum(buf, 0)
		off := 2 * r.IntN(len(buf)/2-2)
		switch r.IntN(3) {
		case 0:
			old := binary.BigEndian.Uint16(buf[off:])
			nv := uint16(r.Uint32())
			binary.BigEndian.PutUint16(buf[off:], nv)
			csum = UpdateChecksum16(csum, old, nv)
		case 1:
			old := binary.BigEndian.Uint32(buf[off:])
			nv := r.Uint32()
			binary.BigEndian.PutUint32(buf[off:], nv)
			csum = UpdateChecksum32(csum, old, nv)
		case 2:
			n := r.IntN(len(buf) - off)
			old := clone(buf[off : off+n])
			for j := range n {
				buf[off+j] = byte(r.Uint32())
			}
			csum = UpdateChecksumBytes(csum, old, buf[off:off+n])
		}
		if OnesSum(buf, csum) != 0xffff {
			t.Fatalf("incremental checksum %#04x does not verify (full %#04x)", csum, ^OnesSum(buf, 0))
		}
	}
}

func TestUpdateChecksumBytesLengthChange(t *testing.T) {
	// A 12-byte option block replaced by a 4-byte one: the sum of the
	// covered data loses the old bytes and gains the new ones.
	before := []byte{0xaa, 0xbb, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0xcc, 0xdd}
	after := []byte{0xaa, 0xbb, 2, 4, 5, 0xb4, 0xcc, 0xdd}
	csum := UpdateChecksumBytes(^OnesSum(before, 0), before[2:14], after[2:6])
	if want := ^OnesSum(after, 0); !sameOnes(csum, want) {
		t.Fatalf("got %#04x, want %#04x", csum, want)
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	// 198.18.1.2 -> 198.18.3.2, TCP, length 37:
	// c612 + 0102 + c612 + 0302 + 0006 + 0025 = 19053 -> 9054.
	got := PseudoHeaderSum([]byte{198, 18, 1, 2}, []byte{198, 18, 3, 2}, 6, 37)
	if got != 0x9054 {
		t.Fatalf("got %#04x, want 0x9054", got)
	}
}

func TestChecksumAllocs(t *testing.T) {
	buf := make([]byte, 1500)
	var sink uint16
	if n := testing.AllocsPerRun(100, func() {
		sink = OnesSum(buf, sink)
		sink = UpdateChecksum32(sink, 1, 2)
		sink = UpdateChecksumBytes(sink, buf[:12], buf[12:16])
		sink = PseudoHeaderSum(buf[:4], buf[4:8], 6, 1480)
	}); n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}

func FuzzOnesSum(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint16(0))
	f.Add(v4Segment, uint16(0xffff))
	f.Fuzz(func(t *testing.T, b []byte, initial uint16) {
		if got, want := OnesSum(b, initial), naiveSum(b, initial); got != want {
			t.Fatalf("OnesSum = %#04x, naive %#04x", got, want)
		}
	})
}

func BenchmarkOnesSum1460(b *testing.B) {
	buf := make([]byte, 1460)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	var s uint16
	for b.Loop() {
		s = OnesSum(buf, s)
	}
	_ = s
}
