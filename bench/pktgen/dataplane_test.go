package pktgen

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataplaneTwoWorkersAffinity runs the dataplane mode with two
// workers, each connection's packets on its owner's queue: the model
// finds every byte in order both ways, both workers carry traffic, and the
// report is well formed. It initialises the EAL (root): one dataplane run
// per test process.
func TestDataplaneTwoWorkersAffinity(t *testing.T) {
	var progress bytes.Buffer
	r, err := RunDataplane(DataplaneOptions{
		Options: Options{Duration: 1200 * time.Millisecond, Connections: 64, Subflows: 2, Sizes: []int{64, 1432},
			Mix: "64:1,1432:1", Workers: 2, Progress: &progress},
		Affinity: true,
		// No hugepages: the test does not compete for them with other
		// DPDK processes, and ring ports need no DMA memory.
		EAL: []string{"-l", "0", "--no-pci", "--no-telemetry", "--log-level=*:error", "-m", "256",
			"--no-huge", "--no-shconf", "--file-prefix=fg-pktgen-test-" + strconv.Itoa(os.Getpid())},
	})
	if err != nil {
		t.Fatal(err)
	}
	dp := r.Dataplane
	if dp == nil || r.Mode != "dataplane" {
		t.Fatalf("report %+v", r)
	}
	if dp.Workers != 2 || len(dp.WorkerCPUs) != 2 || !dp.Affinity || dp.PacketsIn == 0 || dp.PayloadBytes[0] == 0 ||
		dp.PayloadBytes[1] == 0 || dp.Mpps <= 0 || dp.MppsPerWorker != dp.Mpps/2 || len(dp.Drops) != 0 {
		t.Errorf("result: %+v", dp)
	}
	// The poll-loop figures: rounds with packets are among the busy
	// rounds, at most a burst of 32 per port (3 ports) each. The per-packet
	// estimate of the rounds with packets may be withheld (0) with two
	// workers on two CPUs, one sharing the generator's; never negative.
	if dp.BusyRxRounds == 0 || dp.BusyRounds < dp.BusyRxRounds || dp.PktsPerRxRound <= 0 || dp.PktsPerRxRound > 96 ||
		dp.CPUNsPerPkt <= 0 || dp.RxRoundCPUNsPerPkt < 0 || dp.EmptyRoundNs <= 0 || dp.IdleCPUShare <= 0 || dp.IdleCPUShare >= 1 {
		t.Errorf("poll-loop figures: %+v", dp)
	}
	if !strings.Contains(dp.Summary, "2 workers") || !strings.Contains(dp.Summary, "connections 64 (fallback 0), joins 64 accepted 0 rejected") {
		t.Errorf("summary: %s", dp.Summary)
	}
	if !strings.Contains(progress.String(), "dataplane: t=") {
		t.Errorf("no progress line: %q", progress.String())
	}
	var js, md bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Dataplane == nil || back.Dataplane.PacketsIn != dp.PacketsIn {
		t.Errorf("JSON round trip: %v\n%s", err, js.String())
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| metric | value |", "affinity: every packet of a connection on its owner's queue", "Mpps per worker"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
}
