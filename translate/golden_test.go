package translate

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/internal/golden"
	"github.com/flexcp/flexcp/translate/header"
)

// goldenConn is the handshake of one capture, replayed through an engine
// whose key_P is the capture's server key, so the client's later packets
// (DATA_ACKs, join tokens) stay consistent with it.
type goldenConn struct {
	e        *Engine
	alloc    *testAlloc
	client   []golden.Packet // client-sent packets on p1, in order
	syn      golden.Packet
	synAck   golden.Packet
	keyS     uint64
	keyC     uint64
	clientAd golden.Packet
}

func loadGolden(t *testing.T, scenario string) *goldenConn {
	t.Helper()
	p1 := golden.MustLoad(t, scenario, golden.IfaceAccess1)
	syn, ok := golden.First(p1, golden.IsSYN, golden.WithMPTCP(golden.SubtypeMPCapable))
	if !ok {
		t.Fatalf("%s: no MP_CAPABLE SYN", scenario)
	}
	synAck, ok := golden.First(p1, golden.IsSYNACK, golden.ToPort(syn.SrcPort()))
	if !ok {
		t.Fatalf("%s: no SYN/ACK", scenario)
	}
	mc, ok := golden.ParseMPCapable(synAck.MPTCP(golden.SubtypeMPCapable))
	if !ok {
		t.Fatalf("%s: SYN/ACK without MP_CAPABLE", scenario)
	}
	g := &goldenConn{syn: syn, synAck: synAck, keyS: mc.SenderKey, alloc: newTestAlloc(64)}
	g.client = golden.Filter(p1, golden.From(syn.Src()), golden.FromPort(syn.SrcPort()))
	cfg := Config{MaxConnections: 16, MaxSubflows: 4, Keys: &fixedKeys{keys: []uint64{g.keyS}}}
	e, err := New(cfg, g.alloc)
	if err != nil {
		t.Fatal(err)
	}
	g.e = e
	return g
}

// stripMPTCP returns a copy of a captured server packet without its MPTCP
// options (the captures' server is MPTCP; ours speaks TCP), NOP-filled.
func stripMPTCP(t *testing.T, gp golden.Packet) []byte {
	t.Helper()
	b := bytes.Clone(gp.Data)
	tcp, pseudo, _ := view(t, b)
	o := tcp.Options()
	for i := 0; i < len(o); {
		if o[i] <= 1 {
			i++
			continue
		}
		l := int(o[i+1])
		if o[i] == optMPTCP {
			for k := i; k < i+l; k++ {
				o[k] = optNOP
			}
		}
		i += l
	}
	tcp.SetChecksum(0)
	tcp.SetChecksum(tcp.CalculateChecksum(pseudo))
	return b
}

// TestGoldenHandshake replays the captured MP_CAPABLE handshakes (IPv4,
// IPv4 with checksums, IPv6) through the engine. I5: the SYN reaches S
// without MPTCP or timestamp and with MSS-28; I6: the SYN/ACK carries
// MP_CAPABLE v1 with key_P, whose token is in the token table, flag A iff
// the client asked; I8/I9 on every output; the third ACK establishes.
func TestGoldenHandshake(t *testing.T) {
	for _, sc := range []string{golden.MPTCPv4Basic, golden.MPTCPv4Csum, golden.MPTCPv6Basic} {
		t.Run(sc, func(t *testing.T) {
			g := loadGolden(t, sc)
			e := g.e
			// SYN
			p := mkPacket(g.syn.Data, Access, 0)
			if v := e.Process(1, &p); v != Forward {
				t.Fatalf("SYN: verdict %v", v)
			}
			_, o := checkOut(t, &p)
			if o.hasMPTCP || o.hasTS {
				t.Errorf("I5/I8: forwarded SYN has MPTCP %v timestamp %v", o.hasMPTCP, o.hasTS)
			}
			var in tcpOpts
			parseOpts(header.TCP(g.syn.TCP()).Options(), &in)
			if !o.hasMSS || o.mss != in.mss-28 {
				t.Errorf("I5: MSS %d, want %d-28", o.mss, in.mss)
			}
			if !o.hasWS || o.ws != in.ws || o.sackPerm != in.sackPerm {
				t.Errorf("SYN lost WS/SACK-permitted: %+v", o)
			}
			if e.ActiveConnections() != 1 {
				t.Fatalf("connections %d", e.ActiveConnections())
			}
			// SYN/ACK from a TCP server
			p = mkPacket(stripMPTCP(t, g.synAck), Core, 9)
			if v := e.Process(2, &p); v != Forward {
				t.Fatalf("SYN/ACK: verdict %v", v)
			}
			tcp, o := checkOut(t, &p)
			if !o.capable || o.capLen != optLenCapableSynAck || o.capVer != 1 {
				t.Fatalf("I6: SYN/ACK MP_CAPABLE %+v", o)
			}
			if o.capKeyA != g.keyS || !e.HasToken(keyToken(g.keyS)) {
				t.Errorf("I6: key %x not ours or token not in table", o.capKeyA)
			}
			var synIn tcpOpts
			parseOpts(header.TCP(g.syn.TCP()).Options(), &synIn)
			if (o.capFlags&mpCapableFlagA != 0) != (synIn.capFlags&mpCapableFlagA != 0) || o.capFlags&mpCapableFlagH == 0 {
				t.Errorf("I6: flags %#x for client flags %#x", o.capFlags, synIn.capFlags)
			}
			if p.Side != Access || tcp.DestinationPort() != g.syn.SrcPort() {
				t.Errorf("SYN/ACK egress side %v port %d", p.Side, tcp.DestinationPort())
			}
			// Third ACK
			third, ok := golden.First(g.client, golden.WithMPTCP(golden.SubtypeMPCapable), golden.Not(golden.IsSYN))
			if !ok {
				t.Fatal("no third ACK")
			}
			p = mkPacket(third.Data, Access, 0)
			if v := e.Process(3, &p); v != Forward {
				t.Fatalf("third ACK: verdict %v (drops %v)", v, e.cnt.Drops)
			}
			_, o = checkOut(t, &p)
			if o.hasMPTCP {
				t.Error("I8: third ACK to S carries MPTCP")
			}
			c := &e.conns[0]
			for i := range e.conns {
				if e.conns[i].state != connFree {
					c = &e.conns[i]
				}
			}
			if c.state != connEstablished {
				t.Fatalf("state %v after third ACK", c.state)
			}
		})
	}
}

