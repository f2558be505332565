// Package dataplane runs flexcp's packet path on DPDK: it initialises the
// EAL, creates the mempool, configures the ports of the config (one RX and
// one TX queue per worker on every port), and runs one worker goroutine
// per configured lcore.
//
// A worker is locked to its OS thread, pinned to its CPU and registered
// with the EAL (so mempool caches work). It polls its queue index on every
// port in bursts, hands each frame to the L2/L3 forwarder (package
// dataplane/fwd: ARP, NDP, ICMP, longest-prefix routing) and, for TCP
// packets of translated connections, to the MPTCP translator (package
// translate) in between, then transmits per egress port in bursts. Each
// worker owns its forwarder, translator and counters: nothing in a worker is
// touched by another goroutine except the counters, which the metrics
// collector reads with atomic loads.
//
// A poll round is one cgo call (dpdk.BurstSet): the TX bursts the last
// round left, the bulk free, the RX burst of every port and, with several
// workers, the first dequeue of every incoming handoff ring; mbuf fields
// are read and written through unsafe offsets (package dataplane/dpdk).
// The clock is read once in a round that received something, before its
// bursts are handled, and every 16th round in a run of empty ones
// (clockEvery). The stop signal is an atomic flag. Packets the forwarder
// or translator originate come from a small per-worker stash of mbufs
// refilled in bulk. Each worker counts its poll rounds (LoopStats) for
// the benchmark harness.
//
// TX batching: frames collect on per-port lists and are sent when a list
// fills, and at the end of every poll round in which the worker received
// nothing or DrainInterval has passed since the last flush, so a lone
// packet waits at most one poll round plus DrainInterval. Whatever a port's
// TX queue refuses is freed and counted.
//
// Several workers (steer.go, docs/steering.md): every TCP packet a worker
// receives is classified with its own steering.Classifier; a packet
// another worker owns goes, untouched, through the single-producer/
// single-consumer rte_ring of that pair (one enqueue per destination per
// burst, one dequeue per burst), and the owner handles it like its own.
// ARP/NDP frames are also copied to every other worker's forwarder
// (Learn). Join subflows' 4-tuples travel from their owner to the other
// classifiers as steering.Updates through Go single-producer rings. Ports
// may be one device with a queue per worker or, on veth, one single-queue
// af_xdp vdev per queue (config devices list).
//
// Idle policy: "poll" spins; "adaptive" backs off to short sleeps (up to
// MaxIdleSleep) after consecutive empty polls, so flexcp can share a small
// machine with its test peers at the cost of wake-up latency.
//
// What it gives up: single-segment mbufs only (no jumbo chains, no TSO/LRO);
// no fragmentation; one mempool (NUMA socket of the first port).
package dataplane
