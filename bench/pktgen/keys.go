package pktgen

import (
	"fmt"

	"github.com/flexcp/flexcp/steering"
	"github.com/flexcp/flexcp/translate/mpcrypto"
)

// keyRefill is how many keys each pool grinds per engine Tick, as a
// dataplane worker does on every engine tick.
const keyRefillTick = 4

// keyPoolSize and keyInbound: a pool's own keys and the keys its inbound
// rings hold in all, as in the dataplane.
const (
	keyPoolSize = 1024
	keyInbound  = 1024
)

// exchangeKeys is a worker's translate.HashedKeySource in the setup
// phase: key_P whose tokens name cores of a KeyCores-core proxy, from
// pools of one steering.KeyExchange. A worker plays the cores w, w+W,
// w+2W, ... below KeyCores and draws from their pools in turn, so with
// KeyCores above Workers every pool is drawn from as often as one busy
// core would, and every key of every pool, with what it grinds for the
// others, is ground inside the timed loop by some worker. Owned by one
// worker goroutine.
type exchangeKeys struct {
	pools  []*steering.KeyPool
	next   int // pool NextHashedKey draws from
	refill int // pool Refill refills
	drawn  uint64
	err    error
}

// newExchangeKeys returns the key sources of workers workers over one
// exchange of cores cores; the pools start empty.
func newExchangeKeys(workers, cores int) ([]*exchangeKeys, error) {
	enc, err := steering.NewTokenEncoding(cores)
	if err != nil {
		return nil, fmt.Errorf("pktgen: key cores: %w", err)
	}
	x, err := steering.NewKeyExchange(enc, steering.KeyExchangeRingCap(cores, keyInbound))
	if err != nil {
		return nil, fmt.Errorf("pktgen: key exchange: %w", err)
	}
	out := make([]*exchangeKeys, workers)
	for w := range out {
		out[w] = &exchangeKeys{}
	}
	for c := range cores {
		p, err := x.Pool(c, keyPoolSize, nil)
		if err != nil {
			return nil, fmt.Errorf("pktgen: key pool %d: %w", c, err)
		}
		p.SetHash(mpcrypto.KeyHash) // as the dataplane's workers do
		k := out[c%workers]
		k.pools = append(k.pools, p)
	}
	return out, nil
}

// NextKey implements translate.KeySource.
func (k *exchangeKeys) NextKey() (uint64, bool) {
	key, _, _, ok := k.NextHashedKey()
	return key, ok
}

// NextHashedKey implements translate.HashedKeySource: the next pool's
// key (its own, another core's gift, or ground now).
func (k *exchangeKeys) NextHashedKey() (uint64, uint32, uint64, bool) {
	p := k.pools[k.next]
	if k.next++; k.next == len(k.pools) {
		k.next = 0
	}
	kt, err := p.Next()
	if err != nil {
		k.err = err
		return 0, 0, 0, false
	}
	k.drawn++
	return kt.Key, kt.Token, kt.IDSN, true
}

// Refill implements translate.KeySource: a few keys on one pool, the
// pools taking turns, so that a worker playing several cores grinds ahead
// per connection what one core would (refilling every pool on every tick
// would stock keys the phase never draws, charged to it all the same).
func (k *exchangeKeys) Refill() {
	p := k.pools[k.refill]
	if k.refill++; k.refill == len(k.pools) {
		k.refill = 0
	}
	if _, err := p.Refill(keyRefillTick); err != nil {
		k.err = err
	}
}

// hashes returns the SHA-256 computations of the worker's pools.
func (k *exchangeKeys) hashes() uint64 {
	var h uint64
	for _, p := range k.pools {
		h += p.Hashes()
	}
	return h
}
