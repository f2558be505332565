package translate

import (
	"github.com/flexcp/flexcp/translate/option"

	"github.com/flexcp/flexcp/translate/header"
)

// joinSyn answers a client MP_JOIN SYN itself (DESIGN 3.2; RFC 8684 3.2):
// SYN/ACK with the truncated HMAC and R_P, S's window scale and MSS, SACK
// only if subflow 0 negotiated it (I16). Rejections get an RST and leave
// no state (I17).
func (e *Engine) joinSyn(now int64, p *Packet) Verdict {
	pk := &e.pk
	o := &pk.opts
	if o.Malformed || int(o.MPJoin.Len) != optLenJoinSyn {
		return e.rejectJoin(p, JoinMalformed)
	}
	ci := e.findToken(o.MPJoin.Token)
	if ci < 0 {
		return e.rejectJoin(p, JoinUnknownToken)
	}
	c := &e.conns[ci]
	if c.state == connSynAckSent {
		// The client sent its third ACK but P has not seen it (lost):
		// without key_C P cannot answer. Dropping the SYN is safe; the
		// client retransmits it, by when its first data (MP_CAPABLE with
		// both keys) has established the connection.
		return e.drop(DropBadState)
	}
	if c.state != connEstablished || c.v6 != pk.v6 {
		return e.rejectJoin(p, JoinNotEstablished)
	}
	j := -1
	for k := 1; k < e.maxSub; k++ {
		if e.sub(ci, k).state == subFree {
			j = k
			break
		}
	}
	if j < 0 {
		return e.rejectJoin(p, JoinTooManySubflows)
	}
	if !e.takeJoinSlot(ci, j) {
		return e.rejectJoin(p, JoinTableFull)
	}
	s := e.sub(ci, j)
	s.caddr, s.raddr, s.cport, s.rport = pk.src, pk.dst, pk.sport, pk.dport
	if !e.flows.insert(e.accessHash(s), uint32(ci)<<4|uint32(j)) {
		e.putJoinSlot(ci, j)
		return e.rejectJoin(p, JoinTableFull)
	}
	if e.cfg.Subflows != nil && !e.cfg.Subflows.JoinAdded(e.flowTuple(c, s)) {
		e.flows.remove(e.accessHash(s), uint32(ci)<<4|uint32(j))
		e.putJoinSlot(ci, j)
		return e.rejectJoin(p, JoinTableFull)
	}
	c.lastSeen = now
	s.state = subJoinPending
	s.isnC = pk.seq
	s.isnP = header.Seq32(e.random32())
	s.rcvNxt, s.ackSent, s.sndNxt, s.sndUna = 1, 1, 1, 1
	s.nonceC, s.nonceP = o.MPJoin.Nonce, e.random32()
	s.backup, s.addrID = o.MPJoin.Backup, o.MPJoin.AddrID
	if e.backupPort(p.Port) {
		s.backup, s.prioSend = true, true // announced by MP_PRIO on the fourth ACK
	}
	s.sack = c.sackOK && o.Present.Has(option.SACKPermitted)
	if o.Present.Has(option.WindowScale) && c.wsOK {
		s.ws = o.WindowScale
		if s.ws > 14 {
			s.ws = 14
		}
	}
	s.port = p.Port
	s.wnd = initialWindow
	s.deadline = now + int64(e.cfg.JoinTimeout)
	if j >= int(c.nsub) {
		c.nsub = uint8(j + 1)
	}
	e.nsub++
	if !e.wheel.scheduled(ci) || s.deadline < e.wheel.deadline[ci] {
		e.wheel.schedule(ci, s.deadline)
	}
	return e.joinSynAck(p, c, s, o.Present.Has(option.WindowScale))
}

// joinSynAck rewrites the join SYN in p into P's SYN/ACK.
func (e *Engine) joinSynAck(p *Packet, c *conn, s *subflow, ws bool) Verdict {
	pk := &e.pk
	mss := c.mssS
	lim := e.cfg.AccessMTU - header.IPv4MinimumSize - header.TCPMinimumSize
	if c.v6 {
		lim = e.cfg.AccessMTU - header.IPv6MinimumSize - header.TCPMinimumSize
	}
	if int(mss) > lim {
		mss = uint16(lim)
	}
	// RFC 8684 3.2: HMAC(key_P||key_C, R_P||R_C), leftmost 64 bits.
	mac := e.hasher.JoinTruncatedHMAC(c.keyP, c.keyC, s.nonceP, s.nonceC)
	e.ow.n = 0
	e.ow.mss(mss)
	if ws && c.wsOK {
		e.ow.ws(c.wsS)
	}
	if s.sack {
		e.ow.sackPerm()
	}
	e.ow.joinSynAck(s.backup, 0, mac, s.nonceP)
	// RFC 7323 section 2.2: the window of a SYN segment is never scaled, so
	// S's (scaled) window is sent unscaled, capped at 65535.
	win := uint32(c.winS)
	if c.wsOK {
		win <<= c.wsS
	}
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: s.isnP, ack: s.isnC.Add(1),
		flags: header.TCPFlagSyn | header.TCPFlagAck, win: uint16(min(win, 0xffff)), opts: e.ow.pad()}
	if !e.rewrite(p, pk.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Access
	return Forward
}

