package header

import (
	"testing"

	"github.com/flexcp/flexcp/internal/golden"
)

// capturedPackets returns every IP packet of every golden capture.
func capturedPackets(tb testing.TB) []golden.Packet {
	tb.Helper()
	files, err := golden.Files()
	if err != nil {
		tb.Fatal(err)
	}
	var out []golden.Packet
	for _, path := range files {
		pkts, err := golden.LoadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, pkts...)
	}
	return out
}

// TestGoldenChecksums reads every captured packet through the views (the
// captures ran with checksum offloads off, so every checksum on the wire is
// real): the IPv4 header checksum and the TCP checksum verify, the full
// computation reproduces them, and PayloadSum recovers the payload's sum
// without reading it.
func TestGoldenChecksums(t *testing.T) {
	var n4, n6 int
	for _, p := range capturedPackets(t) {
		var tcp TCP
		var pseudo uint16
		switch ip4, ip6 := IPv4(p.Data), IPv6(p.Data); {
		case ip4.IsValid():
			if !ip4.IsChecksumValid() || ip4.CalculateChecksum() != ip4.Checksum() {
				t.Errorf("%v: IPv4 checksum %#04x, computed %#04x", p, ip4.Checksum(), ip4.CalculateChecksum())
			}
			if ip4.Protocol() != IPv4ProtocolTCP || ip4.IsFragment() {
				continue
			}
			tcp, pseudo = ip4.Payload(), ip4.PseudoHeaderSum()
			n4++
		case ip6.IsValid():
			if !ip6.IsDirectTCP() {
				continue
			}
			tcp, pseudo = ip6.Payload(), ip6.PseudoHeaderSum()
			n6++
		default:
			t.Fatalf("%v: neither IPv4 nor IPv6", p)
		}
		if !tcp.IsValid() {
			t.Fatalf("%v: invalid TCP header", p)
		}
		if !tcp.IsChecksumValid(pseudo) || tcp.CalculateChecksum(pseudo) != tcp.Checksum() {
			t.Errorf("%v: TCP checksum %#04x, computed %#04x", p, tcp.Checksum(), tcp.CalculateChecksum(pseudo))
		}
		if got, want := tcp.PayloadSum(pseudo), OnesSum(tcp.Payload(), 0); !sameOnes(got, want) {
			t.Errorf("%v: PayloadSum %#04x, want %#04x", p, got, want)
		}
	}
	if n4 == 0 || n6 == 0 {
		t.Fatalf("captures hold %d IPv4 and %d IPv6 TCP segments; want both", n4, n6)
	}
	t.Logf("%d IPv4 and %d IPv6 TCP segments verified", n4, n6)
}

// goldenSeeds returns one captured packet per distinct (version, TCP
// flags, header length) combination, for the fuzz corpora.
func goldenSeeds(tb testing.TB) [][]byte {
	seen := map[[3]byte]bool{}
	var out [][]byte
	for _, p := range capturedPackets(tb) {
		if len(p.Data) < 40 {
			continue
		}
		off := int(p.Data[0]&0xf) * 4 // IPv4 header length
		if p.Data[0]>>4 == 6 {
			off = IPv6MinimumSize
		}
		if len(p.Data) < off+14 {
			continue
		}
		k := [3]byte{p.Data[0], p.Data[off+13], p.Data[off+12]}
		if !seen[k] {
			seen[k] = true
			out = append(out, p.Data)
		}
	}
	return out
}
