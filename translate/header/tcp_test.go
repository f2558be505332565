package header

import (
	"math/rand/v2"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

func TestTCPGetters(t *testing.T) {
	ip := IPv4(v4Segment)
	tcp := TCP(ip.Payload())
	if !tcp.IsValid() {
		t.Fatal("IsValid = false")
	}
	if tcp.SourcePort() != 40000 || tcp.DestinationPort() != 5201 || tcp.Seq() != 0x11223344 ||
		tcp.Ack() != 0x55667788 || tcp.DataOffset() != 32 || tcp.Flags() != TCPFlagAck|TCPFlagPsh ||
		tcp.Window() != 502 || tcp.Checksum() != 0xded5 || tcp.UrgentPointer() != 0 {
		t.Errorf("fields % x", []byte(tcp[:20]))
	}
	if string(tcp.Payload()) != "hello" || len(tcp.Options()) != 12 || tcp.Options()[2] != 8 {
		t.Errorf("options % x payload %q", tcp.Options(), tcp.Payload())
	}
	pseudo := ip.PseudoHeaderSum()
	if !tcp.IsChecksumValid(pseudo) || tcp.CalculateChecksum(pseudo) != 0xded5 {
		t.Errorf("checksum valid %v calc %#x", tcp.IsChecksumValid(pseudo), tcp.CalculateChecksum(pseudo))
	}
}

func TestTCPIsValid(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"segment", v4Segment[20:], true},
		{"header only", v4Segment[20:52], true},
		{"options cut", v4Segment[20:51], false},
		{"short", v4Segment[20:39], false},
		{"data offset 4", append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40}, make([]byte, 7)...), false},
		{"data offset 5", append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50}, make([]byte, 7)...), true},
	}
	for _, tt := range tests {
		if got := TCP(tt.in).IsValid(); got != tt.want {
			t.Errorf("%s: IsValid = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTCPRewrite applies every incremental setter, as the translator does,
// and checks the checksum against a full recompute, for IPv4 and IPv6.
func TestTCPRewrite(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 4000 {
		var tcp TCP
		var pseudo func() uint16
		var srcOld, srcNew []byte
		if i%2 == 0 {
			ip := IPv4(clone(v4Segment))
			tcp = TCP(ip.Payload())
			srcOld = clone(ip[IPv4SourceOffset : IPv4SourceOffset+4])
			a := [4]byte{198, 18, byte(r.Uint32()), byte(r.Uint32())}
			ip.SetSourceAddressWithChecksumUpdate(a)
			srcNew = a[:]
			pseudo = ip.PseudoHeaderSum
			if !ip.IsChecksumValid() {
				t.Fatal("IPv4 header checksum")
			}
		} else {
			ip := IPv6(clone(v6Segment))
			tcp = TCP(ip.Payload())
			srcOld = clone(ip[IPv6SourceOffset : IPv6SourceOffset+16])
			a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 14: byte(r.Uint32()), 15: byte(r.Uint32())}
			ip.SetSourceAddress(a)
			srcNew = a[:]
			pseudo = ip.PseudoHeaderSum
		}
		tcp.UpdateChecksumPseudoAddress(srcOld, srcNew)
		tcp.SetSourcePortWithChecksumUpdate(uint16(r.Uint32()))
		tcp.SetDestinationPortWithChecksumUpdate(uint16(r.Uint32()))
		tcp.SetSeqWithChecksumUpdate(Seq32(r.Uint32()))
		tcp.SetAckWithChecksumUpdate(Seq32(r.Uint32()))
		tcp.SetWindowWithChecksumUpdate(uint16(r.Uint32()))
		tcp.SetFlagsWithChecksumUpdate(uint8(r.Uint32()))
		if !tcp.IsChecksumValid(pseudo()) {
			t.Fatalf("case %d: incremental %#04x, full %#04x", i, tcp.Checksum(), tcp.CalculateChecksum(pseudo()))
		}
	}
}

// TestTCPStripOptions removes the timestamp option (12 bytes with its NOPs)
// in place and fixes the checksum incrementally: the removed bytes, the
// data offset word and the pseudo-header length.
func TestTCPStripOptions(t *testing.T) {
	ip := IPv4(clone(v4Segment))
	tcp := TCP(ip.Payload())
	opts := clone(tcp.Options())
	oldLen := uint32(len(tcp))
	csum := UpdateChecksumBytes(tcp.Checksum(), opts, nil)
	tcp.SetChecksum(csum)
	tcp.SetDataOffsetWithChecksumUpdate(20)
	copy(tcp[20:], tcp[32:])
	tcp = tcp[:len(tcp)-12]
	tcp.UpdateChecksumPseudoLength(oldLen, uint32(len(tcp)))
	ip.SetTotalLengthWithChecksumUpdate(ip.TotalLength() - 12)
	ip = ip[:ip.TotalLength()]
	if !ip.IsValid() || !ip.IsChecksumValid() || !tcp.IsValid() || string(tcp.Payload()) != "hello" {
		t.Fatalf("stripped packet % x", []byte(ip))
	}
	if !tcp.IsChecksumValid(ip.PseudoHeaderSum()) {
		t.Fatalf("incremental %#04x, full %#04x", tcp.Checksum(), tcp.CalculateChecksum(ip.PseudoHeaderSum()))
	}
}

func TestTCPPayloadSum(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for i := range 500 {
		payload := make([]byte, r.IntN(1500))
		for j := range payload {
			payload[j] = byte(r.Uint32())
		}
		pkt := buildV4(t, payload, i%3 == 0)
		ip := IPv4(pkt)
		tcp := TCP(ip.Payload())
		got := tcp.PayloadSum(ip.PseudoHeaderSum())
		if want := OnesSum(payload, 0); !sameOnes(got, want) {
			t.Fatalf("len %d: PayloadSum = %#04x, want %#04x", len(payload), got, want)
		}
	}
}

// TestTCPChecksumMatchesGopacket compares the full computation with
// gopacket's on random segments.
func TestTCPChecksumMatchesGopacket(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for i := range 300 {
		payload := make([]byte, r.IntN(200))
		for j := range payload {
			payload[j] = byte(r.Uint32())
		}
		ip := IPv4(buildV4(t, payload, i%2 == 0))
		tcp := TCP(ip.Payload())
		want := tcp.Checksum()
		if got := tcp.CalculateChecksum(ip.PseudoHeaderSum()); got != want {
			t.Fatalf("CalculateChecksum = %#04x, gopacket %#04x", got, want)
		}
		if got := ip.CalculateChecksum(); got != ip.Checksum() {
			t.Fatalf("IPv4 CalculateChecksum = %#04x, gopacket %#04x", got, ip.Checksum())
		}
	}
}

// buildV4 serializes an IPv4 TCP segment with gopacket, checksums
// computed by gopacket.
func buildV4(t testing.TB, payload []byte, withTS bool) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP{198, 18, 1, 2}, DstIP: net.IP{198, 18, 3, 2}}
	tcp := &layers.TCP{SrcPort: 1, DstPort: 2, Seq: uint32(len(payload)) * 7919, ACK: true, Window: 1000}
	if withTS {
		tcp.Options = []layers.TCPOption{{OptionType: 1}, {OptionType: 1},
			{OptionType: 8, OptionLength: 10, OptionData: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true},
		ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTCPAllocs(t *testing.T) {
	ip := IPv4(clone(v4Segment))
	tcp := TCP(ip.Payload())
	if n := testing.AllocsPerRun(100, func() {
		if tcp.IsValid() {
			tcp.SetSeqWithChecksumUpdate(tcp.Seq().Add(1))
			tcp.SetAckWithChecksumUpdate(tcp.Ack().Add(1))
			tcp.SetWindowWithChecksumUpdate(tcp.Window() + 1)
			tcp.SetSourcePortWithChecksumUpdate(tcp.SourcePort() + 1)
			tcp.UpdateChecksumPseudoAddress(ip[12:16], ip[16:20])
			_ = tcp.PayloadSum(ip.PseudoHeaderSum())
		}
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func FuzzTCP(f *testing.F) {
	f.Add(v4Segment[20:])
	f.Add(v6Segment[40:])
	f.Add(v4Segment[20:40])
	for _, p := range goldenSeeds(f) {
		if ip := IPv4(p); ip.IsValid() {
			f.Add([]byte(ip.Payload()))
		} else if ip := IPv6(p); ip.IsValid() {
			f.Add([]byte(ip.Payload()))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tcp := TCP(b)
		if !tcp.IsValid() {
			return
		}
		if off := tcp.DataOffset(); off < TCPMinimumSize || off > TCPMaximumSize ||
			len(tcp.Options()) != off-TCPMinimumSize || len(tcp.Payload()) != len(b)-off {
			t.Fatalf("data offset %d options %d payload %d", off, len(tcp.Options()), len(tcp.Payload()))
		}
		const pseudo = 0x1234
		tcp.SetChecksum(tcp.CalculateChecksum(pseudo))
		if !tcp.IsChecksumValid(pseudo) {
			t.Fatal("computed checksum does not verify")
		}
		if got, want := tcp.PayloadSum(pseudo), OnesSum(tcp.Payload(), 0); !sameOnes(got, want) {
			t.Fatalf("PayloadSum %#04x, want %#04x", got, want)
		}
		tcp.SetSeqWithChecksumUpdate(tcp.Seq().Add(1000))
		tcp.SetAckWithChecksumUpdate(tcp.Ack().Add(1))
		tcp.SetWindowWithChecksumUpdate(^tcp.Window())
		tcp.SetFlagsWithChecksumUpdate(tcp.Flags() ^ TCPFlagPsh)
		if !tcp.IsChecksumValid(pseudo) {
			t.Fatal("incremental checksum does not verify")
		}
	})
}

func BenchmarkTCPSeqAckUpdate(b *testing.B) {
	tcp := TCP(clone(v4Segment[20:]))
	b.ReportAllocs()
	for b.Loop() {
		tcp.SetSeqWithChecksumUpdate(tcp.Seq().Add(1448))
		tcp.SetAckWithChecksumUpdate(tcp.Ack().Add(1))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}

func BenchmarkTCPRewrite4Tuple(b *testing.B) {
	ip := IPv4(clone(v4Segment))
	tcp := TCP(ip.Payload())
	addrs := [2][4]byte{{198, 18, 1, 2}, {198, 18, 2, 2}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i ^= 1
		old := ip.SourceAddress()
		ip.SetSourceAddressWithChecksumUpdate(addrs[i])
		tcp.UpdateChecksumPseudoAddress(old[:], addrs[i][:])
		tcp.SetSourcePortWithChecksumUpdate(uint16(40000 + i))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}

func BenchmarkTCPPayloadSum(b *testing.B) {
	pkt := buildV4(b, make([]byte, 1448), true)
	ip := IPv4(pkt)
	tcp := TCP(ip.Payload())
	b.ReportAllocs()
	var s uint16
	for b.Loop() {
		s += tcp.PayloadSum(ip.PseudoHeaderSum())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}
