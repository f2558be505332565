package golden

import "encoding/binary"

// MPTCP option subtypes (RFC 8684 section 7.2 / IANA).
const (
	SubtypeMPCapable  = 0x0
	SubtypeMPJoin     = 0x1
	SubtypeDSS        = 0x2
	SubtypeAddAddr    = 0x3
	SubtypeRemoveAddr = 0x4
	SubtypeMPPrio     = 0x5
	SubtypeMPFail     = 0x6
	SubtypeFastclose  = 0x7
	SubtypeTCPRST     = 0x8
)

// SubtypeNone is what Subtype returns for a malformed MPTCP option.
const SubtypeNone = 0xff

// Subtype returns the subtype of a raw MPTCP option (kind 30), or
// SubtypeNone when opt is not one.
func Subtype(opt []byte) uint8 {
	if len(opt) < 3 || opt[0] != OptMPTCP || int(opt[1]) != len(opt) {
		return SubtypeNone
	}
	return opt[2] >> 4
}

// SubtypeName names an MPTCP subtype as RFC 8684 does.
func SubtypeName(s uint8) string {
	switch s {
	case SubtypeMPCapable:
		return "MP_CAPABLE"
	case SubtypeMPJoin:
		return "MP_JOIN"
	case SubtypeDSS:
		return "DSS"
	case SubtypeAddAddr:
		return "ADD_ADDR"
	case SubtypeRemoveAddr:
		return "REMOVE_ADDR"
	case SubtypeMPPrio:
		return "MP_PRIO"
	case SubtypeMPFail:
		return "MP_FAIL"
	case SubtypeFastclose:
		return "MP_FASTCLOSE"
	case SubtypeTCPRST:
		return "MP_TCPRST"
	}
	return "unknown"
}

// MP_CAPABLE flag bits (RFC 8684 section 3.1).
const (
	CapFlagChecksum = 0x80 // A: checksums required
	CapFlagNoJoinIP = 0x40 // C: do not join to the source address
	CapFlagHMACSHA  = 0x01 // H: HMAC-SHA256
)

// MPCapable is a decoded MP_CAPABLE option. Which fields are present
// follows from the option length: 4 (SYN), 12 (SYN/ACK: SenderKey), 20
// (third ACK: both keys), 22 (first data: plus DataLen), 24 (plus
// Checksum).
type MPCapable struct {
	Len            int
	Version        uint8
	Flags          uint8
	SenderKey      uint64
	ReceiverKey    uint64
	HasSenderKey   bool
	HasReceiverKey bool
	DataLen        uint16
	HasDataLen     bool
	Checksum       uint16
	HasChecksum    bool
}

// ParseMPCapable decodes an MP_CAPABLE option; ok is false if opt is not
// one of the lengths above.
func ParseMPCapable(opt []byte) (c MPCapable, ok bool) {
	if Subtype(opt) != SubtypeMPCapable || len(opt) < 4 {
		return c, false
	}
	c.Len = len(opt)
	c.Version = opt[2] & 0x0f
	c.Flags = opt[3]
	switch len(opt) {
	case 4:
	case 12:
		c.SenderKey, c.HasSenderKey = binary.BigEndian.Uint64(opt[4:]), true
	case 20, 22, 24:
		c.SenderKey, c.HasSenderKey = binary.BigEndian.Uint64(opt[4:]), true
		c.ReceiverKey, c.HasReceiverKey = binary.BigEndian.Uint64(opt[12:]), true
		if len(opt) >= 22 {
			c.DataLen, c.HasDataLen = binary.BigEndian.Uint16(opt[20:]), true
		}
		if len(opt) == 24 {
			c.Checksum, c.HasChecksum = binary.BigEndian.Uint16(opt[22:]), true
		}
	default:
		return c, false
	}
	return c, true
}

// MPJoin is a decoded MP_JOIN option; which fields are set depends on
// the form (RFC 8684 section 3.2).
type MPJoin struct {
	// Len is 12 (SYN), 16 (SYN/ACK) or 24 (third ACK).
	Len    int
	Backup bool
	AddrID uint8
	// Token and Nonce of the SYN.
	Token uint32
	Nonce uint32
	// TruncHMAC (leftmost 64 bits) and Nonce of the SYN/ACK.
	TruncHMAC uint64
	// HMAC (160 bits) of the third ACK.
	HMAC [20]byte
}

