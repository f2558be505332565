package option

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/header"
)

// ID names an option type that Parse recognises.
type ID uint8

// Option types. MPTCPOther is a kind-30 option that Parse ignored (unknown
// subtype, or a length or field the kernel would reject); Unknown is any
// other kind.
const (
	MSS ID = iota
	WindowScale
	SACKPermitted
	SACK
	Timestamps
	MPCapable
	MPJoin
	DSS
	AddAddr
	RemoveAddr
	MPPrio
	MPFail
	MPFastclose
	MPTCPRst
	MPTCPOther
	Unknown
	EOL
	numIDs
)

// Set is a set of option types, one bit per ID.
type Set uint32

// Has reports whether id is in s.
func (s Set) Has(id ID) bool { return s&(1<<id) != 0 }

// With returns s with id added.
func (s Set) With(id ID) Set { return s | 1<<id }

// SetOf returns the set of the given types.
func SetOf(ids ...ID) Set {
	var s Set
	for _, id := range ids {
		s |= 1 << id
	}
	return s
}

// SetMPTCP holds every MPTCP option type, ignored ones included: what the
// translator strips from a segment before it goes to a plain TCP server.
const SetMPTCP Set = 1<<MPCapable | 1<<MPJoin | 1<<DSS | 1<<AddAddr | 1<<RemoveAddr |
	1<<MPPrio | 1<<MPFail | 1<<MPFastclose | 1<<MPTCPRst | 1<<MPTCPOther

// MaxSpans bounds the options of one block: 40 bytes, at least 2 per
// option (NOPs are not recorded).
const MaxSpans = MaxBlockLen / 2

// Span locates one option inside the block.
type Span struct {
	Off uint8 // offset of the kind byte
	Len uint8 // length, kind and length bytes included (1 for EOL)
	ID  ID
}

// SACKBlock is one SACK block: the left edge and the right edge (the
// sequence number after the last byte), RFC 2018 section 3.
type SACKBlock struct {
	Left, Right header.Seq32
}

// MPCapableOpt is an MP_CAPABLE option (RFC 8684 section 3.1). Len tells
// its form: OptLenMPCSyn, OptLenMPCSynAck, OptLenMPCAck, OptLenMPCAckData
// or OptLenMPCAckDataCsum.
type MPCapableOpt struct {
	Len         uint8
	Version     uint8
	Flags       uint8  // MPCap*
	SenderKey   uint64 // Len >= 12
	ReceiverKey uint64 // Len >= 20
	DataLen     uint16 // Len >= 22: data-level length of the first data
	Checksum    uint16 // Len == 24: DSS checksum of the first data
}

// MPJoinOpt is an MP_JOIN option (RFC 8684 section 3.2). Len tells its
// form: OptLenMPJSyn, OptLenMPJSynAck or OptLenMPJAck.
type MPJoinOpt struct {
	Len           uint8
	Backup        bool   // SYN and SYN/ACK
	AddrID        uint8  // SYN and SYN/ACK
	Token         uint32 // SYN: the receiver's token
	Nonce         uint32 // SYN and SYN/ACK: the sender's random number
	TruncatedHMAC uint64 // SYN/ACK: leftmost 64 bits of the sender's HMAC
	HMAC          [HMACLen]byte
}

// DSSOpt is a Data Sequence Signal (RFC 8684 section 3.3). Values are raw:
// a 4-byte DATA_ACK or DSN is its wire value; expand it with
// header.DSN64.Expand.
type DSSOpt struct {
	Flags       uint8        // DSS*
	DataAck     header.DSN64 // Flags&DSSHasAck
	DSN         header.DSN64 // Flags&DSSHasMap
	SSN         header.Seq32 // subflow sequence number, relative to the ISN
	DataLen     uint16       // data-level length
	HasChecksum bool         // the mapping carries a checksum
	Checksum    uint16
}

// HasAck reports whether a DATA_ACK is present.
func (d *DSSOpt) HasAck() bool { return d.Flags&DSSHasAck != 0 }

