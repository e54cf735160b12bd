/* espintcp-shim.c: LD_PRELOAD for pluto on a kernel without espintcp.
 *
 * libreswan's IKE over TCP (RFC 8229) writes the "IKETCP" prefix itself,
 * then asks the kernel's espintcp upper-layer protocol to frame the stream
 * (setsockopt TCP_ULP "espintcp"): from then on each write() is one message
 * the kernel sends behind a 2-byte length (counting itself), and each read()
 * returns one whole message without it. This kernel has no espintcp, so the
 * shim does that framing in user space on exactly those sockets: the
 * setsockopt is answered with success and marks the socket; write() on it
 * sends length + message; read() reads one length and exactly that message
 * (never more: pluto's event loop must see the socket readable again for
 * the next one). Every other socket and call passes through untouched.
 *
 * Other libraries' constructors call read() before any shim constructor
 * runs, when dlsym(RTLD_NEXT) may still fail: the real functions are
 * resolved lazily, with the raw system call as fallback. Preload it before
 * xfrm-shim.so.
 *
 * Build: gcc -shared -fPIC -o espintcp-shim.so espintcp-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#define MAXFD 4096
#define WAIT_MS 5000 /* the rest of a message already on its way */

static unsigned char framed[MAXFD];

typedef ssize_t (*rw_fn)(int, void *, size_t);
typedef ssize_t (*wr_fn)(int, const void *, size_t);
typedef int (*close_fn)(int);
typedef int (*sso_fn)(int, int, int, const void *, socklen_t);

static ssize_t sys_read(int fd, void *b, size_t n)
{
	static rw_fn real;
	if (!real)
		real = (rw_fn)dlsym(RTLD_NEXT, "read");
	return real ? real(fd, b, n) : syscall(SYS_read, fd, b, n);
}

static ssize_t sys_write(int fd, const void *b, size_t n)
{
	static wr_fn real;
	if (!real)
		real = (wr_fn)dlsym(RTLD_NEXT, "write");
	return real ? real(fd, b, n) : syscall(SYS_write, fd, b, n);
}

static int is_framed(int fd) { return fd >= 0 && fd < MAXFD && framed[fd]; }

/* Waits until fd is readable (ev POLLIN) or writable (POLLOUT). */
static int wait_fd(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	return poll(&p, 1, WAIT_MS) == 1 ? 0 : -1;
}

/* Exactly n bytes; 0 on EOF before the first, -1 on error. */
static ssize_t read_exact(int fd, uint8_t *b, size_t n, int first_may_block)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = sys_read(fd, b + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return got ? -1 : 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && (got || first_may_block) && wait_fd(fd, POLLIN) == 0)
			continue;
		return -1;
	}
	return (ssize_t)got;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t w = sys_write(fd, b + put, n - put);
		if (w > 0) {
			put += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT) == 0)
			continue;
		return -1;
	}
	return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static sso_fn real;
	if (level == IPPROTO_TCP && name == TCP_ULP && val && len >= 8 && memcmp(val, "espintcp", 8) == 0 &&
	    fd >= 0 && fd < MAXFD) {
		framed[fd] = 1;
		return 0;
	}
	if (!real)
		real = (sso_fn)dlsym(RTLD_NEXT, "setsockopt");
	return real ? real(fd, level, name, val, len) : (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	uint8_t frame[65535];
	if (!is_framed(fd))
		return sys_write(fd, buf, n);
	if (n + 2 > sizeof(frame)) {
		errno = EMSGSIZE;
		return -1;
	}
	frame[0] = (uint8_t)((n + 2) >> 8);
	frame[1] = (uint8_t)(n + 2);
	memcpy(frame + 2, buf, n);
	return write_all(fd, frame, n + 2) == 0 ? (ssize_t)n : -1;
}

ssize_t read(int fd, void *buf, size_t n)
{
	uint8_t len[2], body[65535];
	if (!is_framed(fd))
		return sys_read(fd, buf, n);
	ssize_t r = read_exact(fd, len, 2, 0);
	if (r <= 0)
		return r;
	size_t want = ((size_t)len[0] << 8 | len[1]);
	if (want < 2) {
		errno = EPROTO;
		return -1;
	}
	want -= 2;
	if (want && read_exact(fd, body, want, 1) != (ssize_t)want) {
		errno = EPROTO;
		return -1;
	}
	size_t out = want < n ? want : n;
	memcpy(buf, body, out);
	return (ssize_t)out;
}

int close(int fd)
{
	static close_fn real;
	if (fd >= 0 && fd < MAXFD)
		framed[fd] = 0;
	if (!real)
		real = (close_fn)dlsym(RTLD_NEXT, "close");
	return real ? real(fd) : (int)syscall(SYS_close, fd);
}
