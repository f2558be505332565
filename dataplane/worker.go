package dataplane

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/dataplane/fwd"
	"github.com/flexcp/flexcp/metrics"
	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
	"golang.org/x/sys/unix"
)

// maxBurst bounds the configured burst size.
const maxBurst = 256

// engineTickInterval is how often the translator's timers run.
const engineTickInterval = int64(time.Millisecond)

// stashSize is how many mbufs a worker allocates at once for the packets
// it originates.
const stashSize = 32

// Worker is one polling loop: one lcore, one queue index on every port.
// All its fields are owned by its goroutine; only the metrics block mc is
// read by others (atomic loads).
type Worker struct {
	d     *Dataplane
	id    int
	cpu   int
	queue uint16
	burst int
	idle  config.IdlePolicy

	fwd            *fwd.Forwarder
	out            *fwd.Output
	eng            *translate.Engine // nil when [proxy] is disabled
	side           []translate.Side  // by port index
	nextEngineTick int64

	frames  []fwd.Frame  // the burst as fwd frames
	txm     []*dpdk.Mbuf // TX staging, 2*burst per port (txp)
	rxm     []*dpdk.Mbuf // RX burst arrays, burst per port (rxp)
	txp     [][]*dpdk.Mbuf
	rxp     [][]*dpdk.Mbuf
	bs      *dpdk.BurstSet // TX, free and RX of every port in one cgo call
	stash   []*dpdk.Mbuf   // mbufs for originated packets
	pool    *dpdk.Mempool
	dataOff int // headroom of a fresh mbuf

	queued    int   // frames on TX lists since the last flush
	txPending bool  // the Output lists go out with the next pollAll
	lastFlush int64 // clock of the last flush
	txRefused uint64
	// acksThinned counts the server's pure ACKs thin.thinAcks removed
	// (thin.go).
	acksThinned uint64
	thin        *thinScratch
	thinAcks    bool     // translating, and [proxy] thin_server_acks
	txPkts      []uint64 // per port, owner-only
	txBytes     []uint64
	rxPkts      []uint64
	rxBytes     []uint64

	lastPublish int64
	mc          *metrics.Counters // published counters, see publishCounters

	t                           int64  // the round's clock (readClock)
	rounds, rxRounds, rxPackets uint64 // poll rounds, owner-only; published in loop
	loop                        loopStats

	devs []dpdk.Port // by port index: the device of this worker's queue
	devQ []uint16    // by port index: its queue id on that device
	st   *steerState // several workers: handoff and steering; else nil
}

// newWorker builds worker id for CPU cpu.
func newWorker(d *Dataplane, id, cpu int) (*Worker, error) {
	burst := d.cfg.Burst
	if burst <= 0 || burst > maxBurst {
		burst = 32
	}
	np := len(d.ports)
	w := &Worker{
		d: d, id: id, cpu: cpu, queue: uint16(id), burst: burst, idle: d.cfg.Idle,
		// Burst arrays live in C memory: cgo checks a Go array of
		// pointers on every call, which costs more than the burst.
		frames:  make([]fwd.Frame, burst),
		txm:     dpdk.NewMbufArray(np * 2 * burst),
		rxm:     dpdk.NewMbufArray(np * burst),
		bs:      dpdk.NewBurstSet(np, np, 2*burst),
		stash:   dpdk.NewMbufArray(stashSize)[:0],
		pool:    d.pool,
		dataOff: dpdk.MbufHeadroom,
		txPkts:  make([]uint64, np), txBytes: make([]uint64, np),
		rxPkts: make([]uint64, np), rxBytes: make([]uint64, np),
		mc: new(metrics.Counters),
	}
	for i := range d.ports {
		dev, q := d.ports[i].queue(id)
		w.devs, w.devQ = append(w.devs, dev), append(w.devQ, q)
		rx := w.rxm[i*burst : (i+1)*burst : (i+1)*burst]
		tx := w.txm[i*2*burst : (i+1)*2*burst : (i+1)*2*burst]
		w.rxp, w.txp = append(w.rxp, rx), append(w.txp, tx)
		w.bs.SetRx(i, dev, q, rx)
		w.bs.SetTx(i, dev, q, tx)
	}
	var err error
	w.fwd, err = fwd.NewForwarder(d.table, w)
	if err != nil {
		return nil, fmt.Errorf("dataplane: worker %d: %w", id, err)
	}
	w.out = fwd.NewOutput(np, 2*burst, 2*burst, w)
	w.thin = newThinScratch(burst)
	for i := range d.ports {
		sd := translate.Access
		if d.ports[i].Conf.Role == config.RoleCore {
			sd = translate.Core
		}
		w.side = append(w.side, sd)
	}
	ec := engineConfig(d.cfg)
	if d.multi != nil {
		if w.st, err = d.newSteerState(w, &ec); err != nil {
			return nil, err
		}
	}
	if d.cfg.Proxy.Enabled {
		w.eng, err = translate.New(ec, engineAlloc{w})
		if err != nil {
			return nil, fmt.Errorf("dataplane: worker %d: %w", id, err)
		}
		w.thinAcks = d.cfg.Proxy.ThinServerAcks
	}
	return w, nil
}