// ParseMPJoin decodes an MP_JOIN option of length 12, 16 or 24.
func ParseMPJoin(opt []byte) (j MPJoin, ok bool) {
	if Subtype(opt) != SubtypeMPJoin || len(opt) < 4 {
		return j, false
	}
	j.Len = len(opt)
	switch len(opt) {
	case 12:
		j.Backup, j.AddrID = opt[2]&0x01 != 0, opt[3]
		j.Token = binary.BigEndian.Uint32(opt[4:])
		j.Nonce = binary.BigEndian.Uint32(opt[8:])
	case 16:
		j.Backup, j.AddrID = opt[2]&0x01 != 0, opt[3]
		j.TruncHMAC = binary.BigEndian.Uint64(opt[4:])
		j.Nonce = binary.BigEndian.Uint32(opt[12:])
	case 24:
		copy(j.HMAC[:], opt[4:])
	default:
		return j, false
	}
	return j, true
}

// DSS flag bits (RFC 8684 section 3.3).
const (
	DSSFlagDataACK  = 0x01 // A: DATA_ACK present
	DSSFlagDataACK8 = 0x02 // a: DATA_ACK is 8 octets
	DSSFlagMap      = 0x04 // M: DSN, SSN, data-level length (and checksum) present
	DSSFlagDSN8     = 0x08 // m: DSN is 8 octets
	DSSFlagDataFIN  = 0x10 // F: DATA_FIN
)

// DSS is a decoded DSS option. A 4-octet DATA_ACK or DSN is returned as
// is, not expanded to 64 bits.
type DSS struct {
	Len         int
	Flags       uint8
	HasDataACK  bool
	DataACK8    bool
	DataACK     uint64
	HasMap      bool
	DSN8        bool
	DSN         uint64
	SSN         uint32
	DataLen     uint16
	HasChecksum bool
	Checksum    uint16
	DataFIN     bool
}

// ParseDSS decodes a DSS option; ok is false if its length does not match
// its flags (with or without the 2-octet checksum).
func ParseDSS(opt []byte) (d DSS, ok bool) {
	if Subtype(opt) != SubtypeDSS || len(opt) < 4 {
		return d, false
	}
	d.Len = len(opt)
	d.Flags = opt[3]
	d.DataFIN = d.Flags&DSSFlagDataFIN != 0
	b := opt[4:]
	if d.Flags&DSSFlagDataACK != 0 {
		d.HasDataACK = true
		if d.Flags&DSSFlagDataACK8 != 0 {
			if len(b) < 8 {
				return d, false
			}
			d.DataACK8, d.DataACK, b = true, binary.BigEndian.Uint64(b), b[8:]
		} else {
			if len(b) < 4 {
				return d, false
			}
			d.DataACK, b = uint64(binary.BigEndian.Uint32(b)), b[4:]
		}
	}
	if d.Flags&DSSFlagMap != 0 {
		d.HasMap = true
		if d.Flags&DSSFlagDSN8 != 0 {
			if len(b) < 8 {
				return d, false
			}
			d.DSN8, d.DSN, b = true, binary.BigEndian.Uint64(b), b[8:]
		} else {
			if len(b) < 4 {
				return d, false
			}
			d.DSN, b = uint64(binary.BigEndian.Uint32(b)), b[4:]
		}
		if len(b) < 6 {
			return d, false
		}
		d.SSN = binary.BigEndian.Uint32(b)
		d.DataLen = binary.BigEndian.Uint16(b[4:])
		b = b[6:]
		if len(b) == 2 {
			d.HasChecksum, d.Checksum, b = true, binary.BigEndian.Uint16(b), b[2:]
		}
	}
	return d, len(b) == 0
}

// ParseFastclose returns the key carried by an MP_FASTCLOSE option (the
// key of the option's receiver, RFC 8684 section 3.5).
func ParseFastclose(opt []byte) (key uint64, ok bool) {
	if Subtype(opt) != SubtypeFastclose || len(opt) != 12 {
		return 0, false
	}
	return binary.BigEndian.Uint64(opt[4:]), true
}

// ParseTCPRST returns the flags (low nibble: U V W T) and reason code of
// an MP_TCPRST option (RFC 8684 section 3.6).
func ParseTCPRST(opt []byte) (flags, reason uint8, ok bool) {
	if Subtype(opt) != SubtypeTCPRST || len(opt) != 4 {
		return 0, 0, false
	}
	return opt[2] & 0x0f, opt[3], true
}
