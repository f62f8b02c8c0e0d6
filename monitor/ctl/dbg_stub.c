/*
 * dbg_stub.c: TEMPORARY.  A stand-in for the debug core (monitor/debug/,
 * being written against monitor/debug/debug.h), so that the control
 * socket builds and can be tested before the core lands.  It goes when
 * the core lands: the lead removes this file and the two lines marked
 * "dbg_stub" in main.c.
 *
 * It defines only what ctl_server.c calls, minimally, over the gdb
 * server's debugger (monitor/debug.c), the only code in this tree that
 * parks vCPU threads: with -G, dbg_stop stops every vCPU whatever cpuid
 * says and waits for them without a bound, dbg_resume lets them all go;
 * without -G both are -EOPNOTSUPP.  A vCPU counts as stopped while it is
 * in vmm's debug set.  The only events are the STOP and RESUME that those
 * two publish.  Steps and breakpoints: -EOPNOTSUPP.
 *
 * Locking: d->lock guards the owners and the subscriptions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gdbstub/gdb_target.h"
#include "monitor/debug/debug.h"
#include "monitor/vitro.h"

#define SUBQ 64

struct dbg_core *dbg_stub_create(struct vitro *vm);
void dbg_stub_destroy(struct dbg_core *d);
/* monitor/debug.h's, which cannot be included beside debug/debug.h. */
struct gdb_target dbg_target(struct vitro_debug *d);

struct dbg_sub {
	struct dbg_core *d;
	struct dbg_sub *next;
	uint32_t mask;
	int fd; /* eventfd, readable while events are queued */
	struct vm_event q[SUBQ];
	unsigned int head, len;
	uint32_t dropped;
};

struct dbg_core {
	struct vitro *vm;
	pthread_mutex_t lock;
	uint64_t owners; /* one bit per owner id taken */
	uint64_t seq; /* events published */
	struct dbg_sub *subs;
};

struct dbg_core *dbg_stub_create(struct vitro *vm)
{
	struct dbg_core *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->vm = vm;
	pthread_mutex_init(&d->lock, NULL);
	vm_set_services(vm->ctx, dbg_services, d);
	return d;
}

