package nicconf

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
)

func newRuleset(t testing.TB, n int, sym bool) *steering.Ruleset {
	t.Helper()
	rs, err := steering.NewRuleset(steering.Config{Workers: n, SymmetricRSS: sym})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestProbe(t *testing.T) {
	const n = 4
	tokens := n * 2 * 2
	tests := []struct {
		name      string
		dev       *fakeDevice
		want      map[steering.RuleKind]KindStats // Rules/Accepted/Rejected/Installed/InstallFailed
		v4, v6    bool
		software  []steering.RuleKind
		installed int
		summary   []string
	}{
		{
			name: "capable",
			dev:  &fakeDevice{name: "0000:01:00.0", info: dpdk.PortInfo{Driver: "mlx5_pci", RSSOffloads: rssAll, HashKeySize: 40}},
			want: map[steering.RuleKind]KindStats{
				steering.RuleSubflow:   {Rules: 2, Accepted: 2},
				steering.RuleJoinToken: {Rules: tokens, Accepted: tokens, Installed: tokens},
				steering.RuleDefault:   {Rules: 1, Accepted: 1, Installed: 1},
			},
			v4: true, v6: true, installed: tokens + 1,
			summary: []string{"port 0000:01:00.0 (mlx5_pci): rte_flow: subflow 2/2 validated, join-token 16/16 installed, default-rss 1/1 installed; RSS: symmetric key set (40 bytes", "; steering in the NIC"},
		},
		{
			name: "no raw, no rss action (ice-like)",
			dev:  &fakeDevice{name: "0000:02:00.0", info: dpdk.PortInfo{Driver: "net_ice", RSSOffloads: rssAll, HashKeySize: 52}, refuse: refuseRSSOrRaw},
			want: map[steering.RuleKind]KindStats{
				steering.RuleSubflow:   {Rules: 2, Accepted: 2},
				steering.RuleJoinToken: {Rules: tokens, Rejected: tokens, Err: "Operation not supported: raw item not supported"},
				steering.RuleDefault:   {Rules: 1, Rejected: 1, Err: "Invalid argument: RSS action not supported"},
			},
			v4: true, v6: true, software: []steering.RuleKind{steering.RuleJoinToken},
			summary: []string{"join-token 0/16 installed (Operation not supported: raw item not supported)", "RSS: symmetric key set (52 bytes", "; software steering for join-token"},
		},
		{
			name: "no flow API (af_xdp-like)",
			dev:  &fakeDevice{name: "net_af_xdp0", info: dpdk.PortInfo{Driver: "net_af_xdp"}, refuse: refuseAll(syscall.ENOSYS)},
			want: map[steering.RuleKind]KindStats{
				steering.RuleSubflow:   {Rules: 2, Rejected: 2, Err: "Function not implemented", NoFlowAPI: true},
				steering.RuleJoinToken: {Rules: tokens, Rejected: tokens, Err: "Function not implemented", NoFlowAPI: true},
				steering.RuleDefault:   {Rules: 1, Rejected: 1, Err: "Function not implemented", NoFlowAPI: true},
			},
			software: []steering.RuleKind{steering.RuleSubflow, steering.RuleJoinToken, steering.RuleDefault},
			summary:  []string{"port net_af_xdp0 (net_af_xdp): no rte_flow support (validate: Function not implemented); RSS: not supported; steering in software"},
		},
		{
			name: "v4 only, create fails",
			dev:  &fakeDevice{name: "p", info: dpdk.PortInfo{Driver: "x", RSSOffloads: rssAll}, refuse: refuseV6, createErr: errors.New("no room")},
			want: map[steering.RuleKind]KindStats{
				steering.RuleSubflow:   {Rules: 2, Accepted: 1, Rejected: 1, Err: "Operation not supported"},
				steering.RuleJoinToken: {Rules: tokens, Accepted: tokens / 2, Rejected: tokens / 2, InstallFailed: tokens / 2, Err: "create: no room"},
				steering.RuleDefault:   {Rules: 1, Accepted: 1, InstallFailed: 1, Err: "create: no room"},
			},
			v4: true, software: []steering.RuleKind{steering.RuleSubflow, steering.RuleJoinToken},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRuleset(t, n, true)
			r := ProbeDevice(tt.dev, rs)
			for _, k := range r.Kinds {
				w := tt.want[k.Kind]
				w.Kind = k.Kind
				if k != w {
					t.Errorf("%v: %+v, want %+v", k.Kind, k, w)
				}
			}
			if r.SubflowV4 != tt.v4 || r.SubflowV6 != tt.v6 {
				t.Errorf("subflow offload v4 %v v6 %v, want %v %v", r.SubflowV4, r.SubflowV6, tt.v4, tt.v6)
			}
			if got := r.Software(); !reflect.DeepEqual(got, tt.software) {
				t.Errorf("Software() = %v, want %v", got, tt.software)
			}
			if len(r.Flows) != tt.installed || tt.dev.activeFlows() != tt.installed {
				t.Errorf("%d flows reported, %d on the port, want %d", len(r.Flows), tt.dev.activeFlows(), tt.installed)
			}
			s := r.String()
			t.Log(s)
			for _, want := range tt.summary {
				if !strings.Contains(s, want) {
					t.Errorf("String() = %q, want it to contain %q", s, want)
				}
			}
			if err := r.Destroy(); err != nil {
				t.Error(err)
			}
			if tt.dev.activeFlows() != 0 || len(r.Flows) != 0 {
				t.Errorf("after Destroy %d flows on the port", tt.dev.activeFlows())
			}
		})
	}
}

