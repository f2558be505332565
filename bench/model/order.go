package model

import "github.com/flexcp/flexcp/translate"

// Ahead reports whether a packet leaving the translator toward one end
// carries payload that starts beyond what its receiver has in order: a
// segment from another path overtook it, and a harness whose paths are
// not FIFO between each other (the wire mode: c1 and c2 are polled one
// after the other, and a loaded machine delays one path by milliseconds)
// holds it back, as a receiver's out-of-order queue would, until the gap
// is filled. Packets without payload and packets for no connection of the
// model are never ahead. It does not allocate.
func (m *Model) Ahead(p *translate.Packet) bool {
	ci, off := m.OrderKey(p)
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
