/*
 * gdb_target.c: the gdb stub's target operations on top of the debug
 * core, and the pump from the core's bus to the stub's stop events (see
 * gdb_target.h for how events map).
 *
 * Registers and memory are read with libvmmapi directly, only from vCPUs
 * the core says are stopped (a vCPU late for a bounded stop answers
 * -EBUSY).  Breakpoints are the core's, owned by gdb's owner id and
 * translated through the paging of the thread gdb selected (Hg).
 *
 * The pump keeps, per vCPU, what it heard since that vCPU's last stop:
 * the core publishes a vCPU's breakpoint and watchpoint hits first, then
 * one STOP (or STEP) that ends them, so the stop reported to gdb can
 * prefer gdb's own hit whatever order the owners' hits came in.
 *
 * Threads: the control thread only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/elfsym.h"
#include "introspect/kaslr.h"
#include "monitor/debug/debug_int.h"
#include "monitor/debug/gdb_target.h"
#include "monitor/vitro.h"

#define GDB_EVENTS_WANTED                                      \
	((1u << VM_EVENT_STOP) | (1u << VM_EVENT_BREAKPOINT) | \
	 (1u << VM_EVENT_WATCHPOINT) | (1u << VM_EVENT_STEP) | \
	 (1u << VM_EVENT_END))

struct gdb_hit {
	bool own; /* one of gdb's breakpoints or watchpoints */
	struct gdb_stop_event ev; /* gdb's, when own */
};

struct dbg_gdb {
	struct dbg_core *d;
	int owner;
	struct dbg_sub *sub;
	struct gdb_events *events;
	struct gdb_hit hit[VM_MAXCPU]; /* since each vCPU's last stop */
	struct elfsym *kernel; /* -k's symbols, for qOffsets; NULL: none */
	bool kernel_tried; /* reading them was tried */
	const char *sym_path; /* -G's sym=FILE, or NULL for -k's file */
};

static struct vcpu *gvcpu(struct dbg_gdb *g, int id)
{
	return dbg_vcpu(g->d, id);
}

/* Events. */

static enum gdb_stop_reason kind_reason(uint32_t kind)
{
	switch (kind) {
	case VM_DBG_BP_SW:
		return GDB_STOP_SWBREAK;
	case VM_DBG_BP_HW:
		return GDB_STOP_HWBREAK;
	case VM_DBG_WP_WRITE:
		return GDB_STOP_WATCH;
	case VM_DBG_WP_READ:
		return GDB_STOP_RWATCH;
	default:
		return GDB_STOP_AWATCH;
	}
}

static void report(struct dbg_gdb *g, bool active, int cpu,
		   const struct gdb_stop_event *ev)
{
	if (active && cpu >= 0 && cpu < VM_MAXCPU)
		gdb_events_report(g->events, ev);
}

/* A vCPU's stop ended what it hit: the stop gdb should see. */
static void vcpu_stopped(struct dbg_gdb *g, bool active, int cpu,
			 enum gdb_stop_reason plain)
{
	struct gdb_hit *h = &g->hit[cpu];
	struct gdb_stop_event ev = { .reason = plain, .vcpu = cpu };

	if (h->own)
		ev = h->ev;
	else if (plain == GDB_STOP_SIGNAL)
		ev.signal = GDB_SIGNAL_TRAP;
	report(g, active, cpu, &ev);
	memset(h, 0, sizeof(*h));
}

