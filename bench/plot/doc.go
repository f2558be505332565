// Package plot draws flexcp's benchmark plots (gonum.org/v1/plot, PNG)
// from the data files the harness and the comparison script write under
// results/: flexcp-pktgen JSON reports (engine*.json, dataplane*.json) and
// the end-to-end comparison (compare.json as scripts/compare.sh writes it,
// of which the throughput rows are drawn; or, before compare.sh wrote
// JSON, the table of compare.md).
//
// Plots: dataplane Mpps and Gbit/s against workers (one line per payload
// size and steering), with against without flow-to-core affinity,
// connection setup rate per core (engine mode, against the 300k/s
// target), and the end-to-end comparison bars. Every value drawn is also
// written to plots.csv beside the PNGs, with the report it came from and
// its commit.
//
// Projection (project.go): from a dataplane run pair of one payload size
// (same worker count, with and without affinity) and the 1-worker run,
// the per-packet worker cost, the extra cost of a handed-off packet and
// the share of packets plain RSS can misplace, projected linearly to 1..24
// workers with and without affinity (projection.json, projection.md,
// projection.png). It is a model: linear per-core scaling, no memory,
// NIC or generator limit, and every output says so.
//
// What it gives up: it draws what the files hold, one point per report;
// repeated runs of one configuration are not aggregated (they show as
// separate points, or for the bars the largest value).
package plot
