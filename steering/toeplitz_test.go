package steering

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The Microsoft RSS verification suite ("Verifying the RSS Hash
// Calculation", Windows driver documentation): the 40-byte key
// (VerificationKey) and, per flow, the hash of the IP 2-tuple and of the
// TCP 4-tuple, input in the order src addr, dst addr, src port, dst port.
var msVectors = []struct {
	dst, src    string
	ipHash, tcp uint32
}{
	{"161.142.100.80:1766", "66.9.149.187:2794", 0x323e8fc2, 0x51ccc178},
	{"65.69.140.83:4739", "199.92.111.2:14230", 0xd718262a, 0xc626b0ea},
	{"12.22.207.184:38024", "24.19.198.95:12898", 0xd2d0a5de, 0x5c2b394a},
	{"209.142.163.6:2217", "38.27.205.30:48228", 0x82989176, 0xafc7327f},
	{"202.188.127.2:1303", "153.39.163.191:44251", 0x5d1809c5, 0x10e828a2},
	{"[3ffe:2501:200:3::1]:1766", "[3ffe:2501:200:1fff::7]:2794", 0x2cc18cd5, 0x40207d3d},
	{"[ff02::1]:4739", "[3ffe:501:8::260:97ff:fe40:efab]:14230", 0x0f0c461c, 0xdde51bbf},
	{"[fe80::200:f8ff:fe21:67cf]:38024", "[3ffe:1900:4545:3:200:f8ff:fe21:67cf]:44251", 0x4b61e985, 0x02d1feef},
}

// input returns the NIC hash input of t: addresses, and ports if withPorts.
func input(t Tuple, withPorts bool) []byte {
	n := 4
	if t.IPv6 {
		n = 16
	}
	in := append(append([]byte(nil), t.Src[:n]...), t.Dst[:n]...)
	if withPorts {
		in = binary.BigEndian.AppendUint16(in, t.SrcPort)
		in = binary.BigEndian.AppendUint16(in, t.DstPort)
	}
	return in
}

func TestToeplitzMicrosoftVectors(t *testing.T) {
	key := VerificationKey()
	tab := NewTable(key)
	if tab.Symmetric() {
		t.Fatal("verification key reported symmetric")
	}
	for _, v := range msVectors {
		tu := TupleFrom(netip.MustParseAddrPort(v.src), netip.MustParseAddrPort(v.dst))
		t.Run(v.src, func(t *testing.T) {
			if got := Toeplitz(key, input(tu, false)); got != v.ipHash {
				t.Errorf("bitwise 2-tuple = %#08x, want %#08x", got, v.ipHash)
			}
			if got := Toeplitz(key, input(tu, true)); got != v.tcp {
				t.Errorf("bitwise 4-tuple = %#08x, want %#08x", got, v.tcp)
			}
			if got := tab.Hash(input(tu, true)); got != v.tcp {
				t.Errorf("table 4-tuple = %#08x, want %#08x", got, v.tcp)
			}
			var got, gotAddr uint32
			if tu.IPv6 {
				got, gotAddr = tab.HashV6(&tu.Src, &tu.Dst, tu.SrcPort, tu.DstPort), tab.HashAddrV6(&tu.Src, &tu.Dst)
			} else {
				s, d := [4]byte(tu.Src[:4]), [4]byte(tu.Dst[:4])
				got, gotAddr = tab.HashV4(s, d, tu.SrcPort, tu.DstPort), tab.HashAddrV4(s, d)
			}
			if got != v.tcp || gotAddr != v.ipHash {
				t.Errorf("fast path = %#08x/%#08x, want %#08x/%#08x", got, gotAddr, v.tcp, v.ipHash)
			}
		})
	}
}

func TestSymmetricKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want []byte
	}{
		{"4", 4, []byte{0x6d, 0x5a, 0x6d, 0x5a}},
		{"odd rounds up", 3, []byte{0x6d, 0x5a, 0x6d, 0x5a}},
		{"zero", 0, []byte{}},
	} {
		if got := SymmetricKey(tc.n); string(got) != string(tc.want) {
			t.Errorf("%s: SymmetricKey(%d) = %x, want %x", tc.name, tc.n, got, tc.want)
		}
	}
	for _, n := range []int{40, 52} {
		if !NewTable(SymmetricKey(n)).Symmetric() {
			t.Errorf("SymmetricKey(%d) table not symmetric", n)
		}
	}
	if NewTable(SymmetricKey(36)).Symmetric() {
		t.Error("36-byte key cannot hash the IPv6 4-tuple fully, must not fold")
	}
}

