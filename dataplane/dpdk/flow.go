package dpdk

/*
#include <rte_errno.h>
#include <rte_flow.h>

static int fcp_flow_validate(uint16_t port, const struct rte_flow_attr *attr,
		const struct rte_flow_item *pattern, const struct rte_flow_action *actions,
		int *etype, const char **msg) {
	struct rte_flow_error e = { 0 };
	int ret = rte_flow_validate(port, attr, pattern, actions, &e);
	*etype = e.type;
	*msg = e.message;
	return ret;
}

static struct rte_flow *fcp_flow_create(uint16_t port, const struct rte_flow_attr *attr,
		const struct rte_flow_item *pattern, const struct rte_flow_action *actions,
		int *etype, const char **msg, int *err) {
	struct rte_flow_error e = { 0 };
	struct rte_flow *f = rte_flow_create(port, attr, pattern, actions, &e);
	*etype = e.type;
	*msg = e.message;
	*err = f == NULL ? rte_errno : 0;
	return f;
}

static int fcp_flow_destroy(uint16_t port, struct rte_flow *f, int *etype, const char **msg) {
	struct rte_flow_error e = { 0 };
	int ret = rte_flow_destroy(port, f, &e);
	*etype = e.type;
	*msg = e.message;
	return ret;
}

static int fcp_flow_flush(uint16_t port, int *etype, const char **msg) {
	struct rte_flow_error e = { 0 };
	int ret = rte_flow_flush(port, &e);
	*etype = e.type;
	*msg = e.message;
	return ret;
}
*/
import "C"

import (
	"fmt"
	"syscall"
)

// FlowItemType is a pattern item kind (enum rte_flow_item_type).
type FlowItemType int

// Pattern item kinds. Each but FlowItemEnd takes a spec and mask of the
// matching Go type: FlowETH, FlowIPv4, FlowIPv6, FlowTCP, FlowUDP, FlowRaw.
const (
	FlowItemEnd  FlowItemType = C.RTE_FLOW_ITEM_TYPE_END
	FlowItemETH  FlowItemType = C.RTE_FLOW_ITEM_TYPE_ETH
	FlowItemIPv4 FlowItemType = C.RTE_FLOW_ITEM_TYPE_IPV4
	FlowItemIPv6 FlowItemType = C.RTE_FLOW_ITEM_TYPE_IPV6
	FlowItemTCP  FlowItemType = C.RTE_FLOW_ITEM_TYPE_TCP
	FlowItemUDP  FlowItemType = C.RTE_FLOW_ITEM_TYPE_UDP
	FlowItemRaw  FlowItemType = C.RTE_FLOW_ITEM_TYPE_RAW
)

// String returns the item kind's name.
func (t FlowItemType) String() string {
	switch t {
	case FlowItemEnd:
		return "END"
	case FlowItemETH:
		return "ETH"
	case FlowItemIPv4:
		return "IPV4"
	case FlowItemIPv6:
		return "IPV6"
	case FlowItemTCP:
		return "TCP"
	case FlowItemUDP:
		return "UDP"
	case FlowItemRaw:
		return "RAW"
	}
	return fmt.Sprintf("FlowItemType(%d)", int(t))
}

// FlowItem is one element of a flow pattern (struct rte_flow_item). Spec and
// Mask are nil or a value of the Go type that matches Type; a nil Spec
// matches any packet with that layer and a nil Mask asks for the PMD's
// default mask. Ranges (the item's "last" field) are not supported.
type FlowItem struct {
	Type FlowItemType
	Spec FlowSpec
	Mask FlowSpec
}

// FlowSpec is the spec or mask of a pattern item: FlowETH, FlowIPv4,
// FlowIPv6, FlowTCP, FlowUDP or FlowRaw.
type FlowSpec interface {
	flowItemType() FlowItemType
}

// FlowETH matches an Ethernet header (struct rte_flow_item_eth; has_vlan is
// left zero). Multi-byte fields are in host order; marshalling converts
// them to network order.
type FlowETH struct {
	Dst, Src  [6]byte
	EtherType uint16
}

// FlowIPv4 matches an IPv4 header (struct rte_flow_item_ipv4), host order.
type FlowIPv4 struct {
	VersionIHL     uint8
	TOS            uint8
	TotalLength    uint16
	PacketID       uint16
	FragmentOffset uint16
	TTL            uint8
	Proto          uint8
	Checksum       uint16
	Src, Dst       [4]byte
}

