//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startupConfig is a valid config for namespace nsX (veths x1, x2 there)
// with extra top-level lines first and the [mempool] mbufs given.
func startupConfig(top string, mbufs int) string {
	return top + `
eal = ["--no-pci", "--in-memory", "--log-level", "*:warning"]
idle = "adaptive"
[metrics]
listen = "127.0.0.1:9750"
[[port]]
name = "x1"
device = "net_af_packet0,iface=x1"
role = "access"
addresses = ["198.18.1.1/24"]
[[port]]
name = "x2"
device = "net_af_packet1,iface=x2"
role = "core"
addresses = ["198.18.3.1/24"]
[mempool]
mbufs = ` + strconv.Itoa(mbufs) + `
`
}

// TestStartupRefusals runs bin/flexcp with configs or environments it
// must refuse, in a namespace of its own (PREFIX-x, with a veth pair x1,
// x2): each time it exits non-zero before touching a port, with one line
// on stderr that names the problem and says what to do.
func TestStartupRefusals(t *testing.T) {
	nsX := nsPrefix + "-x"
	exec.Command("ip", "netns", "del", nsX).Run()
	run(t, "ip", "netns", "add", nsX)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsX).Run() })
	nsRun(t, nsX, "ip", "link", "add", "x1", "type", "veth", "peer", "name", "x2")
	nsRun(t, nsX, "ip", "link", "set", "x1", "up")
	nsRun(t, nsX, "ip", "link", "set", "x2", "up")
	dir := t.TempDir()
	noHuge := filepath.Join(dir, "meminfo")
	mi, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.HasPrefix(l, "HugePages_Free:") {
			l = "HugePages_Free:        0"
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(noHuge, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	// Mount changes happen in a private mount namespace (unshare -m):
	// the machine's /proc/meminfo and hugetlbfs mounts are untouched.
	unmountHuge := `for m in $(awk '$3 == "hugetlbfs" {print $2}' /proc/mounts); do umount -l "$m"; done; `
	tests := []struct {
		name   string
		config string
		shell  string // run flexcp through sh -c with this prefix (in unshare -m)
		pin    string // taskset CPU list
		want   []string
	}{
		{"interface missing", strings.Replace(startupConfig("lcores = [1]", 8191), "iface=x2", "iface=nosuch0", 1), "", "",
			[]string{`port "x2"`, `interface "nosuch0"`, "not found in this network namespace", "create it or fix the device string"}},
		{"PCI device missing", strings.Replace(strings.Replace(startupConfig("lcores = [1]", 8191), `"net_af_packet1,iface=x2"`, `"0000:ff:1f.7"`, 1), `"--no-pci", `, "", 1), "", "",
			[]string{`port "x2"`, "PCI device 0000:ff:1f.7 does not exist", "fix device"}},
		{"lcore not on this machine", startupConfig("lcores = [63]", 8191), "", "",
			[]string{"lcores: CPU 63 does not exist or this process may not run on it", "pick lcores from the usable CPUs"}},
		{"lcore outside the affinity mask", startupConfig("lcores = [1]", 8191), "", "0",
			[]string{"lcores: CPU 1 does not exist or this process may not run on it (usable: 0)", "widen taskset/cpuset"}},
		// Two workers each poll their own queue of every port; an
		// af_packet vdev here has one. (EAL starts before this check:
		// --no-telemetry keeps its one informational line off stderr.)
		{"more workers than a port has queues", strings.Replace(startupConfig("lcores = [0, 1]", 8191), `"--in-memory", `, `"--in-memory", "--no-telemetry", `, 1), "", "",
			[]string{`port "x1" (net_af_packet) supports 1 RX / 1 TX queues, 2 workers need 2`, "list one vdev per queue with devices = [...]"}},
		{"no free hugepages", startupConfig("lcores = [1]", 8191), "mount --bind " + noHuge + " /proc/meminfo; ", "",
			[]string{"hugepages: need", "have 0 MB free", "reserve 2 MB pages: echo"}},
		{"mempool above the free hugepages", startupConfig("lcores = [1]", 1<<24-1), "", "",
			[]string{"hugepages: need", "reserve 2 MB pages: echo", "nr_hugepages"}},
		{"hugetlbfs not mounted", startupConfig("lcores = [1]", 8191), unmountHuge, "",
			[]string{"hugetlbfs mounted: false", "mount -t hugetlbfs nodev /dev/hugepages"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "bad.toml")
			if err := os.WriteFile(cfg, []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			argv := []string{"ip", "netns", "exec", nsX, flexcpBin, "--config", cfg}
			if tc.pin != "" {
				argv = append([]string{"taskset", "-c", tc.pin}, argv...)
			}
			if tc.shell != "" {
				argv = []string{"unshare", "-m", "sh", "-c", tc.shell + "exec " + strings.Join(argv, " ")}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			msg := strings.TrimSpace(stderr.String())
			if err == nil {
				t.Fatalf("flexcp started; want a refusal containing %q", tc.want)
			}
			if ctx.Err() != nil {
				t.Fatalf("flexcp did not exit within 60 s\n%s", msg)
			}
			if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "flexcp: ") {
				t.Errorf("stderr is not one line starting with \"flexcp: \":\n%s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			t.Logf("%s", msg)
		})
	}
}

// TestMetricsDefaultLoopback: with no listen key in [metrics], flexcp's
// metrics endpoint listens on the loopback address only (127.0.0.1:9750),
// never on a wildcard address.
func TestMetricsDefaultLoopback(t *testing.T) {
	topology(t)
	cfg := exampleConfig(t, "netns.toml")
	var kept []string
	for _, l := range strings.Split(cfg, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "listen =") {
			kept = append(kept, l)
		}
	}
	cfg = strings.Join(kept, "\n")
	if strings.Contains(cfg, "listen =") {
		t.Fatal("config still sets listen")
	}
	p := startProxy(t, cfg)
	p.mustScrape(t)
	out := nsRun(t, nsP, "ss", "-ltnH")
	found := false
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasSuffix(f[3], ":9750") {
			continue
		}
		if f[3] != "127.0.0.1:9750" {
			t.Errorf("metrics socket listens on %s, want 127.0.0.1:9750 only", f[3])
		}
		found = true
	}
	if !found {
		t.Errorf("no listening socket on port 9750 in %s:\n%s", nsP, out)
	}
}
