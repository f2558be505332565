package pktgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Report is the result of one run, as written to --json.
type Report struct {
	Mode    string       `json:"mode"`
	Started string       `json:"started"`
	Machine Machine      `json:"machine"`
	Config  ReportConfig `json:"config"`

	IdleMemory *IdleMemory  `json:"idle_memory,omitempty"`
	Setup      *SetupRate   `json:"setup,omitempty"`
	Data       *DataPhase   `json:"data"`
	Model      *ModelPhase  `json:"model_only,omitempty"`
	Derived    *DerivedCost `json:"derived,omitempty"`

	Dataplane *DataplaneResult `json:"dataplane,omitempty"`
	Wire      *WireResult      `json:"wire,omitempty"`
}

// Machine says where the numbers come from.
type Machine struct {
	NProc     int    `json:"nproc"`
	CPU       string `json:"cpu"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go"`
	DPDK      string `json:"dpdk"`
	Commit    string `json:"commit"`
}

// ReportConfig echoes the options.
type ReportConfig struct {
	Duration      string `json:"duration"`
	SetupDuration string `json:"setup_duration"`
	ModelDuration string `json:"model_duration"`
	Connections   int    `json:"connections_per_worker"`
	Subflows      int    `json:"subflows"`
	Sizes         []int  `json:"sizes"`
	Mix           string `json:"mix"`
	Direction     string `json:"direction"`
	Workers       int    `json:"workers"`
	Pin           bool   `json:"pin"`
	Window        int    `json:"window_segments"`
	AckRatio      int    `json:"ack_ratio"`
	IdleConns     int    `json:"idle_connections"`
	SetupBatch    int    `json:"setup_batch"`
	KeyCores      int    `json:"key_cores"`
}

// IdleMemory is the heap an engine holds per idle established connection.
type IdleMemory struct {
	Connections int `json:"connections"`
	Subflows    int `json:"subflows"`
	// MaxConnections is the engine's table size in this measurement.
	MaxConnections int `json:"max_connections"`
	// EngineBytesPerConn: heap after New and K handshakes, minus the heap
	// before New, over K (preallocated slots included).
	EngineBytesPerConn float64 `json:"engine_bytes_per_conn"`
	// PreallocBytesPerConn: what New alone allocated, over K.
	PreallocBytesPerConn float64 `json:"prealloc_bytes_per_conn"`
	// EstablishedBytesPerConn: what the K handshakes added, over K.
	EstablishedBytesPerConn float64 `json:"established_bytes_per_conn"`
	// ModelBytesPerConn: the model's own state and buffers, over K (not
	// part of the engine's figures).
	ModelBytesPerConn float64 `json:"model_bytes_per_conn"`
}