func randTuple(r *rand.Rand, v6 bool) Tuple {
	t := Tuple{SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()), IPv6: v6}
	n := 4
	if v6 {
		n = 16
	}
	for i := 0; i < n; i++ {
		t.Src[i], t.Dst[i] = byte(r.Uint32()), byte(r.Uint32())
	}
	return t
}

// TestToeplitzSymmetric: with the 0x6d5a key, swapping source and
// destination (addresses and ports) keeps the hash, for v4 and v6, 40- and
// 52-byte keys, bitwise, table and folded.
func TestToeplitzSymmetric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{40, 52} {
		key := SymmetricKey(n)
		tab := NewTable(key)
		for i := 0; i < 2000; i++ {
			tu := randTuple(r, i%2 == 1)
			rv := tu.Reverse()
			a, b := Toeplitz(key, input(tu, true)), Toeplitz(key, input(rv, true))
			if a != b {
				t.Fatalf("key %d %v: %#x != reverse %#x", n, tu, a, b)
			}
			if a2, b2 := Toeplitz(key, input(tu, false)), Toeplitz(key, input(rv, false)); a2 != b2 {
				t.Fatalf("key %d %v: 2-tuple %#x != reverse %#x", n, tu, a2, b2)
			}
			var f, fb, bytesOnly uint32
			if tu.IPv6 {
				f, fb = tab.HashV6(&tu.Src, &tu.Dst, tu.SrcPort, tu.DstPort), tab.HashV6(&rv.Src, &rv.Dst, rv.SrcPort, rv.DstPort)
				bytesOnly = tab.HashV6Bytes(&tu.Src, &tu.Dst, tu.SrcPort, tu.DstPort)
			} else {
				s, d := [4]byte(tu.Src[:4]), [4]byte(tu.Dst[:4])
				f, fb = tab.HashV4(s, d, tu.SrcPort, tu.DstPort), tab.HashV4(d, s, tu.DstPort, tu.SrcPort)
				bytesOnly = tab.HashV4Bytes(s, d, tu.SrcPort, tu.DstPort)
			}
			if f != a || fb != a || bytesOnly != a {
				t.Fatalf("key %d %v: folded %#x / reverse %#x / per-byte %#x, bitwise %#x", n, tu, f, fb, bytesOnly, a)
			}
		}
	}
}

// TestTableMatchesBitwise: the table equals the bitwise hash for random
// keys and inputs of every length up to and past the key.
func TestTableMatchesBitwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		key := make([]byte, 4+r.IntN(60))
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		tab := NewTable(key)
		in := make([]byte, r.IntN(len(key)+8))
		for j := range in {
			in[j] = byte(r.Uint32())
		}
		if a, b := Toeplitz(key, in), tab.Hash(in); a != b {
			t.Fatalf("key %x input %x: bitwise %#x table %#x", key, in, a, b)
		}
	}
}

func TestToeplitzZeroAlloc(t *testing.T) {
	tab := NewTable(SymmetricKey(40))
	tu := mustTuple("[2001:db8::1]:1", "[2001:db8::2]:2")
	key := VerificationKey()
	in := input(tu, true)
	var sink uint32
	if n := testing.AllocsPerRun(100, func() {
		sink ^= Toeplitz(key, in)
		sink ^= tab.HashV6(&tu.Src, &tu.Dst, 1, 2)
		sink ^= tab.HashV4([4]byte{1}, [4]byte{2}, 1, 2)
		sink ^= tab.HashV6Bytes(&tu.Src, &tu.Dst, 1, 2)
	}); n != 0 {
		t.Errorf("allocs = %v, want 0", n)
	}
	_ = sink
}
