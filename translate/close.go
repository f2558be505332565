package translate

import (
	"time"

	"github.com/flexcp/flexcp/translate/header"
)

// closedSubflow handles a segment on a subflow whose FIN exchange is done
// or that was reset: a retransmitted FIN is acknowledged again, anything
// else is absorbed.
func (e *Engine) closedSubflow(now int64, p *Packet, ci int32, c *conn, j int, s *subflow) Verdict {
	pk := &e.pk
	if pk.flags&header.TCPFlagFin == 0 || !s.finRcvd || pk.flags&header.TCPFlagRst != 0 {
		return Consumed
	}
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), false, 0, 0, 0, false, false, 0)
	seq, flags := s.pureSeq(header.TCPFlagAck)
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: seq,
		ack: s.isnC.Add(s.finSSN + 1), flags: flags, win: c.winS, opts: e.ow.pad()}
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Access
	return Forward
}

// clientRst closes subflow j (DESIGN 3.3: an RST closes that subflow
// only); it reaches S only when it ends the last subflow of a connection
// whose data exchange is not finished.
func (e *Engine) clientRst(now int64, p *Packet, ci int32, c *conn, j int, s *subflow) Verdict {
	// Its unacknowledged data is reinjected when S retransmits it; a join
	// subflow's slot is freed for a new join.
	e.closeSub(ci, j)
	if e.liveSubflows(ci, c, -1) > 0 {
		return Consumed
	}
	if c.c2sFin && c.s2cFin {
		e.closeConn(now, ci, c)
		return Consumed
	}
	e.closeConn(now, ci, c)
	c.rstClosed = true // I32
	e.cnt.Resets++
	return e.rstToServer(p, ci, c)
}

// rstToServer rewrites p into an RST on T0 toward S.
func (e *Engine) rstToServer(p *Packet, ci int32, c *conn) Verdict {
	pk := &e.pk
	s0 := e.sub(ci, 0)
	e.ow.n = 0
	h := hdrOut{src: &s0.caddr, dst: &s0.raddr, sport: s0.cport, dport: s0.rport, seq: c.c2sSeq(c.c2sNxt),
		ack: c.ackToS(c.dataAck), flags: header.TCPFlagRst | header.TCPFlagAck, opts: e.ow.pad()}
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Core
	return Forward
}

// clientFastclose handles MP_FASTCLOSE from the client (RFC 8684 3.5):
// the connection is reset toward S and on every other subflow.
func (e *Engine) clientFastclose(now int64, p *Packet, ci int32, c *conn, j int, s *subflow) Verdict {
	e.cnt.Resets++
	for k := 0; k < int(c.nsub); k++ {
		if k != j {
			e.rstSubflow(ci, c, k, false)
		}
		closeSlot(e.sub(ci, k))
	}
	e.closeConn(now, ci, c)
	c.rstClosed = true // I32
	return e.rstToServer(p, ci, c)
}

// closedResetGap is the least time between two RSTs P sends S for one
// connection the client reset (I32): the RST at the close, then the
// answers to S's later segments. S's data in flight when P reset it
// arrives within about one round trip of the close (13 ms for the 808
// segments of the demo's worst abort, docs/translation.md); S's first
// retransmission comes after its retransmission timeout, at least 200 ms
// on Linux (TCP_RTO_MIN) and 1 s by RFC 6298. So the burst the close's
// RST already answers goes unanswered, S's first retransmission after a
// lost RST is answered, and a connection draws at most one RST per gap
// (600 over the default 60 s linger; a few in practice, as S backs off
// and stops at the first RST it accepts).
const closedResetGap = int64(100 * time.Millisecond)

// closedReset handles a segment from S on a connection the client reset
// (I32). P sent S an RST at the close; should that have been lost, S
// would retransmit into a connection P no longer translates until S gives
// up. P answers as a TCP endpoint answers a segment for a connection it
// does not have (RFC 9293 3.10.7.1): <SEQ=SEG.ACK><CTL=RST> when the
// segment carries an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
// on T0 toward S, at most once per closedResetGap (counted as
// ClosedResets). The segment itself is dropped as DropClosed either way.
// S's RSTs never get here (fromServer handles them first), so two
// endpoints never answer each other's RSTs.
func (e *Engine) closedReset(now int64, ci int32, c *conn) Verdict {
	if now-c.closedAt < closedResetGap {
		return e.drop(DropClosed)
	}
	q := e.newPacket()
	if q == nil {
		return e.drop(DropClosed) // counted as DropAllocFailed or DropEmitFull too
	}
	// closedAt becomes the time of P's last RST to S; it is never later
	// than lastSeen, so the linger (onTimer) does not move.
	c.closedAt = now
	pk := &e.pk
	s0 := e.sub(ci, 0)
	h := hdrOut{src: &s0.caddr, dst: &s0.raddr, sport: s0.cport, dport: s0.rport, flags: header.TCPFlagRst}
	if pk.flags&header.TCPFlagAck != 0 {
		h.seq = pk.ack
	} else {
		n := uint32(pk.payLen)
		if pk.flags&header.TCPFlagSyn != 0 {
			n++
		}
		if pk.flags&header.TCPFlagFin != 0 {
			n++
		}
		h.ack, h.flags = pk.seq.Add(n), header.TCPFlagRst|header.TCPFlagAck
	}
	q.Side = Core
	e.build(q, c.v6, &h, nil)
	e.cnt.ClosedResets++
	return e.drop(DropClosed)
}

