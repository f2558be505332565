package dpdk

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

func TestPortLookup(t *testing.T) {
	tests := []struct {
		name    string
		wantErr bool
		driver  string
	}{
		{"net_null0", false, "net_null"},
		{"net_null1", false, "net_null"},
		{"net_ring0", false, "net_ring"},
		{"net_af_xdp9", true, ""},
		{"0000:00:00.0", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PortByName(tt.name)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("PortByName(%q) found port %d", tt.name, p)
				}
				if !strings.Contains(err.Error(), "rte_eth_dev_get_port_by_name") {
					t.Errorf("error %q lacks context", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			name, err := p.Name()
			if err != nil || name != tt.name {
				t.Errorf("Name() = %q, %v; want %q", name, err, tt.name)
			}
			info, err := p.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.Driver != tt.driver {
				t.Errorf("Info().Driver = %q, want %q", info.Driver, tt.driver)
			}
			if info.MaxRxQueues == 0 || info.MaxTxQueues == 0 {
				t.Errorf("Info() reports no queues: %+v", info)
			}
		})
	}
	if n := PortCount(); n < 4 {
		t.Errorf("PortCount() = %d, want >= 4", n)
	}
	if ps := Ports(); len(ps) != PortCount() {
		t.Errorf("len(Ports()) = %d, PortCount() = %d", len(ps), PortCount())
	}
}

// setupPort configures p with one RX and one TX queue and starts it.
func setupPort(t testing.TB, p Port, mp *Mempool) {
	t.Helper()
	if err := p.Configure(PortConf{RxQueues: 1, TxQueues: 1}); err != nil {
		t.Fatal(err)
	}
	if err := p.RxQueueSetup(0, 512, p.SocketID(), mp); err != nil {
		t.Fatal(err)
	}
	if err := p.TxQueueSetup(0, 512, p.SocketID()); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
}

// hotplugSeq numbers the vdevs tests hot-plug, so that -count=N works.
var hotplugSeq = 10

func TestPortLifecycle(t *testing.T) {
	mp := newTestPool(t, 2047, 0)
	// A hot-plugged port, closed at the end.
	hotplugSeq++
	plugged := fmt.Sprintf("net_null%d", hotplugSeq)
	if err := DevProbe(plugged); err != nil {
		t.Fatal(err)
	}
	if err := DevProbe("net_nosuchdriver0"); err == nil || !strings.Contains(err.Error(), "rte_dev_probe") {
		t.Errorf("DevProbe of an unknown driver = %v, want an error naming rte_dev_probe", err)
	}
	tests := []struct {
		name string
		// promiscOff is nil when the PMD can leave promiscuous mode,
		// else the error it reports (net_null is always promiscuous).
		promiscOff error
	}{
		{"net_null0", syscall.ENOTSUP},
		{"net_ring0", nil},
		{plugged, syscall.ENOTSUP},
	}
	for _, tt := range tests {
		name := tt.name
		t.Run(name, func(t *testing.T) {
			p := testPort(t, name)
			setupPort(t, p, mp)
			link, err := p.Link()
			if err != nil {
				t.Fatal(err)
			}
			if !link.Up {
				t.Errorf("link of started %s is down: %+v", name, link)
			}
			if _, err := p.MACAddr(); err != nil {
				t.Error(err)
			}
			if err := p.SetPromiscuous(true); err != nil || !p.Promiscuous() {
				t.Errorf("SetPromiscuous(true) = %v, Promiscuous() = %v", err, p.Promiscuous())
			}
			err = p.SetPromiscuous(false)
			if tt.promiscOff == nil {
				if err != nil || p.Promiscuous() {
					t.Errorf("SetPromiscuous(false) = %v, Promiscuous() = %v", err, p.Promiscuous())
				}
			} else if !errors.Is(err, tt.promiscOff) || !strings.Contains(err.Error(), "rte_eth_promiscuous_disable") {
				t.Errorf("SetPromiscuous(false) = %v, want %v with context", err, tt.promiscOff)
			}
			mtu, err := p.MTU()
			if err != nil || mtu != 1500 {
				t.Errorf("MTU() = %d, %v; want 1500", mtu, err)
			}
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}
			// A stopped port can be reconfigured and restarted.
			setupPort(t, p, mp)
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
	p := testPort(t, plugged)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := PortByName(plugged); err == nil {
		t.Errorf("%s still exists after Close", plugged)
	}
}

func TestConfigureErrors(t *testing.T) {
	p := testPort(t, "net_null1")
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		conf PortConf
		is   error
	}{
		{"too many rx queues", PortConf{RxQueues: info.MaxRxQueues + 1, TxQueues: 1}, syscall.EINVAL},
		{"unsupported RSS types", PortConf{RxQueues: 1, TxQueues: 1, RSS: &RSSConf{Types: 1 << 63}}, syscall.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Configure(tt.conf)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Configure(%+v) = %v, want %v", tt.conf, err, tt.is)
			}
			if !strings.Contains(err.Error(), "rte_eth_dev_configure(port") {
				t.Errorf("error %q lacks context", err)
			}
		})
	}
}

