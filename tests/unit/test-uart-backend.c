/*
 * test-uart-backend.c: the UART back ends: option parsing, the terminal
 * escape parser, and each back end driven end to end with a uart and an
 * event loop thread, the test playing the guest (polling LSR/RBR, writing
 * THR) and the user (a unix client, a pty, pipes, a file).  stdio uses
 * fds 0-2, so its cases run in forked children with those redirected,
 * reporting their checks back over a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor/mevent.h"
#include "monitor/uart.h"
#include "monitor/uart_backend.h"
#include "tests/tap.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CPU time this process used, in ms (all threads). */
static uint64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The guest: poll LSR.DR and read RBR, for up to ms milliseconds. */
static size_t guest_read(struct uart *u, uint8_t *buf, size_t n, int ms)
{
	uint64_t end = now_ms() + ms;
	size_t got = 0;

	while (got < n && now_ms() < end) {
		if (uart_read(u, UART_LSR) & UART_LSR_DR)
			buf[got++] = uart_read(u, UART_RBR);
		else
			msleep(1);
	}
	return got;
}

static void guest_write(struct uart *u, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < n; i++)
		uart_write(u, UART_THR, p[i]);
}

/* Read from fd until n bytes or ms milliseconds have passed. */
static size_t read_for(int fd, void *buf, size_t n, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = now_ms() + ms;
	size_t got = 0;
	ssize_t r;

	while (got < n && now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

/* Read until the text contains needle (or ms pass); NUL-terminated. */
static bool read_until(int fd, char *buf, size_t size, const char *needle,
		       int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = now_ms() + ms;
	size_t got = 0;
	ssize_t r;

	buf[0] = '\0';
	while (got < size - 1 && now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		r = read(fd, buf + got, size - 1 - got);
		if (r <= 0)
			break;
		got += r;
		buf[got] = '\0';
		if (memmem(buf, got, needle, strlen(needle)) != NULL)
			return true;
	}
	return false;
}

static void *loop_thread(void *arg)
{
	mevent_run(arg);
	return NULL;
}

struct quitter {
	struct mevent_loop *loop;
	atomic_int quits;
};

static void on_quit(void *arg)
{
	struct quitter *q = arg;

	atomic_fetch_add(&q->quits, 1);
	mevent_stop(q->loop);
}

/* A uart with FIFOs on, as a guest driver would leave it. */
static struct uart *fifo_uart(void)
{
	struct uart *u = uart_create(NULL, NULL);

	if (u == NULL)
		tap_bail("uart_create");
	uart_write(u, UART_FCR, UART_FCR_ENABLE);
	return u;
}

static void test_parse(void)
{
	struct uart_backend_config c;
	char err[256];

	is_int(uart_backend_parse("com1,stdio", &c, err, sizeof(err)), 0,
	       "com1,stdio parses");
	ok(c.kind == UART_BACKEND_STDIO && strcmp(c.device, "com1") == 0,
	   "stdio on com1");
	is_int(uart_backend_parse("com1,pty", &c, err, sizeof(err)), 0,
	       "com1,pty parses");
	is_int(c.kind, UART_BACKEND_PTY, "pty");
	is_int(uart_backend_parse("com1,file:/tmp/x.log", &c, err, sizeof(err)),
	       0, "com1,file:PATH parses");
	ok(c.kind == UART_BACKEND_FILE && strcmp(c.path, "/tmp/x.log") == 0,
	   "file with its path");
	is_int(uart_backend_parse("com1,unix:/tmp/com1.sock", &c, err,
				  sizeof(err)),
	       0, "com1,unix:PATH parses");
	ok(c.kind == UART_BACKEND_UNIX && strcmp(c.path, "/tmp/com1.sock") == 0,
	   "unix with its path");

	c.kind = UART_BACKEND_PTY;
	is_int(uart_backend_parse("stdio", &c, err, sizeof(err)), -EINVAL,
	       "no device refused");
	ok(strstr(err, "expected DEVICE,BACKEND") != NULL, "message: %s", err);
	is_int(c.kind, UART_BACKEND_PTY, "cfg untouched on error");
	is_int(uart_backend_parse("com2,stdio", &c, err, sizeof(err)), -EINVAL,
	       "com2 refused");
	ok(strstr(err, "'com2'") && strstr(err, "expected com1"), "message: %s",
	   err);
	is_int(uart_backend_parse("com1,tcp:1234", &c, err, sizeof(err)),
	       -EINVAL, "unknown back end refused");
	ok(strstr(err, "'tcp:1234'") &&
		   strstr(err, "stdio, pty, file:PATH or unix:PATH"),
	   "message: %s", err);
	is_int(uart_backend_parse("com1,file:", &c, err, sizeof(err)), -EINVAL,
	       "file: without a path refused");
	ok(strstr(err, "needs a path") != NULL, "message: %s", err);
	is_int(uart_backend_parse("com1,", &c, err, sizeof(err)), -EINVAL,
	       "empty back end refused");
	{
		char opt[300] = "com1,unix:/";

		memset(opt + strlen(opt), 'a', 200);
		opt[sizeof(opt) - 1] = '\0';
		is_int(uart_backend_parse(opt, &c, err, sizeof(err)), -EINVAL,
		       "over-long unix path refused");
		ok(strstr(err, "too long") != NULL, "message: %.60s...", err);
	}
	is_int(uart_backend_parse(NULL, &c, NULL, 0), -EINVAL,
	       "NULL option, NULL err buffer");
}

static void test_escape(void)
{
	struct uart_escape e = { 0 };
	uint8_t out = 0;

	is_int(uart_escape_feed(&e, 'a', &out), UART_ESCAPE_SEND, "plain byte");
	is_int(out, 'a', "passed through");
	is_int(uart_escape_feed(&e, 0x01, &out), UART_ESCAPE_NONE,
	       "Ctrl-a swallowed");
	is_int(uart_escape_feed(&e, 'x', &out), UART_ESCAPE_QUIT,
	       "Ctrl-a x quits");
	is_int(uart_escape_feed(&e, 'x', &out), UART_ESCAPE_SEND,
	       "x alone is just x");
	uart_escape_feed(&e, 0x01, &out);
	out = 0;
	is_int(uart_escape_feed(&e, 0x01, &out), UART_ESCAPE_SEND,
	       "Ctrl-a Ctrl-a sends...");
	is_int(out, 0x01, "...one Ctrl-a");
	is_int(uart_escape_feed(&e, 'x', &out), UART_ESCAPE_SEND,
	       "and is not armed after it");
	uart_escape_feed(&e, 0x01, &out);
	is_int(uart_escape_feed(&e, 'h', &out), UART_ESCAPE_HELP,
	       "Ctrl-a h: help");
	uart_escape_feed(&e, 0x01, &out);
	is_int(uart_escape_feed(&e, 'q', &out), UART_ESCAPE_NONE,
	       "Ctrl-a q: dropped");
	is_int(uart_escape_feed(&e, 'q', &out), UART_ESCAPE_SEND,
	       "then q is plain again");
	ok(strstr(uart_escape_help, "Ctrl-a") != NULL, "help text exists");
}

/* unix: */

static int unix_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void test_unix(const char *dir)
{
	struct uart_backend_config cfg;
	struct mevent_loop *loop = mevent_create();
	struct uart *u = fifo_uart();
	struct uart_backend *be;
	struct stat st;
	char path[256], opt[300], err[256], buf[128];
	uint8_t in[40], got[40], *big;
	uint64_t t0;
	pthread_t t;
	size_t n, i;
	int c1, c2, fd;

	snprintf(path, sizeof(path), "%s/com1.sock", dir);
	snprintf(opt, sizeof(opt), "com1,unix:%s", path);
	if (uart_backend_parse(opt, &cfg, err, sizeof(err)) < 0)
		tap_bail("parse: %s", err);
	cfg.quiet = true;

	/* A stale socket at the path is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		strcpy(sun.sun_path, path);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			tap_bail("bind stale");
	}
	close(fd);

	be = uart_backend_open(&cfg, loop, u, NULL, NULL, err, sizeof(err));
	ok(be != NULL, "unix back end opened over a stale socket (%s)",
	   be ? "" : err);
	if (be == NULL)
		return;
	is_str(uart_backend_path(be), path, "path reported");
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		   (st.st_mode & 0777) == 0600,
	   "socket exists, mode 0600");
	pthread_create(&t, NULL, loop_thread, loop);

	t0 = now_ms();
	guest_write(u, "early boot\r\n", 12);
	ok(now_ms() - t0 < 1000, "guest output with no client does not block");
	c1 = unix_connect(path);
	ok(c1 >= 0, "client connects");
	n = read_for(c1, buf, 12, 3000);
	buf[n] = '\0';
	is_str(buf, "early boot\r\n", "buffered output delivered on connect");
	guest_write(u, "live", 4);
	n = read_for(c1, buf, 4, 3000);
	buf[n] = '\0';
	is_str(buf, "live", "live output after connect");

	/* Input, with flow control: 40 bytes through a 16-byte FIFO. */
	for (i = 0; i < sizeof(in); i++)
		in[i] = 'A' + i;
	if (write(c1, in, sizeof(in)) != sizeof(in))
		tap_bail("client write");
	n = guest_read(u, got, sizeof(got), 3000);
	is_int(n, sizeof(got), "all 40 bytes arrive through the FIFO");
	ok(memcmp(got, in, n) == 0, "in order, none lost");

	/* A second client is refused; the first keeps the line. */
	c2 = unix_connect(path);
	ok(c2 >= 0, "second client connects at the socket level");
	ok(read_until(c2, buf, sizeof(buf), "already has a client", 3000),
	   "and is told the port is busy");
	is_int(read_for(c2, buf, 1, 1000), 0, "then closed");
	close(c2);
	guest_write(u, "still", 5);
	n = read_for(c1, buf, 5, 3000);
	buf[n] = '\0';
	is_str(buf, "still", "first client still connected");

	/* A client that does not read: no blocking, no busy loop. */
	big = malloc(UART_BACKEND_BUFSIZE);
	memset(big, '.', UART_BACKEND_BUFSIZE);
	t0 = now_ms();
	for (i = 0; i < 8; i++)
		guest_write(u, big, UART_BACKEND_BUFSIZE);
	ok(now_ms() - t0 < 5000, "512 KiB to a client that does not read: "
				 "no blocking");
	t0 = cpu_ms();
	msleep(300);
	ok(cpu_ms() - t0 < 100, "no busy loop while it is full (%llu ms CPU)",
	   (unsigned long long)(cpu_ms() - t0));
	free(big);

	/* Disconnect; output collects; overflow keeps the newest bytes. */
	close(c1);
	msleep(50);
	big = malloc(UART_BACKEND_BUFSIZE + 1000);
	for (i = 0; i < UART_BACKEND_BUFSIZE + 1000; i++)
		big[i] = i % 251;
	{
		uint64_t d0 = uart_backend_dropped(be);

		guest_write(u, big, UART_BACKEND_BUFSIZE + 1000);
		ok(uart_backend_dropped(be) - d0 >= 1000,
		   "64 KiB + 1000 bytes with no client: older bytes dropped");
	}
	c1 = unix_connect(path);
	{
		uint8_t *rx = malloc(UART_BACKEND_BUFSIZE);

		n = read_for(c1, rx, UART_BACKEND_BUFSIZE, 5000);
		is_int(n, UART_BACKEND_BUFSIZE, "a new client gets 64 KiB");
		ok(memcmp(rx, big + 1000, UART_BACKEND_BUFSIZE) == 0,
		   "the newest 64 KiB, in order");
		free(rx);
	}
	free(big);
	if (write(c1, "z", 1) != 1)
		tap_bail("client write");
	n = guest_read(u, got, 1, 3000);
	ok(n == 1 && got[0] == 'z', "the new client's input arrives");
	close(c1);

	mevent_stop(loop);
	pthread_join(t, NULL);
	uart_backend_close(be);
	ok(stat(path, &st) < 0 && errno == ENOENT, "socket removed on close");

	/* Something that is not a socket is never replaced. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	be = uart_backend_open(&cfg, loop, u, NULL, NULL, err, sizeof(err));
	ok(be == NULL && strstr(err, "not a socket") != NULL,
	   "a regular file at the path: refused (%s)", err);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "and left alone");
	unlink(path);
	uart_destroy(u);
	mevent_destroy(loop);
}

static void test_pty(void)
{
	struct uart_backend_config cfg = { .kind = UART_BACKEND_PTY,
					   .quiet = true };
	struct mevent_loop *loop = mevent_create();
	struct uart *u = fifo_uart();
	struct uart_backend *be;
	char err[256], buf[64];
	uint8_t *big, got[8];
	uint64_t t0;
	pthread_t t;
	size_t n, i;
	int s;

	be = uart_backend_open(&cfg, loop, u, NULL, NULL, err, sizeof(err));
	ok(be != NULL, "pty back end opened (%s)", be ? "" : err);
	if (be == NULL)
		return;
	ok(strncmp(uart_backend_path(be), "/dev/pts/", 9) == 0, "path %s",
	   uart_backend_path(be));
	pthread_create(&t, NULL, loop_thread, loop);

	t0 = now_ms();
	guest_write(u, "boot\r\n", 6);
	ok(now_ms() - t0 < 1000,
	   "output with no one on the pty does not block");
	s = open(uart_backend_path(be), O_RDWR | O_NOCTTY);
	ok(s >= 0, "the pty opens");
	n = read_for(s, buf, 6, 3000);
	buf[n] = '\0';
	is_str(buf, "boot\r\n", "earlier output read from the pty, raw");
	if (write(s, "k\r", 2) != 2)
		tap_bail("pty write");
	n = guest_read(u, got, 2, 3000);
	ok(n == 2 && got[0] == 'k' && got[1] == '\r',
	   "typing on the pty reaches the uart, untranslated");
	close(s);

	/* Nobody reading: a flood must not block the guest. */
	big = malloc(200000);
	for (i = 0; i < 200000; i++)
		big[i] = 'a' + i % 26;
	t0 = now_ms();
	guest_write(u, big, 200000);
	ok(now_ms() - t0 < 5000, "200000 bytes with no reader: no blocking");
	ok(uart_backend_dropped(be) > 0, "the excess was dropped (%llu)",
	   (unsigned long long)uart_backend_dropped(be));
	t0 = cpu_ms();
	msleep(300);
	ok(cpu_ms() - t0 < 100, "no busy loop while the pty is full (%llu ms)",
	   (unsigned long long)(cpu_ms() - t0));
	free(big);

	mevent_stop(loop);
	pthread_join(t, NULL);
	uart_backend_close(be);
	uart_destroy(u);
	mevent_destroy(loop);
}

static void test_file(const char *dir)
{
	struct uart_backend_config cfg = { .kind = UART_BACKEND_FILE,
					   .quiet = true };
	struct mevent_loop *loop = mevent_create();
	struct uart *u = fifo_uart();
	struct uart_backend *be;
	char err[256], buf[64];
	size_t n;
	int fd;

	snprintf(cfg.path, sizeof(cfg.path), "%s/com1.log", dir);
	be = uart_backend_open(&cfg, loop, u, NULL, NULL, err, sizeof(err));
	ok(be != NULL, "file back end opened (%s)", be ? "" : err);
	if (be == NULL)
		return;
	is_str(uart_backend_path(be), cfg.path, "path reported");
	guest_write(u, "log line\n", 9);
	uart_backend_close(be);
	fd = open(cfg.path, O_RDONLY);
	n = fd >= 0 ? read_for(fd, buf, sizeof(buf) - 1, 1000) : 0;
	buf[n] = '\0';
	is_str(buf, "log line\n", "output is in the file");
	close(fd);
	unlink(cfg.path);

	snprintf(cfg.path, sizeof(cfg.path), "%s/no/such/dir/x.log", dir);
	errno = 0;
	be = uart_backend_open(&cfg, loop, u, NULL, NULL, err, sizeof(err));
	ok(be == NULL && errno == ENOENT, "missing directory: ENOENT");
	ok(strstr(err, cfg.path) != NULL, "message names the file: %s", err);
	uart_destroy(u);
	mevent_destroy(loop);
}

/* stdio, in children. */

struct results {
	char r[32]; /* '1' pass, '0' fail, per check */
	int n;
};

static void check(struct results *res, bool cond)
{
	if (res->n < (int)sizeof(res->r))
		res->r[res->n++] = cond ? '1' : '0';
}

static void report(const struct results *res, int fd)
{
	ssize_t r = write(fd, res->r, res->n);

	(void)r;
	_exit(0);
}

/* Collect a child's results and turn them into TAP lines. */
static void collect(pid_t pid, int fd, const char *const *names, int n)
{
	char r[32] = { 0 };
	int i, status = 0;
	size_t got;

	got = read_for(fd, r, sizeof(r), 15000);
	waitpid(pid, &status, 0);
	close(fd);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "child exited normally (status %#x)", status);
	for (i = 0; i < n; i++)
		ok(i < (int)got && r[i] == '1', "%s", names[i]);
}

static const char *const tty_checks[] = {
	"stdio on a terminal opens",
	"raw input (no ICANON, ECHO, ISIG, ICRNL, IXON), OPOST kept",
	"uart_backend_restore_terminal restores it",
	"typed bytes reach the guest, Ctrl-a Ctrl-a as one Ctrl-a",
	"Ctrl-a x calls the quit callback, once",
	"the terminal is restored by close",
};

static void tty_child(int slave, int resfd)
{
	struct uart_backend_config cfg = { .kind = UART_BACKEND_STDIO,
					   .quiet = true };
	struct termios before, during, tmp;
	struct quitter q = { 0 };
	struct results res = { 0 };
	struct uart_backend *be;
	struct uart *u;
	char err[256];
	uint8_t got[8];
	pthread_t t;
	size_t n;
	int i;

	dup2(slave, 0);
	dup2(slave, 1);
	dup2(slave, 2);
	close(slave);
	tcgetattr(0, &before);
	q.loop = mevent_create();
	u = fifo_uart();
	be = uart_backend_open(&cfg, q.loop, u, on_quit, &q, err, sizeof(err));
	check(&res, be != NULL);
	if (be == NULL)
		report(&res, resfd);
	tcgetattr(0, &during);
	check(&res, !(during.c_lflag & (ICANON | ECHO | ISIG)) &&
			    !(during.c_iflag & (ICRNL | IXON)) &&
			    during.c_oflag == before.c_oflag);
	uart_backend_restore_terminal(be);
	tcgetattr(0, &tmp);
	check(&res, tmp.c_lflag == before.c_lflag);
	tcsetattr(0, TCSANOW, &during);

	pthread_create(&t, NULL, loop_thread, q.loop);
	guest_write(u, "READY", 5);
	n = guest_read(u, got, 3, 5000);
	check(&res, n == 3 && memcmp(got, "hi\x01", 3) == 0);
	for (i = 0; i < 500 && atomic_load(&q.quits) == 0; i++)
		msleep(10);
	pthread_join(t, NULL);
	check(&res, atomic_load(&q.quits) == 1);
	guest_write(u, "BYE", 3);
	uart_backend_close(be);
	tcgetattr(0, &tmp);
	check(&res, tmp.c_lflag == before.c_lflag &&
			    tmp.c_iflag == before.c_iflag &&
			    tmp.c_oflag == before.c_oflag);
	report(&res, resfd);
}

static void test_stdio_tty(void)
{
	char buf[4096];
	int m, s, p[2];
	pid_t pid;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    (s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0) {
		tap_skip("no pty available for the stdio terminal test");
		return;
	}
	if (pipe(p) < 0)
		tap_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(m);
		close(p[0]);
		tty_child(s, p[1]);
	}
	close(s);
	close(p[1]);
	ok(read_until(m, buf, sizeof(buf), "READY", 5000),
	   "guest output appears on the terminal");
	if (write(m, "hi\x01\x01\x01h\x01x", 8) != 8)
		tap_bail("pty write");
	ok(read_until(m, buf, sizeof(buf), "BYE", 5000),
	   "output after the loop stopped still arrives");
	ok(strstr(buf, "escape keys") != NULL, "Ctrl-a h printed the help");
	collect(pid, p[0], tty_checks,
		sizeof(tty_checks) / sizeof(tty_checks[0]));
	close(m);
}

