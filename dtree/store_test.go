package dtree

import (
	"strings"
	"testing"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		wantCap int
	}{
		{"small rounds to a power of two", Config{Trees: 1, Records: 5}, "", 8},
		{"minimum block", Config{Trees: 1, Records: 1}, "", 4},
		{"large rounds to whole top blocks", Config{Trees: 1, Records: MaxRingMappings + 1}, "", 2 * MaxRingMappings},
		{"no trees", Config{Trees: 0, Records: 8}, "Trees = 0", 0},
		{"no records", Config{Trees: 1, Records: 0}, "Records = 0", 0},
		{"too many records", Config{Trees: 1, Records: 1<<30 + 1}, "want 1..1073741824", 0},
		{"too many subflows", Config{Trees: 1, Records: 8, Subflows: MaxSubflows + 1}, "Subflows = 9", 0},
		{"negative subflows", Config{Trees: 1, Records: 8, Subflows: -1}, "Subflows = -1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%+v) error = %v, want %q", tt.cfg, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Capacity() != tt.wantCap || s.Used() != 0 {
				t.Errorf("Capacity = %d, Used = %d; want %d, 0", s.Capacity(), s.Used(), tt.wantCap)
			}
		})
	}
}

// TestSubflowsBound: a store for Config.Subflows ids accepts ids below
// it and answers Invalid (or nothing) for the others, in both kinds of
// tree, and its trees keep their subflows apart.
func TestSubflowsBound(t *testing.T) {
	s, err := New(Config{Trees: 4, Records: 64, Subflows: 2})
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := s.NewClient()
	cm2, _ := s.NewClient()
	pm, _ := s.NewProxy()
	if v := s.ClientInsert(cm, 1, 1, 1000, 10); v != Inserted {
		t.Fatalf("client insert on id 1 = %v, want inserted", v)
	}
	if v := s.ClientInsert(cm2, 1, 1, 5000, 10); v != Inserted {
		t.Fatalf("second tree's insert on id 1 = %v, want inserted", v)
	}
	if v := s.ClientInsert(cm, 2, 1, 2000, 10); v != Invalid {
		t.Fatalf("client insert on id 2 = %v, want invalid", v)
	}
	if d, n, ok := s.ClientLookup(cm, 1, 1, 10); !ok || d != 1000 || n != 10 {
		t.Fatalf("lookup = %d, %d, %v; want 1000, 10, true", d, n, ok)
	}
	if _, _, ok := s.ClientLookup(cm, 2, 1, 10); ok {
		t.Fatal("lookup on id 2 found a mapping")
	}
	if _, ok := s.ClientAcked(cm, 2, 0); ok {
		t.Fatal("ClientAcked on id 2 answered")
	}
	if v := s.ProxyInsert(pm, 100, 1, 1, 10); v != Inserted {
		t.Fatalf("proxy insert on id 1 = %v, want inserted", v)
	}
	if v := s.ProxyInsert(pm, 110, 2, 1, 10); v != Invalid {
		t.Fatalf("proxy insert on id 2 = %v, want invalid", v)
	}
	if s.ClientLen(cm) != 1 || s.ClientLen(cm2) != 1 || s.ProxyLen(pm) != 1 {
		t.Fatalf("lens %d %d %d, want 1 1 1", s.ClientLen(cm), s.ClientLen(cm2), s.ProxyLen(pm))
	}
	s.ReleaseClient(cm)
	s.ReleaseClient(cm2)
	s.ReleaseProxy(pm)
	if s.Used() != 0 || s.Trees() != 0 {
		t.Fatalf("after release: Used %d, Trees %d", s.Used(), s.Trees())
	}
	// A reused tree starts without the old floors or rings.
	cm3, _ := s.NewClient()
	if v := s.ClientInsert(cm3, 1, 1, 1000, 10); v != Inserted {
		t.Fatalf("insert into a reused tree = %v, want inserted", v)
	}
}

