package dpdk

import (
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestFlowHdrOffsets(t *testing.T) {
	for i, off := range cFlowHdrOffsets() {
		if off != 0 {
			t.Errorf("item %d: header at offset %d, marshalling assumes 0", i, off)
		}
	}
}

// joinTokenRule is the kind of rule steering produces: TCP to a port, with
// the MP_JOIN option's token bits matched by a RAW item, sent to a queue.
func joinTokenRule() (FlowAttr, []FlowItem, []FlowAction) {
	return FlowAttr{Group: 0, Priority: 1, Ingress: true},
		[]FlowItem{
			{Type: FlowItemETH},
			{Type: FlowItemIPv4, Spec: FlowIPv4{Proto: 6, Dst: [4]byte{198, 18, 3, 2}}, Mask: FlowIPv4{Proto: 0xff, Dst: [4]byte{255, 255, 255, 255}}},
			{Type: FlowItemTCP, Spec: FlowTCP{DstPort: 5201, Flags: 0x02}, Mask: FlowTCP{DstPort: 0xffff, Flags: 0x12}},
			{Type: FlowItemRaw,
				Spec: FlowRaw{Relative: true, Search: true, Offset: 0, Limit: 40, Pattern: []byte{30, 12, 0x10, 0, 0, 0, 0x01}},
				Mask: FlowRaw{Relative: true, Search: true, Offset: -1, Limit: 0xffff, Pattern: []byte{0xff, 0xff, 0xf0, 0, 0, 0, 0x03}}},
		},
		[]FlowAction{
			{Type: FlowActionMark, Conf: FlowMark{ID: 7}},
			{Type: FlowActionQueue, Conf: FlowQueue{Index: 1}},
		}
}

func TestFlowMarshalRoundTrip(t *testing.T) {
	jattr, jpat, jact := joinTokenRule()
	tests := []struct {
		name    string
		attr    FlowAttr
		pattern []FlowItem
		actions []FlowAction
	}{
		{"join token to queue", jattr, jpat, jact},
		{"empty", FlowAttr{}, nil, nil},
		{"eth drop", FlowAttr{Egress: true, Transfer: true, Group: 3},
			[]FlowItem{{Type: FlowItemETH,
				Spec: FlowETH{Dst: [6]byte{2, 0, 0, 0, 0, 1}, Src: [6]byte{2, 0, 0, 0, 0, 2}, EtherType: 0x86dd},
				Mask: FlowETH{Dst: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EtherType: 0xffff}}},
			[]FlowAction{{Type: FlowActionDrop}}},
		{"ipv6 udp 5-tuple rss", FlowAttr{Ingress: true, Priority: 2},
			[]FlowItem{
				{Type: FlowItemETH},
				{Type: FlowItemIPv6,
					Spec: FlowIPv6{VTCFlow: 0x60012345, PayloadLen: 100, Proto: 17, HopLimit: 64,
						Src: [16]byte{0x20, 0x01, 0x0d, 0xb8, 1, 15: 2}, Dst: [16]byte{0x20, 0x01, 0x0d, 0xb8, 3, 15: 2}},
					Mask: FlowIPv6{Proto: 0xff}},
				{Type: FlowItemUDP, Spec: FlowUDP{SrcPort: 1000, DstPort: 2000, Length: 108, Checksum: 0xabcd},
					Mask: FlowUDP{SrcPort: 0xffff, DstPort: 0xffff}},
			},
			[]FlowAction{
				{Type: FlowActionRSS, Conf: FlowRSS{Func: HashSymmetricToeplitz, Level: 1, Types: RSSIP | RSSUDP,
					Key: SymmetricRSSKey(40), Queues: []uint16{0, 1, 2, 3}}},
				{Type: FlowActionPassthru},
			}},
		{"ipv4 tcp full header", FlowAttr{Ingress: true},
			[]FlowItem{
				{Type: FlowItemIPv4, Spec: FlowIPv4{VersionIHL: 0x45, TOS: 4, TotalLength: 60, PacketID: 0x1234,
					FragmentOffset: 0x4000, TTL: 63, Proto: 6, Checksum: 0xbeef, Src: [4]byte{198, 18, 1, 2}, Dst: [4]byte{198, 18, 3, 2}}},
				{Type: FlowItemTCP, Spec: FlowTCP{SrcPort: 40000, DstPort: 80, Seq: 0xdeadbeef, Ack: 0x01020304,
					DataOff: 0xa0, Flags: 0x18, Window: 65535, Checksum: 0x5555, Urgent: 9}},
				{Type: FlowItemRaw, Spec: FlowRaw{Offset: 12}},
			},
			[]FlowAction{{Type: FlowActionRSS, Conf: FlowRSS{Types: RSSTCP}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := MarshalFlowRule(tt.attr, tt.pattern, tt.actions)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Free()
			attr, pattern, actions, err := r.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if attr != tt.attr {
				t.Errorf("attr = %+v, want %+v", attr, tt.attr)
			}
			if !reflect.DeepEqual(pattern, tt.pattern) {
				t.Errorf("pattern = %+v\nwant      %+v", pattern, tt.pattern)
			}
			if !reflect.DeepEqual(actions, tt.actions) {
				t.Errorf("actions = %+v\nwant      %+v", actions, tt.actions)
			}
		})
	}
}

// TestFlowMarshalCFields reads marshalled fields back by their C names, so
// that an offset mistake shared by marshal and decode cannot hide.
func TestFlowMarshalCFields(t *testing.T) {
	tests := []struct {
		name string
		in   FlowItem
		want uint64 // the C field's raw value: network order read as little-endian
	}{
		{"eth type", FlowItem{Type: FlowItemETH, Spec: FlowETH{EtherType: 0x0800}}, 0x0008},
		{"ipv4 dst", FlowItem{Type: FlowItemIPv4, Spec: FlowIPv4{Dst: [4]byte{198, 18, 3, 2}}}, 0x020312c6},
		{"ipv6 proto", FlowItem{Type: FlowItemIPv6, Spec: FlowIPv6{Proto: 6}}, 6},
		{"tcp dst port", FlowItem{Type: FlowItemTCP, Spec: FlowTCP{DstPort: 0x1451}}, 0x5114},
		{"udp src port", FlowItem{Type: FlowItemUDP, Spec: FlowUDP{SrcPort: 0x0102}}, 0x0201},
		{"raw length", FlowItem{Type: FlowItemRaw, Spec: FlowRaw{Pattern: []byte{1, 2, 3}}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := MarshalFlowRule(FlowAttr{}, []FlowItem{tt.in}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Free()
			if got := r.cProbeSpec(0); got != tt.want {
				t.Errorf("C field = %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestFlowMarshalEndTerminated(t *testing.T) {
	attr, pat, act := joinTokenRule()
	pat = append(pat, FlowItem{Type: FlowItemEnd})
	act = append(act, FlowAction{Type: FlowActionEnd})
	r, err := MarshalFlowRule(attr, pat, act)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	_, gotPat, gotAct, err := r.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if len(gotPat) != len(pat)-1 || len(gotAct) != len(act)-1 {
		t.Errorf("decoded %d items, %d actions; want %d, %d (one END each)", len(gotPat), len(gotAct), len(pat)-1, len(act)-1)
	}
}

func TestFlowMarshalErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern []FlowItem
		actions []FlowAction
		want    string
	}{
		{"spec of wrong type", []FlowItem{{Type: FlowItemTCP, Spec: FlowUDP{}}}, nil, "got a UDP value for a TCP item"},
		{"mask of wrong type", []FlowItem{{Type: FlowItemIPv4, Mask: FlowIPv6{}}}, nil, "got a IPV6 value for a IPV4 item"},
		{"queue without conf", nil, []FlowAction{{Type: FlowActionQueue}}, "QUEUE needs a configuration"},
		{"conf of wrong type", nil, []FlowAction{{Type: FlowActionRSS, Conf: FlowQueue{}}}, "got a QUEUE configuration for a RSS action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := MarshalFlowRule(FlowAttr{Ingress: true}, tt.pattern, tt.actions)
			if err == nil {
				r.Free()
				t.Fatal("MarshalFlowRule succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestFlowUnsupported checks that ports without rte_flow (net_null,
// net_ring; af_packet and af_xdp behave the same) fail clearly.
func TestFlowUnsupported(t *testing.T) {
	attr, pat, act := joinTokenRule()
	for _, name := range []string{"net_null0", "net_ring0"} {
		t.Run(name, func(t *testing.T) {
			p := testPort(t, name)
			err := p.FlowValidate(attr, pat, act)
			var fe *FlowError
			if !errors.As(err, &fe) {
				t.Fatalf("FlowValidate = %v, want a *FlowError", err)
			}
			if !errors.Is(err, syscall.ENOSYS) {
				t.Errorf("FlowValidate = %v, want ENOSYS", err)
			}
			if !strings.Contains(err.Error(), "rte_flow_validate(port") || fe.Message == "" {
				t.Errorf("error %q lacks the call or the PMD's message", err)
			}
			t.Logf("FlowValidate on %s: %v", name, err)
			if _, err := p.FlowCreate(attr, pat, act); !errors.Is(err, syscall.ENOSYS) {
				t.Errorf("FlowCreate = %v, want ENOSYS", err)
			}
			if err := p.FlowFlush(); !errors.Is(err, syscall.ENOSYS) {
				t.Errorf("FlowFlush = %v, want ENOSYS", err)
			}
		})
	}
}
