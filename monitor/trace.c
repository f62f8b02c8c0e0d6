/*
 * trace.c: the monitor's VM-exit tracer (see trace.h).
 *
 * Consumers.  One recording (a file, its filter) and up to
 * VM_DBG_OWNER_MAX watches (one per control connection, each a queue of
 * packed records and a filter).  Capture in vmm is on while any consumer
 * is, with the largest stack depth and ring any of them asked for; a
 * change restarts it after the rings were drained, so no record of the
 * old capture is lost.
 *
 * The tracer thread wakes every TRACE_PERIOD_MS while vmm captures (and
 * sleeps until told otherwise) and moves what the rings hold to the
 * consumers.  A ring that overflowed between
 * two drains says how many records it lost: the recording gets a DROPS
 * chunk and the count, never a silent gap.  A watch whose queue is full
 * counts its own losses, told at the next VM_CTL_TRACE_READ.
 *
 * Threads: t->lock guards everything below it in struct vitro_trace and
 * serialises vmm's VM_TRACE_* commands (vmm_dev.h wants one consumer at
 * a time).  The kernel source is used under it too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "introspect/elfsym.h"
#include "libvmmapi/vm_trace.h"
#include "monitor/debug/debug.h"
#include "monitor/trace.h"
#include "monitor/trace_kernel.h"
#include "monitor/vitro.h"

#define TRACE_PERIOD_MS 10
#define TRACE_READ_BUF (256u << 10)
#define WATCH_QUEUE (1u << 20) /* bytes of records a watch holds */
#define TRACE_MAX_REGIONS 128

struct trace_watch {
	bool on;
	struct vm_trace_filter *filter;
	struct vm_trace_capture cap;
	uint8_t *q; /* WATCH_QUEUE bytes, a byte ring */
	size_t qhead, qlen;
	uint64_t dropped; /* since the last read */
	bool told; /* a VM_EVENT_TRACE went out since the last read */
};

struct vitro_trace {
	struct vitro *vm;
	pthread_t thread;
	bool thread_up;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool quit;

	/* The capture vmm runs now. */
	bool capturing;
	struct vm_trace_capture running;
	uint64_t ring_dropped[VM_MAXCPU]; /* vmm's counts seen so far */

	/*
	 * The recording: on from start to stop; its file w is made at once,
	 * or (deferred) once the in-kernel source is decided.
	 */
	bool recording, deferred, kernel_decided;
	struct vm_trace_writer *w;
	struct vm_trace_filter *wfilter;
	struct vm_trace_capture wcap;
	char path[256];
	char spec[512];
	uint64_t t0, records, kernel_records, dropped;
	int werr; /* the first write error, then no more writes */

	/* In-kernel exits, for the recording when its spec says kernel. */
	struct trace_kernel *tk;
	char kernel[160]; /* "on", "off: why" */

	struct trace_watch watch[VM_DBG_OWNER_MAX];
	unsigned int nwatch; /* watches on: most exits meet none */

