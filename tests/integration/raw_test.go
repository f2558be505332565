//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A raw-socket sender and sniffer for hostile-input tests: AF_PACKET
// sockets bound to one interface of a namespace, sending hand-built
// Ethernet frames (any header, valid or not) and reading what arrives.

// rawIface is an AF_PACKET socket on one interface, with a reader that
// keeps the incoming (not outgoing) IPv4 and IPv6 TCP frames.
type rawIface struct {
	fd     int
	ifi    int
	mac    net.HardwareAddr   // the interface's own MAC
	peer   net.HardwareAddr   // the MAC frames are sent to
	keep   func(*rawSeg) bool // nil keeps every segment
	mu     sync.Mutex
	segs   []rawSeg
	lost   uint64 // frames the socket dropped, summed by drops
	closed chan struct{}
}

// rawSeg is one received IPv4 or IPv6 TCP segment (or fragment), decoded.
type rawSeg struct {
	ip           []byte // the IP packet
	src, dst     [4]byte
	v6           bool     // an IPv6 packet: the addresses are src6, dst6
	src6, dst6   [16]byte // IPv6 addresses
	fragID       uint32   // IPv6: the fragment header's identification
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	opts         []byte
	payload      []byte
	frag         bool // a fragment (offset or MF set): no TCP fields decoded
}

// ifaceMAC reads the MAC of dev in namespace ns.
func ifaceMAC(t testing.TB, ns, dev string) net.HardwareAddr {
	t.Helper()
	out := strings.TrimSpace(nsRun(t, ns, "cat", "/sys/class/net/"+dev+"/address"))
	m, err := net.ParseMAC(out)
	if err != nil {
		t.Fatalf("MAC of %s in %s: %q: %v", dev, ns, out, err)
	}
	return m
}

// openRaw opens an AF_PACKET socket on dev in namespace ns, sending to the
// MAC of peerDev in peerNS. It is closed when the test ends.
func openRaw(t testing.TB, ns, dev, peerNS, peerDev string) *rawIface {
	t.Helper()
	return openRawFilter(t, ns, dev, peerNS, peerDev, nil)
}

// openRawFilter is openRaw keeping only the received segments keep
// accepts (a bulk transfer on the same interface is not stored).
func openRawFilter(t testing.TB, ns, dev, peerNS, peerDev string, keep func(*rawSeg) bool) *rawIface {
	t.Helper()
	r := &rawIface{mac: ifaceMAC(t, ns, dev), peer: ifaceMAC(t, peerNS, peerDev), closed: make(chan struct{}), keep: keep}
	err := inNetns(ns, func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		r.ifi = ifc.Index
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		r.fd = fd
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: r.ifi})
	})
	if err != nil {
		t.Fatalf("AF_PACKET socket on %s in %s: %v", dev, ns, err)
	}
	tv := unix.Timeval{Usec: 100000}
	if err := unix.SetsockoptTimeval(r.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	// The socket sees every frame of a bulk transfer on the interface;
	// a large buffer keeps a slow reader (loaded machine) from losing the
	// few frames a test waits for. drops() reports what it lost anyway.
	if err := unix.SetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20); err != nil {
		t.Logf("SO_RCVBUFFORCE on %s: %v", dev, err)
	}
	go r.read()
	t.Cleanup(func() { close(r.closed); unix.Close(r.fd) })
	return r
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (r *rawIface) read() {
	buf := make([]byte, 65536)
	for {
		select {
		case <-r.closed:
			return
		default:
		}
		n, from, err := unix.Recvfrom(r.fd, buf, 0)
		if err != nil || n < 14+20 {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		var s rawSeg
		var ok bool
		switch binary.BigEndian.Uint16(buf[12:]) {
		case 0x0800:
			s, ok = decodeSeg(append([]byte(nil), buf[14:n]...))
		case 0x86dd:
			s, ok = decodeSeg6(append([]byte(nil), buf[14:n]...))
		}
		if ok && (r.keep == nil || r.keep(&s)) {
			r.mu.Lock()
			r.segs = append(r.segs, s)
			r.mu.Unlock()
		}
	}
}

func decodeSeg(ip []byte) (rawSeg, bool) {
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 6 {
		return rawSeg{}, false
	}
	hl := int(ip[0]&0xf) * 4
	tl := int(binary.BigEndian.Uint16(ip[2:]))
	if hl < 20 || tl > len(ip) || tl < hl {
		return rawSeg{}, false
	}
	ip = ip[:tl]
	s := rawSeg{ip: ip}
	copy(s.src[:], ip[12:16])
	copy(s.dst[:], ip[16:20])
	if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		s.frag = true
		if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
			return s, true
		}
	}
	t := ip[hl:]
	if len(t) < 4 {
		return s, true
	}
	s.sport, s.dport = binary.BigEndian.Uint16(t), binary.BigEndian.Uint16(t[2:])
	if len(t) < 20 {
		return s, true
	}
	s.seq, s.ack = binary.BigEndian.Uint32(t[4:]), binary.BigEndian.Uint32(t[8:])
	s.flags = t[13]
	off := int(t[12]>>4) * 4
	if off >= 20 && off <= len(t) {
		s.opts, s.payload = t[20:off], t[off:]
	}
	return s, true
}

