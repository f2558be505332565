package steering

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
)

// keyBatch is the number of candidate keys read from the random source in
// one call (8 bytes each, 2 KiB a read).
const keyBatch = 256

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

// KeyToken is an MPTCP key with its token and IDSN (RFC 8684 section
// 3.1: the most and the least significant bits of one SHA-256 of the
// key), both from the hash that chose the key, so that whoever uses the
// key need not hash it again.
type KeyToken struct {
	Key   uint64
	IDSN  uint64
	Token uint32
}

// keyHash returns the token and IDSN of key (one SHA-256).
func keyHash(key uint64) (token uint32, idsn uint64) {
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], key)
	h := sha256.Sum256(in[:])
	return binary.BigEndian.Uint32(h[0:4]), binary.BigEndian.Uint64(h[24:32])
}

// KeyPoolStats are a pool's counters since it was created.
type KeyPoolStats struct {
	// Hashes is the SHA-256 computations done (candidates tried).
	Hashes uint64
	// Ground is the candidates whose token names a core (of any core):
	// keys. The rest (owner field at or above the worker count) name no
	// core and are no key for anyone.
	Ground uint64
	// Handed is the keys ground for another core and put into its
	// inbound ring.
	Handed uint64
	// Dropped is the keys ground and thrown away: for another core whose
	// ring from this pool was full or, without an exchange, for any other
	// core; for this core while its own ring was full (Refill grinding
	// for the others).
	Dropped uint64
	// Received is the keys taken from other cores' rings.
	Received uint64
}

// KeyPool keeps keys whose token names one core (TokenEncoding), ground in
// advance, so that choosing key_P for a new connection costs a pop and not
// the Mask+1 SHA-256 computations a fit takes on average (32 for 24
// workers). The worker refills it when idle (Refill with a small bound, so
// one refill never delays polling for long) and Next grinds on demand only
// when the pool is empty. Whether a token is unique on the proxy is the
// caller's check (its token table): on a clash it takes the next key.
//
// A pool from NewKeyPool stands alone and throws away the keys it grinds
// for other cores. A pool from KeyExchange.Pool hands them to their cores
// and takes theirs: Get serves its own ring first, then its inbound rings.
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

	out  []*keyRing // out[c]: toward core c (nil for this core); nil without an exchange
	in   []*keyRing // from every other core
	next int        // inbound ring Get tries first

	hash func(key uint64) (token uint32, idsn uint64) // SetHash; nil: keyHash

	st KeyPoolStats
}

// SetHash makes the pool compute a candidate's token and IDSN with h
// instead of crypto/sha256 (nil restores it). h must return exactly the
// most significant 32 and the least significant 64 bits of SHA-256 of
// the key's 8 big-endian bytes (RFC 8684 section 3.1): a worker passes
// translate/mpcrypto.KeyHash, which hashes one block on the CPU's SHA
// extensions in about half of crypto/sha256's time. Call it at setup,
// from the goroutine that owns the pool.
func (p *KeyPool) SetHash(h func(key uint64) (token uint32, idsn uint64)) { p.hash = h }

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
func (p *KeyPool) Hashes() uint64 { return p.st.Hashes }

// Stats returns the pool's counters.
func (p *KeyPool) Stats() KeyPoolStats { return p.st }

// Get pops a ready key: from the pool's own ring, else from the other
// cores' rings toward it (taking turns); ok is false when all are empty.
func (p *KeyPool) Get() (k KeyToken, ok bool) {
	if p.n == 0 {
		return p.getInbound()
	}
	k = p.ring[p.head]
	p.head++
	if p.head == len(p.ring) {
		p.head = 0
	}
	p.n--
	return k, true
}

// getInbound pops a key other cores ground for this one.
func (p *KeyPool) getInbound() (KeyToken, bool) {
	for range len(p.in) {
		r := p.in[p.next]
		if k, ok := r.pop(); ok {
			p.st.Received++
			return k, true
		}
		if p.next++; p.next == len(p.in) {
			p.next = 0
		}
	}
	return KeyToken{}, false
}

