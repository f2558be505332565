package fwd

import (
	"encoding/binary"
	"math/bits"
)

// Neighbor entry states.
const (
	nsFree       = iota // slot never used
	nsIncomplete        // resolving: requests sent, packets pending
	nsReachable         // MAC known; stale once older than ReachableTime
	nsFailed            // resolution failed; drop until deadline
	nsStatic            // configured; never changes
)

// neighProbeWindow is how many consecutive slots a key may occupy from its
// hash: lookups and inserts look at no more than this many.
const neighProbeWindow = 8

// neighbor is one neighbor table slot.
type neighbor struct {
	addr  [16]byte // IPv4 as ::ffff:a.b.c.d
	used  int64    // last time it was needed for forwarding
	time  int64    // incomplete: next retry; reachable: confirmation; failed: end of failure
	probe int64    // reachable: earliest time for the next stale probe
	port  uint16
	state uint8
	tries uint8 // requests sent in this resolution or probe round
	mac   MAC
	npend uint8
	head  int32 // first pending packet (index into Forwarder.pend), -1 if none
	tail  int32 // last pending packet
}

// neighHash hashes a neighbor key into a slot index of a table of 2^bits
// slots.
func neighHash(port uint16, a *[16]byte, shift uint) uint32 {
	x := binary.LittleEndian.Uint64(a[:8]) ^ uint64(port)<<48
	y := binary.LittleEndian.Uint64(a[8:])
	h := (x*0x9e3779b97f4a7c15 ^ bits.RotateLeft64(y, 31)) * 0xbf58476d1ce4e5b9
	return uint32(h >> shift)
}

// lookupNeighbor returns the slot holding (port, a), or -1.
func (f *Forwarder) lookupNeighbor(port uint16, a *[16]byte) int32 {
	mask := uint32(len(f.neigh) - 1)
	i := neighHash(port, a, f.neighShift)
	for range neighProbeWindow {
		e := &f.neigh[i&mask]
		if e.state == nsFree {
			return -1
		}
		if e.addr == *a && e.port == port {
			return int32(i & mask)
		}
		i++
	}
	return -1
}

// insertNeighbor returns a slot for (port, a), which must not be in the
// table: an empty slot in its window, or else the least recently used
// non-static one, whose pending packets are freed. It returns -1 if every
// slot of the window is static. The slot comes back in state nsFree with
// its key set; the caller sets the state.
func (f *Forwarder) insertNeighbor(port uint16, a *[16]byte, out *Output) int32 {
	mask := uint32(len(f.neigh) - 1)
	i := neighHash(port, a, f.neighShift)
	victim := int32(-1)
	for range neighProbeWindow {
		s := int32(i & mask)
		e := &f.neigh[s]
		if e.state == nsFree {
			victim = s
			f.ctr.Neighbors++
			break
		}
		if e.state != nsStatic && (victim < 0 || e.used < f.neigh[victim].used) {
			victim = s
		}
		i++
	}
	if victim < 0 {
		return -1
	}
	e := &f.neigh[victim]
	if e.npend > 0 {
		f.dropPending(e, DropPendingExpired, out)
	}
	*e = neighbor{addr: *a, port: port, head: -1, tail: -1}
	return victim
}

// enqueuePending queues fr for e. It reports false, having queued nothing,
// if e's queue or the pool is full.
func (f *Forwarder) enqueuePending(e *neighbor, fr *Frame) bool {
	if int(e.npend) >= f.t.cfg.PendingPerNeighbor || f.pendFree < 0 {
		return false
	}
	s := f.pendFree
	f.pendFree = f.pendNext[s]
	f.pend[s] = *fr
	f.pendNext[s] = -1
	if e.tail >= 0 {
		f.pendNext[e.tail] = s
	} else {
		e.head = s
	}
	e.tail = s
	e.npend++
	f.ctr.PendingPackets++
	return true
}

// dropPending frees e's pending packets, counting each under r.
func (f *Forwarder) dropPending(e *neighbor, r DropReason, out *Output) {
	for s := e.head; s >= 0; {
		out.free(f.pend[s].Ref)
		f.ctr.drop(r)
		f.pend[s] = Frame{}
		next := f.pendNext[s]
		f.pendNext[s] = f.pendFree
		f.pendFree = s
		s = next
	}
	f.ctr.PendingPackets -= uint64(e.npend)
	e.head, e.tail, e.npend = -1, -1, 0
}

// sendPending transmits e's pending packets to e.mac.
func (f *Forwarder) sendPending(e *neighbor, out *Output) {
	for s := e.head; s >= 0; {
		fr := &f.pend[s]
		Ethernet(fr.Buf[fr.Off:]).SetDst(e.mac)
		f.transmit(fr, true, out)
		*fr = Frame{}
		next := f.pendNext[s]
		f.pendNext[s] = f.pendFree
		f.pendFree = s
		s = next
	}
	f.ctr.PendingPackets -= uint64(e.npend)
	e.head, e.tail, e.npend = -1, -1, 0
}

