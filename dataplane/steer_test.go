package dataplane

import (
	"strings"
	"sync"
	"testing"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/steering"
)

// TestUpdateRingSPSC: one producer and one consumer goroutine pass 100000
// Updates through a ring much smaller than that; every Update arrives
// once, in order, and push reports a full ring instead of overwriting.
func TestUpdateRingSPSC(t *testing.T) {
	r := new(updateRing)
	const n = 100000
	var wg sync.WaitGroup
	wg.Add(1)
	fulls := 0
	go func() {
		defer wg.Done()
		for i := 0; i < n; {
			u := steering.Update{Op: steering.UpdateInstall, Core: uint16(i), Tuple: steering.Tuple{SrcPort: uint16(i >> 16), DstPort: uint16(i)}}
			if r.push(u) {
				i++
			} else {
				fulls++
			}
		}
	}()
	for i := 0; i < n; {
		u, ok := r.pop()
		if !ok {
			continue
		}
		if int(u.Core) != i&0xffff || int(u.Tuple.SrcPort) != i>>16 || int(u.Tuple.DstPort) != i&0xffff {
			t.Fatalf("update %d: got core %d ports %d/%d", i, u.Core, u.Tuple.SrcPort, u.Tuple.DstPort)
		}
		i++
	}
	wg.Wait()
	if _, ok := r.pop(); ok {
		t.Error("pop from a drained ring succeeded")
	}
	t.Logf("producer found the ring full %d times", fulls)
	// Alone: a full ring refuses a push and keeps its contents.
	for i := 0; i < updateRingSize; i++ {
		if !r.push(steering.Update{Core: uint16(i)}) {
			t.Fatalf("push %d of %d refused", i, updateRingSize)
		}
	}
	if r.free() != 0 || r.push(steering.Update{}) {
		t.Fatalf("full ring: free %d, push accepted", r.free())
	}
	if u, ok := r.pop(); !ok || u.Core != 0 {
		t.Fatalf("pop from a full ring: %v %v, want the first update", u, ok)
	}
}

// TestUpdateRingNoAlloc: push and pop do not allocate.
func TestUpdateRingNoAlloc(t *testing.T) {
	r := new(updateRing)
	u := steering.Update{Op: steering.UpdateRemove, Core: 1}
	if a := testing.AllocsPerRun(1000, func() { r.push(u); r.pop() }); a != 0 {
		t.Errorf("push+pop: %v allocs, want 0", a)
	}
}

// TestIsNeighborMsg: ARP and ICMPv6 NS/NA are shared with the other
// workers; IPv4, other ICMPv6 and short frames are not.
func TestIsNeighborMsg(t *testing.T) {
	eth := func(et uint16, l3 []byte) []byte {
		b := make([]byte, 14, 14+len(l3))
		b[12], b[13] = byte(et>>8), byte(et)
		return append(b, l3...)
	}
	v6 := func(next, icmpType byte) []byte {
		ip := make([]byte, 48)
		ip[0] = 0x60
		ip[6] = next
		ip[40] = icmpType
		return ip
	}
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"arp", eth(0x0806, make([]byte, 28)), true},
		{"ns", eth(0x86dd, v6(58, 135)), true},
		{"na", eth(0x86dd, v6(58, 136)), true},
		{"echo request v6", eth(0x86dd, v6(58, 128)), false},
		{"tcp over v6", eth(0x86dd, v6(6, 135)), false},
		{"ipv4", eth(0x0800, make([]byte, 40)), false},
		{"short v6", eth(0x86dd, make([]byte, 30)), false},
		{"runt", []byte{1, 2, 3}, false},
	}
	for _, tt := range tests {
		if got := isNeighborMsg(tt.in); got != tt.want {
			t.Errorf("%s: isNeighborMsg = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCheckQueues: with several workers a port given as a devices list
// needs one device per worker; a single device is left to the driver's
// queue count (checked when the port is configured).
func TestCheckQueues(t *testing.T) {
	port := func(devs ...string) config.Port {
		p := config.Port{Name: "p1", Device: devs[0]}
		if len(devs) > 1 || devs[0] == "list" {
			p.Devices = devs
		}
		return p
	}
	tests := []struct {
		name   string
		lcores []int
		ports  []config.Port
		want   string
	}{
		{"two devices, two workers", []int{0, 1}, []config.Port{port("net_af_xdp0,iface=p1", "net_af_xdp1,iface=p1")}, ""},
		{"one device, two workers", []int{0, 1}, []config.Port{port("net_af_xdp0,iface=p1")}, ""},
		{"list of one, two workers", []int{0, 1}, []config.Port{port("list")}, `port "p1" lists 1 devices for 2 workers`},
	}
	for _, tt := range tests {
		err := checkQueues(&config.Config{Lcores: tt.lcores, Ports: tt.ports})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestHandoffDrops(t *testing.T) {
	tests := []struct {
		name                      string
		staged, room, carry, took int
		final                     bool
		want                      int
	}{
		{name: "all taken", staged: 10, room: 32, carry: 3, took: 10, want: 0},
		{name: "first refusal kept", staged: 10, room: 32, carry: 0, took: 4, want: 0},
		{name: "carried ones taken, new kept", staged: 10, room: 32, carry: 3, took: 5, want: 0},
		{name: "carried refused again", staged: 10, room: 32, carry: 6, took: 2, want: 4},
		{name: "nothing taken, carried dropped", staged: 10, room: 32, carry: 6, took: 0, want: 6},
		{name: "full stage, nothing taken: no room", staged: 32, room: 32, carry: 0, took: 0, want: 32},
		{name: "full stage, one taken: room for one", staged: 32, room: 32, carry: 0, took: 1, want: 0},
		{name: "final drops every refusal", staged: 10, room: 32, carry: 0, took: 4, final: true, want: 6},
		{name: "final, all taken", staged: 10, room: 32, carry: 2, took: 10, final: true, want: 0},
	}
	for _, tc := range tests {
		if got := handoffDrops(tc.staged, tc.room, tc.carry, tc.took, tc.final); got != tc.want {
			t.Errorf("%s: handoffDrops(%d, %d, %d, %d, %v) = %d, want %d", tc.name, tc.staged, tc.room, tc.carry, tc.took, tc.final, got, tc.want)
		}
	}
}
