package dpdk

/*
#cgo noescape fcp_ring_enq
#cgo nocallback fcp_ring_enq
#cgo noescape fcp_ring_deq
#cgo nocallback fcp_ring_deq
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_mbuf.h>

static struct rte_ring *fcp_ring_create(const char *name, unsigned count, int socket, unsigned flags, int *err) {
	struct rte_ring *r = rte_ring_create(name, count, socket, flags);
	*err = r == NULL ? rte_errno : 0;
	return r;
}
static unsigned fcp_ring_enq(struct rte_ring *r, struct rte_mbuf **pkts, unsigned n) {
	return rte_ring_enqueue_burst(r, (void * const *)pkts, n, NULL);
}
static unsigned fcp_ring_deq(struct rte_ring *r, struct rte_mbuf **pkts, unsigned n) {
	return rte_ring_dequeue_burst(r, (void **)pkts, n, NULL);
}
static unsigned fcp_ring_count(struct rte_ring *r) { return rte_ring_count(r); }
static unsigned fcp_ring_free_count(struct rte_ring *r) { return rte_ring_free_count(r); }
static unsigned fcp_ring_capacity(struct rte_ring *r) { return rte_ring_get_capacity(r); }
*/
import "C"

import "unsafe"

// RingFlags select a ring's synchronisation (RING_F_*).
type RingFlags uint32

const (
	// RingSPEnq makes enqueue single-producer (RING_F_SP_ENQ).
	RingSPEnq RingFlags = C.RING_F_SP_ENQ
	// RingSCDeq makes dequeue single-consumer (RING_F_SC_DEQ).
	RingSCDeq RingFlags = C.RING_F_SC_DEQ
	// RingExactSize makes the capacity exactly the requested count instead
	// of the next power of two minus one (RING_F_EXACT_SZ).
	RingExactSize RingFlags = C.RING_F_EXACT_SZ
)

// Ring is a lock-free FIFO of mbuf pointers (struct rte_ring) in C memory,
// valid until Free. With RingSPEnq|RingSCDeq it is the per-core-pair
// handoff ring of the design: one producer thread and one consumer thread.
type Ring C.struct_rte_ring

// NewRing creates a ring (rte_ring_create). count must be a power of two
// unless flags has RingExactSize; the usable capacity is count-1 then.
// Names are global to the process.
func NewRing(name string, count uint32, socket int, flags RingFlags) (*Ring, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var e C.int
	r := C.fcp_ring_create(cs, C.unsigned(count), C.int(socket), C.unsigned(flags), &e)
	if r == nil {
		return nil, cErr(e, "rte_ring_create(%q, %d, flags %#x): use a unique name and a "+
			"power-of-two count (or RingExactSize)", name, count, uint32(flags))
	}
	return (*Ring)(r), nil
}

func (r *Ring) c() *C.struct_rte_ring { return (*C.struct_rte_ring)(r) }

// Name returns the ring's name.
func (r *Ring) Name() string { return C.GoString(&r.c().name[0]) }

// Free releases the ring (rte_ring_free). Mbufs still in it are not freed.
func (r *Ring) Free() { C.rte_ring_free(r.c()) }

// EnqueueBurst adds as many of pkts as fit (rte_ring_enqueue_burst, one cgo
// call) and returns how many. Ownership of pkts[:n] passes to the consumer.
func (r *Ring) EnqueueBurst(pkts []*Mbuf) int {
	if len(pkts) == 0 {
		return 0
	}
	return int(C.fcp_ring_enq(r.c(), (**C.struct_rte_mbuf)(unsafe.Pointer(&pkts[0])), C.unsigned(len(pkts))))
}

// DequeueBurst removes up to len(pkts) mbufs into pkts
// (rte_ring_dequeue_burst, one cgo call) and returns how many.
func (r *Ring) DequeueBurst(pkts []*Mbuf) int {
	if len(pkts) == 0 {
		return 0
	}
	return int(C.fcp_ring_deq(r.c(), (**C.struct_rte_mbuf)(unsafe.Pointer(&pkts[0])), C.unsigned(len(pkts))))
}

// Count returns how many entries the ring holds (rte_ring_count).
func (r *Ring) Count() int { return int(C.fcp_ring_count(r.c())) }

// FreeCount returns how many entries fit (rte_ring_free_count).
func (r *Ring) FreeCount() int { return int(C.fcp_ring_free_count(r.c())) }

// Capacity returns how many entries the ring can hold
// (rte_ring_get_capacity).
func (r *Ring) Capacity() int { return int(C.fcp_ring_capacity(r.c())) }
