package dpdk

import (
	"fmt"
	"testing"
)

var ringPortSeq int

// TestRingPort checks that a port made from rings receives what the
// caller enqueues into its RX rings, per queue, and sends into its TX
// rings, per queue.
func TestRingPort(t *testing.T) {
	ringPortSeq++
	mp := newTestPool(t, 1023, 0)
	var rx, tx []*Ring
	for q := 0; q < 2; q++ {
		for _, l := range []*[]*Ring{&rx, &tx} {
			r, err := NewRing(fmt.Sprintf("rpt%d_%d_%d", ringPortSeq, q, len(*l)+len(rx)+len(tx)), 256, SocketAny, RingSPEnq|RingSCDeq)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Free)
			*l = append(*l, r)
		}
	}
	p, err := NewRingPort(fmt.Sprintf("rpt%d", ringPortSeq), rx, tx, SocketAny)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("net_ring_rpt%d", ringPortSeq)
	if name, err := p.Name(); err != nil || name != want {
		t.Fatalf("Name() = %q, %v; want %q", name, err, want)
	}
	if q, err := PortByName(want); err != nil || q != p {
		t.Fatalf("PortByName(%q) = %d, %v; want %d", want, q, err, p)
	}
	if err := p.Configure(PortConf{RxQueues: 2, TxQueues: 2}); err != nil {
		t.Fatal(err)
	}
	for q := uint16(0); q < 2; q++ {
		if err := p.RxQueueSetup(q, 256, p.SocketID(), mp); err != nil {
			t.Fatal(err)
		}
		if err := p.TxQueueSetup(q, 256, p.SocketID()); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()

	for q := 0; q < 2; q++ {
		in := make([]*Mbuf, 3+q)
		if !mp.AllocBulk(in) {
			t.Fatal("AllocBulk failed")
		}
		for i, m := range in {
			d := m.Append(uint16(60 + i))
			d[0], d[1] = byte(q), byte(i)
		}
		if n := rx[q].EnqueueBurst(in); n != len(in) {
			t.Fatalf("queue %d: enqueued %d of %d", q, n, len(in))
		}
		got := make([]*Mbuf, 32)
		n := p.RxBurst(uint16(q), got)
		if n != len(in) {
			t.Fatalf("queue %d: RxBurst = %d, want %d", q, n, len(in))
		}
		for i, m := range got[:n] {
			if d := m.Data(); len(d) != 60+i || d[0] != byte(q) || d[1] != byte(i) {
				t.Fatalf("queue %d packet %d: %d bytes %x, want %d bytes starting %02x%02x", q, i, len(d), d[:2], 60+i, q, i)
			}
		}
		if s := p.TxBurst(uint16(q), got[:n]); s != n {
			t.Fatalf("queue %d: TxBurst = %d, want %d", q, s, n)
		}
		if c := tx[1-q].Count(); c != 0 {
			t.Fatalf("queue %d: the other queue's TX ring holds %d", q, c)
		}
		out := make([]*Mbuf, 32)
		if k := tx[q].DequeueBurst(out); k != n {
			t.Fatalf("queue %d: TX ring held %d, want %d", q, k, n)
		}
		for i := range out[:n] {
			if out[i] != in[i] {
				t.Fatalf("queue %d packet %d: a different mbuf came out", q, i)
			}
		}
		FreeBulk(out[:n])
	}
	if got := mp.InUseCount(); got != 0 {
		t.Errorf("InUseCount() = %d after freeing everything", got)
	}
	if _, err := NewRingPort("net_rpt_empty", nil, tx, SocketAny); err == nil {
		t.Error("NewRingPort without RX rings succeeded")
	}
}
