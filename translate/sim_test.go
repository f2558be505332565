package translate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// The closed-loop simulation: a model MPTCP client with two subflows and a
// model TCP server exchange data through the engine both ways over lossy,
// reordering, duplicating links, then close (DATA_FIN both ways, subflow
// FINs). The models check, as they go, that every payload byte is the
// right byte at its sequence number (I1, I2), that a retransmitted S->C
// byte always comes back with the mapping it first came with (I12, as the
// Linux receiver does), that no ack runs ahead of what was sent (I3, I4,
// I13), that no packet toward S carries MPTCP or timestamps (I8), and that
// every packet the engine sends has valid checksums and at most 40 option
// bytes, accepted by translate/option (I9, I10). After the close, the
// engine must release everything (I21).

var simDebug = false

const (
	simMSS   = 1000
	simRTO   = int64(60e6)
	simDelay = int64(2e6)
	simWin   = 16 * 1024
)

var (
	simC0 = [4]byte{198, 18, 1, 2}
	simC1 = [4]byte{198, 18, 2, 2}
	simS  = [4]byte{198, 18, 3, 2}

	simC0v6 = netip.MustParseAddr("2001:db8:1::2").As16()
	simC1v6 = netip.MustParseAddr("2001:db8:2::2").As16()
	simSv6  = netip.MustParseAddr("2001:db8:3::2").As16()
)

type simLink struct {
	loss, dup, reorder float64
}

type simEvent struct {
	at   int64
	to   int // 0 client, 1 engine access, 2 engine core, 3 server
	port uint8
	data []byte
}

type sim struct {
	t      testing.TB
	rng    *rand.Rand
	now    int64
	events []simEvent
	link   simLink
	e      *Engine
	alloc  *testAlloc
	c      *simClient
	s      *simServer
	v6     bool
	sAddr  [16]byte
}

// simBuild returns an IPv4/TCP packet with valid checksums.
func simBuild(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags uint8, win uint16, opts, payload []byte) []byte {
	var s, d [16]byte
	copy(s[:], src[:])
	copy(d[:], dst[:])
	return simBuildIP(false, s, d, sport, dport, seq, ack, flags, win, opts, payload)
}

// simBuildIP returns an IPv4 or IPv6 TCP packet with valid checksums;
// IPv4 addresses are the first 4 bytes of src and dst.
func simBuildIP(v6 bool, src, dst [16]byte, sport, dport uint16, seq, ack uint32, flags uint8, win uint16, opts, payload []byte) []byte {
	opts = bytes.Clone(opts)
	for len(opts)%4 != 0 {
		opts = append(opts, optNOP)
	}
	ipHL := 20
	if v6 {
		ipHL = 40
	}
	hl := ipHL + 20 + len(opts)
	b := make([]byte, hl+len(payload))
	var pseudo uint16
	if v6 {
		ip := header.IPv6(b)
		ip.SetVersion()
		ip.SetPayloadLength(uint16(len(b) - 40))
		ip.SetNextHeader(6)
		ip.SetHopLimit(64)
		ip.SetSourceAddress(src)
		ip.SetDestinationAddress(dst)
		pseudo = ip.PseudoHeaderSum()
	} else {
		ip := header.IPv4(b)
		ip.SetHeaderLength(20)
		ip.SetTotalLength(uint16(len(b)))
		ip.SetTTL(64)
		ip.SetProtocol(6)
		ip.SetSourceAddress([4]byte(src[:4]))
		ip.SetDestinationAddress([4]byte(dst[:4]))
		ip.SetChecksum(ip.CalculateChecksum())
		pseudo = ip.PseudoHeaderSum()
	}
	t := header.TCP(b[ipHL:])
	t.SetSourcePort(sport)
	t.SetDestinationPort(dport)
	t.SetSeq(header.Seq32(seq))
	t.SetAck(header.Seq32(ack))
	t.SetDataOffset(20 + len(opts))
	t.SetFlags(flags)
	t.SetWindow(win)
	copy(t[20:], opts)
	copy(t[20+len(opts):], payload)
	t.SetChecksum(t.CalculateChecksum(pseudo))
	return b
}

func (m *sim) send(to int, port uint8, b []byte) {
	n := 1
	if m.rng.Float64() < m.link.loss {
		return
	}
	if m.rng.Float64() < m.link.dup {
		n = 2
	}
	for i := 0; i < n; i++ {
		at := m.now + simDelay
		if m.rng.Float64() < m.link.reorder {
			at += int64(m.rng.IntN(int(3 * simDelay)))
		}
		m.events = append(m.events, simEvent{at: at, to: to, port: port, data: bytes.Clone(b)})
	}
}

// engineIn runs one packet through the engine and routes what comes out.
func (m *sim) engineIn(side Side, port uint8, b []byte) {
	p := mkPacket(b, side, port)
	v := m.e.Process(m.now, &p)
	switch v {
	case Pass:
		if !m.e.HasToken(keyToken(m.c.keyP)) || m.e.ActiveConnections() != 0 {
			m.t.Fatalf("t=%d: engine passed a packet of a translated connection", m.now)
		}
	case Forward:
		m.out(&p)
	}
	for i := range m.e.Emitted() {
		m.out(&m.e.Emitted()[i])
	}
	m.e.ClearEmitted()
	m.alloc.reset()
}

