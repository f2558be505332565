package pktgen

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flexcp/flexcp/bench/model"
	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane"
	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
)

// DataplaneOptions are the dataplane mode's settings on top of Options
// (Duration, Connections, Subflows, Sizes, Mix, Direction, Window,
// AckRatio, Workers, Progress; the other fields of Options are unused).
type DataplaneOptions struct {
	Options
	// Affinity steers every packet of a connection to its owner's queue,
	// as a NIC with flexcp's flow rules would (DESIGN.md section 5): the
	// owner is what flexcp's own steering rules (package steering, the
	// dataplane's configuration) say for the connection's first SYN -
	// the symmetric-RSS queue of its subflow-0 4-tuple - and every later
	// packet of the connection, join subflows included, follows it; without it a packet's queue is
	// the RETA entry of the symmetric Toeplitz hash of its own 4-tuple
	// with the dataplane's RSS key and table, as a NIC with symmetric RSS
	// and no flow rules would pick: subflow 0 lands on its owner, the
	// server-side connection and join subflows on any worker, and the
	// dataplane hands those to the owner.
	Affinity bool
	// WorkerCPUs are the workers' CPUs (nil: 1..W modulo the CPUs, or
	// 0..W-1 when there are not more CPUs than workers).
	WorkerCPUs []int
	// GenCPU is the generator's CPU (negative: 0).
	GenCPU int
	// EAL are the EAL arguments without a program name (nil: one lcore
	// on GenCPU, no PCI, 512 MB of hugepages if that much is free, else
	// --no-huge).
	EAL []string
	// RingSize is the size of each RX and TX ring (0: 65536).
	RingSize int
	// Quiet is how long the TX rings must stay empty before a round is
	// over (0: 100 us).
	Quiet time.Duration
}

// DataplaneResult is the dataplane mode's measurement.
type DataplaneResult struct {
	Workers    int    `json:"workers"`
	WorkerCPUs []int  `json:"worker_cpus"`
	GenCPU     int    `json:"generator_cpu"`
	Affinity   bool   `json:"affinity"`
	MTU        int    `json:"mtu"`
	EAL        string `json:"eal"`
	// SetupConnsPerSec: handshakes plus joins through the dataplane, in
	// waves of 128 (1.1 ms apart so the translator's key pool refills):
	// closed loop, generator included.
	SetupConnsPerSec float64 `json:"setup_conns_per_sec"`
	// Rounds of the closed loop in the data phase.
	Rounds uint64 `json:"rounds"`
	// PacketsIn: frames the generator put on the ports' RX rings;
	// PacketsOut: frames the dataplane transmitted (forwarded and
	// generated).
	PacketsIn  uint64 `json:"packets_in"`
	PacketsOut uint64 `json:"packets_out"`
	// FrameBytesIn: Ethernet frame bytes into the dataplane.
	FrameBytesIn uint64 `json:"frame_bytes_in"`
	// PayloadBytes delivered and verified, client to server and back.
	PayloadBytes [2]uint64 `json:"payload_bytes"`
	Segments     [2]uint64 `json:"data_segments"`
	WallSeconds  float64   `json:"wall_seconds"`
	// RingSeconds: the time the dataplane had work: in each round, from
	// the first frame enqueued (all of a round's frames go onto the RX
	// rings at once) until the workers had taken the last one off.
	RingSeconds float64 `json:"ring_seconds"`
	// ClosedLoopMpps: PacketsIn over wall time (the generator's model
	// work included: on a small machine this is the generator's limit).
	ClosedLoopMpps float64 `json:"closed_loop_mpps"`
	// Mpps: PacketsIn over RingSeconds, all workers: the dataplane's
	// rate while it had frames queued. MppsPerWorker = Mpps / Workers.
	Mpps          float64 `json:"mpps"`
	MppsPerWorker float64 `json:"mpps_per_worker"`
	// NsPerPkt: RingSeconds x Workers over PacketsIn (worker time per
	// packet).
	NsPerPkt float64 `json:"ns_per_pkt"`
	// PayloadGbps and FrameGbps: over RingSeconds.
	PayloadGbps float64 `json:"payload_gbps"`
	FrameGbps   float64 `json:"frame_gbps"`
	// ClosedLoopPayloadGbps: payload over wall time.
	ClosedLoopPayloadGbps float64 `json:"closed_loop_payload_gbps"`
	// WorkerCPUSeconds: the workers' CPU time during RingSeconds
	// (getrusage: the process minus the generator thread; with several
	// workers, one that drained its rings first polls empty ones until the
	// last is done, and that counts too). On a machine shared with other
	// processes a worker is not always on its CPU; CPU time counts only
	// when it is. CPUNsPerPkt = WorkerCPUSeconds over PacketsIn, and
	// CPUMppsPerWorker its inverse: the rate of one worker that has its
	// core to itself.
	WorkerCPUSeconds float64 `json:"worker_cpu_seconds"`
	CPUNsPerPkt      float64 `json:"cpu_ns_per_pkt"`
	CPUMppsPerWorker float64 `json:"cpu_mpps_per_worker"`
	// ProcessCPUNsPerPkt: the same from getrusage (the process minus the
	// generator thread: the Go runtime's other threads - GC workers,
	// sysmon - count too, and per-thread sums lag by up to a scheduler
	// tick), the only figure before 2026-12-07.
	ProcessCPUNsPerPkt float64 `json:"process_cpu_ns_per_pkt"`
	// The workers' poll rounds (dataplane.LoopStats) in the busy
	// intervals: BusyRounds in all, BusyRxRounds those that received
	// packets; PktsPerRxRound = packets received over BusyRxRounds (at
	// most 32 per port and round).
	BusyRounds     uint64  `json:"busy_rounds"`
	BusyRxRounds   uint64  `json:"busy_rx_rounds"`
	PktsPerRxRound float64 `json:"pkts_per_rx_round"`
	// EmptyRoundNs: worker CPU per poll round outside the busy
	// intervals, where every round finds nothing (the generator is
	// staging or checking); IdleCPUShare: the part of the workers' CPU in
	// the data phase spent there.
	EmptyRoundNs float64 `json:"empty_round_ns"`
	IdleCPUShare float64 `json:"idle_cpu_share"`
	// RxRoundCPUNsPerPkt: worker CPU per packet in the rounds that
	// received packets: the busy intervals' CPU minus their empty rounds
	// at EmptyRoundNs each, over the packets. This is the per-packet
	// cost of a worker that always finds a burst waiting; 0 when the
	// estimate is withheld (see RunDataplane).
	RxRoundCPUNsPerPkt float64 `json:"rx_round_cpu_ns_per_pkt"`
	// GenNsPerPkt: generator time outside the ring phases (model
	// building and checking, copies), per packet in.
	GenNsPerPkt float64 `json:"generator_ns_per_pkt"`
	// Summary is the dataplane's own shutdown line (counters, drops),
	// Drops its drops by reason.
	Summary string            `json:"dataplane_summary"`
	Drops   map[string]uint64 `json:"drops,omitempty"`
}

