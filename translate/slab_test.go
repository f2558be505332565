package translate

import (
	"testing"
	"time"

	"github.com/flexcp/flexcp/translate/header"
)

// TestJoinSlabFull: join subflows take slots from one slab of
// Config.JoinSubflows; when it is empty a join is refused with an RST
// carrying MP_TCPRST and counted as JoinTableFull, keeping no state
// (I17), and a slot freed by a join timeout serves the next join (I21).
func TestJoinSlabFull(t *testing.T) {
	// The fixture's connection already holds one join slot.
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, JoinSubflows: 2, DeadAfter: 1 << 62})
	_, c := f.connIdx()
	subs := f.e.ActiveSubflows()
	v, out := f.send(t, joinSynPkt(f, 50002, c.tokenP), Access, 1)
	if tcp, _ := checkOut(t, &out[0]); v != Forward || tcp.Flags() != header.TCPFlagSyn|header.TCPFlagAck || f.e.ActiveSubflows() != subs+1 {
		t.Fatalf("join into the last slot: %v flags %#x", v, tcp.Flags())
	}
	checkSlab(t, f.e)
	v, out = f.send(t, joinSynPkt(f, 50003, c.tokenP), Access, 1)
	tcp, o := checkOut(t, &out[0])
	if v != Forward || tcp.Flags()&header.TCPFlagRst == 0 || !o.mpRst || f.e.cnt.JoinsRejected[JoinTableFull] != 1 || f.e.ActiveSubflows() != subs+1 {
		t.Fatalf("I17: join with the slab empty: %v flags %#x mpRst %v rejected %v subflows %d",
			v, tcp.Flags(), o.mpRst, f.e.cnt.JoinsRejected, f.e.ActiveSubflows())
	}
	checkSlab(t, f.e)
	f.m.now += int64(f.e.cfg.JoinTimeout) + int64(20*time.Millisecond)
	f.e.Tick(f.m.now)
	if f.e.ActiveSubflows() != subs || f.e.cnt.JoinsRejected[JoinTimeout] != 1 {
		t.Fatalf("I21: pending join not released: subflows %d rejected %v", f.e.ActiveSubflows(), f.e.cnt.JoinsRejected)
	}
	checkSlab(t, f.e)
	v, out = f.send(t, joinSynPkt(f, 50004, c.tokenP), Access, 1)
	if tcp, _ := checkOut(t, &out[0]); v != Forward || tcp.Flags() != header.TCPFlagSyn|header.TCPFlagAck {
		t.Fatalf("join after a slot was freed: %v flags %#x", v, tcp.Flags())
	}
	checkSlab(t, f.e)
}

// TestConfigJoinSubflows: the join slab's bound is checked at New.
func TestConfigJoinSubflows(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
		want int // JoinSubflows after defaults
	}{
		{"default", Config{MaxConnections: 10, MaxSubflows: 4}, true, 10},
		{"one subflow", Config{MaxConnections: 10, MaxSubflows: 1}, true, 0},
		{"two subflows", Config{MaxConnections: 10, MaxSubflows: 2}, true, 10},
		{"every slot", Config{MaxConnections: 10, MaxSubflows: 4, JoinSubflows: 30}, true, 30},
		{"too many", Config{MaxConnections: 10, MaxSubflows: 4, JoinSubflows: 31}, false, 0},
		{"negative", Config{MaxConnections: 10, MaxSubflows: 4, JoinSubflows: -1}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.cfg, newTestAlloc(1))
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok %v", err, tc.ok)
			}
			if err == nil && (e.cfg.JoinSubflows != tc.want || len(e.joinFree) != tc.want) {
				t.Fatalf("join subflows %d (free %d), want %d", e.cfg.JoinSubflows, len(e.joinFree), tc.want)
			}
		})
	}
}
