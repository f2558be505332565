package translate

import (
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// fixture is an established connection with two subflows (built by the
// simulation's models on a clean link) and packet templates for the
// established data paths.
type fixture struct {
	m       *sim
	e       *Engine
	c2sData []byte // client data on subflow 0, mapping inserted
	s2cData []byte // server data at the next new DSN (seq bumped per use)
	s2cAck  []byte // server pure ACK
	c2sAck  []byte // client pure ACK with DATA_ACK
	buf     []byte
	abuf    []byte // ackAll's own buffer, so buf keeps a primed payload
	pkt     Packet
	next    uint32 // next S->C data offset (wraps like the TCP sequence space)
	sent    uint64 // S->C segments sent by s2cNew
}

func newFixture(tb testing.TB) *fixture {
	return newFixtureCfg(tb, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62})
}

func newFixtureCfg(tb testing.TB, cfg Config) *fixture { return newFixtureOpt(tb, cfg, false) }

// newFixtureOpt is newFixtureCfg with DSS checksums negotiated if csum.
func newFixtureOpt(tb testing.TB, cfg Config, csum bool) *fixture {
	m := newSimCfg(tb, 1, simLink{}, 0, csum, false, cfg)
	m.c.noClose = true
	m.c.start()
	m.runFor(int64(50e6), false)
	if m.c.sub[1].state != 3 || m.e.cnt.JoinsAccepted != 1 {
		tb.Fatalf("fixture: join not established")
	}
	f := &fixture{m: m, e: m.e, buf: make([]byte, 4096), abuf: make([]byte, 4096)}
	c, s := m.c, m.s
	s0 := &c.sub[0]
	pay := make([]byte, 1000)
	opts := c.dss(0, true, c.idsnC+1, 1, 1000, pay)
	f.c2sData = simBuild(simC0, simS, 40000, 5201, s0.isn+1, s0.peerISN+1, header.TCPFlagAck|header.TCPFlagPsh, 1024, opts, pay)
	f.s2cData = simBuild(simS, simC0, 5201, 40000, s.isn+1, s.peerISN+1, header.TCPFlagAck|header.TCPFlagPsh, 1024, nil, pay)
	f.s2cAck = simBuild(simS, simC0, 5201, 40000, s.isn+1, s.peerISN+1, header.TCPFlagAck, 1024, nil, nil)
	f.c2sAck = simBuild(simC0, simS, 40000, 5201, s0.isn+1, s0.peerISN+1, header.TCPFlagAck, 1024, c.dss(0, false, 0, 0, 0, nil), nil)
	// Insert the client mapping once.
	f.run(tb, f.c2sData, Access, Forward)
	return f
}

// run processes ip and checks the verdict.
func (f *fixture) run(tb testing.TB, ip []byte, side Side, want Verdict) {
	setPacket(&f.pkt, f.buf, ip, side, 0)
	if v := f.e.Process(f.m.now, &f.pkt); v != want {
		tb.Fatalf("verdict %v, want %v (drops %v)", v, want, f.e.cnt.Drops)
	}
	f.e.ClearEmitted()
	f.m.alloc.reset()
}

// prime copies the whole of ip into the packet buffer, so that later
// runHdr calls with the same template need restore only its headers.
func (f *fixture) prime(ip []byte, side Side) { setPacket(&f.pkt, f.buf, ip, side, 0) }

// runHdr is run for a template primed into the buffer: it restores only
// the IP and TCP headers (the engine rewrites those and never the payload
// of a packet it forwards), so a benchmark does not time a payload copy.
func (f *fixture) runHdr(tb testing.TB, ip []byte, side Side, want Verdict) {
	setPacket(&f.pkt, f.buf, ip[:hdrLen(ip)], side, 0)
	f.pkt.Len = len(ip)
	if v := f.e.Process(f.m.now, &f.pkt); v != want {
		tb.Fatalf("verdict %v, want %v (drops %v)", v, want, f.e.cnt.Drops)
	}
	f.e.ClearEmitted()
	f.m.alloc.reset()
}

// hdrLen returns the length of the IP and TCP headers of ip (IPv4 without
// options or IPv6 without extension headers, as the templates are).
func hdrLen(ip []byte) int {
	n := header.IPv4MinimumSize
	if ip[0]>>4 == 6 {
		n = header.IPv6MinimumSize
	}
	return n + header.TCP(ip[n:]).DataOffset()
}