// Addresses the dataplane mode configures: one access port per subflow
// (198.18.32j.1/19, the model's client j lives at 198.18.32j.2), one core
// port (198.19.0.254/24, the server at 198.19.0.1).
var (
	portMACBase = [6]byte{0x02, 0, 0, 0, 0xf0, 0}
	peerMACBase = [6]byte{0x02, 0, 0, 0, 0xf1, 0}
)

func macN(base [6]byte, i int) [6]byte { base[5] = byte(i); return base }

func macText(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// dataplaneConfig writes the flexcp configuration of the harness's ring
// topology and parses it like a user's file.
func dataplaneConfig(o *DataplaneOptions, names []string, ringSize int) (*config.Config, error) {
	var b strings.Builder
	lc := make([]string, len(o.WorkerCPUs))
	for i, c := range o.WorkerCPUs {
		lc[i] = strconv.Itoa(c)
	}
	fmt.Fprintf(&b, "lcores = [%s]\nidle = \"poll\"\nburst = 32\nlog_level = \"warn\"\n", strings.Join(lc, ", "))
	// Ring ports ignore descriptor counts; the config still sizes the
	// mempool by them, so keep them small.
	desc := min(ringSize, 512)
	for j := 0; j < o.Subflows; j++ {
		fmt.Fprintf(&b, "[[port]]\nname = \"a%d\"\ndevice = %q\nrole = \"access\"\naddresses = [\"198.18.%d.1/19\"]\nmtu = %d\nqueues = %d\nrx_desc = %d\ntx_desc = %d\nmac = %q\n",
			j, names[j], 32*j, o.MTU, o.Workers, desc, desc, macText(macN(portMACBase, j)))
	}
	fmt.Fprintf(&b, "[[port]]\nname = \"core\"\ndevice = %q\nrole = \"core\"\naddresses = [\"198.19.0.254/24\"]\nmtu = %d\nqueues = %d\nrx_desc = %d\ntx_desc = %d\nmac = %q\n",
		names[o.Subflows], o.MTU, o.Workers, desc, desc, macText(macN(portMACBase, o.Subflows)))
	for j := 0; j < o.Subflows; j++ {
		for k := 0; k*60000 < o.Connections; k++ {
			a := model.ClientAddr(k*60000, j)
			fmt.Fprintf(&b, "[[neighbor]]\nip = \"%d.%d.%d.%d\"\nmac = %q\nport = \"a%d\"\n", a[0], a[1], a[2], a[3], macText(macN(peerMACBase, j)), j)
		}
	}
	s := model.ServerAddr()
	fmt.Fprintf(&b, "[[neighbor]]\nip = \"%d.%d.%d.%d\"\nmac = %q\nport = \"core\"\n", s[0], s[1], s[2], s[3], macText(macN(peerMACBase, o.Subflows)))
	// Mbufs the dataplane allocates itself: generated ACKs, join answers.
	fmt.Fprintf(&b, "[mempool]\nmbufs = %d\ncache = 256\ndata_room = %d\n", min(65535, 8191+8*o.Connections*o.Subflows+2*desc*(o.Subflows+1)*o.Workers), dpdk.DefaultDataRoom)
	fmt.Fprintf(&b, "[proxy]\nenabled = true\ntranslate = [\"198.19.0.0/24\"]\nports = [\"%d\"]\nmax_connections = %d\nmax_subflows = %d\n"+
		"idle_timeout = \"1h\"\nsubflow_dead_after = \"1h\"\nsyn_timeout = \"1h\"\njoin_timeout = \"1h\"\n",
		model.ServerPort, max(o.Connections+1024, 4096), max(o.Subflows, 2))
	return config.Parse("flexcp-pktgen dataplane", []byte(b.String()))
}

// defaultEAL returns the EAL arguments of DataplaneOptions.EAL's default.
func defaultEAL(genCPU int) []string {
	args := []string{"-l", strconv.Itoa(genCPU), "--no-pci", "--no-telemetry", "--log-level=*:error", "-m", "512"}
	if config.CheckHugepages(512<<20) == nil {
		return append(args, "--in-memory")
	}
	return append(args, "--no-huge", "--no-shconf", "--file-prefix=flexcp-pktgen-"+strconv.Itoa(unix.Getpid()))
}

func (o *DataplaneOptions) fill() error {
	if o.Duration <= 0 {
		return errors.New("pktgen: duration must be positive")
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Direction == 0 {
		o.Direction = model.Both
	}
	if o.Connections < 1 || o.Subflows < 1 {
		return fmt.Errorf("pktgen: need at least one connection and one subflow")
	}
	if o.MTU == 0 {
		o.MTU = model.DefaultMTU
		for _, s := range o.Sizes {
			o.MTU = max(o.MTU, s+40+28)
		}
	}
	if o.MTU > model.MaxMTU {
		return fmt.Errorf("pktgen: MTU %d above %d (one mbuf per packet)", o.MTU, model.MaxMTU)
	}
	n := runtime.NumCPU()
	if o.GenCPU < 0 {
		o.GenCPU = 0
	}
	if o.WorkerCPUs == nil {
		first := 1
		if n <= o.Workers {
			first = 0
		}
		for w := 0; w < o.Workers; w++ {
			o.WorkerCPUs = append(o.WorkerCPUs, (first+w)%n)
		}
	}
	if len(o.WorkerCPUs) != o.Workers {
		return fmt.Errorf("pktgen: %d worker CPUs for %d workers", len(o.WorkerCPUs), o.Workers)
	}
	if o.EAL == nil {
		o.EAL = defaultEAL(o.GenCPU)
	}
	if o.RingSize == 0 {
		o.RingSize = 65536
	}
	if o.Quiet == 0 {
		o.Quiet = 100 * time.Microsecond
	}
	return nil
}

// stuckAfter is how long a round waits for the dataplane to take or send
// a frame before the run fails.
const stuckAfter = 5 * time.Second

// gen is the generator: it plays the model on the far ends of the rings.
// Owned by one goroutine.
type gen struct {
	o       *DataplaneOptions
	m       *model.Model
	pool    *dpdk.Mempool
	rx      [][]*dpdk.Ring // [port][queue]: frames toward the dataplane
	tx      [][]*dpdk.Ring // [port][queue]: frames from the dataplane
	portMAC [][6]byte
	nAcc    int

	staged [][][]*dpdk.Mbuf // [port][queue]
	pos    [][]int
	out    []*dpdk.Mbuf // received frames of a round (C memory)
	outPt  []uint8      // their port
	order  []orderItem  // delivery order of a round
	nOut   int
	// Frames ahead of their receiver (a segment sent earlier on another
	// subflow has not come out of the dataplane yet), kept for a later
	// round as a receiver's out-of-order queue would (model.Ahead), and
	// their replacements being built (all C memory, capacity nbuf).
	held, heldNext, heldDone []*dpdk.Mbuf
	heldPt, heldPtNext       []uint8
	heldAt, heldAtNext       []int64
	take                     []translate.Packet
	stash                    []*dpdk.Mbuf // fresh mbufs, allocated 64 at a time (C memory)

	// With affinity and several workers: the classifier built from the
	// dataplane's steering rules, and the owner of each model connection
	// (-1 until its client SYN went out).
	cls   *steering.Classifier
	owner []int16
	// Without affinity and several workers: the symmetric RSS hash and
	// redirection table of the dataplane's rules (plain RSS).
	rss  *steering.Table
	reta *steering.RETA

	// Counters of the current phase.
	in, outN, frameBytes uint64
	ringNs, genNs        int64
	workerCPUNs          int64 // CPU time of the other threads in ring phases
	workers              []*dataplane.Worker
	busy                 loopSnap // the workers in the ring phases (sums of differences)
	phase                loopSnap // the workers at the start of the data phase
	rounds               uint64
	err                  error
}

// symHash is a symmetric hash of a packet's 4-tuple (a^b is the same both
// ways), the queue plain RSS with a symmetric key would pick.
func symHash(ip []byte) uint32 {
	hl := int(ip[0]&15) * 4
	h := binary.BigEndian.Uint32(ip[12:]) ^ binary.BigEndian.Uint32(ip[16:]) ^
		uint32(binary.BigEndian.Uint16(ip[hl:])^binary.BigEndian.Uint16(ip[hl+2:]))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// affinityQueue returns the owner worker of the connection an IPv4
// packet belongs to: at the client's SYN on subflow 0 (access port 0) the
// steering classifier's answer, which is the dataplane's own choice,
// remembered for every later packet of the connection.
func (g *gen) affinityQueue(ip []byte, side translate.Side, port int) int {
	ci := g.m.Owner(ip)
	if ci < 0 || ci >= len(g.owner) {
		return int(symHash(ip) % uint32(g.o.Workers))
	}
	if hl := int(ip[0]&15) * 4; side == translate.Access && port == 0 && len(ip) >= hl+14 &&
		ip[hl+13]&(header.TCPFlagSyn|header.TCPFlagAck) == header.TCPFlagSyn {
		g.owner[ci] = -1 // a new connection in this slot: its owner is decided again
	}
	if g.owner[ci] < 0 {
		core, _ := g.cls.Owner(ip)
		g.owner[ci] = int16(core)
	}
	return int(g.owner[ci])
}

// rssQueue returns the queue plain symmetric RSS picks for an IPv4 TCP
// packet (the model sends no other): the RETA entry of the Toeplitz hash
// of its 4-tuple.
func (g *gen) rssQueue(ip []byte) int {
	hl := int(ip[0]&15) * 4
	if len(ip) < 20 || len(ip) < hl+4 {
		return 0
	}
	h := g.rss.HashV4([4]byte(ip[12:16]), [4]byte(ip[16:20]), binary.BigEndian.Uint16(ip[hl:]), binary.BigEndian.Uint16(ip[hl+2:]))
	return g.reta.QueueOf(h)
}

// stage copies what the model wants to send into mbufs on the staging
// lists of their port and queue.
func (g *gen) stage() error {
	for _, side := range []translate.Side{translate.Access, translate.Core} {
		for {
			k := g.m.TakeOut(side, g.take)
			if k == 0 {
				break
			}
			for i := 0; i < k; i++ {
				p := &g.take[i]
				ip := p.Buf[p.Off : p.Off+p.Len]
				port := g.nAcc // the core port
				if side == translate.Access {
					// Subflow j's client sits behind access port j.
					port = int(ip[14]) / 32
				}
				q := 0
				if g.o.Workers > 1 {
					if g.o.Affinity {
						q = g.affinityQueue(ip, side, port)
					} else {
						q = g.rssQueue(ip)
					}
				}
				if len(g.stash) == 0 {
					g.stash = g.stash[:cap(g.stash)]
					if !g.pool.AllocBulk(g.stash) {
						g.stash = g.stash[:0]
						g.m.Free(p)
						return fmt.Errorf("generator mempool empty (%d mbufs): fewer connections or a smaller window", g.pool.Size())
					}
				}
				mb := g.stash[len(g.stash)-1]
				g.stash = g.stash[:len(g.stash)-1]
				f := mb.Append(uint16(14 + len(ip)))
				if f == nil {
					dpdk.FreeBulk([]*dpdk.Mbuf{mb})
					g.m.Free(p)
					return fmt.Errorf("a %d-byte packet does not fit an mbuf", len(ip))
				}
				dst, src := g.portMAC[port], macN(peerMACBase, port)
				copy(f[0:6], dst[:])
				copy(f[6:12], src[:])
				f[12], f[13] = 0x08, 0x00
				copy(f[14:], ip)
				g.frameBytes += uint64(len(f))
				g.m.Free(p)
				g.staged[port][q] = append(g.staged[port][q], mb)
			}
		}
	}
	return nil
}

// exchange puts the staged frames on the RX rings and collects what the
// dataplane transmits until its rings have been empty for quiet. It
// returns the time from the first enqueue until the workers had taken
// every frame off their RX rings (they are busy all that time: every poll
// finds frames), and adds the workers' CPU time over the same interval to
// workerCPUNs.
func (g *gen) exchange(quiet time.Duration) int64 {
	staged := 0
	for p := range g.staged {
		for q := range g.staged[p] {
			staged += len(g.staged[p][q])
			g.pos[p][q] = 0
		}
	}
	g.in += uint64(staged)
	cpu0 := otherCPU()
	w0 := g.snap()
	t0 := model.Nanotime()
	last, drained := t0, int64(0)
	left := staged
	for {
		if left > 0 {
			for p := range g.staged {
				for q, s := range g.staged[p] {
					if k := g.pos[p][q]; k < len(s) {
						// All at once (one call per ring): the
						// dataplane, not the generator, must be
						// what limits the phase.
						n := g.rx[p][q].EnqueueBurst(s[k:])
						g.pos[p][q] += n
						left -= n
						if n > 0 {
							last = model.Nanotime()
						}
					}
				}
			}
		}
		if left == 0 && drained == 0 && staged > 0 && g.rxEmpty() {
			drained = model.Nanotime()
			g.workerCPUNs += otherCPU() - cpu0
			g.busy.add(g.snap(), w0)
		}
		got := 0
		for p := range g.tx {
			for q := range g.tx[p] {
				for g.nOut < len(g.out) {
					n := g.tx[p][q].DequeueBurst(g.out[g.nOut:min(len(g.out), g.nOut+512)])
					for i := 0; i < n; i++ {
						g.outPt[g.nOut+i] = uint8(p)
					}
					g.nOut += n
					got += n
					if n < 512 {
						break
					}
				}
			}
		}
		t := model.Nanotime()
		if got > 0 {
			last = t
			continue
		}
		if left == 0 && t-last >= int64(quiet) && (drained != 0 || g.rxEmpty()) {
			break
		}
		if g.nOut == len(g.out) {
			break
		}
		if t-last > int64(stuckAfter) {
			// The workers stopped taking frames (a worker failed): give
			// up rather than spin; the frames still queued are freed
			// at the end of the run.
			if g.err == nil {
				g.err = fmt.Errorf("the dataplane took no frame and sent none for %v (%d frames not taken)", stuckAfter, left)
			}
			break
		}
	}
	for p := range g.staged {
		for q := range g.staged[p] {
			clear(g.staged[p][q])
			g.staged[p][q] = g.staged[p][q][:0]
		}
	}
	if drained == 0 {
		return 0
	}
	return drained - t0
}

// otherCPU returns the CPU time of every thread of the process but the
// calling one (the generator's): the dataplane workers, plus the Go
// runtime's background threads, which are idle here (no allocation).
func otherCPU() int64 {
	var self, th unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &self) != nil || unix.Getrusage(unix.RUSAGE_THREAD, &th) != nil {
		return 0
	}
	tv := func(t unix.Timeval) int64 { return t.Sec*1e9 + int64(t.Usec)*1e3 }
	return tv(self.Utime) + tv(self.Stime) - tv(th.Utime) - tv(th.Stime)
}

// loopSnap is the workers' thread CPU time and poll rounds at one
// moment, summed over the workers (or a sum of differences).
type loopSnap struct {
	cpuNs                       int64
	rounds, rxRounds, rxPackets uint64
}

func (s *loopSnap) add(b, a loopSnap) {
	s.cpuNs += b.cpuNs - a.cpuNs
	s.rounds += b.rounds - a.rounds
	s.rxRounds += b.rxRounds - a.rxRounds
	s.rxPackets += b.rxPackets - a.rxPackets
}

// snap reads every worker's thread CPU clock and loop counters.
func (g *gen) snap() loopSnap {
	var s loopSnap
	for _, w := range g.workers {
		ls := w.LoopStats()
		if ls.TID == 0 {
			continue
		}
		if ns, err := dataplane.ThreadCPUNs(ls.TID); err == nil {
			s.cpuNs += ns
		}
		s.rounds += ls.Rounds
		s.rxRounds += ls.RxRounds
		s.rxPackets += ls.RxPackets
	}
	return s
}

func (g *gen) rxEmpty() bool {
	for p := range g.rx {
		for q := range g.rx[p] {
			if g.rx[p][q].Count() != 0 {
				return false
			}
		}
	}
	return true
}

// orderItem is one collected frame's place in the delivery order.
type orderItem struct {
	idx  int32
	side int8
	ci   int32
	off  int64
}

// deliver hands every frame collected to the model and frees them: in
// stream order per connection (model.OrderKey), as a receiver's
// out-of-order queue would, since the workers poll one port after
// another and subflows on different ports are reordered against each
// other. A frame still ahead of its receiver after sorting (the segment
// before it, sent on another subflow, is still inside the dataplane: a
// worker was descheduled past the round's quiet window) is held for a
// later round, for at most stuckAfter; flush delivers everything.
func (g *gen) deliver(flush bool) {
	now := model.Nanotime()
	g.outN += uint64(g.nOut)
	g.order = g.order[:0]
	for i, mb := range g.held {
		p := g.framePacket(mb.Data(), int(g.heldPt[i]))
		ci, off := g.m.OrderKey(&p)
		g.order = append(g.order, orderItem{idx: int32(-1 - i), side: int8(p.Side), ci: int32(ci), off: off})
	}
	for i := 0; i < g.nOut; i++ {
		mb := g.out[i]
		f := mb.Data()
		port := int(g.outPt[i])
		want := macN(peerMACBase, port)
		if len(f) < 14+20 || [6]byte(f[0:6]) != want || f[12] != 0x08 || f[13] != 0 {
			if g.err == nil {
				g.err = fmt.Errorf("dataplane sent a frame the model cannot take on port %d (%d bytes, %x)", port, len(f), f[:min(len(f), 14)])
			}
			continue
		}
		p := g.framePacket(f, port)
		ci, off := g.m.OrderKey(&p)
		g.order = append(g.order, orderItem{idx: int32(i), side: int8(p.Side), ci: int32(ci), off: off})
	}
	slices.SortStableFunc(g.order, func(a, b orderItem) int {
		if a.side != b.side {
			return int(a.side) - int(b.side)
		}
		if a.ci != b.ci {
			return int(a.ci - b.ci)
		}
		return cmp.Compare(a.off, b.off)
	})
	g.heldNext, g.heldPtNext, g.heldAtNext, g.heldDone = g.heldNext[:0], g.heldPtNext[:0], g.heldAtNext[:0], g.heldDone[:0]
	for _, it := range g.order {
		var mb *dpdk.Mbuf
		var pt uint8
		var at int64
		if it.idx < 0 {
			j := -1 - it.idx
			mb, pt, at = g.held[j], g.heldPt[j], g.heldAt[j]
		} else {
			mb, pt = g.out[it.idx], g.outPt[it.idx]
		}
		p := translate.Packet{Buf: mb.Data(), Off: 14, Len: len(mb.Data()) - 14, Side: translate.Side(it.side)}
		if !flush && g.m.Ahead(&p) && (at == 0 || now-at < int64(stuckAfter)) {
			if at == 0 {
				at = now
			}
			g.heldNext = append(g.heldNext, mb)
			g.heldPtNext = append(g.heldPtNext, pt)
			g.heldAtNext = append(g.heldAtNext, at)
			if it.idx >= 0 {
				g.out[it.idx] = nil // FreeBulk skips it
			}
			continue
		}
		g.m.Receive(&p)
		if it.idx < 0 {
			g.heldDone = append(g.heldDone, mb)
		}
	}
	dpdk.FreeBulk(g.out[:g.nOut])
	clear(g.out[:g.nOut])
	g.nOut = 0
	dpdk.FreeBulk(g.heldDone)
	clear(g.held)
	g.held, g.heldNext = g.heldNext, g.held[:0]
	g.heldPt, g.heldPtNext = g.heldPtNext, g.heldPt[:0]
	g.heldAt, g.heldAtNext = g.heldAtNext, g.heldAt[:0]
}

// framePacket is a frame from port as the model takes it.
func (g *gen) framePacket(f []byte, port int) translate.Packet {
	side := translate.Access
	if port == g.nAcc {
		side = translate.Core
	}
	return translate.Packet{Buf: f, Off: 14, Len: len(f) - 14, Side: side}
}

// round runs one closed-loop round: stage, exchange, deliver; when the
// model then has nothing to send, it waits once more for stragglers and
// fires the model's timer (delayed ACKs, window refill, stall check).
func (g *gen) round() error {
	t0 := model.Nanotime()
	if err := g.stage(); err != nil {
		return err
	}
	t1 := model.Nanotime()
	ring := g.exchange(g.o.Quiet)
	t2 := model.Nanotime()
	g.deliver(false)
	// Joins of connections whose third ACK the dataplane has now
	// processed.
	g.m.SendJoins()
	if g.m.Queued() == 0 {
		g.exchange(20 * g.o.Quiet)
		g.deliver(false)
		if g.m.Queued() == 0 {
			g.m.Poll()
		}
	}
	g.ringNs += ring
	g.genNs += (t1 - t0) + (model.Nanotime() - t2)
	g.rounds++
	if g.err != nil {
		return g.err
	}
	return g.m.Err()
}

func (g *gen) resetCounters() {
	g.in, g.outN, g.frameBytes, g.ringNs, g.genNs, g.rounds, g.workerCPUNs = 0, 0, 0, 0, 0, 0, 0
	g.busy, g.phase = loopSnap{}, g.snap()
	g.m.ResetStats()
}

// RunDataplane runs the dataplane mode: it initialises the EAL, creates
// one ring-backed port per subflow (access) plus one core port with one
// RX and one TX ring per worker, starts flexcp's dataplane (its real
// workers: RX burst, L2/L3 classification, translation, routing, TX burst)
// on them, and plays the closed-loop model on the rings' far ends from one
// generator goroutine. The EAL is cleaned up at the end: one run per
// process.
func RunDataplane(o DataplaneOptions) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	mc := model.Config{Connections: o.Connections, Subflows: o.Subflows, Sizes: o.Sizes, Direction: o.Direction,
		Window: o.Window, AckRatio: o.AckRatio, Seed: 7, MTU: o.MTU}
	m, err := model.New(mc)
	if err != nil {
		return nil, err
	}
	m.External()
	r := &Report{Mode: "dataplane", Started: time.Now().UTC().Format(time.RFC3339), Machine: probeMachine()}
	r.Config = ReportConfig{Duration: o.Duration.String(), Connections: o.Connections, Subflows: o.Subflows,
		Sizes: o.Sizes, Mix: o.Mix, Direction: o.Direction.String(), Workers: o.Workers, Pin: true}
	r.Config.Window, r.Config.AckRatio = m.Config().Window, m.Config().AckRatio

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := dpdk.PinThread(o.GenCPU); err != nil {
		return nil, fmt.Errorf("pktgen: pin the generator to CPU %d: %w", o.GenCPU, err)
	}
	if _, err := dpdk.Init(append([]string{"flexcp-pktgen"}, o.EAL...)); err != nil {
		return nil, fmt.Errorf("pktgen: EAL init (%s): %w", strings.Join(o.EAL, " "), err)
	}
	eal := true
	defer func() {
		if eal {
			dpdk.Cleanup()
		}
	}()
	nPorts := o.Subflows + 1
	g := &gen{o: &o, m: m, nAcc: o.Subflows, take: make([]translate.Packet, 64)}
	if o.Affinity && o.Workers > 1 {
		// The rules the dataplane builds for its workers (dataplane
		// steer.go): the same owner for every connection.
		rs, err := steering.NewRuleset(steering.Config{Workers: o.Workers, SymmetricRSS: true})
		if err != nil {
			return nil, err
		}
		g.cls = steering.NewClassifier(rs)
		g.owner = make([]int16, o.Connections)
		for i := range g.owner {
			g.owner[i] = -1
		}
	} else if o.Workers > 1 {
		// Plain symmetric RSS with the dataplane's key and table, no
		// flow rules.
		rs, err := steering.NewRuleset(steering.Config{Workers: o.Workers, SymmetricRSS: true})
		if err != nil {
			return nil, err
		}
		if g.reta, err = steering.NewRETA(steering.DefaultRETASize, o.Workers); err != nil {
			return nil, err
		}
		g.rss = steering.NewTable(rs.RSSKey())
	}
	names := make([]string, nPorts)
	for p := 0; p < nPorts; p++ {
		var rx, tx []*dpdk.Ring
		for q := 0; q < o.Workers; q++ {
			a, err := dpdk.NewRing(fmt.Sprintf("fg_rx%d_%d", p, q), uint32(o.RingSize), dpdk.SocketAny, dpdk.RingSPEnq|dpdk.RingSCDeq)
			if err != nil {
				return nil, err
			}
			b, err := dpdk.NewRing(fmt.Sprintf("fg_tx%d_%d", p, q), uint32(o.RingSize), dpdk.SocketAny, dpdk.RingSPEnq|dpdk.RingSCDeq)
			if err != nil {
				return nil, err
			}
			rx, tx = append(rx, a), append(tx, b)
		}
		id, err := dpdk.NewRingPort(fmt.Sprintf("fg%d", p), rx, tx, dpdk.SocketAny)
		if err != nil {
			return nil, err
		}
		if names[p], err = id.Name(); err != nil {
			return nil, err
		}
		g.rx, g.tx = append(g.rx, rx), append(g.tx, tx)
		g.staged = append(g.staged, make([][]*dpdk.Mbuf, o.Workers))
		g.pos = append(g.pos, make([]int, o.Workers))
		g.portMAC = append(g.portMAC, macN(portMACBase, p))
	}
	cfg, err := dataplaneConfig(&o, names, o.RingSize)
	if err != nil {
		return nil, fmt.Errorf("pktgen: %w", err)
	}
	nbuf := min(max(4*o.Connections*(2*r.Config.Window+8)*max(o.Subflows, 2), 8191), 262143)
	g.pool, err = dpdk.NewPktmbufPool("fg_gen", uint32(nbuf), 256, 0, dpdk.DefaultDataRoom, dpdk.SocketAny)
	if err != nil {
		return nil, fmt.Errorf("pktgen: generator mempool: %w", err)
	}
	g.out = dpdk.NewMbufArray(nbuf)
	g.stash = dpdk.NewMbufArray(64)[:0]
	g.outPt = make([]uint8, nbuf)
	g.order = make([]orderItem, 0, 2*nbuf)
	g.held, g.heldNext, g.heldDone = dpdk.NewMbufArray(nbuf)[:0], dpdk.NewMbufArray(nbuf)[:0], dpdk.NewMbufArray(nbuf)[:0]
	g.heldPt, g.heldPtNext = make([]uint8, 0, nbuf), make([]uint8, 0, nbuf)
	g.heldAt, g.heldAtNext = make([]int64, 0, nbuf), make([]int64, 0, nbuf)
	for p := range g.staged {
		for q := range g.staged[p] {
			// C memory: cgo's pointer check would scan a Go array on
			// every enqueue.
			g.staged[p][q] = dpdk.NewMbufArray(nbuf)[:0]
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := dataplane.NewOnPorts(cfg, dataplane.Options{Logger: log})
	if err != nil {
		eal = false // Close cleaned up
		return nil, err
	}
	eal = false
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	g.workers = d.Workers()
	go func() { runErr <- d.Run(ctx) }()
	res, err := g.run(r)
	cancel()
	if e := <-runErr; e != nil && err == nil {
		err = fmt.Errorf("dataplane: %w", e)
	}
	// Whatever is still on the rings goes back to its pool before the
	// pools are freed.
	for _, rs := range [][][]*dpdk.Ring{g.rx, g.tx} {
		for p := range rs {
			for q := range rs[p] {
				for {
					n := rs[p][q].DequeueBurst(g.out[:64])
					if n == 0 {
						break
					}
					dpdk.FreeBulk(g.out[:n])
				}
			}
		}
	}
	if res != nil {
		res.Summary, res.Drops = d.Summary(), d.DropCounts()
	} else if err != nil {
		err = fmt.Errorf("%w; %s; drops by reason %v", err, d.Summary(), d.DropCounts())
	}
	dpdk.FreeBulk(g.stash)
	for p := range g.staged {
		for q := range g.staged[p] {
			dpdk.FreeMbufArray(g.staged[p][q][:cap(g.staged[p][q])])
		}
	}
	dpdk.FreeMbufArray(g.out)
	dpdk.FreeMbufArray(g.stash[:cap(g.stash)])
	dpdk.UnregisterThread()
	g.pool.Free()
	d.Close()
	if err != nil {
		if !o.Affinity && o.Workers > 1 {
			err = fmt.Errorf("%w (without affinity, join subflows reach workers that do not own their connection: the dataplane must hand such packets to the owner, DESIGN.md section 5)", err)
		}
		return nil, err
	}
	res.EAL = strings.Join(o.EAL, " ")
	r.Dataplane = res
	return r, nil
}

// run drives the model: handshakes, warm-up, the measured data phase with
// a progress line per second, then drain.
func (g *gen) run(r *Report) (*DataplaneResult, error) {
	o := g.o
	if _, err := dpdk.RegisterThread(); err != nil {
		return nil, fmt.Errorf("pktgen: register the generator with EAL: %w", err)
	}
	res := &DataplaneResult{Workers: o.Workers, WorkerCPUs: o.WorkerCPUs, GenCPU: o.GenCPU, Affinity: o.Affinity, MTU: o.MTU}
	// Handshakes in waves of 128: the translator refills its key pool
	// (256 keys) on its 1 ms tick.
	t0 := time.Now()
	for first := 0; first < o.Connections; first += 128 {
		n := min(128, o.Connections-first)
		g.m.Open(first, n)
		deadline := time.Now().Add(5 * time.Second)
		for g.m.Ready() < first+n {
			if err := g.round(); err != nil {
				return nil, fmt.Errorf("handshakes: %w", err)
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("handshakes: %d of %d connections established after 5 s", g.m.Ready(), first+n)
			}
		}
		time.Sleep(1100 * time.Microsecond)
	}
	res.SetupConnsPerSec = float64(o.Connections) / time.Since(t0).Seconds()
	g.m.Start()
	warm := time.Now().Add(min(o.Duration/10, 200*time.Millisecond))
	for time.Now().Before(warm) {
		if err := g.round(); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	g.resetCounters()
	start := time.Now()
	end := start.Add(o.Duration)
	next := start.Add(time.Second)
	var lastIn uint64
	var lastB uint64
	last := start
	for {
		if err := g.round(); err != nil {
			return nil, fmt.Errorf("data phase: %w", err)
		}
		now := time.Now()
		done := now.After(end)
		// A line a second, and one at the end (a short run or a long
		// round may not see a full second).
		if o.Progress != nil && (now.After(next) || done) {
			b := g.m.Stats.Bytes[0] + g.m.Stats.Bytes[1]
			s := now.Sub(last).Seconds()
			ringMpps := 0.0
			if g.ringNs > 0 {
				ringMpps = float64(g.in) / (float64(g.ringNs) / 1e9) / 1e6
			}
			fmt.Fprintf(o.Progress, "dataplane: t=%4.1fs closed loop %6.3f Mpps %6.3f Gbit/s payload; dataplane while busy %6.3f Mpps (%d workers, affinity %v, %d conns x %d subflows)\n",
				now.Sub(start).Seconds(), float64(g.in-lastIn)/s/1e6, float64(b-lastB)*8/s/1e9, ringMpps, o.Workers, o.Affinity, o.Connections, o.Subflows)
			lastIn, lastB, last = g.in, b, now
			next = now.Add(time.Second)
		}
		if done {
			break
		}
	}
	wall := time.Since(start).Seconds()
	st := g.m.Stats
	res.Rounds, res.PacketsIn, res.PacketsOut, res.FrameBytesIn = g.rounds, g.in, g.outN, g.frameBytes
	res.PayloadBytes, res.Segments = st.Bytes, st.Segments
	res.WallSeconds, res.RingSeconds = wall, float64(g.ringNs)/1e9
	if g.in == 0 || g.ringNs == 0 {
		return nil, errors.New("data phase: no packets went through the dataplane")
	}
	pay := float64(st.Bytes[0] + st.Bytes[1])
	res.ClosedLoopMpps = float64(g.in) / wall / 1e6
	res.Mpps = float64(g.in) / res.RingSeconds / 1e6
	res.MppsPerWorker = res.Mpps / float64(o.Workers)
	res.NsPerPkt = float64(g.ringNs) * float64(o.Workers) / float64(g.in)
	res.PayloadGbps = pay * 8 / res.RingSeconds / 1e9
	res.FrameGbps = float64(g.frameBytes) * 8 / res.RingSeconds / 1e9
	res.ClosedLoopPayloadGbps = pay * 8 / wall / 1e9
	res.GenNsPerPkt = float64(g.genNs) / float64(g.in)
	var phase loopSnap
	phase.add(g.snap(), g.phase)
	res.WorkerCPUSeconds = float64(g.busy.cpuNs) / 1e9
	if g.busy.cpuNs > 0 {
		res.CPUNsPerPkt = float64(g.busy.cpuNs) / float64(g.in)
		res.CPUMppsPerWorker = 1e3 / res.CPUNsPerPkt
	}
	res.ProcessCPUNsPerPkt = float64(g.workerCPUNs) / float64(g.in)
	res.BusyRounds, res.BusyRxRounds = g.busy.rounds, g.busy.rxRounds
	if g.busy.rxRounds > 0 {
		res.PktsPerRxRound = float64(g.busy.rxPackets) / float64(g.busy.rxRounds)
	}
	if idle := phase.rounds - g.busy.rounds; idle > 0 && phase.rounds > g.busy.rounds {
		res.EmptyRoundNs = float64(phase.cpuNs-g.busy.cpuNs) / float64(idle)
	}
	if phase.cpuNs > 0 {
		res.IdleCPUShare = float64(phase.cpuNs-g.busy.cpuNs) / float64(phase.cpuNs)
	}
	if g.busy.rxPackets > 0 {
		empty := float64(g.busy.rounds - g.busy.rxRounds)
		// Withheld (0) when the subtraction leaves nothing: the busy
		// part's empty rounds then cost less than those outside it, as
		// when a worker shares the generator's CPU (two workers on two
		// CPUs), and the estimate means nothing.
		if rest := float64(g.busy.cpuNs) - empty*res.EmptyRoundNs; rest > 0 {
			res.RxRoundCPUNsPerPkt = rest / float64(g.busy.rxPackets)
		}
	}
	// Drain: senders stop, everything in flight is delivered and
	// checked.
	g.m.Stop()
	for i := 0; i < 1000; i++ {
		if err := g.round(); err != nil {
			return nil, fmt.Errorf("drain: %w", err)
		}
		if g.m.Queued() == 0 && len(g.held) == 0 {
			break
		}
	}
	g.deliver(true) // what is still held goes in as it is
	return res, g.m.Err()
}
