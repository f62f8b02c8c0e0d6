/*
 * trace_kernel.c: in-kernel exits from the kvm:kvm_exit and kvm:kvm_entry
 * tracepoints (see trace_kernel.h).
 *
 * Per watched thread, two perf events (PERF_TYPE_TRACEPOINT, that thread
 * only, any CPU, every hit sampled with its time on CLOCK_MONOTONIC and
 * its raw tracepoint record) share one mmap ring: the entry event's
 * output goes to the exit event's ring (PERF_EVENT_IOC_SET_OUTPUT), so a
 * thread's exits and entries come in the order they happened.  The raw
 * record starts with common_type, the tracepoint's id, which tells the
 * two apart; the other fields are found by name in the tracepoints'
 * format files, never at fixed offsets.
 *
 * Threads: one thread opens, drains and closes (trace_kernel.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "monitor/trace_kernel.h"

#define RING_PAGES 128 /* data pages per thread: 512 KiB */
#define KVM_ISA_VMX 1 /* the tracepoint's isa field */
#define KVM_ISA_SVM 2

/* One field of a tracepoint's raw record. */
struct tk_field {
	int offset, size; /* -1: absent */
};

struct tk_thread {
	int vcpu;
	int fd_exit, fd_entry;
	uint8_t *ring; /* header page, then RING_PAGES data pages */
	size_t ring_len;
	bool pending; /* an exit waits for its entry */
	struct vm_trace_rec rec;
};

struct trace_kernel {
	unsigned int n;
	struct tk_thread *th;
	int id_exit, id_entry; /* tracepoint ids */
	struct tk_field reason, rip, isa, info1, info2;
	char isa_name[4];
	size_t page;
};

/* Where tracefs is: a directory with events/kvm in it, or NULL. */
static const char *tracefs_find(char *why, size_t len)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[128];
	bool any = false;

	for (unsigned int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (access(path, F_OK) != 0)
			continue;
		any = true;
		snprintf(path, sizeof(path), "%s/events/kvm/kvm_exit/id",
			 dirs[i]);
		if (access(path, R_OK) == 0)
			return dirs[i];
	}
	if (!any && geteuid() == 0 &&
	    mount("tracefs", dirs[0], "tracefs", 0, NULL) == 0) {
		snprintf(path, sizeof(path), "%s/events/kvm/kvm_exit/id",
			 dirs[0]);
		if (access(path, R_OK) == 0)
			return dirs[0];
		any = true;
	}
	if (!any)
		snprintf(why, len,
			 "no tracefs (mount it: mount -t tracefs tracefs "
			 "/sys/kernel/tracing; it needs root)");
	else if (errno == EACCES)
		snprintf(why, len,
			 "tracefs is not readable: the kvm tracepoints need "
			 "root");
	else
		snprintf(why, len,
			 "tracefs has no kvm:kvm_exit tracepoint (a KVM "
			 "without tracing, or one like kvm_pvm that defines "
			 "none)");
	return NULL;
}

static int read_id(const char *dir, const char *event, char *why, size_t len)
{
	char path[160];
	FILE *f;
	int id = -1;

	snprintf(path, sizeof(path), "%s/events/kvm/%s/id", dir, event);
	if (!(f = fopen(path, "r")) || fscanf(f, "%d", &id) != 1 || id < 0) {
		snprintf(why, len, "cannot read %s: %s", path,
			 f ? "not a number" : strerror(errno));
		id = -1;
	}
	if (f)
		fclose(f);
	return id;
}

