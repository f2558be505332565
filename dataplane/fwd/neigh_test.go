package fwd

import (
	"net"
	"testing"

	"github.com/google/gopacket/layers"
)

const sec = int64(1e9)

func arpFrame(t *testing.T, port uint16, op uint16, srcMAC, dstMAC MAC, spa, tpa string, tha MAC) Frame {
	a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: op, SourceHwAddress: srcMAC[:], SourceProtAddress: net.ParseIP(spa).To4(),
		DstHwAddress: tha[:], DstProtAddress: net.ParseIP(tpa).To4()}
	return mkFrame(t, port, ethL(srcMAC, dstMAC, layers.EthernetTypeARP), a)
}

func TestARPReplyInPlace(t *testing.T) {
	e := newEnv(t, nil)
	in := rawFrame(0, arpRequestFrame)
	tx, free := e.run(1, in)
	if len(tx) != 1 || len(free) != 0 || tx[0].Ref != in.Ref || tx[0].Port != 0 {
		t.Fatalf("tx %v free %v drops %v", tx, free, e.drops())
	}
	p := parse(tx[0])
	eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	a := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if macOf(eth.DstMAC) != clientMAC || macOf(eth.SrcMAC) != p0MAC || a.Operation != layers.ARPReply ||
		macOf(a.SourceHwAddress) != p0MAC || !net.IP(a.SourceProtAddress).Equal(net.ParseIP("198.18.1.1")) ||
		macOf(a.DstHwAddress) != clientMAC || !net.IP(a.DstProtAddress).Equal(net.ParseIP("198.18.1.2")) {
		t.Fatalf("reply %+v", a)
	}
	c := e.fw.Counters()
	if c.ARPRepliesSent != 1 || c.ARPReceived != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestARPNotForUs(t *testing.T) {
	e := newEnv(t, nil)
	// A request for another host on the segment from an unknown sender:
	// not answered, nothing learned.
	in := arpFrame(t, 1, layers.ARPRequest, peer1MAC, BroadcastMAC, "198.18.2.2", "198.18.2.9", MAC{})
	tx, free := e.run(1, in)
	if len(tx) != 0 || len(free) != 1 || e.drops()[DropARPNotForUs] != 1 || e.fw.Counters().Neighbors != 4 {
		t.Fatalf("tx %d drops %v neighbors %d", len(tx), e.drops(), e.fw.Counters().Neighbors)
	}
	// A request for our address on port 0 received on port 1 is not ours
	// to answer there.
	_, free = e.run(1, arpFrame(t, 1, layers.ARPRequest, peer1MAC, BroadcastMAC, "198.18.2.2", "198.18.1.1", MAC{}))
	if len(free) != 1 || e.drops()[DropARPNotForUs] != 2 {
		t.Fatalf("drops %v", e.drops())
	}
	// Malformed.
	_, free = e.run(1, rawFrame(0, arpRequestFrame[:40]))
	if len(free) != 1 || e.drops()[DropARPMalformed] != 1 {
		t.Fatalf("drops %v", e.drops())
	}
}

func TestARPResolution(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PendingPerNeighbor = 4 })
	mk := func() Frame { return udp4(t, 0, p0MAC, "198.18.1.2", "198.18.2.2", 64, 10, false) }
	// First packet: an ARP request goes out, the packet waits; the fifth
	// finds the queue of four full.
	in := []Frame{mk(), mk(), mk(), mk(), mk()}
	tx, free := e.run(10, in...)
	if len(tx) != 1 || len(free) != 1 || e.drops()[DropPendingFull] != 1 {
		t.Fatalf("tx %d free %d drops %v", len(tx), len(free), e.drops())
	}
	req := parse(tx[0])
	eth := req.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	a := req.Layer(layers.LayerTypeARP).(*layers.ARP)
	if tx[0].Port != 1 || tx[0].Len != 60 || macOf(eth.DstMAC) != BroadcastMAC || macOf(eth.SrcMAC) != p1MAC ||
		a.Operation != layers.ARPRequest || macOf(a.SourceHwAddress) != p1MAC ||
		!net.IP(a.SourceProtAddress).Equal(net.ParseIP("198.18.2.1")) || !net.IP(a.DstProtAddress).Equal(net.ParseIP("198.18.2.2")) {
		t.Fatalf("request %v", req)
	}
	if e.fw.Counters().PendingPackets != 4 || e.fw.Counters().ARPRequestsSent != 1 {
		t.Fatalf("counters %+v", e.fw.Counters())
	}
	// The reply releases the four queued packets, in order.
	reply := arpFrame(t, 1, layers.ARPReply, peer1MAC, p1MAC, "198.18.2.2", "198.18.2.1", p1MAC)
	tx, free = e.run(20, reply)
	if len(tx) != 4 || len(free) != 1 || free[0] != reply.Ref {
		t.Fatalf("tx %d free %d drops %v", len(tx), len(free), e.drops())
	}
	for i, o := range tx {
		p := parse(o)
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if o.Ref != in[i].Ref || o.Port != 1 || macOf(eth.DstMAC) != peer1MAC || macOf(eth.SrcMAC) != p1MAC {
			t.Fatalf("%d: ref %d port %d dst %v", i, o.Ref, o.Port, eth.DstMAC)
		}
		if ip := assertIPv4(t, p); ip.TTL != 63 {
			t.Fatalf("TTL %d", ip.TTL)
		}
	}
	if e.fw.Counters().PendingPackets != 0 {
		t.Fatal("pending left")
	}
	// Now resolved: forwarded at once.
	tx, _ = e.run(30, mk())
	if len(tx) != 1 || tx[0].Port != 1 {
		t.Fatalf("tx %d", len(tx))
	}
	// Stale after ReachableTime: still forwarded, plus one unicast request.
	tx, _ = e.run(31*sec, mk(), mk())
	if len(tx) != 3 {
		t.Fatalf("stale: tx %d", len(tx))
	}
	probe := parse(tx[0]) // the probe goes out before the packet that triggered it
	if a, ok := probe.Layer(layers.LayerTypeARP).(*layers.ARP); !ok || macOf(probe.LinkLayer().(*layers.Ethernet).DstMAC) != peer1MAC || a.Operation != layers.ARPRequest {
		t.Fatalf("probe %v", probe)
	}
	// The neighbor confirms with a request of its own: learned, answered.
	tx, _ = e.run(31*sec+1, arpFrame(t, 1, layers.ARPRequest, peer1MAC, BroadcastMAC, "198.18.2.2", "198.18.2.1", MAC{}))
	if len(tx) != 1 || e.fw.Counters().ARPRepliesSent != 1 {
		t.Fatalf("tx %d", len(tx))
	}
	tx, _ = e.run(32*sec, mk())
	if len(tx) != 1 {
		t.Fatalf("after confirmation: tx %d (a probe would make 2)", len(tx))
	}
}

