package pktgen

import (
	"slices"
	"testing"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"64:1,1432:3", []int{64, 1432, 1432, 1432}, true},
		{"1000", []int{1000}, true},
		{" 64 , 128:2", []int{64, 128, 128}, true},
		{"1460:1,64:1", []int{1460, 64}, true}, // the model checks it against its MTU
		{"1853", nil, false},                   // above PayloadLimit(MaxMTU)
		{"64:0", nil, false},
		{"", nil, false},
		{"x", nil, false},
	} {
		got, err := ParseMix(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseMix(%q) = %v, %v", tc.in, got, err)
		}
	}
}
