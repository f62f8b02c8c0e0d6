/*
 * mevent.h: the control thread's event loop, after bhyve's mevent, over
 * epoll.
 *
 * A loop (struct mevent_loop) owns registrations (struct mevent): a
 * callback on an fd's read or write readiness, or on a timer.  mevent_run()
 * waits for events and calls the callbacks in the calling thread (the loop
 * thread) until mevent_stop() is called.
 *
 * Threads.  mevent_add, mevent_add_timer, mevent_set_timer, mevent_enable,
 * mevent_disable, mevent_delete and mevent_stop may be called from any
 * thread, including from inside a callback.  Callbacks run in the loop
 * thread only, one at a time.  mevent_create, mevent_destroy and
 * mevent_run belong to the thread that owns the loop; mevent_destroy only
 * while mevent_run is not running.
 *
 * Deleting.  After mevent_delete() returns, the callback is not called
 * again, and (when called from a thread other than the loop thread) a call
 * of it that was in progress has returned, so its arg may be freed.  A
 * thread other than the loop thread must therefore not hold, while it calls
 * mevent_delete(), a lock that the callback takes.  Delete a registration
 * before closing its fd: the loop watches a duplicate of the fd (so that
 * one fd can have both a read and a write registration), and that
 * duplicate keeps the file open until the registration is deleted.
 *
 * Errors and hang-ups on an fd are reported as readiness of each enabled
 * registration on it, so the callback's read() or write() sees them.
 */
#ifndef MONITOR_MEVENT_H
#define MONITOR_MEVENT_H

#include <stdint.h>

struct mevent_loop;
struct mevent;

enum mevent_type {
	MEVENT_READ, /* the fd is readable (or at EOF, or in error) */
	MEVENT_WRITE, /* the fd is writable (or in error) */
	MEVENT_TIMER, /* the timer expired */
};

/*
 * A callback.  ev is the registration (so the callback may delete or
 * disable it), fd the fd it was registered on (-1 for timers), type its
 * type, arg the pointer given at registration.
 */
typedef void mevent_fn(struct mevent *ev, int fd, enum mevent_type type,
		       void *arg);

/* A loop with no registrations; NULL with errno set on failure. */
struct mevent_loop *mevent_create(void);

/* Delete every registration and free the loop (not while it runs). */
void mevent_destroy(struct mevent_loop *loop);

/*
 * Call fn(ev, fd, type, arg) in the loop thread whenever fd is ready for
 * type (MEVENT_READ or MEVENT_WRITE; level-triggered: again and again while
 * it stays ready).  The registration starts enabled.  The fd must support
 * epoll (not a regular file: EPERM).  NULL with errno set on failure.
 */
struct mevent *mevent_add(struct mevent_loop *loop, int fd,
			  enum mevent_type type, mevent_fn *fn, void *arg);

/*
 * A timer: fn(ev, -1, MEVENT_TIMER, arg) runs delay_ns from now (0: as
 * soon as possible), then every period_ns if period_ns is not 0.  A
 * one-shot timer stays registered after it fires, disarmed, until deleted
 * or re-armed with mevent_set_timer.  NULL with errno set on failure.
 */
struct mevent *mevent_add_timer(struct mevent_loop *loop, uint64_t delay_ns,
				uint64_t period_ns, mevent_fn *fn, void *arg);

/* Re-arm a timer registration, as mevent_add_timer; enables it too. */
int mevent_set_timer(struct mevent *ev, uint64_t delay_ns, uint64_t period_ns);

/*
 * Stop calling the callback until mevent_enable (for flow control).  A
 * disabled timer is disarmed; mevent_enable re-arms it with the delay and
 * period it was last set with.  Both are idempotent.
 */
int mevent_disable(struct mevent *ev);
int mevent_enable(struct mevent *ev);

/* Delete a registration (see "Deleting" above); ev is invalid after. */
int mevent_delete(struct mevent *ev);

/*
 * Run callbacks in the calling thread until mevent_stop().  Returns 0 when
 * stopped, -errno if waiting for events failed.  A stop requested before
 * mevent_run() makes it return at once; the request is consumed as it
 * returns.
 */
int mevent_run(struct mevent_loop *loop);

/*
 * Make mevent_run() return after the callback in progress, if any.  Safe
 * from any thread and from a signal handler.
 */
void mevent_stop(struct mevent_loop *loop);

#endif