// TestPendingHoldsOneBurst: with the default queue, one receive burst
// (32 frames) for a next hop not yet resolved waits whole for the reply,
// which releases it in order; only a 33rd frame before the reply is
// dropped as pending_full. The queue used to hold 4, and the other 28
// frames of such a burst were dropped.
func TestPendingHoldsOneBurst(t *testing.T) {
	e := newEnv(t, nil)
	if n := e.fw.t.cfg.PendingPerNeighbor; n != 32 {
		t.Fatalf("default PendingPerNeighbor %d, want 32", n)
	}
	mk := func() Frame { return udp4(t, 0, p0MAC, "198.18.1.2", "198.18.2.2", 64, 10, false) }
	in := make([]Frame, 32)
	for i := range in {
		in[i] = mk()
	}
	tx, free := e.run(10, in...)
	if len(tx) != 1 || len(free) != 0 || len(e.drops()) != 0 || e.fw.Counters().PendingPackets != 32 {
		t.Fatalf("tx %d free %d drops %v pending %d; want the request alone and 32 waiting", len(tx), len(free), e.drops(), e.fw.Counters().PendingPackets)
	}
	extra := mk()
	_, free = e.run(11, extra)
	if len(free) != 1 || free[0] != extra.Ref || e.drops()[DropPendingFull] != 1 {
		t.Fatalf("33rd frame: free %v drops %v; want it dropped as pending_full", free, e.drops())
	}
	tx, _ = e.run(20, arpFrame(t, 1, layers.ARPReply, peer1MAC, p1MAC, "198.18.2.2", "198.18.2.1", p1MAC))
	if len(tx) != 32 {
		t.Fatalf("released %d, want 32", len(tx))
	}
	for i, o := range tx {
		if o.Ref != in[i].Ref {
			t.Fatalf("%d: ref %d, want %d (order kept)", i, o.Ref, in[i].Ref)
		}
	}
}

