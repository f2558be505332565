package steering

import (
	"errors"
	"io"
	"sync/atomic"
)

// Errors returned by the key exchange.
var (
	ErrKeyRingSize  = errors.New("steering: key exchange ring capacity must be a power of two in [2, 65536]")
	ErrKeyPoolTaken = errors.New("steering: this core's key pool was already taken from the exchange")
)

// KeyExchange lets the key pools of all workers share what they grind. A
// random key's token names core token&Mask (TokenEncoding), so a pool that
// grinds for its own core finds, on the way, keys for every other core:
// with 24 workers 23 in 24 keys it grinds belong to another core, and
// without the exchange they are thrown away (32 SHA-256 per key kept).
// With it, a pool hands each such key to its owner through a
// single-producer/single-consumer ring per (producer, consumer) pair and
// takes keys for itself from its inbound rings, so no key is wasted while
// the owners have room: the cost falls to (Mask+1)/Workers SHA-256 per
// key (1.33 for 24 workers; only the candidates whose owner field names
// no core, 24-31 of 0-31, are lost).
//
// Every ring has exactly one producer (the pool of core from, so the
// goroutine that owns it) and one consumer (the pool of core to); they
// meet only through two atomic indices. Nothing is locked, nothing is
// allocated after NewKeyExchange, and a producer never waits: a key for a
// core whose inbound ring is full is dropped and counted
// (KeyPoolStats.Dropped). Tokens stay unpredictable (every key comes from
// the pools' random source, crypto/rand by default) and whether a token is
// unique on the proxy stays the owner's check against its token table.
//
// Create the exchange once, then one pool per core with Pool, at setup.
type KeyExchange struct {
	enc   TokenEncoding
	rings []keyRing // rings[from*Workers+to]; the diagonal is unused
	taken []atomic.Bool
}

// NewKeyExchange returns an exchange among enc.Workers() cores whose rings
// hold ringCap keys each (a power of two; Workers*(Workers-1) rings of
// 24*ringCap bytes). KeyExchangeRingCap suggests one.
func NewKeyExchange(enc TokenEncoding, ringCap int) (*KeyExchange, error) {
	n := enc.Workers()
	if n < 1 {
		return nil, ErrWorkers
	}
	if ringCap < 2 || ringCap > 1<<16 || ringCap&(ringCap-1) != 0 {
		return nil, ErrKeyRingSize
	}
	x := &KeyExchange{enc: enc, rings: make([]keyRing, n*n), taken: make([]atomic.Bool, n)}
	if n > 1 {
		buf := make([]KeyToken, n*(n-1)*ringCap)
		for from := range n {
			for to := range n {
				if from == to {
					continue
				}
				r := &x.rings[from*n+to]
				r.buf, buf = buf[:ringCap:ringCap], buf[ringCap:]
				r.mask = uint64(ringCap - 1)
			}
		}
	}
	return x, nil
}

// KeyExchangeRingCap returns a ring capacity for workers cores: about
// inbound keys per core in all, spread over the Workers-1 inbound rings
// (a power of two, at least 8; 8 for one worker, which has no rings).
func KeyExchangeRingCap(workers, inbound int) int {
	c := 8
	if workers < 2 {
		return c
	}
	per := inbound / (workers - 1)
	for c < per && c < 1<<16 {
		c <<= 1
	}
	return c
}

// Tokens returns the exchange's token encoding.
func (x *KeyExchange) Tokens() TokenEncoding { return x.enc }

// Pool returns the key pool of core, attached to the exchange: it keeps
// up to capacity keys of its own, hands keys it grinds for other cores to
// them, and takes theirs for it. Each core's pool can be taken once; the
// pool and its side of the rings belong to the goroutine that uses it.
// r is the random source (crypto/rand.Reader when nil).
func (x *KeyExchange) Pool(core, capacity int, r io.Reader) (*KeyPool, error) {
	p, err := NewKeyPool(x.enc, core, capacity, r)
	if err != nil {
		return nil, err
	}
	if !x.taken[core].CompareAndSwap(false, true) {
		return nil, ErrKeyPoolTaken
	}
	n := x.enc.Workers()
	if n == 1 {
		return p, nil
	}
	p.out = make([]*keyRing, n)
	p.in = make([]*keyRing, 0, n-1)
	for c := range n {
		if c == core {
			continue
		}
		p.out[c] = &x.rings[core*n+c]
		p.in = append(p.in, &x.rings[c*n+core])
	}
	return p, nil
}

// keyRing is a bounded single-producer/single-consumer FIFO of keys
// between two pools: the producer writes a slot and then publishes tail,
// the consumer reads a slot and then publishes head (release/acquire
// through sync/atomic). Each side keeps a copy of the other's index on its
// own cache line and reads the shared one only when the copy says full
// (producer) or empty (consumer).
type keyRing struct {
	_         [64]byte
	head      atomic.Uint64 // next slot to read; written by the consumer
	tailCache uint64        // consumer's copy of tail
	_         [64]byte      // consumer's and producer's fields 64 bytes apart
	tail      atomic.Uint64 // next slot to write; written by the producer
	headCache uint64        // producer's copy of head
	_         [64]byte
	buf       []KeyToken
	mask      uint64
}

// push appends k; false when the ring is full. Producer only.
func (r *keyRing) push(k KeyToken) bool {
	t := r.tail.Load()
	if t-r.headCache > r.mask {
		r.headCache = r.head.Load()
		if t-r.headCache > r.mask {
			return false
		}
	}
	r.buf[t&r.mask] = k
	r.tail.Store(t + 1)
	return true
}

// room reports whether a push would succeed. Producer only.
func (r *keyRing) room() bool {
	t := r.tail.Load()
	if t-r.headCache > r.mask {
		r.headCache = r.head.Load()
	}
	return t-r.headCache <= r.mask
}

// pop removes the oldest key; false when empty. Consumer only.
func (r *keyRing) pop() (KeyToken, bool) {
	h := r.head.Load()
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return KeyToken{}, false
		}
	}
	k := r.buf[h&r.mask]
	r.head.Store(h + 1)
	return k, true
}
