package pktgen

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flexcp/flexcp/bench/model"
	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/dataplane/fwd"
	"github.com/flexcp/flexcp/translate"
)

// WireOptions are the wire mode's settings on top of Options (Duration,
// Connections, Subflows, Sizes, Mix, Direction, Window, AckRatio,
// Progress, MTU; the other fields of Options are unused).
type WireOptions struct {
	Options
	// ClientNS and ServerNS are the network namespaces of the standard
	// topology's client (interfaces c1, c2) and server (s1), DESIGN.md
	// section 7: PREFIX-c and PREFIX-s.
	ClientNS, ServerNS string
	// Driver is the DPDK PMD the generator opens c1, c2 and s1 with:
	// "af_xdp" (default) or "af_packet".
	Driver string
	// DevArgs are appended to each vdev's arguments (e.g.
	// "busy_budget=0" for af_xdp).
	DevArgs string
	// GenCPU is the generator's CPU (negative: 0).
	GenCPU int
	// EAL are the EAL arguments without a program name (nil: one lcore
	// on GenCPU, no PCI, --in-memory with hugepages).
	EAL []string
	// InFlight bounds the frames the generator has sent and not yet seen
	// matched by a frame out of flexcp (0: 128), half for the client's
	// (matched by frames on s1), half for the server's (matched on c1 and
	// c2). A veth end queues at most 256 frames toward an XDP program
	// until its NAPI runs (on a loaded machine that waits for ksoftirqd)
	// and drops the rest; frames flexcp generates itself (ACKs toward the
	// client) also count as matches of the server's, so the default leaves
	// room for them. The model does not retransmit what the wire drops.
	InFlight int
	// Quiet is how long no frame may arrive before a round is over (0:
	// 1 ms).
	Quiet time.Duration
	// Seed seeds the model's keys, ISNs and nonces.
	Seed uint64
	// Baseline runs the model without a translator in between (model
	// Passthrough): connections established in place (no handshake on
	// the wire), every subflow's MPTCP segments to the server and the
	// server's plain TCP back on subflow 0, through whatever forwards
	// between the namespaces (kernel forwarding, testpmd) instead of
	// flexcp. The forwarder needs the same routes (WireRoutes, plus
	// 198.19.0.0/24 via 198.18.3.2).
	Baseline bool
}

// The generator's ports, in the order it opens them.
const (
	wireC1 = iota // client namespace, access path 1 (subflows 0, 2)
	wireC2        // client namespace, access path 2 (subflows 1, 3)
	wireS1        // server namespace, the core side
	wirePorts
)

// wireIfaces are the interfaces of the standard topology the generator
// takes over; wireAddr their addresses in DESIGN.md section 7 (the
// generator answers ARP for them: flexcp routes the model's addresses
// through them) and wireGW flexcp's addresses on the other end.
var (
	wireIfaces = [wirePorts]string{"c1", "c2", "s1"}
	wireAddr   = [wirePorts][4]byte{{198, 18, 1, 2}, {198, 18, 2, 2}, {198, 18, 3, 2}}
	wireGW     = [wirePorts][4]byte{{198, 18, 1, 1}, {198, 18, 2, 1}, {198, 18, 3, 1}}
)

// MaxWireConnections bounds WireOptions.Connections: the model puts
// connection ci's subflow j at 198.18.(32j+ci/60000).2, and from 60000 on
// subflow 0 would land in the topology's own 198.18.1.0/24.
const MaxWireConnections = 60000

// wirePath returns the client port subflow j leaves by: even subflows by
// path 1, odd ones by path 2.
func wirePath(j int) int { return j % 2 }

// WireRoutes returns the flexcp configuration lines (TOML) the wire mode
// needs on top of examples/netns.toml: one route per subflow from the
// model's client address block 198.18.32j.0/24 to the generator's end of
// the path the subflow uses. The model's server, 198.19.0.1, is reached
// by the example's default route via 198.18.3.2 on p3.
func WireRoutes(subflows int) string {
	var b strings.Builder
	b.WriteString("# flexcp-pktgen wire: the model's client subflows behind c1 and c2.\n")
	for j := 0; j < max(subflows, 1) && j < model.MaxSubflows; j++ {
		a := model.ClientAddr(0, j)
		via := wireAddr[wirePath(j)]
		fmt.Fprintf(&b, "[[route]]\nprefix = \"%d.%d.%d.0/24\"\nvia = \"%d.%d.%d.%d\"\nport = \"p%d\"\n\n",
			a[0], a[1], a[2], via[0], via[1], via[2], via[3], wirePath(j)+1)
	}
	return b.String()
}

