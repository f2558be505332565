package translate

import (
	"encoding/binary"
	"github.com/flexcp/flexcp/dtree"
	"github.com/flexcp/flexcp/translate/mpcrypto"
	"github.com/flexcp/flexcp/translate/option"

	"github.com/flexcp/flexcp/translate/header"
)

// Window and segment constants of the MP_CAPABLE handshake.
const (
	// mssClamp is subtracted from the client's MSS in the SYN forwarded to
	// S: the largest DSS P adds to S's segments (DESIGN 3.6, I5).
	mssClamp = optLenDSSMax
	// initialWindow is the scheduler's starting estimate of a subflow's
	// window, in bytes (ten segments).
	initialWindow = 10 * 1400
)

// copyOptions copies the options of raw worth keeping into e.ow: every
// option except MPTCP (kind 30), SACK blocks (rebuilt by the caller),
// padding and, if stripTS, the timestamp. An MSS option is rewritten to
// at most mss when mss != 0.
func (e *Engine) copyOptions(raw []byte, stripTS bool, mss uint16) {
	e.ow.n = 0
	for i := 0; i < len(raw); {
		k := raw[i]
		if k == optEOL {
			return
		}
		if k == optNOP {
			i++
			continue
		}
		if i+1 >= len(raw) {
			return
		}
		l := int(raw[i+1])
		if l < 2 || i+l > len(raw) {
			return
		}
		switch {
		case k == optMPTCP, k == optSACK, k == optTimestamp && stripTS:
		case k == optMSS && l == 4 && mss != 0:
			v := binary.BigEndian.Uint16(raw[i+2:])
			if v > mss {
				v = mss
			}
			e.ow.mss(v)
		case k == optWS && l == 3:
			e.ow.ws(raw[i+2])
		case k == optSACKPerm && l == 2:
			e.ow.sackPerm()
		default:
			if e.ow.room() >= l {
				e.ow.raw(raw[i : i+l])
			}
		}
		i += l
	}
}

// rawOptions returns the TCP options of p (parsed into e.pk).
func (e *Engine) rawOptions(p *Packet) []byte {
	start := p.Off + e.pk.ipHL + header.TCPMinimumSize
	return p.Buf[start : p.Off+e.pk.ipHL+e.pk.tcpHL]
}

// reforward rewrites p with the options in e.ow and the same addresses,
// sequence numbers and flags.
func (e *Engine) reforward(p *Packet, side Side, port uint8) Verdict {
	pk := &e.pk
	h := hdrOut{src: &pk.src, dst: &pk.dst, sport: pk.sport, dport: pk.dport, seq: pk.seq, ack: pk.ack,
		flags: pk.flags, win: pk.win, opts: e.ow.pad()}
	if !e.rewrite(p, pk.v6, &h, pk.payOff, pk.payLen, pk.paySum) {
		return e.drop(DropNoHeadroom)
	}
	p.Side, p.Port = side, port
	return Forward
}

// forwardSyn sends a client SYN to S with MPTCP options removed, the
// timestamp removed (DESIGN 3.6) and the MSS clamped (I5) when clamp.
func (e *Engine) forwardSyn(p *Packet, clamp bool) Verdict {
	var mss uint16
	if clamp {
		mss = 0xffff
		if o := &e.pk.opts; o.Present.Has(option.MSS) && o.MSS > mssClamp {
			mss = o.MSS - mssClamp
		}
	}
	e.copyOptions(e.rawOptions(p), clamp, mss)
	return e.reforward(p, Core, p.Port)
}

// capableSyn handles a client SYN with MP_CAPABLE and no state (RFC 8684
// 3.1, DESIGN 3.1 step 1).
func (e *Engine) capableSyn(now int64, p *Packet) Verdict {
	pk := &e.pk
	o := &pk.opts
	if o.Malformed || !e.cfg.translates(addr(&pk.dst, pk.v6), pk.dport) {
		return Pass
	}
	// RFC 8684 3.1: the SYN's 4-byte MP_CAPABLE carries the highest
	// version the client supports (the codec accepts 1 and above); P
	// answers version 1.
	ci := e.newConn()
	if ci < 0 {
		e.cnt.ConnFallback[FallbackTableFull]++
		return e.forwardSyn(p, false)
	}
	c := &e.conns[ci]
	cm, ok1 := e.store.NewClient()
	pm, ok2 := e.store.NewProxy()
	s := e.sub(ci, 0)
	s.caddr, s.raddr, s.cport, s.rport = pk.src, pk.dst, pk.sport, pk.dport
	c.v6 = pk.v6
	hashA, hashC := e.accessHash(s), e.coreHash(s)
	if !ok1 || !ok2 || !e.flows.insert(hashA, uint32(ci)<<4) {
		e.undoConn(ci, cm, ok1, pm, ok2, hashA, false)
		e.cnt.ConnFallback[FallbackTableFull]++
		return e.forwardSyn(p, false)
	}
	if !e.flows.insert(hashC, uint32(ci)<<4|kindCore) {
		e.undoConn(ci, cm, ok1, pm, ok2, hashA, true)
		e.cnt.ConnFallback[FallbackTableFull]++
		return e.forwardSyn(p, false)
	}
	c.cmap, c.pmap = cm, pm
	c.state = connSynSent
	c.capFlags = o.MPCapable.Flags
	c.csum = o.MPCapable.Flags&mpCapableFlagA != 0
	c.isnC = pk.seq
	c.nsub = 1
	c.lastSeen = now
	s.state = subHandshake
	s.isnC = pk.seq
	s.rcvNxt, s.ackSent = 1, 1
	s.sndNxt, s.sndUna = 1, 1
	s.port = p.Port
	s.backup = e.backupPort(p.Port)
	s.prio0 = s.backup // announced once established (s2c.go)
	c.sched = e.schedFor(addr(&pk.dst, pk.v6))
	s.sack = o.Present.Has(option.SACKPermitted)
	if o.Present.Has(option.WindowScale) {
		c.wsOffered = true
		s.ws = o.WindowScale
		if s.ws > 14 {
			s.ws = 14 // RFC 7323 2.3
		}
	}
	s.wnd = initialWindow
	e.nsub++
	e.cnt.ConnOpened++
	e.wheel.schedule(ci, now+int64(e.cfg.SynTimeout))
	return e.forwardSyn(p, true)
}

