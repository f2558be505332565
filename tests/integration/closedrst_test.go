//go:build integration

package integration

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestE2EAbortLostReset: the client aborts a download (SO_LINGER 0: the
// kernel sends RST with MP_FASTCLOSE), flexcp resets the server with one
// RST on the server's 4-tuple, and a one-shot iptables rule in the server
// namespace drops exactly that RST. flexcp lingers 60 s (the default), so
// before I32 the server's retransmissions were dropped as closed for a
// minute and its socket lived on; now flexcp answers the server's first
// retransmission (after its RTO, 200 ms at the soonest) with an RST, and
// the server's blocked write must fail within 10 s.
func TestE2EAbortLostReset(t *testing.T) {
	e := newE2E(t, "198.18.3.2:5001", `linger = "60s"`)
	ctx := withTimeout(t, 3*time.Minute)
	// xt_statistic nth: iptables starts the counter at (every-1)-packet
	// and a packet matches when it reaches every-1, so --packet 0 drops
	// the first RST to the server's port and the next only after a
	// million more.
	rule := []string{"INPUT", "-p", "tcp", "--dport", "5001", "--tcp-flags", "RST", "RST",
		"-m", "statistic", "--mode", "nth", "--every", "1000000", "--packet", "0", "-j", "DROP"}
	nsRun(t, nsS, append([]string{"iptables", "-A"}, rule...)...)
	t.Cleanup(func() { nsTry(nsS, append([]string{"iptables", "-D"}, rule...)...) })

	c, s := e.connect(ctx, true)
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := s.Write(buf); err != nil {
				werr <- err
				return
			}
		}
	}()
	if _, err := io.ReadFull(c, make([]byte, 4<<20)); err != nil {
		t.Fatalf("download before the abort: %v", err)
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	start := time.Now()
	var err error
	select {
	case err = <-werr:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server's write still blocked 30 s after the client's abort (flexcp_closed_resets_total %v)",
			sum(e.p.mustScrape(t), "flexcp_closed_resets_total"))
	}
	el := time.Since(start)
	s.Close()

	dropped := ruleDrops(t)
	// The workers publish their counters periodically: wait for the
	// answer to show.
	var resets, closed float64
	for i := 0; i < 50 && resets < 1; i++ {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		m := e.p.mustScrape(t)
		resets, closed = sum(m, "flexcp_closed_resets_total"), sum(m, "flexcp_drops_total", `reason="translate_closed"`)
	}
	t.Logf("server write failed %.0f ms after the abort (%v); RSTs dropped by the rule %d; flexcp_closed_resets_total %v; translate_closed %v",
		el.Seconds()*1e3, err, dropped, resets, closed)
	if dropped != 1 {
		t.Fatalf("the rule dropped %d RSTs, want exactly flexcp's RST at the close", dropped)
	}
	if resets < 1 {
		t.Fatalf("flexcp_closed_resets_total %v: the server was not reset by flexcp's answer", resets)
	}
	if el > 10*time.Second {
		t.Errorf("the server's socket lived %.1f s after the abort, want well below the 60 s linger", el.Seconds())
	}
	if out := nsRun(t, nsS, "ss", "-Htn", "state", "established", "( sport = :5001 )"); strings.TrimSpace(out) != "" {
		t.Errorf("server socket still established:\n%s", out)
	}
}

// ruleDrops returns the packet count of the DROP rule in the server
// namespace's INPUT chain.
func ruleDrops(t *testing.T) int {
	t.Helper()
	for _, l := range strings.Split(nsRun(t, nsS, "iptables", "-L", "INPUT", "-v", "-n", "-x"), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[2] == "DROP" {
			n, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("iptables counter %q: %v", f[0], err)
			}
			return n
		}
	}
	t.Fatal("DROP rule not found in the server namespace")
	return 0
}