// HasMap reports whether a mapping is present.
func (d *DSSOpt) HasMap() bool { return d.Flags&DSSHasMap != 0 }

// DataFIN reports whether the F flag is set.
func (d *DSSOpt) DataFIN() bool { return d.Flags&DSSDataFIN != 0 }

// Len returns the encoded length of d.
func (d *DSSOpt) Len() int { return DSSLen(d.Flags, d.HasChecksum) }

// AddAddrOpt is an ADD_ADDR option (RFC 8684 section 3.4.1).
type AddAddrOpt struct {
	Echo    bool // E: an echo carries no HMAC
	AddrID  uint8
	IPv6    bool
	Addr    [16]byte // the first 4 bytes for IPv4
	HasPort bool
	Port    uint16
	HMAC    uint64 // !Echo: truncated HMAC
}

// Len returns the encoded length of a.
func (a *AddAddrOpt) Len() int { return AddAddrLen(a.IPv6, a.HasPort, a.Echo) }

// RemoveAddrOpt is a REMOVE_ADDR option (RFC 8684 section 3.4.2).
type RemoveAddrOpt struct {
	N   uint8 // number of ids, 1 to MaxRemoveAddrIDs
	IDs [MaxRemoveAddrIDs]uint8
}

// MPPrioOpt is an MP_PRIO option (RFC 8684 section 3.3.8).
type MPPrioOpt struct {
	Backup bool
}

// MPFailOpt is an MP_FAIL option (RFC 8684 section 3.7).
type MPFailOpt struct {
	DSN header.DSN64 // the DSN where the checksum failed
}

// MPFastcloseOpt is an MP_FASTCLOSE option (RFC 8684 section 3.5).
type MPFastcloseOpt struct {
	ReceiverKey uint64
}

// MPTCPRstOpt is an MP_TCPRST option (RFC 8684 section 3.6).
type MPTCPRstOpt struct {
	Flags  uint8 // U V W T (RstTransient)
	Reason uint8 // RstReason*
}

// Options is the result of parsing one option block. A value field is
// meaningful only when Present has its ID; Parse resets Present, the span
// list and the counters, not the values. The zero value is ready; an
// Options is reused across packets and owned by one goroutine.
type Options struct {
	Present   Set
	Malformed bool  // parsing stopped at a length of 0 or 1, or past the block
	BadOff    uint8 // offset where parsing stopped when Malformed
	NOPs      uint8 // number of NOP bytes seen
	NSpans    uint8
	Spans     [MaxSpans]Span // every option but NOPs, in block order
	off, len  [numIDs]uint8  // last span of each type

	MSS         uint16
	WindowScale uint8
	NSACK       uint8
	SACK        [MaxSACKBlocks]SACKBlock
	TSVal       uint32
	TSEcr       uint32

	MPCapable   MPCapableOpt
	MPJoin      MPJoinOpt
	DSS         DSSOpt
	AddAddr     AddAddrOpt
	RemoveAddr  RemoveAddrOpt
	MPPrio      MPPrioOpt
	MPFail      MPFailOpt
	MPFastclose MPFastcloseOpt
	MPTCPRst    MPTCPRstOpt
}

// HasMPTCP reports whether block holds an MPTCP option (kind 30) before
// an EOL or a malformed length ends it: the answer of Parse's
// Present&SetMPTCP != 0, from a walk over the kinds and lengths that
// decodes nothing. The translator asks it of client segments it has no
// state for (docs/translation.md I33); a block with only NOPs and a
// timestamp costs three steps.
func HasMPTCP(block []byte) bool {
	if len(block) > MaxBlockLen {
		block = block[:MaxBlockLen]
	}
	for i := 0; i < len(block); {
		switch block[i] {
		case KindEOL:
			return false
		case KindNOP:
			i++
			continue
		}
		if len(block)-i < 2 {
			return false
		}
		n := int(block[i+1])
		if n < 2 || n > len(block)-i {
			return false
		}
		if block[i] == KindMPTCP {
			return true
		}
		i += n
	}
	return false
}