// learn records that (port, a) is at mac, as told by an ARP or NDP message
// received at now. It updates an existing entry, or makes one if create;
// it reports whether an entry now holds the mapping. Resolving an entry
// transmits its pending packets. Static entries are left alone.
func (f *Forwarder) learn(now int64, port uint16, a *[16]byte, mac MAC, create bool, out *Output) bool {
	if mac.IsMulticast() || mac.IsZero() {
		return false
	}
	s := f.lookupNeighbor(port, a)
	if s < 0 {
		if !create {
			return false
		}
		if s = f.insertNeighbor(port, a, out); s < 0 {
			return false
		}
		f.neigh[s].used = now
	}
	e := &f.neigh[s]
	if e.state == nsStatic {
		return true
	}
	e.state = nsReachable
	e.mac = mac
	e.time = now
	e.probe = 0
	e.tries = 0
	if e.npend > 0 {
		f.sendPending(e, out)
	}
	return true
}

// confirm records that (port, a), whose link-layer address the entry
// already holds, answered a solicitation: a solicited Neighbor
// Advertisement without a Target Link-Layer Address option (RFC 4861
// 7.2.5: with the S flag set, the entry becomes REACHABLE; the address
// stays). Linux sends exactly that in answer to a unicast NS (it adds the
// option only when the NS went to a multicast address; net/ipv6/ndisc.c,
// ndisc_recv_ns), which is how the stale probes of resolve go out. It
// reports whether an entry was confirmed; one still resolving (no address
// yet) or failed is not (RFC 4861 7.2.5: such an advertisement is
// discarded).
func (f *Forwarder) confirm(now int64, port uint16, a *[16]byte) bool {
	s := f.lookupNeighbor(port, a)
	if s < 0 {
		return false
	}
	e := &f.neigh[s]
	switch e.state {
	case nsStatic:
		return true
	case nsReachable:
		e.time = now
		e.probe = 0
		e.tries = 0
		return true
	}
	return false
}

// resolve finds the MAC of next hop (port, a) for the frame fr, whose
// Ethernet header is already written but for its destination. It returns
// the MAC and VerdictTX, or VerdictPending when fr has been queued, or
// VerdictDrop when it has been dropped (counted, Ref on the free list).
func (f *Forwarder) resolve(now int64, port uint16, a *[16]byte, fr *Frame, out *Output) (MAC, Verdict) {
	s := f.nhCache
	if s < 0 || f.neigh[s].addr != *a || f.neigh[s].port != port || f.neigh[s].state == nsFree {
		s = f.lookupNeighbor(port, a)
	}
	if s < 0 {
		if s = f.insertNeighbor(port, a, out); s < 0 {
			return MAC{}, f.dropFrame(fr, DropNeighborTableFull, out)
		}
		e := &f.neigh[s]
		e.used = now
		f.startResolution(now, e, out)
		return MAC{}, f.queue(e, fr, out)
	}
	f.nhCache = s
	e := &f.neigh[s]
	e.used = now
	switch e.state {
	case nsStatic:
		return e.mac, VerdictTX
	case nsReachable:
		if now-e.time > int64(f.t.cfg.ReachableTime) && now >= e.probe {
			// Stale: keep using the MAC, but ask the neighbor directly.
			if int(e.tries) >= f.t.cfg.MaxTries {
				e.state = nsFailed
				e.time = now + int64(f.t.cfg.FailedTime)
				return MAC{}, f.dropFrame(fr, DropNeighborFailed, out)
			}
			e.tries++
			e.probe = now + int64(f.t.cfg.RetryInterval)
			f.sendRequest(e, e.mac, out)
		}
		return e.mac, VerdictTX
	case nsIncomplete:
		return MAC{}, f.queue(e, fr, out)
	default: // nsFailed
		if now < e.time {
			return MAC{}, f.dropFrame(fr, DropNeighborFailed, out)
		}
		f.startResolution(now, e, out)
		return MAC{}, f.queue(e, fr, out)
	}
}

// queue puts fr on e's pending queue or drops it (DropPendingFull: more
// frames for a next hop than Config.PendingPerNeighbor arrived while its
// first request was out, or the worker's pool is full).
func (f *Forwarder) queue(e *neighbor, fr *Frame, out *Output) Verdict {
	if !f.enqueuePending(e, fr) {
		return f.dropFrame(fr, DropPendingFull, out)
	}
	return VerdictPending
}

// startResolution moves e to incomplete and sends the first request.
func (f *Forwarder) startResolution(now int64, e *neighbor, out *Output) {
	e.state = nsIncomplete
	e.tries = 1
	e.time = now + int64(f.t.cfg.RetryInterval)
	f.sendRequest(e, BroadcastMAC, out)
}

// runTimers retries incomplete entries whose retry time has come and
// fails those out of tries, freeing their pending packets.
func (f *Forwarder) runTimers(now int64, out *Output) {
	for i := range f.neigh {
		e := &f.neigh[i]
		if e.state != nsIncomplete || now < e.time {
			continue
		}
		if int(e.tries) >= f.t.cfg.MaxTries {
			e.state = nsFailed
			e.time = now + int64(f.t.cfg.FailedTime)
			if e.npend > 0 {
				f.dropPending(e, DropPendingExpired, out)
			}
			continue
		}
		e.tries++
		e.time = now + int64(f.t.cfg.RetryInterval)
		f.sendRequest(e, BroadcastMAC, out)
	}
}

// isV4Key reports whether a neighbor key is an IPv4-mapped address.
func isV4Key(a *[16]byte) bool {
	return binary.LittleEndian.Uint64(a[:8]) == 0 && binary.BigEndian.Uint32(a[8:12]) == 0xffff
}

// v4Key returns the neighbor key of an IPv4 address.
func v4Key(a [4]byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a[0], 13: a[1], 14: a[2], 15: a[3]}
}
