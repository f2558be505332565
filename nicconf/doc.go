// Package nicconf puts steering's rules into the NIC where the port can
// take them (DESIGN.md section 5, docs/nicconf.md): it compiles each
// steering.Rule to an rte_flow pattern, action list and attributes
// (Compile), asks every port which rules it accepts and installs those
// (Probe, ProbeDevice), sets the port's RSS key and hash types through
// ethdev, and reports per port what was offloaded and what the software
// classifier must do instead (Report, whose String is the line to log once
// per port). At run time the Installer, a control-plane goroutine, adds
// and removes the 5-tuple rules of join subflows at the workers' request
// without ever blocking them.
//
// Everything here is control plane: it allocates, formats errors and calls
// DPDK through dataplane/dpdk's flow methods, never on the packet path.
// Ports are reached through the Device interface (PortDevice adapts a
// dpdk.Port) so that tests can inject ports that accept or refuse rules.
//
// What it gives up:
//   - The MP_JOIN token is matched with a RAW item relative to the TCP item
//     (offset = steering offset - 20, the fixed TCP header). A PMD that
//     takes "the end of the previous item" to be the end of the TCP options
//     would need offset - header length instead; no NIC that accepts RAW
//     after TCP is on this project's machines to tell.
//   - The redirection table is programmed (steering's RETA repeated to the
//     port's size) only where RSS is configured and the port's table is at
//     least as large as steering's; elsewhere the port keeps its driver's
//     table and the software classifier hands over what
//     lands elsewhere. The rte_flow RSS action gets the queue list, from
//     which the PMD builds its own table, with the same caveat.
//   - Nothing is fatal: a rule a port refuses falls back to the software
//     classifier, and Report says so. Flow rules of the ports here (AF_XDP,
//     AF_PACKET, tap, null, ring) are all refused with ENOSYS.
//   - An Installer request refused because its channel is full is lost
//     (counted): the subflow is then steered in software only, and a lost
//     removal leaves a stale rule until Stop.
package nicconf
