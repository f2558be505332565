//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exampleConfig reads a config from examples/.
func exampleConfig(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pingThrough pings dst from the client namespace (from src if not empty)
// and fails unless every echo is answered.
func pingThrough(t *testing.T, dst, src string, count int) {
	t.Helper()
	// -w: wait for every reply (up to 10 s). Without it ping waits for
	// later replies only two round trips of the first one, and a loaded
	// machine's slower replies counted as lost.
	args := []string{"ping", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "2", "-w", "10"}
	if src != "" {
		args = append(args, "-I", src)
	}
	args = append(args, dst)
	out, err := nsTry(nsC, args...)
	if err != nil || !strings.Contains(out, fmt.Sprintf("%d received", count)) {
		t.Fatalf("ping %s from %q: %v\n%s", dst, src, err, out)
	}
}

// iperf3Result is the part of iperf3's JSON report the tests read.
type iperf3Result struct {
	End struct {
		SumReceived struct {
			Bytes         float64 `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// iperf3 runs an iperf3 client in fcp-c against the server in fcp-s and
// returns the received bytes and rate.
func iperf3(t *testing.T, args ...string) iperf3Result {
	t.Helper()
	full := append([]string{"iperf3", "-J", "--connect-timeout", "3000"}, args...)
	out, _ := nsTry(nsC, full...)
	var r iperf3Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("iperf3 %v: bad JSON: %v\n%s", args, err, out)
	}
	if r.Error != "" || r.End.SumReceived.Bytes == 0 {
		t.Fatalf("iperf3 %v: %q, %v bytes", args, r.Error, r.End.SumReceived.Bytes)
	}
	return r
}

// TestForwardPing: ping and ping6 through flexcp on both access paths, and
// pings of flexcp's own addresses, with the echo-reply counter matching.
func TestForwardPing(t *testing.T) {
	topology(t)
	p := startProxy(t, exampleConfig(t, "netns.toml"))

	pingThrough(t, "198.18.3.2", "", 3)
	pingThrough(t, "198.18.3.2", "198.18.2.2", 3)
	pingThrough(t, "2001:db8:3::2", "", 3)
	pingThrough(t, "2001:db8:3::2", "2001:db8:2::2", 3)

	before := sum(p.mustScrape(t), "flexcp_icmp_echo_replies_sent_total")
	pingThrough(t, "198.18.1.1", "", 5)
	pingThrough(t, "2001:db8:2::1", "2001:db8:2::2", 4)
	waitMetric(t, p, "flexcp_icmp_echo_replies_sent_total", before+9)
}

// waitMetric waits until a metric (summed over labels) reaches want, since
// workers publish their counters periodically.
func waitMetric(t *testing.T, p *proxy, name string, want float64, labels ...string) map[string]float64 {
	t.Helper()
	var m map[string]float64
	for i := 0; i < 30; i++ {
		m = p.mustScrape(t)
		if sum(m, name, labels...) >= want {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s%v = %v, want %v", name, labels, sum(m, name, labels...), want)
	return nil
}

// TestForwardIperf3: plain TCP both ways over path 1 and path 2, routed by
// flexcp; the per-port counters account for what iperf3 moved.
func TestForwardIperf3(t *testing.T) {
	topology(t)
	p := startProxy(t, exampleConfig(t, "netns.toml"))
	startServer(t, nsS, "iperf3", "-s", "-B", "198.18.3.2")
	time.Sleep(300 * time.Millisecond)

	var moved float64
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"path1-up", []string{"-c", "198.18.3.2", "-t", "2"}},
		{"path1-down", []string{"-c", "198.18.3.2", "-t", "2", "-R"}},
		{"path2-up", []string{"-c", "198.18.3.2", "-t", "2", "-B", "198.18.2.2"}},
		{"path2-down", []string{"-c", "198.18.3.2", "-t", "2", "-B", "198.18.2.2", "-R"}},
	} {
		r := iperf3(t, tc.args...)
		moved += r.End.SumReceived.Bytes
		t.Logf("%s: %.2f Gbit/s", tc.name, r.End.SumReceived.BitsPerSecond/1e9)
	}
	m := waitMetric(t, p, "flexcp_port_rx_bytes_total", moved)
	for _, port := range []string{"p1", "p2", "p3"} {
		rx := sum(m, "flexcp_port_rx_bytes_total", `port="`+port+`"`)
		tx := sum(m, "flexcp_port_tx_bytes_total", `port="`+port+`"`)
		if rx == 0 || tx == 0 {
			t.Errorf("port %s: rx %v tx %v bytes, want both > 0", port, rx, tx)
		}
	}
	// Everything received on the access ports left by the core port and
	// vice versa: tx(p3) == rx(p1)+rx(p2) minus what flexcp consumed itself
	// (ARP/NDP), which is a handful of packets.
	rxAccess := sum(m, "flexcp_port_rx_packets_total", `port="p1"`) + sum(m, "flexcp_port_rx_packets_total", `port="p2"`)
	txCore := sum(m, "flexcp_port_tx_packets_total", `port="p3"`)
	if d := rxAccess - txCore; d < 0 || d > 50 {
		t.Errorf("access rx %v packets vs core tx %v: differ by %v", rxAccess, txCore, d)
	}
	if ethdev := sum(m, "flexcp_ethdev_ipackets_total", `port="p3"`); ethdev == 0 {
		t.Errorf("ethdev stats of p3 not exported")
	}
}

// TestForwardAFPacket: the same ping and TCP transfer on net_af_packet
// ports.
func TestForwardAFPacket(t *testing.T) {
	topology(t)
	startProxy(t, exampleConfig(t, "netns-afpacket.toml"))
	startServer(t, nsS, "iperf3", "-s", "-B", "198.18.3.2")
	time.Sleep(300 * time.Millisecond)
	pingThrough(t, "198.18.3.2", "", 3)
	pingThrough(t, "2001:db8:3::2", "2001:db8:2::2", 3)
	r := iperf3(t, "-c", "198.18.3.2", "-t", "2")
	t.Logf("af_packet path1-up: %.2f Gbit/s", r.End.SumReceived.BitsPerSecond/1e9)
}

// TestRestart: flexcp stops cleanly on SIGTERM with its summary line and
// starts again on the same ports with nothing left behind.
func TestRestart(t *testing.T) {
	topology(t)
	for i := 0; i < 2; i++ {
		p := startProxy(t, exampleConfig(t, "netns.toml"))
		pingThrough(t, "198.18.3.2", "", 2)
		p.stop(t)
		if !strings.Contains(p.logText(), "flexcp: stopped:") {
			t.Fatalf("run %d: no summary line:\n%s", i, p.logText())
		}
	}
	if files, _ := filepath.Glob("/dev/hugepages/*flexcp*"); len(files) > 0 {
		t.Errorf("hugepage files left behind: %v", files)
	}
}

// TestBadConfig: flexcp refuses a bad config with a one-line message that
// names the key, and a non-zero exit.
func TestBadConfig(t *testing.T) {
	good := exampleConfig(t, "netns.toml")
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"bad role", `role = "core"`, `role = "kore"`, "role"},
		{"unknown key", `idle = "adaptive"`, "idle = \"adaptive\"\nspeed = 5", "speed"},
		{"bad prefix", `"198.18.3.1/24"`, `"198.18.3.1/33"`, "198.18.3.1/33"},
		{"more queue devices than workers", `device = "net_af_xdp0,iface=p1,start_queue=0,queue_count=1"`,
			`devices = ["net_af_xdp0,iface=p1,start_queue=0,queue_count=1", "net_af_xdp5,iface=p1,start_queue=1,queue_count=1"]`,
			"devices lists 2 queues but there are 1 lcores"},
		{"route to unknown port", "port = \"p3\"            # leave by p3 (may be omitted: inferred from via)", `port = "p9"`, "p9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.from) {
				t.Fatalf("example config lacks %q", tc.from)
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "bad.toml")
			os.WriteFile(cfg, []byte(strings.Replace(good, tc.from, tc.to, 1)), 0o644)
			out, err := exec.Command(flexcpBin, "--config", cfg).CombinedOutput()
			if err == nil {
				t.Fatalf("flexcp accepted the bad config:\n%s", out)
			}
			if !strings.Contains(string(out), tc.want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
				t.Fatalf("message %q should be one line naming %q", out, tc.want)
			}
		})
	}
	t.Run("missing device", func(t *testing.T) {
		// No topology: the interface p1 does not exist here.
		dir := t.TempDir()
		cfg := filepath.Join(dir, "nodev.toml")
		os.WriteFile(cfg, []byte(strings.ReplaceAll(good, "iface=p", "iface=nosuchdev")), 0o644)
		out, err := exec.Command(flexcpBin, "--config", cfg).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not found") {
			t.Fatalf("want a 'not found' error for a missing device, got %v:\n%s", err, out)
		}
	})
}
