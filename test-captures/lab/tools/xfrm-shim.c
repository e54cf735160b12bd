/* xfrm-shim.c: LD_PRELOAD for IKE daemons on a kernel without ESP.
 *
 * The kernel has XFRM (policies work) but no ESP: installing an ESP state
 * (XFRM_MSG_NEWSA / XFRM_MSG_UPDSA) is answered with EPROTONOSUPPORT (93).
 * This shim watches the daemon's NETLINK_XFRM sockets and rewrites exactly
 * that error, for exactly those two requests, into success (error 0, an
 * ACK). Nothing else is touched: IKE runs for real, the daemon believes its
 * SAs are installed, no ESP is ever sent or received.
 *
 * Build: gcc -shared -fPIC -o xfrm-shim.so xfrm-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#define MAXFD 4096
static unsigned char is_xfrm[MAXFD];
static int verbose = -1;

/* MSG_TRUNC makes recv return the full length even when the buffer was
 * smaller: callers pass the part that is really in the buffer. */
static void fix(void *buf, ssize_t len)
{
	struct nlmsghdr *h;
	int left = (int)len;

	if (verbose < 0)
		verbose = getenv("XFRM_SHIM_VERBOSE") != NULL;
	for (h = buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		struct nlmsgerr *e;

		if (h->nlmsg_type != NLMSG_ERROR)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			continue;
		e = NLMSG_DATA(h);
		if (e->error == -EPROTONOSUPPORT &&
		    (e->msg.nlmsg_type == XFRM_MSG_NEWSA ||
		     e->msg.nlmsg_type == XFRM_MSG_UPDSA)) {
			if (verbose)
				fprintf(stderr, "xfrm-shim: %s EPROTONOSUPPORT -> 0\n",
					e->msg.nlmsg_type == XFRM_MSG_NEWSA ? "NEWSA" : "UPDSA");
			e->error = 0;
		}
	}
}

#define REAL(name) static __typeof__(name) *real_##name; \
	if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

int socket(int domain, int type, int protocol)
{
	REAL(socket);
	int fd = real_socket(domain, type, protocol);
	if (fd >= 0 && fd < MAXFD)
		is_xfrm[fd] = (domain == AF_NETLINK && protocol == NETLINK_XFRM);
	return fd;
}

int close(int fd)
{
	REAL(close);
	if (fd >= 0 && fd < MAXFD)
		is_xfrm[fd] = 0;
	return real_close(fd);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	REAL(recv);
	ssize_t n = real_recv(fd, buf, len, flags);
	if (n > 0 && fd >= 0 && fd < MAXFD && is_xfrm[fd])
		fix(buf, (size_t)n < len ? n : (ssize_t)len);
	return n;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 struct sockaddr *src, socklen_t *alen)
{
	REAL(recvfrom);
	ssize_t n = real_recvfrom(fd, buf, len, flags, src, alen);
	if (n > 0 && fd >= 0 && fd < MAXFD && is_xfrm[fd])
		fix(buf, (size_t)n < len ? n : (ssize_t)len);
	return n;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	REAL(recvmsg);
	ssize_t n = real_recvmsg(fd, msg, flags);
	if (n > 0 && fd >= 0 && fd < MAXFD && is_xfrm[fd] && msg->msg_iovlen >= 1)
		fix(msg->msg_iov[0].iov_base,
		    (size_t)n < msg->msg_iov[0].iov_len ? n : (ssize_t)msg->msg_iov[0].iov_len);
	return n;
}

ssize_t read(int fd, void *buf, size_t len)
{
	REAL(read);
	ssize_t n = real_read(fd, buf, len);
	if (n > 0 && fd >= 0 && fd < MAXFD && is_xfrm[fd])
		fix(buf, n);
	return n;
}
