package fwd

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/flexcp/flexcp/translate/header"
)

// The test topology (DESIGN.md section 7): port 0 toward the client on
// 198.18.1.0/24, port 1 a second access network, port 2 the core with an
// MTU of 1400 and a route to 198.18.100.0/24 via the server side router.
var (
	p0MAC     = MAC{2, 0, 0, 0, 0, 1}
	p1MAC     = MAC{2, 0, 0, 0, 0, 2}
	p2MAC     = MAC{2, 0, 0, 0, 0, 3}
	clientMAC = MAC{2, 0, 0, 0, 1, 2} // 198.18.1.2, 2001:db8:1::2 (static)
	peer1MAC  = MAC{2, 0, 0, 0, 2, 2} // 198.18.2.2, 2001:db8:2::2 (resolved)
	routerMAC = MAC{2, 0, 0, 0, 3, 2} // 198.18.3.2, 2001:db8:3::2 (static)
)

func testConfig() Config {
	pp := netip.MustParsePrefix
	pa := netip.MustParseAddr
	return Config{
		Ports: []PortConfig{
			{Index: 0, MAC: p0MAC, MTU: 1500, Addrs: []netip.Prefix{pp("198.18.1.1/24"), pp("2001:db8:1::1/64")}},
			{Index: 1, MAC: p1MAC, MTU: 1500, Addrs: []netip.Prefix{pp("198.18.2.1/24"), pp("2001:db8:2::1/64")}},
			{Index: 2, MAC: p2MAC, MTU: 1400, Addrs: []netip.Prefix{pp("198.18.3.1/24"), pp("2001:db8:3::1/64")}},
		},
		Routes: []Route{
			{Prefix: pp("198.18.100.0/24"), Via: pa("198.18.3.2"), Port: 2},
			{Prefix: pp("2001:db8:100::/48"), Via: pa("2001:db8:3::2"), Port: 2},
		},
		Neighbors: []StaticNeighbor{
			{Port: 0, Addr: pa("198.18.1.2"), MAC: clientMAC},
			{Port: 0, Addr: pa("2001:db8:1::2"), MAC: clientMAC},
			{Port: 2, Addr: pa("198.18.3.2"), MAC: routerMAC},
			{Port: 2, Addr: pa("2001:db8:3::2"), MAC: routerMAC},
		},
		RetryInterval: time.Second,
		MaxTries:      3,
		FailedTime:    5 * time.Second,
		ReachableTime: 30 * time.Second,
		TimerInterval: 100 * time.Millisecond,
	}
}

// fakeAlloc hands out 2 KiB buffers with 128 bytes of headroom.
type fakeAlloc struct {
	next uintptr
	fail bool
}

func (a *fakeAlloc) Alloc() (Frame, bool) {
	if a.fail {
		return Frame{}, false
	}
	a.next++
	return Frame{Buf: make([]byte, 2048), Off: 128, Ref: 1 << 20 * a.next}, true
}

// sink collects what the Flusher drains.
type sink struct {
	tx      []Frame
	free    []uintptr
	flushes int
}

func (s *sink) FlushOutput(o *Output) {
	s.flushes++
	for p := range o.TX {
		s.tx = append(s.tx, o.TX[p]...)
	}
	s.free = append(s.free, o.Free...)
	o.Reset()
}

type env struct {
	t     testing.TB
	fw    *Forwarder
	out   *Output
	sink  *sink
	alloc *fakeAlloc
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	c := testConfig()
	if mod != nil {
		mod(&c)
	}
	tab, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sink: &sink{}, alloc: &fakeAlloc{}}
	if e.fw, err = NewForwarder(tab, e.alloc); err != nil {
		t.Fatal(err)
	}
	e.out = NewOutput(3, 64, 64, e.sink)
	return e
}

// run handles one burst and returns everything it transmitted and freed.
func (e *env) run(now int64, in ...Frame) ([]Frame, []uintptr) {
	e.fw.HandleBurst(now, in, e.out)
	e.sink.FlushOutput(e.out)
	tx, free := e.sink.tx, e.sink.free
	e.sink.tx, e.sink.free = nil, nil
	return tx, free
}

