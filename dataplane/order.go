package dataplane

import (
	"encoding/binary"
	"slices"

	"github.com/flexcp/flexcp/dataplane/fwd"
)

// Ordering the server-side output of a round.
//
// A connection's client data arrives on several subflows, so on several
// access ports, and one poll round handles the ports one after another:
// port 1's burst, then port 2's. The Linux client's scheduler spreads
// consecutive data over its subflows, so a round's translated segments
// for the server are out of sequence order whenever both ports brought
// some (port 1's A, C, E then port 2's B, D). The server's TCP answers
// every segment above a hole at once (a duplicate ACK with SACK, RFC 5681
// 4.2), where in order it acknowledges every other segment or fewer: in
// a measured client-to-server transfer over two subflows the server sent
// one ACK per two data segments, against one per 26 with one subflow, and
// each of those ACKs crossed flexcp and the client's stack (1.76 against
// 2.64 Gbit/s). So before a round's frames for a core port are
// transmitted, each TCP connection's segments among them are put back in
// sequence order. Nothing is held beyond the round: this only undoes the
// order in which flexcp itself read its ports (TestOrderCoreOutput).

// segKey is a frame's place in the order: its TCP connection (addresses
// and ports folded together; two connections that collide are only sorted
// together, each still in its own order), its sequence number, and its
// index in the list (so the sort is stable).
type segKey struct {
	flow uint64
	seq  uint32
	idx  uint16
	tcp  bool
}

// frameKey reads the key of an Ethernet frame; tcp is false for anything
// but an unfragmented IPv4 or IPv6 TCP segment with its header in the
// frame.
func frameKey(b []byte) segKey {
	if len(b) < 14 {
		return segKey{}
	}
	ip := b[14:]
	var flow uint64
	var l4 []byte
	switch binary.BigEndian.Uint16(b[12:14]) {
	case 0x0800:
		if len(ip) < 20 || ip[9] != 6 || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return segKey{}
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl+20 {
			return segKey{}
		}
		flow = uint64(binary.BigEndian.Uint32(ip[12:16]))<<32 | uint64(binary.BigEndian.Uint32(ip[16:20]))
		l4 = ip[ihl:]
	case 0x86dd:
		if len(ip) < 60 || ip[6] != 6 {
			return segKey{}
		}
		for i := 8; i < 40; i += 8 {
			flow = flow*0x9e3779b97f4a7c15 ^ binary.BigEndian.Uint64(ip[i:i+8])
		}
		l4 = ip[40:]
	default:
		return segKey{}
	}
	flow ^= uint64(binary.BigEndian.Uint32(l4[0:4])) * 0x9e3779b97f4a7c15
	return segKey{flow: flow, seq: binary.BigEndian.Uint32(l4[4:8]), tcp: true}
}

// compareKeys orders keys: non-TCP frames first (among themselves, and
// all frames of one connection, in list order), then by connection, then
// by sequence number in serial order (RFC 1982: one round's segments span
// far less than 2^31), then by index.
func compareKeys(a, b segKey) int {
	switch {
	case a.tcp != b.tcp:
		if !a.tcp {
			return -1
		}
		return 1
	case !a.tcp:
	case a.flow != b.flow:
		if a.flow < b.flow {
			return -1
		}
		return 1
	case a.seq != b.seq:
		if int32(a.seq-b.seq) < 0 {
			return -1
		}
		return 1
	}
	return int(a.idx) - int(b.idx)
}

// orderScratch is a worker's space for orderBySeq: keys and frames for a
// whole TX list, and a small direct-mapped table of each connection's
// last sequence number seen in the list.
type orderScratch struct {
	keys   []segKey
	frames []fwd.Frame
	drop   []bool    // thinAcks: frames to remove
	refs   []uintptr // thinAcks: their Refs
	last   [128]struct {
		flow  uint64
		seq   uint32
		stamp uint32
	}
	stamp uint32
}

func newOrderScratch(n int) *orderScratch {
	return &orderScratch{keys: make([]segKey, n), frames: make([]fwd.Frame, n), drop: make([]bool, n), refs: make([]uintptr, 0, n)}
}

