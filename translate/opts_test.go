package translate

import "encoding/binary"

// The tests' own option walker: an independent reading of RFC 8684
// section 3 (the engine uses translate/option), used to check what the
// engine sends.

// tcpOpts is one pass over a TCP header's options. Offsets are relative to
// the start of the options.
type tcpOpts struct {
	malformed bool
	hasMSS    bool
	hasWS     bool
	sackPerm  bool
	hasTS     bool
	hasMPTCP  bool // any option of kind 30
	mss       uint16
	ws        uint8
	nsack     int
	sack      [maxSACKBlocks][2]uint32

	capable   bool // MP_CAPABLE seen
	capVer    uint8
	capFlags  uint8
	capLen    int
	capKeyA   uint64 // sender's key (SYN/ACK, ACK)
	capKeyB   uint64 // receiver's key (ACK)
	capDatLen uint16 // data-level length (ACK with data)

	join       bool
	joinLen    int
	joinBackup bool
	joinAddrID uint8
	joinToken  uint32 // SYN
	joinNonce  uint32 // SYN, SYN/ACK
	joinHMAC   [joinHMACAckLen]byte

	dss      bool
	dssFlags uint8
	dataAck  uint64
	dsn      uint64
	ssn      uint32
	dataLen  uint16
	dssCsum  bool
	dssSum   uint16

	fastclose    bool
	fastcloseKey uint64
	prio         bool
	prioBackup   bool
	mpRst        bool
	mpFail       bool
}

// parseOpts walks the options of a TCP header. It never fails: a
// malformed option list sets malformed and stops.
func parseOpts(o []byte, r *tcpOpts) {
	*r = tcpOpts{}
	for i := 0; i < len(o); {
		k := o[i]
		if k == optEOL {
			return
		}
		if k == optNOP {
			i++
			continue
		}
		if i+1 >= len(o) {
			r.malformed = true
			return
		}
		l := int(o[i+1])
		if l < 2 || i+l > len(o) {
			r.malformed = true
			return
		}
		b := o[i : i+l]
		switch k {
		case optMSS:
			if l == 4 {
				r.hasMSS, r.mss = true, binary.BigEndian.Uint16(b[2:])
			}
		case optWS:
			if l == 3 {
				r.hasWS, r.ws = true, b[2]
			}
		case optSACKPerm:
			r.sackPerm = l == 2
		case optSACK:
			for j := 2; j+8 <= l && r.nsack < maxSACKBlocks; j += 8 {
				r.sack[r.nsack] = [2]uint32{binary.BigEndian.Uint32(b[j:]), binary.BigEndian.Uint32(b[j+4:])}
				r.nsack++
			}
		case optTimestamp:
			r.hasTS = true
		case optMPTCP:
			r.hasMPTCP = true
			parseMPTCP(b, r)
		}
		i += l
	}
}

// parseMPTCP decodes one MPTCP option b (kind and length included).
func parseMPTCP(b []byte, r *tcpOpts) {
	l := len(b)
	if l < 3 {
		r.malformed = true
		return
	}
	switch b[2] >> 4 {
	case mptcpSubCapable: // RFC 8684 3.1
		if l < 4 {
			r.malformed = true
			return
		}
		r.capable, r.capVer, r.capFlags, r.capLen = true, b[2]&0xf, b[3], l
		if l >= optLenCapableSynAck {
			r.capKeyA = binary.BigEndian.Uint64(b[4:])
		}
		if l >= optLenCapableAck {
			r.capKeyB = binary.BigEndian.Uint64(b[12:])
		}
		if l >= optLenCapableAckData {
			r.capDatLen = binary.BigEndian.Uint16(b[20:])
		}
	case mptcpSubJoin: // RFC 8684 3.2
		r.join, r.joinLen = true, l
		r.joinBackup = b[2]&mpJoinFlagB != 0
		switch l {
		case optLenJoinSyn:
			r.joinAddrID = b[3]
			r.joinToken = binary.BigEndian.Uint32(b[4:])
			r.joinNonce = binary.BigEndian.Uint32(b[8:])
		case optLenJoinSynAck:
			r.joinAddrID = b[3]
			r.joinNonce = binary.BigEndian.Uint32(b[12:])
		case optLenJoinAck:
			copy(r.joinHMAC[:], b[4:24])
		default:
			r.malformed = true
		}
	case mptcpSubDSS: // RFC 8684 3.3
		if l < optLenDSSHd {
			r.malformed = true
			return
		}
		f := b[3]
		want := optLenDSSHd
		if f&dssHasAck != 0 {
			want += 4
			if f&dssAck64 != 0 {
				want += 4
			}
		}
		if f&dssHasMap != 0 {
			want += 4 + 4 + 2
			if f&dssDSN64 != 0 {
				want += 4
			}
		}
		csum := false
		if l == want+2 && f&dssHasMap != 0 {
			csum = true
		} else if l != want {
			r.malformed = true
			return
		}
		r.dss, r.dssFlags, r.dssCsum = true, f, csum
		j := optLenDSSHd
		if f&dssHasAck != 0 {
			if f&dssAck64 != 0 {
				r.dataAck = binary.BigEndian.Uint64(b[j:])
				j += 8
			} else {
				r.dataAck = uint64(binary.BigEndian.Uint32(b[j:]))
				j += 4
			}
		}
		if f&dssHasMap != 0 {
			if f&dssDSN64 != 0 {
				r.dsn = binary.BigEndian.Uint64(b[j:])
				j += 8
			} else {
				r.dsn = uint64(binary.BigEndian.Uint32(b[j:]))
				j += 4
			}
			r.ssn = binary.BigEndian.Uint32(b[j:])
			r.dataLen = binary.BigEndian.Uint16(b[j+4:])
			j += 6
			if csum {
				r.dssSum = binary.BigEndian.Uint16(b[j:])
			}
		}
	case mptcpSubPrio: // RFC 8684 3.3.8
		r.prio, r.prioBackup = true, b[2]&0x01 != 0
	case mptcpSubFastclose: // RFC 8684 3.5
		if l != optLenFastclose {
			r.malformed = true
			return
		}
		r.fastclose, r.fastcloseKey = true, binary.BigEndian.Uint64(b[4:])
	case mptcpSubRst: // RFC 8684 3.6
		r.mpRst = true
	case mptcpSubFail: // RFC 8684 3.7
		r.mpFail = true
	}
}
