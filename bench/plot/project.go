package plot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
)

// ProjectMaxWorkers is the largest worker count the projection goes to
// (the paper's 24 cores).
const ProjectMaxWorkers = 24

// ProjectionLabel marks every projection written: it is arithmetic on
// two measurements, not a measurement.
const ProjectionLabel = "PROJECTION from a linear per-core model, not a measurement"

// ProjectionAssumptions are the model's assumptions, written beside every
// projection.
var ProjectionAssumptions = []string{
	"linear per-core scaling: N workers process N times what one does; no memory-bandwidth, cache-sharing, NIC, PCIe or generator limit",
	"with affinity no packet is handed off (the NIC steers every packet to its owner's queue)",
	"without affinity a packet lands on a queue chosen by a hash of its own 4-tuple, uniform over the N workers, independent of its owner: a packet that can be misplaced (join subflows, the server-side connection) is handed off with probability (N-1)/N; packets that symmetric RSS always puts on their owner (subflow 0) never are. The share s of packets that can be misplaced is calibrated from the measured handoff fraction f_m with W workers: s = f_m * W / (W-1); with N workers the handoff fraction is s * (N-1)/N",
	"a handed-off packet costs the workers h ns more in total (sender staging and enqueue, receiver dequeue, the cache misses of touching it on a second core), the same at every N: h = (no-affinity worker CPU ns/pkt - affinity worker CPU ns/pkt) / f_m; where that is negative (worker CPU time does not separate it, e.g. polling workers on a shared machine), h = c * ((no-affinity wall ns/pkt / affinity wall ns/pkt) - 1) / f_m from the rates while busy (the handoff's cost relative to a packet's, assuming contention slowed both runs alike); the JSON's handoff_cost_from says which",
	"per-packet worker cost c with affinity: worker CPU ns/pkt of the base run (the 1-worker run when present: one worker alone on its core; else the affinity run of the pair)",
	"Mpps(N) with affinity = N * 1000 / c; without = N * 1000 / (c + s*(N-1)/N * h)",
}

// ProjectionPoint is the projection at one worker count.
type ProjectionPoint struct {
	Workers int `json:"workers"`
	// HandoffFraction: the projected share of packets handed off without
	// affinity.
	HandoffFraction float64 `json:"handoff_fraction"`
	// AffinityMpps and NoAffinityMpps: all workers.
	AffinityMpps   float64 `json:"affinity_mpps"`
	NoAffinityMpps float64 `json:"no_affinity_mpps"`
	// Gain: AffinityMpps / NoAffinityMpps - 1.
	Gain float64 `json:"affinity_gain"`
}

