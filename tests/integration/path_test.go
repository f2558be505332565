//go:build integration

package integration

// Path management end to end (issue 7): the delay element on access path
// 2, the schedulers on shaped and delayed paths, active-standby failover
// and a path cut. Assertions are behaviour (byte-exact delivery, which
// access port carried the server's data, a lower bound on delay); rates,
// shares and stalls are measured and logged, never asserted.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flexcp/flexcp/bench/timeline"
	"gonum.org/v1/plot/vg"
)

var delayBin = filepath.Join(repoRoot, "bin", "flexcp-delay")

// delaySock is the control socket of the delay element on access path n.
func delaySock(n int) string { return fmt.Sprintf("/run/%s-delay%d.sock", nsPrefix, n) }

// delayTopology brings the topology up with a bridge namespace on each
// access path listed (scripts/netns.sh NETNS_DELAY_PATH1/2: PREFIX-e on
// path 1, PREFIX-d on path 2) and runs a delay element in each, with no
// delay until setDelay.
func delayTopology(t *testing.T, paths ...int) {
	t.Helper()
	if _, err := os.Stat(delayBin); err != nil {
		t.Fatalf("%s: %v (run make build)", delayBin, err)
	}
	var env []string
	for _, n := range paths {
		env = append(env, fmt.Sprintf("NETNS_DELAY_PATH%d=1", n))
	}
	topology(t, env...)
	for _, n := range paths {
		ns, a, b := nsPrefix+"-d", "d1", "d2"
		if n == 1 {
			ns, a, b = nsPrefix+"-e", "e1", "e2"
		}
		startServer(t, ns, delayBin, "run", "--a", a, "--b", b, "--control", delaySock(n), "--seed", strconv.Itoa(n))
		for i := 0; ; i++ {
			if _, err := exec1(delayBin, "stats", "--control", delaySock(n)); err == nil {
				break
			} else if i == 50 {
				t.Fatalf("delay element on path %d did not come up: %v", n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// setPath sets parameters of one direction of the delay element on
// access path n ("ab": client to proxy, "ba": proxy to client, "both"),
// as flexcp-delay set flags ("--delay", "80ms", ...).
func setPath(t *testing.T, n int, dir string, flags ...string) {
	t.Helper()
	args := append([]string{"set", "--control", delaySock(n), "--dir", dir}, flags...)
	if out, err := exec1(delayBin, args...); err != nil {
		t.Fatalf("flexcp-delay %v: %v\n%s", args, err, out)
	}
}

// setDelay sets delay and loss of one direction of path 2.
func setDelay(t *testing.T, dir string, d time.Duration, loss float64) {
	t.Helper()
	setPath(t, 2, dir, "--delay", d.String(), "--loss", strconv.FormatFloat(loss, 'g', -1, 64))
}

// pathConfig is proxyConfig with extra [proxy] lines appended (the
// [proxy] table is the example file's last).
func pathConfig(t *testing.T, extra string, overrides ...string) string {
	return proxyConfig(t, overrides...) + "\n" + extra + "\n"
}

// newPathE2E is newE2E on the delay topology when delay is set, with
// extra [proxy] lines.
func newPathE2E(t *testing.T, delay bool, extra string, overrides ...string) *e2e {
	if delay {
		delayTopology(t, 2)
	} else {
		topology(t)
	}
	return startPathProxy(t, extra, overrides...)
}

// startPathProxy starts flexcp and a listener on the topology that is up.
func startPathProxy(t *testing.T, extra string, overrides ...string) *e2e {
	p := startProxy(t, pathConfig(t, extra, overrides...))
	ln, err := listenTCP("198.18.3.2:5001")
	if err != nil {
		t.Fatalf("listen in %s: %v", nsS, err)
	}
	t.Cleanup(func() { ln.Close() })
	return &e2e{t: t, p: p, ln: ln, server: ln.Addr().String(), mib0: clientCounters(t)}
}

// s2cBytes returns the server-to-client payload flexcp translated per
// access port.
func s2cBytes(m map[string]float64) (p1, p2 float64) {
	return sum(m, "flexcp_translated_bytes_total", `port="p1"`, `direction="s2c"`),
		sum(m, "flexcp_translated_bytes_total", `port="p2"`, `direction="s2c"`)
}

// checkJoin fails the test unless the connection's second subflow came
// up. (The Linux client opens it once the connection is fully
// established, which needs the server's first data, so it cannot be
// awaited before the transfer starts.)
func (e *e2e) checkJoin(t *testing.T) {
	t.Helper()
	waitMetric(t, e.p, "flexcp_joins_accepted_total", 1)
}

// sample is the client's received byte count at a time.
type sample struct {
	at time.Time
	n  int64
}

// down sends n bytes of stream seed from server to client; the client
// checks every byte against the stream, records when each read arrived,
// calls at (if not nil) once after the first mark bytes, and half-closes
// after the whole stream. It returns the arrival samples.
func down(t *testing.T, client, server net.Conn, seed uint64, n, mark int64, at func()) []sample {
	t.Helper()
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, werr = io.CopyBuffer(server, io.LimitReader(newStream(seed), n), make([]byte, 64<<10))
		server.(*net.TCPConn).CloseWrite()
	}()
	want := newStream(seed)
	buf, ref := make([]byte, 64<<10), make([]byte, 64<<10)
	var got int64
	samples := []sample{{time.Now(), 0}}
	fired := false
	for {
		k, err := client.Read(buf)
		if k > 0 {
			want.Read(ref[:k])
			if !bytes.Equal(buf[:k], ref[:k]) {
				t.Fatalf("server->client byte mismatch within bytes %d..%d", got, got+int64(k))
			}
			got += int64(k)
			samples = append(samples, sample{time.Now(), got})
			if !fired && at != nil && got >= mark {
				fired = true
				at()
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("client read after %d of %d bytes: %v", got, n, err)
		}
	}
	client.(*net.TCPConn).CloseWrite()
	wg.Wait()
	if werr != nil {
		t.Fatalf("server write: %v", werr)
	}
	if got != n {
		t.Fatalf("client received %d bytes, want %d", got, n)
	}
	return samples
}

// longestGap returns the longest time between two consecutive arrivals
// after since, and when it began.
func longestGap(s []sample, since time.Time) (gap time.Duration, from time.Time) {
	prev := since
	for _, x := range s {
		if x.at.Before(since) {
			continue
		}
		if d := x.at.Sub(prev); d > gap {
			gap, from = d, prev
		}
		prev = x.at
	}
	return gap, from
}

// progressAfter describes how many MB had arrived at intervals after t0,
// for the log.
func progressAfter(s []sample, t0 time.Time, step time.Duration, n int) string {
	var b strings.Builder
	k := 0
	var got int64
	for i := 1; i <= n; i++ {
		lim := t0.Add(time.Duration(i) * step)
		for k < len(s) && !s[k].at.After(lim) {
			got = s[k].n
			k++
		}
		fmt.Fprintf(&b, " +%v:%.1f", time.Duration(i)*step, float64(got)/(1<<20))
		if k == len(s) {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// rate is the average rate in Mbit/s of a download's samples.
func rate(s []sample) float64 {
	last := s[len(s)-1]
	return float64(last.n) * 8 / last.at.Sub(s[0].at).Seconds() / 1e6
}

var pingRTT = regexp.MustCompile(`rtt min/avg/max/mdev = ([0-9.]+)/([0-9.]+)/([0-9.]+)`)

// pingMin pings dst from the client namespace from src and returns the
// smallest RTT; every echo must be answered.
func pingMin(t *testing.T, src, dst string, count int) time.Duration {
	t.Helper()
	out, err := nsTry(nsC, "ping", "-c", strconv.Itoa(count), "-i", "0.2", "-W", "3", "-w", "15", "-I", src, dst) // -w: see pingThrough
	if err != nil || !strings.Contains(out, fmt.Sprintf("%d received", count)) {
		t.Fatalf("ping %s from %s: %v\n%s", dst, src, err, out)
	}
	m := pingRTT.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no rtt line in ping output:\n%s", out)
	}
	ms, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(ms * float64(time.Millisecond))
}

// TestDelayElementPing: flexcp runs on the delay topology; pings of its
// path-2 address take at least the configured delay, pings of its path-1
// address are unaffected, and loss 1 cuts path 2 until it is set back.
func TestDelayElementPing(t *testing.T) {
	e := newPathE2E(t, true, "")
	setDelay(t, "ab", 30*time.Millisecond, 0)
	setDelay(t, "ba", 20*time.Millisecond, 0)
	got := pingMin(t, "198.18.2.2", "198.18.2.1", 5)
	p1 := pingMin(t, "198.18.1.2", "198.18.1.1", 5)
	t.Logf("min RTT: path 2 %v (30+20 ms configured), path 1 %v", got, p1)
	if got < 50*time.Millisecond {
		t.Errorf("path 2 min RTT %v is below the configured 50 ms", got)
	}
	// Changed while it runs.
	setDelay(t, "both", 60*time.Millisecond, 0)
	if got := pingMin(t, "198.18.2.2", "198.18.2.1", 3); got < 120*time.Millisecond {
		t.Errorf("after raising the delay: min RTT %v, want >= 120 ms", got)
	}
	setDelay(t, "ab", 0, 1)
	if out, err := nsTry(nsC, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", "198.18.2.2", "198.18.2.1"); err == nil {
		t.Errorf("ping crossed path 2 with loss 1:\n%s", out)
	}
	setDelay(t, "both", 0, 0)
	pingMin(t, "198.18.2.2", "198.18.2.1", 3)
	waitMetric(t, e.p, "flexcp_icmp_echo_replies_sent_total", 16) // the pings flexcp answered
}

// shapePaths limits path 1 to r1 and path 2 to r2 (bit/s): client to
// server with HTB on the client's egress, server to client in the delay
// elements (this kernel has no ingress policing action, and flexcp's
// AF_XDP ports bypass qdiscs).
func shapePaths(t *testing.T, r1, r2 uint64) {
	for n, r := range map[int]uint64{1: r1, 2: r2} {
		dev := fmt.Sprintf("c%d", n)
		nsRun(t, nsC, "tc", "qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "10")
		nsRun(t, nsC, "tc", "class", "replace", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", strconv.FormatUint(r, 10)+"bit")
		setPath(t, n, "ba", "--rate", strconv.FormatUint(r, 10))
	}
}

// TestPathSchedulersShaped: paths of 200 and 50 Mbit/s; 48 MB from
// server to client per scheduler, and over the faster path alone (one
// subflow) (compareSchedulers).
func TestPathSchedulersShaped(t *testing.T) {
	delayTopology(t, 1, 2)
	shapePaths(t, 200e6, 50e6)
	compareSchedulers(t, 71, "200/50 Mbit/s paths")
}

// TestPathSchedulersHybrid: the hybrid-access pair of 3GPP ATSSS
// deployments, a fixed line and a cellular path: 200 and 50 Mbit/s with
// 10 and 40 ms of round trip (compareSchedulers).
func TestPathSchedulersHybrid(t *testing.T) {
	delayTopology(t, 1, 2)
	shapePaths(t, 200e6, 50e6)
	setPath(t, 1, "both", "--delay", "5ms")
	setPath(t, 2, "both", "--delay", "20ms")
	compareSchedulers(t, 73, "200/50 Mbit/s paths, 10/40 ms")
}

// compareSchedulers sends 48 MB of stream seed from server to client
// under roundrobin, minrtt and weighted, each on a flexcp of its own, and
// over the faster path alone (one subflow), on the paths as the caller
// set them up. Delivery is byte-exact and, with two subflows, both access
// ports carry the server's data; rates and splits are reported.
func compareSchedulers(t *testing.T, seed uint64, paths string) {
	const size = 48 << 20
	results := map[string]string{}
	for _, tc := range []struct {
		name, sched string
		subflows    string
	}{
		{"path1-alone", "minrtt", "1"},
		{"roundrobin", "roundrobin", "8"},
		{"minrtt", "minrtt", "8"},
		{"weighted", "weighted", "8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startPathProxy(t, "", "scheduler = \""+tc.sched+"\"", "max_subflows = "+tc.subflows)
			ctx := withTimeout(t, 3*time.Minute)
			client, server := e.connect(ctx, true)
			defer client.Close()
			defer server.Close()
			s := down(t, client, server, seed, size, 0, nil)
			if tc.subflows != "1" {
				e.checkJoin(t)
			}
			m := e.p.mustScrape(t)
			b1, b2 := s2cBytes(m)
			results[tc.name] = fmt.Sprintf("%.0f Mbit/s (p1 %.1f MB, p2 %.1f MB; stale prompts %.0f, reinjections %.0f, dead %.0f)", rate(s), b1/1e6, b2/1e6,
				sum(m, "flexcp_stale_prompts_total"), sum(m, "flexcp_reinjections_total"), sum(m, "flexcp_path_dead_total"))
			t.Logf("%s: %s", tc.name, results[tc.name])
			if tc.subflows != "1" && (b1 == 0 || b2 == 0) {
				t.Errorf("server-to-client bytes per access port: p1 %.0f, p2 %.0f; want both > 0", b1, b2)
			}
		})
	}
	t.Logf("%s, 48 MB server to client: %v", paths, results)
}

// TestPathMinRTTDelayed: path 2 gets 80 ms of extra RTT (40 ms each
// way); minrtt keeps most server-to-client data on path 1. The same 64 MB
// download runs under weighted and roundrobin too, each on a flexcp of its
// own, and every rate and split is reported: on paths of equal rate and
// unequal delay the schedulers differ where the shaped test cannot show it
// (there every subflow is full and all of them pick the soonest delivery):
// roundrobin gives the slow path its turns, and the client's reordering
// wait holds the connection back.
func TestPathMinRTTDelayed(t *testing.T) {
	delayTopology(t, 2)
	setDelay(t, "both", 40*time.Millisecond, 0)
	results := map[string]string{}
	for _, sched := range []string{"minrtt", "weighted", "roundrobin"} {
		t.Run(sched, func(t *testing.T) {
			e := startPathProxy(t, "", `scheduler = "`+sched+`"`)
			ctx := withTimeout(t, 3*time.Minute)
			client, server := e.connect(ctx, true)
			defer client.Close()
			defer server.Close()
			s := down(t, client, server, 81, 64<<20, 0, nil)
			e.checkJoin(t)
			b1, b2 := s2cBytes(e.p.mustScrape(t))
			results[sched] = fmt.Sprintf("%.0f Mbit/s (p1 %.1f MB, p2 %.1f MB, %.1f%% on path 1)", rate(s), b1/1e6, b2/1e6, 100*b1/(b1+b2))
			t.Logf("%s, path 2 +80 ms: %s", sched, results[sched])
			if sched == "minrtt" && b1 < 2*b2 {
				t.Errorf("path 1 carried %.0f bytes, path 2 %.0f: want a clear majority (2/3) on the low-RTT path 1", b1, b2)
			}
			if sched == "roundrobin" && b2 == 0 {
				t.Errorf("roundrobin sent nothing on path 2 (p1 %.0f bytes)", b1)
			}
		})
	}
	t.Logf("path 2 +80 ms, 64 MB server to client: %v", results)
}

// cutPath drops everything on the client's end of a path, both ways.
func cutPath(dev string) {
	nsTry(nsC, "iptables", "-I", "OUTPUT", "-o", dev, "-j", "DROP")
	nsTry(nsC, "iptables", "-I", "INPUT", "-i", dev, "-j", "DROP")
}

// TestPathActiveStandby: p2 is a backup port. The backup path carries no
// server-to-client data until path 1 is cut, then carries the rest; the
// transfer completes byte-exact and the longest stall after the cut is
// reported.
func TestPathActiveStandby(t *testing.T) {
	e := newPathE2E(t, false, `backup_ports = ["p2"]`+"\n"+`subflow_stale_after = "150ms"`,
		`scheduler = "active-standby"`, `subflow_dead_after = "500ms"`)
	ctx := withTimeout(t, 3*time.Minute)
	client, server := e.connect(ctx, true)
	defer client.Close()
	defer server.Close()
	const size, mark = 64 << 20, 16 << 20
	var before [2]float64
	var joined float64
	var cutAt time.Time
	s := down(t, client, server, 91, size, mark, func() {
		m := e.p.mustScrape(t)
		before[0], before[1] = s2cBytes(m)
		joined = sum(m, "flexcp_joins_accepted_total")
		cutAt = time.Now()
		cutPath("c1")
	})
	after := e.p.mustScrape(t)
	a1, a2 := s2cBytes(after)
	gap, from := longestGap(s, cutAt)
	var recovered time.Duration
	for _, x := range s {
		if x.at.After(cutAt) && x.n >= mark+(1<<20) {
			recovered = x.at.Sub(cutAt)
			break
		}
	}
	t.Logf("active-standby: before the cut p1 %.1f MB, p2 %.1f MB; after p1 +%.1f MB, p2 +%.1f MB", before[0]/1e6, before[1]/1e6, (a1-before[0])/1e6, (a2-before[1])/1e6)
	t.Logf("cut of path 1 at %d MB: longest stall %v (from %v after the cut); 1 MB more arrived %v after the cut",
		mark>>20, gap.Round(time.Millisecond), from.Sub(cutAt).Round(time.Millisecond), recovered.Round(time.Millisecond))
	t.Logf("flexcp: reinjections %v, dead subflows %v", sum(after, "flexcp_reinjections_total"), sum(after, "flexcp_path_dead_total"))
	t.Logf("MB received after the cut: %s", progressAfter(s, cutAt, 100*time.Millisecond, 20))
	if joined < 1 {
		t.Errorf("the backup subflow was not up when path 1 was cut (counters published every 100 ms)")
	}
	if before[1] != 0 {
		t.Errorf("the backup port p2 carried %.0f server-to-client bytes while path 1 was up", before[1])
	}
	// After the cut the backup carries the data: most of what crossed
	// flexcp from then on (p1 still delivers what was in flight on it).
	if d1, d2 := a1-before[0], a2-before[1]; d2 <= d1 {
		t.Errorf("after the cut p2 carried %.0f bytes, p1 %.0f: the backup did not take over", d2, d1)
	}
}

// TestPathCut: path 2 is cut mid-transfer (minrtt); the transfer
// completes over path 1, byte-exact, and the longest stall is reported.
//
// FCP_STALE_PROMPT=on runs it with `stale_prompt = true`, to measure
// what the prompt of docs/translation.md I30 changes;
// FCP_SERVER_RTO_MIN_US (e.g. 1000000) raises the server's minimum
// retransmission timeout (net.ipv4.tcp_rto_min_us in its namespace), as
// a longer path would: on these veths it is 200 ms, close to the stale
// threshold.
func TestPathCut(t *testing.T) {
	prompt := `stale_prompt = true` // the default
	if os.Getenv("FCP_STALE_PROMPT") == "off" {
		prompt = `stale_prompt = false`
	}
	e := newPathE2E(t, false, `subflow_stale_after = "150ms"`+"\n"+prompt, `subflow_dead_after = "500ms"`)
	if rto := os.Getenv("FCP_SERVER_RTO_MIN_US"); rto != "" {
		old := strings.TrimSpace(nsRun(t, nsS, "sysctl", "-n", "net.ipv4.tcp_rto_min_us"))
		nsRun(t, nsS, "sysctl", "-qw", "net.ipv4.tcp_rto_min_us="+rto)
		t.Cleanup(func() { nsTry(nsS, "sysctl", "-qw", "net.ipv4.tcp_rto_min_us="+old) })
		prompt += ", server tcp_rto_min_us " + rto
	}
	if dir := os.Getenv("FCP_CAPTURE_DIR"); dir != "" {
		captureHeaders(t, dir, "5001")
	}
	ctx := withTimeout(t, 3*time.Minute)
	client, server := e.connect(ctx, true)
	defer client.Close()
	defer server.Close()
	const size, mark = 96 << 20, 24 << 20
	var cutAt time.Time
	s := down(t, client, server, 101, size, mark, func() {
		cutAt = time.Now()
		cutPath("c2")
	})
	gap, from := longestGap(s, cutAt)
	m := e.p.mustScrape(t)
	b1, b2 := s2cBytes(m)
	t.Logf("path 2 cut at %d MB (%s): longest stall %v (from %v after the cut); %.0f Mbit/s overall; p1 %.1f MB, p2 %.1f MB; reinjections %v, dead %v, stale prompts %v",
		mark>>20, prompt, gap.Round(time.Millisecond), from.Sub(cutAt).Round(time.Millisecond), rate(s), b1/1e6, b2/1e6,
		sum(m, "flexcp_reinjections_total"), sum(m, "flexcp_path_dead_total", `port="p2"`), sum(m, "flexcp_stale_prompts_total"))
	t.Logf("MB received after the cut: %s", progressAfter(s, cutAt, 250*time.Millisecond, 40))
	t.Logf("cut at %s, longest stall from %s", cutAt.Format("15:04:05.000000"), from.Format("15:04:05.000000"))
	if b2 == 0 {
		t.Errorf("path 2 carried no server-to-client data before the cut")
	}
}

// captureHeaders records the headers of the test's TCP traffic on port
// on the server's veth and the client's two veths into dir (s1.pcap,
// c1.pcap, c2.pcap) until the test ends, to study a stall afterwards.
func captureHeaders(t *testing.T, dir, port string) {
	t.Helper()
	for _, c := range []struct{ ns, dev string }{{nsS, "s1"}, {nsC, "c1"}, {nsC, "c2"}} {
		cmd := exec.Command("ip", "netns", "exec", c.ns, "tcpdump", "-i", c.dev, "-s", "128", "-n", "-U",
			"-B", "16384", "-w", filepath.Join(dir, c.dev+".pcap"), "tcp port "+port)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Logf("capture on %s: %v", c.dev, err)
			continue
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGINT) // by PID: tcpdump flushes and exits
			_ = cmd.Wait()
		})
	}
	time.Sleep(500 * time.Millisecond) // tcpdump attaches
}

// restorePath undoes cutPath.
func restorePath(dev string) {
	nsTry(nsC, "iptables", "-D", "OUTPUT", "-o", dev, "-j", "DROP")
	nsTry(nsC, "iptables", "-D", "INPUT", "-i", dev, "-j", "DROP")
}

// TestPathRejoin: path 2 is cut mid-transfer, its subflow dies; the path
// returns and the client joins again (its endpoint re-added: Linux does
// not re-create closed subflows by itself); flexcp sends server data on
// the new subflow. Delivery is byte-exact throughout. Both paths are
// limited to 100 Mbit/s server to client, so the transfer outlasts the
// outage.
func TestPathRejoin(t *testing.T) {
	delayTopology(t, 1, 2)
	for _, n := range []int{1, 2} {
		setPath(t, n, "ba", "--rate", "100000000")
	}
	e := startPathProxy(t, `subflow_stale_after = "150ms"`, `subflow_dead_after = "500ms"`, `scheduler = "roundrobin"`)
	ctx := withTimeout(t, 3*time.Minute)
	client, server := e.connect(ctx, true)
	defer client.Close()
	defer server.Close()
	const size = 160 << 20
	var cutAt, backAt time.Time
	var atCut, atBack [2]float64
	var joinsBack float64
	done := make(chan struct{})
	s := down(t, client, server, 111, size, 16<<20, func() {
		atCut[0], atCut[1] = s2cBytes(e.p.mustScrape(t))
		cutAt = time.Now()
		cutPath("c2")
		go func() {
			defer close(done)
			time.Sleep(2 * time.Second) // the subflow is dead by now (500 ms)
			restorePath("c2")
			nsTry(nsC, "ip", "mptcp", "endpoint", "flush")
			nsTry(nsC, "ip", "mptcp", "endpoint", "add", "198.18.2.2", "dev", "c2", "subflow")
			backAt = time.Now()
			m := e.p.mustScrape(t)
			atBack[0], atBack[1] = s2cBytes(m)
			joinsBack = sum(m, "flexcp_joins_accepted_total")
		}()
	})
	<-done
	m := e.p.mustScrape(t)
	b1, b2 := s2cBytes(m)
	t.Logf("cut at %v: p1 %.1f MB, p2 %.1f MB; path back and endpoint re-added %v later: p1 %.1f MB, p2 %.1f MB; end: p1 %.1f MB, p2 %.1f MB; joins %v; %.0f Mbit/s overall",
		cutAt.Format("15:04:05.000"), atCut[0]/1e6, atCut[1]/1e6, backAt.Sub(cutAt).Round(time.Millisecond), atBack[0]/1e6, atBack[1]/1e6,
		b1/1e6, b2/1e6, sum(m, "flexcp_joins_accepted_total"), rate(s))
	if s[len(s)-1].at.Before(backAt) {
		t.Fatalf("the transfer ended before the path came back; make it longer")
	}
	if n := sum(m, "flexcp_joins_accepted_total"); n < 2 {
		t.Errorf("%v joins accepted, want 2 (the first and the one after the path returned)", n)
	}
	if b2 <= atBack[1] {
		t.Errorf("the new subflow on path 2 carried no server data (p2 %.0f bytes when the path came back, %.0f at the end)", atBack[1], b2)
	}
	_ = joinsBack
}

// TestPathDynamic reproduces the paper's dynamic experiment at this
// machine's scale: four connections download over path 1 for 5 s; then
// path 2 is added (the client's endpoint appears, its joins come up) for
// 5 s; then path 2 gets 200 ms of extra RTT and minrtt moves the traffic
// back to path 1, for 5 s more. Both paths are limited to 100 Mbit/s
// server to client by the delay elements. Asserted: no server data on p2
// before the join, some during phase 2, a clear majority (2/3) on p1 in
// the last 3 s; every byte delivered exactly. The per-path throughput
// timeline is logged and, with FCP_RESULTS_DIR set, written there as
// dynamic.csv and dynamic.png.
func TestPathDynamic(t *testing.T) {
	delayTopology(t, 1, 2)
	for _, n := range []int{1, 2} {
		setPath(t, n, "ba", "--rate", "100000000")
	}
	nsRun(t, nsC, "ip", "mptcp", "endpoint", "flush")
	e := startPathProxy(t, "", `scheduler = "minrtt"`)
	ctx := withTimeout(t, 3*time.Minute)
	const conns = 4
	const phase = 5 * time.Second
	var stop sync.WaitGroup
	stopped := make(chan struct{})
	errs := make(chan error, 2*conns)
	for i := 0; i < conns; i++ {
		client, server := e.connect(ctx, true)
		defer client.Close()
		defer server.Close()
		stop.Add(2)
		seed := uint64(200 + i)
		go func() { // server: the stream until told to stop
			defer stop.Done()
			g := newStream(seed)
			buf := make([]byte, 64<<10)
			for {
				select {
				case <-stopped:
					server.(*net.TCPConn).CloseWrite()
					return
				default:
				}
				g.Read(buf)
				if _, err := server.Write(buf); err != nil {
					errs <- fmt.Errorf("server %d: %w", seed, err)
					return
				}
			}
		}()
		go func() { // client: check every byte
			defer stop.Done()
			want := newStream(seed)
			buf, ref := make([]byte, 64<<10), make([]byte, 64<<10)
			var got int64
			for {
				k, err := client.Read(buf)
				if k > 0 {
					want.Read(ref[:k])
					if !bytes.Equal(buf[:k], ref[:k]) {
						errs <- fmt.Errorf("connection %d: byte mismatch within %d..%d", seed, got, got+int64(k))
						return
					}
					got += int64(k)
				}
				if err == io.EOF {
					client.(*net.TCPConn).CloseWrite()
					return
				}
				if err != nil {
					errs <- fmt.Errorf("connection %d: read after %d bytes: %w", seed, got, err)
					return
				}
			}
		}()
	}
	// Sample the per-port server-to-client bytes every 250 ms.
	const step = 500 * time.Millisecond // a multiple of the 100 ms publishing period
	start := time.Now()
	var ts []float64
	var r1, r2 []float64
	var cum [][2]float64
	prev1, prev2 := s2cBytes(e.p.mustScrape(t))
	cum = append(cum, [2]float64{prev1, prev2})
	joinAt, delayAt := phase, 2*phase
	joined, delayed := false, false
	for el := step; el <= 3*phase; el += step {
		time.Sleep(time.Until(start.Add(el)))
		if !joined && el >= joinAt {
			nsRun(t, nsC, "ip", "mptcp", "endpoint", "add", "198.18.2.2", "dev", "c2", "subflow")
			joined = true
		}
		if !delayed && el >= delayAt {
			setPath(t, 2, "both", "--delay", "100ms")
			delayed = true
		}
		b1, b2 := s2cBytes(e.p.mustScrape(t))
		ts = append(ts, time.Since(start).Seconds())
		r1 = append(r1, (b1-prev1)*8/step.Seconds()/1e6)
		r2 = append(r2, (b2-prev2)*8/step.Seconds()/1e6)
		cum = append(cum, [2]float64{b1, b2})
		prev1, prev2 = b1, b2
	}
	close(stopped)
	stop.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// bytes per port between two sample indices (0 = start).
	between := func(from, to time.Duration) (float64, float64) {
		i, j := int(from/step), int(to/step)
		return cum[j][0] - cum[i][0], cum[j][1] - cum[i][1]
	}
	var line strings.Builder
	for i := range ts {
		fmt.Fprintf(&line, " %.2fs:%.0f/%.0f", ts[i], r1[i], r2[i])
	}
	t.Logf("Mbit/s p1/p2 every %v:%s", step, line.String())
	// Phase 1 ends at the last sample before the join: the sample at
	// joinAt is scraped after the endpoint was added in the same step.
	a1, a2 := between(0, joinAt-step)
	b1, b2 := between(joinAt+time.Second, delayAt)
	c1, c2 := between(delayAt+2*time.Second, 3*phase)
	t.Logf("phase 1 (path 1 only): p1 %.1f MB, p2 %.1f MB; phase 2 (both): p1 %.1f MB, p2 %.1f MB; phase 3 (path 2 +200 ms, last 3 s): p1 %.1f MB, p2 %.1f MB; joins %v",
		a1/1e6, a2/1e6, b1/1e6, b2/1e6, c1/1e6, c2/1e6, sum(e.p.mustScrape(t), "flexcp_joins_accepted_total"))
	if a2 != 0 {
		t.Errorf("p2 carried %.0f bytes before the client joined over it", a2)
	}
	if b2 == 0 {
		t.Errorf("p2 carried no server data after the join")
	}
	if c1 < 2*c2 {
		t.Errorf("after path 2's delay rose, p1 carried %.0f bytes and p2 %.0f: want a clear majority (2/3) on p1", c1, c2)
	}
	dir := os.Getenv("FCP_RESULTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	tl := &timeline.Timeline{
		Title:  "flexcp, 4 connections, minrtt: server-to-client throughput per access path",
		XLabel: "time (s)", YLabel: "Mbit/s",
		T:      ts,
		Series: []timeline.Series{{Name: "path 1 (p1)", V: r1}, {Name: "path 2 (p2)", V: r2}},
		Marks:  []timeline.Mark{{T: joinAt.Seconds(), Label: "path 2 joins"}, {T: delayAt.Seconds(), Label: "path 2 +200 ms"}},
	}
	var csvb, pngb bytes.Buffer
	if err := tl.WriteCSV(&csvb); err != nil {
		t.Fatal(err)
	}
	if err := tl.WritePNG(&pngb, 20*vg.Centimeter, 10*vg.Centimeter); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"dynamic.csv": csvb.Bytes(), "dynamic.png": pngb.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("timeline written to %s/dynamic.{csv,png}", dir)
}

// exec1 runs a command in the current namespace.
func exec1(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}
