package steering

import (
	"math/rand/v2"
	"testing"
)

func TestOwnerReasons(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 3, SymmetricRSS: true})
	c := NewClassifier(rs)
	data := mustTuple("198.18.1.2:40000", "198.18.3.2:5201")
	join := mustTuple("198.18.2.2:40001", "198.18.3.2:5201")
	sub := mustTuple("[2001:db8:2::2]:40002", "[2001:db8:3::2]:5201")
	if !c.Install(sub, 2) {
		t.Fatal("Install")
	}
	rss := c.tcpOwnerOf(data)

	udp := buildTCP(data, 0, nil, 8)
	udp[9] = 17
	frag := buildTCP(data, tcpFlagACK, nil, 8)
	frag[6] = 0x20 // MF
	badIHL := buildTCP(data, tcpFlagACK, nil, 0)
	badIHL[0] = 0x44
	shortTCP := buildTCP(data, tcpFlagACK, nil, 0)[:30]
	v6ext := buildTCP(sub, tcpFlagACK, nil, 0)
	v6ext[6] = 0 // hop-by-hop first: not walked
	badDoff := buildTCP(join, tcpFlagSYN, joinLayouts[0].opts(1), 0)
	badDoff[20+12] = 0xf0 // data offset 60 > segment
	truncOpt := buildTCP(join, tcpFlagSYN, []byte{1, 1, 30, 40}, 0)

	for _, tc := range []struct {
		name string
		pkt  []byte
		core int
		why  Reason
	}{
		{"data", buildTCP(data, tcpFlagACK, nil, 100), rss, ReasonRSS},
		{"data reversed", buildTCP(data.Reverse(), tcpFlagACK, nil, 100), rss, ReasonRSS},
		{"join SYN core 1", buildTCP(join, tcpFlagSYN, joinLayouts[0].opts(0x12345601), 0), 1, ReasonJoinToken},
		{"join SYN odd layout core 2", buildTCP(join, tcpFlagSYN, joinLayouts[3].opts(0x12345602), 0), 2, ReasonJoinToken},
		{"join SYN owner field 3 of 3", buildTCP(join, tcpFlagSYN, joinLayouts[1].opts(0x12345603), 0), c.tcpOwnerOf(join), ReasonJoinBadToken},
		{"join SYN/ACK is not a join SYN", buildTCP(join, tcpFlagSYN|tcpFlagACK, joinLayouts[0].opts(0x12345601), 0), c.tcpOwnerOf(join), ReasonRSS},
		{"subflow", buildTCP(sub, tcpFlagACK, nil, 1), 2, ReasonSubflow},
		{"subflow reversed", buildTCP(sub.Reverse(), tcpFlagACK, nil, 1), 2, ReasonSubflow},
		{"udp", udp, c.addrOwnerOf(data), ReasonNotTCP},
		{"fragment", frag, c.addrOwnerOf(data), ReasonFragment},
		{"ihl past packet", badIHL, c.addrOwnerOf(data), ReasonMalformed},
		{"tcp cut", shortTCP, c.addrOwnerOf(data), ReasonMalformed},
		{"v6 extension header", v6ext, c.addrOwnerOf(sub), ReasonNotTCP},
		{"bad data offset", badDoff, c.tcpOwnerOf(join), ReasonRSS},
		{"option runs past header", truncOpt, c.tcpOwnerOf(join), ReasonRSS},
		{"empty", nil, 0, ReasonNotIP},
		{"version 5", []byte{0x50, 0, 0, 0}, 0, ReasonNotIP},
		{"v4 cut before addresses", []byte{0x45, 0, 0, 20, 0, 0, 0, 0}, 0, ReasonNotIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, why := c.Owner(tc.pkt)
			if core != tc.core || why != tc.why {
				t.Fatalf("Owner = %d, %v; want %d, %v", core, why, tc.core, tc.why)
			}
		})
	}
}

// tcpOwnerOf is the RSS owner of a TCP tuple.
func (c *Classifier) tcpOwnerOf(t Tuple) int {
	p := ipInfo{src: t.Src, dst: t.Dst, v6: t.IPv6}
	return c.tcpOwner(&p, t.SrcPort, t.DstPort)
}

func (c *Classifier) addrOwnerOf(t Tuple) int {
	p := ipInfo{src: t.Src, dst: t.Dst, v6: t.IPv6}
	return c.addrOwner(&p)
}

func TestReasonString(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(0); r < NumReasons; r++ {
		s := r.String()
		if s == "invalid" || seen[s] {
			t.Errorf("Reason(%d).String() = %q", r, s)
		}
		seen[s] = true
	}
	if NumReasons.String() != "invalid" {
		t.Error("NumReasons has a name")
	}
}

