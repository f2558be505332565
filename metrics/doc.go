// Package metrics counts what flexcp's workers do and exposes it to
// Prometheus.
//
// Each worker owns one Counters block: a fixed struct of atomic counters,
// padded so that no two workers share a cache line. Only the owning worker
// writes its block (single writer, atomic adds and stores, no locks, no
// allocation); the Collector reads every block with atomic loads when
// Prometheus scrapes, so the data path never calls into the Prometheus
// library. Values that other parts of the program know (ethdev statistics,
// mempool occupancy) are read at scrape time through the small
// PortStatsSource and MempoolSource interfaces, which the dataplane
// implements; this package imports neither the dataplane nor DPDK.
//
// Metric names start with flexcp_; labels are worker, port, reason,
// direction (c2s, s2c) and pool. docs/config.md's metrics glossary lists
// them all.
//
// Reasons (why a packet was dropped, a join refused, a connection fell
// back) belong to the components that count them, not to this package: a
// Counters block has fixed arrays of MaxDropReasons, MaxJoinRejects and
// MaxFallbackReasons counters indexed by a plain int, and Options gives
// the label of each index. The dataplane lays out its forwarder's,
// translator's and worker's reasons in those arrays and passes their
// String labels, so a new reason in a component is exported without a
// change here.
//
// What it gives up: counters are per worker and summed by the query, not
// here; a scrape reads the blocks one field at a time, so a scrape is not
// an atomic snapshot across fields (rx_packets and rx_bytes may be one
// burst apart); the number of ports and of reason slots is fixed at
// compile time (MaxPorts, MaxDropReasons, MaxJoinRejects,
// MaxFallbackReasons), and a slot without a label counts (Sum sees it)
// but is not exported.
package metrics
