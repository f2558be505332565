package model

import (
	"cmp"
	"slices"
	"testing"

	"github.com/flexcp/flexcp/translate"
)

// extLink plays what flexcp-pktgen's dataplane mode puts between an
// External model and the translator: every round, all packets the model
// sent go through an engine the model does not own, one "port" (subflow
// or core side) after another in reverse order, so subflows overtake one
// another; what comes out is handed back sorted by OrderKey.
type extLink struct {
	m      *Model
	eng    *translate.Engine
	epool  *Pool // the engine's own buffers (emitted packets)
	take   []translate.Packet
	byPort [MaxSubflows + 1][]translate.Packet
	out    []translate.Packet
	fromM  []bool // out[i]'s buffer is the model's (else the engine's)
	vs     []translate.Verdict
	now    int64
}

func newExtLink(t *testing.T, cfg Config) *extLink {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.External()
	l := &extLink{m: m, epool: NewPool(1 << 14), take: make([]translate.Packet, 64), vs: make([]translate.Verdict, 1)}
	if l.eng, err = translate.New(m.EngineConfig(), l.epool); err != nil {
		t.Fatal(err)
	}
	return l
}

// round carries everything queued through the engine and back.
func (l *extLink) round(t *testing.T) {
	l.now += int64(tickEvery)
	for _, side := range []translate.Side{translate.Access, translate.Core} {
		for {
			k := l.m.TakeOut(side, l.take)
			if k == 0 {
				break
			}
			for _, p := range l.take[:k] {
				port := MaxSubflows
				if side == translate.Access {
					port = int(p.Buf[p.Off+14]) / 32
				}
				l.byPort[port] = append(l.byPort[port], p)
			}
		}
	}
	for port := len(l.byPort) - 1; port >= 0; port-- {
		for i := range l.byPort[port] {
			one := l.byPort[port][i : i+1]
			l.vs[0] = 0
			l.eng.ProcessBurst(l.now, one, l.vs)
			p := one[0]
			switch l.vs[0] {
			case translate.Forward:
				l.out, l.fromM = append(l.out, p), append(l.fromM, true)
			case translate.Consumed:
				l.m.Free(&p)
			default:
				t.Fatalf("engine verdict %v on a model packet", l.vs[0])
			}
			for _, e := range l.eng.Emitted() {
				l.out, l.fromM = append(l.out, e), append(l.fromM, false)
			}
			l.eng.ClearEmitted()
		}
		l.byPort[port] = l.byPort[port][:0]
	}
	l.eng.Tick(l.now)
	type item struct {
		i       int
		side    translate.Side
		ci      int
		off     int64
		fromMod bool
	}
	items := make([]item, len(l.out))
	for i := range l.out {
		ci, off := l.m.OrderKey(&l.out[i])
		items[i] = item{i, l.out[i].Side, ci, off, l.fromM[i]}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.side, b.side), cmp.Compare(a.ci, b.ci), cmp.Compare(a.off, b.off))
	})
	for _, it := range items {
		p := l.out[it.i]
		l.m.Receive(&p)
		if it.fromMod {
			l.m.Free(&p)
		} else {
			l.epool.Free(&p)
		}
	}
	l.out, l.fromM = l.out[:0], l.fromM[:0]
	l.m.SendJoins()
	if l.m.Queued() == 0 {
		l.m.Poll()
	}
	if err := l.m.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestExternalStreamsValid: driven from outside with subflows reordered
// against each other, as the dataplane mode does, the model's client and
// server accept everything the translator emits, byte-exact, in both
// directions and at full-size and 1460-byte payloads (MTU 1528).
func TestExternalStreamsValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"64B 3 subflows", Config{Connections: 40, Subflows: 3, Sizes: []int{64}, Seed: 1}},
		{"1432B 2 subflows", Config{Connections: 40, Subflows: 2, Sizes: []int{1432}, MapSize: 8000, Seed: 2}},
		{"1460B MTU 1528", Config{Connections: 20, Subflows: 2, Sizes: []int{1460, 100}, MTU: 1528, MapSize: 5000, Seed: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newExtLink(t, tc.cfg)
			m := l.m
			m.Open(0, m.Connections())
			for i := 0; i < 20 && m.Ready() < m.Connections(); i++ {
				l.round(t)
			}
			if m.Ready() != m.Connections() {
				t.Fatalf("%d of %d connections established", m.Ready(), m.Connections())
			}
			m.Start()
			for i := 0; i < 200; i++ {
				l.round(t)
			}
			m.Stop()
			for i := 0; i < 50 && (m.Queued() > 0 || m.owesAcks()); i++ {
				l.round(t)
			}
			checkExact(t, m)
			cnt := l.eng.Counters()
			if cnt.BytesC2S != m.Stats.Bytes[0] || cnt.BytesS2C != m.Stats.Bytes[1] {
				t.Errorf("engine translated %d/%d bytes, model verified %v", cnt.BytesC2S, cnt.BytesS2C, m.Stats.Bytes)
			}
			if m.Stats.Bytes[0] == 0 || m.Stats.Bytes[1] == 0 {
				t.Errorf("no data: %v", m.Stats.Bytes)
			}
			for r, d := range cnt.Drops {
				if d != 0 {
					t.Errorf("engine drop reason %d: %d", r, d)
				}
			}
		})
	}
}

// TestExternalJoinsWaitForThirdAck: a connection's join SYN leaves only
// in the round after the one that queued its third ACK, so the translator
// has the third ACK (key_C) before the join arrives on another port.
func TestExternalJoinsWaitForThirdAck(t *testing.T) {
	l := newExtLink(t, Config{Connections: 1, Subflows: 2, Seed: 4})
	m := l.m
	c := &m.conns[0]
	m.Open(0, 1)
	ackRound, joinRound := -1, -1
	for r := 0; r < 10 && m.Ready() == 0; r++ {
		l.round(t)
		if ackRound < 0 && c.cState >= 2 {
			ackRound = r
		}
		if joinRound < 0 && c.sub[1].state != subNone {
			joinRound = r
		}
	}
	if m.Ready() != 1 {
		t.Fatalf("not established after 10 rounds")
	}
	if ackRound < 0 || joinRound != ackRound+1 {
		t.Errorf("third ACK queued in round %d, join SYN in round %d; want the round after", ackRound, joinRound)
	}
	for r, d := range l.eng.Counters().Drops {
		if d != 0 {
			t.Errorf("engine drop reason %d: %d", r, d)
		}
	}
}
