package steering

import "testing"

func TestRETA(t *testing.T) {
	for _, tc := range []struct {
		name         string
		size, queues int
		wantErr      error
		hash         uint32
		want         int
	}{
		{"round robin", 128, 3, nil, 5, 2},
		{"low bits index", 128, 3, nil, 128 + 5, 2},
		{"one queue", 64, 1, nil, 0xffffffff, 0},
		{"24 queues", 128, 24, nil, 127, 127 % 24},
		{"size not power of two", 100, 2, ErrRETASize, 0, 0},
		{"size zero", 0, 2, ErrRETASize, 0, 0},
		{"no queues", 64, 0, ErrRETAQueues, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRETA(tc.size, tc.queues)
			if err != tc.wantErr {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := r.QueueOf(tc.hash); got != tc.want {
				t.Errorf("QueueOf(%#x) = %d, want %d", tc.hash, got, tc.want)
			}
			for i := 0; i < r.Size(); i++ {
				if r.Entry(i) != i%tc.queues {
					t.Fatalf("entry %d = %d, want %d", i, r.Entry(i), i%tc.queues)
				}
			}
		})
	}
}

func TestRETAResizeKeepsQueues(t *testing.T) {
	r, _ := NewRETA(128, 3)
	if err := r.Set(7, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Set(128, 0); err != ErrRETAIndex {
		t.Fatalf("Set out of range: %v", err)
	}
	big, err := r.Resize(512)
	if err != nil {
		t.Fatal(err)
	}
	for h := uint32(0); h < 4096; h += 7 {
		if r.QueueOf(h) != big.QueueOf(h) {
			t.Fatalf("hash %#x: 128-entry %d, 512-entry %d", h, r.QueueOf(h), big.QueueOf(h))
		}
	}
	if _, err := r.Resize(64); err != ErrRETASize {
		t.Fatalf("shrink: %v", err)
	}
	c := r.Clone()
	_ = c.Set(0, 2)
	if r.Entry(0) != 0 {
		t.Fatal("Clone shares entries")
	}
}
