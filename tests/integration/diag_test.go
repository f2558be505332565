//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stallWatch arms a watchdog for a transfer step that should finish well
// before after: if it is still running then, it records the evidence a
// stall needs (the sockets of both kernels with `ss -tinM`, the counters
// that moved since snap, flexcp's drop counters, and a short capture on
// the client's and server's veths) and logs where it put it. The returned
// function disarms it; call it when the step ends. The capture goes to a
// directory under $FCP_STALL_DIR (default os.TempDir()) that outlives the
// test, so a stall can be studied afterwards.
func stallWatch(t *testing.T, p *proxy, snap counterSnap, port string, after time.Duration) (stop func()) {
	t.Helper()
	var mu sync.Mutex
	stopped := false
	done := make(chan struct{})
	timer := time.AfterFunc(after, func() {
		defer close(done)
		dir, err := os.MkdirTemp(envOr("FCP_STALL_DIR", os.TempDir()), "flexcp-stall-")
		if err != nil {
			t.Logf("stall: %v", err)
			return
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "STALL? step still running after %s; evidence in %s\n", after, dir)
		sockets := func(tag string) {
			for _, ns := range []string{nsC, nsS} {
				out, _ := nsTry(ns, "ss", "-tinM", "state", "all", "( sport = :"+port+" or dport = :"+port+" )")
				_ = os.WriteFile(filepath.Join(dir, tag+"-ss-"+ns+".txt"), []byte(out), 0o644)
				fmt.Fprintf(&sb, "--- ss -tinM in %s (%s): %s\n", ns, tag, slowSockets(out))
			}
		}
		sockets("before")
		// A 10 s capture of the stalled traffic on the kernels' veths
		// (flexcp's own ports are AF_XDP: a capture there sees nothing).
		var caps []*exec.Cmd
		for _, c := range []struct{ ns, dev string }{{nsC, "c1"}, {nsC, "c2"}, {nsS, "s1"}} {
			cmd := exec.Command("ip", "netns", "exec", c.ns, "tcpdump", "-i", c.dev, "-s", "160", "-n", "-U",
				"-w", filepath.Join(dir, c.dev+".pcap"), "tcp port "+port)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if cmd.Start() == nil {
				caps = append(caps, cmd)
			}
		}
		time.Sleep(10 * time.Second)
		for _, c := range caps {
			_ = c.Process.Signal(syscall.SIGINT) // by PID: tcpdump flushes and exits
			_ = c.Wait()
		}
		sockets("after")
		for k, v := range linkCounters(t) {
			if d := v - snap.l[k]; d != 0 && (strings.Contains(k, "drop") || strings.Contains(k, "err")) {
				fmt.Fprintf(&sb, "  link %s +%d since start\n", k, d)
			}
		}
		if m, err := p.scrape(); err == nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var mb strings.Builder
			for _, k := range keys {
				if m[k] != 0 {
					fmt.Fprintf(&mb, "%s %v\n", k, m[k])
				}
				if strings.HasPrefix(k, "flexcp_drops_total") && m[k]-snap.p[k] != 0 {
					fmt.Fprintf(&sb, "  flexcp %s +%.0f since start\n", k, m[k]-snap.p[k])
				}
			}
			_ = os.WriteFile(filepath.Join(dir, "metrics.txt"), []byte(mb.String()), 0o644)
		}
		mu.Lock()
		if !stopped {
			t.Log(sb.String())
		}
		mu.Unlock()
	})
	return func() {
		if !timer.Stop() {
			<-done
		}
		mu.Lock()
		stopped = true
		mu.Unlock()
	}
}

// slowSockets condenses `ss -tinM` output to the sockets that still have
// data queued (Recv-Q or Send-Q not zero), each with its info line.
func slowSockets(out string) string {
	lines := strings.Split(out, "\n")
	var sb strings.Builder
	n := 0
	for i := 0; i < len(lines); i++ {
		f := strings.Fields(lines[i])
		if len(f) < 5 || f[0] == "State" || strings.HasPrefix(lines[i], "\t") || strings.HasPrefix(lines[i], " ") {
			continue
		}
		if f[1] == "0" && f[2] == "0" {
			continue
		}
		n++
		sb.WriteString("\n  " + lines[i])
		for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], "\t") || strings.HasPrefix(lines[i+1], " ")) {
			i++
			sb.WriteString("\n   " + strings.TrimSpace(lines[i]))
		}
	}
	return fmt.Sprintf("%d sockets with queued data%s", n, sb.String())
}