// orderBySeq puts each TCP connection's segments in list into sequence
// order, keeping everything else's order. It costs one pass when no
// connection's segments are out of order (one table slot per connection;
// two that share a slot may hide a disorder, which only leaves it as it
// came), else a sort of the list's keys. It reports whether it moved
// anything. len(list) must not exceed the scratch's size.
func (o *orderScratch) orderBySeq(list []fwd.Frame) bool {
	n := len(list)
	if n < 2 {
		return false
	}
	o.stamp++
	keys := o.keys[:n]
	disorder := false
	for i := range list {
		fr := &list[i]
		k := frameKey(fr.Buf[fr.Off : fr.Off+fr.Len])
		k.idx = uint16(i)
		keys[i] = k
		if !k.tcp {
			continue
		}
		e := &o.last[k.flow%uint64(len(o.last))]
		if e.stamp == o.stamp && e.flow == k.flow && int32(k.seq-e.seq) < 0 {
			disorder = true
		}
		e.flow, e.seq, e.stamp = k.flow, k.seq, o.stamp
	}
	if !disorder {
		return false
	}
	slices.SortFunc(keys, compareKeys)
	tmp := o.frames[:n]
	for i := range keys {
		tmp[i] = list[keys[i].idx]
	}
	copy(list, tmp)
	clear(tmp)
	return true
}

// Thinning the server's ACKs of a burst.
//
// When the server's TCP holds data out of order (the client's subflows
// deliver their chunks side by side, and the server sees one sequence
// space), it acknowledges every segment at once, with SACK: in the
// transfer above, one ACK per two data segments, and most of one RX burst
// from the core port is ACKs of one connection. Every one crosses the
// translator and goes on to the client, often as two packets (one per
// subflow it advances), and on this machine each packet costs the
// client's stack as much as a data segment. Of a run of pure ACKs of one
// connection in one burst, only the last says something the client
// needs: its cumulative ack is the highest, its window the latest, its
// SACK blocks begin with the newest range. So a pure ACK followed, later
// in the same burst, by another pure ACK of the same connection whose
// ack is at least as high, with no other segment of that connection in
// between, is freed before translation and counted. To the translator it
// is an ACK lost between the server and flexcp, which it handles anyway
// (TCP's acks are cumulative). Segments with payload, SYN, FIN or RST
// are never thinned (TestThinAcks).

// ackKey reads a frame as a pure ACK: flow as frameKey, the ack number,
// and ok only for an unfragmented IPv4 or IPv6 TCP segment with ACK set,
// no SYN, FIN, RST or URG, and no payload.
func ackKey(b []byte) (flow uint64, ack uint32, pure bool) {
	k := frameKey(b)
	if !k.tcp {
		return 0, 0, false
	}
	ip := b[14:]
	var l4 []byte
	var payload int
	if b[12] == 0x08 { // IPv4 (frameKey accepted only 0x0800 and 0x86dd)
		ihl := int(ip[0]&0x0f) * 4
		l4 = ip[ihl:]
		payload = int(binary.BigEndian.Uint16(ip[2:4])) - ihl
	} else {
		l4 = ip[40:]
		payload = int(binary.BigEndian.Uint16(ip[4:6]))
	}
	doff := int(l4[12]>>4) * 4
	flags := l4[13]
	const fin, syn, rst, ack_, urg = 0x01, 0x02, 0x04, 0x10, 0x20
	if flags&(fin|syn|rst|urg) != 0 || flags&ack_ == 0 || doff < 20 || payload != doff || len(l4) < doff {
		return k.flow, 0, false
	}
	return k.flow, binary.BigEndian.Uint32(l4[8:12]), true
}

// thinAcks removes from frames, in place, every pure ACK that a later
// pure ACK of the same connection in frames supersedes (see above), and
// returns the frames kept, in their order, and the Refs of those removed
// (o's scratch, valid until the next call), which the caller frees.
// Allocation-free: the table of the last pure ACK seen per connection
// (walking backwards) is o's.
func (o *orderScratch) thinAcks(frames []fwd.Frame) (kept []fwd.Frame, removed []uintptr) {
	n := len(frames)
	if n < 2 {
		return frames, nil
	}
	o.stamp++
	drop := o.drop[:n]
	any := false
	for i := n - 1; i >= 0; i-- {
		fr := &frames[i]
		flow, ack, pure := ackKey(fr.Buf[fr.Off : fr.Off+fr.Len])
		drop[i] = false
		e := &o.last[flow%uint64(len(o.last))]
		switch {
		case !pure:
			// A segment with data or flags (or not TCP): the ACKs of
			// its connection before it stay.
			if e.stamp == o.stamp && e.flow == flow {
				e.stamp = o.stamp - 1
			}
		case e.stamp == o.stamp && e.flow == flow && int32(e.seq-ack) >= 0:
			drop[i], any = true, true
		default:
			e.flow, e.seq, e.stamp = flow, ack, o.stamp
		}
	}
	if !any {
		return frames, nil
	}
	k := 0
	removed = o.refs[:0]
	for i := range frames {
		if drop[i] {
			removed = append(removed, frames[i].Ref)
			continue
		}
		frames[k] = frames[i]
		k++
	}
	clear(frames[k:])
	return frames[:k], removed
}
