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
// What it gives up: counters are per worker and summed by the query, not
// here; a scrape reads the blocks one field at a time, so a scrape is not
// an atomic snapshot across fields (rx_packets and rx_bytes may be one
// burst apart); the number of ports, drop reasons and join-reject reasons
// is fixed at compile time (MaxPorts, NumDropReasons, NumJoinRejects), so
// adding a reason means adding a constant and its name here.
package metrics
