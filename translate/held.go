package translate

import "github.com/flexcp/flexcp/translate/header"

// S->C loss between S and P. P forwards what it receives and holds no
// copy, so a segment of S lost before P (a full receive ring) leaves a
// hole in the data stream only: every subflow is contiguous, the client
// acknowledges each subflow up to its end, and its DATA_ACK stops at the
// hole. Translated to S those are duplicate ACKs without SACK blocks,
// which a SACK sender does not count: S recovers each such loss by a
// retransmission timeout, one segment per RTO. So while P knows of a
// hole (holeEnd), it remembers which later data ranges the client has
// acknowledged at the subflow level (the client holds them in its
// MPTCP-level out-of-order queue) and reports them to S as SACK blocks
// (I24). Outside holes P reports only the client's own SACK blocks:
// ordinary reordering between subflows must not look like loss to S.

// noteHole records that S's bytes [from, to) never reached P.
func (c *conn) noteHole(to header.DSN64) {
	if !c.hole || c.holeEnd.LessThan(to) {
		c.hole, c.holeEnd = true, to
	}
}

// holeOpen reports whether a hole P knows of is still below DATA_ACK's
// reach.
func (c *conn) holeOpen() bool { return c.hole && c.dataAck.LessThan(c.holeEnd) }

// heldAdd remembers that the client holds data [lo, hi) (it acknowledged
// them on a subflow), merged with the ranges already held. When the set
// is full the highest range gives way: the lowest say most about the
// hole S must fill.
func (c *conn) heldAdd(lo, hi header.DSN64) {
	if lo.LessThan(c.dataAck) {
		lo = c.dataAck
	}
	if !lo.LessThan(hi) {
		return
	}
	for i := 0; i < int(c.nheld); i++ {
		r := &c.held[i]
		if lo.LessThanEq(r[1]) && r[0].LessThanEq(hi) {
			if lo.LessThan(r[0]) {
				r[0] = lo
			}
			if r[1].LessThan(hi) {
				r[1] = hi
			}
			c.heldMerge(i)
			return
		}
	}
	if int(c.nheld) < maxHeld {
		c.held[c.nheld] = [2]header.DSN64{lo, hi}
		c.nheld++
		return
	}
	top := 0
	for i := 1; i < int(c.nheld); i++ {
		if c.held[top][0].LessThan(c.held[i][0]) {
			top = i
		}
	}
	if lo.LessThan(c.held[top][0]) {
		c.held[top] = [2]header.DSN64{lo, hi}
	}
}

// heldMerge folds into range i the ranges it now overlaps or touches.
func (c *conn) heldMerge(i int) {
	for again := true; again; {
		again = false
		for k := 0; k < int(c.nheld); k++ {
			if k == i {
				continue
			}
			a, b := &c.held[i], c.held[k]
			if b[0].LessThanEq(a[1]) && a[0].LessThanEq(b[1]) {
				if b[0].LessThan(a[0]) {
					a[0] = b[0]
				}
				if a[1].LessThan(b[1]) {
					a[1] = b[1]
				}
				c.nheld--
				last := int(c.nheld)
				c.held[k] = c.held[last]
				if i == last {
					i = k
				}
				again = true
				break
			}
		}
	}
}

// heldTrim drops what DATA_ACK now covers; with no hole left, all. It
// is called for every DATA_ACK and has nothing to do without a hole or
// held ranges, a check small enough to inline.
func (c *conn) heldTrim() {
	if c.hole || c.nheld != 0 {
		c.heldTrimAll()
	}
}

func (c *conn) heldTrimAll() {
	if !c.holeOpen() {
		c.hole, c.nheld = false, 0
		return
	}
	w := 0
	for i := 0; i < int(c.nheld); i++ {
		r := c.held[i]
		if r[1].LessThanEq(c.dataAck) {
			continue
		}
		if r[0].LessThan(c.dataAck) {
			r[0] = c.dataAck
		}
		c.held[w] = r
		w++
	}
	c.nheld = uint8(w)
}

// heldBlocks appends the held ranges, in S's sequence space, to blocks
// (after the n already there, up to cap), skipping ranges a block already
// there covers. It returns the new count.
func (e *Engine) heldBlocks(c *conn, n int) int {
	for i := 0; i < int(c.nheld) && n < len(e.blocks) && n < 3; i++ {
		l := uint32(c.isnS.Add(uint32(c.held[i][0] - c.idsnP)))
		r := uint32(c.isnS.Add(uint32(c.held[i][1] - c.idsnP)))
		dup := false
		for k := 0; k < n; k++ {
			if header.Seq32(e.blocks[k][0]).LessThanEq(header.Seq32(l)) && header.Seq32(r).LessThanEq(header.Seq32(e.blocks[k][1])) {
				dup = true
				break
			}
		}
		if !dup {
			e.blocks[n] = [2]uint32{l, r}
			n++
		}
	}
	return n
}
