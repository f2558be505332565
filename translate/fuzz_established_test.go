package translate

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// FuzzEstablished feeds packet sequences to an engine that holds an
// established two-subflow connection (the deterministic simulation
// fixture), so mutations reach the per-connection code: DSS mappings,
// joins, RSTs, MP_FASTCLOSE, IP options and fragments on tracked
// 4-tuples. Input: records of [side, port, 2-byte length, packet] (bit 1
// of the side byte advances the clock by closedResetGap first, so the
// RSTs that answer S after a client reset are reached, I32); the seeds
// are the hostile cases of TestHostileWire on this connection.
// Invariants: no panic; every forwarded or emitted packet has valid
// checksums and at most 40 option bytes (I9, I10); the connection and
// subflow gauges stay within [0, bound] after every packet; after the
// timers run out everything is released: connections, subflows, tokens
// and D-trees all back to zero (I21).
func FuzzEstablished(f *testing.F) {
	fx := newFixture(f)
	_, c := fx.connIdx()
	cl := fx.m.c
	rec := func(side Side, port uint8, ip []byte) []byte {
		r := []byte{byte(side), port, 0, 0}
		binary.BigEndian.PutUint16(r[2:], uint16(len(ip)))
		return append(r, ip...)
	}
	withIPOpts := func(ip []byte) []byte {
		out := append(append(bytes.Clone(ip[:20]), 1, 1, 1, 0), ip[20:]...)
		out[0] = 0x46
		binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
		return out
	}
	fastclose := func(key uint64) []byte {
		o := make([]byte, 12)
		o[0], o[1], o[2] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4
		binary.BigEndian.PutUint64(o[4:], key)
		return o
	}
	pay := make([]byte, 1000)
	// A join whose third ACK carries a bad HMAC, then MP_FASTCLOSE: the
	// fixture is deterministic, so the SYN/ACK's sequence number seen
	// here is the one every run sees.
	joinSyn := joinSynPkt(fx, 50002, c.tokenP)
	_, out := fx.send(f, joinSyn, Access, 1)
	synack, _ := checkOut(f, &out[0])
	jack := make([]byte, 24)
	jack[0], jack[1], jack[2] = optMPTCP, optLenJoinAck, mptcpSubJoin<<4
	badAck := simBuildIP(false, cl.sub[1].addr, fx.m.sAddr, 50002, 5201, 778, uint32(synack.Seq())+1, ackF, 1024, jack, nil)
	seeds := [][]byte{
		rec(Access, 0, fx.c2sData),
		rec(Core, 0, fx.s2cData),
		rec(Access, 0, fx.c2sAck),
		rec(Access, 0, withIPOpts(fx.c2sData)),
		rec(Access, 0, fx.cpkt(0, 1, cl.sub[0].peerISN+1, pshF, cl.dss(0, true, cl.idsnC+5001, 1, 1000, pay), pay)),
		rec(Access, 1, fx.cpkt(1, 1<<30, 0, header.TCPFlagRst, nil, nil)),
		rec(Access, 0, fx.cpkt(0, 1001, cl.sub[0].peerISN+1, ackF, fastclose(c.keyP^1), nil)),
		append(append(rec(Access, 1, joinSyn), rec(Access, 1, badAck)...),
			rec(Access, 0, fx.cpkt(0, 1001, cl.sub[0].peerISN+1, ackF, fastclose(c.keyP), nil))...),
		append(append(rec(Access, 1, joinSyn), rec(Access, 1, badAck)...), rec(Core, 0, fx.spkt(0, 0, header.TCPFlagRst, nil, nil))...),
		// MP_FASTCLOSE, S's segment in flight, its retransmission after
		// closedResetGap (answered with an RST, I32).
		append(append(rec(Access, 0, fx.cpkt(0, 1001, cl.sub[0].peerISN+1, ackF, fastclose(c.keyP), nil)),
			rec(Core, 0, fx.spkt(0, cl.sub[0].isn+1001, pshF, nil, pay))...),
			rec(Core|2, 0, fx.spkt(0, cl.sub[0].isn+1001, pshF, nil, pay))...),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fx := newFixture(t)
		e := fx.e
		maxConns, maxSubs := e.cfg.MaxConnections, e.cfg.MaxConnections*e.maxSub
		for len(data) >= 4 {
			side, port := Side(data[0]&1), data[1]&1
			if data[0]&2 != 0 {
				fx.m.now += closedResetGap
			}
			n := int(binary.BigEndian.Uint16(data[2:]))
			data = data[4:]
			n = min(n, len(data))
			ip := append([]byte(nil), data[:n]...)
			data = data[n:]
			fixChecksums(ip)
			p := mkPacket(ip, side, port)
			if v := e.Process(fx.m.now, &p); v == Forward {
				checkOut(t, &p)
			}
			for i := range e.Emitted() {
				checkOut(t, &e.Emitted()[i])
			}
			e.ClearEmitted()
			fx.m.alloc.reset()
			if c, s := e.ActiveConnections(), e.ActiveSubflows(); c < 0 || c > maxConns || s < 0 || s > maxSubs {
				t.Fatalf("occupancy out of [0, bound]: %d connections (max %d), %d subflows (max %d)", c, maxConns, s, maxSubs)
			}
		}
		e.Tick(fx.m.now + int64(1e15))
		trees, recs := e.Mappings()
		if e.ActiveConnections() != 0 || e.ActiveSubflows() != 0 || e.Tokens() != 0 || trees != 0 || recs != 0 {
			t.Fatalf("I21: state left after the timers: %d connections, %d subflows, %d tokens, %d trees, %d records",
				e.ActiveConnections(), e.ActiveSubflows(), e.Tokens(), trees, recs)
		}
	})
}
