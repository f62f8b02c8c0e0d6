/*
 * gdb_stub.c: the GDB remote serial protocol dispatcher and session state.
 *
 * Packets come from the codec (gdb_packet.c), are looked up in one table
 * (gdb_cmds[] below, with each packet's grammar), and their handlers talk
 * to the machine only through the target operations (gdb_target.h) and
 * the register descriptions (gdb_x86.c).  All-stop only: when one vCPU
 * stops, all do.
 *
 * Stop events from vCPU threads wait in the queue until gdb_stub_poll().
 * While gdb waits for a stop, the first event is reported (after
 * stop_all()); events that arrive meanwhile stay pending and are reported
 * instead of resuming their vCPU the next time gdb resumes it, unless they
 * went stale (a step, or a breakpoint or watchpoint since removed: the
 * vCPU simply runs on, and hits the breakpoint again if it is back).
 *
 * Threads: one, the control thread, owns everything here (see
 * gdb_stub.h).  No locks: the event queue has its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/gdb_stub.h"

/* A handler's return value meaning "the handler answered, or must not". */
#define CMD_NOREPLY 1

/* Largest memory transfer in one packet: its hex must fit a reply. */
#define GDB_MEM_MAX (GDB_PACKET_SIZE / 2)

/* Monitor output goes out in O packets of this many bytes. */
#define GDB_O_CHUNK 1024

/* Stop events held for a later resume: one per vCPU, and an exit. */
#define GDB_PENDING_MAX (VM_MAXCPU + 1)

enum stub_run {
	STUB_STOPPED, /* every vCPU parked, gdb in control */
	STUB_RUNNING, /* resumed; gdb waits for a stop reply */
	STUB_EXITED, /* the VM is gone (W or X was reported) */
};

struct gdb_bp {
	enum gdb_bp_type type;
	uint64_t addr;
	uint64_t len;
	int vcpu; /* Hg when inserted: whose paging translated addr */
};

struct gdb_stub {
	struct gdb_target target; /* the machine */
	struct gdb_events *events; /* stop events from vCPU threads */
	const struct gdb_x86_desc *arch; /* register layout */
	char *xml; /* target.xml */
	size_t xml_len;
	gdb_stub_write_fn write; /* to the debugger */
	void *write_opaque;

	struct gdb_rx rx; /* packet receiver */
	char *reply; /* reply payload being built */
	size_t reply_len;
	bool reply_overflow; /* the reply did not fit */
	uint8_t *tx; /* '+' then the last packet sent, for '-' */
	size_t tx_len; /* bytes of that packet, 0 for none */
	bool ack_pending; /* a '+' is owed for the packet in hand */
	uint8_t *scratch; /* memory and monitor transfers, GDB_PACKET_SIZE */

	bool active; /* a session is open */
	bool noack; /* QStartNoAckMode done */
	bool swbreak; /* gdb understands swbreak: stop reasons */
	bool hwbreak; /* ... and hwbreak: */
	bool phys; /* m/M/X address guest-physical memory */
	unsigned int sstep; /* GDB_SSTEP_* for steps */
	unsigned int sstep_supported; /* what the target can do */
	enum stub_run run;
	int g_vcpu; /* Hg: registers and memory; -1 for any */
	int c_vcpu; /* Hc: legacy c/s; -1 for all or any */
	struct gdb_stop_event last; /* what '?' reports */

	struct gdb_bp *bps; /* inserted breakpoints and watchpoints */
	size_t nbps, bps_cap;
	struct gdb_stop_event pending[GDB_PENDING_MAX]; /* oldest first */
	size_t npending;

	struct gdb_resume_action act[VM_MAXCPU]; /* resume being built */
	struct gdb_x86_regs regs, regs_old; /* register scratch */
};

/* Parsing packet arguments: a cursor over the payload. */

struct cur {
	const char *p;
	const char *end;
};

static bool cur_eof(const struct cur *c)
{
	return c->p == c->end;
}

