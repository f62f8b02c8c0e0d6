/*
 * gdb_server.c: serving the gdb stub on a socket (see gdb_server.h).
 *
 * A connection is not a debugger until it says so: the stub is attached
 * (which stops the guest) only when the first bytes look like the remote
 * protocol ('+', '-', '$' or an interrupt), so a stray client never stops
 * the VM.  While a debugger is attached, another connection is refused
 * with a log line.  Writes to the debugger are blocking with a timeout; a
 * debugger that stops reading is dropped, and the guest resumes.
 *
 * The debugger is the VM's debug core (monitor/debug/), which main
 * created; gdb is one of its owners, through the target adapter
 * (debug/gdb_target.h), whose bus subscription is watched here and
 * pumped into the stub.
 *
 * Threads: the main thread only (event-loop callbacks and set-up).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gdbstub/gdb_stub.h"
#include "monitor/ctl/unix_socket.h"
#include "monitor/debug/gdb_target.h"
#include "monitor/gdb_server.h"
#include "monitor/mevent.h"
#include "monitor/vitro.h"

#define RETRY_NS 1000000000ULL
#define SEND_TIMEOUT_S 10
/* A connection that has not spoken the protocol by then loses the slot. */
#define GREET_TIMEOUT_S 5

struct gdb_server {
	struct vitro *vm;
	struct gdb_server_config cfg;
	struct gdb_events *events;
	struct dbg_gdb *dbg; /* gdb's side of the debug core */
	struct gdb_stub *stub;
	char where[300]; /* what we listen on, for messages */
	int lfd; /* listening socket, or -1 */
	struct mevent *lev; /* its registration */
	struct mevent *retry; /* the retry timer while the port is busy */
	struct mevent *qev; /* the stop-event queue */
	struct mevent *bev; /* the debug core's events for gdb */
	int cfd; /* the debugger's connection, or -1 */
	struct mevent *cev;
	struct mevent *greet; /* GREET_TIMEOUT_S after the last accept */
	bool checked; /* its first bytes were the protocol */
	bool broken; /* a write to it failed */
	char peer[160];
	uint8_t buf[65536];
};

static int fail(char *err, size_t len, const char *fmt, const char *a)
{
	snprintf(err, len, fmt, a);
	return -EINVAL;
}

int gdb_server_parse(const char *spec, struct gdb_server_config *cfg, char *err,
		     size_t errlen)
{
	struct gdb_server_config c = { .layout = GDB_X86_64 };
	char buf[512], *comma, *colon, *p = buf;
	unsigned long port;
	char *end;

	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "'%.40s...' is too long", spec);
	strcpy(buf, spec);
	if ((comma = strchr(p, ','))) {
		*comma++ = 0;
		while (comma) {
			char *set = comma;

			if (!strncmp(set, "sym=", 4)) {
				if (!set[4] || strlen(set + 4) >= sizeof(c.sym))
					return fail(err, errlen,
						    "'%s': expected sym=FILE",
						    set);
				strcpy(c.sym, set + 4);
				break; /* the rest is the file's name */
			}
			if ((comma = strchr(set, ',')))
				*comma++ = 0;
			if (!strcmp(set, "arch=i386"))
				c.layout = GDB_X86_I386;
			else if (!strcmp(set, "arch=i8086"))
				c.layout = GDB_X86_I8086;
			else if (strcmp(set, "arch=x86-64"))
				return fail(
					err, errlen,
					"unknown setting '%s' (expected "
					"arch=x86-64, arch=i386, arch=i8086 "
					"or sym=FILE)",
					set);
		}
	}
	if (*p == 'w') {
		c.wait = true;
		p++;
	}
	if (!strncmp(p, "unix:", 5)) {
		p += 5;
		if (!*p || strlen(p) >= sizeof(c.path))
			return fail(err, errlen,
				    "'%s': expected unix:PATH with a path of "
				    "at most 107 bytes",
				    spec);
		c.is_unix = true;
		strcpy(c.path, p);
		*cfg = c;
		return 0;
	}
	strcpy(c.host, "127.0.0.1");
	if (*p == '[') {
		char *close = strchr(p, ']');

		if (!close || close[1] != ':')
			return fail(err, errlen,
				    "'%s': expected [IPv6 address]:port", spec);
		*close = 0;
		if (strlen(p + 1) >= sizeof(c.host))
			return fail(err, errlen, "'%s': address too long",
				    spec);
		memcpy(c.host, p + 1, strlen(p + 1) + 1);
		p = close + 2;
	} else if ((colon = strrchr(p, ':'))) {
		*colon = 0;
		if (!*p || strlen(p) >= sizeof(c.host))
			return fail(err, errlen,
				    "'%s': expected an address of 1 to 255 "
				    "bytes before the port",
				    spec);
		memcpy(c.host, p, strlen(p) + 1);
		p = colon + 1;
	}
	errno = 0;
	port = strtoul(p, &end, 10);
	if (!*p || *end || errno || port > 65535)
		return fail(err, errlen,
			    "'%s': expected [w][address:]port with a port "
			    "from 0 to 65535, or [w]unix:PATH",
			    spec);
	snprintf(c.port, sizeof(c.port), "%lu", port);
	*cfg = c;
	return 0;
}

