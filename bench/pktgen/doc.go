// Package pktgen runs flexcp-pktgen's benchmarks and writes their reports.
//
// Mode engine (RunEngine) measures translate.Engine in process with the
// closed-loop traffic model of bench/model, on W worker goroutines, each
// locked to its OS thread (and pinned to a CPU when asked) and owning one
// engine and one model, as a dataplane worker core owns one engine. It runs
// four phases:
//
//  1. idle memory: the heap growth of an engine with K established idle
//     connections (handshake and one join each), per connection, with and
//     without the slots the engine preallocates (main goroutine, after GC);
//  2. connection setup: full MP_CAPABLE handshakes plus one join per
//     connection, in waves of 128 with Tick between waves, released by the
//     engine's timers between batches; the headline is connections per
//     second of the engine's CPU time per core (SetupDefinition: the
//     time inside ProcessBurst and Tick, scaled batch by batch by the
//     worker thread's CPU time over its wall time), beside the same with
//     the model's work and its spread over the batches; key_P's tokens
//     name cores of a KeyCores-core proxy, drawn from one
//     steering.KeyExchange with every pool's grinding timed, and the
//     SHA-256 per key reported;
//  3. data: N connections x M subflows per worker, ack-clocked, for the
//     duration: packets per second, payload Gbit/s, engine ns per packet
//     by ingress side (time inside ProcessBurst), allocations per packet
//     (runtime.MemStats), GC pauses (runtime/metrics /gc/pauses:seconds);
//  4. model only: the same traffic without an engine (bench/model
//     Passthrough), so the model's own ns per packet can be subtracted from
//     the loop's.
//
// Reports are JSON (Report) and a Markdown table carrying the machine (CPU
// model, nproc), Go and DPDK versions and git commit beside the numbers.
//
// Mode dataplane (RunDataplane) runs flexcp's real dataplane workers
// (package dataplane: RX burst, classification, translation, routing, TX
// burst) on DPDK ports made of rte_rings (dpdk.NewRingPort,
// dataplane.NewOnPorts) and plays the same model on the rings' far ends
// from one generator goroutine, in closed-loop rounds: every packet the
// model wants to send goes onto the RX rings at once, the generator
// collects what the workers transmit until the rings stay quiet and hands
// it to the model in stream order per connection. It reports the
// dataplane's Mpps and Gbit/s while it had frames queued, the workers' CPU
// time per packet (getrusage), and the closed-loop rate. The generator
// steers packets to queues either by connection (affinity, as per-
// connection NIC rules would) or by the symmetric Toeplitz RSS hash of
// each packet's own 4-tuple (plain RSS with the dataplane's key and
// table; the dataplane hands what lands elsewhere to the owner).
//
// Mode wire (RunWire) plays the same model against a flexcp process
// running on the standard namespace topology (DESIGN.md section 7): the
// generator opens c1 and c2 in the client namespace and s1 in the server
// namespace as DPDK af_xdp (or af_packet) vdevs, each hot-plugged and
// started from an OS thread that has joined the interface's namespace, and
// sends the model's client subflows out of c1/c2 and its server out of s1.
// It never waits for a round trip: it sends while fewer than InFlight
// frames are outstanding, hands what arrives to the model in stream order
// per connection, holds back segments ahead of their receiver (the paths
// are separate queues), and releases join SYNs once the server has seen
// the third ACK. It answers ARP for the topology's client and server
// addresses and resolves flexcp's by ARP; flexcp needs WireRoutes.
//
// What it gives up: the engine mode has no NIC, no mbufs and no cgo; the
// numbers are the translator's alone. The dataplane mode has rings, not a
// NIC (no DMA, no descriptor rings, no PCIe), and its generator, which
// builds and checks every packet, runs in the same process. The wire
// mode's rate is closed-loop (bounded by InFlight over the round-trip
// time, generator included) and the model does not retransmit, so a frame
// the wire drops fails the run. A worker's goroutine is locked to a
// thread, but nothing stops other processes from sharing its core.
package pktgen
