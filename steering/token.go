package steering

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/bits"
)

// MaxWorkers is the largest worker count a TokenEncoding takes: the owner
// field is then the token's low 8 bits, which fit the last byte of the
// MP_JOIN token and one RAW pattern byte.
const MaxWorkers = 256

// ErrWorkers is returned for a worker count outside [1, MaxWorkers].
var ErrWorkers = errors.New("steering: worker count must be in [1, 256]")

// Token returns the MPTCP token of key: the most significant 32 bits of
// SHA-256 of the key as 8 bytes big-endian (RFC 8684 section 3.1).
func Token(key uint64) uint32 {
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], key)
	h := sha256.Sum256(in[:])
	return binary.BigEndian.Uint32(h[0:4])
}

// TokenEncoding says which core a token names: the owner field is token &
// Mask, where Mask is the next power of two at or above the worker count,
// minus one; an owner field at or above the worker count names no core.
// The proxy chooses key_P so that its token's owner field is the core that
// owns the connection (DESIGN.md section 5), so a NIC can steer an MP_JOIN
// SYN by masking the token's low bits, one rule per core. With N workers
// a random key suits a given core with probability 1/(Mask+1): 1/2 for
// N=2, 1/4 for N=3 or 4, 1/32 for N=24.
//
// The zero value is not valid; use NewTokenEncoding.
type TokenEncoding struct {
	workers uint32
	mask    uint32
}

// NewTokenEncoding returns the encoding for workers cores.
func NewTokenEncoding(workers int) (TokenEncoding, error) {
	if workers < 1 || workers > MaxWorkers {
		return TokenEncoding{}, ErrWorkers
	}
	var mask uint32
	if workers > 1 {
		mask = 1<<bits.Len32(uint32(workers-1)) - 1
	}
	return TokenEncoding{workers: uint32(workers), mask: mask}, nil
}

// Workers returns the number of cores the encoding names.
func (e TokenEncoding) Workers() int { return int(e.workers) }

// Mask returns the owner-field mask (0 for one worker).
func (e TokenEncoding) Mask() uint32 { return e.mask }

// Bits returns the width of the owner field.
func (e TokenEncoding) Bits() int { return bits.OnesCount32(e.mask) }

// TokenOwner returns the core a token names; ok is false when its owner
// field is at or above the worker count (no key this proxy hands out has
// such a token).
func (e TokenEncoding) TokenOwner(token uint32) (core int, ok bool) {
	o := token & e.mask
	return int(o), o < e.workers
}

// KeyAccepts reports whether a key whose token is token may be handed out
// by core: the token's owner field must be core.
func (e TokenEncoding) KeyAccepts(core int, token uint32) bool {
	return core >= 0 && uint32(core) < e.workers && token&e.mask == uint32(core)
}
