package pktgen

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flexcp/flexcp/bench/model"
	"github.com/flexcp/flexcp/steering"
)

// Options are the engine mode's settings (the flags of flexcp-pktgen).
type Options struct {
	// Duration of the data phase.
	Duration time.Duration
	// SetupDuration of the connection-setup phase (0: Duration/4, at
	// least 100 ms; negative: skipped).
	SetupDuration time.Duration
	// ModelDuration of the model-only phase (0: Duration/4, at least
	// 100 ms; negative: skipped).
	ModelDuration time.Duration
	// Connections per worker and Subflows per connection.
	Connections int
	Subflows    int
	// Sizes is the payload size schedule (see model.Config.Sizes); Mix is
	// its flag form, kept for the report.
	Sizes []int
	Mix   string
	// Direction of the data.
	Direction model.Direction
	// Window and AckRatio: see model.Config (0: defaults).
	Window   int
	AckRatio int
	// Workers is the number of engines, one per goroutine.
	Workers int
	// Pin pins worker i to the (i mod n)-th of the n CPUs the process may
	// run on when the run starts (its affinity mask: every CPU, or those
	// taskset or a cpuset allow).
	Pin bool
	// IdleConns is K of the idle-memory phase (0: 10000; negative:
	// skipped).
	IdleConns int
	// SetupBatch is the number of connections set up before the engine's
	// timers release them (0: 4096).
	SetupBatch int
	// KeyCores is the core count whose token encoding key_P must follow
	// in the setup phase (0: Workers; at least Workers, at most
	// steering.MaxWorkers): keys come from one steering.KeyExchange
	// with a pool per core, each worker drawing from the pools of cores
	// w, w+Workers, ... in turn, all grinding timed.
	KeyCores int
	// Progress receives a line per second during the data phase (nil:
	// none).
	Progress io.Writer
	// MTU of the model's paths (see model.Config.MTU; 0: 1500, or in the
	// dataplane mode what the largest size needs).
	MTU int

	cpus []int // the CPUs Pin chooses from (fill)
}

