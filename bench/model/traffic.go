package model

import (
	"fmt"
	"time"

	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/mpcrypto"
	"github.com/flexcp/flexcp/translate/option"
)

const (
	wscale    = 7
	tickEvery = int64(time.Millisecond)
)

// lookup maps a client address and port to a connection and subflow.
func (m *Model) lookup(a [4]byte, port uint16) (ci, j int, ok bool) {
	if a[0] != 198 || a[1] != 18 || a[3] != 2 || port < portBase || port >= portBase+portSpan {
		return 0, 0, false
	}
	j = int(a[2]) / 32
	ci = (int(a[2])%32)*portSpan + int(port-portBase)
	if ci >= len(m.conns) || j >= m.cfg.Subflows {
		return 0, 0, false
	}
	return ci, j, true
}

// ---- handshake ----

// Open starts the handshakes of connections [first, first+n): fresh keys,
// ISNs and nonces, and an MP_CAPABLE SYN on subflow 0 of each.
func (m *Model) Open(first, n int) {
	for ci := first; ci < first+n; ci++ {
		c := &m.conns[ci]
		if c.cState == 3 {
			m.ready--
		}
		*c = conn{cSize: uint16(ci % len(m.sizes)), sSize: uint16((ci + 1) % len(m.sizes))}
		c.keyC = m.rng.Uint64()
		_, c.idsnC = mpcrypto.KeyHash(c.keyC)
		for j := 0; j < m.cfg.Subflows; j++ {
			s := &c.sub[j]
			s.isn, s.nonce, s.addrID = m.rng.Uint32(), m.rng.Uint32(), uint8(j)
		}
		c.isnS = m.rng.Uint32()
		m.sendSyn(ci)
	}
}

func (m *Model) sendSyn(ci int) {
	c := &m.conns[ci]
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	o := p.Buf[p.Off+optOff:]
	k := option.PutMSS(o, m.clientMSS())
	k += option.PutSACKPermitted(o[k:])
	k += option.PutNOP(o[k:])
	k += option.PutWindowScale(o[k:], wscale)
	mc := option.MPCapableOpt{Len: option.OptLenMPCSyn, Version: option.MPTCPVersion1, Flags: option.MPCapHMACSHA256}
	k += mc.Put(o[k:])
	src, sport := clientAddr(ci, 0)
	m.seal(&p, translate.Access, src, srvAddr, sport, srvPort, c.sub[0].isn, 0, header.TCPFlagSyn, k, 0, 0)
	c.cState, c.sub[0].state = 1, subSynSent
}

// serverSyn answers the SYN the engine forwarded: it must carry no MPTCP
// option and no timestamp, and an MSS clamped for the DSS (I5, I8).
func (m *Model) serverSyn(ci int, t header.TCP) {
	c := &m.conns[ci]
	m.opts.Parse(t.Options(), t.Flags(), false)
	if m.opts.Present.Has(option.MPCapable) || m.opts.Present.Has(option.Timestamps) ||
		!m.opts.Present.Has(option.MSS) || m.opts.MSS != m.serverMSS() {
		m.fail(ErrHandshake, ci, uint64(m.opts.MSS), uint64(m.opts.Present))
		return
	}
	c.isnC, c.sState = uint32(t.Seq()), 1
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	o := p.Buf[p.Off+optOff:]
	k := option.PutMSS(o, m.clientMSS())
	k += option.PutSACKPermitted(o[k:])
	k += option.PutNOP(o[k:])
	k += option.PutWindowScale(o[k:], wscale)
	dst, dport := clientAddr(ci, 0)
	m.seal(&p, translate.Core, srvAddr, dst, srvPort, dport, c.isnS, c.isnC+1, header.TCPFlagSyn|header.TCPFlagAck, k, 0, 0)
}

