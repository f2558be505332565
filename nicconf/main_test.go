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

// TestMain starts EAL once for every test (EAL starts once per process);
// like dataplane/dpdk's tests, these need root and DPDK, which `make test`
// provides, and fail rather than skip without them.
func TestMain(m *testing.M) {
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
