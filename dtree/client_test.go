package dtree

import "testing"

func newStore(t testing.TB, trees, records int) *Store {
	t.Helper()
	s, err := New(Config{Trees: trees, Records: records})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	wrap32 = 1 << 32
	top64  = ^uint64(0)
)

// cIns is one ClientInsert and its expected verdict.
type cIns struct {
	sub  uint8
	ssn  uint32
	dsn  uint64
	n    uint32
	want Verdict
}

// cLook is one ClientLookup and its expected answer.
type cLook struct {
	sub     uint8
	ssn     uint32
	n       uint32
	dsn     uint64
	covered uint32
	ok      bool
}

func TestClientInsertLookup(t *testing.T) {
	tests := []struct {
		name    string
		in      []cIns
		wantLen int
		look    []cLook
	}{
		{
			name:    "one mapping",
			in:      []cIns{{0, 1000, 5000, 100, Inserted}},
			wantLen: 1,
			look: []cLook{
				{0, 1000, 50, 5000, 50, true},
				{0, 1050, 100, 5050, 50, true},
				{0, 1099, 1, 5099, 1, true},
				{0, 1100, 1, 0, 0, false},
				{0, 999, 10, 0, 0, false},
				{1, 1000, 10, 0, 0, false},
				{MaxSubflows, 1000, 10, 0, 0, false},
			},
		},
		{
			name:    "identical mapping twice is a duplicate",
			in:      []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1000, 5000, 100, Duplicate}, {0, 1020, 5020, 10, Duplicate}},
			wantLen: 1,
		},
		{
			name:    "overlap with another DSN conflicts",
			in:      []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1050, 9999, 100, Conflict}, {0, 900, 4000, 101, Conflict}},
			wantLen: 1,
			look:    []cLook{{0, 1050, 200, 5050, 50, true}, {0, 1100, 1, 0, 0, false}},
		},
		{
			name:    "consistent overlap extends",
			in:      []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1050, 5050, 100, Inserted}, {0, 950, 4950, 100, Inserted}},
			wantLen: 1,
			look:    []cLook{{0, 950, 1000, 4950, 200, true}},
		},
		{
			name:    "touching consistent mappings merge, in either order",
			in:      []cIns{{0, 1100, 5100, 100, Inserted}, {0, 1000, 5000, 100, Inserted}, {0, 1200, 5200, 100, Inserted}},
			wantLen: 1,
			look:    []cLook{{0, 1000, 1000, 5000, 300, true}},
		},
		{
			name:    "filling a gap merges both sides",
			in:      []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1200, 5200, 100, Inserted}, {0, 1100, 5100, 100, Inserted}},
			wantLen: 1,
			look:    []cLook{{0, 1010, 1000, 5010, 290, true}},
		},
		{
			name:    "touching mappings with a DSN jump stay apart",
			in:      []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1100, 9000, 100, Inserted}},
			wantLen: 2,
			look:    []cLook{{0, 1050, 1000, 5050, 50, true}, {0, 1100, 1000, 9000, 100, true}},
		},
		{
			name: "subflows are independent; the same DSN on two subflows (client retransmission)",
			in: []cIns{
				{0, 1000, 5000, 100, Inserted}, {1, 1000, 7000, 100, Inserted},
				{1, 2000, 5000, 100, Inserted}, {7, 1, 1, 1, Inserted},
			},
			wantLen: 4,
			look:    []cLook{{0, 1000, 10, 5000, 10, true}, {1, 1000, 10, 7000, 10, true}, {1, 2000, 10, 5000, 10, true}, {7, 1, 5, 1, 1, true}},
		},
		{
			name:    "SSN wraps inside a mapping",
			in:      []cIns{{2, wrap32 - 50, 5000, 100, Inserted}, {2, 50, 5100, 10, Inserted}},
			wantLen: 1,
			look:    []cLook{{2, wrap32 - 1, 100, 5049, 61, true}, {2, 10, 100, 5060, 50, true}, {2, 60, 1, 0, 0, false}},
		},
		{
			name:    "DSN wraps inside a mapping",
			in:      []cIns{{0, 1000, top64 - 29, 100, Inserted}},
			wantLen: 1,
			look:    []cLook{{0, 1040, 10, 10, 10, true}, {0, 1029, 2, top64, 2, true}},
		},
		{
			name: "invalid arguments",
			in: []cIns{
				{MaxSubflows, 1, 1, 1, Invalid}, {0, 1, 1, 0, Invalid}, {0, 1, 1, MaxMappingLen + 1, Invalid},
				{0, 1, 1, MaxMappingLen, Inserted},
			},
			wantLen: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 1, 256)
			m, ok := s.NewClient()
			if !ok {
				t.Fatal("NewClient failed")
			}
			for _, in := range tt.in {
				if got := s.ClientInsert(m, in.sub, in.ssn, in.dsn, in.n); got != in.want {
					t.Errorf("ClientInsert(%d, %d, %d, %d) = %v, want %v", in.sub, in.ssn, in.dsn, in.n, got, in.want)
				}
			}
			if got := s.ClientLen(m); got != tt.wantLen {
				t.Errorf("ClientLen = %d, want %d", got, tt.wantLen)
			}
			for _, l := range tt.look {
				d, c, ok := s.ClientLookup(m, l.sub, l.ssn, l.n)
				if d != l.dsn || c != l.covered || ok != l.ok {
					t.Errorf("ClientLookup(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", l.sub, l.ssn, l.n, d, c, ok, l.dsn, l.covered, l.ok)
				}
			}
		})
	}
}

