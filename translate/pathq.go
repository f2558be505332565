package translate

import (
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// Path quality (DESIGN 3.5, issue 7): what P learns about each client
// path from its own send times and the client's subflow acks. Per subflow
// it keeps the smoothed RTT and its variance (RFC 6298 gains), a windowed
// minimum RTT, a delivery rate, bytes in flight and an estimated window
// (state.go); the schedulers read them through SubflowInfo. Per access port it keeps the
// aggregates below for the metrics.

// RTTBounds are the upper bounds, in nanoseconds, of the RTT histogram
// buckets of PortPath (the last bucket, beyond them, is +Inf).
var RTTBounds = [...]int64{
	100e3, 250e3, 500e3, 1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6, 250e6, 500e6, 1e9, 2.5e9, 5e9,
}

// NumRTTBuckets is the number of RTT histogram buckets, +Inf included.
const NumRTTBuckets = len(RTTBounds) + 1

// minRTTWindow is how long a minimum RTT sample stands (BBR's
// min_rtt filter, RFC draft-ietf-ccwg-bbr: 10 s): a later sample replaces
// it when it is no higher or when it is older than this, so a path whose
// base delay rose is followed within minRTTWindow. minRTTTick is the unit
// of subflow.minRTTAt: 2^20 ns (about 1.05 ms), so the stamp is a shift of
// the clock and fits 32 bits (wrapping after 52 days, compared mod 2^32).
const (
	minRTTWindow = int64(10e9)
	minRTTShift  = 20
	minRTTTicks  = uint32(minRTTWindow >> minRTTShift)
	// maxMinRTT bounds the stored minimum (us, about 67 s) so that
	// rate x minRTT cannot overflow.
	maxMinRTT = 1 << 26
)

// rateInterval is the shortest delivery-rate sampling interval; a sample
// spans at least one smoothed RTT.
const rateInterval = int64(10e6)

// PortPath is the path quality seen on one access port: every subflow
// that runs over the port contributes.
type PortPath struct {
	// RTTBuckets counts RTT samples by bucket: RTTBuckets[i] counts the
	// samples in (RTTBounds[i-1], RTTBounds[i]], the last one those above
	// every bound (not cumulative).
	RTTBuckets [NumRTTBuckets]uint64
	// RTTSamples and RTTSum (ns) are the number and sum of RTT samples.
	RTTSamples, RTTSum uint64
	// SRTT and RTTVar are the port's smoothed RTT and RTT variance (ns),
	// over the samples of all its subflows.
	SRTT, RTTVar int64
	// Rate is the smoothed delivery rate (bytes/s) of the port's
	// subflows, per subflow: with one connection, the path's.
	Rate uint64
	// Delivered counts S->C bytes the client acknowledged at the subflow
	// level.
	Delivered uint64
	// DupAcks counts the client's duplicate subflow acks (pure ACKs that
	// do not advance while P has data outstanding): a loss signal.
	DupAcks uint64
	// SACKHoles counts SACK blocks the client reported above its subflow
	// ack (each marks a hole before it): a loss signal.
	SACKHoles uint64
	// Stale counts times a subflow on the port was found stale by the
	// scheduler (Config.StaleAfter); Dead counts subflows declared dead
	// (Config.DeadAfter).
	Stale, Dead uint64
}

// PathStats is the path quality of every access port (indices below
// MaxCountedPorts). Like Counters, it is written only by the Engine's
// goroutine; Engine.PathStats returns a copy.
type PathStats struct {
	Ports [MaxCountedPorts]PortPath
}

// PathStats returns a copy of the per-port path quality.
func (e *Engine) PathStats() PathStats { return e.path }

// portPath returns the port's aggregate, or nil beyond MaxCountedPorts.
func (e *Engine) portPath(port uint8) *PortPath {
	if int(port) < MaxCountedPorts {
		return &e.path.Ports[port]
	}
	return nil
}

// rttSample folds one RTT sample (ns), taken at now, into s and its port
// (RFC 6298 2.3: RTTVAR gain 1/4, SRTT gain 1/8) and into s's windowed
// minimum (minRTTWindow).
func (e *Engine) rttSample(now int64, s *subflow, sample int64) {
	if sample < 0 {
		return
	}
	us := uint32(min(max(sample/1e3, 1), maxMinRTT))
	at := uint32(now >> minRTTShift)
	if s.minRTT == 0 || us <= s.minRTT || at-s.minRTTAt > minRTTTicks {
		s.minRTT, s.minRTTAt = us, at
	}
	if s.srtt == 0 {
		s.srtt, s.rttvar = sample, sample/2
	} else {
		d := s.srtt - sample
		if d < 0 {
			d = -d
		}
		s.rttvar += (d - s.rttvar) / 4
		s.srtt += (sample - s.srtt) / 8
	}
	pp := e.portPath(s.port)
	if pp == nil {
		return
	}
	b := 0
	for b < len(RTTBounds) && sample > RTTBounds[b] {
		b++
	}
	pp.RTTBuckets[b]++
	pp.RTTSamples++
	pp.RTTSum += uint64(sample)
	if pp.SRTT == 0 {
		pp.SRTT, pp.RTTVar = sample, sample/2
	} else {
		d := pp.SRTT - sample
		if d < 0 {
			d = -d
		}
		pp.RTTVar += (d - pp.RTTVar) / 4
		pp.SRTT += (sample - pp.SRTT) / 8
	}
}

// delivered counts acked bytes newly acknowledged on s and closes a
// delivery-rate interval once it spans a smoothed RTT (at least
// rateInterval): rate = bytes acknowledged / busy time, smoothed with
// gain 1/4.
func (e *Engine) delivered(now int64, s *subflow, acked uint32) {
	s.dlvBytes += uint64(acked)
	pp := e.portPath(s.port)
	if pp != nil {
		pp.Delivered += uint64(acked)
	}
	el := now - s.dlvStart
	if el < max(s.srtt, rateInterval) {
		return
	}
	sample := s.dlvBytes * 1e9 / uint64(el)
	s.rate = smooth(s.rate, sample)
	s.dlvStart, s.dlvBytes = now, 0
	if pp != nil {
		pp.Rate = smooth(pp.Rate, sample)
	}
}

// smooth returns the moving average of old and sample with gain 1/4
// (sample alone when old is 0).
func smooth(old, sample uint64) uint64 {
	if old == 0 {
		return sample
	}
	return old - old/4 + sample/4
}

// bdp is s's bandwidth-delay product in bytes: delivery rate x windowed
// minimum RTT; 0 while either is unmeasured. The minimum, not the smoothed
// RTT: the smoothed RTT of a path P keeps busy includes the queue P's own
// data built there, so a product with it grows with that queue (each
// round lets the path take more, which lengthens the queue), and the
// slow path of two takes far more than its share (results/path.md).
func (s *subflow) bdp() uint64 {
	return s.rate * uint64(s.minRTT) / 1e6
}

// schedWindow is the window the schedulers compare bytes in flight
// against: the subflow's estimate (s.wnd: grows with acknowledged bytes,
// halves on a retransmission), capped, once a delivery rate and an RTT
// are measured, at twice the bandwidth-delay product (bdp: rate x minimum
// RTT; never below the initial window). Without the cap, the estimate of
// a loss-free path grows without bound, so a lower-RTT path never fills
// and minrtt starves the others, and a path whose delay rose keeps a
// window sized for its old delay. Twice the BDP leaves room for the rate
// to double per RTT, as slow start does, and bounds the queue P builds
// on a path that is not full to one BDP.
func schedWindow(s *subflow) uint32 {
	w := s.wnd
	bdp := s.bdp()
	if bdp == 0 {
		return w
	}
	if c := max(2*bdp, initialWindow); c < uint64(w) {
		w = uint32(c)
	}
	return w
}

// busy starts a delivery-rate interval when s goes from idle to sending,
// so idle time does not count against its rate.
func busy(now int64, s *subflow) {
	s.dlvStart, s.dlvBytes = now, 0
}

// lossSignals counts a duplicate subflow ack and the SACK holes the
// client's segment on s reports (ack is its subflow ack, rel SSN).
func (e *Engine) lossSignals(s *subflow, ack header.Seq32) {
	if s.sndUna == s.sndNxt {
		return
	}
	pp := e.portPath(s.port)
	if pp == nil {
		return
	}
	pk := &e.pk
	if ack == header.Seq32(s.sndUna) && pk.payLen == 0 && pk.flags&(header.TCPFlagSyn|header.TCPFlagFin|header.TCPFlagRst) == 0 {
		pp.DupAcks++
	}
	pp.SACKHoles += uint64(pk.opts.NSACK)
}

// isStale reports whether live subflow s has had data outstanding without
// subflow-ack progress for Config.StaleAfter, counting each time the
// scheduler passes it over.
func (e *Engine) isStale(now int64, s *subflow) bool {
	if s.sndNxt == s.sndUna || now-s.progress <= int64(e.cfg.StaleAfter) {
		return false
	}
	if pp := e.portPath(s.port); pp != nil {
		pp.Stale++
	}
	return true
}

// backupPort reports whether Config.BackupPorts lists access port port.
func (e *Engine) backupPort(port uint8) bool {
	for _, b := range e.cfg.BackupPorts {
		if b == port {
			return true
		}
	}
	return false
}

// prio0 announces subflow 0 as backup (its access port is in
// Config.BackupPorts): MP_PRIO B=1 (RFC 8684 3.3.8 applies it to the
// subflow it travels on) on the first segment P sends the client on it
// once the connection is established, as the fourth ACK does for a join.
// The DSS is already written; MP_PRIO's 3 bytes always fit beside it.
func (e *Engine) prio0(s *subflow) {
	if e.ow.room() >= option.OptLenMPPrio {
		e.ow.mpPrio(true)
		s.prio0 = false
	}
}

// mpPrio appends MP_PRIO (RFC 8684 3.3.8, 3 bytes: no address ID, so it
// applies to the subflow it travels on).
func (w *optWriter) mpPrio(backup bool) {
	b := byte(0)
	if backup {
		b = option.MPPrioBackup
	}
	w.b[w.n], w.b[w.n+1], w.b[w.n+2] = optMPTCP, option.OptLenMPPrio, option.SubtypeMPPrio<<4|b
	w.n += option.OptLenMPPrio
}