func (o *Options) fill() error {
	if o.Duration <= 0 {
		return errors.New("pktgen: duration must be positive")
	}
	def := max(o.Duration/4, 100*time.Millisecond)
	if o.SetupDuration == 0 {
		o.SetupDuration = def
	}
	if o.ModelDuration == 0 {
		o.ModelDuration = def
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.IdleConns == 0 {
		o.IdleConns = 10000
	}
	if o.SetupBatch <= 0 {
		o.SetupBatch = 4096
	}
	if o.KeyCores == 0 {
		o.KeyCores = o.Workers
	}
	if o.KeyCores < o.Workers || o.KeyCores > steering.MaxWorkers {
		return fmt.Errorf("pktgen: key cores %d: want %d (the workers) to %d", o.KeyCores, o.Workers, steering.MaxWorkers)
	}
	if o.Direction == 0 {
		o.Direction = model.Both
	}
	if o.cpus == nil {
		o.cpus = allowedCPUs()
	}
	return nil
}

// allowedCPUs returns the CPUs the calling thread may run on, in order
// (before any worker is pinned: the process's affinity mask).
func allowedCPUs() []int {
	var set unix.CPUSet
	var cpus []int
	if unix.SchedGetaffinity(0, &set) == nil {
		for c := 0; c < len(set)*64; c++ {
			if set.IsSet(c) {
				cpus = append(cpus, c)
			}
		}
	}
	if len(cpus) == 0 {
		for c := 0; c < runtime.NumCPU(); c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

func (o *Options) modelConfig(conns, subflows int, seed uint64) model.Config {
	return model.Config{Connections: conns, Subflows: subflows, Sizes: o.Sizes, Direction: o.Direction,
		Window: o.Window, AckRatio: o.AckRatio, Seed: seed, MTU: o.MTU}
}

// lockWorker locks the calling goroutine to its thread and, if o.Pin,
// the thread to the (i mod n)-th of the n CPUs in o.cpus. The goroutine
// must end locked, so that the runtime ends the thread with it instead of
// handing a pinned thread back to other goroutines.
func lockWorker(i int, o *Options) (cpu int, err error) {
	runtime.LockOSThread()
	if !o.Pin {
		return -1, nil
	}
	cpu = o.cpus[i%len(o.cpus)]
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return -1, fmt.Errorf("pktgen: worker %d: pin to CPU %d: %w", i, cpu, err)
	}
	return cpu, nil
}

// live are the counters a worker publishes for the progress line.
type live struct {
	packets atomic.Uint64
	bytes   atomic.Uint64
	_       [48]byte // keep workers' counters on separate cache lines
}

// RunEngine runs the engine mode and returns its report.
func RunEngine(o Options) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	// Validate the traffic before any phase.
	if _, err := model.New(o.modelConfig(max(o.Connections, 1), max(o.Subflows, 1), 1)); err != nil {
		return nil, err
	}
	if o.Connections < 1 || o.Subflows < 1 {
		return nil, fmt.Errorf("pktgen: need at least one connection and one subflow")
	}
	r := &Report{Mode: "engine", Started: time.Now().UTC().Format(time.RFC3339), Machine: probeMachine()}
	r.Config = ReportConfig{Duration: o.Duration.String(), Connections: o.Connections, Subflows: o.Subflows,
		Sizes: o.Sizes, Mix: o.Mix, Direction: o.Direction.String(), Workers: o.Workers, Pin: o.Pin,
		Window: o.Window, AckRatio: o.AckRatio, IdleConns: o.IdleConns, SetupBatch: o.SetupBatch,
		SetupDuration: o.SetupDuration.String(), ModelDuration: o.ModelDuration.String(), KeyCores: o.KeyCores}
	mc := o.modelConfig(o.Connections, o.Subflows, 1)
	r.Config.Window, r.Config.AckRatio = defaulted(mc)
	if o.IdleConns > 0 {
		if err := idleMemory(&o, r); err != nil {
			return nil, err
		}
	}
	if o.SetupDuration > 0 {
		if err := setupRate(&o, r); err != nil {
			return nil, err
		}
	}
	if err := dataPhase(&o, r); err != nil {
		return nil, err
	}
	if o.ModelDuration > 0 {
		if err := modelPhase(&o, r); err != nil {
			return nil, err
		}
	}
	r.finish()
	return r, nil
}

func defaulted(c model.Config) (window, ackRatio int) {
	m, err := model.New(model.Config{Connections: 1, Subflows: 1, Sizes: c.Sizes, Window: c.Window, AckRatio: c.AckRatio})
	if err != nil {
		return c.Window, c.AckRatio
	}
	f := m.Config()
	return f.Window, f.AckRatio
}

// heap returns the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// idleMemory sets up K idle connections (one join each) on one engine and
// measures the heap: the model's share, the engine's preallocation, and
// what established connections add.
func idleMemory(o *Options, r *Report) error {
	k := o.IdleConns
	h0 := heap()
	m, err := model.New(model.Config{Connections: k, Subflows: 2, Seed: 7})
	if err != nil {
		return err
	}
	h1 := heap()
	if err := m.AttachEngine(m.EngineConfig()); err != nil {
		return err
	}
	h2 := heap()
	if err := m.EstablishAll(128); err != nil {
		return err
	}
	h3 := heap()
	runtime.KeepAlive(m)
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(k) }
	r.IdleMemory = &IdleMemory{Connections: k, Subflows: 2,
		EngineBytesPerConn:      per(h1, h3),
		EstablishedBytesPerConn: per(h2, h3),
		PreallocBytesPerConn:    per(h1, h2),
		ModelBytesPerConn:       per(h0, h1),
		MaxConnections:          m.EngineConfig().MaxConnections,
	}
	return nil
}

// setupWave is the number of connections the setup phase opens at once
// (a wave), with the engine's Tick after each.
const setupWave = 128