// Span returns the offset and length in the block of the last option of
// type id, or ok false if there is none.
func (o *Options) Span(id ID) (off, n int, ok bool) {
	if !o.Present.Has(id) {
		return 0, 0, false
	}
	return int(o.off[id]), int(o.len[id]), true
}

// Parse parses the option block of a TCP segment (header.TCP.Options)
// whose control flags are tcpFlags (header.TCPFlag*) and that carries data
// when hasData. It returns false when parsing stopped early (Malformed);
// the options before that point are still reported.
func (o *Options) Parse(block []byte, tcpFlags uint8, hasData bool) bool {
	o.Present = 0
	o.Malformed = false
	o.BadOff = 0
	o.NOPs = 0
	o.NSpans = 0
	if len(block) > MaxBlockLen {
		block = block[:MaxBlockLen]
	}
	i := 0
	for i < len(block) {
		kind := block[i]
		switch kind {
		case KindEOL:
			o.add(EOL, i, 1)
			return true
		case KindNOP:
			o.NOPs++
			i++
			continue
		}
		// RFC 9293 3.2; Linux tcp_parse_options and mptcp_get_options:
		// a length below 2 ("silly options") or past the block ends
		// parsing.
		if len(block)-i < 2 {
			o.Malformed, o.BadOff = true, uint8(i)
			return false
		}
		n := int(block[i+1])
		if n < 2 || n > len(block)-i {
			o.Malformed, o.BadOff = true, uint8(i)
			return false
		}
		if kind == KindMPTCP && n >= 3 {
			// parseOne's MPTCP case, without the call through it: the
			// one option of most established segments.
			id := o.parseMPTCP(block[i:i+n], tcpFlags, hasData)
			o.add(id, i, n)
		} else {
			o.parseOne(block[i:i+n], i, tcpFlags, hasData)
		}
		i += n
	}
	return true
}

func (o *Options) add(id ID, off, n int) {
	if int(o.NSpans) < MaxSpans {
		o.Spans[o.NSpans] = Span{Off: uint8(off), Len: uint8(n), ID: id}
		o.NSpans++
	}
	if id != Unknown && id != MPTCPOther {
		o.off[id], o.len[id] = uint8(off), uint8(n)
	}
	o.Present |= 1 << id
}

// parseOne decodes one option b (kind, length, body) found at offset off.
func (o *Options) parseOne(b []byte, off int, tcpFlags uint8, hasData bool) {
	n := len(b)
	switch b[0] {
	case KindMSS:
		if n != LenMSS {
			break
		}
		o.MSS = binary.BigEndian.Uint16(b[2:])
		o.add(MSS, off, n)
		return
	case KindWindowScale:
		if n != LenWindowScale {
			break
		}
		o.WindowScale = b[2]
		o.add(WindowScale, off, n)
		return
	case KindSACKPermitted:
		if n != LenSACKPermitted {
			break
		}
		o.add(SACKPermitted, off, n)
		return
	case KindSACK:
		// RFC 2018 section 3: 2 + 8n bytes.
		if n < LenSACKBase+LenSACKBlock || (n-LenSACKBase)%LenSACKBlock != 0 {
			break
		}
		o.NSACK = uint8((n - LenSACKBase) / LenSACKBlock)
		for k := range int(o.NSACK) {
			p := b[LenSACKBase+k*LenSACKBlock:]
			o.SACK[k] = SACKBlock{header.Seq32(binary.BigEndian.Uint32(p)), header.Seq32(binary.BigEndian.Uint32(p[4:]))}
		}
		o.add(SACK, off, n)
		return
	case KindTimestamps:
		if n != LenTimestamps {
			break
		}
		o.TSVal = binary.BigEndian.Uint32(b[2:])
		o.TSEcr = binary.BigEndian.Uint32(b[6:])
		o.add(Timestamps, off, n)
		return
	case KindMPTCP:
		if n >= 3 {
			if id := o.parseMPTCP(b, tcpFlags, hasData); id != MPTCPOther {
				o.add(id, off, n)
				return
			}
		}
		o.add(MPTCPOther, off, n)
		return
	}
	o.add(Unknown, off, n)
}

