/*
 * introspect/cmd_debug.c: break, watch and on - the console's
 * breakpoints, watchpoints and event hooks, over the monitor's debug core
 * (monitor/debug/debug.h) through libvmmapi, and the console's handling
 * of the VM's events (isp_dbg_event).
 *
 * The core owns breakpoints and watchpoints, counted per owner; the
 * console is one owner (isp->info.owner) and keeps its own numbered list
 * (struct isp_dbg) on top.  Two console entries of the same kind, address
 * and length are one reference in the core, removed with the last.
 *
 * Events.  A BREAKPOINT or WATCHPOINT event whose owners include the
 * console is a hit of the console's entries at that address: their hit
 * counts go up and their callbacks run, then the `on` hooks.  The core
 * has stopped every vCPU then, and closes the batch with a STOP (or STEP)
 * event of the same vCPU; at that event the console resumes the VM when
 * every hit of the batch had a callback that returned 0 and no other
 * owner (gdb) shares the hit.  Hooks never resume.  A failing callback or
 * hook is reported (isp_report) and disabled; the VM then stays stopped.
 * Scripts run at global level with the event dict appended (Tcl's
 * command-prefix convention), never nested: an event that comes while one
 * runs (its script called update, vwait, or waited on the VM) is queued
 * and handled after it.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "introspect/isp_int.h"

#define DBG_QUEUE_MAX 256 /* events queued while a script runs */

/* A breakpoint or watchpoint of the console. */
struct dbg_point {
	struct dbg_point *next; /* in id order */
	int id;
	bool watch; /* a watchpoint (watch), else a breakpoint */
	enum vm_dbg_bp_type type;
	uint64_t addr; /* linear */
	uint64_t len; /* 1 for breakpoints */
	int cpu; /* whose paging translated addr */
	uint64_t hits;
	Tcl_Obj *cmd; /* the callback, or NULL */
	bool enabled; /* false once its callback failed */
};

/* An `on` hook. */
struct dbg_hook {
	struct dbg_hook *next; /* in id order */
	int id;
	uint32_t type; /* enum vm_event_type, 0 for any */
	int cpu; /* -1 for any */
	bool has_addr;
	uint64_t addr;
	Tcl_Obj *script;
	bool enabled; /* false once it failed */
	uint64_t runs;
};

struct isp_dbg {
	struct dbg_point *points;
	struct dbg_hook *hooks;
	int next_point; /* the next breakpoint or watchpoint id */
	int next_hook; /* the next hook id */
	int depth; /* > 0 while events are handled (scripts may run) */
	bool gone; /* detached while handling: freed when depth drops */
	struct vm_event queue[DBG_QUEUE_MAX]; /* events that came meanwhile */
	int qhead, qlen;
	unsigned int qlost; /* events the queue had no room for */
	int batch_cpu; /* the vCPU whose hits wait for its STOP, or -1 */
	bool batch_resume; /* resume at that STOP */
};

static const char *const ev_names[VM_EVENT_MAX] = {
	[0] = "any",
	[VM_EVENT_STOP] = "stop",
	[VM_EVENT_BREAKPOINT] = "breakpoint",
	[VM_EVENT_WATCHPOINT] = "watchpoint",
	[VM_EVENT_STEP] = "step",
	[VM_EVENT_RESUME] = "resume",
	[VM_EVENT_END] = "end",
	[VM_EVENT_MESSAGE] = "message",
	[VM_EVENT_TRACE] = "trace",
};

static const char *const kind_names[VM_DBG_BP_TYPES] = {
	[VM_DBG_BP_SW] = "sw",	       [VM_DBG_BP_HW] = "hw",
	[VM_DBG_WP_WRITE] = "write",   [VM_DBG_WP_READ] = "read",
	[VM_DBG_WP_ACCESS] = "access",
};

static bool is_hit(const struct vm_event *ev)
{
	return ev->type == VM_EVENT_BREAKPOINT ||
	       ev->type == VM_EVENT_WATCHPOINT;
}

static void dict_put(Tcl_Obj *d, const char *key, Tcl_Obj *val)
{
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj(key, -1), val);
}

