package dtree

import (
	"slices"
	"testing"
)

// pIns is one ProxyInsert and its expected verdict.
type pIns struct {
	dsn  uint64
	sub  uint8
	ssn  uint32
	n    uint32
	want Verdict
}

func newProxy(t *testing.T, s *Store, in []pIns) ProxyMap {
	t.Helper()
	m, ok := s.NewProxy()
	if !ok {
		t.Fatal("NewProxy failed")
	}
	for _, x := range in {
		if got := s.ProxyInsert(m, x.dsn, x.sub, x.ssn, x.n); got != x.want {
			t.Fatalf("ProxyInsert(%d, %d, %d, %d) = %v, want %v", x.dsn, x.sub, x.ssn, x.n, got, x.want)
		}
	}
	return m
}

// pc builds a mapped piece; gap builds an unmapped one.
func pc(dsn uint64, n uint32, sub uint8, ssn uint32, mapDSN uint64, mapSSN, mapLen uint32) Piece {
	return Piece{DSN: dsn, MapDSN: mapDSN, Len: n, SSN: ssn, MapSSN: mapSSN, MapLen: mapLen, Sub: sub}
}

func gap(dsn uint64, n uint32) Piece { return Piece{DSN: dsn, Len: n, Sub: NoSubflow} }

// Three mappings sent over two subflows, in data order:
// [1000,1100) on 0 at 100, [1100,1200) on 1 at 500, [1200,1300) on 0 at 200.
var spread = []pIns{{1000, 0, 100, 100, Inserted}, {1100, 1, 500, 100, Inserted}, {1200, 0, 200, 100, Inserted}}

func TestProxyInsert(t *testing.T) {
	tests := []struct {
		name    string
		in      []pIns
		wantLen int
	}{
		{"append", spread, 3},
		{"identical mapping again is a duplicate", append(slices.Clone(spread), pIns{1100, 1, 500, 100, Duplicate}), 3},
		{"a continuation is a new mapping, never an extension", []pIns{{1000, 0, 100, 100, Inserted}, {1100, 0, 200, 100, Inserted}}, 2},
		{"same subflow bytes, other data: conflict", append(slices.Clone(spread), pIns{5000, 0, 150, 10, Conflict}, pIns{5000, 0, 50, 51, Conflict}), 3},
		{"same subflow bytes, other length: conflict", append(slices.Clone(spread), pIns{1000, 0, 100, 50, Conflict}), 3},
		{"reinjection: same data, another subflow", append(slices.Clone(spread), pIns{1000, 1, 600, 100, Inserted}), 4},
		{"invalid", []pIns{{1, MaxSubflows, 1, 1, Invalid}, {1, 0, 1, 0, Invalid}, {1, 0, 1, MaxMappingLen + 1, Invalid}}, 0},
		{"wrapping sequence numbers", []pIns{{top64 - 49, 2, wrap32 - 20, 100, Inserted}, {50, 2, 80, 100, Inserted}, {0, 2, 0, 10, Conflict}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 1, 256)
			m := newProxy(t, s, tt.in)
			if got := s.ProxyLen(m); got != tt.wantLen {
				t.Errorf("ProxyLen = %d, want %d", got, tt.wantLen)
			}
		})
	}
}

