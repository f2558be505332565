package translate

import (
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/internal/golden"
	"github.com/flexcp/flexcp/translate/header"
)

// fixChecksums makes the checksums of a (possibly garbage) IP packet
// valid where its headers can be parsed, so the fuzzer explores the
// translator rather than checksum rejection.
func fixChecksums(b []byte) {
	if len(b) < 20 {
		return
	}
	switch b[0] >> 4 {
	case 4:
		ip := header.IPv4(b)
		if !ip.IsValid() {
			return
		}
		ip.SetChecksum(ip.CalculateChecksum())
		if t := header.TCP(ip.Payload()); ip.Protocol() == 6 && t.IsValid() {
			t.SetChecksum(t.CalculateChecksum(ip.PseudoHeaderSum()))
		}
	case 6:
		ip := header.IPv6(b)
		if !ip.IsValid() {
			return
		}
		if t := header.TCP(ip.Payload()); ip.NextHeader() == 6 && t.IsValid() {
			t.SetChecksum(t.CalculateChecksum(ip.PseudoHeaderSum()))
		}
	}
}

// FuzzProcess feeds packet sequences to an engine that has an established
// connection from the golden capture. Input: records of [side byte,
// 2-byte length, packet]. Invariants: no panic; every forwarded or
// emitted packet has valid checksums and at most 40 option bytes (I9,
// I10); occupancy never exceeds the configured bounds.
func FuzzProcess(f *testing.F) {
	p1 := golden.MustLoad(f, golden.MPTCPv4Basic, golden.IfaceAccess1)
	p3 := golden.MustLoad(f, golden.MPTCPv4Basic, golden.IfaceCore)
	add := func(pkts []golden.Packet, side byte) {
		for i, gp := range pkts {
			if i > 40 {
				break
			}
			rec := []byte{side, 0, 0}
			binary.BigEndian.PutUint16(rec[1:], uint16(len(gp.Data)))
			f.Add(append(rec, gp.Data...))
		}
	}
	add(p1, 0)
	add(p3, 1)
	f.Fuzz(fuzzOne)
}

// fuzzOne runs one FuzzProcess input.
func fuzzOne(t *testing.T, data []byte) {
	{
		alloc := newTestAlloc(16)
		e, err := New(Config{MaxConnections: 4, MaxSubflows: 3}, alloc)
		if err != nil {
			t.Fatal(err)
		}
		for len(data) >= 3 {
			side := Side(data[0] & 1)
			n := int(binary.BigEndian.Uint16(data[1:]))
			data = data[3:]
			if n > len(data) {
				n = len(data)
			}
			ip := append([]byte(nil), data[:n]...)
			data = data[n:]
			fixChecksums(ip)
			p := mkPacket(ip, side, 0)
			v := e.Process(1, &p)
			if v == Forward {
				checkOut(t, &p)
			}
			for i := range e.Emitted() {
				checkOut(t, &e.Emitted()[i])
			}
			e.ClearEmitted()
			alloc.reset()
			if e.ActiveConnections() > 4 || e.ActiveSubflows() > 12 {
				t.Fatalf("occupancy beyond bounds: %d conns %d subflows", e.ActiveConnections(), e.ActiveSubflows())
			}
		}
		e.Tick(int64(1e15))
		if e.ActiveConnections() != 0 || e.Tokens() != 0 {
			t.Fatalf("I21: state left after timeouts: %d conns %d tokens", e.ActiveConnections(), e.Tokens())
		}
		checkSlab(t, e)
	}
}
