package fwd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/flexcp/flexcp/translate/header"
)

// goodV4 is a valid UDP/IPv4 frame from the client to 198.18.100.5.
func goodV4(t testing.TB) []byte {
	f := udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 64, 10, false)
	return append([]byte(nil), f.Bytes()...)
}

// refix recomputes the IPv4 header checksum of an Ethernet frame.
func refix(b []byte) []byte {
	ip := header.IPv4(b[14:])
	ip.SetChecksum(0)
	ip.SetChecksum(ip.CalculateChecksum())
	return b
}

func TestBadFramesAreCountedDrops(t *testing.T) {
	g := goodV4(t)
	mod := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), g...)) }
	g6 := udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 64, 10)
	v6 := append([]byte(nil), g6.Bytes()...)
	tests := []struct {
		name string
		in   []byte
		want DropReason
	}{
		{"empty", nil, DropEthTruncated},
		{"13 bytes", g[:13], DropEthTruncated},
		{"other MAC", mod(func(b []byte) []byte { b[5] = 9; return b }), DropEthNotForUs},
		{"IPv4 multicast MAC", mod(func(b []byte) []byte { copy(b, []byte{1, 0, 0x5e, 0, 0, 1}); return b }), DropEthNotForUs},
		{"VLAN", mod(func(b []byte) []byte { b[12], b[13] = 0x81, 0; return b }), DropVLAN},
		{"EtherType", mod(func(b []byte) []byte { b[12], b[13] = 0x88, 0xcc; return b }), DropEtherType},
		{"IPv4 truncated", g[:14+19], DropIPv4Truncated},
		{"IPv4 version 5", mod(func(b []byte) []byte { b[14] = 0x55; return refix(b) }), DropIPv4Version},
		{"IHL 4", mod(func(b []byte) []byte { b[14] = 0x44; return b }), DropIPv4HeaderLen},
		{"IHL beyond total length", mod(func(b []byte) []byte { b[14] = 0x4f; return b }), DropIPv4HeaderLen},
		{"total length beyond frame", mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[16:], 1000); return refix(b) }), DropIPv4TotalLen},
		{"total length below header", mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[16:], 19); return refix(b) }), DropIPv4HeaderLen},
		{"bad checksum", mod(func(b []byte) []byte { b[24] ^= 0xff; return b }), DropIPv4Checksum},
		{"TTL change without checksum", mod(func(b []byte) []byte { b[22]--; return b }), DropIPv4Checksum},
		{"IPv4 multicast dst", mod(func(b []byte) []byte { b[30] = 239; return refix(b) }), DropMulticast},
		{"limited broadcast", mod(func(b []byte) []byte { copy(b[30:], []byte{255, 255, 255, 255}); return refix(b) }), DropMulticast},
		{"subnet broadcast", mod(func(b []byte) []byte { copy(b[30:], []byte{198, 18, 3, 255}); return refix(b) }), DropMartian},
		{"no route", mod(func(b []byte) []byte { copy(b[30:], []byte{8, 8, 8, 8}); return refix(b) }), DropNoRoute},
		{"UDP to us", mod(func(b []byte) []byte { copy(b[30:], []byte{198, 18, 1, 1}); return refix(b) }), DropLocal},
		{"IPv6 truncated", v6[:14+39], DropIPv6Truncated},
		{"IPv6 version", func() []byte { b := append([]byte(nil), v6...); b[14] = 0x40; return b }(), DropIPv6Version},
		{"IPv6 payload length", func() []byte { b := append([]byte(nil), v6...); b[18] = 9; return b }(), DropIPv6PayloadLen},
		{"IPv6 link-local dst", func() []byte { b := append([]byte(nil), v6...); b[38], b[39] = 0xfe, 0x80; return b }(), DropMartian},
		{"IPv6 link-local src", func() []byte { b := append([]byte(nil), v6...); b[22], b[23] = 0xfe, 0x80; return b }(), DropMartian},
		{"IPv6 multicast dst", func() []byte { b := append([]byte(nil), v6...); b[38] = 0xff; return b }(), DropMulticast},
		{"IPv6 no route", func() []byte { b := append([]byte(nil), v6...); b[38] = 0x30; return b }(), DropNoRoute},
	}
	for _, tt := range tests {
		e := newEnv(t, nil)
		in := rawFrame(0, tt.in)
		tx, free := e.run(1, in)
		if len(tx) != 0 || len(free) != 1 || free[0] != in.Ref || e.drops()[tt.want] != 1 || len(e.drops()) != 1 {
			t.Errorf("%s: tx %d free %v drops %v, want %v", tt.name, len(tx), free, e.drops(), tt.want)
		}
	}
	// A window outside its buffer, and an unknown port.
	e := newEnv(t, nil)
	_, free := e.run(1, Frame{Buf: make([]byte, 10), Off: 5, Len: 6, Ref: 7}, Frame{Buf: g, Len: len(g), Port: 9, Ref: 8})
	if len(free) != 2 || e.drops()[DropBadFrame] != 2 {
		t.Fatalf("drops %v", e.drops())
	}
}

