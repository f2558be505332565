package config

import (
	"slices"
	"testing"
)

// devPort is a [[port]] table with a devices list.
func devPort(name, role, addr string, devs ...string) string {
	s := "[[port]]\nname = \"" + name + "\"\nrole = \"" + role + "\"\naddresses = [\"" + addr + "\"]\ndevices = ["
	for i, d := range devs {
		if i > 0 {
			s += ", "
		}
		s += "\"" + d + "\""
	}
	return s + "]\n"
}

func TestDevicesList(t *testing.T) {
	in := "lcores = [0, 1]\n" +
		devPort("p1", "access", "198.18.1.1/24", "net_af_xdp0,iface=p1,start_queue=0,queue_count=1", "net_af_xdp1,iface=p1,start_queue=1,queue_count=1") +
		devPort("p3", "core", "198.18.3.1/24", "net_af_xdp2,iface=p3,start_queue=0", "net_af_xdp3,iface=p3,start_queue=1")
	c, err := Parse("d.toml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Ports[0]
	if p.Queues != 2 || len(p.Devices) != 2 || p.Device != p.Devices[0] || p.VdevName() != "net_af_xdp0" {
		t.Errorf("port p1: queues %d, devices %q, device %q, vdev %q", p.Queues, p.Devices, p.Device, p.VdevName())
	}
	if got := c.Ports[1].DeviceList(); len(got) != 2 || got[1] != "net_af_xdp3,iface=p3,start_queue=1" {
		t.Errorf("port p3: DeviceList %q", got)
	}
	args := c.EALArgs()
	for _, d := range []string{"net_af_xdp0", "net_af_xdp1", "net_af_xdp2", "net_af_xdp3"} {
		found := false
		for i, a := range args {
			if a == "--vdev" && i+1 < len(args) && len(args[i+1]) > len(d) && args[i+1][:len(d)+1] == d+"," {
				found = true
			}
		}
		if !found {
			t.Errorf("EALArgs %q lacks --vdev %s", args, d)
		}
	}
	// A single device still lists itself.
	c2, err := Parse("s.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Ports[0].DeviceList(); !slices.Equal(got, []string{c2.Ports[0].Device}) || c2.Ports[0].Devices != nil {
		t.Errorf("single device: DeviceList %q, Devices %q", got, c2.Ports[0].Devices)
	}
}

func TestErrorDevicesList(t *testing.T) {
	core := port("p3", "net_af_xdp9,iface=p3", "core", "198.18.3.1/24")
	two := "lcores = [0, 1]\n"
	x0 := "net_af_xdp0,iface=p1,start_queue=0,queue_count=1"
	x1 := "net_af_xdp1,iface=p1,start_queue=1,queue_count=1"
	runErrors(t, []errCase{
		{"both", two + devPort("p1", "access", "198.18.1.1/24", x0, x1) + "device = \"net_af_xdp5,iface=p1\"\n" + core,
			`port "p1": both device and devices are set`},
		{"empty", two + devPort("p1", "access", "198.18.1.1/24") + core, `port "p1": devices is empty`},
		{"more than lcores", "lcores = [1]\n" + devPort("p1", "access", "198.18.1.1/24", x0, x1) + core,
			`port "p1": devices lists 2 queues but there are 1 lcores`},
		{"pci", two + devPort("p1", "access", "198.18.1.1/24", x0, "0000:03:00.0") + core,
			`port "p1": devices[1]: 0000:03:00.0 is a PCI address`},
		{"multi-queue vdev", two + devPort("p1", "access", "198.18.1.1/24", x0, "net_af_xdp1,iface=p1,queue_count=2") + core,
			`port "p1": devices[1]: "net_af_xdp1,iface=p1,queue_count=2" has queue_count=2; each entry of devices is one queue`},
		{"duplicate vdev", two + devPort("p1", "access", "198.18.1.1/24", x0, x0) + core,
			`port "p1": devices[1]: vdev name net_af_xdp0 is also used by port "p1"`},
		{"vdev of another port", two + devPort("p1", "access", "198.18.1.1/24", x0, "net_af_xdp9,iface=p1") + core,
			`port "p3": vdev name net_af_xdp9 is also used by port "p1"`},
		{"no iface", two + devPort("p1", "access", "198.18.1.1/24", x0, "net_af_xdp1,start_queue=1") + core,
			`devices[1]: device "net_af_xdp1,start_queue=1" has no iface=`},
		{"empty entry", two + devPort("p1", "access", "198.18.1.1/24", x0, "") + core, `port "p1": devices[1] is empty`},
		{"queues disagree", two + devPort("p1", "access", "198.18.1.1/24", x0, x1) + "queues = 1\n" + core,
			`port "p1": queues 1 but devices lists 2 devices`},
		{"also in eal", "eal = [\"--vdev\", \"net_af_xdp1,iface=p1\"]\n" + two + devPort("p1", "access", "198.18.1.1/24", x0, x1) + core,
			`port "p1": vdev net_af_xdp1 is also given with --vdev in eal`},
	})
}
