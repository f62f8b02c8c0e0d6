/*
 * test-mevent.c: the event loop: fd read and write callbacks, enable and
 * disable, one-shot and periodic timers, stop from another thread and
 * before run, deletion inside a callback (its own and another's), deletion
 * from another thread waiting for a running callback, registration from
 * another thread while the loop runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "monitor/mevent.h"
#include "tests/tap.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A callback that stops the loop: the watchdog of each test. */
static void stop_cb(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	mevent_stop(arg);
}

struct reader {
	struct mevent_loop *loop;
	int calls;
	char got[64];
	int len;
	int stop_after; /* stop the loop after this many bytes */
	bool delete_self; /* delete own registration on first call */
	struct mevent *other; /* delete this on first call */
};

static void read_cb(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	r->calls++;
	if (type != MEVENT_READ)
		return;
	n = read(fd, r->got + r->len, sizeof(r->got) - 1 - r->len);
	if (n > 0)
		r->len += n;
	if (r->delete_self && r->calls == 1)
		mevent_delete(ev);
	if (r->other != NULL) {
		mevent_delete(r->other);
		r->other = NULL;
	}
	if (r->len >= r->stop_after)
		mevent_stop(r->loop);
}

static void test_read(void)
{
	struct mevent_loop *loop = mevent_create();
	struct reader r = { .loop = loop, .stop_after = 5 };
	struct mevent *ev, *wd;
	int p[2];
	ssize_t w;

	ok(loop != NULL, "loop created");
	if (pipe(p) < 0)
		tap_bail("pipe");
	ev = mevent_add(loop, p[0], MEVENT_READ, read_cb, &r);
	ok(ev != NULL, "read registration added");
	wd = mevent_add_timer(loop, 5000000000u, 0, stop_cb, loop);
	w = write(p[1], "hello", 5);
	(void)w;
	is_int(mevent_run(loop), 0, "run returns 0 when stopped");
	is_str(r.got, "hello", "callback read the bytes");
	is_int(r.calls, 1, "one callback");

	/* Disabled: no callback even though data waits. */
	is_int(mevent_disable(ev), 0, "disable");
	is_int(mevent_disable(ev), 0, "disable again (idempotent)");
	w = write(p[1], "world", 5);
	mevent_set_timer(wd, 50000000, 0); /* 50 ms */
	mevent_run(loop);
	is_int(r.calls, 1, "no callback while disabled");
	is_int(mevent_enable(ev), 0, "enable");
	r.stop_after = 10;
	mevent_set_timer(wd, 5000000000u, 0);
	mevent_run(loop);
	is_str(r.got, "helloworld", "data delivered once enabled");

	/* EOF is reported as readable. */
	close(p[1]);
	r.calls = 0;
	r.stop_after = 0;
	mevent_run(loop);
	is_int(r.calls, 1, "EOF reported as read readiness");

	is_int(mevent_delete(ev), 0, "delete");
	close(p[0]);
	mevent_destroy(loop);
}

struct writer {
	struct mevent_loop *loop;
	int calls;
};

static void write_cb(struct mevent *ev, int fd, enum mevent_type type,
		     void *arg)
{
	struct writer *w = arg;
	ssize_t n;

	w->calls++;
	n = write(fd, "x", 1);
	(void)n;
	mevent_disable(ev);
	mevent_stop(w->loop);
}

static void test_write_and_both(void)
{
	struct mevent_loop *loop = mevent_create();
	struct writer w = { .loop = loop };
	struct reader r = { .loop = loop, .stop_after = 100 };
	struct mevent *wev, *rev, *wd;
	int sv[2];
	char c;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		tap_bail("socketpair");
	/* A read and a write registration on the same fd. */
	rev = mevent_add(loop, sv[0], MEVENT_READ, read_cb, &r);
	wev = mevent_add(loop, sv[0], MEVENT_WRITE, write_cb, &w);
	ok(rev != NULL && wev != NULL, "read and write on one fd");
	wd = mevent_add_timer(loop, 5000000000u, 0, stop_cb, loop);
	mevent_run(loop);
	is_int(w.calls, 1, "write readiness reported");
	ok(read(sv[1], &c, 1) == 1 && c == 'x', "the callback's write arrived");
	is_int(r.calls, 0, "no read callback without data");
	r.stop_after = 1;
	if (write(sv[1], "y", 1) != 1)
		tap_bail("write");
	mevent_run(loop);
	ok(r.calls == 1 && r.got[0] == 'y', "read callback on the same fd");
	mevent_delete(rev);
	mevent_delete(wev);
	mevent_delete(wd);
	close(sv[0]);
	close(sv[1]);
	mevent_destroy(loop);
}

