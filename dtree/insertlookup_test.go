package dtree

import (
	"math/rand/v2"
	"testing"
)

// TestClientInsertLookupSame: ClientInsertLookup gives the verdict and
// lookup answer of ClientInsert followed by ClientLookup, and leaves the
// store in the same state, over random mappings, segments and trims on
// two stores fed alike.
func TestClientInsertLookupSame(t *testing.T) {
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x1a5e))
		a, b := newStore(t, 4, 64), newStore(t, 4, 64)
		ma, _ := a.NewClient()
		mb, _ := b.NewClient()
		base := rng.Uint32() // wrap around 2^32 now and then
		for i := range 2000 {
			sub := uint8(rng.IntN(2))
			ssn := base + uint32(rng.IntN(8000))
			dsn := uint64(1<<40) + uint64(ssn-base) + uint64(rng.IntN(3))*1000*uint64(rng.IntN(2))
			n := uint32(1 + rng.IntN(3000))
			seg := ssn + uint32(rng.IntN(int(n)+200)) - 100
			segLen := uint32(rng.IntN(int(n) + 100))
			v1, d1, c1, ok1 := a.ClientInsertLookup(ma, sub, ssn, dsn, n, seg, segLen)
			v2 := b.ClientInsert(mb, sub, ssn, dsn, n)
			d2, c2, ok2 := b.ClientLookup(mb, sub, seg, segLen)
			if v1 != v2 || d1 != d2 || c1 != c2 || ok1 != ok2 {
				t.Fatalf("seed %d step %d: insert (%d %d %d %d) seg (%d %d): got %v %d %d %v, want %v %d %d %v",
					seed, i, sub, ssn, dsn, n, seg, segLen, v1, d1, c1, ok1, v2, d2, c2, ok2)
			}
			if rng.IntN(50) == 0 {
				ack, da := base+uint32(rng.IntN(8000)), uint64(1<<40)+uint64(rng.IntN(8000))
				a.ClientTrim(ma, sub, da, ack)
				b.ClientTrim(mb, sub, da, ack)
			}
			if rng.IntN(400) == 0 {
				a.ReleaseClient(ma)
				b.ReleaseClient(mb)
				ma, _ = a.NewClient()
				mb, _ = b.NewClient()
			}
		}
	}
}
