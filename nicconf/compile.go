package nicconf

import (
	"errors"
	"fmt"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
)

// RawRelativeBase is the length of the TCP item's header (struct
// rte_tcp_hdr, no options): a RAW item with relative=1 after a TCP item
// counts its offset from the end of those 20 bytes, so a steering RAW spec
// at Offset bytes from the start of the TCP header compiles to offset
// Offset-RawRelativeBase. The token rules pin the TCP data offset, so the
// option bytes sit at a fixed place either way.
const RawRelativeBase = 20

// RSS hash types of ethdev that dataplane/dpdk does not name
// (rte_ethdev.h, DPDK 22.11); TestRSSTypeBits checks them against RSSIP.
const (
	rssNonfragIPv4Other = uint64(1) << 7  // RTE_ETH_RSS_NONFRAG_IPV4_OTHER
	rssNonfragIPv6Other = uint64(1) << 13 // RTE_ETH_RSS_NONFRAG_IPV6_OTHER
)

// RSSTypes returns the RTE_ETH_RSS_* bits of a steering hash-input set:
// addresses of every IPv4/IPv6 packet (fragments and non-TCP included) and
// the 4-tuple of non-fragmented TCP. IPv6 extension headers are not hashed
// (steering does not walk them).
func RSSTypes(h steering.HashTypes) uint64 {
	var t uint64
	if h&steering.HashIPv4 != 0 {
		t |= dpdk.RSSIPv4 | dpdk.RSSFragIPv4 | rssNonfragIPv4Other
	}
	if h&steering.HashTCPv4 != 0 {
		t |= dpdk.RSSNonfragIPv4TCP
	}
	if h&steering.HashIPv6 != 0 {
		t |= dpdk.RSSIPv6 | dpdk.RSSFragIPv6 | rssNonfragIPv6Other
	}
	if h&steering.HashTCPv6 != 0 {
		t |= dpdk.RSSNonfragIPv6TCP
	}
	return t
}

// ErrCompile is wrapped by every error Compile returns: the rule cannot be
// expressed in rte_flow (a malformed rule; a port refusing a rule is a
// FlowValidate error instead).
var ErrCompile = errors.New("nicconf: rule cannot be compiled to rte_flow")

// Compile translates a steering rule into the rte_flow pattern, actions and
// attributes that express it, without touching a port:
//
//   - attributes: ingress, group 0, the rule's priority (lower wins, as in
//     steering);
//   - ETH, IPV4, IPV6, TCP items: spec and mask from the steering spec,
//     host order, the spec ANDed with the mask (some PMDs refuse spec bits
//     outside the mask); an item with all-zero masks gets no spec and no
//     mask and matches any packet of its protocol;
//   - RAW (the MP_JOIN token): relative=1, search=0, offset
//     Offset-RawRelativeBase; its mask has relative, search, offset and
//     limit all ones and the per-byte pattern mask; it must follow a TCP
//     item;
//   - actions QUEUE (index), DROP, and RSS: Toeplitz (not ethdev's
//     SYMMETRIC_TOEPLITZ, which hashes differently from the software
//     classifier: symmetry comes from the 16-bit-periodic key), level 0,
//     RSSTypes of the hash inputs, the key (nil: the port's key) and the
//     queue list.
//
// It fails, wrapping ErrCompile, on an unknown item or action type, an
// empty action list, a symmetric RSS action without its key, a RAW item not right after a TCP item or reaching
// into the TCP header, a RAW mask of another length than its pattern, or a
// queue index over 65535.
func Compile(r steering.Rule) ([]dpdk.FlowItem, []dpdk.FlowAction, dpdk.FlowAttr, error) {
	attr := dpdk.FlowAttr{Ingress: true, Priority: r.Priority}
	pattern := make([]dpdk.FlowItem, 0, len(r.Pattern))
	for i := range r.Pattern {
		it := &r.Pattern[i]
		var prev steering.ItemType
		if i > 0 {
			prev = r.Pattern[i-1].Type
		}
		fi, err := compileItem(it, prev)
		if err != nil {
			return nil, nil, attr, fmt.Errorf("%w: %v rule (core %d): pattern item %d (%v): %v", ErrCompile, r.Kind, r.Core, i, it.Type, err)
		}
		pattern = append(pattern, fi)
	}
	if len(r.Actions) == 0 {
		return nil, nil, attr, fmt.Errorf("%w: %v rule (core %d): no action", ErrCompile, r.Kind, r.Core)
	}
	actions := make([]dpdk.FlowAction, 0, len(r.Actions))
	for i := range r.Actions {
		a, err := compileAction(&r.Actions[i])
		if err != nil {
			return nil, nil, attr, fmt.Errorf("%w: %v rule (core %d): action %d (%v): %v", ErrCompile, r.Kind, r.Core, i, r.Actions[i].Type, err)
		}
		actions = append(actions, a)
	}
	return pattern, actions, attr, nil
}