void dbg_stub_destroy(struct dbg_core *d)
{
	if (!d)
		return;
	vm_set_services(d->vm->ctx, NULL, NULL);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int dbg_owner_alloc(struct dbg_core *d, const char *name)
{
	int id = -EUSERS;

	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < VM_DBG_OWNER_MAX; i++) {
		if (!(d->owners & (1ULL << i))) {
			d->owners |= 1ULL << i;
			id = i;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return id;
}

void dbg_owner_free(struct dbg_core *d, int owner)
{
	pthread_mutex_lock(&d->lock);
	if (owner >= 0 && owner < VM_DBG_OWNER_MAX)
		d->owners &= ~(1ULL << owner);
	pthread_mutex_unlock(&d->lock);
}

void dbg_publish(struct dbg_core *d, const struct vm_event *ev)
{
	uint64_t one = 1;

	pthread_mutex_lock(&d->lock);
	d->seq++;
	for (struct dbg_sub *s = d->subs; s; s = s->next) {
		if (!(s->mask & (1u << ev->type)))
			continue;
		if (s->len == SUBQ) {
			s->dropped++;
			continue;
		}
		s->q[(s->head + s->len) % SUBQ] = *ev;
		s->q[(s->head + s->len) % SUBQ].seq = d->seq;
		s->q[(s->head + s->len) % SUBQ].dropped = s->dropped;
		s->dropped = 0;
		if (s->len++ == 0 && write(s->fd, &one, sizeof(one)) < 0)
			s->dropped++;
	}
	pthread_mutex_unlock(&d->lock);
}

static void publish(struct dbg_core *d, uint32_t type, int cpuid, int owner)
{
	struct vm_event ev = { .type = type, .cpuid = cpuid, .owner = owner };

	dbg_publish(d, &ev);
}

int dbg_cpu_state(struct dbg_core *d, int cpuid)
{
	struct vm_cpuset dbg;
	int r;

	if (cpuid < 0 || (unsigned int)cpuid >= d->vm->ncpus)
		return -EINVAL;
	if (!d->vm->vcpu[cpuid].started)
		return VM_DBG_CPU_IDLE;
	if ((r = vm_debug_cpus(d->vm->ctx, &dbg)) < 0)
		return r;
	return vm_cpuset_isset(&dbg, cpuid) ? VM_DBG_CPU_PARKED :
					      VM_DBG_CPU_GUEST;
}

int dbg_stop(struct dbg_core *d, int owner, int cpuid, unsigned int timeout_ms,
	     struct vm_dbg_stop *out)
{
	struct gdb_target t;
	int r;

	if (!d->vm->dbg)
		return -EOPNOTSUPP;
	t = dbg_target(d->vm->dbg);
	if ((r = t.ops->stop_all(t.opaque)) < 0)
		return r;
	if (out) {
		memset(&out->stopped, 0, sizeof(out->stopped));
		memset(&out->late, 0, sizeof(out->late));
		for (unsigned int i = 0; i < d->vm->ncpus; i++) {
			vm_cpuset_set(&out->stopped, i);
			out->state[i] = VM_DBG_CPU_PARKED;
		}
	}
	publish(d, VM_EVENT_STOP, cpuid, owner);
	return 0;
}

int dbg_resume(struct dbg_core *d, int owner, int cpuid)
{
	struct gdb_resume_action *act;
	struct gdb_target t;
	int r;

	if (!d->vm->dbg)
		return -EOPNOTSUPP;
	act = calloc(d->vm->ncpus, sizeof(*act));
	if (!act)
		return -ENOMEM;
	for (unsigned int i = 0; i < d->vm->ncpus; i++)
		act[i].kind = GDB_RESUME_CONT;
	t = dbg_target(d->vm->dbg);
	r = t.ops->resume(t.opaque, act, 0);
	free(act);
	if (r == 0)
		publish(d, VM_EVENT_RESUME, cpuid, owner);
	return r;
}

int dbg_services(void *core, uint32_t cmd, void *data)
{
	struct dbg_core *d = core;

	if (cmd == VM_DBG_STOP) {
		struct vm_dbg_stop *s = data;

		return dbg_stop(d, -1, s->cpuid, s->timeout_ms, s);
	}
	if (cmd == VM_DBG_RESUME)
		return dbg_resume(d, -1, ((struct vm_dbg_cpu *)data)->cpuid);
	return -EOPNOTSUPP;
}

struct dbg_sub *dbg_subscribe(struct dbg_core *d, uint32_t mask)
{
	struct dbg_sub *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->d = d;
	s->mask = mask;
	s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->fd < 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_lock(&d->lock);
	s->next = d->subs;
	d->subs = s;
	pthread_mutex_unlock(&d->lock);
	return s;
}

void dbg_unsubscribe(struct dbg_sub *s)
{
	struct dbg_core *d = s->d;

	pthread_mutex_lock(&d->lock);
	for (struct dbg_sub **pp = &d->subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	close(s->fd);
	free(s);
}

int dbg_sub_fd(const struct dbg_sub *s)
{
	return s->fd;
}

bool dbg_sub_take(struct dbg_sub *s, struct vm_event *ev)
{
	uint64_t v;
	bool got = false;

	pthread_mutex_lock(&s->d->lock);
	if (s->len) {
		*ev = s->q[s->head];
		s->head = (s->head + 1) % SUBQ;
		got = true;
		if (--s->len == 0 && read(s->fd, &v, sizeof(v)) < 0)
			got = true; /* it was readable: len was not 0 */
	}
	pthread_mutex_unlock(&s->d->lock);
	return got;
}