func TestPaddingIsTrimmed(t *testing.T) {
	e := newEnv(t, nil)
	b := append(goodV4(t), make([]byte, 20)...) // Ethernet padding / trailer
	tx, _ := e.run(1, rawFrame(0, b))
	if len(tx) != 1 || tx[0].Len != 14+20+8+10 {
		t.Fatalf("tx %d len %d", len(tx), tx[0].Len)
	}
}

func TestClassifyThenRouteIP(t *testing.T) {
	e := newEnv(t, nil)
	in := rawFrame(0, goodV4(t))
	if k := e.fw.Classify(1, &in, e.out); k != KindTransit4 || in.Off != testHeadroom+14 || in.Len != 38 {
		t.Fatalf("kind %v off %d len %d", k, in.Off, in.Len)
	}
	// The translator moves the header 12 bytes back (options added), as a
	// new IP packet with a valid checksum.
	ip := append([]byte(nil), in.Bytes()...)
	in.Off -= 12
	in.Len += 12
	copy(in.Bytes(), ip[:20])
	copy(in.Bytes()[32:], ip[20:])
	h := header.IPv4(in.Bytes())
	h.SetTotalLength(50)
	h.SetChecksum(0)
	h.SetChecksum(h.CalculateChecksum())
	if v := e.fw.RouteIP(1, &in, e.out); v != VerdictTX {
		t.Fatalf("verdict %v drops %v", v, e.drops())
	}
	o := e.out.TX[2][0]
	p := parse(o)
	if o.Off != testHeadroom-12 || assertIPv4(t, p).TTL != 63 || assertIPv4(t, p).Length != 50 {
		t.Fatalf("off %d %v", o.Off, p)
	}
	e.out.Reset()

	// A new packet in a fresh buffer with no Ethernet header, and one
	// without headroom.
	fresh := Frame{Buf: make([]byte, 200), Off: 14, Len: 38, Port: 0, Ref: 99}
	copy(fresh.Bytes(), ip)
	if v := e.fw.SendIP(1, &fresh, e.out); v != VerdictTX || e.out.TX[2][0].Off != 0 {
		t.Fatalf("fresh: verdict %v", v)
	}
	if ttl := header.IPv4(e.out.TX[2][0].Bytes()[14:]).TTL(); ttl != 64 { // SendIP: unchanged
		t.Fatalf("SendIP changed TTL to %d", ttl)
	}
	tight := Frame{Buf: make([]byte, 200), Off: 13, Len: 38, Ref: 100}
	copy(tight.Bytes(), ip)
	if v := e.fw.RouteIP(1, &tight, e.out); v != VerdictDrop || e.drops()[DropNoHeadroom] != 1 {
		t.Fatalf("tight: verdict %v drops %v", v, e.drops())
	}
	// Classify of the other kinds.
	in6 := udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 64, 10)
	if k := e.fw.Classify(1, &in6, e.out); k != KindTransit6 || in6.Len != 58 {
		t.Fatalf("v6 kind %v len %d", k, in6.Len)
	}
	arp := rawFrame(0, arpRequestFrame)
	if k := e.fw.Classify(1, &arp, e.out); k != KindConsumed {
		t.Fatalf("arp kind %v", k)
	}
}

func TestOutputFlushesWhenFull(t *testing.T) {
	e := newEnv(t, nil)
	e.out = NewOutput(3, 2, 2, e.sink)
	var in []Frame
	for range 5 {
		in = append(in, rawFrame(0, goodV4(t)))
	}
	for range 3 {
		in = append(in, rawFrame(0, goodV4(t)[:20]))
	}
	tx, free := e.run(1, in...)
	if len(tx) != 5 || len(free) != 3 || e.sink.flushes < 4 {
		t.Fatalf("tx %d free %d flushes %d", len(tx), len(free), e.sink.flushes)
	}
	for i, f := range tx {
		if f.Ref != in[i].Ref {
			t.Fatal("order lost")
		}
	}
}