	struct vm_trace_region regions[TRACE_MAX_REGIONS];
	unsigned int nregions;
	unsigned int region_hit[2]; /* the last found, by kind; checked */
	uint64_t region_miss[2]; /* the last address in none, by kind */
	bool region_miss_valid[2];
	struct elfsym *syms; /* -k's, for rip=SYMBOL; loaded on need */
	bool syms_tried;
	uint8_t *buf; /* TRACE_READ_BUF */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Regions, for the file and for region=NAME. */

struct region_walk {
	struct vitro_trace *t;
	uint32_t kind; /* VM_TRACE_REGION_* of the map walked */
};

static int region_add(void *arg, const struct region_info *info)
{
	struct region_walk *rw = arg;
	struct vitro_trace *t = rw->t;
	struct vm_trace_region *r;

	if (t->nregions >= TRACE_MAX_REGIONS)
		return 1;
	r = &t->regions[t->nregions++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", info->name);
	r->kind = rw->kind;
	r->base = info->base;
	r->size = info->len;
	return 0;
}

static void regions_learn(struct vitro_trace *t)
{
	struct region_walk pio = { t, VM_TRACE_REGION_PIO };
	struct region_walk mmio = { t, VM_TRACE_REGION_MMIO };

	t->nregions = 0;
	t->region_miss_valid[0] = t->region_miss_valid[1] = false;
	if (t->vm->pio)
		region_foreach(t->vm->pio, region_add, &pio);
	if (t->vm->mmio)
		region_foreach(t->vm->mmio, region_add, &mmio);
}

static bool region_has(const struct vm_trace_region *r, uint32_t kind,
		       uint64_t addr)
{
	return r->kind == kind && addr >= r->base && addr - r->base < r->size;
}

/* The region of a port or MMIO exit; a run of exits mostly hits one. */
static uint32_t region_of(struct vitro_trace *t, const struct vm_trace_rec *rec)
{
	uint32_t kind;
	unsigned int *hit;
	int k;

	if (rec->source != VM_TRACE_USER)
		return 0;
	if (rec->reason == VM_TRACE_KVM_EXIT_IO)
		kind = VM_TRACE_REGION_PIO;
	else if (rec->reason == VM_TRACE_KVM_EXIT_MMIO)
		kind = VM_TRACE_REGION_MMIO;
	else
		return 0;
	k = kind == VM_TRACE_REGION_MMIO;
	hit = &t->region_hit[k];
	if (*hit < t->nregions &&
	    region_has(&t->regions[*hit], kind, rec->addr))
		return *hit + 1;
	if (t->region_miss_valid[k] && t->region_miss[k] == rec->addr)
		return 0; /* a port nothing claims, polled */
	for (unsigned int i = 0; i < t->nregions; i++) {
		if (region_has(&t->regions[i], kind, rec->addr)) {
			*hit = i;
			return i + 1;
		}
	}
	t->region_miss[k] = rec->addr;
	t->region_miss_valid[k] = true;
	return 0;
}

/* rip=SYMBOL through the symbols of -k's file. */
static int sym_lookup(void *arg, const char *name, uint64_t *start,
		      uint64_t *end)
{
	struct vitro_trace *t = arg;
	const struct elfsym_sym *s;
	char err[160];

	if (!t->syms_tried && t->vm->opt.kernel) {
		t->syms_tried = true;
		t->syms = elfsym_load(t->vm->opt.kernel, err, sizeof(err));
	}
	if (!t->syms || !(s = elfsym_by_name(t->syms, name)) || s->abs)
		return -ENOENT;
	*start = s->addr;
	*end = s->end;
	return 0;
}

/* Capture: what the consumers want, and vmm's rings. */

static void want_capture(struct vitro_trace *t, struct vm_trace_capture *c,
			 bool *any)
{
	*any = false;
	memset(c, 0, sizeof(*c));
	if (t->recording) {
		*c = t->wcap;
		*any = true;
	}
	for (unsigned int i = 0; i < VM_DBG_OWNER_MAX; i++) {
		const struct trace_watch *w = &t->watch[i];

		if (!w->on)
			continue;
		if (!*any || w->cap.stack > c->stack)
			c->stack = w->cap.stack;
		if (!*any || w->cap.ring > c->ring)
			c->ring = w->cap.ring;
		*any = true;
	}
	c->kernel = t->recording && t->wcap.kernel;
}

static void drain(struct vitro_trace *t);

/* Make vmm capture what the consumers want; t->lock held. */
static int capture_update(struct vitro_trace *t)
{
	struct vm_trace_capture c;
	struct vm_trace_start st;
	bool any;
	int r;

	want_capture(t, &c, &any);
	if (t->capturing)
		drain(t);
	if (!any) {
		if (t->capturing)
			vm_command(t->vm->ctx, VM_TRACE_STOP, NULL);
		t->capturing = false;
		return 0;
	}
	if (t->capturing && c.stack == t->running.stack &&
	    c.ring == t->running.ring)
		return 0;
	st.ring = c.ring;
	st.stack = c.stack;
	if ((r = vm_command(t->vm->ctx, VM_TRACE_START, &st)) < 0)
		return r;
	memset(t->ring_dropped, 0, sizeof(t->ring_dropped));
	t->running = c;
	t->capturing = true;
	return 0;
}

/* Consumers. */

static void watch_push(struct vitro_trace *t, int owner, struct trace_watch *w,
		       const struct vm_trace_rec *rec, const uint64_t *stack)
{
	size_t n = rec->nstack < w->cap.stack ? rec->nstack : w->cap.stack;
	size_t len = sizeof(*rec) + n * sizeof(uint64_t);
	struct vm_trace_rec r = *rec;
	size_t at;

	if (w->filter && !vm_trace_filter_match(w->filter, rec))
		return;
	if (w->qlen + len > WATCH_QUEUE) {
		w->dropped++;
		return;
	}
	r.nstack = n;
	at = (w->qhead + w->qlen) % WATCH_QUEUE;
	for (size_t i = 0; i < len; i++) {
		const uint8_t *src =
			i < sizeof(r) ? (const uint8_t *)&r + i :
					(const uint8_t *)stack + i - sizeof(r);

		w->q[(at + i) % WATCH_QUEUE] = *src;
	}
	w->qlen += len;
	if (!w->told && t->vm->dbg) {
		struct vm_event ev = { .type = VM_EVENT_TRACE,
				       .cpuid = rec->vcpu,
				       .owner = owner };

		w->told = true;
		dbg_publish(t->vm->dbg, &ev);
	}
}

static void record(struct vitro_trace *t, struct vm_trace_rec *rec,
		   const uint64_t *stack)
{
	rec->region = region_of(t, rec);
	if (t->w && !t->werr &&
	    (!t->wfilter || vm_trace_filter_match(t->wfilter, rec))) {
		struct vm_trace_rec r = *rec;

		if (r.nstack > t->wcap.stack)
			r.nstack = t->wcap.stack;
		t->werr = vm_trace_write(t->w, &r, stack);
		if (t->werr)
			vitro_log("trace: writing %s: %s; recording stops "
				  "here",
				  t->path, strerror(-t->werr));
		else if (r.source == VM_TRACE_KERNEL)
			t->kernel_records++;
		if (!t->werr)
			t->records++;
	}
	for (int i = 0; t->nwatch && i < VM_DBG_OWNER_MAX; i++) {
		if (t->watch[i].on)
			watch_push(t, i, &t->watch[i], rec, stack);
	}
}

static void kernel_emit(void *arg, const struct vm_trace_rec *rec)
{
	struct vm_trace_rec r = *rec;

	record(arg, &r, NULL);
}

static void drain_cpu(struct vitro_trace *t, int cpu)
{
	struct vm_trace_read rd = { .cpuid = cpu,
				    .len = TRACE_READ_BUF,
				    .buf = (uintptr_t)t->buf };

	do {
		if (vm_command(t->vm->ctx, VM_TRACE_READ, &rd) < 0)
			return;
		for (uint32_t off = 0, i = 0; i < rd.nrecs; i++) {
			struct vm_trace_rec *rec = (void *)(t->buf + off);

			off += sizeof(*rec) + rec->nstack * sizeof(uint64_t);
			record(t, rec, (const uint64_t *)(rec + 1));
		}
		if (rd.dropped > t->ring_dropped[cpu]) {
			uint64_t n = rd.dropped - t->ring_dropped[cpu];

			t->ring_dropped[cpu] = rd.dropped;
			if (t->w && !t->werr) {
				t->dropped += n;
				t->werr = vm_trace_write_drops(t->w, cpu, n,
							       now_ns());
			}
			for (int i = 0; i < VM_DBG_OWNER_MAX; i++)
				t->watch[i].dropped += t->watch[i].on ? n : 0;
		}
	} while (rd.bytes > TRACE_READ_BUF / 2);
}

/* Everything the rings and the kernel source hold; t->lock held. */
static void drain(struct vitro_trace *t)
{
	/* A deferred file: the rings hold the records until it is made. */
	if (!t->capturing || t->deferred)
		return;
	for (unsigned int i = 0; i < t->vm->ncpus; i++)
		drain_cpu(t, i);
	if (t->tk) {
		uint64_t lost = 0;

		if (trace_kernel_drain(t->tk, kernel_emit, t, &lost) < 0 ||
		    lost) {
			if (lost && t->w && !t->werr) {
				t->dropped += lost;
				t->werr = vm_trace_write_drops(t->w, 0, lost,
							       now_ns());
			}
		}
	}
}

/*
 * The in-kernel source needs the vCPU threads' ids, known once they run.
 * Decided once per recording: false while some thread has no id yet.
 */
static bool kernel_source_open(struct vitro_trace *t)
{
	pid_t tids[VM_MAXCPU];
	int ids[VM_MAXCPU];
	char why[sizeof(t->kernel)];

	if (t->kernel_decided)
		return true;
	for (unsigned int i = 0; i < t->vm->ncpus; i++) {
		tids[i] =
			__atomic_load_n(&t->vm->vcpu[i].tid, __ATOMIC_ACQUIRE);
		ids[i] = i;
		if (!tids[i])
			return false;
	}
	t->kernel_decided = true;
	t->tk = trace_kernel_open(tids, ids, t->vm->ncpus, why, sizeof(why));
	if (t->tk) {
		snprintf(t->kernel, sizeof(t->kernel), "on");
	} else {
		snprintf(t->kernel, sizeof(t->kernel), "off: %.150s", why);
		vitro_log("trace: in-kernel exits are not recorded: %s", why);
	}
	return true;
}

static const char *host_isa(void)
{
	if (access("/sys/module/kvm_intel", F_OK) == 0)
		return "vmx";
	if (access("/sys/module/kvm_amd", F_OK) == 0)
		return "svm";
	return "";
}

/* The file, once the in-kernel source is decided; t->lock held. */
static int record_create(struct vitro_trace *t, char *err, size_t errlen)
{
	struct vm_trace_meta meta = {
		.vm = t->vm->name,
		.ncpus = t->vm->ncpus,
		.isa = host_isa(),
		.spec = t->spec,
		.kernel = t->kernel,
		.stack = t->wcap.stack,
		.t0 = t->t0,
		.regions = t->regions,
		.nregions = t->nregions,
	};

	t->deferred = false;
	if (!(t->w = vm_trace_create(t->path, &meta, err, errlen)))
		return -errno;
	return 0;
}

static void record_end(struct vitro_trace *t)
{
	t->recording = t->deferred = false;
	vm_trace_filter_free(t->wfilter);
	t->wfilter = NULL;
	if (t->tk)
		trace_kernel_close(t->tk);
	t->tk = NULL;
	capture_update(t);
}

/* A recording that waited for the vCPU threads gets its file. */
static void record_deferred(struct vitro_trace *t)
{
	char err[200];

	if (!t->deferred || !kernel_source_open(t))
		return;
	if (record_create(t, err, sizeof(err)) < 0) {
		vitro_log("trace: %s; nothing is recorded", err);
		record_end(t);
	}
}

static void *tracer(void *arg)
{
	struct vitro_trace *t = arg;

	pthread_setname_np(pthread_self(), "tracer");
	pthread_mutex_lock(&t->lock);
	while (!t->quit) {
		struct timespec ts;

		record_deferred(t);
		drain(t);
		if (t->w && !t->werr)
			t->werr = vm_trace_flush(t->w);
		/* Nothing captured: sleep until a consumer comes. */
		if (!t->capturing) {
			pthread_cond_wait(&t->wake, &t->lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TRACE_PERIOD_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->wake, &t->lock, &ts);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* The recording. */

static int parse_spec(struct vitro_trace *t, const char *spec,
		      struct vm_trace_filter **f, struct vm_trace_capture *cap,
		      char *err, size_t errlen)
{
	return vm_trace_filter_parse(spec, t->regions, t->nregions, sym_lookup,
				     t, f, cap, err, errlen);
}

/* A file we can write, checked before the file itself is made. */
static int check_creatable(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%.150s: cannot create: %s", path,
			 strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

/*
 * Start recording to path; t->lock held.  With `kernel` in the spec the
 * file is made once the in-kernel source is decided (its state goes in
 * the file's META), which for -T is when the vCPU threads run; the rings
 * keep the records meanwhile.
 */
static int record_start(struct vitro_trace *t, const char *path,
			const char *spec, char *err, size_t errlen)
{
	struct vm_trace_filter *f = NULL;
	struct vm_trace_capture cap;
	int r;

	if (t->recording) {
		snprintf(err, errlen, "already recording to %.120s", t->path);
		return -EBUSY;
	}
	regions_learn(t);
	if ((r = parse_spec(t, spec, &f, &cap, err, errlen)) < 0)
		return r;
	t->wfilter = f;
	t->wcap = cap;
	t->records = t->kernel_records = t->dropped = 0;
	t->werr = 0;
	snprintf(t->path, sizeof(t->path), "%s", path);
	snprintf(t->spec, sizeof(t->spec), "%s", spec);
	t->t0 = now_ns();
	t->recording = true;
	t->kernel_decided = !cap.kernel;
	snprintf(t->kernel, sizeof(t->kernel), "%s",
		 cap.kernel ? "off: the recording ended before the vCPU "
			      "threads ran" :
			      "off: not asked (the spec's `kernel` term)");
	if (kernel_source_open(t))
		r = record_create(t, err, errlen);
	else if ((r = check_creatable(path, err, errlen)) == 0)
		t->deferred = true;
	if (r == 0 && (r = capture_update(t)) < 0) {
		snprintf(err, errlen, "cannot start capturing exits: %s",
			 strerror(-r));
		if (t->w)
			vm_trace_finish(t->w, now_ns());
		t->w = NULL;
		unlink(path);
	}
	if (r < 0) {
		record_end(t);
		return r;
	}
	pthread_cond_signal(&t->wake);
	return 0;
}

/* Stop recording: the rings drained, END written; t->lock held. */
static int record_stop(struct vitro_trace *t)
{
	struct vm_trace_writer *w;
	char err[200];
	int r;

	if (!t->recording)
		return -ENOENT;
	if (t->deferred) {
		t->kernel_decided = true;
		if ((r = record_create(t, err, sizeof(err))) < 0) {
			vitro_log("trace: %s", err);
			record_end(t);
			return r;
		}
	}
	drain(t);
	w = t->w;
	t->w = NULL;
	r = vm_trace_finish(w, now_ns());
	if (t->werr && !r)
		r = t->werr;
	record_end(t);
	return r;
}

/* -T FILE[,SPEC]: the spec, FILE in path; NULL if FILE is too long. */
static const char *option_spec(const char *arg, char *path, size_t len)
{
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	if (n >= len)
		return NULL;
	snprintf(path, len, "%.*s", (int)n, arg);
	return comma ? comma + 1 : "";
}

struct vitro_trace *trace_create(struct vitro *vm, char *err, size_t errlen)
{
	struct vitro_trace *t = calloc(1, sizeof(*t));
	int r;

	if (!t || !(t->buf = malloc(TRACE_READ_BUF))) {
		free(t);
		snprintf(err, errlen, "tracer: out of memory");
		return NULL;
	}
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	snprintf(t->kernel, sizeof(t->kernel), "off: not asked");
	if (vm->opt.trace) {
		char path[256], msg[200];
		const char *spec =
			option_spec(vm->opt.trace, path, sizeof(path));

		if (!spec) {
			snprintf(err, errlen,
				 "-T: the file name is longer than %zu bytes",
				 sizeof(path) - 1);
			trace_destroy(t);
			return NULL;
		}
		pthread_mutex_lock(&t->lock);
		r = record_start(t, path, spec, msg, sizeof(msg));
		pthread_mutex_unlock(&t->lock);
		if (r < 0) {
			snprintf(err, errlen, "-T %s: %s", vm->opt.trace, msg);
			trace_destroy(t);
			return NULL;
		}
	}
	if ((r = pthread_create(&t->thread, NULL, tracer, t)) != 0) {
		snprintf(err, errlen, "cannot start the tracer: %s",
			 strerror(r));
		trace_destroy(t);
		return NULL;
	}
	t->thread_up = true;
	return t;
}

void trace_destroy(struct vitro_trace *t)
{
	if (!t)
		return;
	if (t->thread_up) {
		pthread_mutex_lock(&t->lock);
		t->quit = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
	}
	pthread_mutex_lock(&t->lock);
	if (t->recording) {
		char path[256];
		uint64_t n, d;
		int r;

		snprintf(path, sizeof(path), "%s", t->path);
		r = record_stop(t);
		n = t->records;
		d = t->dropped;
		if (r < 0)
			vitro_log("trace: %s: %s", path, strerror(-r));
		else if (t->vm->opt.verbose || d)
			vitro_log("trace: %llu records in %s%s",
				  (unsigned long long)n, path,
				  d ? ", some lost (rings overflowed)" : "");
	}
	for (int i = 0; i < VM_DBG_OWNER_MAX; i++) {
		vm_trace_filter_free(t->watch[i].filter);
		free(t->watch[i].q);
	}
	if (t->capturing)
		vm_command(t->vm->ctx, VM_TRACE_STOP, NULL);
	pthread_mutex_unlock(&t->lock);
	elfsym_free(t->syms);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	free(t->buf);
	free(t);
}

/* The control socket. */

static void status_fill(struct vitro_trace *t, struct vm_ctl_trace *a)
{
	a->recording = t->recording;
	if (t->recording) {
		snprintf(a->path, sizeof(a->path), "%s", t->path);
		snprintf(a->spec, sizeof(a->spec), "%s", t->spec);
	}
	a->watchers = t->nwatch;
	a->stack = t->capturing ? t->running.stack : 0;
	a->ring = t->capturing ? t->running.ring : 0;
	a->records = t->records;
	a->dropped = t->dropped;
	a->kernel_records = t->kernel_records;
	a->t0 = t->t0;
	a->now = now_ns();
	snprintf(a->kernel, sizeof(a->kernel), "%s", t->kernel);
}

static void watch_end(struct vitro_trace *t, struct trace_watch *w)
{
	if (w->on)
		t->nwatch--;
	vm_trace_filter_free(w->filter);
	free(w->q);
	memset(w, 0, sizeof(*w));
}

static int watch_start(struct vitro_trace *t, int owner, const char *spec,
		       char *err, size_t errlen)
{
	struct trace_watch *w = &t->watch[owner];
	struct vm_trace_filter *f = NULL;
	struct vm_trace_capture cap;
	uint8_t *q;
	int r;

	regions_learn(t);
	if ((r = parse_spec(t, spec, &f, &cap, err, errlen)) < 0)
		return r;
	if (cap.kernel) {
		vm_trace_filter_free(f);
		snprintf(err, errlen,
			 "`kernel` is for recordings: a watch sees the "
			 "exits that reach user space");
		return -EINVAL;
	}
	if (!(q = malloc(WATCH_QUEUE))) {
		vm_trace_filter_free(f);
		return -ENOMEM;
	}
	watch_end(t, w);
	w->on = true;
	t->nwatch++;
	w->filter = f;
	w->cap = cap;
	w->q = q;
	if ((r = capture_update(t)) < 0) {
		watch_end(t, w);
		snprintf(err, errlen, "cannot start capturing exits: %s",
			 strerror(-r));
		capture_update(t);
	}
	pthread_cond_signal(&t->wake);
	return r;
}

int trace_control(struct vitro_trace *t, int owner, struct vm_ctl_trace *a)
{
	int r = 0;

	a->path[sizeof(a->path) - 1] = 0;
	a->spec[sizeof(a->spec) - 1] = 0;
	memset(a->error, 0, sizeof(a->error));
	pthread_mutex_lock(&t->lock);
	switch (a->op) {
	case VM_CTL_TRACE_STATUS:
		break;
	case VM_CTL_TRACE_RECORD:
		if (a->path[0] != '/') {
			snprintf(a->error, sizeof(a->error),
				 "'%.80s': give the file as an absolute path "
				 "(the monitor opens it)",
				 a->path);
			r = -EINVAL;
			break;
		}
		r = record_start(t, a->path, a->spec, a->error,
				 sizeof(a->error));
		break;
	case VM_CTL_TRACE_STOP:
		r = record_stop(t);
		if (r == -ENOENT)
			snprintf(a->error, sizeof(a->error),
				 "no recording is running");
		break;
	case VM_CTL_TRACE_WATCH:
		if (owner < 0 || owner >= VM_DBG_OWNER_MAX) {
			r = -EUSERS;
			break;
		}
		r = watch_start(t, owner, a->spec, a->error, sizeof(a->error));
		break;
	case VM_CTL_TRACE_UNWATCH:
		if (owner < 0 || owner >= VM_DBG_OWNER_MAX ||
		    !t->watch[owner].on) {
			r = -ENOENT;
			break;
		}
		drain(t);
		watch_end(t, &t->watch[owner]);
		capture_update(t);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r == -EBUSY && !a->error[0])
		snprintf(a->error, sizeof(a->error), "busy");
	status_fill(t, a);
	if (a->op == VM_CTL_TRACE_STOP && r == 0) {
		/* What was recorded, told with the stop. */
		a->recording = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int trace_fetch(struct vitro_trace *t, int owner, struct vm_ctl_trace_read *a)
{
	struct trace_watch *w;
	uint32_t used = 0, n = 0;

	if (owner < 0 || owner >= VM_DBG_OWNER_MAX)
		return -ENOENT;
	pthread_mutex_lock(&t->lock);
	w = &t->watch[owner];
	if (!w->on) {
		pthread_mutex_unlock(&t->lock);
		return -ENOENT;
	}
	drain(t);
	while (w->qlen >= sizeof(struct vm_trace_rec)) {
		struct vm_trace_rec rec;
		size_t len;

		for (size_t i = 0; i < sizeof(rec); i++)
			((uint8_t *)&rec)[i] =
				w->q[(w->qhead + i) % WATCH_QUEUE];
		len = sizeof(rec) + rec.nstack * sizeof(uint64_t);
		if (used + len > sizeof(a->buf))
			break;
		for (size_t i = 0; i < len; i++)
			a->buf[used + i] = w->q[(w->qhead + i) % WATCH_QUEUE];
		w->qhead = (w->qhead + len) % WATCH_QUEUE;
		w->qlen -= len;
		used += len;
		n++;
	}
	a->len = used;
	a->nrecs = n;
	a->dropped = w->dropped;
	w->dropped = 0;
	/* Tell again when more come (or if some are left now). */
	w->told = false;
	if (w->qlen && t->vm->dbg) {
		struct vm_event ev = { .type = VM_EVENT_TRACE,
				       .cpuid = -1,
				       .owner = owner };

		w->told = true;
		dbg_publish(t->vm->dbg, &ev);
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void trace_owner_gone(struct vitro_trace *t, int owner)
{
	if (!t || owner < 0 || owner >= VM_DBG_OWNER_MAX)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->watch[owner].on) {
		watch_end(t, &t->watch[owner]);
		capture_update(t);
	}
	pthread_mutex_unlock(&t->lock);
}