// Projection is the projection for one payload size from a dataplane
// run pair (same size and worker count, with and without affinity) and a
// base run for the per-packet cost.
type Projection struct {
	Label       string   `json:"label"`
	Size        string   `json:"payload"`
	Assumptions []string `json:"assumptions"`
	// BaseFile, AffinityFile, NoAffinityFile: the reports used; Commits
	// and Machine: where they came from.
	BaseFile       string   `json:"base_report"`
	AffinityFile   string   `json:"affinity_report"`
	NoAffinityFile string   `json:"no_affinity_report"`
	Commits        []string `json:"commits"`
	Machine        string   `json:"machine"`
	// MeasuredWorkers: W of the pair.
	MeasuredWorkers int `json:"measured_workers"`
	// BaseNsPerPkt (c), AffinityNsPerPkt, NoAffinityNsPerPkt: worker CPU
	// ns per packet of the three runs.
	BaseNsPerPkt       float64 `json:"base_cpu_ns_per_pkt"`
	AffinityNsPerPkt   float64 `json:"affinity_cpu_ns_per_pkt"`
	NoAffinityNsPerPkt float64 `json:"no_affinity_cpu_ns_per_pkt"`
	// Handoffs and RxPackets: the no-affinity run's dataplane counters
	// (whole run); MeasuredHandoffFraction (f_m) = Handoffs / RxPackets.
	Handoffs                uint64  `json:"handoffs"`
	RxPackets               uint64  `json:"rx_packets"`
	MeasuredHandoffFraction float64 `json:"measured_handoff_fraction"`
	// MisplaceableShare (s) = f_m * W / (W-1), at most 1.
	MisplaceableShare float64 `json:"misplaceable_share"`
	// HandoffNsCPU: (NoAffinityNsPerPkt - AffinityNsPerPkt) / f_m, the
	// extra worker CPU ns per handed-off packet by CPU time (may be
	// negative when CPU time does not separate it).
	HandoffNsCPU float64 `json:"handoff_ns_cpu"`
	// AffinityWallNsPerPkt and NoAffinityWallNsPerPkt: W*1000 / Mpps while
	// busy; HandoffRelWall: (no-affinity / affinity - 1) / f_m, the extra
	// cost of a handed-off packet as a share of a packet's cost, by wall
	// time.
	AffinityWallNsPerPkt   float64 `json:"affinity_wall_ns_per_pkt"`
	NoAffinityWallNsPerPkt float64 `json:"no_affinity_wall_ns_per_pkt"`
	HandoffRelWall         float64 `json:"handoff_relative_cost_wall"`
	// HandoffCostFrom says which h the projection uses: "cpu"
	// (HandoffNsCPU, when not negative), "wall-relative" (HandoffRelWall
	// x BaseNsPerPkt) or "none" (h = 0: both measures gave less).
	HandoffCostFrom string `json:"handoff_cost_from"`
	// HandoffNs (h): the extra worker ns per handed-off packet the
	// projection uses.
	HandoffNs float64 `json:"handoff_ns_per_handed_off_pkt"`
	// MeasuredGainCPU: NoAffinityNsPerPkt / AffinityNsPerPkt - 1;
	// MeasuredGainWall: affinity Mpps while busy / no-affinity Mpps - 1.
	MeasuredGainCPU  float64 `json:"measured_affinity_gain_cpu"`
	MeasuredGainWall float64 `json:"measured_affinity_gain_wall"`
	// Points: N = 1..ProjectMaxWorkers.
	Points []ProjectionPoint `json:"points"`
	Notes  []string          `json:"notes,omitempty"`
}

var (
	reRx       = regexp.MustCompile(`\brx (\d+) pkts`)
	reHandoffs = regexp.MustCompile(`\bhandoffs (\d+)`)
)

// parseSummary reads the received packets and handoffs from a dataplane
// shutdown line ("... rx N pkts ..., handoffs H (ring full F)"); a line
// without handoffs (one worker) gives 0 handoffs.
func parseSummary(s string) (rx, handoffs uint64, err error) {
	m := reRx.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("dataplane summary %q has no rx count", s)
	}
	rx, _ = strconv.ParseUint(m[1], 10, 64)
	if m := reHandoffs.FindStringSubmatch(s); m != nil {
		handoffs, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return rx, handoffs, nil
}

