/*
 * mptcp-listen-shim.c - LD_PRELOAD shim that makes only a program's
 * LISTENING TCP sockets MPTCP (used by scripts/compare.sh for the split
 * proxies nginx and haproxy).
 *
 * `mptcpize run` turns every TCP socket of a program into an MPTCP one,
 * including a proxy's upstream sockets; with nginx that made the
 * server-to-client direction stall (DESIGN.md section 7). This shim
 * leaves every socket alone until listen(fd, backlog) is called on a
 * bound IPv4/IPv6 stream socket that is plain TCP. Then it:
 *   1. reads the bound address with getsockname(fd),
 *   2. creates socket(family, SOCK_STREAM, IPPROTO_MPTCP),
 *   3. copies SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY and the file status
 *      flags (O_NONBLOCK) and FD_CLOEXEC,
 *   4. dup2()s it onto fd (closing the old socket, which releases its
 *      bound port because it never listened), binds it to the same address,
 *   5. calls the real listen() (dlsym(RTLD_NEXT)).
 * Accepted connections then are MPTCP at the kernel level (the client's
 * additional subflows join them); everything else the program does with
 * the descriptor stays unchanged. If any step fails the shim falls back to
 * the original socket when it still can, and says so on stderr once.
 *
 * Build: gcc -O2 -shared -fPIC -o mptcp-listen-shim.so mptcp-listen-shim.c -ldl
 * Use:   LD_PRELOAD=/path/mptcp-listen-shim.so nginx ...
 * MPTCP_SHIM_DEBUG=1 logs each swap on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

typedef int (*listen_fn)(int, int);

static void copy_int_opt(int from, int to, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(from, level, name, &v, &len) == 0 && v != 0)
		(void)setsockopt(to, level, name, &v, sizeof(v));
}

int listen(int fd, int backlog)
{
	static listen_fn real_listen;
	int saved = errno;
	if (!real_listen) {
		real_listen = (listen_fn)dlsym(RTLD_NEXT, "listen");
		if (!real_listen) {
			errno = ENOSYS;
			return -1;
		}
	}
	const int debug = getenv("MPTCP_SHIM_DEBUG") != NULL;

	int type = 0, proto = 0, domain = 0;
	socklen_t len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
		goto passthrough;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
	    (domain != AF_INET && domain != AF_INET6))
		goto passthrough;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0 || proto != IPPROTO_TCP)
		goto passthrough; /* already MPTCP, or something else */

	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		goto passthrough;
	if (ss.ss_family != domain)
		goto passthrough;

	int m = socket(domain, SOCK_STREAM, IPPROTO_MPTCP);
	if (m < 0) {
		if (debug)
			fprintf(stderr, "mptcp-listen-shim: socket(IPPROTO_MPTCP): errno %d; fd %d stays TCP\n", errno, fd);
		goto passthrough;
	}
	copy_int_opt(fd, m, SOL_SOCKET, SO_REUSEADDR);
	copy_int_opt(fd, m, SOL_SOCKET, SO_REUSEPORT);
	if (domain == AF_INET6)
		copy_int_opt(fd, m, IPPROTO_IPV6, IPV6_V6ONLY);
	int fl = fcntl(fd, F_GETFL);
	int fdfl = fcntl(fd, F_GETFD);

	/* dup2 closes the old, bound but not listening socket: its port is free. */
	if (dup2(m, fd) < 0) {
		close(m);
		goto passthrough;
	}
	close(m);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl);
	if (fdfl >= 0)
		(void)fcntl(fd, F_SETFD, fdfl);
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
		fprintf(stderr, "mptcp-listen-shim: bind after swap failed: errno %d\n", errno);
		return -1;
	}
	if (debug)
		fprintf(stderr, "mptcp-listen-shim: fd %d is now IPPROTO_MPTCP (pid %d)\n", fd, (int)getpid());
	errno = saved;
	return real_listen(fd, backlog);

passthrough:
	errno = saved;
	return real_listen(fd, backlog);
}
