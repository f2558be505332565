package dataplane

import (
	"fmt"
	"net/netip"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/fwd"
	"github.com/flexcp/flexcp/metrics"
	"github.com/flexcp/flexcp/translate"
	"github.com/prometheus/client_golang/prometheus"
)

// Layout of the reason arrays in a worker's metrics block. The forwarder,
// the translator and the worker own their reasons; publishCounters stores
// each at its index, and dropLabels, joinLabels and fallbackLabels give
// the metrics package the label of each index.
//
// Drops: [0, fwd.NumDropReasons) are fwd.DropReason values, then
// translate.DropReasonCount translate.DropReason values, then the
// worker's own reasons.
const (
	// dropFirstTranslate is the index of translate.DropReason(0).
	dropFirstTranslate = int(fwd.NumDropReasons)
	// dropTxFull counts packets the TX ring refused (freed by the worker).
	dropTxFull = dropFirstTranslate + int(translate.DropReasonCount)
	// dropNoMbuf counts the forwarder's allocator failures
	// (fwd.Counters.AllocFailures): a reply or generated packet not built.
	dropNoMbuf = dropTxFull + 1
	// dropHandoffFull counts packets dropped because the handoff ring to
	// their owner worker stayed full (several workers; steer.go).
	dropHandoffFull = dropNoMbuf + 1
	// numDrops is the number of drop reasons in use.
	numDrops = dropHandoffFull + 1
)

// The reasons fit the metrics block; these fail to compile otherwise.
var (
	_ [metrics.MaxDropReasons - numDrops]struct{}
	_ [metrics.MaxJoinRejects - int(translate.JoinRejectCount)]struct{}
	_ [metrics.MaxFallbackReasons - int(translate.FallbackReasonCount)]struct{}
)

// dropLabels returns the label of each drop index: fwd's own labels, the
// translator's prefixed translate_, then tx_full, no_mbuf and
// handoff_full.
func dropLabels() []string {
	l := make([]string, numDrops)
	for r := range fwd.NumDropReasons {
		l[r] = r.String()
	}
	for r := range translate.DropReasonCount {
		l[dropFirstTranslate+int(r)] = "translate_" + r.String()
	}
	l[dropTxFull] = "tx_full"
	l[dropNoMbuf] = "no_mbuf"
	l[dropHandoffFull] = "handoff_full"
	return l
}

// joinLabels returns the label of each join-reject index, a
// translate.JoinReject.
func joinLabels() []string {
	l := make([]string, translate.JoinRejectCount)
	for r := range translate.JoinRejectCount {
		l[r] = r.String()
	}
	return l
}

// fallbackLabels returns the label of each fallback index, a
// translate.FallbackReason.
func fallbackLabels() []string {
	l := make([]string, translate.FallbackReasonCount)
	for r := range translate.FallbackReasonCount {
		l[r] = r.String()
	}
	return l
}

