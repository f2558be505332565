package translate

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/dtree"
	"github.com/flexcp/flexcp/translate/header"
)

// fromServer dispatches a packet of a known connection from the core side.
func (e *Engine) fromServer(now int64, p *Packet, ci int32, c *conn) Verdict {
	pk := &e.pk
	if pk.opts.Malformed {
		return e.drop(DropMalformed)
	}
	syn := pk.flags&header.TCPFlagSyn != 0
	if pk.flags&header.TCPFlagRst != 0 {
		if c.state != connEstablished && c.state != connClosed {
			e.release(ci)
			return Pass
		}
		ack := c.isnS.Add(1)
		if c.dataAckOK {
			ack = c.ackToS(c.dataAck)
		}
		var ws uint8
		if c.wsOK {
			ws = e.sub(ci, 0).ws
		}
		if c.state == connEstablished && !rstInWindow(uint32(pk.seq-ack), c.winC, ws) {
			return e.drop(DropRSTOutOfWindow)
		}
		return e.serverRst(now, p, ci, c)
	}
	switch c.state {
	case connSynSent:
		if syn && pk.flags&header.TCPFlagAck != 0 {
			return e.serverSynAck(now, p, ci, c)
		}
		return e.drop(DropBadState)
	case connSynAckSent:
		if syn {
			return e.serverSynAck(now, p, ci, c) // retransmitted SYN/ACK: same key
		}
		return e.drop(DropBadState)
	}
	if c.rstClosed {
		return e.closedReset(now, ci, c) // I32
	}
	if syn {
		if e.sub(ci, 0).state == subEstablished && pk.flags&header.TCPFlagAck != 0 {
			return e.serverSynAck(now, p, ci, c)
		}
		return e.drop(DropBadState)
	}
	return e.s2c(now, p, ci, c)
}

// s2c translates a segment from S onto the client's subflows (DESIGN 3.4).
func (e *Engine) s2c(now int64, p *Packet, ci int32, c *conn) Verdict {
	pk := &e.pk
	c.winS = pk.win
	if pk.flags&header.TCPFlagAck != 0 {
		// I4: S's ack, as a DSN of the C->S stream.
		ad := c.dataAckToC(pk.ack)
		limit := c.c2sNxt
		if c.sAck.LessThan(ad) && ad.LessThanEq(limit) {
			c.sAck = ad
		}
		if c.nsacked > 0 || pk.opts.NSACK > 0 {
			e.sackedNote(ci, c) // I25
		}
	}
	fin := pk.flags&header.TCPFlagFin != 0
	L := uint32(pk.payLen)
	dsn := c.s2cDSN(pk.seq)
	if L == 0 && !fin {
		if dsn.Add(1) == c.s2cNxt && dsn.LessThan(c.dataAck) {
			// A keepalive (RFC 9293 3.8.4: one below SND.NXT): the
			// client has acknowledged everything, so P answers for it.
			return e.ackForClient(p, ci, c)
		}
		return e.s2cPureAck(now, p, ci, c)
	}
	if fin {
		fd := dsn.Add(uint64(L))
		if !c.s2cFin {
			c.s2cFin, c.s2cFinDSN = true, fd
			e.cnt.DataFinS2C++
		}
	}
	// Bytes the client already acknowledged at the data level (S missed
	// the DATA_ACK) are not sent again: a copy on new SSNs that got lost
	// would leave a hole in that subflow nobody fills. P answers S with
	// the client's DATA_ACK instead, or trims the acknowledged prefix.
	if dsn.LessThan(c.dataAck) {
		skip := uint32(min(uint64(c.dataAck-dsn), uint64(L)))
		if skip == L && (!fin || c.s2cFinDSN.LessThan(c.dataAck)) {
			return e.ackForClient(p, ci, c)
		}
		if skip > 0 {
			if !e.payloadIntact(p) {
				return e.drop(DropMalformed) // I9: never launder a bad checksum
			}
			pk.payOff += int(skip)
			pk.payLen -= int(skip)
			pk.paySum = header.OnesSum(p.Buf[pk.payOff:pk.payOff+pk.payLen], 0)
			dsn = dsn.Add(uint64(skip))
			L -= skip
		}
	}
	var v Verdict
	if L == 0 {
		v = e.s2cDataFin(now, p, ci, c)
	} else {
		v = e.s2cData(now, p, ci, c, dsn, L)
	}
	e.genAcks(now, ci, c, -1)
	e.checkDone(now, ci, c)
	return v
}

