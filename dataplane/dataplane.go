package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/dataplane/fwd"
	"github.com/flexcp/flexcp/metrics"
)

// Defaults of Options.
const (
	// DefaultDrainInterval bounds how long a frame waits on a TX list.
	DefaultDrainInterval = 20 * time.Microsecond
	// DefaultMaxIdleSleep is the longest nap of the adaptive idle policy.
	DefaultMaxIdleSleep = 200 * time.Microsecond
	// DefaultPublishInterval is how often workers copy their counters to
	// the block the metrics collector reads.
	DefaultPublishInterval = 100 * time.Millisecond
)

// Options are settings that do not come from the config file.
type Options struct {
	// Logger receives start-up and shutdown messages; nil means
	// slog.Default().
	Logger *slog.Logger
	// DrainInterval, MaxIdleSleep, PublishInterval: zero means the default.
	DrainInterval, MaxIdleSleep, PublishInterval time.Duration
}

// Port is one configured DPDK port.
type Port struct {
	// Index is the port's index in the config and in fwd.
	Index int
	// Conf is the port's configuration.
	Conf *config.Port
	// ID is the DPDK port id.
	ID dpdk.Port
	// MAC is the port's Ethernet address.
	MAC [6]byte
	// Driver is the PMD's name.
	Driver string
	// Devs are the DPDK ports behind the port: ID alone, or one
	// single-queue device per queue (config devices list), queue q being
	// queue 0 of Devs[q].
	Devs []dpdk.Port
	// SoftwareSteering: with several workers, the port does not deliver
	// every packet to its owner's queue (nicconf's report), so workers
	// classify and hand over in software.
	SoftwareSteering bool

	// kernelIface is the kernel interface of a vdev (iface=; the same for
	// every device of the port), and kernelDrops0 its rx_dropped when the
	// port started (kdrops.go).
	kernelIface  string
	kernelDrops0 uint64
}

// queue returns the device and queue id of the port's queue q.
func (p *Port) queue(q int) (dpdk.Port, uint16) {
	if len(p.Devs) > 1 {
		return p.Devs[q], 0
	}
	return p.ID, uint16(q)
}

// Dataplane is a running set of ports and workers. Its methods are called
// by one control goroutine.
type Dataplane struct {
	cfg     *config.Config
	opt     Options
	log     *slog.Logger
	pool    *dpdk.Mempool
	ports   []Port
	table   *fwd.Table
	workers []*Worker
	multi   *multicore // several workers: rings, steering; nil with one
	started bool
	closed  bool
	wg      sync.WaitGroup
}

