//go:build integration

package integration

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// floodMaxConns is max_connections in the flood tests: small, so a flood
// the 2-core machine can send fills the table many times over.
const floodMaxConns = 32

// sampleMax scrapes metric every 100 ms until stop is closed and returns
// the highest value seen.
func sampleMax(t testing.TB, p *proxy, metric string, stop <-chan struct{}) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		var hi float64
		for {
			if m, err := p.scrape(); err == nil {
				hi = max(hi, sum(m, metric))
			}
			select {
			case <-stop:
				out <- hi
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return out
}

// legit runs a kernel MPTCP transfer of n bytes each way and sends its
// result on the returned channel.
func (e *e2e) legit(ctx context.Context, seed uint64, n int64) <-chan error {
	c, s := e.connect(ctx, true)
	done := make(chan error, 1)
	go func() {
		_, _, err := exchange(c, s, seed, n, n)
		c.Close()
		s.Close()
		done <- err
	}()
	return done
}

// TestFloodSYN: a flood of MP_CAPABLE SYNs (one client address, many
// ports, from the raw sender) against max_connections = 32. The table
// never holds more than 32 connections, the overflow falls back to TCP
// (SYN/ACKs without MP_CAPABLE reach the client; counted as table_full),
// a transfer running during the flood and one opened in the middle of it
// complete byte-exact, and every table empties afterwards.
func TestFloodSYN(t *testing.T) {
	e := newE2E(t, "198.18.3.2:5001", "max_connections = 32", `syn_timeout = "2s"`)
	base := idleBaseline(t, e.p)
	guardRawPorts(t, 44000, 47999)
	// A listener for the flood (SYN cookies answer beyond its backlog).
	fl, err := listenTCP("198.18.3.2:5003")
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	c1 := openRawFilter(t, nsC, "c1", nsP, "p1", rawPorts(44000, 47999))
	ctx := withTimeout(t, 5*time.Minute)
	running := e.legit(ctx, 901, 32<<20)

	stop := make(chan struct{})
	hi := sampleMax(t, e.p, "flexcp_connections_active", stop)
	m0 := c1.mark()
	const n = 4000
	cli, srv := [4]byte{198, 18, 1, 2}, [4]byte{198, 18, 3, 2}
	var mid <-chan error
	start := time.Now()
	for i := 0; i < n; i++ {
		sport := uint16(44000 + i)
		c1.send(t, ipTCP(tcpSeg{src: cli, dst: srv, sport: sport, dport: 5003, seq: uint32(i) * 7919, flags: tcpSYN,
			opts: append([]byte{2, 4, 0x05, 0x78}, optMPCapableSyn()...)}))
		if i == n/2 {
			// A new legitimate connection in the middle of the flood: it
			// may get MPTCP or fall back to TCP; either way it completes.
			mid = e.legit(ctx, 902, 4<<20)
		}
	}
	t.Logf("%d MP_CAPABLE SYNs sent in %.1fs", n, time.Since(start).Seconds())
	if err := <-running; err != nil {
		t.Errorf("transfer running during the flood: %v", err)
	}
	if err := <-mid; err != nil {
		t.Errorf("connection opened during the flood: %v", err)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	peak := <-hi
	m := e.p.mustScrape(t)
	full := sum(m, "flexcp_connections_fallback_total", `reason="table_full"`)
	opened := sum(m, "flexcp_connections_opened_total")
	isSynAck := func(s *rawSeg) bool { return s.sport == 5003 && s.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK }
	// The server retransmits its SYN/ACKs (no third ACK comes): count
	// flooding ports, not segments.
	mpPorts, plainPorts := map[uint16]bool{}, map[uint16]bool{}
	c1.count(m0, func(s *rawSeg) bool {
		if isSynAck(s) {
			if _, ok := findMPCapableKey(s.opts); ok {
				mpPorts[s.dport] = true
			} else {
				plainPorts[s.dport] = true
			}
		}
		return false
	})
	withMP, without := len(mpPorts), len(plainPorts)
	t.Logf("peak connections_active %v (max %d); opened %v, fallback table_full %v; flooding ports answered with MP_CAPABLE %d, without %d",
		peak, floodMaxConns, opened, full, withMP, without)
	if peak > floodMaxConns {
		t.Errorf("connections_active reached %v, above max_connections %d", peak, floodMaxConns)
	}
	if full == 0 {
		t.Errorf("the overflow policy never engaged: fallback table_full = 0")
	}
	if without == 0 {
		t.Errorf("no SYN/ACK without MP_CAPABLE reached the flooding client (fallback to TCP not seen on the wire)")
	}
	if float64(withMP) > opened {
		t.Errorf("%d flooding ports got MP_CAPABLE SYN/ACKs but only %v connections were opened", withMP, opened)
	}
	checkIdle(t, e.p, base, 30*time.Second)
}

// TestFloodJoin: MP_JOIN SYNs in bulk, with a valid token (a raw
// client's connection) and with unknown tokens, while a kernel transfer
// runs. A connection never holds more than max_subflows subflows, the
// surplus is refused (too_many_subflows), unknown tokens are refused
// without state, pending joins time out, the transfer completes
// byte-exact and the tables empty afterwards.
func TestFloodJoin(t *testing.T) {
	e := newE2E(t, "198.18.3.2:5001", "max_connections = 32", "max_subflows = 4", `join_timeout = "2s"`)
	base := idleBaseline(t, e.p)
	guardRawPorts(t, 41000, 47999)
	ln2, err := listenTCP("198.18.3.2:5002")
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	var wg sync.WaitGroup
	var rs net.Conn
	wg.Add(1)
	go func() { defer wg.Done(); rs, _ = ln2.Accept() }()
	c1 := openRawFilter(t, nsC, "c1", nsP, "p1", rawPorts(41000, 41999))
	c2 := openRaw(t, nsC, "c2", nsP, "p2")
	ctx := withTimeout(t, 5*time.Minute)
	running := e.legit(ctx, 911, 32<<20)
	rc := dialRaw(t, c1, 41101, [4]byte{198, 18, 3, 2}, 5002)
	wg.Wait()
	if rs == nil {
		t.Fatal("server did not accept the raw connection")
	}
	defer rs.Close()
	tok, _ := mptcpKeyHash(rc.keyP)

	stop := make(chan struct{})
	hi := sampleMax(t, e.p, "flexcp_subflows_active", stop)
	before := e.p.mustScrape(t)
	cli2, srv := [4]byte{198, 18, 2, 2}, [4]byte{198, 18, 3, 2}
	const n = 2000
	for i := 0; i < n; i++ {
		token := tok
		if i%2 == 1 {
			token = tok ^ uint32(i)<<8 // unknown
		}
		c2.send(t, ipTCP(tcpSeg{src: cli2, dst: srv, sport: uint16(45000 + i), dport: 5002, seq: uint32(i) * 104729, flags: tcpSYN, opts: optJoinSyn(token, uint32(i))}))
	}
	if err := <-running; err != nil {
		t.Errorf("transfer running during the join flood: %v", err)
	}
	time.Sleep(3 * time.Second) // past join_timeout
	close(stop)
	peak := <-hi
	m := e.p.mustScrape(t)
	d := func(metric, label string) float64 { return sum(m, metric, label) - sum(before, metric, label) }
	unknown := d("flexcp_joins_rejected_total", `reason="unknown_token"`)
	tooMany := d("flexcp_joins_rejected_total", `reason="too_many_subflows"`)
	timeout := d("flexcp_joins_rejected_total", `reason="timeout"`)
	t.Logf("join flood of %d SYNs: unknown_token %v, too_many_subflows %v, timeout %v, peak subflows_active %v",
		n, unknown, tooMany, timeout, peak)
	// Two live connections: the kernel's (up to 2 subflows, the limit
	// of the client) and the raw one (at most max_subflows = 4).
	if peak > 2+4 {
		t.Errorf("subflows_active reached %v, want <= 6 (max_subflows bounds each connection)", peak)
	}
	if unknown == 0 || unknown > n/2 {
		t.Errorf("unknown_token rejections %v, want in (0, %d]", unknown, n/2)
	}
	if tooMany == 0 {
		t.Errorf("no join refused for too_many_subflows")
	}
	if timeout == 0 {
		t.Errorf("no pending join timed out")
	}
	if got := sum(m, "flexcp_subflows_active"); got > 1 {
		t.Errorf("subflows_active = %v after the pending joins timed out, want <= 1 (the raw connection's own)", got)
	}
	c1.send(t, ipTCP(rc.seg(rc.ssn, tcpACK, optFastclose(rc.keyP), nil)))
	checkIdle(t, e.p, base, 30*time.Second)
}