// setupRate measures full handshakes plus one join per connection, per
// worker, in parallel: see SetupRate for what each figure counts.
func setupRate(o *Options, r *Report) error {
	type res struct {
		conns          uint64
		batches, waves int
		// the quiet waves (no context switch of the thread): their
		// connections, engine time (ProcessBurst and Tick) and whole
		// time (engine and model), wall clock, which is CPU time there
		quiet                      int
		quietConns                 uint64
		quietEngineNs, quietLoopNs int64
		engineNs                   int64   // every wave's engine wall time
		engineScaledNs             float64 // scaled batch by batch by CPU over wall
		wallNs, cpuNs              int64   // the batches'
		releaseNs                  int64   // the thread's CPU time in Release
		rates                      []float64
		err                        error
		cpu                        int
	}
	out := make([]res, o.Workers)
	keys, err := newExchangeKeys(o.Workers, o.KeyCores)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := &out[w]
			if rs.cpu, rs.err = lockWorker(w, o); rs.err != nil {
				return
			}
			m, err := model.New(model.Config{Connections: o.SetupBatch, Subflows: 2, Seed: uint64(100 + w)})
			if err == nil {
				cfg := m.EngineConfig()
				cfg.Keys = keys[w]
				err = m.AttachEngine(cfg)
			}
			if err != nil {
				rs.err = err
				return
			}
			rs.rates = make([]float64, 0, 1024)
			deadline := model.Nanotime() + int64(o.SetupDuration)
			for model.Nanotime() < deadline {
				ub0, tb0 := threadUsage(), model.Nanotime()
				var eng, qEng int64
				var qConns uint64
				for first := 0; first < o.SetupBatch; first += setupWave {
					n := min(setupWave, o.SetupBatch-first)
					m.ResetStats()
					u0 := threadUsage()
					t0 := model.Nanotime()
					if err := m.EstablishWave(first, n); err != nil {
						rs.err = err
						return
					}
					t1 := model.Nanotime()
					u1 := threadUsage()
					e := m.Stats.EngineNs[0] + m.Stats.EngineNs[1] + m.Stats.TickNs
					eng += e
					rs.waves++
					if u1.switches == u0.switches {
						rs.quiet++
						qConns += uint64(n)
						qEng += e
						rs.quietLoopNs += t1 - t0
					}
				}
				wall := model.Nanotime() - tb0
				cpu := min(threadUsage().cpuNs-ub0.cpuNs, wall) // getrusage counts whole microseconds
				if err := keys[w].err; err != nil {
					rs.err = err
					return
				}
				rs.batches++
				rs.conns += uint64(o.SetupBatch)
				rs.wallNs += wall
				rs.cpuNs += cpu
				rs.engineNs += eng
				if wall > 0 {
					rs.engineScaledNs += float64(eng) * float64(cpu) / float64(wall)
				}
				rs.quietConns += qConns
				rs.quietEngineNs += qEng
				if qEng > 0 {
					rs.rates = append(rs.rates, float64(qConns)/(float64(qEng)/1e9))
				}
				u2 := threadUsage()
				if err := m.Release(); err != nil {
					rs.err = err
					return
				}
				rs.releaseNs += threadUsage().cpuNs - u2.cpuNs
			}
		}()
	}
	wg.Wait()
	s := &SetupRate{Batch: o.SetupBatch, Wave: setupWave, Subflows: 2, KeyCores: o.KeyCores, Definition: SetupDefinition}
	var hashes, drawn uint64
	for _, k := range keys {
		hashes += k.hashes()
		drawn += k.drawn
	}
	if drawn > 0 {
		s.SHA256PerKey = float64(hashes) / float64(drawn)
	}
	var rates []float64
	k := float64(o.Workers)
	for w, rs := range out {
		if rs.err != nil {
			return fmt.Errorf("setup phase, worker %d: %w", w, rs.err)
		}
		if rs.conns == 0 || rs.engineNs <= 0 || rs.cpuNs <= 0 {
			return fmt.Errorf("setup phase, worker %d: no batch of %d connections completed in %s", w, o.SetupBatch, o.SetupDuration)
		}
		n := float64(rs.conns)
		pw := SetupWorker{Worker: w, CPU: rs.cpu, Connections: rs.conns, Batches: rs.batches, Waves: rs.waves, QuietWaves: rs.quiet,
			ScaledEngineConnsPerSec: n / (rs.engineScaledNs / 1e9),
			ConnsPerSec:             n / (float64(rs.wallNs) / 1e9),
			ReleaseUsPerConn:        float64(rs.releaseNs) / 1e3 / n,
		}
		if rs.quiet > 0 {
			q := float64(rs.quietConns)
			pw.EngineUsPerConn = float64(rs.quietEngineNs) / 1e3 / q
			pw.LoopUsPerConn = float64(rs.quietLoopNs) / 1e3 / q
		} else {
			// No quiet wave at all: the scaled estimate, for the engine
			// and for the whole loop.
			pw.EngineUsPerConn = rs.engineScaledNs / 1e3 / n
			pw.LoopUsPerConn = float64(rs.cpuNs) / 1e3 / n
		}
		pw.EngineCPUConnsPerSec = 1e6 / pw.EngineUsPerConn
		pw.CPUConnsPerSec = 1e6 / pw.LoopUsPerConn
		s.Workers = append(s.Workers, pw)
		s.Connections += rs.conns
		s.Batches += rs.batches
		s.Waves += rs.waves
		s.QuietWaves += rs.quiet
		s.EngineCPUConnsPerSecPerCore += pw.EngineCPUConnsPerSec / k
		s.CPUConnsPerSecPerCore += pw.CPUConnsPerSec / k
		s.ScaledEngineConnsPerSecPerCore += pw.ScaledEngineConnsPerSec / k
		s.ConnsPerSecPerCore += pw.ConnsPerSec / k
		s.ConnsPerSec += pw.ConnsPerSec
		s.ReleaseUsPerConn += pw.ReleaseUsPerConn / k
		rates = append(rates, rs.rates...)
	}
	s.EngineUsPerConn = 1e6 / s.EngineCPUConnsPerSecPerCore
	s.LoopUsPerConn = 1e6 / s.CPUConnsPerSecPerCore
	s.ModelUsPerConn = s.LoopUsPerConn - s.EngineUsPerConn
	s.BatchMedian, s.BatchP10, s.BatchP90 = quantile(rates, 0.5), quantile(rates, 0.1), quantile(rates, 0.9)
	r.Setup = s
	return nil
}

