package plot

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// report is the part of a flexcp-pktgen JSON report (bench/pktgen.Report)
// the plots read. It is decoded here rather than imported so that this
// package stays pure Go.
type report struct {
	Mode    string `json:"mode"`
	Started string `json:"started"`
	Machine struct {
		NProc  int    `json:"nproc"`
		CPU    string `json:"cpu"`
		DPDK   string `json:"dpdk"`
		Commit string `json:"commit"`
	} `json:"machine"`
	Config struct {
		Sizes   []int  `json:"sizes"`
		Mix     string `json:"mix"`
		Workers int    `json:"workers"`
	} `json:"config"`
	Setup *struct {
		CPUConnsPerSecPerCore       float64 `json:"cpu_conns_per_sec_per_core"`
		EngineCPUConnsPerSecPerCore float64 `json:"engine_cpu_conns_per_sec_per_core"`
	} `json:"setup"`
	Data *struct {
		Mpps        float64 `json:"mpps"`
		PayloadGbps float64 `json:"payload_gbps"`
	} `json:"data"`
	Dataplane *struct {
		Workers          int     `json:"workers"`
		Affinity         bool    `json:"affinity"`
		Mpps             float64 `json:"mpps"`
		CPUMppsPerWorker float64 `json:"cpu_mpps_per_worker"`
		PayloadGbps      float64 `json:"payload_gbps"`
		FrameGbps        float64 `json:"frame_gbps"`
		CPUNsPerPkt      float64 `json:"cpu_ns_per_pkt"`
		Summary          string  `json:"dataplane_summary"`
	} `json:"dataplane"`
}

// Run is one flexcp-pktgen report reduced to what the plots show.
type Run struct {
	// File is the report's file name.
	File string
	// Mode is "engine" or "dataplane".
	Mode string
	// Size labels the payload ("64 B", "1432 B", "mix 64:1,1432:3").
	Size     string
	Workers  int
	Affinity bool
	// Mpps and PayloadGbps: engine mode, all workers, wall time;
	// dataplane mode, all workers, while the dataplane had frames queued.
	Mpps, PayloadGbps float64
	// CPUMpps: dataplane mode, the Mpps of all workers from their CPU
	// time (Workers x cpu_mpps_per_worker).
	CPUMpps float64
	// SetupPerCoreEngineCPU and SetupPerCoreCPU: engine mode, connections
	// set up per second per core from the worker threads' CPU time, the
	// engine alone (the setup headline, results/README.md) and with the
	// model (0 in reports that predate them).
	SetupPerCoreEngineCPU, SetupPerCoreCPU float64
	// CPUNsPerPkt: dataplane mode, the workers' CPU ns per packet.
	CPUNsPerPkt float64
	// RxPackets and Handoffs: dataplane mode, from the dataplane's
	// shutdown line (whole run): packets received from the ports and
	// packets handed to another worker.
	RxPackets, Handoffs uint64
	// Machine and Commit describe where the run came from.
	Machine, Commit string
}

// CompareRow is one row of results/compare.json, the end-to-end
// comparison scripts/compare.sh writes: a forwarder or proxy, a
// direction, its throughput and its CPU use.
type CompareRow struct {
	// Name of the forwarder or proxy, e.g. "flexcp (AF_XDP, 1 worker)".
	Name string `json:"name"`
	// Direction: "c2s" (client to server) or "s2c".
	Direction string `json:"direction"`
	// Gbps is the median throughput in Gbit/s.
	Gbps float64 `json:"gbps"`
	// CPU is its process CPU time per second of traffic (1.0 = one
	// core); null when not measurable separately (kernel forwarding).
	CPU *float64 `json:"cpu"`
}

// Data is everything the plots are drawn from.
type Data struct {
	Runs    []Run
	Compare []CompareRow
	// CompareSource names the file the comparison came from.
	CompareSource string
}

