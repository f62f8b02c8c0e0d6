/*
 * ctl_server.c: the VM's control socket (see ctl_server.h; the protocol
 * is vmm_ctl.h, decoding and policy are ctl_proto.c).
 *
 * Each connection is a peer of the same user or root (SO_PEERCRED),
 * handled one message at a time in the event loop.  Nothing here blocks
 * on a client: a reply the client's socket cannot take yet waits in the
 * connection, which is not read until it went out; events from the debug
 * core are sent only when the socket takes them at once, and counted as
 * dropped otherwise.  Waits on the VM are bounded, not absent: a stop
 * waits up to VM_CTL_STOP_MAX_MS and a command on a running vCPU up to
 * CTL_CMD_STOP_MS for it to stop, with the event loop held meanwhile.  A connection that closes (or whose client dies in the
 * middle of anything) gives back its owner id, which removes its
 * breakpoints, and its subscription; the VM goes on.
 *
 * The debug core is used in one place, the "core" functions below (and
 * its owner and subscription calls in the connection's life).
 *
 * Local connections (ctl_server_open_local) are connections without a
 * socket, for the console inside vitro: a request is a direct call into
 * the same dispatch as a socket's (conn_dispatch), with the same checks
 * (the message is built and decoded as one from a socket would be), and
 * events stay in the connection's subscription, read with vm_event_next
 * instead of being forwarded.  A local connection outlives the server
 * (its calls then fail with -ECONNRESET) until its handle is closed.
 *
 * Threads: the main thread only.  vm->ended is read under vm->end_lock.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/ctl/ctl_proto.h"
#include "monitor/ctl/ctl_server.h"
#include "monitor/ctl/unix_socket.h"
#include "monitor/dump.h"
#include "monitor/debug/debug.h"
#include "monitor/mevent.h"
#include "monitor/trace.h"
#include "monitor/vitro.h"

#define CTL_MAX_CONNS 32
#define CTL_BACKLOG 16
#define CTL_STOP_DRAIN 16 /* requests answered -ESHUTDOWN per connection */

/* A message buffer, aligned for the structs read from it. */
union ctl_msg {
	uint8_t b[VM_CTL_MSG_MAX + 1];
	uint64_t align;
};

struct ctl_conn {
	struct ctl_server *srv; /* NULL: a local one whose server stopped */
	struct ctl_conn *next;
	int fd; /* -1 for a local connection */
	bool local; /* ctl_server_open_local */
	int epfd; /* local: epoll over the subscription, its event fd */
	struct mevent *rev; /* readable */
	struct mevent *wev; /* writable, while a reply waits */
	struct dbg_sub *sub; /* VM_DBG_SUBSCRIBE */
	struct mevent *sev; /* its fd */
	int owner; /* debug core owner id, -1 none yet */
	uint32_t dropped; /* events lost here, told in the next one */
	size_t pending; /* bytes of a reply waiting in out */
	char who[64]; /* "pid P uid U", for messages */
	union ctl_msg out;
};

struct ctl_server {
	struct vitro *vm;
	struct dbg_core *core;
	int lfd;
	struct mevent *lev;
	char path[108];
	struct ctl_conn *conns;
	unsigned int nconns;
	struct ctl_conn *locals; /* local connections */
	struct vm_ctl_hello hello; /* what does not change */
	union ctl_msg rx; /* the message being handled */
	union ctl_msg arg; /* its struct, then the reply's */
	union ctl_msg reply;
};

static bool vm_ending(struct vitro *vm)
{
	bool ended;

	pthread_mutex_lock(&vm->end_lock);
	ended = vm->ended;
	pthread_mutex_unlock(&vm->end_lock);
	return ended;
}

/* The debug core, as requests use it (struct ctl_ops). */

static int core_command(void *p, uint32_t cmd, void *arg)
{
	struct ctl_server *s = p;
	struct vm_gpa_rw *rw = arg;
	int r = vm_command(s->vm->ctx, cmd, arg);

	/*
	 * Guest memory as the guest has it: a client reads the bytes under
	 * the core's int3s, and what it writes over one goes under it (the
	 * int3 is planted again at once, as gdb's writes are).
	 */
	if (r == 0 && s->core && (cmd == VM_READ_GPA || cmd == VM_WRITE_GPA) &&
	    dbg_mem_shadowed(s->core))
		dbg_mem_shadow(s->core, rw->gpa, rw->data, rw->len,
			       cmd == VM_WRITE_GPA);
	/* Other clients' cached view of that vCPU's paging is stale now. */
	if (r == 0 && s->core &&
	    (cmd == VM_SET_REGISTER || cmd == VM_SET_REGISTER_SET))
		dbg_cpu_regs_changed(s->core, *(int32_t *)arg);
	return r;
}