// burst returns 32 transit frames, IPv4 and IPv6, to resolved neighbors.
func burst(t testing.TB) []Frame {
	var in []Frame
	for i := range 32 {
		if i%2 == 0 {
			in = append(in, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 64, 64, false))
		} else {
			in = append(in, udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 64, 44))
		}
	}
	return in
}

func TestHandleBurstAllocs(t *testing.T) {
	e := newEnv(t, nil)
	tmpl := burst(t)
	work := make([]Frame, len(tmpl))
	bufs := make([][]byte, len(tmpl))
	for i := range tmpl {
		bufs[i] = make([]byte, len(tmpl[i].Buf))
	}
	now := int64(1)
	run := func() {
		for i := range tmpl {
			copy(bufs[i], tmpl[i].Buf)
			work[i] = tmpl[i]
			work[i].Buf = bufs[i]
		}
		now += 1e6
		e.fw.HandleBurst(now, work, e.out)
		if len(e.out.TX[2]) != 32 {
			t.Fatalf("forwarded %d, drops %v", len(e.out.TX[2]), e.drops())
		}
		e.out.Reset()
	}
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Fatalf("HandleBurst allocates %v times per burst", n)
	}
}

func benchForward(b *testing.B, v6 bool) {
	e := newEnv(b, nil)
	var tmpl Frame
	if v6 {
		tmpl = udp6(b, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 255, 44)
	} else {
		tmpl = udp4(b, 0, p0MAC, "198.18.1.2", "198.18.100.5", 255, 64, false)
	}
	const n = 32
	work := make([]Frame, n)
	orig := make([]Frame, n)
	for i := range orig {
		orig[i] = rawFrame(0, tmpl.Bytes())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(work, orig)
		for j := range work { // restore the TTL / hop limit every 200 rounds
			if i%200 == 0 {
				copy(work[j].Bytes(), tmpl.Bytes())
			}
		}
		e.fw.HandleBurst(int64(i+1), work, e.out)
		e.out.Reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pkt")
}

func BenchmarkForwardIPv4(b *testing.B) { benchForward(b, false) }
func BenchmarkForwardIPv6(b *testing.B) { benchForward(b, true) }

func FuzzHandleBurst(f *testing.F) {
	f.Add(goodV4(f), uint16(0))
	f.Add(arpRequestFrame, uint16(0))
	f.Add(nsFrame, uint16(0))
	g6 := udp6(f, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 1, 10)
	f.Add(g6.Bytes(), uint16(0))
	f.Add(udp4(f, 0, p0MAC, "198.18.1.2", "198.18.2.2", 1, 10, true).Bytes(), uint16(1))
	f.Add(udp4(f, 0, p0MAC, "198.18.1.2", "198.18.100.9", 64, 1400, true).Bytes(), uint16(0))
	ping := mkFrame(f, 0, ethL(clientMAC, p0MAC, layers.EthernetTypeIPv4),
		&layers.IPv4{Version: 4, IHL: 5, TTL: 7, Protocol: layers.IPProtocolICMPv4, SrcIP: []byte{198, 18, 1, 2}, DstIP: []byte{198, 18, 1, 1}},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)}, gopacket.Payload("x"))
	f.Add(ping.Bytes(), uint16(0))
	e := newEnv(f, nil)
	now := int64(0)
	// transit holds the IPv4 payloads of the ICMP packets fed in that may
	// still leave, now or (queued for a neighbour) with a later input: a
	// router forwards those as they are, valid ICMP checksum or not; only
	// the ICMP fwd writes itself must be valid.
	transit := map[string]bool{}
	f.Fuzz(func(t *testing.T, data []byte, port uint16) {
		now += 3e8 // timers run as the fuzzer goes
		if e.fw.Counters().PendingPackets == 0 {
			clear(transit)
		}
		if len(data) >= 14+20 && Ethernet(data).Type() == EtherTypeIPv4 {
			if ip := header.IPv4(data[14:]); ip.IsValid() && ip.Protocol() == ipProtoICMP {
				transit[string(ip.Payload())] = true
			}
		}
		in := rawFrame(port%4, data)
		refs := map[uintptr]bool{}
		tx, free := e.run(now, in)
		for _, r := range free {
			refs[r] = true
		}
		for _, o := range tx {
			refs[o.Ref] = true
			if !o.valid() || o.Len < 14 || int(o.Port) >= 3 {
				t.Fatalf("bad output frame %+v", o)
			}
			// The headers fwd writes parse; what transit packets carry
			// after them is theirs.
			p := parse(o)
			if p.Layer(layers.LayerTypeIPv4) == nil && p.Layer(layers.LayerTypeIPv6) == nil && p.Layer(layers.LayerTypeARP) == nil {
				t.Fatalf("output does not parse: %v\n% x", p, o.Bytes())
			}
			b := o.Bytes()
			switch Ethernet(b).Type() {
			case EtherTypeIPv4:
				ip := header.IPv4(b[14:])
				if !ip.IsValid() || !ip.IsChecksumValid() {
					t.Fatalf("output IPv4 invalid or bad checksum: % x", b)
				}
				if ip.Protocol() == ipProtoICMP && !ip.IsFragment() && !transit[string(ip.Payload())] && !ICMP(ip.Payload()).ChecksumValidV4() {
					t.Fatalf("ICMP checksum: % x", b)
				}
			case EtherTypeIPv6:
				ip := header.IPv6(b[14:])
				if !ip.IsValid() {
					t.Fatalf("output IPv6 invalid: % x", b)
				}
			case EtherTypeARP:
				if !ARP(b[14:]).IsValid() {
					t.Fatalf("output ARP invalid: % x", b)
				}
			default:
				t.Fatalf("output EtherType %#x", Ethernet(b).Type())
			}
		}
		// The input's Ref went somewhere, unless it is queued.
		if !refs[in.Ref] && e.fw.Counters().PendingPackets == 0 {
			t.Fatalf("input frame lost (tx %d free %d)", len(tx), len(free))
		}
	})
}

