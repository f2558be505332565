package steering

import "encoding/binary"

// Wire constants this package reads. Names follow RFC 791, RFC 8200, RFC
// 9293 and RFC 8684.
const (
	ipv4MinHeaderLen = 20
	ipv6HeaderLen    = 40
	tcpMinHeaderLen  = 20
	protoTCP         = 6

	ipv4FragMask = 0x3fff // MF flag and fragment offset

	tcpFlagSYN = 0x02
	tcpFlagACK = 0x10

	tcpOptEnd   = 0
	tcpOptNOP   = 1
	tcpOptMPTCP = 30 // RFC 8684 section 3

	mptcpSubJoin    = 1  // MP_JOIN subtype, RFC 8684 section 3.2
	optLenJoinSYN   = 12 // MP_JOIN on a SYN: kind, len, subtype|B, addr id, token, nonce
	joinTokenOffset = 4  // token offset inside the MP_JOIN SYN option
)

// pktClass is what parse could read of a packet.
type pktClass uint8

const (
	classNotIP     pktClass = iota // no IPv4 or IPv6 header
	classNoAddr                    // IP version known but addresses cut off
	classMalformed                 // addresses readable, header fields inconsistent
	classFragment                  // IPv4 fragment (MF or offset set)
	classNotTCP                    // IP, not TCP
	classTCPShort                  // TCP, header cut off before 20 bytes
	classTCP                       // TCP with at least 20 header bytes
)

// ipInfo is what the classifier needs of a packet: the addresses (IPv4 in
// the first 4 bytes) and the TCP header and payload.
type ipInfo struct {
	src, dst [16]byte
	v6       bool
	tcp      []byte // from the TCP header to the end of the IP payload
}

// parse reads the IP and TCP headers of pkt without allocating.
func parse(pkt []byte, p *ipInfo) pktClass {
	if len(pkt) < 1 {
		return classNotIP
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < ipv4MinHeaderLen {
			return classNoAddr
		}
		copy(p.src[:4], pkt[12:16])
		copy(p.dst[:4], pkt[16:20])
		ihl := int(pkt[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:4]))
		if ihl < ipv4MinHeaderLen || total < ihl || ihl > len(pkt) {
			return classMalformed
		}
		if binary.BigEndian.Uint16(pkt[6:8])&ipv4FragMask != 0 {
			return classFragment
		}
		if pkt[9] != protoTCP {
			return classNotTCP
		}
		end := min(total, len(pkt))
		p.tcp = pkt[ihl:end]
	case 6:
		if len(pkt) < ipv6HeaderLen {
			return classNoAddr
		}
		p.v6 = true
		copy(p.src[:], pkt[8:24])
		copy(p.dst[:], pkt[24:40])
		if pkt[6] != protoTCP {
			// Extension headers are not walked: NICs that hash the
			// IPv6 TCP 4-tuple without the _EX types do not either.
			return classNotTCP
		}
		end := min(ipv6HeaderLen+int(binary.BigEndian.Uint16(pkt[4:6])), len(pkt))
		p.tcp = pkt[ipv6HeaderLen:end]
	default:
		return classNotIP
	}
	if len(p.tcp) < tcpMinHeaderLen {
		return classTCPShort
	}
	return classTCP
}

// ports returns the TCP source and destination ports of a parsed classTCP
// packet.
func (p *ipInfo) ports() (sport, dport uint16) {
	return binary.BigEndian.Uint16(p.tcp[0:2]), binary.BigEndian.Uint16(p.tcp[2:4])
}

// joinToken returns the token of the MP_JOIN option of a SYN without ACK,
// walking the option block as the kernel does (RFC 9293 section 3.1: kinds
// 0 and 1 are one byte, every other option carries its length); ok is false
// when the segment is not such a SYN, the option block is malformed, or
// there is no MP_JOIN of the SYN length.
func joinToken(tcp []byte) (token uint32, ok bool) {
	if tcp[13]&(tcpFlagSYN|tcpFlagACK) != tcpFlagSYN {
		return 0, false
	}
	hl := int(tcp[12]>>4) * 4
	if hl < tcpMinHeaderLen || hl > len(tcp) {
		return 0, false
	}
	opts := tcp[tcpMinHeaderLen:hl]
	for i := 0; i < len(opts); {
		kind := opts[i]
		if kind == tcpOptEnd {
			return 0, false
		}
		if kind == tcpOptNOP {
			i++
			continue
		}
		if i+1 >= len(opts) {
			return 0, false
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			return 0, false
		}
		if kind == tcpOptMPTCP && l == optLenJoinSYN && opts[i+2]>>4 == mptcpSubJoin {
			return binary.BigEndian.Uint32(opts[i+joinTokenOffset:]), true
		}
		i += l
	}
	return 0, false
}