// SetupDefinition is the setup headline's definition, as the reports
// carry it (SetupRate.Definition; results/README.md says the same).
const SetupDefinition = "connections set up per second of the engine's CPU time on one core. " +
	"A connection is an MP_CAPABLE handshake (the client's SYN, the server's SYN/ACK with key_P, the client's third ACK) " +
	"and one MP_JOIN (SYN, SYN/ACK with the 64-bit HMAC, third ACK with the 160-bit HMAC verified, fourth ACK), " +
	"opened in waves of 128 with the engine's Tick (key refill) after each. " +
	"The engine's CPU time is the wall time inside Engine.ProcessBurst and Engine.Tick in the waves during which " +
	"the worker thread was never switched out (getrusage RUSAGE_THREAD counts no context switch across the wave), " +
	"where wall time is the thread's CPU time; the other waves are left out of the figure. " +
	"Not counted: the model's own work (building and checking the client's and the server's packets, " +
	"the client's key hashing and HMACs) and the release of the connections by the engine's timers. " +
	"Mean over workers, one worker per core."

// quantile returns the q-quantile of v (nearest rank; v is sorted in
// place), or 0 for an empty v.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	i := int(q*float64(len(v)-1) + 0.5)
	return v[min(max(i, 0), len(v)-1)]
}

// usage is the calling thread's CPU time and context switches.
type usage struct {
	cpuNs    int64
	switches int64 // voluntary and involuntary
}

// threadCPU returns the calling thread's CPU time (user + system).
func threadCPU() int64 { return threadUsage().cpuNs }

// threadUsage reads the calling thread's getrusage(RUSAGE_THREAD).
func threadUsage() usage {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return usage{}
	}
	return usage{cpuNs: ru.Utime.Sec*1e9 + int64(ru.Utime.Usec)*1e3 + ru.Stime.Sec*1e9 + int64(ru.Stime.Usec)*1e3,
		switches: ru.Nvcsw + ru.Nivcsw}
}

