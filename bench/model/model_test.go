package model

import "testing"

// newEngineModel returns a model with an engine and every connection
// established.
func newEngineModel(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AttachEngine(m.EngineConfig()); err != nil {
		t.Fatal(err)
	}
	if err := m.EstablishAll(128); err != nil {
		t.Fatal(err)
	}
	if m.Ready() != cfg.Connections {
		t.Fatalf("%d of %d connections ready", m.Ready(), cfg.Connections)
	}
	return m
}

// checkExact stops the loop, drains it and checks that every byte each
// end sent was received in order, byte-exact, and acknowledged, and that
// the engine translated exactly those bytes.
func checkExact(t *testing.T, m *Model) {
	t.Helper()
	m.Stop()
	m.Drain()
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	var c2s, s2c uint64
	for ci := range m.conns {
		c := &m.conns[ci]
		if c.sRcv != c.cSnd || c.cUna != c.cSnd {
			t.Errorf("conn %d C->S: sent %d, server received %d, DATA_ACKed %d", ci, c.cSnd, c.sRcv, c.cUna)
		}
		if c.cRcv != c.sSnd || c.sUna != c.sSnd {
			t.Errorf("conn %d S->C: sent %d, client received %d, acked %d", ci, c.sSnd, c.cRcv, c.sUna)
		}
		c2s += c.cSnd
		s2c += c.sSnd
	}
	if m.Stats.Bytes[0] != c2s || m.Stats.Bytes[1] != s2c {
		t.Errorf("verified bytes %v, sent %d/%d", m.Stats.Bytes, c2s, s2c)
	}
	if (c2s == 0) != (m.cfg.Direction&C2S == 0) || (s2c == 0) != (m.cfg.Direction&S2C == 0) {
		t.Errorf("no data: %d/%d", c2s, s2c)
	}
	if e := m.Engine(); e != nil {
		cnt := e.Counters()
		if cnt.BytesC2S != c2s || cnt.BytesS2C != s2c {
			t.Errorf("engine translated %d/%d bytes, model sent %d/%d", cnt.BytesC2S, cnt.BytesS2C, c2s, s2c)
		}
		var drops uint64
		for _, d := range cnt.Drops {
			drops += d
		}
		if drops != 0 || cnt.JoinsAccepted != uint64(len(m.conns)*(m.cfg.Subflows-1)) {
			t.Errorf("engine drops %v, joins accepted %d", cnt.Drops, cnt.JoinsAccepted)
		}
	}
	if n := m.Pool().InUse(); n != 0 {
		t.Errorf("%d buffers still in use", n)
	}
}

// TestClosedLoopEngine: 8 connections x 2 subflows, both directions, a
// 64/1432-byte mix, through a real translate.Engine: zero model errors and
// exact byte counts at both ends.
func TestClosedLoopEngine(t *testing.T) {
	m := newEngineModel(t, Config{Connections: 8, Subflows: 2, Sizes: []int{64, 1432, 1432, 1432}, Direction: Both, Seed: 1})
	m.Start()
	m.RunBursts(4000)
	checkExact(t, m)
	// Mappings of 64 KB: the data crossed several of them, on both subflows.
	if m.conns[0].cSnd < 3*65535 {
		t.Errorf("only %d bytes per connection", m.conns[0].cSnd)
	}
	if st := m.Engine().Counters(); st.SegmentsC2S == 0 || st.SegmentsS2C == 0 {
		t.Errorf("counters %+v", st)
	}
}

// TestClosedLoopShapes runs other shapes: one direction, 4 subflows, odd
// ack ratios, a window that does not divide by the ack ratio.
func TestClosedLoopShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"c2s-1sub", Config{Connections: 3, Subflows: 1, Direction: C2S, Sizes: []int{1000}}},
		{"s2c-4sub", Config{Connections: 5, Subflows: 4, Direction: S2C, Sizes: []int{64, 700}, AckRatio: 3}},
		{"both-4sub-ack5", Config{Connections: 4, Subflows: 4, Direction: Both, Window: 7, AckRatio: 5}},
		{"small-maps", Config{Connections: 2, Subflows: 3, Direction: Both, MapSize: 3000, Sizes: []int{1432, 64}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newEngineModel(t, tc.cfg)
			m.Start()
			m.RunBursts(1500)
			checkExact(t, m)
		})
	}
}

