// Command flexcp-delay is the test topology's delay element (package
// bench/delay): it bridges two interfaces of the namespace it runs in and
// delays, or drops, frames per direction, changeable while it runs.
//
// Usage:
//
//	flexcp-delay run --a d1 --b d2 --control /run/fc-delay.sock [--delay-ab 0s] [--delay-ba 0s] [--loss-ab 0] [--loss-ba 0]
//	flexcp-delay set --control SOCK [--dir ab|ba|both] [--delay 80ms] [--loss 0.01] [--rate 50000000] [--queue 50ms]
//	flexcp-delay stats --control SOCK
//
// run needs root (AF_PACKET) and runs until SIGINT or SIGTERM; set and
// stats talk to a running one through its control socket (a unix socket,
// so they work from any namespace). Direction ab is from --a to --b.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexcp/flexcp/bench/delay"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "flexcp-delay:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("want a command: run, set or stats (see the package comment)")
	}
	switch args[0] {
	case "run":
		return runBridge(args[1:])
	case "set":
		return runSet(args[1:])
	case "stats":
		return runStats(args[1:])
	}
	return fmt.Errorf("unknown command %q: want run, set or stats", args[0])
}

func runBridge(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	a := fs.String("a", "", "interface A (required)")
	b := fs.String("b", "", "interface B (required)")
	ctl := fs.String("control", "", "control unix socket `path` (required)")
	dab := fs.Duration("delay-ab", 0, "delay from A to B")
	dba := fs.Duration("delay-ba", 0, "delay from B to A")
	lab := fs.Float64("loss-ab", 0, "loss probability from A to B")
	lba := fs.Float64("loss-ba", 0, "loss probability from B to A")
	rab := fs.Uint64("rate-ab", 0, "rate limit from A to B, bit/s (0: none)")
	rba := fs.Uint64("rate-ba", 0, "rate limit from B to A, bit/s (0: none)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the loss draws")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *a == "" || *b == "" || *ctl == "" {
		return errors.New("run needs --a, --b and --control")
	}
	br, err := delay.Open(*a, *b, delay.Params{Delay: *dab, Loss: *lab, Rate: *rab}, delay.Params{Delay: *dba, Loss: *lba, Rate: *rba}, *seed)
	if err != nil {
		return err
	}
	defer br.Close()
	_ = os.Remove(*ctl)
	ln, err := net.Listen("unix", *ctl)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer os.Remove(*ctl)
	srv := &http.Server{Handler: br.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "flexcp-delay: bridging %s <-> %s, control %s\n", *a, *b, *ctl)
	err = br.Run(ctx)
	s := br.Status()
	fmt.Fprintf(os.Stderr, "flexcp-delay: ab in %d out %d lost %d overflow %d; ba in %d out %d lost %d overflow %d; send errors %d\n",
		s.AB.In, s.AB.Out, s.AB.Lost, s.AB.Overflow, s.BA.In, s.BA.Out, s.BA.Lost, s.BA.Overflow, s.SendErrors)
	return err
}

// client returns an HTTP client that dials the control socket.
func client(sock string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
}

func get(sock, path string) error {
	resp, err := client(sock).Get("http://delay" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", body)
	}
	os.Stdout.Write(body)
	return nil
}

func runSet(args []string) error {
	fs := flag.NewFlagSet("set", flag.ContinueOnError)
	ctl := fs.String("control", "", "control unix socket `path` (required)")
	dir := fs.String("dir", "both", "direction: ab, ba or both")
	d := fs.String("delay", "", "new delay (e.g. 80ms); empty keeps it")
	loss := fs.String("loss", "", "new loss probability; empty keeps it")
	rate := fs.String("rate", "", "new rate limit in bit/s (0: none); empty keeps it")
	queue := fs.String("queue", "", "new queue bound of a rate-limited direction (e.g. 50ms); empty keeps it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ctl == "" {
		return errors.New("set needs --control")
	}
	q := url.Values{"dir": {*dir}}
	if *d != "" {
		q.Set("delay", *d)
	}
	if *loss != "" {
		q.Set("loss", *loss)
	}
	if *rate != "" {
		q.Set("rate", *rate)
	}
	if *queue != "" {
		q.Set("queue", *queue)
	}
	return get(*ctl, "/set?"+q.Encode())
}

func runStats(args []string) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	ctl := fs.String("control", "", "control unix socket `path` (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ctl == "" {
		return errors.New("stats needs --control")
	}
	return get(*ctl, "/stats")
}
