package dpdk

import "testing"

// TestBurstSet sends on two loopback ring ports, frees a bulk and receives
// on both in one Run, then checks what each burst reports and that no
// mbuf leaks.
func TestBurstSet(t *testing.T) {
	mp := newTestPool(t, 2047, 0)
	ports := []Port{testPort(t, "net_ring0"), testPort(t, "net_ring1")}
	for _, p := range ports {
		setupPort(t, p, mp)
		defer p.Stop()
	}
	bs := NewBurstSet(len(ports), len(ports), 8)
	defer bs.Free()
	tx := [][]*Mbuf{NewMbufArray(16), NewMbufArray(16)}
	rx := [][]*Mbuf{NewMbufArray(32), NewMbufArray(32)}
	for i, p := range ports {
		defer FreeMbufArray(tx[i])
		defer FreeMbufArray(rx[i])
		bs.SetTx(i, p, 0, tx[i])
		bs.SetRx(i, p, 0, rx[i])
	}

	// An empty round: nothing staged, nothing received.
	if got := bs.Run(true, true); got != 0 {
		t.Errorf("empty round: Run returned %d", got)
	}
	for i := range ports {
		if got := bs.Received(i); got != 0 {
			t.Fatalf("empty round: port %d received %d", i, got)
		}
	}

	// Port 0 sends 5 packets of 60+k bytes, port 1 sends 3; 4 more are
	// freed in the same call.
	want := []int{5, 3}
	for i, n := range want {
		if !mp.AllocBulk(tx[i][:n]) {
			t.Fatal("AllocBulk failed")
		}
		for k, m := range tx[i][:n] {
			d := m.Append(uint16(60 + k))
			d[0] = byte(10*i + k)
		}
		bs.StageTx(i, n)
	}
	fr := bs.FreeArray()
	if len(fr) != 8 || !mp.AllocBulk(fr[:4]) {
		t.Fatalf("FreeArray has %d entries or AllocBulk failed", len(fr))
	}
	bs.StageFree(4)
	if got := bs.Run(true, true); got != 8 {
		t.Errorf("Run returned %d received, want 8", got)
	}
	for i, n := range want {
		if got := bs.Sent(i); got != n {
			t.Errorf("port %d sent %d, want %d", i, got, n)
		}
		if got := bs.Received(i); got != n {
			t.Fatalf("port %d received %d, want %d", i, got, n)
		}
		for k, m := range rx[i][:n] {
			if d := m.Data(); len(d) != 60+k || d[0] != byte(10*i+k) {
				t.Errorf("port %d packet %d: %d bytes, first %d", i, k, len(d), d[0])
			}
		}
	}
	if got, want := mp.InUseCount(), 8; got != want {
		t.Errorf("InUseCount() = %d, want %d (the freed bulk back in the pool)", got, want)
	}

	// A TX-only round leaves the RX results; a staged TX is cleared after
	// its Run.
	copy(tx[0], rx[0][:5])
	bs.StageTx(0, 5)
	bs.Run(true, false)
	if bs.Sent(0) != 5 || bs.Received(0) != 5 {
		t.Errorf("TX-only round: sent %d, received %d, want 5 and the last round's 5", bs.Sent(0), bs.Received(0))
	}
	bs.Run(true, true)
	if bs.Sent(0) != 0 || bs.Received(0) != 5 || bs.Received(1) != 0 {
		t.Errorf("after a TX-only round: sent %d, received %d and %d, want 0, 5, 0", bs.Sent(0), bs.Received(0), bs.Received(1))
	}
	FreeBulk(rx[0][:5])
	FreeBulk(rx[1][:3])
	if got := mp.InUseCount(); got != 0 {
		t.Errorf("InUseCount() = %d after freeing everything", got)
	}
}