static bool cur_char(struct cur *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

static bool cur_prefix(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* One or more hex digits that fit in 64 bits. */
static bool cur_hex(struct cur *c, uint64_t *v)
{
	uint64_t x = 0;
	const char *start = c->p;
	int d;

	while (c->p < c->end &&
	       (d = gdb_hex_digit((unsigned char)*c->p)) >= 0) {
		if (x >> 60)
			return false;
		x = x << 4 | (unsigned int)d;
		c->p++;
	}
	if (c->p == start)
		return false;
	*v = x;
	return true;
}

/* A thread id: hex, 0 (any), -1 (all), or multiprocess pPID.TID. */
static bool cur_tid(struct cur *c, long *tid)
{
	uint64_t v;

	if (cur_char(c, 'p')) {
		if (cur_char(c, '-')) {
			if (!cur_char(c, '1'))
				return false;
		} else if (!cur_hex(c, &v)) {
			return false;
		}
		if (!cur_char(c, '.')) {
			*tid = -1; /* pPID: all of its threads */
			return true;
		}
	}
	if (cur_char(c, '-')) {
		if (!cur_char(c, '1'))
			return false;
		*tid = -1;
		return true;
	}
	if (!cur_hex(c, &v) || v > INT_MAX)
		return false;
	*tid = (long)v;
	return true;
}

/* Replies */

static void reply_reset(struct gdb_stub *s)
{
	s->reply_len = 0;
	s->reply_overflow = false;
}

static void reply_mem(struct gdb_stub *s, const void *p, size_t n)
{
	if (n > GDB_PACKET_SIZE - s->reply_len) {
		s->reply_overflow = true;
		return;
	}
	memcpy(s->reply + s->reply_len, p, n);
	s->reply_len += n;
}

static void reply_str(struct gdb_stub *s, const char *str)
{
	reply_mem(s, str, strlen(str));
}

static void __attribute__((format(printf, 2, 3)))
reply_fmt(struct gdb_stub *s, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		s->reply_overflow = true;
		return;
	}
	reply_mem(s, buf, (size_t)n);
}

static void reply_hex(struct gdb_stub *s, const void *p, size_t n)
{
	if (n > (GDB_PACKET_SIZE - s->reply_len) / 2) {
		s->reply_overflow = true;
		return;
	}
	s->reply_len += gdb_hex_encode(s->reply + s->reply_len, p, n);
}

/*
 * Register bytes the target cannot read now (a vCPU a bounded stop left
 * running): gdb shows them as <unavailable> instead of failing.
 */
static void reply_unavailable(struct gdb_stub *s, size_t bytes)
{
	while (bytes-- > 0)
		reply_str(s, "xx");
}

static void reply_error(struct gdb_stub *s, int err)
{
	int e = err < 0 ? -err : err;

	reply_reset(s);
	reply_fmt(s, "E%02x", e > 0 && e < 256 ? e : 0xff);
}

static void stub_write(struct gdb_stub *s, const void *p, size_t n)
{
	if (s->write)
		s->write(s->write_opaque, p, n);
}

static void send_ack(struct gdb_stub *s)
{
	if (s->ack_pending) {
		s->ack_pending = false;
		stub_write(s, "+", 1);
	}
}

/* Frame and send the reply; the packet stays in tx until acknowledged. */
static void send_reply(struct gdb_stub *s)
{
	if (s->reply_overflow)
		reply_error(s, -ENOBUFS);
	s->tx_len = gdb_packet_encode(s->tx + 1, s->reply, s->reply_len, true);
	if (s->ack_pending) {
		s->ack_pending = false;
		s->tx[0] = '+';
		stub_write(s, s->tx, s->tx_len + 1);
	} else {
		stub_write(s, s->tx + 1, s->tx_len);
	}
}

/* Threads: gdb thread id = vCPU id + 1 */

static bool stub_cpus(struct gdb_stub *s, struct vm_cpuset *set)
{
	memset(set, 0, sizeof(*set));
	return s->target.ops->cpus(s->target.opaque, set) == 0;
}

static int cpuset_first(const struct vm_cpuset *set)
{
	int v;

	for (v = 0; v < VM_MAXCPU; v++)
		if (vm_cpuset_isset(set, v))
			return v;
	return -1;
}

static bool cpu_active(struct gdb_stub *s, int vcpu)
{
	struct vm_cpuset set;

	if (vcpu < 0 || vcpu >= VM_MAXCPU || !stub_cpus(s, &set))
		return false;
	return vm_cpuset_isset(&set, vcpu);
}

/* The first vCPU, preferring one whose registers can be read. */
static int first_cpu(struct gdb_stub *s)
{
	struct vm_cpuset set;
	int v;

	if (!stub_cpus(s, &set))
		return -1;
	for (v = 0; s->target.ops->cpu_ready && v < VM_MAXCPU; v++)
		if (vm_cpuset_isset(&set, v) &&
		    s->target.ops->cpu_ready(s->target.opaque, v))
			return v;
	return cpuset_first(&set);
}

/* The vCPU registers and memory are read from: Hg's, or the first. */
static int stub_gcpu(struct gdb_stub *s)
{
	if (cpu_active(s, s->g_vcpu))
		return s->g_vcpu;
	return first_cpu(s);
}

/* The vCPU legacy c/s/C/S act on: Hc's if it named one, else Hg's. */
static int stub_ccpu(struct gdb_stub *s)
{
	if (cpu_active(s, s->c_vcpu))
		return s->c_vcpu;
	return stub_gcpu(s);
}

/* A thread id names an active vCPU: its id, or -ESRCH. */
static int tid_to_cpu(struct gdb_stub *s, long tid)
{
	if (tid < 1 || tid > VM_MAXCPU || !cpu_active(s, (int)tid - 1))
		return -ESRCH;
	return (int)tid - 1;
}

/* Breakpoints */

static struct gdb_bp *bp_find(struct gdb_stub *s, enum gdb_bp_type type,
			      uint64_t addr, uint64_t len)
{
	size_t i;

	for (i = 0; i < s->nbps; i++)
		if (s->bps[i].type == type && s->bps[i].addr == addr &&
		    s->bps[i].len == len)
			return &s->bps[i];
	return NULL;
}

static bool bp_exec_at(struct gdb_stub *s, uint64_t addr)
{
	size_t i;

	for (i = 0; i < s->nbps; i++)
		if (s->bps[i].type <= GDB_BP_HW && s->bps[i].addr == addr)
			return true;
	return false;
}

static bool bp_watch_covers(struct gdb_stub *s, uint64_t addr)
{
	size_t i;

	for (i = 0; i < s->nbps; i++)
		if (s->bps[i].type >= GDB_WP_WRITE &&
		    addr - s->bps[i].addr < s->bps[i].len)
			return true;
	return false;
}

/* Remove every breakpoint and watchpoint (the vCPUs must be parked). */
static void bp_remove_all(struct gdb_stub *s)
{
	size_t i;

	if (s->run != STUB_EXITED)
		for (i = 0; i < s->nbps; i++)
			s->target.ops->bp_remove(s->target.opaque,
						 s->bps[i].vcpu, s->bps[i].type,
						 s->bps[i].addr, s->bps[i].len);
	s->nbps = 0;
}

/* Stop events */

static bool is_exit(const struct gdb_stop_event *ev)
{
	return ev->reason == GDB_STOP_EXITED || ev->reason == GDB_STOP_KILLED;
}

static void pending_drop(struct gdb_stub *s, size_t i)
{
	memmove(&s->pending[i], &s->pending[i + 1],
		(s->npending - i - 1) * sizeof(s->pending[0]));
	s->npending--;
}

/* Move queued events to the pending list: one per vCPU, exits first. */
static void stub_collect(struct gdb_stub *s)
{
	struct gdb_stop_event ev;
	size_t i;

	while (gdb_events_take(s->events, &ev)) {
		if (is_exit(&ev)) {
			s->pending[0] = ev;
			s->npending = 1;
			continue;
		}
		if (s->npending && is_exit(&s->pending[0]))
			continue; /* the VM is gone: stops are moot */
		for (i = 0; i < s->npending; i++)
			if (s->pending[i].vcpu == ev.vcpu)
				break;
		if (i == s->npending && s->npending < GDB_PENDING_MAX)
			s->pending[s->npending++] = ev;
	}
}

/*
 * Before a resume: drop events that no longer mean anything.  A step that
 * finished unreported stays only if gdb steps that vCPU again (it gets
 * the step it asked for, without a second instruction); a continued vCPU
 * just runs on.
 */
static void stub_prune(struct gdb_stub *s)
{
	size_t i = 0;

	while (i < s->npending) {
		const struct gdb_stop_event *ev = &s->pending[i];
		bool stale;

		switch (ev->reason) {
		case GDB_STOP_STEP:
			stale = s->act[ev->vcpu].kind != GDB_RESUME_STEP;
			break;
		case GDB_STOP_INTERRUPT:
			stale = true;
			break;
		case GDB_STOP_SWBREAK:
		case GDB_STOP_HWBREAK:
			stale = !bp_exec_at(s, ev->addr);
			break;
		case GDB_STOP_WATCH:
		case GDB_STOP_RWATCH:
		case GDB_STOP_AWATCH:
			stale = !bp_watch_covers(s, ev->addr);
			break;
		default:
			stale = false;
			break;
		}
		if (stale)
			pending_drop(s, i);
		else
			i++;
	}
}

/* Take the first pending event: an exit, or a stop of a vCPU act runs. */
static bool pending_take(struct gdb_stub *s,
			 const struct gdb_resume_action *act,
			 struct gdb_stop_event *ev)
{
	size_t i;

	for (i = 0; i < s->npending; i++) {
		const struct gdb_stop_event *p = &s->pending[i];

		if (is_exit(p) || act[p->vcpu].kind != GDB_RESUME_STOP) {
			*ev = *p;
			pending_drop(s, i);
			return true;
		}
	}
	return false;
}

/* Drop pending stops, keeping an exit. */
static void pending_clear(struct gdb_stub *s)
{
	if (s->npending && is_exit(&s->pending[0]))
		s->npending = 1;
	else
		s->npending = 0;
}

/* Append expedited registers: gdb then needs no 'g' to show the stop. */
static void reply_expedite(struct gdb_stub *s, int vcpu)
{
	const unsigned int regnos[] = {
		gdb_x86_pc_regno(s->arch),
		gdb_x86_sp_regno(s->arch),
		gdb_x86_fp_regno(s->arch),
	};
	/* What encoding pc, sp and fp needs: no FPU state, no MSRs. */
	static const int vmregs[] = {
		VM_REG_GUEST_RIP, VM_REG_GUEST_RSP,    VM_REG_GUEST_RBP,
		VM_REG_GUEST_CR0, VM_REG_GUEST_RFLAGS, VM_REG_GUEST_CS_BASE,
	};
	uint64_t vals[sizeof(vmregs) / sizeof(vmregs[0])];
	uint8_t buf[16];
	unsigned int i;
	size_t n;

	if (s->target.ops->regs_get(s->target.opaque, vcpu,
				    sizeof(vmregs) / sizeof(vmregs[0]), vmregs,
				    vals) != 0)
		return;
	memset(&s->regs, 0, sizeof(s->regs));
	for (i = 0; i < sizeof(vmregs) / sizeof(vmregs[0]); i++)
		s->regs.val[vmregs[i]] = vals[i];
	for (i = 0; i < sizeof(regnos) / sizeof(regnos[0]); i++) {
		n = gdb_x86_reg_encode(s->arch, &s->regs, regnos[i], buf);
		reply_fmt(s, "%02x:", regnos[i]);
		reply_hex(s, buf, n);
		reply_str(s, ";");
	}
}

/* Build the stop reply for ev. */
static void reply_stop(struct gdb_stub *s, const struct gdb_stop_event *ev)
{
	int sig = ev->signal;

	if (ev->reason == GDB_STOP_EXITED) {
		reply_fmt(s, "W%02x", ev->status & 0xff);
		return;
	}
	if (ev->reason == GDB_STOP_KILLED) {
		reply_fmt(s, "X%02x", (sig ? sig : GDB_SIGNAL_KILL) & 0xff);
		return;
	}
	if (!sig)
		sig = ev->reason == GDB_STOP_INTERRUPT ? GDB_SIGNAL_INT :
							 GDB_SIGNAL_TRAP;
	reply_fmt(s, "T%02xthread:%x;", sig & 0xff, ev->vcpu + 1);
	reply_expedite(s, ev->vcpu);
	switch (ev->reason) {
	case GDB_STOP_SWBREAK:
		if (s->swbreak)
			reply_str(s, "swbreak:;");
		break;
	case GDB_STOP_HWBREAK:
		if (s->hwbreak)
			reply_str(s, "hwbreak:;");
		break;
	case GDB_STOP_WATCH:
		reply_fmt(s, "watch:%llx;", (unsigned long long)ev->addr);
		break;
	case GDB_STOP_RWATCH:
		reply_fmt(s, "rwatch:%llx;", (unsigned long long)ev->addr);
		break;
	case GDB_STOP_AWATCH:
		reply_fmt(s, "awatch:%llx;", (unsigned long long)ev->addr);
		break;
	default:
		break;
	}
}

/* The target is stopped (or gone) because of ev: remember it for '?'. */
static void stub_stopped(struct gdb_stub *s, const struct gdb_stop_event *ev)
{
	s->last = *ev;
	if (is_exit(ev)) {
		s->run = STUB_EXITED;
		s->nbps = 0;
		return;
	}
	s->run = STUB_STOPPED;
	s->g_vcpu = ev->vcpu;
}

/* Report ev to gdb, outside any packet. */
static void stub_report(struct gdb_stub *s, const struct gdb_stop_event *ev)
{
	stub_stopped(s, ev);
	reply_reset(s);
	reply_stop(s, ev);
	send_reply(s);
}

/* Every active vCPU gets `kind`. */
static int act_all(struct gdb_stub *s, enum gdb_resume_kind kind)
{
	struct vm_cpuset set;
	int v;

	if (!stub_cpus(s, &set))
		return -EIO;
	for (v = 0; v < VM_MAXCPU; v++) {
		s->act[v].kind =
			vm_cpuset_isset(&set, v) ? kind : GDB_RESUME_STOP;
		s->act[v].signal = 0;
	}
	return 0;
}

/* Resume every vCPU (all parked) with nobody watching. */
static void stub_release(struct gdb_stub *s)
{
	int v;

	if (s->run == STUB_EXITED)
		return;
	if (act_all(s, GDB_RESUME_CONT) != 0) {
		for (v = 0; v < VM_MAXCPU; v++) {
			s->act[v].kind = GDB_RESUME_CONT;
			s->act[v].signal = 0;
		}
	}
	s->target.ops->resume(s->target.opaque, s->act, 0);
	s->run = STUB_RUNNING;
}

/* Stop (if running), remove all breakpoints, resume: gdb is leaving. */
static void stub_leave(struct gdb_stub *s)
{
	if (s->run == STUB_RUNNING)
		s->target.ops->stop_all(s->target.opaque);
	stub_collect(s);
	if (s->npending && is_exit(&s->pending[0]))
		stub_stopped(s, &s->pending[0]);
	s->npending = 0;
	bp_remove_all(s);
	stub_release(s);
}

/* Ctrl-C or vCtrlC while running: stop everything and say so. */
static void stub_interrupt(struct gdb_stub *s)
{
	struct gdb_stop_event ev = {
		.reason = GDB_STOP_INTERRUPT,
	};

	if (s->run != STUB_RUNNING)
		return;
	/* A failed stop_all is the target's to log; gdb must hear back. */
	s->target.ops->stop_all(s->target.opaque);
	stub_collect(s);
	if (!pending_take(s, s->act, &ev)) {
		ev.vcpu = stub_gcpu(s);
		if (ev.vcpu < 0)
			ev.vcpu = 0;
	}
	stub_report(s, &ev);
}

/*
 * Resume as s->act says, or report a pending event of a vCPU it would
 * run.  Returns CMD_NOREPLY when resumed, 0 with a stop reply built, or
 * -errno.
 */
static int stub_resume(struct gdb_stub *s)
{
	struct gdb_stop_event ev;
	bool any = false;
	int v, err;

	for (v = 0; v < VM_MAXCPU; v++)
		if (s->act[v].kind != GDB_RESUME_STOP)
			any = true;
	if (!any)
		return -EINVAL;
	stub_collect(s);
	stub_prune(s);
	if (pending_take(s, s->act, &ev)) {
		stub_stopped(s, &ev);
		reply_stop(s, &ev);
		return 0;
	}
	err = s->target.ops->resume(s->target.opaque, s->act, s->sstep);
	if (err)
		return err;
	s->run = STUB_RUNNING;
	return CMD_NOREPLY;
}

static int set_pc(struct gdb_stub *s, int vcpu, uint64_t pc)
{
	uint8_t buf[8];
	unsigned int regno = gdb_x86_pc_regno(s->arch);
	size_t i, n = gdb_x86_reg_size(s->arch, regno);
	int err;

	err = gdb_x86_fetch(&s->target, vcpu, &s->regs_old);
	if (err)
		return err;
	s->regs = s->regs_old;
	for (i = 0; i < n && i < sizeof(buf); i++)
		buf[i] = (uint8_t)(pc >> (8 * i));
	err = gdb_x86_reg_decode(s->arch, &s->regs, regno, buf);
	if (err)
		return err;
	return gdb_x86_store(&s->target, vcpu, &s->regs_old, &s->regs);
}

/*
 * Legacy resume packets: c, C, s, S with an optional signal and address.
 * Continue resumes every vCPU; a step steps one and leaves the others
 * parked.
 */
static int legacy_resume(struct gdb_stub *s, struct cur *a, bool step,
			 bool with_sig)
{
	uint64_t sig = 0, addr;
	int vcpu = stub_ccpu(s), err;

	if (vcpu < 0)
		return -ESRCH;
	if (with_sig) {
		if (!cur_hex(a, &sig) || sig > 255)
			return -EINVAL;
		if (!cur_eof(a) && !cur_char(a, ';'))
			return -EINVAL;
	}
	if (!cur_eof(a)) {
		if (!cur_hex(a, &addr) || !cur_eof(a))
			return -EINVAL;
		err = set_pc(s, vcpu, addr);
		if (err)
			return err;
	}
	err = act_all(s, step ? GDB_RESUME_STOP : GDB_RESUME_CONT);
	if (err)
		return err;
	s->act[vcpu].kind = step ? GDB_RESUME_STEP : GDB_RESUME_CONT;
	s->act[vcpu].signal = (uint8_t)sig;
	return stub_resume(s);
}

/* Packet handlers: each returns 0 (send the reply built, empty for
 * "unsupported"), CMD_NOREPLY, or -errno (send "E" and the errno). */

static int cmd_why(struct gdb_stub *s, struct cur *a)
{
	reply_stop(s, &s->last);
	return 0;
}

static int cmd_g(struct gdb_stub *s, struct cur *a)
{
	unsigned int i, n = gdb_x86_nregs(s->arch);
	int vcpu = stub_gcpu(s), err;
	uint8_t buf[16];

	if (vcpu < 0)
		return -ESRCH;
	err = gdb_x86_fetch(&s->target, vcpu, &s->regs);
	if (err == -EBUSY) {
		reply_unavailable(s, gdb_x86_g_size(s->arch));
		return 0;
	}
	if (err)
		return err;
	for (i = 0; i < n; i++)
		reply_hex(s, buf,
			  gdb_x86_reg_encode(s->arch, &s->regs, i, buf));
	return 0;
}

static int cmd_G(struct gdb_stub *s, struct cur *a)
{
	size_t size = gdb_x86_g_size(s->arch), off = 0;
	unsigned int i, n = gdb_x86_nregs(s->arch);
	int vcpu = stub_gcpu(s), err;

	if (vcpu < 0)
		return -ESRCH;
	if ((size_t)(a->end - a->p) != 2 * size || size > GDB_MEM_MAX)
		return -EINVAL;
	if (gdb_hex_decode(s->scratch, a->p, 2 * size) < 0)
		return -EINVAL;
	err = gdb_x86_fetch(&s->target, vcpu, &s->regs_old);
	if (err)
		return err;
	s->regs = s->regs_old;
	for (i = 0; i < n; i++) {
		err = gdb_x86_reg_decode(s->arch, &s->regs, i,
					 s->scratch + off);
		if (err)
			return err;
		off += gdb_x86_reg_size(s->arch, i);
	}
	err = gdb_x86_store(&s->target, vcpu, &s->regs_old, &s->regs);
	if (err)
		return err;
	reply_str(s, "OK");
	return 0;
}

static int cmd_p(struct gdb_stub *s, struct cur *a)
{
	int vcpu = stub_gcpu(s), err;
	uint8_t buf[16];
	uint64_t regno;
	size_t n;

	if (!cur_hex(a, &regno) || !cur_eof(a) ||
	    regno >= gdb_x86_nregs(s->arch))
		return -EINVAL;
	if (vcpu < 0)
		return -ESRCH;
	err = gdb_x86_fetch(&s->target, vcpu, &s->regs);
	if (err == -EBUSY) {
		reply_unavailable(
			s, gdb_x86_reg_size(s->arch, (unsigned int)regno));
		return 0;
	}
	if (err)
		return err;
	n = gdb_x86_reg_encode(s->arch, &s->regs, (unsigned int)regno, buf);
	reply_hex(s, buf, n);
	return 0;
}

static int cmd_P(struct gdb_stub *s, struct cur *a)
{
	int vcpu = stub_gcpu(s), err;
	uint8_t buf[16];
	uint64_t regno;
	size_t n;

	if (!cur_hex(a, &regno) || !cur_char(a, '=') ||
	    regno >= gdb_x86_nregs(s->arch))
		return -EINVAL;
	n = gdb_x86_reg_size(s->arch, (unsigned int)regno);
	if ((size_t)(a->end - a->p) != 2 * n ||
	    gdb_hex_decode(buf, a->p, 2 * n) < 0)
		return -EINVAL;
	if (vcpu < 0)
		return -ESRCH;
	err = gdb_x86_fetch(&s->target, vcpu, &s->regs_old);
	if (err)
		return err;
	s->regs = s->regs_old;
	err = gdb_x86_reg_decode(s->arch, &s->regs, (unsigned int)regno, buf);
	if (err)
		return err;
	err = gdb_x86_store(&s->target, vcpu, &s->regs_old, &s->regs);
	if (err)
		return err;
	reply_str(s, "OK");
	return 0;
}

static unsigned int mem_flags(const struct gdb_stub *s)
{
	return s->phys ? GDB_MEM_PHYS : 0;
}

/* ADDR,LEN */
static bool parse_addr_len(struct cur *a, uint64_t *addr, uint64_t *len)
{
	return cur_hex(a, addr) && cur_char(a, ',') && cur_hex(a, len);
}

static int cmd_m(struct gdb_stub *s, struct cur *a)
{
	int vcpu = stub_gcpu(s);
	uint64_t addr, len;
	ssize_t n;

	if (!parse_addr_len(a, &addr, &len) || !cur_eof(a))
		return -EINVAL;
	if (vcpu < 0)
		return -ESRCH;
	if (len == 0)
		return 0;
	/* A shorter reply is allowed; gdb asks again for the rest. */
	if (len > GDB_MEM_MAX)
		len = GDB_MEM_MAX;
	n = s->target.ops->mem_read(s->target.opaque, vcpu, addr, s->scratch,
				    len, mem_flags(s));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EFAULT;
	reply_hex(s, s->scratch, (size_t)n > len ? len : (size_t)n);
	return 0;
}

static int mem_write(struct gdb_stub *s, int vcpu, uint64_t addr, size_t len)
{
	ssize_t n;

	if (len == 0) {
		reply_str(s, "OK");
		return 0;
	}
	n = s->target.ops->mem_write(s->target.opaque, vcpu, addr, s->scratch,
				     len, mem_flags(s));
	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -EFAULT;
	reply_str(s, "OK");
	return 0;
}

static int cmd_M(struct gdb_stub *s, struct cur *a)
{
	int vcpu = stub_gcpu(s);
	uint64_t addr, len;

	if (!parse_addr_len(a, &addr, &len) || !cur_char(a, ':'))
		return -EINVAL;
	if (len > GDB_MEM_MAX || (uint64_t)(a->end - a->p) != 2 * len ||
	    gdb_hex_decode(s->scratch, a->p, 2 * len) < 0)
		return -EINVAL;
	if (vcpu < 0)
		return -ESRCH;
	return mem_write(s, vcpu, addr, len);
}

static int cmd_X(struct gdb_stub *s, struct cur *a)
{
	int vcpu = stub_gcpu(s);
	uint64_t addr, len;
	ssize_t n;

	if (!parse_addr_len(a, &addr, &len) || !cur_char(a, ':'))
		return -EINVAL;
	/* Binary data is a byte per byte: up to a whole packet of it. */
	if (len > GDB_PACKET_SIZE)
		return -EINVAL;
	n = gdb_bin_decode(s->scratch, GDB_PACKET_SIZE, a->p,
			   (size_t)(a->end - a->p));
	if (n < 0 || (uint64_t)n != len)
		return -EINVAL;
	if (vcpu < 0)
		return -ESRCH;
	return mem_write(s, vcpu, addr, len);
}

static int cmd_c(struct gdb_stub *s, struct cur *a)
{
	return legacy_resume(s, a, false, false);
}

static int cmd_C(struct gdb_stub *s, struct cur *a)
{
	return legacy_resume(s, a, false, true);
}

static int cmd_s(struct gdb_stub *s, struct cur *a)
{
	return legacy_resume(s, a, true, false);
}

static int cmd_S(struct gdb_stub *s, struct cur *a)
{
	return legacy_resume(s, a, true, true);
}

static int cmd_vcont_query(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, "vCont;c;C;s;S;t");
	return 0;
}

