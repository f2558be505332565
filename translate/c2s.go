package translate

import (
	"github.com/flexcp/flexcp/dtree"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// fromClient dispatches a packet of a known subflow from the access side.
func (e *Engine) fromClient(now int64, p *Packet, ci int32, c *conn, j int, s *subflow) Verdict {
	pk := &e.pk
	if j == 0 && pk.flags&(header.TCPFlagSyn|header.TCPFlagAck) == header.TCPFlagSyn && pk.seq != c.isnC &&
		c.state != connEstablished {
		// A new SYN on the 4-tuple of a connection still in its handshake
		// or lingering after its close (the client reused the port):
		// the old state goes, the SYN starts afresh.
		e.release(ci)
		if pk.opts.Present.Has(option.MPCapable) {
			return e.capableSyn(now, p)
		}
		return Pass
	}
	switch c.state {
	case connSynSent, connSynAckSent:
		if pk.flags&header.TCPFlagRst != 0 {
			if !rstInWindow(uint32(pk.seq-s.isnC)-s.rcvNxt, 0, 0) {
				return e.drop(DropRSTOutOfWindow)
			}
			e.release(ci)
			return Pass
		}
		if pk.flags&header.TCPFlagSyn != 0 {
			return e.forwardSyn(p, true) // the client retransmits its SYN
		}
		if c.state == connSynSent {
			return e.drop(DropBadState)
		}
		return e.thirdAck(now, p, ci, c, s)
	}
	switch s.state {
	case subJoinPending:
		return e.joinAck(now, p, ci, c, j, s)
	case subClosed:
		return e.closedSubflow(now, p, ci, c, j, s)
	}
	return e.c2s(now, p, ci, c, j, s)
}

// c2s translates a client segment on established subflow j into the TCP
// connection to S (DESIGN 3.3).
func (e *Engine) c2s(now int64, p *Packet, ci int32, c *conn, j int, s *subflow) Verdict {
	pk := &e.pk
	o := &pk.opts
	if o.Malformed {
		return e.drop(DropMalformed)
	}
	if pk.flags&header.TCPFlagSyn != 0 {
		return e.drop(DropBadState)
	}
	if pk.flags&header.TCPFlagRst != 0 {
		if !rstInWindow(uint32(pk.seq-s.isnC)-s.rcvNxt, c.winS, c.wsS) {
			return e.drop(DropRSTOutOfWindow)
		}
		return e.clientRst(now, p, ci, c, j, s)
	}
	// RFC 8684 3.5: MP_FASTCLOSE carries the receiver's key.
	if o.Present.Has(option.MPFastclose) {
		if o.MPFastclose.ReceiverKey != c.keyP {
			return e.drop(DropBadState)
		}
		return e.clientFastclose(now, p, ci, c, j, s)
	}
	// RFC 8684 3.2: the client repeats its join third ACK until it sees
	// the fourth; answer a repeat again.
	if j != 0 && o.Present.Has(option.MPJoin) && int(o.MPJoin.Len) == optLenJoinAck && pk.payLen == 0 {
		return e.fourthAck(p, c, s)
	}
	if o.Present.Has(option.MPPrio) { // RFC 8684 3.3.8
		s.backup = o.MPPrio.Backup || e.backupPort(s.port)
	}
	if pk.flags&header.TCPFlagAck != 0 {
		e.subflowAcked(now, c, j, s, uint32(pk.ack-s.isnP))
		if s.finSent && s.sndUna == s.sndNxt {
			// The client acknowledged P's answer to its subflow FIN.
			s.state = subClosed
			if pk.payLen == 0 {
				if e.liveSubflows(ci, c, -1) == 0 && c.c2sFin {
					e.closeConn(now, ci, c)
				}
				return Consumed
			}
		}
	}
	// RFC 8684 3.3.2: DATA_ACK, 4 or 8 bytes; a 4-byte one is expanded
	// against the highest seen (I3).
	segAck := c.dataAck
	if o.Present.Has(option.DSS) && o.DSS.Flags&dssHasAck != 0 {
		da := o.DSS.DataAck
		if o.DSS.Flags&dssAck64 == 0 {
			da = c.dataAck.Expand(o.DSS.DataAck.Lower32())
		}
		segAck = da
		limit := c.s2cNxt
		if c.s2cFin {
			limit = c.s2cFinDSN.Add(1)
		}
		if c.dataAck.LessThan(da) && da.LessThanEq(limit) {
			c.dataAck = da
			e.store.ProxyTrim(c.pmap, uint64(da))
		}
		c.dataAckOK = true
		c.heldTrim()
	}
	// RFC 8684 3.1: until the client sees a DSS from P it repeats
	// MP_CAPABLE on its first data, implying DSN IDSN_C+1 at SSN 1.
	if o.Present.Has(option.MPCapable) && int(o.MPCapable.Len) >= optLenCapableAckData && o.MPCapable.DataLen > 0 && o.MPCapable.SenderKey == c.keyC {
		e.store.ClientInsert(c.cmap, uint8(j), 1, uint64(c.idsnC.Add(1)), uint32(o.MPCapable.DataLen))
	}
	fin := false
	var finDSN header.DSN64
	rel := uint32(pk.seq - s.isnC)
	// The segment's DSN when the insert of its mapping looked it up too.
	var segDSN uint64
	var segCovered uint32
	segOK, segLooked := false, false
	if o.Present.Has(option.DSS) && o.DSS.Flags&dssHasMap != 0 {
		dsn := o.DSS.DSN
		if o.DSS.Flags&dssDSN64 == 0 {
			dsn = c.c2sNxt.Expand(o.DSS.DSN.Lower32())
		}
		if o.DSS.DataLen == 0 {
			return e.infiniteMapping(now, p, ci, c, j)
		}
		if c.csum && !e.clientChecksumOK(s, dsn) { // RFC 8684 3.3.1
			return e.drop(DropDSSChecksum)
		}
		n := uint32(o.DSS.DataLen)
		if o.DSS.Flags&dssDataFin != 0 {
			// RFC 8684 3.3.3: the DATA_FIN takes the last data-level
			// byte of the mapping.
			fin, finDSN = true, dsn.Add(uint64(n-1))
			n--
		}
		if n > 0 && uint32(o.DSS.SSN) != 0 {
			var v dtree.Verdict
			if pk.payLen > 0 {
				v, segDSN, segCovered, segOK = e.store.ClientInsertLookup(c.cmap, uint8(j), uint32(o.DSS.SSN), uint64(dsn), n, rel, uint32(pk.payLen))
				segLooked = true
			} else {
				v = e.store.ClientInsert(c.cmap, uint8(j), uint32(o.DSS.SSN), uint64(dsn), n)
			}
			if v == dtree.Conflict {
				return e.drop(DropMapConflict)
			}
		}
	}
	var seq header.Seq32
	tcpFin := false
	if pk.payLen > 0 {
		// I7: one client mapping must cover the whole payload.
		d, covered, ok := segDSN, segCovered, segOK
		if !segLooked {
			d, covered, ok = e.store.ClientLookup(c.cmap, uint8(j), rel, uint32(pk.payLen))
		}
		if !ok || covered < uint32(pk.payLen) {
			if header.Seq32(rel + uint32(pk.payLen)).LessThanEq(header.Seq32(s.ackSent)) {
				// A retransmission of bytes P already acknowledged (its
				// mapping is trimmed): acknowledge again, as a receiver
				// does for a duplicate, or the client would retry forever.
				return e.reack(p, c, s)
			}
			return e.drop(DropNoMapping)
		}
		dsn := header.DSN64(d)
		seq = c.c2sSeq(dsn)
		end := dsn.Add(uint64(pk.payLen))
		if c.c2sNxt.LessThan(end) {
			c.c2sNxt = end
		}
		if end := rel + uint32(pk.payLen); s.nooo == 0 && header.Seq32(rel).LessThanEq(header.Seq32(s.rcvNxt)) {
			// rcvd's common case inline: in order, nothing remembered
			// out of order.
			if header.Seq32(s.rcvNxt).LessThan(header.Seq32(end)) {
				s.rcvNxt = end
			}
		} else {
			rcvd(s, rel, uint32(pk.payLen))
		}
		c.lastRx = uint8(j)
		if fin && end == finDSN {
			tcpFin = true
		}
		e.cnt.SegmentsC2S++
		e.cnt.BytesC2S += uint64(pk.payLen)
		e.cnt.countPort(0, s.port, uint64(pk.payLen))
	} else {
		seq = c.c2sSeq(c.c2sNxt)
		if fin {
			seq = c.c2sSeq(finDSN)
			tcpFin = true
		}
	}
	if fin {
		if !c.c2sFin {
			c.c2sFin, c.c2sFinDSN = true, finDSN
			e.cnt.DataFinC2S++
		}
		if c.c2sNxt.LessThanEq(finDSN) {
			c.c2sNxt = finDSN.Add(1)
		}
	}
	subFin := false
	if pk.flags&header.TCPFlagFin != 0 && s.finSent && pk.payLen == 0 {
		// The client repeats its FIN: P's FIN/ACK was lost.
		return e.refin(p, c, s)
	}
	if pk.flags&header.TCPFlagFin != 0 {
		finRel := rel + uint32(pk.payLen)
		if !s.finRcvd && s.rcvNxt == finRel {
			s.finRcvd, s.finSSN = true, finRel
			e.cnt.SubflowFins++
		}
		subFin = true
		// I20: a subflow FIN reaches S only when it ends the last
		// subflow before any DATA_FIN.
		if !c.c2sFin && e.liveSubflows(ci, c, j) == 0 {
			c.c2sFin, c.c2sFinDSN = true, c.c2sNxt
			if pk.payLen == 0 {
				seq = c.c2sSeq(c.c2sNxt)
			}
			c.c2sNxt = c.c2sNxt.Add(1)
			tcpFin = true
		}
	}
	e.checkDone(now, ci, c)
	if subFin {
		// Answer the FIN now if S already acknowledged everything below.
		e.genAcks(now, ci, c, -1)
	}
	hasDataAck := o.Present.Has(option.DSS) && o.DSS.Flags&dssHasAck != 0
	if pk.payLen == 0 && !tcpFin && !hasDataAck && !o.Present.Has(option.MPCapable) {
		return Consumed // e.g. an ADD_ADDR echo without DSS, or a bare subflow FIN
	}
	s0 := e.sub(ci, 0)
	ack := c.isnS.Add(1)
	if c.dataAckOK {
		ack = c.ackToS(c.dataAck)
	}
	flags := pk.flags&^(header.TCPFlagFin|header.TCPFlagSyn|header.TCPFlagRst|header.TCPFlagUrg) | header.TCPFlagAck
	if tcpFin {
		flags |= header.TCPFlagFin
	}
	// I23: rescale the window from subflow j's scale to subflow 0's.
	win := uint32(pk.win)
	if j != 0 && s.ws != s0.ws {
		win = win << s.ws >> s0.ws
		if win > 0xffff {
			win = 0xffff
		}
	}
	if c.dataAckOK && segAck.LessThan(c.dataAck) {
		// I28: the window counts from this segment's DATA_ACK (RFC 8684
		// 3.3.5), S counts it from the ack P writes, the highest
		// DATA_ACK: a segment overtaken by a later one on another
		// subflow would push S's right edge past the client's, and
		// Linux drops MPTCP data beyond its window after its subflow
		// acknowledged them (MPTcpExtNoDSSInWindow).
		if d := uint64(c.dataAck-segAck) >> s0.ws; d < uint64(win) {
			win -= uint32(d)
		} else {
			win = 0
		}
	}
	c.winC = uint16(win)
	e.ow.n = 0
	if c.sackOK && (int(pk.opts.NSACK) > 0 || c.nheld > 0) {
		n := 0
		if int(pk.opts.NSACK) > 0 {
			n = len(e.sackToServer(c, j, s))
		}
		e.ow.sack(e.blocks[:e.heldBlocks(c, n)]) // I24
	}
	// Field by field: a composite literal into the address-taken h is
	// built in a temporary and copied with wide loads that stall on its
	// narrow stores (store forwarding), a few ns per packet.
	var h hdrOut
	h.src, h.dst, h.sport, h.dport, h.seq, h.ack = &s0.caddr, &s0.raddr, s0.cport, s0.rport, seq, ack
	h.flags, h.win, h.opts = flags, uint16(win), e.ow.pad()
	if !e.rewrite(p, pk.v6, &h, pk.payOff, pk.payLen, pk.paySum) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Core
	return Forward
}

// sackToServer translates the client's SACK blocks (subflow j's SSN space
// of S->C data) into S's TCP sequence space (DESIGN 3.3).
func (e *Engine) sackToServer(c *conn, j int, s *subflow) [][2]uint32 {
	n := 0
	o := &e.pk.opts
	for i := 0; i < int(o.NSACK) && n < 3; i++ {
		l := uint32(o.SACK[i].Left - s.isnP)
		r := uint32(o.SACK[i].Right - s.isnP)
		k := e.store.ProxySACK(c.pmap, uint8(j), l, r-l, e.ranges[:])
		for x := 0; x < k && n < 3; x++ {
			d := header.DSN64(e.ranges[x].DSN)
			a := c.isnS.Add(uint32(d - c.idsnP))
			e.blocks[n] = [2]uint32{uint32(a), uint32(a.Add(e.ranges[x].Len))}
			n++
		}
	}
	return e.blocks[:n]
}

// rcvd records that the client's bytes [start, start+n) of a subflow (rel
// SSN) passed through P, for the "seen every byte below x" rule (I13).
func rcvd(s *subflow, start, n uint32) {
	end := start + n
	if header.Seq32(start).LessThanEq(header.Seq32(s.rcvNxt)) {
		if header.Seq32(s.rcvNxt).LessThan(header.Seq32(end)) {
			s.rcvNxt = end
		}
		// Absorb remembered out-of-order ranges now reached.
		for again := true; again; {
			again = false
			for i := 0; i < int(s.nooo); i++ {
				r := s.ooo[i]
				if header.Seq32(r[0]).LessThanEq(header.Seq32(s.rcvNxt)) {
					if header.Seq32(s.rcvNxt).LessThan(header.Seq32(r[1])) {
						s.rcvNxt = r[1]
					}
					s.nooo--
					s.ooo[i] = s.ooo[s.nooo]
					again = true
					break
				}
			}
		}
		return
	}
	for i := 0; i < int(s.nooo); i++ {
		r := &s.ooo[i]
		if header.Seq32(start).LessThanEq(header.Seq32(r[1])) && header.Seq32(r[0]).LessThanEq(header.Seq32(end)) {
			r[0] = uint32(header.Seq32(r[0]).Min(header.Seq32(start)))
			r[1] = uint32(header.Seq32(r[1]).Max(header.Seq32(end)))
			return
		}
	}
	if int(s.nooo) < maxOOO {
		s.ooo[s.nooo] = [2]uint32{start, end}
		s.nooo++
	}
}

// liveSubflows counts the established subflows of c other than except
// that have not finished.
func (e *Engine) liveSubflows(ci int32, c *conn, except int) int {
	n := 0
	for k := 0; k < int(c.nsub); k++ {
		s := e.sub(ci, k)
		if k != except && s.state == subEstablished && !s.finRcvd && !s.dead {
			n++
		}
	}
	return n
}

// subflowAcked processes the client's subflow-level ack of P's S->C data
// on subflow j: RTT sample, window estimate, SACK trim (DESIGN 3.5).
func (e *Engine) subflowAcked(now int64, c *conn, j int, s *subflow, ack uint32) {
	una, nxt := header.Seq32(s.sndUna), header.Seq32(s.sndNxt)
	a := header.Seq32(ack)
	e.lossSignals(s, a)
	if !una.LessThan(a) || !a.LessThanEq(nxt) {
		return
	}
	acked := uint32(a - una)
	s.sndUna = ack
	s.progress = now
	s.dead = false
	if s.rttOn && header.Seq32(s.rttSSN).LessThanEq(a) {
		e.rttSample(now, s, now-s.rttTime)
		s.rttOn = false
	}
	e.delivered(now, s, acked)
	if s.wnd < 1<<24 {
		s.wnd += acked
	}
	if c.pmap.Valid() {
		if c.holeOpen() {
			// I24: the client holds these bytes; remember their data
			// ranges for the SACK blocks to S.
			k := e.store.ProxySACK(c.pmap, uint8(j), uint32(una), acked, e.hranges[:])
			for i := 0; i < k; i++ {
				d := header.DSN64(e.hranges[i].DSN)
				c.heldAdd(d, d.Add(uint64(e.hranges[i].Len)))
			}
		}
		e.store.ProxyTrimSubflow(c.pmap, uint8(j), ack)
	}
}

// subAckValue returns the subflow-level ack (rel SSN) P may send on
// subflow j for C->S data (I13): at most what P saw contiguously and what
// S acknowledged at the data level, cumulatively or by SACK (I25); never
// below what was sent before.
func (e *Engine) subAckValue(c *conn, j int, s *subflow) uint32 {
	if s.ackSent == s.rcvNxt && !s.finRcvd {
		// Everything seen is acknowledged already: the value is bounded
		// by rcvNxt above and ackSent below, so no lookup can change it.
		return s.rcvNxt
	}
	x := s.rcvNxt
	if a, ok := e.store.ClientAcked(c.cmap, uint8(j), uint64(c.sAck)); ok {
		if c.nsacked > 0 || header.Seq32(a).LessThan(header.Seq32(s.ackSent)) {
			a = e.sackedSSN(c, j, max32(a, s.ackSent), x)
		}
		if header.Seq32(a).LessThan(header.Seq32(x)) {
			x = a
		}
	} else if x != 1 {
		x = s.ackSent
	}
	if s.finRcvd && x == s.finSSN {
		x++ // the FIN, once every byte before it is acknowledged
	}
	if header.Seq32(x).LessThan(header.Seq32(s.ackSent)) {
		x = s.ackSent
	}
	return x
}

// takeAck computes subflow j's ack for a packet going out on it, records
// it as sent and trims the client mappings below it.
func (e *Engine) takeAck(c *conn, j int, s *subflow) header.Seq32 {
	x := e.subAckValue(c, j, s)
	if s.finRcvd && !s.finSent && x == s.finSSN+1 {
		// The client's FIN is acknowledged only together with P's own
		// FIN, by genAcks (I20).
		x = s.finSSN
	}
	if x != s.ackSent {
		s.ackSent = x
		e.store.ClientTrim(c.cmap, uint8(j), uint64(c.sAck), x)
	}
	return s.isnC.Add(x)
}

// reack rewrites p into a pure ACK back to the client on subflow s with
// the current subflow ack and DATA_ACK.
func (e *Engine) reack(p *Packet, c *conn, s *subflow) Verdict {
	pk := &e.pk
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), false, 0, 0, 0, false, false, 0)
	seq, flags := s.pureSeq(header.TCPFlagAck)
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: seq,
		ack: s.isnC.Add(s.ackSent), flags: flags, win: c.winS, opts: e.ow.pad()}
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Access
	e.cnt.GeneratedAcks++
	return Forward
}

// refin rewrites p into P's FIN/ACK on subflow s again (answering a
// repeated subflow FIN, I20).
func (e *Engine) refin(p *Packet, c *conn, s *subflow) Verdict {
	pk := &e.pk
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), false, 0, 0, 0, false, false, 0)
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: s.isnP.Add(s.sndNxt - 1),
		ack: s.isnC.Add(s.finSSN + 1), flags: header.TCPFlagAck | header.TCPFlagFin, win: c.winS, opts: e.ow.pad()}
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Access
	e.cnt.GeneratedAcks++
	return Forward
}

// rstInWindow reports whether an RST off bytes past the next expected
// sequence number falls in the receive window of win (scaled by ws)
// bytes, at least 64 KB (RFC 5961 section 3.2; not the exact-match rule:
// P does not see bytes lost between C and P, so the sender's next sequence
// number may be ahead of P's). An RST outside it is dropped, closing
// nothing.
func rstInWindow(off uint32, win uint16, ws uint8) bool {
	w := uint32(win) << min(ws, 14)
	return off < max(2*w, 1<<16)
}