Tcl_Obj *isp_event_dict(const struct vm_event *ev)
{
	Tcl_Obj *d = Tcl_NewDictObj();
	Tcl_Obj *owners = Tcl_NewListObj(0, NULL);
	const char *name = ev->type > 0 && ev->type < VM_EVENT_MAX ?
				   ev_names[ev->type] :
				   "unknown";
	const char *kind = "";

	if (is_hit(ev)) {
		if (ev->kind < VM_DBG_BP_TYPES)
			kind = kind_names[ev->kind];
		for (int i = 0; i < VM_DBG_OWNER_MAX; i++)
			if (ev->owners & (1ull << i))
				Tcl_ListObjAppendElement(NULL, owners,
							 Tcl_NewIntObj(i));
	}
	dict_put(d, "event", Tcl_NewStringObj(name, -1));
	dict_put(d, "cpu", Tcl_NewIntObj(ev->cpuid));
	dict_put(d, "addr", isp_hex(ev->addr));
	dict_put(d, "kind", Tcl_NewStringObj(kind, -1));
	dict_put(d, "owner", Tcl_NewIntObj(ev->owner));
	dict_put(d, "owners", owners);
	dict_put(d, "status", Tcl_NewIntObj(ev->status));
	dict_put(d, "msg",
		 Tcl_NewStringObj(ev->msg, strnlen(ev->msg, sizeof(ev->msg))));
	return d;
}

/* State. */

static struct isp_dbg *dbg_get(struct isp *isp)
{
	struct isp_dbg *d = isp->dbg;

	if (d)
		return d;
	d = (struct isp_dbg *)ckalloc(sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->next_point = 1;
	d->next_hook = 1;
	d->batch_cpu = -1;
	isp->dbg = d;
	return d;
}

static struct dbg_point *point_find(struct isp_dbg *d, int id)
{
	struct dbg_point *p;

