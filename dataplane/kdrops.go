package dataplane

import (
	"os"
	"strconv"
	"strings"
)

// Receive-side drops the kernel makes before flexcp sees a packet. On an
// AF_XDP vdev over a veth, a packet whose XDP redirect into flexcp's
// socket fails (the socket's receive ring is full because the worker was
// not scheduled in time) is dropped by the kernel and counted only in the
// interface's rx_dropped (veth: rx_queue_N_drops); DPDK 22.11's af_xdp PMD
// reports the socket's rx_dropped (fill ring empty) as imissed but not its
// rx_ring_full, so imissed stayed 0 while a 64-connection test lost a
// fifth of the server's packets there (measured 2026-11-25: p3
// rx_dropped 254k-295k against 1.2M packets received). The interface's
// count covers both kinds (a redirect fails whether the receive ring is
// full or the fill ring empty), so flexcp reports as the port's imissed
// the larger of the PMD's imissed and the growth of the interface's
// rx_dropped since the port started, never their sum: with rx_desc 2048
// every drop was a fill-ring drop, counted by both, and the sum showed
// twice the kernel's figure (measured 2026-11-25). Either way
// flexcp_ethdev_imissed_total shows these losses.

// kernelIface returns the kernel interface a vdev is bound to (its
// iface= argument, as net_af_xdp and net_af_packet take), or "".
func kernelIface(device string) string {
	for _, kv := range strings.Split(device, ",")[1:] {
		if name, ok := strings.CutPrefix(kv, "iface="); ok {
			return name
		}
	}
	return ""
}

// kernelRxDropped reads the interface's rx_dropped counter from sysfs
// (ip netns exec mounts the namespace's own /sys).
func kernelRxDropped(iface string) (uint64, bool) {
	if iface == "" || strings.ContainsAny(iface, "/.") {
		return 0, false
	}
	b, err := os.ReadFile("/sys/class/net/" + iface + "/statistics/rx_dropped")
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}
