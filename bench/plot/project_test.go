package plot

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// near reports whether a and b agree to 1e-9 relative.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestProjectFixedData checks the projection's arithmetic on the reports
// in testdata/projection: base (1 worker) 500 ns/pkt of worker CPU; the
// 2-worker pair 1000 ns with affinity, 1100 ns without, 250 handoffs in
// 1000 packets received.
func TestProjectFixedData(t *testing.T) {
	d, err := Load("testdata/projection")
	if err != nil {
		t.Fatal(err)
	}
	ps, notes := Projections(d, ProjectMaxWorkers)
	if len(ps) != 1 || len(notes) != 0 {
		t.Fatalf("projections %v, notes %v; want one, no notes", ps, notes)
	}
	p := ps[0]
	// f_m = 250/1000; s = f_m * 2/1; h = (1100-1000)/f_m.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"base ns", p.BaseNsPerPkt, 500},
		{"f_m", p.MeasuredHandoffFraction, 0.25},
		{"s", p.MisplaceableShare, 0.5},
		{"h cpu", p.HandoffNsCPU, 400},
		{"h", p.HandoffNs, 400},
		{"gain cpu", p.MeasuredGainCPU, 0.1},
		{"gain wall", p.MeasuredGainWall, 0.25},
		{"wall ns aff", p.AffinityWallNsPerPkt, 2000},
		{"wall ns noaff", p.NoAffinityWallNsPerPkt, 2500},
		{"rel wall", p.HandoffRelWall, 1},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if p.HandoffCostFrom != "cpu" || p.BaseFile != "dataplane-w1-64.json" || p.NoAffinityFile != "dataplane-w2-noaff-64.json" || p.Size != "64 B" {
		t.Errorf("from %q, files %s %s, size %q", p.HandoffCostFrom, p.BaseFile, p.NoAffinityFile, p.Size)
	}
	if len(p.Points) != ProjectMaxWorkers {
		t.Fatalf("%d points, want %d", len(p.Points), ProjectMaxWorkers)
	}
	for _, tc := range []struct {
		n                int
		frac, aff, noaff float64
	}{
		{1, 0, 2, 2},
		{2, 0.25, 4, 2000.0 / 600},
		{24, 0.5 * 23 / 24, 48, 24000 / (500 + 400*0.5*23/24)},
	} {
		pt := p.Points[tc.n-1]
		if pt.Workers != tc.n || !near(pt.HandoffFraction, tc.frac) || !near(pt.AffinityMpps, tc.aff) || !near(pt.NoAffinityMpps, tc.noaff) ||
			!near(pt.Gain, tc.aff/tc.noaff-1) {
			t.Errorf("N=%d: %+v, want fraction %v, Mpps %v / %v", tc.n, pt, tc.frac, tc.aff, tc.noaff)
		}
	}
}

// TestProjectHandoffCostFallbacks: when worker CPU time gives a negative
// handoff cost the wall-clock ratio is used, relative to the base cost;
// when both do, h is 0 with a note.
func TestProjectHandoffCostFallbacks(t *testing.T) {
	base := Run{File: "b", Mode: "dataplane", Size: "64 B", Workers: 1, Affinity: true, CPUNsPerPkt: 500, Mpps: 2}
	aff := Run{File: "a", Mode: "dataplane", Size: "64 B", Workers: 2, Affinity: true, CPUNsPerPkt: 1000, Mpps: 1}
	noaff := Run{File: "n", Mode: "dataplane", Size: "64 B", Workers: 2, CPUNsPerPkt: 900, Mpps: 0.8, RxPackets: 1000, Handoffs: 250}
	p, err := Project(base, aff, noaff, 4)
	if err != nil {
		t.Fatal(err)
	}
	// rel = (2500/2000 - 1) / 0.25 = 1, h = 1 * 500.
	if p.HandoffCostFrom != "wall-relative" || !near(p.HandoffNsCPU, -400) || !near(p.HandoffNs, 500) || len(p.Notes) != 1 ||
		!near(p.Points[1].NoAffinityMpps, 2000.0/(500+0.25*500)) {
		t.Errorf("wall fallback: %+v", p)
	}
	noaff.Mpps = 1.2
	if p, err = Project(base, aff, noaff, 4); err != nil {
		t.Fatal(err)
	}
	if p.HandoffCostFrom != "none" || p.HandoffNs != 0 || len(p.Notes) != 1 || p.Points[3].Gain != 0 {
		t.Errorf("no usable handoff cost: %+v", p)
	}
	// A measured fraction above (W-1)/W caps s at 1.
	noaff.Handoffs = 900
	if p, err = Project(base, aff, noaff, 4); err != nil || p.MisplaceableShare != 1 || len(p.Notes) != 2 {
		t.Errorf("capped share: %+v, %v", p, err)
	}
}

