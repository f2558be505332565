package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	// pciRE matches a PCI address with or without its domain.
	pciRE = regexp.MustCompile(`^([0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`)
	// vdevRE matches a DPDK network vdev: net_<driver><n>[,key=value]...
	vdevRE = regexp.MustCompile(`^net_[A-Za-z0-9_]+(,[A-Za-z0-9_]+=[^,=]+)*$`)
	// nameRE matches a port name usable as a metrics label and in logs.
	nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,31}$`)
)

// builder turns a rawConfig into a Config, keeping the first error.
type builder struct {
	name string
	err  error
}

// fail records the first error; later ones are dropped.
func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("config: "+b.name+": "+format, args...)
	}
}

func (b *builder) build(r *rawConfig) *Config {
	c := &Config{Name: b.name, EAL: r.EAL}
	b.top(c, r)
	b.mempool(c, r)
	b.ports(c, r)
	b.routes(c, r)
	b.neighbors(c, r)
	b.proxy(c, r)
	if b.err == nil {
		if err := c.checkEAL(); err != nil {
			b.err = err
		}
	}
	return c
}

func (b *builder) top(c *Config, r *rawConfig) {
	for i, a := range r.EAL {
		if a == "" {
			b.fail("eal[%d] is an empty string; remove it", i)
		}
	}
	c.Lcores = slices.Clone(DefaultLcores)
	if r.Lcores != nil {
		c.Lcores = *r.Lcores
		b.lcores(c.Lcores)
	}
	c.Idle = DefaultIdle
	if r.Idle != nil {
		switch *r.Idle {
		case "adaptive":
			c.Idle = IdleAdaptive
		case "poll":
			c.Idle = IdlePoll
		default:
			b.fail("idle %q is not one of poll, adaptive", *r.Idle)
		}
	}
	c.Burst = DefaultBurst
	if r.Burst != nil {
		c.Burst = *r.Burst
		if c.Burst < MinBurst || c.Burst > MaxBurst {
			b.fail("burst %d is out of range; use %d..%d (32 is DPDK's usual burst)", c.Burst, MinBurst, MaxBurst)
		}
	}
	c.LogLevel = DefaultLogLevel
	if r.LogLevel != nil {
		switch *r.LogLevel {
		case "debug":
			c.LogLevel = slog.LevelDebug
		case "info":
			c.LogLevel = slog.LevelInfo
		case "warn":
			c.LogLevel = slog.LevelWarn
		case "error":
			c.LogLevel = slog.LevelError
		default:
			b.fail("log_level %q is not one of debug, info, warn, error", *r.LogLevel)
		}
	}
	c.Metrics.Listen = DefaultMetricsListen
	if r.Metrics.Listen != nil {
		c.Metrics.Listen = *r.Metrics.Listen
		if c.Metrics.Listen != "" {
			if err := checkListen(c.Metrics.Listen); err != nil {
				b.fail("metrics.listen %q: %v", c.Metrics.Listen, err)
			}
		}
	}
}

func (b *builder) lcores(ls []int) {
	if len(ls) == 0 {
		b.fail("lcores is empty; list at least one worker CPU, e.g. lcores = [1]")
		return
	}
	if len(ls) > MaxLcores {
		b.fail("lcores has %d CPUs; at most %d workers are supported", len(ls), MaxLcores)
	}
	seen := map[int]bool{}
	for _, l := range ls {
		if l < 0 || l > MaxCPU {
			b.fail("lcores: %d is not a CPU number (0..%d)", l, MaxCPU)
		}
		if seen[l] {
			b.fail("lcores: CPU %d is listed twice; list each worker CPU once", l)
		}
		seen[l] = true
	}
}

// checkListen accepts host:port where host is empty, "localhost" or an IP
// literal.
func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("is not host:port; write e.g. %q or \"[::1]:9750\"", DefaultMetricsListen)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("port %q is not a TCP port; write e.g. %q", port, DefaultMetricsListen)
	}
	if host == "" || host == "localhost" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("host %q is not an IP address; write an address such as 127.0.0.1, or leave it empty for all addresses", host)
	}
	return nil
}

func (b *builder) mempool(c *Config, r *rawConfig) {
	m := Mempool{Mbufs: DefaultMbufs, Cache: DefaultMbufCache, DataRoom: DefaultDataRoom}
	if r.Mempool.Mbufs != nil {
		m.Mbufs = *r.Mempool.Mbufs
	}
	if r.Mempool.Cache != nil {
		m.Cache = *r.Mempool.Cache
	}
	if r.Mempool.DataRoom != nil {
		m.DataRoom = *r.Mempool.DataRoom
	}
	c.Mempool = m
	switch {
	case m.Mbufs < 1 || m.Mbufs > 1<<30:
		b.fail("mempool.mbufs %d is out of range; use 1..%d (16383 is the default)", m.Mbufs, 1<<30)
	case m.Cache < 0 || m.Cache > MaxMbufCache:
		b.fail("mempool.cache %d is out of range; use 0..%d", m.Cache, MaxMbufCache)
	case m.Cache*3/2 > m.Mbufs:
		// rte_mempool_create refuses a cache whose flush threshold (1.5 x
		// cache) exceeds the pool.
		b.fail("mempool.cache %d is too large for mbufs %d; cache x 1.5 must not exceed mbufs", m.Cache, m.Mbufs)
	case m.DataRoom <= MbufHeadroom+l2Overhead+MinMTU || m.DataRoom > MaxDataRoom:
		b.fail("mempool.data_room %d is out of range; use %d..%d (2176 holds a 1500-byte MTU)",
			m.DataRoom, MbufHeadroom+l2Overhead+MinMTU+1, MaxDataRoom)
	}
}

func (b *builder) ports(c *Config, r *rawConfig) {
	if len(r.Ports) == 0 {
		b.fail("no [[port]] tables; add at least one port with name, device, role and addresses")
		return
	}
	if len(r.Ports) > MaxPorts {
		b.fail("%d [[port]] tables; at most %d are supported", len(r.Ports), MaxPorts)
		return
	}
	names := map[string]bool{}
	devices := map[string]string{}    // vdev name or PCI address -> port
	addrs := map[netip.Addr]string{}  // own address -> port
	nets := map[netip.Prefix]string{} // connected prefix -> port
	for i, rp := range r.Ports {
		key := fmt.Sprintf("port %q", rp.Name)
		if rp.Name == "" {
			key = fmt.Sprintf("port #%d", i+1)
			b.fail("%s: name is missing; add name = \"p%d\"", key, i+1)
		} else if !nameRE.MatchString(rp.Name) {
			b.fail("%s: name must start with a letter and hold at most 32 letters, digits, '.', '_' or '-'", key)
		} else if names[rp.Name] {
			b.fail("%s: name is used by two ports; give each [[port]] its own name", key)
		}
		names[rp.Name] = true
		p := Port{Name: rp.Name, Device: rp.Device, MTU: DefaultMTU, Queues: len(c.Lcores),
			RxDesc: DefaultRxDesc, TxDesc: DefaultDesc}

		switch {
		case rp.Device != "" && rp.Devices != nil:
			b.fail("%s: both device and devices are set; use device for one device, devices for one device per queue", key)
		case rp.Devices != nil:
			b.deviceList(c, &p, rp, key, devices)
		case rp.Device == "":
			b.fail("%s: device is missing; add a PCI address (\"0000:03:00.0\") or a vdev (\"net_af_xdp0,iface=p1\")", key)
		default:
			b.device(rp.Device, rp.Name, key, devices)
		}

		switch rp.Role {
		case "access":
			p.Role = RoleAccess
		case "core":
			p.Role = RoleCore
		case "":
			b.fail("%s: role is missing; add role = \"access\" (toward clients) or \"core\" (toward servers)", key)
		default:
			b.fail("%s: role %q is not one of access, core", key, rp.Role)
		}

		if len(rp.Addresses) == 0 {
			b.fail("%s: addresses is empty; give the port its own address, e.g. addresses = [\"198.18.1.1/24\"]", key)
		}
		for _, s := range rp.Addresses {
			a, err := parseHostPrefix(s)
			if err != nil {
				b.fail("%s: address %q %v", key, s, err)
				continue
			}
			if other, dup := addrs[a.Addr()]; dup {
				b.fail("%s: address %s is also an address of port %q; each address belongs to one port, once", key, a.Addr(), other)
			}
			addrs[a.Addr()] = rp.Name
			if other, dup := nets[a.Masked()]; dup && other != rp.Name {
				b.fail("%s: prefix %s is also connected on port %q; two ports cannot share a subnet", key, a.Masked(), other)
			}
			nets[a.Masked()] = rp.Name
			p.Addresses = append(p.Addresses, a)
		}

		if rp.MTU != nil {
			p.MTU = *rp.MTU
		}
		switch {
		case p.MTU < MinMTU || p.MTU > MaxMTU:
			b.fail("%s: mtu %d is out of range; use %d..%d", key, p.MTU, MinMTU, MaxMTU)
		case p.MTU < MinMTUIPv6 && p.HasIPv6():
			b.fail("%s: mtu %d is below %d, the IPv6 minimum, and the port has IPv6 addresses; raise mtu to at least %d", key, p.MTU, MinMTUIPv6, MinMTUIPv6)
		case p.MTU+l2Overhead+MbufHeadroom > c.Mempool.DataRoom:
			b.fail("%s: mtu %d does not fit in an mbuf of data_room %d (headroom %d + Ethernet and VLAN %d + mtu); raise mempool.data_room to at least %d or lower mtu",
				key, p.MTU, c.Mempool.DataRoom, MbufHeadroom, l2Overhead, p.MTU+l2Overhead+MbufHeadroom)
		}
		limitKey, limit := vdevQueues(rp.Device)
		if p.Devices != nil {
			limitKey, limit = "", 0 // deviceList set Queues
		}
		if limit > 0 && p.Queues > limit {
			p.Queues = limit
		}
		if rp.Queues != nil && p.Devices != nil {
			if *rp.Queues != len(p.Devices) {
				b.fail("%s: queues %d but devices lists %d devices (one per queue); remove queues or make them agree", key, *rp.Queues, len(p.Devices))
			}
		} else if rp.Queues != nil {
			p.Queues = *rp.Queues
			switch {
			case p.Queues < 1 || p.Queues > len(c.Lcores):
				b.fail("%s: queues %d is out of range; use 1..%d (the number of lcores: worker i polls queue i)", key, p.Queues, len(c.Lcores))
			case limit > 0 && p.Queues > limit:
				b.fail("%s: queues %d exceeds the device's %s=%d; raise %s in device or lower queues", key, p.Queues, limitKey, limit, limitKey)
			}
		}
		for _, d := range []struct {
			key string
			in  *int
			out *int
		}{{"rx_desc", rp.RxDesc, &p.RxDesc}, {"tx_desc", rp.TxDesc, &p.TxDesc}} {
			if d.in == nil {
				continue
			}
			*d.out = *d.in
			if n := *d.in; n < MinDesc || n > MaxDesc || n&(n-1) != 0 {
				b.fail("%s: %s %d must be a power of two in %d..%d", key, d.key, n, MinDesc, MaxDesc)
			}
		}
		if rp.MAC != nil {
			mac, err := parseUnicastMAC(*rp.MAC)
			if err != nil {
				b.fail("%s: mac %q %v", key, *rp.MAC, err)
			}
			p.MAC = mac
		}
		c.Ports = append(c.Ports, p)
	}
	if b.err != nil {
		return
	}
	ring := 0
	for _, p := range c.Ports {
		ring += p.Queues * (p.RxDesc + p.TxDesc)
	}
	// Every descriptor can hold an mbuf, and every worker can hold a full
	// cache plus a burst in flight; less than that starves RX at start.
	need := ring + len(c.Lcores)*(c.Mempool.Cache+c.Burst)
	if c.Mempool.Mbufs < need {
		b.fail("mempool.mbufs %d is too small for %d descriptors and %d worker caches; raise mbufs to at least %d (2^n-1 is best) or lower rx_desc/tx_desc",
			c.Mempool.Mbufs, ring, len(c.Lcores), need)
	}
}

// device checks one device string of port name: a PCI address or a vdev,
// not used by another port (devices maps vdev names and lower-case PCI
// addresses to their port).
func (b *builder) device(dev, name, key string, devices map[string]string) {
	switch {
	case pciRE.MatchString(dev):
		if other, dup := devices[strings.ToLower(dev)]; dup {
			b.fail("%s: device %s is also the device of port %q; give each port its own device", key, dev, other)
		}
		devices[strings.ToLower(dev)] = name
	case vdevRE.MatchString(dev):
		vname, _, _ := strings.Cut(dev, ",")
		if other, dup := devices[vname]; dup {
			b.fail("%s: vdev name %s is also used by port %q; number each vdev (net_af_xdp0, net_af_xdp1, ...)", key, vname, other)
		}
		devices[vname] = name
		if (strings.HasPrefix(vname, "net_af_xdp") || strings.HasPrefix(vname, "net_af_packet")) &&
			!strings.Contains(dev, ",iface=") {
			b.fail("%s: device %q has no iface=; name the kernel interface, e.g. %s,iface=%s", key, dev, vname, name)
		}
	default:
		b.fail("%s: device %q is neither a PCI address (0000:03:00.0) nor a DPDK vdev (net_af_xdp0,iface=p1,start_queue=0,queue_count=1)", key, dev)
	}
}

// deviceList checks a port's devices list - one single-queue vdev per
// queue, queue q of the port being devices[q] - and sets p.Device (the
// first), p.Devices and p.Queues.
func (b *builder) deviceList(c *Config, p *Port, rp rawPort, key string, devices map[string]string) {
	n := len(rp.Devices)
	switch {
	case n == 0:
		b.fail("%s: devices is empty; list one vdev per queue, e.g. devices = [\"net_af_xdp0,iface=%s,start_queue=0,queue_count=1\", \"net_af_xdp1,iface=%s,start_queue=1,queue_count=1\"]", key, rp.Name, rp.Name)
		return
	case n > len(c.Lcores):
		b.fail("%s: devices lists %d queues but there are %d lcores (worker i polls queue i); list at most %d devices or add lcores", key, n, len(c.Lcores), len(c.Lcores))
	}
	for q, dev := range rp.Devices {
		dkey := fmt.Sprintf("%s: devices[%d]", key, q)
		if dev == "" {
			b.fail("%s is empty; give a vdev such as \"net_af_xdp%d,iface=%s,start_queue=%d,queue_count=1\"", dkey, q, rp.Name, q)
			continue
		}
		if pciRE.MatchString(dev) {
			b.fail("%s: %s is a PCI address; a PCI port has its own queues: use device = %q and queues", dkey, dev, dev)
			continue
		}
		b.device(dev, rp.Name, dkey, devices)
		if arg, qn := vdevQueues(dev); qn > 1 {
			b.fail("%s: %q has %s=%d; each entry of devices is one queue: set %s=1 (and start_queue=%d for af_xdp)", dkey, dev, arg, qn, arg, q)
		}
	}
	p.Device = rp.Devices[0]
	p.Devices = slices.Clone(rp.Devices)
	p.Queues = n
}

// vdevQueues returns the number of queue pairs a vdev device string
// provides and the argument that sets it, or 0 when flexcp does not know
// the driver (PCI devices, other vdevs).
func vdevQueues(device string) (arg string, n int) {
	name, args, _ := strings.Cut(device, ",")
	switch {
	case strings.HasPrefix(name, "net_af_xdp"):
		arg = "queue_count"
	case strings.HasPrefix(name, "net_af_packet"):
		arg = "qpairs"
	default:
		return "", 0
	}
	n = 1 // both drivers' default
	for _, kv := range strings.Split(args, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == arg {
			if q, err := strconv.Atoi(v); err == nil && q > 0 {
				n = q
			}
		}
	}
	return arg, n
}

// parseHostPrefix parses a port address such as 198.18.1.1/24: a unicast
// address with its prefix length.
func parseHostPrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("is not an address with a prefix length; write e.g. \"198.18.1.1/24\" or \"2001:db8:1::1/64\"")
	}
	a := p.Addr()
	switch {
	case a.Is4In6():
		return p, fmt.Errorf("is an IPv4-mapped IPv6 address; write the IPv4 address in dotted form")
	case a.IsUnspecified() || a.IsMulticast() || a.IsLoopback():
		return p, fmt.Errorf("is not a unicast address; give the port's own address")
	case a.Is4() && p.Bits() <= 30 && a == p.Masked().Addr():
		return p, fmt.Errorf("is the network address of %s; write the port's own address, e.g. %s/%d", p.Masked(), a.Next(), p.Bits())
	case a.Is4() && p.Bits() <= 30 && a == lastAddr(p):
		return p, fmt.Errorf("is the broadcast address of %s; write the port's own address", p.Masked())
	}
	return p, nil
}

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// parseNetPrefix parses a destination prefix with no host bits set.
func parseNetPrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("is not a prefix; write e.g. \"0.0.0.0/0\" or \"2001:db8::/32\"")
	}
	if p.Addr().Is4In6() {
		return p, fmt.Errorf("is an IPv4-mapped IPv6 prefix; write the IPv4 prefix in dotted form")
	}
	if p.Masked() != p {
		return p, fmt.Errorf("has host bits set; write %s", p.Masked())
	}
	return p, nil
}

// parseUnicastMAC parses an EUI-48 unicast MAC address.
func parseUnicastMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("is not a 48-bit MAC address; write e.g. \"02:00:00:00:00:01\"")
	}
	if mac[0]&1 != 0 {
		return nil, fmt.Errorf("is a multicast MAC address; use a unicast one (first octet even)")
	}
	if [6]byte(mac) == [6]byte{} {
		return nil, fmt.Errorf("is all zeros; use a real unicast MAC address")
	}
	return mac, nil
}

// PortIndex returns the index of the port called name, or -1.
func (c *Config) PortIndex(name string) int {
	for i := range c.Ports {
		if c.Ports[i].Name == name {
			return i
		}
	}
	return -1
}

// ConnectedPort returns the index of the port with the longest connected
// prefix containing addr, or -1.
func (c *Config) ConnectedPort(addr netip.Addr) int {
	best, bestBits := -1, -1
	for i := range c.Ports {
		if bits, ok := c.Ports[i].Connected(addr); ok && bits > bestBits {
			best, bestBits = i, bits
		}
	}
	return best
}

func (c *Config) portNames() string {
	names := make([]string, len(c.Ports))
	for i, p := range c.Ports {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// resolvePort finds the port a route or neighbour names, inferring it from
// the connected prefixes of hop when name is empty.
func (b *builder) resolvePort(c *Config, key, name string, hop netip.Addr) int {
	if name == "" {
		if !hop.IsValid() {
			b.fail("%s: port is missing; name the port it leaves by (%s)", key, c.portNames())
			return -1
		}
		i := c.ConnectedPort(hop)
		if i < 0 {
			b.fail("%s: %s is in no port's connected prefix; add port = \"...\" and fix the address", key, hop)
		}
		return i
	}
	i := c.PortIndex(name)
	if i < 0 {
		b.fail("%s: port %q is not a [[port]] name; use one of %s", key, name, c.portNames())
	}
	return i
}

func (b *builder) routes(c *Config, r *rawConfig) {
	if b.err != nil {
		return
	}
	seen := map[netip.Prefix]bool{}
	for i, rr := range r.Routes {
		key := fmt.Sprintf("route %s", rr.Prefix)
		if rr.Prefix == "" {
			b.fail("route #%d: prefix is missing; add prefix = \"0.0.0.0/0\" or another destination", i+1)
			continue
		}
		pfx, err := parseNetPrefix(rr.Prefix)
		if err != nil {
			b.fail("route #%d: prefix %q %v", i+1, rr.Prefix, err)
			continue
		}
		if seen[pfx] {
			b.fail("%s: prefix is listed twice; keep one [[route]] per prefix", key)
		}
		seen[pfx] = true
		var via netip.Addr
		if rr.Via != "" {
			via, err = netip.ParseAddr(rr.Via)
			if err != nil || via.Zone() != "" {
				b.fail("%s: via %q is not an IP address; write the next hop's address, e.g. \"198.18.3.2\"", key, rr.Via)
				continue
			}
			if via.Is4() != pfx.Addr().Is4() {
				b.fail("%s: via %s is not in the prefix's address family; use an IPv%s next hop", key, via, family(pfx.Addr()))
				continue
			}
		}
		pi := b.resolvePort(c, key, rr.Port, via)
		if pi < 0 {
			continue
		}
		port := &c.Ports[pi]
		if via.IsValid() {
			if _, ok := port.Connected(via); !ok {
				b.fail("%s: via %s is outside every connected prefix of port %q; use a next hop on that port's subnet", key, via, port.Name)
			} else if port.Owns(via) {
				b.fail("%s: via %s is port %q's own address; use the next router's address", key, via, port.Name)
			}
		}
		for _, q := range c.Ports {
			for _, a := range q.Addresses {
				if a.Masked() == pfx {
					b.fail("%s: prefix is already connected on port %q; remove this route", key, q.Name)
				}
			}
		}
		c.Routes = append(c.Routes, Route{Prefix: pfx, Via: via, Port: port.Name, PortIndex: pi})
	}
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "4"
	}
	return "6"
}

func (b *builder) neighbors(c *Config, r *rawConfig) {
	if b.err != nil {
		return
	}
	type portIP struct {
		port int
		ip   netip.Addr
	}
	seen := map[portIP]bool{}
	for i, rn := range r.Neighbors {
		ip, err := netip.ParseAddr(rn.IP)
		if err != nil || ip.Zone() != "" || ip.Is4In6() {
			b.fail("neighbor #%d: ip %q is not an IP address; write e.g. \"198.18.3.2\"", i+1, rn.IP)
			continue
		}
		key := fmt.Sprintf("neighbor %s", ip)
		mac, err := parseUnicastMAC(rn.MAC)
		if err != nil {
			b.fail("%s: mac %q %v", key, rn.MAC, err)
			continue
		}
		pi := b.resolvePort(c, key, rn.Port, ip)
		if pi < 0 {
			continue
		}
		port := &c.Ports[pi]
		if _, ok := port.Connected(ip); !ok {
			b.fail("%s: ip is outside every connected prefix of port %q; static neighbours must be on the port's subnet", key, port.Name)
			continue
		}
		if port.Owns(ip) {
			b.fail("%s: ip is port %q's own address; a neighbour is another host", key, port.Name)
			continue
		}
		if seen[portIP{pi, ip}] {
			b.fail("%s: listed twice on port %q; keep one [[neighbor]] per address", key, port.Name)
		}
		seen[portIP{pi, ip}] = true
		c.Neighbors = append(c.Neighbors, Neighbor{IP: ip, MAC: mac, Port: port.Name, PortIndex: pi})
	}
}

func (b *builder) proxy(c *Config, r *rawConfig) {
	rp := &r.Proxy
	p := Proxy{
		Enabled:          true,
		Translate:        []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
		Ports:            []PortRange{{1, 65535}},
		Scheduler:        DefaultScheduler,
		MaxConnections:   DefaultMaxConnections,
		MaxSubflows:      DefaultMaxSubflows,
		Checksum:         DefaultChecksum,
		Timestamps:       TimestampsStrip,
		SYNTimeout:       DefaultSYNTimeout,
		JoinTimeout:      DefaultJoinTimeout,
		IdleTimeout:      DefaultIdleTimeout,
		Linger:           DefaultLinger,
		SubflowDeadAfter: DefaultSubflowDeadAfter,
		StalePrompt:      DefaultStalePrompt,
		ThinServerAcks:   DefaultThinServerAcks,
	}
	if rp.StalePrompt != nil {
		p.StalePrompt = *rp.StalePrompt
	}
	if rp.ThinServerAcks != nil {
		p.ThinServerAcks = *rp.ThinServerAcks
	}
	if rp.Enabled != nil {
		p.Enabled = *rp.Enabled
	}
	if rp.Translate != nil {
		p.Translate = nil
		if len(*rp.Translate) == 0 && p.Enabled {
			b.fail("proxy.translate is empty, so nothing would be translated; list destination prefixes or set proxy.enabled = false")
		}
		for _, s := range *rp.Translate {
			pfx, err := parseNetPrefix(s)
			if err != nil {
				b.fail("proxy.translate: %q %v", s, err)
				continue
			}
			p.Translate = append(p.Translate, pfx)
		}
	}
	if rp.Ports != nil {
		p.Ports = nil
		if len(*rp.Ports) == 0 && p.Enabled {
			b.fail("proxy.ports is empty, so nothing would be translated; list ports such as \"80\" or \"5000-5100\", or leave the key out for all ports")
		}
		for _, s := range *rp.Ports {
			pr, err := ParsePortRange(s)
			if err != nil {
				b.fail("proxy.ports: %v; write a port (\"80\") or a range (\"5000-5100\")", err)
				continue
			}
			p.Ports = append(p.Ports, pr)
		}
	}
	if rp.Scheduler != nil {
		s, ok := ParseScheduler(*rp.Scheduler)
		if !ok {
			b.fail("proxy.scheduler %q is not one of %s", *rp.Scheduler, strings.Join(schedulerNames[:], ", "))
		}
		p.Scheduler = s
	}
	b.schedulerKeys(c, rp, &p)
	if rp.MaxConnections != nil {
		p.MaxConnections = *rp.MaxConnections
		if p.MaxConnections < 1 || p.MaxConnections > MaxConnections {
			b.fail("proxy.max_connections %d is out of range; use 1..%d (per worker)", p.MaxConnections, MaxConnections)
		}
	}
	if rp.MaxSubflows != nil {
		p.MaxSubflows = *rp.MaxSubflows
		if p.MaxSubflows < 1 || p.MaxSubflows > MaxSubflows {
			b.fail("proxy.max_subflows %d is out of range; use 1..%d (per connection)", p.MaxSubflows, MaxSubflows)
		}
	}
	if rp.JoinSubflows != nil {
		p.JoinSubflows = *rp.JoinSubflows
		// The engine keeps at most 8 subflows per connection.
		if most := p.MaxConnections * (min(p.MaxSubflows, 8) - 1); p.JoinSubflows < 0 || p.JoinSubflows > most {
			b.fail("proxy.join_subflows %d is out of range; use 0..%d (max_connections x (max_subflows - 1); 0 = max_connections)", p.JoinSubflows, most)
		}
	}
	if rp.SackTables != nil {
		p.SackTables = *rp.SackTables
		if p.SackTables < 0 || p.SackTables > p.MaxConnections {
			b.fail("proxy.sack_tables %d is out of range; use 0..%d (max_connections; 0 = max_connections / 4)", p.SackTables, p.MaxConnections)
		}
	}
	if rp.Checksum != nil {
		switch s := *rp.Checksum; s {
		case "auto":
			p.Checksum = ChecksumAuto
		case "on":
			p.Checksum = ChecksumOn
		case "off":
			p.Checksum = ChecksumOff
		default:
			b.fail("proxy.checksum %q is not one of auto, on, off", s)
		}
	}
	if rp.Timestamps != nil {
		switch s := *rp.Timestamps; s {
		case "strip":
		case "translate", "keep":
			b.fail("proxy.timestamps %q is not supported yet; use strip", s)
		default:
			b.fail("proxy.timestamps %q is not one of strip", s)
		}
	}
	for _, d := range []struct {
		key string
		in  *string
		out *time.Duration
	}{
		{"syn_timeout", rp.SYNTimeout, &p.SYNTimeout},
		{"join_timeout", rp.JoinTimeout, &p.JoinTimeout},
		{"idle_timeout", rp.IdleTimeout, &p.IdleTimeout},
		{"linger", rp.Linger, &p.Linger},
		{"subflow_dead_after", rp.SubflowDeadAfter, &p.SubflowDeadAfter},
		{"subflow_stale_after", rp.SubflowStaleAfter, &p.SubflowStaleAfter},
	} {
		if d.in == nil {
			continue
		}
		v, err := time.ParseDuration(*d.in)
		if err != nil {
			b.fail("proxy.%s %q is not a duration; write e.g. \"30s\", \"500ms\" or \"1h\"", d.key, *d.in)
			continue
		}
		if v < MinDuration || v > MaxDuration {
			b.fail("proxy.%s %s is out of range; use %s..%s", d.key, v, MinDuration, MaxDuration)
			continue
		}
		*d.out = v
	}
	if p.SubflowStaleAfter != 0 && p.SubflowStaleAfter >= p.SubflowDeadAfter {
		b.fail("proxy.subflow_stale_after %s is not below proxy.subflow_dead_after %s; a subflow goes stale before it is dead", p.SubflowStaleAfter, p.SubflowDeadAfter)
	}
	c.Proxy = p
	if p.Enabled && b.err == nil && len(c.Ports) > 0 {
		var access, core bool
		for _, port := range c.Ports {
			access = access || port.Role == RoleAccess
			core = core || port.Role == RoleCore
		}
		if !access || !core {
			b.fail("proxy.enabled needs at least one access and one core port; add the missing role or set proxy.enabled = false")
		}
	}
}

// schedulerKeys reads proxy.scheduler_rule, proxy.backup_ports and
// proxy.port_priority into p.
func (b *builder) schedulerKeys(c *Config, rp *rawProxy, p *Proxy) {
	seen := map[netip.Prefix]bool{}
	for i, r := range rp.SchedulerRules {
		key := fmt.Sprintf("proxy.scheduler_rule[%d]", i)
		pfx, err := parseNetPrefix(r.Prefix)
		if err != nil {
			b.fail("%s: prefix %q %v", key, r.Prefix, err)
			continue
		}
		s, ok := ParseScheduler(r.Scheduler)
		if !ok {
			b.fail("%s: scheduler %q is not one of %s", key, r.Scheduler, strings.Join(schedulerNames[:], ", "))
			continue
		}
		if seen[pfx] {
			b.fail("%s: prefix %s is listed twice; keep one rule per prefix", key, pfx)
			continue
		}
		seen[pfx] = true
		p.SchedulerRules = append(p.SchedulerRules, SchedulerRule{Prefix: pfx, Scheduler: s})
	}
	if len(p.SchedulerRules) > 254 {
		b.fail("proxy.scheduler_rule: %d rules; at most 254", len(p.SchedulerRules))
	}
	accessPorts := func(key string, names *[]string) []int {
		if names == nil {
			return nil
		}
		var out []int
		for _, n := range *names {
			i := c.PortIndex(n)
			switch {
			case i < 0:
				b.fail("proxy.%s: no port is called %q; use the name of an access [[port]]", key, n)
			case c.Ports[i].Role != RoleAccess:
				b.fail("proxy.%s: port %q is a %s port; only access ports carry subflows", key, n, c.Ports[i].Role)
			case slices.Contains(out, i):
				b.fail("proxy.%s: port %q is listed twice", key, n)
			default:
				out = append(out, i)
			}
		}
		return out
	}
	p.BackupPorts = accessPorts("backup_ports", rp.BackupPorts)
	p.PortPriority = accessPorts("port_priority", rp.PortPriority)
}
