package dataplane

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// LoopStats is a worker's poll-loop activity, for a harness that wants to
// tell the rounds that found packets from the empty ones (an empty poll
// costs CPU too, and a worker that waits for its generator spins through
// many of them).
type LoopStats struct {
	// TID is the worker's OS thread id (0 until the worker runs), so that
	// its CPU time can be read precisely (the thread's CPU clock).
	TID int
	// Rounds counts poll rounds; RxRounds those that received at least
	// one packet (ports or handoff rings); RxPackets the packets received.
	Rounds, RxRounds, RxPackets uint64
}

// loopStats is the published form of LoopStats: written only by the
// worker (atomic stores, see loopPublishEvery), read by anyone.
type loopStats struct {
	tid                         atomic.Int64
	rounds, rxRounds, rxPackets atomic.Uint64
	_                           [32]byte // keep the owner's fields off this line
}

// loopPublishEvery: a run of empty rounds publishes Rounds every
// loopPublishEvery-th round (an atomic store is an XCHG on amd64, about
// 9 ns, which was a sixth of an empty round); a round that receives
// packets publishes all three.
const loopPublishEvery = 16

// LoopStats returns the worker's loop counters (atomic loads). Rounds
// lags by at most loopPublishEvery-1 empty rounds; a reader sees
// RxRounds and RxPackets at least as new as Rounds.
func (w *Worker) LoopStats() LoopStats {
	r := w.loop.rounds.Load()
	return LoopStats{TID: int(w.loop.tid.Load()), Rounds: r,
		RxRounds: w.loop.rxRounds.Load(), RxPackets: w.loop.rxPackets.Load()}
}

// ThreadCPUNs returns the CPU time, in nanoseconds, of thread tid of this
// process (its per-thread CPU clock: exact, including the part of the
// current time slice of a thread that is running now, unlike getrusage's
// per-thread sums, which lag by up to a scheduler tick).
func ThreadCPUNs(tid int) (int64, error) {
	// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): ~tid << 3 | 4 (per
	// thread) | 2 (scheduler clock).
	clk := int32(^tid<<3 | 6)
	var ts unix.Timespec
	if err := unix.ClockGettime(clk, &ts); err != nil {
		return 0, err
	}
	return ts.Nano(), nil
}
