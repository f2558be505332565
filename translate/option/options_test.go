package option

import (
	"bytes"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

const (
	syn    = header.TCPFlagSyn
	synAck = header.TCPFlagSyn | header.TCPFlagAck
	ack    = header.TCPFlagAck
	rst    = header.TCPFlagRst | header.TCPFlagAck
)

// Option blocks as a Linux 6.x MPTCP client and server write them.
var (
	// Client SYN: MSS, SACK-permitted, timestamps, NOP, window scale,
	// MP_CAPABLE v1 without key.
	blockMPCSyn = []byte{
		0x02, 0x04, 0x05, 0xb4, // MSS 1460
		0x04, 0x02, // SACK permitted
		0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, // TSval 0x11223344, TSecr 0
		0x01,             // NOP
		0x03, 0x03, 0x07, // window scale 7
		0x1e, 0x04, 0x01, 0x01, // MP_CAPABLE len 4, subtype 0 version 1, flags H
	}
	// Server SYN/ACK: the same with MP_CAPABLE carrying the server key.
	blockMPCSynAck = []byte{
		0x02, 0x04, 0x05, 0xb4, // MSS 1460
		0x04, 0x02, // SACK permitted
		0x08, 0x0a, 0x55, 0x66, 0x77, 0x88, 0x11, 0x22, 0x33, 0x44, // TSval, TSecr
		0x01,             // NOP
		0x03, 0x03, 0x07, // window scale 7
		0x1e, 0x0c, 0x01, 0x01, // MP_CAPABLE len 12, version 1, flags H
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, // server key
	}
	// Third ACK: NOP NOP timestamps, MP_CAPABLE with both keys.
	blockMPCAck = []byte{
		0x01, 0x01, // NOP NOP
		0x08, 0x0a, 0x11, 0x22, 0x33, 0x45, 0x55, 0x66, 0x77, 0x88, // timestamps
		0x1e, 0x14, 0x01, 0x01, // MP_CAPABLE len 20, version 1, flags H
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, // sender (client) key
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, // receiver (server) key
	}
	// First data segment when the third ACK was lost: both keys and the
	// data-level length, then two NOPs.
	blockMPCData = []byte{
		0x01, 0x01, // NOP NOP
		0x08, 0x0a, 0x11, 0x22, 0x33, 0x45, 0x55, 0x66, 0x77, 0x88, // timestamps
		0x1e, 0x16, 0x01, 0x01, // MP_CAPABLE len 22, version 1, flags H
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, // sender key
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, // receiver key
		0x05, 0xa8, // data-level length 1448
		0x01, 0x01, // NOP NOP
	}
	// Data segment: timestamps and a full DSS (DATA_ACK 8, DSN 8, SSN,
	// length), then the two NOPs the kernel writes instead of a checksum:
	// 40 bytes.
	blockDSSData = []byte{
		0x01, 0x01, // NOP NOP
		0x08, 0x0a, 0x11, 0x22, 0x33, 0x46, 0x55, 0x66, 0x77, 0x89, // timestamps
		0x1e, 0x1a, 0x20, 0x0f, // DSS len 26, subtype 2, flags m M a A
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // DATA_ACK
		0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, // DSN
		0x00, 0x00, 0x00, 0x01, // SSN 1
		0x05, 0xa8, // data-level length 1448
		0x01, 0x01, // NOP NOP
	}
	// Pure ACK with a 4-byte DATA_ACK (before any 8-byte mapping came in).
	blockDSSAck32 = []byte{
		0x01, 0x01, // NOP NOP
		0x08, 0x0a, 0x11, 0x22, 0x33, 0x46, 0x55, 0x66, 0x77, 0x89, // timestamps
		0x1e, 0x08, 0x20, 0x01, // DSS len 8, flags A
		0xde, 0xad, 0xbe, 0xef, // DATA_ACK (low 32 bits)
	}
	// DATA_FIN on a pure ACK: DSN of the FIN, SSN 0, length 1, checksum.
	blockDSSFinCsum = []byte{
		0x1e, 0x1c, 0x20, 0x1f, // DSS len 28, flags F m M a A
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // DATA_ACK
		0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, // DSN
		0x00, 0x00, 0x00, 0x00, // SSN 0
		0x00, 0x01, // data-level length 1
		0xab, 0xcd, // checksum
	}
	// DSS with a 4-byte DSN mapping and no DATA_ACK.
	blockDSSMap32 = []byte{
		0x1e, 0x0e, 0x20, 0x04, // DSS len 14, flags M
		0x10, 0x20, 0x30, 0x40, // DSN (low 32 bits)
		0x00, 0x00, 0x10, 0x01, // SSN
		0x00, 0x10, // data-level length 16
		0x01, 0x01, // NOP NOP
	}
	// Join SYN: MSS, SACK-permitted, timestamps, NOP, WS, MP_JOIN.
	blockMPJSyn = []byte{
		0x02, 0x04, 0x05, 0xb4, // MSS 1460
		0x04, 0x02, // SACK permitted
		0x08, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // timestamps
		0x01,             // NOP
		0x03, 0x03, 0x07, // window scale 7
		0x1e, 0x0c, 0x11, 0x02, // MP_JOIN len 12, subtype 1, B, address id 2
		0xc0, 0xc1, 0xc2, 0xc3, // receiver's token
		0xd0, 0xd1, 0xd2, 0xd3, // sender's nonce
	}
	// Join SYN/ACK option alone.
	blockMPJSynAck = []byte{
		0x1e, 0x10, 0x10, 0x00, // MP_JOIN len 16, subtype 1, address id 0
		0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, // truncated HMAC
		0xf0, 0xf1, 0xf2, 0xf3, // sender's nonce
	}
	// Join third ACK: NOP NOP timestamps, MP_JOIN with the full HMAC.
	blockMPJAck = []byte{
		0x01, 0x01, // NOP NOP
		0x08, 0x0a, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x20, 0x00, // timestamps
		0x1e, 0x18, 0x10, 0x00, // MP_JOIN len 24, subtype 1, reserved
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, // HMAC
	}
	// ADD_ADDR IPv4 with port and HMAC, then MP_PRIO and a NOP.
	blockAddAddrPrio = []byte{
		0x1e, 0x12, 0x30, 0x05, // ADD_ADDR len 18, subtype 3, E=0, id 5
		198, 18, 2, 2, // address
		0x14, 0x51, // port 5201
		0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, // HMAC
		0x1e, 0x03, 0x51, // MP_PRIO len 3, subtype 5, B
		0x01, // NOP
	}
	// ADD_ADDR IPv6 echo (no HMAC, no port), REMOVE_ADDR with 3 ids.
	blockAddAddr6EchoRm = []byte{
		0x1e, 0x14, 0x31, 0x07, // ADD_ADDR len 20, subtype 3, E=1, id 7
		0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // 2001:db8:2::2
		0x1e, 0x06, 0x40, 0x01, 0x02, 0x03, // REMOVE_ADDR len 6, ids 1 2 3
		0x01, 0x01, // NOP NOP
	}
	// MP_FAIL and MP_FASTCLOSE.
	blockFailFastclose = []byte{
		0x1e, 0x0c, 0x60, 0x00, // MP_FAIL len 12, subtype 6, reserved
		0, 0, 0, 0, 0, 0, 0x12, 0x34, // DSN
		0x1e, 0x0c, 0x70, 0x00, // MP_FASTCLOSE len 12, subtype 7, reserved
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, // receiver's key
	}
	// RST with MP_TCPRST.
	blockTCPRst = []byte{
		0x1e, 0x04, 0x81, 0x02, // MP_TCPRST len 4, subtype 8, T, reason 2 (lack of resources)
	}
	// SACK with two blocks after NOP NOP timestamps.
	blockSACK = []byte{
		0x01, 0x01, // NOP NOP
		0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, // timestamps
		0x01, 0x01, // NOP NOP
		0x05, 0x12, // SACK len 18
		0, 0, 0x10, 0x00, 0, 0, 0x20, 0x00, // block 1
		0xff, 0xff, 0xff, 0x00, 0, 0, 0x01, 0x00, // block 2 across the wrap
	}
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		flags   uint8
		hasData bool
		present Set
		check   func(t *testing.T, o *Options)
	}{
		{"MP_CAPABLE SYN", blockMPCSyn, syn, false, SetOf(MSS, SACKPermitted, Timestamps, WindowScale, MPCapable),
			func(t *testing.T, o *Options) {
				if o.MSS != 1460 || o.WindowScale != 7 || o.TSVal != 0x11223344 || o.TSEcr != 0 || o.NOPs != 1 {
					t.Errorf("mss %d ws %d ts %#x/%#x nops %d", o.MSS, o.WindowScale, o.TSVal, o.TSEcr, o.NOPs)
				}
				want(t, o.MPCapable, MPCapableOpt{Len: 4, Version: 1, Flags: MPCapHMACSHA256})
				wantSpan(t, o, MPCapable, 20, 4)
				wantSpan(t, o, WindowScale, 17, 3)
			}},
		{"MP_CAPABLE SYN/ACK", blockMPCSynAck, synAck, false, SetOf(MSS, SACKPermitted, Timestamps, WindowScale, MPCapable),
			func(t *testing.T, o *Options) {
				want(t, o.MPCapable, MPCapableOpt{Len: 12, Version: 1, Flags: 1, SenderKey: 0xb0b1b2b3b4b5b6b7})
			}},
		{"MP_CAPABLE third ACK", blockMPCAck, ack, false, SetOf(Timestamps, MPCapable),
			func(t *testing.T, o *Options) {
				want(t, o.MPCapable, MPCapableOpt{Len: 20, Version: 1, Flags: 1,
					SenderKey: 0xa0a1a2a3a4a5a6a7, ReceiverKey: 0xb0b1b2b3b4b5b6b7})
				wantSpan(t, o, MPCapable, 12, 20)
			}},
		{"MP_CAPABLE first data", blockMPCData, ack, true, SetOf(Timestamps, MPCapable),
			func(t *testing.T, o *Options) {
				want(t, o.MPCapable, MPCapableOpt{Len: 22, Version: 1, Flags: 1,
					SenderKey: 0xa0a1a2a3a4a5a6a7, ReceiverKey: 0xb0b1b2b3b4b5b6b7, DataLen: 1448})
			}},
		{"DSS data", blockDSSData, ack, true, SetOf(Timestamps, DSS),
			func(t *testing.T, o *Options) {
				want(t, o.DSS, DSSOpt{Flags: DSSDSN64 | DSSHasMap | DSSAck64 | DSSHasAck,
					DataAck: 0x0102030405060708, DSN: 0x1020304050607080, SSN: 1, DataLen: 1448})
				wantSpan(t, o, DSS, 12, 26)
			}},
		{"DSS ack32", blockDSSAck32, ack, false, SetOf(Timestamps, DSS),
			func(t *testing.T, o *Options) {
				want(t, o.DSS, DSSOpt{Flags: DSSHasAck, DataAck: 0xdeadbeef})
			}},
		{"DSS DATA_FIN with checksum", blockDSSFinCsum, ack, false, SetOf(DSS),
			func(t *testing.T, o *Options) {
				want(t, o.DSS, DSSOpt{Flags: 0x1f, DataAck: 0x0102030405060708, DSN: 0x1020304050607080,
					SSN: 0, DataLen: 1, HasChecksum: true, Checksum: 0xabcd})
			}},
		{"DSS map32", blockDSSMap32, ack, true, SetOf(DSS),
			func(t *testing.T, o *Options) {
				want(t, o.DSS, DSSOpt{Flags: DSSHasMap, DSN: 0x10203040, SSN: 0x1001, DataLen: 16})
			}},
		{"MP_JOIN SYN", blockMPJSyn, syn, false, SetOf(MSS, SACKPermitted, Timestamps, WindowScale, MPJoin),
			func(t *testing.T, o *Options) {
				want(t, o.MPJoin, MPJoinOpt{Len: 12, Backup: true, AddrID: 2, Token: 0xc0c1c2c3, Nonce: 0xd0d1d2d3})
			}},
		{"MP_JOIN SYN/ACK", blockMPJSynAck, synAck, false, SetOf(MPJoin),
			func(t *testing.T, o *Options) {
				want(t, o.MPJoin, MPJoinOpt{Len: 16, TruncatedHMAC: 0xe0e1e2e3e4e5e6e7, Nonce: 0xf0f1f2f3})
			}},
		{"MP_JOIN ACK", blockMPJAck, ack, false, SetOf(Timestamps, MPJoin),
			func(t *testing.T, o *Options) {
				want(t, o.MPJoin, MPJoinOpt{Len: 24, HMAC: [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}})
			}},
		{"ADD_ADDR port and MP_PRIO", blockAddAddrPrio, ack, false, SetOf(AddAddr, MPPrio),
			func(t *testing.T, o *Options) {
				want(t, o.AddAddr, AddAddrOpt{AddrID: 5, Addr: [16]byte{198, 18, 2, 2}, HasPort: true, Port: 5201,
					HMAC: 0x9192939495969798})
				want(t, o.MPPrio, MPPrioOpt{Backup: true})
				wantSpan(t, o, MPPrio, 18, 3)
			}},
		{"ADD_ADDR6 echo and REMOVE_ADDR", blockAddAddr6EchoRm, ack, false, SetOf(AddAddr, RemoveAddr),
			func(t *testing.T, o *Options) {
				want(t, o.AddAddr, AddAddrOpt{Echo: true, AddrID: 7, IPv6: true,
					Addr: [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 15: 2}})
				want(t, o.RemoveAddr, RemoveAddrOpt{N: 3, IDs: [8]uint8{1, 2, 3}})
			}},
		{"MP_FAIL and MP_FASTCLOSE", blockFailFastclose, ack, false, SetOf(MPFail, MPFastclose),
			func(t *testing.T, o *Options) {
				want(t, o.MPFail, MPFailOpt{DSN: 0x1234})
				want(t, o.MPFastclose, MPFastcloseOpt{ReceiverKey: 0xb0b1b2b3b4b5b6b7})
			}},
		{"MP_TCPRST", blockTCPRst, rst, false, SetOf(MPTCPRst),
			func(t *testing.T, o *Options) {
				want(t, o.MPTCPRst, MPTCPRstOpt{Flags: RstTransient, Reason: RstReasonLackResources})
			}},
		{"SACK", blockSACK, ack, false, SetOf(Timestamps, SACK),
			func(t *testing.T, o *Options) {
				if o.NSACK != 2 || o.SACK[0] != (SACKBlock{0x1000, 0x2000}) || o.SACK[1] != (SACKBlock{0xffffff00, 0x100}) {
					t.Errorf("SACK %d %v", o.NSACK, o.SACK)
				}
				wantSpan(t, o, SACK, 14, 18)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			if !o.Parse(tt.in, tt.flags, tt.hasData) || o.Malformed {
				t.Fatalf("Parse failed at %d", o.BadOff)
			}
			if o.Present != tt.present {
				t.Errorf("Present = %#x, want %#x", o.Present, tt.present)
			}
			tt.check(t, &o)
			checkReencode(t, tt.in, &o)
		})
	}
}

