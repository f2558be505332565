package fwd

import (
	"bytes"
	"net"
	"testing"

	"github.com/google/gopacket/layers"
)

func TestForwardIPv4(t *testing.T) {
	tests := []struct {
		name     string
		dst      string
		ttl      uint8
		wantPort uint16
		wantMAC  MAC
	}{
		{"via route", "198.18.100.5", 64, 2, routerMAC},
		{"connected static neighbor", "198.18.3.2", 2, 2, routerMAC},
		{"ttl 255", "198.18.100.200", 255, 2, routerMAC},
	}
	for _, tt := range tests {
		e := newEnv(t, nil)
		in := udp4(t, 0, p0MAC, "198.18.1.2", tt.dst, tt.ttl, 100, false)
		orig := parse(in)
		tx, free := e.run(1, in)
		if len(tx) != 1 || len(free) != 0 {
			t.Fatalf("%s: tx %d free %d drops %v", tt.name, len(tx), len(free), e.drops())
		}
		o := tx[0]
		if o.Port != tt.wantPort || o.Ref != in.Ref || o.Len != 14+20+8+100 {
			t.Fatalf("%s: out port %d ref %d len %d", tt.name, o.Port, o.Ref, o.Len)
		}
		p := parse(o)
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if macOf(eth.DstMAC) != tt.wantMAC || macOf(eth.SrcMAC) != p2MAC {
			t.Errorf("%s: MACs %v -> %v", tt.name, eth.SrcMAC, eth.DstMAC)
		}
		ip := assertIPv4(t, p)
		if ip.TTL != tt.ttl-1 {
			t.Errorf("%s: TTL %d", tt.name, ip.TTL)
		}
		if !bytes.Equal(ip.Payload, orig.Layer(layers.LayerTypeIPv4).LayerPayload()) {
			t.Errorf("%s: payload changed", tt.name)
		}
		pc := e.fw.Counters().Ports[2]
		if pc.FwdPackets != 1 || pc.FwdBytes != uint64(o.Len) || e.fw.Counters().Ports[0].RXPackets != 1 {
			t.Errorf("%s: counters %+v", tt.name, pc)
		}
	}
}

func TestForwardIPv6(t *testing.T) {
	e := newEnv(t, nil)
	in := udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 2, 50)
	tx, free := e.run(1, in)
	if len(tx) != 1 || len(free) != 0 {
		t.Fatalf("tx %d free %d drops %v", len(tx), len(free), e.drops())
	}
	p := parse(tx[0])
	eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	if tx[0].Port != 2 || macOf(eth.DstMAC) != routerMAC || macOf(eth.SrcMAC) != p2MAC || ip.HopLimit != 1 {
		t.Fatalf("port %d %v -> %v hop limit %d", tx[0].Port, eth.SrcMAC, eth.DstMAC, ip.HopLimit)
	}
	if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); !ok || u.DstPort != 5000 {
		t.Fatal("UDP lost")
	}
}

func TestTTLExpiredSendsTimeExceeded(t *testing.T) {
	for _, ttl := range []uint8{1, 0} {
		e := newEnv(t, nil)
		in := udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", ttl, 20, false)
		orig := append([]byte(nil), in.Bytes()[14:]...)
		tx, free := e.run(1, in)
		if len(tx) != 1 || len(free) != 1 || free[0] != in.Ref || e.drops()[DropTTLExpired] != 1 {
			t.Fatalf("ttl %d: tx %d free %v drops %v", ttl, len(tx), free, e.drops())
		}
		o := tx[0]
		p := parse(o)
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip := assertIPv4(t, p)
		ic := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if o.Port != 0 || macOf(eth.DstMAC) != clientMAC || macOf(eth.SrcMAC) != p0MAC {
			t.Fatalf("out on %d to %v", o.Port, eth.DstMAC)
		}
		if !ip.SrcIP.Equal(net.ParseIP("198.18.1.1")) || !ip.DstIP.Equal(net.ParseIP("198.18.1.2")) || ip.Protocol != layers.IPProtocolICMPv4 || ip.TTL != 64 {
			t.Fatalf("IP %v -> %v proto %v ttl %d", ip.SrcIP, ip.DstIP, ip.Protocol, ip.TTL)
		}
		if ic.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeTimeExceeded, layers.ICMPv4CodeTTLExceeded) {
			t.Fatalf("type %v", ic.TypeCode)
		}
		if got, want := gpICMPv4Checksum(t, p); got != want {
			t.Fatalf("ICMP checksum %#x want %#x", got, want)
		}
		if !bytes.Equal(ic.Payload, orig) { // whole 48-byte packet quoted, unchanged
			t.Fatalf("quote % x\nwant % x", ic.Payload, orig)
		}
		if e.fw.Counters().TimeExceededSent != 1 {
			t.Fatal("counter")
		}
	}
}