// FlowIPv6 matches an IPv6 header (struct rte_flow_item_ipv6; the extension
// header flags are left zero), host order.
type FlowIPv6 struct {
	VTCFlow    uint32 // version, traffic class, flow label
	PayloadLen uint16
	Proto      uint8
	HopLimit   uint8
	Src, Dst   [16]byte
}

// FlowTCP matches a TCP header (struct rte_flow_item_tcp), host order.
type FlowTCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	DataOff          uint8 // data offset in the high nibble
	Flags            uint8
	Window           uint16
	Checksum         uint16
	Urgent           uint16
}

// FlowUDP matches a UDP header (struct rte_flow_item_udp), host order.
type FlowUDP struct {
	SrcPort, DstPort uint16
	Length           uint16
	Checksum         uint16
}

// FlowRaw matches bytes at an offset (struct rte_flow_item_raw). In a mask,
// Pattern holds the per-byte mask and the other fields mask their
// counterparts. The marshalled length is len(Pattern).
type FlowRaw struct {
	Relative bool  // offset counts from the end of the previous item
	Search   bool  // look for Pattern anywhere from Offset up to Limit
	Offset   int32 // where Pattern starts (or where the search begins)
	Limit    uint16
	Pattern  []byte
}

func (FlowETH) flowItemType() FlowItemType  { return FlowItemETH }
func (FlowIPv4) flowItemType() FlowItemType { return FlowItemIPv4 }
func (FlowIPv6) flowItemType() FlowItemType { return FlowItemIPv6 }
func (FlowTCP) flowItemType() FlowItemType  { return FlowItemTCP }
func (FlowUDP) flowItemType() FlowItemType  { return FlowItemUDP }
func (FlowRaw) flowItemType() FlowItemType  { return FlowItemRaw }

// FlowActionType is an action kind (enum rte_flow_action_type).
type FlowActionType int

// Action kinds. FlowActionQueue takes a FlowQueue, FlowActionRSS a FlowRSS,
// FlowActionMark a FlowMark; the others take no configuration.
const (
	FlowActionEnd      FlowActionType = C.RTE_FLOW_ACTION_TYPE_END
	FlowActionQueue    FlowActionType = C.RTE_FLOW_ACTION_TYPE_QUEUE
	FlowActionRSS      FlowActionType = C.RTE_FLOW_ACTION_TYPE_RSS
	FlowActionMark     FlowActionType = C.RTE_FLOW_ACTION_TYPE_MARK
	FlowActionDrop     FlowActionType = C.RTE_FLOW_ACTION_TYPE_DROP
	FlowActionPassthru FlowActionType = C.RTE_FLOW_ACTION_TYPE_PASSTHRU
)

// String returns the action kind's name.
func (t FlowActionType) String() string {
	switch t {
	case FlowActionEnd:
		return "END"
	case FlowActionQueue:
		return "QUEUE"
	case FlowActionRSS:
		return "RSS"
	case FlowActionMark:
		return "MARK"
	case FlowActionDrop:
		return "DROP"
	case FlowActionPassthru:
		return "PASSTHRU"
	}
	return fmt.Sprintf("FlowActionType(%d)", int(t))
}

// FlowAction is one element of a flow's action list (struct
// rte_flow_action). Conf is nil or the Go type matching Type.
type FlowAction struct {
	Type FlowActionType
	Conf FlowActionConf
}

// FlowActionConf is an action's configuration: FlowQueue, FlowRSS or
// FlowMark.
type FlowActionConf interface {
	flowActionType() FlowActionType
}

// FlowQueue sends matching packets to one RX queue (struct
// rte_flow_action_queue).
type FlowQueue struct {
	Index uint16
}

// HashFunction is an RSS hash function (enum rte_eth_hash_function).
type HashFunction int

// RSS hash functions.
const (
	HashDefault           HashFunction = C.RTE_ETH_HASH_FUNCTION_DEFAULT
	HashToeplitz          HashFunction = C.RTE_ETH_HASH_FUNCTION_TOEPLITZ
	HashSimpleXOR         HashFunction = C.RTE_ETH_HASH_FUNCTION_SIMPLE_XOR
	HashSymmetricToeplitz HashFunction = C.RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ
)

// FlowRSS spreads matching packets over Queues by hash (struct
// rte_flow_action_rss).
type FlowRSS struct {
	Func   HashFunction
	Level  uint32 // 0: PMD default, 1: outermost header
	Types  uint64 // RSS* bits
	Key    []byte // nil: the PMD's key
	Queues []uint16
}

