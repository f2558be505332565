package dpdk

/*
#cgo pkg-config: libdpdk
#cgo CFLAGS: -DALLOW_EXPERIMENTAL_API
#include <stdlib.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_dev.h>

static int fcp_eal_init(int argc, char **argv, int *err) {
	int ret = rte_eal_init(argc, argv);
	*err = ret < 0 ? rte_errno : 0;
	return ret;
}

static uint64_t fcp_tsc_cycles(void) { return rte_get_tsc_cycles(); }
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// eal is the goroutine that ran rte_eal_init. It keeps EAL's main-lcore
// thread locked and parked, so that no other goroutine ever runs on a
// thread whose lcore id is the main lcore's, and runs Cleanup there.
var eal struct {
	sync.Mutex
	calls   chan func()
	cleaned bool
}

// Init initialises the EAL with args, which is argv as rte_eal_init takes
// it: args[0] is the program name, then EAL options such as
// "-l 0 --no-huge -m 512 --no-shconf --vdev=net_null0". It returns how many
// elements of args the EAL consumed (program name not counted, as
// rte_eal_init). Init can succeed once per process.
//
// rte_eal_init makes its calling thread the main lcore and pins it to that
// lcore's CPUs. Init runs it on a dedicated OS thread that stays locked and
// idle until Cleanup, so no goroutine inherits the main lcore's identity or
// pinning; poll loops run on threads added with RegisterThread. The
// argument strings are copied to C memory and never freed, because EAL may
// keep pointers into them.
func Init(args []string) (int, error) {
	if len(args) == 0 {
		args = []string{"flexcp"}
	}
	eal.Lock()
	defer eal.Unlock()
	if eal.calls != nil {
		return 0, fmt.Errorf("dpdk: rte_eal_init(%q): EAL is already initialised; call Init once per process", args)
	}
	type result struct {
		ret C.int
		e   C.int
	}
	done := make(chan result)
	calls := make(chan func())
	go func() {
		runtime.LockOSThread()
		argv := (**C.char)(C.calloc(C.size_t(len(args)+1), C.size_t(unsafe.Sizeof(uintptr(0)))))
		av := unsafe.Slice(argv, len(args)+1)
		for i, a := range args {
			av[i] = C.CString(a)
		}
		var r result
		r.ret = C.fcp_eal_init(C.int(len(args)), argv, &r.e)
		done <- r
		if r.ret < 0 {
			return // exits locked: Go discards the thread
		}
		for f := range calls {
			f()
		}
	}()
	r := <-done
	if r.ret < 0 {
		return 0, cErr(r.e, "rte_eal_init(%q): check the EAL arguments and run as root "+
			"(without hugepages pass --no-huge -m <MB> --no-shconf)", args)
	}
	eal.calls = calls
	return int(r.ret), nil
}

// Cleanup releases EAL resources (rte_eal_cleanup) on EAL's main thread.
// Stop and close every port first; nothing in this package may be used
// afterwards.
func Cleanup() error {
	eal.Lock()
	defer eal.Unlock()
	if eal.calls == nil || eal.cleaned {
		return fmt.Errorf("dpdk: rte_eal_cleanup: EAL is not initialised or already cleaned up")
	}
	eal.cleaned = true
	var ret C.int
	done := make(chan struct{})
	eal.calls <- func() {
		ret = C.rte_eal_cleanup()
		close(done)
	}
	<-done
	close(eal.calls)
	if ret < 0 {
		return fmt.Errorf("dpdk: rte_eal_cleanup: %w", Errno(-ret))
	}
	return nil
}

// DevProbe hot-plugs a device after Init (rte_dev_probe), e.g.
// "net_af_xdp0,iface=p1,start_queue=0,queue_count=1". Virtual devices that
// open kernel interfaces resolve the interface in the network namespace of
// the calling OS thread.
func DevProbe(devargs string) error {
	cs := C.CString(devargs)
	defer C.free(unsafe.Pointer(cs))
	return errRet(C.rte_dev_probe(cs), "rte_dev_probe(%q)", devargs)
}

// RuntimeDir returns the directory EAL keeps its runtime files in
// (rte_eal_get_runtime_dir), /var/run/dpdk/<file-prefix> for root. EAL
// creates it even with --no-shconf and does not remove it at Cleanup;
// callers that use a per-run --file-prefix should remove it after Cleanup.
func RuntimeDir() string { return C.GoString(C.rte_eal_get_runtime_dir()) }

// LcoreCount returns the number of lcores EAL was started with
// (rte_lcore_count); threads added with RegisterThread are not counted.
func LcoreCount() int { return int(C.rte_lcore_count()) }

// MainLcore returns the id of EAL's main lcore (rte_get_main_lcore).
func MainLcore() uint { return uint(C.rte_get_main_lcore()) }

// SocketCount returns the number of NUMA sockets EAL detected.
func SocketCount() int { return int(C.rte_socket_count()) }

// TSCCycles reads the time-stamp counter (rte_get_tsc_cycles). It is a cgo
// call: read it once per burst, not per packet.
func TSCCycles() uint64 { return uint64(C.fcp_tsc_cycles()) }

// TSCHz returns the TSC frequency EAL measured at Init (rte_get_tsc_hz).
func TSCHz() uint64 { return uint64(C.rte_get_tsc_hz()) }