/* ;ACTION[:TID] ..., the leftmost action matching a thread applies. */
static int cmd_vcont(struct gdb_stub *s, struct cur *a)
{
	struct vm_cpuset set, done;
	int v;

	if (!stub_cpus(s, &set))
		return -EIO;
	memset(&done, 0, sizeof(done));
	for (v = 0; v < VM_MAXCPU; v++) {
		s->act[v].kind = GDB_RESUME_STOP;
		s->act[v].signal = 0;
	}
	do {
		enum gdb_resume_kind kind;
		uint64_t sig = 0;
		long tid = -1;
		int only = -1;

		if (!cur_char(a, ';'))
			return -EINVAL;
		if (cur_char(a, 'c')) {
			kind = GDB_RESUME_CONT;
		} else if (cur_char(a, 's')) {
			kind = GDB_RESUME_STEP;
		} else if (cur_char(a, 't')) {
			kind = GDB_RESUME_STOP;
		} else if (cur_char(a, 'C')) {
			kind = GDB_RESUME_CONT;
			if (!cur_hex(a, &sig) || sig > 255)
				return -EINVAL;
		} else if (cur_char(a, 'S')) {
			kind = GDB_RESUME_STEP;
			if (!cur_hex(a, &sig) || sig > 255)
				return -EINVAL;
		} else {
			return -EINVAL; /* including r, range stepping */
		}
		if (cur_char(a, ':')) {
			if (!cur_tid(a, &tid))
				return -EINVAL;
			if (tid == 0)
				only = cpuset_first(&set);
			else if (tid > 0)
				only = tid_to_cpu(s, tid);
			if (tid != -1 && only < 0)
				return -ESRCH;
		}
		for (v = 0; v < VM_MAXCPU; v++) {
			if (!vm_cpuset_isset(&set, v) ||
			    vm_cpuset_isset(&done, v) ||
			    (only >= 0 && v != only))
				continue;
			vm_cpuset_set(&done, v);
			s->act[v].kind = kind;
			s->act[v].signal = (uint8_t)sig;
		}
	} while (!cur_eof(a));
	return stub_resume(s);
}

