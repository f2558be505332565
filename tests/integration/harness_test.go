//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// repoRoot is the repository root, found from this file's directory.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

// flexcpBin is the binary `make build` produces.
var flexcpBin = filepath.Join(repoRoot, "bin", "flexcp")

// The namespaces of the topology: PREFIX-c, PREFIX-p, PREFIX-s, with PREFIX
// from FCP_NETNS_PREFIX (default "fcp", the names of DESIGN.md section 7).
// A different prefix lets a second test run use its own copy of the
// topology while another one runs (scripts/netns.sh, NETNS_PREFIX).
var (
	nsPrefix      = envOr("FCP_NETNS_PREFIX", "fcp")
	nsC, nsP, nsS = nsPrefix + "-c", nsPrefix + "-p", nsPrefix + "-s"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// run runs a command and fails the test with its output if it fails.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nsRun runs a command inside network namespace ns and fails on error.
func nsRun(t testing.TB, ns string, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// nsTry runs a command inside ns and returns its output and error.
func nsTry(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	return string(out), err
}

// topology brings the standard topology up for one test and down after it.
// env adds NETNS_* settings for scripts/netns.sh.
func topology(t testing.TB, env ...string) {
	t.Helper()
	script := filepath.Join(repoRoot, "scripts", "netns.sh")
	env = append(env, "NETNS_PREFIX="+nsPrefix)
	down := func() {
		cmd := exec.Command("bash", script, "down")
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("netns.sh down: %v\n%s", err, out)
		}
	}
	down() // a previous run killed hard may have left the topology behind
	cmd := exec.Command("bash", script, "up")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("netns.sh up: %v\n%s", err, out)
	}
	t.Cleanup(down)
}

// proxy is a flexcp process started by a test.
type proxy struct {
	cmd     *exec.Cmd
	logPath string
	done    chan error
	metrics string // host:port of the metrics endpoint inside fcp-p
}

// startProxy writes config to a file, starts flexcp in fcp-p with it and
// waits until its metrics endpoint answers. The process is stopped with
// SIGTERM when the test ends; a non-zero exit fails the test.
func startProxy(t testing.TB, config string, extraArgs ...string) *proxy {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "flexcp.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proxy{logPath: filepath.Join(dir, "flexcp.log"), done: make(chan error, 1), metrics: "127.0.0.1:9750"}
	if i := strings.Index(config, "listen = \""); i >= 0 {
		rest := config[i+len("listen = \""):]
		p.metrics = rest[:strings.IndexByte(rest, '"')]
	}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"netns", "exec", nsP, flexcpBin, "--config", cfg}, extraArgs...)
	p.cmd = exec.Command("ip", args...)
	p.cmd.Stdout = logf
	p.cmd.Stderr = p.cmd.Stdout
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start flexcp: %v", err)
	}
	go func() { p.done <- p.cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("flexcp exited during start-up: %v\n%s", err, p.logText())
		default:
		}
		_, lastErr = p.scrape()
		if lastErr == nil {
			return p
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("flexcp did not come up in 30 s (metrics: %v)\n%s", lastErr, p.logText())
	return nil
}

// logText returns what flexcp printed so far.
func (p *proxy) logText() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// stop sends SIGTERM to the flexcp process (by PID) and waits for it; it
// fails the test if flexcp does not exit cleanly within 20 s.
func (p *proxy) stop(t testing.TB) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	// ip netns exec execs flexcp in place, so the PID is flexcp's own.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("flexcp exited with %v\n%s", err, p.logText())
		}
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("flexcp did not stop within 20 s of SIGTERM\n%s", p.logText())
	}
}

// inNetns runs f on an OS thread that has joined network namespace ns, so
// sockets f opens live in ns.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked, so it is destroyed when this goroutine
		// ends instead of returning to the pool in the wrong namespace.
		h, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := unix.Setns(int(h.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// scrape fetches flexcp's metrics from inside fcp-p and returns them as a
// map from "name{labels}" to value.
func (p *proxy) scrape() (map[string]float64, error) {
	// The socket must be created on the thread that joined fcp-p; an
	// http.Client would dial from another goroutine (and thread), so dial
	// here and speak HTTP/1.0 on the connection.
	var conn net.Conn
	err := inNetns(nsP, func() error {
		var err error
		conn, err = net.DialTimeout("tcp", p.metrics, 2*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.0\r\nHost: flexcp\r\n\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	m := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, nil
}

// sum adds every sample whose name is metric and whose labels contain all
// of the given label="value" pairs.
func sum(m map[string]float64, metric string, labels ...string) float64 {
	var s float64
	for k, v := range m {
		name, lab := k, ""
		if i := strings.IndexByte(k, '{'); i >= 0 {
			name, lab = k[:i], k[i:]
		}
		if name != metric {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(lab, l) {
				ok = false
				break
			}
		}
		if ok {
			s += v
		}
	}
	return s
}

// mustScrape scrapes or fails the test.
func (p *proxy) mustScrape(t testing.TB) map[string]float64 {
	t.Helper()
	m, err := p.scrape()
	if err != nil {
		t.Fatalf("scrape metrics: %v\n%s", err, p.logText())
	}
	return m
}

// startServer runs a long-lived command in a namespace in the background
// and ends it (by PID) when the test finishes.
func startServer(t testing.TB, ns string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return cmd
}

// withTimeout returns a context for one step of a test.
func withTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