func TestARPRetryAndFailure(t *testing.T) {
	e := newEnv(t, nil)
	mk := func() Frame { return udp4(t, 0, p0MAC, "198.18.1.2", "198.18.2.2", 64, 10, false) }
	t0 := 100 * sec
	tx, _ := e.run(t0, mk(), mk())
	if len(tx) != 1 {
		t.Fatalf("tx %d", len(tx))
	}
	// Timers: a retry every second, three requests in all.
	for i, at := range []int64{t0 + sec/2, t0 + sec, t0 + 3*sec/2, t0 + 2*sec} {
		want := []int{0, 1, 0, 1}[i]
		tx, free := e.fw.tickOnly(e, at)
		if len(tx) != want || len(free) != 0 {
			t.Fatalf("at +%dms: tx %d free %d", (at-t0)/1e6, len(tx), len(free))
		}
	}
	if e.fw.Counters().ARPRequestsSent != 3 {
		t.Fatalf("requests %d", e.fw.Counters().ARPRequestsSent)
	}
	// After the third try times out, the queued packets are freed.
	tx, free := e.fw.tickOnly(e, t0+3*sec)
	if len(tx) != 0 || len(free) != 2 || e.drops()[DropPendingExpired] != 2 || e.fw.Counters().PendingPackets != 0 {
		t.Fatalf("tx %d free %d drops %v", len(tx), len(free), e.drops())
	}
	// Failed for FailedTime: packets dropped without a request.
	tx, free = e.run(t0+4*sec, mk())
	if len(tx) != 0 || len(free) != 1 || e.drops()[DropNeighborFailed] != 1 {
		t.Fatalf("tx %d drops %v", len(tx), e.drops())
	}
	// Then resolution starts over.
	tx, free = e.run(t0+9*sec, mk())
	if len(tx) != 1 || len(free) != 0 || e.fw.Counters().ARPRequestsSent != 4 {
		t.Fatalf("tx %d free %d", len(tx), len(free))
	}
}

// tickOnly runs the timers alone, as an idle worker does.
func (f *Forwarder) tickOnly(e *env, now int64) ([]Frame, []uintptr) {
	f.Tick(now, e.out)
	e.sink.FlushOutput(e.out)
	tx, free := e.sink.tx, e.sink.free
	e.sink.tx, e.sink.free = nil, nil
	return tx, free
}

func TestAllocFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.alloc.fail = true
	tx, free := e.run(1, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.2.2", 64, 10, false), udp4(t, 0, p0MAC, "198.18.1.2", "198.18.100.1", 1, 10, false))
	if len(tx) != 0 || len(free) != 1 || e.fw.Counters().AllocFailures != 2 || e.fw.Counters().PendingPackets != 1 {
		t.Fatalf("tx %d free %d counters %+v", len(tx), len(free), e.fw.Counters())
	}
	// The timer retries once buffers are back.
	e.alloc.fail = false
	tx, _ = e.fw.tickOnly(e, 1+sec)
	if len(tx) != 1 {
		t.Fatalf("retry: tx %d", len(tx))
	}
}

func nsFrameFor(t *testing.T, port uint16, src, dst, target string, srcMAC, dstMAC MAC, hl uint8, withSLL bool) Frame {
	ip := &layers.IPv6{Version: 6, HopLimit: hl, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	ns := &layers.ICMPv6NeighborSolicitation{TargetAddress: net.ParseIP(target)}
	if withSLL {
		ns.Options = layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: srcMAC[:]}}
	}
	return mkFrame(t, port, ethL(srcMAC, dstMAC, layers.EthernetTypeIPv6), ip, ic, ns)
}

func naFrameFor(t *testing.T, port uint16, src, dst, target string, srcMAC, dstMAC MAC) Frame {
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	na := &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: net.ParseIP(target),
		Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: srcMAC[:]}}}
	return mkFrame(t, port, ethL(srcMAC, dstMAC, layers.EthernetTypeIPv6), ip, ic, na)
}

