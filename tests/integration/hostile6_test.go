//go:build integration

package integration

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/flexcp/flexcp/steering"
)

// TestHostileWireIPv6 is TestHostileWire over the 2001:db8 addresses:
// malformed and hostile IPv6 packets from the client namespace (and one
// from the server's) toward flexcp's ports, beside a healthy IPv6 MPTCP
// transfer, each with its outcome asserted through flexcp's metrics, plus
// the cases IPv4 has no counterpart for: hop-by-hop, routing and
// destination-options headers and fragment headers on a tracked
// connection. The raw MPTCP client's stream must reach the server
// byte-exact, hostile segments excluded; the healthy transfer must be
// byte-exact; flexcp must return to idle.
func TestHostileWireIPv6(t *testing.T) {
	srv := ip6(0x2001_0db8_0003_0000, 2)
	cli := ip6(0x2001_0db8_0001_0000, 2)
	cli2 := ip6(0x2001_0db8_0002_0000, 2)
	h := startHostile(t, newE2E(t, "[2001:db8:3::2]:5001"), "[2001:db8:3::2]:5002", 806, func(c1 *rawIface) *rawClient {
		return dialRaw6(t, c1, 41001, srv, 5002)
	})
	e, c1, c2, s1, rc := h.e, h.c1, h.c2, h.s1, h.rc
	chunk, send := hostileChunk, func(p []byte) { h.send(t, p) }
	send(chunk(300, 1))
	send(chunk(200, 2))

	untracked := func(sport uint16, flags uint8, payload []byte) tcpSeg {
		return tcpSeg{v6: true, src6: cli, dst6: srv, sport: sport, dport: 5099, seq: 1000, flags: flags, payload: payload}
	}
	tracked := func(flags uint8, opts, payload []byte) tcpSeg {
		return rc.seg(rc.ssn, flags, opts, payload)
	}
	dataAck := func() []byte { return optDSS(rc.idsnP+1, 0, 0, 0) }
	// Extension headers (RFC 8200 section 4), 8 bytes each; buildIPv6
	// fills in their next-header byte.
	hopByHop := ip6Ext{0, []byte{0, 0, 1, 4, 0, 0, 0, 0}}               // PadN
	routing := ip6Ext{43, []byte{0, 0, 253, 0, 0, 0, 0, 0}}             // experimental type, segments left 0
	destOpts := ip6Ext{60, []byte{0, 0, 1, 4, 0, 0, 0, 0}}              // PadN
	firstFrag := ip6Ext{44, []byte{0, 0, 0, 1, 0, 0, 0x66, 0x66}}       // offset 0, M set
	atomicFrag := ip6Ext{44, []byte{0, 0, 0, 0, 0, 0, 0x55, 0x55}}      // offset 0, M clear (RFC 6946)
	laterFrag := ip6Ext{44, []byte{0, 0, 0x05, 0x00, 0, 0, 0x77, 0x77}} // offset 160
	withExt := func(s tcpSeg, x ...ip6Ext) []byte { return buildIPv6(s.src6, s.dst6, 6, x, buildTCP(s)) }

	type outcome = hostileOutcome
	drop := hostileDrop
	cases := []hostileCase{
		{"ipv6 header truncated", func() {
			c1.send(t, ipTCP(untracked(42001, tcpACK, nil))[:30])
		}, drop("ipv6_truncated")},
		{"ipv6 version not 6 in an IPv6 frame", func() {
			b := ipTCP(untracked(42002, tcpACK, nil))
			b[0] = 0x40 | b[0]&0x0f
			c1.sendType(t, 0x86dd, b)
		}, drop("ipv6_version")},
		{"ipv6 payload length past the frame", func() {
			b := ipTCP(untracked(42003, tcpACK, nil))
			binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40+100))
			c1.send(t, b)
		}, drop("ipv6_payload_len")},
		{"tcp header truncated, untracked: routed", func() {
			c1.send(t, buildIPv6(cli, srv, 6, nil, buildTCP(untracked(42005, tcpACK, nil))[:10]))
		}, outcome{pass: passPort(42005)}},
		{"tcp header truncated, tracked", func() {
			c1.send(t, buildIPv6(cli, srv, 6, nil, buildTCP(tracked(tcpACK, nil, nil))[:10]))
		}, drop("translate_malformed")},
		{"tcp data offset past the segment, tracked", func() {
			s := tracked(tcpACK, dataAck(), nil)
			s.dataOff = 60
			c1.send(t, ipTCP(s))
		}, drop("translate_malformed")},
		{"hop-by-hop options, untracked: routed", func() {
			c1.send(t, withExt(untracked(42006, tcpACK, nil), hopByHop))
		}, outcome{pass: passPort(42006)}},
		{"hop-by-hop options, tracked", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), hopByHop))
		}, drop("translate_unsupported")},
		{"routing header, untracked: routed", func() {
			c1.send(t, withExt(untracked(42008, tcpACK, nil), routing))
		}, outcome{pass: passPort(42008)}},
		{"routing header, tracked", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), routing))
		}, drop("translate_unsupported")},
		{"destination options, tracked", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), destOpts))
		}, drop("translate_unsupported")},
		{"hop-by-hop, routing and destination options chained, tracked", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), hopByHop, routing, destOpts))
		}, drop("translate_unsupported")},
		{"nine destination-options headers, tracked", func() {
			// A chain longer than any fixed walk limit (Linux walks it).
			x := make([]ip6Ext, 9)
			for i := range x {
				x[i] = destOpts
			}
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), x...))
		}, drop("translate_unsupported")},
		{"first fragment, tracked", func() {
			seg := buildTCP(tracked(tcpACK|tcpPSH, optDSS(rc.idsnP+1, rc.dsn, rc.ssn, 64), chunk(64, 9)))
			c1.send(t, buildIPv6(cli, srv, 44, nil, append(append([]byte{6}, firstFrag.b[1:]...), seg[:48]...)))
		}, drop("translate_unsupported")},
		{"atomic fragment, tracked", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), atomicFrag))
		}, drop("translate_unsupported")},
		{"non-first fragment: routed", func() {
			c1.send(t, buildIPv6(cli, srv, 44, nil, append(append([]byte{6}, laterFrag.b[1:]...), chunk(40, 3)...)))
		}, outcome{pass: func(s *rawSeg) bool { return s.v6 && s.frag && s.fragID == 0x7777 }}},
		{"hop-by-hop options from the server, tracked", func() {
			s := tcpSeg{v6: true, src6: srv, dst6: cli, sport: rc.dport, dport: rc.sport, seq: rc.isnS + 1, ack: rc.isnC + rc.ssn, flags: tcpACK}
			s1.send(t, withExt(s, hopByHop))
		}, drop("translate_unsupported")},
		{"tcp option length 0, tracked", func() {
			c1.send(t, ipTCP(tracked(tcpACK, append([]byte{8, 0, 0, 0}, dataAck()...), nil)))
		}, drop("translate_malformed")},
		{"tcp option length 1, tracked", func() {
			c1.send(t, ipTCP(tracked(tcpACK, append([]byte{8, 1, 0, 0}, dataAck()...), nil)))
		}, drop("translate_malformed")},
		{"option running past the header, tracked", func() {
			c1.send(t, ipTCP(tracked(tcpACK, append(dataAck(), 30, 30, 0x20, 0), nil)))
		}, drop("translate_malformed")},
		{"DSS with a wrong length, new data, tracked", func() {
			o := optDSS(rc.idsnP+1, rc.dsn, rc.ssn, 100)
			o[1] = 25
			c1.send(t, ipTCP(tracked(tcpACK|tcpPSH, o[:25], chunk(100, 4))))
		}, outcome{metric: "flexcp_drops_total", label: `reason="translate_no_mapping"`, n: 1, atLeast: true}},
		{"DSS mapping contradicting an earlier one", func() {
			// A 200-byte mapping whose first 100 bytes arrive; the second
			// half comes with a mapping 10000 bytes further on (dropped),
			// then again with the first mapping (forwarded).
			p := chunk(200, 5)
			m := optDSS(rc.idsnP+1, rc.dsn, rc.ssn, 200)
			c1.send(t, ipTCP(rc.seg(rc.ssn, tcpACK|tcpPSH, m, p[:100])))
			c1.send(t, ipTCP(rc.seg(rc.ssn+100, tcpACK|tcpPSH, optDSS(rc.idsnP+1, rc.dsn+10000, rc.ssn+100, 100), chunk(100, 99))))
			c1.send(t, ipTCP(rc.seg(rc.ssn+100, tcpACK|tcpPSH, m, p[100:])))
			rc.ssn += 200
			rc.dsn += 200
			h.want.Write(p)
		}, drop("translate_map_conflict")},
		{"DSS mapping contradicting acknowledged bytes: re-acknowledged", func() {
			c1.send(t, ipTCP(rc.seg(1, tcpACK|tcpPSH, optDSS(rc.idsnP+1, rc.idsnC+10001, 1, 300), chunk(300, 5))))
		}, outcome{reack: true}},
		{"data beyond its mapping", func() {
			p := chunk(200, 6)
			c1.send(t, ipTCP(tracked(tcpACK|tcpPSH, optDSS(rc.idsnP+1, rc.dsn, rc.ssn, 100), p)))
		}, outcome{metric: "flexcp_drops_total", label: `reason="translate_no_mapping"`, n: 1, atLeast: true}},
		{"MP_FASTCLOSE with a wrong key", func() {
			c1.send(t, ipTCP(tracked(tcpACK, optFastclose(rc.keyP^0xdead), nil)))
		}, outcome{metric: "flexcp_drops_total", label: `reason="translate_bad_state"`, n: 1, atLeast: true}},
		{"RST outside the window", func() {
			s := tracked(tcpRST, nil, nil)
			s.seq += 1 << 30
			c1.send(t, ipTCP(s))
		}, drop("translate_rst_out_of_window")},
		{"RST from the server outside the window", func() {
			s1.send(t, ipTCP(tcpSeg{v6: true, src6: srv, dst6: cli, sport: rc.dport, dport: rc.sport, seq: rc.isnS + 1 + 1<<30, flags: tcpRST}))
		}, drop("translate_rst_out_of_window")},
		{"MP_CAPABLE SYN with a wrong length: not translated", func() {
			s := untracked(42007, tcpSYN, nil)
			s.opts = []byte{30, 5, 0x01, 0x01, 0}
			c1.send(t, ipTCP(s))
		}, outcome{metric: "flexcp_connections_fallback_total", label: `reason="version"`, n: 1, pass: passPort(42007)}},
		{"MP_JOIN SYN with a wrong length: not a join, routed as TCP", func() {
			// The 12-byte MP_JOIN cut to 10: the codec does not accept
			// it, so the SYN is an ordinary TCP SYN (as in the kernel).
			tok, _ := mptcpKeyHash(rc.keyP)
			o := optJoinSyn(tok, 9)[:10]
			o[1] = 10
			c2.send(t, ipTCP(tcpSeg{v6: true, src6: cli2, dst6: srv, sport: 43003, dport: 5002, seq: 7000, flags: tcpSYN, opts: o}))
		}, outcome{metric: "flexcp_connections_fallback_total", label: `reason="version"`, n: 1, pass: passPort(43003)}},
		{"DSS on an untracked 4-tuple: RST, never routed (I33)", func() {
			s := untracked(42009, tcpACK, nil)
			s.ack, s.opts = 77777, dataAck()
			c1.send(t, ipTCP(s))
		}, strayReset(42009, 77777)},
		{"MP_JOIN with an unknown token", func() {
			tok, _ := mptcpKeyHash(rc.keyP)
			c2.send(t, ipTCP(tcpSeg{v6: true, src6: cli2, dst6: srv, sport: 43001, dport: 5002, seq: 5000, flags: tcpSYN, opts: optJoinSyn(tok^0x5a5a5a5a, 7)}))
		}, outcome{metric: "flexcp_joins_rejected_total", label: `reason="unknown_token"`, n: 1}},
		{"MP_JOIN with a bad HMAC", func() {
			tok, _ := mptcpKeyHash(rc.keyP)
			m := c2.mark()
			c2.send(t, ipTCP(tcpSeg{v6: true, src6: cli2, dst6: srv, sport: 43002, dport: 5002, seq: 6000, flags: tcpSYN, opts: optJoinSyn(tok, 8)}))
			sa, ok := c2.wait(m, 5*time.Second, func(s *rawSeg) bool { return s.v6 && s.dport == 43002 && s.flags&tcpSYN != 0 })
			if !ok {
				t.Fatalf("no join SYN/ACK for a valid token")
			}
			c2.send(t, ipTCP(tcpSeg{v6: true, src6: cli2, dst6: srv, sport: 43002, dport: 5002, seq: 6001, ack: sa.seq + 1, flags: tcpACK, opts: optJoinAck([20]byte{1, 2, 3})}))
		}, outcome{metric: "flexcp_joins_rejected_total", label: `reason="bad_hmac"`, n: 1}},
	}
	runHostileCases(t, e.p, rc, c1, s1, cases)
	h.finish(t, " IPv6")
}