void dbg_gdb_pump(struct dbg_gdb *g, bool active, bool running)
{
	struct vm_event ev;

	while (dbg_sub_take(g->sub, &ev)) {
		int cpu = ev.cpuid;
		bool mine = ev.owners & (1ULL << g->owner);

		if (ev.dropped)
			vitro_log("gdb: %u debug events lost", ev.dropped);
		if (ev.type == VM_EVENT_END) {
			gdb_events_exit(g->events, ev.status);
			continue;
		}
		if (cpu < 0 || cpu >= VM_MAXCPU) {
			/* A stop of every vCPU another owner asked for. */
			if (ev.type == VM_EVENT_STOP && ev.owner != g->owner &&
			    running) {
				struct gdb_stop_event s = {
					.reason = GDB_STOP_SIGNAL,
					.vcpu = 0,
					.signal = GDB_SIGNAL_INT,
				};

				report(g, active, 0, &s);
			}
			continue;
		}
		switch (ev.type) {
		case VM_EVENT_BREAKPOINT:
		case VM_EVENT_WATCHPOINT:
			/* Another owner's hit is told as a plain stop. */
			if (mine && !g->hit[cpu].own) {
				g->hit[cpu].own = true;
				g->hit[cpu].ev = (struct gdb_stop_event){
					.reason = kind_reason(ev.kind),
					.vcpu = cpu,
					.addr = ev.addr,
				};
			}
			break;
		case VM_EVENT_STEP:
			vcpu_stopped(g, active, cpu,
				     ev.owner == g->owner ? GDB_STOP_STEP :
							    GDB_STOP_SIGNAL);
			break;
		case VM_EVENT_STOP:
			if (ev.owner == -1) {
				vcpu_stopped(g, active, cpu, GDB_STOP_SIGNAL);
			} else if (ev.owner != g->owner && running) {
				struct gdb_stop_event s = {
					.reason = GDB_STOP_SIGNAL,
					.vcpu = cpu,
					.signal = GDB_SIGNAL_INT,
				};

				report(g, active, cpu, &s);
			}
			break;
		default:
			break;
		}
	}
}

int dbg_gdb_fd(const struct dbg_gdb *g)
{
	return dbg_sub_fd(g->sub);
}

/* Target operations: threads, stops. */

static int op_cpus(void *opaque, struct vm_cpuset *cpus)
{
	struct dbg_gdb *g = opaque;

	return vm_active_cpus(g->d->vm->ctx, cpus);
}

static int op_cpu_describe(void *opaque, int vcpu, char *buf, size_t len)
{
	static const int regs[] = { VM_REG_GUEST_CR0, VM_REG_GUEST_EFER,
				    VM_REG_GUEST_CS_ACCESS,
				    VM_REG_GUEST_SS_ACCESS };
	struct dbg_gdb *g = opaque;
	struct vcpu *v = gvcpu(g, vcpu);
	enum vm_runstate rs = VRS_RUN;
	const char *mode, *run = "";
	uint64_t val[4];
	int r;

	if (!v)
		return -ENOENT;
	if (!dbg_cpu_stopped(g->d, vcpu)) {
		r = dbg_cpu_state(g->d, vcpu);
		snprintf(buf, len, "vCPU %d, not stopped: %s", vcpu,
			 r == VM_DBG_CPU_OUTPUT ? "blocked writing output" :
			 r == VM_DBG_CPU_GONE	? "gone" :
						  "busy in the monitor");
		return 0;
	}
	if ((r = vm_get_register_set(v, 4, regs, val)) < 0)
		return r;
	if (vm_get_run_state(v, &rs) == 0 && rs == VRS_INIT)
		run = ", waiting for INIT";
	else if (rs == VRS_SIPI)
		run = ", waiting for SIPI";
	else if (rs == VRS_HALT)
		run = ", halted";
	if (!(val[0] & 1))
		mode = "real mode";
	else if (val[1] & EFER_LMA)
		mode = val[2] & VM_SEG_ACCESS_L ? "long mode" :
						  "compatibility mode";
	else
		mode = "protected mode";
	snprintf(buf, len, "vCPU %d%s, %s, CPL %d", vcpu, run, mode,
		 (val[0] & 1) ? (int)VM_SEG_ACCESS_DPL(val[3]) : 0);
	return 0;
}

static bool op_cpu_ready(void *opaque, int vcpu)
{
	struct dbg_gdb *g = opaque;

	return dbg_cpu_stopped(g->d, vcpu);
}

static int op_stop_all(void *opaque)
{
	struct dbg_gdb *g = opaque;
	int r = dbg_stop(g->d, g->owner, -1, DBG_STOP_TIMEOUT_MS, NULL);

	/* The late ones are logged, and refuse register access. */
	return r == -ETIMEDOUT ? 0 : r;
}