// mbufOf turns a Frame's Ref back into its mbuf. Refs are mbuf pointers
// (C memory, invisible to the Go garbage collector).
func mbufOf(ref uintptr) *dpdk.Mbuf { return *(**dpdk.Mbuf)(unsafe.Pointer(&ref)) }

// refOf is the inverse of mbufOf.
func refOf(m *dpdk.Mbuf) uintptr { return uintptr(unsafe.Pointer(m)) }

// Alloc implements fwd.Allocator: an empty mbuf from the worker's stash,
// refilled with one bulk allocation when empty.
func (w *Worker) Alloc() (fwd.Frame, bool) {
	if len(w.stash) == 0 {
		w.stash = w.stash[:stashSize]
		if !w.pool.AllocBulk(w.stash) {
			w.stash = w.stash[:0]
			return fwd.Frame{}, false
		}
	}
	m := w.stash[len(w.stash)-1]
	w.stash = w.stash[:len(w.stash)-1]
	return fwd.Frame{Buf: m.Buf(), Off: int(m.DataOff()), Ref: refOf(m)}, true
}

// engineAlloc gives the translator mbufs from the worker's stash.
type engineAlloc struct{ w *Worker }

// Alloc implements translate.Allocator.
func (a engineAlloc) Alloc() (translate.Packet, bool) {
	f, ok := a.w.Alloc()
	if !ok {
		return translate.Packet{}, false
	}
	return translate.Packet{Buf: f.Buf, Off: f.Off, Ref: f.Ref}, true
}

// FlushOutput implements fwd.Flusher: transmit every TX list, free every
// buffer on the free list (one cgo call for all), and reset the lists.
func (w *Worker) FlushOutput(o *fwd.Output) {
	w.stageOutput(o)
	w.bs.Run(true, false)
	w.finishOutput(o)
}

// stageOutput stages every TX list and the free list in the burst set.
func (w *Worker) stageOutput(o *fwd.Output) {
	for port, list := range o.TX {
		if len(list) == 0 {
			continue
		}
		txm := w.txp[port]
		for i := range list {
			fr := &list[i]
			m := mbufOf(fr.Ref)
			setWindow(m, fr.Off, fr.Len)
			txm[i] = m
		}
		w.bs.StageTx(port, len(list))
	}
	if len(o.Free) > 0 {
		fa := w.bs.FreeArray()
		for i, ref := range o.Free {
			fa[i] = mbufOf(ref)
		}
		w.bs.StageFree(len(o.Free))
	}
}

