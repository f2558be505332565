package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flexcp/flexcp/bench/shortconn"
)

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no mode", nil, 2, "usage"},
		{"unknown mode", []string{"flood"}, 2, "unknown mode"},
		{"server without listen", []string{"server"}, 2, "-listen is required"},
		{"client without addr", []string{"short", "-d", "10ms"}, 1, "no server address"},
		{"bad flag", []string{"short", "-nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"pingpong", "-addr", "127.0.0.1:1", "extra"}, 2, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
			}
		})
	}
}

// TestRunServerAndClients runs the server mode and both client modes
// through run, over loopback, and checks the JSON the clients print.
func TestRunServerAndClients(t *testing.T) {
	// Reserve a port, then let the server mode listen on it.
	ln, err := shortconn.Listen(context.Background(), "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serr bytes.Buffer
	go func() { done <- run(ctx, []string{"server", "-listen", addr}, &bytes.Buffer{}, &serr) }()
	// Wait for the server mode to listen.
	var up bool
	for i := 0; i < 100 && !up; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			up = true
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !up {
		cancel()
		t.Fatalf("server mode did not listen on %s: %s", addr, serr.String())
	}
	for _, mode := range []string{"short", "pingpong"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{mode, "-addr", addr, "-d", "200ms", "-c", "2", "-warmup", "5"}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", mode, code, errb.String())
		}
		var r shortconn.Result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%s: output %q: %v", mode, out.String(), err)
		}
		if r.Mode != mode || r.Ops == 0 || r.Errors != 0 || r.Latency.P50US <= 0 {
			t.Errorf("%s: result %+v", mode, r)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("server mode exit %d: %s", code, serr.String())
	}
}
