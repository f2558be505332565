//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The test process plays both real peers: an MPTCP client socket created
// in fcp-c and a plain TCP listener created in fcp-s (sockets belong to the
// namespace of the thread that creates them; after that any goroutine may
// use them). The kernels of the two namespaces are the ground truth.

// dialMPTCP connects from fcp-c (from local address src, if valid) to dst
// with IPPROTO_MPTCP.
func dialMPTCP(ctx context.Context, src, dst string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(nsC, func() error {
		d := &net.Dialer{Timeout: 10 * time.Second}
		d.SetMultipathTCP(true)
		if src != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
		}
		var err error
		c, err = d.DialContext(ctx, "tcp", dst)
		return err
	})
	return c, err
}

// dialTCP connects from fcp-c with plain TCP.
func dialTCP(ctx context.Context, dst string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(nsC, func() error {
		d := &net.Dialer{Timeout: 10 * time.Second}
		d.SetMultipathTCP(false)
		var err error
		c, err = d.DialContext(ctx, "tcp", dst)
		return err
	})
	return c, err
}

// listenTCP listens in fcp-s with plain TCP (the server knows nothing of
// MPTCP).
func listenTCP(addr string) (net.Listener, error) {
	return listenTCPCC(addr, os.Getenv("FCP_SERVER_CC"))
}

// listenTCPCC is listenTCP with congestion control cc on the accepted
// sockets ("" keeps the namespace's default).
func listenTCPCC(addr, cc string) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(nsS, func() error {
		lc := net.ListenConfig{}
		lc.SetMultipathTCP(false)
		if cc != "" {
			// The accepted sockets inherit the listener's congestion
			// control: FCP_SERVER_CC=cubic compares the server's response
			// to loss with the namespace's default (bbr on this machine).
			// Any name in tcp_available_congestion_control works for root.
			lc.Control = func(_, _ string, c syscall.RawConn) error {
				var serr error
				if err := c.Control(func(fd uintptr) {
					serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)
				}); err != nil {
					return err
				}
				if serr != nil {
					return fmt.Errorf("congestion control %q: %w", cc, serr)
				}
				return nil
			}
		}
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr)
		return err
	})
	return ln, err
}

// stream is a deterministic byte stream (xorshift64*), so both ends can
// produce or check it without storing it.
type stream struct{ s uint64 }

func newStream(seed uint64) *stream { return &stream{s: seed*0x9e3779b97f4a7c15 | 1} }

func (g *stream) Read(p []byte) (int, error) {
	i := 0
	for ; i+8 <= len(p); i += 8 {
		g.s ^= g.s >> 12
		g.s ^= g.s << 25
		g.s ^= g.s >> 27
		binary.LittleEndian.PutUint64(p[i:], g.s*0x2545f4914f6cdd1d)
	}
	for ; i < len(p); i++ {
		g.s ^= g.s >> 12
		g.s ^= g.s << 25
		g.s ^= g.s >> 27
		p[i] = byte(g.s * 0x2545f4914f6cdd1d)
	}
	return len(p), nil
}

// transfer is the result of one direction of a connection.
type transfer struct {
	sent, received         int64
	sentHash, receivedHash [32]byte
}

func (t transfer) check(what string) error {
	if t.sent != t.received {
		return fmt.Errorf("%s: sent %d bytes, received %d", what, t.sent, t.received)
	}
	if t.sentHash != t.receivedHash {
		return fmt.Errorf("%s: %d bytes arrived but their SHA-256 differs from what was sent", what, t.received)
	}
	return nil
}

// sendHash writes n bytes of stream seed to w, returning their hash.
func sendHash(w io.Writer, seed uint64, n int64) (int64, [32]byte, error) {
	h := sha256.New()
	m, err := io.CopyBuffer(io.MultiWriter(w, h), io.LimitReader(newStream(seed), n), make([]byte, 64<<10))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return m, sum, err
}

// recvHash reads r to EOF, returning the byte count and hash.
func recvHash(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	m, err := io.CopyBuffer(h, r, make([]byte, 64<<10))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return m, sum, err
}

// exchange runs one connection: the client sends up bytes (seed s) then
// half-closes; the server sends down bytes (seed s+1) then half-closes;
// both directions run at once. It returns both directions' transfers.
func exchange(client, server net.Conn, seed uint64, up, down int64) (c2s, s2c transfer, err error) {
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	half := func(c net.Conn) {
		if tc, ok := c.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
		}
	}
	// A side with nothing to send half-closes only after it has received
	// the other side's whole stream. Otherwise its FIN is the connection's
	// first DATA_FIN: the peer's MPTCP socket leaves ESTABLISHED at once and
	// Linux never starts, or resets (mptcp_finish_join, MP_TCPRST EMPTCP),
	// the join of the second subflow - with a real MPTCP server too.
	cRecvd, sRecvd := make(chan struct{}), make(chan struct{})
	wg.Add(4)
	go func() {
		defer wg.Done()
		var e error
		c2s.sent, c2s.sentHash, e = sendHash(client, seed, up)
		if up == 0 && down > 0 {
			<-cRecvd
		}
		half(client)
		errs <- e
	}()
	go func() {
		defer wg.Done()
		defer close(sRecvd)
		var e error
		c2s.received, c2s.receivedHash, e = recvHash(server)
		errs <- e
	}()
	go func() {
		defer wg.Done()
		var e error
		s2c.sent, s2c.sentHash, e = sendHash(server, seed+1, down)
		if down == 0 && up > 0 {
			<-sRecvd
		}
		half(server)
		errs <- e
	}()
	go func() {
		defer wg.Done()
		defer close(cRecvd)
		var e error
		s2c.received, s2c.receivedHash, e = recvHash(client)
		errs <- e
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = errors.Join(c2s.check("client->server"), s2c.check("server->client"))
	}
	return c2s, s2c, err
}
