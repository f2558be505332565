package golden

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Scenario names: each is recorded on the three interfaces as
// <name>-<iface>.pcap in [Dir].
const (
	// MPTCPv4Basic: one MPTCP connection over IPv4, data both ways on both
	// subflows, clean close started by the client.
	MPTCPv4Basic = "mptcp-v4-basic"
	// MPTCPv4ServerClose: like MPTCPv4Basic, but the server closes first.
	MPTCPv4ServerClose = "mptcp-v4-serverclose"
	// MPTCPv4Csum: like MPTCPv4Basic with DSS checksums negotiated.
	MPTCPv4Csum = "mptcp-v4-csum"
	// MPTCPv6Basic: like MPTCPv4Basic over IPv6.
	MPTCPv6Basic = "mptcp-v6-basic"
	// TCPFallback: an MPTCP client and a plain TCP server; the client falls
	// back to TCP after a SYN/ACK without MP_CAPABLE.
	TCPFallback = "tcp-fallback"
	// MPTCPv4RST: the client process is killed mid-transfer with unread
	// data; the kernel resets the connection with MP_FASTCLOSE.
	MPTCPv4RST = "mptcp-v4-rst"
)

// Interface names of the proxy namespace, as in DESIGN.md section 7.
const (
	// IfaceAccess1 is p1, access path 1, where the initial subflow runs.
	IfaceAccess1 = "p1"
	// IfaceAccess2 is p2, access path 2, where the MP_JOIN subflow runs.
	IfaceAccess2 = "p2"
	// IfaceCore is p3, toward the server: both subflows, as forwarded.
	IfaceCore = "p3"
)

// Scenarios returns the names of all recorded scenarios.
func Scenarios() []string {
	return []string{MPTCPv4Basic, MPTCPv4ServerClose, MPTCPv4Csum, MPTCPv6Basic, TCPFallback, MPTCPv4RST}
}

// Ifaces returns the interface names every scenario is recorded on.
func Ifaces() []string {
	return []string{IfaceAccess1, IfaceAccess2, IfaceCore}
}

// Packet is one captured frame, reduced to its IP packet.
type Packet struct {
	// File is the base name of the pcap, e.g. "mptcp-v4-basic-p1.pcap".
	File string
	// Scenario and Iface are parsed from File ("mptcp-v4-basic", "p1");
	// both are empty when File does not follow <scenario>-<iface>.pcap.
	Scenario string
	Iface    string
	// Index is the 0-based position of the frame in File.
	Index int
	// Time is the capture timestamp.
	Time time.Time
	// Data is the IP packet: from the IPv4 or IPv6 header to the end of
	// the IP payload (Ethernet header and trailing padding removed). It is
	// the packet's own copy; tests may modify it.
	Data []byte
}

// Dir returns the directory holding the captures: $FLEXCP_GOLDEN_DIR if
// set, else translate/testdata of the module this package was built from.
func Dir() (string, error) {
	if d := os.Getenv("FLEXCP_GOLDEN_DIR"); d != "" {
		return d, nil
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Join(filepath.Dir(file), "..", "..", "translate", "testdata")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return filepath.Clean(d), nil
		}
	}
	// Built with -trimpath: look for the module root from the working
	// directory up.
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("golden: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/flexcp/flexcp") {
			return filepath.Join(d, "translate", "testdata"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("golden: cannot find translate/testdata; set FLEXCP_GOLDEN_DIR")
		}
	}
}

// Path returns the path of the capture of scenario on iface.
func Path(scenario, iface string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, scenario+"-"+iface+".pcap"), nil
}

// Files returns the paths of every pcap in [Dir], sorted (for fuzz seeds).
func Files() ([]string, error) {
	d, err := Dir()
	if err != nil {
		return nil, err
	}
	m, err := filepath.Glob(filepath.Join(d, "*.pcap"))
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	sort.Strings(m)
	return m, nil
}

// Load reads the capture of scenario on iface from [Dir].
func Load(scenario, iface string) ([]Packet, error) {
	p, err := Path(scenario, iface)
	if err != nil {
		return nil, err
	}
	return LoadFile(p)
}

// MustLoad is Load for tests: it fails tb on error.
func MustLoad(tb testing.TB, scenario, iface string) []Packet {
	tb.Helper()
	pkts, err := Load(scenario, iface)
	if err != nil {
		tb.Fatal(err)
	}
	return pkts
}

// LoadFile reads a pcap (not pcapng) file of Ethernet frames and returns
// its IPv4 and IPv6 packets in file order. Frames of other EtherTypes are
// skipped but still counted in Index. A truncated frame (captured length
// below the IP total length) is an error: the captures use a full snaplen.
func LoadFile(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	defer f.Close()
	return Read(f, filepath.Base(path))
}

// Read is LoadFile on an open pcap stream; name becomes Packet.File.
func Read(r io.Reader, name string) ([]Packet, error) {
	pr, err := pcapgo.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("golden: %s: %w", name, err)
	}
	if pr.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("golden: %s: link type %v, want Ethernet", name, pr.LinkType())
	}
	scenario, iface := splitName(name)
	var out []Packet
	for i := 0; ; i++ {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("golden: %s: frame %d: %w", name, i, err)
		}
		ip, err := ipPacket(data)
		if err != nil {
			return nil, fmt.Errorf("golden: %s: frame %d: %w", name, i, err)
		}
		if ip == nil {
			continue
		}
		out = append(out, Packet{
			File:     name,
			Scenario: scenario,
			Iface:    iface,
			Index:    i,
			Time:     ci.Timestamp,
			Data:     append([]byte(nil), ip...),
		})
	}
}

// splitName splits "mptcp-v4-basic-p1.pcap" into scenario and interface.
func splitName(name string) (scenario, iface string) {
	base, ok := strings.CutSuffix(name, ".pcap")
	if !ok {
		return "", ""
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 || i == len(base)-1 {
		return "", ""
	}
	return base[:i], base[i+1:]
}

const (
	etherHeaderLen = 14
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeVLAN  = 0x8100
)

// ipPacket returns the IP packet inside an Ethernet frame, nil for a frame
// that carries neither IPv4 nor IPv6.
func ipPacket(frame []byte) ([]byte, error) {
	if len(frame) < etherHeaderLen {
		return nil, fmt.Errorf("frame of %d bytes", len(frame))
	}
	et := binary.BigEndian.Uint16(frame[12:])
	b := frame[etherHeaderLen:]
	if et == etherTypeVLAN {
		if len(b) < 4 {
			return nil, errors.New("short VLAN tag")
		}
		et = binary.BigEndian.Uint16(b[2:])
		b = b[4:]
	}
	var n int
	switch et {
	case etherTypeIPv4:
		if len(b) < 20 {
			return nil, errors.New("short IPv4 header")
		}
		n = int(binary.BigEndian.Uint16(b[2:]))
	case etherTypeIPv6:
		if len(b) < 40 {
			return nil, errors.New("short IPv6 header")
		}
		n = 40 + int(binary.BigEndian.Uint16(b[4:]))
	default:
		return nil, nil
	}
	if n > len(b) {
		return nil, fmt.Errorf("IP length %d, %d bytes captured", n, len(b))
	}
	return b[:n], nil
}

// Merge returns the packets of all lists in one slice ordered by capture
// time (stable: equal timestamps keep list order).
func Merge(lists ...[]Packet) []Packet {
	var out []Packet
	for _, l := range lists {
		out = append(out, l...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
