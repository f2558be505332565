package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexcp/flexcp/config"
)

// TestCheckPCI: a PCI device the machine lacks is refused with a message
// naming the port and what to run; a present one passes.
func TestCheckPCI(t *testing.T) {
	sys := t.TempDir()
	if err := os.Mkdir(filepath.Join(sys, "0000:03:00.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfgFor := func(dev string) *config.Config {
		c, err := config.Parse("pci.toml", []byte(`lcores = [0]
[[port]]
name = "p1"
device = "`+dev+`"
role = "access"
addresses = ["198.18.1.1/24"]
[[port]]
name = "p3"
device = "net_af_xdp2,iface=p3"
role = "core"
addresses = ["198.18.3.1/24"]
`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := checkPCI(cfgFor("0000:03:00.0"), sys); err != nil {
		t.Errorf("present device: %v", err)
	}
	err := checkPCI(cfgFor("0000:04:00.0"), sys)
	if err == nil {
		t.Fatal("missing device accepted")
	}
	for _, want := range []string{`port "p1"`, "0000:04:00.0 does not exist", "dpdk-devbind.py --status"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
