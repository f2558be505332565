package translate

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// Hostile input on an established connection (issue 8): each case has a
// defined, counted outcome and leaves the connection serving.

// TestRSTOutOfWindow: an RST must fall in the receive window to close
// anything (RFC 5961 section 3.2); outside it is dropped and counted, on
// both sides. In the window it still closes.
func TestRSTOutOfWindow(t *testing.T) {
	f := newFixture(t)
	ci, c := f.connIdx()
	subs := f.e.ActiveSubflows()
	s1 := f.e.sub(ci, 1)
	far := s1.rcvNxt + 1<<30
	if v, _ := f.send(t, f.cpkt(1, far, 0, header.TCPFlagRst, nil, nil), Access, 1); v != Drop {
		t.Fatalf("client RST 2^30 past the window: %v, want Drop", v)
	}
	if f.e.cnt.Drops[DropRSTOutOfWindow] != 1 || f.e.ActiveSubflows() != subs || f.e.ActiveConnections() != 1 {
		t.Errorf("client RST out of window: drops %d, subflows %d -> %d", f.e.cnt.Drops[DropRSTOutOfWindow], subs, f.e.ActiveSubflows())
	}
	below := s1.rcvNxt - 10
	if v, _ := f.send(t, f.cpkt(1, below, 0, header.TCPFlagRst, nil, nil), Access, 1); v != Drop {
		t.Fatalf("client RST below rcv_nxt: %v, want Drop", v)
	}

	ackOff := uint32(0)
	if c.dataAckOK {
		ackOff = uint32(c.ackToS(c.dataAck) - c.isnS.Add(1))
	}
	if v, _ := f.send(t, f.spkt(ackOff+1<<30, 0, header.TCPFlagRst, nil, nil), Core, 0); v != Drop {
		t.Fatalf("server RST 2^30 past the window: %v, want Drop", v)
	}
	if f.e.cnt.Drops[DropRSTOutOfWindow] != 3 || f.e.ActiveConnections() != 1 || c.state != connEstablished {
		t.Errorf("server RST out of window: drops %d, connections %d", f.e.cnt.Drops[DropRSTOutOfWindow], f.e.ActiveConnections())
	}
	// The connection still translates.
	f.s2cNew(t)

	// In the window: the subflow RST closes subflow 1 only.
	if v, _ := f.send(t, f.cpkt(1, s1.rcvNxt, 0, header.TCPFlagRst, nil, nil), Access, 1); v != Consumed || f.e.ActiveSubflows() != subs-1 {
		t.Errorf("in-window client RST: %v, subflows %d -> %d", v, subs, f.e.ActiveSubflows())
	}
	if v, out := f.send(t, f.spkt(ackOff, 0, header.TCPFlagRst, nil, nil), Core, 0); v != Forward || len(out) == 0 || f.e.cnt.Resets != 1 {
		t.Errorf("in-window server RST: %v, resets %d", v, f.e.cnt.Resets)
	}
}

// TestFastcloseWrongKey: MP_FASTCLOSE must carry key_P (RFC 8684 3.5);
// with any other key it is dropped, sends nothing and closes nothing.
func TestFastcloseWrongKey(t *testing.T) {
	f := newFixture(t)
	_, c := f.connIdx()
	subs := f.e.ActiveSubflows()
	opts := make([]byte, 12)
	opts[0], opts[1], opts[2] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4
	binary.BigEndian.PutUint64(opts[4:], c.keyP^0x5a5a)
	bad := f.e.cnt.Drops[DropBadState]
	v, out := f.send(t, f.cpkt(0, 1001, f.m.c.sub[0].peerISN+1, ackF, opts, nil), Access, 0)
	if v != Drop || len(out) != 0 || f.e.cnt.Drops[DropBadState] != bad+1 {
		t.Fatalf("fastclose with a wrong key: %v, %d packets out, bad_state %d -> %d", v, len(out), bad, f.e.cnt.Drops[DropBadState])
	}
	if f.e.ActiveConnections() != 1 || f.e.ActiveSubflows() != subs || f.e.cnt.Resets != 0 || c.state != connEstablished {
		t.Errorf("wrong-key fastclose changed state: connections %d subflows %d resets %d", f.e.ActiveConnections(), f.e.ActiveSubflows(), f.e.cnt.Resets)
	}
	f.s2cNew(t)
}