// TestGoldenClientData replays every captured client->server segment of
// subflow 0 after the handshake. I1: each payload reaches S at
// ISN_c + (DSN - IDSN_C); I7/I8/I9.
func TestGoldenClientData(t *testing.T) {
	for _, sc := range []string{golden.MPTCPv4Basic, golden.MPTCPv4Csum, golden.MPTCPv6Basic} {
		t.Run(sc, func(t *testing.T) {
			g := loadGolden(t, sc)
			e := g.e
			p := mkPacket(g.syn.Data, Access, 0)
			e.Process(1, &p)
			p = mkPacket(stripMPTCP(t, g.synAck), Core, 9)
			e.Process(2, &p)
			var c *conn
			n := 0
			for _, gp := range g.client {
				if gp.Flags()&golden.FlagSYN != 0 {
					continue
				}
				p := mkPacket(gp.Data, Access, 0)
				v := e.Process(3, &p)
				if c == nil {
					for i := range e.conns {
						if e.conns[i].state == connEstablished {
							c = &e.conns[i]
						}
					}
				}
				if v == Consumed || v == Pass && c == nil {
					continue
				}
				if v != Forward {
					t.Fatalf("packet %d (%v): verdict %v, drops %v", gp.Index, gp, v, e.cnt.Drops)
				}
				tcp, o := checkOut(t, &p)
				if o.hasMPTCP {
					t.Errorf("I8: packet %d to S has MPTCP", gp.Index)
				}
				if len(tcp.Payload()) != len(gp.Payload()) || !bytes.Equal(tcp.Payload(), gp.Payload()) {
					t.Fatalf("payload changed")
				}
				if d, ok := golden.ParseDSS(gp.MPTCP(golden.SubtypeDSS)); ok && d.HasMap && len(gp.Payload()) > 0 && d.DSN8 {
					off := gp.Seq() - g.syn.Seq() - d.SSN
					want := c.isnC.Add(uint32(header.DSN64(d.DSN) - c.idsnC)).Add(off)
					if tcp.Seq() != want {
						t.Errorf("I1: packet %d seq %d want %d", gp.Index, tcp.Seq(), want)
					}
					n++
				}
			}
			if n == 0 {
				t.Fatal("no data segment checked")
			}
			if e.cnt.SegmentsC2S == 0 {
				t.Error("no C->S segment counted")
			}
		})
	}
}

