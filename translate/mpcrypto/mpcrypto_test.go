package mpcrypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// refHMAC is the standard library's HMAC-SHA256 with key key1||key2.
func refHMAC(key1, key2 uint64, msg []byte) []byte {
	var k [16]byte
	binary.BigEndian.PutUint64(k[:], key1)
	binary.BigEndian.PutUint64(k[8:], key2)
	m := hmac.New(sha256.New, k[:])
	m.Write(msg)
	return m.Sum(nil)
}

func TestKeyHash(t *testing.T) {
	tests := []struct {
		name  string
		key   uint64
		token uint32
		idsn  uint64
	}{
		// SHA-256 of 8 zero bytes is af5570f5...e5b2328de0e83dfc.
		{"zero key", 0, 0xaf5570f5, 0xe5b2328de0e83dfc},
		// Keys seen on the wire in translate/testdata/mptcp-v4-basic
		// (client and server), with the token and IDSN the kernel
		// derived: the join SYN carried token 3d710a8f.
		{"captured client key", 0xe387d4a8003bdefb, 0xc2b662ef, 0x89aac7043cd4b63f},
		{"captured server key", 0x433969c02097b37b, 0x3d710a8f, 0x52466d893d140333},
	}
	for _, tt := range tests {
		token, idsn := KeyHash(tt.key)
		if token != tt.token || idsn != tt.idsn || Token(tt.key) != tt.token || IDSN(tt.key) != tt.idsn {
			t.Errorf("%s: token %#08x idsn %#016x, want %#08x %#016x", tt.name, token, idsn, tt.token, tt.idsn)
		}
	}
}

func TestKeyHashRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		key := r.Uint64()
		var in [8]byte
		binary.BigEndian.PutUint64(in[:], key)
		h := sha256.Sum256(in[:])
		token, idsn := KeyHash(key)
		if token != binary.BigEndian.Uint32(h[:4]) || idsn != binary.BigEndian.Uint64(h[24:]) {
			t.Fatalf("key %#x: token %#x idsn %#x, digest %x", key, token, idsn, h)
		}
	}
}

// TestHMACKernelVectors uses the vectors of the kernel's
// net/mptcp/crypto_test.c: the key is the 16 ASCII bytes of the string,
// the message the 8 ASCII bytes of the other.
func TestHMACKernelVectors(t *testing.T) {
	tests := []struct{ key, msg, want string }{
		{"0b0b0b0b0b0b0b0b", "48692054", "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa"},
		{"aaaaaaaaaaaaaaaa", "dddddddd", "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9"},
		{"0102030405060708", "cdcdcdcd", "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d"},
	}
	var s Hasher
	for _, tt := range tests {
		key1 := binary.BigEndian.Uint64([]byte(tt.key[:8]))
		key2 := binary.BigEndian.Uint64([]byte(tt.key[8:]))
		got := s.HMAC(key1, key2, []byte(tt.msg))
		if hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("key %q msg %q: %x, want %s", tt.key, tt.msg, got, tt.want)
		}
		// As the kernel's MP_JOIN uses it: the message is two nonces.
		n1 := binary.BigEndian.Uint32([]byte(tt.msg[:4]))
		n2 := binary.BigEndian.Uint32([]byte(tt.msg[4:]))
		j := s.JoinHMAC(key1, key2, n1, n2)
		if hex.EncodeToString(j[:]) != tt.want[:40] {
			t.Errorf("JoinHMAC = %x, want %s", j, tt.want[:40])
		}
		if th := s.JoinTruncatedHMAC(key1, key2, n1, n2); hex.EncodeToString(binary.BigEndian.AppendUint64(nil, th)) != tt.want[:16] {
			t.Errorf("JoinTruncatedHMAC = %#x, want %s", th, tt.want[:16])
		}
	}
}

// TestHMACMatchesStdlib compares with crypto/hmac on random keys and
// messages of every allowed length.
func TestHMACMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var s Hasher
	msg := make([]byte, maxMsgLen)
	for i := range 2000 {
		k1, k2 := r.Uint64(), r.Uint64()
		n := i % (maxMsgLen + 1)
		for j := range n {
			msg[j] = byte(r.Uint32())
		}
		got := s.HMAC(k1, k2, msg[:n])
		if want := refHMAC(k1, k2, msg[:n]); !hmac.Equal(got[:], want) {
			t.Fatalf("len %d: %x, want %x", n, got, want)
		}
	}
}