// TestClosedLoopPassthrough: the same traffic without an engine, each end
// reading the other's sequence space directly.
func TestClosedLoopPassthrough(t *testing.T) {
	m, err := New(Config{Connections: 8, Subflows: 2, Sizes: []int{64, 1432, 1432, 1432}, Direction: Both, MapSize: 5000})
	if err != nil {
		t.Fatal(err)
	}
	m.EstablishRaw()
	m.Start()
	m.RunBursts(3000)
	checkExact(t, m)
}

// TestModelDetectsCorruption: a flipped payload byte or a wrong checksum
// is counted, not accepted.
func TestModelDetectsCorruption(t *testing.T) {
	m := newEngineModel(t, Config{Connections: 1, Subflows: 1, Direction: C2S, Sizes: []int{500}})
	m.Start()
	// Corrupt the first queued client segment's payload.
	p := &m.access.pkts[m.access.head]
	p.Buf[p.Off+p.Len-1] ^= 1
	m.RunBursts(10)
	if m.Stats.Errors[ErrPayload] == 0 {
		t.Fatalf("corruption not detected: %v", m.Err())
	}
}

// TestAllocsSteadyState: the model's steady-state packet generation,
// checking and engine loop allocate nothing.
func TestAllocsSteadyState(t *testing.T) {
	for _, engine := range []bool{true, false} {
		cfg := Config{Connections: 16, Subflows: 2, Sizes: []int{64, 1432}, Direction: Both}
		var m *Model
		if engine {
			m = newEngineModel(t, cfg)
		} else {
			m, _ = New(cfg)
			m.EstablishRaw()
		}
		m.Start()
		m.RunBursts(200)
		if n := testing.AllocsPerRun(100, func() { m.RunBursts(16) }); n != 0 {
			t.Errorf("engine=%v: %v allocs per 16 bursts", engine, n)
		}
		if err := m.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSetupAndRelease: connections set up in waves, released by the
// engine's timers, set up again on the same 4-tuples.
func TestSetupAndRelease(t *testing.T) {
	m := newEngineModel(t, Config{Connections: 300, Subflows: 2})
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}
	if err := m.EstablishAll(64); err != nil {
		t.Fatal(err)
	}
	if c := m.Engine().Counters(); c.JoinsAccepted != 600 || c.ConnOpened != 600 {
		t.Errorf("joins %d opened %d", c.JoinsAccepted, c.ConnOpened)
	}
}

func benchLoop(b *testing.B, engine bool) {
	cfg := Config{Connections: 1000, Subflows: 2, Sizes: []int{64, 1432, 1432, 1432}, Direction: Both}
	var m *Model
	if engine {
		m = newEngineModel(b, cfg)
	} else {
		m, _ = New(cfg)
		m.EstablishRaw()
	}
	m.Start()
	m.RunBursts(1000)
	m.ResetStats()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.RunBursts(1)
	}
	n := m.Stats.Packets[0] + m.Stats.Packets[1]
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/pkt")
	if engine {
		b.ReportMetric(float64(m.Stats.EngineNs[0]+m.Stats.EngineNs[1])/float64(n), "engine-ns/pkt")
	}
	if err := m.Err(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLoopEngine: the closed loop through a translate.Engine, 1000
// connections x 2 subflows, both directions, 64/1432-byte mix.
func BenchmarkLoopEngine(b *testing.B) { benchLoop(b, true) }

// BenchmarkLoopPassthrough: the same traffic, model only.
func BenchmarkLoopPassthrough(b *testing.B) { benchLoop(b, false) }