	for (p = d ? d->points : NULL; p && p->id != id; p = p->next)
		;
	return p;
}

/* The first point with an id above `after`, up to `max`. */
static struct dbg_point *point_after(struct isp_dbg *d, int after, int max)
{
	for (struct dbg_point *p = d->points; p; p = p->next)
		if (p->id > after && p->id <= max)
			return p;
	return NULL;
}

static struct dbg_hook *hook_after(struct isp_dbg *d, int after, int max)
{
	for (struct dbg_hook *h = d->hooks; h; h = h->next)
		if (h->id > after && h->id <= max)
			return h;
	return NULL;
}

/* Another point that is the same reference in the core. */
static bool point_shared(struct isp_dbg *d, const struct dbg_point *p)
{
	for (struct dbg_point *q = d->points; q; q = q->next)
		if (q != p && q->type == p->type && q->addr == p->addr &&
		    q->len == p->len)
			return true;
	return false;
}

static void point_free(struct dbg_point *p)
{
	if (p->cmd)
		Tcl_DecrRefCount(p->cmd);
	ckfree((char *)p);
}

static void hook_free(struct dbg_hook *h)
{
	Tcl_DecrRefCount(h->script);
	ckfree((char *)h);
}

static void point_unlink(struct isp_dbg *d, struct dbg_point *p)
{
	struct dbg_point **pp;

	for (pp = &d->points; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
}

/* Remove p from the core unless another point holds the reference. */
static int point_remove(struct isp *isp, struct isp_dbg *d, struct dbg_point *p)
{
	struct vcpu *v;

	if (point_shared(d, p) || !isp->ctx)
		return 0;
	v = isp_vcpu(isp, p->cpu);
	if (!v)
		return -EINVAL;
	return vm_debug_breakpoint(v, false, p->type, p->addr, p->len);
}

static bool vm_gone_err(int r)
{
	return r == -ECONNRESET || r == -ESHUTDOWN || r == -EPIPE ||
	       r == -ENOTCONN || r == -ETIMEDOUT;
}

static void dbg_free_lists(struct isp_dbg *d)
{
	while (d->points) {
		struct dbg_point *p = d->points;

		d->points = p->next;
		point_free(p);
	}
	while (d->hooks) {
		struct dbg_hook *h = d->hooks;

		d->hooks = h->next;
		hook_free(h);
	}
}

void isp_dbg_detach(struct isp *isp)
{
	struct isp_dbg *d = isp->dbg;
	bool gone = false;

	if (!d)
		return;
	/* The monitor removes them too when the connection closes. */
	while (d->points) {
		struct dbg_point *p = d->points;

		if (!gone) {
			int r = point_remove(isp, d, p);

			gone = vm_gone_err(r);
		}
		d->points = p->next;
		point_free(p);
	}
	dbg_free_lists(d);
	isp->dbg = NULL;
	if (d->depth)
		d->gone = true; /* isp_dbg_event frees it */
	else
		ckfree((char *)d);
}

/* Events. */

/* Run `script ARG` for a hook or callback (isp_int.h). */
int isp_run_script(struct isp *isp, Tcl_Obj *script, Tcl_Obj *arg, bool *zero,
		   Tcl_Obj **msg)
{
	Tcl_Interp *interp = isp->interp;
	Tcl_InterpState st;
	Tcl_DString ds;
	bool z = false;
	int r, v;

	*msg = NULL;
	if (!zero)
		zero = &z;
	*zero = false;
	if (Tcl_InterpDeleted(interp))
		return TCL_OK;
	st = Tcl_SaveInterpState(interp, TCL_OK);
	Tcl_DStringInit(&ds);
	Tcl_DStringAppend(&ds, Tcl_GetString(script), -1);
	Tcl_DStringAppendElement(&ds, Tcl_GetString(arg));
	r = Tcl_EvalEx(interp, Tcl_DStringValue(&ds), Tcl_DStringLength(&ds),
		       TCL_EVAL_GLOBAL);
	Tcl_DStringFree(&ds);
	if (r == TCL_ERROR) {
		/* errorInfo starts with it, unless `error msg info` set it. */
		const char *s = Tcl_GetStringResult(interp);
		const char *nl = strchr(s, '\n');

		*msg = Tcl_NewStringObj(s, nl ? nl - s : -1);
		Tcl_IncrRefCount(*msg);
	} else if (Tcl_GetIntFromObj(NULL, Tcl_GetObjResult(interp), &v) ==
			   TCL_OK &&
		   v == 0) {
		*zero = true;
	}
	Tcl_RestoreInterpState(interp, st);
	return r == TCL_ERROR ? TCL_ERROR : TCL_OK;
}

static bool point_hit(const struct dbg_point *p, const struct vm_event *ev)
{
	if (p->type != ev->kind)
		return false;
	if (ev->type == VM_EVENT_BREAKPOINT)
		return !p->watch && p->addr == ev->addr;
	return p->watch && ev->addr >= p->addr && ev->addr - p->addr < p->len;
}

/* A hit of ours: count it, run the callbacks, decide on the resume. */
static void handle_hit(struct isp *isp, struct isp_dbg *d,
		       const struct vm_event *ev, Tcl_Obj *dict)
{
	uint64_t mine = 1ull << isp->info.owner;
	int max = d->next_point - 1, last = 0, matched = 0;
	struct dbg_point *p;

	if (d->batch_cpu != ev->cpuid) {
		d->batch_cpu = ev->cpuid;
		d->batch_resume = true;
	}
	if (ev->owners & ~mine)
		d->batch_resume = false; /* another owner wants this stop */
	while (!d->gone && (p = point_after(d, last, max))) {
		Tcl_Obj *arg, *msg;
		bool zero;
		int id = p->id;

		last = id;
		if (!point_hit(p, ev))
			continue;
		matched++;
		p->hits++;
		if (!p->cmd || !p->enabled) {
			d->batch_resume = false;
			continue;
		}
		arg = Tcl_DuplicateObj(dict);
		Tcl_IncrRefCount(arg);
		dict_put(arg, "id", Tcl_NewIntObj(id));
		if (isp_run_script(isp, p->cmd, arg, &zero, &msg) != TCL_OK) {
			p = d->gone ? NULL : point_find(d, id);
			if (p)
				p->enabled = false;
			isp_report(isp,
				   "vitro: the callback of %s %d failed: %s "
				   "(callback disabled; the VM stays stopped)",
				   ev->type == VM_EVENT_BREAKPOINT ?
					   "breakpoint" :
					   "watchpoint",
				   id, Tcl_GetString(msg));
			Tcl_DecrRefCount(msg);
		}
		if (!zero)
			d->batch_resume = false;
		Tcl_DecrRefCount(arg);
	}
	if (!matched)
		d->batch_resume = false;
}

static bool hook_matches(const struct dbg_hook *h, const struct vm_event *ev)
{
	return h->enabled && (!h->type || h->type == ev->type) &&
	       (h->cpu < 0 || h->cpu == ev->cpuid) &&
	       (!h->has_addr || h->addr == ev->addr);
}

static void run_hooks(struct isp *isp, struct isp_dbg *d,
		      const struct vm_event *ev, Tcl_Obj *dict)
{
	int max = d->next_hook - 1, last = 0;
	struct dbg_hook *h;

	while (!d->gone && (h = hook_after(d, last, max))) {
		Tcl_Obj *msg;
		bool zero;
		int id = h->id;

		last = id;
		if (!hook_matches(h, ev))
			continue;
		h->runs++;
		if (isp_run_script(isp, h->script, dict, &zero, &msg) == TCL_OK)
			continue;
		h = d->gone ? NULL : hook_after(d, id - 1, id);
		if (h)
			h->enabled = false;
		isp_report(isp,
			   "vitro: hook %d (on %s) failed: %s (hook disabled)",
			   id, ev_names[ev->type], Tcl_GetString(msg));
		Tcl_DecrRefCount(msg);
	}
}

static void handle_event(struct isp *isp, struct isp_dbg *d,
			 const struct vm_event *ev)
{
	int owner = isp->info.owner;
	Tcl_Obj *dict;

	if (ev->dropped)
		isp_report(isp, "vitro: %u events of VM %s were lost",
			   ev->dropped, isp->ctx ? vm_get_name(isp->ctx) : "?");
	if (ev->type == 0 || ev->type >= VM_EVENT_MAX)
		return;
	dict = isp_event_dict(ev);
	Tcl_IncrRefCount(dict);
	if (is_hit(ev) && owner >= 0 && owner < VM_DBG_OWNER_MAX &&
	    (ev->owners & (1ull << owner)))
		handle_hit(isp, d, ev, dict);
	if (!d->gone)
		run_hooks(isp, d, ev, dict);
	Tcl_DecrRefCount(dict);
	if (d->gone)
		return;
	if ((ev->type == VM_EVENT_STOP || ev->type == VM_EVENT_STEP) &&
	    ev->cpuid == d->batch_cpu) {
		bool resume = d->batch_resume;

		d->batch_cpu = -1;
		if (resume && isp->ctx) {
			int r = vm_debug_resume(isp->ctx, -1);

			if (r < 0)
				isp_report(isp,
					   "vitro: cannot resume VM %s after "
					   "a callback: %s",
					   vm_get_name(isp->ctx), strerror(-r));
		}
	} else if (ev->type == VM_EVENT_END || ev->type == VM_EVENT_RESUME) {
		d->batch_cpu = -1;
	}
}

void isp_dbg_event(struct isp *isp, const struct vm_event *ev)
{
	struct isp_dbg *d = isp->dbg;
	Tcl_Interp *interp = isp->interp;
	struct vm_event e;

	if (ev->type == VM_EVENT_TRACE) {
		isp_trace_event(isp, ev);
		return;
	}
	if (!d)
		return;
	if (d->depth) {
		if (d->qlen == DBG_QUEUE_MAX) {
			d->qlost++;
			return;
		}
		d->queue[(d->qhead + d->qlen++) % DBG_QUEUE_MAX] = *ev;
		return;
	}
	Tcl_Preserve(interp);
	d->depth++;
	e = *ev;
	for (;;) {
		handle_event(isp, d, &e);
		if (d->gone || !d->qlen)
			break;
		e = d->queue[d->qhead];
		d->qhead = (d->qhead + 1) % DBG_QUEUE_MAX;
		d->qlen--;
		if (d->qlost) {
			e.dropped += d->qlost;
			d->qlost = 0;
		}
	}
	d->depth--;
	if (d->gone)
		ckfree((char *)d);
	Tcl_Release(interp);
}

int isp_dbg_wait(struct isp *isp, Tcl_Interp *interp, uint32_t mask, int cpu,
		 int timeout_ms, struct vm_event *ev)
{
	Tcl_Time now, end;

	Tcl_GetTime(&end);
	end.sec += timeout_ms / 1000;
	end.usec += (timeout_ms % 1000) * 1000;
	for (;;) {
		long left = -1;
		int r;

		if (!isp->ctx)
			return isp_error(interp, "NOVM", "the VM is gone");
		/*
		 * This loop is one Tcl command: a Ctrl-c (the shell's async
		 * handler cancels the eval) or vitroctl eval's time limit
		 * must end it, so look for them between short waits.
		 */
		if (Tcl_AsyncReady())
			(void)Tcl_AsyncInvoke(interp, TCL_OK);
		if (Tcl_Canceled(interp, TCL_LEAVE_ERR_MSG) == TCL_ERROR ||
		    Tcl_LimitCheck(interp) == TCL_ERROR)
			return TCL_ERROR;
		if (timeout_ms >= 0) {
			Tcl_GetTime(&now);
			left = (end.sec - now.sec) * 1000 +
			       (end.usec - now.usec) / 1000;
			if (left < 0)
				left = 0;
		}
		r = vm_event_next(isp->ctx, ev,
				  left < 0 || left > 250 ? 250 : (int)left);
		if ((r == -ETIMEDOUT && (left < 0 || left > 0)) || r == -EINTR)
			continue;
		if (r == -ETIMEDOUT)
			return isp_error(interp, "BUSY",
					 "no such event within %d ms",
					 timeout_ms);
		if (r < 0)
			return isp_errno(interp, r, "waiting for the VM");
		isp_dbg_event(isp, ev);
		if (((1u << ev->type) & mask) &&
		    (cpu < 0 || ev->cpuid == cpu || ev->cpuid < 0))
			return TCL_OK;
		if (ev->type == VM_EVENT_END)
			return isp_error(interp, "NOVM",
					 "the VM ended (status %d)",
					 ev->status);
	}
}

/* Breakpoints and watchpoints. */

static int owner_check(struct isp *isp, Tcl_Interp *interp)
{
	if (isp->info.owner >= 0 && isp->info.owner < VM_DBG_OWNER_MAX)
		return TCL_OK;
	return isp_error(interp, "BUSY",
			 "VM %s gave this console no owner id in its debug "
			 "core (too many clients?): it cannot set "
			 "breakpoints or watchpoints",
			 vm_get_name(isp->ctx));
}

/* A Tcl error for the core's refusal r of what at addr. */
static int point_error(struct isp *isp, Tcl_Interp *interp, int r,
		       const char *what, uint64_t addr, int cpu)
{
	char sym[256];
	char where[300];
	const char *why;

	if (isp_sym_describe(isp, addr, sym, sizeof(sym)) == 0)
		snprintf(where, sizeof(where), "0x%" PRIx64 " (%s)", addr, sym);
	else
		snprintf(where, sizeof(where), "0x%" PRIx64, addr);
	switch (r) {
	case -EFAULT:
		return isp_error(interp, "FAULT",
				 "cannot set a %s at %s: the address is not "
				 "mapped by vCPU %d's paging",
				 what, where, cpu);
	case -EBUSY:
		return isp_error(interp, "BUSY",
				 "cannot set a %s at %s: vCPU %d did not stop "
				 "for it in time",
				 what, where, cpu);
	case -ENOSPC:
		why = "no slot left (four debug registers, shared with gdb)";
		break;
	case -EPERM:
		why = "the page holds what the CPU itself uses (the monitor's "
		      "log says which)";
		break;
	case -EINVAL:
		why = "a range that cannot be watched";
		break;
	case -EOPNOTSUPP:
		why = "not supported on this host";
		break;
	default:
		why = "the VM refused";
		break;
	}
	return isp_errno(interp, r, "cannot set a %s at %s: %s", what, where,
			 why);
}

static int point_set(struct isp *isp, Tcl_Interp *interp, bool watch,
		     enum vm_dbg_bp_type type, uint64_t addr, uint64_t len,
		     int cpu, Tcl_Obj *cmd)
{
	struct isp_dbg *d;
	struct dbg_point *p, **pp;
	struct vcpu *v;
	int r;

	if (owner_check(isp, interp) != TCL_OK)
		return TCL_ERROR;
	v = isp_vcpu(isp, cpu);
	if (!v)
		return isp_error(interp, "VALUE", "cannot open vCPU %d", cpu);
	r = vm_debug_breakpoint(v, true, type, addr, len);
	if (r < 0)
		return point_error(isp, interp, r,
				   watch ? "watchpoint" : "breakpoint", addr,
				   cpu);
	d = dbg_get(isp);
	p = (struct dbg_point *)ckalloc(sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->id = d->next_point++;
	p->watch = watch;
	p->type = type;
	p->addr = addr;
	p->len = len;
	p->cpu = cpu;
	p->enabled = true;
	if (cmd && *Tcl_GetString(cmd)) {
		p->cmd = Tcl_DuplicateObj(cmd);
		Tcl_IncrRefCount(p->cmd);
	}
	for (pp = &d->points; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	Tcl_SetObjResult(interp, Tcl_NewIntObj(p->id));
	return TCL_OK;
}

static Tcl_Obj *point_dict(struct isp *isp, const struct dbg_point *p)
{
	Tcl_Obj *o = Tcl_NewDictObj();
	char sym[256];

	if (isp_sym_describe(isp, p->addr, sym, sizeof(sym)) < 0)
		sym[0] = 0;
	dict_put(o, "id", Tcl_NewIntObj(p->id));
	dict_put(o, "addr", isp_hex(p->addr));
	if (p->watch)
		dict_put(o, "len", Tcl_NewWideIntObj((Tcl_WideInt)p->len));
	dict_put(o, "sym", Tcl_NewStringObj(sym, -1));
	dict_put(o, "type", Tcl_NewStringObj(kind_names[p->type], -1));
	dict_put(o, "cpu", Tcl_NewIntObj(p->cpu));
	dict_put(o, "hits", Tcl_NewWideIntObj((Tcl_WideInt)p->hits));
	dict_put(o, "command", p->cmd ? p->cmd : Tcl_NewObj());
	dict_put(o, "enabled", Tcl_NewBooleanObj(p->enabled));
	return o;
}

static int point_list(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[], bool watch)
{
	Tcl_Obj *l = Tcl_NewListObj(0, NULL);

	if (objc != 1)
		return isp_usage(interp, objv, "");
	for (struct dbg_point *p = isp->dbg ? isp->dbg->points : NULL; p;
	     p = p->next)
		if (p->watch == watch)
			Tcl_ListObjAppendElement(NULL, l, point_dict(isp, p));
	Tcl_SetObjResult(interp, l);
	return TCL_OK;
}

static int point_delete_one(struct isp *isp, Tcl_Interp *interp,
			    struct dbg_point *p)
{
	struct isp_dbg *d = isp->dbg;
	int r = point_remove(isp, d, p);

	if (r < 0 && r != -ENOENT && !vm_gone_err(r))
		return isp_errno(interp, r, "cannot remove %s %d at 0x%" PRIx64,
				 p->watch ? "watchpoint" : "breakpoint", p->id,
				 p->addr);
	point_unlink(d, p);
	point_free(p);
	return TCL_OK;
}

static int point_delete(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[], bool watch)
{
	const char *what = watch ? "watchpoint" : "breakpoint";
	struct isp_dbg *d = isp->dbg;
	struct dbg_point *p;
	int id;

	if (objc != 2)
		return isp_usage(interp, objv, "id|all");
	if (!strcmp(Tcl_GetString(objv[1]), "all")) {
		int last = 0;

		while (d && (p = point_after(d, last, INT32_MAX))) {
			last = p->id;
			if (p->watch == watch &&
			    point_delete_one(isp, interp, p) != TCL_OK)
				return TCL_ERROR;
		}
		return TCL_OK;
	}
	if (Tcl_GetIntFromObj(NULL, objv[1], &id) != TCL_OK)
		return isp_error(interp, "VALUE",
				 "expected a %s id or \"all\" but got \"%s\"",
				 what, Tcl_GetString(objv[1]));
	p = point_find(d, id);
	if (!p || p->watch != watch)
		return isp_error(interp, "VALUE",
				 "no %s %d (%s list shows them)%s", what, id,
				 watch ? "watch" : "break",
				 p ? (watch ? ": it is a breakpoint" :
					      ": it is a watchpoint") :
				     "");
	return point_delete_one(isp, interp, p);
}

/* break set ADDR ?-cpu N? ?-hw? ?-command SCRIPT? */
static int break_set(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	static const char usage[] = "addr ?-cpu n? ?-hw? ?-command script?";
	int cpu = isp->cpu, i = 2;
	bool hw = false;
	Tcl_Obj *cmd = NULL;
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &cpu },
		{ "-hw", ISP_OPT_FLAG, &hw },
		{ "-command", ISP_OPT_OBJ, &cmd },
		{ NULL },
	};
	uint64_t addr;

	if (objc < 2)
		return isp_usage(interp, objv, usage);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc)
		return isp_usage(interp, objv, usage);
	if (isp_get_addr(isp, interp, objv[1], &addr) != TCL_OK)
		return TCL_ERROR;
	return point_set(isp, interp, false, hw ? VM_DBG_BP_HW : VM_DBG_BP_SW,
			 addr, 1, cpu, cmd);
}

static int break_list(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	return point_list(isp, interp, objc, objv, false);
}

static int break_delete(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	return point_delete(isp, interp, objc, objv, false);
}

/* watch set ADDR LEN ?-write|-read|-access? ?-cpu N? ?-command SCRIPT? */
static int watch_set(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	static const char usage[] = "addr len ?-write|-read|-access? ?-cpu n? "
				    "?-command script?";
	int cpu = isp->cpu, i = 3;
	bool wr = false, rd = false, acc = false;
	Tcl_Obj *cmd = NULL;
	const struct isp_opt opts[] = {
		{ "-write", ISP_OPT_FLAG, &wr },
		{ "-read", ISP_OPT_FLAG, &rd },
		{ "-access", ISP_OPT_FLAG, &acc },
		{ "-cpu", ISP_OPT_CPU, &cpu },
		{ "-command", ISP_OPT_OBJ, &cmd },
		{ NULL },
	};
	enum vm_dbg_bp_type type = VM_DBG_WP_WRITE;
	uint64_t addr, len;

	if (objc < 3)
		return isp_usage(interp, objv, usage);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc)
		return isp_usage(interp, objv, usage);
	if (wr + rd + acc > 1)
		return isp_error(interp, "USAGE",
				 "choose one of -write, -read and -access");
	if (rd)
		type = VM_DBG_WP_READ;
	else if (acc)
		type = VM_DBG_WP_ACCESS;
	if (isp_get_addr(isp, interp, objv[1], &addr) != TCL_OK ||
	    isp_get_u64(interp, objv[2], &len) != TCL_OK)
		return TCL_ERROR;
	if (len == 0 || addr + len < addr)
		return isp_error(interp, "VALUE",
				 "cannot watch %" PRIu64 " bytes at 0x%" PRIx64
				 ": expected a length from 1 that stays "
				 "below 2^64",
				 len, addr);
	return point_set(isp, interp, true, type, addr, len, cpu, cmd);
}

