package fwd

import (
	"fmt"
	"net/netip"
	"time"
)

// PortConfig describes one port.
type PortConfig struct {
	// Index is the port index frames carry in Frame.Port.
	Index uint16
	// MAC is the port's Ethernet address.
	MAC MAC
	// MTU is the largest IP packet the port sends, in bytes (1500 for
	// standard Ethernet).
	MTU int
	// Addrs are the port's own addresses with their prefix lengths; each
	// prefix is a connected network reachable through the port. An IPv6
	// link-local address (fe80::/64 from the MAC, EUI-64) is added to
	// every port.
	Addrs []netip.Prefix
}

// Route is a configured route.
type Route struct {
	// Prefix is the destination prefix.
	Prefix netip.Prefix
	// Via is the next-hop address, on a connected network of Port; an
	// invalid (zero) Via makes the prefix directly connected.
	Via netip.Addr
	// Port is the egress port index.
	Port uint16
}

// StaticNeighbor is a neighbor entry that is never resolved, aged or
// overwritten.
type StaticNeighbor struct {
	// Port is the port the neighbor is on.
	Port uint16
	// Addr is its IPv4 or IPv6 address.
	Addr netip.Addr
	// MAC is its Ethernet address.
	MAC MAC
}

// Config is the forwarding configuration. Zero durations and sizes take
// the defaults named on each field.
type Config struct {
	// Ports are the ports, with distinct indexes.
	Ports []PortConfig
	// Routes are the configured routes; connected prefixes come from
	// Ports and must not be repeated here.
	Routes []Route
	// Neighbors are static neighbors.
	Neighbors []StaticNeighbor

	// NeighborCapacity is the size of each worker's neighbor table,
	// rounded up to a power of two (default 1024).
	NeighborCapacity int
	// PendingPerNeighbor bounds the packets queued for one unresolved next
	// hop (default 32: one receive burst of DPDK's usual size, so a burst
	// that arrives for a next hop not yet resolved waits whole for the
	// reply; 4 dropped the rest of such a burst as pending_full).
	PendingPerNeighbor int
	// PendingTotal bounds the packets queued for all unresolved next hops
	// of a worker (default 256).
	PendingTotal int
	// RetryInterval is the time between ARP requests / NSs for a next hop
	// (default 1 s).
	RetryInterval time.Duration
	// MaxTries is the number of requests sent before a next hop is marked
	// failed (default 3).
	MaxTries int
	// FailedTime is how long a failed next hop drops packets before it is
	// resolved again (default 5 s).
	FailedTime time.Duration
	// ReachableTime is how long a learned entry is used without being
	// re-confirmed; after it, the entry is stale and each use of it may
	// send a unicast request, one per RetryInterval (default 30 s).
	ReachableTime time.Duration
	// TimerInterval is how often the neighbor timers run (default 100 ms).
	TimerInterval time.Duration
	// ICMPErrorRate is the number of ICMP errors a worker may send per
	// second (default 100); ICMPErrorBurst the bucket depth (default 10).
	ICMPErrorRate, ICMPErrorBurst int
}

// Next-hop kinds.
const (
	nhConnected = iota + 1 // the destination is on the port's network
	nhVia                  // through the gateway via
	nhLocal                // one of our addresses
	nhMartian              // never forwarded (subnet broadcast, link-local)
)

// nextHop is what a route resolves to.
type nextHop struct {
	kind uint8
	port uint16
	via  [16]byte // neighbor address for nhVia, v4 as ::ffff:a.b.c.d
}

// portInfo is the setup-time description of a port.
type portInfo struct {
	valid bool
	mac   MAC
	mtu   int
	v4    []netip.Prefix // own IPv4 addresses with prefix lengths
	v6    []netip.Prefix // own IPv6 addresses, link-local first
	// solicited are the low 24 bits of the port's IPv6 addresses: the
	// solicited-node multicast groups the port listens to.
	solicited []uint32
}

// Table is the read-only routing state built from a Config: ports, the
// two LPM tables and the next hops. One Table is shared by every worker's
// Forwarder; nothing modifies it after Build.
type Table struct {
	cfg      Config
	ports    []portInfo
	lpm4     *LPM4
	lpm6     *LPM6
	nextHops []nextHop // index = LPM value
}

