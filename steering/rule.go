package steering

import "encoding/binary"

// ItemType names a pattern item, after rte_flow_item_type.
type ItemType uint8

// Pattern item types.
const (
	ItemETH  ItemType = iota + 1 // RTE_FLOW_ITEM_TYPE_ETH
	ItemIPv4                     // RTE_FLOW_ITEM_TYPE_IPV4
	ItemIPv6                     // RTE_FLOW_ITEM_TYPE_IPV6
	ItemTCP                      // RTE_FLOW_ITEM_TYPE_TCP
	ItemRaw                      // RTE_FLOW_ITEM_TYPE_RAW
)

// String returns the rte_flow name of the item type.
func (t ItemType) String() string {
	switch t {
	case ItemETH:
		return "eth"
	case ItemIPv4:
		return "ipv4"
	case ItemIPv6:
		return "ipv6"
	case ItemTCP:
		return "tcp"
	case ItemRaw:
		return "raw"
	}
	return "invalid"
}

// ETHSpec matches the EtherType (spec and mask, host order). MACs are not
// matched: the rules steer, they do not filter.
type ETHSpec struct {
	Type, TypeMask uint16
}

// IPv4Spec matches IPv4 header fields: a field matches when packet & mask
// == spec & mask, as in rte_flow_item_ipv4.
type IPv4Spec struct {
	Src, Dst         [4]byte
	SrcMask, DstMask [4]byte
	Proto, ProtoMask uint8
}

// IPv6Spec matches IPv6 header fields (Proto is the next header).
type IPv6Spec struct {
	Src, Dst         [16]byte
	SrcMask, DstMask [16]byte
	Proto, ProtoMask uint8
}

// TCPSpec matches TCP header fields. DataOff is the header byte holding the
// data offset in its upper nibble (rte_flow's hdr.data_off); Flags the flag
// byte (hdr.tcp_flags).
type TCPSpec struct {
	SrcPort, DstPort         uint16
	SrcPortMask, DstPortMask uint16
	DataOff, DataOffMask     uint8
	Flags, FlagsMask         uint8
}

// RawSpec matches len(Pattern) bytes at Offset bytes from the start of the
// TCP header under Mask (same length as Pattern). rte_flow's RAW item with
// relative=1 counts its offset from the end of the previous item (the
// 20-byte TCP header), so nicconf passes Offset-20 there.
type RawSpec struct {
	Offset        int
	Pattern, Mask []byte
}

// Item is one element of a rule's pattern: Type says which of the specs is
// meaningful. An item with all-zero masks matches any packet of its
// protocol.
type Item struct {
	Type ItemType
	ETH  ETHSpec
	IPv4 IPv4Spec
	IPv6 IPv6Spec
	TCP  TCPSpec
	Raw  RawSpec
}

// ActionType names a rule action, after rte_flow_action_type.
type ActionType uint8

// Action types.
const (
	ActionQueue ActionType = iota + 1 // RTE_FLOW_ACTION_TYPE_QUEUE
	ActionRSS                         // RTE_FLOW_ACTION_TYPE_RSS
	ActionDrop                        // RTE_FLOW_ACTION_TYPE_DROP
)

// String returns the rte_flow name of the action type.
func (t ActionType) String() string {
	switch t {
	case ActionQueue:
		return "queue"
	case ActionRSS:
		return "rss"
	case ActionDrop:
		return "drop"
	}
	return "invalid"
}

// HashTypes is a set of RSS hash inputs (RTE_ETH_RSS_*).
type HashTypes uint8

// RSS hash inputs.
const (
	HashIPv4    HashTypes = 1 << iota // src and dst address of IPv4 packets (RTE_ETH_RSS_IPV4, FRAG_IPV4, NONFRAG_IPV4_OTHER)
	HashTCPv4                         // IPv4 TCP 4-tuple (RTE_ETH_RSS_NONFRAG_IPV4_TCP)
	HashIPv6                          // src and dst address of IPv6 packets
	HashTCPv6                         // IPv6 TCP 4-tuple (RTE_ETH_RSS_NONFRAG_IPV6_TCP)
	HashDefault = HashIPv4 | HashTCPv4 | HashIPv6 | HashTCPv6
)

// RSSSpec is the RSS action's configuration. Symmetric says the key is
// 16-bit periodic so both directions of a flow hash alike; Key nil means
// the port's own key. The queue of a packet is the port's redirection
// table (Ruleset.RETA) at the hash's low bits.
type RSSSpec struct {
	Symmetric bool
	Key       []byte
	Queues    []int
	Types     HashTypes
}

// Action is one element of a rule's action list: Type says which field is
// meaningful.
type Action struct {
	Type  ActionType
	Queue int
	RSS   RSSSpec
}

// Queue returns the action that sends a packet to receive queue n.
func Queue(n int) Action { return Action{Type: ActionQueue, Queue: n} }

// RSS returns the action that spreads packets over queues by the Toeplitz
// hash of HashDefault inputs, with the port's key (Ruleset fills in its key).
func RSS(symmetric bool, queues []int) Action {
	return Action{Type: ActionRSS, RSS: RSSSpec{Symmetric: symmetric, Queues: append([]int(nil), queues...), Types: HashDefault}}
}

