package fwd

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
)

// LPMEntry is one prefix of a longest-prefix-match table and the value a
// lookup that matches it returns. Value must not be 0, which means "no
// match".
type LPMEntry struct {
	// Prefix is the prefix; its address bits beyond the length are ignored.
	Prefix netip.Prefix
	// Value is what Lookup returns for addresses whose longest match is
	// Prefix.
	Value uint32
}

// lpmFrontBits is how many leading address bits index the front table that
// narrows each search to the few intervals of one /16.
const lpmFrontBits = 16

// LPM4 is an IPv4 longest-prefix-match table. It is built once (NewLPM4)
// and then read-only: safe for concurrent lookups, never modified.
//
// Layout: the prefixes are flattened into the sorted starts of disjoint
// address intervals, each with the value of its longest covering prefix, and
// a 65537-entry front table gives, for every /16, the range of intervals
// that can contain its addresses. A lookup is one front-table read and a
// binary search over that range, usually one or two intervals wide. Memory
// is 256 KiB plus 8 bytes per interval (at most two per prefix), whatever
// the prefix lengths.
type LPM4 struct {
	front  []uint32 // front[b]: last interval starting at or before b<<16
	starts []uint32 // interval starts, ascending, starts[0] == 0
	values []uint32 // values[i]: value of addresses in [starts[i], starts[i+1])
}

// LPM6 is the IPv6 counterpart of LPM4, with the same layout over 128-bit
// addresses (front table indexed by the first 16 bits). Memory is 256 KiB
// plus 20 bytes per interval.
type LPM6 struct {
	front  []uint32
	starts []u128
	values []uint32
}

// u128 is an address as a 128-bit unsigned integer; IPv4 addresses use lo
// only.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) lessEq(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo <= b.lo }

func (a u128) add1() u128 {
	lo, c := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + c, lo}
}

// lpmRange is a prefix as the inclusive address range it covers.
type lpmRange struct {
	start, end u128
	bits       int
	value      uint32
}

// prefixRange converts p, of an address family whose addresses are width
// bits wide, into the range it covers.
func prefixRange(p netip.Prefix, width int) lpmRange {
	p = p.Masked()
	a := p.Addr().As16()
	var start u128
	if width == 32 {
		start.lo = uint64(a[12])<<24 | uint64(a[13])<<16 | uint64(a[14])<<8 | uint64(a[15])
	} else {
		for i := 0; i < 8; i++ {
			start.hi = start.hi<<8 | uint64(a[i])
			start.lo = start.lo<<8 | uint64(a[8+i])
		}
	}
	host := width - p.Bits() // number of host bits
	end := start
	switch {
	case host >= 128:
		end = u128{^uint64(0), ^uint64(0)}
	case host > 64:
		end.lo = ^uint64(0)
		end.hi |= 1<<(host-64) - 1
	case host == 64:
		end.lo = ^uint64(0)
	case host > 0:
		end.lo |= 1<<host - 1
	}
	return lpmRange{start: start, end: end, bits: p.Bits(), value: 0}
}

// buildIntervals flattens the prefixes of one family (width bits) into
// disjoint intervals: it returns the ascending starts, the first being 0,
// and for each the value of its longest matching prefix (0 for none).
func buildIntervals(entries []LPMEntry, width int) ([]u128, []uint32, error) {
	max := u128{lo: 1<<32 - 1}
	if width == 128 {
		max = u128{^uint64(0), ^uint64(0)}
	}
	rs := make([]lpmRange, 0, len(entries))
	for _, e := range entries {
		if !e.Prefix.IsValid() || e.Prefix.Addr().BitLen() != width || e.Prefix.Addr().Zone() != "" {
			return nil, nil, fmt.Errorf("fwd: lpm: prefix %v is not a valid %d-bit prefix", e.Prefix, width)
		}
		if e.Value == 0 {
			return nil, nil, fmt.Errorf("fwd: lpm: prefix %v: value 0 is reserved for no match", e.Prefix)
		}
		r := prefixRange(e.Prefix, width)
		r.value = e.Value
		rs = append(rs, r)
	}
	// Prefixes either nest or are disjoint: sorted by start and then by
	// length, every prefix comes after all those that contain it.
	slices.SortStableFunc(rs, func(a, b lpmRange) int {
		if a.start != b.start {
			if a.start.less(b.start) {
				return -1
			}
			return 1
		}
		return a.bits - b.bits
	})
	for i := 1; i < len(rs); i++ {
		if rs[i].start == rs[i-1].start && rs[i].bits == rs[i-1].bits {
			return nil, nil, fmt.Errorf("fwd: lpm: duplicate prefix %v", netip.PrefixFrom(addrOf(rs[i].start, width), rs[i].bits))
		}
	}
	starts := []u128{{}}
	values := []uint32{0}
	emit := func(at u128, v uint32) {
		n := len(starts) - 1
		if starts[n] == at {
			values[n] = v
			if n > 0 && values[n-1] == v { // merge with the interval before
				starts, values = starts[:n], values[:n]
			}
			return
		}
		if values[n] == v {
			return
		}
		starts = append(starts, at)
		values = append(values, v)
	}
	var stack []lpmRange
	closeUntil := func(limit u128, all bool) {
		for len(stack) > 0 {
			t := stack[len(stack)-1]
			if !all && !t.end.less(limit) {
				return
			}
			stack = stack[:len(stack)-1]
			if t.end == max {
				continue
			}
			var v uint32
			if len(stack) > 0 {
				v = stack[len(stack)-1].value
			}
			emit(t.end.add1(), v)
		}
	}
	for _, r := range rs {
		closeUntil(r.start, false)
		emit(r.start, r.value)
		stack = append(stack, r)
	}
	closeUntil(u128{}, true)
	return starts, values, nil
}

