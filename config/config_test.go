package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flexcp/flexcp/metrics"
)

// twoCPUs stands in for UsableCPUs so results do not depend on the machine.
func twoCPUs() ([]int, error) { return []int{0, 1}, nil }

// minimal is the smallest valid file: one access and one core port.
const minimal = `
[[port]]
name = "p1"
device = "net_af_xdp0,iface=p1"
role = "access"
addresses = ["198.18.1.1/24"]

[[port]]
name = "p3"
device = "net_af_xdp2,iface=p3"
role = "core"
addresses = ["198.18.3.1/24", "2001:db8:3::1/64"]
`

func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("../examples/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d example files, want at least netns.toml and netns-afpacket.toml", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(filepath.Base(f), data)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CheckCPUs(twoCPUs); err != nil {
				t.Fatal(err)
			}
			if len(c.Ports) != 3 || c.Ports[2].Role != RoleCore || len(c.Routes) != 2 {
				t.Errorf("got %d ports, %d routes; want the 3 ports and 2 default routes of DESIGN.md section 7", len(c.Ports), len(c.Routes))
			}
			if got := c.HugepageBytes(); got == 0 || got%(2<<20) != 0 {
				t.Errorf("HugepageBytes() = %d, want a non-zero multiple of 2 MB", got)
			}
		})
	}
}

func TestNetnsExample(t *testing.T) {
	data, err := os.ReadFile("../examples/netns.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("netns.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, device string
		role         Role
		addrs        []string
	}{
		{"p1", "net_af_xdp0,iface=p1,start_queue=0,queue_count=1", RoleAccess, []string{"198.18.1.1/24", "2001:db8:1::1/64"}},
		{"p2", "net_af_xdp1,iface=p2,start_queue=0,queue_count=1", RoleAccess, []string{"198.18.2.1/24", "2001:db8:2::1/64"}},
		{"p3", "net_af_xdp2,iface=p3,start_queue=0,queue_count=1", RoleCore, []string{"198.18.3.1/24", "2001:db8:3::1/64"}},
	}
	for i, w := range want {
		p := c.Ports[i]
		var addrs []string
		for _, a := range p.Addresses {
			addrs = append(addrs, a.String())
		}
		if p.Name != w.name || p.Device != w.device || p.Role != w.role || !slices.Equal(addrs, w.addrs) {
			t.Errorf("port %d = %s %s %s %v, want %s %s %s %v", i, p.Name, p.Device, p.Role, addrs, w.name, w.device, w.role, w.addrs)
		}
	}
	r := c.Routes[0]
	if r.Prefix != netip.MustParsePrefix("0.0.0.0/0") || r.Via != netip.MustParseAddr("198.18.3.2") || r.PortIndex != 2 {
		t.Errorf("route 0 = %+v, want 0.0.0.0/0 via 198.18.3.2 on p3 (index 2)", r)
	}
	args := c.EALArgs()
	if !slices.Contains(args, "net_af_xdp2,iface=p3,start_queue=0,queue_count=1") || args[0] != "--no-pci" {
		t.Errorf("EALArgs() = %q, want the file's eal followed by --vdev for each port", args)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("min.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"eal", len(c.EAL), 0},
		{"lcores", c.Lcores, []int{1}},
		{"idle", c.Idle, IdleAdaptive},
		{"burst", c.Burst, 32},
		{"log_level", c.LogLevel, slog.LevelInfo},
		{"metrics.listen", c.Metrics.Listen, "127.0.0.1:9750"},
		{"port.mtu", c.Ports[0].MTU, 1500},
		{"port.queues", c.Ports[0].Queues, 1},
		{"port.rx_desc", c.Ports[0].RxDesc, 2048},
		{"port.tx_desc", c.Ports[1].TxDesc, 1024},
		{"port.mac", c.Ports[0].MAC == nil, true},
		{"mempool.mbufs", c.Mempool.Mbufs, 16383},
		{"mempool.cache", c.Mempool.Cache, 256},
		{"mempool.data_room", c.Mempool.DataRoom, 2176},
		{"proxy.enabled", c.Proxy.Enabled, true},
		{"proxy.translate", c.Proxy.Translate, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}},
		{"proxy.ports", c.Proxy.Ports, []PortRange{{1, 65535}}},
		{"proxy.scheduler", c.Proxy.Scheduler, SchedulerMinRTT},
		{"proxy.max_connections", c.Proxy.MaxConnections, 65536},
		{"proxy.max_subflows", c.Proxy.MaxSubflows, 8},
		{"proxy.join_subflows", c.Proxy.JoinSubflows, 0},
		{"proxy.sack_tables", c.Proxy.SackTables, 0},
		{"proxy.checksum", c.Proxy.Checksum, ChecksumAuto},
		{"proxy.timestamps", c.Proxy.Timestamps, TimestampsStrip},
		{"proxy.syn_timeout", c.Proxy.SYNTimeout, 30 * time.Second},
		{"proxy.join_timeout", c.Proxy.JoinTimeout, 10 * time.Second},
		{"proxy.idle_timeout", c.Proxy.IdleTimeout, time.Hour},
		{"proxy.linger", c.Proxy.Linger, time.Minute},
		{"proxy.subflow_dead_after", c.Proxy.SubflowDeadAfter, 3 * time.Second},
	}
	for _, tt := range tests {
		if got, want := fmtAny(tt.in), fmtAny(tt.want); got != want {
			t.Errorf("%s = %s, want %s", tt.name, got, want)
		}
	}
}

