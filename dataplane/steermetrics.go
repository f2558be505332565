package dataplane

import (
	"strconv"

	"github.com/flexcp/flexcp/steering"
	"github.com/prometheus/client_golang/prometheus"
)

// steerCollector exports the multicore counters: packets handed between
// workers per pair, handoff drops (ring full), ARP/NDP copies, lost
// Updates, classifier decisions per reason, join-subflow entries per
// owner, per port whether steering runs in software, and the key
// pools' grinding and key exchange.
type steerCollector struct {
	d                                    *Dataplane
	handoff, handoffDrops, handoffRecv   *prometheus.Desc
	learn, updLost, classified, subflows *prometheus.Desc
	software                             *prometheus.Desc
	keyHashes, keyGround, keyHanded      *prometheus.Desc
	keyDropped, keyReceived              *prometheus.Desc
}

func newSteerCollector(d *Dataplane) *steerCollector {
	return &steerCollector{
		d: d,
		handoff: prometheus.NewDesc("flexcp_handoff_packets_total",
			"Packets a worker received on its queue and handed to the owner worker through their ring.", []string{"from", "to"}, nil),
		handoffDrops: prometheus.NewDesc("flexcp_handoff_drops_total",
			"Packets dropped because the handoff ring to the owner worker was full.", []string{"from", "to"}, nil),
		handoffRecv: prometheus.NewDesc("flexcp_handoff_received_total",
			"Mbufs a worker took from another worker's ring (handed packets and ARP/NDP copies).", []string{"from", "to"}, nil),
		learn: prometheus.NewDesc("flexcp_handoff_neighbor_copies_total",
			"ARP/NDP frames a worker copied to the other workers so that their neighbor tables learn them.", []string{"worker"}, nil),
		updLost: prometheus.NewDesc("flexcp_steering_updates_lost_total",
			"Join-subflow steering updates not sent because a ring was full (an install refuses the join instead).", []string{"worker"}, nil),
		classified: prometheus.NewDesc("flexcp_steering_classified_total",
			"TCP packets a worker classified in software, by the rule that named the owner.", []string{"worker", "reason"}, nil),
		subflows: prometheus.NewDesc("flexcp_steering_subflow_entries",
			"Join-subflow entries a worker owns in the classifiers.", []string{"worker"}, nil),
		software: prometheus.NewDesc("flexcp_port_steering_software",
			"1 when the port does not steer every packet to its owner's queue and workers classify and hand over in software.", []string{"port"}, nil),
		keyHashes: prometheus.NewDesc("flexcp_keys_sha256_total",
			"SHA-256 computations the worker's key pool did grinding keys (candidates tried).", []string{"worker"}, nil),
		keyGround: prometheus.NewDesc("flexcp_keys_ground_total",
			"Keys the worker ground whose token names a worker (its own or another's).", []string{"worker"}, nil),
		keyHanded: prometheus.NewDesc("flexcp_keys_handed_over_total",
			"Keys the worker ground for another worker and put into that worker's inbound ring.", []string{"worker"}, nil),
		keyDropped: prometheus.NewDesc("flexcp_keys_dropped_total",
			"Keys the worker ground and threw away because the ring to their worker (or its own pool) was full.", []string{"worker"}, nil),
		keyReceived: prometheus.NewDesc("flexcp_keys_received_total",
			"Keys the worker took from other workers' rings.", []string{"worker"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *steerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.handoff, c.handoffDrops, c.handoffRecv, c.learn, c.updLost, c.classified, c.subflows, c.software,
		c.keyHashes, c.keyGround, c.keyHanded, c.keyDropped, c.keyReceived} {
		ch <- d
	}
}

// Collect implements prometheus.Collector with atomic loads of the
// counters the workers publish.
func (c *steerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, w := range c.d.workers {
		st := w.st
		if st == nil {
			continue
		}
		me := strconv.Itoa(w.id)
		for j := range st.pub.handed {
			if j == w.id {
				continue
			}
			other := strconv.Itoa(j)
			ch <- prometheus.MustNewConstMetric(c.handoff, prometheus.CounterValue, float64(st.pub.handed[j].Load()), me, other)
			ch <- prometheus.MustNewConstMetric(c.handoffDrops, prometheus.CounterValue, float64(st.pub.ringFull[j].Load()), me, other)
			ch <- prometheus.MustNewConstMetric(c.handoffRecv, prometheus.CounterValue, float64(st.pub.received[j].Load()), other, me)
		}
		ch <- prometheus.MustNewConstMetric(c.learn, prometheus.CounterValue, float64(st.pub.learned.Load()), me)
		if st.cls == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.updLost, prometheus.CounterValue, float64(st.pub.updLost.Load()), me)
		for r := range steering.NumReasons {
			ch <- prometheus.MustNewConstMetric(c.classified, prometheus.CounterValue, float64(st.pub.reasons[r].Load()), me, r.String())
		}
		ch <- prometheus.MustNewConstMetric(c.subflows, prometheus.GaugeValue, float64(st.pub.subflows.Load()), me)
		if st.keys != nil {
			ch <- prometheus.MustNewConstMetric(c.keyHashes, prometheus.CounterValue, float64(st.pub.keyHashes.Load()), me)
			ch <- prometheus.MustNewConstMetric(c.keyGround, prometheus.CounterValue, float64(st.pub.keyGround.Load()), me)
			ch <- prometheus.MustNewConstMetric(c.keyHanded, prometheus.CounterValue, float64(st.pub.keyHanded.Load()), me)
			ch <- prometheus.MustNewConstMetric(c.keyDropped, prometheus.CounterValue, float64(st.pub.keyDropped.Load()), me)
			ch <- prometheus.MustNewConstMetric(c.keyReceived, prometheus.CounterValue, float64(st.pub.keyReceived.Load()), me)
		}
	}
	if c.d.multi == nil || c.d.multi.rs == nil {
		return
	}
	for i := range c.d.ports {
		v := 0.0
		if c.d.ports[i].SoftwareSteering {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.software, prometheus.GaugeValue, v, c.d.ports[i].Conf.Name)
	}
}