// SetupRate is the connection setup phase. Its headline is
// EngineCPUConnsPerSecPerCore, defined by Definition (SetupDefinition).
type SetupRate struct {
	// Batch connections are set up in waves of Wave, then released.
	Batch    int `json:"batch"`
	Wave     int `json:"wave"`
	Subflows int `json:"subflows"`
	// KeyCores is the core count key_P's tokens were ground for (one
	// steering.KeyExchange, see Options.KeyCores), and SHA256PerKey the
	// pools' SHA-256 computations over the keys drawn (timed, in the
	// engine's figures): about (Mask+1)/KeyCores, 1.33 for 24 cores.
	KeyCores     int     `json:"key_cores"`
	SHA256PerKey float64 `json:"sha256_per_key"`
	// Definition says in words what EngineCPUConnsPerSecPerCore counts.
	Definition string `json:"definition"`
	// Connections set up by all workers, in Batches batches and Waves
	// waves, QuietWaves of which ran without a context switch of their
	// worker thread (the waves the headline counts).
	Connections uint64 `json:"connections"`
	Batches     int    `json:"batches"`
	Waves       int    `json:"waves"`
	QuietWaves  int    `json:"quiet_waves"`
	// EngineCPUConnsPerSecPerCore is the headline: connections per
	// second of the engine's CPU time, mean over workers (Definition);
	// EngineUsPerConn is its inverse in microseconds.
	EngineCPUConnsPerSecPerCore float64 `json:"engine_cpu_conns_per_sec_per_core"`
	EngineUsPerConn             float64 `json:"engine_cpu_us_per_conn"`
	// BatchMedian, BatchP10 and BatchP90: the headline batch by batch
	// (its quiet waves; every worker's batches together), its median and
	// 10th and 90th percentiles: the spread of the run.
	BatchMedian float64 `json:"engine_cpu_conns_per_sec_batch_median"`
	BatchP10    float64 `json:"engine_cpu_conns_per_sec_batch_p10"`
	BatchP90    float64 `json:"engine_cpu_conns_per_sec_batch_p90"`
	// ScaledEngineConnsPerSecPerCore: the same from every wave, the
	// engine's wall time scaled batch by batch by the thread's CPU time
	// over its wall time (the data phase's estimate), mean over workers:
	// a cross-check of the headline.
	ScaledEngineConnsPerSecPerCore float64 `json:"scaled_engine_conns_per_sec_per_core"`
	// CPUConnsPerSecPerCore: connections per second of the worker
	// threads' whole time in the quiet waves (engine and model: the
	// client's and the server's packets and crypto), mean over workers;
	// LoopUsPerConn its inverse, ModelUsPerConn = LoopUsPerConn -
	// EngineUsPerConn.
	CPUConnsPerSecPerCore float64 `json:"cpu_conns_per_sec_per_core"`
	LoopUsPerConn         float64 `json:"loop_cpu_us_per_conn"`
	ModelUsPerConn        float64 `json:"model_cpu_us_per_conn"`
	// ReleaseUsPerConn: the thread CPU time of releasing the batches by
	// the engine's timers (Model.Release), per connection; in none of
	// the figures above.
	ReleaseUsPerConn float64 `json:"release_cpu_us_per_conn"`
	// ConnsPerSec and ConnsPerSecPerCore: over the batches' wall time
	// (engine, model, the measurement's own getrusage calls, and whatever
	// else ran on the workers' CPUs), all workers together and the mean
	// per worker.
	ConnsPerSec        float64       `json:"conns_per_sec"`
	ConnsPerSecPerCore float64       `json:"conns_per_sec_per_core"`
	Workers            []SetupWorker `json:"workers"`
}

// SetupWorker is one worker's setup phase (see SetupRate for the
// fields).
type SetupWorker struct {
	Worker                  int     `json:"worker"`
	CPU                     int     `json:"cpu"`
	Connections             uint64  `json:"connections"`
	Batches                 int     `json:"batches"`
	Waves                   int     `json:"waves"`
	QuietWaves              int     `json:"quiet_waves"`
	EngineCPUConnsPerSec    float64 `json:"engine_cpu_conns_per_sec"`
	EngineUsPerConn         float64 `json:"engine_cpu_us_per_conn"`
	ScaledEngineConnsPerSec float64 `json:"scaled_engine_conns_per_sec"`
	CPUConnsPerSec          float64 `json:"cpu_conns_per_sec"`
	LoopUsPerConn           float64 `json:"loop_cpu_us_per_conn"`
	ReleaseUsPerConn        float64 `json:"release_cpu_us_per_conn"`
	ConnsPerSec             float64 `json:"conns_per_sec"`
}

