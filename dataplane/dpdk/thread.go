package dpdk

/*
#include <rte_lcore.h>
#include <rte_errno.h>

static int fcp_thread_register(unsigned *lcore, int *err) {
	int ret = rte_thread_register();
	*err = ret < 0 ? rte_errno : 0;
	*lcore = rte_lcore_id();
	return ret;
}
*/
import "C"

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// LcoreIDAny is the lcore id of a thread that EAL does not know
// (LCORE_ID_ANY).
const LcoreIDAny = uint(C.LCORE_ID_ANY)

// RegisterThread registers the calling OS thread with EAL as a non-EAL
// lcore (rte_thread_register) and returns the lcore id it was given, so
// that mempool caches and other per-lcore state work on it.
//
// EAL state is per OS thread: call runtime.LockOSThread first and keep the
// goroutine locked until UnregisterThread. Pin the thread (PinThread) before
// registering, because EAL records the thread's affinity at this point.
// Registration needs the EAL's multi-process support to be off, which holds
// with --in-memory or --no-shconf.
func RegisterThread() (uint, error) {
	var lcore C.unsigned
	var e C.int
	if C.fcp_thread_register(&lcore, &e) < 0 {
		return LcoreIDAny, cErr(e, "rte_thread_register: run with --in-memory or "+
			"--no-shconf, and keep fewer threads than RTE_MAX_LCORE")
	}
	return uint(lcore), nil
}

// UnregisterThread releases the calling thread's lcore id
// (rte_thread_unregister). Call it before runtime.UnlockOSThread.
func UnregisterThread() { C.rte_thread_unregister() }

// LcoreID returns the calling OS thread's lcore id (rte_lcore_id), or
// LcoreIDAny. It only means something on a locked OS thread.
func LcoreID() uint { return uint(C.rte_lcore_id()) }

// PinThread restricts the calling OS thread to one CPU
// (sched_setaffinity). The caller must have called runtime.LockOSThread,
// otherwise the Go scheduler may move the goroutine to an unpinned thread
// and leave another goroutine on the pinned one.
func PinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("dpdk: pin thread to CPU %d: %w (choose a CPU this process may use)", cpu, err)
	}
	return nil
}
