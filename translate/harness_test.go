package translate

import (
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// testHeadroom is the headroom of test buffers.
const testHeadroom = 128

// testAlloc is an Allocator over a fixed set of buffers (reused after
// reset), so tests of the data path do not allocate either.
type testAlloc struct {
	bufs [][]byte
	next int
	fail bool
}

func newTestAlloc(n int) *testAlloc {
	a := &testAlloc{}
	for i := 0; i < n; i++ {
		a.bufs = append(a.bufs, make([]byte, 2048))
	}
	return a
}

func (a *testAlloc) Alloc() (Packet, bool) {
	if a.fail || a.next == len(a.bufs) {
		return Packet{}, false
	}
	b := a.bufs[a.next]
	a.next++
	return Packet{Buf: b, Off: testHeadroom}, true
}

func (a *testAlloc) reset() { a.next = 0 }

// fixedKeys is a KeySource returning given keys in order.
type fixedKeys struct{ keys []uint64 }

func (f *fixedKeys) NextKey() (uint64, bool) {
	if len(f.keys) == 0 {
		return 0, false
	}
	k := f.keys[0]
	f.keys = f.keys[1:]
	return k, true
}

func (f *fixedKeys) Refill() {}

// mkPacket copies an IP packet into a buffer with test headroom.
func mkPacket(ip []byte, side Side, port uint8) Packet {
	b := make([]byte, testHeadroom+len(ip)+64)
	copy(b[testHeadroom:], ip)
	return Packet{Buf: b, Off: testHeadroom, Len: len(ip), Side: side, Port: port}
}

// setPacket refills an existing packet buffer with ip (no allocation).
func setPacket(p *Packet, buf []byte, ip []byte, side Side, port uint8) {
	copy(buf[testHeadroom:], ip)
	*p = Packet{Buf: buf, Off: testHeadroom, Len: len(ip), Side: side, Port: port}
}

// view splits an IP packet into its TCP view and pseudo-header sum.
func view(t testing.TB, b []byte) (header.TCP, uint16, bool) {
	t.Helper()
	switch b[0] >> 4 {
	case 4:
		ip := header.IPv4(b)
		if !ip.IsValid() {
			t.Fatalf("invalid IPv4 header")
		}
		if !ip.IsChecksumValid() {
			t.Errorf("I9: IPv4 header checksum invalid")
		}
		return header.TCP(ip.Payload()), ip.PseudoHeaderSum(), false
	case 6:
		ip := header.IPv6(b)
		if !ip.IsValid() {
			t.Fatalf("invalid IPv6 header")
		}
		return header.TCP(ip.Payload()), ip.PseudoHeaderSum(), true
	}
	t.Fatalf("not IP")
	return nil, 0, false
}

// checkOut asserts the invariants every packet P sends holds: valid
// checksums (I9), options within 40 bytes and well formed (I10).
func checkOut(t testing.TB, p *Packet) (header.TCP, tcpOpts) {
	t.Helper()
	if p.Off < 0 || p.Off+p.Len > len(p.Buf) {
		t.Fatalf("packet out of its buffer: off %d len %d cap %d", p.Off, p.Len, len(p.Buf))
	}
	tcp, pseudo, _ := view(t, p.Bytes())
	if !tcp.IsValid() {
		t.Fatalf("invalid TCP header")
	}
	if !tcp.IsChecksumValid(pseudo) {
		t.Errorf("I9: TCP checksum invalid")
	}
	if n := len(tcp.Options()); n > 40 {
		t.Errorf("I10: %d option bytes", n)
	}
	var o tcpOpts
	parseOpts(tcp.Options(), &o)
	if o.malformed {
		t.Errorf("I10: malformed options % x", tcp.Options())
	}
	// The project's codec, which follows the kernel's validation, must
	// accept every MPTCP option P writes.
	var ko option.Options
	ko.Parse(tcp.Options(), tcp.Flags(), len(tcp.Payload()) > 0)
	if ko.Malformed || ko.Present.Has(option.MPTCPOther) {
		t.Errorf("option codec rejects % x (flags %#x)", tcp.Options(), tcp.Flags())
	}
	return tcp, o
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// checkSlab checks the subflow slab: the shared zero subflow that stands
// for unassigned join slots was never written, and every join slot is
// either free or named by exactly one live connection.
func checkSlab(t testing.TB, e *Engine) {
	t.Helper()
	if e.subs[0] != (subflow{}) {
		t.Fatalf("subflow slab: the shared zero subflow was written: %+v", e.subs[0])
	}
	used := 0
	for i := range e.conns {
		c := &e.conns[i]
		for j := range c.subIdx {
			if x := c.subIdx[j]; x != 0 {
				if c.state == connFree || int(x) <= len(e.conns) {
					t.Fatalf("subflow slab: connection %d (state %d) names slot %d", i, c.state, x)
				}
				used++
			}
		}
	}
	if used+len(e.joinFree) != e.cfg.JoinSubflows {
		t.Fatalf("subflow slab: %d join slots used + %d free != %d", used, len(e.joinFree), e.cfg.JoinSubflows)
	}
	// I34: a free slot is zero (newConn and takeJoinSlot do not clear it).
	for _, ci := range e.free {
		if e.conns[ci] != (conn{}) || e.subs[1+ci] != (subflow{}) {
			t.Fatalf("I34: free connection slot %d is not zero: %+v, subflow 0 %+v", ci, e.conns[ci], e.subs[1+ci])
		}
	}
	for _, x := range e.joinFree {
		if e.subs[x] != (subflow{}) {
			t.Fatalf("I34: free join slot %d is not zero: %+v", x, e.subs[x])
		}
	}
	checkSackPool(t, e)
}

// checkSackPool checks the SACKed-range pool (I25): every table is either
// free or held by exactly one live connection, a connection holds one iff
// it remembers a range, and none is free twice.
func checkSackPool(t testing.TB, e *Engine) {
	t.Helper()
	owner := make([]int, len(e.sackTabs))
	for i := range e.conns {
		c := &e.conns[i]
		if (c.sackIdx != 0) != (c.nsacked != 0) {
			t.Fatalf("sack pool: connection %d holds table %d with %d ranges", i, c.sackIdx, c.nsacked)
		}
		if x := c.sackIdx; x != 0 {
			if c.state == connFree || x < 1 || int(x) >= len(e.sackTabs) || owner[x] != 0 {
				t.Fatalf("sack pool: connection %d (state %d) names table %d (owner %d)", i, c.state, x, owner[x]-1)
			}
			owner[x] = i + 1
		}
	}
	for _, x := range e.sackFree {
		if x < 1 || int(x) >= len(e.sackTabs) || owner[x] != 0 {
			t.Fatalf("sack pool: free table %d is invalid, held or free twice", x)
		}
		owner[x] = -1
	}
	for x := 1; x < len(owner); x++ {
		if owner[x] == 0 {
			t.Fatalf("sack pool: table %d is neither held nor free (leaked)", x)
		}
	}
}