// noCarrier drops an S->C segment that no subflow of c can carry: as
// DropClosed when the connection is closed (the client reset or
// fast-closed it, or every subflow finished), where nothing needs it,
// else as DropNoSubflow.
func (e *Engine) noCarrier(c *conn) Verdict {
	if c.state == connClosed {
		return e.drop(DropClosed)
	}
	return e.drop(DropNoSubflow)
}

// schedInfo fills e.info for c's subflows and returns it.
func (e *Engine) schedInfo(now int64, ci int32, c *conn) []SubflowInfo {
	n := int(c.nsub)
	for k := 0; k < n; k++ {
		s := e.sub(ci, k)
		in := &e.info[k] // field by field: a literal goes via a temporary (see c2s)
		in.Live = s.state == subEstablished && !s.finRcvd && !e.isDead(now, s)
		in.Backup = s.backup
		in.SRTT = s.srtt
		in.MinRTT = int64(s.minRTT) * 1e3
		in.InFlight = s.sndNxt - s.sndUna
		in.Window = schedWindow(s)
		in.Port = s.port
		in.Rate = s.rate
		in.Stale = false
		if in.Live {
			in.Stale = e.isStale(now, s)
		}
	}
	return e.info[:n]
}

// payloadIntact reports whether the payload of p matches the sum its TCP
// checksum implies (pk.paySum), i.e. whether the input checksum was
// valid. Used only where P sums the payload anyway.
func (e *Engine) payloadIntact(p *Packet) bool {
	pk := &e.pk
	sum := header.OnesSum(p.Buf[pk.payOff:pk.payOff+pk.payLen], 0)
	// 0x0000 and 0xffff are both one's-complement zero.
	return sum == pk.paySum || sum == 0 && pk.paySum == 0xffff || sum == 0xffff && pk.paySum == 0
}

// isDead reports whether s is dead, declaring it so when it has had data
// outstanding without subflow-ack progress for Config.DeadAfter (DESIGN
// 3.5). An ack revives it (subflowAcked).
func (e *Engine) isDead(now int64, s *subflow) bool {
	if !s.dead && s.sndNxt != s.sndUna && now-s.progress > int64(e.cfg.DeadAfter) {
		s.dead = true
		if pp := e.portPath(s.port); pp != nil {
			pp.Dead++
		}
	}
	return s.dead
}

// anyEstablished returns the established subflow of c that has not
// finished with the fewest bytes in flight, or -1: the carrier of S->C
// data when every subflow is dead (I26).
func (e *Engine) anyEstablished(ci int32, c *conn) int {
	best := -1
	var inflight uint32
	for k := 0; k < int(c.nsub); k++ {
		s := e.sub(ci, k)
		if s.state != subEstablished || s.finRcvd {
			continue
		}
		if f := s.sndNxt - s.sndUna; best < 0 || f < inflight {
			best, inflight = k, f
		}
	}
	return best
}

// windowRoom is the Scheduler's room: the bytes the client's receive
// window (its last, relative to the highest DATA_ACK, I28) still takes
// beyond the highest S->C byte sent, capped at S's bytes in flight
// (DATA_ACK to that byte): S's congestion window is at least that, and
// P sees no more of it. 0 before DATA_ACKs flow.
func (e *Engine) windowRoom(ci int32, c *conn) uint64 {
	if !c.dataAckOK {
		return 0
	}
	win := uint64(c.winC)
	if c.wsOK {
		win <<= e.sub(ci, 0).ws
	}
	if edge := c.dataAck.Add(win); c.s2cNxt.LessThan(edge) {
		return min(c.s2cNxt.Size(edge), c.dataAck.Size(c.s2cNxt))
	}
	return 0
}