func fmtAny(v any) string { return fmt.Sprint(v) }

func TestQueuesDefault(t *testing.T) {
	in := "lcores = [0, 1]\n" +
		port("p1", "net_af_xdp0,iface=p1,start_queue=0,queue_count=1", "access", "198.18.1.1/24") +
		port("p2", "net_af_xdp1,iface=p2,queue_count=4", "access", "198.18.2.1/24") +
		port("p3", "0000:03:00.0", "core", "198.18.3.1/24") +
		port("p4", "net_af_packet0,iface=p4,qpairs=2", "core", "198.18.4.1/24") +
		// 4 ports x 2 queues x (2048 + 1024) descriptors need more than
		// the default pool.
		"[mempool]\nmbufs = 32767\n"
	c, err := Parse("q.toml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   int
		want int
	}{
		{"af_xdp queue_count=1", c.Ports[0].Queues, 1},
		{"af_xdp queue_count=4, 2 workers", c.Ports[1].Queues, 2},
		{"pci", c.Ports[2].Queues, 2},
		{"af_packet qpairs=2", c.Ports[3].Queues, 2},
	}
	for _, tt := range tests {
		if tt.in != tt.want {
			t.Errorf("%s: queues = %d, want %d", tt.name, tt.in, tt.want)
		}
	}
}

func TestTypedValues(t *testing.T) {
	in := `
lcores = [0, 1]
idle = "poll"
burst = 64
log_level = "debug"
[metrics]
listen = ""
[[port]]
name = "wan"
device = "0000:03:00.0"
role = "core"
addresses = ["192.0.2.1/24"]
mtu = 9000
queues = 2
rx_desc = 2048
mac = "02:00:00:00:00:01"
[[port]]
name = "lan"
device = "0000:03:00.1"
role = "access"
addresses = ["198.18.1.1/24"]
[[route]]
prefix = "203.0.113.0/24"
via = "192.0.2.254"
[[neighbor]]
ip = "192.0.2.254"
mac = "02:00:00:00:00:fe"
[mempool]
mbufs = 32767
data_room = 9216
[proxy]
ports = ["80", "443", "5000-5100"]
translate = ["203.0.113.0/24"]
scheduler = "roundrobin"
checksum = "on"
linger = "500ms"
`
	c, err := Parse("t.toml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.Idle != IdlePoll || c.Burst != 64 || c.LogLevel != slog.LevelDebug || c.Metrics.Listen != "" {
		t.Errorf("top level = %v %d %v %q", c.Idle, c.Burst, c.LogLevel, c.Metrics.Listen)
	}
	p := c.Ports[0]
	if !p.IsPCI() || p.VdevName() != "" || p.MTU != 9000 || p.Queues != 2 || p.RxDesc != 2048 ||
		p.MAC.String() != (net.HardwareAddr{2, 0, 0, 0, 0, 1}).String() {
		t.Errorf("port wan = %+v", p)
	}
	if r := c.Routes[0]; r.Port != "wan" || r.PortIndex != 0 {
		t.Errorf("route port inferred from via = %q/%d, want wan/0", r.Port, r.PortIndex)
	}
	if n := c.Neighbors[0]; n.Port != "wan" || n.IP != netip.MustParseAddr("192.0.2.254") || n.MAC[5] != 0xfe {
		t.Errorf("neighbor = %+v", n)
	}
	if c.Proxy.Scheduler != SchedulerRoundRobin || c.Proxy.Checksum != ChecksumOn || c.Proxy.Linger != 500*time.Millisecond {
		t.Errorf("proxy = %+v", c.Proxy)
	}
	if !c.Proxy.TranslatesPrefix(netip.MustParseAddr("203.0.113.9")) || c.Proxy.TranslatesPrefix(netip.MustParseAddr("198.18.3.2")) {
		t.Error("TranslatesPrefix does not follow proxy.translate")
	}
	set := c.Proxy.PortSet()
	for _, tt := range []struct {
		in   uint16
		want bool
	}{{80, true}, {81, false}, {443, true}, {4999, false}, {5000, true}, {5100, true}, {5101, false}, {0, false}} {
		if got := set.Contains(tt.in); got != tt.want {
			t.Errorf("PortSet.Contains(%d) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// errCase is one row of the error tables: a file and a substring its
// error must contain.
type errCase struct {
	name string
	in   string
	want string
}

func runErrors(t *testing.T, tests []errCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if !strings.HasPrefix(msg, "config: bad.toml: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line starting with \"config: bad.toml: \"", msg)
			}
		})
	}
}

