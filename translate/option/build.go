package option

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/header"
)

// Each builder writes one option at the start of b and returns its length,
// or 0 (writing nothing) when b is too short or the value cannot be
// encoded. MPTCP options are written with reserved bits zero.

// PutNOP writes a NOP.
func PutNOP(b []byte) int {
	if len(b) < 1 {
		return 0
	}
	b[0] = KindNOP
	return 1
}

// PutMSS writes an MSS option.
func PutMSS(b []byte, mss uint16) int {
	if len(b) < LenMSS {
		return 0
	}
	b[0], b[1] = KindMSS, LenMSS
	binary.BigEndian.PutUint16(b[2:], mss)
	return LenMSS
}

// PutWindowScale writes a window scale option with the given shift.
func PutWindowScale(b []byte, shift uint8) int {
	if len(b) < LenWindowScale {
		return 0
	}
	b[0], b[1], b[2] = KindWindowScale, LenWindowScale, shift
	return LenWindowScale
}

// PutSACKPermitted writes a SACK-permitted option.
func PutSACKPermitted(b []byte) int {
	if len(b) < LenSACKPermitted {
		return 0
	}
	b[0], b[1] = KindSACKPermitted, LenSACKPermitted
	return LenSACKPermitted
}

// PutSACK writes a SACK option with 1 to MaxSACKBlocks blocks.
func PutSACK(b []byte, blocks []SACKBlock) int {
	n := LenSACKBase + LenSACKBlock*len(blocks)
	if len(blocks) == 0 || len(blocks) > MaxSACKBlocks || len(b) < n {
		return 0
	}
	b[0], b[1] = KindSACK, uint8(n)
	for k, s := range blocks {
		binary.BigEndian.PutUint32(b[LenSACKBase+k*LenSACKBlock:], uint32(s.Left))
		binary.BigEndian.PutUint32(b[LenSACKBase+k*LenSACKBlock+4:], uint32(s.Right))
	}
	return n
}

// PutTimestamps writes a timestamps option.
func PutTimestamps(b []byte, val, ecr uint32) int {
	if len(b) < LenTimestamps {
		return 0
	}
	b[0], b[1] = KindTimestamps, LenTimestamps
	binary.BigEndian.PutUint32(b[2:], val)
	binary.BigEndian.PutUint32(b[6:], ecr)
	return LenTimestamps
}

// putMPTCPHeader writes kind, length and the subtype byte (subtype in the
// high nibble, nib in the low one).
func putMPTCPHeader(b []byte, n int, subtype, nib uint8) {
	b[0], b[1], b[2] = KindMPTCP, uint8(n), subtype<<4|nib&0xf
}

// Put writes m in the form m.Len selects.
func (m *MPCapableOpt) Put(b []byte) int {
	n := int(m.Len)
	switch n {
	case OptLenMPCSyn, OptLenMPCSynAck, OptLenMPCAck, OptLenMPCAckData, OptLenMPCAckDataCsum:
	default:
		return 0
	}
	if len(b) < n {
		return 0
	}
	putMPTCPHeader(b, n, SubtypeMPCapable, m.Version)
	b[3] = m.Flags
	if n >= OptLenMPCSynAck {
		binary.BigEndian.PutUint64(b[4:], m.SenderKey)
	}
	if n >= OptLenMPCAck {
		binary.BigEndian.PutUint64(b[12:], m.ReceiverKey)
	}
	if n >= OptLenMPCAckData {
		binary.BigEndian.PutUint16(b[20:], m.DataLen)
	}
	if n == OptLenMPCAckDataCsum {
		binary.BigEndian.PutUint16(b[22:], m.Checksum)
	}
	return n
}

// Put writes j in the form j.Len selects.
func (j *MPJoinOpt) Put(b []byte) int {
	n := int(j.Len)
	if n != OptLenMPJSyn && n != OptLenMPJSynAck && n != OptLenMPJAck || len(b) < n {
		return 0
	}
	var nib uint8
	if j.Backup && n != OptLenMPJAck {
		nib = MPJoinBackup
	}
	putMPTCPHeader(b, n, SubtypeMPJoin, nib)
	switch n {
	case OptLenMPJSyn:
		b[3] = j.AddrID
		binary.BigEndian.PutUint32(b[4:], j.Token)
		binary.BigEndian.PutUint32(b[8:], j.Nonce)
	case OptLenMPJSynAck:
		b[3] = j.AddrID
		binary.BigEndian.PutUint64(b[4:], j.TruncatedHMAC)
		binary.BigEndian.PutUint32(b[12:], j.Nonce)
	default:
		b[3] = 0 // reserved
		copy(b[4:], j.HMAC[:])
	}
	return n
}

// Put writes d: DATA_ACK and mapping as its flags say, 4 or 8 bytes each,
// and the checksum when d.HasChecksum and a mapping is present.
func (d *DSSOpt) Put(b []byte) int {
	f := d.Flags & DSSFlagMask
	n := DSSLen(f, d.HasChecksum)
	if len(b) < n {
		return 0
	}
	putMPTCPHeader(b, n, SubtypeDSS, 0)
	b[3] = f
	p := 4
	if f&DSSHasAck != 0 {
		if f&DSSAck64 != 0 {
			binary.BigEndian.PutUint64(b[p:], uint64(d.DataAck))
			p += 8
		} else {
			binary.BigEndian.PutUint32(b[p:], uint32(d.DataAck))
			p += 4
		}
	}
	if f&DSSHasMap != 0 {
		if f&DSSDSN64 != 0 {
			binary.BigEndian.PutUint64(b[p:], uint64(d.DSN))
			p += 8
		} else {
			binary.BigEndian.PutUint32(b[p:], uint32(d.DSN))
			p += 4
		}
		binary.BigEndian.PutUint32(b[p:], uint32(d.SSN))
		binary.BigEndian.PutUint16(b[p+4:], d.DataLen)
		p += 6
		if d.HasChecksum {
			binary.BigEndian.PutUint16(b[p:], d.Checksum)
		}
	}
	return n
}