// TestMapConflict: a DSS mapping over subflow bytes already mapped to
// other data sequence numbers is dropped and counted (RFC 8684 3.3.1);
// the earlier mapping stays in force.
func TestMapConflict(t *testing.T) {
	f := newFixture(t)
	cl := f.m.c
	pay := make([]byte, 1000)
	// The fixture mapped subflow 0's SSN [1, 1001) to IDSN_C+1. Map it
	// again 5000 bytes further on.
	opts := cl.dss(0, true, cl.idsnC+5001, 1, 1000, pay)
	in := f.cpkt(0, 1, cl.sub[0].peerISN+1, pshF, opts, pay)
	if v, _ := f.send(t, in, Access, 0); v != Drop || f.e.cnt.Drops[DropMapConflict] != 1 {
		t.Fatalf("conflicting mapping: %v, map_conflict %d", v, f.e.cnt.Drops[DropMapConflict])
	}
	// The original mapping still translates a retransmission.
	v, out := f.send(t, f.c2sData, Access, 0)
	if v != Forward || len(out) == 0 {
		t.Fatalf("retransmission under the original mapping: %v", v)
	}
}

// TestUntranslatableOnTrackedFlow: packets of a tracked connection that
// the engine cannot translate (IPv4 options, a first fragment, a bad TCP
// data offset) are dropped and counted, never routed untranslated; the
// same packets of an untracked 4-tuple pass (routed as they are), unless
// they carry an MPTCP option (I33: dropped as stray_mptcp).
func TestUntranslatableOnTrackedFlow(t *testing.T) {
	f := newFixture(t)
	withOpts := func(ip []byte) []byte {
		out := make([]byte, 0, len(ip)+4)
		out = append(out, ip[:20]...)
		out = append(out, 1, 1, 1, 0) // NOP NOP NOP EOL
		out = append(out, ip[20:]...)
		h := header.IPv4(out)
		h.SetHeaderLength(24)
		h.SetTotalLength(uint16(len(out)))
		h.SetChecksum(0)
		h.SetChecksum(h.CalculateChecksum())
		return out
	}
	firstFrag := func(ip []byte) []byte {
		out := bytes.Clone(ip)
		h := header.IPv4(out)
		h.SetFlagsFragmentOffset(header.IPv4FlagMoreFragments)
		h.SetChecksum(0)
		h.SetChecksum(h.CalculateChecksum())
		return out
	}
	badOffset := func(ip []byte) []byte {
		out := bytes.Clone(ip)
		out[20+12] = 4 << 4 // data offset 16 bytes, below the minimum
		return out
	}
	untracked := func(ip []byte) []byte {
		out := bytes.Clone(ip)
		binary.BigEndian.PutUint16(out[20:], 40999)
		return out
	}
	s0 := &f.m.c.sub[0]
	plain := simBuild(simC0, simS, 40999, 5201, s0.isn+1, s0.peerISN+1, header.TCPFlagAck|header.TCPFlagPsh, 1024, nil, make([]byte, 100))
	for _, tc := range []struct {
		name   string
		in     []byte
		want   Verdict
		reason DropReason
	}{
		{"ip options", withOpts(f.c2sData), Drop, DropUnsupported},
		{"first fragment", firstFrag(f.c2sData), Drop, DropUnsupported},
		{"bad data offset", badOffset(f.c2sData), Drop, DropMalformed},
		{"server ip options", withOpts(f.s2cAck), Drop, DropUnsupported},
		// I33: an untracked segment with an MPTCP option (c2sData
		// carries a DSS) never reaches S; without one it is routed.
		{"untracked ip options", withOpts(untracked(f.c2sData)), Drop, DropStrayMPTCP},
		{"untracked ip options plain tcp", withOpts(plain), Pass, DropReasonCount},
		{"untracked bad data offset", badOffset(untracked(f.c2sData)), Pass, DropReasonCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			side := Access
			if tc.name == "server ip options" {
				side = Core
			}
			before := f.e.cnt.Drops
			p := mkPacket(tc.in, side, 0)
			if v := f.e.Process(f.m.now, &p); v != tc.want {
				t.Fatalf("verdict %v, want %v", v, tc.want)
			}
			f.e.ClearEmitted()
			f.m.alloc.reset()
			for r := range DropReasonCount {
				want := before[r]
				if r == tc.reason {
					want++
				}
				if f.e.cnt.Drops[r] != want {
					t.Errorf("drops[%v] = %d, want %d", r, f.e.cnt.Drops[r], want)
				}
			}
		})
	}
	if f.e.ActiveConnections() != 1 {
		t.Errorf("connections %d, want 1", f.e.ActiveConnections())
	}
}