// DataPhase is the traffic through the engines. Index 0 of a pair is client
// to server (packets entering on the access side), 1 server to client.
type DataPhase struct {
	WallSeconds    float64    `json:"wall_seconds"`
	Packets        [2]uint64  `json:"packets"`
	Segments       [2]uint64  `json:"data_segments"`
	PayloadBytes   [2]uint64  `json:"payload_bytes"`
	Emitted        uint64     `json:"emitted"`
	Mpps           float64    `json:"mpps"`
	PayloadGbps    float64    `json:"payload_gbps"`
	PayloadGbpsDir [2]float64 `json:"payload_gbps_by_direction"`
	// C2SNsPerPkt and S2CNsPerPkt: time inside ProcessBurst per packet,
	// by ingress side (data and acks together).
	C2SNsPerPkt float64 `json:"c2s_ns_per_pkt"`
	S2CNsPerPkt float64 `json:"s2c_ns_per_pkt"`
	// EngineNsPerPkt: ProcessBurst and Tick time over all packets.
	EngineNsPerPkt float64 `json:"engine_ns_per_pkt"`
	TickNsPerPkt   float64 `json:"tick_ns_per_pkt"`
	// LoopNsPerPkt: the workers' wall time per packet (engine + model).
	LoopNsPerPkt float64 `json:"loop_ns_per_pkt"`
	// LoopCPUNsPerPkt: the workers' thread CPU time per packet (engine +
	// model); EngineCPUNsPerPkt: EngineNsPerPkt scaled by CPU over wall
	// time. Preemption by other processes inflates the wall figures, not
	// these.
	LoopCPUNsPerPkt        float64  `json:"loop_cpu_ns_per_pkt"`
	EngineCPUNsPerPkt      float64  `json:"engine_cpu_ns_per_pkt"`
	AllocsPerPkt           float64  `json:"allocs_per_pkt"`
	BytesAllocPerPkt       float64  `json:"bytes_alloc_per_pkt"`
	GCCycles               uint32   `json:"gc_cycles"`
	GCPauseSeconds         float64  `json:"gc_pause_seconds"`
	GCPauseSecondsMemStats float64  `json:"gc_pause_seconds_memstats"`
	Workers                []Worker `json:"workers"`
}

// Worker is one worker's data phase.
type Worker struct {
	Worker       int     `json:"worker"`
	CPU          int     `json:"cpu"`
	Packets      uint64  `json:"packets"`
	Bytes        uint64  `json:"payload_bytes"`
	Emitted      uint64  `json:"emitted"`
	Mpps         float64 `json:"mpps"`
	LoopNsPerPkt float64 `json:"loop_ns_per_pkt"`
	C2SNsPerPkt  float64 `json:"c2s_ns_per_pkt"`
	S2CNsPerPkt  float64 `json:"s2c_ns_per_pkt"`
}

// ModelPhase is the same traffic without engines.
type ModelPhase struct {
	WallSeconds float64 `json:"wall_seconds"`
	Packets     uint64  `json:"packets"`
	Mpps        float64 `json:"mpps"`
	// NsPerPkt: the workers' wall time per packet, model only.
	NsPerPkt float64 `json:"ns_per_pkt"`
}

// DerivedCost isolates the engine by subtraction.
type DerivedCost struct {
	// EngineNsPerPkt = data loop ns/pkt - model-only ns/pkt.
	EngineNsPerPkt float64 `json:"engine_ns_per_pkt_by_subtraction"`
	// ModelShare: the model's part of the loop.
	ModelShare float64 `json:"model_share"`
}

func (r *Report) finish() {
	if r.Data != nil && r.Model != nil {
		r.Derived = &DerivedCost{EngineNsPerPkt: r.Data.LoopNsPerPkt - r.Model.NsPerPkt,
			ModelShare: r.Model.NsPerPkt / r.Data.LoopNsPerPkt}
	}
}

