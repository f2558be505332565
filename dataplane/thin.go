package dataplane

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/dataplane/fwd"
)

// Thinning the server's ACKs of a burst.
//
// A connection's client data arrives over several subflows, and the
// Linux client's scheduler gives each subflow chunks of the data stream
// that it sends side by side, so the server's TCP, which sees one
// sequence space, holds data out of order most of the time. It then
// acknowledges every segment at once, with SACK (RFC 5681 4.2), where in
// order it acknowledges far fewer: in a measured client-to-server
// iperf3 transfer over two subflows the server queued half of all
// segments out of order and sent one ACK per two data segments, against
// one per 26 over one subflow, and most of one RX burst from the core
// port was ACKs of one connection. Every one crosses the
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
// are never thinned (TestThinAcks). In that transfer the client then got
// 38k ACKs in 5 s instead of 242-440k, and its rate over two subflows
// rose to that over one (results/compare.md).

// tcpSegment reads an Ethernet frame as an unfragmented IPv4 or IPv6
// TCP segment whose header is in the frame: its connection (addresses and
// ports folded together; two connections that collide only share a table
// slot), its TCP header and what follows, and the length of TCP header
// plus payload from the IP header. ok is false for anything else.
func tcpSegment(b []byte) (flow uint64, l4 []byte, tcpLen int, ok bool) {
	if len(b) < 14 {
		return 0, nil, 0, false
	}
	ip := b[14:]
	switch binary.BigEndian.Uint16(b[12:14]) {
	case 0x0800:
		if len(ip) < 20 || ip[9] != 6 || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return 0, nil, 0, false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl+20 {
			return 0, nil, 0, false
		}
		flow = uint64(binary.BigEndian.Uint32(ip[12:16]))<<32 | uint64(binary.BigEndian.Uint32(ip[16:20]))
		l4 = ip[ihl:]
		tcpLen = int(binary.BigEndian.Uint16(ip[2:4])) - ihl
	case 0x86dd:
		if len(ip) < 60 || ip[6] != 6 {
			return 0, nil, 0, false
		}
		for i := 8; i < 40; i += 8 {
			flow = flow*0x9e3779b97f4a7c15 ^ binary.BigEndian.Uint64(ip[i:i+8])
		}
		l4 = ip[40:]
		tcpLen = int(binary.BigEndian.Uint16(ip[4:6]))
	default:
		return 0, nil, 0, false
	}
	flow ^= uint64(binary.BigEndian.Uint32(l4[0:4])) * 0x9e3779b97f4a7c15
	return flow, l4, tcpLen, true
}

// ackKey reads a frame as a pure ACK: its connection (tcpSegment), its
// ack number, and pure: ACK set, no SYN, FIN, RST or URG, no payload.
func ackKey(b []byte) (flow uint64, ack uint32, pure bool) {
	flow, l4, tcpLen, ok := tcpSegment(b)
	if !ok {
		return 0, 0, false
	}
	doff := int(l4[12]>>4) * 4
	flags := l4[13]
	const fin, syn, rst, ackFlag, urg = 0x01, 0x02, 0x04, 0x10, 0x20
	if flags&(fin|syn|rst|urg) != 0 || flags&ackFlag == 0 || doff < 20 || tcpLen != doff || len(l4) < doff {
		return flow, 0, false
	}
	return flow, binary.BigEndian.Uint32(l4[8:12]), true
}

// thinScratch is a worker's space for thinAcks: which frames of a burst
// to remove, their Refs, and a small direct-mapped table of each
// connection's last pure ACK seen (walking the burst backwards).
type thinScratch struct {
	drop []bool
	refs []uintptr
	last [128]struct {
		flow  uint64
		ack   uint32
		stamp uint32
	}
	stamp uint32
}

func newThinScratch(n int) *thinScratch {
	return &thinScratch{drop: make([]bool, n), refs: make([]uintptr, 0, n)}
}

// thinAcks removes from frames, in place, every pure ACK that a later
// pure ACK of the same connection in frames supersedes (see above), and
// returns the frames kept, in their order, and the Refs of those removed
// (o's scratch, valid until the next call), which the caller frees.
// Allocation-free: the table of the last pure ACK seen per connection
// (walking backwards) is o's.
func (o *thinScratch) thinAcks(frames []fwd.Frame) (kept []fwd.Frame, removed []uintptr) {
	n := len(frames)
	if n < 2 {
		return frames, nil
	}
	o.stamp++
	drop := o.drop[:n]
	found := false
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
		case e.stamp == o.stamp && e.flow == flow && int32(e.ack-ack) >= 0:
			drop[i], found = true, true
		default:
			e.flow, e.ack, e.stamp = flow, ack, o.stamp
		}
	}
	if !found {
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