/* The fields of event's raw record, from its format file. */
static int read_format(const char *dir, const char *event,
		       const char *const *names, struct tk_field *fields,
		       unsigned int n, char *why, size_t len)
{
	char path[160], line[256];
	FILE *f;

	for (unsigned int i = 0; i < n; i++)
		fields[i].offset = fields[i].size = -1;
	snprintf(path, sizeof(path), "%s/events/kvm/%s/format", dir, event);
	if (!(f = fopen(path, "r"))) {
		int e = errno;

		snprintf(why, len, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	while (fgets(line, sizeof(line), f)) {
		char *semi, *name, *p = strstr(line, "field:");
		int off, size;

		if (!p || !(semi = strchr(p, ';')) ||
		    sscanf(semi, "; offset:%d; size:%d;", &off, &size) != 2)
			continue;
		*semi = 0;
		/* The name is the last word before ';' (after any '['). */
		name = strrchr(p, ' ');
		name = name ? name + 1 : p + 6;
		if (strchr(name, '['))
			*strchr(name, '[') = 0;
		for (unsigned int i = 0; i < n; i++) {
			if (strcmp(name, names[i]) == 0) {
				fields[i].offset = off;
				fields[i].size = size;
			}
		}
	}
	fclose(f);
	return 0;
}

static long perf_open(struct perf_event_attr *a, pid_t tid, int group_fd)
{
	return syscall(__NR_perf_event_open, a, tid, -1, group_fd,
		       PERF_FLAG_FD_CLOEXEC);
}

static int thread_open(struct trace_kernel *tk, struct tk_thread *t, pid_t tid,
		       char *why, size_t len)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(a),
		.sample_period = 1,
		.sample_type =
			PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW,
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	int e;

	a.config = tk->id_exit;
	t->fd_exit = perf_open(&a, tid, -1);
	if (t->fd_exit < 0)
		goto fail;
	a.config = tk->id_entry;
	t->fd_entry = perf_open(&a, tid, -1);
	if (t->fd_entry < 0)
		goto fail;
	t->ring_len = (1 + RING_PAGES) * tk->page;
	t->ring = mmap(NULL, t->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       t->fd_exit, 0);
	if (t->ring == MAP_FAILED) {
		t->ring = NULL;
		goto fail;
	}
	if (ioctl(t->fd_entry, PERF_EVENT_IOC_SET_OUTPUT, t->fd_exit) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (e == EACCES || e == EPERM)
		snprintf(why, len,
			 "perf_event_open on thread %d: %s (the kvm "
			 "tracepoints need root, or "
			 "kernel.perf_event_paranoid = -1)",
			 (int)tid, strerror(e));
	else if (e == ENOSYS)
		snprintf(why, len, "this kernel has no perf_event_open");
	else
		snprintf(why, len, "perf_event_open on thread %d: %s", (int)tid,
			 strerror(e));
	return -e;
}

static void thread_close(struct tk_thread *t)
{
	if (t->ring)
		munmap(t->ring, t->ring_len);
	if (t->fd_entry >= 0)
		close(t->fd_entry);
	if (t->fd_exit >= 0)
		close(t->fd_exit);
	t->ring = NULL;
	t->fd_entry = t->fd_exit = -1;
}

struct trace_kernel *trace_kernel_open(const pid_t *tids, const int *vcpus,
				       unsigned int n, char *why, size_t whylen)
{
	static const char *const exit_names[] = { "exit_reason", "guest_rip",
						  "isa", "info1", "info2" };
	struct tk_field f[5];
	struct trace_kernel *tk;
	const char *dir;
	int r;

	if (n == 0) {
		snprintf(why, whylen, "no vCPU threads to watch");
		errno = EINVAL;
		return NULL;
	}
	if (!(dir = tracefs_find(why, whylen))) {
		errno = ENOENT;
		return NULL;
	}
	if (!(tk = calloc(1, sizeof(*tk))) ||
	    !(tk->th = calloc(n, sizeof(*tk->th)))) {
		free(tk);
		snprintf(why, whylen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	tk->page = sysconf(_SC_PAGESIZE);
	for (unsigned int i = 0; i < n; i++)
		tk->th[i].fd_exit = tk->th[i].fd_entry = -1;
	if ((tk->id_exit = read_id(dir, "kvm_exit", why, whylen)) < 0 ||
	    (tk->id_entry = read_id(dir, "kvm_entry", why, whylen)) < 0 ||
	    read_format(dir, "kvm_exit", exit_names, f, 5, why, whylen) < 0) {
		r = -ENOENT;
		goto fail;
	}
	tk->reason = f[0];
	tk->rip = f[1];
	tk->isa = f[2];
	tk->info1 = f[3];
	tk->info2 = f[4];
	if (tk->reason.offset < 0 || tk->rip.offset < 0) {
		snprintf(why, whylen,
			 "kvm:kvm_exit has no exit_reason or guest_rip field "
			 "(an unknown kernel version)");
		r = -ENOENT;
		goto fail;
	}
	tk->n = n;
	for (unsigned int i = 0; i < n; i++) {
		tk->th[i].vcpu = vcpus[i];
		if ((r = thread_open(tk, &tk->th[i], tids[i], why, whylen)) < 0)
			goto fail;
	}
	return tk;
fail:
	tk->n = n;
	trace_kernel_close(tk);
	errno = -r;
	return NULL;
}

static uint64_t field_get(const uint8_t *raw, uint32_t len,
			  const struct tk_field *f)
{
	uint64_t v = 0;

	if (f->offset < 0 || f->size <= 0 || f->size > 8 ||
	    (uint32_t)(f->offset + f->size) > len)
		return 0;
	memcpy(&v, raw + f->offset, f->size);
	return v;
}

/* One sample of a thread's ring: an exit starts a record, an entry ends it. */
static int sample(struct trace_kernel *tk, struct tk_thread *t,
		  const uint8_t *p, uint32_t size, trace_kernel_emit_fn *emit,
		  void *arg)
{
	uint64_t time;
	uint32_t rawlen;
	const uint8_t *raw;
	uint16_t type;
	int n = 0;

	/* PERF_SAMPLE_TID, _TIME, _RAW: pid, tid, time, size, data. */
	if (size < 8 + 8 + 4 + 2)
		return 0;
	memcpy(&time, p + 8, 8);
	memcpy(&rawlen, p + 16, 4);
	raw = p + 20;
	if (rawlen < 2 || 20 + rawlen > size)
		return 0;
	memcpy(&type, raw, 2);
	if (type == tk->id_entry) {
		if (t->pending) {
			t->rec.t_entry = time;
			emit(arg, &t->rec);
			t->pending = false;
			n++;
		}
		return n;
	}
	if (type != tk->id_exit)
		return 0;
	if (t->pending) { /* an exit without its entry: end it here */
		t->rec.t_entry = time;
		emit(arg, &t->rec);
		n++;
	}
	memset(&t->rec, 0, sizeof(t->rec));
	t->rec.t_exit = time;
	t->rec.vcpu = t->vcpu;
	t->rec.source = VM_TRACE_KERNEL;
	t->rec.cpl = VM_TRACE_CPL_UNKNOWN;
	t->rec.count = 1;
	t->rec.reason = field_get(raw, rawlen, &tk->reason);
	t->rec.rip = field_get(raw, rawlen, &tk->rip);
	t->rec.addr = field_get(raw, rawlen, &tk->info1);
	t->rec.data = field_get(raw, rawlen, &tk->info2);
	switch (field_get(raw, rawlen, &tk->isa)) {
	case KVM_ISA_VMX:
		/* The basic exit reason; bit 31 (failed VM entry) aside. */
		t->rec.reason &= 0xffff;
		t->rec.flags = VM_TRACE_F_VMX;
		snprintf(tk->isa_name, sizeof(tk->isa_name), "vmx");
		break;
	case KVM_ISA_SVM:
		t->rec.flags = VM_TRACE_F_SVM;
		snprintf(tk->isa_name, sizeof(tk->isa_name), "svm");
		break;
	}
	t->pending = true;
	return n;
}

static int drain_thread(struct trace_kernel *tk, struct tk_thread *t,
			trace_kernel_emit_fn *emit, void *arg, uint64_t *lost)
{
	struct perf_event_mmap_page *mp = (void *)t->ring;
	const uint8_t *data = t->ring + tk->page;
	uint64_t size = RING_PAGES * tk->page;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	uint8_t buf[4096];
	int n = 0;

	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		const uint8_t *rec;

		for (size_t i = 0; i < sizeof(h); i++)
			((uint8_t *)&h)[i] = data[(tail + i) % size];
		if (h.size < sizeof(h) || tail + h.size > head)
			break;
		if (h.size <= sizeof(buf)) {
			for (size_t i = 0; i < h.size; i++)
				buf[i] = data[(tail + i) % size];
			rec = buf + sizeof(h);
			if (h.type == PERF_RECORD_SAMPLE)
				n += sample(tk, t, rec, h.size - sizeof(h),
					    emit, arg);
			else if (h.type == PERF_RECORD_LOST && lost &&
				 h.size >= sizeof(h) + 16) {
				uint64_t l;

				memcpy(&l, rec + 8, 8);
				*lost += l;
			}
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

int trace_kernel_drain(struct trace_kernel *tk, trace_kernel_emit_fn *emit,
		       void *arg, uint64_t *lost)
{
	int n = 0;

	if (!tk || !emit)
		return -EINVAL;
	for (unsigned int i = 0; i < tk->n; i++)
		n += drain_thread(tk, &tk->th[i], emit, arg, lost);
	return n;
}

const char *trace_kernel_isa(const struct trace_kernel *tk)
{
	return tk->isa_name;
}

void trace_kernel_close(struct trace_kernel *tk)
{
	if (!tk)
		return;
	for (unsigned int i = 0; i < tk->n; i++)
		thread_close(&tk->th[i]);
	free(tk->th);
	free(tk);
}