// out checks a packet the engine sent and puts it on the wire.
func (m *sim) out(p *Packet) {
	_, o := checkOut(m.t, p)
	b := bytes.Clone(p.Bytes())
	if p.Side == Core {
		if o.hasMPTCP || o.hasTS {
			m.t.Fatalf("I8: packet to S with MPTCP %v TS %v", o.hasMPTCP, o.hasTS)
		}
		m.send(3, 0, b)
		return
	}
	if o.hasTS {
		m.t.Fatalf("I8: packet to C with timestamp")
	}
	if tcp, _, _ := view(m.t, b); tcp.Flags()&(header.TCPFlagSyn|header.TCPFlagRst) == 0 &&
		(!o.dss || o.dssFlags&(dssHasAck|dssAck64) != dssHasAck|dssAck64) {
		m.t.Fatalf("I4: segment to C without an 8-byte DATA_ACK (flags %#x)", tcp.Flags())
	}
	if simDebug {
		tcp, _, _ := view(m.t, b)
		if len(tcp.Payload()) > 0 {
			j := int(p.Port)
			rel := uint32(tcp.Seq()) - m.c.sub[j].peerISN
			m.t.Logf("t=%d P->C sub%d rel %d len %d piece dsn %d", m.now, j, rel, len(tcp.Payload()), o.dsn-m.c.idsnP-1+uint64(rel-o.ssn))
		}
	}
	m.send(0, 0, b)
}

func (m *sim) run(limit int64) { m.runFor(limit, true) }

// runFor advances the simulation to limit, stopping early when both
// models are done if stopWhenDone.
func (m *sim) runFor(limit int64, stopWhenDone bool) {
	for m.now < limit {
		sort.SliceStable(m.events, func(i, j int) bool { return m.events[i].at < m.events[j].at })
		next := m.now + int64(1e6)
		if len(m.events) > 0 && m.events[0].at < next {
			next = m.events[0].at
		}
		m.now = next
		for len(m.events) > 0 && m.events[0].at <= m.now {
			ev := m.events[0]
			m.events = m.events[1:]
			switch ev.to {
			case 0:
				m.c.recv(ev.data)
			case 1:
				m.engineIn(Access, ev.port, ev.data)
			case 2:
				m.engineIn(Core, 0, ev.data)
			case 3:
				m.s.recv(ev.data)
			}
		}
		m.c.timers()
		m.s.timers()
		m.e.Tick(m.now)
		if stopWhenDone && m.c.done() && m.s.done() {
			return
		}
	}
}

// parse returns the TCP view and options of a packet on the wire.
func (m *sim) parse(b []byte) (header.TCP, tcpOpts, [16]byte) {
	tcp, _, v6 := view(m.t, b)
	var o tcpOpts
	parseOpts(tcp.Options(), &o)
	var dst [16]byte
	if v6 {
		copy(dst[:], b[24:40])
	} else {
		copy(dst[:], b[16:20])
	}
	return tcp, o, dst
}

// ---- model TCP server ----

type simServer struct {
	m        *sim
	isn      uint32
	peerISN  uint32
	synRcvd  bool
	est      bool
	data     []byte
	una, nxt int // offsets into data
	lastProg int64
	dupacks  int
	want     []byte // client data expected
	have     []bool
	rcvNxt   int
	finRcvd  bool
	finSent  bool
	finAcked bool
	finTime  int64
	synTime  int64
}

func (s *simServer) done() bool {
	return s.rcvNxt == len(s.want) && s.una == len(s.data) && s.finRcvd && s.finAcked
}

func (s *simServer) pkt(seq, ack uint32, flags uint8, opts, payload []byte) {
	m := s.m
	b := simBuildIP(m.v6, m.sAddr, m.c.sub[0].addr, 5201, 40000, seq, ack, flags, 1024, opts, payload)
	m.send(2, 0, b)
}

func (s *simServer) ackNo() uint32 {
	a := s.peerISN + 1 + uint32(s.rcvNxt)
	if s.finRcvd {
		a++
	}
	return a
}

func (s *simServer) synAck() {
	var w optWriter
	w.mss(1460)
	w.ws(7)
	w.sackPerm()
	s.pkt(s.isn, s.peerISN+1, header.TCPFlagSyn|header.TCPFlagAck, w.pad(), nil)
	s.synTime = s.m.now
}