// Project computes the projection from a base run, an affinity run and a
// no-affinity run of one payload size (the two with the same worker count,
// at least 2). It refuses inputs it cannot project from.
func Project(base, aff, noaff Run, maxWorkers int) (*Projection, error) {
	switch {
	case aff.Mode != "dataplane" || noaff.Mode != "dataplane" || base.Mode != "dataplane":
		return nil, errors.New("projection: needs dataplane reports")
	case !aff.Affinity || noaff.Affinity:
		return nil, fmt.Errorf("projection: %s must be with affinity and %s without", aff.File, noaff.File)
	case aff.Size != noaff.Size || base.Size != aff.Size:
		return nil, fmt.Errorf("projection: payloads differ (%s %s, %s %s, %s %s)", base.File, base.Size, aff.File, aff.Size, noaff.File, noaff.Size)
	case aff.Workers != noaff.Workers || aff.Workers < 2:
		return nil, fmt.Errorf("projection: %s and %s need the same worker count, at least 2 (%d, %d)", aff.File, noaff.File, aff.Workers, noaff.Workers)
	case base.Workers > 1 && !base.Affinity:
		return nil, fmt.Errorf("projection: base %s must have no handoffs (1 worker or affinity)", base.File)
	case !(base.CPUNsPerPkt > 0) || !(aff.CPUNsPerPkt > 0) || !(noaff.CPUNsPerPkt > 0):
		return nil, fmt.Errorf("projection: worker CPU ns/pkt missing (%s %g, %s %g, %s %g)", base.File, base.CPUNsPerPkt, aff.File, aff.CPUNsPerPkt, noaff.File, noaff.CPUNsPerPkt)
	case noaff.RxPackets == 0 || noaff.Handoffs == 0:
		return nil, fmt.Errorf("projection: %s reports no handoffs (rx %d, handoffs %d): nothing to derive the handoff cost from", noaff.File, noaff.RxPackets, noaff.Handoffs)
	case maxWorkers < 1:
		return nil, fmt.Errorf("projection: max workers %d", maxWorkers)
	}
	w := float64(aff.Workers)
	p := &Projection{Label: ProjectionLabel, Size: aff.Size, Assumptions: ProjectionAssumptions,
		BaseFile: base.File, AffinityFile: aff.File, NoAffinityFile: noaff.File, Machine: aff.Machine,
		MeasuredWorkers: aff.Workers, BaseNsPerPkt: base.CPUNsPerPkt, AffinityNsPerPkt: aff.CPUNsPerPkt,
		NoAffinityNsPerPkt: noaff.CPUNsPerPkt, Handoffs: noaff.Handoffs, RxPackets: noaff.RxPackets}
	for _, c := range []string{base.Commit, aff.Commit, noaff.Commit} {
		if !contains(p.Commits, c) {
			p.Commits = append(p.Commits, c)
		}
	}
	p.MeasuredHandoffFraction = float64(noaff.Handoffs) / float64(noaff.RxPackets)
	p.MisplaceableShare = p.MeasuredHandoffFraction * w / (w - 1)
	if p.MisplaceableShare > 1 {
		p.Notes = append(p.Notes, fmt.Sprintf("measured handoff fraction %.3f is above (W-1)/W: misplaceable share capped at 1", p.MeasuredHandoffFraction))
		p.MisplaceableShare = 1
	}
	p.HandoffNsCPU = (noaff.CPUNsPerPkt - aff.CPUNsPerPkt) / p.MeasuredHandoffFraction
	if aff.Mpps > 0 && noaff.Mpps > 0 {
		// Wall ns per packet of all workers while busy: W*1000/Mpps.
		p.AffinityWallNsPerPkt, p.NoAffinityWallNsPerPkt = w*1e3/aff.Mpps, w*1e3/noaff.Mpps
		p.HandoffRelWall = (p.NoAffinityWallNsPerPkt/p.AffinityWallNsPerPkt - 1) / p.MeasuredHandoffFraction
	}
	switch {
	case p.HandoffNsCPU >= 0:
		p.HandoffCostFrom, p.HandoffNs = "cpu", p.HandoffNsCPU
	case p.HandoffRelWall >= 0 && p.AffinityWallNsPerPkt > 0:
		p.HandoffCostFrom, p.HandoffNs = "wall-relative", p.HandoffRelWall*p.BaseNsPerPkt
		p.Notes = append(p.Notes, fmt.Sprintf("worker CPU time does not separate the handoff cost here: the no-affinity run used less worker CPU per packet than the affinity run (%.0f < %.0f ns; polling workers burn CPU whether or not they have packets, so with several workers CPU time measures the busy time, not the work); h is taken from the wall-clock rates while busy instead, as a share of the per-packet cost (%.0f%% of c per handed-off packet, = (%.0f/%.0f - 1) / f_m), assuming the machine's contention slowed both runs alike",
			noaff.CPUNsPerPkt, aff.CPUNsPerPkt, 100*p.HandoffRelWall, p.NoAffinityWallNsPerPkt, p.AffinityWallNsPerPkt))
	default:
		p.HandoffCostFrom, p.HandoffNs = "none", 0
		p.Notes = append(p.Notes, fmt.Sprintf("the no-affinity run was faster than the affinity run by CPU time (%.0f < %.0f ns/pkt) and by wall-clock rate: noise larger than the handoff cost; projected with h = 0", noaff.CPUNsPerPkt, aff.CPUNsPerPkt))
	}
	p.MeasuredGainCPU = noaff.CPUNsPerPkt/aff.CPUNsPerPkt - 1
	if noaff.Mpps > 0 {
		p.MeasuredGainWall = aff.Mpps/noaff.Mpps - 1
	}
	c := p.BaseNsPerPkt
	for n := 1; n <= maxWorkers; n++ {
		f := p.MisplaceableShare * float64(n-1) / float64(n)
		pt := ProjectionPoint{Workers: n, HandoffFraction: f,
			AffinityMpps: float64(n) * 1e3 / c, NoAffinityMpps: float64(n) * 1e3 / (c + f*p.HandoffNs)}
		pt.Gain = pt.AffinityMpps/pt.NoAffinityMpps - 1
		p.Points = append(p.Points, pt)
	}
	return p, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Projections finds, per payload size, the dataplane pair with the most
// workers (with and without affinity, same worker count) and the base run
// (the 1-worker run of that size, else the pair's affinity run), and
// projects each to maxWorkers. Sizes without a pair, or whose pair cannot
// be projected, are named in notes.
func Projections(d *Data, maxWorkers int) (ps []*Projection, notes []string) {
	type key struct {
		size string
		w    int
	}
	aff, noaff := map[key]Run{}, map[key]Run{}
	one := map[string]Run{}
	var sizes []string
	for _, r := range d.Runs {
		if r.Mode != "dataplane" {
			continue
		}
		if !contains(sizes, r.Size) {
			sizes = append(sizes, r.Size)
		}
		switch {
		case r.Workers == 1:
			one[r.Size] = r
		case r.Affinity:
			aff[key{r.Size, r.Workers}] = r
		default:
			noaff[key{r.Size, r.Workers}] = r
		}
	}
	sort.Slice(sizes, func(i, j int) bool { return sizeOrder(sizes[i]) < sizeOrder(sizes[j]) })
	for _, s := range sizes {
		best := 0
		for k := range noaff {
			if _, ok := aff[k]; ok && k.size == s && k.w > best {
				best = k.w
			}
		}
		if best == 0 {
			notes = append(notes, fmt.Sprintf("projection %s: needs dataplane reports with the same worker count (>= 2) with and without affinity", s))
			continue
		}
		a, na := aff[key{s, best}], noaff[key{s, best}]
		base, ok := one[s]
		if !ok {
			base = a
		}
		p, err := Project(base, a, na, maxWorkers)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", s, err))
			continue
		}
		ps = append(ps, p)
	}
	return ps, notes
}