func TestProbeRSS(t *testing.T) {
	tests := []struct {
		name     string
		sym      bool
		info     dpdk.PortInfo
		rssErr   error
		wantKey  int
		wantErr  string
		missing  uint64
		wantConf bool
	}{
		{"40-byte key", true, dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 40}, nil, 40, "", 0, true},
		{"52-byte key", true, dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 52}, nil, 52, "", 0, true},
		{"no key size (net_null)", true, dpdk.PortInfo{RSSOffloads: rssAll}, nil, 40, "", 0, true},
		{"not symmetric, 52", false, dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 52}, nil, 52, "", 0, true},
		{"no v6 tcp", true, dpdk.PortInfo{RSSOffloads: rssAll &^ dpdk.RSSNonfragIPv6TCP, HashKeySize: 40}, nil, 40, "", dpdk.RSSNonfragIPv6TCP, true},
		{"short key", true, dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 16}, nil, 0, "shorter than the 40", 0, false},
		{"no rss", true, dpdk.PortInfo{}, nil, 0, "not supported", 0, false},
		{"update fails", true, dpdk.PortInfo{RSSOffloads: rssAll, HashKeySize: 40}, errors.New("port not configured"), 40, "port not configured", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRuleset(t, 2, tt.sym)
			dev := &fakeDevice{name: "p", info: tt.info, rssErr: tt.rssErr, refuse: refuseAll(syscall.ENOSYS)}
			r := ProbeDevice(dev, rs)
			st := r.RSS
			if st.Configured != tt.wantConf || !strings.Contains(st.Err, tt.wantErr) || st.Missing != tt.missing {
				t.Fatalf("RSS %+v, want configured %v, err %q, missing %#x", st, tt.wantConf, tt.wantErr, tt.missing)
			}
			if !st.Configured {
				if st.Symmetric {
					t.Error("symmetric but not configured")
				}
				return
			}
			if len(dev.rss) != 1 {
				t.Fatalf("%d RSS updates", len(dev.rss))
			}
			c := dev.rss[0]
			if len(c.Key) != tt.wantKey || st.KeyLen != tt.wantKey || !bytes.Equal(c.Key[:40], rs.RSSKey()) {
				t.Errorf("key %x (%d bytes), want %d bytes starting with %x", c.Key, st.KeyLen, tt.wantKey, rs.RSSKey())
			}
			if tt.sym {
				if !bytes.Equal(c.Key, steering.SymmetricKey(len(c.Key))) {
					t.Errorf("key %x is not the symmetric key", c.Key)
				}
				if !steering.NewTable(c.Key).Symmetric() {
					t.Errorf("key %x not symmetric", c.Key)
				}
			}
			if c.Types != RSSTypes(steering.HashDefault)&tt.info.RSSOffloads || c.Types&dpdk.RSSNonfragIPv4TCP == 0 {
				t.Errorf("types %#x", c.Types)
			}
			if st.Symmetric != tt.sym {
				t.Errorf("symmetric %v", st.Symmetric)
			}
		})
	}
}

// TestProbeExistingSubflows installs the subflow rules a Ruleset already
// holds (a restart with state).
func TestProbeExistingSubflows(t *testing.T) {
	rs := newRuleset(t, 2, true)
	if _, err := rs.AddSubflow(tupleV4(1), 1); err != nil {
		t.Fatal(err)
	}
	dev := &fakeDevice{name: "p", info: dpdk.PortInfo{Driver: "x"}}
	r := ProbeDevice(dev, rs)
	k := r.Kind(steering.RuleSubflow)
	if k.Rules != 4 || k.Accepted != 4 || k.Installed != 2 {
		t.Errorf("subflow stats %+v, want 2 templates + 2 rules installed", k)
	}
	if err := r.Destroy(); err != nil {
		t.Fatal(err)
	}
}
