package steering

import (
	"encoding/binary"
	"net/netip"
)

// Tuple is the 4-tuple of a TCP subflow as seen in one direction (the
// protocol is always TCP, so it is also the 5-tuple). IPv4 addresses sit
// in the first 4 bytes of Src and Dst, the rest zero. It is a plain,
// pointer-free, comparable value, so it can travel in a ring between
// workers.
type Tuple struct {
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
	IPv6             bool
}

// TupleFrom returns the tuple of a TCP segment from src to dst. IPv4 and
// IPv4-mapped IPv6 addresses give an IPv4 tuple; mixing families gives the
// family of src.
func TupleFrom(src, dst netip.AddrPort) Tuple {
	t := Tuple{SrcPort: src.Port(), DstPort: dst.Port()}
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() {
		a, b := s.As4(), d.Unmap().As4()
		copy(t.Src[:4], a[:])
		copy(t.Dst[:4], b[:])
		return t
	}
	t.IPv6 = true
	t.Src, t.Dst = s.As16(), d.As16()
	return t
}

// TupleOf returns the tuple of a TCP packet (an IPv4 or IPv6 packet, no
// link-layer header); ok is false for anything else, fragments included.
func TupleOf(pkt []byte) (t Tuple, ok bool) {
	var p ipInfo
	if parse(pkt, &p) != classTCP {
		return Tuple{}, false
	}
	sp, dp := p.ports()
	return Tuple{Src: p.src, Dst: p.dst, SrcPort: sp, DstPort: dp, IPv6: p.v6}, true
}

// Reverse returns the tuple of the other direction.
func (t Tuple) Reverse() Tuple {
	return Tuple{Src: t.Dst, Dst: t.Src, SrcPort: t.DstPort, DstPort: t.SrcPort, IPv6: t.IPv6}
}

// Addrs returns the source and destination as netip values.
func (t Tuple) Addrs() (src, dst netip.AddrPort) {
	if t.IPv6 {
		return netip.AddrPortFrom(netip.AddrFrom16(t.Src), t.SrcPort),
			netip.AddrPortFrom(netip.AddrFrom16(t.Dst), t.DstPort)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(t.Src[:4])), t.SrcPort),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte(t.Dst[:4])), t.DstPort)
}

// String returns "src -> dst".
func (t Tuple) String() string {
	s, d := t.Addrs()
	return s.String() + " -> " + d.String()
}

// flowKey is a Tuple in canonical order (the lower endpoint first, by
// address then port), so that both directions of a subflow share one key:
// a0/a1 and b0/b1 are the lower and higher endpoint's address as two
// big-endian words, ports their ports, fam 4 or 6.
type flowKey struct {
	a0, a1, b0, b1 uint64
	ports          uint32
	fam            uint8
}

// key returns the canonical key of t.
func (t *Tuple) key() flowKey { return keyOf(&t.Src, &t.Dst, t.SrcPort, t.DstPort, t.IPv6) }

// keyOf returns the canonical key of a subflow from its addresses (IPv4 in
// the first 4 bytes) and ports.
func keyOf(src, dst *[16]byte, sport, dport uint16, v6 bool) flowKey {
	s0, s1 := binary.BigEndian.Uint64(src[0:8]), binary.BigEndian.Uint64(src[8:16])
	d0, d1 := binary.BigEndian.Uint64(dst[0:8]), binary.BigEndian.Uint64(dst[8:16])
	k := flowKey{fam: 4}
	if v6 {
		k.fam = 6
	}
	if s0 < d0 || (s0 == d0 && (s1 < d1 || (s1 == d1 && sport <= dport))) {
		k.a0, k.a1, k.b0, k.b1, k.ports = s0, s1, d0, d1, uint32(sport)<<16|uint32(dport)
	} else {
		k.a0, k.a1, k.b0, k.b1, k.ports = d0, d1, s0, s1, uint32(dport)<<16|uint32(sport)
	}
	return k
}
