package dataplane

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/flexcp/flexcp/dataplane/fwd"
)

// seg describes a test frame: a TCP segment of connection conn (its
// source port) with seq, ack, flags and payload length, over IPv4 or
// IPv6; or, with notTCP, an ICMP frame.
type seg struct {
	conn     uint16
	seq, ack uint32
	flags    byte
	payload  int
	v6       bool
	notTCP   bool
}

const (
	fACK = 0x10
	fPSH = 0x08
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
)

// frame builds s as an Ethernet frame; ref identifies it in the test.
func (s seg) frame(ref uintptr) fwd.Frame {
	var b []byte
	tcpLen := 20 + s.payload
	if s.v6 {
		b = make([]byte, 14+40+tcpLen)
		binary.BigEndian.PutUint16(b[12:], 0x86dd)
		ip := b[14:]
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(tcpLen))
		ip[6] = 6
		copy(ip[8:24], []byte{0x20, 0x01, 0x0d, 0xb8, 5: 3, 15: 2})
		copy(ip[24:40], []byte{0x20, 0x01, 0x0d, 0xb8, 5: 1, 15: 2})
	} else {
		b = make([]byte, 14+20+tcpLen)
		binary.BigEndian.PutUint16(b[12:], 0x0800)
		ip := b[14:]
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+tcpLen))
		ip[9] = 6
		if s.notTCP {
			ip[9] = 1
		}
		copy(ip[12:16], []byte{198, 18, 3, 2})
		copy(ip[16:20], []byte{198, 18, 1, 2})
	}
	l4 := b[len(b)-tcpLen:]
	binary.BigEndian.PutUint16(l4[0:], 5201)
	binary.BigEndian.PutUint16(l4[2:], s.conn)
	binary.BigEndian.PutUint32(l4[4:], s.seq)
	binary.BigEndian.PutUint32(l4[8:], s.ack)
	l4[12] = 5 << 4
	l4[13] = s.flags
	return fwd.Frame{Buf: b, Off: 0, Len: len(b), Ref: ref}
}

func frames(segs []seg) []fwd.Frame {
	out := make([]fwd.Frame, len(segs))
	for i, s := range segs {
		out[i] = s.frame(uintptr(i + 1))
	}
	return out
}

func refs(fs []fwd.Frame) []uintptr {
	out := make([]uintptr, len(fs))
	for i := range fs {
		out[i] = fs[i].Ref
	}
	return out
}

// TestThinAcks: of a run of one connection's pure ACKs in a burst, those
// a later pure ACK (ack at least as high) supersedes are removed, with
// their Refs returned; data, SYN, FIN and RST segments, ACKs of other
// connections, an ACK followed by a lower one, and ACKs before a
// connection's data segment stay.
func TestThinAcks(t *testing.T) {
	tests := []struct {
		name         string
		in           []seg
		kept, remove []uintptr
	}{
		{"dup ACKs then a higher one", []seg{
			{conn: 1, ack: 100, flags: fACK}, {conn: 1, ack: 100, flags: fACK}, {conn: 1, ack: 100, flags: fACK}, {conn: 1, ack: 200, flags: fACK},
		}, []uintptr{4}, []uintptr{1, 2, 3}},
		{"two connections interleaved", []seg{
			{conn: 1, ack: 100, flags: fACK}, {conn: 2, ack: 7, flags: fACK}, {conn: 1, ack: 150, flags: fACK}, {conn: 2, ack: 9, flags: fACK},
		}, []uintptr{3, 4}, []uintptr{1, 2}},
		{"a lower ACK after a higher one (reordered): both stay", []seg{
			{conn: 1, ack: 200, flags: fACK}, {conn: 1, ack: 100, flags: fACK},
		}, []uintptr{1, 2}, nil},
		{"data in between keeps the ACKs before it", []seg{
			{conn: 1, ack: 100, flags: fACK}, {conn: 1, ack: 110, flags: fACK | fPSH, payload: 10}, {conn: 1, ack: 120, flags: fACK}, {conn: 1, ack: 130, flags: fACK},
		}, []uintptr{1, 2, 4}, []uintptr{3}},
		{"FIN, RST and SYN are never thinned, and fence the ACKs before them", []seg{
			{conn: 1, ack: 100, flags: fACK}, {conn: 1, ack: 100, flags: fACK | fFIN}, {conn: 1, ack: 101, flags: fACK},
			{conn: 2, ack: 5, flags: fACK}, {conn: 2, ack: 5, flags: fRST | fACK}, {conn: 3, ack: 1, flags: fSYN | fACK}, {conn: 3, ack: 1, flags: fACK},
		}, []uintptr{1, 2, 3, 4, 5, 6, 7}, nil},
		{"across the wrap", []seg{
			{conn: 1, ack: 0xffffff00, flags: fACK}, {conn: 1, ack: 0x10, flags: fACK},
		}, []uintptr{2}, []uintptr{1}},
		{"ipv6", []seg{
			{conn: 1, ack: 100, flags: fACK, v6: true}, {conn: 1, ack: 100, flags: fACK, v6: true},
		}, []uintptr{2}, []uintptr{1}},
		{"not TCP", []seg{{notTCP: true}, {notTCP: true}}, []uintptr{1, 2}, nil},
		{"an ACK without the ACK flag is not a pure ACK", []seg{
			{conn: 1, ack: 100}, {conn: 1, ack: 100, flags: fACK},
		}, []uintptr{1, 2}, nil},
	}
	o := newThinScratch(64)
	for _, tc := range tests {
		list := frames(tc.in)
		kept, removed := o.thinAcks(list)
		if got := refs(kept); !slices.Equal(got, tc.kept) {
			t.Errorf("%s: kept %v, want %v", tc.name, got, tc.kept)
		}
		if !slices.Equal(removed, tc.remove) && !(len(removed) == 0 && len(tc.remove) == 0) {
			t.Errorf("%s: removed %v, want %v", tc.name, removed, tc.remove)
		}
	}
	tmpl := frames([]seg{{conn: 1, ack: 1, flags: fACK}, {conn: 1, ack: 2, flags: fACK}})
	l := make([]fwd.Frame, 2)
	if n := testing.AllocsPerRun(100, func() {
		copy(l, tmpl)
		if kept, removed := o.thinAcks(l); len(kept) != 1 || len(removed) != 1 {
			t.Fatalf("thinAcks kept %d, removed %d", len(kept), len(removed))
		}
	}); n != 0 {
		t.Errorf("thinAcks allocates: %v allocations per run", n)
	}
}

// FuzzFrameKeys: tcpSegment and ackKey accept any bytes without a panic
// (frames on the core port can be anything the forwarder let through).
func FuzzFrameKeys(f *testing.F) {
	f.Add(seg{conn: 1, seq: 1, ack: 2, flags: fACK}.frame(0).Buf)
	f.Add(seg{conn: 1, flags: fACK, v6: true}.frame(0).Buf)
	f.Fuzz(func(t *testing.T, b []byte) {
		tcpSegment(b)
		ackKey(b)
	})
}
