package translate

import (
	"github.com/flexcp/flexcp/dtree"
	"github.com/flexcp/flexcp/translate/header"
)

// Prompting S after a path cut (I30). When a subflow's path is cut with
// S->C data outstanding on it, the client's DATA_ACK stops at the first
// byte that subflow lost while the other subflows keep delivering. S sees
// only duplicate ACKs without SACK blocks (each subflow is contiguous, so
// the client reports no SACK), which a SACK sender does not count: it
// recovers by its retransmission timeout, with backoff (TestPathCut
// measured stalls of 0.5-15 s). Once the subflow is stale
// (Config.StaleAfter) and owns the first byte the client has not
// acknowledged, P sends S three duplicate ACKs of that byte carrying
// SACK blocks for the data the client holds beyond it (acknowledged at
// the subflow level on other subflows; I24 keeps reporting them on later
// ACKs), so S fast-retransmits at once; the retransmission of a stale
// subflow's data is then reinjected on a live subflow beside its
// original mapping, as for a dead one (I26).

// promptDupAcks is the number of duplicate ACKs of one prompt: the
// classic fast-retransmit threshold (RFC 5681 3.2), for a sender without
// SACK; a SACK sender acts on the blocks.
const promptDupAcks = 3

// armStale makes sure connection ci's timer fires by at, when one of its
// subflows may go stale (Config.StaleAfter after data became
// outstanding on it).
func (e *Engine) armStale(ci int32, at int64) {
	if !e.cfg.StalePrompt {
		return
	}
	if !e.wheel.scheduled(ci) || at < e.wheel.deadline[ci] {
		e.wheel.schedule(ci, at)
	}
}

// staleTimer runs from onTimer on an established connection: it prompts
// S for every subflow that went stale with the first unacknowledged byte
// (staleOwner) and returns the earlier of next and the time the
// connection must be looked at again (while any subflow has data
// outstanding: when it could go stale, or StaleAfter after a prompt).
func (e *Engine) staleTimer(now int64, ci int32, c *conn, next int64) int64 {
	if !e.cfg.StalePrompt {
		return next
	}
	stale := int64(e.cfg.StaleAfter)
	for k := 0; k < int(c.nsub); k++ {
		s := e.sub(ci, k)
		if s.state != subEstablished || s.sndNxt == s.sndUna {
			continue
		}
		at := s.progress + stale + 1
		if now >= at {
			e.prompt(now, ci, c, k)
			at = now + stale
		}
		if at < next {
			next = at
		}
	}
	return next
}

// staleFor reports whether subflow s has had S->C data outstanding
// without subflow-ack progress for Config.StaleAfter (as isStale, not
// counted).
func (e *Engine) staleFor(now int64, s *subflow) bool {
	return s.sndNxt != s.sndUna && now-s.progress > int64(e.cfg.StaleAfter)
}

// otherLive reports whether c has an established subflow other than k
// that is neither finished, dead nor stale: one that can carry a
// reinjection.
func (e *Engine) otherLive(now int64, ci int32, c *conn, k int) bool {
	for j := 0; j < int(c.nsub); j++ {
		s := e.sub(ci, j)
		if j != k && s.state == subEstablished && !s.finRcvd && !s.dead && !e.staleFor(now, s) {
			return true
		}
	}
	return false
}

// reinjectStale reports whether S's retransmission of a piece mapped on
// subflow s (index k) is reinjected although s is not dead (I30): the
// prompt is on, s is stale and another subflow is live.
func (e *Engine) reinjectStale(now int64, ci int32, c *conn, k int, s *subflow) bool {
	return e.cfg.StalePrompt && e.staleFor(now, s) && e.otherLive(now, ci, c, k)
}

// prompt sends S the duplicate-ACK pattern for stale subflow k if k
// carried the first byte the client has not acknowledged, once per
// DATA_ACK value, and only while another subflow is live.
func (e *Engine) prompt(now int64, ci int32, c *conn, k int) {
	if c.state != connEstablished || !c.dataAckOK || !c.dataAck.LessThan(c.s2cNxt) {
		return
	}
	if c.prompted && c.promptDSN == c.dataAck {
		return
	}
	if owner, ok := e.store.ProxyOwner(c.pmap, uint64(c.dataAck)); !ok || int(owner) != k {
		return
	}
	if !e.otherLive(now, ci, c, k) {
		return
	}
	if c.sackOK {
		// I24 reports what the client holds above DATA_ACK from now on:
		// the ranges found here and those it acknowledges on a live
		// subflow later. Opened even when nothing is held yet: S's
		// retransmission timeout then sends new data (F-RTO, RFC 5682)
		// that the client takes on a live subflow, and only a SACK block
		// for it tells S the loss is real; without one S waits for its
		// next, backed-off timeout for every segment of the hole.
		e.promptHeld(ci, c, k)
		c.noteHole(c.s2cNxt)
		if c.nheld == 0 {
			// Duplicate ACKs without SACK blocks do nothing to a SACK
			// sender: prompt once the client holds something.
			return
		}
	}
	c.prompted, c.promptDSN = true, c.dataAck
	s0 := e.sub(ci, 0)
	for i := 0; i < promptDupAcks; i++ {
		q := e.newPacket()
		if q == nil {
			return
		}
		e.ow.n = 0
		if c.sackOK {
			e.ow.sack(e.blocks[:e.heldBlocks(c, 0)])
		}
		h := hdrOut{src: &s0.caddr, dst: &s0.raddr, sport: s0.cport, dport: s0.rport, seq: c.c2sSeq(c.c2sNxt),
			ack: c.ackToS(c.dataAck), flags: header.TCPFlagAck, win: c.winC, opts: e.ow.pad()}
		q.Side = Core
		e.build(q, c.v6, &h, nil)
		e.cnt.PromptAcks++
	}
	e.cnt.Prompts++
}

// promptHeld remembers, as held ranges (I24), the lowest data ranges
// above DATA_ACK that the client has acknowledged at the subflow level on
// a subflow other than k: the mappings P sent there below that subflow's
// ack. The walk stops when the held set is full or after 256 mappings.
func (e *Engine) promptHeld(ci int32, c *conn, k int) {
	d := c.dataAck
	for iter := 0; iter < 32 && d.LessThan(c.s2cNxt); iter++ {
		n := uint32(min(uint64(c.s2cNxt-d), 1<<30))
		m := e.store.ProxyPieces(c.pmap, uint64(d), n, e.pieces[:])
		if m == 0 {
			return
		}
		for i := 0; i < m; i++ {
			pc := &e.pieces[i]
			d = header.DSN64(pc.DSN).Add(uint64(pc.Len))
			if pc.Sub == dtree.NoSubflow || int(pc.Sub) == k {
				continue
			}
			s := e.sub(ci, int(pc.Sub))
			if s.state != subEstablished || !header.Seq32(pc.SSN+pc.Len).LessThanEq(header.Seq32(s.sndUna)) {
				continue
			}
			c.heldAdd(header.DSN64(pc.DSN), d) // ascending: once full, a no-op
		}
	}
}
