#!/usr/bin/env python3
"""golden_peer.py - the client and server of scripts/capture-golden.sh.

Small, deterministic MPTCP (or TCP) peers for recording golden captures:

  server: listen, accept one connection, read --recv bytes, write --send
          bytes, then either close first (--close server) or wait for the
          client's EOF and close (--close client).
  client: connect, write --first bytes, wait until the extra subflow is up
          (--wait-join), write the rest of --send bytes, read --recv bytes, then close first (--close client)
          or read until the server's EOF and close (--close server).
  --close never (client): write --send bytes, then keep writing a chunk
          every 10 ms without ever reading, until the process is killed.

Payload byte i of each direction is (i * 7 + dir) % 251, so a test can
check reassembled data. Exit status 0 on success; a short line per event on
stderr.
"""

import argparse
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1


def log(msg):
    print(f"golden_peer: {msg}", file=sys.stderr, flush=True)


def pattern(n, direction):
    return bytes((i * 7 + direction) % 251 for i in range(n))


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(65536, n - len(buf)))
        if not chunk:
            raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_until_eof(sock):
    total = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return total
        total += len(chunk)


def extra_subflows(sock):
    """Number of additional subflows (struct mptcp_info.mptcpi_subflows)."""
    try:
        info = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 64)
    except OSError:
        return -1
    return struct.unpack_from("B", info, 0)[0] if info else -1


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(args):
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    ls = socket.socket(family_of(args.addr), socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.addr, args.port))
    ls.listen(4)
    log(f"server listening on {args.addr} port {args.port} ({args.proto})")
    if args.ready:
        open(args.ready, "w").close()
    conn, peer = ls.accept()
    log(f"server accepted {peer[0]} port {peer[1]}")
    try:
        if args.close == "never":
            conn.sendall(pattern(args.send, 1))
            n = recv_until_eof(conn)
            log(f"server got {n} bytes then EOF")
            return 0
        data = recv_exact(conn, args.recv)
        if data != pattern(args.recv, 0):
            log("server: payload mismatch")
            return 1
        conn.sendall(pattern(args.send, 1))
        if args.close == "server":
            time.sleep(0.2)
            conn.close()
            log("server closed first")
            return 0
        n = recv_until_eof(conn)
        log(f"server got EOF (+{n} bytes), closing")
        conn.close()
        return 0
    except (ConnectionError, OSError) as e:
        log(f"server: {e!r}")
        return 0 if args.close == "never" else 1
    finally:
        ls.close()


def client(args):
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    s = socket.socket(family_of(args.addr), socket.SOCK_STREAM, proto)
    s.connect((args.addr, args.port))
    log(f"client connected {s.getsockname()[0]} -> {args.addr} port {args.port}")
    data = pattern(args.send, 0)
    first = 0
    if args.wait_join > 0:
        # Linux opens the extra subflow only once the connection is fully
        # established, i.e. after the server has acknowledged something with
        # a DSS; the MP_CAPABLE third ACK alone is not enough. So send a
        # first chunk, then wait for the join before the rest.
        first = min(args.first, len(data))
        s.sendall(data[:first])
        deadline = time.monotonic() + args.wait_join
        while extra_subflows(s) < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        # Let the join's fourth ACK go out before more data.
        time.sleep(0.05)
    log(f"client extra subflows: {extra_subflows(s)}")
    s.sendall(data[first:])
    if args.ready:
        open(args.ready, "w").close()
    if args.close == "never":
        n = 0
        while True:
            time.sleep(0.01)
            s.sendall(pattern(1000, 0))
            n += 1
    data = recv_exact(s, args.recv)
    if data != pattern(args.recv, 1):
        log("client: payload mismatch")
        return 1
    if args.close == "server":
        n = recv_until_eof(s)
        log(f"client got EOF (+{n} bytes), closing")
    s.close()
    log("client closed")
    # Keep the process (not the socket) alive briefly; the kernel finishes
    # the close on its own either way.
    time.sleep(0.1)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--proto", choices=["mptcp", "tcp"], default="mptcp")
    p.add_argument("--addr", required=True, help="listen or connect address")
    p.add_argument("--port", type=int, default=5201)
    p.add_argument("--send", type=int, default=0, help="bytes to write")
    p.add_argument("--recv", type=int, default=0, help="bytes to read")
    p.add_argument("--close", choices=["client", "server", "never"], default="client")
    p.add_argument("--wait-join", type=float, default=0.0,
                   help="client: seconds to wait for the extra subflow")
    p.add_argument("--first", type=int, default=1000,
                   help="client: bytes to write before waiting for the join")
    p.add_argument("--ready", help="file to create once listening (server) or once all of"
                   " --send is written (client)")
    args = p.parse_args()
    return server(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
