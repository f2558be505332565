package translate

import "testing"

// recObserver records SubflowObserver calls; refuse makes JoinAdded
// return false.
type recObserver struct {
	added, removed []FlowTuple
	refuse         bool
}

func (r *recObserver) JoinAdded(t FlowTuple) bool {
	r.added = append(r.added, t)
	return !r.refuse
}

func (r *recObserver) JoinRemoved(t FlowTuple) { r.removed = append(r.removed, t) }

// TestSubflowObserver: the observer learns the join subflow's 4-tuple
// (client to server, as the client sends it) when the join SYN creates its
// state, and again when the connection's release frees it; subflow 0 is
// never reported.
func TestSubflowObserver(t *testing.T) {
	obs := &recObserver{}
	f := newFixtureCfg(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Subflows: obs})
	if len(obs.added) != 1 || len(obs.removed) != 0 {
		t.Fatalf("after the join: added %v, removed %v; want one addition", obs.added, obs.removed)
	}
	got := obs.added[0]
	if [4]byte(got.Client[:4]) != simC1 || [4]byte(got.Server[:4]) != simS || got.ServerPort != 5201 || got.V6 || got.ClientPort == 0 {
		t.Errorf("added tuple %+v, want %v:* -> %v:5201", got, simC1, simS)
	}
	ci, _ := f.connIdx()
	f.e.release(ci)
	if len(obs.removed) != 1 || obs.removed[0] != got {
		t.Errorf("after release: removed %v, want [%+v]", obs.removed, got)
	}
}

// TestSubflowObserverRefuses: a join the observer refuses is answered with
// an RST and counted as JoinTableFull, and leaves no subflow state.
func TestSubflowObserverRefuses(t *testing.T) {
	obs := &recObserver{refuse: true}
	m := newSimCfg(t, 1, simLink{}, 0, false, false, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62, Subflows: obs})
	m.c.noClose = true
	m.c.start()
	m.runFor(int64(50e6), false)
	if len(obs.added) == 0 || m.e.cnt.JoinsAccepted != 0 || m.e.cnt.JoinsRejected[JoinTableFull] == 0 {
		t.Fatalf("added %d, accepted %d, rejected (table full) %d; want the join refused", len(obs.added), m.e.cnt.JoinsAccepted, m.e.cnt.JoinsRejected[JoinTableFull])
	}
	if m.e.ActiveSubflows() != 1 || len(obs.removed) != 0 {
		t.Errorf("active subflows %d, removed %d; want subflow 0 alone and no removal of a refused join", m.e.ActiveSubflows(), len(obs.removed))
	}
}
