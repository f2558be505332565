package shortconn

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", ms(7), 50, 7 * time.Millisecond},
		{"single p99", ms(7), 99, 7 * time.Millisecond},
		{"1..100 p50", hundred, 50, 50 * time.Millisecond},
		{"1..100 p99", hundred, 99, 99 * time.Millisecond},
		{"1..100 p99.9", hundred, 99.9, 100 * time.Millisecond},
		{"1..100 p100", hundred, 100, 100 * time.Millisecond},
		{"1..100 p1", hundred, 1, 1 * time.Millisecond},
		{"1..100 p0 is min", hundred, 0, 1 * time.Millisecond},
		{"1..100 p>100 is max", hundred, 150, 100 * time.Millisecond},
		// Nearest rank: ceil(0.5*4) = 2nd of 4.
		{"even count p50", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"even count p51", ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{"three p99", ms(1, 2, 30), 99, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	// Unsorted on purpose: Summarize sorts.
	s := Summarize(ms(40, 10, 30, 20, 100))
	want := Summary{Count: 5, MeanUS: 40000, MinUS: 10000, P50US: 30000, P90US: 100000, P99US: 100000, P999US: 100000, MaxUS: 100000}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if z := Summarize(nil); z != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", z)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no addr", Config{Duration: time.Second}, "no server address"},
		{"no duration", Config{Addr: "127.0.0.1:1"}, "must be positive"},
		{"size", Config{Addr: "127.0.0.1:1", Duration: time.Second, Size: -1}, "message size"},
		{"concurrency", Config{Addr: "127.0.0.1:1", Duration: time.Second, Concurrency: 5000}, "concurrency"},
		{"warmup", Config{Addr: "127.0.0.1:1", Duration: time.Second, Warmup: -1}, "warm-up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunShort(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RunShort(%+v) error = %v, want it to mention %q", tt.cfg, err, tt.want)
			}
		})
	}
	if err := Serve(context.Background(), nil, 0); err == nil {
		t.Error("Serve with size 0: no error")
	}
}

// startServer runs Serve on a loopback port and returns its address and a
// function that stops it and reports Serve's error.
func startServer(t *testing.T, mptcp bool) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, "127.0.0.1:0", mptcp)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, DefaultSize) }()
	return ln.Addr().String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}

func checkResult(t *testing.T, r Result, mode string) {
	t.Helper()
	if r.Mode != mode {
		t.Errorf("mode %q, want %q", r.Mode, mode)
	}
	if r.Ops == 0 || r.Errors != 0 {
		t.Fatalf("ops %d errors %d (first: %s), want some ops and no errors", r.Ops, r.Errors, r.FirstError)
	}
	if int64(r.Latency.Count) != r.Ops {
		t.Errorf("latency samples %d != ops %d", r.Latency.Count, r.Ops)
	}
	l := r.Latency
	if !(l.MinUS > 0 && l.MinUS <= l.P50US && l.P50US <= l.P90US && l.P90US <= l.P99US && l.P99US <= l.P999US && l.P999US <= l.MaxUS) {
		t.Errorf("percentiles out of order: %+v", l)
	}
	if r.Seconds <= 0 || r.OpsPerSec <= 0 {
		t.Errorf("seconds %v ops/s %v, want positive", r.Seconds, r.OpsPerSec)
	}
	if r.MPTCPConns > r.Conns {
		t.Errorf("mptcp conns %d > conns %d", r.MPTCPConns, r.Conns)
	}
}

func TestLoopbackShort(t *testing.T) {
	for _, mptcp := range []bool{false, true} {
		name := "tcp"
		if mptcp {
			name = "mptcp"
		}
		t.Run(name, func(t *testing.T) {
			addr, stop := startServer(t, mptcp)
			defer stop()
			r, err := RunShort(context.Background(), Config{Addr: addr, MPTCP: mptcp, Concurrency: 4, Duration: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, r, "short")
			if r.Conns != r.Ops {
				t.Errorf("conns %d, ops %d: every short operation is one connection", r.Conns, r.Ops)
			}
			if r.Concurrency != 4 || r.Size != DefaultSize {
				t.Errorf("concurrency %d size %d, want 4 and %d", r.Concurrency, r.Size, DefaultSize)
			}
			if !mptcp && r.MPTCPConns != 0 {
				t.Errorf("plain TCP run reports %d MPTCP connections", r.MPTCPConns)
			}
		})
	}
}

func TestLoopbackPingPong(t *testing.T) {
	addr, stop := startServer(t, false)
	defer stop()
	r, err := RunPingPong(context.Background(), Config{Addr: addr, Duration: 200 * time.Millisecond, Warmup: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, "pingpong")
	if r.Conns != 1 {
		t.Errorf("conns %d, want 1", r.Conns)
	}
}

// TestBadEchoCounted: a server that answers with different bytes makes
// every operation an error, and none is counted as done.
func TestBadEchoCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, DefaultSize)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					buf[0] ^= 0xff
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	r, err := RunShort(context.Background(), Config{Addr: ln.Addr().String(), Concurrency: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ops != 0 || r.Errors == 0 || !strings.Contains(r.FirstError, "differs") {
		t.Errorf("ops %d errors %d first %q, want 0 ops and echo errors", r.Ops, r.Errors, r.FirstError)
	}
}

// TestRefusedConnect: nothing listens, so the ping-pong client fails to
// connect and says so.
func TestRefusedConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := RunPingPong(context.Background(), Config{Addr: addr, Duration: 100 * time.Millisecond}); err == nil {
		t.Error("RunPingPong to a closed port: no error")
	}
}
