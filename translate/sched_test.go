package translate

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// TestWeighted: picks by (in flight + 1) / rate among subflows with room;
// an unmeasured subflow first; all full: the soonest delivery.
func TestWeighted(t *testing.T) {
	tests := []struct {
		name string
		subs []SubflowInfo
		want int
	}{
		{"drains soonest", []SubflowInfo{
			{Live: true, InFlight: 4000, Window: 1e6, Rate: 1000}, // 4 s to drain
			{Live: true, InFlight: 8000, Window: 1e6, Rate: 4000}, // 2 s
		}, 1},
		{"equal rates: the shorter delay while it is not that far behind", []SubflowInfo{
			{Live: true, InFlight: 70e3, Window: 1e6, Rate: 1e6, MinRTT: 1e6}, // 70 ms + 1 ms
			{Live: true, InFlight: 0, Window: 1e6, Rate: 1e6, MinRTT: 81e6},   // 0 ms + 81 ms
		}, 0},
		{"equal rates: the longer delay once the other is that far behind", []SubflowInfo{
			{Live: true, InFlight: 90e3, Window: 1e6, Rate: 1e6, MinRTT: 1e6}, // 90 ms + 1 ms
			{Live: true, InFlight: 0, Window: 1e6, Rate: 1e6, MinRTT: 81e6},   // 0 ms + 81 ms
		}, 1},
		{"unmeasured first", []SubflowInfo{
			{Live: true, InFlight: 0, Window: 1e6, Rate: 1e9},
			{Live: true, InFlight: 500, Window: 1e6},
		}, 1},
		{"full skipped", []SubflowInfo{
			{Live: true, InFlight: 10, Window: 10, Rate: 1e9},
			{Live: true, InFlight: 9000, Window: 1e6, Rate: 1},
		}, 1},
		{"all full: soonest delivery", []SubflowInfo{
			{Live: true, InFlight: 30, Window: 10, Rate: 1e3, MinRTT: 1e6}, // 1 ms + 30 ms
			{Live: true, InFlight: 12, Window: 10, Rate: 1e3, MinRTT: 5e6}, // 5 ms + 12 ms
		}, 1},
		{"all full: the lower base delay", []SubflowInfo{
			{Live: true, InFlight: 30, Window: 10, Rate: 1e3, MinRTT: 1e6},  // 1 ms + 30 ms
			{Live: true, InFlight: 12, Window: 10, Rate: 1e3, MinRTT: 20e6}, // 20 ms + 12 ms
		}, 0},
		{"all full: base delay rose since the minimum", []SubflowInfo{
			{Live: true, InFlight: 30, Window: 10, Rate: 1e3, MinRTT: 1e6, SRTT: 31e6},
			{Live: true, InFlight: 12, Window: 10, Rate: 1e3, MinRTT: 1e6, SRTT: 200e6}, // 13 ms by the minimum, 200 now
		}, 0},
		{"backup only when no primary", []SubflowInfo{
			{Live: false, Rate: 1e9, Window: 10},
			{Live: true, Backup: true, Window: 10, Rate: 1},
		}, 1},
		{"backup passed over", []SubflowInfo{
			{Live: true, Backup: true, Window: 10, Rate: 1e9},
			{Live: true, InFlight: 100, Window: 10, Rate: 1},
		}, 1},
		{"none", []SubflowInfo{{}, {}}, -1},
	}
	for _, tc := range tests {
		if got := (Weighted{}).Pick(tc.subs, -1, 0); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestWeightedShares: in a closed loop where each subflow drains at its
// rate, Weighted sends each a share of the data close to its share of the
// total rate (200 and 50 units: 4 to 1), with windows that never fill.
func TestWeightedShares(t *testing.T) {
	rates := []uint64{200, 50}
	share := func(s Scheduler) float64 {
		subs := []SubflowInfo{
			{Live: true, Window: 1 << 30, Rate: rates[0], SRTT: 10},
			{Live: true, Window: 1 << 30, Rate: rates[1], SRTT: 10},
		}
		var sent [2]uint64
		last := -1
		for tick := 0; tick < 2000; tick++ {
			// 250 units of new data per tick, the sum of the rates.
			for k := 0; k < 250; k++ {
				j := s.Pick(subs, last, 0)
				last = j
				subs[j].InFlight++
				sent[j]++
			}
			for j := range subs {
				subs[j].InFlight -= uint32(min(uint64(subs[j].InFlight), rates[j]))
			}
		}
		return float64(sent[0]) / float64(sent[0]+sent[1])
	}
	if w := share(Weighted{}); w < 0.75 || w > 0.85 {
		t.Errorf("weighted: fast path carried %.2f of the data, want about 0.8", w)
	}
}

// TestRoundRobinWindow: RoundRobin alternates while every subflow has
// room in its round-robin window (its window capped at one BDP, rate x
// minimum RTT), skips one at that cap, and when all are full picks the
// one that would deliver soonest - so on paths of 200 and 50 Mbit/s with
// equal RTTs a slow path at its BDP no longer takes every other segment.
func TestRoundRobinWindow(t *testing.T) {
	const ms = int64(1e6)
	// 25 MB/s and 6.25 MB/s at 40 ms: BDPs of 1 MB and 250 kB; windows
	// (2x BDP as schedWindow caps them) 2 MB and 500 kB. The slow path's
	// smoothed RTT carries 40 ms of queue: it must not count.
	fast := SubflowInfo{Live: true, SRTT: 40 * ms, MinRTT: 40 * ms, Rate: 25e6, Window: 2e6}
	slow := SubflowInfo{Live: true, SRTT: 80 * ms, MinRTT: 40 * ms, Rate: 6.25e6, Window: 5e5}
	pick := func(f, s uint32, last int) int {
		a, b := fast, slow
		a.InFlight, b.InFlight = f, s
		return RoundRobin{}.Pick([]SubflowInfo{a, b}, last, 0)
	}
	if j := pick(1e5, 1e5, 0); j != 1 {
		t.Errorf("both with room, last 0: picked %d, want 1 (round robin)", j)
	}
	if j := pick(1e5, 1e5, 1); j != 0 {
		t.Errorf("both with room, last 1: picked %d, want 0", j)
	}
	// The slow path at its BDP (250 kB) but below its 2x-BDP window and
	// below rate x smoothed RTT (500 kB): the round-robin window skips it.
	if j := pick(1e5, 3e5, 0); j != 0 {
		t.Errorf("slow path past its BDP: picked %d, want the fast path 0", j)
	}
	// Both past their BDPs: the fast one delivers a byte after 40 + 60
	// ms (1.5 MB at 25 MB/s), the slow one after 40 + 48 ms (300 kB at
	// 6.25 MB/s): the slow one.
	if j := pick(15e5, 3e5, 1); j != 1 {
		t.Errorf("both full: picked %d, want 1 (soonest delivery)", j)
	}
	if j := pick(11e5, 5e5, 0); j != 0 {
		t.Errorf("both full: picked %d, want 0 (84 ms against 120)", j)
	}
	// Before any measurement the subflow's own window counts.
	a, b := fast, slow
	a.Rate, b.Rate, a.InFlight, b.InFlight = 0, 0, 1e5, 4e5
	if j := (RoundRobin{}).Pick([]SubflowInfo{a, b}, 0, 0); j != 1 {
		t.Errorf("unmeasured, both with room: picked %d, want 1", j)
	}
	// In the closed loop of TestWeightedShares (rates 200 and 50 per
	// tick, windows that never fill) the split follows the rates.
	subs := []SubflowInfo{fast, slow}
	var sent [2]uint64
	last := -1
	for tick := 0; tick < 2000; tick++ {
		for k := 0; k < 250; k++ {
			j := RoundRobin{}.Pick(subs, last, 0)
			last = j
			subs[j].InFlight += 4000
			sent[j]++
		}
		for j, r := range []uint32{800000, 200000} {
			subs[j].InFlight -= min(subs[j].InFlight, r)
		}
	}
	if r := float64(sent[0]) / float64(sent[0]+sent[1]); r < 0.7 {
		t.Errorf("closed loop at 4:1 rates: fast path carried %.2f, want well above the even 0.5", r)
	}
}

// TestActiveStandby: all data on the first live non-backup subflow,
// whatever the others' RTT or room; backups only when none is live.
func TestActiveStandby(t *testing.T) {
	tests := []struct {
		name string
		subs []SubflowInfo
		want int
	}{
		{"active despite worse rtt and full", []SubflowInfo{
			{Live: true, SRTT: 100, InFlight: 50, Window: 10},
			{Live: true, SRTT: 1, Window: 10},
		}, 0},
		{"primary dead: next primary", []SubflowInfo{
			{Live: false},
			{Live: true, Backup: true},
			{Live: true},
		}, 2},
		{"only backup", []SubflowInfo{{Live: false}, {Live: true, Backup: true}}, 1},
		{"none", []SubflowInfo{{}, {Backup: true}}, -1},
	}
	for _, tc := range tests {
		if got := (ActiveStandby{}).Pick(tc.subs, 0, 0); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestPriority: the highest-ranked port with room; spill to the next
// when full; all full: the highest ranked; unranked ports last.
func TestPriority(t *testing.T) {
	p := NewPriority([]uint8{2, 1}) // port 2 first, then 1, then the rest
	tests := []struct {
		name string
		subs []SubflowInfo
		want int
	}{
		{"rank order", []SubflowInfo{
			{Live: true, Port: 1, Window: 10},
			{Live: true, Port: 2, Window: 10},
			{Live: true, Port: 0, Window: 10},
		}, 1},
		{"spill when full", []SubflowInfo{
			{Live: true, Port: 1, Window: 10},
			{Live: true, Port: 2, InFlight: 10, Window: 10},
		}, 0},
		{"all full: highest rank", []SubflowInfo{
			{Live: true, Port: 0, InFlight: 10, Window: 10},
			{Live: true, Port: 1, InFlight: 10, Window: 10},
		}, 1},
		{"unranked after ranked", []SubflowInfo{
			{Live: true, Port: 5, Window: 10},
			{Live: true, Port: 1, Window: 10},
		}, 1},
		{"backup last", []SubflowInfo{
			{Live: true, Port: 2, Backup: true, Window: 10},
			{Live: true, Port: 0, Window: 10},
		}, 1},
		{"none", []SubflowInfo{{Port: 2}}, -1},
	}
	for _, tc := range tests {
		if got := p.Pick(tc.subs, 0, 0); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if q := NewPriority([]uint8{3, 3, 200}); q.Rank[3] != 0 || q.Rank[0] != 255 {
		t.Errorf("NewPriority with a repeat and an out-of-range port: %v", q.Rank)
	}
}

// TestPickFromStale: a stale subflow gets new data only when no other is
// live.
func TestPickFromStale(t *testing.T) {
	subs := []SubflowInfo{
		{Live: true, SRTT: 1, Window: 10, Stale: true},
		{Live: true, SRTT: 50, Window: 10},
	}
	if got := pickFrom(MinRTT{}, subs, -1, 0); got != 1 {
		t.Errorf("stale subflow picked over a live one: %d", got)
	}
	subs = []SubflowInfo{{Live: true, Window: 10, Stale: true}, {Live: false}}
	if got := pickFrom(MinRTT{}, subs, -1, 0); got != 0 {
		t.Errorf("only a stale subflow: %d, want 0", got)
	}
}

// TestSchedulerConfig: names, rules and the longest-prefix choice.
func TestSchedulerConfig(t *testing.T) {
	for _, n := range SchedulerNames {
		if _, err := newScheduler(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	for _, bad := range []Config{
		{Scheduler: "redundant"},
		{SchedulerRules: []SchedulerRule{{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Scheduler: "fastest"}}},
		{SchedulerRules: []SchedulerRule{{Scheduler: "minrtt"}}},
		{StaleAfter: -1},
	} {
		if _, err := New(bad, newTestAlloc(4)); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
	e, err := New(Config{MaxConnections: 4, Scheduler: "roundrobin", SchedulerRules: []SchedulerRule{
		{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Scheduler: "weighted"},
		{Prefix: netip.MustParsePrefix("198.18.3.0/24"), Scheduler: "active-standby"},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Scheduler: "priority"},
	}}, newTestAlloc(4))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dst  string
		want Scheduler
	}{
		{"198.18.3.2", ActiveStandby{}},
		{"198.18.1.9", Weighted{}},
		{"203.0.113.1", RoundRobin{}},
	} {
		if got := e.scheds[e.schedFor(netip.MustParseAddr(tc.dst))]; got != tc.want {
			t.Errorf("%s: %T, want %T", tc.dst, got, tc.want)
		}
	}
	if _, ok := e.scheds[e.schedFor(netip.MustParseAddr("2001:db8::1"))].(*Priority); !ok {
		t.Error("2001:db8::1 did not get the priority scheduler")
	}
}

// TestSchedulerPerConnection: a rule for the server's prefix picks
// active-standby for the fixture's connection, which then sends all new
// S->C data on subflow 0 although subflow 1 is just as good.
func TestSchedulerPerConnection(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Scheduler: "roundrobin",
		SchedulerRules: []SchedulerRule{{Prefix: netip.MustParsePrefix("198.18.3.2/32"), Scheduler: "active-standby"}}})
	_, c := f.connIdx()
	if _, ok := f.e.scheds[c.sched].(ActiveStandby); !ok {
		t.Fatalf("connection got %T", f.e.scheds[c.sched])
	}
	cl := f.m.c
	pay := make([]byte, 500)
	for k := uint32(0); k < 6; k++ {
		_, out := f.send(t, f.spkt(k*500, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
		if dstPort(t, &out[0]) != 40000 {
			t.Fatalf("segment %d left on the standby subflow", k)
		}
	}
}

// TestBackupPortMPPrio: a join on a port listed in BackupPorts is backup
// for P's scheduler and its fourth ACK carries MP_PRIO with B set (RFC
// 8684 3.3.8).
func TestBackupPortMPPrio(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Scheduler: "roundrobin", BackupPorts: []uint8{1}})
	ci, _ := f.connIdx()
	if s := f.e.sub(ci, 1); !s.backup || !s.prioSend || f.e.sub(ci, 0).backup {
		t.Fatalf("backup flags: subflow 0 %v, subflow 1 %v/%v", f.e.sub(ci, 0).backup, s.backup, s.prioSend)
	}
	// The client repeats its third ACK; P answers with the fourth again.
	cl := f.m.c
	third := make([]byte, 24)
	third[0], third[1], third[2] = optMPTCP, optLenJoinAck, mptcpSubJoin<<4
	_, out := f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, ackF, third, nil), Access, 1)
	if len(out) == 0 {
		t.Fatal("no fourth ACK")
	}
	tcp, _, _ := view(t, out[0].Bytes())
	if !bytes.Contains(tcp.Options(), []byte{optMPTCP, optLenPrio, mptcpSubPrio<<4 | 1}) {
		t.Errorf("fourth ACK options % x carry no MP_PRIO B=1", tcp.Options())
	}
	// S->C data stays off the backup subflow.
	pay := make([]byte, 500)
	for k := uint32(0); k < 6; k++ {
		_, out := f.send(t, f.spkt(k*500, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
		if dstPort(t, &out[0]) != 40000 {
			t.Fatalf("segment %d on the backup port", k)
		}
	}
	// The client's MP_PRIO B=0 does not override the configured backup.
	opts := append([]byte{optMPTCP, optLenPrio, mptcpSubPrio << 4, optNOP}, cl.dss(1, false, 0, 0, 0, nil)...)
	f.send(t, f.cpkt(1, 1, cl.sub[1].peerISN+1, ackF, opts, nil), Access, 1)
	if !f.e.sub(ci, 1).backup {
		t.Error("client's MP_PRIO B=0 cleared a configured backup port")
	}
}

// TestBackupPortMPPrioSubflow0: when subflow 0 arrives on a port listed
// in BackupPorts, P announces it backup with MP_PRIO B=1 (RFC 8684 3.3.8:
// it applies to the subflow it travels on) on the first segment it sends
// the client on subflow 0 once established, and only once; S->C data
// stays on the other subflow.
func TestBackupPortMPPrioSubflow0(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Scheduler: "roundrobin", BackupPorts: []uint8{0}})
	ci, _ := f.connIdx()
	s0 := f.e.sub(ci, 0)
	if !s0.backup || !s0.prio0 || f.e.sub(ci, 1).backup {
		t.Fatalf("backup flags: subflow 0 %v/%v, subflow 1 %v", s0.backup, s0.prio0, f.e.sub(ci, 1).backup)
	}
	cl := f.m.c
	prio := []byte{optMPTCP, optLenPrio, mptcpSubPrio<<4 | 1}
	for k := 0; k < 2; k++ {
		_, out := f.send(t, f.spkt(0, cl.sub[0].isn+1, ackF, nil, nil), Core, 0)
		if len(out) == 0 || dstPort(t, &out[0]) != 40000 {
			t.Fatalf("S's pure ACK %d did not go out on subflow 0", k)
		}
		tcp, _, _ := view(t, out[0].Bytes())
		has := bytes.Contains(tcp.Options(), prio)
		if k == 0 && !has {
			t.Errorf("first segment on subflow 0: options % x carry no MP_PRIO B=1", tcp.Options())
		}
		if k == 1 && has {
			t.Errorf("second segment on subflow 0 carries MP_PRIO again: % x", tcp.Options())
		}
	}
	pay := make([]byte, 500)
	for k := uint32(0); k < 4; k++ {
		_, out := f.send(t, f.spkt(k*500, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
		if dstPort(t, &out[0]) == 40000 {
			t.Fatalf("segment %d on the backup subflow 0", k)
		}
	}
}

// TestPathQuality: RTT samples, delivery rate and loss signals land in
// the subflow and in its port's PathStats.
func TestPathQuality(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Scheduler: "active-standby"})
	ci, _ := f.connIdx()
	cl := f.m.c
	s0 := f.e.sub(ci, 0)
	before := f.e.PathStats().Ports[0]
	pay := make([]byte, 1000)
	// Four segments on subflow 0, then 20 ms later the client acks the
	// first two, then duplicates that ack twice with a SACK block.
	for k := uint32(0); k < 4; k++ {
		f.send(t, f.spkt(k*1000, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	}
	f.m.now += int64(20 * time.Millisecond)
	ack := uint32(s0.isnP.Add(1 + 2000))
	f.send(t, f.cpkt(0, 1001, ack, ackF, cl.dss(0, false, 0, 0, 0, nil), nil), Access, 0)
	sack := []byte{optNOP, optNOP, optSACK, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	be := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }
	be(sack[4:], uint32(s0.isnP.Add(1+3000)))
	be(sack[8:], uint32(s0.isnP.Add(1+4000)))
	for i := 0; i < 2; i++ {
		f.send(t, f.cpkt(0, 1001, ack, ackF, append(cl.dss(0, false, 0, 0, 0, nil), sack...), nil), Access, 0)
	}
	pp := f.e.PathStats().Ports[0]
	if pp.RTTSamples != before.RTTSamples+1 || s0.srtt < int64(20*time.Millisecond) || pp.SRTT <= 0 {
		t.Errorf("RTT: %d samples (was %d), subflow srtt %v, port srtt %v", pp.RTTSamples, before.RTTSamples, time.Duration(s0.srtt), time.Duration(pp.SRTT))
	}
	if s0.minRTT != 20000 {
		t.Errorf("minimum RTT %d us, want the 20 ms sample", s0.minRTT)
	}
	var inBucket uint64
	for i, b := range RTTBounds {
		if b >= int64(20*time.Millisecond) {
			inBucket = pp.RTTBuckets[i] - before.RTTBuckets[i]
			break
		}
	}
	if inBucket != 1 {
		t.Errorf("the 20 ms sample is not in the 25 ms bucket: %v", pp.RTTBuckets)
	}
	if pp.Delivered-before.Delivered != 2000 || s0.rate == 0 || pp.Rate == 0 {
		t.Errorf("delivery: %d bytes, subflow rate %d, port rate %d", pp.Delivered-before.Delivered, s0.rate, pp.Rate)
	}
	if pp.DupAcks-before.DupAcks != 2 || pp.SACKHoles-before.SACKHoles != 2 {
		t.Errorf("loss signals: %d dup-acks, %d SACK holes; want 2, 2", pp.DupAcks-before.DupAcks, pp.SACKHoles-before.SACKHoles)
	}
}

// TestStaleSubflow: a subflow with data outstanding and no ack progress
// for StaleAfter gets no new data while another is live, and is counted.
func TestStaleSubflow(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 10 * time.Second,
		StaleAfter: 100 * time.Millisecond, Scheduler: "active-standby"})
	cl := f.m.c
	pay := make([]byte, 1000)
	_, out := f.send(t, f.spkt(0, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	if dstPort(t, &out[0]) != 40000 {
		t.Fatal("active-standby did not use subflow 0")
	}
	f.m.now += int64(200 * time.Millisecond)
	_, out = f.send(t, f.spkt(1000, cl.sub[0].isn+1, pshF, nil, pay), Core, 0)
	if dstPort(t, &out[0]) != 40001 {
		t.Error("new data went to the stale subflow 0")
	}
	if f.e.PathStats().Ports[0].Stale == 0 {
		t.Error("stale not counted on port 0")
	}
}

// TestPickAllocs: every scheduler picks without allocating.
func TestPickAllocs(t *testing.T) {
	subs := []SubflowInfo{{Live: true, Window: 10, Rate: 5, Port: 1}, {Live: true, Window: 10, Stale: true}}
	p := NewPriority([]uint8{1, 0})
	for _, s := range []Scheduler{MinRTT{}, RoundRobin{}, Weighted{}, ActiveStandby{}, &p} {
		if n := testing.AllocsPerRun(100, func() { pickFrom(s, subs, 0, 0) }); n != 0 {
			t.Errorf("%T: %v allocs per pick", s, n)
		}
	}
}

// TestSchedWindow: the scheduler's window is the estimate, capped at
// twice the measured bandwidth-delay product (rate x minimum RTT, not the
// smoothed RTT) once it is known, never below the initial window.
func TestSchedWindow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wnd   uint32
		rate  uint64
		minUS uint32 // minimum RTT, us
		want  uint32
	}{
		{"unmeasured", 1 << 20, 0, 0, 1 << 20},
		{"rate but no RTT", 1 << 20, 12.5e6, 0, 1 << 20},
		{"capped at 2 BDP", 1 << 20, 12.5e6, 10000, 250000}, // 100 Mbit/s x 10 ms
		{"estimate below the cap", 50000, 12.5e6, 10000, 50000},
		{"floor", 1 << 20, 1000, 1000, initialWindow},
	} {
		s := subflow{wnd: tc.wnd, rate: tc.rate, minRTT: tc.minUS, srtt: 3 * int64(tc.minUS) * 1e3}
		if got := schedWindow(&s); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestWindowIgnoresQueue: on a path whose queue grows (RTT samples
// rising from 10 ms to 90 ms at a constant delivery rate), the smoothed
// RTT follows the queue but the scheduler's window stays at twice rate x
// the minimum RTT; ten seconds after the 10 ms sample, a raised base
// delay replaces the minimum.
func TestWindowIgnoresQueue(t *testing.T) {
	var e Engine
	const ms = int64(time.Millisecond)
	s := subflow{state: subEstablished, wnd: 1 << 24, rate: 6.25e6} // 50 Mbit/s
	now := int64(1e12)
	for k := int64(0); k <= 80; k++ {
		e.rttSample(now, &s, 10*ms+k*ms)
		now += 10 * ms
	}
	if s.srtt < 80*ms {
		t.Fatalf("smoothed RTT %v: the samples did not raise it", time.Duration(s.srtt))
	}
	const want uint32 = 2 * 62500 // 2 x 50 Mbit/s x 10 ms
	if w := schedWindow(&s); w != want {
		t.Errorf("window %d with smoothed RTT %v, want %d (2 x rate x 10 ms)", w, time.Duration(s.srtt), want)
	}
	if in := (SubflowInfo{Window: schedWindow(&s), Rate: s.rate, MinRTT: int64(s.minRTT) * 1e3}); rrWindow(&in) != uint64(want/2) {
		t.Errorf("round-robin window %d, want %d", rrWindow(&in), want/2)
	}
	// The base delay rises to 50 ms: the 10 ms minimum (the first
	// sample, 810 ms ago) stands for its window, then the next sample
	// replaces it.
	now += minRTTWindow - 900*ms
	e.rttSample(now, &s, 50*ms)
	if s.minRTT != 10000 {
		t.Errorf("minimum %d us before the window passed, want 10000", s.minRTT)
	}
	now += 200 * ms
	e.rttSample(now, &s, 50*ms)
	if s.minRTT != 50000 {
		t.Errorf("minimum %d us after the window passed, want 50000", s.minRTT)
	}
}

// TestRoundRobinSkipsFull: RoundRobin passes over a subflow whose bytes
// in flight fill its round-robin window, whichever came next, and with
// backups or without measurements the same.
func TestRoundRobinSkipsFull(t *testing.T) {
	const ms = int64(1e6)
	subs := []SubflowInfo{
		{Live: true, MinRTT: 10 * ms, SRTT: 10 * ms, Rate: 25e6, Window: 1 << 20, InFlight: 1000},
		{Live: true, MinRTT: 10 * ms, SRTT: 50 * ms, Rate: 6.25e6, Window: 1 << 20, InFlight: 62500}, // at its BDP
		{Live: true, MinRTT: 10 * ms, SRTT: 10 * ms, Rate: 25e6, Window: 1 << 20, InFlight: 2000},
	}
	for last, want := range []int{2, 2, 0} {
		if j := (RoundRobin{}).Pick(subs, last, 0); j != want {
			t.Errorf("last %d: picked %d, want %d (1 is full)", last, j, want)
		}
	}
	// Unmeasured: the subflow's own window.
	subs[1].Rate, subs[1].Window, subs[1].InFlight = 0, initialWindow, initialWindow
	if j := (RoundRobin{}).Pick(subs, 0, 0); j != 2 {
		t.Errorf("unmeasured and full: picked %d, want 2", j)
	}
	// All full: the soonest delivery, 1 (10 + 2 ms) over 0 and 2
	// (10 + 40 ms).
	subs[0].InFlight, subs[2].InFlight = 1e6, 1e6
	subs[1].Rate, subs[1].InFlight = 6.25e6, 12500
	subs[1].Window = 12500
	if j := (RoundRobin{}).Pick(subs, 0, 0); j != 1 {
		t.Errorf("all full: picked %d, want 1", j)
	}
}

// TestRoomOrSoonestWindow: a fast path full by its window against a
// slower one with room. The slower one is taken when the client's receive
// window holds what the fast path delivers while the client waits for the
// slower one's byte (BLEST's test), else the fast one; the same for
// MinRTT and Weighted.
func TestRoomOrSoonestWindow(t *testing.T) {
	// Fast: 10 ms + 500 kB at 25 MB/s (200 Mbit/s) = 30 ms. Slow: 40 ms,
	// empty, at 6.25 MB/s: it delivers 10 ms later, while the fast path
	// delivers 250 kB.
	subs := []SubflowInfo{
		{Live: true, SRTT: 30e6, MinRTT: 10e6, Rate: 25e6, InFlight: 500e3, Window: 400e3},
		{Live: true, SRTT: 40e6, MinRTT: 40e6, Rate: 6.25e6, InFlight: 0, Window: 500e3},
	}
	for _, s := range []Scheduler{MinRTT{}, Weighted{}} {
		for _, tc := range []struct {
			room uint64
			want int
		}{
			{0, 0},       // window unknown or exhausted: the sooner delivery
			{200e3, 0},   // the fast path would fill the window meanwhile
			{250e3, 1},   // it just fits
			{4 << 20, 1}, // a grown window: the slow path adds its rate
			{1 << 62, 1}, // no overflow
		} {
			if got := s.Pick(subs, -1, tc.room); got != tc.want {
				t.Errorf("%T room %d: picked %d, want %d", s, tc.room, got, tc.want)
			}
		}
	}
	// The slow one delivering sooner anyway, or the fast one unmeasured:
	// the one with room, whatever the window.
	fast := subs[0]
	fast.Rate = 0
	if got := (MinRTT{}).Pick([]SubflowInfo{fast, subs[1]}, -1, 0); got != 1 {
		t.Errorf("unmeasured full path: picked %d, want the one with room", got)
	}
	fast = subs[0]
	fast.InFlight = 2e6 // 10 ms + 80 ms of queue
	if got := (MinRTT{}).Pick([]SubflowInfo{fast, subs[1]}, -1, 0); got != 1 {
		t.Errorf("full path with a long queue: picked %d, want the one with room", got)
	}
}

// TestWindowRoom: the scheduler's room is the client's window beyond the
// highest byte sent, capped at S's bytes in flight (its window, as far as
// P can see it), and 0 before DATA_ACKs flow or past the right edge.
func TestWindowRoom(t *testing.T) {
	f := newFixture(t)
	ci, c := f.connIdx()
	if !c.dataAckOK {
		t.Fatal("fixture connection has no DATA_ACK yet")
	}
	ws := uint8(0)
	if c.wsOK {
		ws = f.e.sub(ci, 0).ws
	}
	c.winC = uint16(uint32(64<<10-1) >> ws) // about 64 KiB at subflow 0's scale
	win := uint64(c.winC) << ws
	for _, tc := range []struct {
		flight, want uint64
	}{
		{0, 0},                   // nothing in flight: no window of S's to spend
		{10 << 10, 10 << 10},     // S's flight is the smaller
		{40 << 10, win - 40<<10}, // the window's rest is the smaller
		{win, 0},                 // at the right edge
		{win + 5, 0},             // past it (S overran a shrinking window)
	} {
		c.s2cNxt = c.dataAck.Add(tc.flight)
		if got := f.e.windowRoom(ci, c); got != tc.want {
			t.Errorf("flight %d, window %d: room %d, want %d", tc.flight, win, got, tc.want)
		}
	}
	c.dataAckOK = false
	if got := f.e.windowRoom(ci, c); got != 0 {
		t.Errorf("before DATA_ACK: room %d, want 0", got)
	}
}