// TestRandomKeys: key_P comes from crypto/rand (RandomKeys, the default
// KeySource): 4096 keys from two sources hold no duplicate and every bit
// is set in 40-60% of them (a fair source is outside that band with
// probability below 1e-30), so tokens are not predictable from others.
func TestRandomKeys(t *testing.T) {
	e, err := New(Config{MaxConnections: 4}, newTestAlloc(4))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.keys.(*RandomKeys); !ok {
		t.Fatalf("default key source is %T, want *RandomKeys", e.keys)
	}
	seen := make(map[uint64]bool)
	var ones [64]int
	for _, r := range []*RandomKeys{NewRandomKeys(64, nil), NewRandomKeys(64, nil)} {
		for range 2048 {
			k, ok := r.NextKey()
			if !ok {
				r.Refill()
				k, ok = r.NextKey()
			}
			if !ok {
				t.Fatal("no key after Refill")
			}
			if seen[k] {
				t.Fatalf("key %#x drawn twice", k)
			}
			seen[k] = true
			for b := range 64 {
				ones[b] += int(k >> b & 1)
			}
		}
	}
	for b, n := range ones {
		if n < 4096*4/10 || n > 4096*6/10 {
			t.Errorf("bit %d set in %d of 4096 keys", b, n)
		}
	}
}

// TestRefusedJoinThenClose: a join refused (bad HMAC) or reset before its
// third ACK frees its slot; a later MP_FASTCLOSE or server RST must not
// count that slot closed again (the subflow gauge went to -1 on the wire,
// TestHostileWire).
func TestRefusedJoinThenClose(t *testing.T) {
	for _, closer := range []string{"fastclose", "server rst"} {
		t.Run(closer, func(t *testing.T) {
			f := newFixture(t)
			_, c := f.connIdx()
			v, out := f.send(t, joinSynPkt(f, 50002, c.tokenP), Access, 1)
			if v != Forward || len(out) != 1 {
				t.Fatalf("join SYN: %v", v)
			}
			synack, _ := checkOut(t, &out[0])
			opts := make([]byte, 24)
			opts[0], opts[1], opts[2] = optMPTCP, optLenJoinAck, mptcpSubJoin<<4
			ack := simBuildIP(false, f.m.c.sub[1].addr, f.m.sAddr, 50002, 5201, 778, uint32(synack.Seq())+1, ackF, 1024, opts, nil)
			if v, _ := f.send(t, ack, Access, 1); v != Forward || f.e.cnt.JoinsRejected[JoinBadHMAC] != 1 {
				t.Fatalf("bad HMAC: %v, rejected %v", v, f.e.cnt.JoinsRejected)
			}
			if closer == "fastclose" {
				fc := make([]byte, 12)
				fc[0], fc[1], fc[2] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4
				binary.BigEndian.PutUint64(fc[4:], c.keyP)
				f.send(t, f.cpkt(0, 1001, f.m.c.sub[0].peerISN+1, ackF, fc, nil), Access, 0)
			} else {
				ackOff := uint32(0)
				if c.dataAckOK {
					ackOff = uint32(c.ackToS(c.dataAck) - c.isnS.Add(1))
				}
				f.send(t, f.spkt(ackOff, 0, header.TCPFlagRst, nil, nil), Core, 0)
			}
			f.e.Tick(f.m.now + int64(f.e.cfg.Linger) + int64(20e6))
			if f.e.ActiveConnections() != 0 || f.e.ActiveSubflows() != 0 {
				t.Errorf("after %s: connections %d subflows %d, want 0 and 0", closer, f.e.ActiveConnections(), f.e.ActiveSubflows())
			}
			if f.e.cnt.SubflowOpened+f.e.cnt.JoinsRejected[JoinBadHMAC] < f.e.cnt.SubflowClosed {
				t.Errorf("closed %d subflows, opened %d", f.e.cnt.SubflowClosed, f.e.cnt.SubflowOpened)
			}
		})
	}
}