func TestProjectRefuses(t *testing.T) {
	base := Run{File: "b", Mode: "dataplane", Size: "64 B", Workers: 1, CPUNsPerPkt: 500, Mpps: 2}
	aff := Run{File: "a", Mode: "dataplane", Size: "64 B", Workers: 2, Affinity: true, CPUNsPerPkt: 1000, Mpps: 1}
	noaff := Run{File: "n", Mode: "dataplane", Size: "64 B", Workers: 2, CPUNsPerPkt: 1100, Mpps: 0.8, RxPackets: 1000, Handoffs: 250}
	for _, tc := range []struct {
		name string
		edit func(b, a, n *Run)
		want string
	}{
		{"no handoffs", func(b, a, n *Run) { n.Handoffs = 0 }, "no handoffs"},
		{"sizes differ", func(b, a, n *Run) { n.Size = "1460 B" }, "payloads differ"},
		{"both with affinity", func(b, a, n *Run) { n.Affinity = true }, "without"},
		{"one worker pair", func(b, a, n *Run) { a.Workers, n.Workers = 1, 1 }, "at least 2"},
		{"no CPU time", func(b, a, n *Run) { b.CPUNsPerPkt = 0 }, "CPU ns/pkt missing"},
		{"engine report", func(b, a, n *Run) { b.Mode = "engine" }, "dataplane reports"},
	} {
		b, a, n := base, aff, noaff
		tc.edit(&b, &a, &n)
		if _, err := Project(b, a, n, 24); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestParseSummary(t *testing.T) {
	rx, h, err := parseSummary("flexcp: stopped: 2 workers, rx 440858 pkts 47444692 bytes, tx 1 pkts 2 bytes, joins 1000 accepted 0 rejected, handoffs 215025 (ring full 0)")
	if err != nil || rx != 440858 || h != 215025 {
		t.Errorf("rx %d handoffs %d err %v", rx, h, err)
	}
	if rx, h, err = parseSummary("flexcp: stopped: 1 workers, rx 7 pkts 9 bytes"); err != nil || rx != 7 || h != 0 {
		t.Errorf("one worker: rx %d handoffs %d err %v", rx, h, err)
	}
	if _, _, err = parseSummary("garbage"); err == nil {
		t.Error("a line without rx parsed")
	}
}

// TestDrawWritesProjection: plot writes projection.json, .md and .png
// from the fixed reports, and labels them as a projection.
func TestDrawWritesProjection(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"dataplane-w1-64.json", "dataplane-w2-aff-64.json", "dataplane-w2-noaff-64.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/projection", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Draw(d, dir); err != nil {
		t.Fatal(err)
	}
	var ps []Projection
	b, err := os.ReadFile(filepath.Join(dir, "projection.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ps); err != nil || len(ps) != 1 || ps[0].Label != ProjectionLabel || len(ps[0].Points) != ProjectMaxWorkers {
		t.Fatalf("projection.json: %v, %+v", err, ps)
	}
	md, err := os.ReadFile(filepath.Join(dir, "projection.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "PROJECTION") || !strings.Contains(string(md), "| 24 | 48.00 |") {
		t.Errorf("projection.md:\n%s", md)
	}
	f, err := os.Open(filepath.Join(dir, "projection.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("projection.png: %v", err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "plots.csv"))
	if err != nil || !strings.Contains(string(csv), "projection,64 B,24,true,projected_mpps,48,") {
		t.Errorf("plots.csv has no projected row: %v", err)
	}
}
