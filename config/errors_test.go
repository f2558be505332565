package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The error classes the other tests do not reach: together with them,
// every b.fail and Errorf of the package has a case (issue 8). Each
// message is one line, names the key and says what to write instead.

func TestErrorTopLevel(t *testing.T) {
	runErrors(t, []errCase{
		{"empty eal argument", "eal = [\"--no-pci\", \"\"]\n" + minimal, "eal[1] is an empty string; remove it"},
		{"idle", "idle = \"sleep\"\n" + minimal, `idle "sleep" is not one of poll, adaptive`},
		{"too many lcores", "lcores = [" + cpuList(MaxLcores+1) + "]\n" + minimal, "workers are supported"},
		{"listen port", minimal + "[metrics]\nlisten = \"127.0.0.1:http\"\n", `metrics.listen "127.0.0.1:http": port "http" is not a TCP port`},
		{"listen port range", minimal + "[metrics]\nlisten = \"127.0.0.1:70000\"\n", `port "70000" is not a TCP port`},
	})
}

// cpuList returns "0, 1, ..., n-1".
func cpuList(n int) string {
	l := make([]string, n)
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return strings.Join(l, ", ")
}

func TestErrorPortFields(t *testing.T) {
	p3 := port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24")
	runErrors(t, []errCase{
		{"bad name", port("1p", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + p3, `name must start with a letter`},
		{"device missing", "[[port]]\nname = \"p1\"\nrole = \"access\"\naddresses = [\"198.18.1.1/24\"]\n" + p3, `port "p1": device is missing; add a PCI address`},
		{"role missing", "[[port]]\nname = \"p1\"\ndevice = \"net_af_xdp0,iface=p1\"\naddresses = [\"198.18.1.1/24\"]\n" + p3, `port "p1": role is missing; add role = "access"`},
		{"addresses empty", "[[port]]\nname = \"p1\"\ndevice = \"net_af_xdp0,iface=p1\"\nrole = \"access\"\naddresses = []\n" + p3, `port "p1": addresses is empty`},
		{"v4-mapped address", port("p1", "net_af_xdp0,iface=p1", "access", "::ffff:198.18.1.1/120") + p3, "is an IPv4-mapped IPv6 address; write the IPv4 address in dotted form"},
		{"tx_desc", minimal + "tx_desc = 8\n", "tx_desc 8 must be a power of two"},
		{"mac zero", minimal + "mac = \"00:00:00:00:00:00\"\n", `port "p3": mac "00:00:00:00:00:00" is all zeros`},
		{"mac multicast", minimal + "mac = \"01:00:5e:00:00:01\"\n", "is a multicast MAC address"},
		{"mac garbage", minimal + "mac = \"02:00:00\"\n", "is not a 48-bit MAC address"},
		{"mtu low", minimal + "mtu = 10\n", `port "p3": mtu 10 is out of range`},
		{"mtu v6", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + port("p3", "net_af_xdp2,iface=p3", "core", "2001:db8:3::1/64") + "mtu = 1200\n",
			"the IPv6 minimum"},
		{"mtu above data room", minimal + "mtu = 9000\n", "raise mempool.data_room to at least"},
	})
}

func TestErrorMempoolFields(t *testing.T) {
	runErrors(t, []errCase{
		{"mbufs zero", minimal + "[mempool]\nmbufs = 0\n", "mempool.mbufs 0 is out of range"},
		{"cache above mbufs", minimal + "[mempool]\nmbufs = 100\ncache = 100\n", "mempool.cache 100 is too large for mbufs 100"},
		{"data room", minimal + "[mempool]\ndata_room = 100\n", "mempool.data_room 100 is out of range"},
		{"too few mbufs", minimal + "[mempool]\nmbufs = 4095\n", "mempool.mbufs 4095 is too small for"},
	})
}

func TestErrorRoutesAndNeighbors(t *testing.T) {
	runErrors(t, []errCase{
		{"v4-mapped prefix", minimal + "[[route]]\nprefix = \"::ffff:10.0.0.0/104\"\nport = \"p3\"\n", "is an IPv4-mapped IPv6 prefix"},
		{"prefix missing", minimal + "[[route]]\nvia = \"198.18.3.2\"\n", "route #1: prefix is missing"},
		{"prefix twice", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"198.18.3.2\"\n[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"198.18.3.2\"\n",
			"route 10.0.0.0/8: prefix is listed twice"},
		{"via garbage", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"gateway\"\n", `via "gateway" is not an IP address`},
		{"via family", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"2001:db8:3::2\"\n", "is not in the prefix's address family"},
		{"via own address", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"198.18.3.1\"\nport = \"p3\"\n", `via 198.18.3.1 is port "p3"'s own address`},
		{"via nowhere", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"192.0.2.1\"\n", "is in no port's connected prefix"},
		{"route is connected", minimal + "[[route]]\nprefix = \"198.18.3.0/24\"\nvia = \"198.18.3.2\"\n", `prefix is already connected on port "p3"`},
		{"neighbor mac", minimal + "[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"zz\"\n", `neighbor 198.18.3.2: mac "zz"`},
		{"neighbor own", minimal + "[[neighbor]]\nip = \"198.18.3.1\"\nmac = \"02:00:00:00:00:01\"\n", `a neighbour is another host`},
		{"neighbor off subnet", minimal + "[[neighbor]]\nip = \"198.18.9.2\"\nmac = \"02:00:00:00:00:01\"\nport = \"p3\"\n", "static neighbours must be on the port's subnet"},
		{"neighbor twice", minimal + "[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"02:00:00:00:00:01\"\n[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"02:00:00:00:00:02\"\n",
			"keep one [[neighbor]] per address"},
	})
}

func TestErrorProxyFields(t *testing.T) {
	runErrors(t, []errCase{
		{"ports empty", minimal + "[proxy]\nports = []\n", "proxy.ports is empty"},
		{"port zero", minimal + "[proxy]\nports = [\"0\"]\n", `proxy.ports: "0" is not a TCP port (1-65535)`},
		{"port backwards", minimal + "[proxy]\nports = [\"90-80\"]\n", `range "90-80" runs backwards; write 80-90`},
		{"scheduler unknown", minimal + "[proxy]\nscheduler = \"fastest\"\n", `proxy.scheduler "fastest" is not one of minrtt, roundrobin`},
		{"duration garbage", minimal + "[proxy]\nlinger = \"soon\"\n", `proxy.linger "soon" is not a duration`},
		{"duration range", minimal + "[proxy]\nsyn_timeout = \"0s\"\n", "proxy.syn_timeout 0s is out of range"},
		{"no core port", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24"), "proxy.enabled needs at least one access and one core port"},
	})
}

// TestErrorMissingFile: Load of a path that does not exist.
func TestErrorMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "pass an existing file to --config") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// TestMetricsListenDefault: without a [metrics] table the endpoint
// listens on the loopback address only; an empty listen disables it.
func TestMetricsListenDefault(t *testing.T) {
	c, err := Parse("m.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	ap, err := netip.ParseAddrPort(c.Metrics.Listen)
	if err != nil || !ap.Addr().IsLoopback() {
		t.Errorf("default metrics listen %q is not a loopback address", c.Metrics.Listen)
	}
	for _, f := range []string{"netns.toml"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", f))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(f, b)
		if err != nil {
			t.Fatal(err)
		}
		if ap, err := netip.ParseAddrPort(c.Metrics.Listen); err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("examples/%s: metrics listen %q is not a loopback address", f, c.Metrics.Listen)
		}
	}
}

// TestErrorProxyRemaining: the proxy error classes the tests above leave
// out: a timestamps value that is not a policy at all, and more scheduler
// rules than the rule table holds.
func TestErrorProxyRemaining(t *testing.T) {
	var rules strings.Builder
	for i := range 255 {
		fmt.Fprintf(&rules, "[[proxy.scheduler_rule]]\nprefix = \"10.%d.%d.0/24\"\nscheduler = \"weighted\"\n", i/256, i%256)
	}
	runErrors(t, []errCase{
		{"timestamps unknown", minimal + "[proxy]\ntimestamps = \"scramble\"\n", `proxy.timestamps "scramble" is not one of strip`},
		{"too many scheduler rules", minimal + rules.String(), "proxy.scheduler_rule: 255 rules; at most 254"},
	})
}

// TestLoadErrors: Load passes on Parse's error for a file that exists and
// checks the lcores against the CPUs this process may use, with the
// messages Parse and CheckCPUs give.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(minimal+"[proxy]\nscheduler = \"fastest\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), `proxy.scheduler "fastest" is not one of`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Load of an invalid file: %v", err)
	}
	usable, err := UsableCPUs()
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for slices.Contains(usable, missing) {
		missing++
	}
	cpus := filepath.Join(dir, "cpus.toml")
	if err := os.WriteFile(cpus, []byte(fmt.Sprintf("lcores = [%d]\n%s", missing, minimal)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(cpus); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("lcores: CPU %d does not exist or this process may not run on it", missing)) {
		t.Errorf("Load with lcore %d (usable %v): %v", missing, usable, err)
	}
}
