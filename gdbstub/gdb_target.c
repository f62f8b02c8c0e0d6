/*
 * gdb_target.c: the stop-event queue between vCPU threads and the GDB
 * stub (see gdb_target.h).
 *
 * Locking: one mutex guards the ring and the exit slot.  Reporters write
 * the eventfd after dropping the mutex; the consumer clears the eventfd
 * before it takes events, so a report is either taken now or wakes the
 * next poll.  Nothing blocks except on the mutex, held for a copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gdbstub/gdb_target.h"

/* Every vCPU can have one stop pending, plus some slack. */
#define GDB_EVENTS_MAX (VM_MAXCPU + 16)

struct gdb_events {
	pthread_mutex_t lock;
	int fd; /* eventfd: readable while events may be queued */
	struct gdb_stop_event ring[GDB_EVENTS_MAX]; /* stops, oldest first */
	unsigned int head; /* index of the oldest */
	unsigned int count; /* stops queued */
	bool exited; /* an exit is queued, in `exit` */
	struct gdb_stop_event exit; /* the VM's end */
};

struct gdb_events *gdb_events_create(void)
{
	struct gdb_events *q = calloc(1, sizeof(*q));
	int err;

	if (!q)
		return NULL;
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->fd < 0) {
		err = errno;
		free(q);
		errno = err;
		return NULL;
	}
	err = pthread_mutex_init(&q->lock, NULL);
	if (err) {
		close(q->fd);
		free(q);
		errno = err;
		return NULL;
	}
	return q;
}

void gdb_events_destroy(struct gdb_events *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	close(q->fd);
	free(q);
}

int gdb_events_fd(const struct gdb_events *q)
{
	return q->fd;
}

static void events_wake(struct gdb_events *q)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already huge: it is readable anyway. */
	if (write(q->fd, &one, sizeof(one)) < 0)
		return;
}

int gdb_events_report(struct gdb_events *q, const struct gdb_stop_event *ev)
{
	int err = 0;

	if (ev->reason > GDB_STOP_KILLED)
		return -EINVAL;
	if (ev->reason < GDB_STOP_EXITED &&
	    (ev->vcpu < 0 || ev->vcpu >= VM_MAXCPU))
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (ev->reason == GDB_STOP_EXITED || ev->reason == GDB_STOP_KILLED) {
		q->exit = *ev;
		q->exited = true;
	} else if (q->count == GDB_EVENTS_MAX) {
		err = -ENOSPC;
	} else {
		q->ring[(q->head + q->count) % GDB_EVENTS_MAX] = *ev;
		q->count++;
	}
	pthread_mutex_unlock(&q->lock);
	if (!err)
		events_wake(q);
	return err;
}

int gdb_events_stop(struct gdb_events *q, int vcpu, enum gdb_stop_reason reason,
		    uint64_t addr)
{
	struct gdb_stop_event ev = {
		.reason = reason,
		.vcpu = vcpu,
		.addr = addr,
	};

	return gdb_events_report(q, &ev);
}

int gdb_events_exit(struct gdb_events *q, int status)
{
	struct gdb_stop_event ev = {
		.reason = GDB_STOP_EXITED,
		.vcpu = -1,
		.status = status,
	};

	return gdb_events_report(q, &ev);
}

bool gdb_events_take(struct gdb_events *q, struct gdb_stop_event *ev)
{
	bool got = true;

	pthread_mutex_lock(&q->lock);
	if (q->exited) {
		*ev = q->exit;
		q->exited = false;
	} else if (q->count) {
		*ev = q->ring[q->head];
		q->head = (q->head + 1) % GDB_EVENTS_MAX;
		q->count--;
	} else {
		got = false;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

void gdb_events_clear(struct gdb_events *q)
{
	uint64_t n;

	if (read(q->fd, &n, sizeof(n)) < 0)
		return; /* EAGAIN: nothing to clear */
}
