package dataplane

import (
	"fmt"
	"sync/atomic"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/dataplane/fwd"
	"github.com/flexcp/flexcp/nicconf"
	"github.com/flexcp/flexcp/steering"
	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/mpcrypto"
)

// Multicore (DESIGN.md section 5, docs/steering.md). With several workers
// each one owns the connections steering names it for. A worker
// classifies every TCP packet it receives with its own steering.Classifier
// and passes a packet another worker owns, untouched (still an Ethernet
// frame, its ingress port index in the mbuf's port field), through the
// single-producer/single-consumer rte_ring it has toward that worker; the
// owner takes it from the ring and handles it like a packet of its own
// queue. Staged handoffs leave in one EnqueueBurst per destination and
// burst; what a full ring refuses stays staged and is tried once more with
// the next flush (the next poll round at the latest), then dropped
// (counted as handoff_full).
//
// The same rings carry copies of ARP and NDP frames, marked with
// learnTag, so that every worker's neighbor table learns what one worker
// received (fwd.Forwarder.Learn).
//
// Join subflows: the owner of a connection learns a join's 4-tuple from
// its engine (translate.SubflowObserver), installs it in its classifier
// and sends an Update to every other worker through a Go
// single-producer/single-consumer ring (updateRing); each worker applies
// the Updates addressed to it after receiving a burst and before
// classifying it, so a packet that arrived after the owner's SYN/ACK left
// finds the entry.

// handoffRingSize is the slot count of each handoff ring (a power of two;
// it holds handoffRingSize-1 mbufs).
const handoffRingSize = 4096

// updateRingSize is the capacity of each Update ring.
const updateRingSize = 4096

// learnTag marks, in the mbuf port field, a handed-over ARP/NDP copy for
// Learn; the low bits are the ingress port index.
const learnTag = 0x8000

// maxSubflowsPerCore bounds the join-subflow entries each worker may own
// in every classifier (48 bytes each, two slots per entry, in every
// worker): beyond it joins are refused (JoinTableFull).
const maxSubflowsPerCore = 1 << 16

// keyPoolSize is the number of keys each worker keeps ready.
const keyPoolSize = 1024

// keyInbound is about how many keys ground by other workers each worker
// can hold in its inbound rings of the key exchange, all rings together.
const keyInbound = 1024

// Key refills: a few keys per engine tick, more when the worker is idle.
const (
	keyRefillTick = 4
	keyRefillIdle = 64
)

// updateRing is a bounded single-producer/single-consumer FIFO of
// steering.Updates between two workers: the producer writes a slot and
// then publishes tail, the consumer reads a slot and then publishes head
// (acquire/release through sync/atomic). It neither allocates nor locks.
type updateRing struct {
	_    [64]byte
	head atomic.Uint64 // next slot to read; written by the consumer
	_    [56]byte
	tail atomic.Uint64 // next slot to write; written by the producer
	_    [56]byte
	buf  [updateRingSize]steering.Update
}

// free returns how many Updates fit; exact for the producer.
func (r *updateRing) free() int { return updateRingSize - int(r.tail.Load()-r.head.Load()) }

// push appends u; false when the ring is full. Producer only.
func (r *updateRing) push(u steering.Update) bool {
	t := r.tail.Load()
	if t-r.head.Load() == updateRingSize {
		return false
	}
	r.buf[t%updateRingSize] = u
	r.tail.Store(t + 1)
	return true
}

// pop removes the oldest Update; false when empty. Consumer only.
func (r *updateRing) pop() (steering.Update, bool) {
	h := r.head.Load()
	if h == r.tail.Load() {
		return steering.Update{}, false
	}
	u := r.buf[h%updateRingSize]
	r.head.Store(h + 1)
	return u, true
}