static int core_borrow(void *p, int cpuid, unsigned int timeout_ms, bool *held)
{
	struct ctl_server *s = p;

	return s->core ? dbg_borrow(s->core, cpuid, timeout_ms, held) :
			 -EOPNOTSUPP;
}

static void core_unborrow(void *p, int cpuid)
{
	struct ctl_server *s = p;

	if (s->core)
		dbg_unborrow(s->core, cpuid);
}

static int core_stop(void *p, int owner, int cpuid, unsigned int timeout_ms,
		     struct vm_dbg_stop *out)
{
	struct ctl_server *s = p;

	if (!s->core)
		return -EOPNOTSUPP;
	return dbg_stop(s->core, owner, cpuid, timeout_ms, out);
}

static int core_resume(void *p, int owner, int cpuid)
{
	struct ctl_server *s = p;

	return s->core ? dbg_resume(s->core, owner, cpuid) : -EOPNOTSUPP;
}

static int core_suspend(void *p, int owner, uint32_t how)
{
	struct ctl_server *s = p;

	vitro_end(s->vm,
		  how == VM_SUSPEND_RESET ? VITRO_EXIT_RESET :
					    VITRO_EXIT_POWEROFF,
		  "%s by a control client (owner %d)",
		  how == VM_SUSPEND_RESET ? "reset" : "powered off", owner);
	return 0;
}

/* The monitor's regions (VM_CTL_REGION), counted across both maps. */
struct region_pick {
	int left; /* regions to skip before the one wanted */
	struct region_info info;
};

static int region_pick_one(void *arg, const struct region_info *info)
{
	struct region_pick *p = arg;

	if (p->left-- > 0)
		return 0;
	p->info = *info;
	return 1;
}

static int core_region(void *p, struct vm_ctl_region *r)
{
	struct ctl_server *s = p;
	struct region_map *maps[] = { s->vm->pio, s->vm->mmio };
	struct region_pick pick = { .left = r->index };

	if (r->index < 0)
		return -EINVAL;
	for (uint32_t k = 0; k < 2; k++) {
		if (!maps[k] ||
		    region_foreach(maps[k], region_pick_one, &pick) == 0)
			continue;
		r->kind = k == 0 ? VM_CTL_REGION_PIO : VM_CTL_REGION_MMIO;
		r->base = pick.info.base;
		r->size = pick.info.len;
		r->hits = pick.info.hits;
		memset(r->name, 0, sizeof(r->name));
		snprintf(r->name, sizeof(r->name), "%s", pick.info.name);
		return 0;
	}
	return -ENOENT;
}

static int core_trace(void *p, int owner, uint32_t cmd, void *arg)
{
	struct ctl_server *s = p;

	if (!s->vm->trace)
		return -EOPNOTSUPP;
	if (cmd == VM_CTL_TRACE)
		return trace_control(s->vm->trace, owner, arg);
	return trace_fetch(s->vm->trace, owner, arg);
}

static int core_dump(void *p, struct vm_ctl_dump *d)
{
	struct ctl_server *s = p;

	return vitro_dump_core(s->vm, s->core, d);
}

static const struct ctl_ops core_ops = {
	.region = core_region,
	.trace = core_trace,
	.dump = core_dump,
	.command = core_command,
	.borrow = core_borrow,
	.unborrow = core_unborrow,
	.suspend = core_suspend,
	.stop = core_stop,
	.resume = core_resume,
};

static void conn_owner(struct ctl_conn *c)
{
	int r;

	if (c->owner >= 0 || !c->srv->core)
		return;
	r = dbg_owner_alloc(c->srv->core, c->who);
	if (r >= 0)
		c->owner = r;
}

