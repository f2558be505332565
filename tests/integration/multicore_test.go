//go:build integration

package integration

// Two workers (examples/netns-2workers.toml on veths with two queues, one
// af_xdp vdev per queue). A veth picks the receive queue from the sender's
// transmit-queue hash, which is neither symmetric nor under flexcp's
// control, so part of every connection arrives at the worker that does not
// own it: these tests assert that handoffs happen, that both workers own
// connections when there are several, and the end-to-end behaviour of the
// single-worker tests (byte-exact transfers over two subflows, a path cut,
// the four closes, tables empty after linger).

import (
	"strings"
	"testing"
	"time"
)

// newE2E2 is newE2E with two workers: the topology with NETNS_QUEUES=2
// and examples/netns-2workers.toml with the short linger and dead-subflow
// times of proxyConfig.
func newE2E2(t *testing.T, serverAddr string) *e2e {
	topology(t, "NETNS_QUEUES=2")
	cfg := exampleConfig(t, "netns-2workers.toml")
	for old, repl := range map[string]string{`linger = "60s"`: `linger = "1s"`, `subflow_dead_after = "3s"`: `subflow_dead_after = "1s"`} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("netns-2workers.toml lacks %q", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	p := startProxy(t, cfg)
	if !strings.Contains(p.logText(), "steering in software") {
		t.Errorf("flexcp did not log that steering runs in software on veth:\n%s", p.logText())
	}
	m := p.mustScrape(t)
	if v := sum(m, "flexcp_port_steering_software", `port="p1"`); v != 1 {
		t.Errorf("flexcp_port_steering_software{port=p1} = %v, want 1", v)
	}
	ln, err := listenTCP(serverAddr)
	if err != nil {
		t.Fatalf("listen in %s: %v", nsS, err)
	}
	t.Cleanup(func() { ln.Close() })
	return &e2e{t: t, p: p, ln: ln, server: ln.Addr().String(), mib0: clientCounters(t)}
}

// checkHandoffs asserts that at least min packets went between the
// workers and that the receivers took every one of them. The veth picks a
// packet's receive queue from the sending socket's transmit hash, so each
// of a connection's flows (two subflows each way) lands on either worker
// and the kernel rehashes on retransmission timeouts: a connection all of
// whose packets reach its owner is possible but rare (about 1 in 8 for
// the four flows), and every test here runs several connections.
func (e *e2e) checkHandoffs(min float64) {
	e.t.Helper()
	m := e.p.mustScrape(e.t)
	h01 := sum(m, "flexcp_handoff_packets_total", `from="0"`, `to="1"`)
	h10 := sum(m, "flexcp_handoff_packets_total", `from="1"`, `to="0"`)
	e.t.Logf("handoffs 0->1 %.0f, 1->0 %.0f; ring-full drops %.0f; classified: rss %.0f, join-token %.0f, subflow %.0f",
		h01, h10, sum(m, "flexcp_handoff_drops_total"), sum(m, "flexcp_steering_classified_total", `reason="rss"`),
		sum(m, "flexcp_steering_classified_total", `reason="join-token"`), sum(m, "flexcp_steering_classified_total", `reason="subflow"`))
	if h01+h10 < min {
		e.t.Errorf("%.0f packets handed between the workers, want >= %.0f (veth's queue choice is not symmetric, so some must be)", h01+h10, min)
	}
	// Each worker publishes its counters on its own schedule: wait until
	// the receivers' counts have caught up with the senders'.
	var r, h float64
	for i := 0; i < 50; i++ {
		m = e.p.mustScrape(e.t)
		r, h = sum(m, "flexcp_handoff_received_total"), sum(m, "flexcp_handoff_packets_total")
		if r >= h {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r < h {
		e.t.Errorf("workers took %.0f mbufs from the rings, fewer than the %.0f handed over", r, h)
	}
	// Key exchange: filling its pool at start, each worker grinds about
	// as many keys for the other as for itself and hands them over.
	kg, kh := sum(m, "flexcp_keys_ground_total"), sum(m, "flexcp_keys_handed_over_total")
	e.t.Logf("keys: ground %.0f, handed over %.0f, dropped %.0f, received %.0f, SHA-256 %.0f", kg, kh,
		sum(m, "flexcp_keys_dropped_total"), sum(m, "flexcp_keys_received_total"), sum(m, "flexcp_keys_sha256_total"))
	if kh == 0 || kg < kh {
		e.t.Errorf("keys ground %.0f, handed over %.0f: want some handed over, at most those ground", kg, kh)
	}
}

// TestMulticoreOneConnection: issue 4's case 1 with two workers: one
// connection, two subflows, 256 MB client to server, 256 MB server to
// client, then both at once, byte-exact, with packets handed between the
// workers.
func TestMulticoreOneConnection(t *testing.T) {
	e := newE2E2(t, "198.18.3.2:5001")
	ctx := withTimeout(t, 8*time.Minute)
	const mb = 1 << 20
	e.run1(ctx, 1, 256*mb, 0)
	e.run1(ctx, 2, 0, 256*mb)
	e.run1(ctx, 3, 256*mb, 256*mb)
	e.checkTwoSubflows(1 << 20)
	e.checkHandoffs(1)
	e.waitIdle()
}

// TestMulticoreIPv6: two connections over IPv6, both directions at once.
func TestMulticoreIPv6(t *testing.T) {
	e := newE2E2(t, "[2001:db8:3::2]:5001")
	ctx := withTimeout(t, 3*time.Minute)
	e.run1(ctx, 4, 32<<20, 32<<20)
	e.run1(ctx, 5, 16<<20, 16<<20)
	e.checkTwoSubflows(1 << 20)
	e.checkHandoffs(1)
	e.waitIdle()
}

// TestMulticoreConcurrent: issue 4's case 2 with two workers, 64
// concurrent connections, 16 MB each way (the server on cubic, as in
// TestE2EConcurrent); both workers own some of them.
func TestMulticoreConcurrent(t *testing.T) {
	e := newE2E2(t, "198.18.3.2:5001")
	e.serverCC()
	ctx := withTimeout(t, 8*time.Minute)
	const n, size = 64, 16 << 20
	snap := snapCounters(t, e.p)
	e.exchangeConcurrent(ctx, n, size, 200)
	logDelta(t, e.p, snap)
	waitMetric(t, e.p, "flexcp_connections_opened_total", n)
	m := e.p.mustScrape(t)
	for _, w := range []string{"0", "1"} {
		c := sum(m, "flexcp_connections_opened_total", `worker="`+w+`"`)
		j := sum(m, "flexcp_joins_accepted_total", `worker="`+w+`"`)
		t.Logf("worker %s: %.0f connections, %.0f joins", w, c, j)
		if c == 0 {
			t.Errorf("worker %s owns no connection of %d", w, n)
		}
	}
	e.checkTwoSubflows(1 << 20)
	e.checkHandoffs(1000)
	e.waitIdle()
}

// TestMulticoreCloses: client closes first, server closes first, server
// resets, client aborts: each time flexcp releases the connection on its
// owner, whichever worker received the closing packets.
func TestMulticoreCloses(t *testing.T) {
	e := newE2E2(t, "198.18.3.2:5001")
	ctx := withTimeout(t, 3*time.Minute)
	e.closeFourWays(ctx, 71)
	e.checkHandoffs(1)
}

// TestMulticorePathDown: path 2 stops carrying packets mid-transfer; the
// transfer completes over path 1, byte-exact. The upload stalled in each
// of 3 runs on 2026-11-25, as the single-worker TestE2EPathDownUpload
// did, until flexcp fixed the translator's cause (docs/translation.md,
// I29).
func TestMulticorePathDown(t *testing.T) {
	for _, dir := range []string{"up", "down"} {
		t.Run(dir, func(t *testing.T) {
			e := newE2E2(t, "198.18.3.2:5001")
			ctx := withTimeout(t, 3*time.Minute)
			client, server := e.connect(ctx, true)
			up, down := int64(64<<20), int64(0)
			if dir == "down" {
				up, down = 0, 64<<20
			}
			// Path 2 is cut 300 ms after the second subflow came up
			// (at a fixed time after the connect, a loaded machine cut
			// it before the client had joined, and the join never came).
			cutDone, stop := make(chan struct{}), make(chan struct{})
			var cutAt time.Time
			go func() {
				defer close(cutDone)
				if !e.joinedWithin(10 * time.Second) {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(300 * time.Millisecond):
				}
				nsTry(nsC, "iptables", "-I", "OUTPUT", "-o", "c2", "-j", "DROP")
				nsTry(nsC, "iptables", "-I", "INPUT", "-i", "c2", "-j", "DROP")
				cutAt = time.Now()
			}()
			snap := snapCounters(t, e.p)
			_, _, err := exchange(client, server, 41, up, down)
			close(stop)
			<-cutDone
			if cutAt.IsZero() {
				t.Logf("the transfer ended before path 2 was cut")
			} else {
				t.Logf("path 2 cut %v before the transfer ended", time.Since(cutAt).Round(time.Millisecond))
			}
			client.Close()
			server.Close()
			if err != nil {
				logDelta(t, e.p, snap)
				e.checkHandoffs(0)
				t.Fatal(err)
			}
			e.checkTwoSubflows(1 << 10)
			e.checkHandoffs(1)
		})
	}
}