// gcPauses returns the total of the /gc/pauses:seconds histogram (bucket
// midpoints; infinite edges count as the finite one).
func gcPauses() float64 {
	s := []metrics.Sample{{Name: "/gc/pauses:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := s[0].Value.Float64Histogram()
	var t float64
	for i, c := range h.Counts {
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		switch {
		case c == 0:
			continue
		case lo < -1e300:
			lo = hi
		case hi > 1e300:
			hi = lo
		}
		t += float64(c) * (lo + hi) / 2
	}
	return t
}

// phaseResult is what one worker measured in a traffic phase.
type phaseResult struct {
	cpu    int
	wallNs int64
	cpuNs  int64 // the worker thread's CPU time over wallNs
	stats  model.Stats
	err    error
}

// runTraffic runs one traffic phase (engine or model only) on every
// worker for d and returns each worker's result and the phase's wall time.
func runTraffic(o *Options, engine bool, d time.Duration, progress io.Writer, before, after func()) ([]phaseResult, time.Duration, error) {
	out := make([]phaseResult, o.Workers)
	lives := make([]live, o.Workers)
	var stop atomic.Bool
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < o.Workers; w++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			rs := &out[w]
			signalled := false
			defer func() {
				if !signalled {
					ready.Done()
				}
			}()
			if rs.cpu, rs.err = lockWorker(w, o); rs.err != nil {
				return
			}
			m, err := model.New(o.modelConfig(o.Connections, o.Subflows, uint64(1000+w)))
			if err != nil {
				rs.err = err
				return
			}
			if engine {
				if err := m.AttachEngine(m.EngineConfig()); err != nil {
					rs.err = err
					return
				}
				if err := m.EstablishAll(128); err != nil {
					rs.err = err
					return
				}
			} else {
				m.EstablishRaw()
			}
			m.Start()
			m.RunBursts(256) // warm up: windows open, caches filled
			m.ResetStats()
			signalled = true
			ready.Done()
			<-start
			c0 := threadCPU()
			t0 := model.Nanotime()
			for !stop.Load() {
				m.RunBursts(64)
				lives[w].packets.Store(m.Stats.Packets[0] + m.Stats.Packets[1])
				lives[w].bytes.Store(m.Stats.Bytes[0] + m.Stats.Bytes[1])
				if m.Stats.Errors[model.ErrStall] > 0 {
					break
				}
			}
			rs.wallNs = model.Nanotime() - t0
			rs.cpuNs = threadCPU() - c0
			rs.stats = m.Stats
			rs.err = m.Err()
		}()
	}
	ready.Wait()
	for w := range out {
		if out[w].err != nil {
			close(start)
			stop.Store(true)
			done.Wait()
			return nil, 0, fmt.Errorf("worker %d: %w", w, out[w].err)
		}
	}
	before()
	t0 := time.Now()
	close(start)
	tick := time.NewTicker(time.Second)
	timer := time.NewTimer(d)
	var lastP, lastB uint64
	last := t0
loop:
	for {
		select {
		case <-timer.C:
			break loop
		case now := <-tick.C:
			if progress == nil {
				continue
			}
			var p, b uint64
			for w := range lives {
				p += lives[w].packets.Load()
				b += lives[w].bytes.Load()
			}
			s := now.Sub(last).Seconds()
			fmt.Fprintf(progress, "engine: t=%4.1fs %7.3f Mpps %7.3f Gbit/s payload (%d workers, %d conns x %d subflows each)\n",
				now.Sub(t0).Seconds(), float64(p-lastP)/s/1e6, float64(b-lastB)*8/s/1e9, o.Workers, o.Connections, o.Subflows)
			lastP, lastB, last = p, b, now
		}
	}
	stop.Store(true)
	done.Wait()
	wall := time.Since(t0)
	tick.Stop()
	after()
	for w := range out {
		if out[w].err != nil {
			return nil, 0, fmt.Errorf("worker %d: %w", w, out[w].err)
		}
	}
	return out, wall, nil
}