// decodeSeg6 decodes an IPv6 packet, walking hop-by-hop, routing,
// destination-options and fragment headers (RFC 8200 section 4) to TCP.
// A non-first fragment is kept with frag set and no TCP fields.
func decodeSeg6(ip []byte) (rawSeg, bool) {
	if len(ip) < 40 || ip[0]>>4 != 6 {
		return rawSeg{}, false
	}
	tl := 40 + int(binary.BigEndian.Uint16(ip[4:]))
	if tl > len(ip) {
		return rawSeg{}, false
	}
	ip = ip[:tl]
	s := rawSeg{ip: ip, v6: true}
	copy(s.src6[:], ip[8:24])
	copy(s.dst6[:], ip[24:40])
	nh, rest := ip[6], ip[40:]
	for nh != 6 {
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(rest) < 8 || len(rest) < (int(rest[1])+1)*8 {
				return rawSeg{}, false
			}
			nh, rest = rest[0], rest[(int(rest[1])+1)*8:]
		case 44: // fragment
			if len(rest) < 8 {
				return rawSeg{}, false
			}
			s.frag = true
			s.fragID = binary.BigEndian.Uint32(rest[4:])
			if binary.BigEndian.Uint16(rest[2:])&^7 != 0 {
				return s, true
			}
			nh, rest = rest[0], rest[8:]
		default:
			return rawSeg{}, false
		}
	}
	if len(rest) < 4 {
		return s, true
	}
	s.sport, s.dport = binary.BigEndian.Uint16(rest), binary.BigEndian.Uint16(rest[2:])
	if len(rest) < 20 {
		return s, true
	}
	s.seq, s.ack = binary.BigEndian.Uint32(rest[4:]), binary.BigEndian.Uint32(rest[8:])
	s.flags = rest[13]
	off := int(rest[12]>>4) * 4
	if off >= 20 && off <= len(rest) {
		s.opts, s.payload = rest[20:off], rest[off:]
	}
	return s, true
}

// send sends one IP packet (any bytes) in an Ethernet frame: EtherType
// IPv6 if the version nibble says 6, IPv4 otherwise.
func (r *rawIface) send(t testing.TB, ip []byte) {
	t.Helper()
	et := uint16(0x0800)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		et = 0x86dd
	}
	r.sendType(t, et, ip)
}

// sendType sends ip in an Ethernet frame of EtherType et.
func (r *rawIface) sendType(t testing.TB, et uint16, ip []byte) {
	t.Helper()
	f := make([]byte, 14, 14+len(ip))
	copy(f, r.peer)
	copy(f[6:], r.mac)
	binary.BigEndian.PutUint16(f[12:], et)
	f = append(f, ip...)
	to := &unix.SockaddrLinklayer{Ifindex: r.ifi, Halen: 6, Addr: [8]byte(append(r.peer[:6:6], 0, 0))}
	for try := 0; ; try++ {
		err := unix.Sendto(r.fd, f, 0, to)
		if err == nil {
			return
		}
		// A flood fills the socket's send buffer: wait for room.
		if (err == unix.ENOBUFS || err == unix.EAGAIN) && try < 1000 {
			time.Sleep(time.Millisecond)
			continue
		}
		t.Fatalf("raw send: %v", err)
	}
}

