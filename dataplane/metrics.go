package dataplane

import (
	"net/netip"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/fwd"
	"github.com/flexcp/flexcp/metrics"
	"github.com/flexcp/flexcp/translate"
	"github.com/prometheus/client_golang/prometheus"
)

// fwdDrop maps the forwarder's fine-grained drop reasons to the exported
// ones (metrics.DropReason); several fwd reasons share one label.
var fwdDrop = [fwd.NumDropReasons]metrics.DropReason{
	fwd.DropBadFrame:          metrics.DropBadL2,
	fwd.DropEthTruncated:      metrics.DropBadL2,
	fwd.DropEthNotForUs:       metrics.DropNotForUs,
	fwd.DropVLAN:              metrics.DropBadL2,
	fwd.DropEtherType:         metrics.DropUnknownEtherType,
	fwd.DropARPMalformed:      metrics.DropBadARP,
	fwd.DropARPNotForUs:       metrics.DropBadARP,
	fwd.DropIPv4Truncated:     metrics.DropBadL3,
	fwd.DropIPv4Version:       metrics.DropBadL3,
	fwd.DropIPv4HeaderLen:     metrics.DropBadL3,
	fwd.DropIPv4TotalLen:      metrics.DropBadL3,
	fwd.DropIPv4Checksum:      metrics.DropBadL3,
	fwd.DropIPv6Truncated:     metrics.DropBadL3,
	fwd.DropIPv6Version:       metrics.DropBadL3,
	fwd.DropIPv6PayloadLen:    metrics.DropBadL3,
	fwd.DropMulticast:         metrics.DropLocalUnsupported,
	fwd.DropMartian:           metrics.DropBadL3,
	fwd.DropNoRoute:           metrics.DropNoRoute,
	fwd.DropTTLExpired:        metrics.DropTTLExceeded,
	fwd.DropTooBig:            metrics.DropTooBig,
	fwd.DropTooBigNoDF:        metrics.DropTooBig,
	fwd.DropNoHeadroom:        metrics.DropBadL2,
	fwd.DropLocal:             metrics.DropLocalUnsupported,
	fwd.DropICMPMalformed:     metrics.DropBadICMP,
	fwd.DropICMPv6Ignored:     metrics.DropLocalUnsupported,
	fwd.DropNDPMalformed:      metrics.DropBadNDP,
	fwd.DropNDPNotForUs:       metrics.DropBadNDP,
	fwd.DropNeighborFailed:    metrics.DropNeighborUnresolved,
	fwd.DropNeighborTableFull: metrics.DropNeighborUnresolved,
	fwd.DropPendingFull:       metrics.DropNeighborQueueFull,
	fwd.DropPendingExpired:    metrics.DropNeighborUnresolved,
}

// publishCounters copies the worker's owner-only counters into its
// metrics block with atomic stores. Only the worker calls it.
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
	var drops [metrics.NumDropReasons]uint64
	for r, v := range c.Drops {
		drops[fwdDrop[r]] += v
	}
	drops[metrics.DropTxFull] += w.txRefused
	drops[metrics.DropNoMbuf] += c.AllocFailures
	mc.ARPRequestsSent.Store(c.ARPRequestsSent)
	mc.ARPRepliesSent.Store(c.ARPRepliesSent)
	mc.NDPSolicitationsSent.Store(c.NSSent)
	mc.NDPAdvertisementsSent.Store(c.NASent)
	mc.NeighborEntries.Store(int64(c.Neighbors))
	mc.ICMPEchoRepliesSent.Store(c.EchoReplies)
	mc.ICMPErrorsSent.Store(c.TimeExceededSent + c.FragNeededSent + c.PacketTooBigSent)
	if w.eng == nil {
		for r, v := range drops {
			mc.Drops[r].Store(v)
		}
		return
	}
	e := w.eng.Counters()
	for r, v := range e.Drops {
		drops[translateDrop[r]] += v
	}
	for r, v := range drops {
		mc.Drops[r].Store(v)
	}
	mc.ConnectionsOpened.Store(e.ConnOpened)
	mc.ConnectionsClosed.Store(e.ConnClosed)
	mc.ConnectionsActive.Store(int64(w.eng.ActiveConnections()))
	var fb uint64
	for _, v := range e.ConnFallback {
		fb += v
	}
	mc.ConnectionsFallback.Store(fb)
	mc.SubflowsOpened.Store(e.SubflowOpened)
	mc.SubflowsClosed.Store(e.SubflowClosed)
	mc.SubflowsActive.Store(int64(w.eng.ActiveSubflows()))
	mc.JoinsAccepted.Store(e.JoinsAccepted)
	for r, v := range e.JoinsRejected {
		mc.JoinsRejected[joinReject[r]].Store(v)
	}
	mc.Translated[0][metrics.C2S].Segments.Store(e.SegmentsC2S)
	mc.Translated[0][metrics.C2S].Bytes.Store(e.BytesC2S)
	mc.Translated[0][metrics.S2C].Segments.Store(e.SegmentsS2C)
	mc.Translated[0][metrics.S2C].Bytes.Store(e.BytesS2C)
	mc.GeneratedACKs.Store(e.GeneratedAcks)
	mc.SplitRetransmissions.Store(e.SplitRetransmits)
	mc.Reinjections.Store(e.Reinjections)
}