static void conn_unsubscribe(struct ctl_conn *c)
{
	if (c->sev)
		mevent_delete(c->sev);
	c->sev = NULL;
	if (c->sub && c->local)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, dbg_sub_fd(c->sub), NULL);
	if (c->sub)
		dbg_unsubscribe(c->sub);
	c->sub = NULL;
}

/* Connections. */

static void conn_close(struct ctl_conn *c, const char *why)
{
	struct ctl_server *s = c->srv;
	struct ctl_conn **pp;

	if (why)
		vitro_log("ctl: %s: %s", c->who, why);
	else if (s->vm->opt.verbose)
		vitro_log("ctl: %s disconnected", c->who);
	if (c->rev)
		mevent_delete(c->rev);
	if (c->wev)
		mevent_delete(c->wev);
	conn_unsubscribe(c);
	if (c->owner >= 0)
		trace_owner_gone(s->vm->trace, c->owner);
	if (c->owner >= 0 && s->core)
		dbg_owner_free(s->core, c->owner);
	close(c->fd);
	for (pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nconns--;
	free(c);
}

static void on_writable(struct mevent *ev, int fd, enum mevent_type type,
			void *arg);

/*
 * Send a reply; one the socket cannot take now waits in c->out while c
 * is not read.  -errno when c was closed (c is then gone).
 */
static int conn_reply(struct ctl_conn *c, const void *buf, size_t len)
{
	ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (buf != c->out.b)
			memcpy(c->out.b, buf, len);
		c->pending = len;
		if (!c->wev)
			c->wev = mevent_add(c->srv->vm->loop, c->fd,
					    MEVENT_WRITE, on_writable, c);
		if (c->wev) {
			mevent_disable(c->rev);
			return 0;
		}
	}
	conn_close(c, n < 0 && errno != EPIPE && errno != ECONNRESET ?
			      "cannot send a reply; closing the connection" :
			      NULL);
	return -EPIPE;
}

static void on_writable(struct mevent *ev, int fd, enum mevent_type type,
			void *arg)
{
	struct ctl_conn *c = arg;
	size_t len = c->pending;

	mevent_delete(c->wev);
	c->wev = NULL;
	c->pending = 0;
	if (conn_reply(c, c->out.b, len) == 0 && !c->pending)
		mevent_enable(c->rev);
}

/*
 * Forward the core's events; never wait for the client.  False when c was
 * closed (and is gone).
 */
static bool conn_events(struct ctl_conn *c)
{
	struct {
		struct vm_ctl_hdr h;
		struct vm_event ev;
	} m = { .h = { .magic = VM_CTL_MAGIC, .cmd = VM_CTL_EVENT } };

	while (c->sub && dbg_sub_take(c->sub, &m.ev)) {
		uint32_t lost = m.ev.dropped + c->dropped;
		ssize_t n;

		/* Records wait for one watch: tell only its connection. */
		if (m.ev.type == VM_EVENT_TRACE && m.ev.owner != c->owner)
			continue;
		m.ev.dropped = lost;
		n = c->pending ? -1 :
				 send(c->fd, &m, sizeof(m),
				      MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == sizeof(m)) {
			c->dropped = 0;
		} else if (n < 0 && !c->pending && errno != EAGAIN &&
			   errno != EINTR) {
			conn_close(c, NULL);
			return false;
		} else {
			c->dropped = lost + 1;
		}
	}
	return true;
}

static void on_events(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	conn_events(arg);
}

static int conn_subscribe(struct ctl_conn *c, struct vm_dbg_subscribe *sub)
{
	struct ctl_server *s = c->srv;

	if (sub->mask & ~VM_EVENT_MASK_ALL)
		return -EINVAL;
	conn_unsubscribe(c);
	if (!sub->mask)
		return 0;
	if (!s->core)
		return -EOPNOTSUPP;
	if (!(c->sub = dbg_subscribe(s->core, sub->mask)))
		return -errno;
	if (c->local) {
		struct epoll_event ev = { .events = EPOLLIN };
		int r = 0;

		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, dbg_sub_fd(c->sub), &ev) <
		    0) {
			r = -errno;
			conn_unsubscribe(c);
		}
		return r;
	}
	c->sev = mevent_add(s->vm->loop, dbg_sub_fd(c->sub), MEVENT_READ,
			    on_events, c);
	if (!c->sev) {
		int r = -errno;

		conn_unsubscribe(c);
		return r;
	}
	return 0;
}