// port returns a [[port]] table.
func port(name, device, role string, addrs ...string) string {
	return "[[port]]\nname = \"" + name + "\"\ndevice = \"" + device + "\"\nrole = \"" + role +
		"\"\naddresses = [\"" + strings.Join(addrs, "\", \"") + "\"]\n"
}

func TestErrorUnknownKeys(t *testing.T) {
	runErrors(t, []errCase{
		{"top level", "lcore = [1]\n" + minimal, "unknown key lcore"},
		{"in port", minimal + "rol = \"core\"\n", "unknown key port.rol"},
		{"in proxy", minimal + "[proxy]\nschedular = \"minrtt\"\n", "unknown key proxy.schedular"},
		{"unknown table", minimal + "[translator]\nenabled = true\n", "unknown key translator"},
	})
}

func TestErrorSyntax(t *testing.T) {
	runErrors(t, []errCase{
		{"unterminated string", "log_level = \"info\n" + minimal, "line 1"},
		{"missing value", "burst =\n" + minimal, "fix the TOML"},
		{"wrong type", "burst = \"32\"\n" + minimal, `line 1 (last key "burst"): incompatible types`},
		{"duplicate key", "burst = 1\nburst = 2\n" + minimal, "line 2"},
	})
}

func TestErrorBadCIDR(t *testing.T) {
	runErrors(t, []errCase{
		{"no length", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			`port "p1": address "198.18.1.1" is not an address with a prefix length`},
		{"network address", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.0/24") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			"is the network address of 198.18.1.0/24; write the port's own address, e.g. 198.18.1.1/24"},
		{"broadcast", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.255/24") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			"broadcast"},
		{"multicast", port("p1", "net_af_xdp0,iface=p1", "access", "ff02::1/64") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			"not a unicast address"},
		{"route host bits", minimal + "[[route]]\nprefix = \"10.1.2.3/8\"\nport = \"p3\"\n", "has host bits set; write 10.0.0.0/8"},
		{"route garbage", minimal + "[[route]]\nprefix = \"default\"\nport = \"p3\"\n", `route #1: prefix "default" is not a prefix`},
		{"translate", minimal + "[proxy]\ntranslate = [\"10.0.0.0/33\"]\n", `proxy.translate: "10.0.0.0/33" is not a prefix`},
		{"neighbor ip", minimal + "[[neighbor]]\nip = \"198.18.3\"\nmac = \"02:00:00:00:00:01\"\n", `neighbor #1: ip "198.18.3" is not an IP address`},
	})
}

func TestErrorDuplicatePortNames(t *testing.T) {
	runErrors(t, []errCase{
		{"same name", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + port("p1", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			`port "p1": name is used by two ports`},
		{"same vdev", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + port("p3", "net_af_xdp0,iface=p3", "core", "198.18.3.1/24"),
			`port "p3": vdev name net_af_xdp0 is also used by port "p1"`},
		{"same pci", port("p1", "0000:03:00.0", "access", "198.18.1.1/24") + port("p3", "0000:03:00.0", "core", "198.18.3.1/24"),
			`port "p3": device 0000:03:00.0 is also the device of port "p1"`},
		{"missing name", port("", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24"), "port #1: name is missing"},
	})
}

func TestErrorRouteUnknownPort(t *testing.T) {
	runErrors(t, []errCase{
		{"unknown", minimal + "[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"198.18.3.2\"\nport = \"p9\"\n",
			`route 0.0.0.0/0: port "p9" is not a [[port]] name; use one of p1, p3`},
		{"neither port nor via", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\n", "route 10.0.0.0/8: port is missing"},
		{"neighbor unknown", minimal + "[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"02:00:00:00:00:01\"\nport = \"x\"\n",
			`neighbor 198.18.3.2: port "x" is not a [[port]] name`},
	})
}

func TestErrorRouteViaOutsideConnected(t *testing.T) {
	runErrors(t, []errCase{
		{"wrong port", minimal + "[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"198.18.3.2\"\nport = \"p1\"\n",
			`route 0.0.0.0/0: via 198.18.3.2 is outside every connected prefix of port "p1"`},
		{"inferred nowhere", minimal + "[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"192.0.2.1\"\n",
			"route 0.0.0.0/0: 192.0.2.1 is in no port's connected prefix"},
		{"own address", minimal + "[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"198.18.3.1\"\n",
			`via 198.18.3.1 is port "p3"'s own address`},
		{"family", minimal + "[[route]]\nprefix = \"::/0\"\nvia = \"198.18.3.2\"\n", "use an IPv6 next hop"},
		{"connected already", minimal + "[[route]]\nprefix = \"198.18.1.0/24\"\nport = \"p1\"\n", `prefix is already connected on port "p1"`},
		{"twice", minimal + "[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"198.18.3.2\"\n[[route]]\nprefix = \"10.0.0.0/8\"\nvia = \"198.18.3.3\"\n",
			"route 10.0.0.0/8: prefix is listed twice"},
		{"neighbor off subnet", minimal + "[[neighbor]]\nip = \"198.18.9.9\"\nmac = \"02:00:00:00:00:01\"\nport = \"p3\"\n",
			`ip is outside every connected prefix of port "p3"`},
	})
}

func TestErrorDuplicateAddresses(t *testing.T) {
	runErrors(t, []errCase{
		{"two ports", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.1.1/16"),
			`port "p3": address 198.18.1.1 is also an address of port "p1"`},
		{"one port twice", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24", "198.18.1.1/24") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			"is also an address of port \"p1\""},
		{"shared subnet", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + port("p3", "net_af_xdp2,iface=p3", "core", "198.18.1.2/24"),
			`prefix 198.18.1.0/24 is also connected on port "p1"`},
		{"neighbor twice", minimal + "[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"02:00:00:00:00:01\"\n[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"02:00:00:00:00:02\"\n",
			`neighbor 198.18.3.2: listed twice on port "p3"`},
	})
}

func TestErrorLcores(t *testing.T) {
	runErrors(t, []errCase{
		{"empty", "lcores = []\n" + minimal, "lcores is empty"},
		{"negative", "lcores = [-1]\n" + minimal, "lcores: -1 is not a CPU number"},
		{"too big", "lcores = [4096]\n" + minimal, "lcores: 4096 is not a CPU number (0..1023)"},
		{"twice", "lcores = [1, 1]\n" + minimal, "lcores: CPU 1 is listed twice"},
		{"queues above workers", "lcores = [1]\n" + minimal + "queues = 2\n", `port "p3": queues 2 is out of range; use 1..1`},
		{"queues above queue_count", "lcores = [1, 2]\n" + minimal + "queues = 2\n", `port "p3": queues 2 exceeds the device's queue_count=1; raise queue_count in device or lower queues`},
		{"queues above qpairs", "lcores = [1, 2]\n" + port("p1", "net_af_packet0,iface=p1", "access", "198.18.1.1/24") + "queues = 2\n" +
			port("p3", "net_af_packet2,iface=p3,qpairs=2", "core", "198.18.3.1/24"), `port "p1": queues 2 exceeds the device's qpairs=1`},
	})
	// CPUs the machine lacks or the affinity mask excludes: CheckCPUs with
	// an injected CPU list.
	tests := []struct {
		name   string
		lcores string
		usable []int
		want   string
	}{
		{"missing", "[1]", []int{0}, "lcores: CPU 1 does not exist or this process may not run on it (usable: 0)"},
		{"outside mask", "[0, 3]", []int{0, 1, 2, 5, 6, 7}, "CPU 3 does not exist or this process may not run on it (usable: 0-2,5-7)"},
		{"fine", "[2, 5]", []int{0, 1, 2, 5, 6, 7}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("cpu.toml", []byte("lcores = "+tt.lcores+"\n"+minimal))
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckCPUs(func() ([]int, error) { return tt.usable, nil })
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckCPUs: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "config: cpu.toml: ") {
				t.Errorf("CheckCPUs error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestUsableCPUsReal(t *testing.T) {
	cpus, err := UsableCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 || !slices.IsSorted(cpus) {
		t.Fatalf("UsableCPUs() = %v, want a non-empty sorted list", cpus)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	last := cpus[len(cpus)-1]
	if err := os.WriteFile(good, []byte("lcores = ["+strconv.Itoa(last)+"]\n"+minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("lcores = [1023]\n"+minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err != nil {
		t.Errorf("Load with lcores = [%d], a usable CPU: %v", last, err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "lcores: CPU 1023 does not exist") {
		t.Errorf("Load with lcores = [1023]: error %v, want one about CPU 1023", err)
	}
	if _, err := Load(filepath.Join(dir, "absent.toml")); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("Load of a missing file: error %v, want one mentioning --config", err)
	}
}

func TestErrorDurations(t *testing.T) {
	runErrors(t, []errCase{
		{"no unit", minimal + "[proxy]\nsyn_timeout = \"30\"\n", `proxy.syn_timeout "30" is not a duration`},
		{"words", minimal + "[proxy]\nidle_timeout = \"one hour\"\n", `proxy.idle_timeout "one hour" is not a duration`},
		{"zero", minimal + "[proxy]\nlinger = \"0s\"\n", "proxy.linger 0s is out of range"},
		{"negative", minimal + "[proxy]\njoin_timeout = \"-1s\"\n", "proxy.join_timeout -1s is out of range"},
		{"integer", minimal + "[proxy]\nsubflow_dead_after = 3\n", `(last key "proxy.subflow_dead_after")`},
	})
}

func TestErrorPortRanges(t *testing.T) {
	runErrors(t, []errCase{
		{"zero", minimal + "[proxy]\nports = [\"0\"]\n", `proxy.ports: "0" is not a TCP port`},
		{"too big", minimal + "[proxy]\nports = [\"65536\"]\n", `"65536" is not a TCP port`},
		{"backwards", minimal + "[proxy]\nports = [\"5100-5000\"]\n", `range "5100-5000" runs backwards; write 5000-5100`},
		{"garbage", minimal + "[proxy]\nports = [\"http\"]\n", `"http" is not a TCP port`},
		{"open range", minimal + "[proxy]\nports = [\"80-\"]\n", `"" is not a TCP port`},
		{"empty list", minimal + "[proxy]\nports = []\n", "proxy.ports is empty"},
	})
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want PortRange
	}{
		{"single", "80", PortRange{80, 80}},
		{"range", "5000-5100", PortRange{5000, 5100}},
		{"all", "1-65535", PortRange{1, 65535}},
		{"spaces", " 22 - 23 ", PortRange{22, 23}},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: ParsePortRange(%q) = %v, %v; want %v", tt.name, tt.in, got, err, tt.want)
		}
		if back, err := ParsePortRange(got.String()); err != nil || back != got {
			t.Errorf("%s: %v does not round-trip through String", tt.name, got)
		}
	}
}

func TestErrorMTU(t *testing.T) {
	v4only := port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24")
	core := port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24", "2001:db8:3::1/64")
	runErrors(t, []errCase{
		{"too small", v4only + "mtu = 67\n" + core, `port "p1": mtu 67 is out of range; use 68..9000`},
		{"too big", v4only + "mtu = 9001\n" + core, "mtu 9001 is out of range"},
		{"ipv6 minimum", v4only + core + "mtu = 1279\n", `port "p3": mtu 1279 is below 1280, the IPv6 minimum`},
		{"data room", v4only + "mtu = 9000\n" + core, "raise mempool.data_room to at least 9146"},
	})
	if _, err := Parse("ok.toml", []byte(v4only+"mtu = 576\n"+core)); err != nil {
		t.Errorf("mtu 576 on an IPv4-only port: %v", err)
	}
}

func TestErrorMAC(t *testing.T) {
	runErrors(t, []errCase{
		{"garbage", minimal + "mac = \"02:00:00\"\n", `port "p3": mac "02:00:00" is not a 48-bit MAC address`},
		{"eui64", minimal + "mac = \"02:00:00:00:00:00:00:01\"\n", "is not a 48-bit MAC address"},
		{"multicast", minimal + "mac = \"01:00:5e:00:00:01\"\n", "is a multicast MAC address"},
		{"zero", minimal + "mac = \"00:00:00:00:00:00\"\n", "is all zeros"},
		{"neighbor", minimal + "[[neighbor]]\nip = \"198.18.3.2\"\nmac = \"ff:ff:ff:ff:ff:ff\"\n", `neighbor 198.18.3.2: mac "ff:ff:ff:ff:ff:ff" is a multicast`},
	})
}

func TestErrorRole(t *testing.T) {
	runErrors(t, []errCase{
		{"typo", port("p1", "net_af_xdp0,iface=p1", "acces", "198.18.1.1/24"), `port "p1": role "acces" is not one of access, core`},
		{"missing", port("p1", "net_af_xdp0,iface=p1", "", "198.18.1.1/24"), `port "p1": role is missing`},
		{"no core port", port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24"),
			"proxy.enabled needs at least one access and one core port"},
		{"no access port", port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"),
			"proxy.enabled needs at least one access and one core port"},
	})
	// A router without translation may have any roles.
	in := port("p1", "net_af_xdp0,iface=p1", "access", "198.18.1.1/24") + port("p2", "net_af_xdp1,iface=p2", "access", "198.18.2.1/24") +
		"[proxy]\nenabled = false\n"
	if _, err := Parse("router.toml", []byte(in)); err != nil {
		t.Errorf("two access ports with proxy.enabled = false: %v", err)
	}
}

func TestErrorIdle(t *testing.T) {
	runErrors(t, []errCase{
		{"typo", "idle = \"polling\"\n" + minimal, `idle "polling" is not one of poll, adaptive`},
		{"case", "idle = \"Poll\"\n" + minimal, `idle "Poll" is not one of poll, adaptive`},
	})
}

func TestErrorScheduler(t *testing.T) {
	runErrors(t, []errCase{
		{"unknown", minimal + "[proxy]\nscheduler = \"fastest\"\n", `proxy.scheduler "fastest" is not one of minrtt, roundrobin, weighted, active-standby, priority`},
		{"rule scheduler", minimal + "[[proxy.scheduler_rule]]\nprefix = \"198.18.0.0/15\"\nscheduler = \"redundant\"\n", `proxy.scheduler_rule[0]: scheduler "redundant" is not one of`},
		{"rule prefix", minimal + "[[proxy.scheduler_rule]]\nprefix = \"198.18.0.0/33\"\nscheduler = \"weighted\"\n", `proxy.scheduler_rule[0]: prefix "198.18.0.0/33"`},
		{"rule twice", minimal + "[[proxy.scheduler_rule]]\nprefix = \"198.18.0.0/15\"\nscheduler = \"weighted\"\n[[proxy.scheduler_rule]]\nprefix = \"198.18.0.0/15\"\nscheduler = \"minrtt\"\n", "listed twice"},
		{"backup unknown", minimal + "[proxy]\nbackup_ports = [\"p9\"]\n", `proxy.backup_ports: no port is called "p9"`},
		{"backup core", minimal + "[proxy]\nbackup_ports = [\"p3\"]\n", `proxy.backup_ports: port "p3" is a core port`},
		{"priority twice", minimal + "[proxy]\nport_priority = [\"p1\", \"p1\"]\n", `proxy.port_priority: port "p1" is listed twice`},
		{"stale not below dead", minimal + "[proxy]\nsubflow_dead_after = \"1s\"\nsubflow_stale_after = \"2s\"\n", "proxy.subflow_stale_after 2s is not below proxy.subflow_dead_after 1s"},
	})
}

// TestSchedulerKeys: every scheduler name, rules per prefix, backup and
// priority ports by name.
func TestSchedulerKeys(t *testing.T) {
	for _, name := range []string{"minrtt", "roundrobin", "weighted", "active-standby", "priority"} {
		c, err := Parse("s.toml", []byte(minimal+"[proxy]\nscheduler = \""+name+"\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Proxy.Scheduler.String() != name {
			t.Errorf("scheduler %q parsed as %v", name, c.Proxy.Scheduler)
		}
	}
	two := minimal + `
[[port]]
name = "p2"
device = "net_af_xdp1,iface=p2"
role = "access"
addresses = ["198.18.2.1/24"]

[proxy]
scheduler = "weighted"
subflow_stale_after = "300ms"
backup_ports = ["p2"]
port_priority = ["p2", "p1"]

[[proxy.scheduler_rule]]
prefix = "198.18.3.0/24"
scheduler = "active-standby"

[[proxy.scheduler_rule]]
prefix = "2001:db8::/32"
scheduler = "priority"
`
	c, err := Parse("s.toml", []byte(two))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Proxy
	p2 := c.PortIndex("p2")
	if p.Scheduler != SchedulerWeighted || p.SubflowStaleAfter != 300*time.Millisecond ||
		!slices.Equal(p.BackupPorts, []int{p2}) || !slices.Equal(p.PortPriority, []int{p2, c.PortIndex("p1")}) {
		t.Errorf("proxy %+v", p)
	}
	want := []SchedulerRule{
		{netip.MustParsePrefix("198.18.3.0/24"), SchedulerActiveStandby},
		{netip.MustParsePrefix("2001:db8::/32"), SchedulerPriority},
	}
	if !slices.Equal(p.SchedulerRules, want) {
		t.Errorf("rules %v, want %v", p.SchedulerRules, want)
	}
}

func TestErrorNoPorts(t *testing.T) {
	runErrors(t, []errCase{
		{"empty file", "", "no [[port]] tables"},
		{"only top level", "lcores = [1]\n", "no [[port]] tables"},
	})
}

func TestErrorOther(t *testing.T) {
	runErrors(t, []errCase{
		{"device", port("p1", "eth0", "access", "198.18.1.1/24"), `device "eth0" is neither a PCI address`},
		{"no iface", port("p1", "net_af_xdp0", "access", "198.18.1.1/24"), "has no iface="},
		{"no pci with pci device", "eal = [\"--no-pci\"]\n" + port("p1", "0000:03:00.0", "access", "198.18.1.1/24") +
			port("p3", "net_af_xdp2,iface=p3", "core", "198.18.3.1/24"), "is a PCI address but eal has --no-pci"},
		{"vdev twice", "eal = [\"--vdev\", \"net_af_xdp0,iface=p1\"]\n" + minimal, "is also given with --vdev in eal"},
		{"burst", "burst = 0\n" + minimal, "burst 0 is out of range; use 1..256"},
		{"log level", "log_level = \"trace\"\n" + minimal, `log_level "trace" is not one of debug, info, warn, error`},
		{"listen host", minimal + "[metrics]\nlisten = \"metrics.example:9750\"\n", "is not an IP address"},
		{"listen no port", minimal + "[metrics]\nlisten = \"127.0.0.1\"\n", "is not host:port"},
		{"desc", minimal + "rx_desc = 1000\n", "rx_desc 1000 must be a power of two"},
		{"mbufs", minimal + "[mempool]\nmbufs = 1000\n", "raise mbufs to at least"},
		{"cache", minimal + "[mempool]\ncache = 1024\n", "mempool.cache 1024 is out of range"},
		{"max subflows", minimal + "[proxy]\nmax_subflows = 0\n", "proxy.max_subflows 0 is out of range"},
		{"join subflows negative", minimal + "[proxy]\njoin_subflows = -1\n", "proxy.join_subflows -1 is out of range"},
		{"join subflows too many", minimal + "[proxy]\nmax_connections = 10\nmax_subflows = 3\njoin_subflows = 21\n", "proxy.join_subflows 21 is out of range; use 0..20"},
		{"sack tables negative", minimal + "[proxy]\nsack_tables = -1\n", "proxy.sack_tables -1 is out of range"},
		{"sack tables too many", minimal + "[proxy]\nmax_connections = 10\nsack_tables = 11\n", "proxy.sack_tables 11 is out of range; use 0..10"},
		{"max connections", minimal + "[proxy]\nmax_connections = -5\n", "proxy.max_connections -5 is out of range"},
		{"checksum", minimal + "[proxy]\nchecksum = \"maybe\"\n", `proxy.checksum "maybe" is not one of auto, on, off`},
		{"timestamps", minimal + "[proxy]\ntimestamps = \"translate\"\n", `proxy.timestamps "translate" is not supported yet`},
		{"translate empty", minimal + "[proxy]\ntranslate = []\n", "proxy.translate is empty"},
		{"too many ports", strings.Repeat(port("p", "net_tap0", "access", "198.18.1.1/24"), MaxPorts+1), "at most 16 are supported"},
	})
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name      string
		in        []string
		eal, rest []string
	}{
		{"no separator", []string{"--config", "f.toml"}, nil, []string{"--config", "f.toml"}},
		{"dpdk style", []string{"-l", "0-1", "--no-pci", "--", "--config", "f.toml"}, []string{"-l", "0-1", "--no-pci"}, []string{"--config", "f.toml"}},
		{"empty eal", []string{"--", "--config", "f.toml"}, []string{}, []string{"--config", "f.toml"}},
		{"nothing", nil, nil, nil},
	}
	for _, tt := range tests {
		eal, rest := SplitArgs(tt.in)
		if !slices.Equal(eal, tt.eal) || !slices.Equal(rest, tt.rest) {
			t.Errorf("%s: SplitArgs(%q) = %q, %q; want %q, %q", tt.name, tt.in, eal, rest, tt.eal, tt.rest)
		}
	}
}

func TestSetEAL(t *testing.T) {
	c, err := Parse("f.toml", []byte("eal = [\"--in-memory\"]\n"+minimal))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetEAL(nil); err != nil || !slices.Equal(c.EAL, []string{"--in-memory"}) {
		t.Errorf("SetEAL(nil) changed EAL to %q (err %v); want the file's", c.EAL, err)
	}
	if err := c.SetEAL([]string{"-l", "0-1", "--no-huge"}); err != nil || !slices.Equal(c.EAL, []string{"-l", "0-1", "--no-huge"}) {
		t.Errorf("SetEAL from the command line: EAL = %q, err %v", c.EAL, err)
	}
	if c.NeedsHugepages() {
		t.Error("NeedsHugepages() with --no-huge = true, want false")
	}
	if err := c.SetEAL([]string{"--vdev=net_af_xdp2,iface=p3"}); err == nil || !strings.Contains(err.Error(), "vdev net_af_xdp2") {
		t.Errorf("SetEAL with a port's vdev: error %v, want one naming net_af_xdp2", err)
	}
	if !slices.Equal(c.EAL, []string{"-l", "0-1", "--no-huge"}) {
		t.Errorf("a refused SetEAL changed EAL to %q", c.EAL)
	}
	want := []string{"-l", "0-1", "--no-huge", "--vdev", "net_af_xdp0,iface=p1", "--vdev", "net_af_xdp2,iface=p3"}
	if got := c.EALArgs(); !slices.Equal(got, want) {
		t.Errorf("EALArgs() = %q, want %q", got, want)
	}
}

func TestFormatCPUList(t *testing.T) {
	tests := []struct {
		name string
		in   []int
		want string
	}{
		{"none", nil, "none"},
		{"one", []int{3}, "3"},
		{"run", []int{0, 1, 2, 3}, "0-3"},
		{"mixed", []int{0, 2, 3, 4, 7, 9, 10}, "0,2-4,7,9-10"},
	}
	for _, tt := range tests {
		if got := FormatCPUList(tt.in); got != tt.want {
			t.Errorf("%s: FormatCPUList(%v) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestPortSetAllocs(t *testing.T) {
	var s PortSet
	s.Add(PortRange{80, 80})
	var hit bool
	allocs := testing.AllocsPerRun(1000, func() { hit = s.Contains(80) })
	if allocs != 0 || !hit {
		t.Errorf("PortSet.Contains: %v allocs, hit %v; want 0 allocs and a hit", allocs, hit)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"../examples/netns.toml", "../examples/netns-afpacket.toml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"198.18.3.2\"\n[proxy]\nports = [\"80\", \"1-2\"]\n"))
	f.Add([]byte("lcores = [1, 1]\nburst = \"x\"\n[[port]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "config: fuzz.toml: ") {
				t.Fatalf("error is not one line with the file name: %q", msg)
			}
			return
		}
		// A config that parses is complete: every port has a role, a queue
		// and an address, and every route names an existing port.
		if len(c.Ports) == 0 || c.Burst < MinBurst || len(c.Lcores) == 0 {
			t.Fatalf("accepted an incomplete config: %+v", c)
		}
		for _, p := range c.Ports {
			if p.Queues < 1 || len(p.Addresses) == 0 || p.MTU < MinMTU {
				t.Fatalf("accepted port %+v", p)
			}
		}
		for _, r := range c.Routes {
			if c.Ports[r.PortIndex].Name != r.Port {
				t.Fatalf("route %+v names port index %d", r, r.PortIndex)
			}
		}
		_ = c.HugepageBytes()
		_ = c.EALArgs()
	})
}

func TestMaxPortsMatchesMetrics(t *testing.T) {
	if MaxPorts != metrics.MaxPorts {
		t.Errorf("config.MaxPorts = %d, metrics.MaxPorts = %d; a port index must fit the counter arrays", MaxPorts, metrics.MaxPorts)
	}
}
