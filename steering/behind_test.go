package steering

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// withExt returns a copy of the IPv6 packet pkt (built by buildTCP) with
// 8-byte extension headers of the given types inserted before TCP; a
// fragment header gets fragment offset off.
func withExt(pkt []byte, off uint16, types ...uint8) []byte {
	out := append([]byte(nil), pkt[:40]...)
	next := uint8(protoTCP)
	exts := make([]byte, 0, 8*len(types))
	for i := len(types) - 1; i >= 0; i-- {
		h := make([]byte, 8)
		h[0] = next
		if types[i] == ipv6Fragment {
			binary.BigEndian.PutUint16(h[2:4], off<<3)
		}
		exts = append(h, exts...)
		next = types[i]
	}
	out[6] = next
	out = append(append(out, exts...), pkt[40:]...)
	binary.BigEndian.PutUint16(out[4:6], uint16(len(out)-40))
	return out
}

func TestOwnerBehind(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 3, SymmetricRSS: true})
	c := NewClassifier(rs)
	data := mustTuple("198.18.1.2:40000", "198.18.3.2:5201")
	data6 := mustTuple("[2001:db8:1::2]:40010", "[2001:db8:3::2]:5201")
	sub := mustTuple("[2001:db8:2::2]:40002", "[2001:db8:3::2]:5201")
	join := mustTuple("[2001:db8:2::2]:40003", "[2001:db8:3::2]:5201")
	if !c.Install(sub, 2) {
		t.Fatal("Install")
	}

	firstFrag := buildTCP(data, tcpFlagACK, nil, 100)
	binary.BigEndian.PutUint16(firstFrag[6:8], 0x2000) // MF, offset 0
	laterFrag := buildTCP(data, tcpFlagACK, nil, 100)
	binary.BigEndian.PutUint16(laterFrag[6:8], 0x2000|185)
	lastFrag := buildTCP(data, tcpFlagACK, nil, 100)
	binary.BigEndian.PutUint16(lastFrag[6:8], 185)
	v4udp := buildTCP(data, tcpFlagACK, nil, 8)
	v4udp[9] = 17
	binary.BigEndian.PutUint16(v4udp[6:8], 0x2000)

	broken := withExt(buildTCP(data6, tcpFlagACK, nil, 0), 0, ipv6HopByHop)
	broken[41] = 200 // extension length past the packet
	shortTCP := withExt(buildTCP(data6, tcpFlagACK, nil, 0), 0, ipv6DestOpts)[:40+8+12]
	binary.BigEndian.PutUint16(shortTCP[4:6], 20)

	for _, tc := range []struct {
		name string
		pkt  []byte
		core int
		ok   bool
	}{
		{"v4 first fragment", firstFrag, c.tcpOwnerOf(data), true},
		{"v4 first fragment reversed", func() []byte {
			p := buildTCP(data.Reverse(), tcpFlagACK, nil, 100)
			binary.BigEndian.PutUint16(p[6:8], 0x2000)
			return p
		}(), c.tcpOwnerOf(data), true},
		{"v4 later fragment", laterFrag, 0, false},
		{"v4 last fragment", lastFrag, 0, false},
		{"v4 fragment not TCP", v4udp, 0, false},
		{"v4 plain TCP is Owner's", buildTCP(data, tcpFlagACK, nil, 10), 0, false},
		{"v6 hop-by-hop", withExt(buildTCP(data6, tcpFlagACK, nil, 10), 0, ipv6HopByHop), c.tcpOwnerOf(data6), true},
		{"v6 chain of three", withExt(buildTCP(data6, tcpFlagACK, nil, 10), 0, ipv6HopByHop, ipv6Routing, ipv6DestOpts), c.tcpOwnerOf(data6), true},
		{"v6 nine dest options", withExt(buildTCP(data6, tcpFlagACK, nil, 10), 0,
			ipv6DestOpts, ipv6DestOpts, ipv6DestOpts, ipv6DestOpts, ipv6DestOpts, ipv6DestOpts, ipv6DestOpts, ipv6DestOpts, ipv6DestOpts), c.tcpOwnerOf(data6), true},
		{"v6 first fragment", withExt(buildTCP(data6, tcpFlagACK, nil, 10), 0, ipv6Fragment), c.tcpOwnerOf(data6), true},
		{"v6 later fragment", withExt(buildTCP(data6, tcpFlagACK, nil, 10), 7, ipv6Fragment), 0, false},
		{"v6 join subflow behind a header", withExt(buildTCP(sub.Reverse(), tcpFlagACK, nil, 10), 0, ipv6DestOpts), 2, true},
		{"v6 join SYN behind a header", withExt(buildTCP(join, tcpFlagSYN, joinLayouts[0].opts(0x12345601), 0), 0, ipv6HopByHop), 1, true},
		{"v6 broken chain", broken, 0, false},
		{"v6 TCP header cut", shortTCP, 0, false},
		{"v6 plain TCP is Owner's", buildTCP(data6, tcpFlagACK, nil, 10), 0, false},
		{"empty", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, ok := c.OwnerBehind(tc.pkt)
			if ok != tc.ok || (ok && core != tc.core) {
				t.Fatalf("OwnerBehind = %d, %v; want %d, %v", core, ok, tc.core, tc.ok)
			}
		})
	}
}