// finishOutput counts what the staged TX bursts sent, frees what they
// refused, and resets the lists (after the burst set ran).
func (w *Worker) finishOutput(o *fwd.Output) {
	for port, list := range o.TX {
		n := len(list)
		if n == 0 {
			continue
		}
		var bytes uint64
		for i := range list {
			bytes += uint64(list[i].Len)
		}
		txm := w.txp[port]
		sent := w.bs.Sent(port)
		if sent < n {
			// A full TX ring: free what it refused, count it.
			for i := sent; i < n; i++ {
				bytes -= uint64(txm[i].DataLen())
			}
			dpdk.FreeBulk(txm[sent:n])
			w.txRefused += uint64(n - sent)
		}
		w.txPkts[port] += uint64(sent)
		w.txBytes[port] += bytes
		clear(txm[:n])
	}
	if len(o.Free) > 0 {
		clear(w.bs.FreeArray()[:len(o.Free)])
	}
	o.Reset()
	w.queued = 0
	w.txPending = false
}

// setWindow makes the mbuf's data window [off, off+n) of its buffer.
func setWindow(m *dpdk.Mbuf, off, n int) {
	cur := int(m.DataOff())
	switch {
	case off < cur:
		m.Prepend(uint16(cur - off))
	case off > cur:
		m.Adj(uint16(off - cur))
	}
	m.SetDataLen(uint16(n))
}

// spareProcs raises GOMAXPROCS to workers+2 when it is lower, so that Ps
// stay idle while every worker is busy. A worker spends much of its time
// in cgo calls (bursts; send() on AF_XDP), and the Go scheduler's sysmon
// takes the P of a call that spans one of its ticks (20 us or more: a
// long send(), or the thread preempted on a shared core) when no P is
// idle, and hands it to a new spinning thread; the worker then leaves the
// call on the slow path (runtime.exitsyscallNoP: park the locked thread
// until the P comes back, several futex wakeups). With an idle P sysmon
// leaves the call alone for 10 ms, and a retaken P goes back to the idle
// list where the worker finds it again. Idle Ps cost nothing.
func spareProcs(workers int) {
	if n := workers + 2; runtime.GOMAXPROCS(0) < n {
		runtime.GOMAXPROCS(n)
	}
}

// now is the worker clock: monotonic nanoseconds.
var clockBase = time.Now()

func now() int64 { return int64(time.Since(clockBase)) }

// run is the worker loop. It returns when stop is closed, after a final
// flush, or with an error if the thread cannot be set up.
func (w *Worker) run(stop *atomic.Bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := dpdk.PinThread(w.cpu); err != nil {
		return fmt.Errorf("dataplane: worker %d: pin to CPU %d: %w; choose lcores this process may run on", w.id, w.cpu, err)
	}
	if _, err := dpdk.RegisterThread(); err != nil {
		return fmt.Errorf("dataplane: worker %d: register with EAL: %w", w.id, err)
	}
	defer dpdk.UnregisterThread()
	if w.eng != nil {
		w.eng.BindOwner()
	}
	w.loop.tid.Store(int64(unix.Gettid()))

	drain := int64(w.d.opt.DrainInterval)
	maxSleep := w.d.opt.MaxIdleSleep
	publish := int64(w.d.opt.PublishInterval)
	empty := 0
	w.readClock()
	for {
		if stop.Load() {
			if w.st != nil {
				w.flushHandoffs(true)
			}
			w.FlushOutput(w.out)
			w.publishCounters()
			return nil
		}
		got := w.pollAll()
		if w.st != nil {
			w.flushHandoffs(false)
		}
		w.countRound(got)
		if got == 0 && (empty+1)%clockEvery == 0 {
			w.readClock()
		}
		t := w.t
		w.fwd.Tick(t, w.out)
		if w.eng != nil && t >= w.nextEngineTick {
			w.eng.Tick(t)
			w.nextEngineTick = t + engineTickInterval
			w.sendEmitted(t)
		}
		if w.queued > 0 && (got == 0 || t-w.lastFlush >= drain) || len(w.out.Free) > 0 {
			if got > 0 {
				// The loop polls again at once: the lists go out
				// in that round's cgo call, before its RX.
				w.txPending = true
			} else {
				w.FlushOutput(w.out)
			}
			w.lastFlush = t
		}
		if t-w.lastPublish >= publish {
			w.publishCounters()
			w.lastPublish = t
		}
		if got > 0 {
			empty = 0
			continue
		}
		empty++
		if w.st != nil && w.st.keys != nil && w.st.keys.p.Wants() {
			// Idle: grind keys for the connections to come (this
			// worker's and, through the key exchange, the others').
			w.st.keys.p.Refill(keyRefillIdle)
			w.readClock()
			continue
		}
		if w.idle == config.IdleAdaptive && empty > 64 {
			// Back off: 1 us doubling up to maxSleep.
			d := time.Microsecond << min(empty/64, 10)
			if d > maxSleep {
				d = maxSleep
			}
			time.Sleep(d)
			w.readClock()
		}
	}
}