func TestRSSConf(t *testing.T) {
	p := testPort(t, "net_null1")
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	// net_null keeps a 40-byte key but reports HashKeySize 0.
	keySize := int(info.HashKeySize)
	if keySize == 0 {
		keySize = 40
	}
	key := SymmetricRSSKey(keySize)
	types := RSSIP | RSSTCP
	if err := p.Configure(PortConf{RxQueues: 2, TxQueues: 2, RSS: &RSSConf{Key: key, Types: types}}); err != nil {
		t.Fatal(err)
	}
	// net_null takes the hash types from Configure but keeps its default
	// key; RSSHashUpdate changes both.
	got, err := p.RSSHashConf()
	if err != nil {
		t.Fatal(err)
	}
	if got.Types&types != types || len(got.Key) != keySize {
		t.Errorf("after Configure RSSHashConf() = %x/%#x, want a %d-byte key and types %#x", got.Key, got.Types, keySize, types)
	}
	tests := []struct {
		name string
		in   RSSConf
	}{
		{"symmetric key", RSSConf{Key: key, Types: types}},
		{"other key, UDP", RSSConf{Key: bytes.Repeat([]byte{0x11}, keySize), Types: RSSUDP}},
	}
	for _, tt := range tests {
		if err := p.RSSHashUpdate(tt.in); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := p.RSSHashConf()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Key, tt.in.Key) || got.Types&tt.in.Types != tt.in.Types {
			t.Errorf("%s: RSSHashConf() = %x/%#x, want %x/%#x", tt.name, got.Key, got.Types, tt.in.Key, tt.in.Types)
		}
	}
}

func TestSymmetricRSSKey(t *testing.T) {
	k := SymmetricRSSKey(40)
	if len(k) != 40 || k[0] != 0x6d || k[1] != 0x5a || k[38] != 0x6d || k[39] != 0x5a {
		t.Errorf("SymmetricRSSKey(40) = %x", k)
	}
}

// TestRingLoopback sends through net_ring0 and receives the same mbufs: a
// net_ring vdev created from the command line uses one rte_ring per queue
// for both directions, so TX queue q loops back to RX queue q.
func TestRingLoopback(t *testing.T) {
	mp := newTestPool(t, 2047, 0)
	p := testPort(t, "net_ring0")
	setupPort(t, p, mp)
	defer p.Stop()
	if err := p.ResetStats(); err != nil {
		t.Fatal(err)
	}

	tx := make([]*Mbuf, 8)
	if !mp.AllocBulk(tx) {
		t.Fatal("AllocBulk failed")
	}
	for i, m := range tx {
		d := m.Append(uint16(60 + i))
		for j := range d {
			d[j] = byte(i + j)
		}
	}
	if n := p.TxBurst(0, tx); n != len(tx) {
		FreeBulk(tx[n:])
		t.Fatalf("TxBurst = %d, want %d", n, len(tx))
	}
	rx := make([]*Mbuf, 32)
	n := p.RxBurst(0, rx)
	if n != len(tx) {
		t.Fatalf("RxBurst = %d, want %d", n, len(tx))
	}
	for i, m := range rx[:n] {
		d := m.Data()
		if len(d) != 60+i {
			t.Fatalf("packet %d: %d bytes, want %d", i, len(d), 60+i)
		}
		for j := range d {
			if d[j] != byte(i+j) {
				t.Fatalf("packet %d byte %d = %d, want %d", i, j, d[j], byte(i+j))
			}
		}
	}
	FreeBulk(rx[:n])
	if got := mp.InUseCount(); got != 0 {
		t.Errorf("InUseCount() = %d after freeing everything", got)
	}

	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.IPackets != 8 || st.OPackets != 8 {
		t.Errorf("Stats() = %+v, want 8 packets each way", st)
	}
	xs, err := p.Xstats()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]uint64{}
	for _, x := range xs {
		found[x.Name] = x.Value
	}
	for _, name := range []string{"rx_good_packets", "tx_good_packets"} {
		if v, ok := found[name]; !ok || v != 8 {
			t.Errorf("xstat %s = %d (present %v), want 8", name, v, ok)
		}
	}
	if _, err := p.XstatValues(make([]uint64, 1)); err == nil {
		t.Error("XstatValues with a short buffer succeeded")
	}
}

func TestBurstAllocs(t *testing.T) {
	mp := newTestPool(t, 2047, 0)
	p := testPort(t, "net_ring0")
	setupPort(t, p, mp)
	defer p.Stop()
	pkts := NewMbufArray(32)
	defer FreeMbufArray(pkts)
	if len(pkts) != 32 || pkts[31] != nil {
		t.Fatalf("NewMbufArray(32) = %d entries, last %p", len(pkts), pkts[len(pkts)-1])
	}
	if !mp.AllocBulk(pkts) {
		t.Fatal("AllocBulk failed")
	}
	defer FreeBulk(pkts)
	allocs := testing.AllocsPerRun(1000, func() {
		n := p.TxBurst(0, pkts)
		if p.RxBurst(0, pkts[:n]) != n {
			t.Fatal("lost packets in net_ring")
		}
	})
	if allocs != 0 {
		t.Errorf("TxBurst+RxBurst allocates %v times per run, want 0", allocs)
	}
}

// BenchmarkRingPortBurst measures one TxBurst plus one RxBurst of 32
// packets through a net_ring port, per packet, with the burst array in C
// memory (NewMbufArray) and in Go memory (make), which cgo's pointer check
// scans on every call.
func BenchmarkRingPortBurst(b *testing.B) {
	arrays := []struct {
		name string
		new  func() []*Mbuf
		free func([]*Mbuf)
	}{
		{"c-array", func() []*Mbuf { return NewMbufArray(32) }, FreeMbufArray},
		{"go-array", func() []*Mbuf { return make([]*Mbuf, 32) }, func([]*Mbuf) {}},
	}
	mp := newTestPool(b, 2047, 0)
	p := testPort(b, "net_ring1")
	setupPort(b, p, mp)
	defer p.Stop()
	for _, a := range arrays {
		b.Run(a.name, func(b *testing.B) {
			pkts := a.new()
			defer a.free(pkts)
			if !mp.AllocBulk(pkts) {
				b.Fatal("AllocBulk failed")
			}
			defer FreeBulk(pkts)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := p.TxBurst(0, pkts)
				p.RxBurst(0, pkts[:n])
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkts)), "ns/pkt")
		})
	}
}
