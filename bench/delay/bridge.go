package delay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Bridge forwards every frame between interfaces A and B through two
// Lines: AB (A to B) and BA (B to A).
type Bridge struct {
	A, B   string
	AB, BA *Line

	fdA, fdB   int
	start      time.Time
	sendErrors atomic.Uint64
}

// Open opens promiscuous AF_PACKET sockets on interfaces a and b (in the
// caller's network namespace) and returns a Bridge with the given
// parameters per direction. Close it when done.
func Open(a, b string, ab, ba Params, seed uint64) (*Bridge, error) {
	lab, err := NewLine(ab, seed)
	if err != nil {
		return nil, err
	}
	lba, err := NewLine(ba, seed+1)
	if err != nil {
		return nil, err
	}
	br := &Bridge{A: a, B: b, AB: lab, BA: lba, fdA: -1, fdB: -1, start: time.Now()}
	if br.fdA, err = openRaw(a); err != nil {
		return nil, err
	}
	if br.fdB, err = openRaw(b); err != nil {
		unix.Close(br.fdA)
		return nil, err
	}
	return br, nil
}

// htons converts a 16-bit value to network order (the protocol argument
// of an AF_PACKET socket).
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// openRaw opens an AF_PACKET raw socket bound to interface name, in
// promiscuous mode, that does not see the frames it sends itself.
func openRaw(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, fmt.Errorf("delay: interface %q: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return -1, fmt.Errorf("delay: AF_PACKET socket (needs root): %w", err)
	}
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("delay: %s on %q: %w", what, name, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	mr := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr); err != nil {
		return fail("promiscuous mode", err)
	}
	// Linux 4.20+; older kernels show our own frames as PACKET_OUTGOING,
	// which the reader skips as well.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("receive timeout", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	return fd, nil
}

// now is the Bridge's clock: nanoseconds since Open (monotonic).
func (br *Bridge) now() int64 { return int64(time.Since(br.start)) }

// SendErrors counts frames the kernel refused to send (dropped).
func (br *Bridge) SendErrors() uint64 { return br.sendErrors.Load() }

// Run forwards frames until ctx is done or a socket fails.
func (br *Bridge) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for _, f := range []func(context.Context) error{
		func(ctx context.Context) error { return br.read(ctx, br.fdA, br.AB) },
		func(ctx context.Context) error { return br.read(ctx, br.fdB, br.BA) },
		func(ctx context.Context) error { return br.write(ctx, br.AB, br.fdB) },
		func(ctx context.Context) error { return br.write(ctx, br.BA, br.fdA) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// read takes frames from fd into l.
func (br *Bridge) read(ctx context.Context, fd int, l *Line) error {
	buf := make([]byte, 65536)
	for ctx.Err() == nil {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("delay: receive: %w", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if n <= 0 {
			continue
		}
		l.Push(br.now(), append([]byte(nil), buf[:n]...))
	}
	return nil
}

// write sends l's frames to fd when they are due.
func (br *Bridge) write(ctx context.Context, l *Line, fd int) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		due, ok := l.Next()
		now := br.now()
		if ok && due <= now {
			f, _ := l.Pop(now)
			if _, err := unix.Write(fd, f); err != nil {
				if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENETDOWN) || errors.Is(err, unix.EMSGSIZE) {
					br.sendErrors.Add(1)
					continue
				}
				return fmt.Errorf("delay: send: %w", err)
			}
			continue
		}
		wait := time.Hour
		if ok {
			wait = time.Duration(due - now)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-l.Wake():
		case <-t.C:
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
	}
}

// Close closes the sockets.
func (br *Bridge) Close() error {
	e1 := unix.Close(br.fdA)
	e2 := unix.Close(br.fdB)
	return errors.Join(e1, e2)
}