// pick runs the scheduler, or returns -1 when no subflow is live.
func (e *Engine) pick(now int64, ci int32, c *conn) int {
	j := pickFrom(e.scheds[c.sched], e.schedInfo(now, ci, c), int(c.rrLast), e.windowRoom(ci, c))
	if j >= 0 {
		c.rrLast = int8(j)
	}
	return j
}

// s2cData sends payload bytes [dsn, dsn+L) of S's segment: new data on a
// scheduled subflow with a fresh mapping (I11), retransmitted data on its
// original mappings, split when it spans several (I12).
func (e *Engine) s2cData(now int64, p *Packet, ci int32, c *conn, dsn header.DSN64, L uint32) Verdict {
	pieces := e.pieces[:1]
	if !dsn.LessThan(c.s2cNxt) {
		if c.s2cNxt.LessThan(dsn) && c.dataAckOK {
			c.noteHole(dsn) // S's bytes [s2cNxt, dsn) never reached P (I24)
		}
		pieces[0] = dtree.Piece{DSN: uint64(dsn), Len: L, Sub: dtree.NoSubflow}
	} else {
		n := e.store.ProxyPieces(c.pmap, uint64(dsn), L, e.pieces[:])
		covered := uint32(0)
		for i := 0; i < n; i++ {
			covered += e.pieces[i].Len
		}
		if covered < L && n < len(e.pieces) {
			e.pieces[n] = dtree.Piece{DSN: uint64(dsn) + uint64(covered), Len: L - covered, Sub: dtree.NoSubflow}
			n++
		} else if covered < L {
			e.pieces[n-1].Len += L - covered // cannot happen with Len bounded by MSS; keep going
		}
		pieces = e.pieces[:n]
	}
	// Resolve gaps and dead subflows into new mappings. A piece of a dead
	// subflow is also resent on its original mapping (I26): as Linux
	// retransmits on a stale subflow while reinjecting its data, so the
	// hole the lost piece left in that subflow fills if its path works
	// again; with no live subflow, the original mapping alone carries it.
	var fills [len(e.pieces)]dtree.Piece
	var fillSum [len(e.pieces)]uint16
	nfill := 0
	for i := range pieces {
		pc := &pieces[i]
		if pc.Sub != dtree.NoSubflow {
			s := e.sub(ci, int(pc.Sub))
			usable := s.state == subEstablished
			if usable && header.DSN64(pc.DSN) == c.dataAck && header.Seq32(pc.SSN+pc.Len).LessThanEq(header.Seq32(s.sndUna)) {
				// I27: the client acknowledged these bytes on the subflow
				// but its DATA_ACK stops at them, and S sends them again.
				// Once, the original mapping goes (the DATA_ACK may just
				// have been lost); if S sends the same bytes a second
				// time, the client's MPTCP level lost them after its
				// subflow took them (Linux drops data beyond its MPTCP
				// window: MPTcpExtNoDSSInWindow), the subflow would
				// discard the original mapping as a duplicate, and a new
				// mapping is the only way to deliver them.
				if c.lostArmed && c.lostDSN == c.dataAck {
					usable, c.lostArmed = false, false
				} else {
					c.lostArmed, c.lostDSN = true, c.dataAck
				}
			}
			if usable && c.csum && !(pc.DSN == pc.MapDSN && pc.Len == pc.MapLen) {
				// Part of a mapping on a checksum connection: its DSS
				// needs the whole mapping's sum (RFC 8684 3.3.1). Without
				// it, the piece goes out as a new mapping instead.
				if sum, ok := e.csumGet(c, pc.MapDSN, pc.MapLen); ok {
					e.psum[i] = sum
				} else {
					usable = false
					e.cnt.ChecksumMisses++
				}
			}
			if usable && (e.isDead(now, s) || e.reinjectStale(now, ci, c, int(pc.Sub), s)) {
				if pickFrom(e.scheds[c.sched], e.schedInfo(now, ci, c), int(c.rrLast), 0) < 0 {
					e.cnt.Retransmits++ // no live subflow: the original mapping alone
					continue
				}
				fills[nfill], fillSum[nfill] = *pc, e.psum[i]
				nfill++
				usable = false
			}
			if usable {
				e.cnt.Retransmits++
				if s.rttOn && header.Seq32(s.rttSSN).InWindow(header.Seq32(pc.SSN), pc.Len+1) {
					s.rttOn = false // Karn
				}
				if s.wnd > 2*initialWindow/10 {
					s.wnd /= 2
				}
				continue
			}
		}
		j := e.pick(now, ci, c)
		if j < 0 {
			// No live subflow: a dead one that is still established
			// takes the data rather than S's next RTO (I26).
			if j = e.anyEstablished(ci, c); j < 0 {
				return e.noCarrier(c)
			}
		}
		s := e.sub(ci, j)
		d := header.DSN64(pc.DSN)
		if d.LessThan(c.s2cNxt) {
			e.cnt.Reinjections++
		}
		if s.sndUna == s.sndNxt {
			s.progress = now
			busy(now, s)
			e.armStale(ci, now+int64(e.cfg.StaleAfter)+1) // I30
		}
		ssn := s.sndNxt
		// A mapping P could not record could not be resent on the same
		// SSNs: never send it (S retransmits it later).
		switch e.store.ProxyInsert(c.pmap, pc.DSN, uint8(j), ssn, pc.Len) {
		case dtree.Inserted, dtree.Duplicate:
		case dtree.Full:
			return e.drop(DropMapFull)
		case dtree.Old:
			return e.drop(DropStale)
		default:
			return e.drop(DropBadState)
		}
		s.sndNxt += pc.Len
		if !s.rttOn {
			s.rttOn, s.rttSSN, s.rttTime = true, ssn+pc.Len, now
		}
		// The piece becomes its own mapping (field by field: a literal
		// through pc goes via a temporary, see c2s).
		pc.MapDSN, pc.SSN, pc.MapSSN, pc.MapLen, pc.Sub = pc.DSN, ssn, ssn, pc.Len, uint8(j)
		if end := d.Add(uint64(pc.Len)); c.s2cNxt.LessThan(end) {
			c.s2cNxt = end
		}
	}
	// DSS checksums (RFC 8684 3.3.1) cover a whole mapping: a piece that
	// is the whole mapping is summed (or its sum recovered from the TCP
	// checksum) and remembered; a part of a mapping took the remembered
	// sum above.
	if c.csum {
		base := uint64(dsn)
		for i := range pieces {
			pc := &pieces[i]
			if pc.DSN == pc.MapDSN && pc.Len == pc.MapLen {
				sum := e.pk.paySum
				if len(pieces) > 1 {
					off := e.pk.payOff + int(pc.DSN-base)
					sum = header.OnesSum(p.Buf[off:off+int(pc.Len)], 0)
				}
				e.psum[i] = sum
				e.csumPut(ci, c, pc.MapDSN, pc.MapLen, sum)
			}
		}
	}
	if len(pieces) > 1 {
		// The pieces get checksums computed over their payload: check
		// the input's first, so a corrupted segment is not laundered (I9).
		if !e.payloadIntact(p) {
			return e.drop(DropMalformed)
		}
		e.cnt.SplitRetransmits++
	}
	// Pieces after the first leave as copies (the only payload copy,
	// DESIGN 3.6); the first is rewritten in place.
	base := uint64(dsn)
	for i := 1; i < len(pieces); i++ {
		pc := &pieces[i]
		q := e.newPacket()
		if q == nil {
			break // S retransmits the rest
		}
		off := e.pk.payOff + int(pc.DSN-base)
		payload := p.Buf[off : off+int(pc.Len)]
		if !e.s2cSegment(q, ci, c, pc, payload, header.OnesSum(payload, 0), e.psum[i], true) {
			e.emitted = e.emitted[:len(e.emitted)-1]
			e.cnt.Drops[DropOptionSpace]++
		}
	}
	if nfill > 0 && e.payloadIntact(p) { // I9: copies are summed afresh
		for i := 0; i < nfill; i++ {
			pc := &fills[i]
			if c.csum && pc.DSN == pc.MapDSN && pc.Len == pc.MapLen {
				off := e.pk.payOff + int(pc.DSN-base)
				fillSum[i] = header.OnesSum(p.Buf[off:off+int(pc.Len)], 0)
			}
			q := e.newPacket()
			if q == nil {
				break
			}
			off := e.pk.payOff + int(pc.DSN-base)
			payload := p.Buf[off : off+int(pc.Len)]
			if !e.s2cSegment(q, ci, c, pc, payload, header.OnesSum(payload, 0), fillSum[i], true) {
				e.emitted = e.emitted[:len(e.emitted)-1]
				e.cnt.Drops[DropOptionSpace]++
				continue
			}
			e.cnt.Retransmits++
		}
	}
	pc := &pieces[0]
	pk := &e.pk
	sum := pk.paySum
	if pc.Len != L {
		sum = header.OnesSum(p.Buf[pk.payOff:pk.payOff+int(pc.Len)], 0)
	}
	if !e.s2cSegment(p, ci, c, pc, p.Buf[pk.payOff:pk.payOff+int(pc.Len)], sum, e.psum[0], false) {
		return e.drop(DropNoHeadroom)
	}
	return Forward
}

