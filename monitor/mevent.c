/*
 * mevent.c: the control thread's event loop over epoll (see mevent.h for
 * the interface and its threading rules).
 *
 * Locking.  loop->mtx guards the registration lists, each registration's
 * enabled/deleted state and its epoll membership, and loop->current (the
 * registration whose callback is running).  The loop thread drops the
 * mutex while a callback runs, so callbacks may call anything here.
 *
 * Lifetime.  epoll hands back struct mevent pointers, and a batch from
 * epoll_wait may name a registration that another thread deletes before
 * the loop reaches it.  So while mevent_run runs, a deleted registration is
 * only marked and moved to the zombie list; the loop thread frees zombies
 * between batches, when no pointer from an earlier epoll_wait is left.  A
 * deleter waits for a callback of that registration in progress (unless it
 * is the loop thread itself), and only then closes the watched fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "monitor/mevent.h"

#define MEVENT_BATCH 32

struct mevent {
	struct mevent_loop *loop;
	struct mevent *prev, *next; /* in loop->live, or next in zombies */
	mevent_fn *fn; /* the callback */
	void *arg; /* its argument */
	enum mevent_type type; /* read, write or timer */
	int fd; /* the caller's fd; -1 for a timer */
	int wfd; /* what epoll watches: a dup of fd, or the timerfd */
	bool enabled; /* fd: in the epoll set; timer: armed */
	bool deleted; /* mevent_delete was called: never call fn again */
	uint64_t delay_ns, period_ns; /* a timer's last setting */
};

struct mevent_loop {
	pthread_mutex_t mtx;
	pthread_cond_t done; /* broadcast when a callback returns */
	int epfd; /* the epoll instance */
	int wakefd; /* eventfd that mevent_stop writes */
	atomic_bool stop; /* mevent_stop requested, not yet consumed */
	bool running; /* mevent_run is in progress */
	pthread_t owner; /* the loop thread, while running */
	struct mevent *current; /* registration whose callback runs */
	struct mevent *live; /* registrations, doubly linked */
	struct mevent *zombies; /* deleted, to free between batches */
};

struct mevent_loop *mevent_create(void)
{
	struct mevent_loop *loop;
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	loop = calloc(1, sizeof(*loop));
	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->wakefd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &e) < 0) {
		err = errno;
		if (loop->epfd >= 0)
			close(loop->epfd);
		if (loop->wakefd >= 0)
			close(loop->wakefd);
		free(loop);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&loop->mtx, NULL);
	pthread_cond_init(&loop->done, NULL);
	atomic_init(&loop->stop, false);
	return loop;
}

static void free_zombies(struct mevent_loop *loop)
{
	struct mevent *ev;

	while ((ev = loop->zombies) != NULL) {
		loop->zombies = ev->next;
		free(ev);
	}
}

void mevent_destroy(struct mevent_loop *loop)
{
	struct mevent *ev;

	if (loop == NULL)
		return;
	while ((ev = loop->live) != NULL) {
		loop->live = ev->next;
		close(ev->wfd);
		free(ev);
	}
	free_zombies(loop);
	close(loop->epfd);
	close(loop->wakefd);
	pthread_cond_destroy(&loop->done);
	pthread_mutex_destroy(&loop->mtx);
	free(loop);
}

static void link_live(struct mevent_loop *loop, struct mevent *ev)
{
	ev->prev = NULL;
	ev->next = loop->live;
	if (loop->live != NULL)
		loop->live->prev = ev;
	loop->live = ev;
}

static void unlink_live(struct mevent_loop *loop, struct mevent *ev)
{
	if (ev->prev != NULL)
		ev->prev->next = ev->next;
	else
		loop->live = ev->next;
	if (ev->next != NULL)
		ev->next->prev = ev->prev;
	ev->prev = ev->next = NULL;
}

static int epoll_set(struct mevent *ev, bool on)
{
	struct epoll_event e = { 0 };

	e.events = ev->type == MEVENT_WRITE ? EPOLLOUT : EPOLLIN;
	e.data.ptr = ev;
	if (epoll_ctl(ev->loop->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		      ev->wfd, &e) < 0)
		return -errno;
	return 0;
}