static int cmd_vctrlc(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, "OK");
	send_reply(s);
	stub_interrupt(s);
	return CMD_NOREPLY;
}

/* TYPE,ADDR,KIND */
static int parse_bp(struct cur *a, enum gdb_bp_type *type, uint64_t *addr,
		    uint64_t *len)
{
	uint64_t t;

	if (!cur_hex(a, &t) || !cur_char(a, ',') ||
	    !parse_addr_len(a, addr, len))
		return -EINVAL;
	/* Conditions and commands (";X...") are not offered in qSupported. */
	if (!cur_eof(a) || *len == 0)
		return -EINVAL;
	if (t >= GDB_BP_TYPES)
		return -EOPNOTSUPP;
	*type = (enum gdb_bp_type)t;
	return 0;
}

static int cmd_Z(struct gdb_stub *s, struct cur *a)
{
	enum gdb_bp_type type;
	uint64_t addr, len;
	struct gdb_bp *bp;
	int err, vcpu;

	err = parse_bp(a, &type, &addr, &len);
	if (err == -EOPNOTSUPP)
		return 0;
	if (err)
		return err;
	if (bp_find(s, type, addr, len)) {
		reply_str(s, "OK"); /* Z is idempotent */
		return 0;
	}
	if (s->nbps == GDB_STUB_MAX_BREAKPOINTS)
		return -ENOSPC;
	if (s->nbps == s->bps_cap) {
		size_t cap = s->bps_cap ? 2 * s->bps_cap : 16;

		bp = realloc(s->bps, cap * sizeof(*bp));
		if (!bp)
			return -ENOMEM;
		s->bps = bp;
		s->bps_cap = cap;
	}
	vcpu = stub_gcpu(s);
	if (vcpu < 0)
		return -ESRCH;
	err = s->target.ops->bp_insert(s->target.opaque, vcpu, type, addr, len);
	if (err == -EOPNOTSUPP || err == -ENOSYS)
		return 0;
	if (err)
		return err;
	s->bps[s->nbps++] = (struct gdb_bp){ type, addr, len, vcpu };
	reply_str(s, "OK");
	return 0;
}