func (s *simServer) recv(b []byte) {
	m := s.m
	tcp, o, _ := m.parse(b)
	if o.hasMPTCP || o.hasTS {
		m.t.Fatalf("I8: server got MPTCP/TS options")
	}
	f := tcp.Flags()
	if f&header.TCPFlagRst != 0 {
		m.t.Fatalf("server got RST at t=%d", m.now)
	}
	if f&header.TCPFlagSyn != 0 {
		mss := uint16(1460 - 28)
		if m.v6 {
			mss = 1440 - 28
		}
		if !o.hasMSS || o.mss != mss {
			m.t.Fatalf("I5: server saw MSS %d, want %d", o.mss, mss)
		}
		s.peerISN, s.synRcvd = uint32(tcp.Seq()), true
		s.synAck()
		return
	}
	if !s.synRcvd {
		return
	}
	s.est = true
	if f&header.TCPFlagAck != 0 {
		a := int(uint32(tcp.Ack()) - s.isn - 1)
		if a > s.nxt && !(a == s.nxt+1 && s.finSent) {
			m.t.Fatalf("I3: server: ack %d beyond sent %d", a, s.nxt)
		}
		if s.finSent && a == len(s.data)+1 {
			s.finAcked = true
		}
		if a > s.una {
			s.una, s.lastProg, s.dupacks = min(a, len(s.data)), m.now, 0
		} else if a == s.una && len(tcp.Payload()) == 0 && s.una < s.nxt {
			s.dupacks++
			if s.dupacks == 3 {
				s.sendSegN(s.una, min(1400, s.nxt-s.una))
			}
		}
	}
	pay := tcp.Payload()
	if len(pay) > 0 {
		off := int(uint32(tcp.Seq()) - s.peerISN - 1)
		if off < 0 || off+len(pay) > len(s.want) {
			m.t.Fatalf("I1: server got seq offset %d len %d outside stream", off, len(pay))
		}
		if !bytes.Equal(pay, s.want[off:off+len(pay)]) {
			m.t.Fatalf("I1: server got wrong bytes at offset %d", off)
		}
		for i := range pay {
			s.have[off+i] = true
		}
		for s.rcvNxt < len(s.want) && s.have[s.rcvNxt] {
			s.rcvNxt++
		}
	}
	if f&header.TCPFlagFin != 0 {
		off := int(uint32(tcp.Seq())-s.peerISN-1) + len(pay)
		if off != len(s.want) {
			m.t.Fatalf("I19: server got FIN at offset %d, stream is %d", off, len(s.want))
		}
		if s.rcvNxt == len(s.want) {
			s.finRcvd = true
		}
	}
	if len(pay) > 0 || f&header.TCPFlagFin != 0 {
		s.pkt(s.isn+1+uint32(s.nxt), s.ackNo(), header.TCPFlagAck, s.sackOf(b), nil)
	}
}

// sackOf returns a SACK option whose one block is the received range
// holding segment b's payload, if that lies above the cumulative ack
// (RFC 2018: the most recent block first), so the engine's SACKed-range
// pool (I25) is exercised under loss and reordering.
func (s *simServer) sackOf(b []byte) []byte {
	tcp, _, _ := s.m.parse(b)
	off := int(uint32(tcp.Seq()) - s.peerISN - 1)
	if len(tcp.Payload()) == 0 || off <= s.rcvNxt {
		return nil
	}
	lo, hi := off, off
	for lo > s.rcvNxt && s.have[lo-1] {
		lo--
	}
	for hi < len(s.have) && s.have[hi] {
		hi++
	}
	return sackOpt([2]uint32{s.peerISN + 1 + uint32(lo), s.peerISN + 1 + uint32(hi)})
}

// sendSegN sends up to n bytes from off. Retransmissions use larger
// segments (still within the clamped MSS), so they span the mappings of
// two original segments and the engine must split them (I12).
func (s *simServer) sendSegN(off, max int) int {
	n := min(max, len(s.data)-off)
	s.pkt(s.isn+1+uint32(off), s.ackNo(), header.TCPFlagAck|header.TCPFlagPsh, nil, s.data[off:off+n])
	return n
}

func (s *simServer) timers() {
	m := s.m
	if s.synRcvd && !s.est && m.now-s.synTime > simRTO {
		s.synAck()
	}
	if !s.est {
		return
	}
	if s.una < s.nxt && m.now-s.lastProg > simRTO {
		s.lastProg = m.now
		for off, k := s.una, 0; off < s.nxt && k < 4; k++ {
			off += s.sendSegN(off, min(1400, s.nxt-off))
		}
	}
	for s.nxt < len(s.data) && s.nxt-s.una < simWin {
		if s.una == s.nxt {
			s.lastProg = m.now
		}
		s.nxt += s.sendSegN(s.nxt, simMSS)
	}
	// Close once the client closed and everything was acknowledged.
	if s.finRcvd && s.una == len(s.data) && !s.finAcked && (!s.finSent || m.now-s.finTime > simRTO) {
		s.finSent, s.finTime = true, m.now
		s.pkt(s.isn+1+uint32(len(s.data)), s.ackNo(), header.TCPFlagAck|header.TCPFlagFin, nil, nil)
	}
}

// ---- model MPTCP client ----

type simMap struct {
	dsn uint64
	ssn uint32
	n   uint32
}

type simSeg struct {
	ssn  uint32 // rel
	off  int    // data offset
	n    int
	sent int64
}

