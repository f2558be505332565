//go:build integration

package dpdk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Integration tests: kernel-interface PMDs on a veth pair between two
// network namespaces this test creates (prefix h1-) and deletes. Run as
// root: go test -tags integration -run Kernel ./dataplane/dpdk/

// testEtherType is the IEEE local experimental EtherType 1, so the frames
// cannot be mistaken for the kernel's own (IPv6 is off on the veths anyway).
const testEtherType = 0x88b5

func run(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// vethPair creates namespaces nsA, nsB with a veth devA <-> devB between
// them, offloads off, IPv6 off, and removes them when t ends.
func vethPair(t *testing.T, tag string) (nsA, nsB, devA, devB string) {
	id := os.Getpid() % 100000
	nsA, nsB = fmt.Sprintf("h1-%s%da", tag, id), fmt.Sprintf("h1-%s%db", tag, id)
	devA, devB = fmt.Sprintf("h1%s%da", tag, id), fmt.Sprintf("h1%s%db", tag, id)
	run(t, "ip", "netns", "add", nsA)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	run(t, "ip", "netns", "add", nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	run(t, "ip", "link", "add", devA, "netns", nsA, "type", "veth", "peer", "name", devB, "netns", nsB)
	for _, nd := range [][2]string{{nsA, devA}, {nsB, devB}} {
		run(t, "ip", "netns", "exec", nd[0], "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
		run(t, "ip", "netns", "exec", nd[0], "ethtool", "-K", nd[1], "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off")
		run(t, "ip", "-n", nd[0], "link", "set", nd[1], "up")
	}
	return nsA, nsB, devA, devB
}

// inNetns runs f on a locked OS thread moved into namespace ns. The thread
// is discarded afterwards (the goroutine exits locked).
func inNetns(ns string, f func() error) error {
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func TestKernelPMDs(t *testing.T) {
	tests := []struct {
		name    string
		tag     string
		devargs string // %d: instance, %s: interface
	}{
		{"af_packet", "p", "net_af_packet%d,iface=%s"},
		{"af_xdp", "x", "net_af_xdp%d,iface=%s,start_queue=0,queue_count=1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nsA, nsB, devA, devB := vethPair(t, tt.tag)
			mp := newTestPool(t, 4095, 0)
			vdev := fmt.Sprintf(tt.devargs, 20+i, devA)
			name := vdev[:strings.IndexByte(vdev, ',')]
			var p Port
			var info PortInfo
			err := inNetns(nsA, func() error {
				if err := DevProbe(vdev); err != nil {
					return err
				}
				var err error
				if p, err = PortByName(name); err != nil {
					return err
				}
				if info, err = p.Info(); err != nil {
					return err
				}
				if err := p.Configure(PortConf{RxQueues: 1, TxQueues: 1}); err != nil {
					return err
				}
				if err := p.RxQueueSetup(0, 1024, p.SocketID(), mp); err != nil {
					return err
				}
				if err := p.TxQueueSetup(0, 1024, p.SocketID()); err != nil {
					return err
				}
				return p.Start()
			})
			if err != nil {
				t.Fatalf("%s: %v", vdev, err)
			}
			defer func() {
				inNetns(nsA, func() error {
					p.Stop()
					return p.Close()
				})
			}()
			mtu, _ := p.MTU()
			t.Logf("%s: driver %s, MTU %d (min %d, max %d), max rx pkt %d, queues %d/%d, rss %#x",
				vdev, info.Driver, mtu, info.MinMTU, info.MaxMTU, info.MaxRxPktLen, info.MaxRxQueues, info.MaxTxQueues, info.RSSOffloads)
			mac, err := p.MACAddr()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Link(); err != nil {
				t.Fatal(err)
			}
			if err := p.FlowValidate(joinTokenRule()); err == nil {
				t.Errorf("%s accepted an rte_flow rule", info.Driver)
			}

			// The peer: a raw packet socket on devB.
			var sock int
			err = inNetns(nsB, func() error {
				var err error
				sock, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(testEtherType)))
				if err != nil {
					return err
				}
				ifi, err := netInterfaceIndex(devB)
				if err != nil {
					return err
				}
				tv := unix.Timeval{Sec: 5}
				if err := unix.SetsockoptTimeval(sock, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
					return err
				}
				return unix.Bind(sock, &unix.SockaddrLinklayer{Protocol: htons(testEtherType), Ifindex: ifi})
			})
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(sock)

			// Peer -> DPDK.
			frame := make([]byte, 200)
			copy(frame[0:6], mac[:])
			copy(frame[6:12], []byte{2, 0, 0, 0, 0, 0xb})
			binary.BigEndian.PutUint16(frame[12:], testEtherType)
			copy(frame[14:], "peer to dpdk")
			if err := unix.Send(sock, frame, 0); err != nil {
				t.Fatal(err)
			}
			rx := make([]*Mbuf, 32)
			var got []byte
			for tries := 0; tries < 1_000_000 && got == nil; tries++ {
				n := p.RxBurst(0, rx)
				for _, m := range rx[:n] {
					if d := m.Data(); got == nil && bytes.Equal(d, frame) {
						got = append([]byte(nil), d...)
					}
				}
				FreeBulk(rx[:n])
				if n == 0 {
					runtime.Gosched()
				}
			}
			if got == nil {
				t.Fatal("DPDK did not receive the peer's frame")
			}

			// DPDK -> peer.
			tx := make([]*Mbuf, 1)
			if !mp.AllocBulk(tx) {
				t.Fatal("AllocBulk failed")
			}
			d := tx[0].Append(100)
			copy(d[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			copy(d[6:12], mac[:])
			binary.BigEndian.PutUint16(d[12:], testEtherType)
			copy(d[14:], "dpdk to peer")
			want := append([]byte(nil), d...)
			if n := p.TxBurst(0, tx); n != 1 {
				FreeBulk(tx)
				t.Fatal("TxBurst refused the frame")
			}
			buf := make([]byte, 2048)
			n, _, err := unix.Recvfrom(sock, buf, 0)
			if err != nil {
				t.Fatalf("peer did not receive DPDK's frame: %v", err)
			}
			if !bytes.Equal(buf[:n], want) {
				t.Errorf("peer received %x, want %x", buf[:n], want)
			}
			st, err := p.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.IPackets < 1 || st.OPackets != 1 {
				t.Errorf("Stats() = %+v", st)
			}
		})
	}
}

// netInterfaceIndex resolves name in the calling thread's namespace
// (netlink, not /sys, which shows the mount namespace's view).
func netInterfaceIndex(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, err
	}
	return ifi.Index, nil
}