// TestRouteHopMatchesRouteIP checks that ClassifyHop then RouteHop emits
// exactly what Classify then RouteIP emits, for IPv4 and IPv6 transit
// packets and a TTL-expired one.
func TestRouteHopMatchesRouteIP(t *testing.T) {
	frames := map[string]func() Frame{
		"v4":         func() Frame { return udp4(t, 0, p0MAC, "198.18.0.2", "198.18.100.9", 64, 10, true) },
		"v6":         func() Frame { return udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 64, 10) },
		"v4 ttl one": func() Frame { return udp4(t, 0, p0MAC, "198.18.0.2", "198.18.100.9", 1, 10, true) },
	}
	for name, mk := range frames {
		var got [2][]byte
		var verdicts [2]Verdict
		var drops [2]string
		for i := range got {
			e := newEnv(t, nil)
			fr := mk()
			if i == 0 {
				if k := e.fw.Classify(1, &fr, e.out); k == KindConsumed {
					t.Fatalf("%s: consumed, drops %v", name, e.drops())
				}
				verdicts[i] = e.fw.RouteIP(1, &fr, e.out)
			} else {
				k, nh := e.fw.ClassifyHop(1, &fr, e.out)
				if k == KindConsumed {
					t.Fatalf("%s: consumed, drops %v", name, e.drops())
				}
				verdicts[i] = e.fw.RouteHop(1, &fr, k, nh, e.out)
			}
			drops[i] = fmt.Sprint(e.drops())
			for port, l := range e.out.TX {
				for _, o := range l {
					got[i] = append(got[i], byte(port))
					got[i] = append(got[i], o.Bytes()...)
				}
			}
		}
		if verdicts[0] != verdicts[1] || !bytes.Equal(got[0], got[1]) || drops[0] != drops[1] {
			t.Errorf("%s: RouteIP gave %v %x drops %s, RouteHop %v %x drops %s", name, verdicts[0], got[0], drops[0], verdicts[1], got[1], drops[1])
		}
		if want := VerdictTX; name == "v4 ttl one" {
			if verdicts[0] != VerdictDrop {
				t.Errorf("%s: verdict %v, want drop", name, verdicts[0])
			}
		} else if verdicts[0] != want || len(got[0]) == 0 {
			t.Errorf("%s: verdict %v, %d bytes transmitted", name, verdicts[0], len(got[0]))
		}
	}
}