// TestGoldenJoin feeds the captured MP_JOIN SYN (its token is the one of
// key_P, the capture's server key). I16: P answers with SYN/ACK +
// MP_JOIN whose 64-bit HMAC verifies; the captured third ACK (an HMAC over
// the capture's server nonce, not P's) is refused with RST (I17); a third
// ACK with the right HMAC gets the fourth ACK and establishes the subflow.
func TestGoldenJoin(t *testing.T) {
	for _, sc := range []string{golden.MPTCPv4Basic, golden.MPTCPv6Basic} {
		t.Run(sc, func(t *testing.T) {
			g := loadGolden(t, sc)
			e := g.e
			p := mkPacket(g.syn.Data, Access, 0)
			e.Process(1, &p)
			p = mkPacket(stripMPTCP(t, g.synAck), Core, 9)
			e.Process(2, &p)
			third, _ := golden.First(g.client, golden.WithMPTCP(golden.SubtypeMPCapable), golden.Not(golden.IsSYN))
			mc, _ := golden.ParseMPCapable(third.MPTCP(golden.SubtypeMPCapable))
			p = mkPacket(third.Data, Access, 0)
			e.Process(3, &p)
			p2 := golden.MustLoad(t, sc, golden.IfaceAccess2)
			jsyn, ok := golden.First(p2, golden.IsSYN, golden.WithMPTCP(golden.SubtypeMPJoin))
			if !ok {
				t.Fatal("no join SYN")
			}
			jack, ok := golden.First(p2, golden.From(jsyn.Src()), golden.WithMPTCP(golden.SubtypeMPJoin), golden.Not(golden.IsSYN))
			if !ok {
				t.Fatal("no join third ACK")
			}
			p = mkPacket(jsyn.Data, Access, 1)
			if v := e.Process(4, &p); v != Forward {
				t.Fatalf("join SYN: %v", v)
			}
			tcp, o := checkOut(t, &p)
			if tcp.Flags() != header.TCPFlagSyn|header.TCPFlagAck || !o.join || o.joinLen != optLenJoinSynAck {
				t.Fatalf("I16: answer flags %#x join %+v", tcp.Flags(), o)
			}
			if o.hasTS {
				t.Error("I8: join SYN/ACK has timestamp")
			}
			var jin tcpOpts
			parseOpts(header.TCP(jsyn.TCP()).Options(), &jin)
			rp := o.joinNonce
			mac := refHMAC(g.keyS, mc.SenderKey, rp, jin.joinNonce)
			got := tcp.Options()
			idx := bytes.Index(got, []byte{optMPTCP, optLenJoinSynAck})
			if idx < 0 || !bytes.Equal(got[idx+4:idx+12], mac[:8]) {
				t.Errorf("I16: truncated HMAC mismatch")
			}
			if e.nsub != 2 {
				t.Errorf("subflows %d", e.nsub)
			}
			// The captured third ACK: HMAC over another R_P.
			badb := bytes.Clone(jack.Data)
			tb, pb, _ := view(t, badb)
			tb.SetAck(tcp.Seq() + 1)
			tb.SetChecksum(0)
			tb.SetChecksum(tb.CalculateChecksum(pb))
			bad := mkPacket(badb, Access, 1)
			if v := e.Process(5, &bad); v != Forward {
				t.Fatalf("bad third ACK: %v", v)
			}
			tcpb, ob := checkOut(t, &bad)
			if tcpb.Flags()&header.TCPFlagRst == 0 || !ob.mpRst || e.cnt.JoinsRejected[JoinBadHMAC] != 1 || e.nsub != 1 {
				t.Errorf("I17: flags %#x mpRst %v rejected %v subflows %d", tcpb.Flags(), ob.mpRst, e.cnt.JoinsRejected, e.nsub)
			}
			// Again, with the right HMAC.
			p = mkPacket(jsyn.Data, Access, 1)
			e.Process(6, &p)
			tcp, o = checkOut(t, &p)
			rp = o.joinNonce
			good := bytes.Clone(jack.Data)
			tg, pseudo, _ := view(t, good)
			opts := tg.Options()
			k := bytes.Index(opts, []byte{optMPTCP, optLenJoinAck})
			mac = refHMAC(mc.SenderKey, g.keyS, jin.joinNonce, rp)
			copy(opts[k+4:k+24], mac[:20])
			tg.SetAck(tcp.Seq() + 1)
			tg.SetChecksum(0)
			tg.SetChecksum(tg.CalculateChecksum(pseudo))
			p = mkPacket(good, Access, 1)
			if v := e.Process(7, &p); v != Forward {
				t.Fatalf("good third ACK: %v drops %v", v, e.cnt.Drops)
			}
			tcp, o = checkOut(t, &p)
			if tcp.Flags() != header.TCPFlagAck || !o.dss || e.cnt.JoinsAccepted != 1 {
				t.Errorf("fourth ACK flags %#x dss %v accepted %d", tcp.Flags(), o.dss, e.cnt.JoinsAccepted)
			}
		})
	}
}

// refHMAC is the join HMAC computed with the standard library (RFC 8684
// 3.2), independent of joinHMAC.
func refHMAC(k1, k2 uint64, n1, n2 uint32) []byte {
	var key [16]byte
	var msg [8]byte
	binary.BigEndian.PutUint64(key[:], k1)
	binary.BigEndian.PutUint64(key[8:], k2)
	binary.BigEndian.PutUint32(msg[:], n1)
	binary.BigEndian.PutUint32(msg[4:], n2)
	m := hmac.New(sha256.New, key[:])
	m.Write(msg[:])
	return m.Sum(nil)
}
