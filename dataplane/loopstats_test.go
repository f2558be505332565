package dataplane

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestThreadCPUNs reads the calling thread's CPU clock by its id: it
// grows while the thread spins, and a thread id that does not exist is an
// error.
func TestThreadCPUNs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	a, err := ThreadCPUNs(tid)
	if err != nil || a <= 0 {
		t.Fatalf("ThreadCPUNs(%d) = %d, %v", tid, a, err)
	}
	x := 0
	for i := 0; i < 20_000_000; i++ {
		x += i ^ x
	}
	b, err := ThreadCPUNs(tid)
	if err != nil || b <= a {
		t.Errorf("ThreadCPUNs after a spin (%d) = %d, %v; before %d", x&1, b, err, a)
	}
	if _, err := ThreadCPUNs(1<<22 + 1); err == nil {
		t.Error("ThreadCPUNs of a thread that does not exist: no error")
	}
}

// TestCountRound checks the loop counters a harness reads.
func TestCountRound(t *testing.T) {
	var w Worker
	for _, got := range []int{0, 32, 0, 0, 5} {
		w.countRound(got)
	}
	if s := w.LoopStats(); s != (LoopStats{Rounds: 5, RxRounds: 2, RxPackets: 37}) {
		t.Errorf("LoopStats = %+v", s)
	}
	// Empty rounds publish Rounds when it reaches a multiple of
	// loopPublishEvery.
	for w.rounds < loopPublishEvery-1 {
		w.countRound(0)
	}
	if s := w.LoopStats(); s.Rounds != 5 {
		t.Errorf("after %d rounds, %d of them empty, LoopStats().Rounds = %d, want 5", w.rounds, w.rounds-2, s.Rounds)
	}
	w.countRound(0)
	if s := w.LoopStats(); s.Rounds != loopPublishEvery {
		t.Errorf("LoopStats().Rounds = %d, want %d", s.Rounds, loopPublishEvery)
	}
	if testing.AllocsPerRun(100, func() { w.countRound(3) }) != 0 {
		t.Error("countRound allocates")
	}
}
