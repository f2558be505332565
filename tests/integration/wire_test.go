//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexcp/flexcp/bench/pktgen"
)

// pktgenBin is flexcp-pktgen as `make build` produces it.
var pktgenBin = filepath.Join(repoRoot, "bin", "flexcp-pktgen")

// TestWireShort: flexcp-pktgen's wire mode against a running flexcp. The
// generator plays the model's MPTCP client from c1 and c2 and its TCP
// server from s1 (AF_XDP vdevs opened from inside fcp-c and fcp-s), 16
// connections x 2 subflows, both directions, 64 and 1432-byte payloads,
// for 2 s. The run must complete: the model's ends accept every packet
// flexcp delivers (handshakes, HMACs, DSS mappings, checksums, payload
// byte-exact, in order) and count no loss; both paths and the core carry
// frames; the JSON and Markdown reports are well formed; flexcp's own
// counters agree that it translated the 16 connections and their joins.
func TestWireShort(t *testing.T) {
	if _, err := os.Stat(pktgenBin); err != nil {
		t.Fatalf("%s: %v (make build)", pktgenBin, err)
	}
	topology(t)
	routes, err := exec.Command(pktgenBin, "wire", "--flexcp-routes", "--subflows", "2").Output()
	if err != nil {
		t.Fatalf("flexcp-pktgen wire --flexcp-routes: %v", err)
	}
	p := startProxy(t, proxyConfig(t, "idle = \"poll\"")+"\n"+string(routes))
	dir := t.TempDir()
	js, md := filepath.Join(dir, "wire.json"), filepath.Join(dir, "wire.md")
	cmd := exec.Command(pktgenBin, "wire", "--netns-prefix", nsPrefix, "--duration", "2s", "--connections", "16",
		"--subflows", "2", "--mix", "64:1,1432:1", "--direction", "both", "--json", js, "--md", md)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("flexcp-pktgen wire: %v\n%s\nflexcp:\n%s", err, out, p.logText())
	}
	if !strings.Contains(string(out), "wire: t=") {
		t.Errorf("no progress line:\n%s", out)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var r pktgen.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, b)
	}
	w := r.Wire
	if r.Mode != "wire" || w == nil {
		t.Fatalf("report: mode %q, wire %+v", r.Mode, w)
	}
	if w.PayloadBytes[0] == 0 || w.PayloadBytes[1] == 0 || w.Segments[0] == 0 || w.Segments[1] == 0 {
		t.Errorf("verified payload c2s/s2c %v bytes, %v segments: want both directions", w.PayloadBytes, w.Segments)
	}
	for i, iface := range []string{"c1", "c2", "s1"} {
		if w.FramesSent[i] == 0 || w.FramesReceived[i] == 0 {
			t.Errorf("%s: %d frames sent, %d received: every path must carry traffic", iface, w.FramesSent[i], w.FramesReceived[i])
		}
		if w.Ports[i].Iface != iface || w.Ports[i].IMissed != 0 {
			t.Errorf("port %d: %+v", i, w.Ports[i])
		}
	}
	if w.Mpps <= 0 || w.PayloadGbps <= 0 || w.WallSeconds <= 0 || w.SetupConnsPerSec <= 0 || w.Driver != "af_xdp" {
		t.Errorf("rates: %+v", w)
	}
	if r.Machine.Commit == "" || r.Machine.DPDK == "" {
		t.Errorf("machine: %+v", r.Machine)
	}
	m, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### flexcp-pktgen wire", "| metric | value |", "Mpps into flexcp", "byte-exact"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, m)
		}
	}
	// Workers publish their counters every 100 ms: wait until the last
	// frames the model verified are counted too. Every data segment
	// flexcp sends counts (the pieces of split retransmissions included),
	// so its counts are at least the model's.
	waitMetric(t, p, "flexcp_translated_segments_total", float64(w.Segments[0]), `direction="c2s"`)
	mt := waitMetric(t, p, "flexcp_translated_segments_total", float64(w.Segments[1]), `direction="s2c"`)
	if n := sum(mt, "flexcp_connections_opened_total"); n != 16 {
		t.Errorf("flexcp opened %v connections, want 16", n)
	}
	if n := sum(mt, "flexcp_joins_accepted_total"); n != 16 {
		t.Errorf("flexcp accepted %v joins, want 16", n)
	}
}
