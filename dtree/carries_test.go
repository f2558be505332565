package dtree

import "testing"

// TestClientCarries: a subflow's stored mappings at or after a subflow
// byte are matched against a data range, including a mapping that starts
// before that byte (only its remaining bytes count) and across the
// 32-bit wrap of the subflow space.
func TestClientCarries(t *testing.T) {
	s := newStore(t, 2, 64)
	m, ok := s.NewClient()
	if !ok {
		t.Fatal("no tree")
	}
	// Subflow 0: SSN 1000..1100 -> DSN 5000..5100, SSN 1100..1200 ->
	// DSN 9000..9100 (not contiguous in DSN: two records). Subflow 1:
	// SSN 2^32-50..50 -> DSN 7000..7100 (wraps).
	for _, in := range []cIns{{0, 1000, 5000, 100, Inserted}, {0, 1100, 9000, 100, Inserted}, {1, wrap32 - 50, 7000, 100, Inserted}} {
		if v := s.ClientInsert(m, in.sub, in.ssn, in.dsn, in.n); v != in.want {
			t.Fatalf("insert %+v: %v", in, v)
		}
	}
	tests := []struct {
		name   string
		sub    uint8
		from   uint32
		lo, hi uint64
		want   bool
	}{
		{"whole first mapping", 0, 1000, 5000, 5100, true},
		{"range below every mapping", 0, 1000, 4000, 5000, false},
		{"first mapping partly passed", 0, 1050, 5000, 5050, false},
		{"first mapping's rest", 0, 1050, 5049, 5051, true},
		{"second mapping", 0, 1150, 9060, 9200, true},
		{"everything passed", 0, 1200, 0, 1 << 40, false},
		{"between the mappings' DSNs", 0, 1000, 5100, 9000, false},
		{"wrapped subflow", 1, wrap32 - 10, 7039, 7041, true},
		{"wrapped subflow passed", 1, 10, 7000, 7060, false},
		{"other subflow empty", 2, 0, 0, 1 << 40, false},
		{"bad subflow", MaxSubflows, 0, 0, 1 << 40, false},
	}
	for _, tc := range tests {
		if got := s.ClientCarries(m, tc.sub, tc.from, tc.lo, tc.hi); got != tc.want {
			t.Errorf("%s: ClientCarries(%d, %d, [%d, %d)) = %v, want %v", tc.name, tc.sub, tc.from, tc.lo, tc.hi, got, tc.want)
		}
	}
}
