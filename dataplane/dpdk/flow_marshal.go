package dpdk

/*
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <rte_flow.h>

enum {
	fcp_off_eth_hdr = offsetof(struct rte_flow_item_eth, hdr),
	fcp_off_ipv4_hdr = offsetof(struct rte_flow_item_ipv4, hdr),
	fcp_off_ipv6_hdr = offsetof(struct rte_flow_item_ipv6, hdr),
	fcp_off_tcp_hdr = offsetof(struct rte_flow_item_tcp, hdr),
	fcp_off_udp_hdr = offsetof(struct rte_flow_item_udp, hdr),
};

static void fcp_attr_set(struct rte_flow_attr *a, uint32_t group, uint32_t prio, int in, int out, int transfer) {
	memset(a, 0, sizeof(*a));
	a->group = group;
	a->priority = prio;
	a->ingress = in;
	a->egress = out;
	a->transfer = transfer;
}
static void fcp_attr_get(const struct rte_flow_attr *a, uint32_t *group, uint32_t *prio, int *in, int *out, int *transfer) {
	*group = a->group;
	*prio = a->priority;
	*in = a->ingress;
	*out = a->egress;
	*transfer = a->transfer;
}
static void fcp_raw_set(struct rte_flow_item_raw *r, int rel, int search, int32_t off, uint16_t limit,
		uint16_t len, const uint8_t *pattern) {
	memset(r, 0, sizeof(*r));
	r->relative = rel;
	r->search = search;
	r->offset = off;
	r->limit = limit;
	r->length = len;
	r->pattern = pattern;
}
static void fcp_raw_get(const struct rte_flow_item_raw *r, int *rel, int *search, int32_t *off,
		uint16_t *limit, uint16_t *len, const uint8_t **pattern) {
	*rel = r->relative;
	*search = r->search;
	*off = r->offset;
	*limit = r->limit;
	*len = r->length;
	*pattern = r->pattern;
}

// fcp_probe_spec reads one field of an item's spec by its C name, an oracle
// for the test that does not share the Go marshalling's offsets.
static uint64_t fcp_probe_spec(const struct rte_flow_item *it) {
	switch (it->type) {
	case RTE_FLOW_ITEM_TYPE_ETH:
		return ((const struct rte_flow_item_eth *)it->spec)->hdr.ether_type;
	case RTE_FLOW_ITEM_TYPE_IPV4:
		return ((const struct rte_flow_item_ipv4 *)it->spec)->hdr.dst_addr;
	case RTE_FLOW_ITEM_TYPE_IPV6:
		return ((const struct rte_flow_item_ipv6 *)it->spec)->hdr.proto;
	case RTE_FLOW_ITEM_TYPE_TCP:
		return ((const struct rte_flow_item_tcp *)it->spec)->hdr.dst_port;
	case RTE_FLOW_ITEM_TYPE_UDP:
		return ((const struct rte_flow_item_udp *)it->spec)->hdr.src_port;
	case RTE_FLOW_ITEM_TYPE_RAW:
		return ((const struct rte_flow_item_raw *)it->spec)->length;
	default:
		return 0;
	}
}
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// CFlowRule is a flow rule marshalled into C memory (struct rte_flow_attr
// and END-terminated arrays of struct rte_flow_item and struct
// rte_flow_action), as rte_flow_validate and rte_flow_create take it. Port
// methods marshal and free it themselves; it is exported so that callers can
// check what reaches DPDK with Decode. Free it when done.
type CFlowRule struct {
	attr    *C.struct_rte_flow_attr
	pattern *C.struct_rte_flow_item
	actions *C.struct_rte_flow_action
	allocs  []unsafe.Pointer
}

// cAlloc returns n zeroed bytes of C memory owned by r.
func (r *CFlowRule) cAlloc(n uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(n))
	if p == nil {
		panic("dpdk: calloc failed")
	}
	r.allocs = append(r.allocs, p)
	return p
}

// Free releases the C memory. The rule must not be used afterwards.
func (r *CFlowRule) Free() {
	for _, p := range r.allocs {
		C.free(p)
	}
	r.allocs = nil
	r.attr, r.pattern, r.actions = nil, nil, nil
}

// MarshalFlowRule copies a rule into C memory. pattern and actions need not
// end with END: one is appended if missing. It fails if a spec or
// configuration does not match its item or action type.
func MarshalFlowRule(attr FlowAttr, pattern []FlowItem, actions []FlowAction) (*CFlowRule, error) {
	r := &CFlowRule{}
	r.attr = (*C.struct_rte_flow_attr)(r.cAlloc(C.sizeof_struct_rte_flow_attr))
	C.fcp_attr_set(r.attr, C.uint32_t(attr.Group), C.uint32_t(attr.Priority),
		cBool(attr.Ingress), cBool(attr.Egress), cBool(attr.Transfer))

	np := len(pattern)
	if np == 0 || pattern[np-1].Type != FlowItemEnd {
		np++
	}
	r.pattern = (*C.struct_rte_flow_item)(r.cAlloc(uintptr(np) * C.sizeof_struct_rte_flow_item))
	items := unsafe.Slice(r.pattern, np)
	for i, it := range pattern {
		items[i]._type = uint32(it.Type)
		var err error
		if items[i].spec, err = r.marshalSpec(it.Type, it.Spec); err != nil {
			r.Free()
			return nil, fmt.Errorf("pattern item %d (%v) spec: %w", i, it.Type, err)
		}
		if items[i].mask, err = r.marshalSpec(it.Type, it.Mask); err != nil {
			r.Free()
			return nil, fmt.Errorf("pattern item %d (%v) mask: %w", i, it.Type, err)
		}
	}

	na := len(actions)
	if na == 0 || actions[na-1].Type != FlowActionEnd {
		na++
	}
	r.actions = (*C.struct_rte_flow_action)(r.cAlloc(uintptr(na) * C.sizeof_struct_rte_flow_action))
	acts := unsafe.Slice(r.actions, na)
	for i, a := range actions {
		acts[i]._type = uint32(a.Type)
		conf, err := r.marshalAction(a)
		if err != nil {
			r.Free()
			return nil, fmt.Errorf("action %d (%v): %w", i, a.Type, err)
		}
		acts[i].conf = conf
	}
	return r, nil
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Sizes of the wire headers at the start of each item struct.
const (
	flowETHHdrLen  = 14
	flowIPv4HdrLen = 20
	flowIPv6HdrLen = 40
	flowTCPHdrLen  = 20
	flowUDPHdrLen  = 8
)

func (r *CFlowRule) marshalSpec(t FlowItemType, s FlowSpec) (unsafe.Pointer, error) {
	if s == nil {
		return nil, nil
	}
	if s.flowItemType() != t {
		return nil, fmt.Errorf("got a %v value for a %v item", s.flowItemType(), t)
	}
	be := binary.BigEndian
	switch v := s.(type) {
	case FlowETH:
		p := r.cAlloc(C.sizeof_struct_rte_flow_item_eth)
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_eth_hdr)), flowETHHdrLen)
		copy(b[0:6], v.Dst[:])
		copy(b[6:12], v.Src[:])
		be.PutUint16(b[12:], v.EtherType)
		return p, nil
	case FlowIPv4:
		p := r.cAlloc(C.sizeof_struct_rte_flow_item_ipv4)
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_ipv4_hdr)), flowIPv4HdrLen)
		b[0], b[1] = v.VersionIHL, v.TOS
		be.PutUint16(b[2:], v.TotalLength)
		be.PutUint16(b[4:], v.PacketID)
		be.PutUint16(b[6:], v.FragmentOffset)
		b[8], b[9] = v.TTL, v.Proto
		be.PutUint16(b[10:], v.Checksum)
		copy(b[12:16], v.Src[:])
		copy(b[16:20], v.Dst[:])
		return p, nil
	case FlowIPv6:
		p := r.cAlloc(C.sizeof_struct_rte_flow_item_ipv6)
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_ipv6_hdr)), flowIPv6HdrLen)
		be.PutUint32(b[0:], v.VTCFlow)
		be.PutUint16(b[4:], v.PayloadLen)
		b[6], b[7] = v.Proto, v.HopLimit
		copy(b[8:24], v.Src[:])
		copy(b[24:40], v.Dst[:])
		return p, nil
	case FlowTCP:
		p := r.cAlloc(C.sizeof_struct_rte_flow_item_tcp)
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_tcp_hdr)), flowTCPHdrLen)
		be.PutUint16(b[0:], v.SrcPort)
		be.PutUint16(b[2:], v.DstPort)
		be.PutUint32(b[4:], v.Seq)
		be.PutUint32(b[8:], v.Ack)
		b[12], b[13] = v.DataOff, v.Flags
		be.PutUint16(b[14:], v.Window)
		be.PutUint16(b[16:], v.Checksum)
		be.PutUint16(b[18:], v.Urgent)
		return p, nil
	case FlowUDP:
		p := r.cAlloc(C.sizeof_struct_rte_flow_item_udp)
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_udp_hdr)), flowUDPHdrLen)
		be.PutUint16(b[0:], v.SrcPort)
		be.PutUint16(b[2:], v.DstPort)
		be.PutUint16(b[4:], v.Length)
		be.PutUint16(b[6:], v.Checksum)
		return p, nil
	case FlowRaw:
		if len(v.Pattern) > 0xffff {
			return nil, fmt.Errorf("RAW pattern of %d bytes is too long", len(v.Pattern))
		}
		p := r.cAlloc(C.sizeof_struct_rte_flow_item_raw)
		var pat unsafe.Pointer
		if len(v.Pattern) > 0 {
			pat = r.cAlloc(uintptr(len(v.Pattern)))
			copy(unsafe.Slice((*byte)(pat), len(v.Pattern)), v.Pattern)
		}
		C.fcp_raw_set((*C.struct_rte_flow_item_raw)(p), cBool(v.Relative), cBool(v.Search),
			C.int32_t(v.Offset), C.uint16_t(v.Limit), C.uint16_t(len(v.Pattern)), (*C.uint8_t)(pat))
		return p, nil
	}
	return nil, fmt.Errorf("unsupported spec type %T", s)
}

func (r *CFlowRule) marshalAction(a FlowAction) (unsafe.Pointer, error) {
	if a.Conf == nil {
		switch a.Type {
		case FlowActionQueue, FlowActionRSS, FlowActionMark:
			return nil, fmt.Errorf("%v needs a configuration", a.Type)
		}
		return nil, nil
	}
	if a.Conf.flowActionType() != a.Type {
		return nil, fmt.Errorf("got a %v configuration for a %v action", a.Conf.flowActionType(), a.Type)
	}
	switch v := a.Conf.(type) {
	case FlowQueue:
		q := (*C.struct_rte_flow_action_queue)(r.cAlloc(C.sizeof_struct_rte_flow_action_queue))
		q.index = C.uint16_t(v.Index)
		return unsafe.Pointer(q), nil
	case FlowMark:
		m := (*C.struct_rte_flow_action_mark)(r.cAlloc(C.sizeof_struct_rte_flow_action_mark))
		m.id = C.uint32_t(v.ID)
		return unsafe.Pointer(m), nil
	case FlowRSS:
		rss := (*C.struct_rte_flow_action_rss)(r.cAlloc(C.sizeof_struct_rte_flow_action_rss))
		rss._func = uint32(v.Func)
		rss.level = C.uint32_t(v.Level)
		rss.types = C.uint64_t(v.Types)
		if len(v.Key) > 0 {
			k := r.cAlloc(uintptr(len(v.Key)))
			copy(unsafe.Slice((*byte)(k), len(v.Key)), v.Key)
			rss.key = (*C.uint8_t)(k)
			rss.key_len = C.uint32_t(len(v.Key))
		}
		if len(v.Queues) > 0 {
			q := r.cAlloc(uintptr(len(v.Queues)) * 2)
			copy(unsafe.Slice((*uint16)(q), len(v.Queues)), v.Queues)
			rss.queue = (*C.uint16_t)(q)
			rss.queue_num = C.uint32_t(len(v.Queues))
		}
		return unsafe.Pointer(rss), nil
	}
	return nil, fmt.Errorf("unsupported configuration type %T", a.Conf)
}

// maxFlowElems bounds Decode's walk of arrays that lack END.
const maxFlowElems = 1024

// Decode reads the marshalled rule back into Go values, without the END
// terminators. It is the inverse of MarshalFlowRule for every value that
// function accepts.
func (r *CFlowRule) Decode() (FlowAttr, []FlowItem, []FlowAction, error) {
	if r.attr == nil {
		return FlowAttr{}, nil, nil, fmt.Errorf("dpdk: decode of a freed flow rule")
	}
	var attr FlowAttr
	var group, prio C.uint32_t
	var in, out, tr C.int
	C.fcp_attr_get(r.attr, &group, &prio, &in, &out, &tr)
	attr = FlowAttr{Group: uint32(group), Priority: uint32(prio), Ingress: in != 0, Egress: out != 0, Transfer: tr != 0}

	var pattern []FlowItem
	for i := 0; ; i++ {
		if i == maxFlowElems {
			return attr, nil, nil, fmt.Errorf("dpdk: flow pattern has no END in %d items", maxFlowElems)
		}
		it := (*C.struct_rte_flow_item)(unsafe.Add(unsafe.Pointer(r.pattern), i*C.sizeof_struct_rte_flow_item))
		t := FlowItemType(it._type)
		if t == FlowItemEnd {
			break
		}
		spec, err := decodeSpec(t, it.spec)
		if err != nil {
			return attr, nil, nil, fmt.Errorf("dpdk: pattern item %d spec: %w", i, err)
		}
		mask, err := decodeSpec(t, it.mask)
		if err != nil {
			return attr, nil, nil, fmt.Errorf("dpdk: pattern item %d mask: %w", i, err)
		}
		pattern = append(pattern, FlowItem{Type: t, Spec: spec, Mask: mask})
	}

	var actions []FlowAction
	for i := 0; ; i++ {
		if i == maxFlowElems {
			return attr, nil, nil, fmt.Errorf("dpdk: flow actions have no END in %d actions", maxFlowElems)
		}
		a := (*C.struct_rte_flow_action)(unsafe.Add(unsafe.Pointer(r.actions), i*C.sizeof_struct_rte_flow_action))
		t := FlowActionType(a._type)
		if t == FlowActionEnd {
			break
		}
		conf, err := decodeAction(t, a.conf)
		if err != nil {
			return attr, nil, nil, fmt.Errorf("dpdk: action %d: %w", i, err)
		}
		actions = append(actions, FlowAction{Type: t, Conf: conf})
	}
	return attr, pattern, actions, nil
}

func decodeSpec(t FlowItemType, p unsafe.Pointer) (FlowSpec, error) {
	if p == nil {
		return nil, nil
	}
	be := binary.BigEndian
	switch t {
	case FlowItemETH:
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_eth_hdr)), flowETHHdrLen)
		var v FlowETH
		copy(v.Dst[:], b[0:6])
		copy(v.Src[:], b[6:12])
		v.EtherType = be.Uint16(b[12:])
		return v, nil
	case FlowItemIPv4:
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_ipv4_hdr)), flowIPv4HdrLen)
		v := FlowIPv4{
			VersionIHL: b[0], TOS: b[1], TotalLength: be.Uint16(b[2:]), PacketID: be.Uint16(b[4:]),
			FragmentOffset: be.Uint16(b[6:]), TTL: b[8], Proto: b[9], Checksum: be.Uint16(b[10:]),
		}
		copy(v.Src[:], b[12:16])
		copy(v.Dst[:], b[16:20])
		return v, nil
	case FlowItemIPv6:
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_ipv6_hdr)), flowIPv6HdrLen)
		v := FlowIPv6{VTCFlow: be.Uint32(b[0:]), PayloadLen: be.Uint16(b[4:]), Proto: b[6], HopLimit: b[7]}
		copy(v.Src[:], b[8:24])
		copy(v.Dst[:], b[24:40])
		return v, nil
	case FlowItemTCP:
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_tcp_hdr)), flowTCPHdrLen)
		return FlowTCP{
			SrcPort: be.Uint16(b[0:]), DstPort: be.Uint16(b[2:]), Seq: be.Uint32(b[4:]), Ack: be.Uint32(b[8:]),
			DataOff: b[12], Flags: b[13], Window: be.Uint16(b[14:]), Checksum: be.Uint16(b[16:]), Urgent: be.Uint16(b[18:]),
		}, nil
	case FlowItemUDP:
		b := unsafe.Slice((*byte)(unsafe.Add(p, C.fcp_off_udp_hdr)), flowUDPHdrLen)
		return FlowUDP{SrcPort: be.Uint16(b[0:]), DstPort: be.Uint16(b[2:]), Length: be.Uint16(b[4:]), Checksum: be.Uint16(b[6:])}, nil
	case FlowItemRaw:
		var rel, search C.int
		var off C.int32_t
		var limit, length C.uint16_t
		var pat *C.uint8_t
		C.fcp_raw_get((*C.struct_rte_flow_item_raw)(p), &rel, &search, &off, &limit, &length, &pat)
		v := FlowRaw{Relative: rel != 0, Search: search != 0, Offset: int32(off), Limit: uint16(limit)}
		if length > 0 && pat != nil {
			v.Pattern = append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(pat)), int(length))...)
		}
		return v, nil
	}
	return nil, fmt.Errorf("cannot decode item type %v", t)
}

func decodeAction(t FlowActionType, p unsafe.Pointer) (FlowActionConf, error) {
	if p == nil {
		return nil, nil
	}
	switch t {
	case FlowActionQueue:
		return FlowQueue{Index: uint16((*C.struct_rte_flow_action_queue)(p).index)}, nil
	case FlowActionMark:
		return FlowMark{ID: uint32((*C.struct_rte_flow_action_mark)(p).id)}, nil
	case FlowActionRSS:
		c := (*C.struct_rte_flow_action_rss)(p)
		v := FlowRSS{Func: HashFunction(c._func), Level: uint32(c.level), Types: uint64(c.types)}
		if c.key_len > 0 && c.key != nil {
			v.Key = append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(c.key)), int(c.key_len))...)
		}
		if c.queue_num > 0 && c.queue != nil {
			v.Queues = append([]uint16(nil), unsafe.Slice((*uint16)(unsafe.Pointer(c.queue)), int(c.queue_num))...)
		}
		return v, nil
	}
	return nil, fmt.Errorf("cannot decode configuration of action type %v", t)
}

// cFlowHdrOffsets returns the offset of the header inside each item struct
// as C computes it, for the test (the marshalling writes wire headers).
func cFlowHdrOffsets() []uintptr {
	return []uintptr{C.fcp_off_eth_hdr, C.fcp_off_ipv4_hdr, C.fcp_off_ipv6_hdr, C.fcp_off_tcp_hdr, C.fcp_off_udp_hdr}
}

// cProbeSpec returns fcp_probe_spec of pattern item i (which must have a
// spec), for the test.
func (r *CFlowRule) cProbeSpec(i int) uint64 {
	it := (*C.struct_rte_flow_item)(unsafe.Add(unsafe.Pointer(r.pattern), i*C.sizeof_struct_rte_flow_item))
	return uint64(C.fcp_probe_spec(it))
}