// probeMachine reads the CPU model, kernel, Go and DPDK versions and the
// git commit; what cannot be read is reported as "unknown" or "absent".
func probeMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), CPU: "unknown", Kernel: "unknown", GoVersion: runtime.Version(),
		DPDK: "absent", Commit: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("pkg-config", "--modversion", "libdpdk").Output(); err == nil {
		m.DPDK = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		if exec.Command("git", "diff-index", "--quiet", "HEAD", "--").Run() != nil {
			m.Commit += " (modified tree)"
		}
	}
	return m
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteMarkdown writes r as a Markdown section: the machine, the command's
// settings, then one table of results.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	c := r.Config
	fmt.Fprintf(&b, "### flexcp-pktgen %s, %s\n\n", r.Mode, r.Started)
	fmt.Fprintf(&b, "Machine: %d CPUs, %s, Linux %s; %s; DPDK %s; commit %s.\n\n", m.NProc, m.CPU, m.Kernel, m.GoVersion, m.DPDK, m.Commit)
	if r.Mode == "wire" {
		fmt.Fprintf(&b, "Traffic: %d connections x %d subflows through a running flexcp, payload %s, direction %s, window %d segments, ack ratio %d; data %s.\n\n",
			c.Connections, c.Subflows, sizesText(c), c.Direction, c.Window, c.AckRatio, c.Duration)
	} else if r.Mode == "dataplane" {
		fmt.Fprintf(&b, "Traffic: %d connections x %d subflows over %d worker(s), payload %s, direction %s, window %d segments, ack ratio %d; data %s.\n\n",
			c.Connections, c.Subflows, c.Workers, sizesText(c), c.Direction, c.Window, c.AckRatio, c.Duration)
	} else {
		fmt.Fprintf(&b, "Traffic: %d worker(s) (pinned: %v), %d connections x %d subflows per worker, payload %s, direction %s, window %d segments, ack ratio %d; data %s, setup %s, model-only %s.\n\n",
			c.Workers, c.Pin, c.Connections, c.Subflows, sizesText(c), c.Direction, c.Window, c.AckRatio, c.Duration, c.SetupDuration, c.ModelDuration)
	}
	b.WriteString("| metric | value |\n| --- | --- |\n")
	row := func(k, f string, a ...any) { fmt.Fprintf(&b, "| %s | %s |\n", k, fmt.Sprintf(f, a...)) }
	if d := r.Data; d != nil {
		row("packets through the engines (c2s / s2c)", "%d / %d", d.Packets[0], d.Packets[1])
		row("Mpps (all workers)", "%.3f", d.Mpps)
		row("payload Gbit/s (c2s / s2c / total)", "%.2f / %.2f / %.2f", d.PayloadGbpsDir[0], d.PayloadGbpsDir[1], d.PayloadGbps)
		row("engine ns/pkt, client to server (ProcessBurst)", "%.0f", d.C2SNsPerPkt)
		row("engine ns/pkt, server to client (ProcessBurst)", "%.0f", d.S2CNsPerPkt)
		row("engine ns/pkt, all (ProcessBurst + Tick)", "%.0f", d.EngineNsPerPkt)
		row("loop ns/pkt per worker (engine + model)", "%.0f", d.LoopNsPerPkt)
		row("CPU time: loop ns/pkt / engine ns/pkt (thread CPU, preemption excluded)", "%.0f / %.0f", d.LoopCPUNsPerPkt, d.EngineCPUNsPerPkt)
		if r.Model != nil {
			row("model-only ns/pkt (no engine)", "%.0f", r.Model.NsPerPkt)
		}
		if r.Derived != nil {
			row("engine ns/pkt by subtraction (loop - model)", "%.0f", r.Derived.EngineNsPerPkt)
		}
		row("allocations per packet (MemStats, whole process)", "%.4f", d.AllocsPerPkt)
		row("GC cycles / pause total", "%d / %.3f ms", d.GCCycles, d.GCPauseSeconds*1e3)
		row("generated packets (emitted)", "%d", d.Emitted)
	}
	if dp := r.Dataplane; dp != nil {
		row("workers (CPUs) / generator CPU", "%d (%v) / %d", dp.Workers, dp.WorkerCPUs, dp.GenCPU)
		row("steering", "%s", steeringText(dp))
		row("MTU / EAL", "%d / `%s`", dp.MTU, dp.EAL)
		row("frames into the dataplane / out of it", "%d / %d", dp.PacketsIn, dp.PacketsOut)
		row("Mpps while the dataplane had frames queued (all workers)", "%.3f", dp.Mpps)
		row("Mpps per worker", "%.3f", dp.MppsPerWorker)
		row("worker ns/pkt (full loop: RX, classify, translate, route, TX)", "%.0f", dp.NsPerPkt)
		row("worker CPU ns/pkt (worker threads' CPU clocks, busy part) / Mpps per worker on its own core", "%.0f / %.3f", dp.CPUNsPerPkt, dp.CPUMppsPerWorker)
		if dp.RxRoundCPUNsPerPkt > 0 {
			row("worker CPU ns/pkt in rounds that received packets (busy part minus its empty rounds)", "%.0f", dp.RxRoundCPUNsPerPkt)
		} else {
			row("worker CPU ns/pkt in rounds that received packets (busy part minus its empty rounds)", "%s", "n/a (the busy part's empty rounds cost less than the others: a worker shares the generator's CPU)")
		}
		row("busy part: poll rounds / rounds with packets / packets per such round", "%d / %d / %.1f", dp.BusyRounds, dp.BusyRxRounds, dp.PktsPerRxRound)
		row("empty poll round, worker CPU ns (outside the busy part) / share of worker CPU there", "%.0f / %.0f%%", dp.EmptyRoundNs, 100*dp.IdleCPUShare)
		row("worker CPU ns/pkt (getrusage: process minus generator, busy part; before 2026-12-07)", "%.0f", dp.ProcessCPUNsPerPkt)
		row("Gbit/s while busy (payload / frames)", "%.2f / %.2f", dp.PayloadGbps, dp.FrameGbps)
		row("closed loop (generator included): Mpps / payload Gbit/s", "%.3f / %.2f", dp.ClosedLoopMpps, dp.ClosedLoopPayloadGbps)
		row("generator ns/pkt (model + copies, outside the ring phases)", "%.0f", dp.GenNsPerPkt)
		row("busy time / wall time / rounds", "%.3f s / %.3f s / %d", dp.RingSeconds, dp.WallSeconds, dp.Rounds)
		row("payload bytes verified (c2s / s2c)", "%d / %d", dp.PayloadBytes[0], dp.PayloadBytes[1])
		row("setup through the dataplane (closed loop, waves of 128)", "%.0f connections/s", dp.SetupConnsPerSec)
		row("dataplane summary", "%s", dp.Summary)
	}
	if wr := r.Wire; wr != nil {
		writeWireRows(wr, row)
	}
	if s := r.Setup; s != nil {
		how := fmt.Sprintf("%d of %d waves without a context switch", s.QuietWaves, s.Waves)
		if s.QuietWaves == 0 {
			how = "no wave without a context switch: scaled estimate"
		}
		row("**setup: connections/s per core, engine only** (handshake + 1 join, engine CPU time: results/README.md)", "**%.0f** (%.2f us per connection; %s)",
			s.EngineCPUConnsPerSecPerCore, s.EngineUsPerConn, how)
		row(fmt.Sprintf("setup: the same batch by batch (%d connections), median (10th-90th percentile) / every wave, scaled by thread CPU over wall time", s.Batch),
			"%.0f (%.0f-%.0f) / %.0f", s.BatchMedian, s.BatchP10, s.BatchP90, s.ScaledEngineConnsPerSecPerCore)
		row("setup: connections/s per core with the model (engine + the model's client and server)", "%.0f (%.2f us per connection: engine %.2f + model %.2f)",
			s.CPUConnsPerSecPerCore, s.LoopUsPerConn, s.EngineUsPerConn, s.ModelUsPerConn)
		row("setup: key_P tokens for N cores (key exchange) / SHA-256 per key", "N=%d / %.2f", s.KeyCores, s.SHA256PerKey)
		row("setup: release by the engine's timers, us per connection (thread CPU, in no figure above)", "%.2f", s.ReleaseUsPerConn)
	}
	if im := r.IdleMemory; im != nil {
		row("memory per idle connection, engine (prealloc + established)", "%.0f B (%.0f + %.0f), K=%d, %d subflows",
			im.EngineBytesPerConn, im.PreallocBytesPerConn, im.EstablishedBytesPerConn, im.Connections, im.Subflows)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func steeringText(dp *DataplaneResult) string {
	switch {
	case dp.Workers == 1:
		return "one worker (affinity moot)"
	case dp.Affinity:
		return "affinity: every packet of a connection on its owner's queue"
	}
	return "no affinity: queue = symmetric hash of each packet's own 4-tuple"
}

func sizesText(c ReportConfig) string {
	if c.Mix != "" {
		return "mix " + c.Mix
	}
	s := make([]string, len(c.Sizes))
	for i, z := range c.Sizes {
		s[i] = fmt.Sprint(z)
	}
	return strings.Join(s, ",") + " B"
}
