/*
 * vmmapi_remote.c: the control socket's client side (vmm_ctl.h).
 *
 * One connection per vm_open().  A call sends one request and waits for
 * the reply that carries its seq, at most timeout_ms: events read
 * meanwhile go to a bounded queue, and late replies to earlier requests
 * that timed out are dropped.  Every wait is bounded: a monitor that
 * stops answering gives -ETIMEDOUT (the connection stays usable), one
 * that closed gives -ECONNRESET (for good).
 *
 * Locking.  io_lock serialises the socket: a call holds it from its send
 * to its reply, so one request is in flight per connection, and anyone
 * reading the socket holds it.  q_lock guards the event queue and is
 * taken inside io_lock, never the other way round.  vm_event_next never
 * waits while it holds io_lock: it waits in poll() on pollfd, an epoll
 * set of the socket and of evfd (an eventfd readable while the queue
 * holds events), then reads what is there without blocking.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libvmmapi/vmmapi_priv.h"

#define EVQ_MAX 1024 /* events kept for the application */

struct vm_remote {
	int fd; /* the SEQPACKET connection */
	int evfd; /* readable while the queue holds events */
	int pollfd; /* epoll over fd and evfd: vm_event_fd */
	pthread_mutex_t io_lock;
	pthread_mutex_t q_lock;
	uint32_t seq; /* the last request's number; io_lock */
	bool dead; /* the monitor closed the connection; io_lock */
	unsigned int timeout_ms; /* a call's bound; atomic */
	struct vm_event *q; /* EVQ_MAX of them, a ring; q_lock */
	unsigned int q_head, q_len; /* q_lock */
	uint32_t q_dropped; /* events that did not fit; q_lock */
	/* Aligned for the structs read from them in place. */
	uint8_t rx[VM_CTL_MSG_MAX + 1]
		__attribute__((aligned(8))); /* io_lock */
	uint8_t tx[VM_CTL_MSG_MAX] __attribute__((aligned(8))); /* io_lock */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

static void queue_event(struct vm_remote *r, const struct vm_event *ev)
{
	uint64_t one = 1;
	ssize_t n = 0;

	pthread_mutex_lock(&r->q_lock);
	if (r->q_len == EVQ_MAX) {
		r->q_dropped += 1 + ev->dropped;
	} else {
		struct vm_event *slot = &r->q[(r->q_head + r->q_len) % EVQ_MAX];

		*slot = *ev;
		slot->msg[sizeof(slot->msg) - 1] = 0;
		slot->dropped += r->q_dropped;
		r->q_dropped = 0;
		/* Readable from the first event on; cannot overflow. */
		if (r->q_len++ == 0)
			n = write(r->evfd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&r->q_lock);
	(void)n;
}

static bool take_event(struct vm_remote *r, struct vm_event *ev)
{
	uint64_t v;
	ssize_t n = 0;
	bool got = false;

	pthread_mutex_lock(&r->q_lock);
	if (r->q_len) {
		*ev = r->q[r->q_head];
		r->q_head = (r->q_head + 1) % EVQ_MAX;
		got = true;
		/* Not readable once empty; it was readable until now. */
		if (--r->q_len == 0)
			n = read(r->evfd, &v, sizeof(v));
	}
	pthread_mutex_unlock(&r->q_lock);
	(void)n;
	return got;
}

/*
 * Read one message, waiting up to timeout_ms (0: only what is there).
 * 1 with a reply in r->rx (*len bytes); 2 when it was an event (queued)
 * or not the protocol's (dropped); 0 when nothing came; -ECONNRESET when
 * the monitor is gone.  io_lock held.
 */
static int rx_one(struct vm_remote *r, int timeout_ms, size_t *len)
{
	struct vm_ctl_hdr *h = (struct vm_ctl_hdr *)r->rx;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	ssize_t n;

	if (r->dead)
		return -ECONNRESET;
	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	n = recv(r->fd, r->rx, sizeof(r->rx), MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		r->dead = true;
		return -ECONNRESET;
	}
	if ((size_t)n < sizeof(*h) || (size_t)n > VM_CTL_MSG_MAX ||
	    h->magic != VM_CTL_MAGIC)
		return 2;
	if (h->cmd == VM_CTL_EVENT) {
		if ((size_t)n == sizeof(*h) + sizeof(struct vm_event))
			queue_event(r, (struct vm_event *)(h + 1));
		return 2;
	}
	*len = n;
	return 1;
}

/*
 * The monitor closed the connection before it took a request: if it
 * refused us, its one message says why (vmm_ctl.h).  io_lock held.
 */
static int refusal(struct vm_remote *r)
{
	const struct vm_ctl_hdr *h = (const struct vm_ctl_hdr *)r->rx;
	ssize_t n;

	while ((n = recv(r->fd, r->rx, sizeof(r->rx), MSG_DONTWAIT)) > 0) {
		if ((size_t)n >= sizeof(*h) && h->magic == VM_CTL_MAGIC &&
		    h->cmd != VM_CTL_EVENT && h->seq == 0 && h->error < 0)
			return h->error;
	}
	return -ECONNRESET;
}

/* Send a whole message by the deadline.  io_lock held. */
static int tx(struct vm_remote *r, size_t len, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = r->fd, .events = POLLOUT };
		ssize_t n =
			send(r->fd, r->tx, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EIO; /* SEQPACKET sends all or nothing */
		if (errno == EPIPE || errno == ECONNRESET ||
		    errno == ENOTCONN) {
			r->dead = true;
			return refusal(r);
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (poll(&p, 1, left_ms(deadline)) == 0)
			return -ETIMEDOUT;
	}
}

int vm_remote_call(struct vm_remote *r, uint32_t cmd, void *arg)
{
	struct vm_ctl_hdr *h = (struct vm_ctl_hdr *)r->tx;
	const struct vm_ctl_hdr *rh = (const struct vm_ctl_hdr *)r->rx;
	size_t size = VMM_CMD_SIZE(cmd), len = 0;
	uint64_t deadline =
		now_ms() + __atomic_load_n(&r->timeout_ms, __ATOMIC_RELAXED);
	int ret;

	/* Those hold pointers into this process: never sent. */
	if (cmd & VMM_CMD_LOCAL)
		return -EOPNOTSUPP;
	if (cmd == VM_DBG_STOP) {
		const struct vm_dbg_stop *s = arg;

		deadline += s->timeout_ms < VM_CTL_STOP_MAX_MS ?
				    s->timeout_ms :
				    VM_CTL_STOP_MAX_MS;
	}
	pthread_mutex_lock(&r->io_lock);
	if (r->dead) {
		ret = -ECONNRESET;
		goto out;
	}
	if (++r->seq == 0)
		r->seq = 1; /* 0 is the events' */
	*h = (struct vm_ctl_hdr){ .magic = VM_CTL_MAGIC,
				  .cmd = cmd,
				  .seq = r->seq };
	if (size)
		memcpy(h + 1, arg, size);
	if ((ret = tx(r, sizeof(*h) + size, deadline)) < 0)
		goto out;
	for (;;) {
		int left = left_ms(deadline);

		ret = rx_one(r, left, &len);
		if (ret < 0)
			goto out;
		if (ret == 1 && rh->seq == r->seq)
			break;
		/* The monitor refused this connection (vmm_ctl.h). */
		if (ret == 1 && rh->seq == 0 && rh->error < 0) {
			ret = rh->error;
			r->dead = true;
			goto out;
		}
		/* Anything else is an event or a late reply: go on. */
		if (ret == 0 && left == 0) {
			ret = -ETIMEDOUT;
			goto out;
		}
	}
	ret = rh->error > 0 ? -EPROTO : rh->error;
	if (len != sizeof(*rh) && len != sizeof(*rh) + size)
		ret = ret ? ret : -EPROTO;
	else if (len == sizeof(*rh) + size && size &&
		 vm_ctl_reply_kept(cmd, ret))
		memcpy(arg, rh + 1, size);
	else if (ret == 0 && size)
		ret = -EPROTO; /* a success must carry the struct */
out:
	pthread_mutex_unlock(&r->io_lock);
	return ret;
}

/*
 * The runtime directory must be ours (or root's) and closed to others, as
 * the monitor requires of it: otherwise another user could have put a
 * socket there to listen to what we send and feed us what we read.
 */
static int dir_trusted(void)
{
	char dir[256];
	struct stat st;
	int r;

	if ((r = vm_ctl_runtime_dir(dir, sizeof(dir))) < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || (st.st_mode & 077) ||
	    (st.st_uid != geteuid() && st.st_uid != 0))
		return -EACCES;
	return 0;
}

/* The peer must be the same user or root, as the monitor requires. */
static int peer_trusted(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	return cr.uid == geteuid() || cr.uid == 0 ? 0 : -EACCES;
}

static int remote_connect(const char *name, int *fdp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	if (!vm_name_valid(name))
		return -EINVAL;
	r = vm_ctl_socket_path(name, sun.sun_path, sizeof(sun.sun_path));
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((r = dir_trusted()) < 0 || (r = peer_trusted(fd)) < 0) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

int vm_remote_open(const char *name, struct vm_remote **out,
		   struct vm_ctl_hello *hello)
{
	struct vm_remote *r = calloc(1, sizeof(*r));
	struct vm_ctl_hello h = { .abi = VMM_ABI_VERSION };
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (!r)
		return -ENOMEM;
	r->fd = r->evfd = r->pollfd = -1;
	r->timeout_ms = VM_CTL_TIMEOUT_MS;
	pthread_mutex_init(&r->io_lock, NULL);
	pthread_mutex_init(&r->q_lock, NULL);
	r->q = calloc(EVQ_MAX, sizeof(*r->q));
	r->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->pollfd = epoll_create1(EPOLL_CLOEXEC);
	if (!r->q || r->evfd < 0 || r->pollfd < 0) {
		ret = r->q ? -errno : -ENOMEM;
		goto fail;
	}
	if ((ret = remote_connect(name, &r->fd)) < 0)
		goto fail;
	if (epoll_ctl(r->pollfd, EPOLL_CTL_ADD, r->fd, &ev) < 0 ||
	    epoll_ctl(r->pollfd, EPOLL_CTL_ADD, r->evfd, &ev) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = vm_remote_call(r, VM_CTL_HELLO, &h);
	if (ret < 0)
		goto fail;
	*hello = h;
	*out = r;
	return 0;
fail:
	vm_remote_close(r);
	return ret;
}

void vm_remote_set_timeout(struct vm_remote *r, unsigned int ms)
{
	__atomic_store_n(&r->timeout_ms, ms, __ATOMIC_RELAXED);
}

int vm_remote_event_fd(struct vm_remote *r)
{
	return r->pollfd;
}

int vm_remote_event_next(struct vm_remote *r, struct vm_event *ev,
			 int timeout_ms)
{
	uint64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		struct pollfd p = { .fd = r->pollfd, .events = POLLIN };
		size_t len;
		int ret = 0;

		if (take_event(r, ev))
			return 0;
		pthread_mutex_lock(&r->io_lock);
		/* Drain what is there: events queue, late replies go. */
		while ((ret = rx_one(r, 0, &len)) > 0)
			;
		pthread_mutex_unlock(&r->io_lock);
		if (take_event(r, ev))
			return 0;
		if (ret < 0)
			return ret;
		if (left_ms(deadline) == 0)
			return -ETIMEDOUT;
		poll(&p, 1, left_ms(deadline));
	}
}

void vm_remote_close(struct vm_remote *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->evfd >= 0)
		close(r->evfd);
	if (r->pollfd >= 0)
		close(r->pollfd);
	pthread_mutex_destroy(&r->io_lock);
	pthread_mutex_destroy(&r->q_lock);
	free(r->q);
	free(r);
}