// steerState is a worker's share of the multicore machinery. Owned by the
// worker; the published counters in pub are read by the metrics
// collector.
type steerState struct {
	cls    *steering.Classifier // nil when routing only: no ownership
	out    []*dpdk.Ring         // out[j]: to worker j (nil for itself)
	in     []*dpdk.Ring         // in[i]: from worker i (nil for itself)
	inBuf  [][]*dpdk.Mbuf       // in[i]'s burst array (C memory), bound in the worker's BurstSet
	stage  [][]*dpdk.Mbuf       // per destination, C arrays of one burst
	carry  []int                // stage[j][:carry[j]]: refused once by ring j
	updOut []*updateRing        // to worker j
	updIn  []*updateRing        // from worker i
	keys   *poolKeys

	handed   []uint64 // packets handed to worker j
	ringFull []uint64 // packets dropped: ring to worker j full
	received []uint64 // packets taken from worker i's ring
	learned  uint64   // ARP/NDP copies sent to other workers
	updLost  uint64   // Updates not sent: ring full
	reasons  [steering.NumReasons]uint64

	pub steerCounters
}

// steerCounters are the published copies of steerState's counters.
type steerCounters struct {
	handed, ringFull, received []atomic.Uint64
	learned, updLost           atomic.Uint64
	reasons                    [steering.NumReasons]atomic.Uint64
	subflows                   atomic.Int64
	keyHashes, keyGround       atomic.Uint64 // the key pool's KeyPoolStats
	keyHanded, keyDropped      atomic.Uint64
	keyReceived                atomic.Uint64
}

// poolKeys is the translator's KeySource on a worker: keys whose token's
// low bits name the worker (DESIGN.md section 5) from a steering.KeyPool
// of the workers' steering.KeyExchange (the keys a worker grinds for
// other workers go to them), refilled a little on every engine tick and
// more when the worker is idle. Tokens are unique across workers because
// their owner bits differ, and within a worker because the engine draws
// again on a clash.
type poolKeys struct{ p *steering.KeyPool }

var _ translate.HashedKeySource = poolKeys{}

// NextKey pops a ready key (the worker's own, else one another worker
// ground for it), or grinds one when none is ready; false only if the
// random source fails.
func (k poolKeys) NextKey() (uint64, bool) {
	kt, err := k.p.Next()
	return kt.Key, err == nil && kt.Key != 0
}

// NextHashedKey is NextKey with the key's token and IDSN, which the pool
// computed when it ground the key (translate.HashedKeySource).
func (k poolKeys) NextHashedKey() (uint64, uint32, uint64, bool) {
	kt, err := k.p.Next()
	return kt.Key, kt.Token, kt.IDSN, err == nil && kt.Key != 0
}

// Refill adds a few keys; the engine calls it from Tick.
func (k poolKeys) Refill() { k.p.Refill(keyRefillTick) }

// multicore holds what the dataplane builds for several workers.
type multicore struct {
	rs      *steering.Ruleset
	rings   [][]*dpdk.Ring // rings[i][j]: worker i to worker j
	upd     [][]*updateRing
	keyx    *steering.KeyExchange // the workers' key pools trade keys here
	reports []nicconf.Report
	inst    *nicconf.Installer // nil unless a port offloads subflow rules
}

