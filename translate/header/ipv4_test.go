package header

import (
	"math/rand/v2"
	"testing"
)

func TestIPv4Getters(t *testing.T) {
	ip := IPv4(v4Segment)
	if !ip.IsValid() {
		t.Fatal("IsValid = false")
	}
	if ip.Version() != 4 || ip.HeaderLength() != 20 || ip.TOS() != 0 || ip.TotalLength() != 57 ||
		ip.ID() != 0x1234 || !ip.DontFragment() || ip.MoreFragments() || ip.FragmentOffset() != 0 ||
		ip.IsFragment() || ip.TTL() != 64 || ip.Protocol() != IPv4ProtocolTCP || ip.Checksum() != 0x9862 {
		t.Errorf("fields: ver %d hl %d tos %d tl %d id %#x df %v mf %v off %d ttl %d proto %d csum %#x",
			ip.Version(), ip.HeaderLength(), ip.TOS(), ip.TotalLength(), ip.ID(), ip.DontFragment(),
			ip.MoreFragments(), ip.FragmentOffset(), ip.TTL(), ip.Protocol(), ip.Checksum())
	}
	if ip.SourceAddress() != [4]byte{198, 18, 1, 2} || ip.DestinationAddress() != [4]byte{198, 18, 3, 2} {
		t.Errorf("addresses %v %v", ip.SourceAddress(), ip.DestinationAddress())
	}
	if len(ip.Options()) != 0 || len(ip.Payload()) != 37 {
		t.Errorf("options %d payload %d", len(ip.Options()), len(ip.Payload()))
	}
	if !ip.IsChecksumValid() || ip.CalculateChecksum() != 0x9862 {
		t.Errorf("checksum valid %v calc %#x", ip.IsChecksumValid(), ip.CalculateChecksum())
	}
}

func TestIPv4IsValid(t *testing.T) {
	padded := append(clone(v4Segment), 0, 0, 0) // Ethernet padding
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"segment", v4Segment, true},
		{"padded", padded, true},
		{"short", v4Segment[:19], false},
		{"truncated", v4Segment[:56], false},
		{"version 6", append([]byte{0x65}, v4Segment[1:]...), false},
		{"IHL 4", append([]byte{0x44}, v4Segment[1:]...), false},
		{"IHL beyond total length", append([]byte{0x4f}, v4Segment[1:]...), false},
		{"total length below IHL", append([]byte{0x45, 0, 0x00, 0x13}, v4Segment[4:]...), false},
		{"header only", append([]byte{0x45, 0, 0x00, 0x14}, v4Segment[4:20]...), true},
	}
	for _, tt := range tests {
		if got := IPv4(tt.in).IsValid(); got != tt.want {
			t.Errorf("%s: IsValid = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := len(IPv4(padded).Payload()); got != 37 {
		t.Errorf("padded payload = %d bytes, want 37", got)
	}
}

func TestIPv4Fragments(t *testing.T) {
	tests := []struct {
		name     string
		word     uint16 // flags and fragment offset
		df, mf   bool
		offset   int
		fragment bool
	}{
		{"DF", 0x4000, true, false, 0, false},
		{"first fragment", 0x2000, false, true, 0, true},
		{"middle fragment", 0x20b9, false, true, 185 * 8, true},
		{"last fragment", 0x00b9, false, false, 185 * 8, true},
		{"unfragmented", 0x0000, false, false, 0, false},
	}
	for _, tt := range tests {
		ip := IPv4(clone(v4Segment))
		ip.SetFlagsFragmentOffset(tt.word)
		if ip.DontFragment() != tt.df || ip.MoreFragments() != tt.mf || ip.FragmentOffset() != tt.offset ||
			ip.IsFragment() != tt.fragment || ip.FlagsFragmentOffset() != tt.word {
			t.Errorf("%s: df %v mf %v offset %d fragment %v", tt.name, ip.DontFragment(), ip.MoreFragments(),
				ip.FragmentOffset(), ip.IsFragment())
		}
	}
}

func TestIPv4SettersWithChecksumUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 2000 {
		ip := IPv4(clone(v4Segment))
		ip.SetTTLWithChecksumUpdate(uint8(r.Uint32()))
		ip.SetTotalLengthWithChecksumUpdate(uint16(r.Uint32()))
		ip.SetSourceAddressWithChecksumUpdate([4]byte{byte(r.Uint32()), byte(r.Uint32()), 1, 2})
		ip.SetDestinationAddressWithChecksumUpdate([4]byte{198, byte(r.Uint32()), byte(r.Uint32()), 2})
		if !ip.IsChecksumValid() {
			t.Fatalf("incremental checksum %#04x, full %#04x", ip.Checksum(), ip.CalculateChecksum())
		}
	}
}

func TestIPv4PlainSetters(t *testing.T) {
	ip := IPv4(make([]byte, 24))
	ip.SetHeaderLength(24)
	ip.SetTOS(0xb8)
	ip.SetTotalLength(24)
	ip.SetID(7)
	ip.SetFlagsFragmentOffset(IPv4FlagDontFragment)
	ip.SetTTL(3)
	ip.SetProtocol(IPv4ProtocolTCP)
	ip.SetSourceAddress([4]byte{198, 18, 0, 1})
	ip.SetDestinationAddress([4]byte{198, 19, 0, 1})
	ip.SetChecksum(ip.CalculateChecksum())
	if !ip.IsValid() || ip.HeaderLength() != 24 || ip.TOS() != 0xb8 || ip.ID() != 7 || ip.TTL() != 3 ||
		len(ip.Options()) != 4 || len(ip.Payload()) != 0 || !ip.IsChecksumValid() ||
		ip.SourceAddress() != [4]byte{198, 18, 0, 1} || ip.DestinationAddress() != [4]byte{198, 19, 0, 1} {
		t.Errorf("built header % x", []byte(ip))
	}
}

func TestIPv4Allocs(t *testing.T) {
	ip := IPv4(clone(v4Segment))
	if n := testing.AllocsPerRun(100, func() {
		if ip.IsValid() && !ip.IsFragment() {
			ip.SetTTLWithChecksumUpdate(ip.TTL() - 1)
			ip.SetSourceAddressWithChecksumUpdate(ip.DestinationAddress())
			_ = ip.PseudoHeaderSum()
		}
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func FuzzIPv4(f *testing.F) {
	f.Add(v4Segment)
	f.Add(v4Segment[:20])
	for _, p := range goldenSeeds(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip := IPv4(b)
		if !ip.IsValid() {
			return
		}
		hl := ip.HeaderLength()
		if hl < IPv4MinimumSize || hl > IPv4MaximumHeaderSize || hl+len(ip.Payload()) != int(ip.TotalLength()) ||
			len(ip.Options()) != hl-IPv4MinimumSize {
			t.Fatalf("hl %d tl %d payload %d", hl, ip.TotalLength(), len(ip.Payload()))
		}
		ip.SetChecksum(ip.CalculateChecksum())
		if !ip.IsChecksumValid() {
			t.Fatal("computed checksum does not verify")
		}
		ip.SetTTLWithChecksumUpdate(ip.TTL() ^ 0x5a)
		ip.SetDestinationAddressWithChecksumUpdate([4]byte{198, 18, 255, 1})
		if !ip.IsChecksumValid() {
			t.Fatal("incremental checksum does not verify")
		}
		_ = ip.PseudoHeaderSum()
	})
}