// Wants reports whether grinding now would keep a key: the pool's own
// ring has room, or (with an exchange) some core's ring from this pool
// does. A worker grinds when idle while it wants.
func (p *KeyPool) Wants() bool {
	if p.n < len(p.ring) {
		return true
	}
	for _, r := range p.out {
		if r != nil && r.room() {
			return true
		}
	}
	return false
}

// Next pops a ready key or, when the pool is empty, grinds one now.
func (p *KeyPool) Next() (KeyToken, error) {
	if k, ok := p.Get(); ok {
		return k, nil
	}
	return p.grind()
}

// Refill grinds until max keys were placed or the pool no longer Wants,
// and returns how many keys it placed. Without an exchange a key placed is
// one added to the pool (keys of other cores are thrown away). With one, a
// key placed is one kept or handed to its core; keys for a full ring are
// dropped (counted) and do not count. Call it when the worker is idle or
// on a timer, with a small max so that one refill never delays polling for
// long.
func (p *KeyPool) Refill(max int) (placed int, err error) {
	if p.out == nil {
		for placed < max && p.n < len(p.ring) {
			k, err := p.grind()
			if err != nil {
				return placed, err
			}
			p.keep(k)
			placed++
		}
		return placed, nil
	}
	for placed < max && p.Wants() {
		// Each pass ends with a key, kept, handed or dropped; a drop
		// sends the loop back through Wants.
		for placed < max {
			k, owner, err := p.candidate()
			if err != nil {
				return placed, err
			}
			if owner == p.core {
				if p.n == len(p.ring) {
					p.st.Dropped++
					break
				}
				p.keep(k)
			} else if !p.out[owner].push(k) {
				p.st.Dropped++
				break
			} else {
				p.st.Handed++
			}
			placed++
		}
	}
	return placed, nil
}

// Fill grinds until the pool's own ring is full (at start-up), handing
// the keys it finds for other cores to them as far as their rings take
// them (with an exchange).
func (p *KeyPool) Fill() error {
	for p.n < len(p.ring) {
		k, err := p.grind()
		if err != nil {
			return err
		}
		p.keep(k)
	}
	return nil
}

// keep appends k to the pool's own ring, which has room.
func (p *KeyPool) keep(k KeyToken) {
	i := p.head + p.n
	if i >= len(p.ring) {
		i -= len(p.ring)
	}
	p.ring[i] = k
	p.n++
}

// grind draws candidates until one's token names the pool's core, handing
// the keys it finds for other cores to them (with an exchange).
func (p *KeyPool) grind() (KeyToken, error) {
	for try := 0; try < maxGrind; try++ {
		k, owner, err := p.candidate()
		if err != nil {
			return KeyToken{}, err
		}
		if owner == p.core {
			return k, nil
		}
		if p.out != nil && p.out[owner].push(k) {
			p.st.Handed++
		} else {
			p.st.Dropped++
		}
	}
	return KeyToken{}, ErrKeyGrind
}

// candidate draws random candidates until one's token names a core, and
// returns that key and core. Key 0 is skipped (callers use 0 for none).
func (p *KeyPool) candidate() (KeyToken, int, error) {
	for try := 0; try < maxGrind; try++ {
		if p.pos == len(p.buf) {
			if _, err := io.ReadFull(p.rand, p.buf[:]); err != nil {
				return KeyToken{}, 0, err
			}
			p.pos = 0
		}
		key := binary.BigEndian.Uint64(p.buf[p.pos:])
		p.pos += 8
		if key == 0 {
			continue
		}
		var tok uint32
		var idsn uint64
		if p.hash != nil {
			tok, idsn = p.hash(key)
		} else {
			tok, idsn = keyHash(key)
		}
		p.st.Hashes++
		if owner, ok := p.enc.TokenOwner(tok); ok {
			p.st.Ground++
			return KeyToken{Key: key, IDSN: idsn, Token: tok}, owner, nil
		}
	}
	return KeyToken{}, 0, ErrKeyGrind
}
