package pktgen

import (
	"testing"
	"time"
)

// TestExchangeKeys: with 24 key cores over 2 workers, worker w draws keys
// of cores w, w+2, ... in turn, never the same key twice, at about
// (Mask+1)/24 SHA-256 per key once every pool is drawn from.
func TestExchangeKeys(t *testing.T) {
	keys, err := newExchangeKeys(2, 24)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	const rounds = 300
	for i := 0; i < rounds; i++ {
		for w, k := range keys {
			if i%32 == 0 {
				k.Refill()
			}
			for c := w; c < 24; c += 2 {
				key, tok, _, ok := k.NextHashedKey()
				if !ok {
					t.Fatal(k.err)
				}
				if int(tok&31) != c || seen[key] {
					t.Fatalf("worker %d, draw for core %d: token %#x (core %d), seen before %v", w, c, tok, tok&31, seen[key])
				}
				seen[key] = true
			}
		}
	}
	var hashes, drawn uint64
	for _, k := range keys {
		hashes += k.hashes()
		drawn += k.drawn
	}
	if drawn != rounds*24 || float64(hashes)/float64(drawn) > 2 {
		t.Fatalf("%d keys drawn, %d SHA-256: want %d keys at under 2 each (32 without the exchange)", drawn, hashes, rounds*24)
	}
}

func TestKeyCoresOption(t *testing.T) {
	for _, c := range []struct{ workers, keyCores, want int }{{2, 0, 2}, {2, 24, 24}, {1, 256, 256}} {
		o := Options{Duration: time.Second, Workers: c.workers, KeyCores: c.keyCores}
		if err := o.fill(); err != nil || o.KeyCores != c.want {
			t.Errorf("workers %d key cores %d: %v, KeyCores %d", c.workers, c.keyCores, err, o.KeyCores)
		}
	}
	for _, c := range []struct{ workers, keyCores int }{{2, 1}, {1, 257}} {
		o := Options{Duration: time.Second, Workers: c.workers, KeyCores: c.keyCores}
		if err := o.fill(); err == nil {
			t.Errorf("workers %d key cores %d accepted", c.workers, c.keyCores)
		}
	}
}