// s2cSegment writes one S->C data piece into q (in place when !fresh):
// subflow pc.Sub's 4-tuple, SSN, ack, and a DSS with the DATA_ACK and the
// piece's wire mapping (I12), with the DSS checksum when negotiated
// (mapSum is the one's-complement sum of the whole mapping's payload).
func (e *Engine) s2cSegment(q *Packet, ci int32, c *conn, pc *dtree.Piece, payload []byte, paySum, mapSum uint16, fresh bool) bool {
	pk := &e.pk
	j := int(pc.Sub)
	s := e.sub(ci, j)
	mapLen := pc.MapLen
	finHere := c.s2cFin && header.DSN64(pc.MapDSN).Add(uint64(pc.MapLen)) == c.s2cFinDSN
	if finHere {
		mapLen++ // RFC 8684 3.3.3: the DATA_FIN counts in the data-level length
	}
	var csum uint16
	if c.csum {
		csum = dssChecksum(pc.MapDSN, pc.MapSSN, uint16(mapLen), mapSum)
	}
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), true, pc.MapDSN, pc.MapSSN, uint16(mapLen), finHere, c.csum, csum)
	if s.prio0 {
		e.prio0(s)
	}
	if s.sack && int(pk.opts.NSACK) > 0 {
		e.addServerSACK(c, j, s)
	}
	flags := pk.flags&^(header.TCPFlagFin|header.TCPFlagSyn|header.TCPFlagRst|header.TCPFlagUrg) | header.TCPFlagAck
	var h hdrOut // field by field, as in c2s
	h.src, h.dst, h.sport, h.dport = &s.raddr, &s.caddr, s.rport, s.cport
	h.seq, h.ack, h.flags, h.win, h.opts = s.isnP.Add(pc.SSN), e.takeAck(c, j, s), flags, pk.win, e.ow.pad()
	q.Side, q.Port = Access, s.port
	if fresh {
		e.build(q, c.v6, &h, payload)
	} else if !e.rewrite(q, c.v6, &h, pk.payOff, len(payload), paySum) {
		return false
	}
	// Every data segment P sends the client counts, on the port it leaves
	// by: the pieces of a split retransmission and the fills of a dead
	// subflow's ranges too, so the counters match what the client receives.
	e.cnt.SegmentsS2C++
	e.cnt.BytesS2C += uint64(len(payload))
	e.cnt.countPort(1, s.port, uint64(len(payload)))
	return true
}