static int conn_hello(struct ctl_conn *c, struct vm_ctl_hello *h)
{
	struct ctl_server *s = c->srv;

	*h = s->hello;
	conn_owner(c);
	h->owner = c->owner;
	h->state = VM_CTL_RUNNING;
	if (vm_ending(s->vm)) {
		h->state = VM_CTL_ENDING;
	} else {
		for (unsigned int i = 0; i < s->vm->ncpus; i++) {
			if (s->core && dbg_cpu_stopped(s->core, i))
				h->state = VM_CTL_STOPPED;
		}
	}
	return 0;
}

/*
 * Carry out a decoded request of c on arg (a writable copy of req->arg,
 * which becomes the reply's struct): the error for the reply.  Socket
 * and local connections alike.
 */
static int conn_dispatch(struct ctl_conn *c, const struct ctl_request *req,
			 void *arg)
{
	struct ctl_server *s = c->srv;

	/* A hello still says so, with the state ENDING. */
	if (vm_ending(s->vm) && req->hdr.cmd != VM_CTL_HELLO)
		return -ESHUTDOWN;
	if (ctl_needs_owner(req))
		conn_owner(c);
	switch (req->cmd->policy) {
	case CTL_HELLO:
		return conn_hello(c, arg);
	case CTL_SUBSCRIBE:
		return conn_subscribe(c, arg);
	default:
		return ctl_execute(&core_ops, s, c->owner, req, arg);
	}
}

/* One message of len bytes in s->rx: decode, act, reply. */
static void conn_handle(struct ctl_conn *c, size_t len)
{
	struct ctl_server *s = c->srv;
	struct ctl_request req;
	struct vm_ctl_hdr *h = (struct vm_ctl_hdr *)s->reply.b;
	size_t size;
	int r;

	r = ctl_request_decode(s->rx.b, len, s->vm->ncpus, &req);
	if (r < 0) {
		conn_reply(c, s->reply.b, ctl_error_reply(&req, r, s->reply.b));
		return;
	}
	size = VMM_CMD_SIZE(req.hdr.cmd);
	memcpy(s->arg.b, req.arg, size);
	r = conn_dispatch(c, &req, s->arg.b);
	if (r == -ESHUTDOWN && req.hdr.cmd != VM_CTL_HELLO) {
		conn_reply(c, s->reply.b, ctl_error_reply(&req, r, s->reply.b));
		return;
	}
	*h = (struct vm_ctl_hdr){ .magic = VM_CTL_MAGIC,
				  .cmd = req.hdr.cmd,
				  .seq = req.hdr.seq,
				  .error = r };
	memcpy(h + 1, s->arg.b, size);
	conn_reply(c, s->reply.b, sizeof(*h) + size);
}

/*
 * Read one message into s->rx: its length (which may exceed the buffer),
 * 0 when there is none now, -1 when the peer is gone.
 */
static ssize_t conn_read(struct ctl_conn *c)
{
	ssize_t n = recv(c->fd, c->srv->rx.b, sizeof(c->srv->rx.b),
			 MSG_TRUNC | MSG_DONTWAIT);
	struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n > 0)
		return n;
	/* 0: the end, or an empty message from a peer still there. */
	if (poll(&p, 1, 0) != 0 && (p.revents & (POLLRDHUP | POLLHUP)))
		return -1;
	return -2;
}

static void on_readable(struct mevent *ev, int fd, enum mevent_type type,
			void *arg)
{
	struct ctl_conn *c = arg;
	ssize_t n = conn_read(c);

	if (n == -1)
		conn_close(c, NULL);
	else if (n == -2)
		conn_handle(c, 0);
	else if (n > 0)
		conn_handle(c, n);
}

