package translate_test

import (
	"fmt"
	"net/netip"

	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
)

// pool is a toy Allocator: every buffer is fresh. A dataplane hands out
// mbufs from its mempool instead.
type pool struct{}

func (pool) Alloc() (translate.Packet, bool) {
	return translate.Packet{Buf: make([]byte, 2048), Off: 128}, true
}

// A worker core owns one Engine: it passes each burst through Process (or
// ProcessBurst), routes Forward packets by their new destination, frees
// Consumed and Drop ones, sends what Emitted holds, then clears it. Tick
// runs from the same loop.
func Example() {
	e, err := translate.New(translate.Config{
		MaxConnections: 1024,
		MaxSubflows:    4,
		Prefixes:       []netip.Prefix{netip.MustParsePrefix("198.18.3.0/24")},
	}, pool{})
	if err != nil {
		panic(err)
	}
	// A client SYN with MP_CAPABLE, 198.18.1.2:40000 -> 198.18.3.2:5201,
	// placed behind 128 bytes of headroom.
	syn := []byte{
		0x45, 0x00, 0x00, 0x30, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, // IPv4, 48 bytes, TCP
		198, 18, 1, 2, 198, 18, 3, 2, // addresses
		0x9c, 0x40, 0x14, 0x51, // ports 40000 -> 5201
		0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, // seq 1000, ack 0
		0x70, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, // data offset 7, SYN, window
		0x02, 0x04, 0x05, 0xb4, // MSS 1460
		0x1e, 0x04, 0x01, 0x01, // MP_CAPABLE v1, flag H
	}
	buf := make([]byte, 2048)
	copy(buf[128:], syn)
	fixChecksums(buf[128 : 128+len(syn)])
	p := translate.Packet{Buf: buf, Off: 128, Len: len(syn), Side: translate.Access, Port: 0}
	v := e.Process(0, &p)
	fmt.Println(v, p.Side, e.ActiveConnections())
	e.ClearEmitted()
	e.Tick(0)
	// Output: forward core 1
}

// fixChecksums fills the IPv4 and TCP checksums of an IPv4/TCP packet.
func fixChecksums(b []byte) {
	ip := header.IPv4(b)
	ip.SetChecksum(ip.CalculateChecksum())
	t := header.TCP(ip.Payload())
	t.SetChecksum(t.CalculateChecksum(ip.PseudoHeaderSum()))
}