/* The connection. */

static int stub_write(void *opaque, const void *buf, size_t len)
{
	struct gdb_server *gs = opaque;
	size_t done = 0;

	while (gs->cfd >= 0 && !gs->broken && done < len) {
		ssize_t n = send(gs->cfd, (const uint8_t *)buf + done,
				 len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vitro_log(
				"gdb: cannot write to the debugger at %s: %s; "
				"dropping it",
				gs->peer, n < 0 ? strerror(errno) : "closed");
			gs->broken = true;
			/* The read side sees the end and cleans up. */
			shutdown(gs->cfd, SHUT_RDWR);
			return -EIO;
		}
		done += n;
	}
	return 0;
}

static void client_close(struct gdb_server *gs, const char *why)
{
	if (gs->cev)
		mevent_delete(gs->cev);
	gs->cev = NULL;
	if (gs->cfd >= 0)
		close(gs->cfd);
	gs->cfd = -1;
	if (gs->stub && gdb_stub_active(gs->stub))
		gdb_stub_detach(gs->stub);
	if (why)
		vitro_log("gdb: %s %s", why, gs->peer);
}

static bool looks_like_rsp(uint8_t c)
{
	return c == '+' || c == '-' || c == '$' || c == 0x03;
}

static void on_client(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	struct gdb_server *gs = arg;
	ssize_t n = read(fd, gs->buf, sizeof(gs->buf));
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(gs, gs->checked ? "debugger detached:" : NULL);
		return;
	}
	if (!gs->checked) {
		if (!looks_like_rsp(gs->buf[0])) {
			char shown[24];
			int k;

			for (k = 0; k < n && k < 16; k++)
				shown[k] = gs->buf[k] >= 0x20 &&
							   gs->buf[k] < 0x7f ?
						   gs->buf[k] :
						   '.';
			shown[k] = 0;
			vitro_log("gdb: %s does not speak the GDB remote "
				  "protocol (it sent \"%s\"); closing the "
				  "connection",
				  gs->peer, shown);
			client_close(gs, NULL);
			return;
		}
		gs->checked = true;
		if ((r = gdb_stub_attach(gs->stub)) < 0) {
			vitro_log("gdb: cannot attach %s: %s", gs->peer,
				  strerror(-r));
			client_close(gs, NULL);
			return;
		}
		vitro_log("gdb: debugger attached from %s", gs->peer);
	}
	gdb_stub_input(gs->stub, gs->buf, n);
	if (gs->broken)
		client_close(gs, "lost the debugger at");
	else if (!gdb_stub_active(gs->stub))
		client_close(gs, "debugger detached:");
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "a local client");
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