type simSub struct {
	addr     [16]byte
	port     uint16
	state    int // 0 none, 1 syn sent, 2 third ack sent (join), 3 established, 4 refused
	isn      uint32
	peerISN  uint32
	nxt      uint32 // rel
	una      uint32
	segs     []simSeg
	rcvd     map[uint32]uint32 // rel ssn -> end
	rcvNxt   uint32
	maps     []simMap
	nonce    uint32
	pnonce   uint32
	sent     int64 // handshake / FIN retransmission timer
	finSent  bool
	finAcked bool
	finRcvd  bool
	hasFin   bool   // P's FIN seen, possibly out of order
	finAt    uint32 // its rel SSN
}

type simClient struct {
	m          *sim
	keyC       uint64
	keyP       uint64
	idsnC      uint64
	idsnP      uint64
	sub        [2]simSub
	data       []byte
	off        int // next data offset to send
	dataUna    int
	want       []byte
	have       []bool
	rcvNxt     int
	rr         int
	csum       bool
	gotDSS     bool // P sent a DSS: stop repeating MP_CAPABLE (RFC 8684 3.1)
	noClose    bool // never close (fixtures of established connections)
	synAckFl   uint8
	finSent    bool
	finTime    int64
	finAcked   bool
	peerFin    bool // the server's DATA_FIN was received in order
	peerFinOff int  // data offset of the server's DATA_FIN, -1 unknown
}

func (c *simClient) done() bool {
	return c.rcvNxt == len(c.want) && c.dataUna == len(c.data) && c.finAcked && c.peerFin &&
		c.sub[0].finAcked && c.sub[0].finRcvd && c.sub[1].finAcked && c.sub[1].finRcvd
}

func (c *simClient) pkt(j int, seq, ack uint32, flags uint8, opts, payload []byte) {
	m := c.m
	s := &c.sub[j]
	b := simBuildIP(m.v6, s.addr, m.sAddr, s.port, 5201, seq, ack, flags, 1024, opts, payload)
	m.send(1, uint8(j), b)
}

func (c *simClient) syn() {
	s := &c.sub[0]
	mss := []byte{optMSS, 4, 0x05, 0xb4}
	if c.m.v6 {
		mss = []byte{optMSS, 4, 0x05, 0xa0}
	}
	opts := append(mss, optSACKPerm, 2, optTimestamp, 10, 0, 0, 0, 1, 0, 0, 0, 0, optNOP, optWS, 3, 7,
		optMPTCP, 4, mptcpSubCapable<<4|1, mpCapableFlagH)
	if c.csum {
		opts[len(opts)-1] |= mpCapableFlagA
	}
	c.pkt(0, s.isn, 0, header.TCPFlagSyn, opts, nil)
	s.sent = c.m.now
}

func (c *simClient) start() {
	c.sub[0].state = 1
	c.syn()
}

func (c *simClient) dataAck() uint64 {
	a := c.idsnP + 1 + uint64(c.rcvNxt)
	if c.peerFin {
		a++
	}
	return a
}

func (c *simClient) dss(j int, hasMap bool, dsn uint64, ssn uint32, n uint16, payload []byte) []byte {
	return c.dssFin(j, hasMap, dsn, ssn, n, false, payload)
}

func (c *simClient) dssFin(j int, hasMap bool, dsn uint64, ssn uint32, n uint16, fin bool, payload []byte) []byte {
	var w optWriter
	var sum uint16
	if c.csum && hasMap {
		sum = dssChecksum(dsn, ssn, n, header.OnesSum(payload, 0))
	}
	w.dss(c.dataAck(), hasMap, dsn, ssn, n, fin, c.csum && hasMap, sum)
	return bytes.Clone(w.pad())
}

func (c *simClient) capAck(dataLen uint16) []byte {
	var w optWriter
	l := byte(optLenCapableAck)
	if dataLen > 0 {
		l = optLenCapableAckData
	}
	w.b[0], w.b[1], w.b[2], w.b[3] = optMPTCP, l, mptcpSubCapable<<4|1, c.synAckFl
	binary.BigEndian.PutUint64(w.b[4:], c.keyC)
	binary.BigEndian.PutUint64(w.b[12:], c.keyP)
	w.n = int(l)
	if dataLen > 0 {
		binary.BigEndian.PutUint16(w.b[20:], dataLen)
	}
	return bytes.Clone(w.pad())
}

// seqNext is the subflow sequence number of the client's next byte on s
// (after its FIN once sent).
func (s *simSub) seqNext() uint32 {
	seq := s.isn + max(s.nxt, 1)
	if s.finSent {
		seq++
	}
	return seq
}

func (c *simClient) ack(j int) {
	s := &c.sub[j]
	c.pkt(j, s.seqNext(), s.peerISN+s.rcvNxt, header.TCPFlagAck, c.dss(j, false, 0, 0, 0, nil), nil)
}

func (c *simClient) joinSyn() {
	s1 := &c.sub[1]
	opts := make([]byte, 12)
	opts[0], opts[1], opts[2], opts[3] = optMPTCP, optLenJoinSyn, mptcpSubJoin<<4, 1
	binary.BigEndian.PutUint32(opts[4:], keyToken(c.keyP))
	binary.BigEndian.PutUint32(opts[8:], s1.nonce)
	opts = append([]byte{optMSS, 4, 0x05, 0xb4, optNOP, optWS, 3, 5, optNOP, optNOP, optSACKPerm, 2}, opts...)
	c.pkt(1, s1.isn, 0, header.TCPFlagSyn, opts, nil)
	s1.sent = c.m.now
}

