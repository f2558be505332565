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