// clientSynAck reads key_P from the engine's SYN/ACK, sends the third ACK
// with both keys, then one MP_JOIN SYN per further subflow.
func (m *Model) clientSynAck(ci int, t header.TCP) {
	c := &m.conns[ci]
	s := &c.sub[0]
	if s.state != subSynSent {
		m.fail(ErrHandshake, ci, uint64(s.state), 1)
		return
	}
	m.opts.Parse(t.Options(), t.Flags(), false)
	mc := &m.opts.MPCapable
	if !m.opts.Present.Has(option.MPCapable) || mc.Len != option.OptLenMPCSynAck || mc.Flags&option.MPCapHMACSHA256 == 0 ||
		m.opts.Present.Has(option.Timestamps) || uint32(t.Ack()) != s.isn+1 {
		m.fail(ErrHandshake, ci, uint64(m.opts.Present), 2)
		return
	}
	c.keyP = mc.SenderKey
	c.tokenP, c.idsnP = mpcrypto.KeyHash(c.keyP)
	flags := mc.Flags
	s.peerISN, s.rcvNxt, s.ackedRcv, s.sndNxt, s.state = uint32(t.Seq()), 1, 1, 1, subEstablished
	c.nEst = 1
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	ack := option.MPCapableOpt{Len: option.OptLenMPCAck, Version: option.MPTCPVersion1, Flags: flags,
		SenderKey: c.keyC, ReceiverKey: c.keyP}
	k := ack.Put(p.Buf[p.Off+optOff:])
	src, sport := clientAddr(ci, 0)
	m.seal(&p, translate.Access, src, srvAddr, sport, srvPort, s.isn+1, s.peerISN+1, header.TCPFlagAck, k, 0, 0)
	c.cState = 2
	if m.eng == nil && m.xlat && m.cfg.Subflows > 1 {
		// External: the third ACK and the joins enter the proxy on
		// different ports; SendJoins sends the joins once the caller has
		// carried the third ACK through (the model does not retransmit a
		// join SYN that overtook it).
		m.pendJoins = append(m.pendJoins, int32(ci))
	} else {
		for j := 1; j < m.cfg.Subflows; j++ {
			m.sendJoinSyn(ci, j)
		}
	}
	m.checkReady(ci)
}

func (m *Model) sendJoinSyn(ci, j int) {
	c := &m.conns[ci]
	s := &c.sub[j]
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	o := p.Buf[p.Off+optOff:]
	k := option.PutMSS(o, m.clientMSS())
	k += option.PutNOP(o[k:])
	k += option.PutWindowScale(o[k:], wscale)
	k += option.PutSACKPermitted(o[k:])
	k += option.PutNOP(o[k:])
	k += option.PutNOP(o[k:])
	jo := option.MPJoinOpt{Len: option.OptLenMPJSyn, AddrID: s.addrID, Token: c.tokenP, Nonce: s.nonce}
	k += jo.Put(o[k:])
	src, sport := clientAddr(ci, j)
	m.seal(&p, translate.Access, src, srvAddr, sport, srvPort, s.isn, 0, header.TCPFlagSyn, k, 0, 0)
	s.state = subJoinSynSent
}

// clientJoinSynAck checks the engine's truncated HMAC (key_P||key_C,
// R_P||R_C) and sends the third ACK with the client's 160-bit HMAC.
func (m *Model) clientJoinSynAck(ci, j int, t header.TCP) {
	c := &m.conns[ci]
	s := &c.sub[j]
	if s.state != subJoinSynSent {
		m.fail(ErrHandshake, ci, uint64(s.state), 3)
		return
	}
	m.opts.Parse(t.Options(), t.Flags(), false)
	jo := &m.opts.MPJoin
	if !m.opts.Present.Has(option.MPJoin) || jo.Len != option.OptLenMPJSynAck || uint32(t.Ack()) != s.isn+1 ||
		!m.hasher.VerifyJoinTruncatedHMAC(jo.TruncatedHMAC, c.keyP, c.keyC, jo.Nonce, s.nonce) {
		m.fail(ErrHandshake, ci, uint64(j), 4)
		return
	}
	s.peerNonce, s.peerISN, s.rcvNxt, s.ackedRcv, s.sndNxt = jo.Nonce, uint32(t.Seq()), 1, 1, 1
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	ack := option.MPJoinOpt{Len: option.OptLenMPJAck, HMAC: m.hasher.JoinHMAC(c.keyC, c.keyP, s.nonce, s.peerNonce)}
	k := ack.Put(p.Buf[p.Off+optOff:])
	src, sport := clientAddr(ci, j)
	m.seal(&p, translate.Access, src, srvAddr, sport, srvPort, s.isn+1, s.peerISN+1, header.TCPFlagAck, k, 0, 0)
	s.state = subJoinAckSent
}

