package dpdk

/*
#cgo noescape fcp_bursts
#cgo nocallback fcp_bursts
#include <stdlib.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

struct fcp_burst {
	struct rte_mbuf **pkts;
	uint16_t port, queue;
	uint16_t n;    // TX: mbufs to send (0: skip); RX: room
	uint16_t done; // TX: mbufs the PMD took; RX: mbufs received
};

struct fcp_ring_burst {
	struct rte_ring *r; // NULL: skip
	struct rte_mbuf **pkts;
	uint16_t n, done;   // room; mbufs dequeued
};

struct fcp_burst_set {
	struct fcp_burst *tx, *rx;
	struct rte_mbuf **fr;
	struct fcp_ring_burst *rr;
	uint32_t ntx, nrx, nfree, nrr;
};

// fcp_prefetch_rx starts loading what the caller reads first of every
// mbuf the port bursts received: the mbuf's first cache line (buf_addr,
// data_off, data_len), then the first line of its frame, as DPDK's l3fwd
// does before it touches a burst. The misses then overlap instead of
// coming one after another in the caller's per-packet loop (on ring ports
// the frames were last written by another core; the handoff rings'
// mbufs too, but those bursts are rare and small). Side by side on the
// 2-core EPYC VM, 5 pairs, 2026-12-07: 526 -> 494 ns/pkt at 64 bytes,
// 559 -> 485 at 1460 (results/README.md).
static void fcp_prefetch_rx(const struct fcp_burst_set *s) {
	unsigned i, k;
	for (i = 0; i < s->nrx; i++)
		for (k = 0; k < s->rx[i].done; k++)
			rte_prefetch0(s->rx[i].pkts[k]);
	for (i = 0; i < s->nrx; i++)
		for (k = 0; k < s->rx[i].done; k++)
			rte_prefetch0(rte_pktmbuf_mtod(s->rx[i].pkts[k], void *));
}

// fcp_bursts runs a set: the staged TX bursts (dotx), the staged bulk
// free, then every RX burst and ring dequeue (dorx); it clears what was
// staged and returns the mbufs received and dequeued. The set comes as
// an integer: cgo checks every pointer argument of a call at run time
// (cgoCheckPointer), and this call is made once per poll round.
static unsigned fcp_bursts(uintptr_t sp, int dotx, int dorx) {
	struct fcp_burst_set *s = (struct fcp_burst_set *)sp;
	unsigned i, got = 0;
	if (dotx) {
		for (i = 0; i < s->ntx; i++) {
			struct fcp_burst *b = &s->tx[i];
			b->done = b->n == 0 ? 0 : rte_eth_tx_burst(b->port, b->queue, b->pkts, b->n);
			b->n = 0;
		}
	}
	if (s->nfree > 0) {
		rte_pktmbuf_free_bulk(s->fr, s->nfree);
		s->nfree = 0;
	}
	if (dorx) {
		for (i = 0; i < s->nrx; i++) {
			struct fcp_burst *b = &s->rx[i];
			b->done = rte_eth_rx_burst(b->port, b->queue, b->pkts, b->n);
			got += b->done;
		}
		for (i = 0; i < s->nrr; i++) {
			struct fcp_ring_burst *b = &s->rr[i];
			b->done = b->r == NULL ? 0 : rte_ring_dequeue_burst(b->r, (void **)b->pkts, b->n, NULL);
			got += b->done;
		}
		if (got > 0)
			fcp_prefetch_rx(s);
	}
	return got;
}
*/
import "C"

import "unsafe"

// BurstSet is the bursts of one polling round on several ports, done in
// one cgo call (Run): a TX burst per port, a bulk free, then an RX burst
// per port and a dequeue burst from each of its rings (SetRings); it
// prefetches the received mbufs and their frames' first cache line. A
// cgo call costs about as much as a 32-packet ring burst
// (runtime.cgocall with entersyscall/exitsyscall: 50-100 ns on the 2-core
// EPYC VM, 2026-11-25), so one call per round instead of one per
// port and direction shortens every round, and an empty poll of all
// ports most of all.
//
// Its descriptors live in C memory and Run hands them to C as an integer,
// so cgo has no Go pointer to check; the burst arrays given to it must be
// C memory too (NewMbufArray). A BurstSet is owned by one thread and not
// safe for concurrent use.
type BurstSet struct {
	set    *C.struct_fcp_burst_set   // C memory
	tx, rx []C.struct_fcp_burst      // C memory
	rr     []C.struct_fcp_ring_burst // C memory
	free   []*Mbuf                   // the bulk free array (C memory), nil if none
}

// NewBurstSet returns a set of ntx TX and nrx RX bursts, each still to be
// bound with SetTx and SetRx, and a bulk free array of freeRoom mbufs
// (C memory; freeRoom 0: none).
func NewBurstSet(ntx, nrx, freeRoom int) *BurstSet {
	b := &BurstSet{}
	size := C.size_t(unsafe.Sizeof(C.struct_fcp_burst{}))
	b.set = (*C.struct_fcp_burst_set)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_fcp_burst_set{}))))
	if ntx > 0 {
		b.tx = unsafe.Slice((*C.struct_fcp_burst)(C.calloc(C.size_t(ntx), size)), ntx)
	}
	if nrx > 0 {
		b.rx = unsafe.Slice((*C.struct_fcp_burst)(C.calloc(C.size_t(nrx), size)), nrx)
	}
	if b.set == nil || (ntx > 0 && b.tx == nil) || (nrx > 0 && b.rx == nil) {
		panic("dpdk: calloc of a burst set failed")
	}
	b.free = NewMbufArray(freeRoom)
	b.set.tx, b.set.ntx = unsafe.SliceData(b.tx), C.uint32_t(ntx)
	b.set.rx, b.set.nrx = unsafe.SliceData(b.rx), C.uint32_t(nrx)
	b.set.fr = (**C.struct_rte_mbuf)(unsafe.Pointer(unsafe.SliceData(b.free)))
	return b
}

