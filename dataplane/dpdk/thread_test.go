package dpdk

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRegisterThread(t *testing.T) {
	mp := newTestPool(t, 255, 32)
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for !set.IsSet(cpu) {
		cpu++
	}
	type result struct {
		before, lcore, after uint
		inUse, cached        int
		err                  error
	}
	done := make(chan result)
	go func() {
		// The goroutine exits locked, so Go discards the pinned thread.
		runtime.LockOSThread()
		var r result
		r.before = LcoreID()
		if r.err = PinThread(cpu); r.err != nil {
			done <- r
			return
		}
		if r.lcore, r.err = RegisterThread(); r.err != nil {
			done <- r
			return
		}
		if LcoreID() != r.lcore {
			r.lcore = LcoreIDAny
		}
		// With an lcore id the pool's per-lcore cache serves the
		// allocation; mbufs freed into the cache count as available.
		pkts := make([]*Mbuf, 16)
		if mp.AllocBulk(pkts) {
			r.inUse = mp.InUseCount()
			FreeBulk(pkts)
		}
		r.cached = mp.InUseCount()
		UnregisterThread()
		r.after = LcoreID()
		done <- r
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.before != LcoreIDAny {
		t.Errorf("a fresh thread has lcore id %d, want LcoreIDAny", r.before)
	}
	if r.lcore == LcoreIDAny || r.lcore == MainLcore() {
		t.Errorf("RegisterThread gave lcore %d (main %d)", r.lcore, MainLcore())
	}
	if r.after != LcoreIDAny {
		t.Errorf("after UnregisterThread lcore id is %d", r.after)
	}
	if r.inUse != 16 || r.cached != 0 {
		t.Errorf("in use %d after alloc, %d after free; want 16, 0", r.inUse, r.cached)
	}
}

func TestPinThreadBadCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var saved unix.CPUSet
	if err := unix.SchedGetaffinity(0, &saved); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &saved)
	if err := PinThread(1023); err == nil {
		t.Error("PinThread(1023) succeeded on a machine without CPU 1023")
	}
}