// s2cNew processes the next new S->C segment; every 256 segments a client
// ACK acknowledges everything (subflow and data level) so the mapping
// store stays bounded, as it does on a live connection.
func (f *fixture) s2cNew(tb testing.TB) {
	setPacket(&f.pkt, f.buf, f.s2cData, Core, 0)
	f.s2cNewIn(tb)
}

// s2cNewHdr is s2cNew with only the headers restored: the payload was
// primed with prime(f.s2cData, Core).
func (f *fixture) s2cNewHdr(tb testing.TB) {
	setPacket(&f.pkt, f.buf, f.s2cData[:hdrLen(f.s2cData)], Core, 0)
	f.pkt.Len = len(f.s2cData)
	f.s2cNewIn(tb)
}

func (f *fixture) s2cNewIn(tb testing.TB) {
	t := header.TCP(f.pkt.Buf[f.pkt.Off+20 : f.pkt.Off+f.pkt.Len])
	t.SetSeqWithChecksumUpdate(t.Seq().Add(f.next))
	f.next += 1000
	if v := f.e.Process(f.m.now, &f.pkt); v != Forward {
		tb.Fatalf("S->C data: %v (drops %v)", v, f.e.cnt.Drops)
	}
	if f.sent++; f.sent%256 == 0 {
		f.ackAll(tb)
	}
}

// ackAll sends, on each subflow, a client pure ACK covering all S->C data.
func (f *fixture) ackAll(tb testing.TB) {
	e := f.e
	var ci int32
	for i := range e.conns {
		if e.conns[i].state == connEstablished {
			ci = int32(i)
		}
	}
	c := &e.conns[ci]
	for j := 0; j < 2; j++ {
		s := e.sub(ci, j)
		sub := &f.m.c.sub[j]
		var w optWriter
		w.dss(uint64(c.s2cNxt), false, 0, 0, 0, false, false, 0)
		ip := simBuildIP(false, sub.addr, f.m.sAddr, sub.port, 5201, uint32(s.isnC.Add(s.rcvNxt)), uint32(s.isnP.Add(s.sndNxt)), header.TCPFlagAck, 1024, w.pad(), nil)
		setPacket(&f.pkt, f.abuf, ip, Access, uint8(j))
		f.e.Process(f.m.now, &f.pkt)
		f.e.ClearEmitted()
		f.m.alloc.reset()
	}
}

// connIdx returns the fixture's connection.
func (f *fixture) connIdx() (int32, *conn) {
	for i := range f.e.conns {
		if f.e.conns[i].state != connFree {
			return int32(i), &f.e.conns[i]
		}
	}
	return -1, nil
}

// cpkt builds a client packet on subflow j at rel SSN rel.
func (f *fixture) cpkt(j int, rel, ack uint32, flags uint8, opts, payload []byte) []byte {
	s := &f.m.c.sub[j]
	return simBuildIP(false, s.addr, f.m.sAddr, s.port, 5201, s.isn+rel, ack, flags, 1024, opts, payload)
}

// spkt builds a server packet at stream offset off (bytes after ISN_s+1).
func (f *fixture) spkt(off, ack uint32, flags uint8, opts, payload []byte) []byte {
	return simBuildIP(false, f.m.sAddr, f.m.c.sub[0].addr, 5201, 40000, f.m.s.isn+1+off, ack, flags, 1024, opts, payload)
}

// send processes ip and returns the verdict and copies of every packet
// the engine sent (the forwarded one first), each checked by checkOut.
func (f *fixture) send(tb testing.TB, ip []byte, side Side, port uint8) (Verdict, []Packet) {
	tb.Helper()
	p := mkPacket(ip, side, port)
	v := f.e.Process(f.m.now, &p)
	var out []Packet
	if v == Forward {
		out = append(out, p)
	}
	for _, q := range f.e.Emitted() {
		b := append([]byte(nil), q.Buf...)
		q.Buf = b
		out = append(out, q)
	}
	f.e.ClearEmitted()
	f.m.alloc.reset()
	for i := range out {
		checkOut(tb, &out[i])
	}
	return v, out
}

// dstPort returns the destination port of an output packet's TCP header.
func dstPort(tb testing.TB, p *Packet) uint16 {
	tcp, _, _ := view(tb, p.Bytes())
	return tcp.DestinationPort()
}
