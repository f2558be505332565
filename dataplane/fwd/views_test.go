package fwd

import (
	"bytes"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// arpRequestFrame is an ARP request from 198.18.1.2 (02:00:00:00:01:02)
// for 198.18.1.1, broadcast.
var arpRequestFrame = []byte{
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Ethernet dst: broadcast
	0x02, 0x00, 0x00, 0x00, 0x01, 0x02, // Ethernet src
	0x08, 0x06, // EtherType ARP
	0x00, 0x01, // hardware type Ethernet
	0x08, 0x00, // protocol type IPv4
	0x06,       // hardware address length
	0x04,       // protocol address length
	0x00, 0x01, // op request
	0x02, 0x00, 0x00, 0x00, 0x01, 0x02, // sender MAC
	198, 18, 1, 2, // sender IP
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC (unknown)
	198, 18, 1, 1, // target IP
}

// nsFrame is a Neighbor Solicitation from 2001:db8:1::2 (02:00:00:00:01:02)
// for 2001:db8:1::1, to its solicited-node group.
var nsFrame = []byte{
	0x33, 0x33, 0xff, 0x00, 0x00, 0x01, // Ethernet dst: solicited-node MAC
	0x02, 0x00, 0x00, 0x00, 0x01, 0x02, // Ethernet src
	0x86, 0xdd, // EtherType IPv6
	0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
	0x00, 0x20, // payload length 32
	0x3a,                                                       // next header ICMPv6
	0xff,                                                       // hop limit 255
	0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // src 2001:db8:1::2
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1, // dst ff02::1:ff00:1
	0x87,       // type 135 NS
	0x00,       // code
	0x00, 0x00, // checksum (filled in by init)
	0, 0, 0, 0, // reserved
	0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // target 2001:db8:1::1
	0x01, 0x01, // option: source link-layer address, length 1 (8 bytes)
	0x02, 0x00, 0x00, 0x00, 0x01, 0x02, // MAC
}

func init() {
	m := ICMP(nsFrame[54:])
	m.SetChecksum(m.CalculateChecksumV6(nsFrame[22:38], nsFrame[38:54]))
}

func TestEthernetView(t *testing.T) {
	e := Ethernet(arpRequestFrame)
	if !e.IsValid() || Ethernet(arpRequestFrame[:13]).IsValid() {
		t.Fatal("IsValid wrong")
	}
	if e.Dst() != BroadcastMAC || e.Src() != (MAC{2, 0, 0, 0, 1, 2}) || e.Type() != EtherTypeARP {
		t.Fatalf("got %v %v %#x", e.Dst(), e.Src(), e.Type())
	}
	b := make([]byte, 14)
	Ethernet(b).Encode(BroadcastMAC, MAC{2, 0, 0, 0, 1, 2}, EtherTypeARP)
	if !bytes.Equal(b, arpRequestFrame[:14]) {
		t.Fatalf("Encode: % x", b)
	}
	if s := (MAC{0x02, 0xab, 0, 0, 1, 0xff}).String(); s != "02:ab:00:00:01:ff" {
		t.Fatal(s)
	}
}

func TestARPView(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		valid bool
	}{
		{"request", arpRequestFrame[14:], true},
		{"truncated", arpRequestFrame[14:41], false},
		{"hardware type 6", append([]byte{0, 6}, arpRequestFrame[16:]...), false},
		{"protocol IPv6", append([]byte{0, 1, 0x86, 0xdd}, arpRequestFrame[18:]...), false},
		{"hlen 8", append([]byte{0, 1, 8, 0, 8}, arpRequestFrame[19:]...), false},
	}
	for _, tt := range tests {
		if got := ARP(tt.in).IsValid(); got != tt.valid {
			t.Errorf("%s: IsValid = %v", tt.name, got)
		}
	}
	a := ARP(arpRequestFrame[14:])
	// Cross-check with gopacket's decoder.
	p := gopacket.NewPacket(arpRequestFrame, layers.LayerTypeEthernet, gopacket.Default)
	g := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if a.Op() != g.Operation || !bytes.Equal(a.SenderMAC().sliceOf(), g.SourceHwAddress) ||
		a.SenderIP() != [4]byte(g.SourceProtAddress) || a.TargetIP() != [4]byte(g.DstProtAddress) ||
		!bytes.Equal(a.TargetMAC().sliceOf(), g.DstHwAddress) {
		t.Fatalf("view and gopacket disagree: %+v", g)
	}
	b := make([]byte, ARPLen)
	ARP(b).Encode(ARPRequest, a.SenderMAC(), a.SenderIP(), MAC{}, a.TargetIP())
	if !bytes.Equal(b, arpRequestFrame[14:]) {
		t.Fatalf("Encode: % x", b)
	}
}

