package delay

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func mustLine(t *testing.T, p Params) *Line {
	t.Helper()
	l, err := NewLine(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLineHoldsUntilDue: a frame is not released before arrival + delay,
// and is released at that time.
func TestLineHoldsUntilDue(t *testing.T) {
	l := mustLine(t, Params{Delay: 80 * time.Millisecond})
	ms := int64(time.Millisecond)
	if !l.Push(10*ms, []byte{1}) {
		t.Fatal("push refused")
	}
	if due, ok := l.Next(); !ok || due != 90*ms {
		t.Fatalf("Next = %d, %v; want %d, true", due, ok, 90*ms)
	}
	if _, ok := l.Pop(90*ms - 1); ok {
		t.Fatal("frame released before it was due")
	}
	f, ok := l.Pop(90 * ms)
	if !ok || len(f) != 1 || f[0] != 1 {
		t.Fatalf("Pop at due time = %v, %v", f, ok)
	}
	if _, ok := l.Pop(200 * ms); ok {
		t.Fatal("empty line released a frame")
	}
	if s := l.Stats(); s.In != 1 || s.Out != 1 || s.Held != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestLineFIFOWhenDelayDrops: lowering the delay never lets a later frame
// overtake an earlier one.
func TestLineFIFOWhenDelayDrops(t *testing.T) {
	l := mustLine(t, Params{Delay: 100 * time.Millisecond})
	ms := int64(time.Millisecond)
	l.Push(0, []byte{1})
	if err := l.Set(Params{Delay: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	l.Push(5*ms, []byte{2})
	// Frame 2 alone would be due at 15 ms; it waits for frame 1.
	if _, ok := l.Pop(50 * ms); ok {
		t.Fatal("a frame left before the head was due")
	}
	var got []byte
	for _, now := range []int64{100 * ms, 100 * ms} {
		f, ok := l.Pop(now)
		if !ok {
			t.Fatalf("nothing due at %d", now)
		}
		got = append(got, f[0])
	}
	if got[0] != 1 || got[1] != 2 {
		t.Fatalf("order %v, want [1 2]", got)
	}
	// Once the queue drained, the new delay applies from arrival.
	l.Push(200*ms, []byte{3})
	if due, _ := l.Next(); due != 210*ms {
		t.Fatalf("due %d, want %d", due, 210*ms)
	}
}

// TestLineRaisedDelay: frames queued before a raise keep their times,
// frames after it take the new delay.
func TestLineRaisedDelay(t *testing.T) {
	l := mustLine(t, Params{})
	ms := int64(time.Millisecond)
	l.Push(0, []byte{1})
	l.Set(Params{Delay: 50 * time.Millisecond})
	l.Push(1*ms, []byte{2})
	if f, ok := l.Pop(0); !ok || f[0] != 1 {
		t.Fatal("frame pushed with no delay is not due at once")
	}
	if _, ok := l.Pop(50 * ms); ok {
		t.Fatal("frame after the raise released early")
	}
	if f, ok := l.Pop(51 * ms); !ok || f[0] != 2 {
		t.Fatal("frame after the raise not released at arrival + new delay")
	}
}

// TestLineLoss: loss 1 drops everything, loss 0 nothing, and a fraction
// drops about that fraction (fixed seed).
func TestLineLoss(t *testing.T) {
	for _, tc := range []struct {
		loss     float64
		min, max uint64
	}{{0, 0, 0}, {1, 10000, 10000}, {0.1, 800, 1200}} {
		l := mustLine(t, Params{Loss: tc.loss, Limit: 20000})
		for i := 0; i < 10000; i++ {
			l.Push(int64(i), []byte{0})
		}
		s := l.Stats()
		if s.Lost < tc.min || s.Lost > tc.max || s.Lost+uint64(s.Held) != 10000 {
			t.Errorf("loss %v: %d lost, %d held; want %d..%d lost", tc.loss, s.Lost, s.Held, tc.min, tc.max)
		}
	}
}

// TestLineLimit: frames beyond Limit are refused and counted; popping
// makes room.
func TestLineLimit(t *testing.T) {
	l := mustLine(t, Params{Delay: time.Second, Limit: 3})
	for i := 0; i < 5; i++ {
		l.Push(0, []byte{byte(i)})
	}
	if s := l.Stats(); s.Held != 3 || s.Overflow != 2 {
		t.Fatalf("stats %+v; want 3 held, 2 overflow", s)
	}
	if _, ok := l.Pop(int64(time.Second)); !ok {
		t.Fatal("no frame due")
	}
	if !l.Push(0, []byte{9}) {
		t.Fatal("push refused after a pop made room")
	}
	// Growing the limit keeps the held frames in order.
	l.Set(Params{Delay: time.Second, Limit: 10})
	var got []byte
	for {
		f, ok := l.Pop(int64(2 * time.Second))
		if !ok {
			break
		}
		got = append(got, f[0])
	}
	if string(got) != string([]byte{1, 2, 9}) {
		t.Fatalf("order after growing the ring: %v, want [1 2 9]", got)
	}
}

// TestLineWake: a push into an empty line and a Set signal the writer.
func TestLineWake(t *testing.T) {
	l := mustLine(t, Params{})
	l.Push(0, []byte{1})
	select {
	case <-l.Wake():
	default:
		t.Fatal("no wake-up after a push into an empty line")
	}
	l.Set(Params{Delay: time.Millisecond})
	select {
	case <-l.Wake():
	default:
		t.Fatal("no wake-up after Set")
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{{Delay: -1}, {Loss: -0.1}, {Loss: 1.5}, {Limit: -1}, {Delay: 2 * time.Minute}} {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
		if _, err := NewLine(p, 0); err == nil {
			t.Errorf("NewLine(%+v) accepted", p)
		}
	}
}

// TestHandler: /set changes one or both directions and rejects bad
// values without changing anything; /stats reports.
func TestHandler(t *testing.T) {
	ab, _ := NewLine(Params{}, 1)
	ba, _ := NewLine(Params{}, 2)
	br := &Bridge{A: "d1", B: "d2", AB: ab, BA: ba}
	h := br.Handler()
	do := func(path string) (int, Status) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var s Status
		if rec.Code == http.StatusOK {
			if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return rec.Code, s
	}
	if code, s := do("/set?dir=ba&delay=80ms"); code != 200 || s.BA.DelayMs != 80 || s.AB.DelayMs != 0 {
		t.Fatalf("set ba: %d %+v", code, s)
	}
	if code, s := do("/set?delay=5ms&loss=0.25"); code != 200 || s.BA.DelayMs != 5 || s.AB.DelayMs != 5 || s.AB.Loss != 0.25 {
		t.Fatalf("set both: %d %+v", code, s)
	}
	for _, bad := range []string{"/set?dir=up", "/set?delay=fast", "/set?loss=2", "/set?loss=x", "/set?limit=-3"} {
		if code, _ := do(bad); code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", bad, code)
		}
	}
	if code, s := do("/stats"); code != 200 || s.AB.DelayMs != 5 || s.AB.Loss != 0.25 || s.A != "d1" {
		t.Fatalf("stats after bad sets changed: %d %+v", code, s)
	}
}

// TestLineRate: at 8 Mbit/s a 1000-byte frame takes 1 ms on the link;
// back-to-back frames leave 1 ms apart, after the delay; a frame that
// would queue longer than Queue is dropped.
func TestLineRate(t *testing.T) {
	l := mustLine(t, Params{Rate: 8e6, Delay: 10 * time.Millisecond, Queue: 3 * time.Millisecond})
	ms := int64(time.Millisecond)
	for i := 0; i < 6; i++ {
		l.Push(0, make([]byte, 1000))
	}
	// Frames 1-4 start at 0, 1, 2, 3 ms (3 ms of queue is the bound);
	// frames 5 and 6 would start at 4 and 5 ms: dropped.
	if s := l.Stats(); s.Held != 4 || s.Overflow != 2 {
		t.Fatalf("stats %+v; want 4 held, 2 dropped", s)
	}
	for i := int64(1); i <= 4; i++ {
		due, _ := l.Next()
		if want := i*ms + 10*ms; due != want {
			t.Errorf("frame %d due at %v, want %v", i, time.Duration(due), time.Duration(want))
		}
		l.Pop(due)
	}
	// An idle link starts the next frame on arrival.
	l.Push(100*ms, make([]byte, 500))
	if due, _ := l.Next(); due != 100*ms+ms/2+10*ms {
		t.Errorf("frame after idle due at %v", time.Duration(due))
	}
	if (Params{Rate: 10}).Validate() == nil || (Params{Queue: -1}).Validate() == nil {
		t.Error("bad rate or queue accepted")
	}
}