func (c *simClient) joinThird() {
	s := &c.sub[1]
	mac := refHMAC(c.keyC, c.keyP, s.nonce, s.pnonce)
	opts := append([]byte{optMPTCP, optLenJoinAck, mptcpSubJoin << 4, 0}, mac[:20]...)
	c.pkt(1, s.isn+1, s.peerISN+1, header.TCPFlagAck, opts, nil)
	s.sent = c.m.now
}

func (c *simClient) recv(b []byte) {
	m := c.m
	tcp, o, dst := m.parse(b)
	j := 0
	if dst == c.sub[1].addr {
		j = 1
	}
	s := &c.sub[j]
	f := tcp.Flags()
	if f&header.TCPFlagRst != 0 && j == 1 && s.state != 3 && o.mpRst {
		// A join refused (e.g. it arrived after the connection closed):
		// the subflow fails, the connection goes on (RFC 8684 3.2).
		s.state, s.finAcked, s.finRcvd = 4, true, true
		return
	}
	if f&header.TCPFlagRst != 0 && j == 1 && s.state != 3 && o.mpRst {
		// A join refused (e.g. it arrived after the connection closed):
		// the subflow fails, the connection goes on (RFC 8684 3.2).
		s.state, s.finAcked, s.finRcvd = 4, true, true
		return
	}
	if f&header.TCPFlagRst != 0 {
		m.t.Fatalf("client got RST on subflow %d at t=%d (fastclose %v) joins rejected %v drops %v", j, m.now, o.fastclose, m.e.cnt.JoinsRejected, m.e.cnt.Drops)
	}
	if f&header.TCPFlagSyn != 0 {
		switch {
		case j == 0 && s.state == 1:
			if !o.capable || o.capLen != optLenCapableSynAck {
				m.t.Fatalf("I6: SYN/ACK without MP_CAPABLE")
			}
			if (o.capFlags&mpCapableFlagA != 0) != c.csum {
				m.t.Fatalf("I6: A flag %#x", o.capFlags)
			}
			c.keyP, c.idsnP, c.synAckFl = o.capKeyA, keyIDSN(o.capKeyA), o.capFlags
			s.peerISN, s.state, s.rcvNxt = uint32(tcp.Seq()), 3, 1
			c.pkt(0, s.isn+1, s.peerISN+1, header.TCPFlagAck, c.capAck(0), nil)
			c.sub[1].state = 1
			c.joinSyn()
		case j == 0:
			if o.capKeyA != c.keyP {
				m.t.Fatalf("I6: retransmitted SYN/ACK with another key")
			}
			c.pkt(0, s.isn+1, s.peerISN+1, header.TCPFlagAck, c.capAck(0), nil)
		case j == 1 && s.state >= 1:
			if !o.join || o.joinLen != optLenJoinSynAck {
				m.t.Fatalf("I16: join SYN/ACK without MP_JOIN")
			}
			mac := refHMAC(c.keyP, c.keyC, o.joinNonce, s.nonce)
			opt := tcp.Options()
			k := bytes.Index(opt, []byte{optMPTCP, optLenJoinSynAck})
			if !bytes.Equal(opt[k+4:k+12], mac[:8]) {
				m.t.Fatalf("I16: join SYN/ACK HMAC")
			}
			if s.state == 1 {
				s.pnonce, s.peerISN, s.state, s.rcvNxt = o.joinNonce, uint32(tcp.Seq()), 2, 1
			} else if s.pnonce != o.joinNonce || s.peerISN != uint32(tcp.Seq()) {
				m.t.Fatalf("I16: repeated join SYN/ACK changed nonce or ISN")
			}
			if s.state == 2 {
				c.joinThird()
			}
		}
		return
	}
	if s.state == 2 {
		s.state = 3 // the fourth ACK
	}
	if s.state != 3 {
		return
	}
	if o.dss {
		c.gotDSS = true
	}
	if f&header.TCPFlagAck != 0 {
		a := uint32(tcp.Ack()) - s.isn - 1
		lim := max(s.nxt, 1) - 1
		if s.finSent {
			lim++
		}
		if int32(a-lim) > 0 {
			m.t.Fatalf("I13: client subflow %d: ack %d beyond sent %d", j, a, lim)
		}
		if s.finSent && a == lim {
			s.finAcked = true
		}
		if int32(a-s.una) > 0 {
			s.una = a
			k := 0
			for k < len(s.segs) && int32(s.segs[k].ssn+uint32(s.segs[k].n)-a) <= 0 {
				k++
			}
			s.segs = s.segs[k:]
		}
	}
	if o.dss && o.dssFlags&dssHasAck != 0 {
		da := int(o.dataAck - c.idsnC - 1)
		lim := c.off
		if c.finSent {
			lim++
		}
		if da > lim {
			m.t.Fatalf("I4: DATA_ACK %d beyond sent %d", da, lim)
		}
		if c.finSent && da == len(c.data)+1 {
			c.finAcked = true
		}
		if da > c.dataUna {
			c.dataUna = min(da, len(c.data))
		}
	}
	pay := tcp.Payload()
	if o.dss && o.dssFlags&dssHasMap != 0 && o.dssFlags&dssDataFin != 0 {
		fo := int(o.dsn - c.idsnP - 1 + uint64(o.dataLen) - 1)
		if fo != len(c.want) {
			m.t.Fatalf("I19: DATA_FIN at offset %d, stream is %d", fo, len(c.want))
		}
		c.peerFinOff = fo
	}
	if f&header.TCPFlagFin != 0 {
		if !s.finSent {
			m.t.Fatalf("I19/I20: subflow FIN from P before the client closed subflow %d", j)
		}
		s.finAt = uint32(tcp.Seq()) - s.peerISN + uint32(len(pay))
		s.hasFin = true
		if simDebug {
			m.t.Logf("t=%d sub %d FIN at %d rcvNxt %d", m.now, j, s.finAt, s.rcvNxt)
		}
	}
	defer func() {
		if s.hasFin && !s.finRcvd && s.rcvNxt == s.finAt {
			s.finRcvd = true
			s.rcvNxt++
			c.ack(j)
		}
	}()
	if len(pay) == 0 {
		c.checkPeerFin(j)
		return
	}
	if !o.dss || o.dssFlags&dssHasMap == 0 {
		m.t.Fatalf("S->C data without mapping")
	}
	rel := uint32(tcp.Seq()) - s.peerISN
	if simDebug {
		m.t.Logf("t=%d C<-P sub%d rel %d len %d rcvNxt %d", m.now, j, rel, len(pay), s.rcvNxt)
	}
	mp := simMap{dsn: o.dsn, ssn: o.ssn, n: uint32(o.dataLen)}
	if o.dssFlags&dssDataFin != 0 {
		mp.n--
	}
	if rel-mp.ssn >= mp.n || rel-mp.ssn+uint32(len(pay)) > mp.n {
		m.t.Fatalf("I12: segment ssn %d len %d outside its mapping %+v", rel, len(pay), mp)
	}
	for _, old := range s.maps {
		if old.ssn < mp.ssn+mp.n && mp.ssn < old.ssn+old.n && old != mp {
			m.t.Fatalf("I12: subflow %d mapping %+v over bytes of %+v (MAPPING_INVALID)", j, mp, old)
		}
	}
	if c.csum {
		if !o.dssCsum {
			m.t.Fatalf("DSS without checksum")
		}
		// The checksum covers the whole mapping (RFC 8684 3.3.1), even
		// when this segment carries only part of it.
		mo := int(mp.dsn - c.idsnP - 1)
		if mo >= 0 && mo+int(mp.n) <= len(c.want) {
			if got := dssChecksum(mp.dsn, mp.ssn, o.dataLen, header.OnesSum(c.want[mo:mo+int(mp.n)], 0)); got != o.dssSum {
				m.t.Fatalf("DSS checksum %#x want %#x (mapping %+v, segment rel %d len %d)", o.dssSum, got, mp, rel, len(pay))
			}
		}
	}
	s.maps = append(s.maps, mp)
	off := int(mp.dsn - c.idsnP - 1 + uint64(rel-mp.ssn))
	if off < 0 || off+len(pay) > len(c.want) || !bytes.Equal(pay, c.want[off:off+len(pay)]) {
		m.t.Fatalf("I2: client got wrong bytes at data offset %d", off)
	}
	for i := range pay {
		c.have[off+i] = true
	}
	for c.rcvNxt < len(c.want) && c.have[c.rcvNxt] {
		c.rcvNxt++
	}
	if e, ok := s.rcvd[rel]; !ok || int32(rel+uint32(len(pay))-e) > 0 {
		s.rcvd[rel] = rel + uint32(len(pay))
	}
	for moved := true; moved; {
		moved = false
		for k, e := range s.rcvd {
			if int32(k-s.rcvNxt) <= 0 {
				if int32(e-s.rcvNxt) > 0 {
					s.rcvNxt = e
				}
				delete(s.rcvd, k)
				moved = true
			}
		}
	}
	c.checkPeerFin(j)
	c.ack(j)
}