func compileItem(it *steering.Item, prev steering.ItemType) (dpdk.FlowItem, error) {
	switch it.Type {
	case steering.ItemETH:
		s := it.ETH
		if s.TypeMask == 0 {
			return dpdk.FlowItem{Type: dpdk.FlowItemETH}, nil
		}
		return dpdk.FlowItem{
			Type: dpdk.FlowItemETH,
			Spec: dpdk.FlowETH{EtherType: s.Type & s.TypeMask},
			Mask: dpdk.FlowETH{EtherType: s.TypeMask},
		}, nil
	case steering.ItemIPv4:
		s := it.IPv4
		if s.SrcMask == ([4]byte{}) && s.DstMask == ([4]byte{}) && s.ProtoMask == 0 {
			return dpdk.FlowItem{Type: dpdk.FlowItemIPv4}, nil
		}
		spec := dpdk.FlowIPv4{Proto: s.Proto & s.ProtoMask}
		for i := range spec.Src {
			spec.Src[i] = s.Src[i] & s.SrcMask[i]
			spec.Dst[i] = s.Dst[i] & s.DstMask[i]
		}
		return dpdk.FlowItem{
			Type: dpdk.FlowItemIPv4,
			Spec: spec,
			Mask: dpdk.FlowIPv4{Proto: s.ProtoMask, Src: s.SrcMask, Dst: s.DstMask},
		}, nil
	case steering.ItemIPv6:
		s := it.IPv6
		if s.SrcMask == ([16]byte{}) && s.DstMask == ([16]byte{}) && s.ProtoMask == 0 {
			return dpdk.FlowItem{Type: dpdk.FlowItemIPv6}, nil
		}
		spec := dpdk.FlowIPv6{Proto: s.Proto & s.ProtoMask}
		for i := range spec.Src {
			spec.Src[i] = s.Src[i] & s.SrcMask[i]
			spec.Dst[i] = s.Dst[i] & s.DstMask[i]
		}
		return dpdk.FlowItem{
			Type: dpdk.FlowItemIPv6,
			Spec: spec,
			Mask: dpdk.FlowIPv6{Proto: s.ProtoMask, Src: s.SrcMask, Dst: s.DstMask},
		}, nil
	case steering.ItemTCP:
		s := it.TCP
		if s.SrcPortMask == 0 && s.DstPortMask == 0 && s.DataOffMask == 0 && s.FlagsMask == 0 {
			return dpdk.FlowItem{Type: dpdk.FlowItemTCP}, nil
		}
		return dpdk.FlowItem{
			Type: dpdk.FlowItemTCP,
			Spec: dpdk.FlowTCP{
				SrcPort: s.SrcPort & s.SrcPortMask, DstPort: s.DstPort & s.DstPortMask,
				DataOff: s.DataOff & s.DataOffMask, Flags: s.Flags & s.FlagsMask,
			},
			Mask: dpdk.FlowTCP{
				SrcPort: s.SrcPortMask, DstPort: s.DstPortMask,
				DataOff: s.DataOffMask, Flags: s.FlagsMask,
			},
		}, nil
	case steering.ItemRaw:
		s := it.Raw
		if prev != steering.ItemTCP {
			return dpdk.FlowItem{}, fmt.Errorf("RAW offsets count from the TCP header, but the previous item is %v", prev)
		}
		if s.Offset < RawRelativeBase {
			return dpdk.FlowItem{}, fmt.Errorf("RAW offset %d is inside the %d-byte fixed TCP header (match it with the TCP item)", s.Offset, RawRelativeBase)
		}
		if len(s.Mask) != len(s.Pattern) || len(s.Pattern) == 0 {
			return dpdk.FlowItem{}, fmt.Errorf("RAW pattern of %d bytes with a mask of %d", len(s.Pattern), len(s.Mask))
		}
		if s.Offset-RawRelativeBase > 0x7fffffff {
			return dpdk.FlowItem{}, fmt.Errorf("RAW offset %d out of range", s.Offset)
		}
		pat := make([]byte, len(s.Pattern))
		for i := range pat {
			pat[i] = s.Pattern[i] & s.Mask[i]
		}
		return dpdk.FlowItem{
			Type: dpdk.FlowItemRaw,
			Spec: dpdk.FlowRaw{Relative: true, Offset: int32(s.Offset - RawRelativeBase), Pattern: pat},
			Mask: dpdk.FlowRaw{Relative: true, Search: true, Offset: -1, Limit: 0xffff, Pattern: append([]byte(nil), s.Mask...)},
		}, nil
	}
	return dpdk.FlowItem{}, fmt.Errorf("unknown item type %d", it.Type)
}

func compileAction(a *steering.Action) (dpdk.FlowAction, error) {
	switch a.Type {
	case steering.ActionQueue:
		if a.Queue < 0 || a.Queue > 0xffff {
			return dpdk.FlowAction{}, fmt.Errorf("queue %d out of range", a.Queue)
		}
		return dpdk.FlowAction{Type: dpdk.FlowActionQueue, Conf: dpdk.FlowQueue{Index: uint16(a.Queue)}}, nil
	case steering.ActionDrop:
		return dpdk.FlowAction{Type: dpdk.FlowActionDrop}, nil
	case steering.ActionRSS:
		s := &a.RSS
		if len(s.Queues) == 0 {
			return dpdk.FlowAction{}, errors.New("RSS over no queue")
		}
		if s.Symmetric && len(s.Key) == 0 {
			return dpdk.FlowAction{}, errors.New("symmetric RSS without its key (the port's own key is not symmetric)")
		}
		qs := make([]uint16, len(s.Queues))
		for i, q := range s.Queues {
			if q < 0 || q > 0xffff {
				return dpdk.FlowAction{}, fmt.Errorf("RSS queue %d out of range", q)
			}
			qs[i] = uint16(q)
		}
		rss := dpdk.FlowRSS{Func: dpdk.HashToeplitz, Types: RSSTypes(s.Types), Queues: qs}
		if len(s.Key) > 0 {
			rss.Key = append([]byte(nil), s.Key...)
		}
		return dpdk.FlowAction{Type: dpdk.FlowActionRSS, Conf: rss}, nil
	}
	return dpdk.FlowAction{}, fmt.Errorf("unknown action type %d", a.Type)
}