// setupMulticore creates the handoff and Update rings of nw workers and,
// with the translator, the steering rule set, probes every port with it
// (logging once per port what the NIC does and what falls back to
// software) and starts the subflow rule installer if a port can use it.
func (d *Dataplane) setupMulticore(nw int) error {
	mc := &multicore{}
	d.multi = mc
	socket := d.ports[0].ID.SocketID()
	mc.rings = make([][]*dpdk.Ring, nw)
	mc.upd = make([][]*updateRing, nw)
	for i := range nw {
		mc.rings[i] = make([]*dpdk.Ring, nw)
		mc.upd[i] = make([]*updateRing, nw)
		for j := range nw {
			if i == j {
				continue
			}
			r, err := dpdk.NewRing(fmt.Sprintf("fcp_hand_%d_%d", i, j), handoffRingSize, socket, dpdk.RingSPEnq|dpdk.RingSCDeq)
			if err != nil {
				return fmt.Errorf("dataplane: handoff ring %d->%d: %w", i, j, err)
			}
			mc.rings[i][j] = r
			mc.upd[i][j] = new(updateRing)
		}
	}
	if !d.cfg.Proxy.Enabled {
		return nil
	}
	per := min(maxSubflowsPerCore, d.cfg.Proxy.MaxConnections*max(d.cfg.Proxy.MaxSubflows-1, 1), steering.MaxSubflows/nw)
	rs, err := steering.NewRuleset(steering.Config{Workers: nw, SymmetricRSS: true, SubflowsPerCore: per})
	if err != nil {
		return fmt.Errorf("dataplane: steering: %w", err)
	}
	mc.rs = rs
	if mc.keyx, err = steering.NewKeyExchange(rs.Tokens(), steering.KeyExchangeRingCap(nw, keyInbound)); err != nil {
		return fmt.Errorf("dataplane: key exchange: %w", err)
	}
	software := false
	for i := range d.ports {
		p := &d.ports[i]
		r := nicconf.Probe(p.ID, rs)
		line := r.String()
		if len(p.Devs) > 1 {
			// One device per queue: no NIC steers between devices.
			line += fmt.Sprintf("; %d single-queue devices, one per worker: steering in software", len(p.Devs))
			p.SoftwareSteering = true
		} else {
			p.SoftwareSteering = len(r.Software()) > 0
		}
		software = software || p.SoftwareSteering
		d.log.Info("steering", "port", p.Conf.Name, "report", line)
		mc.reports = append(mc.reports, r)
	}
	if software {
		d.log.Info("steering in software: workers classify what they receive and hand packets of connections another worker owns through rings", "workers", nw)
	}
	for i := range mc.reports {
		if mc.reports[i].SubflowV4 || mc.reports[i].SubflowV6 {
			mc.inst = nicconf.NewInstaller(rs, mc.reports, 0)
			mc.inst.Start()
			break
		}
	}
	return nil
}

// closeMulticore stops the installer, removes installed rules and frees
// the rings, freeing the mbufs still in them.
func (d *Dataplane) closeMulticore() {
	mc := d.multi
	if mc == nil {
		return
	}
	if mc.inst != nil {
		mc.inst.Stop()
	}
	for i := range mc.reports {
		if err := mc.reports[i].Destroy(); err != nil {
			d.log.Debug("steering rules", "err", err)
		}
	}
	buf := dpdk.NewMbufArray(64)
	for _, row := range mc.rings {
		for _, r := range row {
			if r == nil {
				continue
			}
			for n := r.DequeueBurst(buf); n > 0; n = r.DequeueBurst(buf) {
				dpdk.FreeBulk(buf[:n])
			}
			r.Free()
		}
	}
	dpdk.FreeMbufArray(buf)
	d.multi = nil
}

// newSteerState gives worker w its rings, classifier and key pool.
func (d *Dataplane) newSteerState(w *Worker, cfg *translate.Config) (*steerState, error) {
	mc := d.multi
	nw := len(mc.rings)
	st := &steerState{
		out: make([]*dpdk.Ring, nw), in: make([]*dpdk.Ring, nw),
		stage: make([][]*dpdk.Mbuf, nw), carry: make([]int, nw), inBuf: make([][]*dpdk.Mbuf, nw),
		updOut: make([]*updateRing, nw), updIn: make([]*updateRing, nw),
		handed: make([]uint64, nw), ringFull: make([]uint64, nw), received: make([]uint64, nw),
	}
	st.pub.handed = make([]atomic.Uint64, nw)
	st.pub.ringFull = make([]atomic.Uint64, nw)
	st.pub.received = make([]atomic.Uint64, nw)
	for j := range nw {
		if j == w.id {
			continue
		}
		st.out[j], st.in[j] = mc.rings[w.id][j], mc.rings[j][w.id]
		st.updOut[j], st.updIn[j] = mc.upd[w.id][j], mc.upd[j][w.id]
		st.stage[j] = dpdk.NewMbufArray(w.burst)[:0]
	}
	// The first dequeue of every incoming ring rides in the poll
	// round's one cgo call.
	w.bs.SetRings(nw)
	for i, r := range st.in {
		if r != nil {
			st.inBuf[i] = dpdk.NewMbufArray(w.burst)
			w.bs.SetRingRx(i, r, st.inBuf[i])
		}
	}
	if mc.rs == nil {
		return st, nil
	}
	st.cls = steering.NewClassifier(mc.rs)
	pool, err := mc.keyx.Pool(w.id, keyPoolSize, nil)
	if err != nil {
		return nil, fmt.Errorf("dataplane: worker %d: key pool: %w", w.id, err)
	}
	pool.SetHash(mpcrypto.KeyHash) // SHA-256 on the SHA extensions where the CPU has them
	if err := pool.Fill(); err != nil {
		return nil, fmt.Errorf("dataplane: worker %d: key pool: %w", w.id, err)
	}
	st.keys = &poolKeys{pool}
	cfg.Keys = st.keys
	cfg.Subflows = joinSteer{w}
	return st, nil
}