struct ticker {
	struct mevent_loop *loop;
	int ticks;
	int stop_at;
	uint64_t first_ns;
	uint64_t fired_ns;
};

static void tick_cb(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	struct ticker *t = arg;

	if (t->ticks++ == 0)
		t->fired_ns = now_ns();
	if (fd != -1 || type != MEVENT_TIMER)
		t->ticks += 1000;
	if (t->ticks == t->stop_at)
		mevent_stop(t->loop);
}

static void test_timers(void)
{
	struct mevent_loop *loop = mevent_create();
	struct ticker one = { .loop = loop, .stop_at = 1 };
	struct ticker per = { .loop = loop, .stop_at = 5 };
	struct mevent *ev1, *evp, *wd;
	uint64_t t0;

	wd = mevent_add_timer(loop, 5000000000u, 0, stop_cb, loop);
	t0 = now_ns();
	ev1 = mevent_add_timer(loop, 20000000, 0, tick_cb, &one);
	ok(ev1 != NULL, "one-shot timer added");
	mevent_run(loop);
	is_int(one.ticks, 1, "one-shot fired once, fd -1, type TIMER");
	ok(one.fired_ns - t0 >= 20000000, "not before its delay (%llu us)",
	   (unsigned long long)(one.fired_ns - t0) / 1000);

	evp = mevent_add_timer(loop, 1000000, 2000000, tick_cb, &per);
	mevent_run(loop);
	is_int(per.ticks, 5, "periodic timer ticked 5 times");
	is_int(one.ticks, 1, "the one-shot did not fire again");

	/* Re-arm the one-shot at once (delay 0). */
	one.stop_at = 2;
	mevent_disable(evp);
	is_int(mevent_set_timer(ev1, 0, 0), 0, "re-arm one-shot, delay 0");
	mevent_run(loop);
	is_int(one.ticks, 2, "re-armed one-shot fired");

	/* A disabled periodic timer is quiet; enable restarts it. */
	per.stop_at = 7;
	mevent_set_timer(wd, 30000000, 0);
	mevent_run(loop);
	is_int(per.ticks, 5, "disabled periodic timer does not tick");
	mevent_set_timer(wd, 5000000000u, 0);
	mevent_enable(evp);
	mevent_run(loop);
	is_int(per.ticks, 7, "enabled again, it ticks");

	is_int(mevent_set_timer(NULL, 1, 0), -EINVAL, "set_timer(NULL)");
	mevent_destroy(loop);
}

static void *stopper(void *arg)
{
	msleep(30);
	mevent_stop(arg);
	return NULL;
}

static void test_stop(void)
{
	struct mevent_loop *loop = mevent_create();
	pthread_t t;
	uint64_t t0;
	int ret;

	mevent_stop(loop);
	t0 = now_ns();
	is_int(mevent_run(loop), 0, "stop before run: run returns at once");
	ok(now_ns() - t0 < 1000000000u, "promptly");

	pthread_create(&t, NULL, stopper, loop);
	t0 = now_ns();
	ret = mevent_run(loop);
	pthread_join(t, NULL);
	is_int(ret, 0, "stopped from another thread");
	ok(now_ns() - t0 >= 25000000, "after the other thread asked");
	mevent_destroy(loop);
}

static void test_delete_in_callback(void)
{
	struct mevent_loop *loop = mevent_create();
	struct reader a = { .loop = loop,
			    .stop_after = 1000,
			    .delete_self = true };
	struct reader b = { .loop = loop, .stop_after = 1000 };
	struct reader c = { .loop = loop, .stop_after = 1000 };
	struct mevent *eva, *evb, *evc, *wd;
	int p[2], q[2];
	ssize_t w;

	if (pipe(p) < 0 || pipe(q) < 0)
		tap_bail("pipe");
	eva = mevent_add(loop, p[0], MEVENT_READ, read_cb, &a);
	ok(eva != NULL, "registration that deletes itself");
	wd = mevent_add_timer(loop, 50000000, 0, stop_cb, loop);
	w = write(p[1], "a", 1);
	mevent_run(loop);
	is_int(a.calls, 1, "called once");
	w = write(p[1], "b", 1);
	mevent_set_timer(wd, 50000000, 0);
	mevent_run(loop);
	is_int(a.calls, 1, "never again after deleting itself");

	/* b and c both ready; whichever runs first deletes the other. */
	evb = mevent_add(loop, q[0], MEVENT_READ, read_cb, &b);
	evc = mevent_add(loop, q[0], MEVENT_READ, read_cb, &c);
	b.other = evc;
	c.other = evb;
	w = write(q[1], "q", 1);
	(void)w;
	mevent_set_timer(wd, 50000000, 0);
	mevent_run(loop);
	is_int(b.calls + c.calls, 1,
	       "deleting a registration ready in the same batch: skipped");
	mevent_delete(b.calls ? evb : evc);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	mevent_destroy(loop);
}