// linkCounters reads the drop and error counters of every link in the
// three namespaces (`ip -s -j link`) and the veth XDP counters of flexcp's
// ports (`ethtool -S`), keyed "ns/dev counter". They show losses no
// flexcp counter can see: a full AF_XDP receive ring (a failed XDP
// redirect counts in the veth's rx_queue_0_drops and rx_dropped), a full
// veth ring toward an XDP peer (the sender's tx_dropped), a full backlog
// on the kernel side (the sending veth's tx_dropped).
func linkCounters(t testing.TB) map[string]int64 {
	t.Helper()
	m := make(map[string]int64)
	for _, ns := range []string{nsC, nsP, nsS} {
		out, err := nsTry(ns, "ip", "-s", "-j", "link", "show")
		if err != nil {
			t.Logf("ip -s link in %s: %v", ns, err)
			continue
		}
		var links []struct {
			Name  string `json:"ifname"`
			Stats struct {
				RX map[string]int64 `json:"rx"`
				TX map[string]int64 `json:"tx"`
			} `json:"stats64"`
		}
		if err := json.Unmarshal([]byte(out), &links); err != nil {
			t.Logf("ip -s -j link in %s: %v", ns, err)
			continue
		}
		for _, l := range links {
			for k, v := range l.Stats.RX {
				m[ns+"/"+l.Name+" rx_"+k] = v
			}
			for k, v := range l.Stats.TX {
				m[ns+"/"+l.Name+" tx_"+k] = v
			}
		}
	}
	for _, dev := range []string{"p1", "p2", "p3"} {
		out, err := nsTry(nsP, "ethtool", "-S", dev)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(out, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
			if !ok {
				continue
			}
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				m[nsP+"/"+dev+" "+k] = n
			}
		}
	}
	return m
}

// joinedWithin waits up to d until the client has received a valid
// MP_JOIN SYN/ACK since the test began (its second subflow is coming
// up) and reports whether it did. It does not fail the test, so other
// goroutines may call it; checkTwoSubflows asserts the join afterwards.
func (e *e2e) joinedWithin(d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		out, err := nsTry(nsC, "nstat", "-a", "-z", "-s", "MPTcpExtMPJoinSynAckRx")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && f[0] == "MPTcpExtMPJoinSynAckRx" {
				if v, err := strconv.ParseInt(f[1], 10, 64); err == nil && v > e.mib0["MPTcpExtMPJoinSynAckRx"] {
					return true
				}
			}
		}
	}
	return false
}

// checkKernelDropsCounted asserts that what the kernel dropped on the
// receive side of flexcp's interfaces since snap (a full AF_XDP receive
// ring: the veth's rx_dropped) shows in flexcp's own
// flexcp_ethdev_imissed_total, and logs it.
func checkKernelDropsCounted(t *testing.T, p *proxy, snap counterSnap) {
	t.Helper()
	l := linkCounters(t)
	m := p.mustScrape(t)
	for _, port := range []string{"p1", "p2", "p3"} {
		k := l[nsP+"/"+port+" rx_dropped"] - snap.l[nsP+"/"+port+" rx_dropped"]
		got := sum(m, "flexcp_ethdev_imissed_total", `port="`+port+`"`) - sum(snap.p, "flexcp_ethdev_imissed_total", `port="`+port+`"`)
		t.Logf("port %s: kernel receive drops %d, flexcp imissed +%.0f", port, k, got)
		if got < float64(k) {
			t.Errorf("port %s: the kernel dropped %d received packets but flexcp_ethdev_imissed_total grew by %.0f", port, k, got)
		}
	}
}