// publishCounters copies the worker's owner-only counters into its
// metrics block with atomic stores, each reason at its index (see
// dropFirstTranslate). Only the worker calls it.
func (w *Worker) publishCounters() {
	mc := w.mc
	for i := range w.rxPkts {
		if i >= metrics.MaxPorts {
			break
		}
		mc.Port[i].RxPackets.Store(w.rxPkts[i])
		mc.Port[i].RxBytes.Store(w.rxBytes[i])
		mc.Port[i].TxPackets.Store(w.txPkts[i])
		mc.Port[i].TxBytes.Store(w.txBytes[i])
	}
	c := w.fwd.Counters()
	for r, v := range c.Drops {
		mc.Drops[r].Store(v)
	}
	mc.Drops[dropTxFull].Store(w.txRefused)
	mc.AcksThinned.Store(w.acksThinned)
	mc.Drops[dropNoMbuf].Store(c.AllocFailures)
	mc.ARPRequestsSent.Store(c.ARPRequestsSent)
	mc.ARPRepliesSent.Store(c.ARPRepliesSent)
	mc.NDPSolicitationsSent.Store(c.NSSent)
	mc.NDPAdvertisementsSent.Store(c.NASent)
	mc.NeighborEntries.Store(int64(c.Neighbors))
	mc.ICMPEchoRepliesSent.Store(c.EchoReplies)
	mc.ICMPErrorsSent.Store(c.TimeExceededSent + c.FragNeededSent + c.PacketTooBigSent)
	if w.st != nil {
		w.publishSteer()
	}
	if w.eng == nil {
		return
	}
	e := w.eng.Counters()
	for r, v := range e.Drops {
		mc.Drops[dropFirstTranslate+r].Store(v)
	}
	mc.ConnectionsOpened.Store(e.ConnOpened)
	mc.ConnectionsClosed.Store(e.ConnClosed)
	mc.ConnectionsActive.Store(int64(w.eng.ActiveConnections()))
	for r, v := range e.ConnFallback {
		mc.Fallbacks[r].Store(v)
	}
	mc.SubflowsOpened.Store(e.SubflowOpened)
	mc.SubflowsClosed.Store(e.SubflowClosed)
	mc.SubflowsActive.Store(int64(w.eng.ActiveSubflows()))
	trees, recs := w.eng.Mappings()
	mc.MappingTrees.Store(int64(trees))
	mc.MappingRecords.Store(int64(recs))
	mc.TokensActive.Store(int64(w.eng.Tokens()))
	mc.JoinsAccepted.Store(e.JoinsAccepted)
	for r, v := range e.JoinsRejected {
		mc.JoinsRejected[r].Store(v)
	}
	for port := 0; port < min(metrics.MaxPorts, translate.MaxCountedPorts); port++ {
		for d, dir := range [2]metrics.Direction{metrics.C2S, metrics.S2C} {
			mc.Translated[port][dir].Segments.Store(e.PortSegments[d][port])
			mc.Translated[port][dir].Bytes.Store(e.PortBytes[d][port])
		}
	}
	mc.GeneratedACKs.Store(e.GeneratedAcks)
	mc.SplitRetransmissions.Store(e.SplitRetransmits)
	mc.Reinjections.Store(e.Reinjections)
	mc.SackTableMisses.Store(e.SackTableMisses)
	mc.StalePrompts.Store(e.Prompts)
	mc.ClosedResets.Store(e.ClosedResets)
	w.publishPath()
}

// publishPath copies the translator's per-port path quality into the
// metrics block (issue 7; metrics.PathCounters).
func (w *Worker) publishPath() {
	ps := w.eng.PathStats()
	for port := 0; port < min(metrics.MaxPorts, translate.MaxCountedPorts); port++ {
		src, dst := &ps.Ports[port], &w.mc.Path[port]
		for b, v := range src.RTTBuckets {
			dst.RTTBuckets[b].Store(v)
		}
		dst.RTTSamples.Store(src.RTTSamples)
		dst.RTTSumNs.Store(src.RTTSum)
		dst.SRTTNs.Store(uint64(max(src.SRTT, 0)))
		dst.RTTVarNs.Store(uint64(max(src.RTTVar, 0)))
		dst.DeliveryRate.Store(src.Rate)
		dst.Delivered.Store(src.Delivered)
		dst.DupAcks.Store(src.DupAcks)
		dst.SACKHoles.Store(src.SACKHoles)
		dst.Stale.Store(src.Stale)
		dst.Dead.Store(src.Dead)
	}
}

// rttBounds returns translate.RTTBounds in seconds, the RTT histogram
// buckets of the flexcp_path_rtt_seconds metric.
func rttBounds() []float64 {
	b := make([]float64, len(translate.RTTBounds))
	for i, ns := range translate.RTTBounds {
		b[i] = float64(ns) / 1e9
	}
	return b
}

// The translator's RTT buckets fit the metrics block; this fails to
// compile otherwise.
var _ [metrics.MaxRTTBuckets - translate.NumRTTBuckets]struct{}