// dssChecksum is the DSS checksum (RFC 8684 3.3.1, Figure 10): the
// one's-complement sum of a pseudo-header (DSN 64 bits, SSN 32 bits,
// data-level length, zero) and the mapping's payload. When a mapping
// carries only a DATA_FIN its payload sum is zero.
func dssChecksum(dsn uint64, ssn uint32, dlen uint16, paySum uint16) uint16 {
	var ph [16]byte
	binary.BigEndian.PutUint64(ph[0:], dsn)
	binary.BigEndian.PutUint32(ph[8:], ssn)
	binary.BigEndian.PutUint16(ph[12:], dlen)
	return ^header.OnesSum(ph[:], paySum)
}

// addServerSACK appends S's SACK blocks (C->S data, TCP space) translated
// into subflow j's SSN space, as many as fit (I10: SACK goes first).
func (e *Engine) addServerSACK(c *conn, j int, s *subflow) {
	o := &e.pk.opts
	n := 0
	for i := 0; i < int(o.NSACK); i++ {
		if e.ow.room() < 4+8*(n+1) {
			break
		}
		l := c.c2sDSN(o.SACK[i].Left)
		r := c.c2sDSN(o.SACK[i].Right)
		// Find the SSNs of subflow j that carry [l, r): only the start is
		// looked up, through the client mapping covering it.
		a, ok := e.ssnOf(c, j, s, l)
		if !ok {
			continue
		}
		e.blocks[n] = [2]uint32{uint32(s.isnC.Add(a)), uint32(s.isnC.Add(a + uint32(r-l)))}
		n++
	}
	e.ow.sack(e.blocks[:n])
}

