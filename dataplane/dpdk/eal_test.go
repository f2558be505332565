package dpdk

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestInitTwiceFails(t *testing.T) {
	_, err := Init(testEALArgs())
	if err == nil {
		t.Fatal("second Init succeeded")
	}
	if !strings.Contains(err.Error(), "already initialised") {
		t.Errorf("error %q does not name rte_eal_init", err)
	}
}

func TestErrno(t *testing.T) {
	tests := []struct {
		name string
		in   Errno
		want string
		is   error
	}{
		{"ENOTSUP", Errno(syscall.ENOTSUP), "Operation not supported", syscall.ENOTSUP},
		{"EINVAL", Errno(syscall.EINVAL), "Invalid argument", syscall.EINVAL},
		{"ENODEV", Errno(syscall.ENODEV), "No such device", syscall.ENODEV},
		{"E_RTE_SECONDARY", Errno(1001), "Invalid call in secondary process", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if tt.is != nil && !errors.Is(errRet(-cInt(int(tt.in)), "call(%d)", 1), tt.is) {
				t.Errorf("wrapped error is not %v", tt.is)
			}
		})
	}
}

func TestLcores(t *testing.T) {
	if n := LcoreCount(); n != 1 {
		t.Errorf("LcoreCount() = %d, want 1", n)
	}
	if s := SocketCount(); s < 1 {
		t.Errorf("SocketCount() = %d, want >= 1", s)
	}
	if hz := TSCHz(); hz == 0 {
		t.Error("TSCHz() = 0")
	}
	a := TSCCycles()
	b := TSCCycles()
	if b < a {
		t.Errorf("TSC went backwards: %d then %d", a, b)
	}
}
