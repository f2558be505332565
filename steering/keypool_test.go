package steering

import (
	"bytes"
	crand "crypto/rand"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// chachaReader is a deterministic random source for tests.
type chachaReader struct{ r *rand.ChaCha8 }

func newTestRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return chachaReader{rand.NewChaCha8(s)}
}

func (c chachaReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestKeyPool(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 24} {
		enc, _ := NewTokenEncoding(n)
		for core := 0; core < n; core++ {
			p, err := NewKeyPool(enc, core, 16, newTestRand(byte(core)))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := p.Get(); ok {
				t.Fatal("new pool not empty")
			}
			added, err := p.Refill(10)
			if err != nil || added != 10 || p.Len() != 10 {
				t.Fatalf("Refill(10) = %d, %v; Len %d", added, err, p.Len())
			}
			added, _ = p.Refill(100)
			if added != 6 || p.Len() != 16 || p.Cap() != 16 {
				t.Fatalf("Refill to full added %d, Len %d", added, p.Len())
			}
			seen := map[uint64]bool{}
			for i := 0; i < 40; i++ { // 16 from the pool, 24 ground on demand
				k, err := p.Next()
				if err != nil {
					t.Fatal(err)
				}
				if Token(k.Key) != k.Token {
					t.Fatalf("token %#x is not Token(%#x)", k.Token, k.Key)
				}
				if owner, ok := enc.TokenOwner(k.Token); !ok || owner != core {
					t.Fatalf("N=%d core %d: token %#x owner %d %v", n, core, k.Token, owner, ok)
				}
				if seen[k.Key] {
					t.Fatalf("key %#x handed out twice", k.Key)
				}
				seen[k.Key] = true
			}
			if p.Hashes() < 40 {
				t.Fatalf("Hashes %d below keys produced", p.Hashes())
			}
		}
	}
}

func TestKeyPoolErrors(t *testing.T) {
	enc, _ := NewTokenEncoding(4)
	if _, err := NewKeyPool(enc, 4, 1, nil); err != ErrKeyPoolCore {
		t.Errorf("core 4 of 4: %v", err)
	}
	if _, err := NewKeyPool(enc, 0, 0, nil); err != ErrKeyPoolSize {
		t.Errorf("capacity 0: %v", err)
	}
	boom := errors.New("boom")
	p, _ := NewKeyPool(enc, 1, 4, io.MultiReader(bytes.NewReader(make([]byte, 8)), iotestErr{boom}))
	if _, err := p.Next(); err == nil {
		t.Error("short random source: no error")
	}
	// A source of zeros repeats one candidate: the grind gives up.
	zero := Token(0) & enc.Mask()
	p, _ = NewKeyPool(enc, int(zero+1)%4, 4, zeros{})
	if _, err := p.Next(); err != ErrKeyGrind {
		t.Errorf("constant source: %v, want ErrKeyGrind", err)
	}
	// crypto/rand by default.
	p, _ = NewKeyPool(enc, 2, 4, nil)
	if k, err := p.Next(); err != nil || !enc.KeyAccepts(2, k.Token) {
		t.Errorf("crypto/rand: %v %v", k, err)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestKeyPoolZeroAlloc(t *testing.T) {
	enc, _ := NewTokenEncoding(24)
	p, _ := NewKeyPool(enc, 5, 256, newTestRand(9))
	if _, err := p.Refill(256); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := p.Get(); !ok {
			t.Fatal("empty")
		}
	}); n != 0 {
		t.Errorf("Get allocs = %v", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		if _, err := p.Next(); err != nil { // grinds: the pool is drained
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("grinding Next allocs = %v", n)
	}
}

// TestKeyPoolCryptoRandom: without a source the pool draws from
// crypto/rand (the dataplane passes nil), and its keys are not
// predictable from each other: 2048 keys for one core of 4 hold no
// duplicate and every key bit is set in 40-60% of them (a fair source is
// outside that band with probability below 1e-15). The token bits the
// core constrains are SHA-256 outputs, not key bits, so the key bits stay
// uniform.
func TestKeyPoolCryptoRandom(t *testing.T) {
	enc, _ := NewTokenEncoding(4)
	p, err := NewKeyPool(enc, 3, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.rand != crand.Reader {
		t.Fatalf("default source is %T, want crypto/rand.Reader", p.rand)
	}
	const n = 2048
	seen := make(map[uint64]bool, n)
	var ones [64]int
	for range n {
		k, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.Key] {
			t.Fatalf("key %#x drawn twice", k.Key)
		}
		seen[k.Key] = true
		for b := range 64 {
			ones[b] += int(k.Key >> b & 1)
		}
	}
	for b, c := range ones {
		if c < n*4/10 || c > n*6/10 {
			t.Errorf("bit %d set in %d of %d keys", b, c, n)
		}
	}
}

// TestKeyPoolSetHash: a pool given a hash function computes every
// candidate's token and IDSN with it (and keeps the same keys as with
// crypto/sha256 from the same random source); nil restores the default.
func TestKeyPoolSetHash(t *testing.T) {
	enc, _ := NewTokenEncoding(4)
	ref, _ := NewKeyPool(enc, 1, 64, newTestRand(9))
	p, _ := NewKeyPool(enc, 1, 64, newTestRand(9))
	var calls uint64
	p.SetHash(func(key uint64) (uint32, uint64) {
		calls++
		return keyHash(key)
	})
	if err := ref.Fill(); err != nil {
		t.Fatal(err)
	}
	if err := p.Fill(); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || calls != p.Hashes() || p.Hashes() != ref.Hashes() {
		t.Fatalf("hash called %d times, pool counted %d hashes, default pool %d", calls, p.Hashes(), ref.Hashes())
	}
	for ref.Len() > 0 {
		a, _ := ref.Get()
		b, _ := p.Get()
		if a != b {
			t.Fatalf("key %+v, want %+v", b, a)
		}
	}
	p.SetHash(nil)
	before := calls
	if _, err := p.Refill(8); err != nil || calls != before {
		t.Fatalf("after SetHash(nil): %v, hash called %d more times", err, calls-before)
	}
}