func TestNDPAdvertForOurAddress(t *testing.T) {
	tests := []struct {
		name    string
		in      Frame
		wantDst string
		wantMAC MAC
		flags   uint8
	}{
		{"solicited-node multicast", rawFrame(0, nsFrame), "2001:db8:1::2", clientMAC, 0xe0},
		{"unicast to link-local", nsFrameFor(t, 1, "fe80::2", linkLocal(p1MAC).String(), linkLocal(p1MAC).String(), peer1MAC, p1MAC, 255, true), "fe80::2", peer1MAC, 0xe0},
		{"DAD", nsFrameFor(t, 1, "::", "ff02::1:ff00:1", "2001:db8:2::1", peer1MAC, MAC{0x33, 0x33, 0xff, 0, 0, 1}, 255, false), "ff02::1", MAC{0x33, 0x33, 0, 0, 0, 1}, 0xa0},
	}
	for _, tt := range tests {
		e := newEnv(t, nil)
		tx, free := e.run(1, tt.in)
		if len(tx) != 1 || len(free) != 0 || tx[0].Ref != tt.in.Ref {
			t.Fatalf("%s: tx %d free %d drops %v", tt.name, len(tx), len(free), e.drops())
		}
		p := parse(tx[0])
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		na, ok := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement)
		if !ok {
			t.Fatalf("%s: not an NA: %v", tt.name, p)
		}
		tgt := NDP(tt.in.Bytes()[54:]).Target()
		if macOf(eth.DstMAC) != tt.wantMAC || macOf(eth.SrcMAC) != e.fw.t.ports[tt.in.Port].mac ||
			!ip.DstIP.Equal(net.ParseIP(tt.wantDst)) || !ip.SrcIP.Equal(net.IP(tgt[:])) || ip.HopLimit != 255 ||
			na.Flags != tt.flags || !na.TargetAddress.Equal(net.IP(tgt[:])) || len(na.Options) != 1 ||
			na.Options[0].Type != layers.ICMPv6OptTargetAddress || MAC(na.Options[0].Data) != e.fw.t.ports[tt.in.Port].mac {
			t.Fatalf("%s: NA %v", tt.name, p)
		}
		if got, want := gpICMPv6Checksum(t, p); got != want {
			t.Fatalf("%s: checksum %#x want %#x", tt.name, got, want)
		}
	}
}