static int op_resume(void *opaque, const struct gdb_resume_action *act,
		     unsigned int step_flags)
{
	struct dbg_gdb *g = opaque;
	uint8_t a[VM_MAXCPU];

	for (unsigned int i = 0; i < g->d->ncpus; i++) {
		switch (act[i].kind) {
		case GDB_RESUME_CONT:
			a[i] = DBG_RUN;
			break;
		case GDB_RESUME_STEP:
			a[i] = DBG_STEP;
			break;
		default:
			a[i] = DBG_STAY;
			break;
		}
	}
	return dbg_resume_each(
		g->d, g->owner, a,
		(step_flags & GDB_SSTEP_NOIRQ) ? VM_DBG_STEP_NOIRQ : 0);
}

static unsigned int op_step_flags(void *opaque)
{
	struct dbg_gdb *g = opaque;

	return GDB_SSTEP_ENABLE |
	       ((dbg_step_flags(g->d) & VM_DBG_STEP_NOIRQ) ? GDB_SSTEP_NOIRQ :
							     0);
}

/* Registers and memory. */

static int op_regs_get(void *opaque, int vcpu, unsigned int count,
		       const int *regnums, uint64_t *vals)
{
	struct dbg_gdb *g = opaque;
	struct vcpu *v = gvcpu(g, vcpu);

	if (!v)
		return -ENOENT;
	if (!dbg_cpu_stopped(g->d, vcpu))
		return -EBUSY;
	return vm_get_register_set(v, count, regnums, vals);
}

static int op_regs_set(void *opaque, int vcpu, unsigned int count,
		       const int *regnums, const uint64_t *vals)
{
	struct dbg_gdb *g = opaque;
	struct vcpu *v = gvcpu(g, vcpu);

	if (!v)
		return -ENOENT;
	if (!dbg_cpu_stopped(g->d, vcpu))
		return -EBUSY;
	dbg_cpu_regs_changed(g->d, vcpu);
	return vm_set_register_set(v, count, regnums, vals);
}

/* Physical memory, page by page, up to the first byte that is not RAM. */
static ssize_t phys_copy(struct dbg_gdb *g, uint64_t gpa, void *buf, size_t len,
			 bool write)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = gpa + done;
		size_t n = 4096 - (a & 4095);
		uint8_t *p;

		if (n > len - done)
			n = len - done;
		if (!(p = vm_map_gpa(g->d->vm->ctx, a, n)))
			break;
		if (write)
			memcpy(p, (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, p, n);
		dbg_mem_shadow(g->d, a, (uint8_t *)buf + done, n, write);
		done += n;
	}
	return done ? (ssize_t)done : -EFAULT;
}

/*
 * The int3s of every owner (gdb's own are out while it is stopped, but
 * not another's) stay out of gdb's view: it reads the bytes under them,
 * and its writes go under them.
 */
static void linear_shadow(struct dbg_gdb *g, int vcpu,
			  const struct vm_guest_paging *pg, uint64_t addr,
			  void *buf, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = addr + done, gpa;
		size_t n = 4096 - (a & 4095);
		int fault;

		if (n > len - done)
			n = len - done;
		if (vm_gla2gpa_nofault(gvcpu(g, vcpu), pg, a, VM_PROT_READ,
				       &gpa, &fault) == 0 &&
		    !fault)
			dbg_mem_shadow(g->d, gpa, (uint8_t *)buf + done, n,
				       write);
		done += n;
	}
}

static ssize_t op_mem_read(void *opaque, int vcpu, uint64_t addr, void *buf,
			   size_t len, unsigned int flags)
{
	struct dbg_gdb *g = opaque;
	struct vm_guest_paging pg;
	ssize_t n;
	int r;

	if (flags & GDB_MEM_PHYS)
		return phys_copy(g, addr, buf, len, false);
	if ((r = dbg_cpu_paging(g->d, vcpu, &pg)) < 0)
		return r;
	n = vm_copyin_paging(gvcpu(g, vcpu), &pg, addr, buf, len);
	if (n > 0 && dbg_mem_shadowed(g->d))
		linear_shadow(g, vcpu, &pg, addr, buf, n, false);
	return n;
}

