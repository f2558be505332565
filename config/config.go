package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// MaxPorts is the largest number of [[port]] tables a file may hold. It
// matches metrics.MaxPorts, the size of the per-port counter arrays.
const MaxPorts = 16

// Defaults applied to keys the file leaves out. docs/config.md lists them
// with their meaning. DefaultDesc is the transmit ring size and
// DefaultRxDesc the receive ring size of each queue: 2048, because DPDK
// 22.11's af_xdp PMD posts 2048 buffers to a socket's fill ring whatever
// the ring size, so an AF_XDP receive ring holds at most 2048 packets:
// twice as long a gap of the worker as 1024 (docs/config.md, "Receive
// drops on AF_XDP").
const (
	DefaultIdle             = IdleAdaptive
	DefaultBurst            = 32
	DefaultLogLevel         = slog.LevelInfo
	DefaultMetricsListen    = "127.0.0.1:9750"
	DefaultMTU              = 1500
	DefaultDesc             = 1024
	DefaultRxDesc           = 2048
	DefaultMbufs            = 16383
	DefaultMbufCache        = 256
	DefaultDataRoom         = 2176
	DefaultMaxConnections   = 65536
	DefaultMaxSubflows      = 8
	DefaultScheduler        = SchedulerMinRTT
	DefaultChecksum         = ChecksumAuto
	DefaultSYNTimeout       = 30 * time.Second
	DefaultJoinTimeout      = 10 * time.Second
	DefaultIdleTimeout      = time.Hour
	DefaultLinger           = 60 * time.Second
	DefaultSubflowDeadAfter = 3 * time.Second
	// DefaultStalePrompt: the stale prompt (I30) is on; results/path.md.
	DefaultStalePrompt = true
	// DefaultThinServerAcks: ACK thinning (dataplane/thin.go) is on.
	DefaultThinServerAcks = true
)

// DefaultLcores is the worker CPU list used when the file has no lcores
// key: one worker on CPU 1, leaving CPU 0 to the EAL main thread, the Go
// runtime and the kernel.
var DefaultLcores = []int{1}

// Limits checked by Parse.
const (
	MinBurst       = 1
	MaxBurst       = 256
	MinMTU         = 68
	MinMTUIPv6     = 1280 // RFC 8200 section 5
	MaxMTU         = 9000
	MinDesc        = 64
	MaxDesc        = 32768
	MaxLcores      = 128  // RTE_MAX_LCORE in Debian's DPDK 22.11
	MaxCPU         = 1023 // CPU_SETSIZE - 1
	MaxMbufCache   = 512  // RTE_MEMPOOL_CACHE_MAX_SIZE
	MbufHeadroom   = 128  // RTE_PKTMBUF_HEADROOM
	MaxDataRoom    = 65535
	MaxConnections = 1 << 24
	MaxSubflows    = 32
	MinDuration    = 10 * time.Millisecond
	MaxDuration    = 7 * 24 * time.Hour
	l2Overhead     = 14 + 4 // Ethernet header and one VLAN tag
)

// IdlePolicy says what a worker does after polls that return no packets.
type IdlePolicy uint8

const (
	// IdleAdaptive backs off to short sleeps after a run of empty polls, so
	// flexcp can share a small machine with its test peers.
	IdleAdaptive IdlePolicy = iota
	// IdlePoll spins on the receive queues: lowest latency, one CPU at 100%
	// per worker.
	IdlePoll
)

// String returns the policy's name as written in the file.
func (p IdlePolicy) String() string {
	switch p {
	case IdleAdaptive:
		return "adaptive"
	case IdlePoll:
		return "poll"
	}
	return fmt.Sprintf("IdlePolicy(%d)", uint8(p))
}

// Role is what a port faces.
type Role uint8

const (
	// RoleAccess faces clients: one access port per access network.
	RoleAccess Role = iota
	// RoleCore faces servers.
	RoleCore
)

