package fwd

import (
	"net/netip"
	"strings"
	"testing"
)

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"no ports", func(c *Config) { c.Ports = nil }, "no ports"},
		{"port twice", func(c *Config) { c.Ports[1].Index = 0 }, "configured twice"},
		{"small MTU", func(c *Config) { c.Ports[0].MTU = 576 }, "MTU"},
		{"multicast MAC", func(c *Config) { c.Ports[0].MAC = MAC{1} }, "unicast"},
		{"link-local address", func(c *Config) {
			c.Ports[0].Addrs = append(c.Ports[0].Addrs, netip.MustParsePrefix("fe80::1/64"))
		}, "link-local"},
		{"route to unknown port", func(c *Config) { c.Routes[0].Port = 7 }, "unknown port"},
		{"gateway off-link", func(c *Config) { c.Routes[0].Via = netip.MustParseAddr("198.18.1.9") }, "not on a connected network"},
		{"gateway of other family", func(c *Config) { c.Routes[0].Via = netip.MustParseAddr("2001:db8:3::2") }, "other address family"},
		{"duplicate connected route", func(c *Config) {
			c.Routes = append(c.Routes, Route{Prefix: netip.MustParsePrefix("198.18.1.0/24"), Port: 0})
		}, "duplicate prefix 198.18.1.0/24"},
		{"static neighbor on unknown port", func(c *Config) { c.Neighbors[0].Port = 5 }, "unknown port"},
	}
	for _, tt := range tests {
		c := testConfig()
		tt.mod(&c)
		_, err := Build(c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestNeighborTableTooSmallForStatics(t *testing.T) {
	c := testConfig()
	c.NeighborCapacity = 8
	for i := range 9 {
		c.Neighbors = append(c.Neighbors, StaticNeighbor{Port: 1, Addr: netip.AddrFrom4([4]byte{198, 18, 2, byte(10 + i)}), MAC: peer1MAC})
	}
	tab, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewForwarder(tab, &fakeAlloc{}); err == nil {
		t.Fatal("13 static neighbors fit in 8 slots")
	}
}

func TestNeighborEviction(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.NeighborCapacity = 8 })
	// 20 destinations on port 1 through an 8-slot table: entries are
	// recycled, their pending packets freed, nothing panics or leaks.
	var in []Frame
	for i := range 20 {
		in = append(in, udp4(t, 0, p0MAC, "198.18.1.2", netip.AddrFrom4([4]byte{198, 18, 2, byte(10 + i)}).String(), 64, 10, false))
	}
	tx, free := e.run(1, in...)
	c := e.fw.Counters()
	if c.Neighbors > 8 || len(free)+int(c.PendingPackets) != 20 || len(tx) != int(c.ARPRequestsSent) {
		t.Fatalf("neighbors %d pending %d freed %d tx %d drops %v", c.Neighbors, c.PendingPackets, len(free), len(tx), e.drops())
	}
	if e.drops()[DropPendingExpired]+e.drops()[DropNeighborTableFull] != uint64(len(free)) {
		t.Fatalf("drops %v", e.drops())
	}
}