static int timer_arm(struct mevent *ev, bool on)
{
	struct itimerspec its = { 0 };
	uint64_t delay = ev->delay_ns ? ev->delay_ns : 1;

	if (on) {
		/* An all-zero it_value would disarm: 1 ns means "now". */
		its.it_value.tv_sec = delay / 1000000000;
		its.it_value.tv_nsec = delay % 1000000000;
		its.it_interval.tv_sec = ev->period_ns / 1000000000;
		its.it_interval.tv_nsec = ev->period_ns % 1000000000;
	}
	if (timerfd_settime(ev->wfd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

static struct mevent *mevent_new(struct mevent_loop *loop,
				 enum mevent_type type, mevent_fn *fn,
				 void *arg)
{
	struct mevent *ev;

	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return NULL;
	ev->loop = loop;
	ev->fn = fn;
	ev->arg = arg;
	ev->type = type;
	ev->fd = -1;
	ev->wfd = -1;
	return ev;
}

struct mevent *mevent_add(struct mevent_loop *loop, int fd,
			  enum mevent_type type, mevent_fn *fn, void *arg)
{
	struct mevent *ev;
	int err;

	if (loop == NULL || fn == NULL || fd < 0 ||
	    (type != MEVENT_READ && type != MEVENT_WRITE)) {
		errno = EINVAL;
		return NULL;
	}
	ev = mevent_new(loop, type, fn, arg);
	if (ev == NULL)
		return NULL;
	ev->fd = fd;
	ev->wfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (ev->wfd < 0) {
		err = errno;
		free(ev);
		errno = err;
		return NULL;
	}
	ev->enabled = true;
	pthread_mutex_lock(&loop->mtx);
	err = epoll_set(ev, true);
	if (err == 0)
		link_live(loop, ev);
	pthread_mutex_unlock(&loop->mtx);
	if (err != 0) {
		close(ev->wfd);
		free(ev);
		errno = -err;
		return NULL;
	}
	return ev;
}

struct mevent *mevent_add_timer(struct mevent_loop *loop, uint64_t delay_ns,
				uint64_t period_ns, mevent_fn *fn, void *arg)
{
	struct epoll_event e = { .events = EPOLLIN };
	struct mevent *ev;
	int err = 0;

	if (loop == NULL || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	ev = mevent_new(loop, MEVENT_TIMER, fn, arg);
	if (ev == NULL)
		return NULL;
	ev->wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ev->wfd < 0) {
		err = errno;
		free(ev);
		errno = err;
		return NULL;
	}
	ev->delay_ns = delay_ns;
	ev->period_ns = period_ns;
	ev->enabled = true;
	e.data.ptr = ev;
	pthread_mutex_lock(&loop->mtx);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, ev->wfd, &e) < 0)
		err = -errno;
	else
		err = timer_arm(ev, true);
	if (err == 0)
		link_live(loop, ev);
	else
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, ev->wfd, NULL);
	pthread_mutex_unlock(&loop->mtx);
	if (err != 0) {
		close(ev->wfd);
		free(ev);
		errno = -err;
		return NULL;
	}
	return ev;
}

int mevent_set_timer(struct mevent *ev, uint64_t delay_ns, uint64_t period_ns)
{
	int err;

	if (ev == NULL || ev->type != MEVENT_TIMER)
		return -EINVAL;
	pthread_mutex_lock(&ev->loop->mtx);
	ev->delay_ns = delay_ns;
	ev->period_ns = period_ns;
	err = timer_arm(ev, true);
	if (err == 0)
		ev->enabled = true;
	pthread_mutex_unlock(&ev->loop->mtx);
	return err;
}

static int mevent_toggle(struct mevent *ev, bool on)
{
	int err = 0;

	if (ev == NULL)
		return -EINVAL;
	pthread_mutex_lock(&ev->loop->mtx);
	if (ev->deleted)
		err = -EINVAL;
	else if (ev->enabled != on)
		err = ev->type == MEVENT_TIMER ? timer_arm(ev, on) :
						 epoll_set(ev, on);
	if (err == 0)
		ev->enabled = on;
	pthread_mutex_unlock(&ev->loop->mtx);
	return err;
}

