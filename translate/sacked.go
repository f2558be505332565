package translate

import (
	"math"

	"github.com/flexcp/flexcp/translate/header"
)

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

// sackTable is one connection's SACKed set (I25), taken from the
// engine's pool (Config.SackTables) when S first reports a block worth
// remembering and returned when the set empties or the connection is
// released, so an idle connection holds only its index (conn.sackIdx).
// The ranges are offsets from base, S's cumulative ack when the set was
// last trimmed: they lie above it, within what the client sent.
type sackTable struct {
	base header.DSN64
	r    [maxSacked][2]uint32
}

// takeSackTable gives c a table from the pool with base S's cumulative
// ack; it reports false, counted, when the pool is empty: c then keeps
// the DESIGN 3.4 rule (subflow acks only for what S acknowledged
// cumulatively), which is safe.
func (e *Engine) takeSackTable(c *conn) bool {
	n := len(e.sackFree)
	if n == 0 {
		e.cnt.SackTableMisses++
		return false
	}
	c.sackIdx = e.sackFree[n-1]
	e.sackFree = e.sackFree[:n-1]
	e.sackTabs[c.sackIdx].base = c.sAck
	return true
}

// putSackTable returns c's table, if it holds one, to the pool.
func (e *Engine) putSackTable(c *conn) {
	if c.sackIdx != 0 {
		e.sackFree = append(e.sackFree, c.sackIdx)
		c.sackIdx = 0
	}
	c.nsacked = 0
}

// sackedNote records the SACK blocks of S's segment being translated (TCP
// space of C->S data) as data-level ranges above S's cumulative ack, and
// forgets what the cumulative ack now covers. A range that finds the set
// full first evicts the ranges no subflow ack still needs (I29).
func (e *Engine) sackedNote(ci int32, c *conn) {
	if c.nsacked > 0 {
		e.sackedTrim(c)
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
		base := c.sAck
		if c.sackIdx != 0 {
			base = e.sackTabs[c.sackIdx].base
		}
		if uint64(r-base) > math.MaxUint32 {
			continue // beyond the offsets' reach (4 GiB in flight): ignored
		}
		if c.sackIdx == 0 && !e.takeSackTable(c) {
			return
		}
		t := &e.sackTabs[c.sackIdx]
		if !t.add(c, uint32(l-base), uint32(r-base)) && e.sackedEvict(ci, c) {
			t.add(c, uint32(l-base), uint32(r-base))
		}
	}
}

// sackedEvict forgets the SACKed ranges that no established subflow's
// remaining client mappings (at or after the subflow ack P last sent)
// carry: the subflow acks have walked past them and nothing waits on
// them (I29). S's cumulative ack stays below them while a dead subflow's
// data is missing, so sackedTrim would keep them, and with the set full
// of them the ranges the surviving subflow needs next, even S's DSACK
// of the segment it retransmits, would find no room: that subflow would
// never be acknowledged again (TestClientReinjectsDeadSubflowMapping).
// It reports whether a range went. Runs only when the set is full.
func (e *Engine) sackedEvict(ci int32, c *conn) bool {
	t := &e.sackTabs[c.sackIdx]
	w := 0
	for i := 0; i < int(c.nsacked); i++ {
		lo, hi := uint64(t.base+header.DSN64(t.r[i][0])), uint64(t.base+header.DSN64(t.r[i][1]))
		for k := 0; k < int(c.nsub); k++ {
			if s := e.sub(ci, k); s.state == subEstablished && e.store.ClientCarries(c.cmap, uint8(k), s.ackSent, lo, hi) {
				t.r[w] = t.r[i]
				w++
				break
			}
		}
	}
	gone := w < int(c.nsacked)
	c.nsacked = uint8(w)
	return gone
}

// add merges the range [lo, hi) (offsets from t.base) into c's SACKed
// set. When the set is full the highest range gives way to a lower one;
// add reports false if the range was left out (the set is full of lower
// ranges).
func (t *sackTable) add(c *conn, lo, hi uint32) bool {
	for i := 0; i < int(c.nsacked); i++ {
		r := &t.r[i]
		if lo <= r[1] && r[0] <= hi {
			if lo < r[0] {
				r[0] = lo
			}
			if r[1] < hi {
				r[1] = hi
			}
			// Fold in the ranges the grown one now reaches.
			for k := 0; k < int(c.nsacked); k++ {
				b := t.r[k]
				if k == i || !(b[0] <= r[1] && r[0] <= b[1]) {
					continue
				}
				if b[0] < r[0] {
					r[0] = b[0]
				}
				if r[1] < b[1] {
					r[1] = b[1]
				}
				c.nsacked--
				last := int(c.nsacked)
				t.r[k] = t.r[last]
				if i == last {
					i, r = k, &t.r[k]
				}
				k = -1 // start over: the range grew again
			}
			return true
		}
	}
	if int(c.nsacked) < maxSacked {
		t.r[c.nsacked] = [2]uint32{lo, hi}
		c.nsacked++
		return true
	}
	top := 0
	for i := 1; i < int(c.nsacked); i++ {
		if t.r[top][0] < t.r[i][0] {
			top = i
		}
	}
	if lo < t.r[top][0] {
		t.r[top] = [2]uint32{lo, hi}
		return true
	}
	return false
}

// sackedTrim drops what S's cumulative ack now covers, moves the table's
// base up to it, and returns the table once the set is empty.
func (e *Engine) sackedTrim(c *conn) {
	t := &e.sackTabs[c.sackIdx]
	w := 0
	for i := 0; i < int(c.nsacked); i++ {
		lo, hi := t.base+header.DSN64(t.r[i][0]), t.base+header.DSN64(t.r[i][1])
		if hi.LessThanEq(c.sAck) {
			continue
		}
		if lo.LessThan(c.sAck) {
			lo = c.sAck
		}
		t.r[w] = [2]uint32{uint32(lo - c.sAck), uint32(hi - c.sAck)}
		w++
	}
	t.base = c.sAck
	c.nsacked = uint8(w)
	if w == 0 {
		e.putSackTable(c)
	}
}

// sackedEnd returns the end of the SACKed range holding data byte d, or
// d itself if S has not SACKed it.
func (e *Engine) sackedEnd(c *conn, d header.DSN64) header.DSN64 {
	if c.sackIdx == 0 {
		return d
	}
	t := &e.sackTabs[c.sackIdx]
	for i := 0; i < int(c.nsacked); i++ {
		lo, hi := t.base+header.DSN64(t.r[i][0]), t.base+header.DSN64(t.r[i][1])
		if lo.LessThanEq(d) && d.LessThan(hi) {
			return hi
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
		n := uint32(min(uint64(e.sackedEnd(c, end)-dsn), uint64(covered)))
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