// checkPeerFin notes the server's DATA_FIN once every byte before it is in
// and acknowledges it.
func (c *simClient) checkPeerFin(j int) {
	if !c.peerFin && c.peerFinOff >= 0 && c.rcvNxt == c.peerFinOff {
		c.peerFin = true
		c.ack(j)
	}
}

func (c *simClient) sendSeg(j int, sg *simSeg) {
	s := &c.sub[j]
	pay := c.data[sg.off : sg.off+sg.n]
	var opts []byte
	if j == 0 && sg.ssn == 1 && !c.gotDSS {
		// RFC 8684 3.1: the first data repeats MP_CAPABLE with both keys
		// and its data-level length until P's DSS shows it arrived.
		opts = c.capAck(uint16(sg.n))
	} else {
		opts = c.dss(j, true, c.idsnC+1+uint64(sg.off), sg.ssn, uint16(sg.n), pay)
	}
	c.pkt(j, s.isn+sg.ssn, s.peerISN+s.rcvNxt, header.TCPFlagAck|header.TCPFlagPsh, opts, pay)
	sg.sent = c.m.now
}

func (c *simClient) timers() {
	m := c.m
	if s := &c.sub[0]; s.state == 1 && m.now-s.sent > simRTO {
		c.syn()
	}
	if s := &c.sub[1]; s.state == 1 && m.now-s.sent > simRTO {
		c.joinSyn()
	}
	if s := &c.sub[1]; s.state == 2 && m.now-s.sent > simRTO {
		c.joinThird()
	}
	for j := range c.sub {
		s := &c.sub[j]
		if s.state != 3 {
			continue
		}
		for k := range s.segs {
			if m.now-s.segs[k].sent > simRTO && k < 4 {
				c.sendSeg(j, &s.segs[k])
			}
		}
	}
	for c.off < len(c.data) && c.off-c.dataUna < simWin {
		j := c.rr % 2
		c.rr++
		if c.sub[j].state != 3 {
			j = 0
		}
		s := &c.sub[j]
		if s.state != 3 {
			return
		}
		if s.nxt == 0 {
			s.nxt = 1
		}
		n := min(simMSS, len(c.data)-c.off)
		s.segs = append(s.segs, simSeg{ssn: s.nxt, off: c.off, n: n})
		s.nxt += uint32(n)
		c.off += n
		c.sendSeg(j, &s.segs[len(s.segs)-1])
	}
	// close(): DATA_FIN on a pure ACK (SSN 0, length 1) once everything
	// is acknowledged, as Linux does (DESIGN 3.7).
	if !c.noClose && c.dataUna == len(c.data) && c.sub[0].state == 3 && !c.finAcked && (!c.finSent || m.now-c.finTime > simRTO) {
		c.finSent, c.finTime = true, m.now
		j := c.rr % 2
		if c.sub[j].state != 3 || c.sub[j].finSent {
			j = 0
		}
		s := &c.sub[j]
		opts := c.dssFin(j, true, c.idsnC+1+uint64(len(c.data)), 0, 1, true, nil)
		c.pkt(j, s.seqNext(), s.peerISN+s.rcvNxt, header.TCPFlagAck, opts, nil)
	}
	// Subflow FINs follow once the DATA_FINs are exchanged.
	if c.finAcked && c.peerFin {
		for j := range c.sub {
			s := &c.sub[j]
			if s.state == 3 && !s.finAcked && (!s.finSent || m.now-s.sent > simRTO) {
				s.finSent, s.sent = false, m.now
				seq := s.seqNext()
				s.finSent = true
				c.pkt(j, seq, s.peerISN+s.rcvNxt, header.TCPFlagAck|header.TCPFlagFin,
					c.dss(j, false, 0, 0, 0, nil), nil)
			}
		}
	}
}

