package translate

// wheel is a single-level hashed timer wheel over connection indices: one
// pending deadline per connection, intrusive doubly-linked slot lists kept
// in parallel index arrays (no pointers, no allocation after setup). A
// deadline further away than one revolution stays in its slot and is
// checked again on each pass, so any timeout works with a fixed wheel.
// Not safe for concurrent use.
type wheel struct {
	gran     int64   // nanoseconds per slot
	heads    []int32 // per slot: first entry or -1
	next     []int32 // per entry
	prev     []int32 // per entry
	slot     []int32 // per entry: its slot, or -1 when not scheduled
	deadline []int64 // per entry
	cur      int64   // next slot tick to process
	started  bool
	expired  []int32 // reused result of advance
}

const (
	wheelSlots = 1024
	wheelGran  = int64(10e6) // 10 ms
)

func newWheel(entries int) wheel {
	w := wheel{
		gran:     wheelGran,
		heads:    make([]int32, wheelSlots),
		next:     make([]int32, entries),
		prev:     make([]int32, entries),
		slot:     make([]int32, entries),
		deadline: make([]int64, entries),
		expired:  make([]int32, 0, 64),
	}
	for i := range w.heads {
		w.heads[i] = -1
	}
	for i := range w.slot {
		w.slot[i] = -1
	}
	return w
}

// schedule sets entry i's deadline to at (nanoseconds), replacing any
// earlier one.
func (w *wheel) schedule(i int32, at int64) {
	w.cancel(i)
	t := at / w.gran
	if w.started && t < w.cur {
		t = w.cur
	}
	s := int32(t & (wheelSlots - 1))
	w.deadline[i] = at
	w.slot[i] = s
	w.prev[i] = -1
	w.next[i] = w.heads[s]
	if h := w.heads[s]; h >= 0 {
		w.prev[h] = i
	}
	w.heads[s] = i
}

// cancel removes entry i if it is scheduled.
func (w *wheel) cancel(i int32) {
	s := w.slot[i]
	if s < 0 {
		return
	}
	if p := w.prev[i]; p >= 0 {
		w.next[p] = w.next[i]
	} else {
		w.heads[s] = w.next[i]
	}
	if n := w.next[i]; n >= 0 {
		w.prev[n] = w.prev[i]
	}
	w.slot[i] = -1
}

// scheduled reports whether entry i has a pending deadline.
func (w *wheel) scheduled(i int32) bool { return w.slot[i] >= 0 }

// advance unlinks every entry whose deadline is at or before now and
// returns them (the slice is reused by the next call).
func (w *wheel) advance(now int64) []int32 {
	w.expired = w.expired[:0]
	t := now / w.gran
	if !w.started {
		w.started = true
		w.cur = t - wheelSlots + 1 // first call: visit every slot once
	}
	if t-w.cur >= wheelSlots {
		w.cur = t - wheelSlots + 1
	}
	for ; w.cur <= t; w.cur++ {
		s := int32(w.cur & (wheelSlots - 1))
		for i := w.heads[s]; i >= 0; {
			n := w.next[i]
			if w.deadline[i] <= now {
				w.cancel(i)
				w.expired = append(w.expired, i)
			}
			i = n
		}
	}
	// Leave the current slot to be revisited: entries scheduled later in
	// this same tick must still fire.
	w.cur = t
	return w.expired
}
