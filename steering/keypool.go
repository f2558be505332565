package steering

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
)

// keyBatch is the number of candidate keys read from the random source in
// one call (8 bytes each).
const keyBatch = 64

// maxGrind bounds the candidates tried for one key. With at most 256
// workers a candidate fits a core with probability at least 1/256, so
// failing 1<<20 times in a row means a broken random source, not bad luck
// (probability below e^-4096).
const maxGrind = 1 << 20

// Errors returned by the key pool.
var (
	ErrKeyPoolCore = errors.New("steering: key pool core out of range")
	ErrKeyPoolSize = errors.New("steering: key pool capacity must be at least 1")
	ErrKeyGrind    = errors.New("steering: no key for this core after 2^20 candidates: random source broken")
)

// KeyToken is an MPTCP key and its token.
type KeyToken struct {
	Key   uint64
	Token uint32
}

// KeyPool keeps keys whose token names one core (TokenEncoding), ground in
// advance, so that choosing key_P for a new connection costs a pop and not
// the Mask+1 SHA-256 computations a fit takes on average (32 for 24
// workers). The worker refills it when idle (Refill with a small bound, so
// one refill never delays polling for long) and Next grinds on demand only
// when the pool is empty. Whether a token is unique on the proxy is the
// caller's check (its token table): on a clash it takes the next key.
//
// A KeyPool is owned by one worker and not safe for concurrent use. Get
// and a Next served from the pool do not allocate.
type KeyPool struct {
	enc  TokenEncoding
	core int
	rand io.Reader

	ring []KeyToken
	head int // index of the oldest key
	n    int // keys in the ring

	buf [keyBatch * 8]byte
	pos int // bytes of buf consumed

	hashes uint64
}

// NewKeyPool returns an empty pool of up to capacity keys for core under
// enc, drawing candidates from r (crypto/rand.Reader when r is nil).
func NewKeyPool(enc TokenEncoding, core, capacity int, r io.Reader) (*KeyPool, error) {
	if core < 0 || core >= enc.Workers() {
		return nil, ErrKeyPoolCore
	}
	if capacity < 1 {
		return nil, ErrKeyPoolSize
	}
	if r == nil {
		r = rand.Reader
	}
	p := &KeyPool{enc: enc, core: core, rand: r, ring: make([]KeyToken, capacity)}
	p.pos = len(p.buf)
	return p, nil
}

// Core returns the core the pool's tokens name.
func (p *KeyPool) Core() int { return p.core }

// Len returns the number of keys ready.
func (p *KeyPool) Len() int { return p.n }

// Cap returns the pool capacity.
func (p *KeyPool) Cap() int { return len(p.ring) }

// Hashes returns the number of SHA-256 computations done so far (candidates
// tried), for a metric.
func (p *KeyPool) Hashes() uint64 { return p.hashes }

// Get pops a ready key; ok is false when the pool is empty.
func (p *KeyPool) Get() (k KeyToken, ok bool) {
	if p.n == 0 {
		return KeyToken{}, false
	}
	k = p.ring[p.head]
	p.head++
	if p.head == len(p.ring) {
		p.head = 0
	}
	p.n--
	return k, true
}

// Next pops a ready key or, when the pool is empty, grinds one now.
func (p *KeyPool) Next() (KeyToken, error) {
	if k, ok := p.Get(); ok {
		return k, nil
	}
	return p.grind()
}

// Refill grinds keys until the pool is full or max keys were added, and
// returns how many it added. Call it when the worker is idle.
func (p *KeyPool) Refill(max int) (added int, err error) {
	for added < max && p.n < len(p.ring) {
		k, err := p.grind()
		if err != nil {
			return added, err
		}
		i := p.head + p.n
		if i >= len(p.ring) {
			i -= len(p.ring)
		}
		p.ring[i] = k
		p.n++
		added++
	}
	return added, nil
}

// grind draws candidates until one's token names the pool's core.
func (p *KeyPool) grind() (KeyToken, error) {
	for try := 0; try < maxGrind; try++ {
		if p.pos == len(p.buf) {
			if _, err := io.ReadFull(p.rand, p.buf[:]); err != nil {
				return KeyToken{}, err
			}
			p.pos = 0
		}
		key := binary.BigEndian.Uint64(p.buf[p.pos:])
		p.pos += 8
		tok := Token(key)
		p.hashes++
		if p.enc.KeyAccepts(p.core, tok) {
			return KeyToken{Key: key, Token: tok}, nil
		}
	}
	return KeyToken{}, ErrKeyGrind
}
