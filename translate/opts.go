package translate

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/option"
)

// TCP option kinds (IANA "TCP Option Kind Numbers").
const (
	optEOL       = 0
	optNOP       = 1
	optMSS       = 2  // RFC 9293 3.2
	optWS        = 3  // RFC 7323 2
	optSACKPerm  = 4  // RFC 2018 2
	optSACK      = 5  // RFC 2018 3
	optTimestamp = 8  // RFC 7323 3
	optMPTCP     = 30 // RFC 8684 3
)

// MPTCP option subtypes (RFC 8684 section 3, Table 1), named as in the
// kernel's net/mptcp/protocol.h.
const (
	mptcpSubCapable   = 0x0 // MP_CAPABLE, 3.1
	mptcpSubJoin      = 0x1 // MP_JOIN, 3.2
	mptcpSubDSS       = 0x2 // DSS, 3.3
	mptcpSubAddAddr   = 0x3 // ADD_ADDR, 3.4.1
	mptcpSubRmAddr    = 0x4 // REMOVE_ADDR, 3.4.2
	mptcpSubPrio      = 0x5 // MP_PRIO, 3.3.8
	mptcpSubFail      = 0x6 // MP_FAIL, 3.7
	mptcpSubFastclose = 0x7 // MP_FASTCLOSE, 3.5
	mptcpSubRst       = 0x8 // MP_TCPRST, 3.6
)

// MP_CAPABLE lengths and flags (RFC 8684 section 3.1, Figure 4).
const (
	mptcpVersion1            = 1
	optLenCapableSyn         = 4
	optLenCapableSynAck      = 12
	optLenCapableAck         = 20
	optLenCapableAckData     = 22
	optLenCapableAckDataCsum = 24
	mpCapableFlagA           = 0x80 // checksum required
	mpCapableFlagB           = 0x40 // extensibility
	mpCapableFlagC           = 0x20 // do not initiate subflows to the source address
	mpCapableFlagH           = 0x01 // HMAC-SHA256
)

// MP_JOIN lengths (RFC 8684 section 3.2, Figures 5-7).
const (
	optLenJoinSyn    = 12
	optLenJoinSynAck = 16
	optLenJoinAck    = 24
	mpJoinFlagB      = 0x01 // backup
	joinHMACAckLen   = 20   // 160 bits in the third ACK
)

// DSS flags and lengths (RFC 8684 section 3.3, Figure 9).
const (
	dssHasAck   = 0x01 // A: DATA_ACK present
	dssAck64    = 0x02 // a: DATA_ACK is 8 octets
	dssHasMap   = 0x04 // M: DSN, SSN, length (and checksum) present
	dssDSN64    = 0x08 // m: DSN is 8 octets
	dssDataFin  = 0x10 // F: DATA_FIN
	optLenDSSHd = 4    // kind, length, subtype, flags
	// optLenDSSMax is the largest DSS P writes: header, 8-byte DATA_ACK,
	// 8-byte DSN, SSN, data-level length, checksum.
	optLenDSSMax = 4 + 8 + 8 + 4 + 2 + 2
)

// Other MPTCP option lengths.
const (
	optLenFastclose = 12 // RFC 8684 3.5
	optLenTCPRst    = 4  // RFC 8684 3.6
	optLenPrio      = 3  // RFC 8684 3.3.8
)

// MP_TCPRST reason codes (RFC 8684 section 3.6).
const (
	tcpRstUnspecified = 0x00 // unspecified error
	tcpRstMPTCP       = 0x01 // MPTCP-specific error (unknown token, bad HMAC)
	tcpRstResources   = 0x02 // lack of resources (table full)
)

// maxSACKBlocks is the most SACK blocks 40 option bytes hold.
const maxSACKBlocks = option.MaxSACKBlocks

// optWriter builds a TCP option list in a fixed 40-byte buffer.
type optWriter struct {
	b [40]byte
	n int
}

func (w *optWriter) room() int { return 40 - w.n }

// raw appends b unchanged.
func (w *optWriter) raw(b []byte) { w.n += copy(w.b[w.n:], b) }

