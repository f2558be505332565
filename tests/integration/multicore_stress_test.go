//go:build integration && stress

package integration

// The two-worker version of TestE2EPathDown (stress_test.go). The upload
// after path 2 is cut stalled in each of 3 runs here on 2026-11-25 (the
// download passed each time), and the single-worker TestE2EPathDown/up
// stalled the same way in its one run on the same branch and day, so the
// stall is the translator's, not the handoff's (TestE2EPathDownUpload);
// it runs with `make test-stress` until that is found.

import (
	"testing"
	"time"
)

// TestMulticorePathDown: path 2 stops carrying packets mid-transfer; the
// transfer completes over path 1, byte-exact.
func TestMulticorePathDown(t *testing.T) {
	for _, dir := range []string{"up", "down"} {
		t.Run(dir, func(t *testing.T) {
			e := newE2E2(t, "198.18.3.2:5001")
			ctx := withTimeout(t, 3*time.Minute)
			client, server := e.connect(ctx, true)
			up, down := int64(64<<20), int64(0)
			if dir == "down" {
				up, down = 0, 64<<20
			}
			cut := time.AfterFunc(700*time.Millisecond, func() {
				nsTry(nsC, "iptables", "-I", "OUTPUT", "-o", "c2", "-j", "DROP")
				nsTry(nsC, "iptables", "-I", "INPUT", "-i", "c2", "-j", "DROP")
			})
			defer cut.Stop()
			snap := snapCounters(t, e.p)
			_, _, err := exchange(client, server, 41, up, down)
			client.Close()
			server.Close()
			if err != nil {
				logDelta(t, e.p, snap)
				e.checkHandoffs(0)
				t.Fatal(err)
			}
			e.checkTwoSubflows(1 << 10)
			e.checkHandoffs(1)
		})
	}
}