static int cmd_z(struct gdb_stub *s, struct cur *a)
{
	enum gdb_bp_type type;
	uint64_t addr, len;
	struct gdb_bp *bp;
	int err;

	err = parse_bp(a, &type, &addr, &len);
	if (err == -EOPNOTSUPP)
		return 0;
	if (err)
		return err;
	bp = bp_find(s, type, addr, len);
	if (bp) {
		err = s->target.ops->bp_remove(s->target.opaque, bp->vcpu, type,
					       addr, len);
		if (err)
			return err;
		*bp = s->bps[--s->nbps];
	}
	reply_str(s, "OK");
	return 0;
}

/* H{g|c}TID */
static int cmd_H(struct gdb_stub *s, struct cur *a)
{
	bool g = cur_char(a, 'g');
	long tid;
	int vcpu;

	if (!g && !cur_char(a, 'c'))
		return -EINVAL;
	if (!cur_tid(a, &tid) || !cur_eof(a))
		return -EINVAL;
	if (tid <= 0) {
		vcpu = -1; /* any, or all */
	} else {
		vcpu = tid_to_cpu(s, tid);
		if (vcpu < 0)
			return vcpu;
	}
	if (g)
		s->g_vcpu = vcpu < 0 ? stub_gcpu(s) : vcpu;
	else
		s->c_vcpu = vcpu;
	reply_str(s, "OK");
	return 0;
}

static int cmd_T(struct gdb_stub *s, struct cur *a)
{
	long tid;
	int vcpu;

	if (!cur_tid(a, &tid) || !cur_eof(a))
		return -EINVAL;
	vcpu = tid_to_cpu(s, tid);
	if (vcpu < 0)
		return vcpu;
	reply_str(s, "OK");
	return 0;
}

static int cmd_qfthreadinfo(struct gdb_stub *s, struct cur *a)
{
	struct vm_cpuset set;
	char sep = 'm';
	int v;

	if (!stub_cpus(s, &set))
		return -EIO;
	for (v = 0; v < VM_MAXCPU; v++) {
		if (!vm_cpuset_isset(&set, v))
			continue;
		reply_fmt(s, "%c%x", sep, v + 1);
		sep = ',';
	}
	if (sep == 'm')
		reply_str(s, "l");
	return 0;
}

static int cmd_qsthreadinfo(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, "l");
	return 0;
}

static int cmd_qC(struct gdb_stub *s, struct cur *a)
{
	int vcpu = stub_gcpu(s);

	if (vcpu < 0)
		return -ESRCH;
	reply_fmt(s, "QC%x", vcpu + 1);
	return 0;
}

