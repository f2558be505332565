package config

import (
	"fmt"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of TCP ports, Lo <= Hi, both non-zero.
type PortRange struct {
	Lo, Hi uint16
}

// Contains reports whether p lies in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// String returns the range as written in the file: "80" or "5000-5100".
func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// ParsePortRange parses "80" or "5000-5100". Port 0 is refused.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parsePort(lo)
	if err != nil {
		return PortRange{}, err
	}
	if !isRange {
		return PortRange{a, a}, nil
	}
	b, err := parsePort(hi)
	if err != nil {
		return PortRange{}, err
	}
	if a > b {
		return PortRange{}, fmt.Errorf("range %q runs backwards; write %d-%d", s, b, a)
	}
	return PortRange{a, b}, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a TCP port (1-65535)", s)
	}
	return uint16(n), nil
}

// PortSet is a bitmap of TCP ports for constant-time lookup on the hot
// path. The zero value is the empty set.
type PortSet [65536 / 64]uint64

// Contains reports whether p is in the set.
func (s *PortSet) Contains(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// Add puts every port of r in the set.
func (s *PortSet) Add(r PortRange) {
	for p := uint32(r.Lo); p <= uint32(r.Hi); p++ {
		s[p>>6] |= 1 << (p & 63)
	}
}

// PortSet returns the destination ports to translate as a bitmap.
func (p *Proxy) PortSet() *PortSet {
	s := new(PortSet)
	for _, r := range p.Ports {
		s.Add(r)
	}
	return s
}