static const char *const pipe_checks[] = {
	"stdio on pipes opens",
	"input from the pipe reaches the guest",
	"EOF on stdin: no quit, the loop keeps running",
	"input after EOF: none, and nothing breaks",
};

struct ticks {
	atomic_int n;
};

static void tick(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	struct ticks *t = arg;

	atomic_fetch_add(&t->n, 1);
}

static void pipe_child(int in, int out, int resfd)
{
	struct uart_backend_config cfg = { .kind = UART_BACKEND_STDIO,
					   .quiet = true };
	struct quitter q = { 0 };
	struct results res = { 0 };
	struct ticks tk = { 0 };
	struct uart_backend *be;
	struct uart *u;
	char err[256];
	uint8_t got[8];
	pthread_t t;
	size_t n;
	int before;

	dup2(in, 0);
	dup2(out, 1);
	close(in);
	close(out);
	q.loop = mevent_create();
	u = fifo_uart();
	be = uart_backend_open(&cfg, q.loop, u, on_quit, &q, err, sizeof(err));
	check(&res, be != NULL);
	if (be == NULL)
		report(&res, resfd);
	mevent_add_timer(q.loop, 1000000, 1000000, tick, &tk);
	pthread_create(&t, NULL, loop_thread, q.loop);
	n = guest_read(u, got, 3, 5000);
	check(&res, n == 3 && memcmp(got, "abc", 3) == 0);
	guest_write(u, "ABC", 3); /* the parent closes stdin on seeing it */
	msleep(100);
	before = atomic_load(&tk.n);
	msleep(50);
	check(&res, atomic_load(&q.quits) == 0 && atomic_load(&tk.n) > before);
	check(&res, guest_read(u, got, 1, 50) == 0);
	guest_write(u, "END", 3);
	mevent_stop(q.loop);
	pthread_join(t, NULL);
	uart_backend_close(be);
	report(&res, resfd);
}