func newSim(t testing.TB, seed uint64, link simLink, size int, sched string, csum bool) *sim {
	return newSimIP(t, seed, link, size, sched, csum, false)
}

func newSimIP(t testing.TB, seed uint64, link simLink, size int, sched string, csum, v6 bool) *sim {
	return newSimCfg(t, seed, link, size, csum, v6, Config{MaxConnections: 4, MaxSubflows: 4, Scheduler: sched, DeadAfter: 1 << 62})
}

func newSimCfg(t testing.TB, seed uint64, link simLink, size int, csum, v6 bool, cfg Config) *sim {
	rng := rand.New(rand.NewPCG(seed, 7))
	alloc := newTestAlloc(64)
	// Everything the engine draws at random comes from the seed too, so a
	// failing seed replays exactly.
	keys := make([]uint64, 8)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	if cfg.Keys == nil {
		cfg.Keys = &fixedKeys{keys: keys}
	}
	e, err := New(cfg, alloc)
	if err != nil {
		t.Fatal(err)
	}
	var cs [32]byte
	binary.LittleEndian.PutUint64(cs[:], rng.Uint64())
	e.rng = rand.NewChaCha8(cs)
	e.seed = rng.Uint64()
	m := &sim{t: t, rng: rng, link: link, e: e, alloc: alloc, v6: v6}
	cdata := make([]byte, size)
	sdata := make([]byte, size+size/3)
	for i := range cdata {
		cdata[i] = byte(rng.Uint32())
	}
	for i := range sdata {
		sdata[i] = byte(rng.Uint32())
	}
	var a0, a1 [16]byte
	if v6 {
		a0, a1, m.sAddr = simC0v6, simC1v6, simSv6
	} else {
		copy(a0[:], simC0[:])
		copy(a1[:], simC1[:])
		copy(m.sAddr[:], simS[:])
	}
	m.c = &simClient{m: m, keyC: rng.Uint64(), data: cdata, want: sdata, have: make([]bool, len(sdata)), csum: csum, peerFinOff: -1}
	m.c.idsnC = keyIDSN(m.c.keyC)
	m.c.sub[0] = simSub{addr: a0, port: 40000, isn: rng.Uint32(), rcvd: map[uint32]uint32{}}
	m.c.sub[1] = simSub{addr: a1, port: 40001, isn: rng.Uint32(), nonce: rng.Uint32(), rcvd: map[uint32]uint32{}}
	m.s = &simServer{m: m, isn: rng.Uint32(), data: sdata, want: cdata, have: make([]bool, len(cdata))}
	return m
}