// SetTx binds TX burst i to queue q of port p and the array pkts, which
// StageTx fills from its start.
func (b *BurstSet) SetTx(i int, p Port, q uint16, pkts []*Mbuf) {
	b.tx[i] = C.struct_fcp_burst{pkts: (**C.struct_rte_mbuf)(unsafe.Pointer(unsafe.SliceData(pkts))), port: C.uint16_t(p), queue: C.uint16_t(q)}
}

// SetRx binds RX burst i to queue q of port p, receiving into pkts (at
// most len(pkts), which must fit a uint16).
func (b *BurstSet) SetRx(i int, p Port, q uint16, pkts []*Mbuf) {
	b.rx[i] = C.struct_fcp_burst{pkts: (**C.struct_rte_mbuf)(unsafe.Pointer(unsafe.SliceData(pkts))), port: C.uint16_t(p), queue: C.uint16_t(q), n: C.uint16_t(len(pkts))}
}

// SetRings gives the set n ring dequeue bursts, each still to be bound
// with SetRingRx (an unbound one is skipped). Call it once, before Run.
func (b *BurstSet) SetRings(n int) {
	if b.rr != nil || n <= 0 {
		panic("dpdk: SetRings called twice or with n <= 0")
	}
	p := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.struct_fcp_ring_burst{})))
	if p == nil {
		panic("dpdk: calloc of ring bursts failed")
	}
	b.rr = unsafe.Slice((*C.struct_fcp_ring_burst)(p), n)
	b.set.rr, b.set.nrr = unsafe.SliceData(b.rr), C.uint32_t(n)
}

// SetRingRx binds ring burst i to ring r (a single-consumer ring, or one
// only this thread dequeues from), dequeuing into pkts (C memory, at most
// len(pkts), which must fit a uint16).
func (b *BurstSet) SetRingRx(i int, r *Ring, pkts []*Mbuf) {
	b.rr[i] = C.struct_fcp_ring_burst{r: r.c(), pkts: (**C.struct_rte_mbuf)(unsafe.Pointer(unsafe.SliceData(pkts))), n: C.uint16_t(len(pkts))}
}

// RingReceived returns how many mbufs ring burst i dequeued in the last
// Run that did RX.
func (b *BurstSet) RingReceived(i int) int { return int(b.rr[i].done) }

// StageTx makes the next Run send the first n mbufs of TX burst i's array
// (0: skip it).
func (b *BurstSet) StageTx(i, n int) { b.tx[i].n = C.uint16_t(n) }

// FreeArray returns the bulk free array; StageFree makes the next Run
// free its first n mbufs.
func (b *BurstSet) FreeArray() []*Mbuf { return b.free }

// StageFree makes the next Run free the first n mbufs of FreeArray.
func (b *BurstSet) StageFree(n int) { b.set.nfree = C.uint32_t(n) }

// Run does, in one cgo call, the staged TX bursts (tx set), the staged
// bulk free, then every RX burst and ring dequeue (rx set), and clears
// what was staged. It returns the mbufs received and dequeued in all (0
// without rx); Sent, Received and RingReceived give each burst's result.
// Ownership of what a TX burst sent passes to the PMD; the rest of its
// array still belongs to the caller.
func (b *BurstSet) Run(tx, rx bool) int {
	tx = tx && len(b.tx) > 0
	rx = rx && len(b.rx)+len(b.rr) > 0
	if !tx && !rx && b.set.nfree == 0 {
		return 0
	}
	var dotx, dorx C.int
	if tx {
		dotx = 1
	}
	if rx {
		dorx = 1
	}
	return int(C.fcp_bursts(C.uintptr_t(uintptr(unsafe.Pointer(b.set))), dotx, dorx))
}

// Sent returns how many mbufs TX burst i sent in the last Run that did
// TX (0 if it was not staged).
func (b *BurstSet) Sent(i int) int { return int(b.tx[i].done) }

// Received returns how many mbufs RX burst i received in the last Run
// that did RX (a Run without RX leaves it).
func (b *BurstSet) Received(i int) int { return int(b.rx[i].done) }

// Free releases the set's C memory (not the mbufs or the bound arrays).
func (b *BurstSet) Free() {
	if b.tx != nil {
		C.free(unsafe.Pointer(&b.tx[0]))
	}
	if b.rx != nil {
		C.free(unsafe.Pointer(&b.rx[0]))
	}
	if b.rr != nil {
		C.free(unsafe.Pointer(&b.rr[0]))
	}
	C.free(unsafe.Pointer(b.set))
	FreeMbufArray(b.free)
	b.set, b.tx, b.rx, b.rr, b.free = nil, nil, nil, nil, nil
}
