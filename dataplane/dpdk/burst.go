package dpdk

/*
#cgo noescape fcp_bursts
#cgo nocallback fcp_bursts
#include <stdlib.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

struct fcp_burst {
	struct rte_mbuf **pkts;
	uint16_t port, queue;
	uint16_t n;    // TX: mbufs to send (0: skip); RX: room
	uint16_t done; // TX: mbufs the PMD took; RX: mbufs received
};

static void fcp_bursts(struct fcp_burst *tx, unsigned ntx, struct rte_mbuf **fr, unsigned nfree,
		struct fcp_burst *rx, unsigned nrx) {
	unsigned i;
	for (i = 0; i < ntx; i++) {
		struct fcp_burst *b = &tx[i];
		b->done = b->n == 0 ? 0 : rte_eth_tx_burst(b->port, b->queue, b->pkts, b->n);
	}
	if (nfree > 0)
		rte_pktmbuf_free_bulk(fr, nfree);
	for (i = 0; i < nrx; i++) {
		struct fcp_burst *b = &rx[i];
		b->done = rte_eth_rx_burst(b->port, b->queue, b->pkts, b->n);
	}
}
*/
import "C"

import "unsafe"

// BurstSet is the bursts of one polling round on several ports, done in
// one cgo call (Run): a TX burst per port, a bulk free, then an RX burst
// per port. A cgo call costs about as much as a 32-packet ring burst
// (runtime.cgocall with entersyscall/exitsyscall: 50-100 ns on the
// 2-core EPYC VM, 2026-11-25), so one call per round instead of one per
// port and direction shortens every round, and an empty poll of all
// ports most of all.
//
// Its descriptors live in C memory; the burst arrays given to it must be
// C memory too (NewMbufArray). A BurstSet is owned by one thread and not
// safe for concurrent use.
type BurstSet struct {
	tx, rx   []C.struct_fcp_burst
	ntx, nrx int
	free     []*Mbuf // the bulk free array (C memory), nil if none
	nfree    int
}

// NewBurstSet returns a set of ntx TX and nrx RX bursts, each still to be
// bound with SetTx and SetRx, and a bulk free array of freeRoom mbufs
// (C memory; freeRoom 0: none).
func NewBurstSet(ntx, nrx, freeRoom int) *BurstSet {
	b := &BurstSet{ntx: ntx, nrx: nrx}
	size := C.size_t(unsafe.Sizeof(C.struct_fcp_burst{}))
	if ntx > 0 {
		b.tx = unsafe.Slice((*C.struct_fcp_burst)(C.calloc(C.size_t(ntx), size)), ntx)
	}
	if nrx > 0 {
		b.rx = unsafe.Slice((*C.struct_fcp_burst)(C.calloc(C.size_t(nrx), size)), nrx)
	}
	if (ntx > 0 && b.tx == nil) || (nrx > 0 && b.rx == nil) {
		panic("dpdk: calloc of a burst set failed")
	}
	b.free = NewMbufArray(freeRoom)
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

// StageTx makes the next Run send the first n mbufs of TX burst i's array
// (0: skip it).
func (b *BurstSet) StageTx(i, n int) { b.tx[i].n = C.uint16_t(n) }

// FreeArray returns the bulk free array; StageFree makes the next Run
// free its first n mbufs.
func (b *BurstSet) FreeArray() []*Mbuf { return b.free }

// StageFree makes the next Run free the first n mbufs of FreeArray.
func (b *BurstSet) StageFree(n int) { b.nfree = n }

// Run does, in one cgo call, the staged TX bursts (tx set), the staged
// bulk free, then every RX burst (rx set), and clears what was staged.
// Sent and Received give the results. Ownership of what a TX burst sent
// passes to the PMD; the rest of its array still belongs to the caller.
func (b *BurstSet) Run(tx, rx bool) {
	var txp, rxp *C.struct_fcp_burst
	ntx, nrx := 0, 0
	if tx && b.ntx > 0 {
		txp, ntx = &b.tx[0], b.ntx
	}
	if rx && b.nrx > 0 {
		rxp, nrx = &b.rx[0], b.nrx
	}
	var frp **C.struct_rte_mbuf
	if b.nfree > 0 {
		frp = (**C.struct_rte_mbuf)(unsafe.Pointer(&b.free[0]))
	}
	if ntx == 0 && nrx == 0 && b.nfree == 0 {
		return
	}
	C.fcp_bursts(txp, C.unsigned(ntx), frp, C.unsigned(b.nfree), rxp, C.unsigned(nrx))
	b.nfree = 0
	if ntx > 0 {
		for i := range b.tx {
			b.tx[i].n = 0
		}
	}
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
	FreeMbufArray(b.free)
	b.tx, b.rx, b.free = nil, nil, nil
}
