//go:build integration

package integration

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// lossRules adds random loss with probability prob on client interface
// dev, both directions, and returns a function removing it.
func lossRules(t testing.TB, dev string, prob float64) func() {
	t.Helper()
	p := fmt.Sprintf("%.3f", prob)
	rules := [][]string{{"OUTPUT", "-o", dev}, {"INPUT", "-i", dev}}
	for _, r := range rules {
		nsRun(t, nsC, "iptables", "-A", r[0], r[1], r[2], "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP")
	}
	return func() {
		for _, r := range rules {
			nsTry(nsC, "iptables", "-D", r[0], r[1], r[2], "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP")
		}
	}
}

// TestFaultLoss: random loss of 1% and 5% on each path in turn, both
// directions (iptables statistic): every transfer is byte-exact and flexcp
// returns to idle after each.
func TestFaultLoss(t *testing.T) {
	e := newE2E(t, "198.18.3.2:5001")
	base := idleBaseline(t, e.p)
	seed := uint64(1000)
	for _, dev := range []string{"c1", "c2"} {
		for _, prob := range []float64{0.01, 0.05} {
			t.Run(fmt.Sprintf("%s_%.0fpct", dev, prob*100), func(t *testing.T) {
				undo := lossRules(t, dev, prob)
				defer undo()
				ctx := withTimeout(t, 3*time.Minute)
				seed++
				e.t = t
				e.run1(ctx, seed, 8<<20, 8<<20)
				undo()
				checkIdle(t, e.p, base, 30*time.Second)
			})
		}
	}
}

// TestFaultFlap: one path at a time goes down and up every second (all its
// packets dropped while down) during a transfer both ways: delivery is
// byte-exact and flexcp returns to idle.
func TestFaultFlap(t *testing.T) {
	e := newE2E(t, "198.18.3.2:5001")
	base := idleBaseline(t, e.p)
	for i, dev := range []string{"c2", "c1"} {
		t.Run(dev, func(t *testing.T) {
			e.t = t
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			flaps := 0
			go func() {
				defer wg.Done()
				down := false
				set := func(on bool) {
					op := "-D"
					if on {
						op = "-I"
					}
					nsTry(nsC, "iptables", op, "OUTPUT", "-o", dev, "-j", "DROP")
					nsTry(nsC, "iptables", op, "INPUT", "-i", dev, "-j", "DROP")
					down = on
				}
				defer func() {
					if down {
						set(false)
					}
				}()
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
					set(!down)
					if down {
						flaps++
					}
				}
			}()
			ctx := withTimeout(t, 4*time.Minute)
			e.run1(ctx, uint64(1100+i), 256<<20, 256<<20)
			close(stop)
			wg.Wait()
			t.Logf("path %s went down %d times during the transfer", dev, flaps)
			if flaps == 0 {
				t.Errorf("the transfer ended before the first flap: make it longer")
			}
			checkIdle(t, e.p, base, 30*time.Second)
		})
	}
}

// TestFaultServerRestart: the server "restarts" while four connections
// stream to it: every accepted socket is aborted (RST) and the listener
// closed, as when the process dies. Every client sees its connection
// reset, flexcp releases all state, and after the server is back a new
// transfer is byte-exact.
func TestFaultServerRestart(t *testing.T) {
	e := newE2E(t, "198.18.3.2:5001")
	base := idleBaseline(t, e.p)
	ctx := withTimeout(t, 3*time.Minute)
	const n = 4
	clients := make([]net.Conn, n)
	servers := make([]net.Conn, n)
	for i := range clients {
		clients[i], servers[i] = e.connect(ctx, true)
	}
	// Clients stream to the server and read from it; servers read.
	errs := make(chan error, n)
	for i := range clients {
		go func(c net.Conn) {
			go newStreamWrite(c, 1<<40)
			_, err := io.Copy(io.Discard, c)
			errs <- err
		}(clients[i])
		go func(s net.Conn) {
			go newStreamWrite(s, 1<<40)
			io.Copy(io.Discard, s)
		}(servers[i])
	}
	time.Sleep(2 * time.Second)
	if got := sum(e.p.mustScrape(t), "flexcp_connections_active"); got != n {
		t.Fatalf("connections_active %v while streaming, want %d", got, n)
	}
	// The crash.
	e.ln.Close()
	for _, s := range servers {
		s.(*net.TCPConn).SetLinger(0)
		s.Close()
	}
	// Every client's stream ends (the Linux client reports a received
	// MP_FASTCLOSE to a reader as end of stream, to a writer as a reset).
	for range clients {
		select {
		case err := <-errs:
			t.Logf("client read ended: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatalf("a client did not see its connection end within 30 s of the server's crash")
		}
	}
	for _, c := range clients {
		c.Close()
	}
	// flexcp turned each server RST into RST + MP_FASTCLOSE on the
	// client's subflows (RFC 8684 3.5): the client kernel counted them.
	if got := e.mibDelta("MPTcpExtMPFastcloseRx"); got < n {
		t.Errorf("client received %d MP_FASTCLOSE, want >= %d (one per reset connection)", got, n)
	}
	checkIdle(t, e.p, base, 30*time.Second)

	// The server comes back on the same address.
	ln, err := listenTCP("198.18.3.2:5001")
	if err != nil {
		t.Fatal(err)
	}
	e.ln = ln
	t.Cleanup(func() { ln.Close() })
	e.run1(ctx, 1201, 16<<20, 16<<20)
	checkIdle(t, e.p, base, 30*time.Second)
}