// checkReady marks a connection ready once the server is established and
// every subflow is (the join's fourth ACK received).
func (m *Model) checkReady(ci int) {
	c := &m.conns[ci]
	if c.cState == 2 && c.sState == 2 && int(c.nEst) == m.cfg.Subflows {
		c.cState = 3
		m.ready++
		if m.running {
			m.fill(ci)
		}
	}
}

// EstablishRaw puts every connection in the established state without a
// handshake, with a made-up key_P: the Passthrough model's start.
func (m *Model) EstablishRaw() {
	for ci := range m.conns {
		c := &m.conns[ci]
		if c.cState == 3 {
			m.ready--
		}
		*c = conn{cSize: uint16(ci % len(m.sizes)), sSize: uint16((ci + 1) % len(m.sizes))}
		c.keyC, c.keyP = m.rng.Uint64(), m.rng.Uint64()
		_, c.idsnC = mpcrypto.KeyHash(c.keyC)
		c.tokenP, c.idsnP = mpcrypto.KeyHash(c.keyP)
		c.isnS = m.rng.Uint32()
		for j := 0; j < m.cfg.Subflows; j++ {
			s := &c.sub[j]
			s.isn, s.peerISN, s.state = m.rng.Uint32(), m.rng.Uint32(), subEstablished
			s.rcvNxt, s.ackedRcv, s.sndNxt = 1, 1, 1
		}
		c.sub[0].peerISN = c.isnS
		c.isnC = c.sub[0].isn
		c.sState, c.cState, c.nEst = 2, 3, uint8(m.cfg.Subflows)
		m.ready++
	}
}

// Establish runs the handshakes (and joins) of connections [first,
// first+n) to completion through the engine.
func (m *Model) Establish(first, n int) error {
	if m.eng == nil {
		return errNoEngine
	}
	m.Open(first, n)
	for m.access.n > 0 || m.core.n > 0 {
		m.RunBursts(64)
	}
	for ci := first; ci < first+n; ci++ {
		if m.conns[ci].cState != 3 {
			if err := m.Err(); err != nil {
				return err
			}
			c := m.Engine().Counters()
			return fmt.Errorf("model: connection %d not established (state %d, server %d, subflows %d); engine fallbacks %v join rejects %v drops %v",
				ci, m.conns[ci].cState, m.conns[ci].sState, m.conns[ci].nEst, c.ConnFallback, c.JoinsRejected, c.Drops)
		}
	}
	return m.Err()
}

// EstablishAll establishes every connection in waves of wave connections,
// running the engine's Tick (key refill) between waves.
func (m *Model) EstablishAll(wave int) error {
	for first := 0; first < len(m.conns); first += wave {
		if err := m.EstablishWave(first, min(wave, len(m.conns)-first)); err != nil {
			return err
		}
	}
	return nil
}

// EstablishWave is one wave of EstablishAll: Establish(first, n), then the
// engine's Tick (timed in Stats.TickNs).
func (m *Model) EstablishWave(first, n int) error {
	if err := m.Establish(first, n); err != nil {
		return err
	}
	m.tick(Nanotime())
	return nil
}

// Release jumps the engine's clock past every timeout so that it releases
// all state, and checks that it did (translate I21).
func (m *Model) Release() error {
	if m.eng == nil {
		return errNoEngine
	}
	d := translate.DefaultConfig()
	jump := int64(d.IdleTimeout + d.Linger + d.SynTimeout + d.JoinTimeout + time.Minute)
	for i := 0; i < 3; i++ {
		m.clockOff += jump
		m.eng.Tick(m.now(Nanotime()))
		m.eng.ClearEmitted()
	}
	m.lastTick = Nanotime()
	for ci := range m.conns {
		if m.conns[ci].cState == 3 {
			m.ready--
		}
		m.conns[ci].cState = 0
	}
	if n := m.eng.ActiveConnections(); n != 0 {
		return fmt.Errorf("model: %d connections still active after the timeouts", n)
	}
	return nil
}

