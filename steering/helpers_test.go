package steering

import (
	"encoding/binary"
	"net/netip"
)

// buildTCP returns an IP packet (IPv4 or IPv6 by the tuple) carrying a TCP
// segment with the given flags, option bytes (padded with EOL to a
// multiple of 4) and payload length. Checksums are left zero: the
// classifier does not read them.
func buildTCP(t Tuple, flags uint8, opts []byte, payload int) []byte {
	olen := (len(opts) + 3) &^ 3
	tcpLen := 20 + olen + payload
	var pkt []byte
	if t.IPv6 {
		pkt = make([]byte, 40+tcpLen)
		pkt[0] = 0x60
		binary.BigEndian.PutUint16(pkt[4:6], uint16(tcpLen))
		pkt[6] = protoTCP
		pkt[7] = 64
		copy(pkt[8:24], t.Src[:])
		copy(pkt[24:40], t.Dst[:])
	} else {
		pkt = make([]byte, 20+tcpLen)
		pkt[0] = 0x45
		binary.BigEndian.PutUint16(pkt[2:4], uint16(20+tcpLen))
		pkt[6] = 0x40 // DF
		pkt[8] = 64
		pkt[9] = protoTCP
		copy(pkt[12:16], t.Src[:4])
		copy(pkt[16:20], t.Dst[:4])
	}
	tcp := pkt[len(pkt)-tcpLen:]
	binary.BigEndian.PutUint16(tcp[0:2], t.SrcPort)
	binary.BigEndian.PutUint16(tcp[2:4], t.DstPort)
	binary.BigEndian.PutUint32(tcp[4:8], 0x01020304)
	tcp[12] = uint8((20+olen)/4) << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:16], 64240)
	copy(tcp[20:], opts)
	return pkt
}

// mpJoinSYN returns an MP_JOIN option of the SYN form (RFC 8684 section
// 3.2): kind 30, length 12, subtype 1 with the backup flag, address id,
// token, nonce.
func mpJoinSYN(token uint32, backup bool, addrID uint8) []byte {
	o := []byte{30, 12, 0x10, addrID, 0, 0, 0, 0, 0x25, 0x28, 0x5d, 0x7a}
	if backup {
		o[2] |= 1
	}
	binary.BigEndian.PutUint32(o[4:8], token)
	return o
}

// Join SYN option layouts. The first two are Linux's (LinuxJoinLayouts);
// the others put MP_JOIN where no NIC rule looks.
var joinLayouts = []struct {
	name string
	nic  bool // a token rule of LinuxJoinLayouts matches it
	opts func(tok uint32) []byte
}{
	{"linux-ts", true, func(tok uint32) []byte {
		o := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x7d, 0x80, 0x0f, 0x6e, 0, 0, 0, 0, 1, 3, 3, 10}
		return append(o, mpJoinSYN(tok, false, 1)...)
	}},
	{"linux-nots", true, func(tok uint32) []byte {
		o := []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 10}
		return append(o, mpJoinSYN(tok, true, 2)...)
	}},
	{"linux-ts-nosack", true, func(tok uint32) []byte {
		o := []byte{2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0x7d, 0x80, 0x0f, 0x6e, 0, 0, 0, 0, 1, 3, 3, 10}
		return append(o, mpJoinSYN(tok, false, 1)...)
	}},
	{"join-first", false, func(tok uint32) []byte {
		o := mpJoinSYN(tok, false, 3)
		return append(o, 2, 4, 0x05, 0xb4, 1, 3, 3, 7)
	}},
	{"mss-only", false, func(tok uint32) []byte {
		return append([]byte{2, 4, 0x05, 0xb4}, mpJoinSYN(tok, false, 1)...)
	}},
}

func mustTuple(src, dst string) Tuple {
	return TupleFrom(netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst))
}

func mustRuleset(tb interface{ Fatal(...any) }, cfg Config) *Ruleset {
	rs, err := NewRuleset(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}
