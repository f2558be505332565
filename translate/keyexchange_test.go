package translate_test

import (
	"github.com/flexcp/flexcp/steering"
	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/mpcrypto"
)

// exchangeKeys is a translate.HashedKeySource over one pool of a
// steering.KeyExchange (the dataplane's poolKeys, for the benchmark).
type exchangeKeys struct{ p *steering.KeyPool }

func (k exchangeKeys) NextKey() (uint64, bool) {
	kt, err := k.p.Next()
	return kt.Key, err == nil
}

func (k exchangeKeys) NextHashedKey() (uint64, uint32, uint64, bool) {
	kt, err := k.p.Next()
	return kt.Key, kt.Token, kt.IDSN, err == nil
}

func (k exchangeKeys) Refill() { k.p.Refill(4) }

func init() {
	translate.ExchangeKeys = func(workers int) ([]translate.HashedKeySource, func() uint64) {
		enc, err := steering.NewTokenEncoding(workers)
		if err != nil {
			panic(err)
		}
		x, err := steering.NewKeyExchange(enc, steering.KeyExchangeRingCap(workers, 1024))
		if err != nil {
			panic(err)
		}
		pools := make([]*steering.KeyPool, workers)
		keys := make([]translate.HashedKeySource, workers)
		for c := range pools {
			if pools[c], err = x.Pool(c, 1024, nil); err != nil {
				panic(err)
			}
			pools[c].SetHash(mpcrypto.KeyHash) // as the dataplane's workers do
			keys[c] = exchangeKeys{pools[c]}
		}
		return keys, func() uint64 {
			var h uint64
			for _, p := range pools {
				h += p.Hashes()
			}
			return h
		}
	}
}
