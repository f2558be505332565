package translate

import "github.com/flexcp/flexcp/translate/header"

// C->S data S has selectively acknowledged (I25). DESIGN 3.4 lets P
// acknowledge subflow byte x only once S has cumulatively acknowledged
// the data-level bytes below it. With paths of different speeds that
// couples every subflow to the slowest: S's cumulative ack waits for the
// slow subflow's data, so the fast subflow's bytes, already at S, stay
// unacknowledged at the subflow level, and the fast subflow's congestion
// window stalls behind the slow one (measured: 140-180 Mbit/s over paths
// shaped to 200 and 50 Mbit/s, TestE2ERateLimited). P therefore also
// acknowledges, at the subflow level, bytes whose data-level range S has
// SACKed. Nothing is lost if S reneges: the DATA_ACK stays S's cumulative
// ack, and the client keeps every byte at the connection level until the
// DATA_ACK covers it (it reinjects them on its MPTCP retransmission
// timer). This is a deliberate departure from DESIGN 3.4, recorded in
// docs/translation.md.

// maxSacked is the number of SACKed data ranges above S's cumulative ack
// remembered per connection; the lowest ranges win when more arrive (the
// subflow acks advance from S's cumulative ack upwards). S reports at
// most four blocks per ACK, the most recent first, so P learns each range
// as it grows but hears of it no more once four newer ones exist: P must
// remember more than four. When a path dies with a window of data in
// flight, S holds one range per mapping the surviving subflow carried
// between the lost ones; with four remembered ranges the survivor's acks
// crawled one range per retransmission timeout (TestE2EPathDown).
const maxSacked = 16

// sackedNote records the SACK blocks of S's segment being translated (TCP
// space of C->S data) as data-level ranges above S's cumulative ack, and
// forgets what the cumulative ack now covers.
func (e *Engine) sackedNote(c *conn) {
	if c.nsacked > 0 {
		c.sackedTrim()
	}
	o := &e.pk.opts
	for i := 0; i < int(o.NSACK); i++ {
		l, r := c.c2sDSN(o.SACK[i].Left), c.c2sDSN(o.SACK[i].Right)
		// Only blocks within what the client sent and above the
		// cumulative ack say anything; others are ignored.
		if !l.LessThan(r) || !c.sAck.LessThan(r) || c.c2sNxt.LessThan(r) {
			continue
		}
		if l.LessThan(c.sAck) {
			l = c.sAck
		}
		c.sackedAdd(l, r)
	}
}

// sackedAdd merges the data range [lo, hi) into the SACKed set. When the
// set is full the highest range gives way to a lower one.
func (c *conn) sackedAdd(lo, hi header.DSN64) {
	for i := 0; i < int(c.nsacked); i++ {
		r := &c.sacked[i]
		if lo.LessThanEq(r[1]) && r[0].LessThanEq(hi) {
			if lo.LessThan(r[0]) {
				r[0] = lo
			}
			if r[1].LessThan(hi) {
				r[1] = hi
			}
			// Fold in the ranges the grown one now reaches.
			for k := 0; k < int(c.nsacked); k++ {
				b := c.sacked[k]
				if k == i || !(b[0].LessThanEq(r[1]) && r[0].LessThanEq(b[1])) {
					continue
				}
				if b[0].LessThan(r[0]) {
					r[0] = b[0]
				}
				if r[1].LessThan(b[1]) {
					r[1] = b[1]
				}
				c.nsacked--
				last := int(c.nsacked)
				c.sacked[k] = c.sacked[last]
				if i == last {
					i, r = k, &c.sacked[k]
				}
				k = -1 // start over: the range grew again
			}
			return
		}
	}
	if int(c.nsacked) < maxSacked {
		c.sacked[c.nsacked] = [2]header.DSN64{lo, hi}
		c.nsacked++
		return
	}
	top := 0
	for i := 1; i < int(c.nsacked); i++ {
		if c.sacked[top][0].LessThan(c.sacked[i][0]) {
			top = i
		}
	}
	if lo.LessThan(c.sacked[top][0]) {
		c.sacked[top] = [2]header.DSN64{lo, hi}
	}
}

// sackedTrim drops what S's cumulative ack now covers.
func (c *conn) sackedTrim() {
	w := 0
	for i := 0; i < int(c.nsacked); i++ {
		r := c.sacked[i]
		if r[1].LessThanEq(c.sAck) {
			continue
		}
		if r[0].LessThan(c.sAck) {
			r[0] = c.sAck
		}
		c.sacked[w] = r
		w++
	}
	c.nsacked = uint8(w)
}

// sackedEnd returns the end of the SACKed range holding data byte d, or
// d itself if S has not SACKed it.
func (c *conn) sackedEnd(d header.DSN64) header.DSN64 {
	for i := 0; i < int(c.nsacked); i++ {
		if r := c.sacked[i]; r[0].LessThanEq(d) && d.LessThan(r[1]) {
			return r[1]
		}
	}
	return d
}

// sackedSSN extends a, a subflow-j ack already allowed, over the
// following bytes of j (up to limit) whose data-level range S has
// acknowledged cumulatively or SACKed (I25), one client mapping at a
// time. The client's own retransmissions at the data level put lower
// DSNs after higher ones on a subflow, so bytes S acknowledged
// cumulatively can follow bytes it has not: they are acknowledged too,
// once what lies before them is.
func (e *Engine) sackedSSN(c *conn, j int, a, limit uint32) uint32 {
	for i := 0; i < 8 && header.Seq32(a).LessThan(header.Seq32(limit)); i++ {
		d, covered, ok := e.store.ClientLookup(c.cmap, uint8(j), a, limit-a)
		if !ok || covered == 0 {
			break
		}
		dsn := header.DSN64(d)
		end := dsn
		if end.LessThan(c.sAck) {
			end = c.sAck
		}
		n := uint32(min(uint64(c.sackedEnd(end)-dsn), uint64(covered)))
		a += n
		if n < covered {
			break
		}
	}
	return a
}

func max32(a, b uint32) uint32 {
	if header.Seq32(a).LessThan(header.Seq32(b)) {
		return b
	}
	return a
}