// drops returns the non-zero drop counters.
func (e *env) drops() map[DropReason]uint64 {
	m := map[DropReason]uint64{}
	for r, n := range e.fw.Counters().Drops {
		if n != 0 {
			m[DropReason(r)] = n
		}
	}
	return m
}

const testHeadroom = 128

var refSeq uintptr = 1

// mkFrame serializes layers into a frame received on port, with headroom
// and tail room, and a fresh Ref.
func mkFrame(t testing.TB, port uint16, ls ...gopacket.SerializableLayer) Frame {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return rawFrame(port, buf.Bytes())
}

// rawFrame puts b in a buffer with headroom.
func rawFrame(port uint16, b []byte) Frame {
	refSeq++
	buf := make([]byte, testHeadroom+len(b)+256)
	copy(buf[testHeadroom:], b)
	return Frame{Buf: buf, Off: testHeadroom, Len: len(b), Port: port, Ref: refSeq}
}

func ethL(src, dst MAC, t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: net.HardwareAddr(src[:]), DstMAC: net.HardwareAddr(dst[:]), EthernetType: t}
}

// udp4 returns a UDP/IPv4 frame from the client to dst.
func udp4(t testing.TB, port uint16, dstMAC MAC, src, dst string, ttl uint8, payload int, df bool) Frame {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: layers.IPProtocolUDP, Id: 0x1234,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	if df {
		ip.Flags = layers.IPv4DontFragment
	}
	u := &layers.UDP{SrcPort: 4000, DstPort: 5000}
	u.SetNetworkLayerForChecksum(ip)
	return mkFrame(t, port, ethL(clientMAC, dstMAC, layers.EthernetTypeIPv4), ip, u, gopacket.Payload(make([]byte, payload)))
}

// udp6 is udp4 for IPv6.
func udp6(t testing.TB, port uint16, dstMAC MAC, src, dst string, hl uint8, payload int) Frame {
	ip := &layers.IPv6{Version: 6, HopLimit: hl, NextHeader: layers.IPProtocolUDP,
		SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	u := &layers.UDP{SrcPort: 4000, DstPort: 5000}
	u.SetNetworkLayerForChecksum(ip)
	return mkFrame(t, port, ethL(clientMAC, dstMAC, layers.EthernetTypeIPv6), ip, u, gopacket.Payload(make([]byte, payload)))
}

// parse decodes an output frame.
func parse(f Frame) gopacket.Packet {
	return gopacket.NewPacket(f.Bytes(), layers.LayerTypeEthernet, gopacket.Default)
}

// assertIPv4 asserts that the IPv4 header of p has a valid checksum.
func assertIPv4(t testing.TB, p gopacket.Packet) *layers.IPv4 {
	t.Helper()
	ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ok {
		t.Fatalf("no IPv4 in %v", p)
	}
	if !header.IPv4(ip.Contents).IsChecksumValid() {
		t.Fatalf("IPv4 header checksum %#04x invalid", ip.Checksum)
	}
	return ip
}

// gpICMPv4Checksum recomputes with gopacket the checksum the ICMPv4
// message of p should carry.
func gpICMPv4Checksum(t testing.TB, p gopacket.Packet) (got, want uint16) {
	t.Helper()
	ic, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if !ok {
		t.Fatalf("no ICMPv4 in %v", p)
	}
	c := *ic
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &c, gopacket.Payload(ic.Payload)); err != nil {
		t.Fatal(err)
	}
	return ic.Checksum, binary.BigEndian.Uint16(buf.Bytes()[2:])
}

// gpICMPv6Checksum is gpICMPv4Checksum for ICMPv6.
func gpICMPv6Checksum(t testing.TB, p gopacket.Packet) (got, want uint16) {
	t.Helper()
	ic, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	ip, ok2 := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	if !ok || !ok2 {
		t.Fatalf("no ICMPv6 in %v", p)
	}
	c := *ic
	c.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &c, gopacket.Payload(ic.Payload)); err != nil {
		t.Fatal(err)
	}
	return ic.Checksum, binary.BigEndian.Uint16(buf.Bytes()[2:])
}

func macOf(b net.HardwareAddr) MAC { return MAC(b) }

// gopacketPayloadT is gopacket.Payload built from a string.
type gopacketPayloadT = gopacket.Payload