// addrOf converts a 128-bit integer back into an address of width bits.
func addrOf(a u128, width int) netip.Addr {
	if width == 32 {
		v := uint32(a.lo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(a.hi >> (56 - 8*i))
		b[8+i] = byte(a.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}

// NewLPM4 builds an IPv4 table from entries. It fails on a non-IPv4
// prefix, a zero value or a duplicate prefix.
func NewLPM4(entries []LPMEntry) (*LPM4, error) {
	starts, values, err := buildIntervals(entries, 32)
	if err != nil {
		return nil, err
	}
	t := &LPM4{
		front:  make([]uint32, 1<<lpmFrontBits+1),
		starts: make([]uint32, len(starts)),
		values: values,
	}
	for i, s := range starts {
		t.starts[i] = uint32(s.lo)
	}
	i := 0
	for b := range 1 << lpmFrontBits {
		at := uint32(b) << (32 - lpmFrontBits)
		for i+1 < len(t.starts) && t.starts[i+1] <= at {
			i++
		}
		t.front[b] = uint32(i)
	}
	t.front[1<<lpmFrontBits] = uint32(len(t.starts) - 1)
	return t, nil
}

// Lookup returns the value of the longest prefix that contains addr (an
// IPv4 address as a big-endian integer), or 0 if none does. It does not
// allocate.
func (t *LPM4) Lookup(addr uint32) uint32 {
	b := addr >> (32 - lpmFrontBits)
	lo, hi := t.front[b], t.front[b+1]
	starts := t.starts
	for lo < hi { // last i in [lo, hi] with starts[i] <= addr
		mid := (lo + hi + 1) >> 1
		if starts[mid] <= addr {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return t.values[lo]
}

// Intervals returns the number of disjoint intervals the table holds.
func (t *LPM4) Intervals() int { return len(t.starts) }

// NewLPM6 builds an IPv6 table from entries. It fails on a non-IPv6
// prefix (IPv4-mapped prefixes are IPv6 and allowed), a zero value or a
// duplicate prefix.
func NewLPM6(entries []LPMEntry) (*LPM6, error) {
	starts, values, err := buildIntervals(entries, 128)
	if err != nil {
		return nil, err
	}
	t := &LPM6{front: make([]uint32, 1<<lpmFrontBits+1), starts: starts, values: values}
	i := 0
	for b := range 1 << lpmFrontBits {
		at := u128{hi: uint64(b) << (64 - lpmFrontBits)}
		for i+1 < len(starts) && starts[i+1].lessEq(at) {
			i++
		}
		t.front[b] = uint32(i)
	}
	t.front[1<<lpmFrontBits] = uint32(len(starts) - 1)
	return t, nil
}

// Lookup returns the value of the longest prefix that contains the IPv6
// address hi:lo (big-endian halves), or 0 if none does. It does not
// allocate.
func (t *LPM6) Lookup(hi, lo uint64) uint32 {
	b := hi >> (64 - lpmFrontBits)
	l, h := t.front[b], t.front[b+1]
	starts := t.starts
	for l < h {
		mid := (l + h + 1) >> 1
		s := starts[mid]
		if s.hi < hi || s.hi == hi && s.lo <= lo {
			l = mid
		} else {
			h = mid - 1
		}
	}
	return t.values[l]
}

// Intervals returns the number of disjoint intervals the table holds.
func (t *LPM6) Intervals() int { return len(t.starts) }