static ssize_t op_mem_write(void *opaque, int vcpu, uint64_t addr,
			    const void *buf, size_t len, unsigned int flags)
{
	struct dbg_gdb *g = opaque;
	struct vm_guest_paging pg;
	ssize_t n;
	int r;

	if (flags & GDB_MEM_PHYS)
		return phys_copy(g, addr, (void *)buf, len, true);
	if ((r = dbg_cpu_paging(g->d, vcpu, &pg)) < 0)
		return r;
	n = vm_copyout_paging(gvcpu(g, vcpu), &pg, buf, addr, len);
	if (n > 0 && dbg_mem_shadowed(g->d))
		linear_shadow(g, vcpu, &pg, addr, (void *)buf, n, true);
	return n;
}

/* Breakpoints: gdb's numbering is the core's (vm_dbg_bp_type). */

static int op_bp_insert(void *opaque, int vcpu, enum gdb_bp_type type,
			uint64_t addr, uint64_t len)
{
	struct dbg_gdb *g = opaque;

	return dbg_breakpoint(g->d, g->owner, true, (enum vm_dbg_bp_type)type,
			      addr, len, vcpu);
}

static int op_bp_remove(void *opaque, int vcpu, enum gdb_bp_type type,
			uint64_t addr, uint64_t len)
{
	struct dbg_gdb *g = opaque;

	return dbg_breakpoint(g->d, g->owner, false, (enum vm_dbg_bp_type)type,
			      addr, len, vcpu);
}

/*
 * Monitor commands (gdb's `monitor`): the built-in ones below, and any
 * other line is Tcl, run in vitro's console (console.h), whose result or
 * error message is the command's output.
 */

struct outbuf {
	char *buf;
	size_t len, cap;
};

static void outf(struct outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void outf(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL,
			      o->buf ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->buf && o->len + n < o->cap) {
			o->len += n;
			return;
		}
		char *nb = realloc(o->buf, o->cap + n + 256);

		if (!nb)
			return;
		o->buf = nb;
		o->cap += n + 256;
	}
}

static void mon_vcpus(struct dbg_gdb *g, struct outbuf *o)
{
	static const int regs[] = { VM_REG_GUEST_RIP, VM_REG_GUEST_RSP,
				    VM_REG_GUEST_CS_BASE, VM_REG_GUEST_CR3 };

	for (unsigned int i = 0; i < g->d->ncpus; i++) {
		char desc[96];
		uint64_t v[4];

		if (op_cpu_describe(g, i, desc, sizeof(desc)) < 0 ||
		    !dbg_cpu_stopped(g->d, i) ||
		    vm_get_register_set(gvcpu(g, i), 4, regs, v) < 0) {
			outf(o, "vCPU %u: state not readable\n", i);
			continue;
		}
		outf(o, "%s: pc %#llx sp %#llx cr3 %#llx\n", desc,
		     (unsigned long long)(v[2] + v[0]),
		     (unsigned long long)v[1], (unsigned long long)v[3]);
	}
}

static void mon_stats(struct dbg_gdb *g, struct outbuf *o)
{
	uint64_t vals[256];
	char name[VM_STAT_NAME_MAX];

	for (unsigned int i = 0; i < g->d->ncpus; i++) {
		int n = 0;

		if (vm_get_stats(gvcpu(g, i), vals, 256, &n) < 0)
			continue;
		outf(o, "vCPU %u:\n", i);
		for (int k = 0; k < n && k < 256; k++) {
			if (vals[k] && vm_get_stat_desc(g->d->vm->ctx, k, name,
							sizeof(name)) == 0)
				outf(o, "  %-32s %llu\n", name,
				     (unsigned long long)vals[k]);
		}
	}
}

/* After the stub's own commands (phys, help), in the same columns. */
static const char mon_help[] =
	"info vcpus     each vCPU's mode, privilege level, pc, sp and cr3\n"
	"stats          non-zero exit and KVM counters of each vCPU\n"
	"anything else  a Tcl command in vitro's console (monitor vitro::help\n"
	"               lists its commands); a Tcl error prints its message\n";

static int op_monitor(void *opaque, const char *line, char **out)
{
	struct dbg_gdb *g = opaque;
	struct outbuf o = { 0 };

	while (*line == ' ')
		line++;
	if (!strcmp(line, "help") || !*line)
		outf(&o, "%s", mon_help);
	else if (!strcmp(line, "info vcpus"))
		mon_vcpus(g, &o);
	else if (!strcmp(line, "stats"))
		mon_stats(g, &o);
	else if (g->d->vm->console && g->d->vm->console_eval) {
		bool failed;
		int r = g->d->vm->console_eval(g->d->vm->console, line, out,
					       &failed);

		return r == -ENODEV ? -ENOENT : r;
	} else
		return -ENOENT;
	*out = o.buf;
	return 0;
}

