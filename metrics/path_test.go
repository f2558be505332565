package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestPathMetrics: the per-port path counters are exported as an RTT
// histogram with cumulative buckets, gauges in seconds and bytes/s, and
// counters.
func TestPathMetrics(t *testing.T) {
	var k Counters
	p := &k.Path[1]
	p.RTTBuckets[0].Store(2) // <= 1 ms
	p.RTTBuckets[1].Store(3) // <= 10 ms
	p.RTTBuckets[2].Store(1) // +Inf
	p.RTTSamples.Store(6)
	p.RTTSumNs.Store(2e9)
	p.SRTTNs.Store(5e6)
	p.RTTVarNs.Store(1e6)
	p.DeliveryRate.Store(25e6)
	p.Delivered.Store(1 << 20)
	p.DupAcks.Store(7)
	p.SACKHoles.Store(3)
	p.Dead.Store(1)
	c, err := NewCollector(Options{Workers: []Worker{{Counters: &k}}, Ports: []string{"p1", "p2"}, RTTBounds: []float64{0.001, 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := seriesKey(f.GetName(), m)
			if h := m.GetHistogram(); h != nil {
				for _, b := range h.GetBucket() {
					got[fmt.Sprintf("%s le=%g", key, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
				got[key+" count"] = float64(h.GetSampleCount())
				got[key+" sum"] = h.GetSampleSum()
				continue
			}
			got[key] = value(f.GetType(), m)
		}
	}
	for k, v := range map[string]float64{
		`flexcp_path_rtt_seconds{port="p2",worker="0"} le=0.001`:  2,
		`flexcp_path_rtt_seconds{port="p2",worker="0"} le=0.01`:   5,
		`flexcp_path_rtt_seconds{port="p2",worker="0"} count`:     6,
		`flexcp_path_rtt_seconds{port="p2",worker="0"} sum`:       2,
		`flexcp_path_rtt_seconds{port="p1",worker="0"} count`:     0,
		`flexcp_path_srtt_seconds{port="p2",worker="0"}`:          0.005,
		`flexcp_path_rttvar_seconds{port="p2",worker="0"}`:        0.001,
		`flexcp_path_delivery_rate_bytes{port="p2",worker="0"}`:   25e6,
		`flexcp_path_delivered_bytes_total{port="p2",worker="0"}`: 1 << 20,
		`flexcp_path_dupacks_total{port="p2",worker="0"}`:         7,
		`flexcp_path_sack_holes_total{port="p2",worker="0"}`:      3,
		`flexcp_path_dead_total{port="p2",worker="0"}`:            1,
		`flexcp_path_stale_total{port="p1",worker="0"}`:           0,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	// Without RTTBounds no path metric is exported.
	c, _ = NewCollector(Options{Workers: []Worker{{Counters: &k}}, Ports: []string{"p1", "p2"}})
	ch := make(chan prometheus.Metric, 1024)
	c.Collect(ch)
	close(ch)
	for m := range ch {
		if strings.Contains(m.Desc().String(), "flexcp_path_") {
			t.Errorf("path metric %s exported without RTTBounds", m.Desc())
		}
	}
	for _, bad := range [][]float64{{0.01, 0.001}, {0.001, 0.001}, make([]float64, MaxRTTBuckets)} {
		if _, err := NewCollector(Options{RTTBounds: bad}); err == nil {
			t.Errorf("RTT bounds %v accepted", bad)
		}
	}
}
