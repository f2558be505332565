package dpdk

import (
	"bytes"
	"testing"
)

func TestMbufOffsets(t *testing.T) {
	for name, v := range cMbufOffsets() {
		if v[0] != v[1] {
			t.Errorf("rte_mbuf %s: Go constant %d, C offsetof %d", name, v[0], v[1])
		}
	}
}

func TestMempoolCounts(t *testing.T) {
	mp := newTestPool(t, 511, 0)
	if got := mp.Size(); got != 511 {
		t.Errorf("Size() = %d, want 511", got)
	}
	if got := mp.AvailCount(); got != 511 {
		t.Errorf("AvailCount() = %d, want 511", got)
	}
	if got := mp.InUseCount(); got != 0 {
		t.Errorf("InUseCount() = %d, want 0", got)
	}
	if got := mp.DataRoom(); got != DefaultDataRoom {
		t.Errorf("DataRoom() = %d, want %d", got, DefaultDataRoom)
	}
	if _, err := NewPktmbufPool(mp.Name(), 63, 0, 0, DefaultDataRoom, SocketAny); err == nil {
		t.Error("creating a second pool with the same name succeeded")
	}
}

func TestAllocFreeBulk(t *testing.T) {
	mp := newTestPool(t, 255, 0)
	tests := []struct {
		name string
		n    int
		ok   bool
	}{
		{"empty", 0, true},
		{"one", 1, true},
		{"burst", 32, true},
		{"whole pool", 255, true},
		{"more than the pool", 256, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts := make([]*Mbuf, tt.n)
			if got := mp.AllocBulk(pkts); got != tt.ok {
				t.Fatalf("AllocBulk(%d) = %v, want %v", tt.n, got, tt.ok)
			}
			if !tt.ok {
				if mp.InUseCount() != 0 {
					t.Errorf("failed AllocBulk left %d mbufs in use", mp.InUseCount())
				}
				return
			}
			if got := mp.InUseCount(); got != tt.n {
				t.Errorf("InUseCount() after alloc = %d, want %d", got, tt.n)
			}
			for i, m := range pkts {
				if m == nil || m.Pool() != mp || m.DataLen() != 0 || m.NbSegs() != 1 || m.RefCnt() != 1 ||
					m.Headroom() != MbufHeadroom || m.Port() != PortInvalid {
					t.Fatalf("mbuf %d is not freshly reset", i)
				}
			}
			FreeBulk(pkts)
			if got := mp.InUseCount(); got != 0 {
				t.Errorf("InUseCount() after FreeBulk = %d, want 0", got)
			}
		})
	}
}

func TestMbufData(t *testing.T) {
	mp := newTestPool(t, 63, 0)
	pkts := make([]*Mbuf, 1)
	if !mp.AllocBulk(pkts) {
		t.Fatal("AllocBulk failed")
	}
	defer FreeBulk(pkts)
	m := pkts[0]
	bufLen := m.BufLen()
	if bufLen != DefaultDataRoom {
		t.Fatalf("BufLen() = %d, want %d", bufLen, DefaultDataRoom)
	}
	if len(m.Buf()) != int(bufLen) {
		t.Fatalf("len(Buf()) = %d, want %d", len(m.Buf()), bufLen)
	}

	type state struct{ off, len uint16 }
	tests := []struct {
		name  string
		op    func(m *Mbuf) bool
		want  state
		first byte // expected first data byte, if len > 0
	}{
		{"fresh", func(m *Mbuf) bool { return true }, state{128, 0}, 0},
		{"set len 100", func(m *Mbuf) bool { return m.SetDataLen(100) }, state{128, 100}, 0},
		{"set len too long", func(m *Mbuf) bool { return !m.SetDataLen(bufLen) }, state{128, 100}, 0},
		{"prepend 14", func(m *Mbuf) bool { return len(m.Prepend(14)) == 114 }, state{114, 114}, 0xee},
		{"prepend past headroom", func(m *Mbuf) bool { return m.Prepend(115) == nil }, state{114, 114}, 0xee},
		{"adj 14", func(m *Mbuf) bool { return len(m.Adj(14)) == 100 }, state{128, 100}, 0},
		{"adj past data", func(m *Mbuf) bool { return m.Adj(101) == nil }, state{128, 100}, 0},
		{"append 10", func(m *Mbuf) bool { return len(m.Append(10)) == 110 }, state{128, 110}, 0},
		{"append past tailroom", func(m *Mbuf) bool { return m.Append(bufLen) == nil }, state{128, 110}, 0},
		{"trim 10", func(m *Mbuf) bool { return m.Trim(10) }, state{128, 100}, 0},
		{"trim past data", func(m *Mbuf) bool { return !m.Trim(101) }, state{128, 100}, 0},
		{"reset", func(m *Mbuf) bool { m.SetPort(3); m.Reset(); return m.Port() == PortInvalid }, state{128, 0}, 0},
	}
	// Byte 0 of the buffer area just before the data marks prepends.
	m.Buf()[114] = 0xee
	for _, tt := range tests {
		if !tt.op(m) {
			t.Fatalf("%s: operation result wrong", tt.name)
		}
		got := state{m.DataOff(), m.DataLen()}
		if got != tt.want {
			t.Fatalf("%s: (data_off, data_len) = %v, want %v", tt.name, got, tt.want)
		}
		if m.PktLen() != uint32(m.DataLen()) {
			t.Fatalf("%s: pkt_len %d != data_len %d", tt.name, m.PktLen(), m.DataLen())
		}
		if m.Tailroom() != bufLen-got.off-got.len {
			t.Fatalf("%s: Tailroom() = %d", tt.name, m.Tailroom())
		}
		d := m.Data()
		if len(d) != int(got.len) {
			t.Fatalf("%s: len(Data()) = %d, want %d", tt.name, len(d), got.len)
		}
		if tt.first != 0 && d[0] != tt.first {
			t.Fatalf("%s: Data()[0] = %#x, want %#x", tt.name, d[0], tt.first)
		}
	}
	// Data aliases Buf.
	m.SetDataLen(4)
	copy(m.Data(), []byte{1, 2, 3, 4})
	if !bytes.Equal(m.Buf()[m.DataOff():m.DataOff()+4], []byte{1, 2, 3, 4}) {
		t.Error("Data() does not alias Buf()")
	}
}

func TestMbufAccessAllocs(t *testing.T) {
	mp := newTestPool(t, 63, 0)
	pkts := make([]*Mbuf, 8)
	var sink uint64
	allocs := testing.AllocsPerRun(100, func() {
		if !mp.AllocBulk(pkts) {
			t.Fatal("AllocBulk failed")
		}
		for _, m := range pkts {
			m.SetDataLen(60)
			d := m.Data()
			d[0] = 1
			m.Prepend(14)
			m.Adj(14)
			sink += uint64(m.DataLen()) + uint64(m.PktLen()) + m.OlFlags() + uint64(m.RSSHash()) +
				uint64(m.PacketType()) + uint64(m.Port()) + uint64(len(m.Buf())) + uint64(m.NbSegs())
			m.Reset()
		}
		FreeBulk(pkts)
	})
	if allocs != 0 {
		t.Errorf("mbuf alloc/access/free allocates %v times per run, want 0", allocs)
	}
	if sink == 0 {
		t.Error("no field was read")
	}
}