// ---- data ----

// Start begins the data phase: every ready connection fills its windows.
func (m *Model) Start() {
	m.running = true
	for ci := range m.conns {
		m.fill(ci)
	}
}

// Stop ends the data phase: senders stop, receivers still acknowledge.
// Drain then runs the loop until nothing is in flight.
func (m *Model) Stop() { m.running = false }

// Drain runs the loop until no packet is in flight and every ACK owed has
// been sent.
func (m *Model) Drain() {
	for m.access.n > 0 || m.core.n > 0 || m.owesAcks() {
		m.RunBursts(64)
	}
}

func (m *Model) owesAcks() bool {
	for ci := range m.conns {
		c := &m.conns[ci]
		if c.cPend > 0 || c.sPend > 0 {
			return true
		}
	}
	return false
}

// fill sends what the windows of connection ci allow.
func (m *Model) fill(ci int) {
	c := &m.conns[ci]
	if !m.running || c.cState != 3 {
		return
	}
	win := uint8(m.cfg.Window)
	if m.cfg.Direction&C2S != 0 {
		c.cSegs.trim(c.cUna)
		for c.cSegs.n < win {
			if !m.sendClientData(ci) {
				break
			}
		}
	}
	if m.cfg.Direction&S2C != 0 {
		c.sSegs.trim(c.sUna)
		for c.sSegs.n < win {
			if !m.sendServerData(ci) {
				break
			}
		}
	}
}

// sendClientData sends one segment of the current mapping (a new mapping
// on the next subflow every MapSize bytes, as Linux maps one socket buffer
// at a time), with an 8-byte DATA_ACK and an 8-byte DSN.
func (m *Model) sendClientData(ci int) bool {
	c := &m.conns[ci]
	if c.mapUsed == c.mapLen {
		j := 0
		if c.mapLen != 0 {
			j = (int(c.mapSub) + 1) % m.cfg.Subflows
		}
		c.mapSub, c.mapOff, c.mapSSN, c.mapLen, c.mapUsed = uint8(j), c.cSnd, c.sub[j].sndNxt, uint32(m.cfg.MapSize), 0
	}
	j := int(c.mapSub)
	s := &c.sub[j]
	n := min(uint32(m.sizes[c.cSize]), c.mapLen-c.mapUsed)
	p, ok := m.newPkt(ci)
	if !ok {
		return false
	}
	k := option.PutDSSMap(p.Buf[p.Off+optOff:], header.DSN64(c.idsnP+1+c.cRcv), header.DSN64(c.idsnC+1+c.mapOff),
		header.Seq32(c.mapSSN), uint16(c.mapLen), false, false, 0)
	src, sport := clientAddr(ci, j)
	m.seal(&p, translate.Access, src, srvAddr, sport, srvPort, s.isn+s.sndNxt, s.peerISN+s.rcvNxt,
		header.TCPFlagAck|header.TCPFlagPsh, k, c.cSnd+seedC2S(ci), int(n))
	c.cPend, s.ackedRcv = 0, s.rcvNxt
	s.sndNxt += n
	c.mapUsed += n
	c.cSnd += uint64(n)
	c.cSegs.push(c.cSnd)
	if c.cSize++; int(c.cSize) == len(m.sizes) {
		c.cSize = 0
	}
	return true
}

// sendServerData sends one server segment (its ACK rides on it).
func (m *Model) sendServerData(ci int) bool {
	c := &m.conns[ci]
	n := int(m.sizes[c.sSize])
	p, ok := m.newPkt(ci)
	if !ok {
		return false
	}
	dst, dport := clientAddr(ci, 0)
	m.seal(&p, translate.Core, srvAddr, dst, srvPort, dport, c.isnS+1+uint32(c.sSnd), c.isnC+1+uint32(c.sRcv),
		header.TCPFlagAck|header.TCPFlagPsh, 0, c.sSnd+seedS2C(ci), n)
	c.sPend = 0
	c.sSnd += uint64(n)
	c.sSegs.push(c.sSnd)
	if c.sSize++; int(c.sSize) == len(m.sizes) {
		c.sSize = 0
	}
	return true
}

