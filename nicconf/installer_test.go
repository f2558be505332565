package nicconf

import (
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
)

func tupleV4(i int) steering.Tuple {
	return steering.TupleFrom(netip.MustParseAddrPort(fmt.Sprintf("198.18.2.2:%d", 30000+i)), netip.MustParseAddrPort("198.18.3.2:5201"))
}

func tupleV6(i int) steering.Tuple {
	return steering.TupleFrom(netip.MustParseAddrPort(fmt.Sprintf("[2001:db8:2::2]:%d", 30000+i)), netip.MustParseAddrPort("[2001:db8:3::2]:5201"))
}

// waitProcessed waits until the Installer has handled n ops.
func waitProcessed(t *testing.T, in *Installer, n uint64) InstallerStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := in.Stats()
		if s.Processed >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("processed %d of %d ops: %v", s.Processed, n, s)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestInstaller(t *testing.T) {
	rs := newRuleset(t, 2, true)
	capable := &fakeDevice{name: "nic", info: dpdk.PortInfo{Driver: "mlx5_pci"}}
	v4only := &fakeDevice{name: "v4", info: dpdk.PortInfo{Driver: "x"}, refuse: refuseV6}
	none := &fakeDevice{name: "xdp", info: dpdk.PortInfo{Driver: "net_af_xdp"}, refuse: refuseAll(syscall.ENOSYS)}
	var reports []Report
	for _, d := range []*fakeDevice{capable, v4only, none} {
		r := ProbeDevice(d, rs)
		reports = append(reports, r)
		if err := r.Destroy(); err != nil { // keep only the Installer's flows
			t.Fatal(err)
		}
	}
	in := NewInstaller(rs, reports, 64)
	in.Start()
	defer in.Stop()

	const subflows = 10
	ops := uint64(0)
	for i := 0; i < subflows; i++ {
		if !in.Install(tupleV4(i), i%2) || !in.Install(tupleV6(i), i%2) {
			t.Fatal("request refused")
		}
		ops += 2
	}
	s := waitProcessed(t, in, ops)
	if rs.Subflows() != 2*subflows {
		t.Errorf("ruleset has %d subflows, want %d", rs.Subflows(), 2*subflows)
	}
	want := []PortStats{
		{Port: "nic", OffloadV4: true, OffloadV6: true, Installed: 4 * subflows, Active: 4 * subflows},
		{Port: "v4", OffloadV4: true, Installed: 2 * subflows, Active: 2 * subflows, Skipped: subflows},
		{Port: "xdp", Skipped: 2 * subflows},
	}
	for i, p := range s.Ports {
		if p != want[i] {
			t.Errorf("port %d: %+v, want %+v", i, p, want[i])
		}
	}
	if capable.activeFlows() != 4*subflows || v4only.activeFlows() != 2*subflows || none.activeFlows() != 0 {
		t.Errorf("flows on ports: %d %d %d", capable.activeFlows(), v4only.activeFlows(), none.activeFlows())
	}
	// Each subflow's two rules steer its 4-tuple, both directions, to
	// the owner's queue.
	for f := range capable.active {
		q := f.pattern[2].Spec.(dpdk.FlowTCP)
		if q.SrcPort != 5201 && q.DstPort != 5201 {
			t.Errorf("flow pattern %+v", f.pattern)
		}
	}

	// Remove half, some by the reverse tuple; a duplicate, an unknown.
	for i := 0; i < subflows/2; i++ {
		in.Remove(tupleV4(i))
		in.Remove(tupleV6(i).Reverse())
		ops += 2
	}
	in.Install(tupleV4(subflows-1), 0) // exists
	in.Remove(tupleV4(1000))           // unknown
	in.Install(tupleV4(2000), 7)       // bad core
	ops += 3
	s = waitProcessed(t, in, ops)
	if s.Exists != 1 || s.Unknown != 1 || s.BadCore != 1 || s.Dropped != 0 || s.Requests != ops {
		t.Errorf("stats %v", s)
	}
	if rs.Subflows() != subflows {
		t.Errorf("ruleset has %d subflows, want %d", rs.Subflows(), subflows)
	}
	if capable.activeFlows() != 2*subflows || v4only.activeFlows() != subflows {
		t.Errorf("flows after remove: %d %d", capable.activeFlows(), v4only.activeFlows())
	}
	if p := s.Ports[0]; p.Removed != 2*subflows || p.Active != 2*subflows {
		t.Errorf("nic port %+v", p)
	}
	t.Log(s)

	in.Stop()
	if capable.activeFlows() != 0 || v4only.activeFlows() != 0 {
		t.Errorf("flows after Stop: %d %d", capable.activeFlows(), v4only.activeFlows())
	}
	if in.Install(tupleV4(3000), 0) {
		t.Error("Request after Stop accepted")
	}
}

