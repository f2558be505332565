package dpdk

/*
#include <string.h>
#include <rte_errno.h>

static void fcp_strerror(int e, char *buf, size_t n) {
	const char *s = rte_strerror(e);
	strncpy(buf, s, n - 1);
	buf[n - 1] = 0;
}
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Errno is an error number reported by DPDK: the negated return value of an
// ethdev call or the value of rte_errno after a call that returned NULL or
// -1. Its text comes from rte_strerror, which knows libc's errno values and
// DPDK's own (E_RTE_SECONDARY, E_RTE_NO_CONFIG).
type Errno int

// Error returns rte_strerror's text for e.
func (e Errno) Error() string {
	var buf [128]byte
	C.fcp_strerror(C.int(e), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	n := 0
	for n < len(buf) && buf[n] != 0 {
		n++
	}
	return string(buf[:n])
}

// Is reports whether target is the syscall.Errno with the same number, so
// that errors.Is(err, syscall.ENOTSUP) works on wrapped DPDK errors.
func (e Errno) Is(target error) bool {
	t, ok := target.(syscall.Errno)
	return ok && int(t) == int(e)
}

// errRet turns a DPDK "negative errno on failure" return into an error
// wrapped with the call it came from, or nil when ret >= 0.
func errRet(ret C.int, format string, args ...any) error {
	if ret >= 0 {
		return nil
	}
	return fmt.Errorf("dpdk: "+format+": %w", append(args, Errno(-ret))...)
}

// cErr wraps a positive errno (captured inside the C call that failed).
func cErr(e C.int, format string, args ...any) error {
	if e < 0 {
		e = -e
	}
	return fmt.Errorf("dpdk: "+format+": %w", append(args, Errno(e))...)
}

// cInt converts for tests, which cannot use cgo themselves.
func cInt(v int) C.int { return C.int(v) }
