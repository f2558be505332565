package config

import (
	"fmt"
	"slices"
	"strings"
)

// SplitArgs splits a command line, without the program name, at the first
// "--" as DPDK programs do: "flexcp [EAL args] -- [flexcp flags]". Without
// a "--" every argument is a flexcp flag and eal is nil.
func SplitArgs(args []string) (eal, rest []string) {
	i := slices.Index(args, "--")
	if i < 0 {
		return nil, args
	}
	return args[:i], args[i+1:]
}

// SetEAL replaces the file's EAL arguments with the ones given on the
// command line, if any, and checks them against the ports again. An empty
// args keeps the file's.
func (c *Config) SetEAL(args []string) error {
	if len(args) == 0 {
		return nil
	}
	old := c.EAL
	c.EAL = slices.Clone(args)
	if err := c.checkEAL(); err != nil {
		c.EAL = old
		return err
	}
	return nil
}

// hasEALFlag reports whether the EAL arguments hold flag, alone or as
// flag=value.
func (c *Config) hasEALFlag(flag string) bool {
	for _, a := range c.EAL {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// ealVdevs returns the vdev names declared with --vdev in the EAL args.
func (c *Config) ealVdevs() map[string]bool {
	m := map[string]bool{}
	for i, a := range c.EAL {
		var v string
		switch {
		case a == "--vdev" && i+1 < len(c.EAL):
			v = c.EAL[i+1]
		case strings.HasPrefix(a, "--vdev="):
			v = strings.TrimPrefix(a, "--vdev=")
		default:
			continue
		}
		name, _, _ := strings.Cut(v, ",")
		m[name] = true
	}
	return m
}

// checkEAL checks that the EAL arguments do not contradict the ports.
func (c *Config) checkEAL() error {
	if c.hasEALFlag("--no-pci") {
		for i := range c.Ports {
			if c.Ports[i].IsPCI() {
				return fmt.Errorf("config: %s: port %q: device %s is a PCI address but eal has --no-pci; remove --no-pci",
					c.Name, c.Ports[i].Name, c.Ports[i].Device)
			}
		}
	}
	vdevs := c.ealVdevs()
	for i := range c.Ports {
		if c.Ports[i].IsPCI() {
			continue
		}
		for _, d := range c.Ports[i].DeviceList() {
			if v, _, _ := strings.Cut(d, ","); vdevs[v] {
				return fmt.Errorf("config: %s: port %q: vdev %s is also given with --vdev in eal; remove it from eal (flexcp adds --vdev for each vdev port)",
					c.Name, c.Ports[i].Name, v)
			}
		}
	}
	return nil
}

// EALArgs returns the arguments for rte_eal_init after the program name:
// the EAL arguments followed by "--vdev <device>" for every port whose
// device is a vdev (each of them for a port given as a devices list).
func (c *Config) EALArgs() []string {
	args := slices.Clone(c.EAL)
	for i := range c.Ports {
		if !c.Ports[i].IsPCI() {
			for _, d := range c.Ports[i].DeviceList() {
				args = append(args, "--vdev", d)
			}
		}
	}
	return args
}

// NeedsHugepages reports whether EAL will use hugepages, that is, whether
// the EAL arguments lack --no-huge.
func (c *Config) NeedsHugepages() bool { return !c.hasEALFlag("--no-huge") }