/* The connection accepted last has said nothing yet: free the slot. */
static void on_greet_timeout(struct mevent *ev, int fd, enum mevent_type type,
			     void *arg)
{
	struct gdb_server *gs = arg;

	if (gs->cfd < 0 || gs->checked)
		return;
	vitro_log("gdb: %s said nothing in %d s; closing the connection so "
		  "that a debugger can attach",
		  gs->peer, GREET_TIMEOUT_S);
	client_close(gs, NULL);
}

static void on_accept(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	struct gdb_server *gs = arg;
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	char peer[sizeof(gs->peer)];
	int one = 1, cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	peer_name(cfd, peer, sizeof(peer));
	if (gs->cfd >= 0) {
		vitro_log("gdb: refusing a second connection from %s: a "
			  "debugger is attached from %s",
			  peer, gs->peer);
		close(cfd);
		return;
	}
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Every packet is a round trip: no Nagle delay on them. */
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	gs->cev = mevent_add(gs->vm->loop, cfd, MEVENT_READ, on_client, gs);
	if (!gs->cev) {
		close(cfd);
		return;
	}
	gs->cfd = cfd;
	gs->checked = false;
	gs->broken = false;
	memcpy(gs->peer, peer, sizeof(peer));
	if (gs->greet)
		mevent_set_timer(gs->greet, GREET_TIMEOUT_S * 1000000000ULL, 0);
	else
		gs->greet = mevent_add_timer(gs->vm->loop,
					     GREET_TIMEOUT_S * 1000000000ULL, 0,
					     on_greet_timeout, gs);
}

/* Listening. */

/*
 * Mode 0600 from the start; a stale socket of an earlier run is replaced,
 * anything else at the path is left alone (unix_socket.h).
 */
static int listen_unix(struct gdb_server *gs)
{
	char err[400];
	int fd = unix_socket_listen(gs->cfg.path, SOCK_STREAM, 2, err,
				    sizeof(err));

	if (fd < 0) {
		/* In use is retried with its own message; say the rest. */
		if (fd != -EADDRINUSE)
			vitro_log("gdb: %s", err);
		return fd;
	}
	snprintf(gs->where, sizeof(gs->where), "unix:%s", gs->cfg.path);
	return fd;
}

static int listen_tcp(struct gdb_server *gs)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, e = 0, one = 1, r;

	r = getaddrinfo(gs->cfg.host, gs->cfg.port, &hints, &res);
	if (r)
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 2) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -e;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		unsigned port =
			ss.ss_family == AF_INET6 ?
				ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
				ntohs(((struct sockaddr_in *)&ss)->sin_port);

		snprintf(gs->where, sizeof(gs->where), "%s:%u", gs->cfg.host,
			 port);
	}
	return fd;
}

static void try_listen(struct gdb_server *gs);

static void on_retry(struct mevent *ev, int fd, enum mevent_type type,
		     void *arg)
{
	try_listen(arg);
}

static void try_listen(struct gdb_server *gs)
{
	int fd = gs->cfg.is_unix ? listen_unix(gs) : listen_tcp(gs);
	char what[300];

	if (gs->cfg.is_unix)
		snprintf(what, sizeof(what), "unix:%s", gs->cfg.path);
	else if (strchr(gs->cfg.host, ':'))
		snprintf(what, sizeof(what), "[%s]:%s", gs->cfg.host,
			 gs->cfg.port);
	else
		snprintf(what, sizeof(what), "%s:%s", gs->cfg.host,
			 gs->cfg.port);

	if (fd == -EADDRINUSE) {
		if (!gs->retry) {
			vitro_log("gdb: cannot listen on %s: %s; trying again "
				  "every second%s",
				  what, strerror(EADDRINUSE),
				  gs->cfg.wait ? " (the guest waits)" : "");
			gs->retry = mevent_add_timer(gs->vm->loop, RETRY_NS,
						     RETRY_NS, on_retry, gs);
		}
		return;
	}
	if (gs->retry) {
		mevent_delete(gs->retry);
		gs->retry = NULL;
	}
	if (fd < 0) {
		vitro_log("gdb: cannot listen on %s: %s; going on without a "
			  "debugger",
			  what, strerror(-fd));
		return;
	}
	gs->lev = mevent_add(gs->vm->loop, fd, MEVENT_READ, on_accept, gs);
	if (!gs->lev) {
		close(fd);
		return;
	}
	gs->lfd = fd;
	vitro_log("gdb: listening on %s%s", gs->where,
		  gs->cfg.wait ? "; the guest waits for the debugger" : "");
}

