package translate

import (
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// TestSackTablePool: a connection takes a SACKed-range table (I25) from
// the engine's pool when S first SACKs data worth remembering, returns it
// when S's cumulative ack covers the set and when the connection is
// released; with the pool empty it keeps the DESIGN 3.4 rule (subflow acks
// only up to S's cumulative ack) and the miss is counted.
func TestSackTablePool(t *testing.T) {
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, SackTables: 1, DeadAfter: 1 << 62})
	cl := f.m.c
	ci, c := f.connIdx()
	pay := make([]byte, 1000)
	// Subflow 1 carries data 1000..3000 (SSN 1..2001); data 0..1000 is
	// subflow 0's.
	for k := uint32(0); k < 2; k++ {
		f.send(t, f.cpkt(1, 1+1000*k, cl.sub[1].peerISN+1, pshF, cl.dss(1, true, cl.idsnC+1+1000+uint64(1000*k), 1+1000*k, 1000, pay), pay), Access, 1)
	}
	base := cl.sub[0].isn + 1
	sub1Ack := func(out []Packet) (uint32, bool) {
		ps := outTo(t, out, 40001)
		if len(ps) == 0 {
			return 0, false
		}
		tcp, _ := checkOut(t, &ps[len(ps)-1])
		return uint32(tcp.Ack()) - cl.sub[1].isn, true
	}
	sack := sackOpt([2]uint32{base + 1000, base + 2500})

	// Pool empty (another connection holds the only table): no table, no
	// relaxation, one miss.
	held := f.e.sackFree
	f.e.sackFree = f.e.sackFree[:0]
	_, out := f.send(t, f.spkt(0, base, ackF, sack, nil), Core, 0)
	if a, ok := sub1Ack(out); ok && a != 1 {
		t.Errorf("pool empty: subflow 1 acked to %d, want 1 (S acknowledged none of its data)", a)
	}
	if c.sackIdx != 0 || c.nsacked != 0 || f.e.cnt.SackTableMisses != 1 {
		t.Errorf("pool empty: table %d ranges %d misses %d, want 0 0 1", c.sackIdx, c.nsacked, f.e.cnt.SackTableMisses)
	}
	f.e.sackFree = held

	// The table is back: the SACK takes it and subflow 1 is acked.
	_, out = f.send(t, f.spkt(0, base, ackF, sack, nil), Core, 0)
	if a, ok := sub1Ack(out); !ok || a != 1501 {
		t.Errorf("I25: subflow 1 acked to %d (sent %v), want 1501", a, ok)
	}
	if c.sackIdx == 0 || len(f.e.sackFree) != 0 || f.e.cnt.SackTableMisses != 1 {
		t.Errorf("table %d free %d misses %d after a SACK with the pool full", c.sackIdx, len(f.e.sackFree), f.e.cnt.SackTableMisses)
	}
	checkSlab(t, f.e)

	// S's cumulative ack covers the SACKed range: the table is returned.
	f.send(t, f.spkt(0, base+2500, ackF, nil, nil), Core, 0)
	if c.sackIdx != 0 || c.nsacked != 0 || len(f.e.sackFree) != 1 {
		t.Errorf("set covered: table %d ranges %d free %d, want 0 0 1", c.sackIdx, c.nsacked, len(f.e.sackFree))
	}
	checkSlab(t, f.e)

	// A table held when the connection is released goes back too.
	f.send(t, f.spkt(0, base+2500, ackF, sackOpt([2]uint32{base + 2800, base + 3000}), nil), Core, 0)
	if c.sackIdx == 0 || len(f.e.sackFree) != 0 {
		t.Fatalf("second SACK: table %d free %d", c.sackIdx, len(f.e.sackFree))
	}
	checkSlab(t, f.e)
	f.e.release(ci)
	if len(f.e.sackFree) != 1 {
		t.Errorf("release: %d tables free, want 1", len(f.e.sackFree))
	}
	checkSlab(t, f.e)
}