// serverRst turns S's RST into RSTs with MP_FASTCLOSE (key_C) on every
// client subflow (RFC 8684 3.5, option R).
func (e *Engine) serverRst(now int64, p *Packet, ci int32, c *conn) Verdict {
	e.cnt.Resets++
	first := -1
	for k := 0; k < int(c.nsub); k++ {
		if e.sub(ci, k).state != subEstablished {
			continue
		}
		if first < 0 {
			first = k
			continue
		}
		e.rstSubflow(ci, c, k, true)
	}
	e.closeConn(now, ci, c)
	if first < 0 {
		return Consumed
	}
	s := e.sub(ci, first)
	pk := &e.pk
	e.ow.n = 0
	e.ow.fastclose(c.keyC)
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: s.isnP.Add(s.sndNxt),
		ack: s.isnC.Add(s.rcvNxt), flags: header.TCPFlagRst | header.TCPFlagAck, opts: e.ow.pad()}
	for k := 0; k < int(c.nsub); k++ {
		closeSlot(e.sub(ci, k))
	}
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side, p.Port = Access, s.port
	return Forward
}

// rstSubflow emits an RST on subflow k (with MP_FASTCLOSE if fastclose).
func (e *Engine) rstSubflow(ci int32, c *conn, k int, fastclose bool) {
	s := e.sub(ci, k)
	if s.state != subEstablished {
		return
	}
	q := e.newPacket()
	if q == nil {
		return
	}
	e.ow.n = 0
	if fastclose {
		e.ow.fastclose(c.keyC)
	} else {
		e.ow.tcpRst(tcpRstUnspecified)
	}
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: s.isnP.Add(s.sndNxt),
		ack: s.isnC.Add(s.rcvNxt), flags: header.TCPFlagRst | header.TCPFlagAck, opts: e.ow.pad()}
	q.Side, q.Port = Access, s.port
	e.build(q, c.v6, &h, nil)
}

// infiniteMapping handles a DSS with data-level length 0 (RFC 8684 3.7):
// with only subflow 0 the connection falls back to plain forwarding; with
// joins it cannot, and the segment is dropped.
func (e *Engine) infiniteMapping(now int64, p *Packet, ci int32, c *conn, j int) Verdict {
	if c.nsub == 1 && j == 0 {
		e.cnt.ConnFallback[FallbackInfiniteMapping]++
		e.release(ci)
		return Pass
	}
	return e.drop(DropUnsupported)
}

// closeConn marks the connection finished and starts its linger timer.
func (e *Engine) closeConn(now int64, ci int32, c *conn) {
	if c.state == connClosed {
		return
	}
	c.state = connClosed
	c.closedAt = now
	e.wheel.schedule(ci, now+int64(e.cfg.Linger))
}

// checkDone closes the connection once both directions' FINs are
// acknowledged at the data level and every subflow finished.
func (e *Engine) checkDone(now int64, ci int32, c *conn) {
	// Inlined at every packet's end: most connections have no FIN yet.
	if c.c2sFin && c.s2cFin && c.state == connEstablished {
		e.checkDoneFins(now, ci, c)
	}
}

func (e *Engine) checkDoneFins(now int64, ci int32, c *conn) {
	if !c.c2sFinDSN.LessThan(c.sAck) || !c.s2cFinDSN.LessThan(c.dataAck) {
		return
	}
	e.closeConn(now, ci, c)
}

// onTimer runs when connection ci's deadline passes.
func (e *Engine) onTimer(now int64, ci int32) {
	c := &e.conns[ci]
	switch c.state {
	case connFree:
		return
	case connSynSent, connSynAckSent:
		e.cnt.Timeouts++
		e.release(ci)
		return
	case connClosed:
		// Linger after the close and after the last packet, so subflow
		// FIN exchanges that outlast the data-level close still find
		// their state.
		end := max(c.closedAt, c.lastSeen) + int64(e.cfg.Linger)
		if now >= end {
			e.release(ci)
			return
		}
		e.wheel.schedule(ci, end)
		return
	}
	idle := c.lastSeen + int64(e.cfg.IdleTimeout)
	if now >= idle {
		e.cnt.Timeouts++
		e.release(ci)
		return
	}
	next := idle
	for k := 1; k < int(c.nsub); k++ {
		s := e.sub(ci, k)
		if s.state != subJoinPending {
			continue
		}
		if now >= s.deadline {
			e.cnt.JoinsRejected[JoinTimeout]++
			e.freeJoin(ci, k)
			continue
		}
		if s.deadline < next {
			next = s.deadline
		}
	}
	if c.state == connEstablished {
		next = e.staleTimer(now, ci, c, next) // I30
	}
	e.wheel.schedule(ci, next)
}

// closeSlot marks a subflow closed; a free slot (a join that was refused
// or timed out) stays free, or release would count it closed twice.
func closeSlot(s *subflow) {
	if s.state != subFree {
		s.state = subClosed
	}
}
