package shortconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSize is the message size of both modes: 64 bytes each way.
const DefaultSize = 64

// Config describes one client run.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// MPTCP asks the kernel for an MPTCP connection
	// (net.Dialer.SetMultipathTCP); it falls back to TCP if the peer does
	// not answer MP_CAPABLE.
	MPTCP bool
	// Size is the message size in bytes each way; 0 means DefaultSize.
	Size int
	// Concurrency is the number of dialers of RunShort; 0 means 1.
	// RunPingPong always uses one connection.
	Concurrency int
	// Duration is how long to measure; it must be positive.
	Duration time.Duration
	// Warmup is how many untimed round trips RunPingPong makes first.
	Warmup int
	// DialTimeout bounds each connect and each read; 0 means 5 s.
	DialTimeout time.Duration
}

func (c *Config) normalize() error {
	if c.Addr == "" {
		return errors.New("shortconn: no server address")
	}
	if c.Duration <= 0 {
		return fmt.Errorf("shortconn: duration %v must be positive", c.Duration)
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Size < 1 || c.Size > 1<<20 {
		return fmt.Errorf("shortconn: message size %d out of range 1..1048576", c.Size)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		return fmt.Errorf("shortconn: concurrency %d out of range 1..4096", c.Concurrency)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.Warmup < 0 {
		return fmt.Errorf("shortconn: warm-up %d must not be negative", c.Warmup)
	}
	return nil
}

// Result is what a client run measured.
type Result struct {
	// Mode is "short" or "pingpong".
	Mode string `json:"mode"`
	// Addr, MPTCP, Size and Concurrency repeat the Config.
	Addr        string `json:"addr"`
	MPTCP       bool   `json:"mptcp_requested"`
	Size        int    `json:"size"`
	Concurrency int    `json:"concurrency"`
	// Seconds is the measured wall time.
	Seconds float64 `json:"seconds"`
	// Ops counts completed operations: connections (short) or round
	// trips (pingpong) whose echo matched.
	Ops int64 `json:"ops"`
	// OpsPerSec is Ops / Seconds.
	OpsPerSec float64 `json:"ops_per_sec"`
	// Errors counts failed operations; FirstError describes the first.
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Conns counts connections established; MPTCPConns how many of them
	// the kernel reported as MPTCP (not fallen back to TCP).
	Conns      int64 `json:"conns"`
	MPTCPConns int64 `json:"mptcp_conns"`
	// Latency is the distribution of the operations' latencies.
	Latency Summary `json:"latency"`
}

// errorLog counts errors and keeps the first.
type errorLog struct {
	n     atomic.Int64
	mu    sync.Mutex
	first string
}

func (e *errorLog) add(err error) {
	if e.n.Add(1) == 1 {
		e.mu.Lock()
		e.first = err.Error()
		e.mu.Unlock()
	}
}

func (e *errorLog) firstErr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.first
}

func dialer(cfg *Config) *net.Dialer {
	d := &net.Dialer{Timeout: cfg.DialTimeout}
	d.SetMultipathTCP(cfg.MPTCP)
	return d
}

// isMPTCP reports whether the kernel says c is an MPTCP connection.
func isMPTCP(c net.Conn) bool {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return false
	}
	m, err := tc.MultipathTCP()
	return err == nil && m
}

// exchange writes out and reads the echo into in, and checks it.
func exchange(c net.Conn, out, in []byte, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(c, in); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if !bytes.Equal(in, out) {
		return errors.New("echo differs from the request")
	}
	return nil
}

// fill writes a recognisable pattern (seed, seed+1, ...) into b.
func fill(b []byte, seed byte) {
	for i := range b {
		b[i] = seed + byte(i)
	}
}