// undoConn returns a half-built connection slot.
func (e *Engine) undoConn(ci int32, cm dtree.ClientMap, ok1 bool, pm dtree.ProxyMap, ok2 bool, hashA uint32, inserted bool) {
	if ok1 {
		e.store.ReleaseClient(cm)
	}
	if ok2 {
		e.store.ReleaseProxy(pm)
	}
	if inserted {
		e.flows.remove(hashA, uint32(ci)<<4)
	}
	e.conns[ci] = conn{}
	*e.sub(ci, 0) = subflow{}
	e.free = append(e.free, ci)
	e.nconn--
}

// serverSynAck handles S's SYN/ACK (DESIGN 3.1 step 2): choose key_P, add
// MP_CAPABLE, forward to C; fall back when it cannot.
func (e *Engine) serverSynAck(now int64, p *Packet, ci int32, c *conn) Verdict {
	pk := &e.pk
	o := &pk.opts
	s := e.sub(ci, 0)
	if pk.ack != c.isnC.Add(1) {
		return e.drop(DropBadState)
	}
	if c.keyP == 0 {
		c.isnS = pk.seq
		s.isnP = pk.seq
		c.mssS = 536
		if o.Present.Has(option.MSS) {
			c.mssS = o.MSS
		}
		c.winS = pk.win
		c.sackOK = s.sack && o.Present.Has(option.SACKPermitted)
		s.sack = c.sackOK
		// RFC 7323 2.2: scaling is on only if both SYNs carried it.
		c.wsOK = c.wsOffered && o.Present.Has(option.WindowScale)
		if c.wsOK {
			c.wsS = o.WindowScale
		} else {
			s.ws = 0
		}
		// RFC 8684 3.2: the token must be unique on this proxy; DESIGN 5:
		// the key source already encodes the owner core.
		for tries := 0; tries < 4; tries++ {
			var k, idsn uint64
			var tok uint32
			var ok bool
			if e.hkeys != nil {
				// The source hashed the key when it chose it.
				k, tok, idsn, ok = e.hkeys.NextHashedKey()
			} else if k, ok = e.keys.NextKey(); ok {
				// One SHA-256 gives the token and IDSN_P (used below).
				tok, idsn = mpcrypto.KeyHash(k)
			}
			if !ok {
				break
			}
			if e.findToken(tok) < 0 {
				c.keyP, c.tokenP, c.idsnP = k, tok, header.DSN64(idsn)
				break
			}
		}
		if c.keyP == 0 {
			e.cnt.Drops[DropKeyExhausted]++
			e.cnt.ConnFallback[FallbackNoKey]++
			e.release(ci)
			return Pass
		}
	}
	e.copyOptions(e.rawOptions(p), true, 0)
	// RFC 8684 3.1: the SYN/ACK carries version 1, flag A if checksums
	// are to be used (the client asked), H for HMAC-SHA256, and key_P.
	if e.ow.room() < optLenCapableSynAck+3 {
		e.cnt.ConnFallback[FallbackNoOptionSpace]++
		e.release(ci)
		return Pass
	}
	e.ow.capableSynAck(c.capFlags&mpCapableFlagA|mpCapableFlagH, c.keyP)
	if c.state == connSynSent {
		if !e.tokens.insert(tokenHash(e.seed, c.tokenP), uint32(ci)) {
			e.cnt.ConnFallback[FallbackTableFull]++
			c.keyP = 0
			e.release(ci)
			return Pass
		}
		c.state = connSynAckSent
		c.s2cNxt = c.idsnP.Add(1)
		c.dataAck = c.idsnP.Add(1)
	}
	return e.reforward(p, Access, s.port)
}

// thirdAck handles the client's ACK while the connection waits for key_C
// (DESIGN 3.1 step 3; RFC 8684 3.1: the third ACK, or the first data
// segment, carries both keys).
func (e *Engine) thirdAck(now int64, p *Packet, ci int32, c *conn, s *subflow) Verdict {
	pk := &e.pk
	o := &pk.opts
	if !o.Present.Has(option.MPCapable) {
		if o.Present&option.SetMPTCP != 0 {
			return e.drop(DropBadState)
		}
		// RFC 8684 3.7: no MPTCP option on the third ACK is a fallback.
		e.cnt.ConnFallback[FallbackClientDropped]++
		e.release(ci)
		return Pass
	}
	if int(o.MPCapable.Len) < optLenCapableAck || o.MPCapable.ReceiverKey != c.keyP {
		return e.drop(DropBadState)
	}
	c.keyC = o.MPCapable.SenderKey
	c.idsnC = header.DSN64(keyIDSN(c.keyC))
	c.c2sNxt = c.idsnC.Add(1)
	c.sAck = c.idsnC.Add(1)
	c.state = connEstablished
	s.state = subEstablished
	e.cnt.SubflowOpened++
	e.wheel.schedule(ci, now+int64(e.cfg.IdleTimeout))
	return e.c2s(now, p, ci, c, 0, s)
}
