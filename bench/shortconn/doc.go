// Package shortconn is the small TCP/MPTCP load tool behind
// scripts/compare.sh's short-connection and ping-pong measurements.
//
// Three modes, all over the kernel's sockets (this is a peer of flexcp, not
// part of it):
//
//   - Serve: an echo server for fixed-size messages. For each accepted
//     connection it reads Size bytes, writes them back, and repeats until
//     the client closes.
//   - RunShort: Concurrency dialers, each in a loop for Duration: connect,
//     write Size bytes, read the Size-byte echo, close. One operation is
//     the whole of that, and its latency is measured from before the
//     connect to after the close.
//   - RunPingPong: one connection, Size bytes out and the Size-byte echo
//     back, over and over for Duration after a short warm-up; one
//     operation is one round trip.
//
// Every echo is compared with what was sent: a mismatch, a short read, a
// refused or timed-out connect count as errors and are not in the latency
// samples. The client can ask for MPTCP (net.Dialer.SetMultipathTCP), and
// Result counts how many of its connections really ended up MPTCP (the
// kernel falls back to TCP silently when the peer does not answer
// MP_CAPABLE), so a proxy that drops MPTCP shows up in the numbers.
//
// What it gives up: latencies are wall-clock times read with time.Now
// around blocking socket calls on goroutines, so they include the Go
// scheduler's wake-up time (a few microseconds); every sample is kept in
// memory (8 bytes each) and percentiles are exact nearest-rank values over
// all of them, not a histogram.
package shortconn
