/*
 * uart_backend.c: the host side of a UART: stdio, pty, file and unix
 * socket back ends (see uart_backend.h for what each does).
 *
 * Input runs in the event loop thread only: in_pump() reads the input fd,
 * filters the terminal escape, and pushes the bytes into the uart.  What
 * the uart refuses stays in in_buf, the fd's watch is disabled, and the
 * uart's room() callback (a vCPU thread) arms the one-shot kick timer,
 * whose callback pumps again in the loop thread.  So all input state is
 * loop-thread-only and needs no lock.
 *
 * Output arrives on vCPU threads through be_tx(), serialised by out_mtx,
 * which guards the output fd, its write watch and the ring buffer; the
 * loop thread's write callback and connect/disconnect take it too.  Lock
 * order: out_mtx, then the loop's own mutex (mevent calls); out_mtx is
 * never held while a registration is deleted.  The stdio and file back
 * ends write straight through and wait for a slow fd; the pty and unix
 * back ends never wait: what the fd does not take goes to the ring, which
 * the write watch drains and which keeps the newest bytes when it is full.
 *
 * Waiting.  stdio and file never write to an fd that is not ready: they
 * poll it, with the end eventfd beside it, so a wait is interrupted the
 * moment the VM starts ending (uart_backend_end, any thread); from then
 * on every wait ends by end_ns, and what the fd still refuses is dropped
 * and counted in `lost`.  The wait hook tells the debug core that the
 * vCPU thread is blocked on output (also while it waits for out_mtx,
 * which another vCPU thread holds while it waits).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor/mevent.h"
#include "monitor/uart.h"
#include "monitor/uart_backend.h"

#define IN_CHUNK 256

const char uart_escape_help[] =
	"vitro escape keys: Ctrl-a, then\r\n"
	"  x       quit vitro\r\n"
	"  c       switch between the guest console and the vitro prompt\r\n"
	"  h       this help\r\n"
	"  Ctrl-a  send a Ctrl-a to the guest\r\n";

struct uart_backend {
	enum uart_backend_kind kind;
	char device[8]; /* "com1", for messages */
	char path[PATH_MAX]; /* pty slave, file or socket path */
	struct uart *uart;
	struct mevent_loop *loop;
	uart_backend_quit_fn *quit;
	void *quit_arg;
	bool quiet;

	/* Terminal state to restore (stdio on a terminal). */
	bool tty_saved;
	int tty_fd;
	struct termios tty_orig;

	/* Input: loop thread only. */
	int in_fd; /* read for input; -1 when none */
	struct mevent *in_ev; /* read watch on in_fd; NULL if unpollable */
	bool in_ev_on; /* in_ev is enabled */
	bool in_eof; /* in_fd reached EOF: read no more */
	bool in_escape; /* parse the Ctrl-a escape */
	struct uart_escape esc;
	bool in_held; /* the console has the terminal: stdin is not read */
	uart_backend_console_fn *console; /* Ctrl-a c, or NULL */
	void *console_arg;
	uint8_t in_buf[IN_CHUNK]; /* read, not yet taken by the uart */
	size_t in_off, in_len;
	struct mevent *kick_ev; /* one-shot timer: pump again */

	/* Back-end fds. */
	int pty_master, pty_slave;
	int file_fd;
	int listen_fd;
	struct mevent *listen_ev;
	int client_fd; /* loop thread only */

	/* Output. */
	pthread_mutex_t out_mtx; /* guards the fields below */
	int out_fd; /* where output goes now; -1: to the ring only */
	bool out_wait; /* stdio, file: wait for the fd, no ring */
	bool out_sock; /* out_fd is a socket: send(MSG_NOSIGNAL) */
	struct mevent *out_ev; /* write watch on out_fd, on while ring_len */
	bool out_ev_on; /* out_ev is enabled */
	bool out_failed; /* an output error was reported */
	uint8_t *ring; /* UART_BACKEND_BUFSIZE bytes */
	size_t ring_head, ring_len;
	/* On a terminal: what stdout shows after its last newline. */
	char tail[UART_BACKEND_TAIL_MAX];
	size_t tail_len; /* > sizeof(tail): longer than kept */
	_Atomic uint64_t dropped; /* bytes the full ring discarded */

	/* The VM's end: bounded waits from then on. */
	int end_fd; /* eventfd, readable once ending */
	_Atomic uint64_t end_ns; /* CLOCK_MONOTONIC deadline; 0 running */
	_Atomic uint64_t lost; /* bytes dropped at the end */
	uart_backend_wait_fn *wait; /* the wait hook, and its argument */
	void *wait_arg;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int uart_backend_parse(const char *opt, struct uart_backend_config *cfg,
		       char *err, size_t errlen)
{
	struct uart_backend_config c = { .kind = UART_BACKEND_STDIO };
	struct sockaddr_un sun;
	const char *comma, *be, *path = NULL;
	size_t devlen;

	if (opt == NULL || (comma = strchr(opt, ',')) == NULL) {
		seterr(err, errlen,
		       "'%s': expected DEVICE,BACKEND, e.g. com1,stdio",
		       opt ? opt : "");
		return -EINVAL;
	}
	devlen = comma - opt;
	if (devlen != 4 || strncmp(opt, "com1", 4) != 0) {
		seterr(err, errlen, "unknown device '%.*s': expected com1",
		       (int)devlen, opt);
		return -EINVAL;
	}
	memcpy(c.device, opt, devlen);
	be = comma + 1;
	if (strcmp(be, "stdio") == 0) {
		c.kind = UART_BACKEND_STDIO;
	} else if (strcmp(be, "pty") == 0) {
		c.kind = UART_BACKEND_PTY;
	} else if (strncmp(be, "file:", 5) == 0) {
		c.kind = UART_BACKEND_FILE;
		path = be + 5;
	} else if (strncmp(be, "unix:", 5) == 0) {
		c.kind = UART_BACKEND_UNIX;
		path = be + 5;
	} else {
		seterr(err, errlen,
		       "unknown back end '%s' for %s: expected stdio, pty, "
		       "file:PATH or unix:PATH",
		       be, c.device);
		return -EINVAL;
	}
	if (path != NULL) {
		if (*path == '\0') {
			seterr(err, errlen, "'%s' needs a path after the colon",
			       be);
			return -EINVAL;
		}
		if (strlen(path) >= sizeof(c.path)) {
			seterr(err, errlen, "path '%.40s...' is too long",
			       path);
			return -EINVAL;
		}
		if (c.kind == UART_BACKEND_UNIX &&
		    strlen(path) >= sizeof(sun.sun_path)) {
			seterr(err, errlen,
			       "unix socket path '%s' is too long (%zu bytes, "
			       "at most %zu)",
			       path, strlen(path), sizeof(sun.sun_path) - 1);
			return -EINVAL;
		}
		strcpy(c.path, path);
	}
	*cfg = c;
	return 0;
}

