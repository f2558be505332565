package mpcrypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestBothPaths runs the known-answer and cross-checking tests on the
// crypto/sha256 path and, where the CPU has them, on the SHA extensions.
func TestBothPaths(t *testing.T) {
	defer func(v bool) { useSHANI = v }(useSHANI)
	for _, fast := range []bool{false, true} {
		if fast && !hasSHANI() {
			t.Log("no SHA extensions here: the crypto/sha256 path only")
			continue
		}
		useSHANI = fast
		name := map[bool]string{false: "crypto_sha256", true: "sha_extensions"}[fast]
		t.Run(name, func(t *testing.T) {
			TestKeyHash(t)
			TestKeyHashRandom(t)
			TestHMACKernelVectors(t)
			TestHMACMatchesStdlib(t)
			TestJoinHandshake(t)
			TestAddAddrHMAC(t)
			TestGoldenKnownAnswers(t)
			TestAllocs(t)
		})
	}
}

// padded returns msg padded to whole blocks (FIPS 180-4 section 5.1.1).
func padded(msg []byte) []byte {
	n := (len(msg) + 9 + blockSize - 1) / blockSize * blockSize
	p := make([]byte, n)
	copy(p, msg)
	p[len(msg)] = 0x80
	binary.BigEndian.PutUint64(p[n-8:], uint64(len(msg))*8)
	return p
}

// shaniSum is SHA-256 of msg through blockSHANI.
func shaniSum(msg []byte) [sha256.Size]byte {
	h := sha256IV
	blockSHANI(&h, padded(msg))
	var d [sha256.Size]byte
	for i, v := range h {
		binary.BigEndian.PutUint32(d[4*i:], v)
	}
	return d
}

// TestBlockSHANI: SHA-256 through blockSHANI, one to eleven blocks per
// call, equals crypto/sha256 on random messages of every length to 700
// bytes. On a CPU without the SHA extensions (or a purego build) the
// dispatcher must not select them.
func TestBlockSHANI(t *testing.T) {
	if !hasSHANI() {
		if useSHANI {
			t.Fatal("useSHANI set on a CPU without the SHA extensions")
		}
		return
	}
	r := rand.New(rand.NewPCG(5, 6))
	msg := make([]byte, 700)
	for n := range len(msg) + 1 {
		for j := range n {
			msg[j] = byte(r.Uint32())
		}
		if got, want := shaniSum(msg[:n]), sha256.Sum256(msg[:n]); got != want {
			t.Fatalf("len %d: %x, want %x", n, got, want)
		}
	}
	// An empty input leaves the state alone.
	h := sha256IV
	blockSHANI(&h, nil)
	if h != sha256IV {
		t.Fatalf("no block: state %x", h)
	}
}

// FuzzSHANI: the key hash and the HMAC equal crypto/sha256 and
// crypto/hmac, on the SHA extensions where the CPU has them (and then
// SHA-256 through blockSHANI too), else on the fallback.
func FuzzSHANI(f *testing.F) {
	f.Add([]byte("abc"), uint64(0xe387d4a8003bdefb), uint64(0x433969c02097b37b))
	f.Add(make([]byte, 119), uint64(0), uint64(1))
	f.Fuzz(func(t *testing.T, msg []byte, k1, k2 uint64) {
		if hasSHANI() {
			if got, want := shaniSum(msg), sha256.Sum256(msg); got != want {
				t.Fatalf("SHA-256 of %x: %x, want %x", msg, got, want)
			}
		}
		defer func(v bool) { useSHANI = v }(useSHANI)
		useSHANI = hasSHANI()
		var in [8]byte
		binary.BigEndian.PutUint64(in[:], k1)
		d := sha256.Sum256(in[:])
		if tok, idsn := KeyHash(k1); tok != binary.BigEndian.Uint32(d[:4]) || idsn != binary.BigEndian.Uint64(d[24:]) {
			t.Fatalf("key %#x: token %#x idsn %#x, digest %x", k1, tok, idsn, d)
		}
		m := msg[:min(len(msg), maxMsgLen)]
		var s Hasher
		if got, want := s.HMAC(k1, k2, m), refHMAC(k1, k2, m); !hmac.Equal(got[:], want) {
			t.Fatalf("HMAC of %x: %x, want %x", m, got, want)
		}
	})
}