/* Refuse a peer with one error header before closing (vmm_ctl.h). */
static void refuse(int fd, int err)
{
	struct vm_ctl_hdr h = { .magic = VM_CTL_MAGIC,
				.cmd = VM_CTL_HELLO,
				.error = err };

	send(fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void on_accept(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	struct ctl_server *s = arg;
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	struct ctl_conn *c;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (cfd < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0) {
		vitro_log("ctl: cannot tell who connected (%s); closing the "
			  "connection",
			  strerror(errno));
		close(cfd);
		return;
	}
	if (uc.uid != geteuid() && uc.uid != 0) {
		vitro_log("ctl: refusing a connection from pid %d uid %u: "
			  "only uid %u or root may control VM '%s'",
			  (int)uc.pid, (unsigned)uc.uid, (unsigned)geteuid(),
			  s->vm->name);
		refuse(cfd, -EACCES);
		return;
	}
	if (s->nconns >= CTL_MAX_CONNS) {
		vitro_log("ctl: refusing a connection from pid %d: %d clients "
			  "are connected already",
			  (int)uc.pid, CTL_MAX_CONNS);
		refuse(cfd, -EUSERS);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		refuse(cfd, -ENOMEM);
		return;
	}
	c->srv = s;
	c->fd = cfd;
	c->owner = -1;
	snprintf(c->who, sizeof(c->who), "client pid %d uid %u", (int)uc.pid,
		 (unsigned)uc.uid);
	c->rev = mevent_add(s->vm->loop, cfd, MEVENT_READ, on_readable, c);
	if (!c->rev) {
		free(c);
		refuse(cfd, -ENOMEM);
		return;
	}
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	if (s->vm->opt.verbose)
		vitro_log("ctl: %s connected", c->who);
}

struct ctl_server *ctl_server_start(struct vitro *vm, bool *fatal, char *err,
				    size_t errlen)
{
	struct ctl_server *s;
	char dir[256];
	uint16_t sk, co, th, mx;
	int r;

	*fatal = false;
	err[0] = 0;
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errlen, "out of memory");
		*fatal = true;
		return NULL;
	}
	s->vm = vm;
	s->core = vm->dbg;
	s->lfd = -1;
	s->hello.abi = VMM_ABI_VERSION;
	s->hello.ncpus = vm->ncpus;
	s->hello.pid = getpid();
	if (vm_get_topology(vm->ctx, &sk, &co, &th, &mx) == 0)
		s->hello.topo = (struct vm_cpu_topology){ sk, co, th, mx };
	s->hello.lowmem = vm_get_lowmem_size(vm->ctx);
	s->hello.highmem = vm_get_highmem_size(vm->ctx);
	snprintf(s->hello.name, sizeof(s->hello.name), "%s", vm->name);

	/* From here on, a failure costs the socket, not the server. */
	if ((r = vm_ctl_runtime_dir(dir, sizeof(dir))) < 0) {
		snprintf(err, errlen,
			 "the runtime directory's path is too long");
		return s;
	}
	if (unix_socket_private_dir(dir, err, errlen) < 0)
		return s;
	if ((r = vm_ctl_socket_path(vm->name, s->path, sizeof(s->path))) < 0) {
		snprintf(err, errlen, "a socket path for VM '%s' is too long",
			 vm->name);
		return s;
	}
	s->lfd = unix_socket_listen(s->path, SOCK_SEQPACKET, CTL_BACKLOG, err,
				    errlen);
	if (s->lfd < 0) {
		if (s->lfd == -EADDRINUSE) {
			*fatal = true;
			snprintf(err, errlen,
				 "VM '%s' is already served by a running "
				 "process (at %s)",
				 vm->name, s->path);
			s->lfd = -1;
			ctl_server_stop(s);
			return NULL;
		}
		s->lfd = -1;
		return s;
	}
	s->lev = mevent_add(vm->loop, s->lfd, MEVENT_READ, on_accept, s);
	if (!s->lev) {
		snprintf(err, errlen, "cannot watch %s: %s", s->path,
			 strerror(errno));
		close(s->lfd);
		unlink(s->path);
		s->lfd = -1;
		return s;
	}
	if (vm->opt.verbose)
		vitro_log("ctl: VM '%s' is served at %s", vm->name, s->path);
	return s;
}

/* Local connections: the transport of ctl_server_open_local's handle. */