// PutDSSAck writes a DSS carrying only a 64-bit DATA_ACK (12 bytes), the
// option of a pure ACK.
func PutDSSAck(b []byte, dataAck header.DSN64) int {
	d := DSSOpt{Flags: DSSHasAck | DSSAck64, DataAck: dataAck}
	return d.Put(b)
}

// PutDSSMap writes a DSS with a 64-bit DATA_ACK and a 64-bit mapping (26
// bytes, 28 with checksum), the option P adds to a server segment.
func PutDSSMap(b []byte, dataAck, dsn header.DSN64, ssn header.Seq32, dataLen uint16, fin, checksum bool, csum uint16) int {
	d := DSSOpt{Flags: DSSHasAck | DSSAck64 | DSSHasMap | DSSDSN64, DataAck: dataAck, DSN: dsn,
		SSN: ssn, DataLen: dataLen, HasChecksum: checksum, Checksum: csum}
	if fin {
		d.Flags |= DSSDataFIN
	}
	return d.Put(b)
}

// Put writes a.
func (a *AddAddrOpt) Put(b []byte) int {
	n := a.Len()
	if len(b) < n {
		return 0
	}
	var nib uint8
	if a.Echo {
		nib = AddAddrEcho
	}
	putMPTCPHeader(b, n, SubtypeAddAddr, nib)
	b[3] = a.AddrID
	p := 4
	if a.IPv6 {
		copy(b[p:], a.Addr[:16])
		p += 16
	} else {
		copy(b[p:], a.Addr[:4])
		p += 4
	}
	if a.HasPort {
		binary.BigEndian.PutUint16(b[p:], a.Port)
		p += 2
	}
	if !a.Echo {
		binary.BigEndian.PutUint64(b[p:], a.HMAC)
	}
	return n
}

// Put writes r; r.N must be 1 to MaxRemoveAddrIDs.
func (r *RemoveAddrOpt) Put(b []byte) int {
	n := OptLenRemoveAddrBase + int(r.N)
	if r.N == 0 || r.N > MaxRemoveAddrIDs || len(b) < n {
		return 0
	}
	putMPTCPHeader(b, n, SubtypeRemoveAddr, 0)
	copy(b[OptLenRemoveAddrBase:n], r.IDs[:r.N])
	return n
}

// Put writes p (3 bytes; pad with a NOP).
func (p *MPPrioOpt) Put(b []byte) int {
	if len(b) < OptLenMPPrio {
		return 0
	}
	var nib uint8
	if p.Backup {
		nib = MPPrioBackup
	}
	putMPTCPHeader(b, OptLenMPPrio, SubtypeMPPrio, nib)
	return OptLenMPPrio
}

// Put writes f.
func (f *MPFailOpt) Put(b []byte) int {
	if len(b) < OptLenMPFail {
		return 0
	}
	putMPTCPHeader(b, OptLenMPFail, SubtypeMPFail, 0)
	b[3] = 0 // reserved
	binary.BigEndian.PutUint64(b[4:], uint64(f.DSN))
	return OptLenMPFail
}

// Put writes f.
func (f *MPFastcloseOpt) Put(b []byte) int {
	if len(b) < OptLenMPFastclose {
		return 0
	}
	putMPTCPHeader(b, OptLenMPFastclose, SubtypeMPFastclose, 0)
	b[3] = 0 // reserved
	binary.BigEndian.PutUint64(b[4:], f.ReceiverKey)
	return OptLenMPFastclose
}

// Put writes r.
func (r *MPTCPRstOpt) Put(b []byte) int {
	if len(b) < OptLenMPTCPRst {
		return 0
	}
	putMPTCPHeader(b, OptLenMPTCPRst, SubtypeMPTCPRst, r.Flags&RstFlagsMask)
	b[3] = r.Reason
	return OptLenMPTCPRst
}

// PadNOP fills b[n:Align4(n)] with NOPs and returns Align4(n), or 0 if b
// is too short.
func PadNOP(b []byte, n int) int {
	m := Align4(n)
	if len(b) < m {
		return 0
	}
	for i := n; i < m; i++ {
		b[i] = KindNOP
	}
	return m
}

// Remove deletes from the parsed block every option whose type is in drop,
// in place: the kept options move forward in order with the NOPs that
// precede them (NOPs before a dropped option, trailing NOPs, anything from
// an EOL on and the bytes from a malformed option on are dropped), and the
// result is padded with NOPs to a multiple of 4 (when the block length is
// one). It returns the new length, at most len(block). o must be the
// result of parsing block and is stale afterwards. To fix the TCP
// checksum, sum the block before and after (header.OnesSum) and apply
// header.UpdateChecksumSum; the data offset and the TCP length change too.
func Remove(block []byte, o *Options, drop Set) int {
	w, r := 0, 0
	for k := range int(o.NSpans) {
		s := o.Spans[k]
		if s.ID == EOL {
			break
		}
		end := int(s.Off) + int(s.Len)
		if !drop.Has(s.ID) {
			w += copy(block[w:], block[r:end]) // preceding NOPs and the option
		}
		r = end
	}
	if m := Align4(w); m <= len(block) {
		return PadNOP(block, w)
	}
	return w
}