func want[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func wantSpan(t *testing.T, o *Options, id ID, off, n int) {
	t.Helper()
	gotOff, gotN, ok := o.Span(id)
	if !ok || gotOff != off || gotN != n {
		t.Errorf("Span(%d) = %d, %d, %v; want %d, %d", id, gotOff, gotN, ok, off, n)
	}
}

// checkReencode writes every accepted MPTCP option back from its parsed
// value and compares the bytes with the block, masking reserved bits.
func checkReencode(t *testing.T, block []byte, o *Options) {
	t.Helper()
	var buf [MaxBlockLen]byte
	for _, s := range o.Spans[:o.NSpans] {
		orig := block[s.Off : s.Off+s.Len]
		n, canonical := reencode(buf[:], o, s.ID, orig)
		if n == -1 {
			continue
		}
		if n != int(s.Len) {
			t.Errorf("option %d: re-encoded length %d, parsed %d", s.ID, n, s.Len)
			continue
		}
		if canonical && !bytes.Equal(buf[:n], orig) {
			t.Errorf("option %d: re-encoded\n% x\nparsed\n% x", s.ID, buf[:n], orig)
		}
	}
}

// reencode writes option id from o into buf and returns its length (-1 for
// types without a builder) and whether orig is canonical (reserved bits
// zero), so the bytes must match.
func reencode(buf []byte, o *Options, id ID, orig []byte) (int, bool) {
	switch id {
	case MSS:
		return PutMSS(buf, o.MSS), true
	case WindowScale:
		return PutWindowScale(buf, o.WindowScale), true
	case SACKPermitted:
		return PutSACKPermitted(buf), true
	case SACK:
		return PutSACK(buf, o.SACK[:o.NSACK]), true
	case Timestamps:
		return PutTimestamps(buf, o.TSVal, o.TSEcr), true
	case MPCapable:
		return o.MPCapable.Put(buf), true
	case MPJoin:
		canon := orig[2]&0x0e == 0 && (len(orig) != OptLenMPJAck || orig[2]&0x0f == 0 && orig[3] == 0)
		return o.MPJoin.Put(buf), canon
	case DSS:
		canon := orig[2]&0x0f == 0 && orig[3]&^DSSFlagMask == 0 &&
			(o.DSS.HasMap() || len(orig) == DSSLen(o.DSS.Flags, false))
		return o.DSS.Put(buf), canon
	case AddAddr:
		return o.AddAddr.Put(buf), orig[2]&0x0e == 0
	case RemoveAddr:
		return o.RemoveAddr.Put(buf), orig[2]&0x0f == 0
	case MPPrio:
		return o.MPPrio.Put(buf), orig[2]&0x0e == 0
	case MPFail:
		return o.MPFail.Put(buf), orig[2]&0x0f == 0 && orig[3] == 0
	case MPFastclose:
		return o.MPFastclose.Put(buf), orig[2]&0x0f == 0 && orig[3] == 0
	case MPTCPRst:
		return o.MPTCPRst.Put(buf), true
	}
	return -1, false
}

// TestParseRejects follows net/mptcp/options.c: a wrong length or field for
// the subtype ignores the option (MPTCPOther) and parsing goes on.
func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		flags   uint8
		hasData bool
	}{
		{"MPC len 12 on SYN", []byte{0x1e, 0x0c, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}, syn, false},
		{"MPC len 4 on SYN/ACK", []byte{0x1e, 0x04, 0x01, 0x01}, synAck, false},
		{"MPC len 20 with data", blockMPCAck[12:], ack, true},
		{"MPC len 22 without data", blockMPCData[12:34], ack, false},
		{"MPC version 0 on ACK", append([]byte{0x1e, 0x14, 0x00, 0x01}, make([]byte, 16)...), ack, false},
		{"MPC version 0 on SYN", []byte{0x1e, 0x04, 0x00, 0x01}, syn, false},
		{"MPC no H flag", []byte{0x1e, 0x04, 0x01, 0x80}, syn, false},
		{"MPC SHA1-era flag", []byte{0x1e, 0x04, 0x01, 0x03}, syn, false},
		{"MPC B flag", []byte{0x1e, 0x04, 0x01, 0x41}, syn, false},
		{"MP_JOIN len 13", append([]byte{0x1e, 0x0d, 0x10, 0x00}, make([]byte, 9)...), syn, false},
		{"DSS len 3", []byte{0x1e, 0x03, 0x20}, ack, false},
		{"DSS ack32 with len 12", append([]byte{0x1e, 0x0c, 0x20, 0x01}, make([]byte, 8)...), ack, false},
		{"DSS map64 len 16", append([]byte{0x1e, 0x10, 0x20, 0x0c}, make([]byte, 12)...), ack, false},
		{"ADD_ADDR len 17", append([]byte{0x1e, 0x11, 0x30, 0x01}, make([]byte, 13)...), ack, false},
		{"ADD_ADDR echo with HMAC length", append([]byte{0x1e, 0x10, 0x31, 0x01}, make([]byte, 12)...), ack, false},
		{"REMOVE_ADDR no id", []byte{0x1e, 0x03, 0x40}, ack, false},
		{"REMOVE_ADDR 9 ids", []byte{0x1e, 0x0c, 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ack, false},
		{"MP_PRIO len 4", []byte{0x1e, 0x04, 0x50, 0x01}, ack, false},
		{"MP_FAIL len 8", []byte{0x1e, 0x08, 0x60, 0, 0, 0, 0, 1}, ack, false},
		{"MP_FASTCLOSE len 10", []byte{0x1e, 0x0a, 0x70, 0, 0, 0, 0, 0, 0, 1}, ack, false},
		{"MP_TCPRST without RST", []byte{0x1e, 0x04, 0x81, 0x02}, ack, false},
		{"unknown subtype", []byte{0x1e, 0x04, 0xf0, 0x00}, ack, false},
		{"MPTCP len 2", []byte{0x1e, 0x02}, ack, false},
	}
	for _, tt := range tests {
		// Append a window scale after the rejected option: parsing
		// must carry on to it.
		in := append(append([]byte(nil), tt.in...), 0x03, 0x03, 0x09)
		var o Options
		if !o.Parse(in, tt.flags, tt.hasData) {
			t.Errorf("%s: Parse stopped at %d", tt.name, o.BadOff)
			continue
		}
		if o.Present != SetOf(MPTCPOther, WindowScale) || o.WindowScale != 9 {
			t.Errorf("%s: Present = %#x, want MPTCPOther|WindowScale", tt.name, o.Present)
		}
		if o.NSpans != 2 || o.Spans[0] != (Span{0, uint8(len(tt.in)), MPTCPOther}) {
			t.Errorf("%s: spans %v", tt.name, o.Spans[:o.NSpans])
		}
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		ok      bool
		badOff  uint8
		present Set
	}{
		{"length 0", []byte{0x02, 0x04, 0x05, 0xb4, 0x1e, 0x00, 0x01, 0x01}, false, 4, SetOf(MSS)},
		{"length 1", []byte{0x01, 0x08, 0x01}, false, 1, 0},
		{"past the block", []byte{0x08, 0x0a, 0, 0, 0, 1}, false, 0, 0},
		{"kind without length", []byte{0x01, 0x01, 0x01, 0x02}, false, 3, 0},
		{"EOL stops", []byte{0x02, 0x04, 0x05, 0xb4, 0x00, 0x1e, 0x00, 0x00}, true, 0, SetOf(MSS, EOL)},
		{"wrong MSS length ignored", []byte{0x02, 0x03, 0x05, 0x01}, true, 0, SetOf(Unknown)},
		{"SACK of 7 bytes ignored", []byte{0x05, 0x07, 0, 0, 0, 0, 0, 0x01}, true, 0, SetOf(Unknown)},
		{"unknown kind", []byte{0xfe, 0x04, 0x12, 0x34}, true, 0, SetOf(Unknown)},
		{"empty", nil, true, 0, 0},
	}
	for _, tt := range tests {
		var o Options
		ok := o.Parse(tt.in, ack, false)
		if ok != tt.ok || o.Malformed == ok || o.BadOff != tt.badOff || o.Present != tt.present {
			t.Errorf("%s: ok %v malformed %v at %d present %#x", tt.name, ok, o.Malformed, o.BadOff, o.Present)
		}
	}
}

