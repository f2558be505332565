//go:build integration

package integration

// Stress cases: a path cut in the middle of a transfer, downloading and
// uploading (many concurrent connections: concurrent_test.go).
// Each arms stallWatch, so a transfer that stops making progress leaves
// its evidence (sockets, counters, a capture) behind.

import (
	"testing"
	"time"
)

// TestE2EPathDown: path 2 stops carrying packets in the middle of a
// download; the transfer completes over path 1, byte-exact.
func TestE2EPathDown(t *testing.T) {
	pathDown(t, "down")
}

// TestE2EPathDownUpload: path 2 stops carrying packets in the middle of
// an upload; the transfer completes over path 1, byte-exact. It stalled
// in 2 of 3 runs until flexcp stopped filling its SACKed-range table with
// ranges the surviving subflow's ack had passed (docs/translation.md,
// I29): the client's surviving subflow then sat in retransmission
// backoff, S answering each retransmission with a DSACK that flexcp could
// not record.
func TestE2EPathDownUpload(t *testing.T) {
	pathDown(t, "up")
}

// pathDown runs one transfer of 96 MB in direction dir ("up": client to
// server, "down") and cuts path 2 in its middle.
func pathDown(t *testing.T, dir string) {
	e := newE2E(t, "198.18.3.2:5001")
	ctx := withTimeout(t, 3*time.Minute)
	client, server := e.connect(ctx, true)
	up, down := int64(96<<20), int64(0)
	if dir == "down" {
		up, down = 0, 96<<20
	}
	// Path 2 is cut 700 ms after the second subflow came up (the
	// client opens it once data flows; on a loaded machine that
	// can take longer than the cut's delay).
	cutDone := make(chan struct{})
	go func() {
		defer close(cutDone)
		e.joinedWithin(10 * time.Second)
		time.Sleep(700 * time.Millisecond)
		nsTry(nsC, "iptables", "-I", "OUTPUT", "-o", "c2", "-j", "DROP")
		nsTry(nsC, "iptables", "-I", "INPUT", "-i", "c2", "-j", "DROP")
	}()
	defer func() { <-cutDone }()
	snap := snapCounters(t, e.p)
	stop := stallWatch(t, e.p, snap, "5001", 45*time.Second)
	_, _, err := exchange(client, server, 31, up, down)
	stop()
	logDelta(t, e.p, snap)
	client.Close()
	server.Close()
	if err != nil {
		t.Fatal(err)
	}
	e.checkTwoSubflows(1 << 10)
}