enum uart_escape_action uart_escape_feed(struct uart_escape *esc, uint8_t c,
					 uint8_t *out)
{
	if (esc->armed) {
		esc->armed = false;
		switch (c) {
		case 'x':
		case 'X':
			return UART_ESCAPE_QUIT;
		case 'h':
		case 'H':
		case '?':
			return UART_ESCAPE_HELP;
		case 'c':
		case 'C':
			return UART_ESCAPE_CONSOLE;
		case UART_ESCAPE_CHAR:
			*out = c;
			return UART_ESCAPE_SEND;
		default:
			return UART_ESCAPE_NONE;
		}
	}
	if (c == UART_ESCAPE_CHAR) {
		esc->armed = true;
		return UART_ESCAPE_NONE;
	}
	*out = c;
	return UART_ESCAPE_SEND;
}

/* Output. */

/* Under out_mtx: keep the terminal's last partial line (be->tail). */
static void tail_track(struct uart_backend *be, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			be->tail_len = 0;
			continue;
		}
		if (be->tail_len < sizeof(be->tail))
			be->tail[be->tail_len] = (char)p[i];
		if (be->tail_len <= sizeof(be->tail))
			be->tail_len++;
	}
}

static ssize_t out_write(struct uart_backend *be, const void *buf, size_t n)
{
	ssize_t r;

	if (be->out_sock)
		return send(be->out_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	r = write(be->out_fd, buf, n);
	if (r > 0 && be->kind == UART_BACKEND_STDIO &&
	    be->out_fd == STDOUT_FILENO)
		tail_track(be, buf, r);
	return r;
}

static void out_report(struct uart_backend *be, int err)
{
	if (be->out_failed || be->quiet)
		return;
	be->out_failed = true;
	fprintf(stderr, "vitro: %s output: %s; dropping output\n", be->device,
		strerror(err));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void wait_hook(struct uart_backend *be, bool waiting)
{
	if (be->wait)
		be->wait(be->wait_arg, waiting);
}

/*
 * Wait until the output fd takes bytes: true, or false when the VM is
 * ending and its deadline passed.  A wait that the end interrupts goes
 * on with the deadline.
 */
static bool out_wait_ready(struct uart_backend *be)
{
	struct pollfd pfd[2] = { { .fd = be->out_fd, .events = POLLOUT },
				 { .fd = be->end_fd, .events = POLLIN } };
	bool hooked = false, ready = false;

	for (;;) {
		uint64_t end = atomic_load(&be->end_ns), now;
		int timeout = -1, r;

		if (end) {
			now = now_ns();
			timeout = now >= end ?
					  0 :
					  (int)((end - now + 999999) / 1000000);
		}
		r = poll(pfd, end ? 1 : 2, hooked ? timeout : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 ||
		    (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
			ready = true; /* the write says what is wrong */
			break;
		}
		if (pfd[0].revents & POLLOUT) {
			ready = true;
			break;
		}
		if (r == 0 && hooked && end)
			break; /* the end's deadline */
		if (!hooked) {
			wait_hook(be, true);
			hooked = true;
		}
	}
	if (hooked)
		wait_hook(be, false);
	return ready;
}

/* stdio, file: write everything, waiting while the fd is full. */
static void out_write_all(struct uart_backend *be, const uint8_t *buf, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if (!out_wait_ready(be)) {
			atomic_fetch_add(&be->lost, n);
			return;
		}
		r = out_write(be, buf, n);
		if (r > 0) {
			buf += r;
			n -= r;
		} else if (r < 0 && (errno == EINTR || errno == EAGAIN ||
				     errno == EWOULDBLOCK)) {
			continue;
		} else {
			out_report(be, r < 0 ? errno : EIO);
			return;
		}
	}
}

static void ring_put(struct uart_backend *be, uint8_t b)
{
	if (be->ring_len == UART_BACKEND_BUFSIZE) {
		be->ring_head = (be->ring_head + 1) % UART_BACKEND_BUFSIZE;
		be->ring_len--;
		atomic_fetch_add(&be->dropped, 1);
	}
	be->ring[(be->ring_head + be->ring_len) % UART_BACKEND_BUFSIZE] = b;
	be->ring_len++;
}

/* Write what the fd takes from the ring; false on an error (not EAGAIN). */
static bool ring_flush(struct uart_backend *be)
{
	size_t chunk;
	ssize_t r;

	while (be->ring_len > 0 && be->out_fd >= 0) {
		chunk = UART_BACKEND_BUFSIZE - be->ring_head;
		if (chunk > be->ring_len)
			chunk = be->ring_len;
		r = out_write(be, be->ring + be->ring_head, chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (r <= 0)
			return false;
		be->ring_head = (be->ring_head + r) % UART_BACKEND_BUFSIZE;
		be->ring_len -= r;
	}
	if (be->ring_len == 0)
		be->ring_head = 0;
	return true;
}

/* Under out_mtx. */
static void out_watch(struct uart_backend *be, bool on)
{
	if (be->out_ev == NULL || be->out_ev_on == on)
		return;
	if ((on ? mevent_enable(be->out_ev) : mevent_disable(be->out_ev)) == 0)
		be->out_ev_on = on;
}

/* The uart's tx callback, on a vCPU thread. */
static void be_tx(void *arg, uint8_t b)
{
	struct uart_backend *be = arg;
	ssize_t r;

	if (pthread_mutex_trylock(&be->out_mtx) != 0) {
		/* Another vCPU's output holds it, maybe waiting itself. */
		wait_hook(be, true);
		pthread_mutex_lock(&be->out_mtx);
		wait_hook(be, false);
	}
	if (be->out_wait) {
		if (be->out_fd >= 0)
			out_write_all(be, &b, 1);
		pthread_mutex_unlock(&be->out_mtx);
		return;
	}
	if (be->ring_len == 0 && be->out_fd >= 0) {
		do {
			r = out_write(be, &b, 1);
		} while (r < 0 && errno == EINTR);
		if (r == 1) {
			pthread_mutex_unlock(&be->out_mtx);
			return;
		}
	}
	ring_put(be, b);
	out_watch(be, true);
	pthread_mutex_unlock(&be->out_mtx);
}

/* The write watch (pty master, unix client), in the loop thread. */
static void on_writable(struct mevent *ev, int fd, enum mevent_type type,
			void *arg)
{
	struct uart_backend *be = arg;

	pthread_mutex_lock(&be->out_mtx);
	/*
	 * On an error stop watching and keep the bytes; the read side sees
	 * the hang-up and disconnects the client.
	 */
	if (!ring_flush(be) || be->ring_len == 0)
		out_watch(be, false);
	pthread_mutex_unlock(&be->out_mtx);
}

/* Input. */

static void in_watch(struct uart_backend *be, bool on)
{
	if (be->in_ev == NULL || be->in_ev_on == on)
		return;
	if ((on ? mevent_enable(be->in_ev) : mevent_disable(be->in_ev)) == 0)
		be->in_ev_on = on;
}

static void in_stop(struct uart_backend *be)
{
	if (be->in_ev != NULL)
		mevent_delete(be->in_ev);
	be->in_ev = NULL;
	be->in_ev_on = false;
	be->in_eof = true;
}

static void client_disconnect(struct uart_backend *be)
{
	struct mevent *ev;

	in_stop(be);
	be->in_fd = -1;
	pthread_mutex_lock(&be->out_mtx);
	ev = be->out_ev;
	be->out_ev = NULL;
	be->out_ev_on = false;
	be->out_fd = -1;
	be->out_sock = false;
	pthread_mutex_unlock(&be->out_mtx);
	if (ev != NULL)
		mevent_delete(ev);
	close(be->client_fd);
	be->client_fd = -1;
}

/* Input ended: EOF, or err (an errno value) if not 0. */
static void in_end(struct uart_backend *be, int err)
{
	if (be->kind == UART_BACKEND_UNIX) {
		client_disconnect(be);
		return;
	}
	if (err != 0 && !be->quiet)
		fprintf(stderr, "vitro: %s input: %s; input stopped\n",
			be->device, strerror(err));
	in_stop(be);
}

static void in_filter(struct uart_backend *be, const uint8_t *raw, size_t n)
{
	enum uart_escape_action act;
	size_t i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		act = uart_escape_feed(&be->esc, raw[i],
				       &be->in_buf[be->in_len]);
		switch (act) {
		case UART_ESCAPE_SEND:
			be->in_len++;
			break;
		case UART_ESCAPE_HELP:
			r = write(STDERR_FILENO, uart_escape_help,
				  strlen(uart_escape_help));
			(void)r;
			break;
		case UART_ESCAPE_QUIT:
			if (be->quit != NULL)
				be->quit(be->quit_arg);
			break;
		case UART_ESCAPE_CONSOLE:
			if (be->console != NULL) {
				be->console(be->console_arg);
			} else {
				static const char no[] =
					"vitro: Ctrl-a c: there is a vitro "
					"prompt with --console\r\n";

				r = write(STDERR_FILENO, no, sizeof(no) - 1);
				(void)r;
			}
			break;
		case UART_ESCAPE_NONE:
			break;
		}
	}
}

/*
 * Move input into the uart until it is full or the fd has nothing more.
 * readable: the fd's watch just reported data (a pollable fd is read only
 * then, as stdin may be a blocking fd).
 */
static void in_pump(struct uart_backend *be, bool readable)
{
	uint8_t raw[IN_CHUNK];
	ssize_t r;

	for (;;) {
		if (be->in_off < be->in_len) {
			be->in_off +=
				uart_push(be->uart, be->in_buf + be->in_off,
					  be->in_len - be->in_off);
			if (be->in_off < be->in_len) {
				/* Full: the uart's room() kicks us again. */
				in_watch(be, false);
				return;
			}
		}
		be->in_off = be->in_len = 0;
		if (be->in_fd < 0 || be->in_eof)
			return;
		if (be->in_held) {
			in_watch(be, false);
			return;
		}
		if (be->in_ev != NULL && !readable) {
			in_watch(be, true);
			return;
		}
		readable = false;
		if (be->in_escape) {
			/*
			 * With a console, byte by byte: what follows Ctrl-a c
			 * is the console's, and must stay in the terminal.
			 */
			r = read(be->in_fd, raw, be->console ? 1 : sizeof(raw));
			if (r > 0)
				in_filter(be, raw, r);
		} else {
			r = read(be->in_fd, be->in_buf, sizeof(be->in_buf));
			if (r > 0)
				be->in_len = r;
		}
		if (r == 0) {
			in_end(be, 0);
			return;
		}
		if (r < 0) {
			if (errno == EINTR) {
				readable = true;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				in_watch(be, true);
				return;
			}
			in_end(be, errno);
			return;
		}
	}
}

static void on_readable(struct mevent *ev, int fd, enum mevent_type type,
			void *arg)
{
	in_pump(arg, true);
}

static void on_kick(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	in_pump(arg, false);
}

/* The uart's room callback, on a vCPU thread. */
static void be_room(void *arg)
{
	struct uart_backend *be = arg;

	mevent_set_timer(be->kick_ev, 0, 0);
}

/* Start reading fd (loop thread, or before the loop runs). */
static int in_start(struct uart_backend *be, int fd)
{
	be->in_fd = fd;
	be->in_eof = false;
	be->in_ev = mevent_add(be->loop, fd, MEVENT_READ, on_readable, be);
	if (be->in_ev == NULL) {
		/* A regular file or /dev/null: always ready; kick-driven. */
		if (errno != EPERM)
			return -errno;
	} else {
		be->in_ev_on = true;
	}
	return 0;
}

/* unix: a client knocks. */
static void on_accept(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	static const char busy[] = "vitro: this serial port already has a "
				   "client\r\n";
	struct uart_backend *be = arg;
	ssize_t r;
	int c;

	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (be->client_fd >= 0) {
		r = send(c, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		(void)r;
		close(c);
		return;
	}
	if (in_start(be, c) < 0) {
		close(c);
		be->in_fd = -1;
		return;
	}
	be->client_fd = c;
	pthread_mutex_lock(&be->out_mtx);
	be->out_fd = c;
	be->out_sock = true;
	be->out_ev = mevent_add(be->loop, c, MEVENT_WRITE, on_writable, be);
	if (be->out_ev == NULL) {
		/* Without a write watch the ring could not drain. */
		pthread_mutex_unlock(&be->out_mtx);
		client_disconnect(be);
		return;
	}
	be->out_ev_on = true;
	if (!ring_flush(be) || be->ring_len == 0)
		out_watch(be, false);
	pthread_mutex_unlock(&be->out_mtx);
	/* Input refused before the last client left may wait in in_buf. */
	in_pump(be, false);
}

/* Opening each kind. */

static int open_stdio(struct uart_backend *be, char *err, size_t errlen)
{
	struct termios raw;
	struct stat st;
	int ret;

	be->out_fd = STDOUT_FILENO;
	be->out_wait = true;
	if (fstat(STDIN_FILENO, &st) < 0)
		return 0; /* no stdin: output only */
	if (isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &be->tty_orig) == 0) {
		if (!be->quiet)
			fprintf(stderr,
				"vitro: %s is on this terminal: Ctrl-a x "
				"quits, Ctrl-a h for help\n",
				be->device);
		raw = be->tty_orig;
		cfmakeraw(&raw);
		/*
		 * Keep output processing, as QEMU does: a bare "\n" from a
		 * simple guest, or a monitor message on stderr, still starts
		 * a new line.
		 */
		raw.c_oflag = be->tty_orig.c_oflag;
		be->tty_fd = STDIN_FILENO;
		be->tty_saved = true;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0) {
			ret = -errno;
			be->tty_saved = false;
			seterr(err, errlen, "cannot set the terminal raw: %s",
			       strerror(-ret));
			return ret;
		}
		be->in_escape = true;
	}
	ret = in_start(be, STDIN_FILENO);
	if (ret < 0)
		seterr(err, errlen, "cannot watch stdin: %s", strerror(-ret));
	return ret;
}

static int open_pty(struct uart_backend *be, char *err, size_t errlen)
{
	struct termios raw;
	int ret;

	be->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (be->pty_master < 0 || grantpt(be->pty_master) < 0 ||
	    unlockpt(be->pty_master) < 0 ||
	    ptsname_r(be->pty_master, be->path, sizeof(be->path)) != 0 ||
	    fcntl(be->pty_master, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	/*
	 * Hold the slave open: the master never sees a hang-up, and output
	 * nobody reads fills the terminal's buffer, then our ring, and
	 * never blocks.  Raw, so that the line discipline neither echoes
	 * nor edits while no one else has set the terminal up.
	 */
	be->pty_slave = open(be->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (be->pty_slave < 0 || tcgetattr(be->pty_slave, &raw) < 0)
		goto fail;
	cfmakeraw(&raw);
	if (tcsetattr(be->pty_slave, TCSANOW, &raw) < 0)
		goto fail;
	be->out_fd = be->pty_master;
	be->out_ev = mevent_add(be->loop, be->pty_master, MEVENT_WRITE,
				on_writable, be);
	if (be->out_ev == NULL || mevent_disable(be->out_ev) < 0)
		goto fail;
	ret = in_start(be, be->pty_master);
	if (ret < 0) {
		errno = -ret;
		goto fail;
	}
	if (!be->quiet)
		fprintf(stderr, "vitro: %s is on %s\n", be->device, be->path);
	return 0;
fail:
	ret = -errno;
	seterr(err, errlen, "cannot set up a pty for %s: %s", be->device,
	       strerror(errno));
	return ret;
}

static int open_file(struct uart_backend *be, const char *path, char *err,
		     size_t errlen)
{
	be->file_fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
		     0644);
	if (be->file_fd < 0) {
		seterr(err, errlen, "cannot open %s output file '%s': %s",
		       be->device, path, strerror(errno));
		return -errno;
	}
	snprintf(be->path, sizeof(be->path), "%s", path);
	be->out_fd = be->file_fd;
	be->out_wait = true;
	return 0;
}

/* Bind, replacing a stale socket at path; errno on failure. */
static int bind_unix(int fd, const struct sockaddr_un *sun, char *err,
		     size_t errlen)
{
	struct stat st;
	int probe, e;

	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		return 0;
	if (errno != EADDRINUSE) {
		e = errno;
		seterr(err, errlen, "cannot bind unix socket '%s': %s",
		       sun->sun_path, strerror(e));
		return -e;
	}
	if (lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		seterr(err, errlen, "'%s' exists and is not a socket",
		       sun->sun_path);
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	e = connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ?
		    0 :
		    errno;
	close(probe);
	if (e != ECONNREFUSED) {
		seterr(err, errlen,
		       "unix socket '%s' is in use by another program",
		       sun->sun_path);
		return -EADDRINUSE;
	}
	unlink(sun->sun_path);
	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		e = errno;
		seterr(err, errlen, "cannot bind unix socket '%s': %s",
		       sun->sun_path, strerror(e));
		return -e;
	}
	return 0;
}

static int open_unix(struct uart_backend *be, const char *path, char *err,
		     size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		seterr(err, errlen, "unix socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	be->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (be->listen_fd < 0) {
		ret = -errno;
		seterr(err, errlen, "cannot create a unix socket: %s",
		       strerror(errno));
		return ret;
	}
	ret = bind_unix(be->listen_fd, &sun, err, errlen);
	if (ret < 0)
		return ret;
	/* Only the owner may connect (the window before chmod is short). */
	if (chmod(path, 0600) < 0 || listen(be->listen_fd, 1) < 0) {
		ret = -errno;
		seterr(err, errlen, "cannot listen on unix socket '%s': %s",
		       path, strerror(errno));
		unlink(path);
		return ret;
	}
	strcpy(be->path, path);
	be->listen_ev =
		mevent_add(be->loop, be->listen_fd, MEVENT_READ, on_accept, be);
	if (be->listen_ev == NULL) {
		ret = -errno;
		seterr(err, errlen, "cannot watch unix socket '%s': %s", path,
		       strerror(errno));
		unlink(path);
		be->path[0] = '\0';
		return ret;
	}
	if (!be->quiet)
		fprintf(stderr, "vitro: %s is on unix socket %s\n", be->device,
			path);
	return 0;
}

struct uart_backend *uart_backend_open(const struct uart_backend_config *cfg,
				       struct mevent_loop *loop,
				       struct uart *uart,
				       uart_backend_quit_fn *quit,
				       void *quit_arg, char *err, size_t errlen)
{
	struct uart_backend *be;
	int ret = 0;

	if (cfg == NULL || loop == NULL || uart == NULL) {
		seterr(err, errlen, "uart_backend_open: missing argument");
		errno = EINVAL;
		return NULL;
	}
	be = calloc(1, sizeof(*be));
	if (be == NULL || (be->ring = malloc(UART_BACKEND_BUFSIZE)) == NULL) {
		free(be);
		seterr(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&be->out_mtx, NULL);
	be->kind = cfg->kind;
	snprintf(be->device, sizeof(be->device), "%s",
		 cfg->device[0] ? cfg->device : "com1");
	be->uart = uart;
	be->loop = loop;
	be->quit = quit;
	be->quit_arg = quit_arg;
	be->quiet = cfg->quiet;
	be->tty_fd = -1;
	be->in_fd = -1;
	be->pty_master = be->pty_slave = -1;
	be->file_fd = be->listen_fd = be->client_fd = -1;
	be->out_fd = -1;
	atomic_init(&be->dropped, 0);
	atomic_init(&be->end_ns, 0);
	atomic_init(&be->lost, 0);
	be->end_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (be->end_fd < 0) {
		ret = -errno;
		seterr(err, errlen, "cannot create an eventfd: %s",
		       strerror(errno));
		pthread_mutex_destroy(&be->out_mtx);
		free(be->ring);
		free(be);
		errno = -ret;
		return NULL;
	}

	/* Fires once at once: starts reading input that cannot be polled. */
	be->kick_ev = mevent_add_timer(loop, 0, 0, on_kick, be);
	if (be->kick_ev == NULL) {
		ret = -errno;
		seterr(err, errlen, "cannot create a timer: %s",
		       strerror(errno));
	} else {
		switch (cfg->kind) {
		case UART_BACKEND_STDIO:
			ret = open_stdio(be, err, errlen);
			break;
		case UART_BACKEND_PTY:
			ret = open_pty(be, err, errlen);
			break;
		case UART_BACKEND_FILE:
			ret = open_file(be, cfg->path, err, errlen);
			break;
		case UART_BACKEND_UNIX:
			ret = open_unix(be, cfg->path, err, errlen);
			break;
		default:
			seterr(err, errlen, "unknown back end kind %d",
			       cfg->kind);
			ret = -EINVAL;
			break;
		}
	}
	if (ret < 0) {
		uart_backend_close(be);
		errno = -ret;
		return NULL;
	}
	uart_set_backend(uart, be_tx, be_room, be);
	return be;
}

void uart_backend_restore_terminal(const struct uart_backend *be)
{
	if (be != NULL && be->tty_saved)
		tcsetattr(be->tty_fd, TCSANOW, &be->tty_orig);
}

void uart_backend_close(struct uart_backend *be)
{
	if (be == NULL)
		return;
	uart_set_backend(be->uart, NULL, NULL, NULL);
	if (be->in_ev != NULL)
		mevent_delete(be->in_ev);
	if (be->out_ev != NULL)
		mevent_delete(be->out_ev);
	if (be->listen_ev != NULL)
		mevent_delete(be->listen_ev);
	if (be->kick_ev != NULL)
		mevent_delete(be->kick_ev);
	if (be->client_fd >= 0)
		close(be->client_fd);
	if (be->listen_fd >= 0) {
		close(be->listen_fd);
		if (be->path[0] != '\0')
			unlink(be->path);
	}
	if (be->pty_slave >= 0)
		close(be->pty_slave);
	if (be->pty_master >= 0)
		close(be->pty_master);
	if (be->file_fd >= 0)
		close(be->file_fd);
	uart_backend_restore_terminal(be);
	if (atomic_load(&be->lost) && !be->quiet)
		fprintf(stderr,
			"vitro: %s output: %llu bytes dropped: the host did "
			"not take them within %d ms of the VM's end\n",
			be->device, (unsigned long long)atomic_load(&be->lost),
			UART_BACKEND_END_MS);
	close(be->end_fd);
	pthread_mutex_destroy(&be->out_mtx);
	free(be->ring);
	free(be);
}

void uart_backend_set_wait_hook(struct uart_backend *be,
				uart_backend_wait_fn *wait, void *arg)
{
	be->wait = wait;
	be->wait_arg = arg;
}

void uart_backend_set_console(struct uart_backend *be,
			      uart_backend_console_fn *fn, void *arg)
{
	be->console = fn;
	be->console_arg = arg;
}

bool uart_backend_is_terminal(const struct uart_backend *be)
{
	return be->kind == UART_BACKEND_STDIO && be->in_escape;
}

ssize_t uart_backend_console_hold(struct uart_backend *be, int out_fd,
				  char *partial, size_t max)
{
	ssize_t n;

	be->in_held = true;
	in_watch(be, false);
	/* A vCPU may hold out_mtx while stdout is slow: the terminal drains. */
	pthread_mutex_lock(&be->out_mtx);
	be->out_fd = out_fd;
	n = (ssize_t)be->tail_len;
	if (be->tail_len > sizeof(be->tail) || be->tail_len > max)
		n = -1;
	else
		memcpy(partial, be->tail, be->tail_len);
	be->tail_len = 0;
	pthread_mutex_unlock(&be->out_mtx);
	return n;
}

void uart_backend_console_echo(struct uart_backend *be, const void *buf,
			       size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = write(STDOUT_FILENO, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		tail_track(be, p, r);
		p += r;
		n -= r;
	}
}

void uart_backend_console_release(struct uart_backend *be,
				  void (*drain)(void *arg), void *arg)
{
	/*
	 * A vCPU may hold out_mtx while it waits for room in the console's
	 * fd, which only drain() makes: drain until the lock is ours, then
	 * once more, so that what reached that fd comes out before what
	 * follows on stdout.
	 */
	while (pthread_mutex_trylock(&be->out_mtx) != 0) {
		drain(arg);
		poll(NULL, 0, 1);
	}
	drain(arg);
	be->out_fd = STDOUT_FILENO;
	pthread_mutex_unlock(&be->out_mtx);
	be->in_held = false;
	in_pump(be, false);
}

void uart_backend_end(struct uart_backend *be)
{
	uint64_t one = 1, zero = 0;

	if (!be)
		return;
	atomic_compare_exchange_strong(&be->end_ns, &zero,
				       now_ns() + UART_BACKEND_END_MS *
							  1000000ULL);
	if (write(be->end_fd, &one, sizeof(one)) < 0)
		return; /* EAGAIN: readable already */
}

uint64_t uart_backend_lost(const struct uart_backend *be)
{
	return atomic_load(&be->lost);
}

const char *uart_backend_path(const struct uart_backend *be)
{
	return be->kind == UART_BACKEND_STDIO ? NULL : be->path;
}

uint64_t uart_backend_dropped(const struct uart_backend *be)
{
	return atomic_load(&be->dropped);
}
