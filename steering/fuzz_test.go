package steering

import (
	"bytes"
	"path/filepath"
	"testing"
)

// swapEnds swaps the addresses and ports of a TCP packet in place.
func swapEnds(pkt []byte) {
	var a, b, n int
	if pkt[0]>>4 == 4 {
		a, b, n = 12, 16, 4
	} else {
		a, b, n = 8, 24, 16
	}
	var tmp [16]byte
	copy(tmp[:n], pkt[a:a+n])
	copy(pkt[a:a+n], pkt[b:b+n])
	copy(pkt[b:b+n], tmp[:n])
	l4 := 20
	if pkt[0]>>4 == 4 {
		l4 = int(pkt[0]&0x0f) * 4
	} else {
		l4 = 40
	}
	pkt[l4], pkt[l4+1], pkt[l4+2], pkt[l4+3] = pkt[l4+2], pkt[l4+3], pkt[l4], pkt[l4+1]
}

// FuzzOwner: Owner (and OwnerBehind) never panic, name a core in [0, N),
// leave the packet alone; Owner is deterministic and gives the reversed packet of a TCP flow the same core for the same
// reason (symmetry, installed subflow entries included).
func FuzzOwner(f *testing.F) {
	join := mustTuple("198.18.2.2:40001", "198.18.3.2:5201")
	sub := mustTuple("[2001:db8:2::2]:40002", "[2001:db8:3::2]:5201")
	for _, l := range joinLayouts {
		f.Add(buildTCP(join, tcpFlagSYN, l.opts(0x12345602), 0))
		f.Add(buildTCP(sub, tcpFlagSYN, l.opts(0x12345603), 0))
	}
	f.Add(buildTCP(sub, tcpFlagACK, nil, 10))
	f.Add(buildTCP(join.Reverse(), tcpFlagACK, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 100))
	f.Add([]byte{0x45})
	f.Add([]byte{0x60, 0, 0, 0})
	files, _ := filepath.Glob(filepath.Join(goldenDir, "mptcp-v*-basic-p2.pcap"))
	for _, file := range files {
		for i, pkt := range readPcap(f, file) {
			if i < 8 {
				f.Add(pkt)
			}
		}
	}
	var cs []*Classifier
	for _, n := range []int{1, 3, 24} {
		c := NewClassifier(mustRuleset(f, Config{Workers: n, SymmetricRSS: true}))
		c.Install(sub, n-1)
		cs = append(cs, c)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		orig := bytes.Clone(pkt)
		for _, c := range cs {
			core, why := c.Owner(pkt)
			if core < 0 || core >= c.Workers() || why >= NumReasons {
				t.Fatalf("N=%d: Owner = %d %v", c.Workers(), core, why)
			}
			if c2, w2 := c.Owner(pkt); c2 != core || w2 != why {
				t.Fatal("Owner not deterministic")
			}
			if !bytes.Equal(pkt, orig) {
				t.Fatal("Owner modified the packet")
			}
			if hc, ok := c.OwnerBehind(pkt); ok && (hc < 0 || hc >= c.Workers()) {
				t.Fatalf("N=%d: OwnerBehind = %d", c.Workers(), hc)
			}
			if !bytes.Equal(pkt, orig) {
				t.Fatal("OwnerBehind modified the packet")
			}
			if _, ok := TupleOf(pkt); ok {
				rev := bytes.Clone(pkt)
				swapEnds(rev)
				if c2, w2 := c.Owner(rev); c2 != core || w2 != why {
					t.Fatalf("N=%d: reversed packet %d %v, packet %d %v", c.Workers(), c2, w2, core, why)
				}
			}
		}
	})
}
