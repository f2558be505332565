package model

import (
	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// clientMSS is the MSS the client announces: its path MTU minus the IPv4
// and TCP headers.
func (m *Model) clientMSS() uint16 { return uint16(m.cfg.MTU - 40) }

// serverMSS is what the server must see: the client's MSS minus the
// largest DSS the proxy adds (DESIGN 3.6, translate I5).
func (m *Model) serverMSS() uint16 { return m.clientMSS() - option.OptLenDSSMax }

// External makes the model drive a translator it does not own (a
// dataplane behind rings or a wire): the caller takes the packets the
// model sends with TakeOut, carries them through the translator, and hands
// what comes out to Receive. The model checks them as it checks an
// attached engine's output (translated: no MPTCP option toward the server,
// DSS toward the client). Call it before Open.
func (m *Model) External() { m.xlat = true }

// Queued returns how many packets the model has built and not yet handed
// out (TakeOut) or to the engine.
func (m *Model) Queued() int { return m.access.n + m.core.n }

// TakeOut moves up to len(dst) packets the model sends toward side into
// dst and returns how many: translate.Access, packets from the clients
// (they enter the proxy on an access port); translate.Core, packets from
// the server. The caller copies them out and returns each buffer with
// Free. It does not allocate.
func (m *Model) TakeOut(side translate.Side, dst []translate.Packet) int {
	if side == translate.Core {
		return m.core.pop(dst)
	}
	return m.access.pop(dst)
}

// Free returns a buffer TakeOut handed out.
func (m *Model) Free(p *translate.Packet) { m.pool.Free(p) }

// Receive checks a packet that left the translator toward one end and lets
// that end react (acknowledge, send more): p.Side translate.Core means it
// reached the server, translate.Access the client. p.Buf[p.Off:p.Off+p.Len]
// is the IP packet; the buffer stays the caller's. It does not allocate.
func (m *Model) Receive(p *translate.Packet) {
	if p.Side == translate.Core {
		m.serverRecv(p)
	} else {
		m.clientRecv(p)
	}
}

// Poll is the model's timer, to be called when nothing is in flight
// between the ends: receivers send the ACKs they still owe and senders
// refill their windows; with the data phase running and still nothing to
// send, packets were lost and an ErrStall is counted. It reports whether
// the model has packets to hand out.
func (m *Model) Poll() bool { return m.idle() }

// SendJoins sends the MP_JOIN SYNs of the connections whose third ACK was
// already queued at the previous call (External only), so call it once
// per round, after the packets handed out in that round have been through
// the translator: then each third ACK has been processed before its
// connection's joins leave. A real client's third ACK and join SYN may
// race on different paths, but a real client retransmits a SYN the proxy
// dropped, and the model does not.
func (m *Model) SendJoins() {
	for _, ci := range m.armedJoins {
		if m.conns[ci].cState != 2 {
			continue
		}
		for j := 1; j < m.cfg.Subflows; j++ {
			m.sendJoinSyn(int(ci), j)
		}
	}
	m.armedJoins, m.pendJoins = m.pendJoins, m.armedJoins[:0]
}

// Connections returns the number of connections of the model.
func (m *Model) Connections() int { return len(m.conns) }

// Owner returns the connection index of an IP packet the model built or
// would receive (by its client address and port, either direction), or -1.
// A generator that steers whole connections to one queue (flow-to-core
// affinity, as a NIC with per-connection rules would) uses it.
func (m *Model) Owner(pkt []byte) int {
	if len(pkt) < 24 || pkt[0]>>4 != 4 {
		return -1
	}
	hl := int(pkt[0]&15) * 4
	if len(pkt) < hl+4 {
		return -1
	}
	var a [4]byte
	var port uint16
	if pkt[12] == 198 && pkt[13] == 18 {
		copy(a[:], pkt[12:16])
		port = uint16(pkt[hl])<<8 | uint16(pkt[hl+1])
	} else {
		copy(a[:], pkt[16:20])
		port = uint16(pkt[hl+2])<<8 | uint16(pkt[hl+3])
	}
	ci, _, ok := m.lookup(a, port)
	if !ok {
		return -1
	}
	return ci
}

// ClientAddr returns the client's address of subflow j of connection ci
// (198.18.(32j+ci/60000).2), and ServerAddr the server's (198.19.0.1):
// what a harness needs to route between the model's ends.
func ClientAddr(ci, j int) [4]byte { a, _ := clientAddr(ci, j); return a }

// ServerAddr returns the server's address.
func ServerAddr() [4]byte { return srvAddr }

// ServerPort is the server's TCP port.
const ServerPort = srvPort

// tcpView returns the IPv4 packet of p and its IPv4 and TCP headers; ok
// is false when p holds no valid IPv4 TCP segment.
func tcpView(p *translate.Packet) (pkt []byte, ip header.IPv4, t header.TCP, ok bool) {
	if p.Off < 0 || p.Len < optOff || p.Off+p.Len > len(p.Buf) {
		return nil, nil, nil, false
	}
	pkt = p.Buf[p.Off : p.Off+p.Len]
	ip = header.IPv4(pkt)
	if !ip.IsValid() || ip.Protocol() != 6 {
		return nil, nil, nil, false
	}
	t = header.TCP(ip.Payload())
	return pkt, ip, t, t.IsValid()
}

// OrderKey returns where a packet leaving the translator toward one end
// sits in its connection's byte stream: the connection index and the
// data offset of its first payload byte (-1 without payload), or ci -1
// when the packet is not the model's. A TCP or MPTCP receiver puts
// segments back in order; the model's receivers insist on order instead,
// so a harness whose path reorders between ports (a worker polls one port
// after another) sorts what it collected by this key before Receive.
func (m *Model) OrderKey(p *translate.Packet) (ci int, off int64) {
	pkt, ip, t, ok := tcpView(p)
	if !ok {
		return -1, -1
	}
	ci = m.Owner(pkt)
	if ci < 0 {
		return -1, -1
	}
	if len(t.Payload()) == 0 || t.Flags()&header.TCPFlagSyn != 0 {
		return ci, -1
	}
	c := &m.conns[ci]
	if p.Side == translate.Core {
		rel := uint32(t.Seq()) - c.isnC - 1
		return ci, int64(c.sRcv) + int64(int32(rel-uint32(c.sRcv)))
	}
	var d dss
	if !scanOpts(t.Options(), &d) || !d.present || d.flags&option.DSSHasMap == 0 {
		return ci, -1
	}
	_, j, _ := m.lookup(ip.DestinationAddress(), t.DestinationPort())
	rel := uint32(d.dsn-c.idsnP-1) + (uint32(t.Seq()) - c.sub[j].peerISN - d.ssn)
	return ci, int64(c.cRcv) + int64(int32(rel-uint32(c.cRcv)))
}