int mevent_enable(struct mevent *ev)
{
	return mevent_toggle(ev, true);
}

int mevent_disable(struct mevent *ev)
{
	return mevent_toggle(ev, false);
}

static bool in_loop_thread(struct mevent_loop *loop)
{
	return loop->running && pthread_equal(loop->owner, pthread_self());
}

int mevent_delete(struct mevent *ev)
{
	struct mevent_loop *loop;

	if (ev == NULL)
		return -EINVAL;
	loop = ev->loop;
	pthread_mutex_lock(&loop->mtx);
	if (ev->deleted) {
		pthread_mutex_unlock(&loop->mtx);
		return -EINVAL;
	}
	ev->deleted = true;
	/* A timer stays in the epoll set while disarmed. */
	if (ev->enabled || ev->type == MEVENT_TIMER)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, ev->wfd, NULL);
	ev->enabled = false;
	unlink_live(loop, ev);
	if (!in_loop_thread(loop)) {
		while (loop->current == ev)
			pthread_cond_wait(&loop->done, &loop->mtx);
	}
	close(ev->wfd);
	ev->wfd = -1;
	if (loop->running) {
		ev->next = loop->zombies;
		loop->zombies = ev;
	} else {
		free(ev);
	}
	pthread_mutex_unlock(&loop->mtx);
	return 0;
}

static void dispatch(struct mevent_loop *loop, struct mevent *ev)
{
	uint64_t ticks;
	bool call = true;

	pthread_mutex_lock(&loop->mtx);
	if (ev->deleted || !ev->enabled) {
		pthread_mutex_unlock(&loop->mtx);
		return;
	}
	loop->current = ev;
	if (ev->type == MEVENT_TIMER) {
		/* Nothing to read: re-armed or disarmed since epoll_wait. */
		if (read(ev->wfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			call = false;
		else if (ev->period_ns == 0)
			ev->enabled = false;
	}
	pthread_mutex_unlock(&loop->mtx);

	if (call)
		ev->fn(ev, ev->fd, ev->type, ev->arg);

	pthread_mutex_lock(&loop->mtx);
	loop->current = NULL;
	pthread_cond_broadcast(&loop->done);
	pthread_mutex_unlock(&loop->mtx);
}

int mevent_run(struct mevent_loop *loop)
{
	struct epoll_event evs[MEVENT_BATCH];
	uint64_t val;
	int i, n, err = 0;

	pthread_mutex_lock(&loop->mtx);
	if (loop->running) {
		pthread_mutex_unlock(&loop->mtx);
		return -EBUSY;
	}
	loop->running = true;
	loop->owner = pthread_self();
	pthread_mutex_unlock(&loop->mtx);

	while (!atomic_load(&loop->stop)) {
		n = epoll_wait(loop->epfd, evs, MEVENT_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (i = 0; i < n && !atomic_load(&loop->stop); i++) {
			if (evs[i].data.ptr == NULL) {
				while (read(loop->wakefd, &val, sizeof(val)) >
				       0)
					;
				continue;
			}
			dispatch(loop, evs[i].data.ptr);
		}
		pthread_mutex_lock(&loop->mtx);
		free_zombies(loop);
		pthread_mutex_unlock(&loop->mtx);
	}

	atomic_store(&loop->stop, false);
	while (read(loop->wakefd, &val, sizeof(val)) > 0)
		;
	pthread_mutex_lock(&loop->mtx);
	loop->running = false;
	free_zombies(loop);
	pthread_mutex_unlock(&loop->mtx);
	return err;
}

void mevent_stop(struct mevent_loop *loop)
{
	uint64_t one = 1;
	ssize_t r;

	atomic_store(&loop->stop, true);
	/* Async-signal-safe; a full eventfd is already a pending wake-up. */
	r = write(loop->wakefd, &one, sizeof(one));
	(void)r;
}
