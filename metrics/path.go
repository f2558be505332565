package metrics

import (
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxRTTBuckets is the number of RTT histogram buckets per port in a
// Counters block, +Inf included.
const MaxRTTBuckets = 24

// PathCounters is the path quality one worker saw on one access port
// (DESIGN.md section 3.5): what the translator measured from its own send
// times and the client's subflow acks. The owner stores whole values
// (atomic stores of its own running totals); gauges are marked.
type PathCounters struct {
	// RTTBuckets counts RTT samples per bucket (not cumulative):
	// RTTBuckets[i] counts samples at most Options.RTTBounds[i] and above
	// the bound before; the slot after the last bound counts the rest.
	RTTBuckets [MaxRTTBuckets]atomic.Uint64
	// RTTSamples and RTTSumNs are the number and sum (ns) of samples.
	RTTSamples, RTTSumNs atomic.Uint64
	// SRTTNs and RTTVarNs are the smoothed RTT and its variance (gauges).
	SRTTNs, RTTVarNs atomic.Uint64
	// DeliveryRate is the smoothed delivery rate per subflow, bytes/s
	// (gauge).
	DeliveryRate atomic.Uint64
	// Delivered counts bytes the client acknowledged at the subflow level.
	Delivered atomic.Uint64
	// DupAcks and SACKHoles count loss signals: duplicate subflow acks and
	// SACK blocks above the subflow ack.
	DupAcks, SACKHoles atomic.Uint64
	// Stale counts times a stale subflow was passed over; Dead counts
	// subflows declared dead.
	Stale, Dead atomic.Uint64
}

type pathDescs struct {
	rtt, srtt, rttvar, rate       *prometheus.Desc
	delivered, dupAcks, sackHoles *prometheus.Desc
	stale, dead                   *prometheus.Desc
}

func newPathDescs() pathDescs {
	wp := []string{"worker", "port"}
	return pathDescs{
		rtt:       desc("path_rtt_seconds", "RTT samples of server-to-client data per access port, from flexcp's send times and the client's subflow acks.", wp),
		srtt:      desc("path_srtt_seconds", "Smoothed RTT per access port.", wp),
		rttvar:    desc("path_rttvar_seconds", "RTT variance (RFC 6298 RTTVAR) per access port.", wp),
		rate:      desc("path_delivery_rate_bytes", "Smoothed delivery rate of a subflow on the access port, bytes per second.", wp),
		delivered: desc("path_delivered_bytes_total", "Server-to-client bytes the client acknowledged at the subflow level, per access port.", wp),
		dupAcks:   desc("path_dupacks_total", "Duplicate subflow acks from the client (loss signal), per access port.", wp),
		sackHoles: desc("path_sack_holes_total", "SACK blocks above the subflow ack from the client (loss signal), per access port.", wp),
		stale:     desc("path_stale_total", "Times a stale subflow on the access port was passed over by the scheduler.", wp),
		dead:      desc("path_dead_total", "Subflows on the access port declared dead.", wp),
	}
}

func (d *pathDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.rtt, d.srtt, d.rttvar, d.rate, d.delivered, d.dupAcks, d.sackHoles, d.stale, d.dead}
}

// checkRTTBounds reports whether bounds (seconds) fit a block and rise.
func checkRTTBounds(bounds []float64) error {
	if len(bounds) >= MaxRTTBuckets {
		return fmt.Errorf("metrics: %d RTT bounds; a Counters block has %d buckets (+Inf included)", len(bounds), MaxRTTBuckets)
	}
	if !sort.Float64sAreSorted(bounds) {
		return fmt.Errorf("metrics: RTT bounds %v do not rise", bounds)
	}
	for i := 1; i < len(bounds); i++ {
		if bounds[i] == bounds[i-1] {
			return fmt.Errorf("metrics: RTT bound %v repeats", bounds[i])
		}
	}
	return nil
}

// collectPath sends one worker's path metrics for one port.
func (c *Collector) collectPath(ch chan<- prometheus.Metric, p *PathCounters, worker, port string) {
	d := &c.pd
	bounds := c.o.RTTBounds
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, b := range bounds {
		cum += p.RTTBuckets[i].Load()
		buckets[b] = cum
	}
	ch <- prometheus.MustNewConstHistogram(d.rtt, p.RTTSamples.Load(), float64(p.RTTSumNs.Load())/1e9, buckets, worker, port)
	for _, g := range []struct {
		desc *prometheus.Desc
		v    float64
	}{
		{d.srtt, float64(p.SRTTNs.Load()) / 1e9},
		{d.rttvar, float64(p.RTTVarNs.Load()) / 1e9},
		{d.rate, float64(p.DeliveryRate.Load())},
	} {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.v, worker, port)
	}
	for _, x := range []struct {
		desc *prometheus.Desc
		v    *atomic.Uint64
	}{
		{d.delivered, &p.Delivered}, {d.dupAcks, &p.DupAcks}, {d.sackHoles, &p.SACKHoles},
		{d.stale, &p.Stale}, {d.dead, &p.Dead},
	} {
		ch <- prometheus.MustNewConstMetric(x.desc, prometheus.CounterValue, float64(x.v.Load()), worker, port)
	}
}