// drops returns how many frames the socket's receive queue has lost
// since it was opened (PACKET_STATISTICS).
func (r *rawIface) drops() uint64 {
	st, err := unix.GetsockoptTpacketStats(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.lost += uint64(st.Drops) // the kernel resets the counters on read
	}
	return r.lost
}

// wait returns the first segment received since index from for which
// match is true, waiting up to d; ok is false on timeout.
func (r *rawIface) wait(from int, d time.Duration, match func(*rawSeg) bool) (rawSeg, bool) {
	deadline := time.Now().Add(d)
	for {
		r.mu.Lock()
		for i := from; i < len(r.segs); i++ {
			if match(&r.segs[i]) {
				s := r.segs[i]
				r.mu.Unlock()
				return s, true
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			return rawSeg{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count returns how many received segments since index from match.
func (r *rawIface) count(from int, match func(*rawSeg) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i := from; i < len(r.segs); i++ {
		if match(&r.segs[i]) {
			n++
		}
	}
	return n
}

// rawPorts keeps segments from or to ports lo-hi, and fragments.
func rawPorts(lo, hi uint16) func(*rawSeg) bool {
	return func(s *rawSeg) bool {
		return s.frag || (s.sport >= lo && s.sport <= hi) || (s.dport >= lo && s.dport <= hi)
	}
}

// mark returns the index the next received segment will have.
func (r *rawIface) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.segs)
}

// csumAdd adds b to a one's-complement running sum.
func csumAdd(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func csumFold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// tcpSeg describes a TCP segment for buildTCP.
type tcpSeg struct {
	src, dst     [4]byte
	v6           bool     // IPv6: the checksum's pseudo header uses src6, dst6
	src6, dst6   [16]byte // IPv6 addresses
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	win          uint16
	opts         []byte // raw option bytes; padded with NOPs to 4-byte words unless rawOpts
	rawOpts      bool   // use opts unpadded (the data offset is rounded down)
	payload      []byte
	dataOff      int // override the data offset (bytes) if non-zero
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
)

// buildTCP returns the TCP segment with a valid checksum.
func buildTCP(s tcpSeg) []byte {
	opts := s.opts
	if !s.rawOpts {
		for len(opts)%4 != 0 {
			opts = append(append([]byte(nil), opts...), 1)
		}
	}
	b := make([]byte, 20+len(opts)+len(s.payload))
	binary.BigEndian.PutUint16(b, s.sport)
	binary.BigEndian.PutUint16(b[2:], s.dport)
	binary.BigEndian.PutUint32(b[4:], s.seq)
	binary.BigEndian.PutUint32(b[8:], s.ack)
	off := 20 + len(opts)
	if s.dataOff != 0 {
		off = s.dataOff
	}
	b[12] = byte(off/4) << 4
	b[13] = s.flags
	win := s.win
	if win == 0 {
		win = 65535
	}
	binary.BigEndian.PutUint16(b[14:], win)
	copy(b[20:], opts)
	copy(b[20+len(opts):], s.payload)
	sum := csumAdd(0, s.src[:])
	sum = csumAdd(sum, s.dst[:])
	if s.v6 {
		sum = csumAdd(0, s.src6[:])
		sum = csumAdd(sum, s.dst6[:])
	}
	sum += 6 + uint32(len(b))
	binary.BigEndian.PutUint16(b[16:], csumFold(csumAdd(sum, b)))
	return b
}

// buildIPv4 wraps payload (protocol proto) in an IPv4 header with ipOpts
// (padded to 4 bytes) and flags/fragment offset frag, checksum valid.
func buildIPv4(src, dst [4]byte, proto uint8, ipOpts []byte, frag uint16, payload []byte) []byte {
	for len(ipOpts)%4 != 0 {
		ipOpts = append(append([]byte(nil), ipOpts...), 0)
	}
	hl := 20 + len(ipOpts)
	b := make([]byte, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = 64
	b[9] = proto
	copy(b[12:], src[:])
	copy(b[16:], dst[:])
	copy(b[20:], ipOpts)
	copy(b[hl:], payload)
	binary.BigEndian.PutUint16(b[10:], csumFold(csumAdd(0, b[:hl])))
	return b
}

// ipTCP is buildIPv4 around buildTCP(s), or buildIPv6 if s.v6.
func ipTCP(s tcpSeg) []byte {
	if s.v6 {
		return buildIPv6(s.src6, s.dst6, 6, nil, buildTCP(s))
	}
	return buildIPv4(s.src, s.dst, 6, nil, 0x4000, buildTCP(s))
}

// ip6Ext is an IPv6 extension header for buildIPv6: its type (the next-
// header value that announces it) and its bytes, a multiple of 8, whose
// first byte (next header) buildIPv6 fills in.
type ip6Ext struct {
	typ uint8
	b   []byte
}

// buildIPv6 wraps payload (protocol proto) in an IPv6 header (hop limit
// 64) followed by the extension headers exts, in order.
func buildIPv6(src, dst [16]byte, proto uint8, exts []ip6Ext, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload)+64)
	b[0] = 0x60
	b[7] = 64
	copy(b[8:], src[:])
	copy(b[24:], dst[:])
	nhAt := 6 // where the next header byte of the previous header is
	for _, x := range exts {
		b[nhAt] = x.typ
		nhAt = len(b)
		b = append(b, x.b...)
	}
	b[nhAt] = proto
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	return b
}

// mptcpKeyHash returns the token and IDSN of an MPTCP key (RFC 8684 3.1:
// SHA-256 of the key; token its most significant 32 bits, IDSN its least
// significant 64).
func mptcpKeyHash(key uint64) (token uint32, idsn uint64) {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], key)
	h := sha256.Sum256(k[:])
	return binary.BigEndian.Uint32(h[:4]), binary.BigEndian.Uint64(h[24:])
}

// MPTCP options as the raw client writes them (RFC 8684 section 3).
func optMPCapableSyn() []byte { return []byte{30, 4, 0x01, 0x01} }

func optMPCapableAck(keyC, keyP uint64) []byte {
	b := []byte{30, 20, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(b[4:], keyC)
	binary.BigEndian.PutUint64(b[12:], keyP)
	return b
}

// optDSS is a DSS with an 8-byte DATA_ACK and, if n > 0, an 8-byte DSN
// mapping of SSN ssn for n bytes.
func optDSS(dataAck, dsn uint64, ssn uint32, n uint16) []byte {
	if n == 0 {
		b := []byte{30, 12, 0x20, 0x03, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(b[4:], dataAck)
		return b
	}
	b := make([]byte, 26)
	b[0], b[1], b[2], b[3] = 30, 26, 0x20, 0x0f
	binary.BigEndian.PutUint64(b[4:], dataAck)
	binary.BigEndian.PutUint64(b[12:], dsn)
	binary.BigEndian.PutUint32(b[20:], ssn)
	binary.BigEndian.PutUint16(b[24:], n)
	return b
}

func optJoinSyn(token, nonce uint32) []byte {
	b := []byte{30, 12, 0x10, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], token)
	binary.BigEndian.PutUint32(b[8:], nonce)
	return b
}

func optJoinAck(hmac [20]byte) []byte {
	b := []byte{30, 24, 0x10, 0}
	return append(b, hmac[:]...)
}

func optFastclose(key uint64) []byte {
	b := []byte{30, 12, 0x70, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(b[4:], key)
	return b
}

// findMPCapableKey returns the key of an MP_CAPABLE option in opts.
func findMPCapableKey(opts []byte) (uint64, bool) {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0:
			return 0, false
		case 1:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return 0, false
		}
		n := int(opts[i+1])
		if opts[i] == 30 && n >= 12 && i+n <= len(opts) && opts[i+2]>>4 == 0 {
			return binary.BigEndian.Uint64(opts[i+4:]), true
		}
		i += n
	}
	return 0, false
}

// rawClient is a hand-driven MPTCP client on raw sockets: it owns one
// connection from the client's path-1 address, so a test can put any
// segment into a live, translated connection. The client kernel must not
// answer for it: addRawClientGuard drops the kernel's RSTs from its ports.
type rawClient struct {
	r          *rawIface
	src, dst   [4]byte
	v6         bool     // an IPv6 connection between src6 and dst6
	src6, dst6 [16]byte // its IPv6 addresses
	sport      uint16
	dport      uint16
	keyC, keyP uint64
	idsnC      uint64
	idsnP      uint64
	isnC, isnS uint32
	ssn        uint32 // next subflow sequence number (relative, first data byte 1)
	dsn        uint64 // next data sequence number
}

// guardRawPorts keeps the client kernel from resetting the raw client's
// connections (it has no socket for them): its RSTs from ports lo-hi are
// dropped in the client namespace.
func guardRawPorts(t testing.TB, lo, hi uint16) {
	t.Helper()
	for _, cmd := range []string{"iptables", "ip6tables"} {
		nsRun(t, nsC, cmd, "-A", "OUTPUT", "-p", "tcp", "--sport", fmt.Sprintf("%d:%d", lo, hi), "--tcp-flags", "RST", "RST", "-j", "DROP")
	}
}

// dialRaw runs the MP_CAPABLE handshake (RFC 8684 3.1) through flexcp.
func dialRaw(t testing.TB, r *rawIface, sport uint16, dst [4]byte, dport uint16) *rawClient {
	t.Helper()
	c := &rawClient{r: r, src: [4]byte{198, 18, 1, 2}, dst: dst, sport: sport, dport: dport,
		keyC: 0x1122334455667788 ^ uint64(sport)<<40, isnC: 0x10000000 + uint32(sport)<<8}
	c.handshake(t)
	return c
}

// dialRaw6 is dialRaw over IPv6, from the client's path-1 address
// 2001:db8:1::2 to dst.
func dialRaw6(t testing.TB, r *rawIface, sport uint16, dst [16]byte, dport uint16) *rawClient {
	t.Helper()
	c := &rawClient{r: r, v6: true, src6: ip6(0x2001_0db8_0001_0000, 2), dst6: dst, sport: sport, dport: dport,
		keyC: 0x1122334455667788 ^ uint64(sport)<<40, isnC: 0x10000000 + uint32(sport)<<8}
	c.handshake(t)
	return c
}

// ip6 returns the IPv6 address whose upper and lower 64 bits are hi, lo.
func ip6(hi, lo uint64) (a [16]byte) {
	binary.BigEndian.PutUint64(a[:], hi)
	binary.BigEndian.PutUint64(a[8:], lo)
	return a
}

// handshake runs the MP_CAPABLE handshake for c.
func (c *rawClient) handshake(t testing.TB) {
	t.Helper()
	r, sport, dport := c.r, c.sport, c.dport
	_, c.idsnC = mptcpKeyHash(c.keyC)
	m := r.mark()
	syn := c.seg(0, tcpSYN, append([]byte{2, 4, 0x05, 0x78}, optMPCapableSyn()...), nil)
	syn.seq, syn.ack = c.isnC, 0
	r.send(t, ipTCP(syn))
	sa, ok := r.wait(m, 5*time.Second, func(s *rawSeg) bool {
		return s.sport == dport && s.dport == sport && s.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK
	})
	if !ok {
		t.Fatalf("raw client: no SYN/ACK for port %d", sport)
	}
	if sa.ack != c.isnC+1 {
		t.Fatalf("raw client: SYN/ACK acks %#x, want %#x", sa.ack, c.isnC+1)
	}
	c.keyP, ok = findMPCapableKey(sa.opts)
	if !ok {
		t.Fatalf("raw client: SYN/ACK without MP_CAPABLE (options % x)", sa.opts)
	}
	_, c.idsnP = mptcpKeyHash(c.keyP)
	c.isnS = sa.seq
	c.ssn, c.dsn = 1, c.idsnC+1
	r.send(t, ipTCP(c.seg(c.ssn, tcpACK, optMPCapableAck(c.keyC, c.keyP), nil)))
}

// seg is a segment of the raw connection at relative SSN ssn.
func (c *rawClient) seg(ssn uint32, flags uint8, opts, payload []byte) tcpSeg {
	return tcpSeg{src: c.src, dst: c.dst, v6: c.v6, src6: c.src6, dst6: c.dst6, sport: c.sport, dport: c.dport, seq: c.isnC + ssn,
		ack: c.isnS + 1, flags: flags, opts: opts, payload: payload}
}

// data sends payload as the next bytes of the stream with its mapping.
func (c *rawClient) data(t testing.TB, payload []byte) {
	c.r.send(t, ipTCP(c.seg(c.ssn, tcpACK|tcpPSH, optDSS(c.idsnP+1, c.dsn, c.ssn, uint16(len(payload))), payload)))
	c.ssn += uint32(len(payload))
	c.dsn += uint64(len(payload))
}
