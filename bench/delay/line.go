package delay

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Params are one direction's settings.
type Params struct {
	// Delay is added to every frame's arrival time.
	Delay time.Duration
	// Loss is the probability in [0, 1] that a frame is dropped.
	Loss float64
	// Limit bounds the frames held; more are dropped (Stats.Overflow).
	// Zero means DefaultLimit.
	Limit int
	// Rate, if not zero, is the link rate in bits per second: frames
	// leave one after another, each taking its size at this rate, before
	// the delay (a serialising bottleneck with a FIFO in front of it).
	Rate uint64
	// Queue bounds the FIFO in front of a Rate-limited link in time: a
	// frame that would wait longer is dropped (Stats.Overflow), as a
	// tail-drop queue of Queue x Rate bytes does. Zero means
	// DefaultQueue.
	Queue time.Duration
}

// DefaultQueue is the queue bound of a Rate-limited Line when
// Params.Queue is zero.
const DefaultQueue = 50 * time.Millisecond

// DefaultLimit is the number of frames a Line holds when Params.Limit is
// zero: 80 ms of a 1 Gbit/s path of 1500-byte frames, with room to spare.
const DefaultLimit = 16384

// Validate reports whether p is usable.
func (p Params) Validate() error {
	switch {
	case p.Delay < 0 || p.Delay > time.Minute:
		return fmt.Errorf("delay: delay %v: want 0..1m", p.Delay)
	case !(p.Loss >= 0 && p.Loss <= 1):
		return fmt.Errorf("delay: loss %v: want 0..1", p.Loss)
	case p.Limit < 0 || p.Limit > 1<<22:
		return fmt.Errorf("delay: limit %d: want 0..%d", p.Limit, 1<<22)
	case p.Rate != 0 && (p.Rate < 8000 || p.Rate > 1e12):
		return fmt.Errorf("delay: rate %d bit/s: want 0 (unlimited) or 8000..1e12", p.Rate)
	case p.Queue < 0 || p.Queue > time.Minute:
		return fmt.Errorf("delay: queue %v: want 0..1m", p.Queue)
	}
	return nil
}

// Stats count what a Line did.
type Stats struct {
	In       uint64 // frames offered
	Out      uint64 // frames released
	Lost     uint64 // frames dropped by the loss probability
	Overflow uint64 // frames dropped because Limit frames were held
	Held     int    // frames held now
}

type item struct {
	due   int64 // release time, ns
	frame []byte
}

// Line is one direction's delay queue. It is safe for concurrent use: one
// goroutine pushes, another pops.
type Line struct {
	mu      sync.Mutex
	p       Params
	q       []item // ring
	head, n int
	last    int64 // due time of the last frame pushed
	free    int64 // when the rate-limited link finishes the last frame
	rng     *rand.Rand
	st      Stats
	wake    chan struct{}
}

// NewLine returns a Line with p (checked) whose loss draws come from seed.
func NewLine(p Params, seed uint64) (*Line, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	l := &Line{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), wake: make(chan struct{}, 1)}
	l.set(p)
	return l, nil
}

func (l *Line) set(p Params) {
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Queue == 0 {
		p.Queue = DefaultQueue
	}
	l.p = p
	if len(l.q) < p.Limit {
		q := make([]item, p.Limit)
		for i := 0; i < l.n; i++ {
			q[i] = l.q[(l.head+i)%len(l.q)]
		}
		l.q, l.head = q, 0
	}
}

// Set changes the parameters. Frames already held keep their release
// times; a smaller Limit drops nothing held but refuses new frames until
// fewer are held.
func (l *Line) Set(p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	l.set(p)
	l.mu.Unlock()
	l.signal()
	return nil
}

// Params returns the parameters in force.
func (l *Line) Params() Params {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p
}

// Stats returns the counters.
func (l *Line) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.st
	s.Held = l.n
	return s
}

// Push offers a frame that arrived at now (ns). It reports whether the
// frame was queued; the Line keeps frame, so the caller must not reuse it.
func (l *Line) Push(now int64, frame []byte) bool {
	l.mu.Lock()
	l.st.In++
	if l.p.Loss > 0 && l.rng.Float64() < l.p.Loss {
		l.st.Lost++
		l.mu.Unlock()
		return false
	}
	if l.n >= l.p.Limit {
		l.st.Overflow++
		l.mu.Unlock()
		return false
	}
	due := now + int64(l.p.Delay)
	if l.p.Rate > 0 {
		start := max(now, l.free)
		if start-now > int64(l.p.Queue) {
			l.st.Overflow++
			l.mu.Unlock()
			return false
		}
		l.free = start + int64(uint64(len(frame))*8*1e9/l.p.Rate)
		due = l.free + int64(l.p.Delay)
	}
	if l.n > 0 && due < l.last {
		due = l.last // FIFO: never overtake the frame before
	}
	l.last = due
	l.q[(l.head+l.n)%len(l.q)] = item{due: due, frame: frame}
	l.n++
	first := l.n == 1
	l.mu.Unlock()
	if first {
		l.signal()
	}
	return true
}

// Next returns the release time of the head frame; ok is false when the
// Line is empty.
func (l *Line) Next() (due int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return 0, false
	}
	return l.q[l.head].due, true
}

// Pop removes and returns the head frame if it is due at now.
func (l *Line) Pop(now int64) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 || l.q[l.head].due > now {
		return nil, false
	}
	it := &l.q[l.head]
	f := it.frame
	it.frame = nil
	l.head = (l.head + 1) % len(l.q)
	l.n--
	l.st.Out++
	return f, true
}

// Wake returns a channel that receives when the head of the Line may have
// changed (a frame pushed into an empty Line, or Set).
func (l *Line) Wake() <-chan struct{} { return l.wake }

func (l *Line) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