static int watch_list(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	return point_list(isp, interp, objc, objv, true);
}

static int watch_delete(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	return point_delete(isp, interp, objc, objv, true);
}

/* Hooks. */

/* on EVENT ?-cpu N? ?-addr ADDR? SCRIPT; EVENT is objv[0]'s last word. */
static int on_event(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	const char *word = strrchr(Tcl_GetString(objv[0]), ' ');
	int cpu = -1, i = 1;
	Tcl_Obj *addr_obj = NULL;
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &cpu },
		{ "-addr", ISP_OPT_OBJ, &addr_obj },
		{ NULL },
	};
	struct isp_dbg *d;
	struct dbg_hook *h, **hp;
	uint64_t addr = 0;
	uint32_t type;

	word = word ? word + 1 : Tcl_GetString(objv[0]);
	for (type = 0; type < VM_EVENT_MAX && strcmp(ev_names[type], word);
	     type++)
		;
	if (type == VM_EVENT_MAX)
		return isp_error(interp, "USAGE", "no event \"%s\"", word);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc - 1)
		return isp_usage(interp, objv, "?-cpu n? ?-addr addr? script");
	if (addr_obj && isp_get_addr(isp, interp, addr_obj, &addr) != TCL_OK)
		return TCL_ERROR;
	d = dbg_get(isp);
	h = (struct dbg_hook *)ckalloc(sizeof(*h));
	memset(h, 0, sizeof(*h));
	h->id = d->next_hook++;
	h->type = type;
	h->cpu = cpu;
	h->has_addr = addr_obj != NULL;
	h->addr = addr;
	h->script = Tcl_DuplicateObj(objv[i]);
	Tcl_IncrRefCount(h->script);
	h->enabled = true;
	for (hp = &d->hooks; *hp; hp = &(*hp)->next)
		;
	*hp = h;
	Tcl_SetObjResult(interp, Tcl_NewIntObj(h->id));
	return TCL_OK;
}

