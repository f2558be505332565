// Package delay is the test topology's delay element: it bridges two
// network interfaces (veth ends inside one namespace) through AF_PACKET
// raw sockets in promiscuous mode, and holds every frame for a
// configurable delay, or drops it with a configurable probability, per
// direction. The kernel of the test machine has no netem, so this is how
// the end-to-end tests and the harness give a path latency
// (scripts/netns.sh NETNS_DELAY_PATH2=1 puts one on access path 2).
//
// A Line is one direction's delay queue: frames leave in arrival order,
// each no earlier than its arrival time plus the delay in force when it
// arrived (a lowered delay never reorders frames already queued: a frame
// leaves no earlier than the one before it). A Line is bounded: frames
// beyond Params.Limit are dropped and counted. Loss is drawn per frame
// from a seeded generator, so tests are repeatable.
//
// A Bridge runs two Lines between two interfaces: one goroutine per
// interface reads frames, one per direction sends them when due. The
// control endpoint (Serve) is HTTP on a unix socket, reachable from any
// namespace: GET /stats, and /set?dir=ab|ba|both&delay=80ms&loss=0.01.
// Direction ab is from interface A to interface B.
//
// A Line may also limit the rate (Params.Rate): frames are serialised at
// that rate behind a FIFO bounded in time (Params.Queue), then delayed.
// The test machine's kernel has no policing action for ingress, and
// flexcp's AF_XDP ports bypass qdiscs, so this is how the server-to-client
// direction of a path gets a rate.
//
// What it gives up: no reordering,
// no duplication, no jitter model; a frame is delayed as a whole, with
// the Go timer's precision (tens of microseconds when the machine is
// idle, more when it is loaded; a frame never leaves early). It is a test
// tool, not part of the proxy: it allocates per frame it holds.
package delay
