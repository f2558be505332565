package dpdk

import (
	"testing"
)

func TestRing(t *testing.T) {
	mp := newTestPool(t, 255, 0)
	tests := []struct {
		name     string
		count    uint32
		flags    RingFlags
		capacity int
		wantErr  bool
	}{
		{"spsc power of two", 64, RingSPEnq | RingSCDeq, 63, false},
		{"exact size", 100, RingSPEnq | RingSCDeq | RingExactSize, 100, false},
		{"mpmc", 32, 0, 31, false},
		{"not a power of two", 100, 0, 0, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRing("h1ring"+string(rune('a'+i)), tt.count, SocketAny, tt.flags)
			if tt.wantErr {
				if err == nil {
					r.Free()
					t.Fatal("NewRing succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Free()
			if r.Capacity() != tt.capacity || r.Count() != 0 || r.FreeCount() != tt.capacity {
				t.Fatalf("capacity %d count %d free %d, want %d 0 %d", r.Capacity(), r.Count(), r.FreeCount(), tt.capacity, tt.capacity)
			}
			in := make([]*Mbuf, tt.capacity+5)
			if !mp.AllocBulk(in) {
				t.Fatal("AllocBulk failed")
			}
			defer FreeBulk(in)
			if n := r.EnqueueBurst(in); n != tt.capacity {
				t.Fatalf("EnqueueBurst = %d, want %d (ring full)", n, tt.capacity)
			}
			if r.Count() != tt.capacity {
				t.Errorf("Count() = %d, want %d", r.Count(), tt.capacity)
			}
			out := make([]*Mbuf, len(in))
			if n := r.DequeueBurst(out); n != tt.capacity {
				t.Fatalf("DequeueBurst = %d, want %d", n, tt.capacity)
			}
			for j := 0; j < tt.capacity; j++ {
				if out[j] != in[j] {
					t.Fatalf("entry %d came out of order", j)
				}
			}
			if r.Count() != 0 {
				t.Errorf("Count() = %d after draining", r.Count())
			}
		})
	}
}

func TestRingAllocs(t *testing.T) {
	mp := newTestPool(t, 63, 0)
	r, err := NewRing("h1ringallocs", 64, SocketAny, RingSPEnq|RingSCDeq)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	pkts := make([]*Mbuf, 32)
	if !mp.AllocBulk(pkts) {
		t.Fatal("AllocBulk failed")
	}
	defer FreeBulk(pkts)
	allocs := testing.AllocsPerRun(1000, func() {
		n := r.EnqueueBurst(pkts)
		r.DequeueBurst(pkts[:n])
	})
	if allocs != 0 {
		t.Errorf("EnqueueBurst+DequeueBurst allocates %v times per run, want 0", allocs)
	}
}

// BenchmarkRingBurst measures an EnqueueBurst plus a DequeueBurst of 32
// mbufs on a single-producer single-consumer ring, per packet.
func BenchmarkRingBurst(b *testing.B) {
	mp := newTestPool(b, 63, 0)
	r, err := NewRing("h1ringbench", 64, SocketAny, RingSPEnq|RingSCDeq)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Free()
	pkts := NewMbufArray(32)
	defer FreeMbufArray(pkts)
	if !mp.AllocBulk(pkts) {
		b.Fatal("AllocBulk failed")
	}
	defer FreeBulk(pkts)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := r.EnqueueBurst(pkts)
		r.DequeueBurst(pkts[:n])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkts)), "ns/pkt")
}