static int cmd_qthreadextrainfo(struct gdb_stub *s, struct cur *a)
{
	char buf[256];
	long tid;
	int vcpu;

	if (!cur_tid(a, &tid) || !cur_eof(a))
		return -EINVAL;
	vcpu = tid_to_cpu(s, tid);
	if (vcpu < 0)
		return vcpu;
	buf[0] = '\0';
	if (!s->target.ops->cpu_describe ||
	    s->target.ops->cpu_describe(s->target.opaque, vcpu, buf,
					sizeof(buf)) != 0 ||
	    buf[0] == '\0')
		snprintf(buf, sizeof(buf), "vCPU %d", vcpu);
	buf[sizeof(buf) - 1] = '\0';
	reply_hex(s, buf, strlen(buf));
	return 0;
}

static int cmd_qattached(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, "1"); /* attached to an existing process: keep it alive */
	return 0;
}

/*
 * qOffsets: the kernel's slide, for text, data and bss alike.  A target
 * that cannot tell gets the empty reply (gdb keeps the link addresses)
 * rather than an error, which gdb would print at every connection.
 */
static int cmd_qoffsets(struct gdb_stub *s, struct cur *a)
{
	uint64_t slide;
	char buf[80];

	if (!s->target.ops->offsets ||
	    s->target.ops->offsets(s->target.opaque, &slide) < 0)
		return 0;
	snprintf(buf, sizeof(buf),
		 "Text=%" PRIx64 ";Data=%" PRIx64 ";Bss=%" PRIx64, slide, slide,
		 slide);
	reply_str(s, buf);
	return 0;
}

/* qSupported[:FEATURE[;FEATURE]...] */
static int cmd_qsupported(struct gdb_stub *s, struct cur *a)
{
	s->swbreak = false;
	s->hwbreak = false;
	if (cur_char(a, ':')) {
		while (!cur_eof(a)) {
			const char *start = a->p;
			size_t n;

			while (a->p < a->end && *a->p != ';')
				a->p++;
			n = (size_t)(a->p - start);
			if (n == 8 && memcmp(start, "swbreak+", 8) == 0)
				s->swbreak = true;
			if (n == 8 && memcmp(start, "hwbreak+", 8) == 0)
				s->hwbreak = true;
			cur_char(a, ';');
		}
	}
	reply_fmt(s,
		  "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;"
		  "swbreak+;hwbreak+;vContSupported+",
		  GDB_PACKET_SIZE);
	return 0;
}

static int cmd_qstartnoackmode(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, "OK");
	send_reply(s);
	/* The OK above was the last packet gdb acknowledges. */
	s->noack = true;
	return CMD_NOREPLY;
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static int cmd_qxfer_features(struct gdb_stub *s, struct cur *a)
{
	uint64_t off, len;
	size_t used, n;

	if (!cur_prefix(a, "target.xml:") || !parse_addr_len(a, &off, &len) ||
	    !cur_eof(a)) {
		reply_str(s, "E00"); /* malformed, or an annex we lack */
		return 0;
	}
	if (off >= s->xml_len) {
		reply_str(s, "l");
		return 0;
	}
	if (len > GDB_PACKET_SIZE - 1)
		len = GDB_PACKET_SIZE - 1;
	if (len > s->xml_len - off)
		len = s->xml_len - off;
	reply_str(s, "m");
	n = gdb_bin_encode(s->reply + 1, len, s->xml + off, len, &used);
	s->reply_len += n;
	if (off + used == s->xml_len)
		s->reply[0] = 'l';
	return 0;
}

/* Send text as O packets (the console output of qRcmd). */
static void send_output(struct gdb_stub *s, const char *text)
{
	size_t len = strlen(text), off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < GDB_O_CHUNK ? len - off : GDB_O_CHUNK;
		reply_reset(s);
		reply_str(s, "O");
		reply_hex(s, text + off, n);
		send_reply(s);
	}
}

static const char monitor_help[] =
	"phys [on|off]  m/M/X use guest-physical addresses (or linear ones)\n"
	"help           this list\n";

/* Built-in monitor commands; false when line is not one. */
static bool monitor_builtin(struct gdb_stub *s, const char *line)
{
	char *out = NULL;

	if (strcmp(line, "help") == 0) {
		send_output(s, monitor_help);
		if (s->target.ops->monitor &&
		    s->target.ops->monitor(s->target.opaque, line, &out) == 0 &&
		    out)
			send_output(s, out);
		free(out);
		return true;
	}
	if (strcmp(line, "phys") == 0) {
		send_output(s, s->phys ? "physical memory mode is on\n" :
					 "physical memory mode is off\n");
		return true;
	}
	if (strcmp(line, "phys on") == 0 || strcmp(line, "phys off") == 0) {
		s->phys = line[6] == 'n';
		send_output(s, s->phys ? "physical memory mode on\n" :
					 "physical memory mode off\n");
		return true;
	}
	return false;
}

/* qRcmd,HEX */
static int cmd_qrcmd(struct gdb_stub *s, struct cur *a)
{
	char *line = (char *)s->scratch, *out = NULL;
	size_t hexlen = (size_t)(a->end - a->p);
	ssize_t n;
	int err;

	if (hexlen / 2 >= GDB_MEM_MAX)
		return -EINVAL;
	n = gdb_hex_decode(line, a->p, hexlen);
	if (n < 0 || memchr(line, '\0', (size_t)n))
		return -EINVAL;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	line[n] = '\0';
	while (*line == ' ')
		line++;
	if (*line == '\0' || monitor_builtin(s, line)) {
		reply_reset(s);
		reply_str(s, "OK");
		return 0;
	}
	err = s->target.ops->monitor ?
		      s->target.ops->monitor(s->target.opaque, line, &out) :
		      -ENOENT;
	if (err == -ENOENT) {
		char msg[160];

		snprintf(
			msg, sizeof(msg),
			"unknown monitor command '%.80s' (try 'monitor help')\n",
			line);
		send_output(s, msg);
		err = 0;
	} else if (out) {
		send_output(s, out);
	}
	free(out);
	reply_reset(s);
	if (err)
		return err;
	reply_str(s, "OK");
	return 0;
}

static int cmd_qqemu_supported(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, "sstepbits;sstep;PhyMemMode");
	return 0;
}

static int cmd_qqemu_sstepbits(struct gdb_stub *s, struct cur *a)
{
	reply_fmt(s, "ENABLE=%x", GDB_SSTEP_ENABLE);
	if (s->sstep_supported & GDB_SSTEP_NOIRQ)
		reply_fmt(s, ",NOIRQ=%x", GDB_SSTEP_NOIRQ);
	if (s->sstep_supported & GDB_SSTEP_NOTIMER)
		reply_fmt(s, ",NOTIMER=%x", GDB_SSTEP_NOTIMER);
	return 0;
}

static int cmd_qqemu_sstep(struct gdb_stub *s, struct cur *a)
{
	reply_fmt(s, "0x%x", s->sstep);
	return 0;
}

/* Qqemu.sstep=HEX (or :HEX), with an optional 0x */
static int cmd_Qqemu_sstep(struct gdb_stub *s, struct cur *a)
{
	uint64_t v;

	if (!cur_char(a, '=') && !cur_char(a, ':'))
		return -EINVAL;
	cur_prefix(a, "0x");
	if (!cur_hex(a, &v) || !cur_eof(a) || (v & ~s->sstep_supported))
		return -EINVAL;
	s->sstep = (unsigned int)v;
	reply_str(s, "OK");
	return 0;
}