// ssnOf returns the SSN on subflow j of client data byte d, if the
// mapping of j that starts the subflow's unacked data covers it. It is a
// best effort for SACK translation.
func (e *Engine) ssnOf(c *conn, j int, s *subflow, d header.DSN64) (uint32, bool) {
	a, ok := e.store.ClientAcked(c.cmap, uint8(j), uint64(c.sAck))
	if !ok {
		return 0, false
	}
	base, covered, ok := e.store.ClientLookup(c.cmap, uint8(j), a, 1<<16)
	if !ok || covered == 0 {
		return 0, false
	}
	off := uint64(d) - base
	if off >= uint64(covered) {
		return 0, false
	}
	return a + uint32(off), true
}

// s2cDataFin sends S's bare FIN as a DATA_FIN (RFC 8684 3.3.3: SSN 0,
// data-level length 1) on a live subflow; the TCP FIN itself never
// reaches the client (I19).
func (e *Engine) s2cDataFin(now int64, p *Packet, ci int32, c *conn) Verdict {
	j := e.pick(now, ci, c)
	if j < 0 {
		j = int(c.lastRx)
		if e.sub(ci, j).state != subEstablished {
			return e.noCarrier(c)
		}
	}
	s := e.sub(ci, j)
	pk := &e.pk
	var csum uint16
	if c.csum {
		csum = dssChecksum(uint64(c.s2cFinDSN), 0, 1, 0)
	}
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), true, uint64(c.s2cFinDSN), 0, 1, true, c.csum, csum)
	seq, flags := s.pureSeq(header.TCPFlagAck)
	h := hdrOut{src: &s.raddr, dst: &s.caddr, sport: s.rport, dport: s.cport,
		seq: seq, ack: e.takeAck(c, j, s), flags: flags, win: pk.win, opts: e.ow.pad()}
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side, p.Port = Access, s.port
	return Forward
}