// rejectJoin turns the packet into an RST with MP_TCPRST back to the
// client and counts the reason (I17).
func (e *Engine) rejectJoin(p *Packet, why JoinReject) Verdict {
	e.cnt.JoinsRejected[why]++
	reason := uint8(tcpRstMPTCP)
	if why == JoinTableFull || why == JoinTooManySubflows {
		reason = tcpRstResources
	}
	return e.resetSender(p, reason)
}

// resetSender rewrites the parsed client packet p into an RST with
// MP_TCPRST reason back to its sender, as a host answers a segment for
// which it has no connection (RFC 9293 3.10.7.1): its sequence number is
// the segment's ack (0 if it has none), and it acknowledges SEG.SEQ +
// SEG.LEN (SYN and FIN count one each).
func (e *Engine) resetSender(p *Packet, reason uint8) Verdict {
	pk := &e.pk
	seq, ack := header.Seq32(0), pk.seq.Add(uint32(pk.payLen))
	flags := uint8(header.TCPFlagRst | header.TCPFlagAck)
	if pk.flags&header.TCPFlagSyn != 0 {
		ack = ack.Add(1)
	}
	if pk.flags&header.TCPFlagFin != 0 {
		ack = ack.Add(1)
	}
	if pk.flags&header.TCPFlagAck != 0 {
		seq = pk.ack
	}
	e.ow.n = 0
	e.ow.tcpRst(reason)
	src, dst := pk.dst, pk.src
	h := hdrOut{src: &src, dst: &dst, sport: pk.dport, dport: pk.sport, seq: seq, ack: ack, flags: flags, opts: e.ow.pad()}
	if !e.rewrite(p, pk.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Access
	return Forward
}

// joinAck handles the third ACK of a join (RFC 8684 3.2): verify the
// client's 160-bit HMAC and answer with the fourth ACK, or reset.
func (e *Engine) joinAck(now int64, p *Packet, ci int32, c *conn, j int, s *subflow) Verdict {
	pk := &e.pk
	o := &pk.opts
	if pk.flags&header.TCPFlagSyn != 0 {
		return e.joinSynAck(p, c, s, o.Present.Has(option.WindowScale)) // retransmitted join SYN
	}
	if pk.flags&header.TCPFlagRst != 0 {
		if !rstInWindow(uint32(pk.seq-s.isnC)-1, 0, 0) {
			return e.drop(DropRSTOutOfWindow)
		}
		e.freeJoin(ci, j)
		return Consumed
	}
	if pk.flags&header.TCPFlagAck != 0 && pk.ack == s.isnP.Add(1) && !o.Present.Has(option.MPJoin) {
		// The client answered the SYN/ACK without MP_JOIN: Linux leaves
		// the option out of its third ACK once its connection has sent
		// DATA_FIN (net/mptcp/options.c, mptcp_established_options_mp:
		// "DATA_FIN and TCP shutdown take precedence"), and the subflow
		// can never be verified. Reset it as Linux's own join responder
		// does (MP_TCPRST "MPTCP-specific error"); dropping it left the
		// client retransmitting a FIN on it until the linger ended
		// (docs/translation.md, "A join that raced the close").
		e.freeJoin(ci, j)
		return e.rejectJoin(p, JoinNoJoinAck)
	}
	if pk.flags&header.TCPFlagAck == 0 || !o.Present.Has(option.MPJoin) || int(o.MPJoin.Len) != optLenJoinAck || pk.ack != s.isnP.Add(1) {
		return e.drop(DropBadState)
	}
	// RFC 8684 3.2: the client's HMAC(key_C||key_P, R_C||R_P), 160 bits.
	if !e.hasher.VerifyJoinHMAC(&o.MPJoin.HMAC, c.keyC, c.keyP, s.nonceC, s.nonceP) {
		e.freeJoin(ci, j)
		return e.rejectJoin(p, JoinBadHMAC)
	}
	s.state = subEstablished
	s.progress = now
	e.cnt.JoinsAccepted++
	e.cnt.SubflowOpened++
	return e.fourthAck(p, c, s)
}

// fourthAck rewrites p into the fourth ACK of a join (RFC 8684 3.2: the
// join is established for the client only once its third ACK is
// acknowledged), with a DATA_ACK.
func (e *Engine) fourthAck(p *Packet, c *conn, s *subflow) Verdict {
	pk := &e.pk
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), false, 0, 0, 0, false, false, 0)
	if s.prioSend {
		e.ow.mpPrio(true)
	}
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport, seq: s.isnP.Add(s.sndNxt),
		ack: s.isnC.Add(s.ackSent), flags: header.TCPFlagAck, win: c.winS, opts: e.ow.pad()}
	if !e.rewrite(p, pk.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Access
	return Forward
}

// freeJoin releases a join subflow that never became established.
func (e *Engine) freeJoin(ci int32, j int) {
	s := e.sub(ci, j)
	e.flows.remove(e.accessHash(s), uint32(ci)<<4|uint32(j))
	e.joinGone(&e.conns[ci], s)
	e.putJoinSlot(ci, j)
	e.nsub--
}

// flowTuple returns join subflow s's 4-tuple for the SubflowObserver.
func (e *Engine) flowTuple(c *conn, s *subflow) FlowTuple {
	return FlowTuple{Client: s.caddr, Server: s.raddr, ClientPort: s.cport, ServerPort: s.rport, V6: c.v6}
}

// joinGone tells the SubflowObserver that join subflow s loses its state.
func (e *Engine) joinGone(c *conn, s *subflow) {
	if e.cfg.Subflows != nil {
		e.cfg.Subflows.JoinRemoved(e.flowTuple(c, s))
	}
}
