package metrics

import (
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// PortStats are a port's ethdev statistics (struct rte_eth_stats).
type PortStats struct {
	IPackets, OPackets uint64
	IBytes, OBytes     uint64
	IMissed            uint64
	IErrors, OErrors   uint64
	RxNoMbuf           uint64
}

// PortStatsSource gives ethdev statistics by port index; the dataplane
// implements it. PortStats is called at scrape time from the HTTP
// goroutine, so it must be safe to call concurrently with the workers;
// ok false skips the port.
type PortStatsSource interface {
	PortStats(port int) (stats PortStats, ok bool)
}

// MempoolStats describe one packet pool.
type MempoolStats struct {
	// Name labels the pool.
	Name string
	// InUse is the number of mbufs taken from the pool.
	InUse uint64
	// Capacity is the number of mbufs in the pool.
	Capacity uint64
}

// MempoolSource gives mempool occupancy by pool index 0, 1, ... until ok
// is false; the dataplane implements it. It is called at scrape time.
type MempoolSource interface {
	MempoolStats(i int) (stats MempoolStats, ok bool)
}

// Worker names one worker's counter block.
type Worker struct {
	// Name is the worker label; empty means the worker's index.
	Name string
	// Counters is the worker's block.
	Counters *Counters
}

// Options say what a Collector exports.
type Options struct {
	// Workers are the counter blocks, one per worker.
	Workers []Worker
	// Ports are the port names by port index (at most MaxPorts); only
	// these ports are exported.
	Ports []string
	// PortStats, if not nil, supplies the flexcp_ethdev_* metrics.
	PortStats PortStatsSource
	// Mempools, if not nil, supplies the flexcp_mempool_* metrics.
	Mempools MempoolSource

	// DropReasons labels Counters.Drops: DropReasons[i] is the reason
	// label of slot i. Each labelled slot is exported, at zero too, so a
	// dashboard sees every reason; slots past the list are not exported
	// (Sum still counts them). Labels are unique, non-empty snake_case, at
	// most MaxDropReasons of them.
	DropReasons []string
	// JoinRejects labels Counters.JoinsRejected the same way (at most
	// MaxJoinRejects).
	JoinRejects []string
	// FallbackReasons labels Counters.Fallbacks the same way (at most
	// MaxFallbackReasons).
	FallbackReasons []string
	// RTTBounds are the upper bounds (seconds, rising) of the RTT
	// histogram buckets of Counters.Path, fewer than MaxRTTBuckets; nil
	// exports no flexcp_path_* metrics.
	RTTBounds []float64
}

// Collector is a prometheus.Collector that reads the workers' Counters
// blocks and the optional sources at scrape time.
type Collector struct {
	o       Options
	workers []string
	d       descs
	pd      pathDescs
}

type descs struct {
	rxPackets, rxBytes, txPackets, txBytes *prometheus.Desc
	drops                                  *prometheus.Desc
	arpReq, arpRep, ndpSol, ndpAdv         *prometheus.Desc
	neighbors                              *prometheus.Desc
	echoReplies, icmpErrors                *prometheus.Desc
	handoffsSent, handoffsReceived         *prometheus.Desc
	connOpened, connClosed, connActive     *prometheus.Desc
	connFallback                           *prometheus.Desc
	sfOpened, sfClosed, sfActive           *prometheus.Desc
	joinsAccepted, joinsRejected           *prometheus.Desc
	xlatSegments, xlatBytes                *prometheus.Desc
	genACKs, splitRetrans, reinjections    *prometheus.Desc
	sackTableMisses                        *prometheus.Desc
	stalePrompts                           *prometheus.Desc
	closedResets                           *prometheus.Desc
	acksThinned                            *prometheus.Desc
	ethdev                                 [8]*prometheus.Desc
	poolInUse, poolCapacity                *prometheus.Desc
	mapTrees, mapRecords, tokens           *prometheus.Desc
}

// ethdevNames are the flexcp_ethdev_<name>_total metrics, in PortStats
// field order.
var ethdevNames = [8][2]string{
	{"ipackets", "Packets received by the port (rte_eth_stats.ipackets)."},
	{"opackets", "Packets sent by the port (rte_eth_stats.opackets)."},
	{"ibytes", "Bytes received by the port (rte_eth_stats.ibytes)."},
	{"obytes", "Bytes sent by the port (rte_eth_stats.obytes)."},
	{"imissed", "Packets dropped by the port because the receive queues were full (rte_eth_stats.imissed)."},
	{"ierrors", "Erroneous packets received (rte_eth_stats.ierrors)."},
	{"oerrors", "Packets the port failed to send (rte_eth_stats.oerrors)."},
	{"rx_nombuf", "Receive failures for lack of mbufs (rte_eth_stats.rx_nombuf)."},
}

func (s PortStats) values() [8]uint64 {
	return [8]uint64{s.IPackets, s.OPackets, s.IBytes, s.OBytes, s.IMissed, s.IErrors, s.OErrors, s.RxNoMbuf}
}

// NewCollector checks o and builds a Collector. Register it with a
// prometheus.Registry (or use NewRegistry).
func NewCollector(o Options) (*Collector, error) {
	if len(o.Ports) > MaxPorts {
		return nil, fmt.Errorf("metrics: %d ports; at most %d are supported", len(o.Ports), MaxPorts)
	}
	for _, l := range []struct {
		what, field string
		labels      []string
		max         int
	}{
		{"drop reason", "DropReasons", o.DropReasons, MaxDropReasons},
		{"join-reject reason", "JoinRejects", o.JoinRejects, MaxJoinRejects},
		{"fallback reason", "FallbackReasons", o.FallbackReasons, MaxFallbackReasons},
	} {
		if err := checkLabels(l.what, l.field, l.labels, l.max); err != nil {
			return nil, err
		}
	}
	if err := checkRTTBounds(o.RTTBounds); err != nil {
		return nil, err
	}
	o.RTTBounds = slices.Clone(o.RTTBounds)
	// The collector keeps its own copies: a caller changing a label later
	// must not rename a series between scrapes.
	o.DropReasons = slices.Clone(o.DropReasons)
	o.JoinRejects = slices.Clone(o.JoinRejects)
	o.FallbackReasons = slices.Clone(o.FallbackReasons)
	c := &Collector{o: o, pd: newPathDescs()}
	seen := map[string]bool{}
	for i, w := range o.Workers {
		if w.Counters == nil {
			return nil, fmt.Errorf("metrics: worker %d has no Counters block", i)
		}
		name := w.Name
		if name == "" {
			name = strconv.Itoa(i)
		}
		if seen[name] {
			return nil, fmt.Errorf("metrics: worker name %q is used twice; give each worker its own name", name)
		}
		seen[name] = true
		c.workers = append(c.workers, name)
	}
	w := []string{"worker"}
	wp := []string{"worker", "port"}
	wr := []string{"worker", "reason"}
	d := &c.d
	d.rxPackets = desc("port_rx_packets_total", "Packets received per port by each worker.", wp)
	d.rxBytes = desc("port_rx_bytes_total", "Bytes received per port by each worker.", wp)
	d.txPackets = desc("port_tx_packets_total", "Packets sent per port by each worker.", wp)
	d.txBytes = desc("port_tx_bytes_total", "Bytes sent per port by each worker.", wp)
	d.drops = desc("drops_total", "Packets dropped, by reason.", wr)
	d.arpReq = desc("arp_requests_sent_total", "ARP requests sent to resolve next hops.", w)
	d.arpRep = desc("arp_replies_sent_total", "ARP replies sent for flexcp's addresses.", w)
	d.ndpSol = desc("ndp_solicitations_sent_total", "NDP neighbour solicitations sent.", w)
	d.ndpAdv = desc("ndp_advertisements_sent_total", "NDP neighbour advertisements sent.", w)
	d.neighbors = desc("neighbor_entries", "Entries in the worker's neighbour table.", w)
	d.echoReplies = desc("icmp_echo_replies_sent_total", "ICMP and ICMPv6 echo replies sent.", w)
	d.icmpErrors = desc("icmp_errors_sent_total", "ICMP and ICMPv6 errors sent (time exceeded, unreachable, too big).", w)
	d.handoffsSent = desc("handoffs_sent_total", "Packets handed to the worker that owns them.", w)
	d.handoffsReceived = desc("handoffs_received_total", "Packets received from other workers.", w)
	d.connOpened = desc("connections_opened_total", "Translated connections opened by an MP_CAPABLE SYN.", w)
	d.connClosed = desc("connections_closed_total", "Translated connections whose state was released.", w)
	d.connActive = desc("connections_active", "Translated connections in the worker's table.", w)
	d.connFallback = desc("connections_fallback_total", "Connections that fell back to plain TCP, by reason.", wr)
	d.sfOpened = desc("subflows_opened_total", "Subflows opened, initial subflows included.", w)
	d.sfClosed = desc("subflows_closed_total", "Subflows closed.", w)
	d.sfActive = desc("subflows_active", "Live subflows.", w)
	d.joinsAccepted = desc("joins_accepted_total", "MP_JOIN subflows accepted.", w)
	d.joinsRejected = desc("joins_rejected_total", "MP_JOIN subflows refused, by reason.", wr)
	d.xlatSegments = desc("translated_segments_total", "Segments translated, per access port and direction (c2s, s2c).", []string{"worker", "port", "direction"})
	d.xlatBytes = desc("translated_bytes_total", "Payload bytes translated, per access port and direction (c2s: arrived on the port; s2c: sent by it, retransmitted pieces included).", []string{"worker", "port", "direction"})
	d.genACKs = desc("generated_acks_total", "Pure ACKs generated to advance subflows.", w)
	d.splitRetrans = desc("split_retransmissions_total", "Server retransmissions split over several earlier mappings.", w)
	d.reinjections = desc("reinjections_total", "Ranges reinjected on another subflow after theirs died.", w)
	d.sackTableMisses = desc("sack_table_misses_total", "Server SACKs not remembered for want of a free SACKed-range table.", w)
	d.stalePrompts = desc("stale_prompts_total", "Stale subflows for which the server was prompted to retransmit by duplicate ACKs.", w)
	d.closedResets = desc("closed_resets_total", "RSTs answering server segments on connections the client had reset.", w)
	d.acksThinned = desc("server_acks_thinned_total", "Server pure ACKs freed before translation: a later pure ACK of the same connection in the same RX burst superseded them.", w)
	for i, n := range ethdevNames {
		d.ethdev[i] = desc("ethdev_"+n[0]+"_total", n[1], []string{"port"})
	}
	d.mapTrees = desc("mapping_trees_active", "Live D-trees (per-connection sequence-mapping stores).", w)
	d.mapRecords = desc("mapping_records_active", "D-tree slab records held by live trees.", w)
	d.tokens = desc("tokens_active", "Entries in the token table.", w)
	d.poolInUse = desc("mempool_in_use", "Mbufs taken from the pool.", []string{"pool"})
	d.poolCapacity = desc("mempool_capacity", "Mbufs in the pool.", []string{"pool"})
	return c, nil
}

func desc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc("flexcp_"+name, help, labels, nil)
}