// TestJoinHandshake plays both ends of an MP_JOIN (RFC 8684 section 3.2)
// with random keys and nonces: each side verifies what the other sent.
func TestJoinHandshake(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var client, proxy Hasher
	for range 500 {
		keyC, keyP := r.Uint64(), r.Uint64()
		rC, rP := r.Uint32(), r.Uint32()
		// P's SYN/ACK: HMAC(key_P||key_C, R_P||R_C), leftmost 64 bits.
		thmac := proxy.JoinTruncatedHMAC(keyP, keyC, rP, rC)
		var msg [8]byte
		binary.BigEndian.PutUint32(msg[:], rP)
		binary.BigEndian.PutUint32(msg[4:], rC)
		if want := binary.BigEndian.Uint64(refHMAC(keyP, keyC, msg[:])); thmac != want {
			t.Fatalf("SYN/ACK HMAC %#x, want %#x", thmac, want)
		}
		if !client.VerifyJoinTruncatedHMAC(thmac, keyP, keyC, rP, rC) ||
			client.VerifyJoinTruncatedHMAC(thmac^1, keyP, keyC, rP, rC) ||
			client.VerifyJoinTruncatedHMAC(thmac, keyP, keyC, rC, rP) {
			t.Fatal("client-side verification of the truncated HMAC")
		}
		// C's third ACK: HMAC(key_C||key_P, R_C||R_P), leftmost 160 bits.
		mac := client.JoinHMAC(keyC, keyP, rC, rP)
		binary.BigEndian.PutUint32(msg[:], rC)
		binary.BigEndian.PutUint32(msg[4:], rP)
		if want := refHMAC(keyC, keyP, msg[:]); !hmac.Equal(mac[:], want[:20]) {
			t.Fatalf("third-ACK HMAC %x, want %x", mac, want[:20])
		}
		if !proxy.VerifyJoinHMAC(&mac, keyC, keyP, rC, rP) || proxy.VerifyJoinHMAC(&mac, keyP, keyC, rP, rC) {
			t.Fatal("proxy-side verification of the third-ACK HMAC")
		}
		mac[19] ^= 0x80
		if proxy.VerifyJoinHMAC(&mac, keyC, keyP, rC, rP) {
			t.Fatal("a flipped bit verified")
		}
	}
}

func TestAddAddrHMAC(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var s Hasher
	for i := range 500 {
		k1, k2 := r.Uint64(), r.Uint64()
		addr := make([]byte, 4)
		if i%2 == 1 {
			addr = make([]byte, 16)
		}
		for j := range addr {
			addr[j] = byte(r.Uint32())
		}
		id := uint8(r.Uint32())
		port := uint16(0)
		if i%3 == 0 {
			port = uint16(r.Uint32())
		}
		got := s.AddAddrHMAC(k1, k2, id, addr, port)
		// RFC 8684 3.4.1: id || address || port (zero when absent),
		// rightmost 64 bits.
		msg := append(append([]byte{id}, addr...), byte(port>>8), byte(port))
		ref := refHMAC(k1, k2, msg)
		if want := binary.BigEndian.Uint64(ref[24:]); got != want {
			t.Fatalf("ADD_ADDR HMAC %#x, want %#x", got, want)
		}
	}
}

func TestAllocs(t *testing.T) {
	var s Hasher
	addr := []byte{198, 18, 2, 2}
	var sink uint64
	if n := testing.AllocsPerRun(100, func() {
		tok, idsn := KeyHash(sink)
		sink += uint64(tok) + idsn
		sink += s.JoinTruncatedHMAC(sink, 2, 3, 4)
		mac := s.JoinHMAC(sink, 2, 3, 4)
		if s.VerifyJoinHMAC(&mac, sink, 2, 3, 4) {
			sink++
		}
		sink += s.AddAddrHMAC(1, 2, 3, addr, 80)
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func BenchmarkKeyHash(b *testing.B) {
	var sink uint64
	b.ReportAllocs()
	for b.Loop() {
		tok, idsn := KeyHash(sink)
		sink += uint64(tok) ^ idsn
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/key")
}

func BenchmarkJoinTruncatedHMAC(b *testing.B) {
	var s Hasher
	var sink uint64
	b.ReportAllocs()
	for b.Loop() {
		sink += s.JoinTruncatedHMAC(sink, 2, 3, 4)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/join")
}

func BenchmarkJoinHMAC(b *testing.B) {
	var s Hasher
	var mac [JoinHMACLen]byte
	b.ReportAllocs()
	for b.Loop() {
		mac = s.JoinHMAC(uint64(mac[0]), 2, 3, 4)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/join")
}

// BenchmarkStdlibHMAC is crypto/hmac for comparison: one hash per call.
func BenchmarkStdlibHMAC(b *testing.B) {
	var msg [8]byte
	b.ReportAllocs()
	for b.Loop() {
		refHMAC(1, 2, msg[:])
	}
}
