//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Leak checks (issue 8): after a scenario, flexcp's tables and buffers
// return to their idle values. Any end-to-end test can call them:
//
//	base := idleBaseline(t, p) // right after start-up, before traffic
//	... scenario ...
//	checkIdle(t, p, base)

// idleGauges are the gauges whose idle value is zero: the connection and
// subflow tables, the token table and the D-trees.
var idleGauges = []string{
	"flexcp_connections_active", "flexcp_subflows_active", "flexcp_tokens_active",
	"flexcp_mapping_trees_active", "flexcp_mapping_records_active",
}

// poolSlack is how far above its idle value the mempool's in-use count may
// sit once traffic has stopped. Buffers the af_xdp PMD keeps on its fill
// ring and transmit completions it has not reaped yet move the count by up
// to a ring's worth (1024 descriptors per port here); a leak grows without
// bound instead, which the soak's flatness check shows over time.
const poolSlack = 3 * 1024

// idleState is the idle value of the mempool's in-use count.
type idleState struct{ poolInUse float64 }

// idleBaseline reads the idle values once flexcp is up and quiet.
func idleBaseline(t testing.TB, p *proxy) idleState {
	t.Helper()
	m := p.mustScrape(t)
	for _, g := range idleGauges {
		if v := sum(m, g); v != 0 {
			t.Fatalf("idle baseline: %s = %v before any traffic", g, v)
		}
	}
	return idleState{poolInUse: sum(m, "flexcp_mempool_in_use")}
}

// idleReport is a one-line summary of the gauges checkIdle watches.
func idleReport(m map[string]float64) string {
	var b strings.Builder
	for _, g := range append(idleGauges, "flexcp_mempool_in_use") {
		fmt.Fprintf(&b, " %s=%v", strings.TrimPrefix(g, "flexcp_"), sum(m, g))
	}
	return strings.TrimSpace(b.String())
}

// checkIdle waits (up to within) for every table gauge to return to zero
// and the mempool's in-use count to within poolSlack of base, and fails
// the test with the values it saw otherwise.
func checkIdle(t testing.TB, p *proxy, base idleState, within time.Duration) {
	t.Helper()
	var m map[string]float64
	deadline := time.Now().Add(within)
	for {
		m = p.mustScrape(t)
		ok := sum(m, "flexcp_mempool_in_use") <= base.poolInUse+poolSlack
		for _, g := range idleGauges {
			ok = ok && sum(m, g) == 0
		}
		if ok {
			t.Logf("idle again: %s (mempool idle %v)", idleReport(m), base.poolInUse)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("flexcp did not return to idle within %v: %s (mempool idle %v, slack %d)", within, idleReport(m), base.poolInUse, poolSlack)
}
