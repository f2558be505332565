package steering

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"sync"
	"testing"
)

// exchangePools returns the n pools of a new exchange, each with its own
// deterministic source.
func exchangePools(t testing.TB, n, capacity, ringCap int) (*KeyExchange, []*KeyPool) {
	t.Helper()
	enc, err := NewTokenEncoding(n)
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewKeyExchange(enc, ringCap)
	if err != nil {
		t.Fatal(err)
	}
	pools := make([]*KeyPool, n)
	for c := range n {
		if pools[c], err = x.Pool(c, capacity, newTestRand(byte(40+c))); err != nil {
			t.Fatal(err)
		}
	}
	return x, pools
}

// checkKey fails unless k is a key of core: its token and IDSN are those
// of SHA-256(key) (computed here independently) and the token names core.
func checkKey(t *testing.T, enc TokenEncoding, core int, k KeyToken) {
	t.Helper()
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], k.Key)
	h := sha256.Sum256(in[:])
	if k.Key == 0 || k.Token != binary.BigEndian.Uint32(h[:4]) || k.IDSN != binary.BigEndian.Uint64(h[24:]) {
		t.Fatalf("key %#x: token %#x IDSN %#x do not match its SHA-256", k.Key, k.Token, k.IDSN)
	}
	if owner, ok := enc.TokenOwner(k.Token); !ok || owner != core {
		t.Fatalf("core %d handed out key %#x whose token %#x names core %d (%v)", core, k.Key, k.Token, owner, ok)
	}
}

// TestKeyExchange: pools that all draw keys in turn (as busy workers
// would) hand out only keys whose token names their own core, never the
// same key twice, and no distinct tokens clash in this seeded run; every
// key ground is accounted for (handed out, ready, in a ring, or dropped);
// and the amortised cost falls from Mask+1 SHA-256 per key to about
// (Mask+1)/Workers.
func TestKeyExchange(t *testing.T) {
	for _, n := range []int{2, 3, 4, 24} {
		t.Run("N="+strconv.Itoa(n), func(t *testing.T) {
			_, pools := exchangePools(t, n, 16, 8)
			enc := pools[0].enc
			seenKey := map[uint64]bool{}
			seenTok := map[uint32]bool{}
			const rounds = 200
			for i := 0; i < rounds; i++ {
				for c, p := range pools {
					if i%50 == 0 {
						if _, err := p.Refill(4); err != nil {
							t.Fatal(err)
						}
					}
					k, err := p.Next()
					if err != nil {
						t.Fatal(err)
					}
					checkKey(t, enc, c, k)
					if seenKey[k.Key] || seenTok[k.Token] {
						t.Fatalf("key %#x / token %#x handed out twice", k.Key, k.Token)
					}
					seenKey[k.Key], seenTok[k.Token] = true, true
				}
			}
			var sum KeyPoolStats
			ready := 0
			for _, p := range pools {
				s := p.Stats()
				sum.Hashes += s.Hashes
				sum.Ground += s.Ground
				sum.Handed += s.Handed
				sum.Dropped += s.Dropped
				sum.Received += s.Received
				ready += p.Len()
			}
			out := uint64(rounds * n)
			inRings := sum.Handed - sum.Received
			if sum.Ground != out+uint64(ready)+inRings+sum.Dropped {
				t.Fatalf("ground %d != handed out %d + ready %d + in rings %d + dropped %d", sum.Ground, out, ready, inRings, sum.Dropped)
			}
			if n > 1 && sum.Received == 0 {
				t.Fatal("no pool took a key another ground")
			}
			// Without the exchange a key costs Mask+1 hashes on average;
			// with every core drawing, about (Mask+1)/N: allow 1.5 times
			// that, against Mask+1 (32 for N=24).
			perKey := float64(sum.Hashes) / float64(out)
			if limit := 1.5 * float64(enc.Mask()+1) / float64(n); perKey > limit {
				t.Fatalf("%.2f SHA-256 per key handed out, want at most %.2f", perKey, limit)
			}
			t.Logf("N=%d: %.2f SHA-256 per key, %d handed over, %d dropped, %d received", n, perKey, sum.Handed, sum.Dropped, sum.Received)
		})
	}
}