// WireResult is the wire mode's measurement. Index 0 of a pair is client
// to server, 1 server to client; port arrays are c1, c2, s1.
type WireResult struct {
	// Baseline: the model ran untranslated through another forwarder
	// (WireOptions.Baseline), not through flexcp.
	Baseline   bool      `json:"baseline,omitempty"`
	Driver     string    `json:"driver"`
	Namespaces [2]string `json:"namespaces"`
	Interfaces []string  `json:"interfaces"`
	GenCPU     int       `json:"generator_cpu"`
	MTU        int       `json:"mtu"`
	EAL        string    `json:"eal"`
	InFlight   int       `json:"in_flight"`
	// SetupConnsPerSec: handshakes plus joins through flexcp, in waves of
	// 128 (1.1 ms apart so the translator's key pool refills): closed
	// loop, generator included.
	SetupConnsPerSec float64 `json:"setup_conns_per_sec"`
	// Rounds: batches of received frames handed to the model in the data
	// phase.
	Rounds uint64 `json:"rounds"`
	// FramesSent: frames the generator sent into flexcp, by port;
	// FramesReceived: frames it received from flexcp for the model, by
	// port (ARP and frames for no model connection not counted).
	FramesSent     [wirePorts]uint64 `json:"frames_sent"`
	FramesReceived [wirePorts]uint64 `json:"frames_received"`
	// FrameBytesSent: Ethernet frame bytes into flexcp.
	FrameBytesSent uint64 `json:"frame_bytes_sent"`
	// PayloadBytes and Segments delivered to the model's ends and verified
	// byte-exact.
	PayloadBytes [2]uint64 `json:"payload_bytes"`
	Segments     [2]uint64 `json:"data_segments"`
	WallSeconds  float64   `json:"wall_seconds"`
	// Mpps: frames into flexcp per second of the data phase (closed loop:
	// the generator's own work and the rounds' quiet waits included);
	// MppsOut: frames out of flexcp.
	Mpps    float64 `json:"mpps"`
	MppsOut float64 `json:"mpps_out"`
	// PayloadGbps: verified payload, both directions, per second;
	// PayloadGbpsDir by direction; FrameGbps: Ethernet bytes into flexcp.
	PayloadGbps    float64    `json:"payload_gbps"`
	PayloadGbpsDir [2]float64 `json:"payload_gbps_by_direction"`
	FrameGbps      float64    `json:"frame_gbps"`
	// GenCPUNsPerPkt: the generator thread's CPU time (model, copies, the
	// PMD's system calls) per frame sent; near 1e9/Mpps means the
	// generator, not flexcp, was the limit.
	GenCPUNsPerPkt float64 `json:"generator_cpu_ns_per_pkt"`
	// IdleSeconds: the time the generator had nothing to send and
	// received nothing (waiting for flexcp or for the wire), part of
	// WallSeconds.
	IdleSeconds float64 `json:"idle_seconds"`
	// ARPAnswered: ARP requests for c1/c2/s1's addresses the generator
	// answered; Ignored: frames that were neither ARP nor IPv4 TCP of a
	// model connection (the kernel's or flexcp's own traffic).
	ARPAnswered uint64 `json:"arp_answered"`
	Ignored     uint64 `json:"ignored"`
	// HeldBack: frames held for a later round because a segment sent
	// earlier on the other path had not arrived yet (model.Ahead).
	HeldBack uint64 `json:"held_back"`
	// Ports are the generator's DPDK port counters at the end.
	Ports [wirePorts]WirePortStats `json:"ports"`
}

// WirePortStats are one generator port's counters (rte_eth_stats).
type WirePortStats struct {
	Iface    string `json:"iface"`
	IPackets uint64 `json:"ipackets"`
	OPackets uint64 `json:"opackets"`
	IMissed  uint64 `json:"imissed"`
	IErrors  uint64 `json:"ierrors"`
	OErrors  uint64 `json:"oerrors"`
}