// sliceOf returns m as a slice, for comparisons with gopacket.
func (m MAC) sliceOf() []byte { return m[:] }

func TestNDPView(t *testing.T) {
	msg := nsFrame[54:]
	n := NDP(msg)
	if !n.IsValid() {
		t.Fatal("valid NS reported invalid")
	}
	if !ICMP(msg).ChecksumValidV6(nsFrame[22:38], nsFrame[38:54]) {
		t.Fatal("checksum")
	}
	if mac, ok := n.LinkAddr(NDPOptSourceLinkAddr); !ok || mac != (MAC{2, 0, 0, 0, 1, 2}) {
		t.Fatalf("SLLA %v %v", mac, ok)
	}
	if _, ok := n.LinkAddr(NDPOptTargetLinkAddr); ok {
		t.Fatal("TLLA found in an NS without one")
	}
	p := gopacket.NewPacket(nsFrame, layers.LayerTypeEthernet, gopacket.Default)
	g, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	tgt := n.Target()
	if !ok || !g.TargetAddress.Equal(net.IP(tgt[:])) {
		t.Fatalf("gopacket: %v", p)
	}
	ic := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	if ic.Checksum != ICMP(msg).Checksum() {
		t.Fatal("checksum field")
	}
	bad := []struct {
		name string
		in   []byte
	}{
		{"short", msg[:23]},
		{"option length 0", append(append([]byte{}, msg[:24]...), 1, 0, 0, 0, 0, 0, 0, 0)},
		{"option past end", append(append([]byte{}, msg[:24]...), 1, 2, 0, 0, 0, 0, 0, 0)},
		{"odd option tail", append(append([]byte{}, msg...), 1)},
		{"code 1", append([]byte{0x87, 1}, msg[2:]...)},
	}
	for _, tt := range bad {
		if NDP(tt.in).IsValid() {
			t.Errorf("%s: reported valid", tt.name)
		}
	}
}

// echoRequest is an ICMPv4 echo request message.
var echoRequest = []byte{
	0x08,       // type 8 echo request
	0x00,       // code
	0x8f, 0x46, // checksum: ~(0x0800 + 0x004d + 0x0003 + 0x6869)
	0x00, 0x4d, // identifier 77
	0x00, 0x03, // sequence 3
	'h', 'i', // data
}

func TestICMPView(t *testing.T) {
	m := ICMP(append([]byte(nil), echoRequest...))
	if !m.IsValid() || ICMP(echoRequest[:7]).IsValid() {
		t.Fatal("IsValid")
	}
	if m.Type() != ICMPv4EchoRequest || m.Code() != 0 || m.Rest() != 77<<16|3 || string(m.Body()) != "hi" {
		t.Fatalf("fields %d %d %#x %q", m.Type(), m.Code(), m.Rest(), m.Body())
	}
	if m.CalculateChecksumV4() != m.Checksum() || !m.ChecksumValidV4() {
		t.Fatalf("checksum %#x, computed %#x", m.Checksum(), m.CalculateChecksumV4())
	}
	// The incremental update agrees with gopacket's full computation.
	m.SetTypeWithChecksumUpdate(ICMPv4EchoReply)
	g := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: 77, Seq: 3}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, g, gopacket.Payload("hi")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m, buf.Bytes()) {
		t.Fatalf("reply % x, gopacket % x", []byte(m), buf.Bytes())
	}
}
