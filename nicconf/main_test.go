package nicconf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"golang.org/x/sys/unix"
)

// ealErr is why EAL could not start (not root, no DPDK); tests that need
// real ports skip with it. EAL starts once per process, so TestMain does
// it for every test.
var ealErr error

func testEALArgs() []string {
	cpu := 0
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		for i := 0; i < 1024; i++ {
			if set.IsSet(i) {
				cpu = i
				break
			}
		}
	}
	return []string{
		"nicconf.test",
		"-l", strconv.Itoa(cpu),
		"--no-huge", "-m", "256",
		"--no-pci", "--no-shconf", "--no-telemetry",
		"--file-prefix=nicconf-test-" + strconv.Itoa(os.Getpid()),
		"--log-level=*:error",
		"--vdev=net_null0",
		"--vdev=net_null1",
	}
}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		ealErr = fmt.Errorf("EAL needs root")
		os.Exit(m.Run())
	}
	if _, err := dpdk.Init(testEALArgs()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	dir := dpdk.RuntimeDir()
	if err := dpdk.Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if strings.Contains(dir, "nicconf-test-") {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// needEAL fails t when EAL is not running as root (CI runs as root with
// DPDK installed, so a failed EAL there is a real failure); for a non-root
// developer it skips, since DPDK cannot start without privileges.
func needEAL(t testing.TB) {
	t.Helper()
	if ealErr == nil {
		return
	}
	if os.Geteuid() == 0 {
		t.Fatalf("DPDK EAL failed to start as root: %v", ealErr)
	}
	t.Skipf("DPDK EAL needs root: %v", ealErr)
}
