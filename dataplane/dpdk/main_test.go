package dpdk

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// testEALArgs are the EAL arguments every test in this package shares: EAL
// can be initialised once per process. --no-huge and --no-shconf keep the
// tests independent of hugepages and leave no files behind.
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
		"dpdk.test",
		"-l", strconv.Itoa(cpu),
		"--no-huge", "-m", "256",
		"--no-pci", "--no-shconf", "--no-telemetry",
		"--file-prefix=h1-dpdk-test-" + strconv.Itoa(os.Getpid()),
		"--log-level=*:error",
		"--vdev=net_null0",
		"--vdev=net_null1",
		"--vdev=net_ring0",
		"--vdev=net_ring1",
	}
}

func TestMain(m *testing.M) {
	if _, err := Init(testEALArgs()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	dir := RuntimeDir()
	if err := Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if strings.Contains(dir, "h1-dpdk-test-") {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

var poolSeq int

// newTestPool creates a mempool with a unique name, freed when t ends.
func newTestPool(t testing.TB, n, cache uint32) *Mempool {
	t.Helper()
	poolSeq++
	mp, err := NewPktmbufPool(fmt.Sprintf("h1t%d", poolSeq), n, cache, 0, DefaultDataRoom, SocketAny)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mp.Free)
	return mp
}

// testPort looks a port up by name or fails the test.
func testPort(t testing.TB, name string) Port {
	t.Helper()
	p, err := PortByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