func TestClientAckedTrim(t *testing.T) {
	// step is a ClientAcked check, a ClientTrim, an insert or a lookup.
	type step struct {
		op      string // "acked", "trim", "insert", "look", "drop"
		sub     uint8
		dataAck uint64
		ssn     uint32 // acked: want; trim: ssnAck; insert/look: start
		ok      bool   // acked: want ok
		dsn     uint64 // insert: start; look: want
		n       uint32 // insert/look
		want    Verdict
		wantLen int // after the step
	}
	// Subflow 0: [1000,1100) -> 5000, [1100,1200) -> 5200.
	// Subflow 1: [7000,7100) -> 5100 (the client moved data between subflows).
	base := []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1100, 5200, 100, Inserted}, {1, 7000, 5100, 100, Inserted}}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "acked follows the data-level ack through the mappings",
			steps: []step{
				{op: "acked", sub: 0, dataAck: 4000, ssn: 1000, ok: true, wantLen: 3},
				{op: "acked", sub: 0, dataAck: 5050, ssn: 1050, ok: true, wantLen: 3},
				{op: "acked", sub: 0, dataAck: 5150, ssn: 1100, ok: true, wantLen: 3},
				{op: "acked", sub: 1, dataAck: 5150, ssn: 7050, ok: true, wantLen: 3},
				{op: "acked", sub: 0, dataAck: 5300, ssn: 1200, ok: true, wantLen: 3},
				{op: "acked", sub: 0, dataAck: 9999, ssn: 1200, ok: true, wantLen: 3},
				{op: "acked", sub: 2, dataAck: 9999, ok: false, wantLen: 3},
			},
		},
		{
			name: "trim drops what both acks cover and sets the floor",
			steps: []step{
				{op: "trim", sub: 0, dataAck: 5150, ssn: 1100, wantLen: 2},
				{op: "look", sub: 0, ssn: 1050, n: 1, ok: false, wantLen: 2},
				{op: "insert", sub: 0, ssn: 1000, dsn: 5000, n: 100, want: Old, wantLen: 2},
				// Clipped to 1100 -> 5100, which conflicts with 1100 -> 5200.
				{op: "insert", sub: 0, ssn: 1050, dsn: 5050, n: 100, want: Conflict, wantLen: 2},
				{op: "insert", sub: 0, ssn: 1050, dsn: 5150, n: 100, want: Duplicate, wantLen: 2},
				{op: "acked", sub: 0, dataAck: 5150, ssn: 1100, ok: true, wantLen: 2},
			},
		},
		{
			name: "trim cuts into a mapping at the first unacked byte",
			steps: []step{
				{op: "trim", sub: 1, dataAck: 5150, ssn: 7075, wantLen: 3},
				{op: "look", sub: 1, ssn: 7049, n: 1, ok: false, wantLen: 3},
				{op: "look", sub: 1, ssn: 7050, n: 100, ok: true, dsn: 5150, wantLen: 3},
				{op: "acked", sub: 1, dataAck: 5150, ssn: 7050, ok: true, wantLen: 3},
			},
		},
		{
			name: "trim below the subflow ack only; floor never moves back",
			steps: []step{
				{op: "trim", sub: 0, dataAck: 9999, ssn: 1150, wantLen: 2},
				{op: "look", sub: 0, ssn: 1150, n: 50, ok: true, dsn: 5250, wantLen: 2},
				{op: "trim", sub: 0, dataAck: 9999, ssn: 1120, wantLen: 2},
				{op: "look", sub: 0, ssn: 1150, n: 50, ok: true, dsn: 5250, wantLen: 2},
				{op: "trim", sub: 0, dataAck: 9999, ssn: 1300, wantLen: 1},
				{op: "acked", sub: 0, dataAck: 9999, ssn: 1300, ok: true, wantLen: 1},
				{op: "insert", sub: 0, ssn: 1250, dsn: 5350, n: 100, want: Inserted, wantLen: 2},
				{op: "look", sub: 0, ssn: 1299, n: 100, ok: false, wantLen: 2},
				{op: "look", sub: 0, ssn: 1300, n: 100, ok: true, dsn: 5400, wantLen: 2},
			},
		},
		{
			name: "drop forgets the subflow and its floor",
			steps: []step{
				{op: "trim", sub: 0, dataAck: 9999, ssn: 1200, wantLen: 1},
				{op: "drop", sub: 0, wantLen: 1},
				{op: "acked", sub: 0, dataAck: 9999, ok: false, wantLen: 1},
				{op: "insert", sub: 0, ssn: 1000, dsn: 8000, n: 100, want: Inserted, wantLen: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 1, 256)
			m, _ := s.NewClient()
			for _, in := range base {
				if got := s.ClientInsert(m, in.sub, in.ssn, in.dsn, in.n); got != in.want {
					t.Fatalf("setup ClientInsert = %v", got)
				}
			}
			for i, st := range tt.steps {
				switch st.op {
				case "acked":
					x, ok := s.ClientAcked(m, st.sub, st.dataAck)
					if x != st.ssn || ok != st.ok {
						t.Errorf("step %d: ClientAcked(%d, %d) = %d, %v; want %d, %v", i, st.sub, st.dataAck, x, ok, st.ssn, st.ok)
					}
				case "trim":
					s.ClientTrim(m, st.sub, st.dataAck, st.ssn)
				case "insert":
					if got := s.ClientInsert(m, st.sub, st.ssn, st.dsn, st.n); got != st.want {
						t.Errorf("step %d: ClientInsert = %v, want %v", i, got, st.want)
					}
				case "look":
					d, _, ok := s.ClientLookup(m, st.sub, st.ssn, st.n)
					if ok != st.ok || ok && d != st.dsn {
						t.Errorf("step %d: ClientLookup(%d, %d) = %d, %v; want %d, %v", i, st.sub, st.ssn, d, ok, st.dsn, st.ok)
					}
				case "drop":
					s.ClientDrop(m, st.sub)
				}
				if got := s.ClientLen(m); got != st.wantLen {
					t.Errorf("step %d (%s): ClientLen = %d, want %d", i, st.op, got, st.wantLen)
				}
			}
		})
	}
}