// parseMPTCP decodes an MPTCP option b (len(b) >= 3) and returns its type,
// or MPTCPOther if the kernel would ignore it. The checks mirror
// net/mptcp/options.c mptcp_parse_option.
func (o *Options) parseMPTCP(b []byte, tcpFlags uint8, hasData bool) ID {
	n := len(b)
	sub := b[2] >> 4
	switch sub {
	case SubtypeMPCapable:
		// RFC 8684 3.1: the length is fixed by the segment: SYN 4,
		// SYN/ACK 12, third ACK 20, first data 22 (24 with checksum).
		var want int
		switch {
		case tcpFlags&flagSyn == 0 && hasData:
			want = OptLenMPCAckData
		case tcpFlags&flagSyn == 0:
			want = OptLenMPCAck
		case tcpFlags&flagAck != 0:
			want = OptLenMPCSynAck
		default:
			want = OptLenMPCSyn
		}
		if n != want && (want != OptLenMPCAckData || n != OptLenMPCAckDataCsum) {
			return MPTCPOther
		}
		v := b[2] & MPTCPVersionMask
		// Version 1 only, but a SYN may offer a later version (the
		// kernel answers it with version 1).
		if n == OptLenMPCSyn && v < MPTCPVersion1 || n != OptLenMPCSyn && v != MPTCPVersion1 {
			return MPTCPOther
		}
		f := b[3]
		// RFC 8684 3.1: H must be the only algorithm bit; B must be 0.
		if f&MPCapFlagMask != MPCapHMACSHA256 || f&MPCapExtensibility != 0 {
			return MPTCPOther
		}
		m := &o.MPCapable
		*m = MPCapableOpt{Len: uint8(n), Version: v, Flags: f}
		if n >= OptLenMPCSynAck {
			m.SenderKey = binary.BigEndian.Uint64(b[4:])
		}
		if n >= OptLenMPCAck {
			m.ReceiverKey = binary.BigEndian.Uint64(b[12:])
		}
		if n >= OptLenMPCAckData {
			m.DataLen = binary.BigEndian.Uint16(b[20:])
		}
		if n == OptLenMPCAckDataCsum {
			m.Checksum = binary.BigEndian.Uint16(b[22:])
		}
		return MPCapable
	case SubtypeMPJoin:
		// RFC 8684 3.2: the length alone tells SYN, SYN/ACK and ACK.
		j := &o.MPJoin
		switch n {
		case OptLenMPJSyn:
			*j = MPJoinOpt{Len: uint8(n), Backup: b[2]&MPJoinBackup != 0, AddrID: b[3],
				Token: binary.BigEndian.Uint32(b[4:]), Nonce: binary.BigEndian.Uint32(b[8:])}
		case OptLenMPJSynAck:
			*j = MPJoinOpt{Len: uint8(n), Backup: b[2]&MPJoinBackup != 0, AddrID: b[3],
				TruncatedHMAC: binary.BigEndian.Uint64(b[4:]), Nonce: binary.BigEndian.Uint32(b[12:])}
		case OptLenMPJAck:
			*j = MPJoinOpt{Len: uint8(n)}
			copy(j.HMAC[:], b[4:])
		default:
			return MPTCPOther
		}
		return MPJoin
	case SubtypeDSS:
		if n < OptLenDSSBase {
			return MPTCPOther
		}
		f := b[3] & DSSFlagMask
		// RFC 8684 3.3: the flags fix the length; the checksum (2
		// bytes) may follow; whether it was negotiated is the caller's
		// check (3.3.0), as in the kernel.
		want := DSSLen(f, false)
		if n != want && n != want+OptLenDSSChecksum {
			return MPTCPOther
		}
		d := &o.DSS
		*d = DSSOpt{Flags: f}
		p := 4
		if f&DSSHasAck != 0 {
			if f&DSSAck64 != 0 {
				d.DataAck = header.DSN64(binary.BigEndian.Uint64(b[p:]))
				p += 8
			} else {
				d.DataAck = header.DSN64(binary.BigEndian.Uint32(b[p:]))
				p += 4
			}
		}
		if f&DSSHasMap != 0 {
			if f&DSSDSN64 != 0 {
				d.DSN = header.DSN64(binary.BigEndian.Uint64(b[p:]))
				p += 8
			} else {
				d.DSN = header.DSN64(binary.BigEndian.Uint32(b[p:]))
				p += 4
			}
			d.SSN = header.Seq32(binary.BigEndian.Uint32(b[p:]))
			d.DataLen = binary.BigEndian.Uint16(b[p+4:])
			p += 6
			if n == want+OptLenDSSChecksum {
				d.HasChecksum = true
				d.Checksum = binary.BigEndian.Uint16(b[p:])
			}
		}
		return DSS
	case SubtypeAddAddr:
		// RFC 8684 3.4.1: family, port and HMAC are told by the length
		// and the echo flag.
		a := &o.AddAddr
		echo := b[2]&AddAddrEcho != 0
		var v6, port bool
		switch n {
		case AddAddrLen(false, false, echo):
		case AddAddrLen(false, true, echo):
			port = true
		case AddAddrLen(true, false, echo):
			v6 = true
		case AddAddrLen(true, true, echo):
			v6, port = true, true
		default:
			return MPTCPOther
		}
		*a = AddAddrOpt{Echo: echo, AddrID: b[3], IPv6: v6, HasPort: port}
		p := 4
		if v6 {
			copy(a.Addr[:], b[p:p+16])
			p += 16
		} else {
			copy(a.Addr[:4], b[p:p+4])
			p += 4
		}
		if port {
			a.Port = binary.BigEndian.Uint16(b[p:])
			p += 2
		}
		if !echo {
			a.HMAC = binary.BigEndian.Uint64(b[p:])
		}
		return AddAddr
	case SubtypeRemoveAddr:
		// RFC 8684 3.4.2: at least one id; the kernel takes at most
		// MPTCP_RM_IDS_MAX.
		if n < OptLenRemoveAddrBase+1 || n > OptLenRemoveAddrBase+MaxRemoveAddrIDs {
			return MPTCPOther
		}
		r := &o.RemoveAddr
		r.N = uint8(copy(r.IDs[:], b[OptLenRemoveAddrBase:]))
		return RemoveAddr
	case SubtypeMPPrio:
		if n != OptLenMPPrio { // RFC 8684 3.3.8
			return MPTCPOther
		}
		o.MPPrio.Backup = b[2]&MPPrioBackup != 0
		return MPPrio
	case SubtypeMPFail:
		if n != OptLenMPFail { // RFC 8684 3.7
			return MPTCPOther
		}
		o.MPFail.DSN = header.DSN64(binary.BigEndian.Uint64(b[4:]))
		return MPFail
	case SubtypeMPFastclose:
		if n != OptLenMPFastclose { // RFC 8684 3.5
			return MPTCPOther
		}
		o.MPFastclose.ReceiverKey = binary.BigEndian.Uint64(b[4:])
		return MPFastclose
	case SubtypeMPTCPRst:
		// RFC 8684 3.6: only on a RST.
		if n != OptLenMPTCPRst || tcpFlags&flagRst == 0 {
			return MPTCPOther
		}
		o.MPTCPRst = MPTCPRstOpt{Flags: b[2] & RstFlagsMask, Reason: b[3]}
		return MPTCPRst
	}
	return MPTCPOther
}

// TCP flags Parse looks at (header.TCPFlag*).
const (
	flagSyn = header.TCPFlagSyn
	flagRst = header.TCPFlagRst
	flagAck = header.TCPFlagAck
)