static int cmd_qqemu_phymemmode(struct gdb_stub *s, struct cur *a)
{
	reply_str(s, s->phys ? "1" : "0");
	return 0;
}

/* Qqemu.PhyMemMode:0|1 */
static int cmd_Qqemu_phymemmode(struct gdb_stub *s, struct cur *a)
{
	bool on;

	if (!cur_char(a, ':'))
		return -EINVAL;
	if (cur_char(a, '1'))
		on = true;
	else if (cur_char(a, '0'))
		on = false;
	else
		return -EINVAL;
	if (!cur_eof(a))
		return -EINVAL;
	s->phys = on;
	reply_str(s, "OK");
	return 0;
}

/* D[;PID] */
static int cmd_D(struct gdb_stub *s, struct cur *a)
{
	uint64_t pid;

	if (!cur_eof(a) &&
	    (!cur_char(a, ';') || !cur_hex(a, &pid) || !cur_eof(a)))
		return -EINVAL;
	stub_leave(s);
	reply_str(s, "OK");
	send_reply(s);
	s->active = false;
	return CMD_NOREPLY;
}

static void stub_kill(struct gdb_stub *s)
{
	if (s->run == STUB_RUNNING)
		s->target.ops->stop_all(s->target.opaque);
	bp_remove_all(s);
	if (s->target.ops->kill)
		s->target.ops->kill(s->target.opaque);
	s->run = STUB_EXITED;
	s->last = (struct gdb_stop_event){ .reason = GDB_STOP_KILLED,
					   .signal = GDB_SIGNAL_KILL };
	s->npending = 0;
}

/* k: no reply; gdb closes the connection. */
static int cmd_k(struct gdb_stub *s, struct cur *a)
{
	stub_kill(s);
	s->active = false;
	return CMD_NOREPLY;
}

/* vKill;PID */
static int cmd_vkill(struct gdb_stub *s, struct cur *a)
{
	stub_kill(s);
	reply_str(s, "OK");
	send_reply(s);
	s->active = false;
	return CMD_NOREPLY;
}

/* The packet table */

#define CMD_EXACT 0x1 /* the payload is the name alone */
#define CMD_LIVE 0x2 /* needs the VM stopped and not gone */
#define CMD_ANYTIME 0x4 /* allowed while the VM runs */

struct gdb_cmd {
	const char *name; /* the payload starts with this */
	unsigned int flags; /* CMD_* */
	int (*fn)(struct gdb_stub *s, struct cur *args);
};

/*
 * The packets, matched in order on the start of the payload.  In the
 * grammar ADDR, LEN, N and SIG are hex numbers, TID a thread id (hex, 0
 * for any, -1 for all), HEX hex-encoded bytes, BIN '}'-escaped binary.
 * Anything else gets the empty reply that tells gdb "not supported".
 */
static const struct gdb_cmd gdb_cmds[] = {
	/* ?                       why the target stopped (a stop reply) */
	{ "?", CMD_EXACT, cmd_why },
	/* g                       all registers, the layout of target.xml */
	{ "g", CMD_EXACT | CMD_LIVE, cmd_g },
	/* G HEX                   write all registers */
	{ "G", CMD_LIVE, cmd_G },
	/* p N                     one register */
	{ "p", CMD_LIVE, cmd_p },
	/* P N=HEX                 write one register */
	{ "P", CMD_LIVE, cmd_P },
	/* m ADDR,LEN              read memory (a shorter reply: partial) */
	{ "m", CMD_LIVE, cmd_m },
	/* M ADDR,LEN:HEX          write memory */
	{ "M", CMD_LIVE, cmd_M },
	/* X ADDR,LEN:BIN          write memory, binary */
	{ "X", CMD_LIVE, cmd_X },
	/* c [ADDR]                continue every vCPU */
	{ "c", CMD_LIVE, cmd_c },
	/* C SIG[;ADDR]            continue, the Hc thread with a signal */
	{ "C", CMD_LIVE, cmd_C },
	/* s [ADDR]                step the Hc (else Hg) thread only */
	{ "s", CMD_LIVE, cmd_s },
	/* S SIG[;ADDR]            step with a signal */
	{ "S", CMD_LIVE, cmd_S },
	/* vCont?                  the vCont actions supported */
	{ "vCont?", CMD_EXACT, cmd_vcont_query },
	/* vCont;ACT[:TID]...      ACT: c, s, t, CSIG, SSIG; leftmost wins */
	{ "vCont", CMD_LIVE, cmd_vcont },
	/* vCtrlC                  interrupt: OK, then a stop reply */
	{ "vCtrlC", CMD_EXACT | CMD_ANYTIME, cmd_vctrlc },
	/* vKill;PID               power off, reply OK */
	{ "vKill;", CMD_ANYTIME, cmd_vkill },
	/* Z TYPE,ADDR,KIND        insert: 0 sw, 1 hw break; 2 w, 3 r, 4 a */
	{ "Z", CMD_LIVE, cmd_Z },
	/* z TYPE,ADDR,KIND        remove */
	{ "z", CMD_LIVE, cmd_z },
	/* H g|c TID               thread for registers and memory | c/s */
	{ "H", 0, cmd_H },
	/* T TID                   is the thread alive */
	{ "T", 0, cmd_T },
	/* qfThreadInfo            mTID,TID,... then qsThreadInfo: l */
	{ "qfThreadInfo", CMD_EXACT, cmd_qfthreadinfo },
	{ "qsThreadInfo", CMD_EXACT, cmd_qsthreadinfo },
	/* qC                      QC TID: the current thread */
	{ "qC", CMD_EXACT, cmd_qC },
	/* qThreadExtraInfo,TID    HEX of "vCPU 1, halted, long mode..." */
	{ "qThreadExtraInfo,", 0, cmd_qthreadextrainfo },
	/* qAttached[:PID]         1: attached to a running machine */
	{ "qAttached", 0, cmd_qattached },
	/* qOffsets                Text=SLIDE;Data=SLIDE;Bss=SLIDE (KASLR) */
	{ "qOffsets", CMD_EXACT, cmd_qoffsets },
	/* qSupported[:FEAT;...]   features, both ways */
	{ "qSupported", 0, cmd_qsupported },
	/* QStartNoAckMode         OK, then no more +/- */
	{ "QStartNoAckMode", CMD_EXACT, cmd_qstartnoackmode },
	/* qXfer:features:read:target.xml:OFF,LEN   m|l BIN */
	{ "qXfer:features:read:", 0, cmd_qxfer_features },
	/* qRcmd,HEX               monitor command: O HEX..., then OK */
	{ "qRcmd,", 0, cmd_qrcmd },
	/* QEMU's extensions, for existing scripts */
	{ "qqemu.Supported", CMD_EXACT, cmd_qqemu_supported },
	{ "qqemu.sstepbits", CMD_EXACT, cmd_qqemu_sstepbits },
	{ "qqemu.sstep", CMD_EXACT, cmd_qqemu_sstep },
	/* Qqemu.sstep=HEX         step flags (GDB_SSTEP_*) */
	{ "Qqemu.sstep", 0, cmd_Qqemu_sstep },
	{ "qqemu.PhyMemMode", CMD_EXACT, cmd_qqemu_phymemmode },
	/* Qqemu.PhyMemMode:0|1    like monitor phys off|on */
	{ "Qqemu.PhyMemMode", 0, cmd_Qqemu_phymemmode },
	/* D[;PID]                 detach: remove all breakpoints, resume, OK */
	{ "D", CMD_ANYTIME, cmd_D },
	/* k                       power off; no reply */
	{ "k", CMD_EXACT | CMD_ANYTIME, cmd_k },
};