// clientAck sends a pure ACK on subflow j with the DATA_ACK.
func (m *Model) clientAck(ci, j int) {
	c := &m.conns[ci]
	s := &c.sub[j]
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	k := option.PutDSSAck(p.Buf[p.Off+optOff:], header.DSN64(c.idsnP+1+c.cRcv))
	src, sport := clientAddr(ci, j)
	m.seal(&p, translate.Access, src, srvAddr, sport, srvPort, s.isn+s.sndNxt, s.peerISN+s.rcvNxt, header.TCPFlagAck, k, 0, 0)
	c.cPend, s.ackedRcv = 0, s.rcvNxt
}

// serverAck sends a pure cumulative ACK.
func (m *Model) serverAck(ci int) {
	c := &m.conns[ci]
	p, ok := m.newPkt(ci)
	if !ok {
		return
	}
	dst, dport := clientAddr(ci, 0)
	m.seal(&p, translate.Core, srvAddr, dst, srvPort, dport, c.isnS+1+uint32(c.sSnd), c.isnC+1+uint32(c.sRcv), header.TCPFlagAck, 0, 0, 0)
	c.sPend = 0
}

// ---- receive ----

// deliver hands a packet the engine forwarded or emitted to the end its
// Side names, then frees it.
func (m *Model) deliver(p *translate.Packet) {
	if p.Side == translate.Core {
		m.serverRecv(p)
	} else {
		m.clientRecv(p)
	}
	m.pool.Free(p)
}

// advance moves an acknowledged offset una to the 32-bit ack a (relative
// to the stream start), after checking a does not pass snd.
func advance(una *uint64, snd uint64, a uint32) bool {
	if int32(a-uint32(snd)) > 0 {
		return false
	}
	if d := int32(a - uint32(*una)); d > 0 {
		*una += uint64(d)
	}
	return true
}

func (m *Model) serverRecv(p *translate.Packet) {
	ip, t, ok := m.view(p)
	if !ok {
		return
	}
	ci, j, ok := m.lookup(ip.SourceAddress(), t.SourcePort())
	if !ok || ip.DestinationAddress() != srvAddr || t.DestinationPort() != srvPort || (m.xlat && j != 0) {
		m.fail(ErrUnknownConn, -1, uint64(t.SourcePort()), uint64(j))
		return
	}
	c := &m.conns[ci]
	f := t.Flags()
	if f&header.TCPFlagSyn != 0 {
		if !m.checkHeaderSum(ci, ip, t) {
			return
		}
		m.serverSyn(ci, t)
		return
	}
	var d dss
	if !scanOpts(t.Options(), &d) {
		m.fail(ErrParse, ci, 0, 3)
		return
	}
	if m.xlat && d.mptcp {
		m.fail(ErrMapping, ci, 0, 1) // I8: no MPTCP option toward S
		return
	}
	pay := t.Payload()
	if len(pay) == 0 && !m.checkHeaderSum(ci, ip, t) {
		return
	}
	if c.sState == 1 {
		if uint32(t.Ack()) != c.isnS+1 || len(pay) != 0 {
			m.fail(ErrHandshake, ci, uint64(t.Ack()), 5)
			return
		}
		c.sState = 2
		m.checkReady(ci)
		return
	}
	if c.sState != 2 || f&(header.TCPFlagRst|header.TCPFlagFin) != 0 {
		m.fail(ErrHandshake, ci, uint64(c.sState), uint64(f))
		return
	}
	// The client's acknowledgement of server data: the TCP ack the engine
	// translated, or (Passthrough) the DATA_ACK itself.
	if m.xlat {
		if f&header.TCPFlagAck != 0 && !advance(&c.sUna, c.sSnd, uint32(t.Ack())-c.isnS-1) {
			m.fail(ErrAck, ci, uint64(uint32(t.Ack())-c.isnS-1), c.sSnd)
		}
	} else if d.present && d.flags&option.DSSHasAck != 0 && !advance(&c.sUna, c.sSnd, uint32(d.dataAck-c.idsnP-1)) {
		m.fail(ErrAck, ci, d.dataAck-c.idsnP-1, c.sSnd)
	}
	if n := len(pay); n > 0 {
		var rel uint32
		if m.xlat {
			rel = uint32(t.Seq()) - c.isnC - 1
		} else {
			if !d.present || d.flags&option.DSSHasMap == 0 {
				m.fail(ErrMapping, ci, 0, 2)
				return
			}
			rel = uint32(d.dsn-c.idsnC-1) + (uint32(t.Seq()) - c.sub[j].isn - d.ssn)
		}
		if rel != uint32(c.sRcv) {
			m.fail(ErrOrder, ci, uint64(rel), c.sRcv)
			return
		}
		if !m.checkPayload(ci, ip, t, c.sRcv, seedC2S(ci)) {
			return
		}
		c.sRcv += uint64(n)
		c.sPend++
		m.Stats.Segments[0]++
		m.Stats.Bytes[0] += uint64(n)
	}
	m.fill(ci)
	if c.sPend >= uint32(m.cfg.AckRatio) {
		m.serverAck(ci)
	}
}