// releaseSteer frees the worker's staging arrays (after it stopped; the
// staged mbufs were flushed).
func (st *steerState) release() {
	for j, s := range st.stage {
		if s != nil {
			dpdk.FreeMbufArray(s[:cap(s)])
			st.stage[j] = nil
		}
	}
	for i, b := range st.inBuf {
		dpdk.FreeMbufArray(b)
		st.inBuf[i] = nil
	}
}

// joinSteer is the engine's SubflowObserver on a worker: it installs a
// join subflow's entry in the worker's own classifier, sends the Update
// to every other worker, and asks the installer for the NIC rule.
type joinSteer struct{ w *Worker }

// tuple converts the engine's tuple (client to server).
func tuple(t translate.FlowTuple) steering.Tuple {
	return steering.Tuple{Src: t.Client, Dst: t.Server, SrcPort: t.ClientPort, DstPort: t.ServerPort, IPv6: t.V6}
}

// JoinAdded implements translate.SubflowObserver. It refuses the join when
// the worker is at its subflow quota or an Update ring lacks room, so that
// no worker ever steers the subflow elsewhere.
func (j joinSteer) JoinAdded(ft translate.FlowTuple) bool {
	w := j.w
	st := w.st
	for k, r := range st.updOut {
		if k != w.id && r.free() == 0 {
			st.updLost++
			return false
		}
	}
	t := tuple(ft)
	if !st.cls.Install(t, w.id) {
		return false
	}
	u := steering.Update{Op: steering.UpdateInstall, Core: uint16(w.id), Tuple: t}
	for k, r := range st.updOut {
		if k != w.id {
			r.push(u) // room checked above; only this worker produces
		}
	}
	if in := w.d.multi.inst; in != nil {
		in.Install(t, w.id)
	}
	return true
}

// JoinRemoved implements translate.SubflowObserver.
func (j joinSteer) JoinRemoved(ft translate.FlowTuple) {
	w := j.w
	st := w.st
	t := tuple(ft)
	st.cls.Remove(t)
	u := steering.Update{Op: steering.UpdateRemove, Core: uint16(w.id), Tuple: t}
	for k, r := range st.updOut {
		if k != w.id && !r.push(u) {
			// The other worker keeps steering the dead 4-tuple here
			// until an Install for it moves it: harmless, counted.
			st.updLost++
		}
	}
	if in := w.d.multi.inst; in != nil {
		in.Remove(t)
	}
}

// applyUpdates applies every Update other workers sent.
func (w *Worker) applyUpdates() {
	st := w.st
	for i, r := range st.updIn {
		if i == w.id || r == nil {
			continue
		}
		for {
			u, ok := r.pop()
			if !ok {
				break
			}
			st.cls.Apply(u)
		}
	}
}

