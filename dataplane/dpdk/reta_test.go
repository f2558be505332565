package dpdk

import (
	"fmt"
	"strings"
	"testing"
)

// TestRETA: bad table sizes are refused before any C call; on a
// hot-plugged net_null port configured with RSS over 2 queues, a table
// written with RSSRETAUpdate reads back entry for entry.
func TestRETA(t *testing.T) {
	hotplugSeq++
	name := fmt.Sprintf("net_null%d", hotplugSeq)
	if err := DevProbe(name); err != nil {
		t.Fatal(err)
	}
	p := testPort(t, name)
	defer p.Close()
	for _, n := range []int{0, 10, RETAGroupSize + 1} {
		if err := p.RSSRETAUpdate(make([]uint16, n)); err == nil || !strings.Contains(err.Error(), "multiple of") {
			t.Errorf("RSSRETAUpdate(%d entries) = %v, want a size error", n, err)
		}
		if _, err := p.RSSRETAQuery(n); err == nil || !strings.Contains(err.Error(), "multiple of") {
			t.Errorf("RSSRETAQuery(%d) = %v, want a size error", n, err)
		}
	}
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	size := int(info.RetaSize)
	if size == 0 || size%RETAGroupSize != 0 {
		t.Fatalf("net_null reports a %d-entry RETA; this test needs one", size)
	}
	if err := p.Configure(PortConf{RxQueues: 2, TxQueues: 2, RSS: &RSSConf{Types: RSSIP | RSSTCP}}); err != nil {
		t.Fatal(err)
	}
	want := make([]uint16, size)
	for i := range want {
		want[i] = uint16(i*7/3) % 2 // not the round-robin default
	}
	if err := p.RSSRETAUpdate(want); err != nil {
		t.Fatal(err)
	}
	got, err := p.RSSRETAQuery(size)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("RETA entry %d = %d, want %d (read back %v)", i, got[i], want[i], got)
		}
	}
	// A queue beyond the configured ones is the driver's to refuse.
	bad := make([]uint16, size)
	bad[0] = 9
	if err := p.RSSRETAUpdate(bad); err == nil || !strings.Contains(err.Error(), "rte_eth_dev_rss_reta_update(port") {
		t.Errorf("RSSRETAUpdate naming queue 9 of 2 = %v, want the driver's refusal with context", err)
	}
}
