package steering

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

func TestTokenEncoding(t *testing.T) {
	for _, tc := range []struct {
		workers int
		mask    uint32
		bits    int
	}{
		{1, 0, 0}, {2, 1, 1}, {3, 3, 2}, {4, 3, 2}, {5, 7, 3}, {24, 31, 5}, {32, 31, 5}, {33, 63, 6}, {256, 255, 8},
	} {
		e, err := NewTokenEncoding(tc.workers)
		if err != nil {
			t.Fatal(err)
		}
		if e.Mask() != tc.mask || e.Bits() != tc.bits || e.Workers() != tc.workers {
			t.Errorf("N=%d: mask %#x bits %d, want %#x %d", tc.workers, e.Mask(), e.Bits(), tc.mask, tc.bits)
		}
		for tok := uint32(0); tok < 1024; tok++ {
			core, ok := e.TokenOwner(tok * 0x9e3779b1)
			if wantOK := int(tok*0x9e3779b1&tc.mask) < tc.workers; ok != wantOK {
				t.Fatalf("N=%d token %#x: ok %v", tc.workers, tok, ok)
			}
			if ok && !e.KeyAccepts(core, tok*0x9e3779b1) {
				t.Fatalf("N=%d: owner %d does not accept its token", tc.workers, core)
			}
			if ok && e.KeyAccepts((core+1)%(tc.workers+1), tok*0x9e3779b1) && tc.workers > 1 {
				t.Fatalf("N=%d: another core accepts token %#x", tc.workers, tok)
			}
		}
	}
	for _, n := range []int{0, -1, 257} {
		if _, err := NewTokenEncoding(n); err != ErrWorkers {
			t.Errorf("NewTokenEncoding(%d) err = %v", n, err)
		}
	}
	e, _ := NewTokenEncoding(3)
	if core, ok := e.TokenOwner(0xabcd0003); ok || core != 3 {
		t.Errorf("N=3 owner field 3: core %d ok %v, want 3 false", core, ok)
	}
	if e.KeyAccepts(-1, 0) || e.KeyAccepts(3, 3) {
		t.Error("KeyAccepts out of range core")
	}
}

// TestToken checks Token against RFC 8684 section 3.1 computed directly
// and against key/token pairs of real Linux MPTCP handshakes (the
// mptcp-v4-basic and mptcp-v4-serverclose captures,
// translate/testdata/keys.golden).
func TestToken(t *testing.T) {
	for _, tc := range []struct {
		key  uint64
		want uint32
	}{
		{0x2141d67c71335e36, 0x508c57db},
		{0xa216e9c9ad90e592, 0x6223c6ed},
		{0x6ccdb7b323c2f6f8, 0xa604006e},
		{0xaef6dc68e7c760b3, 0x20cccca3},
	} {
		if got := Token(tc.key); got != tc.want {
			t.Errorf("Token(%#x) = %#x, want %#x", tc.key, got, tc.want)
		}
	}
	for _, key := range []uint64{0, 1, 0x0123456789abcdef, ^uint64(0)} {
		var in [8]byte
		binary.BigEndian.PutUint64(in[:], key)
		h := sha256.Sum256(in[:])
		if got, want := Token(key), binary.BigEndian.Uint32(h[:4]); got != want {
			t.Errorf("Token(%#x) = %#x, want %#x", key, got, want)
		}
	}
}