// countRound counts a poll round that received got packets and
// publishes the loop counters (LoopStats, loopPublishEvery).
func (w *Worker) countRound(got int) {
	w.rounds++
	if got > 0 {
		w.rxRounds++
		w.rxPackets += uint64(got)
		w.loop.rxRounds.Store(w.rxRounds)
		w.loop.rxPackets.Store(w.rxPackets)
	} else if w.rounds%loopPublishEvery != 0 {
		return
	}
	w.loop.rounds.Store(w.rounds)
}

// clockEvery is how often a worker reads the clock in a run of empty
// poll rounds: every clockEvery-th round (and after a sleep or a key
// refill). A round that receives packets reads it before handling them,
// so every burst sees a fresh clock and idle-time timers (TX drain, ARP,
// the translator's tick) see one at most clockEvery empty rounds old
// (about 1.5 us on the 2-core EPYC VM, where an empty round costs about
// 90 ns of which the clock read, kvm-clock through the vDSO, was a
// quarter; 2026-12-07).
const clockEvery = 16

// readClock reads the clock into w.t, the round's time.
func (w *Worker) readClock() { w.t = now() }

// pollAll sends what the last round left pending (txPending) and
// receives a burst from every port and (several workers) from every
// incoming handoff ring, in one cgo call; if anything came, it reads the
// clock and handles the bursts port by port, then the handoffs. It
// returns how many mbufs it received.
func (w *Worker) pollAll() int {
	tx := w.txPending
	if tx {
		w.stageOutput(w.out)
	}
	got := w.bs.Run(tx, true)
	if tx {
		w.finishOutput(w.out)
	}
	if got == 0 {
		return 0
	}
	w.readClock()
	for pi := range w.rxp {
		w.poll(w.t, pi, w.bs.Received(pi))
	}
	if w.st != nil {
		// The rings' first bursts came with Run (counted in got);
		// drainHandoffs may take more from a ring that gave a full one.
		got += w.drainHandoffs()
	}
	return got
}

// poll handles the burst of n mbufs pollAll received from port pi.
func (w *Worker) poll(t int64, pi, n int) int {
	if n == 0 {
		return 0
	}
	rx := w.rxp[pi]
	var bytes uint64
	for i := 0; i < n; i++ {
		m := rx[i]
		l := int(m.DataLen())
		w.frames[i] = fwd.Frame{Buf: m.Buf(), Off: int(m.DataOff()), Len: l, Port: uint16(pi), Ref: refOf(m)}
		bytes += uint64(l)
		rx[i] = nil
	}
	w.rxPkts[pi] += uint64(n)
	w.rxBytes[pi] += bytes
	if w.st != nil && w.st.cls != nil {
		// After the receive, before classifying: an Update sent before
		// the packet arrived is applied first (see steer.go).
		w.applyUpdates()
	}
	frames := w.frames[:n]
	if w.thinAcks && w.side[pi] == translate.Core {
		var removed []uintptr
		if frames, removed = w.thin.thinAcks(frames); len(removed) > 0 {
			for _, ref := range removed {
				w.free(ref)
			}
			w.acksThinned += uint64(len(removed))
		}
	}
	w.handle(t, frames, true)
	clear(w.frames[:n])
	return n
}