static void test_stdio_pipes(void)
{
	int in[2], out[2], p[2];
	char buf[64];
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0 || pipe(p) < 0)
		tap_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(in[1]);
		close(out[0]);
		close(p[0]);
		pipe_child(in[0], out[1], p[1]);
	}
	close(in[0]);
	close(out[1]);
	close(p[1]);
	if (write(in[1], "abc", 3) != 3)
		tap_bail("write");
	ok(read_until(out[0], buf, sizeof(buf), "ABC", 5000),
	   "guest output on stdout (a pipe)");
	close(in[1]);
	ok(read_until(out[0], buf, sizeof(buf), "END", 5000),
	   "output continues after stdin's EOF");
	collect(pid, p[0], pipe_checks,
		sizeof(pipe_checks) / sizeof(pipe_checks[0]));
	close(out[0]);
}

static const char *const file_checks[] = {
	"stdio with a regular file as stdin opens",
	"all 300 bytes of the file reach the guest in order",
};

static void file_child(int in, int resfd)
{
	struct uart_backend_config cfg = { .kind = UART_BACKEND_STDIO,
					   .quiet = true };
	struct quitter q = { 0 };
	struct results res = { 0 };
	struct uart_backend *be;
	struct uart *u;
	uint8_t got[300];
	char err[256];
	pthread_t t;
	size_t n, i;

	dup2(in, 0);
	close(in);
	q.loop = mevent_create();
	u = fifo_uart();
	be = uart_backend_open(&cfg, q.loop, u, on_quit, &q, err, sizeof(err));
	check(&res, be != NULL);
	if (be == NULL)
		report(&res, resfd);
	pthread_create(&t, NULL, loop_thread, q.loop);
	n = guest_read(u, got, sizeof(got), 5000);
	for (i = 0; i < n; i++)
		if (got[i] != i % 253)
			break;
	check(&res, n == sizeof(got) && i == n);
	mevent_stop(q.loop);
	pthread_join(t, NULL);
	uart_backend_close(be);
	report(&res, resfd);
}

static void test_stdio_file(const char *dir)
{
	uint8_t data[300];
	char path[256];
	int fd, p[2];
	pid_t pid;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i % 253;
	snprintf(path, sizeof(path), "%s/stdin.bin", dir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data) ||
	    lseek(fd, 0, SEEK_SET) != 0 || pipe(p) < 0)
		tap_bail("stdin file");
	unlink(path);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		file_child(fd, p[1]);
	}
	close(fd);
	close(p[1]);
	collect(pid, p[0], file_checks,
		sizeof(file_checks) / sizeof(file_checks[0]));
}

int main(void)
{
	char dir[] = "/tmp/test-uart-backend-XXXXXX";

	alarm(120);
	if (mkdtemp(dir) == NULL)
		tap_bail("mkdtemp");
	test_parse();
	test_escape();
	/* Forks first, while this process has one thread. */
	test_stdio_tty();
	test_stdio_pipes();
	test_stdio_file(dir);
	test_unix(dir);
	test_pty();
	test_file(dir);
	rmdir(dir);
	return tap_done();
}
