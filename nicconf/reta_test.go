package nicconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/flexcp/flexcp/dataplane/dpdk"
)

// TestProbeRETA: a port with RSS and a redirection table gets the
// Ruleset's RETA resized to its size (every hash to the classifier's
// owner); a refusal, a too-small table or a port without RSS leave it
// unprogrammed, and the report says why.
func TestProbeRETA(t *testing.T) {
	rs := newRuleset(t, 3, true)
	tests := []struct {
		name    string
		info    dpdk.PortInfo
		retaErr error
		want    bool
		errPart string
	}{
		{"512 entries", dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 40, RetaSize: 512}, nil, true, ""},
		{"refused", dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 40, RetaSize: 512}, errors.New("not now"), false, "not now"},
		{"smaller than steering's", dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 40, RetaSize: 64}, nil, false, "RETA of 64 entries"},
		{"no table", dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 40}, nil, false, ""},
		{"no RSS", dpdk.PortInfo{RetaSize: 512}, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := &fakeDevice{name: "p", info: tt.info, retaErr: tt.retaErr, refuse: func([]dpdk.FlowItem) error { return errors.New("no") }}
			r := ProbeDevice(dev, rs)
			if r.RETAProgrammed != tt.want || !strings.Contains(r.RETAErr, tt.errPart) || (tt.errPart == "") != (r.RETAErr == "") {
				t.Fatalf("RETAProgrammed %v, RETAErr %q; want %v, %q", r.RETAProgrammed, r.RETAErr, tt.want, tt.errPart)
			}
			if !tt.want {
				return
			}
			if !strings.Contains(r.String(), "RETA programmed") {
				t.Errorf("summary %q does not say the RETA is programmed", r.String())
			}
			if len(dev.reta) != int(tt.info.RetaSize) {
				t.Fatalf("port got %d RETA entries, want %d", len(dev.reta), tt.info.RetaSize)
			}
			want := rs.RETA()
			for i, q := range dev.reta {
				if int(q) != want.QueueOf(uint32(i)) {
					t.Fatalf("port RETA entry %d = %d, steering's queue for that hash is %d", i, q, want.QueueOf(uint32(i)))
				}
			}
		})
	}
}