// s2cPureAck sends a pure ACK, dup-ACK or window update from S on the
// subflow owning the first C->S byte S has not acknowledged (I15), then
// generated ACKs on the subflows whose ack advanced (I14).
func (e *Engine) s2cPureAck(now int64, p *Packet, ci int32, c *conn) Verdict {
	j := e.ackOwner(ci, c)
	if j < 0 {
		return e.noCarrier(c)
	}
	s := e.sub(ci, j)
	pk := &e.pk
	e.ow.n = 0
	e.ow.dss(uint64(c.sAck), false, 0, 0, 0, false, false, 0)
	if s.prio0 {
		e.prio0(s)
	}
	if s.sack && int(pk.opts.NSACK) > 0 {
		e.addServerSACK(c, j, s)
	}
	flags := pk.flags&^(header.TCPFlagFin|header.TCPFlagSyn|header.TCPFlagRst|header.TCPFlagUrg|header.TCPFlagPsh) | header.TCPFlagAck
	seq, flags := s.pureSeq(flags)
	var h hdrOut // field by field, as in c2s
	h.src, h.dst, h.sport, h.dport = &s.raddr, &s.caddr, s.rport, s.cport
	h.seq, h.ack, h.flags, h.win, h.opts = seq, e.takeAck(c, j, s), flags, pk.win, e.ow.pad()
	if !e.rewrite(p, c.v6, &h, pk.payOff, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side, p.Port = Access, s.port
	e.genAcks(now, ci, c, j)
	e.checkDone(now, ci, c)
	return Forward
}

// ackOwner returns the subflow whose first unacknowledged client byte is
// the first C->S byte S has not acknowledged (I15), else the subflow that
// last carried client data, else any established one; -1 if none.
func (e *Engine) ackOwner(ci int32, c *conn) int {
	for k := 0; k < int(c.nsub); k++ {
		s := e.sub(ci, k)
		if s.state != subEstablished {
			continue
		}
		a, ok := e.store.ClientAcked(c.cmap, uint8(k), uint64(c.sAck))
		if !ok {
			continue
		}
		if d, _, ok := e.store.ClientLookup(c.cmap, uint8(k), a, 1); ok && header.DSN64(d) == c.sAck {
			return k
		}
	}
	if s := e.sub(ci, int(c.lastRx)); s.state == subEstablished {
		return int(c.lastRx)
	}
	for k := 0; k < int(c.nsub); k++ {
		if e.sub(ci, k).state == subEstablished {
			return k
		}
	}
	return -1
}

// genAcks sends a generated pure ACK (with DATA_ACK, and FIN when it
// answers the client's subflow FIN) on every established subflow other
// than except whose subflow ack advanced (I14, I20).
func (e *Engine) genAcks(now int64, ci int32, c *conn, except int) {
	for k := 0; k < int(c.nsub); k++ {
		s := e.sub(ci, k)
		if s.state != subEstablished || k == except && !(s.finRcvd && !s.finSent) {
			continue
		}
		if s.ackSent == s.rcvNxt && !s.finRcvd {
			continue // subAckValue's fast path: the ack cannot move
		}
		x := e.subAckValue(c, k, s)
		answerFin := s.finRcvd && !s.finSent && x == s.finSSN+1
		if x == s.ackSent && !answerFin {
			continue
		}
		q := e.newPacket()
		if q == nil {
			return
		}
		if answerFin {
			s.finSent = true
			s.sndNxt++
		}
		seq, flags := s.pureSeq(header.TCPFlagAck)
		e.ow.n = 0
		e.ow.dss(uint64(c.sAck), false, 0, 0, 0, false, false, 0)
		var h hdrOut // field by field, as in c2s
		h.src, h.dst, h.sport, h.dport = &s.raddr, &s.caddr, s.rport, s.cport
		h.seq, h.ack, h.flags, h.win, h.opts = seq, e.takeAck(c, k, s), flags, c.winS, e.ow.pad()
		q.Side, q.Port = Access, s.port
		e.build(q, c.v6, &h, nil)
		e.cnt.GeneratedAcks++
	}
}

// ackForClient rewrites S's retransmission of data the client already
// acknowledged into a pure ACK to S carrying the client's DATA_ACK (I3).
func (e *Engine) ackForClient(p *Packet, ci int32, c *conn) Verdict {
	pk := &e.pk
	s0 := e.sub(ci, 0)
	e.ow.n = 0
	if c.sackOK {
		e.ow.sack(e.blocks[:e.heldBlocks(c, 0)]) // I24
	}
	h := hdrOut{src: &s0.caddr, dst: &s0.raddr, sport: s0.cport, dport: s0.rport, seq: c.c2sSeq(c.c2sNxt),
		ack: c.ackToS(c.dataAck), flags: header.TCPFlagAck, win: c.winC, opts: e.ow.pad()}
	if !e.rewrite(p, c.v6, &h, pk.payOff+pk.payLen, 0, 0) {
		return e.drop(DropNoHeadroom)
	}
	p.Side = Core
	e.cnt.AcksForClient++
	return Forward
}

// csumSlot remembers the payload sum of one S->C mapping of a connection
// with DSS checksums, so a retransmission of part of it can carry the
// mapping's checksum (RFC 8684 3.3.1 covers the whole mapping).
type csumSlot struct {
	dsn uint64 // the mapping's first DSN (absolute: includes IDSN_P)
	ci  int32  // connection slot
	tag uint32 // the connection's token_P; 0 marks a free slot
	sum uint16
	n   uint16 // mapping length
}

// csumWays is the associativity of the checksum cache: a set holds this
// many mappings; a new one replaces, in order of preference, a free slot,
// a slot of a released connection or of a mapping the client has
// acknowledged, then the slot its DSN picks (counted in
// ChecksumEvictions).
const csumWays = 8

func (e *Engine) csumSet(dsn uint64) []csumSlot {
	i := (uint32(mix64(dsn^e.seed)) & e.csumMask) &^ (csumWays - 1)
	return e.csums[i : i+csumWays]
}

// csumStale reports whether a slot may be reused.
func (e *Engine) csumStale(sl *csumSlot) bool {
	if sl.tag == 0 {
		return true
	}
	c := &e.conns[sl.ci]
	return c.state == connFree || c.tokenP != sl.tag ||
		header.DSN64(sl.dsn).Add(uint64(sl.n)).LessThanEq(c.dataAck)
}

// csumPut remembers the sum of the mapping (dsn, n). A slot is a mapping,
// not a DSN: a reinjection's new mapping can start at the DSN of the
// mapping it repeats with another length, and must not replace its sum
// (a piece of the original then went out with the new mapping's sum:
// TestSimulationDeadSubflows, checksum seeds).
func (e *Engine) csumPut(ci int32, c *conn, dsn uint64, n uint32, sum uint16) {
	set := e.csumSet(dsn)
	victim := -1
	for i := range set {
		if set[i].tag == c.tokenP && set[i].dsn == dsn && uint32(set[i].n) == n {
			victim = i
			break
		}
		if victim < 0 && e.csumStale(&set[i]) {
			victim = i
		}
	}
	if victim < 0 {
		e.cnt.ChecksumEvictions++
		victim = int(dsn>>3) & (csumWays - 1)
	}
	set[victim] = csumSlot{dsn: dsn, ci: ci, tag: c.tokenP, sum: sum, n: uint16(n)}
}

// csumGet returns the remembered sum of the mapping (dsn, n).
func (e *Engine) csumGet(c *conn, dsn uint64, n uint32) (uint16, bool) {
	set := e.csumSet(dsn)
	for i := range set {
		if set[i].tag == c.tokenP && set[i].dsn == dsn && uint32(set[i].n) == n {
			return set[i].sum, true
		}
	}
	return 0, false
}
