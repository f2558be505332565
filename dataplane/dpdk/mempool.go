package dpdk

/*
#cgo noescape fcp_alloc_bulk
#cgo nocallback fcp_alloc_bulk
#cgo noescape rte_pktmbuf_free_bulk
#cgo nocallback rte_pktmbuf_free_bulk
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>

static struct rte_mempool *fcp_pktmbuf_pool_create(const char *name, unsigned n,
		unsigned cache, uint16_t priv, uint16_t room, int socket, int *err) {
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, cache, priv, room, socket);
	*err = mp == NULL ? rte_errno : 0;
	return mp;
}
static unsigned fcp_mempool_avail(struct rte_mempool *mp) { return rte_mempool_avail_count(mp); }
static unsigned fcp_mempool_in_use(struct rte_mempool *mp) { return rte_mempool_in_use_count(mp); }
static uint16_t fcp_data_room(struct rte_mempool *mp) { return rte_pktmbuf_data_room_size(mp); }
static int fcp_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n) {
	return rte_pktmbuf_alloc_bulk(mp, pkts, n);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

const (
	// SocketAny asks for memory on any NUMA socket (SOCKET_ID_ANY).
	SocketAny = -1
	// DefaultDataRoom is RTE_MBUF_DEFAULT_BUF_SIZE: 2048 bytes of data plus
	// the default headroom.
	DefaultDataRoom = C.RTE_MBUF_DEFAULT_BUF_SIZE
	// MbufHeadroom is RTE_PKTMBUF_HEADROOM, the headroom a fresh mbuf has.
	MbufHeadroom = C.RTE_PKTMBUF_HEADROOM
	// MempoolCacheMax is the largest per-lcore cache size a mempool accepts.
	MempoolCacheMax = C.RTE_MEMPOOL_CACHE_MAX_SIZE
)

// Mempool is a pool of packet mbufs (struct rte_mempool). A *Mempool points
// into C memory; it is valid until Free.
type Mempool C.struct_rte_mempool

// NewPktmbufPool creates a pool of n mbufs (rte_pktmbuf_pool_create): cache
// mbufs cached per lcore, priv bytes of application area after each struct
// rte_mbuf, dataRoom bytes of buffer (headroom included, DefaultDataRoom is
// the usual value), on NUMA socket (SocketAny for any). n is best one less
// than a power of two. Names are global to the process.
func NewPktmbufPool(name string, n, cache uint32, priv, dataRoom uint16, socket int) (*Mempool, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var e C.int
	mp := C.fcp_pktmbuf_pool_create(cs, C.unsigned(n), C.unsigned(cache), C.uint16_t(priv),
		C.uint16_t(dataRoom), C.int(socket), &e)
	if mp == nil {
		return nil, cErr(e, "rte_pktmbuf_pool_create(%q, n=%d, cache=%d, room=%d, socket=%d): "+
			"use a unique name, cache <= %d, and give EAL more memory (-m) if it is ENOMEM",
			name, n, cache, dataRoom, socket, MempoolCacheMax)
	}
	return (*Mempool)(mp), nil
}

func (mp *Mempool) c() *C.struct_rte_mempool { return (*C.struct_rte_mempool)(mp) }

// Name returns the pool's name.
func (mp *Mempool) Name() string { return C.GoString(&mp.c().name[0]) }

// Size returns the number of mbufs the pool was created with.
func (mp *Mempool) Size() int { return int(mp.c().size) }

// AvailCount returns how many mbufs are free, per-lcore caches included
// (rte_mempool_avail_count). It walks the caches: call it from the control
// plane.
func (mp *Mempool) AvailCount() int { return int(C.fcp_mempool_avail(mp.c())) }

// InUseCount returns how many mbufs are allocated
// (rte_mempool_in_use_count).
func (mp *Mempool) InUseCount() int { return int(C.fcp_mempool_in_use(mp.c())) }

// DataRoom returns the buffer size of the pool's mbufs, headroom included.
func (mp *Mempool) DataRoom() uint16 { return uint16(C.fcp_data_room(mp.c())) }

// Free releases the pool (rte_mempool_free). Every mbuf must have been
// returned and no port may still use the pool.
func (mp *Mempool) Free() { C.rte_mempool_free(mp.c()) }

// AllocBulk fills pkts with freshly reset mbufs (rte_pktmbuf_alloc_bulk,
// one cgo call). It is all or nothing: false means the pool could not supply
// len(pkts) mbufs and pkts was left unchanged.
func (mp *Mempool) AllocBulk(pkts []*Mbuf) bool {
	if len(pkts) == 0 {
		return true
	}
	return C.fcp_alloc_bulk(mp.c(), (**C.struct_rte_mbuf)(unsafe.Pointer(&pkts[0])), C.unsigned(len(pkts))) == 0
}

// FreeBulk returns every mbuf in pkts to its pool (rte_pktmbuf_free_bulk,
// one cgo call). nil entries are skipped. The caller must not use the mbufs
// afterwards; FreeBulk does not clear the slice.
func FreeBulk(pkts []*Mbuf) {
	if len(pkts) == 0 {
		return
	}
	C.rte_pktmbuf_free_bulk((**C.struct_rte_mbuf)(unsafe.Pointer(&pkts[0])), C.unsigned(len(pkts)))
}

// String describes the pool for logs.
func (mp *Mempool) String() string {
	return fmt.Sprintf("mempool %q (%d mbufs, room %d)", mp.Name(), mp.Size(), mp.DataRoom())
}

// NewMbufArray returns a burst array of n mbuf pointers in C memory, for
// the burst calls. The calls accept any []*Mbuf, but cgo's run-time pointer
// check (GODEBUG=cgocheck=1, the default) scans a Go-allocated array on
// every call, which costs more than the burst itself; an array in C memory
// is checked with one lookup. Free it with FreeMbufArray, not FreeBulk
// (which frees the mbufs it holds).
func NewMbufArray(n int) []*Mbuf {
	if n <= 0 {
		return nil
	}
	p := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*Mbuf)(nil))))
	if p == nil {
		panic("dpdk: calloc of an mbuf array failed")
	}
	return unsafe.Slice((**Mbuf)(p), n)
}

// FreeMbufArray releases an array from NewMbufArray. The mbufs it points to
// are not freed.
func FreeMbufArray(a []*Mbuf) {
	if cap(a) > 0 {
		C.free(unsafe.Pointer(unsafe.SliceData(a)))
	}
}