// Drop returns the action that drops a packet.
func Drop() Action { return Action{Type: ActionDrop} }

// RuleKind says why a rule exists.
type RuleKind uint8

// Rule kinds, from the most to the least specific.
const (
	RuleSubflow   RuleKind = iota + 1 // a join subflow's 5-tuple, to its owner
	RuleJoinToken                     // MP_JOIN SYNs whose token names a core, to that core
	RuleDefault                       // everything else: symmetric RSS
)

// String returns a short name for metrics and logs.
func (k RuleKind) String() string {
	switch k {
	case RuleSubflow:
		return "subflow"
	case RuleJoinToken:
		return "join-token"
	case RuleDefault:
		return "default-rss"
	}
	return "invalid"
}

// Rule priorities, rte_flow style: a lower value wins. The kinds do not
// overlap on the packets they exist for (a join SYN is matched by its
// token before its subflow is accepted, and both name the same core
// after), so the order matters only for odd packets.
const (
	PrioritySubflow   = 0
	PriorityJoinToken = 1
	PriorityDefault   = 2
)

// RuleID names a subflow rule for removal. The zero RuleID is never
// issued.
type RuleID uint32

// Rule is a steering rule as plain data: a pattern (all items must match)
// and an action list, compiled to rte_flow by nicconf and evaluated in
// software by Classifier. Core is the core the rule sends packets to, or
// -1 for the RSS default.
type Rule struct {
	Kind     RuleKind
	ID       RuleID
	Priority uint32
	Core     int
	Pattern  []Item
	Actions  []Action
}

// Matches reports whether an IP packet (no link-layer header) matches the
// rule's pattern as a NIC matches it: at fixed offsets, with no TCP option
// parsing. The ETH item's EtherType is checked against the IP version.
// It is the model of a capable NIC the tests compare Classifier with; it
// allocates nothing but is not meant for the hot path.
func (r *Rule) Matches(pkt []byte) bool {
	var p ipInfo
	class := parse(pkt, &p)
	for i := range r.Pattern {
		if !itemMatches(&r.Pattern[i], pkt, class, &p) {
			return false
		}
	}
	return true
}

func itemMatches(it *Item, pkt []byte, class pktClass, p *ipInfo) bool {
	switch it.Type {
	case ItemETH:
		if class == classNotIP {
			return it.ETH.TypeMask == 0
		}
		et := uint16(0x0800)
		if pkt[0]>>4 == 6 {
			et = 0x86dd
		}
		return et&it.ETH.TypeMask == it.ETH.Type&it.ETH.TypeMask
	case ItemIPv4:
		if class < classMalformed || p.v6 {
			return false
		}
		s := &it.IPv4
		return masked(p.src[:4], s.Src[:], s.SrcMask[:]) && masked(p.dst[:4], s.Dst[:], s.DstMask[:]) &&
			pkt[9]&s.ProtoMask == s.Proto&s.ProtoMask
	case ItemIPv6:
		if class < classMalformed || !p.v6 {
			return false
		}
		s := &it.IPv6
		return masked(p.src[:], s.Src[:], s.SrcMask[:]) && masked(p.dst[:], s.Dst[:], s.DstMask[:]) &&
			pkt[6]&s.ProtoMask == s.Proto&s.ProtoMask
	case ItemTCP:
		if class != classTCP {
			return false
		}
		s := &it.TCP
		sp, dp := p.ports()
		return sp&s.SrcPortMask == s.SrcPort&s.SrcPortMask && dp&s.DstPortMask == s.DstPort&s.DstPortMask &&
			p.tcp[12]&s.DataOffMask == s.DataOff&s.DataOffMask && p.tcp[13]&s.FlagsMask == s.Flags&s.FlagsMask
	case ItemRaw:
		if class != classTCP {
			return false
		}
		s := &it.Raw
		if s.Offset < 0 || len(s.Mask) != len(s.Pattern) || s.Offset+len(s.Pattern) > len(p.tcp) {
			return false
		}
		return masked(p.tcp[s.Offset:s.Offset+len(s.Pattern)], s.Pattern, s.Mask)
	}
	return false
}

// masked reports whether got & mask == want & mask byte by byte.
func masked(got, want, mask []byte) bool {
	for i := range mask {
		if got[i]&mask[i] != want[i]&mask[i] {
			return false
		}
	}
	return true
}

// joinRawSpec returns the RAW item matching an MP_JOIN SYN option at
// offset whose token's owner field (mask) is core.
func joinRawSpec(offset int, core uint32, mask uint32) RawSpec {
	pat := []byte{tcpOptMPTCP, optLenJoinSYN, mptcpSubJoin << 4, 0, 0, 0, 0, 0}
	msk := []byte{0xff, 0xff, 0xf0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(pat[joinTokenOffset:], core)
	binary.BigEndian.PutUint32(msk[joinTokenOffset:], mask)
	return RawSpec{Offset: offset, Pattern: pat, Mask: msk}
}