// Load reads every flexcp-pktgen JSON report in dir (engine*.json,
// dataplane*.json) and the end-to-end comparison: compare.json if present,
// else the table of compare.md. Missing files leave their part empty.
func Load(dir string) (*Data, error) {
	d := &Data{}
	for _, pat := range []string{"engine*.json", "dataplane*.json"} {
		files, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			r, err := loadReport(f)
			if err != nil {
				return nil, err
			}
			d.Runs = append(d.Runs, r)
		}
	}
	cj := filepath.Join(dir, "compare.json")
	if b, err := os.ReadFile(cj); err == nil {
		if d.Compare, err = ParseCompareJSON(b); err != nil {
			return nil, fmt.Errorf("plot: %s: %w", cj, err)
		}
		d.CompareSource = cj
	} else if f, err := os.Open(filepath.Join(dir, "compare.md")); err == nil {
		d.Compare, err = ParseCompareMarkdown(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("plot: %s: %w", filepath.Join(dir, "compare.md"), err)
		}
		d.CompareSource = filepath.Join(dir, "compare.md")
	}
	return d, nil
}

func loadReport(path string) (Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Run{}, err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return Run{}, fmt.Errorf("plot: %s: %w", path, err)
	}
	run := Run{File: filepath.Base(path), Mode: r.Mode, Workers: r.Config.Workers,
		Machine: fmt.Sprintf("%d CPUs %s, DPDK %s", r.Machine.NProc, r.Machine.CPU, r.Machine.DPDK), Commit: r.Machine.Commit}
	if r.Config.Mix != "" {
		run.Size = "mix " + r.Config.Mix
	} else {
		s := make([]string, len(r.Config.Sizes))
		for i, z := range r.Config.Sizes {
			s[i] = strconv.Itoa(z)
		}
		run.Size = strings.Join(s, ",") + " B"
	}
	switch r.Mode {
	case "engine":
		if r.Data == nil {
			return Run{}, fmt.Errorf("plot: %s: engine report without data", path)
		}
		run.Mpps, run.PayloadGbps = r.Data.Mpps, r.Data.PayloadGbps
		if r.Setup != nil {
			run.SetupPerCoreEngineCPU, run.SetupPerCoreCPU = r.Setup.EngineCPUConnsPerSecPerCore, r.Setup.CPUConnsPerSecPerCore
		}
	case "dataplane":
		dp := r.Dataplane
		if dp == nil {
			return Run{}, fmt.Errorf("plot: %s: dataplane report without its result", path)
		}
		run.Workers, run.Affinity = dp.Workers, dp.Affinity
		run.Mpps, run.PayloadGbps = dp.Mpps, dp.PayloadGbps
		run.CPUMpps = dp.CPUMppsPerWorker * float64(dp.Workers)
		run.CPUNsPerPkt = dp.CPUNsPerPkt
		if dp.Summary != "" {
			if run.RxPackets, run.Handoffs, err = parseSummary(dp.Summary); err != nil {
				return Run{}, fmt.Errorf("plot: %s: %w", path, err)
			}
		}
	default:
		return Run{}, fmt.Errorf("plot: %s: unknown mode %q", path, r.Mode)
	}
	return run, nil
}