func (m *Model) clientRecv(p *translate.Packet) {
	ip, t, ok := m.view(p)
	if !ok {
		return
	}
	ci, j, ok := m.lookup(ip.DestinationAddress(), t.DestinationPort())
	if !ok || ip.SourceAddress() != srvAddr || t.SourcePort() != srvPort {
		m.fail(ErrUnknownConn, -1, uint64(t.DestinationPort()), uint64(j))
		return
	}
	c := &m.conns[ci]
	s := &c.sub[j]
	f := t.Flags()
	pay := t.Payload()
	if len(pay) == 0 && !m.checkHeaderSum(ci, ip, t) {
		return
	}
	if f&header.TCPFlagRst != 0 {
		m.fail(ErrHandshake, ci, uint64(j), 6)
		return
	}
	if f&header.TCPFlagSyn != 0 {
		if j == 0 {
			m.clientSynAck(ci, t)
		} else {
			m.clientJoinSynAck(ci, j, t)
		}
		return
	}
	if s.state == subJoinAckSent {
		// The fourth ACK: the join is established for the client.
		if uint32(t.Ack()) != s.isn+1 || len(pay) != 0 {
			m.fail(ErrHandshake, ci, uint64(j), 7)
			return
		}
		s.state = subEstablished
		c.nEst++
		m.checkReady(ci)
		return
	}
	if s.state != subEstablished {
		m.fail(ErrHandshake, ci, uint64(j), 8)
		return
	}
	var d dss
	if !scanOpts(t.Options(), &d) {
		m.fail(ErrParse, ci, 0, 4)
		return
	}
	if m.xlat {
		// I4: every segment toward an established client carries an
		// 8-byte DATA_ACK; the subflow ack never passes what was sent.
		if !d.present || d.flags&(option.DSSHasAck|option.DSSAck64) != option.DSSHasAck|option.DSSAck64 {
			m.fail(ErrMapping, ci, uint64(d.flags), 3)
			return
		}
		if a := uint32(t.Ack()) - s.isn; int32(a-s.sndNxt) > 0 {
			m.fail(ErrAck, ci, uint64(a), uint64(s.sndNxt))
		}
		if !advance(&c.cUna, c.cSnd, uint32(d.dataAck-c.idsnC-1)) {
			m.fail(ErrAck, ci, d.dataAck-c.idsnC-1, c.cSnd)
		}
	} else if !advance(&c.cUna, c.cSnd, uint32(t.Ack())-c.isnC-1) {
		m.fail(ErrAck, ci, uint64(uint32(t.Ack())-c.isnC-1), c.cSnd)
	}
	if n := uint32(len(pay)); n > 0 {
		rel := uint32(t.Seq()) - s.peerISN
		if rel != s.rcvNxt {
			m.fail(ErrOrder, ci, uint64(rel), uint64(s.rcvNxt))
			return
		}
		off := rel - 1
		if m.xlat {
			// A valid mapping: 8-byte DSN, the segment inside it.
			if d.flags&(option.DSSHasMap|option.DSSDSN64) != option.DSSHasMap|option.DSSDSN64 ||
				rel-d.ssn >= uint32(d.dataLen) || rel-d.ssn+n > uint32(d.dataLen) {
				m.fail(ErrMapping, ci, uint64(rel), uint64(d.ssn))
				return
			}
			off = uint32(d.dsn-c.idsnP-1) + (rel - d.ssn)
		}
		if off != uint32(c.cRcv) {
			m.fail(ErrOrder, ci, uint64(off), c.cRcv)
			return
		}
		if !m.checkPayload(ci, ip, t, c.cRcv, seedS2C(ci)) {
			return
		}
		c.cRcv += uint64(n)
		s.rcvNxt += n
		c.cPend++
		c.lastSub = uint8(j)
		m.Stats.Segments[1]++
		m.Stats.Bytes[1] += uint64(n)
	}
	m.fill(ci)
	if c.cPend >= uint32(m.cfg.AckRatio) {
		m.clientAck(ci, int(c.lastSub))
	}
}