// TestKeyExchangeConcurrent runs each pool in its own goroutine, drawing
// keys and refilling at once (run it with -race): every key names its
// core and no key comes out twice.
func TestKeyExchangeConcurrent(t *testing.T) {
	const n, perCore = 8, 3000
	_, pools := exchangePools(t, n, 32, 16)
	enc := pools[0].enc
	got := make([][]KeyToken, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for c, p := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perCore; i++ {
				if i%7 == 0 {
					if _, err := p.Refill(3); err != nil {
						errs[c] = err
						return
					}
				}
				k, err := p.Next()
				if err != nil {
					errs[c] = err
					return
				}
				got[c] = append(got[c], k)
			}
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	var received uint64
	for c := range n {
		if errs[c] != nil {
			t.Fatal(errs[c])
		}
		for _, k := range got[c] {
			checkKey(t, enc, c, k)
			if seen[k.Key] {
				t.Fatalf("key %#x handed out twice", k.Key)
			}
			seen[k.Key] = true
		}
		received += pools[c].Stats().Received
	}
	if received == 0 {
		t.Fatal("no key crossed between goroutines")
	}
}

// TestKeyExchangeRingFull: a core that takes nothing lets its inbound
// ring fill; the producer then drops (counted) and never waits, and stops
// wanting to grind once its own pool and every ring are full.
func TestKeyExchangeRingFull(t *testing.T) {
	_, pools := exchangePools(t, 2, 4, 8)
	p0, p1 := pools[0], pools[1]
	if err := p1.Fill(); err != nil || p1.Len() != 4 {
		t.Fatalf("Fill: %v, own %d", err, p1.Len())
	}
	for range 4 {
		p1.Get()
	}
	h := p1.Stats().Handed
	for range h { // what core 1 handed to core 0 while filling
		if _, ok := p0.Get(); !ok {
			t.Fatal("core 0: a key core 1 handed over is missing")
		}
	}
	if _, ok := p0.Get(); ok || h == 0 {
		t.Fatalf("core 0: %d keys from core 1, then one more", h)
	}
	placed, err := p0.Refill(1000)
	if err != nil {
		t.Fatal(err)
	}
	s := p0.Stats()
	if placed != 4+8 || p0.Len() != 4 || s.Handed != 8 {
		t.Fatalf("placed %d, own %d, handed %d; want 12, 4, 8", placed, p0.Len(), s.Handed)
	}
	if p0.Wants() {
		t.Fatal("pool and ring full, still wants keys")
	}
	// On-demand grinding with the ring full: keys for core 1 dropped.
	for range 4 {
		p0.Get()
	}
	for range 20 {
		if _, err := p0.Next(); err != nil {
			t.Fatal(err)
		}
	}
	s = p0.Stats()
	if s.Dropped == 0 || s.Handed != 8 {
		t.Fatalf("ring full: handed %d dropped %d; want 8 and some", s.Handed, s.Dropped)
	}
	if s.Ground != 4+20+s.Handed+s.Dropped {
		t.Fatalf("ground %d != 24 kept + %d handed + %d dropped", s.Ground, s.Handed, s.Dropped)
	}
	// Core 1 takes what core 0 sent, then core 0 wants again.
	for range 8 {
		k, ok := p1.Get()
		if !ok {
			t.Fatal("core 1: inbound ring empty")
		}
		checkKey(t, p1.enc, 1, k)
	}
	if _, ok := p1.Get(); ok {
		t.Fatal("core 1: a ninth key")
	}
	if p1.Stats().Received != 8 || !p0.Wants() {
		t.Fatalf("received %d, wants %v", p1.Stats().Received, p0.Wants())
	}
}

func TestKeyExchangeErrors(t *testing.T) {
	enc, _ := NewTokenEncoding(4)
	for _, c := range []int{0, 1, 3, 6, 1 << 17} {
		if _, err := NewKeyExchange(enc, c); err != ErrKeyRingSize {
			t.Errorf("ring capacity %d: %v", c, err)
		}
	}
	if _, err := NewKeyExchange(TokenEncoding{}, 8); err != ErrWorkers {
		t.Errorf("zero encoding: %v", err)
	}
	x, err := NewKeyExchange(enc, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Pool(4, 8, nil); err != ErrKeyPoolCore {
		t.Errorf("core 4 of 4: %v", err)
	}
	if _, err := x.Pool(2, 0, nil); err != ErrKeyPoolSize {
		t.Errorf("capacity 0: %v", err)
	}
	if _, err := x.Pool(2, 8, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Pool(2, 8, nil); err != ErrKeyPoolTaken {
		t.Errorf("second pool of core 2: %v", err)
	}
	// One worker: a pool with nobody to trade with, every key its own.
	one, _ := NewTokenEncoding(1)
	x1, _ := NewKeyExchange(one, 2)
	p, err := x1.Pool(0, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Refill(10); err != nil || n != 4 || p.Stats().Hashes != 4 {
		t.Errorf("one worker: Refill = %d, %v; %d hashes", n, err, p.Stats().Hashes)
	}
	for w, want := range map[int]int{1: 8, 2: 1024, 3: 512, 24: 64, 256: 8} {
		if got := KeyExchangeRingCap(w, 1024); got != want {
			t.Errorf("KeyExchangeRingCap(%d, 1024) = %d, want %d", w, got, want)
		}
	}
}

// TestKeyExchangeZeroAlloc: Get from the pool's own ring and from inbound
// rings, and grinding with hand-over, do not allocate.
func TestKeyExchangeZeroAlloc(t *testing.T) {
	_, pools := exchangePools(t, 24, 64, 64)
	for _, p := range pools[1:] {
		if _, err := p.Refill(64 * 23); err != nil { // fills core 0's inbound rings too
			t.Fatal(err)
		}
	}
	p := pools[0]
	if _, err := p.Refill(64); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(500, func() { // the first 64 from its own ring, the rest inbound
		if _, ok := p.Get(); !ok {
			t.Fatal("empty")
		}
	}); n != 0 {
		t.Errorf("Get allocs = %v", n)
	}
	if p.Stats().Received == 0 {
		t.Fatal("Get took nothing from the inbound rings")
	}
	if n := testing.AllocsPerRun(50, func() {
		if _, err := pools[5].Next(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Next allocs = %v", n)
	}
}

// BenchmarkKeyExchange charges all the grinding: N pools in one goroutine
// draw a key each in turn (Next: own ring, inbound rings, else grind and
// hand over), as N equally busy workers would, so ns/key and sha256/key
// are the total work of every producer divided by the keys handed out.
// N=24 standalone is the same without the exchange (BenchmarkKeyGrind's
// cost).
func BenchmarkKeyExchange(b *testing.B) {
	for _, n := range []int{2, 24} {
		for _, ex := range []bool{true, false} {
			name := "N=" + strconv.Itoa(n) + "/exchange"
			if !ex {
				name = "N=" + strconv.Itoa(n) + "/standalone"
			}
			b.Run(name, func(b *testing.B) {
				enc, _ := NewTokenEncoding(n)
				pools := make([]*KeyPool, n)
				x, err := NewKeyExchange(enc, KeyExchangeRingCap(n, 1024))
				if err != nil {
					b.Fatal(err)
				}
				for c := range n {
					if ex {
						pools[c], err = x.Pool(c, 64, nil)
					} else {
						pools[c], err = NewKeyPool(enc, c, 64, nil)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				c := 0
				for b.Loop() {
					if _, err := pools[c].Next(); err != nil {
						b.Fatal(err)
					}
					if c++; c == n {
						c = 0
					}
				}
				var hashes uint64
				for _, p := range pools {
					hashes += p.Stats().Hashes
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/key")
				b.ReportMetric(float64(hashes)/float64(b.N), "sha256/key")
			})
		}
	}
}