func (w *optWriter) mss(v uint16) {
	w.b[w.n], w.b[w.n+1] = optMSS, 4
	binary.BigEndian.PutUint16(w.b[w.n+2:], v)
	w.n += 4
}

func (w *optWriter) ws(v uint8) {
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optNOP, optWS, 3, v
	w.n += 4
}

func (w *optWriter) sackPerm() {
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optNOP, optNOP, optSACKPerm, 2
	w.n += 4
}

// sack appends n blocks (NOP, NOP, kind, length, blocks).
func (w *optWriter) sack(blocks [][2]uint32) {
	if len(blocks) == 0 {
		return
	}
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optNOP, optNOP, optSACK, byte(2+8*len(blocks))
	w.n += 4
	for _, bl := range blocks {
		binary.BigEndian.PutUint32(w.b[w.n:], bl[0])
		binary.BigEndian.PutUint32(w.b[w.n+4:], bl[1])
		w.n += 8
	}
}

// capableSynAck appends MP_CAPABLE for a SYN/ACK (RFC 8684 3.1: version 1,
// flags, sender's key).
func (w *optWriter) capableSynAck(flags uint8, key uint64) {
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optMPTCP, optLenCapableSynAck, mptcpSubCapable<<4|mptcpVersion1, flags
	binary.BigEndian.PutUint64(w.b[w.n+4:], key)
	w.n += optLenCapableSynAck
}

// joinSynAck appends MP_JOIN for a SYN/ACK (RFC 8684 3.2, Figure 6).
func (w *optWriter) joinSynAck(backup bool, addrID uint8, hmac64 uint64, nonce uint32) {
	f := byte(0)
	if backup {
		f = mpJoinFlagB
	}
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optMPTCP, optLenJoinSynAck, mptcpSubJoin<<4|f, addrID
	binary.BigEndian.PutUint64(w.b[w.n+4:], hmac64)
	binary.BigEndian.PutUint32(w.b[w.n+12:], nonce)
	w.n += optLenJoinSynAck
}

// dss appends a DSS with an 8-byte DATA_ACK and, if hasMap, an 8-byte DSN
// mapping (and checksum if csum). RFC 8684 3.3.
func (w *optWriter) dss(dataAck uint64, hasMap bool, dsn uint64, ssn uint32, dlen uint16, fin, csum bool, sum uint16) {
	f := byte(dssHasAck | dssAck64)
	l := optLenDSSHd + 8
	if hasMap {
		f |= dssHasMap | dssDSN64
		l += 14
		if csum {
			l += 2
		}
	}
	if fin {
		f |= dssDataFin
	}
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optMPTCP, byte(l), mptcpSubDSS<<4, f
	binary.BigEndian.PutUint64(w.b[w.n+4:], dataAck)
	if hasMap {
		binary.BigEndian.PutUint64(w.b[w.n+12:], dsn)
		binary.BigEndian.PutUint32(w.b[w.n+20:], ssn)
		binary.BigEndian.PutUint16(w.b[w.n+24:], dlen)
		if csum {
			binary.BigEndian.PutUint16(w.b[w.n+26:], sum)
		}
	}
	w.n += l
}

// fastclose appends MP_FASTCLOSE carrying the receiver's key (RFC 8684 3.5).
func (w *optWriter) fastclose(key uint64) {
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optMPTCP, optLenFastclose, mptcpSubFastclose<<4, 0
	binary.BigEndian.PutUint64(w.b[w.n+4:], key)
	w.n += optLenFastclose
}

// tcpRst appends MP_TCPRST with reason (RFC 8684 3.6).
func (w *optWriter) tcpRst(reason uint8) {
	w.b[w.n], w.b[w.n+1], w.b[w.n+2], w.b[w.n+3] = optMPTCP, optLenTCPRst, mptcpSubRst<<4, reason
	w.n += optLenTCPRst
}

// pad NOP-pads to a 4-byte boundary and returns the options.
func (w *optWriter) pad() []byte {
	for w.n&3 != 0 {
		w.b[w.n] = optNOP
		w.n++
	}
	return w.b[:w.n]
}
