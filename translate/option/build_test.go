package option

import (
	"bytes"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

func TestPut(t *testing.T) {
	tests := []struct {
		name string
		put  func(b []byte) int
		want []byte
	}{
		{"MSS", func(b []byte) int { return PutMSS(b, 1460) }, blockMPCSyn[0:4]},
		{"SACK permitted", PutSACKPermitted, blockMPCSyn[4:6]},
		{"timestamps", func(b []byte) int { return PutTimestamps(b, 0x11223344, 0) }, blockMPCSyn[6:16]},
		{"NOP", PutNOP, []byte{0x01}},
		{"window scale", func(b []byte) int { return PutWindowScale(b, 7) }, blockMPCSyn[17:20]},
		{"SACK", func(b []byte) int {
			return PutSACK(b, []SACKBlock{{0x1000, 0x2000}, {0xffffff00, 0x100}})
		}, blockSACK[14:]},
		{"MP_CAPABLE SYN", func(b []byte) int {
			return (&MPCapableOpt{Len: OptLenMPCSyn, Version: 1, Flags: MPCapHMACSHA256}).Put(b)
		}, blockMPCSyn[20:]},
		{"MP_CAPABLE SYN/ACK", func(b []byte) int {
			return (&MPCapableOpt{Len: OptLenMPCSynAck, Version: 1, Flags: MPCapHMACSHA256, SenderKey: 0xb0b1b2b3b4b5b6b7}).Put(b)
		}, blockMPCSynAck[20:]},
		{"MP_CAPABLE ACK", func(b []byte) int {
			return (&MPCapableOpt{Len: OptLenMPCAck, Version: 1, Flags: 1, SenderKey: 0xa0a1a2a3a4a5a6a7,
				ReceiverKey: 0xb0b1b2b3b4b5b6b7}).Put(b)
		}, blockMPCAck[12:]},
		{"MP_CAPABLE data", func(b []byte) int {
			return (&MPCapableOpt{Len: OptLenMPCAckData, Version: 1, Flags: 1, SenderKey: 0xa0a1a2a3a4a5a6a7,
				ReceiverKey: 0xb0b1b2b3b4b5b6b7, DataLen: 1448}).Put(b)
		}, blockMPCData[12:34]},
		{"MP_JOIN SYN", func(b []byte) int {
			return (&MPJoinOpt{Len: OptLenMPJSyn, Backup: true, AddrID: 2, Token: 0xc0c1c2c3, Nonce: 0xd0d1d2d3}).Put(b)
		}, blockMPJSyn[20:]},
		{"MP_JOIN SYN/ACK", func(b []byte) int {
			return (&MPJoinOpt{Len: OptLenMPJSynAck, TruncatedHMAC: 0xe0e1e2e3e4e5e6e7, Nonce: 0xf0f1f2f3}).Put(b)
		}, blockMPJSynAck},
		{"MP_JOIN ACK", func(b []byte) int {
			j := MPJoinOpt{Len: OptLenMPJAck}
			copy(j.HMAC[:], blockMPJAck[16:])
			return j.Put(b)
		}, blockMPJAck[12:]},
		{"DSS map", func(b []byte) int {
			return PutDSSMap(b, 0x0102030405060708, 0x1020304050607080, 1, 1448, false, false, 0)
		}, blockDSSData[12:38]},
		{"DSS DATA_FIN checksum", func(b []byte) int {
			return PutDSSMap(b, 0x0102030405060708, 0x1020304050607080, 0, 1, true, true, 0xabcd)
		}, blockDSSFinCsum},
		{"DSS ack32", func(b []byte) int {
			return (&DSSOpt{Flags: DSSHasAck, DataAck: 0x12345_deadbeef}).Put(b) // upper bits dropped
		}, blockDSSAck32[12:]},
		{"DSS ack64", func(b []byte) int { return PutDSSAck(b, 0x0102030405060708) },
			[]byte{0x1e, 0x0c, 0x20, 0x03, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"DSS map32", func(b []byte) int {
			return (&DSSOpt{Flags: DSSHasMap, DSN: 0x10203040, SSN: 0x1001, DataLen: 16}).Put(b)
		}, blockDSSMap32[:14]},
		{"ADD_ADDR port", func(b []byte) int {
			return (&AddAddrOpt{AddrID: 5, Addr: [16]byte{198, 18, 2, 2}, HasPort: true, Port: 5201, HMAC: 0x9192939495969798}).Put(b)
		}, blockAddAddrPrio[:18]},
		{"ADD_ADDR6 echo", func(b []byte) int {
			return (&AddAddrOpt{Echo: true, AddrID: 7, IPv6: true, Addr: [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 15: 2}}).Put(b)
		}, blockAddAddr6EchoRm[:20]},
		{"REMOVE_ADDR", func(b []byte) int {
			return (&RemoveAddrOpt{N: 3, IDs: [8]uint8{1, 2, 3}}).Put(b)
		}, blockAddAddr6EchoRm[20:26]},
		{"MP_PRIO", func(b []byte) int { return (&MPPrioOpt{Backup: true}).Put(b) }, blockAddAddrPrio[18:21]},
		{"MP_FAIL", func(b []byte) int { return (&MPFailOpt{DSN: 0x1234}).Put(b) }, blockFailFastclose[:12]},
		{"MP_FASTCLOSE", func(b []byte) int {
			return (&MPFastcloseOpt{ReceiverKey: 0xb0b1b2b3b4b5b6b7}).Put(b)
		}, blockFailFastclose[12:]},
		{"MP_TCPRST", func(b []byte) int {
			return (&MPTCPRstOpt{Flags: RstTransient, Reason: RstReasonLackResources}).Put(b)
		}, blockTCPRst},
	}
	for _, tt := range tests {
		var buf [MaxBlockLen]byte
		n := tt.put(buf[:])
		if !bytes.Equal(buf[:n], tt.want) {
			t.Errorf("%s: wrote\n% x\nwant\n% x", tt.name, buf[:n], tt.want)
		}
		short := make([]byte, len(tt.want)-1)
		if n := tt.put(short); n != 0 || !bytes.Equal(short, make([]byte, len(short))) {
			t.Errorf("%s: short buffer: wrote %d bytes", tt.name, n)
		}
	}
}

func TestPutRejectsUnencodable(t *testing.T) {
	var buf [MaxBlockLen]byte
	if PutSACK(buf[:], nil) != 0 || PutSACK(buf[:], make([]SACKBlock, 5)) != 0 {
		t.Error("SACK with 0 or 5 blocks")
	}
	if (&MPCapableOpt{Len: 13}).Put(buf[:]) != 0 || (&MPJoinOpt{Len: 20}).Put(buf[:]) != 0 {
		t.Error("MP_CAPABLE/MP_JOIN of a length that does not exist")
	}
	if (&RemoveAddrOpt{N: 0}).Put(buf[:]) != 0 || (&RemoveAddrOpt{N: 9}).Put(buf[:]) != 0 {
		t.Error("REMOVE_ADDR with 0 or 9 ids")
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		flags uint8
		data  bool
		drop  Set
		want  []byte
	}{
		{"client SYN: MPTCP and timestamps", blockMPCSyn, syn, false, SetMPTCP.With(Timestamps), []byte{
			0x02, 0x04, 0x05, 0xb4, // MSS
			0x04, 0x02, // SACK permitted
			0x01,             // NOP kept before window scale
			0x03, 0x03, 0x07, // window scale
			0x01, 0x01, // padding
		}},
		{"data segment: MPTCP", blockDSSData, ack, true, SetMPTCP, blockDSSData[:12]},
		{"data segment: timestamps", blockDSSData, ack, true, SetOf(Timestamps), append(
			append([]byte(nil), blockDSSData[12:38]...), // DSS
			0x01, 0x01)}, // padding
		{"first data: MP_CAPABLE", blockMPCData, ack, true, SetMPTCP, blockMPCData[:12]},
		{"nothing to drop", blockSACK, ack, false, SetMPTCP, blockSACK},
		{"everything", blockMPJSyn, syn, false, ^Set(0), nil},
		{"EOL ends the block", []byte{0x02, 0x04, 0x05, 0xb4, 0x00, 0x1e, 0x04, 0x01}, syn, false, SetMPTCP,
			[]byte{0x02, 0x04, 0x05, 0xb4}},
		{"malformed tail dropped", []byte{0x02, 0x04, 0x05, 0xb4, 0x01, 0x08, 0x0a, 0x00}, syn, false, SetMPTCP,
			[]byte{0x02, 0x04, 0x05, 0xb4}},
		{"ADD_ADDR and MP_PRIO", blockAddAddrPrio, ack, false, SetOf(AddAddr), []byte{0x1e, 0x03, 0x51, 0x01}},
	}
	for _, tt := range tests {
		block := append([]byte(nil), tt.in...)
		var o Options
		o.Parse(block, tt.flags, tt.data)
		n := Remove(block, &o, tt.drop)
		if !bytes.Equal(block[:n], tt.want) {
			t.Errorf("%s: got\n% x\nwant\n% x", tt.name, block[:n], tt.want)
		}
	}
}

// TestRemoveChecksum strips the MPTCP options of a data segment in place,
// as the translator does toward the server, and fixes the TCP checksum
// incrementally: option bytes, data offset, TCP length.
func TestRemoveChecksum(t *testing.T) {
	seg := make([]byte, 20+len(blockDSSData)+5)
	tcp := header.TCP(seg)
	tcp.SetSourcePort(40000)
	tcp.SetDestinationPort(5201)
	tcp.SetSeq(1)
	tcp.SetDataOffset(20 + len(blockDSSData))
	tcp.SetFlags(header.TCPFlagAck)
	tcp.SetWindow(1000)
	copy(tcp.Options(), blockDSSData)
	copy(tcp.Payload(), "hello")
	pseudo := func(n int) uint16 {
		return header.PseudoHeaderSum([]byte{198, 18, 1, 2}, []byte{198, 18, 3, 2}, 6, uint32(n))
	}
	tcp.SetChecksum(tcp.CalculateChecksum(pseudo(len(tcp))))

	var o Options
	o.Parse(tcp.Options(), tcp.Flags(), len(tcp.Payload()) > 0)
	block := tcp.Options()
	before := header.OnesSum(block, 0)
	n := Remove(block, &o, SetMPTCP)
	csum := header.UpdateChecksumSum(tcp.Checksum(), before, header.OnesSum(block[:n], 0))
	tcp.SetChecksum(csum)
	oldLen := len(tcp)
	tcp.SetDataOffsetWithChecksumUpdate(20 + n)
	copy(tcp[20+n:], tcp[20+len(block):])
	tcp = tcp[:oldLen-(len(block)-n)]
	tcp.UpdateChecksumPseudoLength(uint32(oldLen), uint32(len(tcp)))
	if !tcp.IsValid() || string(tcp.Payload()) != "hello" || len(tcp.Options()) != 12 {
		t.Fatalf("segment % x", []byte(tcp))
	}
	if !tcp.IsChecksumValid(pseudo(len(tcp))) {
		t.Fatalf("checksum %#04x, want %#04x", tcp.Checksum(), tcp.CalculateChecksum(pseudo(len(tcp))))
	}
}

func TestBuildAllocs(t *testing.T) {
	var buf [MaxBlockLen]byte
	var o Options
	block := append([]byte(nil), blockDSSData...)
	if n := testing.AllocsPerRun(100, func() {
		n := PutNOP(buf[:])
		n += PutNOP(buf[n:])
		n += PutTimestamps(buf[n:], 1, 2)
		n += PutDSSMap(buf[n:], 1, 2, 3, 1448, false, false, 0)
		PadNOP(buf[:], n)
		copy(block, blockDSSData)
		o.Parse(block, ack, true)
		Remove(block, &o, SetMPTCP)
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func BenchmarkPutDSSMap(b *testing.B) {
	var buf [MaxBlockLen]byte
	b.ReportAllocs()
	for b.Loop() {
		PutDSSMap(buf[:], 1, 2, 3, 1448, false, false, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}

func BenchmarkRemoveMPTCP(b *testing.B) {
	var o Options
	block := make([]byte, len(blockDSSData))
	b.ReportAllocs()
	for b.Loop() {
		copy(block, blockDSSData)
		o.Parse(block, ack, true)
		Remove(block, &o, SetMPTCP)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}