static void on_events(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	struct gdb_server *gs = arg;

	gdb_stub_poll(gs->stub);
	if (gs->broken)
		client_close(gs, "lost the debugger at");
}

/* The core's bus: its events become the stub's. */
static void on_bus(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	struct gdb_server *gs = arg;

	dbg_gdb_pump(gs->dbg, gdb_stub_active(gs->stub),
		     gdb_stub_running(gs->stub));
	on_events(ev, fd, type, arg);
}

struct gdb_server *gdb_server_start(struct vitro *vm,
				    const struct gdb_server_config *cfg,
				    char *err, size_t errlen)
{
	struct gdb_server *gs = calloc(1, sizeof(*gs));
	struct gdb_target t;

	if (!gs) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gs->vm = vm;
	gs->cfg = *cfg;
	gs->lfd = gs->cfd = -1;
	if (!vm->dbg) {
		snprintf(err, errlen, "the VM has no debug core");
		goto fail;
	}
	gs->events = gdb_events_create();
	if (gs->events)
		gs->dbg = dbg_gdb_create(vm->dbg, gs->events);
	if (gs->dbg && cfg->sym[0])
		dbg_gdb_set_symbols(gs->dbg, gs->cfg.sym);
	if (gs->dbg) {
		t = dbg_gdb_target(gs->dbg);
		gs->stub = gdb_stub_create(&t, gs->events, cfg->layout,
					   stub_write, gs);
	}
	if (!gs->stub) {
		snprintf(err, errlen, "cannot set up the debugger: %s",
			 strerror(errno));
		goto fail;
	}
	gs->qev = mevent_add(vm->loop, gdb_events_fd(gs->events), MEVENT_READ,
			     on_events, gs);
	gs->bev = mevent_add(vm->loop, dbg_gdb_fd(gs->dbg), MEVENT_READ, on_bus,
			     gs);
	if (!gs->qev || !gs->bev) {
		snprintf(err, errlen, "cannot watch stop events: %s",
			 strerror(errno));
		goto fail;
	}
	try_listen(gs);
	return gs;
fail:
	gdb_server_stop(gs);
	return NULL;
}

void gdb_server_vm_ended(struct gdb_server *gs, int status)
{
	if (!gs || !gdb_stub_active(gs->stub))
		return;
	/* The core published the end; the loop that would pump it is over. */
	dbg_gdb_pump(gs->dbg, true, gdb_stub_running(gs->stub));
	gdb_stub_poll(gs->stub);
}

void gdb_server_stop(struct gdb_server *gs)
{
	if (!gs)
		return;
	client_close(gs, NULL);
	if (gs->lev)
		mevent_delete(gs->lev);
	if (gs->lfd >= 0) {
		close(gs->lfd);
		if (gs->cfg.is_unix)
			unlink(gs->cfg.path);
	}
	if (gs->retry)
		mevent_delete(gs->retry);
	if (gs->greet)
		mevent_delete(gs->greet);
	if (gs->qev)
		mevent_delete(gs->qev);
	if (gs->bev)
		mevent_delete(gs->bev);
	if (gs->stub)
		gdb_stub_destroy(gs->stub);
	dbg_gdb_destroy(gs->dbg);
	if (gs->events)
		gdb_events_destroy(gs->events);
	free(gs);
}