// Build validates cfg and builds the routing table. Errors name the port,
// route or neighbor at fault.
func Build(cfg Config) (*Table, error) {
	c := cfg
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.NeighborCapacity, 1024)
	def(&c.PendingPerNeighbor, 32)
	def(&c.PendingTotal, 256)
	def(&c.MaxTries, 3)
	def(&c.ICMPErrorRate, 100)
	def(&c.ICMPErrorBurst, 10)
	defd(&c.RetryInterval, time.Second)
	defd(&c.FailedTime, 5*time.Second)
	defd(&c.ReachableTime, 30*time.Second)
	defd(&c.TimerInterval, 100*time.Millisecond)
	if c.NeighborCapacity > 1<<20 {
		return nil, fmt.Errorf("fwd: neighbor capacity %d: at most %d", c.NeighborCapacity, 1<<20)
	}
	if c.PendingTotal > 1<<20 || c.PendingPerNeighbor > 255 {
		return nil, fmt.Errorf("fwd: pending limits %d/%d: at most %d total and 255 per neighbor", c.PendingTotal, c.PendingPerNeighbor, 1<<20)
	}
	if len(c.Ports) == 0 {
		return nil, fmt.Errorf("fwd: no ports")
	}
	t := &Table{cfg: c, nextHops: []nextHop{{}}}
	maxPort := 0
	for _, p := range c.Ports {
		maxPort = max(maxPort, int(p.Index))
	}
	t.ports = make([]portInfo, maxPort+1)
	var e4, e6 []LPMEntry
	addNH := func(nh nextHop) uint32 {
		t.nextHops = append(t.nextHops, nh)
		return uint32(len(t.nextHops) - 1)
	}
	for _, p := range c.Ports {
		pi := &t.ports[p.Index]
		if pi.valid {
			return nil, fmt.Errorf("fwd: port %d configured twice", p.Index)
		}
		if p.MTU < 1280 || p.MTU > 65535 {
			return nil, fmt.Errorf("fwd: port %d: MTU %d: want 1280..65535", p.Index, p.MTU)
		}
		if p.MAC.IsMulticast() || p.MAC.IsZero() {
			return nil, fmt.Errorf("fwd: port %d: MAC %v is not a unicast address", p.Index, p.MAC)
		}
		*pi = portInfo{valid: true, mac: p.MAC, mtu: p.MTU}
		ll := linkLocal(p.MAC)
		pi.v6 = append(pi.v6, netip.PrefixFrom(ll, 64))
		e6 = append(e6, LPMEntry{netip.PrefixFrom(ll, 128), addNH(nextHop{kind: nhLocal, port: p.Index})})
		for _, a := range p.Addrs {
			if !a.IsValid() || a.Addr().Zone() != "" || a.Addr().Is4In6() {
				return nil, fmt.Errorf("fwd: port %d: address %v is not a plain IPv4 or IPv6 prefix", p.Index, a)
			}
			conn := addNH(nextHop{kind: nhConnected, port: p.Index})
			local := addNH(nextHop{kind: nhLocal, port: p.Index})
			if a.Addr().Is4() {
				pi.v4 = append(pi.v4, a)
				e4 = append(e4, LPMEntry{a.Masked(), conn}, LPMEntry{netip.PrefixFrom(a.Addr(), 32), local})
				if a.Bits() < 31 { // directed broadcast is never forwarded (RFC 2644)
					bc := prefixRange(a, 32).end
					e4 = append(e4, LPMEntry{netip.PrefixFrom(addrOf(bc, 32), 32), addNH(nextHop{kind: nhMartian})})
				}
			} else {
				if a.Addr().IsLinkLocalUnicast() || a.Addr().IsMulticast() {
					return nil, fmt.Errorf("fwd: port %d: address %v: link-local addresses are derived from the MAC, multicast ones are not addresses", p.Index, a)
				}
				pi.v6 = append(pi.v6, a)
				e6 = append(e6, LPMEntry{a.Masked(), conn}, LPMEntry{netip.PrefixFrom(a.Addr(), 128), local})
			}
		}
		for _, a := range pi.v6 {
			b := a.Addr().As16()
			pi.solicited = append(pi.solicited, uint32(b[13])<<16|uint32(b[14])<<8|uint32(b[15]))
		}
	}
	e6 = append(e6, LPMEntry{netip.MustParsePrefix("fe80::/10"), addNH(nextHop{kind: nhMartian})})
	for i, r := range c.Routes {
		if int(r.Port) >= len(t.ports) || !t.ports[r.Port].valid {
			return nil, fmt.Errorf("fwd: route %d (%v): unknown port %d", i, r.Prefix, r.Port)
		}
		if !r.Prefix.IsValid() {
			return nil, fmt.Errorf("fwd: route %d: invalid prefix", i)
		}
		nh := nextHop{kind: nhConnected, port: r.Port}
		if r.Via.IsValid() {
			if r.Via.Is4() != r.Prefix.Addr().Is4() {
				return nil, fmt.Errorf("fwd: route %d (%v): next hop %v is of the other address family", i, r.Prefix, r.Via)
			}
			if !t.onLink(r.Port, r.Via) {
				return nil, fmt.Errorf("fwd: route %d (%v): next hop %v is not on a connected network of port %d", i, r.Prefix, r.Via, r.Port)
			}
			nh = nextHop{kind: nhVia, port: r.Port, via: r.Via.As16()}
		}
		e := LPMEntry{r.Prefix, addNH(nh)}
		if r.Prefix.Addr().Is4() {
			e4 = append(e4, e)
		} else {
			e6 = append(e6, e)
		}
	}
	var err error
	if t.lpm4, err = NewLPM4(e4); err != nil {
		return nil, err
	}
	if t.lpm6, err = NewLPM6(e6); err != nil {
		return nil, err
	}
	for i, n := range c.Neighbors {
		if int(n.Port) >= len(t.ports) || !t.ports[n.Port].valid {
			return nil, fmt.Errorf("fwd: static neighbor %d (%v): unknown port %d", i, n.Addr, n.Port)
		}
		if !n.Addr.IsValid() || n.MAC.IsMulticast() || n.MAC.IsZero() {
			return nil, fmt.Errorf("fwd: static neighbor %d: need an address and a unicast MAC", i)
		}
	}
	return t, nil
}

// onLink reports whether a is on a connected network of port p (IPv6
// link-local addresses are on every port).
func (t *Table) onLink(p uint16, a netip.Addr) bool {
	if a.Is6() && a.IsLinkLocalUnicast() {
		return true
	}
	pi := &t.ports[p]
	for _, x := range pi.v4 {
		if x.Contains(a) {
			return true
		}
	}
	for _, x := range pi.v6 {
		if x.Contains(a) {
			return true
		}
	}
	return false
}

// linkLocal returns the EUI-64 link-local address derived from m
// (RFC 4291 appendix A).
func linkLocal(m MAC) netip.Addr {
	return netip.AddrFrom16([16]byte{0xfe, 0x80, 8: m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]})
}