// TestBurstSetAllocs checks that a round allocates nothing.
func TestBurstSetAllocs(t *testing.T) {
	mp := newTestPool(t, 2047, 0)
	p := testPort(t, "net_ring0")
	setupPort(t, p, mp)
	defer p.Stop()
	bs := NewBurstSet(1, 1, 32)
	defer bs.Free()
	pkts := NewMbufArray(32)
	defer FreeMbufArray(pkts)
	bs.SetTx(0, p, 0, pkts)
	bs.SetRx(0, p, 0, pkts)
	if !mp.AllocBulk(pkts) {
		t.Fatal("AllocBulk failed")
	}
	allocs := testing.AllocsPerRun(1000, func() {
		bs.StageTx(0, len(pkts))
		bs.Run(true, true)
		if bs.Received(0) != len(pkts) {
			t.Fatal("lost packets in net_ring")
		}
	})
	FreeBulk(pkts)
	if allocs != 0 {
		t.Errorf("BurstSet.Run allocates %v times per run, want 0", allocs)
	}
}

// BenchmarkEmptyPoll measures one empty poll of three ring-port queues
// (two ports, one of them twice): three RxBurst cgo calls against one
// BurstSet.Run, in ns/poll.
func BenchmarkEmptyPoll(b *testing.B) {
	mp := newTestPool(b, 2047, 0)
	ports := []Port{testPort(b, "net_ring0"), testPort(b, "net_ring1"), testPort(b, "net_ring0")}
	setupPort(b, ports[0], mp)
	setupPort(b, ports[1], mp)
	defer ports[0].Stop()
	defer ports[1].Stop()
	pkts := NewMbufArray(32)
	defer FreeMbufArray(pkts)
	b.Run("per-port", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, p := range ports {
				p.RxBurst(0, pkts)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/poll")
	})
	b.Run("burst-set", func(b *testing.B) {
		bs := NewBurstSet(0, len(ports), 0)
		defer bs.Free()
		for i, p := range ports {
			bs.SetRx(i, p, 0, pkts)
		}
		for i := 0; i < b.N; i++ {
			bs.Run(false, true)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/poll")
	})
}

// TestBurstSetRings dequeues from rings in the same Run as the port
// bursts: an unbound ring burst is skipped, a bound one takes at most its
// array's length, and a Run without RX leaves the results.
func TestBurstSetRings(t *testing.T) {
	mp := newTestPool(t, 2047, 0)
	p := testPort(t, "net_ring0")
	setupPort(t, p, mp)
	defer p.Stop()
	r, err := NewRing("h1ringset", 64, SocketAny, RingSPEnq|RingSCDeq)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	bs := NewBurstSet(1, 1, 0)
	defer bs.Free()
	rx, tx, rb := NewMbufArray(32), NewMbufArray(32), NewMbufArray(8)
	defer FreeMbufArray(rx)
	defer FreeMbufArray(tx)
	defer FreeMbufArray(rb)
	bs.SetRx(0, p, 0, rx)
	bs.SetTx(0, p, 0, tx)
	bs.SetRings(2) // ring burst 0 stays unbound
	bs.SetRingRx(1, r, rb)

	in := NewMbufArray(12)
	defer FreeMbufArray(in)
	if !mp.AllocBulk(in) || r.EnqueueBurst(in) != 12 {
		t.Fatal("AllocBulk or EnqueueBurst failed")
	}
	if !mp.AllocBulk(tx[:3]) {
		t.Fatal("AllocBulk failed")
	}
	bs.StageTx(0, 3)
	if got := bs.Run(true, true); got != 3+8 || bs.Received(0) != 3 || bs.RingReceived(0) != 0 || bs.RingReceived(1) != 8 {
		t.Fatalf("Run = %d, received %d, ring bursts %d and %d; want 11, 3, 0, 8", got, bs.Received(0), bs.RingReceived(0), bs.RingReceived(1))
	}
	FreeBulk(rx[:3])
	FreeBulk(rb[:8])
	bs.Run(true, false)
	if bs.RingReceived(1) != 8 || r.Count() != 4 {
		t.Errorf("a Run without RX: ring burst %d, ring holds %d; want 8 and 4", bs.RingReceived(1), r.Count())
	}
	if got := bs.Run(false, true); got != 4 || bs.RingReceived(1) != 4 {
		t.Errorf("Run = %d, ring burst %d; want 4, 4", got, bs.RingReceived(1))
	}
	FreeBulk(rb[:4])
	if n := mp.InUseCount(); n != 0 {
		t.Errorf("%d mbufs in use at the end", n)
	}
}
