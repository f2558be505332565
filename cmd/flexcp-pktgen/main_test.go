package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flexcp/flexcp/bench/pktgen"
	"github.com/flexcp/flexcp/config"
)

// TestEngineShortRun: a 300 ms engine run completes and writes JSON that
// parses back and a Markdown table.
func TestEngineShortRun(t *testing.T) {
	dir := t.TempDir()
	js, md := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	var out, errb bytes.Buffer
	code := run([]string{"engine", "--duration", "300ms", "--setup-duration", "100ms", "--model-duration", "100ms",
		"--connections", "64", "--subflows", "2", "--mix", "64:1,1432:3", "--direction", "both", "--workers", "2",
		"--idle-conns", "500", "--setup-batch", "256", "--key-cores", "24", "--json", js, "--md", md, "--quiet"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var r pktgen.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, b)
	}
	if r.Mode != "engine" || r.Data == nil || r.Data.Packets[0] == 0 || r.Data.Packets[1] == 0 ||
		r.Data.PayloadBytes[0] == 0 || r.Data.PayloadBytes[1] == 0 || len(r.Data.Workers) != 2 {
		t.Errorf("data phase: %+v", r.Data)
	}
	if s := r.Setup; s == nil || s.Connections == 0 || s.KeyCores != 24 || s.SHA256PerKey <= 0 || s.SHA256PerKey >= 32 ||
		s.EngineCPUConnsPerSecPerCore <= 0 || s.CPUConnsPerSecPerCore <= 0 || s.ConnsPerSecPerCore <= 0 ||
		s.BatchMedian <= 0 || s.BatchP10 > s.BatchMedian || s.BatchMedian > s.BatchP90 || s.Definition == "" ||
		s.EngineUsPerConn <= 0 || s.EngineUsPerConn > s.LoopUsPerConn || len(s.Workers) != 2 {
		// The engine's CPU time is a share of the thread's: never more.
		t.Errorf("setup phase: %+v", r.Setup)
	}
	if r.IdleMemory == nil || r.IdleMemory.EngineBytesPerConn <= 0 {
		t.Errorf("idle memory: %+v", r.IdleMemory)
	}
	if r.Model == nil || r.Model.NsPerPkt <= 0 || r.Derived == nil {
		t.Errorf("model-only phase: %+v %+v", r.Model, r.Derived)
	}
	if r.Machine.NProc <= 0 || r.Machine.GoVersion == "" || r.Machine.Commit == "" || r.Machine.DPDK == "" {
		t.Errorf("machine: %+v", r.Machine)
	}
	m, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| metric | value |", "| --- | --- |", "Mpps", "**setup: connections/s per core, engine only**", r.Machine.GoVersion} {
		if !strings.Contains(string(m), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, m)
		}
	}
}

// TestDataplaneShortRun: a short dataplane run (EAL in this process, root,
// flexcp's real workers on ring ports) completes with the model finding
// no error and writes well-formed JSON and Markdown.
func TestDataplaneShortRun(t *testing.T) {
	dir := t.TempDir()
	js, md := filepath.Join(dir, "d.json"), filepath.Join(dir, "d.md")
	var out, errb bytes.Buffer
	code := run([]string{"dataplane", "--duration", "300ms", "--connections", "64", "--subflows", "2",
		"--size", "1460", "--json", js, "--md", md,
		"--eal", "-l 0 --no-pci --no-telemetry --log-level=*:error -m 256 --no-huge --no-shconf --file-prefix=fg-cmd-test-" + strconv.Itoa(os.Getpid())}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "| metric | value |") {
		t.Errorf("stdout has no table:\n%s", out.String())
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var r pktgen.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, b)
	}
	dp := r.Dataplane
	if r.Mode != "dataplane" || dp == nil {
		t.Fatalf("report: %s", b)
	}
	if dp.Workers != 1 || dp.MTU != 1528 || dp.PacketsIn == 0 || dp.PacketsOut == 0 || dp.PayloadBytes[0] == 0 ||
		dp.PayloadBytes[1] == 0 || dp.Mpps <= 0 || dp.PayloadGbps <= 0 || dp.RingSeconds <= 0 || len(dp.Drops) != 0 {
		t.Errorf("dataplane result: %+v", dp)
	}
	if !strings.Contains(dp.Summary, "connections 64 (fallback 0), joins 64 accepted 0 rejected") {
		t.Errorf("dataplane summary: %s", dp.Summary)
	}
	m, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| metric | value |", "Mpps per worker", "worker CPU ns/pkt", r.Machine.DPDK} {
		if !strings.Contains(string(m), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, m)
		}
	}
}

// TestPlotMode: plot draws PNGs from a report in --dir and says what it
// left out.
func TestPlotMode(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"engine", "--duration", "100ms", "--setup-duration", "50ms", "--model-duration", "-1s",
		"--connections", "16", "--idle-conns", "-1", "--setup-batch", "64", "--json", filepath.Join(dir, "engine.json"), "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("engine: exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"plot", "--dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("plot: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"wrote " + filepath.Join(dir, "setup_rate.png"), "wrote " + filepath.Join(dir, "plots.csv"), "left out affinity.png"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plot output lacks %q:\n%s", want, out.String())
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "setup_rate.png")); err != nil || st.Size() == 0 {
		t.Errorf("setup_rate.png: %v", err)
	}
}

// TestWireRoutes: --flexcp-routes prints one route per subflow that,
// appended to examples/netns.toml, is a configuration flexcp accepts, with
// each subflow's address block behind the path the generator sends it on.
func TestWireRoutes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"wire", "--flexcp-routes", "--subflows", "4"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	base, err := os.ReadFile(filepath.Join("..", "..", "examples", "netns.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("netns.toml + routes", append(base, out.Bytes()...))
	if err != nil {
		t.Fatalf("flexcp rejects the routes: %v\n%s", err, out.String())
	}
	want := map[string]string{"198.18.0.0/24": "p1", "198.18.32.0/24": "p2", "198.18.64.0/24": "p1", "198.18.96.0/24": "p2"}
	for _, r := range cfg.Routes {
		if p, ok := want[r.Prefix.String()]; ok {
			if r.Port != p {
				t.Errorf("route %v leaves by %s, want %s", r.Prefix, r.Port, p)
			}
			delete(want, r.Prefix.String())
		}
	}
	if len(want) != 0 {
		t.Errorf("routes missing: %v\n%s", want, out.String())
	}
}

// TestBadFlags: bad modes and flags are refused with a non-zero exit.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"engine", "--direction", "up"}, {"engine", "--mix", "1448"}, {"engine", "--size", "0"}, {"engine", "--subflows", "5"},
		{"dataplane", "--worker-cpus", "x"}, {"dataplane", "--workers", "2", "--worker-cpus", "1"}, {"dataplane", "--size", "1900"},
		{"wire", "--driver", "pcap"}, {"wire", "--connections", "60001"}, {"wire", "--subflows", "5"}} {
		var out, errb bytes.Buffer
		if code := run(append(args, "--duration", "10ms", "--quiet"), &out, &errb); code == 0 {
			t.Errorf("%q accepted", args)
		}
	}
}