/* One request, as a socket's would be decoded and carried out. */
static int local_call(void *arg, uint32_t cmd, void *data)
{
	struct ctl_conn *c = arg;
	union ctl_msg msg, rarg;
	struct vm_ctl_hdr *h = (struct vm_ctl_hdr *)msg.b;
	struct ctl_request req;
	size_t size = VMM_CMD_SIZE(cmd);
	int r;

	if (!c->srv)
		return -ECONNRESET;
	if (sizeof(*h) + size > VM_CTL_MSG_MAX)
		return -EMSGSIZE;
	*h = (struct vm_ctl_hdr){ .magic = VM_CTL_MAGIC, .cmd = cmd, .seq = 1 };
	if (size)
		memcpy(h + 1, data, size);
	r = ctl_request_decode(msg.b, sizeof(*h) + size, c->srv->vm->ncpus,
			       &req);
	if (r < 0)
		return r;
	memcpy(rarg.b, req.arg, size);
	r = conn_dispatch(c, &req, rarg.b);
	/* What a socket client keeps of the reply (vmmapi_remote.c). */
	if (size && vm_ctl_reply_kept(cmd, r))
		memcpy(data, rarg.b, size);
	return r;
}

static int local_event_fd(void *arg)
{
	struct ctl_conn *c = arg;

	return c->epfd;
}

static int local_event_next(void *arg, struct vm_event *ev, int timeout_ms)
{
	struct ctl_conn *c = arg;
	struct pollfd p[2] = { { .fd = c->epfd, .events = POLLIN },
			       { .fd = -1, .events = POLLIN } };

	for (;;) {
		int n;

		if (c->sub && dbg_sub_take(c->sub, ev)) {
			/* Another connection's watch: not for this one. */
			if (ev->type == VM_EVENT_TRACE && ev->owner != c->owner)
				continue;
			return 0;
		}
		if (!c->srv)
			return -ECONNRESET;
		if (timeout_ms == 0)
			return -ETIMEDOUT;
		/*
		 * The event loop is held meanwhile (ctl_server.h); what
		 * would end the VM there must still end it.
		 */
		p[1].fd = c->srv->vm->sig_fd;
		n = poll(p, 2, timeout_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (p[1].revents & POLLIN))
			vitro_take_signal(c->srv->vm);
		if (n == 0)
			timeout_ms = 0;
	}
}

static void local_detach(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;
	struct ctl_conn **pp;

	if (!s)
		return;
	conn_unsubscribe(c);
	if (c->owner >= 0)
		trace_owner_gone(s->vm->trace, c->owner);
	if (c->owner >= 0 && s->core)
		dbg_owner_free(s->core, c->owner);
	c->owner = -1;
	for (pp = &s->locals; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->srv = NULL;
}

static void local_close(void *arg)
{
	struct ctl_conn *c = arg;

	local_detach(c);
	close(c->epfd);
	free(c);
}

static const struct vm_transport_ops local_ops = {
	.call = local_call,
	.event_fd = local_event_fd,
	.event_next = local_event_next,
	.close = local_close,
};

struct vmctx *ctl_server_open_local(struct ctl_server *s)
{
	struct ctl_conn *c;
	struct vmctx *ctx;
	int e;

	if (!s) {
		errno = ENODEV;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	c->srv = s;
	c->fd = -1;
	c->local = true;
	c->owner = -1;
	snprintf(c->who, sizeof(c->who), "console");
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		free(c);
		return NULL;
	}
	c->next = s->locals;
	s->locals = c;
	ctx = vm_open_transport(&local_ops, c);
	if (!ctx) {
		e = errno;
		local_close(c);
		errno = e;
	}
	return ctx;
}

/*
 * The VM is gone: forward c's last events, and what c still asked gets
 * -ESHUTDOWN.  False when c was closed (and is gone).
 */
static bool conn_drain(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;

	if (!conn_events(c))
		return false;
	for (int i = 0; i < CTL_STOP_DRAIN && !c->pending; i++) {
		struct ctl_request req;
		ssize_t n = conn_read(c);
		size_t len;

		if (n == 0 || n == -1)
			break;
		ctl_request_decode(s->rx.b, n < 0 ? 0 : n, s->vm->ncpus, &req);
		len = ctl_error_reply(&req, -ESHUTDOWN, s->reply.b);
		if (send(c->fd, s->reply.b, len, MSG_DONTWAIT | MSG_NOSIGNAL) <
		    0)
			break;
	}
	return true;
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	if (s->lev)
		mevent_delete(s->lev);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	while (s->conns) {
		struct ctl_conn *c = s->conns;

		if (conn_drain(c))
			conn_close(c, NULL);
	}
	while (s->locals)
		local_detach(s->locals);
	free(s);
}