// TestClientWrapAck checks acked and trim when both the SSN and the DSN
// wrap inside one mapping.
func TestClientWrapAck(t *testing.T) {
	s := newStore(t, 1, 64)
	m, _ := s.NewClient()
	if v := s.ClientInsert(m, 3, wrap32-10, top64-4, 40); v != Inserted {
		t.Fatalf("ClientInsert = %v", v)
	}
	tests := []struct {
		name    string
		dataAck uint64
		want    uint32
	}{
		{"before the mapping", top64 - 100, wrap32 - 10},
		{"before both wraps", top64 - 1, wrap32 - 7},
		{"DSN wrapped, SSN not", 3, wrap32 - 2},
		{"both wrapped", 20, 15},
		{"everything", 1000, 30},
	}
	for _, tt := range tests {
		x, ok := s.ClientAcked(m, 3, tt.dataAck)
		if !ok || x != tt.want {
			t.Errorf("%s: ClientAcked(%d) = %d, %v; want %d", tt.name, tt.dataAck, x, ok, tt.want)
		}
	}
	s.ClientTrim(m, 3, 20, wrap32-1)
	if d, n, ok := s.ClientLookup(m, 3, wrap32-1, 100); !ok || d != 4 || n != 31 {
		t.Errorf("after trim: ClientLookup = %d, %d, %v; want 4, 31, true", d, n, ok)
	}
	if v := s.ClientInsert(m, 3, wrap32-10, top64-4, 5); v != Old {
		t.Errorf("insert below the wrapped floor = %v, want old", v)
	}
}

// TestClientAckedMemo: ClientAcked's memo never answers across a change
// to a ClientMap or for another tree, subflow or dataAck.
func TestClientAckedMemo(t *testing.T) {
	s := newStore(t, 4, 64)
	a, _ := s.NewClient()
	b, _ := s.NewClient()
	mustInsert := func(m ClientMap, sub uint8, ssn uint32, dsn uint64, n uint32) {
		t.Helper()
		if v := s.ClientInsert(m, sub, ssn, dsn, n); v != Inserted {
			t.Fatalf("insert = %v", v)
		}
	}
	acked := func(m ClientMap, sub uint8, dataAck uint64, want uint32, wantOK bool) {
		t.Helper()
		for range 2 { // the second answer comes from the memo
			if x, ok := s.ClientAcked(m, sub, dataAck); x != want || ok != wantOK {
				t.Fatalf("ClientAcked(sub %d, %d) = %d, %v; want %d, %v", sub, dataAck, x, ok, want, wantOK)
			}
		}
	}
	mustInsert(a, 0, 1, 1000, 100)
	mustInsert(b, 0, 1, 5000, 10)
	acked(a, 0, 1000, 1, true)
	acked(a, 0, 1050, 51, true)
	acked(a, 0, 2000, 101, true) // all acknowledged: the end of the last mapping
	acked(b, 0, 2000, 1, true)   // another tree
	acked(a, 1, 2000, 0, false)  // another subflow
	mustInsert(a, 0, 101, 1100, 50)
	acked(a, 0, 2000, 151, true) // the insert changed the answer
	mustInsert(a, 1, 1, 1150, 10)
	acked(a, 1, 2000, 11, true)
	s.ClientTrim(a, 0, 2000, 151)
	acked(a, 0, 2000, 151, true) // from the floor now
	s.ClientDrop(a, 0)
	acked(a, 0, 2000, 0, false)
	s.ReleaseClient(b)
	c, _ := s.NewClient() // may reuse b's header, with a new generation
	acked(c, 0, 2000, 0, false)
}