static const struct gdb_cmd *cmd_lookup(const char *pkt, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(gdb_cmds) / sizeof(gdb_cmds[0]); i++) {
		const struct gdb_cmd *c = &gdb_cmds[i];

		n = strlen(c->name);
		if (len < n || memcmp(pkt, c->name, n) != 0)
			continue;
		if ((c->flags & CMD_EXACT) && len != n)
			continue;
		return c;
	}
	return NULL;
}

static void stub_packet(struct gdb_stub *s)
{
	const char *pkt = (const char *)s->rx.buf;
	const struct gdb_cmd *cmd;
	struct cur args;
	int ret;

	if (!s->noack) {
		/* With no-ack a bad packet is taken as is: nobody resends. */
		if (s->rx.bad_checksum || s->rx.bad_encoding) {
			stub_write(s, "-", 1);
			return;
		}
		s->ack_pending = true;
	}
	reply_reset(s);
	cmd = cmd_lookup(pkt, s->rx.len);
	if (s->rx.overlong) {
		ret = -EMSGSIZE;
	} else if (!cmd) {
		ret = 0;
	} else if (s->run == STUB_RUNNING && !(cmd->flags & CMD_ANYTIME)) {
		ret = -EBUSY;
	} else if (s->run == STUB_EXITED && (cmd->flags & CMD_LIVE)) {
		ret = -ESRCH;
	} else {
		args.p = pkt + strlen(cmd->name);
		args.end = pkt + s->rx.len;
		ret = cmd->fn(s, &args);
	}
	if (ret < 0) {
		reply_error(s, ret);
		send_reply(s);
	} else if (ret == 0) {
		send_reply(s);
	}
	send_ack(s);
}

void gdb_stub_input(struct gdb_stub *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	enum gdb_rx_event ev;
	size_t n;

	while (len > 0 && s->active) {
		n = gdb_rx_feed(&s->rx, p, len, &ev);
		p += n;
		len -= n;
		switch (ev) {
		case GDB_RX_NONE:
			break;
		case GDB_RX_ACK:
			s->tx_len = 0;
			break;
		case GDB_RX_NACK:
			if (!s->noack && s->tx_len)
				stub_write(s, s->tx + 1, s->tx_len);
			break;
		case GDB_RX_INTERRUPT:
			stub_interrupt(s);
			break;
		case GDB_RX_PACKET:
			stub_packet(s);
			break;
		}
	}
}

void gdb_stub_poll(struct gdb_stub *s)
{
	struct gdb_stop_event ev;

	gdb_events_clear(s->events);
	stub_collect(s);
	if (!s->active) {
		/* Nobody to tell: a vCPU that parked itself must run on. */
		if (s->npending && is_exit(&s->pending[0])) {
			stub_stopped(s, &s->pending[0]);
		} else if (s->npending && s->run != STUB_EXITED) {
			s->target.ops->stop_all(s->target.opaque);
			stub_collect(s);
			stub_release(s);
		}
		pending_clear(s);
		return;
	}
	/* Only a vCPU the last resume let run can have stopped since. */
	if (s->run != STUB_RUNNING || !pending_take(s, s->act, &ev))
		return;
	if (!is_exit(&ev)) {
		s->target.ops->stop_all(s->target.opaque);
		stub_collect(s);
	}
	stub_report(s, &ev);
}

int gdb_stub_attach(struct gdb_stub *s)
{
	int err, v;

	if (s->active)
		return -EBUSY;
	gdb_rx_reset(&s->rx);
	s->tx_len = 0;
	s->ack_pending = false;
	s->noack = false;
	s->swbreak = false;
	s->hwbreak = false;
	s->phys = false;
	s->sstep = s->sstep_supported;
	s->c_vcpu = -1;
	s->nbps = 0;
	stub_collect(s);
	if (s->npending && is_exit(&s->pending[0]))
		stub_stopped(s, &s->pending[0]);
	s->npending = 0;
	if (s->run != STUB_EXITED) {
		err = s->target.ops->stop_all(s->target.opaque);
		if (err)
			return err;
		/* Whatever vCPUs reported before the attach is history. */
		stub_collect(s);
		pending_clear(s);
		v = first_cpu(s);
		s->last = (struct gdb_stop_event){ .reason = GDB_STOP_SIGNAL,
						   .vcpu = v < 0 ? 0 : v,
						   .signal = GDB_SIGNAL_TRAP };
		s->run = STUB_STOPPED;
		s->g_vcpu = s->last.vcpu;
	}
	s->active = true;
	return 0;
}

void gdb_stub_detach(struct gdb_stub *s)
{
	if (!s->active)
		return;
	stub_leave(s);
	s->active = false;
}

bool gdb_stub_active(const struct gdb_stub *s)
{
	return s->active;
}

bool gdb_stub_running(const struct gdb_stub *s)
{
	return s->active && s->run == STUB_RUNNING;
}

struct gdb_stub *gdb_stub_create(const struct gdb_target *t,
				 struct gdb_events *q,
				 enum gdb_x86_layout layout,
				 gdb_stub_write_fn write, void *write_opaque)
{
	const struct gdb_x86_desc *arch = gdb_x86_desc_get(layout);
	struct gdb_stub *s;
	int err;

	if (!arch || !t || !t->ops || !q || !t->ops->cpus ||
	    !t->ops->stop_all || !t->ops->resume || !t->ops->regs_get ||
	    !t->ops->regs_set || !t->ops->mem_read || !t->ops->mem_write ||
	    !t->ops->bp_insert || !t->ops->bp_remove) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->target = *t;
	s->events = q;
	s->arch = arch;
	s->write = write;
	s->write_opaque = write_opaque;
	s->run = STUB_RUNNING;
	s->g_vcpu = -1;
	s->c_vcpu = -1;
	s->sstep_supported = GDB_SSTEP_ENABLE;
	if (t->ops->step_flags)
		s->sstep_supported |= t->ops->step_flags(t->opaque) &
				      (GDB_SSTEP_NOIRQ | GDB_SSTEP_NOTIMER);
	s->sstep = s->sstep_supported;
	err = gdb_rx_init(&s->rx, GDB_PACKET_SIZE);
	s->xml = gdb_x86_xml(arch, &s->xml_len);
	s->reply = malloc(GDB_PACKET_SIZE);
	s->tx = malloc(GDB_PACKET_SIZE + 5);
	s->scratch = malloc(GDB_PACKET_SIZE + 1);
	if (err || !s->xml || !s->reply || !s->tx || !s->scratch) {
		gdb_stub_destroy(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void gdb_stub_destroy(struct gdb_stub *s)
{
	if (!s)
		return;
	if (s->active)
		gdb_stub_detach(s);
	gdb_rx_fini(&s->rx);
	free(s->xml);
	free(s->reply);
	free(s->tx);
	free(s->scratch);
	free(s->bps);
	free(s);
}
