//go:build integration && soak

package integration

// The soak (issue 8): `make soak DURATION=30m` (not part of `make test`).
// Mixed traffic with connection churn runs for SOAK_DURATION while
// flexcp's memory and table occupancy are sampled every SOAK_INTERVAL
// into results/soak.csv; results/soak.md gets the summary and the
// flatness verdict.

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakSample is one row of results/soak.csv.
type soakSample struct {
	at                          time.Duration
	rssKB                       float64
	conns, subflows, tokens     float64
	trees, records, poolInUse   float64
	opened, fallbacks, drops    float64
	bulkDone, shortDone, errors int64
}

// rssKB reads VmRSS of pid from /proc.
func rssKB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return math.NaN()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return math.NaN()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)/2]
}

// TestSoak runs the mixed load: two bulk workers (a connection of 4-32 MB
// each way, then a new one), a short-connection worker (connect, 64 bytes
// each way, close) and, every minute, 20 s of 1% loss on path 2. Every
// transfer is checked byte-exact. At the end the tables must be empty, the
// mempool back to idle, and flexcp's RSS flat: the median of the last
// quarter of samples at most 5% (plus 4 MB) above the median of the
// second quarter (the first quarter is warm-up).
func TestSoak(t *testing.T) {
	dur, err := time.ParseDuration(envOr("SOAK_DURATION", "10m"))
	if err != nil {
		t.Fatalf("SOAK_DURATION: %v", err)
	}
	every, err := time.ParseDuration(envOr("SOAK_INTERVAL", "5s"))
	if err != nil {
		t.Fatalf("SOAK_INTERVAL: %v", err)
	}
	// SOAK_PROXY: extra [proxy] lines, ";"-separated (for example
	// "thin_server_acks = false"); the server's congestion control is
	// FCP_SERVER_CC's (listenTCP).
	e := newE2EConfig(t, "198.18.3.2:5001", proxyConfig(t)+"\n"+strings.ReplaceAll(os.Getenv("SOAK_PROXY"), ";", "\n")+"\n")
	base := idleBaseline(t, e.p)
	start0 := time.Now()
	load0 := loadAvg()
	commit := gitCommit() // at the start: the worktree may move on during a long run
	pid := e.p.cmd.Process.Pid
	ctx := withTimeout(t, dur+10*time.Minute)

	// Server side: the bulk connections come through e.connect (which
	// accepts on e.ln); the short ones go to an echo listener on 5004.
	echo, err := listenTCP("198.18.3.2:5004")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			s, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer s.Close()
				buf := make([]byte, 64)
				s.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := readFull(s, buf); err == nil {
					s.Write(buf)
				}
			}()
		}
	}()

	var bulkDone, shortDone, errs atomic.Int64
	var connectMu sync.Mutex // e.connect shares e.ln's Accept
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErrs []string // the first few transfer errors, for soak.md
	fail := func(format string, args ...any) {
		errs.Add(1)
		msg := fmt.Sprintf(format, args...)
		errMu.Lock()
		if len(firstErrs) < 5 {
			firstErrs = append(firstErrs, fmt.Sprintf("%v: %s", time.Since(start0).Round(time.Second), msg))
		}
		errMu.Unlock()
		t.Error(msg)
	}
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := int64(4<<20) << (i % 4)
				connectMu.Lock()
				c, s := e.connect(ctx, true)
				connectMu.Unlock()
				if _, _, err := exchange(c, s, uint64(w*1000000+i), n, n); err != nil {
					fail("bulk worker %d connection %d: %v", w, i, err)
				}
				c.Close()
				s.Close()
				bulkDone.Add(1)
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c, err := dialMPTCP(ctx, "", "198.18.3.2:5004")
			if err != nil {
				fail("short connection %d: %v", i, err)
				continue
			}
			c.SetDeadline(time.Now().Add(30 * time.Second))
			req := []byte(fmt.Sprintf("%064d", i))
			resp := make([]byte, 64)
			if _, err := c.Write(req); err != nil {
				fail("short connection %d write: %v", i, err)
			} else if _, err := readFull(c, resp); err != nil || string(resp) != string(req) {
				fail("short connection %d: echo %q, %v", i, resp, err)
			}
			c.Close()
			shortDone.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// Loss on path 2 for 20 s of every minute.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Second):
			}
			// nsTry, not nsRun: this goroutine may not end the test.
			rule := []string{"-m", "statistic", "--mode", "random", "--probability", "0.010", "-j", "DROP"}
			nsTry(nsC, append([]string{"iptables", "-A", "OUTPUT", "-o", "c2"}, rule...)...)
			nsTry(nsC, append([]string{"iptables", "-A", "INPUT", "-i", "c2"}, rule...)...)
			select {
			case <-stop:
			case <-time.After(20 * time.Second):
			}
			nsTry(nsC, append([]string{"iptables", "-D", "OUTPUT", "-o", "c2"}, rule...)...)
			nsTry(nsC, append([]string{"iptables", "-D", "INPUT", "-i", "c2"}, rule...)...)
		}
	}()

	snap := snapCounters(t, e.p)
	start := time.Now()
	var samples []soakSample
	// A scrape can time out when the shared machine is overloaded (load
	// average 16+ on 2 cores was seen): such a sample is skipped and
	// counted; 12 in a row (a minute at 5 s) fail the test.
	missed, missedRun := 0, 0
	sample := func() (soakSample, bool) {
		m, err := e.p.scrape()
		if err != nil {
			missed++
			missedRun++
			t.Logf("sample at %v skipped: %v", time.Since(start).Round(time.Second), err)
			if missedRun >= 12 {
				t.Fatalf("flexcp's metrics did not answer for %d samples in a row: %v", missedRun, err)
			}
			return soakSample{}, false
		}
		missedRun = 0
		return soakSample{
			at: time.Since(start), rssKB: rssKB(pid),
			conns: sum(m, "flexcp_connections_active"), subflows: sum(m, "flexcp_subflows_active"),
			tokens: sum(m, "flexcp_tokens_active"), trees: sum(m, "flexcp_mapping_trees_active"),
			records: sum(m, "flexcp_mapping_records_active"), poolInUse: sum(m, "flexcp_mempool_in_use"),
			opened: sum(m, "flexcp_connections_opened_total"), fallbacks: sum(m, "flexcp_connections_fallback_total"),
			drops: sum(m, "flexcp_drops_total"), bulkDone: bulkDone.Load(), shortDone: shortDone.Load(), errors: errs.Load(),
		}, true
	}
	for time.Since(start) < dur {
		time.Sleep(every)
		if s, ok := sample(); ok {
			samples = append(samples, s)
		}
	}
	close(stop)
	wg.Wait()
	load1 := loadAvg()
	checkIdle(t, e.p, base, time.Minute)
	// Which MPTCP, TCP and flexcp counters moved (the cause of any reset).
	logDelta(t, e.p, snap)
	end := snapCounters(t, e.p)
	var final soakSample
	for {
		var ok bool
		if final, ok = sample(); ok {
			break
		}
		time.Sleep(every)
	}
	samples = append(samples, final)

	// Flatness of RSS: second quarter (after warm-up) vs last quarter.
	var q2, q4 []float64
	n := len(samples) - 1 // the idle sample is not part of the load
	for i, s := range samples[:n] {
		switch {
		case i >= n/4 && i < n/2:
			q2 = append(q2, s.rssKB)
		case i >= 3*n/4:
			q4 = append(q4, s.rssKB)
		}
	}
	m2, m4 := median(q2), median(q4)
	rssFirst, rssLast := samples[0].rssKB, samples[n-1].rssKB
	flat := m4 <= m2*1.05+4096
	var maxConns, maxRecords, maxPool float64
	for _, s := range samples {
		maxConns = max(maxConns, s.conns)
		maxRecords = max(maxRecords, s.records)
		maxPool = max(maxPool, s.poolInUse)
	}

	dir := filepath.Join(repoRoot, "results")
	os.MkdirAll(dir, 0o755)
	var csv strings.Builder
	csv.WriteString("seconds,rss_kb,connections,subflows,tokens,mapping_trees,mapping_records,mempool_in_use,opened_total,fallback_total,drops_total,bulk_done,short_done,errors\n")
	for _, s := range samples {
		fmt.Fprintf(&csv, "%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%d,%d,%d\n", s.at.Seconds(), s.rssKB, s.conns, s.subflows,
			s.tokens, s.trees, s.records, s.poolInUse, s.opened, s.fallbacks, s.drops, s.bulkDone, s.shortDone, s.errors)
	}
	if err := os.WriteFile(filepath.Join(dir, "soak.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	verdict := "flat"
	if !flat {
		verdict = "GROWING"
	}
	md := fmt.Sprintf(`# Soak

`+"`FCP_NETNS_PREFIX=%s make soak DURATION=%s`"+` (tests/integration/soak_test.go), %s, %s, GOMAXPROCS %d,
commit %s. Shared 2-core machine: rates are not comparable with other runs.

Load: two bulk workers (4-32 MB each way per connection, then a new one),
a short-connection worker (64 bytes each way, ~20 ms apart), and 20 s of
1%% loss on path 2 every minute. Samples every %s in soak.csv.

| | value |
| --- | --- |
| duration | %s (%d samples, %d skipped: scrape timed out) |
| bulk connections done | %d |
| short connections done | %d |
| transfer errors | %d |
| connections opened (flexcp) | %.0f |
| fallbacks | %.0f |
| drops (all reasons) | %.0f |
| peak connections_active | %.0f |
| peak mapping_records_active | %.0f |
| peak mempool_in_use | %.0f (idle %.0f) |
| flexcp RSS, median of 2nd quarter | %.0f kB |
| flexcp RSS, median of last quarter | %.0f kB |
| after the load: connections / subflows / tokens / trees / records | %.0f / %.0f / %.0f / %.0f / %.0f |
| after the load: mempool_in_use | %.0f |
| flexcp RSS, first / last sample under load | %.0f / %.0f kB |
| verdict (last quarter <= 2nd quarter x 1.05 + 4 MB) | %s |
| machine load average (1, 5, 15 min) at start / end | %s / %s |

Resets and aborts during the run (counter deltas; the client and server
kernels' nstat, flexcp's metrics):

| counter | delta |
| --- | --- |
%s
flexcp drops by reason during the run:

| reason | drops |
| --- | --- |
%s
Transfer errors (first %d):
%s
`, nsPrefix, dur, host, runtime.GOOS+"/"+runtime.GOARCH, runtime.GOMAXPROCS(0), commit, every,
		dur, len(samples), missed, final.bulkDone, final.shortDone, final.errors, final.opened, final.fallbacks, final.drops,
		maxConns, maxRecords, maxPool, base.poolInUse, m2, m4,
		final.conns, final.subflows, final.tokens, final.trees, final.records, final.poolInUse,
		rssFirst, rssLast, verdict, load0, load1, soakResets(snap, end), soakDrops(snap, end), len(firstErrs), soakErrors(firstErrs))
	if err := os.WriteFile(filepath.Join(dir, "soak.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("soak: %d bulk, %d short connections, %d errors; RSS %.0f -> %.0f kB: %s", final.bulkDone, final.shortDone, final.errors, m2, m4, verdict)
	if !flat {
		t.Errorf("flexcp's RSS grew from %.0f kB (2nd quarter) to %.0f kB (last quarter)", m2, m4)
	}
	// The load must stay MPTCP through flexcp to the end: a client that
	// stopped offering MP_CAPABLE (blackhole detection) would leave
	// flexcp routing plain TCP while the soak looked healthy.
	if d := end.c["MPTcpExtMPCapableSYNTXDisabled"] - snap.c["MPTcpExtMPCapableSYNTXDisabled"]; d != 0 {
		t.Errorf("the client opened %d connections without MP_CAPABLE (MPTCP disabled by its blackhole detection)", d)
	}
	if len(q4) > 0 && final.opened <= samples[3*n/4].opened {
		t.Errorf("flexcp opened no connection in the last quarter (%v at %v, %v at the end): the load was not MPTCP", samples[3*n/4].opened, samples[3*n/4].at, final.opened)
	}
	if final.bulkDone == 0 || final.shortDone == 0 {
		t.Errorf("the load did not run: %d bulk, %d short connections", final.bulkDone, final.shortDone)
	}
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// soakResetCounters are the counters that show a connection or subflow
// reset or aborted: the kernels' TCP aborts, MPTCP resets and fastcloses,
// and flexcp's own.
var soakResetCounters = []string{
	"TcpExtTCPAbortOnTimeout", "TcpExtTCPAbortOnData", "TcpExtTCPAbortOnClose", "TcpExtTCPAbortOnMemory",
	"TcpExtTCPAbortOnLinger", "TcpEstabResets", "TcpOutRsts", "MPTcpExtMPRstTx", "MPTcpExtMPRstRx",
	"MPTcpExtMPFastcloseTx", "MPTcpExtMPFastcloseRx", "MPTcpExtMPFallbackTokenInit", "MPTcpExtInfiniteMapRx",
	"MPTcpExtDSSNoMatchTCP", "MPTcpExtDataCsumErr",
	// Connections the client opened without MP_CAPABLE: after SYN
	// retransmissions (SYNTXDrop), or because it declared an MPTCP
	// blackhole (Blackhole, then SYNTXDisabled for every connection).
	"MPTcpExtMPCapableSYNTXDrop", "MPTcpExtBlackhole", "MPTcpExtMPCapableSYNTXDisabled",
}

// soakResets is the markdown rows of the reset counters that moved
// between a and b.
func soakResets(a, b counterSnap) string {
	var sb strings.Builder
	for _, side := range []struct {
		name string
		x, y map[string]int64
	}{{"client", a.c, b.c}, {"server", a.s, b.s}} {
		for _, k := range soakResetCounters {
			if d := side.y[k] - side.x[k]; d != 0 {
				fmt.Fprintf(&sb, "| %s %s | %d |\n", side.name, k, d)
			}
		}
	}
	for _, k := range []string{"flexcp_path_dead_total", "flexcp_reinjections_total"} {
		if d := sum(b.p, k) - sum(a.p, k); d != 0 {
			fmt.Fprintf(&sb, "| flexcp %s | %.0f |\n", k, d)
		}
	}
	if sb.Len() == 0 {
		return "| (none moved) | 0 |\n"
	}
	return sb.String()
}

// soakDrops is the markdown rows of flexcp_drops_total by reason, summed
// over workers, that grew between a and b.
func soakDrops(a, b counterSnap) string {
	by := map[string]float64{}
	for k, v := range b.p {
		if !strings.HasPrefix(k, "flexcp_drops_total{") {
			continue
		}
		i := strings.Index(k, `reason="`)
		if i < 0 {
			continue
		}
		r := k[i+len(`reason="`):]
		r = r[:strings.IndexByte(r, '"')]
		by[r] += v - a.p[k]
	}
	keys := make([]string, 0, len(by))
	for r, d := range by {
		if d != 0 {
			keys = append(keys, r)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, r := range keys {
		fmt.Fprintf(&sb, "| %s | %.0f |\n", r, by[r])
	}
	if sb.Len() == 0 {
		return "| (none) | 0 |\n"
	}
	return sb.String()
}

// soakErrors lists the transfer errors, or says there were none.
func soakErrors(errs []string) string {
	if len(errs) == 0 {
		return "none.\n"
	}
	var sb strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&sb, "- %s\n", e)
	}
	return sb.String()
}

// gitCommit returns the worktree's HEAD commit, or "unknown", noting
// uncommitted changes outside results/.
func gitCommit() string {
	out, err := exec.Command("git", "-C", repoRoot, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", repoRoot, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