func (o *WireOptions) fill() error {
	if o.Duration <= 0 {
		return errors.New("pktgen: duration must be positive")
	}
	if o.ClientNS == "" || o.ServerNS == "" {
		return errors.New("pktgen: wire: need the client and server namespaces (e.g. fcp-c, fcp-s)")
	}
	if o.Connections < 1 || o.Connections > MaxWireConnections {
		return fmt.Errorf("pktgen: wire: %d connections: want 1 to %d (the model's address plan on the standard topology)", o.Connections, MaxWireConnections)
	}
	if o.Subflows < 1 || o.Subflows > model.MaxSubflows {
		return fmt.Errorf("pktgen: wire: %d subflows: want 1 to %d", o.Subflows, model.MaxSubflows)
	}
	if o.Direction == 0 {
		o.Direction = model.Both
	}
	if o.MTU == 0 {
		o.MTU = model.DefaultMTU
	}
	switch o.Driver {
	case "":
		o.Driver = "af_xdp"
	case "af_xdp", "af_packet":
	default:
		return fmt.Errorf("pktgen: wire: driver %q: want af_xdp or af_packet", o.Driver)
	}
	if o.GenCPU < 0 {
		o.GenCPU = 0
	}
	if o.GenCPU >= runtime.NumCPU() {
		return fmt.Errorf("pktgen: wire: generator CPU %d: this machine has %d", o.GenCPU, runtime.NumCPU())
	}
	if o.EAL == nil {
		if err := config.CheckHugepages(256 << 20); err != nil {
			return fmt.Errorf("pktgen: wire: AF_XDP needs hugepage memory for its UMEM: %w", err)
		}
		o.EAL = []string{"-l", strconv.Itoa(o.GenCPU), "--no-pci", "--no-telemetry", "--log-level=*:error",
			"--in-memory", "--file-prefix=flexcp-pktgen-wire-" + strconv.Itoa(os.Getpid())}
	}
	if o.InFlight <= 0 {
		o.InFlight = 128
	}
	if o.Quiet <= 0 {
		o.Quiet = time.Millisecond
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	return nil
}

// wireGen is the wire mode's generator: the model's client on c1 and c2,
// its server on s1. Owned by one goroutine.
type wireGen struct {
	o      *WireOptions
	m      *model.Model
	pool   *dpdk.Mempool
	ports  [wirePorts]dpdk.Port
	opened [wirePorts]bool
	ns     [wirePorts]string
	mac    [wirePorts][6]byte
	gwMAC  [wirePorts][6]byte
	gwOK   [wirePorts]bool

	staged [wirePorts][]*dpdk.Mbuf // C memory
	pos    [wirePorts]int
	out    []*dpdk.Mbuf // received frames of a round (C memory)
	outPt  []uint8
	outAt  []int64 // when a frame was first held back (0: new)
	nOut   int
	// held: frames Ahead of their receiver, kept for the next round
	// (C memory), with their port and hold time.
	held   []*dpdk.Mbuf
	heldPt []uint8
	heldAt []int64
	rxb    []*dpdk.Mbuf // one RX burst (C memory)
	arpb   []*dpdk.Mbuf // one ARP reply (C memory)
	order  []orderItem
	take   []translate.Packet
	stash  []*dpdk.Mbuf

	// Counters of the current phase.
	sent, recv [wirePorts]uint64
	frameBytes uint64
	rounds     uint64
	// inFlight: frames sent and not yet matched by one received, by the
	// end that sent them (0 the client, c1 and c2; 1 the server, s1): a
	// client frame comes out on s1, a server frame on c1 or c2. Each end
	// may have half of InFlight.
	inFlight            [2]int
	idleSince, idleNs   int64  // when the loop last stopped moving; idle time
	polled              [2]int // frames the last poll kept, on s1 (0) and on c1/c2 (1)
	arpAnswered, ignore uint64
	heldN               uint64 // frames held back for order
	err                 error
}

// inNetns runs f on a locked OS thread moved into network namespace ns:
// sockets and XDP programs f creates belong to ns. The thread is discarded
// afterwards (the goroutine exits locked).
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("namespace %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// open probes port i's vdev on its interface from a thread inside the
// interface's namespace (the PMD resolves the interface name, creates its
// sockets and loads its XDP program there), and configures and starts it.
func (g *wireGen) open(i int) error {
	name := fmt.Sprintf("net_%s%d", g.o.Driver, 10+i)
	dev := name + ",iface=" + wireIfaces[i]
	if g.o.Driver == "af_xdp" {
		dev += ",start_queue=0,queue_count=1"
	} else {
		dev += ",qpairs=1"
	}
	if g.o.DevArgs != "" {
		dev += "," + g.o.DevArgs
	}
	return inNetns(g.ns[i], func() error {
		if err := dpdk.DevProbe(dev); err != nil {
			return fmt.Errorf("%s in %s: %w (is the topology up? scripts/netns.sh up)", dev, g.ns[i], err)
		}
		p, err := dpdk.PortByName(name)
		if err != nil {
			return err
		}
		g.ports[i], g.opened[i] = p, true
		if err := p.Configure(dpdk.PortConf{RxQueues: 1, TxQueues: 1}); err != nil {
			return err
		}
		if err := p.RxQueueSetup(0, 1024, p.SocketID(), g.pool); err != nil {
			return err
		}
		if err := p.TxQueueSetup(0, 1024, p.SocketID()); err != nil {
			return err
		}
		if err := p.Start(); err != nil {
			return err
		}
		if g.mac[i], err = p.MACAddr(); err != nil {
			return err
		}
		return nil
	})
}

// close stops and closes the opened ports, each from its namespace: the
// PMD detaches its XDP program by interface index, which means another
// interface in any other namespace.
func (g *wireGen) close() {
	for i := range g.ports {
		if !g.opened[i] {
			continue
		}
		p := g.ports[i]
		inNetns(g.ns[i], func() error {
			p.Stop()
			return p.Close()
		})
		g.opened[i] = false
	}
}

// alloc returns a fresh mbuf, or nil when the pool is empty.
func (g *wireGen) alloc() *dpdk.Mbuf {
	if len(g.stash) == 0 {
		g.stash = g.stash[:cap(g.stash)]
		if !g.pool.AllocBulk(g.stash) {
			g.stash = g.stash[:0]
			return nil
		}
	}
	mb := g.stash[len(g.stash)-1]
	g.stash = g.stash[:len(g.stash)-1]
	return mb
}

// sendARP sends one ARP packet out of port i (best effort: a refused
// frame is freed).
func (g *wireGen) sendARP(i int, op uint16, tha [6]byte, tpa [4]byte, dst [6]byte) {
	mb := g.alloc()
	if mb == nil {
		return
	}
	f := mb.Append(14 + fwd.ARPLen)
	copy(f[0:6], dst[:])
	copy(f[6:12], g.mac[i][:])
	binary.BigEndian.PutUint16(f[12:], fwd.EtherTypeARP)
	fwd.ARP(f[14:]).Encode(op, fwd.MAC(g.mac[i]), wireAddr[i], fwd.MAC(tha), tpa)
	g.arpb[0] = mb
	if g.ports[i].TxBurst(0, g.arpb[:1]) == 0 {
		dpdk.FreeBulk(g.arpb[:1])
	}
	g.arpb[0] = nil
}

// handleARP answers a request for port i's address and learns flexcp's
// MAC from a reply from its address on that path.
func (g *wireGen) handleARP(i int, f []byte) {
	a := fwd.ARP(f[14:])
	if !a.IsValid() {
		return
	}
	switch a.Op() {
	case fwd.ARPRequest:
		if a.TargetIP() == wireAddr[i] {
			g.sendARP(i, fwd.ARPReply, [6]byte(a.SenderMAC()), a.SenderIP(), [6]byte(a.SenderMAC()))
			g.arpAnswered++
		}
	case fwd.ARPReply:
		if a.SenderIP() == wireGW[i] {
			g.gwMAC[i], g.gwOK[i] = [6]byte(a.SenderMAC()), true
		}
	}
}

// resolve finds flexcp's MAC on each path by ARP (flexcp answers for its
// port addresses), retrying every 100 ms for up to 10 s.
func (g *wireGen) resolve() error {
	deadline := time.Now().Add(10 * time.Second)
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for next := time.Now(); ; {
		done := true
		for i := range g.ports {
			done = done && g.gwOK[i]
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			var miss []string
			for i := range g.ports {
				if !g.gwOK[i] {
					miss = append(miss, fmt.Sprintf("%s (%d.%d.%d.%d)", wireIfaces[i], wireGW[i][0], wireGW[i][1], wireGW[i][2], wireGW[i][3]))
				}
			}
			return fmt.Errorf("no ARP answer from flexcp on %s within 10 s: is flexcp running in the proxy namespace with the standard addresses?", strings.Join(miss, ", "))
		}
		if time.Now().After(next) {
			for i := range g.ports {
				if !g.gwOK[i] {
					g.sendARP(i, fwd.ARPRequest, [6]byte{}, wireGW[i], bcast)
				}
			}
			next = time.Now().Add(100 * time.Millisecond)
		}
		g.poll()
		if g.nOut > 0 {
			dpdk.FreeBulk(g.out[:g.nOut])
			clear(g.out[:g.nOut])
			g.nOut = 0
		}
		time.Sleep(time.Millisecond)
	}
}

// stage copies what the model wants to send into Ethernet frames on the
// staging list of their port: the client's subflow j by path j%2, the
// server's by s1.
func (g *wireGen) stage() error {
	for _, side := range []translate.Side{translate.Access, translate.Core} {
		for {
			k := g.m.TakeOut(side, g.take)
			if k == 0 {
				break
			}
			for i := 0; i < k; i++ {
				p := &g.take[i]
				ip := p.Buf[p.Off : p.Off+p.Len]
				port := wireS1
				if side == translate.Access {
					port = wirePath(int(ip[14]) / 32)
				}
				mb := g.alloc()
				if mb == nil {
					g.m.Free(p)
					return fmt.Errorf("generator mempool empty (%d mbufs): fewer connections or a smaller window", g.pool.Size())
				}
				f := mb.Append(uint16(14 + len(ip)))
				if f == nil {
					dpdk.FreeBulk([]*dpdk.Mbuf{mb})
					g.m.Free(p)
					return fmt.Errorf("a %d-byte packet does not fit an mbuf", len(ip))
				}
				copy(f[0:6], g.gwMAC[port][:])
				copy(f[6:12], g.mac[port][:])
				f[12], f[13] = 0x08, 0x00
				copy(f[14:], ip)
				g.frameBytes += uint64(len(f))
				g.m.Free(p)
				g.staged[port] = append(g.staged[port], mb)
			}
		}
	}
	return nil
}

// poll takes what every port received: ARP is handled at once, IPv4 to
// the port's MAC is kept in out for the model, the rest is freed and
// counted as ignored. It returns how many frames it kept.
func (g *wireGen) poll() int {
	kept := 0
	g.polled = [2]int{}
	for i := range g.ports {
		for {
			n := g.ports[i].RxBurst(0, g.rxb)
			for _, mb := range g.rxb[:n] {
				f := mb.Data()
				if len(f) >= 14+fwd.ARPLen && binary.BigEndian.Uint16(f[12:]) == fwd.EtherTypeARP {
					g.handleARP(i, f)
				} else if len(f) >= 14+20 && [6]byte(f[0:6]) == g.mac[i] && f[12] == 0x08 && f[13] == 0 &&
					f[14]>>4 == 4 && f[14+9] == 6 && g.nOut < len(g.out) {
					g.out[g.nOut] = mb
					g.outPt[g.nOut] = uint8(i)
					g.outAt[g.nOut] = 0
					g.nOut++
					kept++
					if i == wireS1 {
						g.polled[0]++ // a client frame came through
					} else {
						g.polled[1]++
					}
					continue
				} else {
					g.ignore++
				}
				g.arpb[0] = mb
				dpdk.FreeBulk(g.arpb[:1])
				g.arpb[0] = nil
			}
			if n < len(g.rxb) || g.nOut == len(g.out) {
				break
			}
		}
	}
	return kept
}

// send transmits staged frames, never more than InFlight beyond what has
// come back out of flexcp since, and returns how many it sent.
func (g *wireGen) send() int {
	total := 0
	for i := range g.staged {
		e, lim := 0, g.o.InFlight/2
		if i == wireS1 {
			e = 1
		}
		for g.pos[i] < len(g.staged[i]) && g.inFlight[e] < lim {
			n := min(32, len(g.staged[i])-g.pos[i], lim-g.inFlight[e])
			k := g.ports[i].TxBurst(0, g.staged[i][g.pos[i]:g.pos[i]+n])
			g.pos[i] += k
			g.sent[i] += uint64(k)
			g.inFlight[e] += k
			total += k
			if k < n {
				break
			}
		}
		if g.pos[i] == len(g.staged[i]) {
			clear(g.staged[i])
			g.staged[i], g.pos[i] = g.staged[i][:0], 0
		}
	}
	return total
}

// unsent returns how many staged frames wait for send.
func (g *wireGen) unsent() int {
	n := 0
	for i := range g.staged {
		n += len(g.staged[i]) - g.pos[i]
	}
	return n
}

// compact moves each port's unsent frames to the front of its staging
// array, so that stage can append up to its capacity.
func (g *wireGen) compact() {
	for i := range g.staged {
		if k := g.pos[i]; k > 0 {
			n := copy(g.staged[i], g.staged[i][k:])
			clear(g.staged[i][n:])
			g.staged[i], g.pos[i] = g.staged[i][:n], 0
		}
	}
}

// deliver hands the frames of a round to the model in stream order per
// connection (model.OrderKey: subflows on c1 and c2 arrive interleaved by
// port, not in stream order) and frees them.
func (g *wireGen) deliver(now int64, flush bool) {
	// What an earlier round held back goes first in line again.
	for i := range g.held {
		if g.nOut == len(g.out) {
			dpdk.FreeBulk(g.held[i:])
			break
		}
		g.out[g.nOut], g.outPt[g.nOut], g.outAt[g.nOut] = g.held[i], g.heldPt[i], g.heldAt[i]
		g.nOut++
	}
	clear(g.held)
	g.held, g.heldPt, g.heldAt = g.held[:0], g.heldPt[:0], g.heldAt[:0]
	g.order = g.order[:0]
	for i := 0; i < g.nOut; i++ {
		f := g.out[i].Data()
		side := translate.Access
		if g.outPt[i] == wireS1 {
			side = translate.Core
		}
		p := translate.Packet{Buf: f, Off: 14, Len: len(f) - 14, Side: side}
		ci, off := g.m.StreamKey(&p)
		if ci < 0 {
			g.ignore++
			continue
		}
		if g.outAt[i] == 0 {
			g.recv[g.outPt[i]]++
		}
		g.order = append(g.order, orderItem{idx: int32(i), side: int8(side), ci: int32(ci), off: off})
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
	for _, it := range g.order {
		f := g.out[it.idx].Data()
		p := translate.Packet{Buf: f, Off: 14, Len: len(f) - 14, Side: translate.Side(it.side)}
		if at := g.outAt[it.idx]; !flush && g.m.Ahead(&p) && (at == 0 || now-at < int64(stuckAfter)) {
			// A segment from the other path is still on its way:
			// hold this one (the receiver's out-of-order queue).
			if at == 0 {
				at = now
			}
			g.held = append(g.held, g.out[it.idx])
			g.heldPt = append(g.heldPt, g.outPt[it.idx])
			g.heldAt = append(g.heldAt, at)
			g.out[it.idx] = nil
			g.heldN++
			continue
		}
		g.m.Receive(&p)
	}
	for i := 0; i < g.nOut; i++ {
		if g.out[i] == nil {
			// Held: move the survivors down so FreeBulk sees no holes.
			j := 0
			for k := 0; k < g.nOut; k++ {
				if g.out[k] != nil {
					g.out[j] = g.out[k]
					j++
				}
			}
			g.nOut = j
			break
		}
	}
	dpdk.FreeBulk(g.out[:g.nOut])
	clear(g.out[:g.nOut])
	g.nOut = 0
}

// round is one turn of the generator's loop, which never waits for a
// round trip: it stages what the model wants to send, sends what the
// in-flight bound allows, takes what arrived and hands it to the model
// (holding back what is ahead of its receiver). When nothing moved for
// Quiet it acts as the ends' timers: frames sent that did not come back
// for resetInFlight (flexcp consumed them) no longer count as in flight, receivers send the
// ACKs they owe, and when the model expects nothing more, or nothing has
// come for stuckAfter, Poll refills the windows (and, with data running,
// counts a stall: a loss).
func (g *wireGen) round() error {
	g.compact()
	if err := g.stage(); err != nil {
		return err
	}
	moved := g.send() > 0
	if k := g.poll(); k > 0 {
		for e, got := range g.polled {
			g.inFlight[e] = max(g.inFlight[e]-got, 0)
		}
		moved = true
	}
	now := model.Nanotime()
	if g.nOut > 0 {
		g.deliver(now, false)
		g.m.SendReadyJoins()
		g.rounds++
	}
	if moved {
		if g.idleSince != 0 {
			g.idleNs += now - g.idleSince
			g.idleSince = 0
		}
		return g.check()
	}
	if g.idleSince == 0 {
		g.idleSince = now
		return nil
	}
	idle := now - g.idleSince
	if idle < int64(g.o.Quiet) {
		return nil
	}
	if idle >= int64(resetInFlight) {
		// Frames flexcp consumed will not come back. Not sooner: a
		// descheduled flexcp (a loaded machine) answers tens of
		// milliseconds late, and frames sent beyond its rings are lost.
		g.inFlight = [2]int{}
	}
	if g.unsent() > 0 {
		if idle > int64(stuckAfter) {
			return fmt.Errorf("flexcp took no frame for %v (%d frames not sent)", stuckAfter, g.unsent())
		}
		return nil
	}
	if g.m.Queued() == 0 {
		switch {
		case idle >= int64(stuckAfter):
			g.deliver(now, true) // what is still held goes in as it is
			g.m.Poll()
		case !g.m.Waiting():
			g.m.Poll()
		case g.m.OwesAcks() && len(g.held) == 0:
			g.m.Poll()
		default:
			return nil // frames are still on their way
		}
		g.idleNs += now - g.idleSince
		g.idleSince = 0
	}
	return g.check()
}

// resetInFlight is how long nothing must move before the frames counted
// in flight are taken as consumed by flexcp.
const resetInFlight = 500 * time.Millisecond

func (g *wireGen) check() error {
	if g.err != nil {
		return g.err
	}
	return g.m.Err()
}

func (g *wireGen) resetCounters() {
	g.sent, g.recv = [wirePorts]uint64{}, [wirePorts]uint64{}
	g.frameBytes, g.rounds, g.idleNs = 0, 0, 0
	g.m.ResetStats()
}

// RunWire runs the wire mode: it initialises the EAL, opens c1 and c2 in
// the client namespace and s1 in the server namespace with DPDK's af_xdp
// (or af_packet) PMD, each probed from a thread inside the interface's
// namespace, and plays the closed-loop model across a flexcp that runs in
// the proxy namespace: the model's client sends its subflows out of c1
// and c2, its server out of s1, each end checks what flexcp delivers. The
// kernels of the client and server namespaces never answer the model: the
// af_xdp PMD's XDP program redirects every frame of the interface's queue
// to the generator, and the model's addresses (198.18.32j.2, 198.19.0.1)
// are not the kernel's anyway. flexcp needs WireRoutes in its
// configuration. One run per process (EAL).
func RunWire(o WireOptions) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	mc := model.Config{Connections: o.Connections, Subflows: o.Subflows, Sizes: o.Sizes, Direction: o.Direction,
		Window: o.Window, AckRatio: o.AckRatio, Seed: o.Seed, MTU: o.MTU}
	m, err := model.New(mc)
	if err != nil {
		return nil, err
	}
	if !o.Baseline {
		m.External()
	}
	r := &Report{Mode: "wire", Started: time.Now().UTC().Format(time.RFC3339), Machine: probeMachine()}
	r.Config = ReportConfig{Duration: o.Duration.String(), Connections: o.Connections, Subflows: o.Subflows,
		Sizes: o.Sizes, Mix: o.Mix, Direction: o.Direction.String(), Workers: 1, Pin: true}
	r.Config.Window, r.Config.AckRatio = m.Config().Window, m.Config().AckRatio

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := dpdk.PinThread(o.GenCPU); err != nil {
		return nil, fmt.Errorf("pktgen: pin the generator to CPU %d: %w", o.GenCPU, err)
	}
	if _, err := dpdk.Init(append([]string{"flexcp-pktgen"}, o.EAL...)); err != nil {
		return nil, fmt.Errorf("pktgen: EAL init (%s): %w", strings.Join(o.EAL, " "), err)
	}
	defer dpdk.Cleanup()
	if _, err := dpdk.RegisterThread(); err != nil {
		return nil, fmt.Errorf("pktgen: register the generator with EAL: %w", err)
	}
	defer dpdk.UnregisterThread()

	w := r.Config.Window
	nbuf := min(max(o.Connections*(4*w+16)*max(o.Subflows, 2)/2+8191, 16383), 262143)
	g := &wireGen{o: &o, m: m, take: make([]translate.Packet, 64)}
	g.ns = [wirePorts]string{o.ClientNS, o.ClientNS, o.ServerNS}
	g.pool, err = dpdk.NewPktmbufPool("fw_gen", uint32(nbuf), 256, 0, dpdk.DefaultDataRoom, dpdk.SocketAny)
	if err != nil {
		return nil, fmt.Errorf("pktgen: generator mempool (%d mbufs): %w", nbuf, err)
	}
	defer g.pool.Free()
	g.out = dpdk.NewMbufArray(nbuf)
	defer dpdk.FreeMbufArray(g.out)
	g.outPt = make([]uint8, nbuf)
	g.outAt = make([]int64, nbuf)
	g.held = dpdk.NewMbufArray(nbuf)[:0]
	defer func() {
		dpdk.FreeBulk(g.held)
		dpdk.FreeMbufArray(g.held[:cap(g.held)])
	}()
	g.heldPt = make([]uint8, 0, nbuf)
	g.heldAt = make([]int64, 0, nbuf)
	g.order = make([]orderItem, 0, nbuf)
	g.rxb = dpdk.NewMbufArray(32)
	defer dpdk.FreeMbufArray(g.rxb)
	g.arpb = dpdk.NewMbufArray(1)
	defer dpdk.FreeMbufArray(g.arpb)
	g.stash = dpdk.NewMbufArray(64)[:0]
	defer func() {
		dpdk.FreeBulk(g.stash)
		dpdk.FreeMbufArray(g.stash[:cap(g.stash)])
	}()
	for i := range g.staged {
		g.staged[i] = dpdk.NewMbufArray(nbuf)[:0]
	}
	defer func() {
		for i := range g.staged {
			dpdk.FreeMbufArray(g.staged[i][:cap(g.staged[i])])
		}
	}()
	defer g.close()
	for i := range g.ports {
		if err := g.open(i); err != nil {
			return nil, fmt.Errorf("pktgen: wire: open %s: %w", wireIfaces[i], err)
		}
	}
	res, err := g.run()
	if g.nOut > 0 {
		dpdk.FreeBulk(g.out[:g.nOut])
		g.nOut = 0
	}
	var ps [wirePorts]WirePortStats
	for i := range g.ports {
		st, _ := g.ports[i].Stats()
		ps[i] = WirePortStats{Iface: wireIfaces[i], IPackets: st.IPackets, OPackets: st.OPackets,
			IMissed: st.IMissed, IErrors: st.IErrors, OErrors: st.OErrors}
	}
	if err != nil {
		return nil, fmt.Errorf("pktgen: wire: %w (phase counters: frames sent c1/c2/s1 %v, received for the model %v, ignored %d, ARP answered %d; connections ready %d of %d; ports %+v)",
			err, g.sent, g.recv, g.ignore, g.arpAnswered, g.m.Ready(), o.Connections, ps)
	}
	res.Ports = ps
	res.Driver, res.Namespaces, res.Interfaces = o.Driver, [2]string{o.ClientNS, o.ServerNS}, wireIfaces[:]
	res.GenCPU, res.MTU, res.EAL, res.InFlight = o.GenCPU, o.MTU, strings.Join(o.EAL, " "), o.InFlight
	r.Wire = res
	return r, nil
}

// run resolves flexcp's MACs, then drives the model: handshakes, warm-up,
// the measured data phase with a progress line per second, then drain.
func (g *wireGen) run() (*WireResult, error) {
	o := g.o
	if err := g.resolve(); err != nil {
		return nil, err
	}
	res := &WireResult{Baseline: o.Baseline}
	t0 := time.Now()
	if o.Baseline {
		g.m.EstablishRaw()
	}
	for first := 0; first < o.Connections && !o.Baseline; first += 128 {
		n := min(128, o.Connections-first)
		g.m.Open(first, n)
		deadline := time.Now().Add(10 * time.Second)
		for g.m.Ready() < first+n {
			if err := g.round(); err != nil {
				return nil, fmt.Errorf("handshakes: %w", err)
			}
			if g.m.Ready() < first+n && time.Now().After(deadline) {
				return nil, fmt.Errorf("handshakes: %d of %d connections established after 10 s", g.m.Ready(), first+n)
			}
		}
		time.Sleep(1100 * time.Microsecond)
	}
	if !o.Baseline {
		res.SetupConnsPerSec = float64(o.Connections) / time.Since(t0).Seconds()
	}
	g.m.Start()
	warm := time.Now().Add(min(o.Duration/10, 200*time.Millisecond))
	for time.Now().Before(warm) {
		if err := g.round(); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	g.resetCounters()
	cpu0 := threadCPU()
	start := time.Now()
	end := start.Add(o.Duration)
	next := start.Add(time.Second)
	var lastIn, lastB uint64
	last := start
	for {
		if err := g.round(); err != nil {
			return nil, fmt.Errorf("data phase: %w", err)
		}
		now := time.Now()
		done := now.After(end)
		if o.Progress != nil && (now.After(next) || done) {
			in := g.sent[0] + g.sent[1] + g.sent[2]
			b := g.m.Stats.Bytes[0] + g.m.Stats.Bytes[1]
			s := now.Sub(last).Seconds()
			via := "flexcp"
			if o.Baseline {
				via = "the baseline forwarder"
			}
			fmt.Fprintf(o.Progress, "wire: t=%4.1fs %6.3f Mpps into %s, %6.3f Gbit/s payload verified (%s, %d conns x %d subflows, %s)\n",
				now.Sub(start).Seconds(), float64(in-lastIn)/s/1e6, via, float64(b-lastB)*8/s/1e9, o.Driver, o.Connections, o.Subflows, sizesText(ReportConfig{Sizes: o.Sizes, Mix: o.Mix}))
			lastIn, lastB, last = in, b, now
			next = now.Add(time.Second)
		}
		if done {
			break
		}
	}
	wall := time.Since(start).Seconds()
	cpu := threadCPU() - cpu0
	st := g.m.Stats
	var in, out uint64
	for i := range g.sent {
		in += g.sent[i]
		out += g.recv[i]
	}
	if in == 0 || st.Bytes[0]+st.Bytes[1] == 0 {
		return nil, errors.New("data phase: no data went through flexcp")
	}
	res.Rounds, res.FramesSent, res.FramesReceived, res.FrameBytesSent = g.rounds, g.sent, g.recv, g.frameBytes
	res.PayloadBytes, res.Segments, res.WallSeconds = st.Bytes, st.Segments, wall
	res.Mpps, res.MppsOut = float64(in)/wall/1e6, float64(out)/wall/1e6
	res.PayloadGbps = float64(st.Bytes[0]+st.Bytes[1]) * 8 / wall / 1e9
	res.PayloadGbpsDir = [2]float64{float64(st.Bytes[0]) * 8 / wall / 1e9, float64(st.Bytes[1]) * 8 / wall / 1e9}
	res.FrameGbps = float64(g.frameBytes) * 8 / wall / 1e9
	res.GenCPUNsPerPkt = float64(cpu) / float64(in)
	res.IdleSeconds = float64(g.idleNs) / 1e9
	// Drain: senders stop, everything in flight is delivered and checked.
	g.m.Stop()
	deadline := time.Now().Add(2 * stuckAfter)
	for g.unsent() > 0 || g.m.Queued() > 0 || g.m.Waiting() || g.m.OwesAcks() || len(g.held) > 0 {
		if err := g.round(); err != nil {
			return nil, fmt.Errorf("drain: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("drain: data still unacknowledged after %v", 2*stuckAfter)
		}
	}
	res.ARPAnswered, res.Ignored, res.HeldBack = g.arpAnswered, g.ignore, g.heldN
	return res, g.m.Err()
}

// writeWireRows adds the wire mode's rows to a Markdown report.
func writeWireRows(wr *WireResult, row func(k, f string, a ...any)) {
	sum := func(a [wirePorts]uint64) uint64 { return a[0] + a[1] + a[2] }
	row("generator", "%s PMD on %s (%s) and %s (%s), CPU %d, EAL `%s`", wr.Driver, "c1, c2", wr.Namespaces[0], "s1", wr.Namespaces[1], wr.GenCPU, wr.EAL)
	if wr.Baseline {
		row("baseline", "%s", "model untranslated (pass-through), connections established in place, through the proxy namespace's forwarder instead of flexcp: read flexcp below as that forwarder")
	}
	row("MTU / frames in flight", "%d / %d", wr.MTU, wr.InFlight)
	row("frames into flexcp (c1 / c2 / s1)", "%d (%d / %d / %d)", sum(wr.FramesSent), wr.FramesSent[0], wr.FramesSent[1], wr.FramesSent[2])
	row("frames out of flexcp to the model (c1 / c2 / s1)", "%d (%d / %d / %d)", sum(wr.FramesReceived), wr.FramesReceived[0], wr.FramesReceived[1], wr.FramesReceived[2])
	row("Mpps into flexcp / out of it (closed loop, wall time)", "%.3f / %.3f", wr.Mpps, wr.MppsOut)
	row("payload Gbit/s verified (c2s / s2c / total)", "%.3f / %.3f / %.3f", wr.PayloadGbpsDir[0], wr.PayloadGbpsDir[1], wr.PayloadGbps)
	row("frame Gbit/s into flexcp", "%.3f", wr.FrameGbps)
	row("generator CPU ns per frame sent", "%.0f", wr.GenCPUNsPerPkt)
	row("wall time / batches delivered / generator idle (waiting for frames)", "%.3f s / %d / %.3f s", wr.WallSeconds, wr.Rounds, wr.IdleSeconds)
	row("payload bytes verified byte-exact (c2s / s2c)", "%d / %d", wr.PayloadBytes[0], wr.PayloadBytes[1])
	row("setup through flexcp (closed loop, waves of 128)", "%.0f connections/s", wr.SetupConnsPerSec)
	row("ARP requests answered / frames ignored / held back for order", "%d / %d / %d", wr.ARPAnswered, wr.Ignored, wr.HeldBack)
	for _, p := range wr.Ports {
		row("port "+p.Iface+": in / out / missed / errors in, out", "%d / %d / %d / %d, %d", p.IPackets, p.OPackets, p.IMissed, p.IErrors, p.OErrors)
	}
}
