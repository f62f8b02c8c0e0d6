/*
 * bus.c: the debug core's event bus (debug.h, "Events").  Each
 * subscription is a bounded queue with an eventfd that is readable while
 * events are queued.  Publishing copies the event into every queue whose
 * mask wants it and never waits for a subscriber: a full queue drops the
 * event and counts it, and the next event that fits says how many were
 * lost before it (vm_event.dropped).  VM_EVENT_END is never dropped: it
 * takes the place of the newest event of a full queue, which is counted.
 *
 * Locking: d->bus_lock guards the list of subscriptions and the sequence
 * number; each subscription's lock guards its queue.  Order: d->lock (a
 * publisher inside the core), then d->bus_lock, then a subscription's
 * lock.  The eventfd is written under the subscription's lock, so a taker
 * that empties the queue and clears the fd cannot lose a wake-up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "monitor/debug/debug_int.h"

#define DBG_SUB_QUEUE 64

struct dbg_sub {
	struct dbg_core *d;
	struct dbg_sub *next; /* on d->subs */
	uint32_t mask; /* 1 << enum vm_event_type */
	int fd; /* eventfd: readable while events are queued */
	pthread_mutex_t lock; /* guards the fields below */
	struct vm_event q[DBG_SUB_QUEUE]; /* oldest at head */
	unsigned int head;
	unsigned int count;
	uint32_t lost; /* dropped since the last event queued */
};

void dbg_bus_init(struct dbg_core *d)
{
	pthread_mutex_init(&d->bus_lock, NULL);
	d->subs = NULL;
	d->seq = 0;
}

void dbg_bus_fini(struct dbg_core *d)
{
	while (d->subs)
		dbg_unsubscribe(d->subs);
	pthread_mutex_destroy(&d->bus_lock);
}

struct dbg_sub *dbg_subscribe(struct dbg_core *d, uint32_t mask)
{
	struct dbg_sub *s = calloc(1, sizeof(*s));
	int e;

	if (!s)
		return NULL;
	s->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->fd < 0) {
		e = errno;
		free(s);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->d = d;
	s->mask = mask;
	pthread_mutex_lock(&d->bus_lock);
	s->next = d->subs;
	d->subs = s;
	pthread_mutex_unlock(&d->bus_lock);
	return s;
}

void dbg_unsubscribe(struct dbg_sub *s)
{
	struct dbg_core *d;
	struct dbg_sub **pp;

	if (!s)
		return;
	d = s->d;
	pthread_mutex_lock(&d->bus_lock);
	for (pp = &d->subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&d->bus_lock);
	pthread_mutex_destroy(&s->lock);
	close(s->fd);
	free(s);
}

int dbg_sub_fd(const struct dbg_sub *s)
{
	return s->fd;
}

/* The eventfd is readable while events are queued; s->lock held. */
static void sub_signal(struct dbg_sub *s, bool readable)
{
	uint64_t v = 1;

	/* EAGAIN: the counter is already huge, readable anyway. */
	if (readable) {
		if (write(s->fd, &v, sizeof(v)) < 0)
			return;
	} else if (read(s->fd, &v, sizeof(v)) < 0) {
		return; /* EAGAIN: already clear */
	}
}

bool dbg_sub_take(struct dbg_sub *s, struct vm_event *ev)
{
	bool got = false;

	pthread_mutex_lock(&s->lock);
	if (s->count) {
		*ev = s->q[s->head];
		s->head = (s->head + 1) % DBG_SUB_QUEUE;
		s->count--;
		got = true;
	}
	if (!s->count)
		sub_signal(s, false);
	pthread_mutex_unlock(&s->lock);
	return got;
}

static void sub_put(struct dbg_sub *s, const struct vm_event *ev)
{
	unsigned int slot;

	pthread_mutex_lock(&s->lock);
	if (s->count == DBG_SUB_QUEUE && ev->type != VM_EVENT_END) {
		s->lost++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (s->count == DBG_SUB_QUEUE) {
		/* The end replaces the newest, which is lost. */
		slot = (s->head + s->count - 1) % DBG_SUB_QUEUE;
		s->lost += 1 + s->q[slot].dropped;
		s->count--;
	}
	slot = (s->head + s->count) % DBG_SUB_QUEUE;
	s->q[slot] = *ev;
	s->q[slot].dropped = s->lost;
	s->lost = 0;
	s->count++;
	sub_signal(s, true);
	pthread_mutex_unlock(&s->lock);
}

void dbg_publish(struct dbg_core *d, const struct vm_event *ev)
{
	struct vm_event e = *ev;
	struct dbg_sub *s;

	if (e.type == 0 || e.type >= VM_EVENT_MAX)
		return;
	e.msg[sizeof(e.msg) - 1] = 0;
	pthread_mutex_lock(&d->bus_lock);
	e.seq = ++d->seq;
	for (s = d->subs; s; s = s->next) {
		if (s->mask & (1u << e.type))
			sub_put(s, &e);
	}
	pthread_mutex_unlock(&d->bus_lock);
}