// TestOwnerBehindAgreesWithOwner: a segment behind extension headers or in
// a first fragment goes to the worker the same segment without them goes
// to, for random tuples - the property that keeps every packet of a
// connection on one owner.
func TestOwnerBehindAgreesWithOwner(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 4, SymmetricRSS: true})
	c := NewClassifier(rs)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var tu Tuple
		if i%2 == 0 {
			tu = mustTuple("198.18.1.2:1", "198.18.3.2:2")
			tu.Src[3], tu.Dst[3] = byte(r.IntN(256)), byte(r.IntN(256))
		} else {
			tu = mustTuple("[2001:db8:1::2]:1", "[2001:db8:3::2]:2")
			tu.Src[15], tu.Dst[14] = byte(r.IntN(256)), byte(r.IntN(256))
		}
		tu.SrcPort, tu.DstPort = uint16(r.IntN(65536)), uint16(r.IntN(65536))
		plain := buildTCP(tu, tcpFlagACK, nil, 20)
		want, _ := c.Owner(plain)
		var hidden []byte
		if tu.IPv6 {
			hidden = withExt(plain, 0, ipv6HopByHop, ipv6Fragment)
		} else {
			hidden = append([]byte(nil), plain...)
			binary.BigEndian.PutUint16(hidden[6:8], 0x2000)
		}
		if got, ok := c.OwnerBehind(hidden); !ok || got != want {
			t.Fatalf("%v: OwnerBehind = %d, %v; Owner of the plain segment = %d", tu, got, ok, want)
		}
	}
}

// TestOwnerBehindTruncations: every prefix of every case, and random
// bytes, neither panic nor read past the slice.
func TestOwnerBehindTruncations(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 2, SymmetricRSS: true})
	c := NewClassifier(rs)
	d6 := mustTuple("[2001:db8:1::2]:40010", "[2001:db8:3::2]:5201")
	full := withExt(buildTCP(d6, tcpFlagACK, nil, 10), 0, ipv6HopByHop, ipv6Routing, ipv6Fragment)
	for n := 0; n <= len(full); n++ {
		c.OwnerBehind(full[:n])
	}
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 120)
	for i := 0; i < 20000; i++ {
		for j := range buf {
			buf[j] = byte(r.IntN(256))
		}
		buf[0] = byte(0x40 + 0x20*r.IntN(2)) // versions 4 and 6
		c.OwnerBehind(buf[:r.IntN(len(buf)+1)])
	}
}

func TestOwnerBehindZeroAlloc(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 2, SymmetricRSS: true})
	c := NewClassifier(rs)
	pkt := withExt(buildTCP(mustTuple("[2001:db8:1::2]:1", "[2001:db8:3::2]:2"), tcpFlagACK, nil, 10), 0, ipv6HopByHop)
	if n := testing.AllocsPerRun(100, func() { c.OwnerBehind(pkt) }); n != 0 {
		t.Fatalf("OwnerBehind allocates %v per call", n)
	}
}