// ---- loop ----

// RunBursts runs up to n bursts through the engine (or the pass-through)
// and returns how many ran: fewer when the loop went quiet (handshakes
// done, or everything acknowledged after Stop). It does not allocate.
func (m *Model) RunBursts(n int) int {
	done := 0
	for done < n {
		if m.access.n == 0 && m.core.n == 0 && !m.idle() {
			break
		}
		if m.access.n > 0 {
			m.burstFrom(&m.access, translate.Access)
			done++
		}
		if m.core.n > 0 {
			m.burstFrom(&m.core, translate.Core)
			done++
		}
	}
	return done
}

// idle sends the ACKs receivers still owe (a delayed-ACK timer firing) and
// refills windows; it reports whether anything is in flight afterwards.
func (m *Model) idle() bool {
	for ci := range m.conns {
		c := &m.conns[ci]
		if c.cState != 3 {
			continue
		}
		if c.cPend > 0 {
			c.cPend = 0
			for j := 0; j < m.cfg.Subflows; j++ {
				if s := &c.sub[j]; s.rcvNxt != s.ackedRcv || j == int(c.lastSub) {
					m.clientAck(ci, j)
				}
			}
		}
		if c.sPend > 0 {
			m.serverAck(ci)
		}
	}
	if m.access.n == 0 && m.core.n == 0 && m.running {
		for ci := range m.conns {
			m.fill(ci)
		}
		if m.access.n == 0 && m.core.n == 0 && m.ready > 0 {
			m.fail(ErrStall, -1, uint64(m.ready), 0)
		}
	}
	return m.access.n > 0 || m.core.n > 0
}

// burstFrom runs one burst from q through the engine and delivers what
// comes out.
func (m *Model) burstFrom(q *ring, side translate.Side) {
	k := q.pop(m.burst[:])
	pk := m.burst[:k]
	vs := m.verdicts[:k]
	t0 := Nanotime()
	if m.eng != nil {
		m.eng.ProcessBurst(m.now(t0), pk, vs)
	} else {
		for i := range pk {
			pk[i].Side ^= 1
			vs[i] = translate.Forward
		}
	}
	t1 := Nanotime()
	m.Stats.EngineNs[side] += t1 - t0
	m.Stats.Packets[side] += uint64(k)
	m.Stats.Bursts[side]++
	for i := range pk {
		v := vs[i]
		m.Stats.Verdicts[v&3]++
		switch v {
		case translate.Forward:
			m.deliver(&pk[i])
		default:
			if v != translate.Consumed {
				m.fail(ErrVerdict, -1, uint64(v), uint64(side))
			}
			m.pool.Free(&pk[i])
		}
	}
	if m.eng != nil {
		em := m.eng.Emitted()
		m.Stats.Emitted += uint64(len(em))
		for i := range em {
			m.deliver(&em[i])
		}
		m.eng.ClearEmitted()
		if t1-m.lastTick > tickEvery {
			m.tick(t1)
		}
	}
}

func (m *Model) tick(t0 int64) {
	if m.eng == nil {
		return
	}
	m.eng.Tick(m.now(t0))
	t1 := Nanotime()
	m.Stats.TickNs += t1 - t0
	m.Stats.Ticks++
	m.lastTick = t1
}
