package model

import (
	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// Ahead reports whether a packet leaving the translator toward one end
// carries payload that starts beyond what its receiver has in order: a
// segment from another path overtook it, and a harness whose paths are
// not FIFO between each other (the wire mode: c1 and c2 are polled one
// after the other, and a loaded machine delays one path by milliseconds)
// holds it back, as a receiver's out-of-order queue would, until the gap
// is filled. Packets without payload and packets for no connection of the
// model are never ahead. It does not allocate.
func (m *Model) Ahead(p *translate.Packet) bool {
	ci, off := m.StreamKey(p)
	if ci < 0 || off < 0 {
		return false
	}
	c := &m.conns[ci]
	if p.Side == translate.Core {
		return off > int64(c.sRcv)
	}
	return off > int64(c.cRcv)
}

// OwesAcks reports whether a receiver has taken data it has not yet
// acknowledged: Poll would send those ACKs (a delayed-ACK timer firing)
// rather than find the loop stalled.
func (m *Model) OwesAcks() bool { return m.owesAcks() }

// Waiting reports whether either end of some connection expects a packet
// from the other: a handshake or join not complete, or data sent and not
// yet acknowledged. A harness that has nothing to send waits for
// stragglers only while Waiting. It walks every connection.
func (m *Model) Waiting() bool {
	for ci := range m.conns {
		c := &m.conns[ci]
		if (c.cState != 0 && c.cState != 3) || c.cSnd != c.cUna || c.sSnd != c.sUna {
			return true
		}
	}
	return false
}

// SendReadyJoins sends the MP_JOIN SYNs of the connections (External only)
// whose third ACK has reached the server through the translator, so the
// translator has processed it and knows the client's key, and keeps the
// others for a later call. Unlike SendJoins it does not assume that the
// translator processed everything handed out before the previous call: a
// wire may delay one path behind another by milliseconds, and a join SYN
// that overtakes its connection's third ACK is dropped (the model does not
// retransmit). Use one of SendJoins and SendReadyJoins, not both.
func (m *Model) SendReadyJoins() {
	n := 0
	for _, ci := range m.pendJoins {
		c := &m.conns[ci]
		if c.cState != 2 {
			continue // reopened since, or the joins went out
		}
		if c.sState != 2 {
			m.pendJoins[n] = ci
			n++
			continue
		}
		for j := 1; j < m.cfg.Subflows; j++ {
			m.sendJoinSyn(int(ci), j)
		}
	}
	m.pendJoins = m.pendJoins[:n]
}

// StreamKey is OrderKey for both modes: with a translator between the ends
// (External) it is OrderKey; in Passthrough, where packets reach the
// server untranslated on every subflow, the server side's offset comes from
// the packet's DSS mapping (the client side's is subflow 0's sequence
// number, as OrderKey reads it).
func (m *Model) StreamKey(p *translate.Packet) (ci int, off int64) {
	if m.xlat || p.Side != translate.Core {
		return m.OrderKey(p)
	}
	_, ip, t, ok := tcpView(p)
	if !ok {
		return -1, -1
	}
	ci, j, ok := m.lookup(ip.SourceAddress(), t.SourcePort())
	if !ok {
		return -1, -1
	}
	if len(t.Payload()) == 0 || t.Flags()&header.TCPFlagSyn != 0 {
		return ci, -1
	}
	var d dss
	if !scanOpts(t.Options(), &d) || !d.present || d.flags&option.DSSHasMap == 0 {
		return ci, -1
	}
	c := &m.conns[ci]
	rel := uint32(d.dsn-c.idsnC-1) + (uint32(t.Seq()) - c.sub[j].isn - d.ssn)
	return ci, int64(c.sRcv) + int64(int32(rel-uint32(c.sRcv)))
}