// New initialises the EAL and brings up the mempool, ports and workers of
// cfg. It fails with a message that names what to change. Call Close when
// done, also after an error from Run.
func New(cfg *config.Config, opt Options) (*Dataplane, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.DrainInterval == 0 {
		opt.DrainInterval = DefaultDrainInterval
	}
	if opt.MaxIdleSleep == 0 {
		opt.MaxIdleSleep = DefaultMaxIdleSleep
	}
	if opt.PublishInterval == 0 {
		opt.PublishInterval = DefaultPublishInterval
	}
	d := &Dataplane{cfg: cfg, opt: opt, log: opt.Logger}
	if err := checkQueues(cfg); err != nil {
		return nil, err
	}
	if err := checkInterfaces(cfg); err != nil {
		return nil, err
	}
	need := cfg.HugepageBytes()
	if cfg.NeedsHugepages() {
		if err := config.CheckHugepages(need); err != nil {
			return nil, err
		}
	}
	args := append([]string{"flexcp"}, cfg.EALArgs()...)
	d.log.Debug("EAL init", "args", strings.Join(args, " "))
	if _, err := dpdk.Init(args); err != nil {
		return nil, fmt.Errorf("dataplane: EAL init (%s): %w; check the eal list in the config and that no other DPDK process holds the devices", strings.Join(args[1:], " "), err)
	}
	if err := d.setup(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// checkInterfaces fails early, before the EAL prints its own noise, when a
// vdev names a kernel interface (iface=...) that does not exist here.
func checkInterfaces(cfg *config.Config) error {
	for i := range cfg.Ports {
		pc := &cfg.Ports[i]
		for _, dev := range pc.DeviceList() {
			for _, kv := range strings.Split(dev, ",")[1:] {
				name, ok := strings.CutPrefix(kv, "iface=")
				if !ok {
					continue
				}
				if _, err := net.InterfaceByName(name); err != nil {
					return fmt.Errorf("dataplane: port %q: interface %q of device %q not found in this network namespace; create it or fix the device string", pc.Name, name, dev)
				}
			}
		}
	}
	return nil
}

// setup creates the mempool, ports, forwarding table and workers.
func (d *Dataplane) setup() error {
	cfg := d.cfg
	nw := len(cfg.Lcores)
	// Look ports up first: a missing device is the likeliest mistake.
	for i := range cfg.Ports {
		pc := &cfg.Ports[i]
		name := pc.Device
		if !pc.IsPCI() {
			name = pc.VdevName()
		}
		id, err := dpdk.PortByName(name)
		if err != nil {
			return fmt.Errorf("dataplane: port %q: device %q not found (%v); for a vdev check that the interface exists in this network namespace, for PCI that the device is bound to a DPDK driver", pc.Name, pc.Device, err)
		}
		p := Port{Index: i, Conf: pc, ID: id, Devs: []dpdk.Port{id}}
		for _, dev := range pc.Devices[min(1, len(pc.Devices)):] {
			vname, _, _ := strings.Cut(dev, ",")
			id, err := dpdk.PortByName(vname)
			if err != nil {
				return fmt.Errorf("dataplane: port %q: device %q not found (%v); check that the interface exists in this network namespace", pc.Name, dev, err)
			}
			p.Devs = append(p.Devs, id)
		}
		d.ports = append(d.ports, p)
	}
	pool, err := dpdk.NewPktmbufPool("flexcp_mbufs", uint32(cfg.Mempool.Mbufs), uint32(cfg.Mempool.Cache), 0, uint16(cfg.Mempool.DataRoom), d.ports[0].ID.SocketID())
	if err != nil {
		return fmt.Errorf("dataplane: mempool of %d mbufs: %w; lower [mempool] mbufs or reserve more hugepages", cfg.Mempool.Mbufs, err)
	}
	d.pool = pool
	for i := range d.ports {
		if err := d.setupPort(&d.ports[i], nw); err != nil {
			return err
		}
	}
	fc, err := fwdConfig(cfg, d.ports)
	if err != nil {
		return err
	}
	d.table, err = fwd.Build(fc)
	if err != nil {
		return fmt.Errorf("dataplane: routing table: %w", err)
	}
	if nw > 1 {
		if err := d.setupMulticore(nw); err != nil {
			return err
		}
	}
	for i, cpu := range cfg.Lcores {
		w, err := newWorker(d, i, cpu)
		if err != nil {
			return err
		}
		d.workers = append(d.workers, w)
	}
	return nil
}

// setupPort configures and starts p's devices: queues queues on its one
// device, or one queue on each of its per-queue devices.
func (d *Dataplane) setupPort(p *Port, queues int) error {
	if len(p.Devs) > 1 {
		for _, id := range p.Devs {
			if err := d.setupDevice(p, id, 1); err != nil {
				return err
			}
		}
		return nil
	}
	return d.setupDevice(p, p.ID, queues)
}

// setupDevice configures queues, MTU and promiscuous mode of one device of
// p and starts it; the first device gives p its MAC address.
func (d *Dataplane) setupDevice(p *Port, id dpdk.Port, queues int) error {
	pc := p.Conf
	info, err := id.Info()
	if err != nil {
		return fmt.Errorf("dataplane: port %q: %w", pc.Name, err)
	}
	p.Driver = info.Driver
	if int(info.MaxRxQueues) < queues || int(info.MaxTxQueues) < queues {
		return fmt.Errorf("dataplane: port %q (%s) supports %d RX / %d TX queues, %d workers need %d; use fewer lcores or list one vdev per queue with devices = [...] (docs/config.md)",
			pc.Name, info.Driver, info.MaxRxQueues, info.MaxTxQueues, queues, queues)
	}
	conf := dpdk.PortConf{RxQueues: uint16(queues), TxQueues: uint16(queues)}
	if pc.MTU > 1500 {
		// At configure time too: PMDs without an MTU setter (net_ring)
		// accept it only here.
		conf.MTU = uint32(pc.MTU)
	}
	if queues > 1 && info.RSSOffloads != 0 {
		types := info.RSSOffloads & (dpdk.RSSIPv4 | dpdk.RSSIPv6 | dpdk.RSSNonfragIPv4TCP | dpdk.RSSNonfragIPv6TCP)
		conf.RSS = &dpdk.RSSConf{Types: types}
		if info.HashKeySize > 0 {
			conf.RSS.Key = dpdk.SymmetricRSSKey(int(info.HashKeySize))
		}
	}
	if err := id.Configure(conf); err != nil {
		return fmt.Errorf("dataplane: port %q: %w", pc.Name, err)
	}
	if err := id.SetMTU(uint16(pc.MTU)); err != nil {
		// Some PMDs (af_packet) fix the MTU to the interface's: accept
		// that if it already matches.
		if cur, err2 := id.MTU(); err2 != nil || int(cur) < pc.MTU {
			return fmt.Errorf("dataplane: port %q: set MTU %d: %w; set the interface MTU or lower mtu in the config", pc.Name, pc.MTU, err)
		}
	}
	socket := id.SocketID()
	for q := 0; q < queues; q++ {
		if err := id.RxQueueSetup(uint16(q), uint16(pc.RxDesc), socket, d.pool); err != nil {
			return fmt.Errorf("dataplane: port %q: %w", pc.Name, err)
		}
		if err := id.TxQueueSetup(uint16(q), uint16(pc.TxDesc), socket); err != nil {
			return fmt.Errorf("dataplane: port %q: %w", pc.Name, err)
		}
	}
	if err := id.Start(); err != nil {
		return fmt.Errorf("dataplane: port %q: %w", pc.Name, err)
	}
	if p.kernelIface == "" {
		p.kernelIface = kernelIface(pc.Device)
		p.kernelDrops0, _ = kernelRxDropped(p.kernelIface)
	}
	if err := id.SetPromiscuous(true); err != nil {
		d.log.Debug("promiscuous mode not available", "port", pc.Name, "err", err)
	}
	mac, err := id.MACAddr()
	if err != nil {
		return fmt.Errorf("dataplane: port %q: %w", pc.Name, err)
	}
	if len(pc.MAC) == 6 {
		copy(mac[:], pc.MAC)
	}
	if id != p.ID {
		d.log.Debug("device up", "port", pc.Name, "device", id, "queues", queues)
		return nil
	}
	p.MAC = mac
	d.log.Info("port up", "port", pc.Name, "device", pc.Device, "driver", info.Driver, "mac", fwd.MAC(mac).String(), "queues", queues, "mtu", pc.MTU)
	return nil
}

// fwdConfig translates the config into fwd's configuration.
func fwdConfig(cfg *config.Config, ports []Port) (fwd.Config, error) {
	var fc fwd.Config
	for i := range ports {
		p := &ports[i]
		fc.Ports = append(fc.Ports, fwd.PortConfig{Index: uint16(i), MAC: fwd.MAC(p.MAC), MTU: p.Conf.MTU, Addrs: append([]netip.Prefix(nil), p.Conf.Addresses...)})
	}
	for _, r := range cfg.Routes {
		fc.Routes = append(fc.Routes, fwd.Route{Prefix: r.Prefix, Via: r.Via, Port: uint16(r.PortIndex)})
	}
	for _, n := range cfg.Neighbors {
		fc.Neighbors = append(fc.Neighbors, fwd.StaticNeighbor{Port: uint16(n.PortIndex), Addr: n.IP, MAC: fwd.MAC(n.MAC)})
	}
	return fc, nil
}

// Ports returns the dataplane's ports.
func (d *Dataplane) Ports() []Port { return d.ports }

// Workers returns the dataplane's workers.
func (d *Dataplane) Workers() []*Worker { return d.workers }

// Pool returns the mempool.
func (d *Dataplane) Pool() *dpdk.Mempool { return d.pool }

// Run starts the workers and blocks until ctx is done, then stops them and
// waits until each has drained its TX lists. It returns the first worker
// error, if any. It raises GOMAXPROCS to the workers plus two if it is
// lower (see spareProcs).
func (d *Dataplane) Run(ctx context.Context) error {
	if d.started {
		return errors.New("dataplane: Run called twice")
	}
	d.started = true
	spareProcs(len(d.workers))
	errc := make(chan error, len(d.workers))
	stop := new(atomic.Bool) // checked by every worker once per round
	for _, w := range d.workers {
		d.wg.Add(1)
		go func(w *Worker) {
			defer d.wg.Done()
			if err := w.run(stop); err != nil {
				errc <- err
			}
		}(w)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stop.Store(true)
	d.wg.Wait()
	return err
}

// Close stops and closes the ports, frees the mempool and cleans up the
// EAL. It is safe to call after a failed New or Run.
func (d *Dataplane) Close() {
	if d.closed {
		return
	}
	d.closed = true
	for _, w := range d.workers {
		w.release()
	}
	d.closeMulticore()
	for i := range d.ports {
		p := &d.ports[i]
		for _, id := range p.Devs {
			if err := id.Stop(); err != nil {
				d.log.Debug("port stop", "port", p.Conf.Name, "err", err)
			}
			if err := id.Close(); err != nil {
				d.log.Debug("port close", "port", p.Conf.Name, "err", err)
			}
		}
	}
	if d.pool != nil {
		d.pool.Free()
	}
	if err := dpdk.Cleanup(); err != nil {
		d.log.Debug("EAL cleanup", "err", err)
	}
}

// Summary is the one line printed at shutdown.
func (d *Dataplane) Summary() string {
	blocks := make([]*metrics.Counters, len(d.workers))
	var refused uint64
	for i, w := range d.workers {
		blocks[i] = w.mc
		refused += w.mc.Drops[dropTxFull].Load()
	}
	t := metrics.Sum(blocks...)
	s := fmt.Sprintf("flexcp: stopped: %d workers, rx %d pkts %d bytes, tx %d pkts %d bytes, dropped %d (tx refused %d), connections %d (fallback %d), joins %d accepted %d rejected",
		len(d.workers), t.RxPackets, t.RxBytes, t.TxPackets, t.TxBytes, t.Drops, refused, t.ConnectionsOpened, t.ConnectionsFallback, t.JoinsAccepted, t.JoinsRejected)
	if d.multi != nil {
		var handed, full uint64
		for _, w := range d.workers {
			for j := range w.st.pub.handed {
				handed += w.st.pub.handed[j].Load()
				full += w.st.pub.ringFull[j].Load()
			}
		}
		s += fmt.Sprintf(", handoffs %d (ring full %d)", handed, full)
	}
	return s
}