// ownerOf returns the worker that owns a received Ethernet frame: for a
// TCP packet over IPv4 or IPv6 the classifier's answer, for anything else
// this worker.
func (w *Worker) ownerOf(fr *fwd.Frame) int {
	b := fr.Buf[fr.Off : fr.Off+fr.Len]
	if len(b) < fwd.EthernetHeaderLen {
		return w.id
	}
	et := fwd.Ethernet(b).Type()
	if et != fwd.EtherTypeIPv4 && et != fwd.EtherTypeIPv6 {
		return w.id
	}
	ip := b[fwd.EthernetHeaderLen:]
	if !isTCP(ip) {
		return w.id
	}
	core, why := w.st.cls.Owner(ip)
	w.st.reasons[why]++
	if why == steering.ReasonFragment || why == steering.ReasonNotTCP {
		// A TCP segment behind extension headers or in a first
		// fragment: its connection's owner, whose translator drops
		// it with a counted reason if it tracks the 4-tuple, where
		// another worker would route it untranslated.
		if c, ok := w.st.cls.OwnerBehind(ip); ok {
			return c
		}
	}
	if why == steering.ReasonMalformed || why == steering.ReasonFragment {
		return w.id // the forwarder drops or routes it; no connection state
	}
	return core
}

// isNeighborMsg reports whether an Ethernet frame is ARP or an ICMPv6
// neighbor solicitation or advertisement (no extension headers).
func isNeighborMsg(b []byte) bool {
	if len(b) < fwd.EthernetHeaderLen {
		return false
	}
	switch fwd.Ethernet(b).Type() {
	case fwd.EtherTypeARP:
		return true
	case fwd.EtherTypeIPv6:
		ip := b[fwd.EthernetHeaderLen:]
		if len(ip) < 41 || ip[6] != 58 {
			return false
		}
		return ip[40] == fwd.ICMPv6NeighborSolicit || ip[40] == fwd.ICMPv6NeighborAdvert
	}
	return false
}

// handOff stages a received frame for worker owner. The mbuf is untouched
// but for its port field, which carries the ingress port index.
func (w *Worker) handOff(fr *fwd.Frame, owner int) {
	m := mbufOf(fr.Ref)
	m.SetPort(fr.Port)
	st := w.st
	st.stage[owner] = append(st.stage[owner], m)
	if len(st.stage[owner]) == cap(st.stage[owner]) {
		w.flushHandoff(owner, false)
	}
}

// shareNeighborMsg stages a copy of an ARP/NDP frame for every other
// worker's Learn. Copies come from the worker's stash; without one the
// copy is skipped (the other worker resolves on its own).
func (w *Worker) shareNeighborMsg(fr *fwd.Frame) {
	st := w.st
	for j := range st.stage {
		if j == w.id {
			continue
		}
		f, ok := w.Alloc()
		if !ok || f.Off+fr.Len > len(f.Buf) {
			if ok {
				w.free(f.Ref)
			}
			continue
		}
		copy(f.Buf[f.Off:], fr.Buf[fr.Off:fr.Off+fr.Len])
		m := mbufOf(f.Ref)
		setWindow(m, f.Off, fr.Len)
		m.SetPort(learnTag | fr.Port)
		st.stage[j] = append(st.stage[j], m)
		st.learned++
		if len(st.stage[j]) == cap(st.stage[j]) {
			w.flushHandoff(j, false)
		}
	}
}

// flushHandoff enqueues what is staged for worker j in one call. What the
// ring refuses for the second time is freed and counted (ringFull); what
// it refuses for the first time stays staged, at the front, for the next
// flush - unless final is set or it would leave the stage full, then it
// is freed and counted too.
func (w *Worker) flushHandoff(j int, final bool) {
	st := w.st
	s := st.stage[j]
	if len(s) == 0 {
		return
	}
	n := st.out[j].EnqueueBurst(s)
	st.handed[j] += uint64(n)
	drop := handoffDrops(len(s), cap(s), st.carry[j], n, final)
	if drop > 0 {
		dpdk.FreeBulk(s[n : n+drop])
		st.ringFull[j] += uint64(drop)
	}
	keep := copy(s, s[n+drop:])
	clear(s[keep:])
	st.stage[j] = s[:keep]
	st.carry[j] = keep
}

// handoffDrops says how many of a stage's staged mbufs to drop after the
// ring took the first n: those it refused that it had refused before
// (the first carry were), or all it refused when final is set or keeping
// them would leave no room (staged == room).
func handoffDrops(staged, room, carry, n int, final bool) int {
	drop := max(carry-n, 0)
	if final || staged-n-drop == room {
		drop = staged - n
	}
	return drop
}