// sizeOrder sorts "64 B" before "1460 B" (by the leading number).
func sizeOrder(s string) float64 {
	f := strings.Fields(s)
	if len(f) > 0 {
		if v, err := strconv.ParseFloat(strings.Split(f[0], ",")[0], 64); err == nil {
			return v
		}
	}
	return math.Inf(1)
}

// WriteProjectionJSON writes ps as indented JSON.
func WriteProjectionJSON(w io.Writer, ps []*Projection) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(ps)
}

// WriteProjectionMarkdown writes ps as a Markdown section: the label, the
// assumptions, the inputs per size and one table of Mpps against workers.
func WriteProjectionMarkdown(w io.Writer, ps []*Projection) error {
	var b strings.Builder
	b.WriteString("### " + ProjectionLabel + "\n\nAssumptions:\n")
	for _, a := range ProjectionAssumptions {
		b.WriteString("- " + a + "\n")
	}
	b.WriteString("\nInputs (measured):\n\n| payload | reports (base / affinity / no affinity) | c: base worker CPU ns/pkt | affinity / no-affinity worker CPU ns/pkt (W workers) | handoffs / rx (f_m) | s | h: extra ns per handed-off packet (from) | measured affinity gain, CPU time / wall while busy |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "| %s | %s / %s / %s | %.0f | %.0f / %.0f (W=%d) | %d / %d (%.3f) | %.3f | %.0f (%s) | %+.0f%% / %+.0f%% |\n",
			p.Size, p.BaseFile, p.AffinityFile, p.NoAffinityFile, p.BaseNsPerPkt, p.AffinityNsPerPkt, p.NoAffinityNsPerPkt,
			p.MeasuredWorkers, p.Handoffs, p.RxPackets, p.MeasuredHandoffFraction, p.MisplaceableShare, p.HandoffNs, p.HandoffCostFrom,
			100*p.MeasuredGainCPU, 100*p.MeasuredGainWall)
	}
	for _, p := range ps {
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "\nNote (%s): %s\n", p.Size, n)
		}
	}
	if len(ps) > 0 {
		fmt.Fprintf(&b, "\nMachine: %s; commits %s.\n", ps[0].Machine, strings.Join(ps[0].Commits, ", "))
	}
	b.WriteString("\nProjected Mpps (all workers):\n\n| workers |")
	for _, p := range ps {
		fmt.Fprintf(&b, " %s affinity | %s no affinity | %s handoff fraction | %s affinity gain |", p.Size, p.Size, p.Size, p.Size)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- | --- | --- | --- |", len(ps)) + "\n")
	if len(ps) > 0 {
		for i := range ps[0].Points {
			fmt.Fprintf(&b, "| %d |", ps[0].Points[i].Workers)
			for _, p := range ps {
				if i >= len(p.Points) {
					b.WriteString(" | | | |")
					continue
				}
				pt := p.Points[i]
				fmt.Fprintf(&b, " %.2f | %.2f | %.3f | %+.1f%% |", pt.AffinityMpps, pt.NoAffinityMpps, pt.HandoffFraction, 100*pt.Gain)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// projectionPlot draws the projected Mpps against workers, with and
// without affinity, per payload size, and the measured points (from
// worker CPU time) for reference.
func projectionPlot(ps []*Projection, d *Data) (*plot.Plot, string, error) {
	if len(ps) == 0 {
		return nil, "no dataplane pair with and without affinity to project from", nil
	}
	p := plot.New()
	p.Title.Text = "PROJECTION (linear per-core model, not measured): dataplane Mpps vs workers"
	p.X.Label.Text = "workers (projected; no memory-bandwidth or NIC limit)"
	p.Y.Label.Text = "projected Mpps, all workers"
	var args []any
	maxW := 1
	for _, pr := range ps {
		var a, na plotter.XYs
		for _, pt := range pr.Points {
			a = append(a, plotter.XY{X: float64(pt.Workers), Y: pt.AffinityMpps})
			na = append(na, plotter.XY{X: float64(pt.Workers), Y: pt.NoAffinityMpps})
			maxW = max(maxW, pt.Workers)
		}
		args = append(args, pr.Size+", affinity (projection)", a, pr.Size+", no affinity (projection)", na)
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return nil, "", err
	}
	var meas plotter.XYs
	for _, r := range d.Runs {
		if r.Mode == "dataplane" && r.CPUMpps > 0 {
			meas = append(meas, plotter.XY{X: float64(r.Workers), Y: r.CPUMpps})
		}
	}
	if len(meas) > 0 {
		s, err := plotter.NewScatter(meas)
		if err != nil {
			return nil, "", err
		}
		p.Add(s)
		p.Legend.Add("measured here (from worker CPU time)", s)
	}
	p.X.Min, p.X.Max, p.Y.Min = 0, float64(maxW)+0.5, 0
	p.X.Tick.Marker = plot.ConstantTicks(workerTicks(maxW))
	p.Legend.Top, p.Legend.Left = true, true
	return p, "", nil
}

func workerTicks(maxW int) []plot.Tick {
	var t []plot.Tick
	for _, n := range []int{1, 2, 4, 8, 12, 16, 20, 24} {
		if n <= maxW {
			t = append(t, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
		}
	}
	return t
}