// finish runs the simulation to completion and checks delivery and, after
// the linger, that the engine holds nothing (I21).
func (m *sim) finish(t testing.TB) {
	m.c.start()
	m.run(int64(120e9))
	if !m.c.done() || !m.s.done() {
		t.Fatalf("not done by t=%ds: server got %d/%d acked %d/%d fin %v/%v; client got %d/%d dataUna %d fin %v/%v peerFin %v subflows %+v %+v; counters %+v",
			m.now/1e9, m.s.rcvNxt, len(m.s.want), m.s.una, len(m.s.data), m.s.finRcvd, m.s.finAcked,
			m.c.rcvNxt, len(m.c.want), m.c.dataUna, m.c.finSent, m.c.finAcked, m.c.peerFin,
			[]bool{m.c.sub[0].finSent, m.c.sub[0].finAcked, m.c.sub[0].finRcvd}, []bool{m.c.sub[1].finSent, m.c.sub[1].finAcked, m.c.sub[1].finRcvd}, m.e.cnt)
	}
	m.e.Tick(m.now + int64(m.e.cfg.Linger) + int64(1e9))
	checkSlab(t, m.e)
	if m.e.ActiveConnections() != 0 || m.e.ActiveSubflows() != 0 || m.e.Tokens() != 0 {
		t.Fatalf("I21: after close and linger: conns %d subflows %d tokens %d", m.e.ActiveConnections(), m.e.ActiveSubflows(), m.e.Tokens())
	}
	if tr, rec := m.e.Mappings(); tr != 0 || rec != 0 {
		t.Fatalf("I21: mapping trees %d records %d", tr, rec)
	}
}

// TestSimulation runs the closed loop, IPv4 and IPv6, for many seeds,
// link conditions and both schedulers, and requires byte-exact delivery
// both ways, a clean close and released state (I1-I5, I8-I16, I19-I21).
func TestSimulation(t *testing.T) {
	links := []struct {
		name string
		l    simLink
	}{
		{"clean", simLink{}},
		{"loss", simLink{loss: 0.02}},
		{"reorder-dup", simLink{dup: 0.02, reorder: 0.2}},
		{"all", simLink{loss: 0.03, dup: 0.01, reorder: 0.1}},
	}
	for _, lk := range links {
		for seed := uint64(1); seed <= 8; seed++ {
			for _, sched := range []string{"minrtt", "roundrobin"} {
				for _, v6 := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/v6=%v/seed%d", lk.name, sched, v6, seed)
					t.Run(name, func(t *testing.T) {
						m := newSimIP(t, seed, lk.l, 150000, sched, seed%2 == 0, v6)
						m.finish(t)
						if m.e.cnt.JoinsAccepted != 1 {
							t.Errorf("join not accepted: %+v", m.e.cnt.JoinsRejected)
						}
						if m.c.sub[1].nxt < 2 || len(m.c.sub[1].maps) == 0 {
							t.Errorf("second subflow carried no data: C->S %d, S->C mappings %d", m.c.sub[1].nxt, len(m.c.sub[1].maps))
						}
					})
				}
			}
		}
	}
}

// TestSimulationHarsh runs the closed loop under harsher links (15% loss;
// 10% duplication with half the packets reordered; everything at once),
// with transfer sizes from 20 KB to 200 KB, both families, both
// schedulers, checksums on some seeds (same checks as TestSimulation).
// Joins may be refused here when the join SYN is lost until the transfer
// is over: the client then closes with one subflow.
func TestSimulationHarsh(t *testing.T) {
	links := []simLink{{loss: 0.05, dup: 0.05, reorder: 0.3}, {loss: 0.15}, {dup: 0.1, reorder: 0.5}}
	for seed := uint64(100); seed < 196; seed++ {
		l := links[seed%3]
		sched := []string{"minrtt", "roundrobin"}[seed/3%2]
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			m := newSimIP(t, seed, l, 20000+int(seed%7)*30000, sched, seed%5 == 0, seed%2 == 0)
			m.finish(t)
		})
	}
}

// TestSimulationRecovery checks that the lossy closed loop exercised what
// it claims to: split retransmissions (I12), retransmissions on original
// mappings, generated ACKs (I14), DATA_FINs both ways (I19) and answered
// subflow FINs (I20).
func TestSimulationRecovery(t *testing.T) {
	m := newSim(t, 3, simLink{loss: 0.02, dup: 0.01, reorder: 0.1}, 200000, "minrtt", true)
	m.finish(t)
	c := m.e.cnt
	if c.SplitRetransmits == 0 || c.Retransmits == 0 || c.GeneratedAcks == 0 || c.DataFinC2S != 1 || c.DataFinS2C != 1 || c.SubflowFins != 2 {
		t.Errorf("paths not exercised: %+v", c)
	}
}