// dataPhase runs the traffic through the engines.
func dataPhase(o *Options, r *Report) error {
	var ms0, ms1 runtime.MemStats
	var gc0, gc1 float64
	res, wall, err := runTraffic(o, true, o.Duration, o.Progress,
		func() { runtime.ReadMemStats(&ms0); gc0 = gcPauses() },
		func() { runtime.ReadMemStats(&ms1); gc1 = gcPauses() })
	if err != nil {
		return fmt.Errorf("data phase: %w", err)
	}
	d := &DataPhase{WallSeconds: wall.Seconds()}
	var pk [2]uint64
	var ens [2]int64
	var tickNs, workerNs, cpuNs int64
	for w, rs := range res {
		st := &rs.stats
		pw := Worker{Worker: w, CPU: rs.cpu, Packets: st.Packets[0] + st.Packets[1],
			Bytes: st.Bytes[0] + st.Bytes[1], Emitted: st.Emitted,
			LoopNsPerPkt: float64(rs.wallNs) / float64(st.Packets[0]+st.Packets[1]),
			C2SNsPerPkt:  nsPer(st.EngineNs[0], st.Packets[0]),
			S2CNsPerPkt:  nsPer(st.EngineNs[1], st.Packets[1])}
		pw.Mpps = float64(pw.Packets) / (float64(rs.wallNs) / 1e9) / 1e6
		d.Workers = append(d.Workers, pw)
		for s := 0; s < 2; s++ {
			pk[s] += st.Packets[s]
			ens[s] += st.EngineNs[s]
			d.PayloadBytes[s] += st.Bytes[s]
			d.Segments[s] += st.Segments[s]
		}
		tickNs += st.TickNs
		workerNs += rs.wallNs
		cpuNs += rs.cpuNs
		d.Emitted += st.Emitted
	}
	d.Packets = [2]uint64{pk[0], pk[1]}
	tot := pk[0] + pk[1]
	if tot == 0 {
		return errors.New("data phase: no packets")
	}
	d.Mpps = float64(tot) / wall.Seconds() / 1e6
	d.PayloadGbps = float64(d.PayloadBytes[0]+d.PayloadBytes[1]) * 8 / wall.Seconds() / 1e9
	d.PayloadGbpsDir = [2]float64{float64(d.PayloadBytes[0]) * 8 / wall.Seconds() / 1e9, float64(d.PayloadBytes[1]) * 8 / wall.Seconds() / 1e9}
	d.C2SNsPerPkt = nsPer(ens[0], pk[0])
	d.S2CNsPerPkt = nsPer(ens[1], pk[1])
	d.EngineNsPerPkt = nsPer(ens[0]+ens[1]+tickNs, tot)
	d.TickNsPerPkt = nsPer(tickNs, tot)
	d.LoopNsPerPkt = float64(workerNs) / float64(tot)
	if cpuNs > 0 && workerNs > 0 {
		d.LoopCPUNsPerPkt = float64(cpuNs) / float64(tot)
		d.EngineCPUNsPerPkt = d.EngineNsPerPkt * float64(cpuNs) / float64(workerNs)
	}
	d.AllocsPerPkt = float64(ms1.Mallocs-ms0.Mallocs) / float64(tot)
	d.BytesAllocPerPkt = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(tot)
	d.GCCycles = ms1.NumGC - ms0.NumGC
	d.GCPauseSeconds = gc1 - gc0
	d.GCPauseSecondsMemStats = float64(ms1.PauseTotalNs-ms0.PauseTotalNs) / 1e9
	r.Data = d
	return nil
}

// modelPhase runs the same traffic without engines.
func modelPhase(o *Options, r *Report) error {
	res, wall, err := runTraffic(o, false, o.ModelDuration, nil, func() {}, func() {})
	if err != nil {
		return fmt.Errorf("model-only phase: %w", err)
	}
	var pk uint64
	var ns int64
	for _, rs := range res {
		pk += rs.stats.Packets[0] + rs.stats.Packets[1]
		ns += rs.wallNs
	}
	r.Model = &ModelPhase{WallSeconds: wall.Seconds(), Packets: pk, NsPerPkt: float64(ns) / float64(pk),
		Mpps: float64(pk) / wall.Seconds() / 1e6}
	return nil
}

func nsPer(ns int64, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(ns) / float64(n)
}

// ParseMix parses a payload mix "SIZE[:WEIGHT],..." (e.g. "64:1,1432:3")
// into a size schedule: each size repeated WEIGHT times, in order.
func ParseMix(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		sz, wt, hasW := strings.Cut(f, ":")
		n, err := strconv.Atoi(sz)
		if err != nil || n < 1 || n > model.PayloadLimit(model.MaxMTU) {
			return nil, fmt.Errorf("mix %q: size %q: want 1 to %d bytes (%d at the default 1500-byte MTU: MTU minus IP, TCP and the 28-byte DSS)", s, sz, model.PayloadLimit(model.MaxMTU), model.MaxPayload)
		}
		k := 1
		if hasW {
			if k, err = strconv.Atoi(wt); err != nil || k < 1 || k > 64 {
				return nil, fmt.Errorf("mix %q: weight %q: want 1 to 64", s, wt)
			}
		}
		for i := 0; i < k; i++ {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mix %q: no sizes", s)
	}
	return out, nil
}