func TestHopLimitExpiredSendsTimeExceeded(t *testing.T) {
	e := newEnv(t, nil)
	in := udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 1, 20)
	tx, free := e.run(1, in)
	if len(tx) != 1 || len(free) != 1 || e.drops()[DropTTLExpired] != 1 {
		t.Fatalf("tx %d free %d drops %v", len(tx), len(free), e.drops())
	}
	p := parse(tx[0])
	ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	ic := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	if !ip.SrcIP.Equal(net.ParseIP("2001:db8:1::1")) || !ip.DstIP.Equal(net.ParseIP("2001:db8:1::2")) || ic.TypeCode.Type() != layers.ICMPv6TypeTimeExceeded {
		t.Fatalf("%v -> %v type %v", ip.SrcIP, ip.DstIP, ic.TypeCode)
	}
	if got, want := gpICMPv6Checksum(t, p); got != want {
		t.Fatalf("ICMPv6 checksum %#x want %#x", got, want)
	}
}

func TestICMPErrorRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ICMPErrorRate, c.ICMPErrorBurst = 1, 3 })
	var in []Frame
	for range 5 {
		in = append(in, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 1, 20, false))
	}
	tx, free := e.run(1, in...)
	if len(tx) != 3 || len(free) != 5 || e.fw.Counters().ICMPRateLimited != 2 {
		t.Fatalf("tx %d free %d limited %d", len(tx), len(free), e.fw.Counters().ICMPRateLimited)
	}
	// One second later one more token is there.
	tx, _ = e.run(1+1e9, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 1, 20, false), udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 1, 20, false))
	if len(tx) != 1 {
		t.Fatalf("after 1 s: tx %d", len(tx))
	}
}

func TestEchoReplyIPv4(t *testing.T) {
	e := newEnv(t, nil)
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 7, Protocol: layers.IPProtocolICMPv4,
		SrcIP: net.ParseIP("198.18.1.2").To4(), DstIP: net.ParseIP("198.18.3.1").To4()} // another port's address
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 77, Seq: 3}
	in := mkFrame(t, 0, ethL(clientMAC, p0MAC, layers.EthernetTypeIPv4), ip, ic, gopacketPayload("ping payload"))
	tx, free := e.run(1, in)
	if len(tx) != 1 || len(free) != 0 || tx[0].Ref != in.Ref || tx[0].Port != 0 {
		t.Fatalf("tx %v free %v drops %v", tx, free, e.drops())
	}
	p := parse(tx[0])
	rip := assertIPv4(t, p)
	ric := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if !rip.SrcIP.Equal(ip.DstIP) || !rip.DstIP.Equal(ip.SrcIP) || rip.TTL != 64 {
		t.Fatalf("%v -> %v ttl %d", rip.SrcIP, rip.DstIP, rip.TTL)
	}
	if ric.TypeCode.Type() != layers.ICMPv4TypeEchoReply || ric.Id != 77 || ric.Seq != 3 || string(ric.Payload) != "ping payload" {
		t.Fatalf("reply %+v", ric)
	}
	if got, want := gpICMPv4Checksum(t, p); got != want {
		t.Fatalf("checksum %#x want %#x", got, want)
	}
	if e.fw.Counters().EchoReplies != 1 {
		t.Fatal("counter")
	}
}