// TestHasMPTCP: HasMPTCP finds a kind-30 option of any subtype or length
// wherever the walk reaches it, and nothing past an EOL or a malformed
// length, like Parse (checkParseInvariants compares the two on every
// block of the tests and the fuzz corpus).
func TestHasMPTCP(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
		want bool
	}{
		{"empty", nil, false},
		{"NOP NOP timestamps", []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, false},
		{"DSS", blockDSSAck32, true},
		{"timestamps then DSS", append([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, blockDSSAck32...), true},
		{"kind 30 of length 2", []byte{KindMPTCP, 2, 1, 1}, true},
		{"unknown subtype", []byte{KindMPTCP, 4, 0xf0, 0}, true},
		{"after EOL", append([]byte{0}, blockDSSAck32...), false},
		{"after a length of 0", append([]byte{0xfe, 0}, blockDSSAck32...), false},
		{"length past the block", []byte{KindMPTCP, 8, 0x20, 0}, false},
		{"kind 30 without length", []byte{1, 1, 1, KindMPTCP}, false},
		{"beyond 40 bytes", append(bytes.Repeat([]byte{1}, 40), blockDSSAck32...), false},
	} {
		if got := HasMPTCP(tt.in); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		var o Options
		o.Parse(tt.in, ack, false)
		if got := o.Present&SetMPTCP != 0; got != tt.want {
			t.Errorf("%s: Parse finds MPTCP %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestParseReuse checks that a reused Options forgets the previous block.
func TestParseReuse(t *testing.T) {
	var o Options
	o.Parse(blockMPCSyn, syn, false)
	o.Parse(blockDSSAck32, ack, false)
	if o.Present != SetOf(Timestamps, DSS) || o.NSpans != 2 || o.Malformed {
		t.Fatalf("Present %#x spans %d", o.Present, o.NSpans)
	}
	o.Parse([]byte{0x1e, 0x00}, ack, false)
	o.Parse(blockSACK, ack, false)
	if o.Malformed || o.Present != SetOf(Timestamps, SACK) {
		t.Fatalf("Malformed %v Present %#x", o.Malformed, o.Present)
	}
}

func TestDSSLen(t *testing.T) {
	tests := []struct {
		flags    uint8
		checksum bool
		want     int
	}{
		{DSSHasAck, false, 8},
		{DSSHasAck | DSSAck64, false, 12},
		{DSSHasMap, false, 14},
		{DSSHasMap, true, 16},
		{DSSHasMap | DSSDSN64, false, 18},
		{DSSHasAck | DSSHasMap | DSSDSN64, false, 22},
		{DSSHasAck | DSSAck64 | DSSHasMap | DSSDSN64, false, 26},
		{DSSHasAck | DSSAck64 | DSSHasMap | DSSDSN64 | DSSDataFIN, true, OptLenDSSMax},
		{DSSHasAck | DSSAck64, true, 12}, // no mapping, no checksum
		{0, false, 4},
	}
	for _, tt := range tests {
		if got := DSSLen(tt.flags, tt.checksum); got != tt.want {
			t.Errorf("DSSLen(%#x, %v) = %d, want %d", tt.flags, tt.checksum, got, tt.want)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	var o Options
	blocks := [][]byte{blockDSSData, blockMPCSyn, blockMPJAck, blockAddAddrPrio, blockSACK}
	if n := testing.AllocsPerRun(100, func() {
		for _, b := range blocks {
			o.Parse(b, ack, true)
		}
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func BenchmarkParseDSS(b *testing.B) {
	benchParse(b, blockDSSData[12:38]) // the DSS alone
}

func BenchmarkParseDSSTimestamps(b *testing.B) {
	benchParse(b, blockDSSData)
}

func benchParse(b *testing.B, block []byte) {
	var o Options
	b.ReportAllocs()
	for b.Loop() {
		o.Parse(block, ack, true)
	}
	if !o.Present.Has(DSS) {
		b.Fatal("no DSS")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}