// TestFlowTableModel drives Install/Remove/Apply with random operations on
// a small table and checks every lookup against a map, exercising probe
// runs that wrap and backward-shift deletion.
func TestFlowTableModel(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 4, SymmetricRSS: true, SubflowsPerCore: 8})
	c := NewClassifier(rs)
	if len(c.flows.slots) != 64 {
		t.Fatalf("%d slots for 32 entries", len(c.flows.slots))
	}
	r := rand.New(rand.NewPCG(5, 6))
	pool := make([]Tuple, 60)
	for i := range pool {
		pool[i] = randTuple(r, i%3 == 0)
	}
	model := map[Tuple]int{} // canonical direction: as installed
	perCore := make([]int, 4)
	find := func(t Tuple) (Tuple, bool) {
		if _, ok := model[t]; ok {
			return t, true
		}
		_, ok := model[t.Reverse()]
		return t.Reverse(), ok
	}
	for step := 0; step < 20000; step++ {
		tu := pool[r.IntN(len(pool))]
		if r.IntN(2) == 0 {
			tu = tu.Reverse()
		}
		core := r.IntN(4)
		switch r.IntN(3) {
		case 0, 1:
			key, exists := find(tu)
			wantOK := perCore[core] < 8 || (exists && model[key] == core)
			if got := c.Apply(Update{Op: UpdateInstall, Core: uint16(core), Tuple: tu}); got != wantOK {
				t.Fatalf("step %d: Install = %v, want %v", step, got, wantOK)
			}
			if wantOK {
				if exists {
					perCore[model[key]]--
					delete(model, key)
				}
				model[tu] = core
				perCore[core]++
			}
		case 2:
			key, exists := find(tu)
			if got := c.Apply(Update{Op: UpdateRemove, Tuple: tu}); got != exists {
				t.Fatalf("step %d: Remove = %v, want %v", step, got, exists)
			}
			if exists {
				perCore[model[key]]--
				delete(model, key)
			}
		}
		if c.Subflows() != len(model) {
			t.Fatalf("step %d: %d entries, model %d", step, c.Subflows(), len(model))
		}
		for i := range 4 {
			if c.SubflowsOf(i) != perCore[i] {
				t.Fatalf("step %d: core %d has %d, model %d", step, i, c.SubflowsOf(i), perCore[i])
			}
		}
		for _, p := range pool {
			k := p.key()
			i, ok := c.flows.find(&k)
			key, want := find(p)
			if ok != want || (ok && int(c.flows.slots[i].core) != model[key]) {
				t.Fatalf("step %d: lookup %v = %v, model %v", step, p, ok, want)
			}
		}
	}
	if c.Install(pool[0], 4) || c.Install(pool[0], -1) || c.Apply(Update{}) || c.SubflowsOf(9) != 0 {
		t.Fatal("out-of-range install or bad op accepted")
	}
}

// TestNewClassifierCopiesSubflows: a classifier built after AddSubflow
// knows the subflow.
func TestNewClassifierCopiesSubflows(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 4, SymmetricRSS: true})
	tu := mustTuple("198.18.2.2:1000", "198.18.3.2:80")
	if _, err := rs.AddSubflow(tu, 3); err != nil {
		t.Fatal(err)
	}
	c := NewClassifier(rs)
	if core, why := c.Owner(buildTCP(tu.Reverse(), tcpFlagACK, nil, 0)); core != 3 || why != ReasonSubflow {
		t.Fatalf("Owner = %d %v", core, why)
	}
	if c.Workers() != 4 {
		t.Fatal("Workers")
	}
}

func TestOwnerZeroAlloc(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 24, SymmetricRSS: true})
	c := NewClassifier(rs)
	c.Install(mustTuple("198.18.2.2:1000", "198.18.3.2:80"), 5)
	pkts := [][]byte{
		buildTCP(mustTuple("198.18.1.2:40000", "198.18.3.2:5201"), tcpFlagACK, nil, 1400),
		buildTCP(mustTuple("[2001:db8:1::2]:40000", "[2001:db8:3::2]:5201"), tcpFlagACK, nil, 1400),
		buildTCP(mustTuple("198.18.2.2:40001", "198.18.3.2:5201"), tcpFlagSYN, joinLayouts[0].opts(7), 0),
		buildTCP(mustTuple("198.18.2.2:1000", "198.18.3.2:80"), tcpFlagACK, nil, 0),
	}
	var sink int
	if n := testing.AllocsPerRun(100, func() {
		for _, p := range pkts {
			core, _ := c.Owner(p)
			sink += core
		}
	}); n != 0 {
		t.Errorf("Owner allocs = %v", n)
	}
	_ = sink
}
