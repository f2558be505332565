package dpdk

/*
#cgo LDFLAGS: -lrte_net_ring
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_eth_ring.h>

static int fcp_eth_from_rings(const char *name, struct rte_ring **rx, unsigned nrx,
		struct rte_ring **tx, unsigned ntx, unsigned socket, int *err) {
	int id = rte_eth_from_rings(name, rx, nrx, tx, ntx, socket);
	*err = id < 0 ? rte_errno : 0;
	return id;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// NewRingPort creates an ethdev whose receive queue q reads rx[q] and whose
// transmit queue q writes tx[q] (rte_eth_from_rings, the net_ring PMD). The
// other ends of the rings belong to the caller: it enqueues the frames the
// port will receive into rx and dequeues what the port sent from tx. That
// lets a packet generator in the same process play the network on both
// sides of a dataplane without a NIC. The port must still be configured,
// set up (one RX and one TX queue per ring; descriptor counts are ignored)
// and started like any other. socket is the NUMA node of the port's
// memory (SocketAny means node 0). The PMD names the ethdev
// "net_ring_" + name (Port.Name, PortByName); names are global to the
// process. The rings must outlive the port.
func NewRingPort(name string, rx, tx []*Ring, socket int) (Port, error) {
	if len(rx) == 0 || len(tx) == 0 {
		return 0, fmt.Errorf("dpdk: ring port %q: %d RX and %d TX rings: want at least one of each", name, len(rx), len(tx))
	}
	if socket < 0 {
		socket = 0
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	// rte_eth_from_rings copies the ring pointers: C arrays for the call
	// only.
	arr := (*[2]unsafe.Pointer)(C.calloc(C.size_t(len(rx)+len(tx)), C.size_t(unsafe.Sizeof(uintptr(0)))))
	if arr == nil {
		return 0, fmt.Errorf("dpdk: ring port %q: calloc failed", name)
	}
	defer C.free(unsafe.Pointer(arr))
	all := unsafe.Slice((**C.struct_rte_ring)(unsafe.Pointer(arr)), len(rx)+len(tx))
	for i, r := range rx {
		all[i] = r.c()
	}
	for i, r := range tx {
		all[len(rx)+i] = r.c()
	}
	var e C.int
	id := C.fcp_eth_from_rings(cs, &all[0], C.unsigned(len(rx)), &all[len(rx)], C.unsigned(len(tx)), C.unsigned(socket), &e)
	if id < 0 {
		return 0, cErr(e, "rte_eth_from_rings(%q, %d RX, %d TX rings): use a unique name and EAL memory for the port", name, len(rx), len(tx))
	}
	return Port(id), nil
}
