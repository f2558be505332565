package nicconf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
)

func TestCompileItems(t *testing.T) {
	ones4 := [4]byte{0xff, 0xff, 0xff, 0xff}
	var ones16 [16]byte
	for i := range ones16 {
		ones16[i] = 0xff
	}
	v6a := netip.MustParseAddr("2001:db8:1::2").As16()
	tests := []struct {
		name string
		in   steering.Item
		prev steering.ItemType
		want dpdk.FlowItem
	}{
		{"eth any", steering.Item{Type: steering.ItemETH}, 0, dpdk.FlowItem{Type: dpdk.FlowItemETH}},
		{"eth ipv4", steering.Item{Type: steering.ItemETH, ETH: steering.ETHSpec{Type: 0x0800, TypeMask: 0xffff}}, 0,
			dpdk.FlowItem{Type: dpdk.FlowItemETH, Spec: dpdk.FlowETH{EtherType: 0x0800}, Mask: dpdk.FlowETH{EtherType: 0xffff}}},
		{"eth spec outside mask", steering.Item{Type: steering.ItemETH, ETH: steering.ETHSpec{Type: 0x86dd, TypeMask: 0xff00}}, 0,
			dpdk.FlowItem{Type: dpdk.FlowItemETH, Spec: dpdk.FlowETH{EtherType: 0x8600}, Mask: dpdk.FlowETH{EtherType: 0xff00}}},
		{"ipv4 any", steering.Item{Type: steering.ItemIPv4}, steering.ItemETH, dpdk.FlowItem{Type: dpdk.FlowItemIPv4}},
		{"ipv4 proto", steering.Item{Type: steering.ItemIPv4, IPv4: steering.IPv4Spec{Proto: 6, ProtoMask: 0xff}}, steering.ItemETH,
			dpdk.FlowItem{Type: dpdk.FlowItemIPv4, Spec: dpdk.FlowIPv4{Proto: 6}, Mask: dpdk.FlowIPv4{Proto: 0xff}}},
		{"ipv4 addrs", steering.Item{Type: steering.ItemIPv4, IPv4: steering.IPv4Spec{
			Src: [4]byte{198, 18, 1, 2}, Dst: [4]byte{198, 18, 3, 2}, SrcMask: ones4, DstMask: [4]byte{255, 255, 0, 0}, Proto: 6, ProtoMask: 0xff}}, steering.ItemETH,
			dpdk.FlowItem{Type: dpdk.FlowItemIPv4,
				Spec: dpdk.FlowIPv4{Src: [4]byte{198, 18, 1, 2}, Dst: [4]byte{198, 18, 0, 0}, Proto: 6},
				Mask: dpdk.FlowIPv4{Src: ones4, Dst: [4]byte{255, 255, 0, 0}, Proto: 0xff}}},
		{"ipv6 any", steering.Item{Type: steering.ItemIPv6}, steering.ItemETH, dpdk.FlowItem{Type: dpdk.FlowItemIPv6}},
		{"ipv6 src", steering.Item{Type: steering.ItemIPv6, IPv6: steering.IPv6Spec{Src: v6a, SrcMask: ones16, Proto: 6, ProtoMask: 0xff}}, steering.ItemETH,
			dpdk.FlowItem{Type: dpdk.FlowItemIPv6, Spec: dpdk.FlowIPv6{Src: v6a, Proto: 6}, Mask: dpdk.FlowIPv6{Src: ones16, Proto: 0xff}}},
		{"tcp any", steering.Item{Type: steering.ItemTCP}, steering.ItemIPv4, dpdk.FlowItem{Type: dpdk.FlowItemTCP}},
		{"tcp ports", steering.Item{Type: steering.ItemTCP, TCP: steering.TCPSpec{SrcPort: 49152, DstPort: 80, SrcPortMask: 0xffff, DstPortMask: 0xffff}}, steering.ItemIPv4,
			dpdk.FlowItem{Type: dpdk.FlowItemTCP, Spec: dpdk.FlowTCP{SrcPort: 49152, DstPort: 80}, Mask: dpdk.FlowTCP{SrcPort: 0xffff, DstPort: 0xffff}}},
		{"tcp join syn", steering.Item{Type: steering.ItemTCP, TCP: steering.TCPSpec{DataOff: 0xd0, DataOffMask: 0xf0, Flags: 0x02, FlagsMask: 0x12}}, steering.ItemIPv6,
			dpdk.FlowItem{Type: dpdk.FlowItemTCP, Spec: dpdk.FlowTCP{DataOff: 0xd0, Flags: 0x02}, Mask: dpdk.FlowTCP{DataOff: 0xf0, Flags: 0x12}}},
		{"raw token", steering.Item{Type: steering.ItemRaw, Raw: steering.RawSpec{Offset: 40,
			Pattern: []byte{0x1e, 0x0c, 0x1f, 0xaa, 0, 0, 0, 0x13}, Mask: []byte{0xff, 0xff, 0xf0, 0, 0, 0, 0, 0x03}}}, steering.ItemTCP,
			dpdk.FlowItem{Type: dpdk.FlowItemRaw,
				Spec: dpdk.FlowRaw{Relative: true, Offset: 20, Pattern: []byte{0x1e, 0x0c, 0x10, 0, 0, 0, 0, 0x03}},
				Mask: dpdk.FlowRaw{Relative: true, Search: true, Offset: -1, Limit: 0xffff, Pattern: []byte{0xff, 0xff, 0xf0, 0, 0, 0, 0, 0x03}}}},
		{"raw at option start", steering.Item{Type: steering.ItemRaw, Raw: steering.RawSpec{Offset: 20, Pattern: []byte{2}, Mask: []byte{0xff}}}, steering.ItemTCP,
			dpdk.FlowItem{Type: dpdk.FlowItemRaw,
				Spec: dpdk.FlowRaw{Relative: true, Offset: 0, Pattern: []byte{2}},
				Mask: dpdk.FlowRaw{Relative: true, Search: true, Offset: -1, Limit: 0xffff, Pattern: []byte{0xff}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compileItem(&tt.in, tt.prev)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("compileItem =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestCompileActions(t *testing.T) {
	key := steering.SymmetricKey(40)
	tests := []struct {
		name string
		in   steering.Action
		want dpdk.FlowAction
	}{
		{"queue", steering.Queue(3), dpdk.FlowAction{Type: dpdk.FlowActionQueue, Conf: dpdk.FlowQueue{Index: 3}}},
		{"drop", steering.Drop(), dpdk.FlowAction{Type: dpdk.FlowActionDrop}},
		{"rss symmetric", steering.Action{Type: steering.ActionRSS, RSS: steering.RSSSpec{Symmetric: true, Key: key, Queues: []int{0, 1, 2}, Types: steering.HashDefault}},
			dpdk.FlowAction{Type: dpdk.FlowActionRSS, Conf: dpdk.FlowRSS{Func: dpdk.HashToeplitz, Types: dpdk.RSSIP&^(1<<15) | dpdk.RSSNonfragIPv4TCP | dpdk.RSSNonfragIPv6TCP, Key: key, Queues: []uint16{0, 1, 2}}}},
		{"rss port key, tcp v4 only", steering.Action{Type: steering.ActionRSS, RSS: steering.RSSSpec{Queues: []int{1}, Types: steering.HashTCPv4}},
			dpdk.FlowAction{Type: dpdk.FlowActionRSS, Conf: dpdk.FlowRSS{Func: dpdk.HashToeplitz, Types: dpdk.RSSNonfragIPv4TCP, Queues: []uint16{1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compileAction(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("compileAction =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestRSSTypeBits checks the locally named RTE_ETH_RSS_* bits against
// the ones dataplane/dpdk takes from rte_ethdev.h.
func TestRSSTypeBits(t *testing.T) {
	const ipv6Ex = uint64(1) << 15 // RTE_ETH_RSS_IPV6_EX
	ip := dpdk.RSSIPv4 | dpdk.RSSFragIPv4 | rssNonfragIPv4Other | dpdk.RSSIPv6 | dpdk.RSSFragIPv6 | rssNonfragIPv6Other | ipv6Ex
	if ip != dpdk.RSSIP {
		t.Errorf("RTE_ETH_RSS_IP = %#x, local bits give %#x", dpdk.RSSIP, ip)
	}
	if got, want := RSSTypes(steering.HashDefault), (dpdk.RSSIP&^ipv6Ex)|dpdk.RSSNonfragIPv4TCP|dpdk.RSSNonfragIPv6TCP; got != want {
		t.Errorf("RSSTypes(HashDefault) = %#x, want %#x", got, want)
	}
	if got := RSSTypes(steering.HashIPv4 | steering.HashTCPv4); got&(dpdk.RSSIPv6|dpdk.RSSNonfragIPv6TCP) != 0 {
		t.Errorf("RSSTypes(v4) = %#x has IPv6 bits", got)
	}
}

func TestCompileErrors(t *testing.T) {
	tcp := steering.Item{Type: steering.ItemTCP}
	raw := func(off int, pat, mask []byte) steering.Item {
		return steering.Item{Type: steering.ItemRaw, Raw: steering.RawSpec{Offset: off, Pattern: pat, Mask: mask}}
	}
	q := []steering.Action{steering.Queue(0)}
	tests := []struct {
		name string
		in   steering.Rule
	}{
		{"no action", steering.Rule{Pattern: []steering.Item{{Type: steering.ItemETH}}}},
		{"unknown item", steering.Rule{Pattern: []steering.Item{{Type: 99}}, Actions: q}},
		{"unknown action", steering.Rule{Actions: []steering.Action{{Type: 99}}}},
		{"raw first", steering.Rule{Pattern: []steering.Item{raw(40, []byte{1}, []byte{1})}, Actions: q}},
		{"raw after ip", steering.Rule{Pattern: []steering.Item{{Type: steering.ItemIPv4}, raw(40, []byte{1}, []byte{1})}, Actions: q}},
		{"raw in tcp header", steering.Rule{Pattern: []steering.Item{tcp, raw(12, []byte{1}, []byte{1})}, Actions: q}},
		{"raw mask length", steering.Rule{Pattern: []steering.Item{tcp, raw(40, []byte{1, 2}, []byte{1})}, Actions: q}},
		{"raw empty", steering.Rule{Pattern: []steering.Item{tcp, raw(40, nil, nil)}, Actions: q}},
		{"queue range", steering.Rule{Actions: []steering.Action{steering.Queue(70000)}}},
		{"negative queue", steering.Rule{Actions: []steering.Action{steering.Queue(-1)}}},
		{"rss no queue", steering.Rule{Actions: []steering.Action{steering.RSS(false, nil)}}},
		{"rss queue range", steering.Rule{Actions: []steering.Action{steering.RSS(false, []int{0, 1 << 16})}}},
		{"symmetric rss without key", steering.Rule{Actions: []steering.Action{steering.RSS(true, []int{0})}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := Compile(tt.in)
			if !errors.Is(err, ErrCompile) {
				t.Fatalf("Compile = %v, want ErrCompile", err)
			}
		})
	}
}

// testRulesets returns rule sets for the round trip: worker counts, both
// symmetric settings, Linux join layouts, a v4 and a v6 subflow.
func testRulesets(t *testing.T) map[string]*steering.Ruleset {
	t.Helper()
	out := map[string]*steering.Ruleset{}
	for _, n := range []int{1, 2, 3, 4, 24} {
		for _, sym := range []bool{true, false} {
			rs, err := steering.NewRuleset(steering.Config{Workers: n, SymmetricRSS: sym})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rs.AddSubflow(steering.TupleFrom(netip.MustParseAddrPort("198.18.2.2:40001"), netip.MustParseAddrPort("198.18.3.2:5201")), n-1); err != nil {
				t.Fatal(err)
			}
			if _, err := rs.AddSubflow(steering.TupleFrom(netip.MustParseAddrPort("[2001:db8:2::2]:40002"), netip.MustParseAddrPort("[2001:db8:3::2]:5201")), 0); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("N=%d symmetric=%v", n, sym)] = rs
		}
	}
	return out
}

// TestCompileRoundTrip marshals every compiled rule into the C structures
// with dpdk.MarshalFlowRule and decodes them back: what reaches DPDK is
// what Compile produced, and it says what the rule means.
func TestCompileRoundTrip(t *testing.T) {
	for name, rs := range testRulesets(t) {
		t.Run(name, func(t *testing.T) {
			rules := rs.Rules()
			if want := 4 + rs.Workers()*2*2 + 1; len(rules) != want {
				t.Fatalf("%d rules, want %d", len(rules), want)
			}
			for i, r := range rules {
				pattern, actions, attr, err := Compile(r)
				if err != nil {
					t.Fatalf("rule %d: %v", i, err)
				}
				c, err := dpdk.MarshalFlowRule(attr, pattern, actions)
				if err != nil {
					t.Fatalf("rule %d: %v", i, err)
				}
				gotAttr, gotPattern, gotActions, err := c.Decode()
				c.Free()
				if err != nil {
					t.Fatalf("rule %d: %v", i, err)
				}
				if !reflect.DeepEqual(gotAttr, attr) || !reflect.DeepEqual(gotPattern, pattern) || !reflect.DeepEqual(gotActions, actions) {
					t.Fatalf("rule %d (%v): decoded\n%+v %+v %+v\nwant\n%+v %+v %+v", i, r.Kind, gotAttr, gotPattern, gotActions, attr, pattern, actions)
				}
				checkDecoded(t, rs, r, gotAttr, gotPattern, gotActions)
			}
		})
	}
}

// checkDecoded checks the meaning of a decoded rule against the steering
// rule it came from, field by field.
func checkDecoded(t *testing.T, rs *steering.Ruleset, r steering.Rule, attr dpdk.FlowAttr, pattern []dpdk.FlowItem, actions []dpdk.FlowAction) {
	t.Helper()
	if !attr.Ingress || attr.Egress || attr.Transfer || attr.Group != 0 || attr.Priority != r.Priority {
		t.Errorf("%v: attr %+v", r.Kind, attr)
	}
	switch r.Kind {
	case steering.RuleDefault:
		if len(pattern) != 1 || pattern[0].Type != dpdk.FlowItemETH || pattern[0].Spec != nil || pattern[0].Mask != nil {
			t.Errorf("default pattern %+v, want ETH matching anything", pattern)
		}
		rss, ok := actions[0].Conf.(dpdk.FlowRSS)
		if len(actions) != 1 || !ok {
			t.Fatalf("default actions %+v", actions)
		}
		if !bytes.Equal(rss.Key, rs.RSSKey()) || rss.Func != dpdk.HashToeplitz || len(rss.Queues) != rs.Workers() {
			t.Errorf("default RSS %+v", rss)
		}
		for i, q := range rss.Queues {
			if int(q) != i {
				t.Errorf("default RSS queues %v", rss.Queues)
			}
		}
		if rss.Types&(dpdk.RSSNonfragIPv4TCP|dpdk.RSSNonfragIPv6TCP|dpdk.RSSIPv4|dpdk.RSSIPv6) == 0 {
			t.Errorf("default RSS types %#x", rss.Types)
		}
	case steering.RuleJoinToken:
		if len(pattern) != 4 {
			t.Fatalf("token pattern %+v", pattern)
		}
		v6 := pattern[1].Type == dpdk.FlowItemIPv6
		et := uint16(0x0800)
		if v6 {
			et = 0x86dd
		}
		if pattern[0].Spec != (dpdk.FlowETH{EtherType: et}) {
			t.Errorf("token eth %+v", pattern[0])
		}
		tcpSpec := pattern[2].Spec.(dpdk.FlowTCP)
		hdrLen := int(tcpSpec.DataOff>>4) * 4
		var layout steering.JoinLayout
		for _, l := range steering.LinuxJoinLayouts() {
			if l.HeaderLen == hdrLen {
				layout = l
			}
		}
		if layout.Name == "" || tcpSpec.Flags != 0x02 || pattern[2].Mask.(dpdk.FlowTCP).Flags != 0x12 {
			t.Fatalf("token tcp %+v / %+v", pattern[2].Spec, pattern[2].Mask)
		}
		raw, mask := pattern[3].Spec.(dpdk.FlowRaw), pattern[3].Mask.(dpdk.FlowRaw)
		if !raw.Relative || raw.Search || int(raw.Offset) != layout.OptionOffset-20 {
			t.Errorf("%s: raw %+v, want relative offset %d", layout.Name, raw, layout.OptionOffset-20)
		}
		wantPat := []byte{0x1e, 0x0c, 0x10, 0, 0, 0, 0, byte(r.Core)}
		tm := rs.Tokens().Mask()
		wantMask := []byte{0xff, 0xff, 0xf0, 0, byte(tm >> 24), byte(tm >> 16), byte(tm >> 8), byte(tm)}
		if !bytes.Equal(raw.Pattern, wantPat) || !bytes.Equal(mask.Pattern, wantMask) {
			t.Errorf("core %d: raw pattern %x mask %x, want %x %x", r.Core, raw.Pattern, mask.Pattern, wantPat, wantMask)
		}
		if actions[0].Conf != (dpdk.FlowQueue{Index: uint16(r.Core)}) {
			t.Errorf("token action %+v, want queue %d", actions, r.Core)
		}
	case steering.RuleSubflow:
		if len(pattern) != 3 {
			t.Fatalf("subflow pattern %+v", pattern)
		}
		tup, core, ok := rs.Subflow(r.ID)
		if !ok || core != r.Core {
			t.Fatalf("subflow %d unknown", r.ID)
		}
		tcp := pattern[2].Spec.(dpdk.FlowTCP)
		if tup.SrcPort != tcp.SrcPort {
			tup = tup.Reverse()
		}
		if tcp.SrcPort != tup.SrcPort || tcp.DstPort != tup.DstPort || pattern[2].Mask != (dpdk.FlowTCP{SrcPort: 0xffff, DstPort: 0xffff}) {
			t.Errorf("subflow tcp %+v", pattern[2])
		}
		switch s := pattern[1].Spec.(type) {
		case dpdk.FlowIPv4:
			if tup.IPv6 || s.Src != [4]byte(tup.Src[:4]) || s.Dst != [4]byte(tup.Dst[:4]) || s.Proto != 6 {
				t.Errorf("subflow ipv4 %+v for %+v", s, tup)
			}
		case dpdk.FlowIPv6:
			if !tup.IPv6 || s.Src != tup.Src || s.Dst != tup.Dst || s.Proto != 6 {
				t.Errorf("subflow ipv6 %+v for %+v", s, tup)
			}
		default:
			t.Errorf("subflow ip item %+v", pattern[1])
		}
		if actions[0].Conf != (dpdk.FlowQueue{Index: uint16(core)}) {
			t.Errorf("subflow action %+v", actions)
		}
	}
}

// Test frames: Ethernet + IP + TCP with the given options.

func frame(v6 bool, src, dst string, sport, dport uint16, flags byte, opts []byte) []byte {
	var b []byte
	eth := make([]byte, 14)
	tcpLen := 20 + len(opts)
	tcp := make([]byte, tcpLen)
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	tcp[12] = byte(tcpLen/4) << 4
	tcp[13] = flags
	copy(tcp[20:], opts)
	if v6 {
		binary.BigEndian.PutUint16(eth[12:], 0x86dd)
		ip := make([]byte, 40)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(tcpLen))
		ip[6], ip[7] = 6, 64
		s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		b = append(append(eth, ip...), tcp...)
	} else {
		binary.BigEndian.PutUint16(eth[12:], 0x0800)
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+tcpLen))
		ip[8], ip[9] = 64, 6
		s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		b = append(append(eth, ip...), tcp...)
	}
	return b
}

func joinOpt(token uint32) []byte {
	o := []byte{0x1e, 0x0c, 0x10, 0x01, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}
	binary.BigEndian.PutUint32(o[4:], token)
	return o
}

// Linux join SYN option layouts (steering.LinuxJoinLayouts) and one that
// no rule covers.
func optsTS(tok uint32) []byte {
	o := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}
	return append(o, joinOpt(tok)...)
}

func optsNoTS(tok uint32) []byte {
	o := []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}
	return append(o, joinOpt(tok)...)
}

func optsOther(tok uint32) []byte {
	o := []byte{2, 4, 0x05, 0xb4}
	return append(append(o, joinOpt(tok)...), 0, 0, 0, 0)
}

// rteMatch is a model of rte_flow matching written from its documentation,
// independent of steering: items match the stacked headers in order, a
// field matches when packet & mask == spec & mask, a nil spec matches any
// header of the type, and RAW with relative=1 starts offset bytes after the
// end of the previous item (the fixed 20-byte TCP header for TCP).
func rteMatch(t *testing.T, pattern []dpdk.FlowItem, f []byte) bool {
	t.Helper()
	type layer struct {
		typ        dpdk.FlowItemType
		start, end int
	}
	layers := []layer{{dpdk.FlowItemETH, 0, 14}}
	l4 := 0
	switch binary.BigEndian.Uint16(f[12:]) {
	case 0x0800:
		layers = append(layers, layer{dpdk.FlowItemIPv4, 14, 34})
		l4 = 14 + int(f[14]&0xf)*4
	case 0x86dd:
		layers = append(layers, layer{dpdk.FlowItemIPv6, 14, 54})
		l4 = 54
	}
	layers = append(layers, layer{dpdk.FlowItemTCP, l4, l4 + 20})
	end := 0
	for i, it := range pattern {
		if it.Type == dpdk.FlowItemRaw {
			spec, mask := it.Spec.(dpdk.FlowRaw), it.Mask.(dpdk.FlowRaw)
			if !spec.Relative || spec.Search || !mask.Relative || !mask.Search {
				t.Fatalf("model handles fixed relative RAW only: %+v", it)
			}
			at := end + int(spec.Offset)
			if at < 0 || at+len(spec.Pattern) > len(f) {
				return false
			}
			for j := range spec.Pattern {
				if f[at+j]&mask.Pattern[j] != spec.Pattern[j]&mask.Pattern[j] {
					return false
				}
			}
			end = at + len(spec.Pattern)
			continue
		}
		if i >= len(layers) || layers[i].typ != it.Type {
			return false
		}
		end = layers[i].end
		if it.Spec == nil {
			continue
		}
		spec, mask := wire(it.Spec), wire(it.Mask)
		hdr := f[layers[i].start:layers[i].end]
		for j := range spec {
			if hdr[j]&mask[j] != spec[j]&mask[j] {
				return false
			}
		}
	}
	return true
}

// wire returns a spec's header bytes in network order.
func wire(s dpdk.FlowSpec) []byte {
	be := binary.BigEndian
	switch v := s.(type) {
	case dpdk.FlowETH:
		b := make([]byte, 14)
		copy(b, v.Dst[:])
		copy(b[6:], v.Src[:])
		be.PutUint16(b[12:], v.EtherType)
		return b
	case dpdk.FlowIPv4:
		b := make([]byte, 20)
		b[0], b[1], b[8], b[9] = v.VersionIHL, v.TOS, v.TTL, v.Proto
		be.PutUint16(b[2:], v.TotalLength)
		be.PutUint16(b[4:], v.PacketID)
		be.PutUint16(b[6:], v.FragmentOffset)
		be.PutUint16(b[10:], v.Checksum)
		copy(b[12:], v.Src[:])
		copy(b[16:], v.Dst[:])
		return b
	case dpdk.FlowIPv6:
		b := make([]byte, 40)
		be.PutUint32(b, v.VTCFlow)
		be.PutUint16(b[4:], v.PayloadLen)
		b[6], b[7] = v.Proto, v.HopLimit
		copy(b[8:], v.Src[:])
		copy(b[24:], v.Dst[:])
		return b
	case dpdk.FlowTCP:
		b := make([]byte, 20)
		be.PutUint16(b, v.SrcPort)
		be.PutUint16(b[2:], v.DstPort)
		be.PutUint32(b[4:], v.Seq)
		be.PutUint32(b[8:], v.Ack)
		b[12], b[13] = v.DataOff, v.Flags
		be.PutUint16(b[14:], v.Window)
		be.PutUint16(b[16:], v.Checksum)
		be.PutUint16(b[18:], v.Urgent)
		return b
	}
	panic(fmt.Sprintf("wire: %T", s))
}

// TestCompiledMatchesSteering holds the compiled rules, evaluated by the
// rte_flow model, against steering's own NIC model (Rule.Matches) on join
// SYNs of every layout and token, non-join SYNs, data and subflow packets:
// the RAW offset and every field land where steering means them.
func TestCompiledMatchesSteering(t *testing.T) {
	for name, rs := range testRulesets(t) {
		t.Run(name, func(t *testing.T) {
			var frames [][]byte
			addrs := [][2]string{{"198.18.2.2", "198.18.3.2"}, {"2001:db8:2::2", "2001:db8:3::2"}}
			for _, a := range addrs {
				v6 := a[0] != "198.18.2.2"
				for tok := uint32(0); tok <= rs.Tokens().Mask()+1; tok++ {
					for _, opts := range []func(uint32) []byte{optsTS, optsNoTS, optsOther} {
						tk := tok*0x01000100 + tok // other bits set too
						frames = append(frames,
							frame(v6, a[0], a[1], 40000, 5201, 0x02, opts(tk)),
							frame(v6, a[0], a[1], 40000, 5201, 0x12, opts(tk)))
					}
				}
				frames = append(frames,
					frame(v6, a[0], a[1], 40001, 5201, 0x10, nil),
					frame(v6, a[1], a[0], 5201, 40001, 0x10, nil),
					frame(v6, a[0], a[1], 40002, 5201, 0x10, nil),
					frame(v6, a[1], a[0], 5201, 40002, 0x18, nil))
			}
			matched := map[steering.RuleKind]int{}
			for i, r := range rs.Rules() {
				pattern, _, _, err := Compile(r)
				if err != nil {
					t.Fatal(err)
				}
				for j, f := range frames {
					got, want := rteMatch(t, pattern, f), r.Matches(f[14:])
					if got != want {
						t.Fatalf("rule %d (%v core %d) frame %d %x: rte_flow model %v, steering %v", i, r.Kind, r.Core, j, f, got, want)
					}
					if got {
						matched[r.Kind]++
					}
				}
			}
			// Every token rule matches its join SYNs (v4/v6, 2 layouts).
			if matched[steering.RuleJoinToken] < rs.Workers()*2*2 || matched[steering.RuleSubflow] != 4 {
				t.Errorf("matches per kind %v", matched)
			}
		})
	}
}