func TestNDPResolution(t *testing.T) {
	e := newEnv(t, nil)
	mk := func() Frame { return udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:2::2", 64, 10) }
	in := mk()
	tx, _ := e.run(5, in)
	if len(tx) != 1 {
		t.Fatalf("tx %d", len(tx))
	}
	p := parse(tx[0])
	eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	if !ok || tx[0].Port != 1 || macOf(eth.DstMAC) != (MAC{0x33, 0x33, 0xff, 0, 0, 2}) || macOf(eth.SrcMAC) != p1MAC ||
		!ip.DstIP.Equal(net.ParseIP("ff02::1:ff00:2")) || !ip.SrcIP.Equal(net.ParseIP("2001:db8:2::1")) || ip.HopLimit != 255 ||
		!ns.TargetAddress.Equal(net.ParseIP("2001:db8:2::2")) || len(ns.Options) != 1 || MAC(ns.Options[0].Data) != p1MAC {
		t.Fatalf("NS %v", p)
	}
	if got, want := gpICMPv6Checksum(t, p); got != want {
		t.Fatal("NS checksum")
	}
	// An unsolicited NA for another address updates nothing.
	_, free := e.run(6, naFrameFor(t, 1, "2001:db8:2::7", "2001:db8:2::1", "2001:db8:2::7", peer1MAC, p1MAC))
	if len(free) != 1 || e.drops()[DropNDPNotForUs] != 1 {
		t.Fatalf("drops %v", e.drops())
	}
	na := naFrameFor(t, 1, "2001:db8:2::2", "2001:db8:2::1", "2001:db8:2::2", peer1MAC, p1MAC)
	tx, free = e.run(7, na)
	if len(tx) != 1 || tx[0].Ref != in.Ref || len(free) != 1 || free[0] != na.Ref || e.fw.Counters().NDPReceived != 1 {
		t.Fatalf("tx %d free %v drops %v", len(tx), free, e.drops())
	}
	p = parse(tx[0])
	if macOf(p.LinkLayer().(*layers.Ethernet).DstMAC) != peer1MAC || p.Layer(layers.LayerTypeIPv6).(*layers.IPv6).HopLimit != 63 {
		t.Fatalf("released %v", p)
	}
	// Retry timing is shared with ARP: an unanswered next hop fails.
	tx, _ = e.run(8, udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:2::3", 64, 10))
	if len(tx) != 1 {
		t.Fatal("no NS")
	}
	e.fw.tickOnly(e, 8+sec)
	e.fw.tickOnly(e, 8+2*sec)
	_, free = e.fw.tickOnly(e, 8+3*sec)
	if len(free) != 1 || e.drops()[DropPendingExpired] != 1 || e.fw.Counters().NSSent != 4 {
		t.Fatalf("free %d drops %v ns %d", len(free), e.drops(), e.fw.Counters().NSSent)
	}
}

// naFrameNoTLLA is a Neighbor Advertisement with the given flags and no
// Target Link-Layer Address option, as Linux answers a unicast NS.
func naFrameNoTLLA(t *testing.T, port uint16, src, dst, target string, srcMAC, dstMAC MAC, flags uint8) Frame {
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	na := &layers.ICMPv6NeighborAdvertisement{Flags: flags, TargetAddress: net.ParseIP(target)}
	return mkFrame(t, port, ethL(srcMAC, dstMAC, layers.EthernetTypeIPv6), ip, ic, na)
}

// TestNDPStaleConfirmedWithoutTLLA: a stale IPv6 entry is probed with a
// unicast NS; Linux answers that with a solicited NA without a Target
// Link-Layer Address option, which must confirm the entry (RFC 4861
// 7.2.5). Before, it was dropped as ndp_not_for_us, and under steady
// traffic the next hop failed after MaxTries probes: 5 s of
// neighbor_failed drops, then a new resolution (pending_full). A NA
// without the option and without the S flag confirms nothing, and one
// for a next hop still resolving is discarded.
func TestNDPStaleConfirmedWithoutTLLA(t *testing.T) {
	for _, copied := range []bool{false, true} {
		name := "received"
		if copied {
			name = "copied from another worker"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			mk := func() Frame { return udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:2::2", 64, 10) }
			deliver := func(now int64, na Frame) {
				if copied {
					e.fw.Learn(now, &na, e.out)
					e.sink.FlushOutput(e.out)
					e.sink.tx, e.sink.free = nil, nil
					return
				}
				e.run(now, na)
			}
			e.run(1, mk())
			e.run(2, naFrameFor(t, 1, "2001:db8:2::2", "2001:db8:2::1", "2001:db8:2::2", peer1MAC, p1MAC))
			// Steady traffic, one packet every 100 ms for 100 s: each
			// time the entry turns stale it is probed, and the NA without
			// the option confirms it.
			probes := 0
			for now := 3 * int64(1e8); now < 100*sec; now += sec / 10 {
				tx, _ := e.run(now, mk())
				for _, o := range tx {
					p := parse(o)
					ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
					if !ok {
						continue
					}
					ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
					if !ip.DstIP.Equal(net.ParseIP("2001:db8:2::2")) || !ns.TargetAddress.Equal(net.ParseIP("2001:db8:2::2")) {
						t.Fatalf("probe to %v for %v; want a unicast NS to the neighbor", ip.DstIP, ns.TargetAddress)
					}
					probes++
					deliver(now+1, naFrameNoTLLA(t, 1, "2001:db8:2::2", "2001:db8:2::1", "2001:db8:2::2", peer1MAC, p1MAC, 0x40))
				}
				if len(tx) == 0 {
					t.Fatalf("at %d ms: nothing forwarded (drops %v)", now/1e6, e.drops())
				}
			}
			if probes != 3 || e.drops()[DropNeighborFailed] != 0 || e.drops()[DropPendingFull] != 0 {
				t.Errorf("probes %d drops %v; want one probe per 30 s stale period and no drop", probes, e.drops())
			}
			// Without the S flag: not a confirmation.
			now := 140 * sec
			tx, _ := e.run(now, mk()) // stale: probe
			if len(tx) != 2 {
				t.Fatalf("stale: tx %d, want a probe and the packet", len(tx))
			}
			before := e.drops()[DropNDPNotForUs]
			deliver(now+1, naFrameNoTLLA(t, 1, "2001:db8:2::2", "2001:db8:2::1", "2001:db8:2::2", peer1MAC, p1MAC, 0x20))
			if !copied && e.drops()[DropNDPNotForUs] != before+1 {
				t.Errorf("unsolicited NA without the option: drops %v, want one more ndp_not_for_us", e.drops())
			}
			if tx, _ := e.run(now+sec, mk()); len(tx) != 2 {
				t.Errorf("after an unsolicited NA: tx %d, want another probe (the entry is still stale)", len(tx))
			}
			// A next hop still resolving: discarded, its packet waits.
			e.run(now+2*sec, udp6(t, 0, p0MAC, "2001:db8:1::2", "2001:db8:2::3", 64, 10))
			deliver(now+2*sec+1, naFrameNoTLLA(t, 1, "2001:db8:2::3", "2001:db8:2::1", "2001:db8:2::3", peer1MAC, p1MAC, 0x60))
			if e.fw.Counters().PendingPackets != 1 {
				t.Errorf("pending %d after a NA without an address for an incomplete entry, want 1", e.fw.Counters().PendingPackets)
			}
		})
	}
}

func TestNDPDrops(t *testing.T) {
	ra := func() Frame {
		ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP("fe80::2"), DstIP: net.ParseIP("ff02::1")}
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterAdvertisement, 0)}
		ic.SetNetworkLayerForChecksum(ip)
		return mkFrame(t, 0, ethL(clientMAC, MAC{0x33, 0x33, 0, 0, 0, 1}, layers.EthernetTypeIPv6), ip, ic, &layers.ICMPv6RouterAdvertisement{HopLimit: 64})
	}
	badSum := rawFrame(0, nsFrame)
	badSum.Bytes()[60] ^= 1 // reserved byte: checksum no longer matches
	tests := []struct {
		name string
		in   Frame
		want DropReason
	}{
		{"router advertisement", ra(), DropICMPv6Ignored},
		{"hop limit 64", nsFrameFor(t, 0, "2001:db8:1::2", "ff02::1:ff00:1", "2001:db8:1::1", clientMAC, MAC{0x33, 0x33, 0xff, 0, 0, 1}, 64, true), DropNDPMalformed},
		{"bad checksum", badSum, DropNDPMalformed},
		{"target not ours", nsFrameFor(t, 0, "2001:db8:1::2", "2001:db8:1::1", "2001:db8:1::9", clientMAC, p0MAC, 255, true), DropNDPNotForUs},
		{"other solicited-node group", nsFrameFor(t, 0, "2001:db8:1::2", "ff02::1:ff00:9", "2001:db8:1::9", clientMAC, MAC{0x33, 0x33, 0xff, 0, 0, 9}, 255, true), DropEthNotForUs},
		{"DAD with SLLA", nsFrameFor(t, 0, "::", "ff02::1:ff00:1", "2001:db8:1::1", clientMAC, MAC{0x33, 0x33, 0xff, 0, 0, 1}, 255, true), DropNDPMalformed},
	}
	for _, tt := range tests {
		e := newEnv(t, nil)
		tx, free := e.run(1, tt.in)
		if len(tx) != 0 || len(free) != 1 || e.drops()[tt.want] != 1 {
			t.Errorf("%s: tx %d free %d drops %v", tt.name, len(tx), len(free), e.drops())
		}
	}
}

func TestLearnFromOtherWorker(t *testing.T) {
	e := newEnv(t, nil)
	tx, _ := e.run(1, udp4(t, 0, p0MAC, "198.18.1.2", "198.18.2.2", 64, 10, false))
	if len(tx) != 1 {
		t.Fatal("no request")
	}
	reply := arpFrame(t, 1, layers.ARPReply, peer1MAC, p1MAC, "198.18.2.2", "198.18.2.1", p1MAC)
	before := append([]byte(nil), reply.Bytes()...)
	e.fw.Learn(2, &reply, e.out)
	tx, free := e.run(3)
	if len(tx) != 1 || len(free) != 0 || string(reply.Bytes()) != string(before) {
		t.Fatalf("tx %d free %d", len(tx), len(free))
	}
}