// handle passes a burst through the forwarder, and TCP packets through
// the translator between L2 demux and routing. With several workers and
// steer set (frames from this worker's own queues), a TCP packet another
// worker owns is handed to it, and ARP/NDP is copied to the others.
func (w *Worker) handle(t int64, frames []fwd.Frame, steer bool) {
	for i := range frames {
		fr := &frames[i]
		if steer && w.st != nil {
			if w.st.cls != nil {
				if owner := w.ownerOf(fr); owner != w.id {
					w.handOff(fr, owner)
					continue
				}
			}
			if isNeighborMsg(fr.Buf[fr.Off : fr.Off+fr.Len]) {
				w.shareNeighborMsg(fr)
			}
		}
		kind, nh := w.fwd.ClassifyHop(t, fr, w.out)
		if kind == fwd.KindConsumed {
			continue
		}
		if w.eng != nil && isTCP(fr.Buf[fr.Off:fr.Off+fr.Len]) {
			p := translate.Packet{Buf: fr.Buf, Off: fr.Off, Len: fr.Len, Side: w.side[fr.Port], Port: uint8(fr.Port), Ref: fr.Ref}
			switch w.eng.Process(t, &p) {
			case translate.Forward:
				fr.Off, fr.Len = p.Off, p.Len
			case translate.Consumed, translate.Drop:
				w.free(fr.Ref)
				continue
			}
			w.fwd.RouteIP(t, fr, w.out)
			continue
		}
		// Untouched since ClassifyHop: route along the hop it found.
		w.fwd.RouteHop(t, fr, kind, nh, w.out)
	}
	w.queued += len(frames)
	if w.eng != nil {
		w.sendEmitted(t)
	}
}

// sendEmitted routes the packets the translator created in this burst.
func (w *Worker) sendEmitted(t int64) {
	em := w.eng.Emitted()
	for i := range em {
		p := &em[i]
		fr := fwd.Frame{Buf: p.Buf, Off: p.Off, Len: p.Len, Port: uint16(p.Port), Ref: p.Ref}
		w.fwd.SendIP(t, &fr, w.out)
	}
	w.queued += len(em)
	w.eng.ClearEmitted()
}

// free puts a buffer on the free list, flushing first if the list is full.
func (w *Worker) free(ref uintptr) {
	if len(w.out.Free) == cap(w.out.Free) {
		w.FlushOutput(w.out)
	}
	w.out.Free = append(w.out.Free, ref)
}

// isTCP reports whether an IP packet may carry TCP: IPv4 protocol 6, or
// IPv6 next header 6 or an extension header (the translator drops such a
// packet if it belongs to a translated connection and routes it
// otherwise).
func isTCP(pkt []byte) bool {
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4:
		return pkt[9] == 6
	case len(pkt) >= 40 && pkt[0]>>4 == 6:
		return pkt[6] == 6 || header.IsIPv6ExtensionHeader(pkt[6])
	}
	return false
}

// release frees the worker's stash and burst arrays. Called after the
// worker stopped.
func (w *Worker) release() {
	if len(w.stash) > 0 {
		dpdk.FreeBulk(w.stash)
	}
	for _, a := range [][]*dpdk.Mbuf{w.txm, w.rxm, w.stash[:cap(w.stash)]} {
		dpdk.FreeMbufArray(a)
	}
	w.bs.Free()
	if w.st != nil {
		w.st.release()
	}
	w.txm, w.rxm, w.stash, w.rxp, w.txp = nil, nil, nil, nil, nil
}
