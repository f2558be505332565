package option

// TCP option kinds (IANA "TCP Option Kind Numbers"; RFC 9293, RFC 7323,
// RFC 2018, RFC 8684).
const (
	KindEOL           = 0
	KindNOP           = 1
	KindMSS           = 2
	KindWindowScale   = 3
	KindSACKPermitted = 4
	KindSACK          = 5
	KindTimestamps    = 8
	KindMPTCP         = 30
)

// Lengths of the classic TCP options, kind and length bytes included.
const (
	LenMSS           = 4
	LenWindowScale   = 3
	LenSACKPermitted = 2
	LenTimestamps    = 10
	LenSACKBase      = 2 // kind, length; then 8 bytes per block
	LenSACKBlock     = 8
	MaxSACKBlocks    = 4  // (40 - 2) / 8
	MaxBlockLen      = 40 // TCP option space (data offset 15)
)

// MPTCP option subtypes, the high nibble of the third byte (RFC 8684
// section 3, Table 1; the kernel's MPTCPOPT_*).
const (
	SubtypeMPCapable   = 0x0
	SubtypeMPJoin      = 0x1
	SubtypeDSS         = 0x2
	SubtypeAddAddr     = 0x3
	SubtypeRemoveAddr  = 0x4
	SubtypeMPPrio      = 0x5
	SubtypeMPFail      = 0x6
	SubtypeMPFastclose = 0x7
	SubtypeMPTCPRst    = 0x8
)

// MPTCP option lengths, kind and length bytes included (the kernel's
// TCPOLEN_MPTCP_* in net/mptcp/protocol.h).
const (
	OptLenMPCSyn           = 4  // RFC 8684 3.1: SYN, no key (v1)
	OptLenMPCSynAck        = 12 // SYN/ACK: sender's key
	OptLenMPCAck           = 20 // third ACK: both keys
	OptLenMPCAckData       = 22 // first data: both keys, data-level length
	OptLenMPCAckDataCsum   = 24 // first data with checksum
	OptLenMPJSyn           = 12 // RFC 8684 3.2: token, nonce
	OptLenMPJSynAck        = 16 // truncated HMAC, nonce
	OptLenMPJAck           = 24 // full HMAC
	OptLenDSSBase          = 4  // RFC 8684 3.3: kind, length, subtype, flags
	OptLenDSSAck32         = 4
	OptLenDSSAck64         = 8
	OptLenDSSMap32         = 10 // DSN(4), SSN(4), data-level length(2)
	OptLenDSSMap64         = 14 // DSN(8), SSN(4), data-level length(2)
	OptLenDSSChecksum      = 2
	OptLenDSSMax           = OptLenDSSBase + OptLenDSSAck64 + OptLenDSSMap64 + OptLenDSSChecksum // 28
	OptLenAddAddr          = 16                                                                  // RFC 8684 3.4.1: IPv4, HMAC
	OptLenAddAddrPort      = 18
	OptLenAddAddrBase      = 8 // IPv4, echo (no HMAC)
	OptLenAddAddrBasePort  = 10
	OptLenAddAddr6         = 28
	OptLenAddAddr6Port     = 30
	OptLenAddAddr6Base     = 20
	OptLenAddAddr6BasePort = 22
	OptLenRemoveAddrBase   = 3  // RFC 8684 3.4.2: then one byte per id
	MaxRemoveAddrIDs       = 8  // the kernel's MPTCP_RM_IDS_MAX
	OptLenMPPrio           = 3  // RFC 8684 3.3.8
	OptLenMPFail           = 12 // RFC 8684 3.7
	OptLenMPFastclose      = 12 // RFC 8684 3.5
	OptLenMPTCPRst         = 4  // RFC 8684 3.6
	ThmacLen               = 8  // truncated HMAC in MP_JOIN SYN/ACK
	HMACLen                = 20 // HMAC in MP_JOIN third ACK (160 bits)
)

// MP_CAPABLE flags, the fourth byte (RFC 8684 3.1; the kernel's
// MPTCP_CAP_*).
const (
	MPCapChecksumReqd  = 1 << 7 // A: DSS checksums required
	MPCapExtensibility = 1 << 6 // B: must be 0 in v1
	MPCapDenyJoinID0   = 1 << 5 // C: do not join to the source address
	MPCapHMACSHA256    = 1 << 0 // H: HMAC-SHA256
	MPCapFlagMask      = 0x1f   // D..H: crypto algorithms; only H is defined
	MPTCPVersion1      = 1
	MPTCPVersionMask   = 0x0f
)

// DSS flags, the fourth byte (RFC 8684 3.3; the kernel's MPTCP_DSS_*).
const (
	DSSDataFIN  = 1 << 4 // F
	DSSDSN64    = 1 << 3 // m: DSN is 8 bytes
	DSSHasMap   = 1 << 2 // M: mapping present
	DSSAck64    = 1 << 1 // a: DATA_ACK is 8 bytes
	DSSHasAck   = 1 << 0 // A: DATA_ACK present
	DSSFlagMask = 0x1f
)

// Flags of the other MPTCP options.
const (
	MPJoinBackup = 1 << 0 // B in MP_JOIN (RFC 8684 3.2)
	AddAddrEcho  = 1 << 0 // E in ADD_ADDR (RFC 8684 3.4.1)
	MPPrioBackup = 1 << 0 // B in MP_PRIO (RFC 8684 3.3.8)
	RstTransient = 1 << 0 // T in MP_TCPRST (RFC 8684 3.6)
	RstFlagsMask = 0x0f   // U V W T
)

// MP_TCPRST reason codes (RFC 8684 3.6).
const (
	RstReasonUnspecified   = 0x00
	RstReasonMPTCPSpecific = 0x01
	RstReasonLackResources = 0x02
	RstReasonAdminProhibit = 0x03
	RstReasonTooMuchData   = 0x04
	RstReasonUnacceptable  = 0x05
	RstReasonMiddlebox     = 0x06
)

// DSSLen returns the length of a DSS option with the given flags, with the
// 2-byte checksum when checksum is set and the mapping is present (RFC 8684
// 3.3: the checksum belongs to the mapping).
func DSSLen(flags uint8, checksum bool) int {
	n := OptLenDSSBase
	if flags&DSSHasAck != 0 {
		if flags&DSSAck64 != 0 {
			n += OptLenDSSAck64
		} else {
			n += OptLenDSSAck32
		}
	}
	if flags&DSSHasMap != 0 {
		if flags&DSSDSN64 != 0 {
			n += OptLenDSSMap64
		} else {
			n += OptLenDSSMap32
		}
		if checksum {
			n += OptLenDSSChecksum
		}
	}
	return n
}

// AddAddrLen returns the length of an ADD_ADDR option (RFC 8684 3.4.1):
// 4 + address (4 or 16) + port (2, optional) + HMAC (8, absent when echo).
func AddAddrLen(ipv6, port, echo bool) int {
	n := 4 + 4
	if ipv6 {
		n = 4 + 16
	}
	if port {
		n += 2
	}
	if !echo {
		n += 8
	}
	return n
}

// Align4 returns n rounded up to a multiple of 4, the size an option block
// of n bytes occupies in the TCP header.
func Align4(n int) int { return (n + 3) &^ 3 }