static int on_list(struct isp *isp, Tcl_Interp *interp, int objc,
		   Tcl_Obj *const objv[])
{
	Tcl_Obj *l = Tcl_NewListObj(0, NULL);

	if (objc != 1)
		return isp_usage(interp, objv, "");
	for (struct dbg_hook *h = isp->dbg ? isp->dbg->hooks : NULL; h;
	     h = h->next) {
		Tcl_Obj *o = Tcl_NewDictObj();

		dict_put(o, "id", Tcl_NewIntObj(h->id));
		dict_put(o, "event", Tcl_NewStringObj(ev_names[h->type], -1));
		dict_put(o, "cpu",
			 h->cpu < 0 ? Tcl_NewObj() : Tcl_NewIntObj(h->cpu));
		dict_put(o, "addr",
			 h->has_addr ? isp_hex(h->addr) : Tcl_NewObj());
		dict_put(o, "script", h->script);
		dict_put(o, "runs", Tcl_NewWideIntObj((Tcl_WideInt)h->runs));
		dict_put(o, "enabled", Tcl_NewBooleanObj(h->enabled));
		Tcl_ListObjAppendElement(NULL, l, o);
	}
	Tcl_SetObjResult(interp, l);
	return TCL_OK;
}

static int on_delete(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	struct isp_dbg *d = isp->dbg;
	struct dbg_hook **hp;
	int id;

	if (objc != 2)
		return isp_usage(interp, objv, "id|all");
	if (!strcmp(Tcl_GetString(objv[1]), "all")) {
		while (d && d->hooks) {
			struct dbg_hook *h = d->hooks;

			d->hooks = h->next;
			hook_free(h);
		}
		return TCL_OK;
	}
	if (Tcl_GetIntFromObj(NULL, objv[1], &id) != TCL_OK)
		return isp_error(interp, "VALUE",
				 "expected a hook id or \"all\" but got \"%s\"",
				 Tcl_GetString(objv[1]));
	for (hp = d ? &d->hooks : NULL; hp && *hp; hp = &(*hp)->next) {
		struct dbg_hook *h = *hp;

		if (h->id == id) {
			*hp = h->next;
			hook_free(h);
			return TCL_OK;
		}
	}
	return isp_error(interp, "VALUE", "no hook %d (on list shows them)",
			 id);
}