// Describe sends every metric description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	d := &c.d
	for _, x := range []*prometheus.Desc{
		d.rxPackets, d.rxBytes, d.txPackets, d.txBytes, d.drops,
		d.arpReq, d.arpRep, d.ndpSol, d.ndpAdv, d.neighbors, d.echoReplies, d.icmpErrors,
		d.handoffsSent, d.handoffsReceived,
		d.connOpened, d.connClosed, d.connActive, d.connFallback,
		d.sfOpened, d.sfClosed, d.sfActive, d.joinsAccepted, d.joinsRejected,
		d.xlatSegments, d.xlatBytes, d.genACKs, d.splitRetrans, d.reinjections, d.sackTableMisses, d.stalePrompts,
		d.closedResets, d.acksThinned, d.poolInUse, d.poolCapacity, d.mapTrees, d.mapRecords, d.tokens,
	} {
		ch <- x
	}
	for _, x := range d.ethdev {
		ch <- x
	}
	if c.o.RTTBounds != nil {
		for _, x := range c.pd.all() {
			ch <- x
		}
	}
}

// Collect reads every block and source and sends their values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	d := &c.d
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(desc *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v), labels...)
	}
	for wi, w := range c.o.Workers {
		name := c.workers[wi]
		k := w.Counters
		for pi, port := range c.o.Ports {
			p := &k.Port[pi]
			counter(d.rxPackets, p.RxPackets.Load(), name, port)
			counter(d.rxBytes, p.RxBytes.Load(), name, port)
			counter(d.txPackets, p.TxPackets.Load(), name, port)
			counter(d.txBytes, p.TxBytes.Load(), name, port)
			for dir := Direction(0); dir < NumDirections; dir++ {
				t := &k.Translated[pi][dir]
				counter(d.xlatSegments, t.Segments.Load(), name, port, dir.String())
				counter(d.xlatBytes, t.Bytes.Load(), name, port, dir.String())
			}
			if c.o.RTTBounds != nil {
				c.collectPath(ch, &k.Path[pi], name, port)
			}
		}
		// NewCollector checked that each list fits its array.
		for r, l := range c.o.DropReasons {
			counter(d.drops, k.Drops[r].Load(), name, l)
		}
		for r, l := range c.o.JoinRejects {
			counter(d.joinsRejected, k.JoinsRejected[r].Load(), name, l)
		}
		for r, l := range c.o.FallbackReasons {
			counter(d.connFallback, k.Fallbacks[r].Load(), name, l)
		}
		for _, x := range []struct {
			desc *prometheus.Desc
			v    *atomic.Uint64
		}{
			{d.arpReq, &k.ARPRequestsSent}, {d.arpRep, &k.ARPRepliesSent},
			{d.ndpSol, &k.NDPSolicitationsSent}, {d.ndpAdv, &k.NDPAdvertisementsSent},
			{d.echoReplies, &k.ICMPEchoRepliesSent}, {d.icmpErrors, &k.ICMPErrorsSent},
			{d.handoffsSent, &k.HandoffsSent}, {d.handoffsReceived, &k.HandoffsReceived},
			{d.connOpened, &k.ConnectionsOpened}, {d.connClosed, &k.ConnectionsClosed},
			{d.sfOpened, &k.SubflowsOpened}, {d.sfClosed, &k.SubflowsClosed},
			{d.joinsAccepted, &k.JoinsAccepted},
			{d.genACKs, &k.GeneratedACKs}, {d.splitRetrans, &k.SplitRetransmissions},
			{d.reinjections, &k.Reinjections}, {d.sackTableMisses, &k.SackTableMisses},
			{d.stalePrompts, &k.StalePrompts}, {d.closedResets, &k.ClosedResets},
			{d.acksThinned, &k.AcksThinned},
		} {
			counter(x.desc, x.v.Load(), name)
		}
		gauge(d.neighbors, k.NeighborEntries.Load(), name)
		gauge(d.connActive, k.ConnectionsActive.Load(), name)
		gauge(d.sfActive, k.SubflowsActive.Load(), name)
		gauge(d.mapTrees, k.MappingTrees.Load(), name)
		gauge(d.mapRecords, k.MappingRecords.Load(), name)
		gauge(d.tokens, k.TokensActive.Load(), name)
	}
	if src := c.o.PortStats; src != nil {
		for pi, port := range c.o.Ports {
			s, ok := src.PortStats(pi)
			if !ok {
				continue
			}
			for i, v := range s.values() {
				counter(d.ethdev[i], v, port)
			}
		}
	}
	if src := c.o.Mempools; src != nil {
		for i := 0; ; i++ {
			s, ok := src.MempoolStats(i)
			if !ok {
				break
			}
			gauge(d.poolInUse, int64(s.InUse), s.Name)
			gauge(d.poolCapacity, int64(s.Capacity), s.Name)
		}
	}
}
