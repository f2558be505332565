package metrics_test

import (
	"fmt"

	"github.com/flexcp/flexcp/metrics"
)

// The component that counts owns its reasons: here three drop reasons, by
// index, and their labels.
const (
	dropNoRoute = iota
	dropTTLExpired
	dropTxFull
)

var dropLabels = []string{
	dropNoRoute:    "no_route",
	dropTTLExpired: "ttl_expired",
	dropTxFull:     "tx_full",
}

// Each worker owns a Counters block and bumps it once per burst; the
// collector reads the blocks when Prometheus scrapes and exports each
// labelled reason, at zero too.
func ExampleNewCollector() {
	workers := []metrics.Worker{{Name: "0", Counters: new(metrics.Counters)}}
	c, err := metrics.NewCollector(metrics.Options{
		Workers:     workers,
		Ports:       []string{"p1", "p2", "p3"},
		DropReasons: dropLabels,
	})
	if err != nil {
		panic(err)
	}
	reg, err := metrics.NewRegistry(c)
	if err != nil {
		panic(err)
	}
	// The worker, after a receive burst of 32 packets, 48000 bytes, on
	// port 0, one of which had no route:
	w := workers[0].Counters
	w.Rx(0, 32, 48000)
	w.Drop(dropNoRoute)

	// In main: go metrics.Serve(ctx, cfg.Metrics.Listen, reg)
	fams, _ := reg.Gather()
	for _, f := range fams {
		if f.GetName() == "flexcp_drops_total" {
			for _, m := range f.GetMetric() {
				// Labels are sorted by name: reason, worker.
				fmt.Println(f.GetName(), m.GetLabel()[0].GetValue(), m.GetCounter().GetValue())
			}
		}
	}
	fmt.Println(metrics.Sum(w).RxPackets)
	// Output:
	// flexcp_drops_total no_route 1
	// flexcp_drops_total ttl_expired 0
	// flexcp_drops_total tx_full 0
	// 32
}