// flushHandoffs enqueues everything staged; with final set (the worker
// stops) it frees what the rings refuse instead of keeping it.
func (w *Worker) flushHandoffs(final bool) {
	for j := range w.st.stage {
		if j != w.id {
			w.flushHandoff(j, final)
		}
	}
}

// drainBursts bounds the bursts drainHandoffs takes from one ring per
// poll round: a sender can stage a burst per port per round, so the
// receiver must be able to take more than one.
const drainBursts = 8

// drainHandoffs handles the first burst of every incoming ring, which
// the poll round's BurstSet.Run dequeued, and takes up to drainBursts-1
// more bursts (a cgo call each) from a ring whose burst was full; it
// handles them like received frames (without classifying them again: the
// sender did); ARP/NDP copies go to Learn. It returns how many mbufs it
// took beyond the first bursts (Run counted those).
func (w *Worker) drainHandoffs() int {
	st := w.st
	extra := 0
	for i, r := range st.in {
		if r == nil {
			continue
		}
		buf := st.inBuf[i]
		n := w.bs.RingReceived(i)
		for b := 0; n > 0; b++ {
			w.handleHandoffs(i, buf[:n])
			if b > 0 {
				extra += n
			}
			if n < len(buf) || b+1 == drainBursts {
				break
			}
			if n = r.DequeueBurst(buf); n > 0 {
				w.readClock() // a fresh clock for every burst
			}
		}
	}
	return extra
}

// handleHandoffs handles a burst pkts taken from worker i's ring.
func (w *Worker) handleHandoffs(i int, pkts []*dpdk.Mbuf) {
	st := w.st
	t := w.t
	st.received[i] += uint64(len(pkts))
	k := 0
	for x, m := range pkts {
		pkts[x] = nil
		port := m.Port()
		fr := fwd.Frame{Buf: m.Buf(), Off: int(m.DataOff()), Len: int(m.DataLen()), Port: port &^ learnTag, Ref: refOf(m)}
		if port&learnTag != 0 {
			w.fwd.Learn(t, &fr, w.out)
			w.free(fr.Ref)
			continue
		}
		w.frames[k] = fr
		k++
	}
	w.handle(t, w.frames[:k], false)
	clear(w.frames[:k])
}

// publishSteer copies the steering counters for the collector, and their
// per-worker sums into the metrics block (handoffs_sent/received).
func (w *Worker) publishSteer() {
	st := w.st
	var sent, recv, full uint64
	for j := range st.handed {
		st.pub.handed[j].Store(st.handed[j])
		st.pub.ringFull[j].Store(st.ringFull[j])
		st.pub.received[j].Store(st.received[j])
		sent += st.handed[j]
		recv += st.received[j]
		full += st.ringFull[j]
	}
	w.mc.Drops[dropHandoffFull].Store(full)
	w.mc.HandoffsSent.Store(sent)
	w.mc.HandoffsReceived.Store(recv)
	st.pub.learned.Store(st.learned)
	st.pub.updLost.Store(st.updLost)
	for r, v := range st.reasons {
		st.pub.reasons[r].Store(v)
	}
	if st.cls != nil {
		st.pub.subflows.Store(int64(st.cls.SubflowsOf(w.id)))
	}
	if st.keys != nil {
		ks := st.keys.p.Stats()
		st.pub.keyHashes.Store(ks.Hashes)
		st.pub.keyGround.Store(ks.Ground)
		st.pub.keyHanded.Store(ks.Handed)
		st.pub.keyDropped.Store(ks.Dropped)
		st.pub.keyReceived.Store(ks.Received)
	}
}

// checkQueues fails when a port does not have one queue per worker.
func checkQueues(cfg *config.Config) error {
	nw := len(cfg.Lcores)
	for i := range cfg.Ports {
		pc := &cfg.Ports[i]
		if pc.Devices != nil && len(pc.Devices) != nw {
			return fmt.Errorf("dataplane: port %q lists %d devices for %d workers; list one device per worker (queue q = devices[q])", pc.Name, len(pc.Devices), nw)
		}
	}
	return nil
}