// PortStats implements metrics.PortStatsSource with ethdev statistics;
// rte_eth_stats_get is safe to call while workers poll.
func (d *Dataplane) PortStats(i int) (metrics.PortStats, bool) {
	if i < 0 || i >= len(d.ports) || d.closed {
		return metrics.PortStats{}, false
	}
	s, err := d.ports[i].ID.Stats()
	if err != nil {
		return metrics.PortStats{}, false
	}
	return metrics.PortStats{IPackets: s.IPackets, OPackets: s.OPackets, IBytes: s.IBytes, OBytes: s.OBytes,
		IMissed: s.IMissed, IErrors: s.IErrors, OErrors: s.OErrors, RxNoMbuf: s.RxNoMbuf}, true
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
	o := metrics.Options{PortStats: d, Mempools: d}
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
	return metrics.NewRegistry(c)
}

// translateDrop maps the translator's drop reasons to the exported ones.
var translateDrop = [translate.DropReasonCount]metrics.DropReason{
	translate.DropMalformed:    metrics.DropTranslateBadOption,
	translate.DropNoMapping:    metrics.DropTranslateNoMapping,
	translate.DropNoHeadroom:   metrics.DropTranslateNoOptionSpace,
	translate.DropOptionSpace:  metrics.DropTranslateNoOptionSpace,
	translate.DropAllocFailed:  metrics.DropNoMbuf,
	translate.DropEmitFull:     metrics.DropNoMbuf,
	translate.DropBadState:     metrics.DropTranslateNoConnection,
	translate.DropUnsupported:  metrics.DropTranslateBadOption,
	translate.DropNoSubflow:    metrics.DropTranslateNoSubflow,
	translate.DropStale:        metrics.DropTranslateOutOfWindow,
	translate.DropKeyExhausted: metrics.DropTranslateTableFull,
	translate.DropMapFull:      metrics.DropTranslateTableFull,
}

// engineConfig translates the [proxy] section into the engine's config.
func engineConfig(cfg *config.Config) translate.Config {
	p := &cfg.Proxy
	ports := p.PortSet()
	tc := translate.Config{
		MaxConnections: p.MaxConnections,
		MaxSubflows:    min(p.MaxSubflows, 8),
		SynTimeout:     p.SYNTimeout,
		JoinTimeout:    p.JoinTimeout,
		IdleTimeout:    p.IdleTimeout,
		Linger:         p.Linger,
		DeadAfter:      p.SubflowDeadAfter,
		Scheduler:      p.Scheduler.String(),
		Translate: func(dst netip.Addr, port uint16) bool {
			return ports.Contains(port) && p.TranslatesPrefix(dst)
		},
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

// joinReject maps the translator's join-reject reasons to the exported ones.
var joinReject = [translate.JoinRejectCount]metrics.JoinReject{
	translate.JoinUnknownToken:    metrics.JoinUnknownToken,
	translate.JoinBadHMAC:         metrics.JoinBadHMAC,
	translate.JoinNotEstablished:  metrics.JoinNotEstablished,
	translate.JoinTooManySubflows: metrics.JoinSubflowLimit,
	translate.JoinTableFull:       metrics.JoinSubflowLimit,
	translate.JoinTimeout:         metrics.JoinTimeout,
	translate.JoinMalformed:       metrics.JoinBadOption,
}