// TestSackTableOffsets: ranges are kept as offsets from the table's base,
// which follows S's cumulative ack; a block too far above the base for a
// 32-bit offset is ignored (no table taken), never wrapped.
func TestSackTableOffsets(t *testing.T) {
	e, err := New(Config{MaxConnections: 2, MaxSubflows: 2, SackTables: 1}, newTestAlloc(1))
	if err != nil {
		t.Fatal(err)
	}
	c := &e.conns[0]
	c.state = connEstablished
	c.sAck = header.DSN64(1) << 40
	c.c2sNxt = c.sAck + 1<<33
	if !e.takeSackTable(c) {
		t.Fatal("take from a full pool failed")
	}
	e.sackTabs[c.sackIdx].add(c, 100, 200)
	e.sackTabs[c.sackIdx].add(c, 300, 400)
	if got := e.sackedEnd(c, c.sAck+150); got != c.sAck+200 {
		t.Errorf("sackedEnd in the first range: %d, want %d", got-c.sAck, 200)
	}
	c.sAck += 250 // covers the first range: the base moves up to it
	e.sackedTrim(c)
	if t0 := e.sackTabs[c.sackIdx]; c.nsacked != 1 || t0.base != c.sAck || t0.r[0] != [2]uint32{50, 150} {
		t.Errorf("trim: %d ranges, base +%d, first %v", c.nsacked, t0.base-c.sAck, t0.r[0])
	}
	if got := e.sackedEnd(c, c.sAck+60); got != c.sAck+150 {
		t.Errorf("sackedEnd after the trim: %d, want 150", got-c.sAck)
	}
	e.putSackTable(c)
	if c.sackIdx != 0 || c.nsacked != 0 || len(e.sackFree) != 1 {
		t.Errorf("put: table %d ranges %d free %d", c.sackIdx, c.nsacked, len(e.sackFree))
	}
}

// TestConfigSackTables: the pool's size defaults to a quarter of the
// connections (at least one) and is checked at New.
func TestConfigSackTables(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
		want int
	}{
		{"default", Config{MaxConnections: 100}, true, 25},
		{"default small", Config{MaxConnections: 3}, true, 1},
		{"every connection", Config{MaxConnections: 10, SackTables: 10}, true, 10},
		{"too many", Config{MaxConnections: 10, SackTables: 11}, false, 0},
		{"negative", Config{MaxConnections: 10, SackTables: -1}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.cfg, newTestAlloc(1))
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok %v", err, tc.ok)
			}
			if err == nil && (e.cfg.SackTables != tc.want || len(e.sackFree) != tc.want || len(e.sackTabs) != tc.want+1) {
				t.Fatalf("sack tables %d (free %d, pool %d), want %d", e.cfg.SackTables, len(e.sackFree), len(e.sackTabs), tc.want)
			}
		})
	}
}

// TestSimulationSackPool runs the lossy closed loop, whose server SACKs
// out-of-order data, checking the SACKed-range pool after every
// millisecond: the connection took a table, never leaked or shared one,
// and after the close and linger every table is free.
func TestSimulationSackPool(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		m := newSim(t, seed, simLink{loss: 0.03, dup: 0.01, reorder: 0.2}, 150000, "minrtt", false)
		m.c.start()
		held := 0
		for m.now < 120e9 && !(m.c.done() && m.s.done()) {
			m.runFor(m.now+int64(1e6), true)
			checkSackPool(t, m.e)
			if m.e.conns[0].sackIdx != 0 || m.e.conns[1].sackIdx != 0 {
				held++
			}
		}
		if !m.c.done() || !m.s.done() {
			t.Fatalf("seed %d: transfer not done by t=%ds", seed, m.now/1e9)
		}
		if held == 0 {
			t.Errorf("seed %d: no connection ever held a SACKed-range table", seed)
		}
		m.e.Tick(m.now + int64(m.e.cfg.Linger) + int64(1e9))
		checkSlab(t, m.e)
		if m.e.ActiveConnections() != 0 || len(m.e.sackFree) != m.e.cfg.SackTables {
			t.Fatalf("seed %d: after close and linger: conns %d, %d of %d tables free", seed, m.e.ActiveConnections(), len(m.e.sackFree), m.e.cfg.SackTables)
		}
	}
}
