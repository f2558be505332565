// Package integration holds flexcp's end-to-end tests: they build the
// standard network-namespace topology of DESIGN.md section 7
// (scripts/netns.sh), run the real flexcp binary on DPDK AF_XDP or
// AF_PACKET ports inside fcp-p, and drive real Linux peers (ping, iperf3,
// the kernel's MPTCP and TCP stacks) through it.
//
// The tests need root, the Debian packages `make deps` installs, and 2 MB
// hugepages; they carry the build tag `integration` so that `go test ./...`
// still runs anywhere. `make integration` (part of `make test`) runs them.
// They use only 198.18.0.0/15 and 2001:db8::/32 inside namespaces they
// create, and remove the namespaces and end the processes they started
// (by PID) when they finish.
package integration