/* Tables. */

static const struct isp_cmd break_cmds[] = {
	{ "set", break_set, "addr ?-cpu n? ?-hw? ?-command script?",
	  "Set an execution breakpoint at addr (a number or symbol), "
	  "translated with the paging of vCPU n (default: the selected one); "
	  "-hw asks for a debug register.  Returns its id.  A hit stops "
	  "every vCPU.  With -command, the script runs at global level with "
	  "the event dict appended (keys event cpu addr kind owner owners "
	  "status msg id); when every callback of the stop returned 0 and no "
	  "other debugger shares the hit, the VM resumes, otherwise it stays "
	  "stopped.  A callback that fails is reported and disabled "
	  "(enabled false), and the VM stays stopped.",
	  ISP_VM },
	{ "list", break_list, "",
	  "The breakpoints, as a list of dicts: id addr sym type (sw, hw) "
	  "cpu hits command enabled (false once the callback failed).",
	  ISP_VM },
	{ "delete", break_delete, "id|all",
	  "Remove breakpoint id, or all of them.", ISP_VM },
	{ NULL },
};
const struct isp_group isp_group_break = {
	.name = "break",
	.summary = "breakpoints: set, list, delete (alone: Tcl's break)",
	.cmds = break_cmds,
	.tcl_break = true,
};