// TestIPv6ExtensionHeadersOnTrackedFlow: an IPv6 segment of a translated
// connection behind extension headers (destination options, a first
// fragment) is dropped and counted, never routed untranslated; the same
// for an untracked 4-tuple, and a non-first fragment, pass.
func TestIPv6ExtensionHeadersOnTrackedFlow(t *testing.T) {
	m := newSimCfg(t, 1, simLink{}, 0, false, true, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62})
	m.c.noClose = true
	m.c.start()
	m.runFor(int64(50e6), false)
	if m.e.ActiveConnections() != 1 {
		t.Fatalf("no connection")
	}
	s0 := &m.c.sub[0]
	seg := func(sport uint16) []byte {
		return simBuildIP(true, s0.addr, m.sAddr, sport, 5201, s0.isn+1, s0.peerISN+1, ackF, 1024, nil, nil)
	}
	// withExt inserts an extension header of next-header type nh.
	withExt := func(ip []byte, nh uint8, ext []byte) []byte {
		ext = bytes.Clone(ext)
		ext[0] = ip[6]
		out := append(append(bytes.Clone(ip[:40]), ext...), ip[40:]...)
		out[6] = nh
		binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
		return out
	}
	destOpts := []byte{0, 0, 1, 4, 0, 0, 0, 0}  // PadN
	firstFrag := []byte{0, 0, 0, 1, 0, 0, 0, 9} // offset 0, M set
	laterFrag := []byte{0, 0, 0x05, 0x00, 0, 0, 0, 9}
	// chain puts n destination-options headers in front of TCP.
	chain := func(ip []byte, n int) []byte {
		for range n {
			ip = withExt(ip, header.IPv6DestOptions, destOpts)
		}
		return ip
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want Verdict
	}{
		{"destination options", withExt(seg(s0.port), header.IPv6DestOptions, destOpts), Drop},
		{"first fragment", withExt(seg(s0.port), header.IPv6Fragment, firstFrag), Drop},
		{"non-first fragment", withExt(seg(s0.port), header.IPv6Fragment, laterFrag), Pass},
		{"untracked destination options", withExt(seg(40999), header.IPv6DestOptions, destOpts), Pass},
		// Linux walks any number of extension headers to TCP; a chain
		// longer than a fixed walk limit must not slip through untranslated.
		{"nine destination options headers", chain(seg(s0.port), 9), Drop},
	} {
		before := m.e.cnt.Drops[DropUnsupported]
		p := mkPacket(tc.in, Access, 0)
		if v := m.e.Process(m.now, &p); v != tc.want {
			t.Errorf("%s: verdict %v, want %v", tc.name, v, tc.want)
		}
		want := before
		if tc.want == Drop {
			want++
		}
		if got := m.e.cnt.Drops[DropUnsupported]; got != want {
			t.Errorf("%s: unsupported drops %d, want %d", tc.name, got, want)
		}
		m.e.ClearEmitted()
	}
}
