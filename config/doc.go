// Package config reads flexcp's TOML configuration file and turns it into
// typed, validated values: ports with their DPDK devices, roles and
// addresses, static routes and neighbours, the packet pool, the worker
// lcores, the metrics listener and the translator's settings.
//
// The file format is documented key by key in docs/config.md, and
// examples/netns.toml is a commented, working configuration for the test
// topology of DESIGN.md section 7.
//
// Parse checks everything that can be checked from the file alone and
// returns the first problem as a single line naming the file, the key and
// what to change. Load adds the checks that depend on the machine: the
// lcores must be CPUs this process may run on. CheckHugepages compares what
// the mempool needs with the hugepages the kernel has reserved.
//
// What it gives up: the file is read once at start-up (no reload), only the
// first error is reported, errors carry TOML line numbers only for syntax
// and type errors (the TOML decoder does not expose key positions), and the
// memory estimate of HugepageBytes is a sizing rule with a margin, not a
// measurement of what a given DPDK driver allocates.
package config