static const struct isp_cmd watch_cmds[] = {
	{ "set", watch_set,
	  "addr len ?-write|-read|-access? ?-cpu n? ?-command script?",
	  "Watch len bytes at linear addr (a number or symbol) for writes "
	  "(default), reads or any access, translated with the paging of "
	  "vCPU n (default: the selected one); the monitor protects the "
	  "pages concerned.  Returns its id.  A hit stops every vCPU, "
	  "after the access; -command works as with break set.",
	  ISP_VM },
	{ "list", watch_list, "",
	  "The watchpoints, as a list of dicts: id addr len sym type (write, "
	  "read, access) cpu hits command enabled.",
	  ISP_VM },
	{ "delete", watch_delete, "id|all",
	  "Remove watchpoint id, or all of them.", ISP_VM },
	{ NULL },
};
const struct isp_group isp_group_watch = {
	.name = "watch",
	.summary = "watchpoints: set, list, delete",
	.cmds = watch_cmds,
};

#define ON_USAGE "?-cpu n? ?-addr addr? script"
#define ON_HELP(what)                                                        \
	"Run script at global level, with the event dict appended (keys "    \
	"event cpu addr kind owner owners status msg), on each " what        \
	" event, of vCPU n and at addr only when given.  Returns the "       \
	"hook's id.  Hooks see every client's events, never resume the VM, " \
	"and run one at a time (events meanwhile wait); a hook that fails "  \
	"is reported and disabled."