// ParseCompareJSON decodes results/compare.json. scripts/compare.sh writes
// a bare array of measurements {name, direction, metric, value, unit, cpu}
// with cpu in percent of one core; the throughput rows (metric
// "throughput", direction c2s or s2c) become CompareRows and the other
// metrics are skipped. Rows already in CompareRow form ({name, direction,
// gbps, cpu} with cpu in cores), bare or under {"rows": [...]}, are
// accepted too.
func ParseCompareJSON(b []byte) ([]CompareRow, error) {
	type rawRow struct {
		Name      string   `json:"name"`
		Direction string   `json:"direction"`
		Gbps      *float64 `json:"gbps"`
		Metric    string   `json:"metric"`
		Value     float64  `json:"value"`
		Unit      string   `json:"unit"`
		CPU       *float64 `json:"cpu"`
	}
	var raw []rawRow
	if err := json.Unmarshal(b, &raw); err != nil {
		var obj struct {
			Rows []rawRow `json:"rows"`
		}
		if err2 := json.Unmarshal(b, &obj); err2 != nil {
			return nil, err2
		}
		raw = obj.Rows
	}
	var rows []CompareRow
	for i, r := range raw {
		row := CompareRow{Name: r.Name, Direction: r.Direction, CPU: r.CPU}
		switch {
		case r.Metric != "":
			if r.Metric != "throughput" {
				continue
			}
			if r.Unit != "Gbit/s" {
				return nil, fmt.Errorf("row %d (%+v): throughput in %q, want Gbit/s", i, r, r.Unit)
			}
			row.Gbps = r.Value
			if r.CPU != nil {
				cores := *r.CPU / 100
				row.CPU = &cores
			}
		case r.Gbps != nil:
			row.Gbps = *r.Gbps
		default:
			return nil, fmt.Errorf("row %d (%+v): neither a metric nor gbps", i, r)
		}
		if row.Name == "" || (row.Direction != "c2s" && row.Direction != "s2c") || row.Gbps < 0 || math.IsNaN(row.Gbps) {
			return nil, fmt.Errorf("row %d (%+v): want a name, direction c2s or s2c, and gbps >= 0", i, r)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ParseCompareMarkdown reads the table of results/compare.md as
// scripts/compare.sh wrote it before it wrote compare.json: columns proxy,
// client->server Gbit/s, server->client Gbit/s, its CPU ("103%", or
// anything else for none).
func ParseCompareMarkdown(r io.Reader) ([]CompareRow, error) {
	var rows []CompareRow
	sc := bufio.NewScanner(r)
	header := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			header = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) >= 4 && cells[0] == "proxy" && strings.Contains(cells[1], "client->server") {
			header = true
			continue
		}
		if !header || len(cells) < 4 || strings.HasPrefix(cells[0], "---") {
			continue
		}
		var cpu *float64
		if v, err := strconv.ParseFloat(strings.TrimSuffix(cells[3], "%"), 64); err == nil && strings.HasSuffix(cells[3], "%") {
			c := v / 100
			cpu = &c
		}
		for k, dir := range []string{"c2s", "s2c"} {
			g, err := strconv.ParseFloat(cells[1+k], 64)
			if err != nil {
				return nil, fmt.Errorf("row %q: %s Gbit/s %q is not a number", cells[0], dir, cells[1+k])
			}
			rows = append(rows, CompareRow{Name: cells[0], Direction: dir, Gbps: g, CPU: cpu})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("no comparison table (a header row starting | proxy | client->server)")
	}
	return rows, nil
}

// Draw writes the plots of d into dir as PNG, with plots.csv holding every
// value drawn, and returns the files written. A plot without data is not
// written; Notes says which and why.
func Draw(d *Data, dir string) (written, notes []string, err error) {
	type job struct {
		name string
		draw func(*Data) (*plot.Plot, string, error)
	}
	projections, pnotes := Projections(d, ProjectMaxWorkers)
	notes = append(notes, pnotes...)
	if len(projections) > 0 {
		for _, f := range []struct {
			name  string
			write func(io.Writer, []*Projection) error
		}{{"projection.json", WriteProjectionJSON}, {"projection.md", WriteProjectionMarkdown}} {
			path := filepath.Join(dir, f.name)
			if err := writeFile(path, func(w io.Writer) error { return f.write(w, projections) }); err != nil {
				return written, notes, err
			}
			written = append(written, path)
		}
	}
	for _, j := range []job{
		{"dataplane_mpps.png", func(d *Data) (*plot.Plot, string, error) { return workersPlot(d, false) }},
		{"dataplane_gbps.png", func(d *Data) (*plot.Plot, string, error) { return workersPlot(d, true) }},
		{"affinity.png", affinityPlot},
		{"setup_rate.png", setupPlot},
		{"compare.png", comparePlot},
		{"projection.png", func(d *Data) (*plot.Plot, string, error) { return projectionPlot(projections, d) }},
	} {
		p, note, err := j.draw(d)
		if err != nil {
			return written, notes, fmt.Errorf("plot: %s: %w", j.name, err)
		}
		if p == nil {
			notes = append(notes, j.name+": "+note)
			continue
		}
		path := filepath.Join(dir, j.name)
		if err := p.Save(8*vg.Inch, 4.5*vg.Inch, path); err != nil {
			return written, notes, fmt.Errorf("plot: %s: %w", path, err)
		}
		written = append(written, path)
	}
	path := filepath.Join(dir, "plots.csv")
	if err := writeCSV(d, projections, path); err != nil {
		return written, notes, err
	}
	return append(written, path), notes, nil
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	return f.Close()
}

// series groups dataplane runs by payload size and steering.
func dataplaneSeries(d *Data) (keys []string, by map[string][]Run) {
	by = map[string][]Run{}
	for _, r := range d.Runs {
		if r.Mode != "dataplane" {
			continue
		}
		k := r.Size
		if r.Workers > 1 && !r.Affinity {
			k += ", no affinity"
		}
		if _, ok := by[k]; !ok {
			keys = append(keys, k)
		}
		by[k] = append(by[k], r)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sort.Slice(by[k], func(i, j int) bool { return by[k][i].Workers < by[k][j].Workers })
	}
	return keys, by
}

func workersPlot(d *Data, gbps bool) (*plot.Plot, string, error) {
	keys, by := dataplaneSeries(d)
	if len(keys) == 0 {
		return nil, "no dataplane reports", nil
	}
	p := plot.New()
	p.Title.Text = "flexcp dataplane (net_ring ports, translation on)"
	p.X.Label.Text = "workers"
	if gbps {
		p.Y.Label.Text = "payload Gbit/s while busy"
	} else {
		p.Y.Label.Text = "Mpps while busy (solid) / from worker CPU time (dashed)"
	}
	var args []any
	maxW := 1
	for _, k := range keys {
		var pts, cpu plotter.XYs
		for _, r := range by[k] {
			maxW = max(maxW, r.Workers)
			if gbps {
				pts = append(pts, plotter.XY{X: float64(r.Workers), Y: r.PayloadGbps})
			} else {
				pts = append(pts, plotter.XY{X: float64(r.Workers), Y: r.Mpps})
				cpu = append(cpu, plotter.XY{X: float64(r.Workers), Y: r.CPUMpps})
			}
		}
		args = append(args, k, pts)
		if !gbps {
			args = append(args, k+" (CPU time)", cpu)
		}
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, "", err
	}
	p.X.Min, p.X.Max, p.Y.Min = 0.5, float64(maxW)+0.5, 0
	p.X.Tick.Marker = intTicks{}
	p.Legend.Top = true
	return p, "", nil
}

func affinityPlot(d *Data) (*plot.Plot, string, error) {
	with, without := map[int]float64{}, map[int]float64{}
	var ws []int
	for _, r := range d.Runs {
		if r.Mode != "dataplane" || r.Workers < 2 {
			continue
		}
		m := with
		if !r.Affinity {
			m = without
		}
		if _, ok := with[r.Workers]; !ok {
			if _, ok := without[r.Workers]; !ok {
				ws = append(ws, r.Workers)
			}
		}
		m[r.Workers] = max(m[r.Workers], r.Mpps)
	}
	if len(without) == 0 || len(with) == 0 {
		return nil, "needs dataplane reports with several workers both with and without affinity (without affinity needs the dataplane's cross-worker handoff)", nil
	}
	sort.Ints(ws)
	a, b := make(plotter.Values, len(ws)), make(plotter.Values, len(ws))
	names := make([]string, len(ws))
	for i, w := range ws {
		a[i], b[i], names[i] = with[w], without[w], fmt.Sprintf("%d workers", w)
	}
	p := plot.New()
	p.Title.Text = "flow-to-core affinity"
	p.Y.Label.Text = "Mpps while busy"
	w := vg.Points(20)
	ba, err := plotter.NewBarChart(a, w)
	if err != nil {
		return nil, "", err
	}
	bb, err := plotter.NewBarChart(b, w)
	if err != nil {
		return nil, "", err
	}
	ba.Color, bb.Color = plotutil.Color(0), plotutil.Color(1)
	ba.Offset, bb.Offset = -w/2, w/2
	p.Add(ba, bb)
	p.Legend.Add("with affinity", ba)
	p.Legend.Add("without (handoff)", bb)
	p.Legend.Top = true
	p.NominalX(names...)
	return p, "", nil
}

func setupPlot(d *Data) (*plot.Plot, string, error) {
	var runs []Run
	for _, r := range d.Runs {
		if r.Mode == "engine" && r.SetupPerCoreEngineCPU > 0 {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return nil, "no engine reports with a setup phase", nil
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Workers < runs[j].Workers })
	series := []struct {
		label string
		get   func(Run) float64
	}{
		{"engine only (the headline)", func(r Run) float64 { return r.SetupPerCoreEngineCPU }},
		{"with the model's client and server", func(r Run) float64 { return r.SetupPerCoreCPU }},
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = fmt.Sprintf("%d worker(s)", r.Workers)
	}
	p := plot.New()
	p.Title.Text = "connection setup (handshake + 1 join), engine mode, thread CPU time"
	p.Y.Label.Text = "thousand connections/s per core"
	w := vg.Points(14)
	top := 300.0
	for k, sr := range series {
		v := make(plotter.Values, len(runs))
		for i, r := range runs {
			v[i] = sr.get(r) / 1e3
			top = max(top, v[i])
		}
		b, err := plotter.NewBarChart(v, w)
		if err != nil {
			return nil, "", err
		}
		b.Color = plotutil.Color(k)
		b.Offset = w * vg.Length(2*k-len(series)+1) / 2
		p.Add(b)
		p.Legend.Add(sr.label, b)
	}
	target := plotter.NewFunction(func(float64) float64 { return 300 })
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(target)
	p.Legend.Add("target 300k/s per core", target)
	p.Legend.Top = true
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, top*1.35
	return p, "", nil
}

func comparePlot(d *Data) (*plot.Plot, string, error) {
	if len(d.Compare) == 0 {
		return nil, "no results/compare.json or compare.md", nil
	}
	var names []string
	idx := map[string]int{}
	for _, r := range d.Compare {
		if _, ok := idx[r.Name]; !ok {
			idx[r.Name] = len(names)
			names = append(names, r.Name)
		}
	}
	c2s, s2c := make(plotter.Values, len(names)), make(plotter.Values, len(names))
	for _, r := range d.Compare {
		if r.Direction == "c2s" {
			c2s[idx[r.Name]] = r.Gbps
		} else {
			s2c[idx[r.Name]] = r.Gbps
		}
	}
	p := plot.New()
	p.Title.Text = "end to end: MPTCP client, TCP server (iperf3, veth, offloads off)"
	p.X.Label.Text = "Gbit/s"
	w := vg.Points(9)
	bc, err := plotter.NewBarChart(c2s, w)
	if err != nil {
		return nil, "", err
	}
	bs, err := plotter.NewBarChart(s2c, w)
	if err != nil {
		return nil, "", err
	}
	bc.Horizontal, bs.Horizontal = true, true
	bc.Color, bs.Color = plotutil.Color(0), plotutil.Color(1)
	bc.Offset, bs.Offset = w/2, -w/2
	p.Add(bc, bs)
	p.Legend.Add("client->server", bc)
	p.Legend.Add("server->client", bs)
	short := make([]string, len(names))
	top := 0.0
	for i, n := range names {
		if len(n) > 44 {
			n = n[:43] + "…"
		}
		short[i] = n
		top = max(top, c2s[i], s2c[i])
	}
	p.NominalY(short...)
	p.X.Min, p.X.Max = 0, top*1.3
	p.Legend.Left, p.Legend.Top = false, false
	return p, "", nil
}

// intTicks marks integer positions only.
type intTicks struct{}

// Ticks implements plot.Ticker.
func (intTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for v := math.Ceil(min); v <= max; v++ {
		t = append(t, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return t
}

// writeCSV writes one row per value drawn (projected values with mode
// "projection").
func writeCSV(d *Data, ps []*Projection, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"source", "mode", "series", "workers", "affinity", "metric", "value", "commit"})
	ff := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range d.Runs {
		base := []string{r.File, r.Mode, r.Size, strconv.Itoa(r.Workers), strconv.FormatBool(r.Affinity)}
		add := func(metric string, v float64) {
			w.Write(append(append([]string(nil), base...), metric, ff(v), r.Commit))
		}
		add("mpps", r.Mpps)
		add("payload_gbps", r.PayloadGbps)
		if r.Mode == "dataplane" {
			add("cpu_mpps", r.CPUMpps)
		}
		if r.SetupPerCoreEngineCPU > 0 {
			add("setup_per_core_engine_cpu", r.SetupPerCoreEngineCPU)
			add("setup_per_core_cpu", r.SetupPerCoreCPU)
		}
	}
	for _, c := range d.Compare {
		w.Write([]string{d.CompareSource, "compare", c.Name, "", "", c.Direction + "_gbps", ff(c.Gbps), ""})
		if c.CPU != nil {
			w.Write([]string{d.CompareSource, "compare", c.Name, "", "", c.Direction + "_cpu", ff(*c.CPU), ""})
		}
	}
	for _, p := range ps {
		src := p.AffinityFile + " + " + p.NoAffinityFile
		for _, pt := range p.Points {
			n := strconv.Itoa(pt.Workers)
			w.Write([]string{src, "projection", p.Size, n, "true", "projected_mpps", ff(pt.AffinityMpps), strings.Join(p.Commits, " ")})
			w.Write([]string{src, "projection", p.Size, n, "false", "projected_mpps", ff(pt.NoAffinityMpps), strings.Join(p.Commits, " ")})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	return f.Close()
}
