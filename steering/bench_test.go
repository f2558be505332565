package steering

import (
	"strconv"
	"testing"
)

// BenchmarkToeplitz compares the bitwise reference, the per-byte table and
// the folded table (16-bit-periodic key) on the TCP 4-tuple.
func BenchmarkToeplitz(b *testing.B) {
	key := SymmetricKey(40)
	tab := NewTable(key)
	for _, v6 := range []bool{false, true} {
		tu := mustTuple("198.18.1.2:40000", "198.18.3.2:5201")
		name := "v4"
		if v6 {
			tu, name = mustTuple("[2001:db8:1::2]:40000", "[2001:db8:3::2]:5201"), "v6"
		}
		in := input(tu, true)
		var sink uint32
		b.Run(name+"/bitwise", func(b *testing.B) {
			for b.Loop() {
				sink ^= Toeplitz(key, in)
			}
			reportPerPkt(b)
		})
		b.Run(name+"/table", func(b *testing.B) {
			for b.Loop() {
				if v6 {
					sink ^= tab.HashV6Bytes(&tu.Src, &tu.Dst, tu.SrcPort, tu.DstPort)
				} else {
					sink ^= tab.HashV4Bytes([4]byte(tu.Src[:4]), [4]byte(tu.Dst[:4]), tu.SrcPort, tu.DstPort)
				}
			}
			reportPerPkt(b)
		})
		b.Run(name+"/folded", func(b *testing.B) {
			for b.Loop() {
				if v6 {
					sink ^= tab.HashV6(&tu.Src, &tu.Dst, tu.SrcPort, tu.DstPort)
				} else {
					sink ^= tab.HashV4([4]byte(tu.Src[:4]), [4]byte(tu.Dst[:4]), tu.SrcPort, tu.DstPort)
				}
			}
			reportPerPkt(b)
		})
		_ = sink
	}
}

func reportPerPkt(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}

// BenchmarkOwner classifies one packet per iteration, with 1000 join
// subflow entries installed (so data packets pay a table miss).
func BenchmarkOwner(b *testing.B) {
	rs := mustRuleset(b, Config{Workers: 24, SymmetricRSS: true})
	c := NewClassifier(rs)
	for i := 0; i < 1000; i++ {
		c.Install(mustTuple("198.18.2.2:1000", "198.18.3.2:80").withSrcPort(uint16(1000+i)), i%24)
	}
	sub := mustTuple("198.18.2.2:1000", "198.18.3.2:80").withSrcPort(1500)
	for _, bc := range []struct {
		name string
		pkt  []byte
	}{
		{"data-v4", buildTCP(mustTuple("198.18.1.2:40000", "198.18.3.2:5201"), tcpFlagACK, nil, 1400)},
		{"data-v6", buildTCP(mustTuple("[2001:db8:1::2]:40000", "[2001:db8:3::2]:5201"), tcpFlagACK, nil, 1400)},
		{"join-syn-v4", buildTCP(mustTuple("198.18.2.2:40001", "198.18.3.2:5201"), tcpFlagSYN, joinLayouts[0].opts(0x1234567), 0)},
		{"join-syn-v6", buildTCP(mustTuple("[2001:db8:2::2]:40001", "[2001:db8:3::2]:5201"), tcpFlagSYN, joinLayouts[0].opts(0x1234567), 0)},
		{"subflow-v4", buildTCP(sub, tcpFlagACK, nil, 1400)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var sink int
			for b.Loop() {
				core, _ := c.Owner(bc.pkt)
				sink += core
			}
			_ = sink
			reportPerPkt(b)
		})
	}
	b.Run("empty-table/data-v4", func(b *testing.B) {
		c := NewClassifier(rs)
		pkt := buildTCP(mustTuple("198.18.1.2:40000", "198.18.3.2:5201"), tcpFlagACK, nil, 1400)
		var sink int
		for b.Loop() {
			core, _ := c.Owner(pkt)
			sink += core
		}
		_ = sink
		reportPerPkt(b)
	})
}

func (t Tuple) withSrcPort(p uint16) Tuple { t.SrcPort = p; return t }

// BenchmarkKeyGrind measures keys per second the pool grinds for one core
// (crypto/rand, batch reads, SHA-256 per candidate).
func BenchmarkKeyGrind(b *testing.B) {
	for _, n := range []int{2, 24} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			enc, _ := NewTokenEncoding(n)
			p, err := NewKeyPool(enc, n-1, 1, nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := p.Next(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(p.Hashes())/float64(b.N), "sha256/key")
		})
	}
}