static const struct isp_cmd on_cmds[] = {
	{ "stop", on_event, ON_USAGE,
	  ON_HELP("stop (a vCPU stopped: a request, or after hits)"), ISP_VM },
	{ "breakpoint", on_event, ON_USAGE,
	  ON_HELP("breakpoint hit (any owner's)"), ISP_VM },
	{ "watchpoint", on_event, ON_USAGE,
	  ON_HELP("watchpoint hit (any owner's)"), ISP_VM },
	{ "step", on_event, ON_USAGE, ON_HELP("finished step"), ISP_VM },
	{ "resume", on_event, ON_USAGE, ON_HELP("resume"), ISP_VM },
	{ "end", on_event, ON_USAGE, ON_HELP("end (status: how the VM ended)"),
	  ISP_VM },
	{ "message", on_event, ON_USAGE,
	  ON_HELP("message (a note of the monitor's debug core)"), ISP_VM },
	{ "any", on_event, ON_USAGE, ON_HELP("kind of"), ISP_VM },
	{ "list", on_list, "",
	  "The hooks, as a list of dicts: id event cpu addr (empty: any) "
	  "script runs enabled (false once it failed).",
	  ISP_VM },
	{ "delete", on_delete, "id|all", "Remove hook id, or all of them.",
	  ISP_VM },
	{ NULL },
};
const struct isp_group isp_group_on = {
	.name = "on",
	.summary = "hooks on the VM's events: on EVENT script, list, delete",
	.cmds = on_cmds,
};