func TestEchoReplyIPv6(t *testing.T) {
	e := newEnv(t, nil)
	ip := &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolICMPv6,
		SrcIP: net.ParseIP("2001:db8:1::2"), DstIP: net.ParseIP("2001:db8:1::1")}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	echo := &layers.ICMPv6Echo{Identifier: 5, SeqNumber: 6}
	in := mkFrame(t, 0, ethL(clientMAC, p0MAC, layers.EthernetTypeIPv6), ip, ic, echo, gopacketPayload("abc"))
	tx, _ := e.run(1, in)
	if len(tx) != 1 {
		t.Fatalf("tx %d drops %v", len(tx), e.drops())
	}
	p := parse(tx[0])
	rip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	ric := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	re := p.Layer(layers.LayerTypeICMPv6Echo).(*layers.ICMPv6Echo)
	if !rip.SrcIP.Equal(ip.DstIP) || !rip.DstIP.Equal(ip.SrcIP) || rip.HopLimit != 64 || ric.TypeCode.Type() != layers.ICMPv6TypeEchoReply || re.Identifier != 5 || re.SeqNumber != 6 {
		t.Fatalf("reply %v %v", rip, ric)
	}
	if got, want := gpICMPv6Checksum(t, p); got != want {
		t.Fatalf("checksum %#x want %#x", got, want)
	}
}

func TestMTU(t *testing.T) {
	t.Run("v4 DF", func(t *testing.T) {
		e := newEnv(t, nil)
		in := udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 64, 1401-28, true) // 1401 bytes > 1400
		tx, free := e.run(1, in)
		if len(tx) != 1 || len(free) != 1 || e.drops()[DropTooBig] != 1 {
			t.Fatalf("tx %d free %d drops %v", len(tx), len(free), e.drops())
		}
		p := parse(tx[0])
		assertIPv4(t, p)
		ic := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if ic.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeFragmentationNeeded) || ic.Seq != 1400 {
			t.Fatalf("%v mtu %d", ic.TypeCode, ic.Seq)
		}
		if got, want := gpICMPv4Checksum(t, p); got != want {
			t.Fatal("checksum")
		}
		if len(ic.Payload) != 576-28 || e.fw.Counters().FragNeededSent != 1 {
			t.Fatalf("quote %d bytes", len(ic.Payload))
		}
	})
	t.Run("v4 no DF", func(t *testing.T) {
		e := newEnv(t, nil)
		tx, free := e.run(1, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 64, 1401-28, false))
		if len(tx) != 0 || len(free) != 1 || e.drops()[DropTooBigNoDF] != 1 {
			t.Fatalf("tx %d drops %v", len(tx), e.drops())
		}
	})
	t.Run("v4 fits", func(t *testing.T) {
		e := newEnv(t, nil)
		tx, _ := e.run(1, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.5", 64, 1400-28, true))
		if len(tx) != 1 || tx[0].Len != 1414 {
			t.Fatalf("tx %d drops %v", len(tx), e.drops())
		}
	})
	t.Run("v6", func(t *testing.T) {
		e := newEnv(t, nil)
		tx, free := e.run(1, udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:100::9", 64, 1401-48))
		if len(tx) != 1 || len(free) != 1 || e.drops()[DropTooBig] != 1 {
			t.Fatalf("tx %d drops %v", len(tx), e.drops())
		}
		p := parse(tx[0])
		ic := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
		if ic.TypeCode.Type() != layers.ICMPv6TypePacketTooBig || tx[0].Len != 14+1280 {
			t.Fatalf("%v len %d", ic.TypeCode, tx[0].Len)
		}
		if ic.Payload[0] != 0 || ic.Payload[3] != 0x78 || ic.Payload[2] != 0x05 { // MTU 1400
			t.Fatalf("mtu % x", ic.Payload[:4])
		}
		if got, want := gpICMPv6Checksum(t, p); got != want {
			t.Fatal("checksum")
		}
	})
}

func gopacketPayload(s string) gopacketPayloadT { return gopacketPayloadT(s) }