// String returns the role's name as written in the file.
func (r Role) String() string {
	switch r {
	case RoleAccess:
		return "access"
	case RoleCore:
		return "core"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Scheduler is the policy that spreads server-to-client data over a
// connection's subflows (DESIGN.md section 3.5).
type Scheduler uint8

const (
	// SchedulerMinRTT picks the live subflow with the lowest smoothed RTT
	// among those with room in their window.
	SchedulerMinRTT Scheduler = iota
	// SchedulerRoundRobin takes live subflows with room in turn.
	SchedulerRoundRobin
	// SchedulerWeighted spreads data in proportion to the subflows'
	// measured delivery rates.
	SchedulerWeighted
	// SchedulerActiveStandby sends on one active subflow; the others
	// (and backups) stand by until it fails.
	SchedulerActiveStandby
	// SchedulerPriority uses the access ports in the strict order of
	// proxy.port_priority, spilling to the next when one is full.
	SchedulerPriority
)

// schedulerNames are the names of the schedulers, by value.
var schedulerNames = [...]string{"minrtt", "roundrobin", "weighted", "active-standby", "priority"}

// ParseScheduler returns the scheduler called name.
func ParseScheduler(name string) (Scheduler, bool) {
	for i, n := range schedulerNames {
		if n == name {
			return Scheduler(i), true
		}
	}
	return 0, false
}

// String returns the scheduler's name as written in the file.
func (s Scheduler) String() string {
	if int(s) < len(schedulerNames) {
		return schedulerNames[s]
	}
	return fmt.Sprintf("Scheduler(%d)", uint8(s))
}

// ChecksumPolicy says when translated connections use MPTCP DSS checksums
// (RFC 8684 section 3.3.1).
type ChecksumPolicy uint8

const (
	// ChecksumAuto follows the client: checksums are used iff the client's
	// MP_CAPABLE SYN sets the A flag; the proxy never asks for them itself.
	ChecksumAuto ChecksumPolicy = iota
	// ChecksumOn sets the A flag in the proxy's SYN/ACK, so every translated
	// connection uses DSS checksums.
	ChecksumOn
	// ChecksumOff never computes DSS checksums: a client that requires them
	// gets a SYN/ACK without MP_CAPABLE and falls back to plain TCP.
	ChecksumOff
)

// String returns the policy's name as written in the file.
func (p ChecksumPolicy) String() string {
	switch p {
	case ChecksumAuto:
		return "auto"
	case ChecksumOn:
		return "on"
	case ChecksumOff:
		return "off"
	}
	return fmt.Sprintf("ChecksumPolicy(%d)", uint8(p))
}

// TimestampPolicy says what the translator does with the TCP timestamp
// option (DESIGN.md section 3.6).
type TimestampPolicy uint8

const (
	// TimestampsStrip removes the timestamp option from the client's SYN, so
	// neither the subflows nor the server connection use timestamps.
	TimestampsStrip TimestampPolicy = iota
)

// String returns the policy's name as written in the file.
func (p TimestampPolicy) String() string {
	if p == TimestampsStrip {
		return "strip"
	}
	return fmt.Sprintf("TimestampPolicy(%d)", uint8(p))
}

// Config is a parsed and validated configuration file. Parse and Load
// return it with every default filled in.
type Config struct {
	// Name is the file name used in error messages.
	Name string
	// EAL holds the DPDK EAL arguments, without a program name.
	EAL []string
	// Lcores are the CPUs of the workers, one worker per CPU, in order:
	// worker i runs on Lcores[i] and polls queue i of every port.
	Lcores []int
	// Idle is what a worker does when its queues are empty.
	Idle IdlePolicy
	// Burst is the number of packets per receive and transmit call.
	Burst int
	// LogLevel is the lowest level logged.
	LogLevel slog.Level
	// Metrics configures the Prometheus endpoint.
	Metrics Metrics
	// Ports are the DPDK ports in file order; a port's index is its
	// position here.
	Ports []Port
	// Routes are the static routes in file order.
	Routes []Route
	// Neighbors are the static ARP/NDP entries in file order.
	Neighbors []Neighbor
	// Mempool sizes the packet buffer pool.
	Mempool Mempool
	// Proxy configures the MPTCP-to-TCP translator.
	Proxy Proxy
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is the host:port of the HTTP server serving /metrics; empty
	// means no server.
	Listen string
}

// Port is one DPDK port.
type Port struct {
	// Name labels the port in logs, routes and metrics.
	Name string
	// Device is the DPDK device: a PCI address or a vdev string. For a
	// port given as a devices list it is the first of them.
	Device string
	// Devices, when not nil, lists one single-queue vdev per queue: queue
	// q of the port is queue 0 of Devices[q] (an af_xdp PMD refuses
	// queue_count > 1 on a veth, DESIGN.md section 7). Nil when Device
	// provides every queue.
	Devices []string
	// Role says whether the port faces clients or servers.
	Role Role
	// Addresses are the port's own addresses with their prefix lengths;
	// each gives a connected route (Prefix.Masked()).
	Addresses []netip.Prefix
	// MTU is the largest IP packet the port sends or receives.
	MTU int
	// Queues is the number of receive and transmit queues; queue i is
	// polled by worker i. It defaults to the number of workers, capped by
	// an af_xdp vdev's queue_count or an af_packet vdev's qpairs.
	Queues int
	// RxDesc and TxDesc are the descriptor ring sizes of each queue.
	RxDesc, TxDesc int
	// MAC overrides the device's MAC address when not nil.
	MAC net.HardwareAddr
}

// IsPCI reports whether Device is a PCI address rather than a vdev.
func (p *Port) IsPCI() bool { return pciRE.MatchString(p.Device) }

// VdevName returns the vdev's name (the part of Device before the first
// comma), or "" for a PCI device.
func (p *Port) VdevName() string {
	if p.IsPCI() {
		return ""
	}
	name, _, _ := strings.Cut(p.Device, ",")
	return name
}

// DeviceList returns the port's devices: Devices, or Device alone.
func (p *Port) DeviceList() []string {
	if p.Devices != nil {
		return p.Devices
	}
	return []string{p.Device}
}

// HasIPv6 reports whether the port has an IPv6 address.
func (p *Port) HasIPv6() bool {
	for _, a := range p.Addresses {
		if a.Addr().Is6() {
			return true
		}
	}
	return false
}

// Connected reports whether addr lies in one of the port's connected
// prefixes, and the length of the longest such prefix.
func (p *Port) Connected(addr netip.Addr) (bits int, ok bool) {
	bits = -1
	for _, a := range p.Addresses {
		if a.Contains(addr) && a.Bits() > bits {
			bits = a.Bits()
		}
	}
	return bits, bits >= 0
}

// Owns reports whether addr is one of the port's own addresses.
func (p *Port) Owns(addr netip.Addr) bool {
	for _, a := range p.Addresses {
		if a.Addr() == addr {
			return true
		}
	}
	return false
}

// Route is a static route.
type Route struct {
	// Prefix is the destination prefix (host bits zero).
	Prefix netip.Prefix
	// Via is the next hop; the zero Addr means the destination is on-link
	// and is resolved directly on the port.
	Via netip.Addr
	// Port and PortIndex name the port the route leaves by.
	Port      string
	PortIndex int
}

// Neighbor is a static ARP (IPv4) or NDP (IPv6) entry.
type Neighbor struct {
	// IP is the neighbour's address, inside a connected prefix of its port.
	IP netip.Addr
	// MAC is the neighbour's Ethernet address.
	MAC net.HardwareAddr
	// Port and PortIndex name the port the neighbour is reached on.
	Port      string
	PortIndex int
}

// Mempool sizes the packet buffer pool.
type Mempool struct {
	// Mbufs is the number of packet buffers; 2^n-1 uses memory best.
	Mbufs int
	// Cache is the per-lcore cache of free buffers.
	Cache int
	// DataRoom is the buffer size of each mbuf, headroom included.
	DataRoom int
}

// Proxy configures the MPTCP-to-TCP translator.
type Proxy struct {
	// Enabled turns translation on; when false flexcp only routes.
	Enabled bool
	// Translate holds the destination prefixes whose MPTCP connections are
	// translated.
	Translate []netip.Prefix
	// Ports holds the destination TCP ports whose MPTCP connections are
	// translated.
	Ports []PortRange
	// Scheduler spreads server-to-client data over subflows.
	Scheduler Scheduler
	// MaxConnections bounds the connection table of each worker.
	MaxConnections int
	// MaxSubflows bounds the subflows of one connection.
	MaxSubflows int
	// JoinSubflows bounds the join subflows (all but each connection's
	// first) alive at once in one worker; they share one table of this
	// size. 0 means max_connections (one join per connection on average).
	JoinSubflows int
	// SackTables bounds the connections of one worker that remember
	// server-SACKed client data at once (docs/translation.md, I25); they
	// share one table of this size. 0 means max_connections / 4.
	SackTables int
	// Checksum says when DSS checksums are used.
	Checksum ChecksumPolicy
	// Timestamps says what happens to the TCP timestamp option.
	Timestamps TimestampPolicy
	// SYNTimeout drops a connection whose server has not answered the SYN.
	SYNTimeout time.Duration
	// JoinTimeout drops a join whose third ACK has not arrived.
	JoinTimeout time.Duration
	// IdleTimeout drops an established connection that has seen no packet.
	IdleTimeout time.Duration
	// Linger keeps a closed connection's state to answer retransmissions.
	Linger time.Duration
	// SubflowDeadAfter declares a subflow dead after this long with data
	// outstanding and no subflow-level ack progress.
	SubflowDeadAfter time.Duration
	// SubflowStaleAfter marks a subflow stale (no new data while another
	// is live) after this long with data outstanding and no progress;
	// zero means a quarter of SubflowDeadAfter.
	SubflowStaleAfter time.Duration
	// StalePrompt: when a subflow goes stale holding the first
	// server-to-client byte the client lacks, prompt the server to
	// retransmit at once with a translated duplicate-ACK/SACK pattern
	// and reinject its retransmission on a live subflow
	// (docs/translation.md, I30). Default true (results/path.md).
	StalePrompt bool
	// ThinServerAcks: a worker frees the server's pure ACKs that a later
	// pure ACK of the same connection in the same receive burst
	// supersedes, before translation (docs/design.md, "ACK thinning").
	// Default true.
	ThinServerAcks bool
	// SchedulerRules choose a scheduler per destination prefix (longest
	// match), overriding Scheduler.
	SchedulerRules []SchedulerRule
	// BackupPorts are the indices of access ports whose subflows are
	// backups: flexcp sends them data only when no other subflow is live
	// and tells the client so with MP_PRIO.
	BackupPorts []int
	// PortPriority orders access ports (indices) for the priority
	// scheduler, preferred first.
	PortPriority []int
}

// SchedulerRule selects the scheduler of connections toward Prefix.
type SchedulerRule struct {
	Prefix    netip.Prefix
	Scheduler Scheduler
}

// TranslatesPrefix reports whether dst lies in one of the Translate prefixes.
func (p *Proxy) TranslatesPrefix(dst netip.Addr) bool {
	for _, pfx := range p.Translate {
		if pfx.Contains(dst) {
			return true
		}
	}
	return false
}

// Load reads the file at path, parses it, and checks its lcores against
// the CPUs this process may run on (UsableCPUs).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w; pass an existing file to --config", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := c.CheckCPUs(UsableCPUs); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes data, the contents of the file called name, fills in
// defaults and checks everything that does not depend on the machine. The
// error, if any, is one line naming the file, the key and what to change.
func Parse(name string, data []byte) (*Config, error) {
	var raw rawConfig
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			key := ""
			if pe.LastKey != "" {
				key = fmt.Sprintf(" (last key %q)", pe.LastKey)
			}
			return nil, fmt.Errorf("config: %s: line %d%s: %s; fix the TOML there",
				name, pe.Position.Line, key, oneLine(pe.Message))
		}
		// Type mismatches come as plain errors: "toml: line N (last key
		// "k"): incompatible types: ...".
		return nil, fmt.Errorf("config: %s: %s; write the value with the type docs/config.md gives (durations, ports and addresses are strings)",
			name, oneLine(strings.TrimPrefix(err.Error(), "toml: ")))
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("config: %s: unknown key %s; check its spelling and table against docs/config.md",
			name, und[0])
	}
	b := builder{name: name}
	c := b.build(&raw)
	if b.err != nil {
		return nil, b.err
	}
	return c, nil
}

// oneLine folds a multi-line message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