// RunShort measures short connections: cfg.Concurrency dialers each
// connect, exchange one cfg.Size-byte message, and close, in a loop for
// cfg.Duration. It returns an error only for a bad Config or when ctx is
// cancelled before the run ends.
func RunShort(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.normalize(); err != nil {
		return Result{}, err
	}
	// A timer cancels the run, not a context deadline: the dialer would
	// turn a deadline into a socket timeout that can fire before the
	// context reports it, and such a connect is no error.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopTimer := time.AfterFunc(cfg.Duration, cancel)
	defer stopTimer.Stop()
	var (
		errs              errorLog
		conns, mptcpConns atomic.Int64
		wg                sync.WaitGroup
	)
	samples := make([][]time.Duration, cfg.Concurrency)
	start := time.Now()
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			d := dialer(&cfg)
			out := make([]byte, cfg.Size)
			in := make([]byte, cfg.Size)
			own := make([]time.Duration, 0, 4096)
			for seq := byte(w); runCtx.Err() == nil; seq++ {
				fill(out, seq)
				t0 := time.Now()
				c, err := d.DialContext(runCtx, "tcp", cfg.Addr)
				if err != nil {
					if runCtx.Err() == nil {
						errs.add(fmt.Errorf("connect: %w", err))
					}
					continue
				}
				conns.Add(1)
				if isMPTCP(c) {
					mptcpConns.Add(1)
				}
				err = exchange(c, out, in, cfg.DialTimeout)
				cerr := c.Close()
				if err == nil {
					err = cerr
				}
				if err != nil {
					errs.add(err)
					continue
				}
				own = append(own, time.Since(t0))
			}
			samples[w] = own
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	return result("short", &cfg, elapsed, all, &errs, conns.Load(), mptcpConns.Load()), nil
}

// RunPingPong measures request/response latency over one connection:
// cfg.Warmup untimed round trips, then round trips of cfg.Size bytes each
// way for cfg.Duration. A failed connect is returned as an error; a failed
// round trip ends the run and is counted in Result.Errors.
func RunPingPong(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.normalize(); err != nil {
		return Result{}, err
	}
	cfg.Concurrency = 1
	c, err := dialer(&cfg).DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return Result{}, fmt.Errorf("shortconn: connect %s: %w", cfg.Addr, err)
	}
	defer c.Close()
	var mptcpConns int64
	if isMPTCP(c) {
		mptcpConns = 1
	}
	var errs errorLog
	out := make([]byte, cfg.Size)
	in := make([]byte, cfg.Size)
	for i := 0; i < cfg.Warmup; i++ {
		fill(out, byte(i))
		if err := exchange(c, out, in, cfg.DialTimeout); err != nil {
			return Result{}, fmt.Errorf("shortconn: warm-up: %w", err)
		}
	}
	samples := make([]time.Duration, 0, 1<<16)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	for seq := byte(0); ; seq++ {
		fill(out, seq)
		t0 := time.Now()
		if !t0.Before(deadline) || ctx.Err() != nil {
			break
		}
		if err := exchange(c, out, in, cfg.DialTimeout); err != nil {
			errs.add(err)
			break
		}
		samples = append(samples, time.Since(t0))
	}
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return result("pingpong", &cfg, elapsed, samples, &errs, 1, mptcpConns), nil
}

func result(mode string, cfg *Config, elapsed time.Duration, samples []time.Duration, errs *errorLog, conns, mptcpConns int64) Result {
	r := Result{
		Mode:        mode,
		Addr:        cfg.Addr,
		MPTCP:       cfg.MPTCP,
		Size:        cfg.Size,
		Concurrency: cfg.Concurrency,
		Seconds:     elapsed.Seconds(),
		Ops:         int64(len(samples)),
		Errors:      errs.n.Load(),
		FirstError:  errs.firstErr(),
		Conns:       conns,
		MPTCPConns:  mptcpConns,
		Latency:     Summarize(samples),
	}
	if r.Seconds > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Seconds
	}
	return r
}

// Serve runs the echo server on ln until ctx is cancelled or ln fails:
// every connection gets its own goroutine that reads size-byte messages
// and writes each back, until the client closes. It closes ln and every
// open connection before it returns; the error is nil after a
// cancellation.
func Serve(ctx context.Context, ln net.Listener, size int) error {
	if size < 1 || size > 1<<20 {
		return fmt.Errorf("shortconn: message size %d out of range 1..1048576", size)
	}
	var (
		mu    sync.Mutex
		open  = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
		stopc = make(chan struct{})
	)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopc:
		}
		ln.Close()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
	}()
	defer func() {
		close(stopc)
		wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("shortconn: accept: %w", err)
		}
		mu.Lock()
		open[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(open, c)
				mu.Unlock()
				c.Close()
			}()
			buf := make([]byte, size)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

// Listen opens a listening socket on addr, MPTCP when mptcp is set (the
// kernel then accepts both MPTCP and plain TCP clients).
func Listen(ctx context.Context, addr string, mptcp bool) (net.Listener, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(mptcp)
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("shortconn: listen %s: %w", addr, err)
	}
	return ln, nil
}