// FlowMark tags matching packets with ID, read back with Mbuf.FDIRID
// (struct rte_flow_action_mark).
type FlowMark struct {
	ID uint32
}

func (FlowQueue) flowActionType() FlowActionType { return FlowActionQueue }
func (FlowRSS) flowActionType() FlowActionType   { return FlowActionRSS }
func (FlowMark) flowActionType() FlowActionType  { return FlowActionMark }

// FlowAttr are a rule's attributes (struct rte_flow_attr).
type FlowAttr struct {
	Group    uint32
	Priority uint32
	Ingress  bool
	Egress   bool
	Transfer bool
}

// FlowError is an rte_flow call's failure: the errno and the PMD's
// rte_flow_error. errors.Is(err, syscall.ENOSYS) holds when the port has no
// flow API at all, syscall.ENOTSUP when it rejects this rule.
type FlowError struct {
	Op      string // "rte_flow_validate", "rte_flow_create", ...
	Port    Port
	Type    int    // enum rte_flow_error_type: which part of the rule is at fault
	Message string // the PMD's message, possibly empty
	Errno   Errno
}

// Error describes the failure: the errno text, the PMD's message when it
// says more, and a hint when the port has no flow API.
func (e *FlowError) Error() string {
	s := fmt.Sprintf("dpdk: %s(port %d): %v", e.Op, e.Port, e.Errno)
	if e.Message != "" && e.Message != e.Errno.Error() {
		s += ": " + e.Message
	}
	s += fmt.Sprintf(" (rte_flow_error type %d)", e.Type)
	if e.Errno.Is(syscall.ENOSYS) {
		s += "; the port's driver has no rte_flow support: use software steering"
	}
	return s
}

// Unwrap returns the Errno.
func (e *FlowError) Unwrap() error { return e.Errno }

func flowErr(op string, p Port, ret C.int, etype C.int, msg *C.char) error {
	e := &FlowError{Op: op, Port: p, Type: int(etype), Errno: Errno(-ret)}
	if ret > 0 {
		e.Errno = Errno(ret)
	}
	if msg != nil {
		e.Message = C.GoString(msg)
	}
	return e
}

// Flow is a rule installed on a port (struct rte_flow).
type Flow struct {
	port Port
	f    *C.struct_rte_flow
}

// Port returns the port the flow is installed on.
func (f *Flow) Port() Port { return f.port }

// FlowValidate asks the port whether it would accept the rule
// (rte_flow_validate). pattern and actions need not end with END.
func (p Port) FlowValidate(attr FlowAttr, pattern []FlowItem, actions []FlowAction) error {
	r, err := MarshalFlowRule(attr, pattern, actions)
	if err != nil {
		return fmt.Errorf("dpdk: flow validate on port %d: %w", p, err)
	}
	defer r.Free()
	var etype C.int
	var msg *C.char
	if ret := C.fcp_flow_validate(C.uint16_t(p), r.attr, r.pattern, r.actions, &etype, &msg); ret != 0 {
		return flowErr("rte_flow_validate", p, ret, etype, msg)
	}
	return nil
}

// FlowCreate installs the rule (rte_flow_create). Validate it first to get
// the more precise error.
func (p Port) FlowCreate(attr FlowAttr, pattern []FlowItem, actions []FlowAction) (*Flow, error) {
	r, err := MarshalFlowRule(attr, pattern, actions)
	if err != nil {
		return nil, fmt.Errorf("dpdk: flow create on port %d: %w", p, err)
	}
	defer r.Free()
	var etype, e C.int
	var msg *C.char
	f := C.fcp_flow_create(C.uint16_t(p), r.attr, r.pattern, r.actions, &etype, &msg, &e)
	if f == nil {
		return nil, flowErr("rte_flow_create", p, e, etype, msg)
	}
	return &Flow{port: p, f: f}, nil
}

// Destroy removes the rule (rte_flow_destroy).
func (f *Flow) Destroy() error {
	var etype C.int
	var msg *C.char
	if ret := C.fcp_flow_destroy(C.uint16_t(f.port), f.f, &etype, &msg); ret != 0 {
		return flowErr("rte_flow_destroy", f.port, ret, etype, msg)
	}
	f.f = nil
	return nil
}

// FlowFlush removes every rule on the port (rte_flow_flush).
func (p Port) FlowFlush() error {
	var etype C.int
	var msg *C.char
	if ret := C.fcp_flow_flush(C.uint16_t(p), &etype, &msg); ret != 0 {
		return flowErr("rte_flow_flush", p, ret, etype, msg)
	}
	return nil
}
