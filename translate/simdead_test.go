package translate

import (
	"fmt"
	"testing"
	"time"
)

// TestSimulationDeadSubflows runs the closed loop of sim_test.go with a
// subflow dead timer shorter than the models' retransmission timeout and
// heavy loss (up to 20%, the loss a full AF_XDP receive ring inflicted on
// the server's packets in TestE2EConcurrent), so subflows go stale and
// dead while data is outstanding, and the server's retransmissions of
// their data are reinjected on the other subflow (I12, I26) and resent
// on their original mappings, which revive the subflow when they get
// through. Loss alone must never stall a translated connection: every
// byte arrives both ways and the close releases everything (I21).
func TestSimulationDeadSubflows(t *testing.T) {
	links := []simLink{{loss: 0.1}, {loss: 0.2}, {loss: 0.1, dup: 0.02, reorder: 0.2}}
	for seed := uint64(300); seed < 348; seed++ {
		l := links[seed%3]
		sched := []string{"minrtt", "roundrobin"}[seed/3%2]
		dead := []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}[seed/6%2]
		t.Run(fmt.Sprintf("seed%d/loss%.2f/%s/dead%s", seed, l.loss, sched, dead), func(t *testing.T) {
			cfg := Config{MaxConnections: 4, MaxSubflows: 4, Scheduler: sched, DeadAfter: dead}
			m := newSimCfg(t, seed, l, 60000+int(seed%5)*40000, seed%4 == 0, seed%2 == 1, cfg)
			m.finish(t)
		})
	}
}
