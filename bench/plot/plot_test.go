package plot

import (
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeJSON writes v to dir/name.
func writeJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture writes reports shaped like flexcp-pktgen's and a compare.json
// into a temporary directory.
func fixture(t *testing.T) string {
	dir := t.TempDir()
	machine := map[string]any{"nproc": 2, "cpu": "test", "dpdk": "22.11", "commit": "abc123"}
	for _, w := range []int{1, 2} {
		writeJSON(t, dir, "engine-w"+string(rune('0'+w))+".json", map[string]any{
			"mode": "engine", "machine": machine,
			"config": map[string]any{"sizes": []int{64, 1432}, "mix": "64:1,1432:3", "workers": w},
			"setup":  map[string]any{"cpu_conns_per_sec_per_core": 150000.0 * float64(w), "engine_cpu_conns_per_sec_per_core": 350000.0},
			"data":   map[string]any{"mpps": 0.9 * float64(w), "payload_gbps": 5.5 * float64(w)},
		})
		for _, size := range []int{64, 1432} {
			for _, aff := range []bool{true, false} {
				if w == 1 && !aff {
					continue
				}
				name := "dataplane-" + string(rune('0'+w)) + "w-" + map[bool]string{true: "aff", false: "noaff"}[aff] + "-" + map[int]string{64: "64", 1432: "1432"}[size] + ".json"
				writeJSON(t, dir, name, map[string]any{
					"mode": "dataplane", "machine": machine,
					"config": map[string]any{"sizes": []int{size}, "workers": w},
					"dataplane": map[string]any{"workers": w, "affinity": aff, "mpps": 1.5 * float64(w),
						"cpu_mpps_per_worker": 1.8, "payload_gbps": float64(size) * 8 * 1.5 * float64(w) / 1e3,
						"cpu_ns_per_pkt":    map[bool]float64{true: 555, false: 600}[aff],
						"dataplane_summary": "flexcp: stopped: 2 workers, rx 1000 pkts 1 bytes, handoffs " + map[bool]string{true: "0", false: "300"}[aff] + " (ring full 0)"},
				})
			}
		}
	}
	writeJSON(t, dir, "compare.json", map[string]any{"date": "2026-11-25", "rows": []map[string]any{
		{"name": "flexcp", "direction": "c2s", "gbps": 1.44, "cpu": 1.03},
		{"name": "flexcp", "direction": "s2c", "gbps": 1.70, "cpu": 1.03},
		{"name": "kernel E2E", "direction": "c2s", "gbps": 3.49, "cpu": nil},
		{"name": "kernel E2E", "direction": "s2c", "gbps": 3.24, "cpu": nil},
	}})
	return dir
}

func TestDrawFromDataFiles(t *testing.T) {
	dir := fixture(t)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 2+6 || len(d.Compare) != 4 {
		t.Fatalf("loaded %d runs and %d comparison rows, want 8 and 4", len(d.Runs), len(d.Compare))
	}
	written, notes, err := Draw(d, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("plots left out: %v", notes)
	}
	want := []string{"projection.json", "projection.md", "dataplane_mpps.png", "dataplane_gbps.png", "affinity.png", "setup_rate.png", "compare.png", "projection.png", "plots.csv"}
	if len(written) != len(want) {
		t.Fatalf("wrote %v, want %v", written, want)
	}
	for i, w := range want {
		if filepath.Base(written[i]) != w {
			t.Errorf("file %d = %s, want %s", i, written[i], w)
		}
		if !strings.HasSuffix(w, ".png") {
			continue
		}
		f, err := os.Open(written[i])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
			t.Errorf("%s: %v pixels", w, b)
		}
	}
	f, err := os.Open(filepath.Join(dir, "plots.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range rows[1:] {
		found[r[1]+"/"+r[5]] = true
	}
	for _, k := range []string{"engine/setup_per_core_engine_cpu", "dataplane/mpps", "dataplane/cpu_mpps", "compare/c2s_gbps", "compare/s2c_cpu"} {
		if !found[k] {
			t.Errorf("plots.csv has no %s row", k)
		}
	}
}

func TestDrawLeavesOutWhatHasNoData(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, dir, "dataplane-1.json", map[string]any{"mode": "dataplane",
		"config": map[string]any{"sizes": []int{64}, "workers": 1}, "dataplane": map[string]any{"workers": 1, "mpps": 1.0}})
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	written, notes, err := Draw(d, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 3 || len(notes) != 5 {
		t.Fatalf("written %v, notes %v; want the two dataplane plots and plots.csv, five notes (affinity, setup, compare, projection data and plot)", written, notes)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "affinity.png: needs dataplane reports with several workers") {
		t.Errorf("notes %q do not say why the affinity plot is missing", notes)
	}
}

func TestParseCompare(t *testing.T) {
	md := `# title

| proxy | client->server Gbit/s | server->client Gbit/s | its CPU | machine softirq |
| --- | --- | --- | --- | --- |
| flexcp (AF_XDP) | 1.44 | 1.70 | 103% | 74% |
| Linux MPTCP end to end | 3.49 | 3.24 | (= softirq) | 71% |

- a note | with a bar
`
	rows, err := ParseCompareMarkdown(strings.NewReader(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].Name != "flexcp (AF_XDP)" || rows[0].Direction != "c2s" || rows[0].Gbps != 1.44 ||
		rows[0].CPU == nil || *rows[0].CPU != 1.03 || rows[3].Direction != "s2c" || rows[3].Gbps != 3.24 || rows[3].CPU != nil {
		t.Fatalf("rows = %+v", rows)
	}
	if _, err := ParseCompareMarkdown(strings.NewReader("no table\n")); err == nil {
		t.Error("a file without a table parsed")
	}
	bare := `[{"name":"a","direction":"c2s","gbps":1,"cpu":0.5}]`
	if rows, err := ParseCompareJSON([]byte(bare)); err != nil || len(rows) != 1 || *rows[0].CPU != 0.5 {
		t.Errorf("bare array: %+v, %v", rows, err)
	}
	// The measurements scripts/compare.sh writes: only throughput is drawn,
	// its cpu (percent of a core) becomes cores.
	measured := `[{"name":"baseline","direction":"both","metric":"machine_cpu","value":12.5,"unit":"%","cpu":null},
		{"name":"flexcp","direction":"s2c","metric":"throughput","value":1.7,"unit":"Gbit/s","cpu":98},
		{"name":"flexcp","direction":"both","metric":"rr_p50","value":40,"unit":"us","cpu":9}]`
	if rows, err := ParseCompareJSON([]byte(measured)); err != nil || len(rows) != 1 || rows[0].Gbps != 1.7 || rows[0].Direction != "s2c" || *rows[0].CPU != 0.98 {
		t.Errorf("compare.sh rows: %+v, %v", rows, err)
	}
	for _, bad := range []string{`{"rows":[{"name":"a","direction":"up","gbps":1}]}`, `{"rows":[{"direction":"c2s","gbps":1}]}`, `nope`,
		`[{"name":"a","direction":"c2s","metric":"throughput","value":1,"unit":"Mbit/s"}]`, `[{"name":"a","direction":"c2s"}]`} {
		if _, err := ParseCompareJSON([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}