func TestProxyPieces(t *testing.T) {
	tests := []struct {
		name string
		in   []pIns
		dsn  uint64
		n    uint32
		max  int
		want []Piece
	}{
		{
			name: "inside one mapping",
			in:   spread, dsn: 1010, n: 20, max: 8,
			want: []Piece{pc(1010, 20, 0, 110, 1000, 100, 100)},
		},
		{
			name: "retransmission spanning mappings on two subflows",
			in:   spread, dsn: 1050, n: 200, max: 8,
			want: []Piece{pc(1050, 50, 0, 150, 1000, 100, 100), pc(1100, 100, 1, 500, 1100, 500, 100), pc(1200, 50, 0, 200, 1200, 200, 100)},
		},
		{
			name: "gaps before and after",
			in:   spread, dsn: 900, n: 500, max: 8,
			want: []Piece{gap(900, 100), pc(1000, 100, 0, 100, 1000, 100, 100), pc(1100, 100, 1, 500, 1100, 500, 100),
				pc(1200, 100, 0, 200, 1200, 200, 100), gap(1300, 100)},
		},
		{
			name: "out fills up: a prefix",
			in:   spread, dsn: 1050, n: 200, max: 2,
			want: []Piece{pc(1050, 50, 0, 150, 1000, 100, 100), pc(1100, 100, 1, 500, 1100, 500, 100)},
		},
		{
			name: "reinjection: two mappings over one range, the later one serves",
			in:   append(slices.Clone(spread), pIns{1000, 1, 600, 100, Inserted}), dsn: 1000, n: 150, max: 8,
			want: []Piece{pc(1000, 100, 1, 600, 1000, 600, 100), pc(1100, 50, 1, 500, 1100, 500, 100)},
		},
		{
			name: "partial reinjection splits the original, boundaries kept",
			in:   append(slices.Clone(spread), pIns{1020, 1, 600, 30, Inserted}), dsn: 1000, n: 100, max: 8,
			want: []Piece{pc(1000, 20, 0, 100, 1000, 100, 100), pc(1020, 30, 1, 600, 1020, 600, 30), pc(1050, 50, 0, 150, 1000, 100, 100)},
		},
		{
			// Each byte goes to the covering mapping that starts last: from
			// 1100 on, that is the original on subflow 1 again.
			name: "reinjection across two originals",
			in:   append(slices.Clone(spread), pIns{1050, 2, 7, 100, Inserted}), dsn: 1000, n: 300, max: 8,
			want: []Piece{pc(1000, 50, 0, 100, 1000, 100, 100), pc(1050, 50, 2, 7, 1050, 7, 100),
				pc(1100, 100, 1, 500, 1100, 500, 100), pc(1200, 100, 0, 200, 1200, 200, 100)},
		},
		{
			name: "DSN and SSN wrap",
			in:   []pIns{{top64 - 49, 2, wrap32 - 20, 100, Inserted}, {50, 3, 9, 10, Inserted}},
			dsn:  top64 - 9, n: 70, max: 8,
			want: []Piece{pc(top64-9, 60, 2, 20, top64-49, wrap32-20, 100), pc(50, 10, 3, 9, 50, 9, 10)},
		},
		{name: "empty range", in: spread, dsn: 1000, n: 0, max: 8, want: []Piece{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 1, 256)
			m := newProxy(t, s, tt.in)
			out := make([]Piece, tt.max)
			got := out[:s.ProxyPieces(m, tt.dsn, tt.n, out)]
			if !slices.Equal(got, tt.want) {
				t.Errorf("ProxyPieces(%d, %d) =\n%+v\nwant\n%+v", tt.dsn, tt.n, got, tt.want)
			}
		})
	}
}

func TestProxySACK(t *testing.T) {
	tests := []struct {
		name string
		in   []pIns
		sub  uint8
		ssn  uint32
		n    uint32
		max  int
		want []Range
	}{
		{"one mapping", spread, 1, 510, 20, 4, []Range{{1110, 20}}},
		{"two mappings, data not contiguous", spread, 0, 150, 100, 4, []Range{{1050, 50}, {1200, 50}}},
		{"out fills up", spread, 0, 150, 100, 1, []Range{{1050, 50}}},
		{"data-contiguous neighbours merge", []pIns{{1000, 0, 100, 100, Inserted}, {1100, 0, 200, 100, Inserted}}, 0, 150, 100, 4, []Range{{1050, 100}}},
		{"unmapped bytes are left out", spread, 0, 0, 120, 4, []Range{{1000, 20}}},
		{"nothing mapped", spread, 2, 0, 1000, 4, []Range{}},
		{"reinjected data on another subflow", append(slices.Clone(spread), pIns{1000, 1, 600, 100, Inserted}), 1, 550, 100, 4, []Range{{1150, 50}, {1000, 50}}},
		{"SSN wraps", []pIns{{top64 - 49, 2, wrap32 - 20, 100, Inserted}}, 2, wrap32 - 10, 30, 4, []Range{{top64 - 39, 30}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 1, 256)
			m := newProxy(t, s, tt.in)
			out := make([]Range, tt.max)
			got := out[:s.ProxySACK(m, tt.sub, tt.ssn, tt.n, out)]
			if !slices.Equal(got, tt.want) {
				t.Errorf("ProxySACK(%d, %d, %d) = %+v, want %+v", tt.sub, tt.ssn, tt.n, got, tt.want)
			}
		})
	}
}

