package nicconf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
)

func nullPort(t *testing.T, name string) dpdk.Port {
	t.Helper()
	p, err := dpdk.PortByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProbeNull probes real net_null ports, which have no rte_flow support
// (every call fails with ENOSYS): Probe must install nothing, say that
// steering falls back to software, and still set RSS on the configured
// port.
func TestProbeNull(t *testing.T) {
	rs := newRuleset(t, 2, true)
	p0 := nullPort(t, "net_null0")
	if err := p0.Configure(dpdk.PortConf{RxQueues: 2, TxQueues: 2, RSS: &dpdk.RSSConf{Types: dpdk.RSSIP}}); err != nil {
		t.Fatal(err)
	}
	p1 := nullPort(t, "net_null1") // not configured: RSS cannot be set

	r0 := Probe(p0, rs)
	r1 := Probe(p1, rs)
	for _, r := range []Report{r0, r1} {
		s := r.String()
		t.Log(s)
		if !r.NoFlowAPI() || len(r.Flows) != 0 || r.SubflowV4 || r.SubflowV6 {
			t.Errorf("%s: NoFlowAPI %v, %d flows, subflow v4 %v v6 %v", r.Port, r.NoFlowAPI(), len(r.Flows), r.SubflowV4, r.SubflowV6)
		}
		if !strings.HasPrefix(s, "port "+r.Port+" (net_null): no rte_flow support (validate: Function not implemented)") {
			t.Errorf("summary %q", s)
		}
		for _, k := range r.Kinds {
			if k.Accepted != 0 || k.Installed != 0 || k.Rejected != k.Rules || !k.NoFlowAPI {
				t.Errorf("%s: %+v", r.Port, k)
			}
		}
		sw := r.Software()
		if len(sw) < 2 || sw[0] != steering.RuleSubflow || sw[1] != steering.RuleJoinToken {
			t.Errorf("%s: Software() = %v", r.Port, sw)
		}
	}
	if r0.Kind(steering.RuleJoinToken).Rules != 2*2*2 {
		t.Errorf("token rules probed: %+v", r0.Kind(steering.RuleJoinToken))
	}

	// net_null0 takes the symmetric key through ethdev: the default rule
	// is handled by the NIC's RSS, the rest in software.
	if !r0.RSS.Configured || !r0.RSS.Symmetric {
		t.Fatalf("net_null0 RSS %+v", r0.RSS)
	}
	if !strings.HasSuffix(r0.String(), "; software steering for subflow, join-token") {
		t.Errorf("net_null0 summary %q", r0.String())
	}
	conf, err := p0.RSSHashConf()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(conf.Key, rs.RSSKey()) || conf.Types&dpdk.RSSNonfragIPv4TCP == 0 {
		t.Errorf("net_null0 RSS after Probe: key %x types %#x", conf.Key, conf.Types)
	}
	// net_null1 is not configured: RSS fails, and everything is software.
	if r1.RSS.Configured || r1.RSS.Err == "" {
		t.Errorf("net_null1 RSS %+v", r1.RSS)
	}
	if !strings.HasSuffix(r1.String(), "; steering in software") {
		t.Errorf("net_null1 summary %q", r1.String())
	}
	if err := r0.Destroy(); err != nil {
		t.Error(err)
	}
}

// TestInstallerNull runs the Installer over real net_null ports: it
// installs nothing, only counts.
func TestInstallerNull(t *testing.T) {
	rs := newRuleset(t, 2, true)
	reports := []Report{Probe(nullPort(t, "net_null0"), rs), Probe(nullPort(t, "net_null1"), rs)}
	in := NewInstaller(rs, reports, 8)
	in.Start()
	in.Install(tupleV4(1), 0)
	in.Install(tupleV6(1), 1)
	in.Remove(tupleV4(1))
	s := waitProcessed(t, in, 3)
	in.Stop()
	for _, p := range s.Ports {
		if p.Skipped != 3 || p.Installed != 0 || p.InstallFailed != 0 || p.Active != 0 {
			t.Errorf("port %+v", p)
		}
	}
	if rs.Subflows() != 1 {
		t.Errorf("ruleset has %d subflows, want 1", rs.Subflows())
	}
}