// TestInstallerFull fills the channel of an Installer that is not running:
// Request never blocks, counts what it refuses, and Stop still handles
// what was queued.
func TestInstallerFull(t *testing.T) {
	rs := newRuleset(t, 2, true)
	dev := &fakeDevice{name: "nic", info: dpdk.PortInfo{Driver: "x"}}
	in := NewInstaller(rs, []Report{ProbeDevice(dev, rs)}, 4)
	for i := 0; i < 4; i++ {
		if !in.Install(tupleV4(i), 0) {
			t.Fatalf("request %d refused", i)
		}
	}
	if in.Install(tupleV4(4), 0) || in.Remove(tupleV4(0)) {
		t.Fatal("request on a full channel accepted")
	}
	tup := tupleV4(5)
	// AllocsPerRun calls it 101 times.
	if allocs := testing.AllocsPerRun(100, func() { in.Install(tup, 1) }); allocs != 0 {
		t.Errorf("Request allocates %v times", allocs)
	}
	s := in.Stats()
	if s.Requests != 4 || s.Dropped != 103 {
		t.Errorf("stats %v", s)
	}
	in.Stop()
	s = in.Stats()
	// The 4 queued installs were handled and their flows destroyed.
	if s.Processed != 4 || s.Ports[0].Installed != 8 || s.Ports[0].Removed != 8 || s.Ports[0].Active != 0 {
		t.Errorf("after Stop: %v", s)
	}
}

// TestInstallerQuota checks the per-core bound and create failures.
func TestInstallerQuota(t *testing.T) {
	rs, err := steering.NewRuleset(steering.Config{Workers: 2, SubflowsPerCore: 3})
	if err != nil {
		t.Fatal(err)
	}
	dev := &fakeDevice{name: "nic", info: dpdk.PortInfo{Driver: "x"}}
	r := ProbeDevice(dev, rs)
	dev.createErr = fmt.Errorf("table full")
	in := NewInstaller(rs, []Report{r}, 0)
	in.Start()
	for i := 0; i < 5; i++ {
		in.Install(tupleV4(i), 1)
	}
	s := waitProcessed(t, in, 5)
	if s.Quota != 2 || s.Ports[0].InstallFailed != 6 || s.Ports[0].Active != 0 {
		t.Errorf("stats %v", s)
	}
	in.Stop()
}

// TestInstallerConcurrent has several workers request at once (run with
// -race).
func TestInstallerConcurrent(t *testing.T) {
	const workers, per = 4, 200
	rs, err := steering.NewRuleset(steering.Config{Workers: workers, SubflowsPerCore: per})
	if err != nil {
		t.Fatal(err)
	}
	dev := &fakeDevice{name: "nic", info: dpdk.PortInfo{Driver: "x"}}
	in := NewInstaller(rs, []Report{ProbeDevice(dev, rs)}, 16)
	in.Start()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				tup := tupleV4(w*per + i)
				for !in.Install(tup, w) {
					time.Sleep(10 * time.Microsecond)
				}
				for !in.Remove(tup) {
					time.Sleep(10 * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	s := waitProcessed(t, in, 2*workers*per)
	in.Stop()
	if s.Ports[0].Installed != 2*workers*per || s.Ports[0].Removed != 2*workers*per || s.Ports[0].Active != 0 || rs.Subflows() != 0 {
		t.Errorf("stats %v, %d subflows left", s, rs.Subflows())
	}
}