func TestProxyOwnerTrimDrop(t *testing.T) {
	s := newStore(t, 1, 256)
	// spread plus a reinjection of [1000,1100) on subflow 1.
	m := newProxy(t, s, append(slices.Clone(spread), pIns{1000, 1, 600, 100, Inserted}))
	owner := func(dsn uint64, want uint8, wantOK bool) {
		t.Helper()
		if sub, ok := s.ProxyOwner(m, dsn); sub != want || ok != wantOK {
			t.Errorf("ProxyOwner(%d) = %d, %v; want %d, %v", dsn, sub, ok, want, wantOK)
		}
	}
	pieces := func(dsn uint64, n uint32, want ...Piece) {
		t.Helper()
		out := make([]Piece, 8)
		if got := out[:s.ProxyPieces(m, dsn, n, out)]; !slices.Equal(got, want) {
			t.Errorf("ProxyPieces(%d, %d) = %+v, want %+v", dsn, n, got, want)
		}
	}
	owner(999, NoSubflow, false)
	owner(1000, 1, true)
	owner(1150, 1, true)
	owner(1299, 0, true)
	owner(1300, NoSubflow, false)

	// Subflow 1 dies: its data comes back as gaps to reinject.
	s.ProxyDrop(m, 1)
	owner(1000, 0, true)
	owner(1150, NoSubflow, false)
	pieces(1050, 100, pc(1050, 50, 0, 150, 1000, 100, 100), gap(1100, 50))
	if got := s.ProxyLen(m); got != 2 {
		t.Errorf("after drop: ProxyLen = %d, want 2", got)
	}
	if v := s.ProxyInsert(m, 1100, 1, 500, 100); v != Inserted {
		t.Errorf("reusing subflow id 1: %v", v)
	}

	// DATA_ACK 1100 frees the first mapping; bytes below it are gaps.
	s.ProxyTrim(m, 1100)
	if got := s.ProxyLen(m); got != 2 {
		t.Errorf("after trim: ProxyLen = %d, want 2", got)
	}
	owner(1050, NoSubflow, false)
	pieces(1090, 20, gap(1090, 10), pc(1100, 10, 1, 500, 1100, 500, 100))
	if v := s.ProxyInsert(m, 1000, 2, 1, 100); v != Old {
		t.Errorf("insert below DATA_ACK = %v, want old", v)
	}
	s.ProxyTrim(m, 1050) // never moves back
	owner(1050, NoSubflow, false)

	// Subflow ack 250 on subflow 0: SACK no longer sees [200,250), pieces do.
	s.ProxyTrimSubflow(m, 0, 250)
	out := make([]Range, 4)
	if n := s.ProxySACK(m, 0, 200, 100, out); n != 1 || out[0] != (Range{1200, 100}) {
		t.Errorf("after subflow trim below the mapping end: SACK = %+v", out[:n])
	}
	s.ProxyTrimSubflow(m, 0, 300)
	if n := s.ProxySACK(m, 0, 200, 100, out); n != 0 {
		t.Errorf("after subflow trim: SACK = %+v, want none", out[:n])
	}
	pieces(1250, 10, pc(1250, 10, 0, 250, 1200, 200, 100))
	if v := s.ProxyInsert(m, 1300, 0, 299, 10); v != Old {
		t.Errorf("insert below the subflow floor = %v, want old", v)
	}
	if v := s.ProxyInsert(m, 1300, 0, 300, 10); v != Inserted {
		t.Errorf("insert at the subflow floor = %v, want inserted", v)
	}
	s.ProxyTrim(m, 1310)
	if got := s.ProxyLen(m); got != 0 {
		t.Errorf("after full trim: ProxyLen = %d, want 0", got)
	}
}

// TestProxyWaitingMapping covers a reinjection sent on a subflow after
// newer data: acked at data level, it waits behind the live mapping in
// the subflow index and stays invisible to SACK translation.
func TestProxyWaitingMapping(t *testing.T) {
	s := newStore(t, 1, 256)
	m := newProxy(t, s, []pIns{{2000, 0, 100, 100, Inserted}, {1000, 0, 200, 100, Inserted}})
	s.ProxyTrim(m, 1100)
	if got := s.ProxyLen(m); got != 1 {
		t.Errorf("ProxyLen = %d, want 1", got)
	}
	out := make([]Range, 4)
	if n := s.ProxySACK(m, 0, 100, 200, out); n != 1 || out[0] != (Range{2000, 100}) {
		t.Errorf("SACK = %+v, want [{2000 100}]", out[:n])
	}
	if v := s.ProxyInsert(m, 3000, 0, 250, 10); v != Conflict {
		t.Errorf("insert over the waiting mapping's subflow bytes = %v, want conflict", v)
	}
	s.ProxyTrim(m, 2100)
	if got, used := s.ProxyLen(m), s.Used(); got != 0 || used != 2*(1<<minOrder) {
		t.Errorf("after trim: ProxyLen = %d, Used = %d; want 0, %d", got, used, 2*(1<<minOrder))
	}
}
