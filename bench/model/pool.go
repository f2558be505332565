package model

import "github.com/flexcp/flexcp/translate"

// Headroom is the headroom of every buffer: what the engine may need to add
// a DSS option.
const Headroom = translate.MinHeadroom

// bufSize is the size of one buffer: headroom plus a 1500-byte packet,
// rounded up.
const bufSize = 2048

// Pool is a fixed set of packet buffers carved from one slab, handed out by
// index (Packet.Ref). It is the engine's Allocator too. Not safe for
// concurrent use.
type Pool struct {
	slab []byte
	free []int32
	n    int
}

// NewPool returns a pool of n buffers.
func NewPool(n int) *Pool {
	p := &Pool{slab: make([]byte, n*bufSize), free: make([]int32, n), n: n}
	for i := range p.free {
		p.free[i] = int32(n - 1 - i)
	}
	return p
}

// Alloc implements translate.Allocator.
func (p *Pool) Alloc() (translate.Packet, bool) {
	k := len(p.free)
	if k == 0 {
		return translate.Packet{}, false
	}
	i := p.free[k-1]
	p.free = p.free[:k-1]
	o := int(i) * bufSize
	return translate.Packet{Buf: p.slab[o : o+bufSize : o+bufSize], Off: Headroom, Ref: uintptr(i)}, true
}

// Free returns the buffer of pkt to the pool.
func (p *Pool) Free(pkt *translate.Packet) {
	p.free = append(p.free, int32(pkt.Ref))
}

// InUse returns the number of buffers handed out.
func (p *Pool) InUse() int { return p.n - len(p.free) }

// Cap returns the number of buffers.
func (p *Pool) Cap() int { return p.n }

// ring is a FIFO of packets with a power-of-two capacity.
type ring struct {
	pkts       []translate.Packet
	head, n    int
	mask       int
	overflowed bool
}

func newRing(min int) ring {
	c := 64
	for c < min {
		c <<= 1
	}
	return ring{pkts: make([]translate.Packet, c), mask: c - 1}
}

func (r *ring) push(p *translate.Packet) bool {
	if r.n == len(r.pkts) {
		return false
	}
	r.pkts[(r.head+r.n)&r.mask] = *p
	r.n++
	return true
}

// pop moves up to len(dst) packets into dst and returns how many.
func (r *ring) pop(dst []translate.Packet) int {
	k := min(len(dst), r.n)
	for i := 0; i < k; i++ {
		dst[i] = r.pkts[(r.head+i)&r.mask]
	}
	r.head = (r.head + k) & r.mask
	r.n -= k
	return k
}
