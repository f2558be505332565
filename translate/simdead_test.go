package translate

import (
	"fmt"
	"testing"
	"time"
)

// TestSimulationDeadSubflows runs the closed loop of sim_test.go with a
// subflow dead timer shorter than the models' retransmission timeout and
// heavy loss (10% and 20% on every link: TestE2EConcurrent lost up to a
// fifth of the server's packets at a full AF_XDP receive ring), so
// subflows go stale and dead while data is outstanding and the server's
// retransmissions of their data are reinjected on the other subflow (I12,
// I26). I31: loss alone never stalls a translated connection: every byte
// arrives both ways, both DATA_FINs are exchanged, and after the linger
// the engine holds nothing (I21). A quarter of the seeds use DSS
// checksums: there a reinjection's new mapping at the DSN of the mapping
// it repeats once replaced that mapping's remembered sum, and a later
// piece of the original went out with a wrong checksum (seeds 336, 344;
// the cache now keys a sum by DSN and length). The subflow-level FIN exchange is not
// required here: a dead subflow can keep a hole at the subflow level
// (bytes the client has at the data level, through a reinjection, that
// S never sends again and P does not hold), so its FIN never arrives in
// order and the client times that subflow out (docs/translation.md I31).
func TestSimulationDeadSubflows(t *testing.T) {
	links := []simLink{{loss: 0.1}, {loss: 0.2}, {loss: 0.1, dup: 0.02, reorder: 0.2}}
	for seed := uint64(300); seed < 348; seed++ {
		l := links[seed%3]
		sched := []string{"minrtt", "roundrobin"}[seed/3%2]
		dead := []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}[seed/6%2]
		t.Run(fmt.Sprintf("seed%d/loss%.2f/%s/dead%s", seed, l.loss, sched, dead), func(t *testing.T) {
			cfg := Config{MaxConnections: 4, MaxSubflows: 4, Scheduler: sched, DeadAfter: dead}
			m := newSimCfg(t, seed, l, 60000+int(seed%5)*40000, seed%4 == 0, seed%2 == 1, cfg)
			m.c.start()
			c, s := m.c, m.s
			delivered := func() bool {
				return c.rcvNxt == len(c.want) && c.dataUna == len(c.data) && c.finAcked && c.peerFin &&
					s.rcvNxt == len(s.want) && s.una == len(s.data) && s.finRcvd && s.finAcked
			}
			for m.now < int64(120e9) && !delivered() {
				m.runFor(m.now+int64(100e6), false)
			}
			if !delivered() {
				t.Fatalf("I31: stalled at t=%ds: server got %d/%d acked %d/%d fin %v/%v; client got %d/%d dataUna %d fin %v/%v peerFin %v; counters %+v",
					m.now/1e9, s.rcvNxt, len(s.want), s.una, len(s.data), s.finRcvd, s.finAcked,
					c.rcvNxt, len(c.want), c.dataUna, c.finSent, c.finAcked, c.peerFin, m.e.cnt)
			}
			if m.e.cnt.Reinjections == 0 {
				t.Errorf("no reinjection: the dead timer never fired with data outstanding")
			}
			m.e.Tick(m.now + int64(m.e.cfg.Linger) + int64(1e9))
			checkSlab(t, m.e)
			if m.e.ActiveConnections() != 0 || m.e.ActiveSubflows() != 0 || m.e.Tokens() != 0 {
				t.Fatalf("I21: conns %d subflows %d tokens %d", m.e.ActiveConnections(), m.e.ActiveSubflows(), m.e.Tokens())
			}
			if tr, rec := m.e.Mappings(); tr != 0 || rec != 0 {
				t.Fatalf("I21: mapping trees %d records %d", tr, rec)
			}
		})
	}
}
