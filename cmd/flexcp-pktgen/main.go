// Command flexcp-pktgen is flexcp's benchmark harness.
//
//	flexcp-pktgen engine [flags]
//	flexcp-pktgen dataplane [flags]
//	flexcp-pktgen wire --netns-prefix PREFIX [flags]
//	flexcp-pktgen wire --flexcp-routes
//	flexcp-pktgen plot [--dir results]
//
// Mode engine drives translate.Engine in process with the closed-loop
// MPTCP/TCP traffic model of bench/model (no NIC, no DPDK) and reports
// ns/packet by direction, Mpps, payload Gbit/s, allocations per packet, GC
// pauses, memory per idle connection and the connection setup rate, as JSON
// (--json) and Markdown (--md). Mode dataplane runs flexcp's dataplane
// workers on DPDK ports made of rte_rings and plays the same model on the
// rings' far ends (root; EAL in the process). Mode plot draws the PNGs of
// bench/plot from the reports in --dir and, from a dataplane pair with and
// without affinity, writes the projection to 24 workers
// (projection.json, .md, .png: a model, labelled as such). Mode wire plays
// the same model on the standard topology (DESIGN.md section 7) against a
// flexcp running in PREFIX-p: the client from c1 and c2 in PREFIX-c, the
// server from s1 in PREFIX-s, through DPDK's af_xdp PMD (root, hugepages);
// flexcp needs the routes --flexcp-routes prints (scripts/wire.sh does it
// all).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/flexcp/flexcp/bench/model"
	"github.com/flexcp/flexcp/bench/pktgen"
	"github.com/flexcp/flexcp/bench/plot"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the mode and writes the reports; it returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	mode := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("flexcp-pktgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flexcp-pktgen engine|dataplane|wire|plot [flags]\n\nModes: engine (translate.Engine in process); dataplane (flexcp's workers on DPDK ring ports, root); wire (against a running flexcp on the standard topology, AF_XDP, root; see scripts/wire.sh); plot (PNGs from the reports in --dir).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	modeFlag := fs.String("mode", "engine", "benchmark mode: engine, dataplane or wire; a first non-flag argument overrides it")
	duration := fs.Duration("duration", 5*time.Second, "length of the data phase")
	setupDur := fs.Duration("setup-duration", 0, "length of the connection-setup phase (0: duration/4, at least 100ms; negative: skip)")
	modelDur := fs.Duration("model-duration", 0, "length of the model-only phase (0: duration/4, at least 100ms; negative: skip)")
	conns := fs.Int("connections", 1000, "connections per worker")
	subflows := fs.Int("subflows", 2, fmt.Sprintf("subflows per connection, subflow 0 included (1 to %d)", model.MaxSubflows))
	size := fs.Int("size", model.MaxPayload, fmt.Sprintf("payload bytes per data segment (1 to %d at MTU 1500; larger raises the dataplane's MTU); --mix overrides it", model.MaxPayload))
	mix := fs.String("mix", "", `payload size mix "SIZE[:WEIGHT],...", e.g. "64:1,1432:3"`)
	dir := fs.String("direction", "both", "which ends send data: c2s, s2c or both")
	workers := fs.Int("workers", 1, "independent engines, one per goroutine locked to its OS thread")
	pin := fs.Bool("pin", true, "pin worker i to CPU i mod nproc")
	window := fs.Int("window", 0, "data segments in flight per connection and direction (0: 8)")
	ackRatio := fs.Int("ack-ratio", 0, "data segments per cumulative ACK (0: 2)")
	idle := fs.Int("idle-conns", 10000, "connections for the memory-per-idle-connection measurement (negative: skip)")
	batch := fs.Int("setup-batch", 4096, "connections set up before the engine's timers release them, in the setup phase")
	keyCores := fs.Int("key-cores", 0, "engine: setup phase key_P tokens name cores of a proxy with this many (0: --workers), keys shared through one key exchange, all grinding timed")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	mdOut := fs.String("md", "", "write the report as a Markdown table to this file")
	quiet := fs.Bool("quiet", false, "no progress line")
	affinity := fs.Bool("affinity", true, "dataplane: every packet of a connection enters its owner's queue (false: queue = symmetric hash of the packet's own 4-tuple)")
	workerCPUs := fs.String("worker-cpus", "", "dataplane: the workers' CPUs, e.g. 1,2 (default: 1..W, or 0..W-1 when there are not more CPUs than workers)")
	genCPU := fs.Int("gen-cpu", 0, "dataplane, wire: the generator's CPU")
	ealArgs := fs.String("eal", "", "dataplane, wire: EAL arguments, space-separated (default dataplane: -l GEN_CPU --no-pci -m 512, hugepages if free else --no-huge; wire: -l GEN_CPU --no-pci --in-memory)")
	mtu := fs.Int("mtu", 0, "MTU of the model's paths and the dataplane's ports (0: 1500; dataplane: payload+68 when larger)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file (go tool pprof)")
	plotDir := fs.String("dir", "results", "plot: the directory holding the reports (engine*.json, dataplane*.json, compare.json or compare.md); the PNGs and plots.csv go there too")
	ringSize := fs.Int("ring-size", 0, "dataplane: entries per RX/TX ring (0: 65536)")
	roundQuiet := fs.Duration("round-quiet", 0, "dataplane: how long the TX rings must stay empty before a closed-loop round is over (0: 100us); wire: how long no frame may arrive (0: 1ms)")
	nsPrefix := fs.String("netns-prefix", "fcp", "wire: the topology's namespace prefix (PREFIX-c holds c1 and c2, PREFIX-s holds s1; scripts/netns.sh NETNS_PREFIX)")
	driver := fs.String("driver", "af_xdp", "wire: the PMD the generator opens c1, c2 and s1 with: af_xdp or af_packet")
	devArgs := fs.String("devargs", "", "wire: more arguments for the generator's vdevs, e.g. busy_budget=0 (af_xdp)")
	inFlight := fs.Int("in-flight", 0, "wire: frames sent and not yet matched by one out of flexcp, at most (0: 128; a veth queues 256 toward XDP, the model does not retransmit)")
	baseline := fs.Bool("baseline", false, "wire: run the model untranslated, connections established in place, through whatever forwards in PREFIX-p instead of flexcp (kernel forwarding, testpmd): scripts/wire.sh BASELINE=kernel")
	seed := fs.Uint64("seed", 7, "wire: seed of the model's keys, ISNs and nonces")
	routes := fs.Bool("flexcp-routes", false, "wire: print the [[route]] lines flexcp needs on top of examples/netns.toml for --subflows, and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if mode == "" {
		mode = *modeFlag
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flexcp-pktgen: unexpected arguments %q (flags go after the mode)\n", fs.Args())
		return 2
	}
	switch mode {
	case "engine", "dataplane":
	case "plot":
		return drawPlots(*plotDir, stdout, stderr)
	case "wire":
		if *routes {
			fmt.Fprint(stdout, pktgen.WireRoutes(*subflows))
			return 0
		}
	default:
		fmt.Fprintf(stderr, "flexcp-pktgen: unknown mode %q: want engine, dataplane, wire or plot\n", mode)
		return 2
	}
	o := pktgen.Options{Duration: *duration, SetupDuration: *setupDur, ModelDuration: *modelDur,
		Connections: *conns, Subflows: *subflows, Workers: *workers, Pin: *pin, Window: *window,
		AckRatio: *ackRatio, IdleConns: *idle, SetupBatch: *batch, Progress: stdout, MTU: *mtu, KeyCores: *keyCores}
	if *quiet {
		o.Progress = nil
	}
	if *idle == 0 {
		o.IdleConns = -1
	}
	var err error
	if o.Direction, err = model.ParseDirection(*dir); err != nil {
		fmt.Fprintf(stderr, "flexcp-pktgen: --direction: %v\n", err)
		return 2
	}
	if *mix != "" {
		if o.Sizes, err = pktgen.ParseMix(*mix); err != nil {
			fmt.Fprintf(stderr, "flexcp-pktgen: --mix: %v\n", err)
			return 2
		}
		o.Mix = *mix
	} else {
		o.Sizes = []int{*size}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "flexcp-pktgen: --cpuprofile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "flexcp-pktgen: --cpuprofile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	var r *pktgen.Report
	if mode == "wire" {
		wo := pktgen.WireOptions{Options: o, ClientNS: *nsPrefix + "-c", ServerNS: *nsPrefix + "-s", Driver: *driver, DevArgs: *devArgs, Baseline: *baseline,
			GenCPU: *genCPU, InFlight: *inFlight, Quiet: *roundQuiet, Seed: *seed}
		if *ealArgs != "" {
			wo.EAL = strings.Fields(*ealArgs)
		}
		r, err = pktgen.RunWire(wo)
	} else if mode == "dataplane" {
		do := pktgen.DataplaneOptions{Options: o, Affinity: *affinity, GenCPU: *genCPU, RingSize: *ringSize, Quiet: *roundQuiet}
		if *ealArgs != "" {
			do.EAL = strings.Fields(*ealArgs)
		}
		if *workerCPUs != "" {
			for _, f := range strings.Split(*workerCPUs, ",") {
				c, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || c < 0 {
					fmt.Fprintf(stderr, "flexcp-pktgen: --worker-cpus: %q is not a CPU number\n", f)
					return 2
				}
				do.WorkerCPUs = append(do.WorkerCPUs, c)
			}
		}
		r, err = pktgen.RunDataplane(do)
	} else {
		r, err = pktgen.RunEngine(o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "flexcp-pktgen: %s: %v\n", mode, err)
		return 1
	}
	if err := r.WriteMarkdown(stdout); err != nil {
		fmt.Fprintf(stderr, "flexcp-pktgen: %v\n", err)
		return 1
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{*jsonOut, r.WriteJSON}, {*mdOut, r.WriteMarkdown}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, out.write); err != nil {
			fmt.Fprintf(stderr, "flexcp-pktgen: %v\n", err)
			return 1
		}
	}
	return 0
}

// drawPlots draws the plots of the reports in dir.
func drawPlots(dir string, stdout, stderr io.Writer) int {
	d, err := plot.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "flexcp-pktgen: plot: %v\n", err)
		return 1
	}
	written, notes, err := plot.Draw(d, dir)
	for _, w := range written {
		fmt.Fprintf(stdout, "plot: wrote %s\n", w)
	}
	for _, n := range notes {
		fmt.Fprintf(stdout, "plot: left out %s\n", n)
	}
	if err != nil {
		fmt.Fprintf(stderr, "flexcp-pktgen: plot: %v\n", err)
		return 1
	}
	return 0
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