func TestVerdictString(t *testing.T) {
	tests := []struct {
		v    Verdict
		want string
	}{{Inserted, "inserted"}, {Duplicate, "duplicate"}, {Conflict, "conflict"}, {Old, "old"}, {Full, "full"}, {Invalid, "invalid"}, {Verdict(99), "unknown"}}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("Verdict(%d).String() = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestCapacity(t *testing.T) {
	// 8 records: a ProxyMap's first mapping takes a 4-record block for the
	// subflow index and one for the DSN index.
	s := newStore(t, 2, 8)
	m, _ := s.NewProxy()
	for i := uint32(0); i < 4; i++ {
		if v := s.ProxyInsert(m, uint64(1000+100*i), 0, 100*i, 100); v != Inserted {
			t.Fatalf("insert %d = %v", i, v)
		}
	}
	if v := s.ProxyInsert(m, 1400, 0, 400, 100); v != Full {
		t.Fatalf("insert into a full store = %v, want full", v)
	}
	if v := s.ProxyInsert(m, 1400, 1, 0, 100); v != Full {
		t.Fatalf("insert on a new subflow of a full store = %v, want full", v)
	}
	c, ok := s.NewClient()
	if !ok {
		t.Fatal("NewClient failed with a free tree header")
	}
	if v := s.ClientInsert(c, 0, 1, 1, 1); v != Full {
		t.Fatalf("ClientInsert into a full store = %v, want full", v)
	}
	if _, ok := s.NewProxy(); ok {
		t.Fatal("NewProxy succeeded with every tree header in use")
	}
	// Trimming frees room.
	s.ProxyTrim(m, 1400)
	s.ProxyTrimSubflow(m, 0, 400) // nothing left; the ring keeps its smallest block
	if v := s.ClientInsert(c, 0, 1, 1, 1); v != Full {
		t.Fatalf("ClientInsert with both blocks still held = %v, want full", v)
	}
	s.ReleaseProxy(m)
	if v := s.ClientInsert(c, 0, 1, 1, 1); v != Inserted {
		t.Fatalf("ClientInsert after release = %v, want inserted", v)
	}
	s.ReleaseClient(c)
	if s.Used() != 0 || s.Trees() != 0 {
		t.Fatalf("Used = %d, Trees = %d after releasing everything", s.Used(), s.Trees())
	}
	if s.sl.free[s.sl.top] == nilIdx {
		t.Fatal("freed buddies did not merge back into the top block")
	}
}

func TestRingMaximum(t *testing.T) {
	s := newStore(t, 1, 2*MaxRingMappings)
	m, _ := s.NewClient()
	for i := uint32(0); i < MaxRingMappings; i++ {
		// A DSN jump between neighbours keeps them from merging.
		if v := s.ClientInsert(m, 0, 2*i, uint64(4*i), 1); v != Inserted {
			t.Fatalf("insert %d = %v", i, v)
		}
	}
	if v := s.ClientInsert(m, 0, 2*MaxRingMappings, 0, 1); v != Full {
		t.Fatalf("insert past MaxRingMappings = %v, want full", v)
	}
	if v := s.ClientInsert(m, 1, 0, 0, 1); v != Inserted {
		t.Fatalf("another subflow = %v, want inserted", v)
	}
	s.ClientTrim(m, 0, 1<<40, 2*MaxRingMappings-2)
	if got := s.ClientLen(m); got != 2 {
		t.Fatalf("after trim: ClientLen = %d, want 2", got)
	}
	if got := s.Used(); got != 2*(1<<minOrder) {
		t.Fatalf("after trim: Used = %d, want the rings shrunk to %d", got, 2*(1<<minOrder))
	}
}

func TestReleaseReuse(t *testing.T) {
	s := newStore(t, 1, 64)
	m, ok := s.NewClient()
	if !ok || !m.Valid() {
		t.Fatal("NewClient failed")
	}
	if (ClientMap{}).Valid() || (ProxyMap{}).Valid() {
		t.Fatal("zero handles report valid")
	}
	s.ClientInsert(m, 0, 1, 1, 10)
	s.ReleaseClient(m)
	p, ok := s.NewProxy()
	if !ok {
		t.Fatal("NewProxy after release failed")
	}
	if p.h.idx != m.h.idx {
		t.Fatalf("tree header not reused: %d then %d", m.h.idx, p.h.idx)
	}
	if s.ProxyLen(p) != 0 {
		t.Fatal("reused tree not empty")
	}
	panics := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != errStale {
				t.Errorf("%s: recovered %v, want errStale", name, r)
			}
		}()
		f()
	}
	panics("released handle", func() { s.ClientLookup(m, 0, 1, 1) })
	panics("zero handle", func() { s.ProxyLen(ProxyMap{}) })
	panics("double release", func() { s.ReleaseClient(m) })
	panics("handle of the wrong kind", func() { s.ClientLen(ClientMap{p.h}) })
}

// TestAllocs checks that every hot operation allocates nothing in steady
// state.
func TestAllocs(t *testing.T) {
	s := newStore(t, 2, 1<<12)
	c, _ := s.NewClient()
	p, _ := s.NewProxy()
	pieces := make([]Piece, 4)
	ranges := make([]Range, 4)
	var ssn uint32
	var dsn uint64
	tests := []struct {
		name string
		f    func()
	}{
		{"ClientInsert+Trim", func() {
			s.ClientInsert(c, 0, ssn, dsn, 1400)
			s.ClientInsert(c, 1, ssn, dsn+1<<20, 1400)
			s.ClientTrim(c, 0, dsn, ssn)
			s.ClientTrim(c, 1, dsn+1<<20, ssn)
			ssn += 1400
			dsn += 1400
		}},
		{"ClientLookup", func() { s.ClientLookup(c, 0, ssn-700, 1400) }},
		{"ClientAcked", func() { s.ClientAcked(c, 0, dsn-100) }},
		{"ProxyInsert+Trim", func() {
			s.ProxyInsert(p, dsn, uint8(ssn/1400%2), ssn, 1400)
			s.ProxyTrim(p, dsn-1400*20)
			s.ProxyTrimSubflow(p, 0, ssn-1400*20)
			ssn += 1400
			dsn += 1400
		}},
		{"ProxyPieces", func() { s.ProxyPieces(p, dsn-1400*10-700, 2800, pieces) }},
		{"ProxySACK", func() { s.ProxySACK(p, 0, ssn-1400*10, 5000, ranges) }},
		{"ProxyOwner", func() { s.ProxyOwner(p, dsn-1400*5) }},
	}
	for _, tt := range tests {
		tt.f() // warm up: rings reach their steady size
		if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
		}
	}
	if got := s.ProxyLen(p); got == 0 {
		t.Fatal("the steady state under test is empty")
	}
}