/* A slow callback, and another thread deleting its registration. */
struct slow {
	struct mevent_loop *loop;
	atomic_int state; /* 0 idle, 1 inside the callback, 2 returned */
	atomic_int calls;
};

static void slow_cb(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	struct slow *s = arg;

	atomic_fetch_add(&s->calls, 1);
	atomic_store(&s->state, 1);
	msleep(100);
	atomic_store(&s->state, 2);
}

static void *loop_thread(void *arg)
{
	mevent_run(arg);
	return NULL;
}

struct adder {
	struct mevent_loop *loop;
	atomic_int calls;
};

static void add_cb(struct mevent *ev, int fd, enum mevent_type type, void *arg)
{
	struct adder *a = arg;

	atomic_fetch_add(&a->calls, 1);
}

static void test_cross_thread(void)
{
	struct mevent_loop *loop = mevent_create();
	struct slow s = { .loop = loop };
	struct adder a = { .loop = loop };
	struct mevent *ev, *tev;
	pthread_t t;
	int i, state_after;

	atomic_init(&s.state, 0);
	atomic_init(&s.calls, 0);
	atomic_init(&a.calls, 0);
	ev = mevent_add_timer(loop, 1000000, 0, slow_cb, &s);
	pthread_create(&t, NULL, loop_thread, loop);
	for (i = 0; i < 2000 && atomic_load(&s.state) != 1; i++)
		msleep(1);
	ok(atomic_load(&s.state) == 1, "callback running on the loop thread");
	mevent_delete(ev);
	state_after = atomic_load(&s.state);
	is_int(state_after, 2, "delete from another thread waited for it");

	/* Registrations added while the loop waits take effect. */
	tev = mevent_add_timer(loop, 1000000, 1000000, add_cb, &a);
	for (i = 0; i < 2000 && atomic_load(&a.calls) < 3; i++)
		msleep(1);
	ok(atomic_load(&a.calls) >= 3, "timer added from another thread runs");
	mevent_delete(tev);
	i = atomic_load(&a.calls);
	msleep(20);
	is_int(atomic_load(&a.calls), i, "no calls after delete returned");
	mevent_stop(loop);
	pthread_join(t, NULL);
	is_int(atomic_load(&s.calls), 1, "slow callback ran once");
	mevent_destroy(loop);
}

static void test_errors(void)
{
	struct mevent_loop *loop = mevent_create();
	struct adder a = { .loop = loop };
	char path[] = "/tmp/test-mevent-XXXXXX";
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		tap_bail("mkstemp");
	unlink(path);
	errno = 0;
	ok(mevent_add(loop, fd, MEVENT_READ, add_cb, &a) == NULL &&
		   errno == EPERM,
	   "a regular file cannot be watched: EPERM");
	close(fd);
	errno = 0;
	ok(mevent_add(loop, 1000000, MEVENT_READ, add_cb, &a) == NULL &&
		   errno == EBADF,
	   "a bad fd: EBADF");
	errno = 0;
	ok(mevent_add(loop, 0, MEVENT_TIMER, add_cb, &a) == NULL &&
		   errno == EINVAL,
	   "MEVENT_TIMER through mevent_add: EINVAL");
	is_int(mevent_delete(NULL), -EINVAL, "delete(NULL)");
	mevent_destroy(loop);
}

int main(void)
{
	alarm(60); /* a hang fails the test instead of stalling prove */
	test_read();
	test_write_and_both();
	test_timers();
	test_stop();
	test_delete_in_callback();
	test_cross_thread();
	test_errors();
	return tap_done();
}
