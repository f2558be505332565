package steering

import "encoding/binary"

// IPv6 extension headers tcpBehind walks (RFC 8200 section 4).
const (
	ipv6HopByHop   = 0
	ipv6Routing    = 43
	ipv6Fragment   = 44
	ipv6DestOpts   = 60
	ipv6FragOffMsk = 0xfff8 // fragment offset bits of the fragment header
	ipv4FragOffMsk = 0x1fff // fragment offset bits of the IPv4 header
)

// OwnerBehind finds the owner of a TCP segment whose 4-tuple Owner cannot
// read, as a NIC cannot: an IPv4 first fragment (offset 0, more fragments
// set) or an IPv6 packet whose TCP header sits behind hop-by-hop, routing,
// destination-options or first-fragment extension headers. It applies the
// same rules as Owner to the TCP header it finds (join subflow 5-tuple,
// MP_JOIN token, symmetric RSS over the 4-tuple), so such a packet reaches
// the worker that owns its connection, whose translator then drops it with
// a counted reason instead of another worker routing it untranslated
// (docs/hardening.md). ok is false when there is no TCP header to read
// (a later fragment, a broken chain, a short header): the caller keeps
// Owner's answer. It does not allocate.
//
// This is software only: the dataplane calls it after Owner reported
// ReasonFragment or ReasonNotTCP; nicconf never compiles it to a rule.
func (c *Classifier) OwnerBehind(pkt []byte) (core int, ok bool) {
	var p ipInfo
	if !tcpBehind(pkt, &p) || len(p.tcp) < tcpMinHeaderLen {
		return 0, false
	}
	core, _ = c.segmentOwner(&p)
	return core, true
}

// tcpBehind fills p with the addresses and the TCP header of an IPv4 first
// fragment or of an IPv6 packet with extension headers before TCP; false
// for anything else (plain TCP included: Owner reads those).
func tcpBehind(pkt []byte, p *ipInfo) bool {
	if len(pkt) < 1 {
		return false
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < ipv4MinHeaderLen {
			return false
		}
		ihl := int(pkt[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:4]))
		frag := binary.BigEndian.Uint16(pkt[6:8])
		if ihl < ipv4MinHeaderLen || total < ihl || ihl > len(pkt) ||
			pkt[9] != protoTCP || frag&ipv4FragMask == 0 || frag&ipv4FragOffMsk != 0 {
			return false
		}
		copy(p.src[:4], pkt[12:16])
		copy(p.dst[:4], pkt[16:20])
		p.tcp = pkt[ihl:min(total, len(pkt))]
		return true
	case 6:
		if len(pkt) < ipv6HeaderLen || pkt[6] == protoTCP {
			return false
		}
		end := min(ipv6HeaderLen+int(binary.BigEndian.Uint16(pkt[4:6])), len(pkt))
		nh, rest := pkt[6], pkt[ipv6HeaderLen:end]
		for len(rest) > 0 {
			switch nh {
			case protoTCP:
				p.v6 = true
				copy(p.src[:], pkt[8:24])
				copy(p.dst[:], pkt[24:40])
				p.tcp = rest
				return true
			case ipv6HopByHop, ipv6Routing, ipv6DestOpts:
				if len(rest) < 8 || len(rest) < (int(rest[1])+1)*8 {
					return false
				}
				n := (int(rest[1]) + 1) * 8
				nh, rest = rest[0], rest[n:]
			case ipv6Fragment:
				if len(rest) < 8 || binary.BigEndian.Uint16(rest[2:4])&ipv6FragOffMsk != 0 {
					return false
				}
				nh, rest = rest[0], rest[8:]
			default:
				return false
			}
		}
	}
	return false
}