static int op_kill(void *opaque)
{
	struct dbg_gdb *g = opaque;

	vitro_end(g->d->vm, VITRO_EXIT_POWEROFF, "killed by the debugger");
	return 0;
}

/* The KASLR slide of -k's kernel, from the first ready vCPU's IDT. */
struct slide_src {
	struct dbg_gdb *g;
	int cpu;
};

static int slide_regs(void *arg, struct kaslr_cpu *cpu)
{
	struct slide_src *src = arg;
	uint64_t val[KASLR_CPU_NREGS];
	int r = op_regs_get(src->g, src->cpu, KASLR_CPU_NREGS, kaslr_cpu_regs,
			    val);

	if (r < 0)
		return r;
	kaslr_cpu_set(cpu, val);
	return 0;
}

static ssize_t slide_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct slide_src *src = arg;

	return op_mem_read(src->g, src->cpu, addr, buf, len, 0);
}

static int op_offsets(void *opaque, uint64_t *slide)
{
	static const struct kaslr_ops ops = { slide_regs, slide_read };
	struct dbg_gdb *g = opaque;
	struct slide_src src = { .g = g, .cpu = 0 };
	struct kaslr_result res = { 0 };
	char err[256];
	int r;

	const char *path = g->sym_path ? g->sym_path : g->d->vm->opt.kernel;

	if (!g->kernel_tried && path) {
		g->kernel_tried = true;
		/* A bzImage or a file without symbols: no offsets. */
		g->kernel = elfsym_load(path, err, sizeof(err));
		if (!g->kernel && g->sym_path)
			vitro_log("gdb: sym=%s: %s", path, err);
	}
	if (!g->kernel)
		return -EOPNOTSUPP;
	while (src.cpu < VM_MAXCPU - 1 && !op_cpu_ready(g, src.cpu))
		src.cpu++;
	r = kaslr_find(&ops, &src, g->kernel, NULL, &res);
	if (r < 0) {
		vitro_log("gdb: qOffsets: %s", res.why);
		return r;
	}
	*slide = res.slide;
	return 0;
}

static const struct gdb_target_ops dbg_gdb_ops = {
	.cpus = op_cpus,
	.cpu_describe = op_cpu_describe,
	.cpu_ready = op_cpu_ready,
	.stop_all = op_stop_all,
	.resume = op_resume,
	.step_flags = op_step_flags,
	.regs_get = op_regs_get,
	.regs_set = op_regs_set,
	.mem_read = op_mem_read,
	.mem_write = op_mem_write,
	.bp_insert = op_bp_insert,
	.bp_remove = op_bp_remove,
	.monitor = op_monitor,
	.kill = op_kill,
	.offsets = op_offsets,
};

struct gdb_target dbg_gdb_target(struct dbg_gdb *g)
{
	return (struct gdb_target){ &dbg_gdb_ops, g };
}

void dbg_gdb_set_symbols(struct dbg_gdb *g, const char *path)
{
	g->sym_path = path;
}

struct dbg_gdb *dbg_gdb_create(struct dbg_core *d, struct gdb_events *events)
{
	struct dbg_gdb *g = calloc(1, sizeof(*g));
	int e;

	if (!g)
		return NULL;
	g->d = d;
	g->events = events;
	g->owner = dbg_owner_alloc(d, "gdb");
	if (g->owner < 0) {
		e = -g->owner;
		free(g);
		errno = e;
		return NULL;
	}
	g->sub = dbg_subscribe(d, GDB_EVENTS_WANTED);
	if (!g->sub) {
		e = errno;
		dbg_owner_free(d, g->owner);
		free(g);
		errno = e;
		return NULL;
	}
	return g;
}

void dbg_gdb_destroy(struct dbg_gdb *g)
{
	if (!g)
		return;
	dbg_unsubscribe(g->sub);
	dbg_owner_free(g->d, g->owner);
	elfsym_free(g->kernel);
	free(g);
}
