package header

import "testing"

func TestIPv6Getters(t *testing.T) {
	ip := IPv6(v6Segment)
	if !ip.IsValid() {
		t.Fatal("IsValid = false")
	}
	if ip.Version() != 6 || ip.TrafficClass() != 0x12 || ip.FlowLabel() != 0xabcde || ip.PayloadLength() != 37 ||
		ip.NextHeader() != IPv6ProtocolTCP || ip.HopLimit() != 64 || !ip.IsDirectTCP() || ip.HasExtensionHeader() {
		t.Errorf("fields: ver %d tc %#x fl %#x plen %d nh %d hl %d", ip.Version(), ip.TrafficClass(), ip.FlowLabel(),
			ip.PayloadLength(), ip.NextHeader(), ip.HopLimit())
	}
	src := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: 2}
	dst := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 3, 15: 2}
	if ip.SourceAddress() != src || ip.DestinationAddress() != dst {
		t.Errorf("addresses %x %x", ip.SourceAddress(), ip.DestinationAddress())
	}
	if tcp := TCP(ip.Payload()); !tcp.IsValid() || !tcp.IsChecksumValid(ip.PseudoHeaderSum()) {
		t.Error("TCP checksum over the v6 pseudo-header does not verify")
	}
}

func TestIPv6IsValid(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"segment", v6Segment, true},
		{"padded", append(clone(v6Segment), 0, 0), true},
		{"short", v6Segment[:39], false},
		{"truncated", v6Segment[:len(v6Segment)-1], false},
		{"version 4", append([]byte{0x41}, v6Segment[1:]...), false},
	}
	for _, tt := range tests {
		if got := IPv6(tt.in).IsValid(); got != tt.want {
			t.Errorf("%s: IsValid = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIPv6NextHeader(t *testing.T) {
	tests := []struct {
		nh        uint8
		direct    bool
		extension bool
	}{
		{IPv6ProtocolTCP, true, false},
		{17, false, false}, // UDP
		{58, false, false}, // ICMPv6
		{IPv6HopByHop, false, true},
		{IPv6Routing, false, true},
		{IPv6Fragment, false, true},
		{IPv6DestOptions, false, true},
		{IPv6AH, false, true},
		{IPv6ESP, false, true},
		{IPv6NoNextHeader, false, false},
	}
	for _, tt := range tests {
		ip := IPv6(clone(v6Segment))
		ip.SetNextHeader(tt.nh)
		if ip.IsDirectTCP() != tt.direct || ip.HasExtensionHeader() != tt.extension {
			t.Errorf("next header %d: direct %v extension %v", tt.nh, ip.IsDirectTCP(), ip.HasExtensionHeader())
		}
	}
}

func TestIPv6Setters(t *testing.T) {
	ip := IPv6(make([]byte, 40))
	ip.SetVersion()
	ip.SetTrafficClass(0xfe)
	ip.SetFlowLabel(0x12345)
	ip.SetPayloadLength(0)
	ip.SetNextHeader(IPv6ProtocolTCP)
	ip.SetHopLimit(1)
	ip.SetSourceAddress([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	ip.SetDestinationAddress([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 9})
	if !ip.IsValid() || ip.TrafficClass() != 0xfe || ip.FlowLabel() != 0x12345 || ip.HopLimit() != 1 ||
		ip.SourceAddress()[15] != 1 || ip.DestinationAddress()[15] != 9 || ip.Version() != 6 {
		t.Errorf("built header % x", []byte(ip))
	}
}

func FuzzIPv6(f *testing.F) {
	f.Add(v6Segment)
	f.Add(v6Segment[:40])
	for _, p := range goldenSeeds(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip := IPv6(b)
		if !ip.IsValid() {
			return
		}
		if len(ip.Payload()) != int(ip.PayloadLength()) {
			t.Fatalf("payload %d, length field %d", len(ip.Payload()), ip.PayloadLength())
		}
		tc, fl := ip.TrafficClass(), ip.FlowLabel()
		ip.SetHopLimit(ip.HopLimit() - 1)
		if ip.TrafficClass() != tc || ip.FlowLabel() != fl || ip.Version() != 6 {
			t.Fatal("hop limit setter touched another field")
		}
		_ = ip.IsDirectTCP() || ip.HasExtensionHeader()
		_ = ip.PseudoHeaderSum()
	})
}