// PortStats implements metrics.PortStatsSource with ethdev statistics;
// rte_eth_stats_get is safe to call while workers poll. For a vdev on a
// kernel interface, imissed also counts the interface's receive drops
// since the port started (kdrops.go).
func (d *Dataplane) PortStats(i int) (metrics.PortStats, bool) {
	if i < 0 || i >= len(d.ports) || d.closed {
		return metrics.PortStats{}, false
	}
	var ps metrics.PortStats
	p := &d.ports[i]
	for _, id := range p.Devs {
		s, err := id.Stats()
		if err != nil {
			return metrics.PortStats{}, false
		}
		ps.IPackets += s.IPackets
		ps.OPackets += s.OPackets
		ps.IBytes += s.IBytes
		ps.OBytes += s.OBytes
		ps.IMissed += s.IMissed
		ps.IErrors += s.IErrors
		ps.OErrors += s.OErrors
		ps.RxNoMbuf += s.RxNoMbuf
	}
	if v, ok := kernelRxDropped(p.kernelIface); ok && v >= p.kernelDrops0 {
		// The interface's count already holds the socket's own drops
		// (an empty fill ring fails the redirect too): take the larger,
		// never the sum (kdrops.go).
		ps.IMissed = max(ps.IMissed, v-p.kernelDrops0)
	}
	return ps, true
}

// MempoolStats implements metrics.MempoolSource.
func (d *Dataplane) MempoolStats(i int) (metrics.MempoolStats, bool) {
	if i != 0 || d.pool == nil || d.closed {
		return metrics.MempoolStats{}, false
	}
	return metrics.MempoolStats{Name: d.pool.Name(), InUse: uint64(d.pool.InUseCount()), Capacity: uint64(d.pool.Size())}, true
}

// Registry returns a Prometheus registry exporting the dataplane's
// counters, ethdev statistics and mempool occupancy.
func (d *Dataplane) Registry() (*prometheus.Registry, error) {
	o := metrics.Options{
		PortStats:       d,
		Mempools:        d,
		DropReasons:     dropLabels(),
		JoinRejects:     joinLabels(),
		FallbackReasons: fallbackLabels(),
		RTTBounds:       rttBounds(),
	}
	for i := range d.ports {
		o.Ports = append(o.Ports, d.ports[i].Conf.Name)
	}
	for _, w := range d.workers {
		o.Workers = append(o.Workers, metrics.Worker{Counters: w.mc})
	}
	c, err := metrics.NewCollector(o)
	if err != nil {
		return nil, err
	}
	reg, err := metrics.NewRegistry(c)
	if err != nil || d.multi == nil {
		return reg, err
	}
	if err := reg.Register(newSteerCollector(d)); err != nil {
		return nil, fmt.Errorf("dataplane: steering metrics: %w", err)
	}
	return reg, nil
}

// engineConfig translates the [proxy] section into the engine's config.
func engineConfig(cfg *config.Config) translate.Config {
	p := &cfg.Proxy
	ports := p.PortSet()
	tc := translate.Config{
		MaxConnections: p.MaxConnections,
		MaxSubflows:    min(p.MaxSubflows, 8),
		JoinSubflows:   p.JoinSubflows,
		SackTables:     p.SackTables,
		SynTimeout:     p.SYNTimeout,
		JoinTimeout:    p.JoinTimeout,
		IdleTimeout:    p.IdleTimeout,
		Linger:         p.Linger,
		DeadAfter:      p.SubflowDeadAfter,
		Scheduler:      p.Scheduler.String(),
		StaleAfter:     p.SubflowStaleAfter,
		StalePrompt:    p.StalePrompt,
		Translate: func(dst netip.Addr, port uint16) bool {
			return ports.Contains(port) && p.TranslatesPrefix(dst)
		},
	}
	for _, r := range p.SchedulerRules {
		tc.SchedulerRules = append(tc.SchedulerRules, translate.SchedulerRule{Prefix: r.Prefix, Scheduler: r.Scheduler.String()})
	}
	for _, i := range p.BackupPorts {
		tc.BackupPorts = append(tc.BackupPorts, uint8(i))
	}
	for _, i := range p.PortPriority {
		tc.PortPriority = append(tc.PortPriority, uint8(i))
	}
	mtu := 0
	for i := range cfg.Ports {
		if cfg.Ports[i].Role == config.RoleAccess && (mtu == 0 || cfg.Ports[i].MTU < mtu) {
			mtu = cfg.Ports[i].MTU
		}
	}
	if mtu >= 1280 {
		tc.AccessMTU = mtu
	}
	return tc
}
