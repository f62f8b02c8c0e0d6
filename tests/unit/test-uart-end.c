/*
 * test-uart-end.c: output to a host that stops reading.  While the VM
 * runs, a vCPU thread waits for the host (no byte lost) and says so
 * through the wait hook; once the VM is ending (uart_backend_end), that
 * wait is bounded: the thread goes on, the rest is dropped and counted.
 *
 * The host is a FIFO that the test holds open for reading and does not
 * read, behind a file: back end; a thread plays the guest writing THR.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/mevent.h"
#include "monitor/uart.h"
#include "monitor/uart_backend.h"
#include "tests/tap.h"

#define NBYTES (256 * 1024) /* several times a pipe's buffer */

struct guest {
	struct uart *u;
	atomic_int done;
};

static atomic_int waiting, waits, waits_over;

static void on_wait(void *arg, bool w)
{
	atomic_store(&waiting, w);
	atomic_fetch_add(w ? &waits : &waits_over, 1);
}

static void *guest_thread(void *arg)
{
	struct guest *g = arg;

	for (int i = 0; i < NBYTES; i++)
		uart_write(g->u, UART_THR, 'a' + i % 26);
	atomic_store(&g->done, 1);
	return NULL;
}

/* Wait (a bound for progress only) until cond holds. */
#define WAIT_FOR(cond)                          \
	({                                      \
		int n_ = 0;                     \
		while (!(cond) && n_++ < 20000) \
			usleep(500);            \
		(cond);                         \
	})

int main(void)
{
	struct uart_backend_config cfg = { .kind = UART_BACKEND_FILE,
					   .quiet = true };
	char dir[] = "/tmp/vitro-uart-end.XXXXXX", err[256], buf[4096];
	struct guest g = { 0 };
	struct mevent_loop *loop;
	struct uart_backend *be;
	pthread_t t;
	long got = 0;
	ssize_t n;
	int rfd;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(cfg.path, sizeof(cfg.path), "%s/fifo", dir);
	if (mkfifo(cfg.path, 0600) < 0)
		tap_bail("mkfifo: %s", strerror(errno));
	/* The host: it has the FIFO open and never reads (for now). */
	rfd = open(cfg.path, O_RDONLY | O_NONBLOCK);
	if (rfd < 0)
		tap_bail("open fifo: %s", strerror(errno));
	loop = mevent_create();
	g.u = uart_create(NULL, NULL);
	if (!loop || !g.u)
		tap_bail("setup");
	uart_write(g.u, UART_FCR, UART_FCR_ENABLE);
	be = uart_backend_open(&cfg, loop, g.u, NULL, NULL, err, sizeof(err));
	ok(be != NULL, "file back end on a FIFO (%s)", be ? "" : err);
	if (!be)
		return tap_done();
	uart_backend_set_wait_hook(be, on_wait, NULL);

	pthread_create(&t, NULL, guest_thread, &g);
	ok(WAIT_FOR(atomic_load(&waiting)),
	   "the vCPU thread waits for the host");
	usleep(100000);
	ok(!atomic_load(&g.done) && atomic_load(&waiting),
	   "while the VM runs it keeps waiting: flow control, not loss");
	is_int(uart_backend_lost(be), 0, "nothing dropped while the VM runs");

	uart_backend_end(be);
	ok(WAIT_FOR(atomic_load(&g.done)),
	   "once the VM ends, the wait is bounded: the thread finishes");
	pthread_join(t, NULL);
	ok(!atomic_load(&waiting), "and says it no longer waits");
	is_int(atomic_load(&waits), atomic_load(&waits_over),
	       "every wait reported ended");
	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		got += n;
	ok(uart_backend_lost(be) > 0, "the rest was dropped (%llu bytes)",
	   (unsigned long long)uart_backend_lost(be));
	is_int(got + (long)uart_backend_lost(be), NBYTES,
	       "what the host got plus what was dropped is all of it");

	uart_backend_close(be);
	uart_destroy(g.u);
	mevent_destroy(loop);
	close(rfd);
	unlink(cfg.path);
	rmdir(dir);
	return tap_done();
}
