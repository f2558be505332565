// Command flexcp-shortconn is the TCP/MPTCP load tool of scripts/compare.sh
// (package bench/shortconn): an echo server, a short-connection client and
// a ping-pong client, run inside the test namespaces.
//
//	flexcp-shortconn server   -listen ADDR [-mptcp] [-size 64]
//	flexcp-shortconn short    -addr ADDR [-mptcp] [-c 8] [-d 10s] [-size 64]
//	flexcp-shortconn pingpong -addr ADDR [-mptcp] [-d 10s] [-size 64] [-warmup 1000]
//
// The clients print one JSON object (shortconn.Result) on stdout and a
// one-line summary on stderr. The server runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexcp/flexcp/bench/shortconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  flexcp-shortconn server   -listen ADDR [-mptcp] [-size N]
  flexcp-shortconn short    -addr ADDR [-mptcp] [-c N] [-d DUR] [-size N]
  flexcp-shortconn pingpong -addr ADDR [-mptcp] [-d DUR] [-size N] [-warmup N]
`

// run parses args, runs the mode and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	mode, args := args[0], args[1:]
	fs := flag.NewFlagSet("flexcp-shortconn "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "server: address to listen on (host:port)")
	addr := fs.String("addr", "", "clients: server address (host:port)")
	mptcp := fs.Bool("mptcp", false, "use MPTCP (client: dial with MPTCP; server: MPTCP listener)")
	size := fs.Int("size", shortconn.DefaultSize, "message size in bytes, each way")
	conc := fs.Int("c", 8, "short: concurrent dialers")
	dur := fs.Duration("d", 10*time.Second, "clients: measuring time")
	warmup := fs.Int("warmup", 1000, "pingpong: untimed round trips first")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "flexcp-shortconn: unexpected arguments %q\n%s", fs.Args(), usage)
		return 2
	}
	cfg := shortconn.Config{Addr: *addr, MPTCP: *mptcp, Size: *size, Concurrency: *conc, Duration: *dur, Warmup: *warmup}
	var (
		res shortconn.Result
		err error
	)
	switch mode {
	case "server":
		if *listen == "" {
			fmt.Fprintln(stderr, "flexcp-shortconn server: -listen is required")
			return 2
		}
		ln, err := shortconn.Listen(ctx, *listen, *mptcp)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stderr, "flexcp-shortconn: echoing %d-byte messages on %s (mptcp=%v)\n", *size, ln.Addr(), *mptcp)
		if err := shortconn.Serve(ctx, ln, *size); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case "short":
		res, err = shortconn.RunShort(ctx, cfg)
	case "pingpong":
		res, err = shortconn.RunPingPong(ctx, cfg)
	default:
		fmt.Fprintf(stderr, "flexcp-shortconn: unknown mode %q\n%s", mode, usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "flexcp-shortconn: interrupted")
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stderr, "%s %s: %d ops in %.1f s = %.0f/s, p50 %.0f us, p99 %.0f us, errors %d, mptcp %d/%d conns\n",
		res.Mode, res.Addr, res.Ops, res.Seconds, res.OpsPerSec, res.Latency.P50US, res.Latency.P99US, res.Errors, res.MPTCPConns, res.Conns)
	if res.Ops == 0 {
		fmt.Fprintf(stderr, "flexcp-shortconn: no operation completed (first error: %s)\n", res.FirstError)
		return 1
	}
	return 0
}