// TestMulticoreHostileHidden runs the hidden-port cases with two workers:
// segments of a tracked connection whose TCP ports sit behind IPv6
// extension headers, which the steering rules (like a NIC's hash) do not
// read. Whichever worker's queue they arrive on, they must reach the
// connection's owner (steering.Classifier.OwnerBehind), which drops them
// counted, instead of another worker routing them untranslated to the
// server; the raw connection's stream and the healthy transfer stay
// byte-exact. The veth puts a flow on one queue, so in a given run the
// raw client's source port is chosen so that the address-only hash a NIC
// would fall back to names the other worker than the connection's
// 4-tuple hash: without OwnerBehind those segments went to a worker that
// does not track the connection and were routed untranslated.
func TestMulticoreHostileHidden(t *testing.T) {
	srv := ip6(0x2001_0db8_0003_0000, 2)
	cli := ip6(0x2001_0db8_0001_0000, 2)
	hopByHop := ip6Ext{0, []byte{0, 0, 1, 4, 0, 0, 0, 0}}
	routing := ip6Ext{43, []byte{0, 0, 253, 0, 0, 0, 0, 0}}
	destOpts := ip6Ext{60, []byte{0, 0, 1, 4, 0, 0, 0, 0}}
	firstFrag := ip6Ext{44, []byte{0, 0, 0, 1, 0, 0, 0x66, 0x66}}
	withExt := func(s tcpSeg, x ...ip6Ext) []byte { return buildIPv6(s.src6, s.dst6, 6, x, buildTCP(s)) }

	// flexcp's rules for two workers, as dataplane/steer.go builds them.
	rs, err := steering.NewRuleset(steering.Config{Workers: 2, SymmetricRSS: true})
	if err != nil {
		t.Fatal(err)
	}
	cls := steering.NewClassifier(rs)
	sport := uint16(0)
	for p := uint16(41001); p < 41100 && sport == 0; p++ {
		seg := tcpSeg{v6: true, src6: cli, dst6: srv, sport: p, dport: 5002, flags: tcpACK}
		owner, _ := cls.Owner(withExt(seg))
		addr, why := cls.Owner(withExt(seg, hopByHop))
		if why == steering.ReasonNotTCP && addr != owner {
			sport = p
		}
	}
	if sport == 0 {
		t.Fatal("no source port in 41001-41099 whose 4-tuple owner differs from its address owner")
	}
	h := startHostile(t, newE2E2(t, "[2001:db8:3::2]:5001"), "[2001:db8:3::2]:5002", 807, func(c1 *rawIface) *rawClient {
		return dialRaw6(t, c1, sport, srv, 5002)
	})
	e, c1, s1, rc := h.e, h.c1, h.s1, h.rc
	h.send(t, hostileChunk(300, 1))
	tracked := func(flags uint8, opts, payload []byte) tcpSeg {
		return rc.seg(rc.ssn, flags, opts, payload)
	}
	dataAck := func() []byte { return optDSS(rc.idsnP+1, 0, 0, 0) }
	data := func() []byte { return optDSS(rc.idsnP+1, rc.dsn, rc.ssn, 100) }
	drop := hostileDrop("translate_unsupported")
	cases := []hostileCase{
		{"hop-by-hop, tracked, two workers", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), hopByHop))
		}, drop},
		{"routing header with data, tracked, two workers", func() {
			c1.send(t, withExt(tracked(tcpACK|tcpPSH, data(), hostileChunk(100, 8)), routing))
		}, drop},
		{"destination options with data, tracked, two workers", func() {
			c1.send(t, withExt(tracked(tcpACK|tcpPSH, data(), hostileChunk(100, 9)), destOpts))
		}, drop},
		{"first fragment, tracked, two workers", func() {
			c1.send(t, withExt(tracked(tcpACK|tcpPSH, data(), hostileChunk(100, 10)), firstFrag))
		}, drop},
		{"chain of three, tracked, two workers", func() {
			c1.send(t, withExt(tracked(tcpACK, dataAck(), nil), hopByHop, routing, destOpts))
		}, drop},
	}
	runHostileCases(t, e.p, rc, c1, s1, cases)
	h.finish(t, " two-worker IPv6")
}
