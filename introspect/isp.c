/*
 * introspect/isp.c: the console's frame (isp.h, isp_int.h) - its state
 * per interpreter, the command tables made into commands, help, attach
 * and detach, event dispatch, and the helpers every command file uses
 * for arguments, errors and guest memory.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/isp_int.h"

#define ISP_NS "::vitro"
#define ISP_ASSOC "vitro"
#define ISP_VERSION "1.0"

const struct isp_group *const isp_groups[] = {
	&isp_group_vm,
	&isp_group_vcpu,
	&isp_group_mem,
	&isp_group_translate,
	&isp_group_disas,
	&isp_group_sym,
	&isp_group_type,
	&isp_group_print,
	&isp_group_walk,
	&isp_group_break,
	&isp_group_watch,
	&isp_group_on,
	&isp_group_trace, /* not exported: Tcl has a trace (cmd_trace.c) */
	NULL,
};

/* Errors and reports. */

static Tcl_Obj *vformat(const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	return Tcl_NewStringObj(buf, -1);
}

int isp_error(Tcl_Interp *interp, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	Tcl_SetObjResult(interp, vformat(fmt, ap));
	va_end(ap);
	Tcl_SetErrorCode(interp, "VITRO", code, (char *)NULL);
	return TCL_ERROR;
}

int isp_errno(Tcl_Interp *interp, int err, const char *fmt, ...)
{
	va_list ap;
	Tcl_Obj *msg;
	const char *name;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	Tcl_AppendPrintfToObj(msg, ": %s", strerror(-err));
	errno = -err;
	name = Tcl_ErrnoId();
	Tcl_SetObjResult(interp, msg);
	Tcl_SetErrorCode(interp, "VITRO", "POSIX", name, strerror(-err),
			 (char *)NULL);
	return TCL_ERROR;
}

int isp_usage(Tcl_Interp *interp, Tcl_Obj *const objv[], const char *usage)
{
	Tcl_Obj *msg = Tcl_NewStringObj("wrong # args: should be \"", -1);

	Tcl_AppendObjToObj(msg, objv[0]);
	if (usage && *usage)
		Tcl_AppendStringsToObj(msg, " ", usage, (char *)NULL);
	Tcl_AppendToObj(msg, "\"", -1);
	Tcl_SetObjResult(interp, msg);
	Tcl_SetErrorCode(interp, "VITRO", "USAGE", (char *)NULL);
	return TCL_ERROR;
}

static void report_stderr(void *arg, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

void isp_report(struct isp *isp, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	isp->report(isp->report_arg, buf);
}

/* State. */

struct isp *isp_get(Tcl_Interp *interp)
{
	return Tcl_GetAssocData(interp, ISP_ASSOC, NULL);
}

int isp_need_vm(struct isp *isp, Tcl_Interp *interp)
{
	if (isp->ctx)
		return TCL_OK;
	return isp_error(interp, "NOVM",
			 "no VM attached (vitro::attach NAME attaches one)");
}

struct vcpu *isp_vcpu(struct isp *isp, int cpu)
{
	if (!isp->ctx || cpu < 0 || cpu >= isp->ncpus)
		return NULL;
	if (!isp->vcpu[cpu])
		isp->vcpu[cpu] = vm_vcpu_open(isp->ctx, cpu);
	return isp->vcpu[cpu];
}

/* Values. */

int isp_get_u64(Tcl_Interp *interp, Tcl_Obj *obj, uint64_t *out)
{
	const char *str = Tcl_GetString(obj);
	Tcl_WideInt w;
	char *end;
	uint64_t v;

	if (Tcl_GetWideIntFromObj(NULL, obj, &w) == TCL_OK) {
		*out = (uint64_t)w;
		return TCL_OK;
	}
	/* 2^63 .. 2^64-1 do not fit a Tcl_WideInt. */
	errno = 0;
	v = strtoull(str, &end, 0);
	if (*str >= '0' && *str <= '9' && !*end && errno == 0) {
		*out = v;
		return TCL_OK;
	}
	return isp_error(interp, "VALUE",
			 "expected a 64-bit number but got \"%s\"", str);
}

int isp_get_addr(struct isp *isp, Tcl_Interp *interp, Tcl_Obj *obj,
		 uint64_t *out)
{
	const char *s = Tcl_GetString(obj);
	const char *op;
	char name[512];
	uint64_t base, off = 0;
	size_t n;

	if (Tcl_GetWideIntFromObj(NULL, obj, &(Tcl_WideInt){ 0 }) == TCL_OK ||
	    (*s >= '0' && *s <= '9') || *s == '-')
		return isp_get_u64(interp, obj, out);
	op = strpbrk(s, "+-");
	n = op ? (size_t)(op - s) : strlen(s);
	if (n >= sizeof(name))
		return isp_error(interp, "VALUE", "symbol name too long");
	memcpy(name, s, n);
	name[n] = 0;
	if (isp_sym_resolve(isp, name, &base) < 0)
		return isp_error(
			interp, "NOSYM",
			"\"%s\" is neither an address nor a known "
			"symbol%s",
			name,
			isp->syms ? "" : " (no symbols loaded: sym load FILE)");
	if (op) {
		Tcl_Obj *o = Tcl_NewStringObj(op + 1, -1);
		int r;

		Tcl_IncrRefCount(o);
		r = isp_get_u64(interp, o, &off);
		Tcl_DecrRefCount(o);
		if (r != TCL_OK)
			return r;
	}
	*out = op && *op == '-' ? base - off : base + off;
	return TCL_OK;
}

int isp_get_cpu(struct isp *isp, Tcl_Interp *interp, Tcl_Obj *obj, int *out)
{
	int cpu;

	if (Tcl_GetIntFromObj(NULL, obj, &cpu) != TCL_OK)
		return isp_error(interp, "VALUE",
				 "expected a vCPU number but got \"%s\"",
				 Tcl_GetString(obj));
	if (isp_need_vm(isp, interp) != TCL_OK)
		return TCL_ERROR;
	if (cpu < 0 || cpu >= isp->ncpus)
		return isp_error(interp, "VALUE",
				 "no vCPU %d: the VM has %d (0-%d)", cpu,
				 isp->ncpus, isp->ncpus - 1);
	*out = cpu;
	return TCL_OK;
}

Tcl_Obj *isp_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return Tcl_NewStringObj(buf, -1);
}

int isp_opts(struct isp *isp, Tcl_Interp *interp, int objc,
	     Tcl_Obj *const objv[], int *i, const struct isp_opt *opts)
{
	while (*i < objc) {
		const char *w = Tcl_GetString(objv[*i]);
		const struct isp_opt *o;

		if (w[0] != '-' || (w[1] >= '0' && w[1] <= '9') || !w[1])
			return TCL_OK;
		if (!strcmp(w, "--")) {
			(*i)++;
			return TCL_OK;
		}
		for (o = opts; o->name && strcmp(o->name, w); o++)
			;
		if (!o->name) {
			Tcl_Obj *msg =
				Tcl_ObjPrintf("bad option \"%s\": must be", w);

			for (o = opts; o->name; o++)
				Tcl_AppendPrintfToObj(msg, "%s %s",
						      o == opts ? "" : ",",
						      o->name);
			Tcl_SetObjResult(interp, msg);
			Tcl_SetErrorCode(interp, "VITRO", "USAGE",
					 (char *)NULL);
			return TCL_ERROR;
		}
		(*i)++;
		if (o->kind == ISP_OPT_FLAG) {
			*(bool *)o->dst = true;
			continue;
		}
		if (*i >= objc)
			return isp_error(interp, "USAGE",
					 "option %s needs a value", w);
		Tcl_Obj *v = objv[(*i)++];
		int r = TCL_OK;

		switch (o->kind) {
		case ISP_OPT_INT:
			if (Tcl_GetIntFromObj(NULL, v, o->dst) != TCL_OK)
				r = isp_error(interp, "VALUE",
					      "%s: expected an integer but got "
					      "\"%s\"",
					      w, Tcl_GetString(v));
			break;
		case ISP_OPT_U64:
			r = isp_get_u64(interp, v, o->dst);
			break;
		case ISP_OPT_ADDR:
			r = isp_get_addr(isp, interp, v, o->dst);
			break;
		case ISP_OPT_CPU:
			r = isp_get_cpu(isp, interp, v, o->dst);
			break;
		case ISP_OPT_STR:
			*(const char **)o->dst = Tcl_GetString(v);
			break;
		case ISP_OPT_OBJ:
			*(Tcl_Obj **)o->dst = v;
			break;
		case ISP_OPT_FLAG:
			break;
		}
		if (r != TCL_OK)
			return r;
	}
	return TCL_OK;
}

/* Guest memory. */

ssize_t isp_mem_read(struct isp *isp, int cpu, bool phys, uint64_t addr,
		     void *buf, size_t len)
{
	struct vcpu *v;

	if (!isp->ctx)
		return -ENOTCONN;
	if (phys)
		return vm_read_gpa(isp->ctx, addr, buf, len);
	if (!(v = isp_vcpu(isp, cpu)))
		return -EINVAL;
	return vm_copyin(v, addr, buf, len);
}

ssize_t isp_mem_write(struct isp *isp, int cpu, bool phys, uint64_t addr,
		      const void *buf, size_t len)
{
	struct vcpu *v;

	if (!isp->ctx)
		return -ENOTCONN;
	if (phys)
		return vm_write_gpa(isp->ctx, addr, buf, len);
	if (!(v = isp_vcpu(isp, cpu)))
		return -EINVAL;
	return vm_copyout(v, buf, addr, len);
}

int isp_mem_read_all(struct isp *isp, Tcl_Interp *interp, int cpu, bool phys,
		     uint64_t addr, void *buf, size_t len)
{
	ssize_t n = isp_mem_read(isp, cpu, phys, addr, buf, len);

	if (n == (ssize_t)len)
		return TCL_OK;
	if (n >= 0 || n == -EFAULT)
		return isp_error(interp, "FAULT",
				 "cannot read %s address 0x%" PRIx64
				 ": not mapped%s",
				 phys ? "guest-physical" : "virtual",
				 addr + (n > 0 ? n : 0),
				 phys ? " as memory" : " by vCPU's paging");
	return isp_errno(interp, (int)n, "reading 0x%" PRIx64, addr);
}

/* Commands from tables. */

/* A group's entry for word w: exact name, else a unique prefix. */
static const struct isp_cmd *group_find(const struct isp_group *g,
					const char *w, bool *ambiguous)
{
	const struct isp_cmd *hit = NULL;
	size_t n = strlen(w);

	*ambiguous = false;
	for (const struct isp_cmd *c = g->cmds; c->name; c++) {
		if (!strcmp(c->name, w))
			return c;
		if (n && !strncmp(c->name, w, n)) {
			if (hit)
				*ambiguous = true;
			hit = c;
		}
	}
	return *ambiguous ? NULL : hit;
}

static bool group_plain(const struct isp_group *g)
{
	return g->cmds[0].name && !g->cmds[0].name[0];
}

/* help text of a group: its usage lines and help, as one string. */
static Tcl_Obj *group_help(const struct isp_group *g, bool full)
{
	Tcl_Obj *o = Tcl_ObjPrintf("%s - %s\n", g->name, g->summary);

	for (const struct isp_cmd *c = g->cmds; c->name; c++) {
		Tcl_AppendPrintfToObj(o, "  %s%s%s%s%s\n", g->name,
				      c->name[0] ? " " : "", c->name,
				      c->usage && *c->usage ? " " : "",
				      c->usage ? c->usage : "");
		if (full)
			Tcl_AppendPrintfToObj(o, "      %s\n", c->help);
	}
	return o;
}

static int group_cmd(ClientData cd, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	const struct isp_group *g = cd;
	struct isp *isp = isp_get(interp);
	const struct isp_cmd *c;
	bool amb;
	int off;

	if (group_plain(g)) {
		c = g->cmds;
		off = 0;
	} else {
		if (objc < 2 && g->tcl_break)
			return TCL_BREAK;
		if (objc < 2)
			return isp_usage(interp, objv, "subcommand ?arg ...?");
		const char *w = Tcl_GetString(objv[1]);

		if (!strcmp(w, "help")) {
			Tcl_SetObjResult(interp, group_help(g, true));
			return TCL_OK;
		}
		c = group_find(g, w, &amb);
		if (!c) {
			Tcl_Obj *msg =
				Tcl_ObjPrintf("%s subcommand \"%s\": must be",
					      amb ? "ambiguous" : "unknown", w);

			for (const struct isp_cmd *e = g->cmds; e->name; e++)
				Tcl_AppendPrintfToObj(msg, "%s %s",
						      e == g->cmds ? "" : ",",
						      e->name);
			Tcl_AppendToObj(msg, ", or help", -1);
			Tcl_SetObjResult(interp, msg);
			Tcl_SetErrorCode(interp, "VITRO", "USAGE",
					 (char *)NULL);
			return TCL_ERROR;
		}
		off = 1;
	}
	if ((c->flags & ISP_VM) && isp_need_vm(isp, interp) != TCL_OK)
		return TCL_ERROR;
	if (off == 0)
		return c->fn(isp, interp, objc, objv);
	/*
	 * The handler sees the subcommand as objv[0]; error messages name
	 * "group sub", so objv[0] becomes that for it.
	 */
	Tcl_Obj **v = (Tcl_Obj **)ckalloc(sizeof(Tcl_Obj *) * (objc - 1));
	Tcl_Obj *word = Tcl_ObjPrintf("%s %s", g->name, c->name);
	int r;

	Tcl_IncrRefCount(word);
	v[0] = word;
	for (int i = 2; i < objc; i++)
		v[i - 1] = objv[i];
	r = c->fn(isp, interp, objc - 1, v);
	Tcl_DecrRefCount(word);
	ckfree((char *)v);
	return r;
}

static const struct isp_group *group_by_name(const char *name)
{
	for (int i = 0; isp_groups[i]; i++)
		if (!strcmp(isp_groups[i]->name, name))
			return isp_groups[i];
	return NULL;
}

/* help ?COMMAND ?SUBCOMMAND??: the command list, or one's usage and help. */
static int help_cmd(ClientData cd, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	const struct isp_group *g;
	Tcl_Obj *o;

	if (objc > 3)
		return isp_usage(interp, objv, "?command ?subcommand??");
	if (objc == 1) {
		o = Tcl_NewStringObj("vitro console commands (help COMMAND "
				     "for more):\n",
				     -1);
		for (int i = 0; isp_groups[i]; i++)
			Tcl_AppendPrintfToObj(o, "  %-10s %s\n",
					      isp_groups[i]->name,
					      isp_groups[i]->summary);
		Tcl_AppendPrintfToObj(o, "  %-10s %s\n", "attach",
				      "vitro::attach NAME: attach to a running "
				      "VM");
		Tcl_AppendPrintfToObj(o, "  %-10s %s\n", "detach",
				      "vitro::detach: let the VM go");
		Tcl_SetObjResult(interp, o);
		return TCL_OK;
	}
	g = group_by_name(Tcl_GetString(objv[1]));
	if (!g)
		return isp_error(interp, "USAGE",
				 "no command \"%s\" (help lists them)",
				 Tcl_GetString(objv[1]));
	if (objc == 3) {
		bool amb;
		const struct isp_cmd *c =
			group_find(g, Tcl_GetString(objv[2]), &amb);

		if (!c)
			return isp_error(interp, "USAGE",
					 "%s has no subcommand \"%s\"", g->name,
					 Tcl_GetString(objv[2]));
		Tcl_SetObjResult(interp,
				 Tcl_ObjPrintf("%s%s%s %s\n    %s\n", g->name,
					       c->name[0] ? " " : "", c->name,
					       c->usage ? c->usage : "",
					       c->help));
		return TCL_OK;
	}
	Tcl_SetObjResult(interp, group_help(g, true));
	return TCL_OK;
}

/* Attach and detach. */

static void ev_ready(ClientData cd, int mask)
{
	isp_dispatch_events(cd);
}

void isp_detach(Tcl_Interp *interp)
{
	struct isp *isp = isp_get(interp);

	if (!isp || !isp->ctx)
		return;
	isp_dbg_detach(isp);
	isp_trace_detach(isp);
	if (isp->evfd >= 0) {
		Tcl_DeleteFileHandler(isp->evfd);
		isp->evfd = -1;
	}
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (isp->vcpu[i])
			vm_vcpu_close(isp->vcpu[i]);
		isp->vcpu[i] = NULL;
	}
	if (isp->own)
		vm_destroy(isp->ctx);
	isp->ctx = NULL;
	isp->ncpus = 0;
	isp->cpu = 0;
}

int isp_attach(Tcl_Interp *interp, struct vmctx *ctx, bool own)
{
	struct isp *isp = isp_get(interp);
	int n, r;

	if (!isp)
		return isp_error(interp, "NOVM", "isp_init was not called");
	if (!vm_is_remote(ctx))
		return isp_error(interp, "NOVM",
				 "the console needs a VM handle with the "
				 "control socket's semantics");
	isp_detach(interp);
	n = vm_get_ncpus(ctx);
	if (n <= 0)
		return isp_errno(interp, n ? n : -ENODEV,
				 "cannot count the VM's vCPUs");
	r = vm_get_info(ctx, &isp->info);
	if (r < 0)
		return isp_errno(interp, r, "cannot read the VM's info");
	isp->ctx = ctx;
	isp->own = own;
	isp->ncpus = n;
	isp->cpu = 0;
	r = vm_events_subscribe(ctx, VM_EVENT_MASK_ALL);
	if (r < 0)
		isp_report(isp,
			   "vitro: no events from VM %s (%s): hooks and "
			   "callbacks will not run",
			   vm_get_name(ctx), strerror(-r));
	return TCL_OK;
}

int isp_event_fd(Tcl_Interp *interp)
{
	struct isp *isp = isp_get(interp);

	if (!isp || !isp->ctx)
		return -1;
	return vm_event_fd(isp->ctx);
}

/*
 * Hooks and callbacks run between the shell's commands, where no Ctrl-c
 * reaches them: each event's get ISP_HOOK_LIMIT_MS, after which the one
 * running fails (and is reported and disabled, cmd_debug.c) and the
 * console goes on.  A limit already set (vitroctl eval's) stays.
 */
static void hooks_limited(Tcl_Interp *interp, bool on)
{
	static const char key[] = "vitro-hook-limit";
	Tcl_Time t;

	if (on) {
		if (Tcl_LimitTypeEnabled(interp, TCL_LIMIT_TIME))
			return;
		Tcl_GetTime(&t);
		t.sec += ISP_HOOK_LIMIT_MS / 1000;
		t.usec += (ISP_HOOK_LIMIT_MS % 1000) * 1000;
		Tcl_LimitSetTime(interp, &t);
		Tcl_LimitSetGranularity(interp, TCL_LIMIT_TIME, 1);
		Tcl_LimitTypeSet(interp, TCL_LIMIT_TIME);
		Tcl_SetAssocData(interp, key, NULL, (ClientData)1);
	} else if (Tcl_GetAssocData(interp, key, NULL)) {
		Tcl_LimitTypeReset(interp, TCL_LIMIT_TIME);
		Tcl_DeleteAssocData(interp, key);
	}
}

void isp_dispatch_events(Tcl_Interp *interp)
{
	struct isp *isp = isp_get(interp);
	struct vm_event ev;

	Tcl_Preserve(interp);
	while (isp && isp->ctx && vm_event_next(isp->ctx, &ev, 0) == 0) {
		hooks_limited(interp, true);
		isp_dbg_event(isp, &ev);
		hooks_limited(interp, false);
		isp = isp_get(interp);
	}
	Tcl_Release(interp);
}

void isp_set_report(Tcl_Interp *interp, isp_report_fn *fn, void *arg)
{
	struct isp *isp = isp_get(interp);

	isp->report = fn ? fn : report_stderr;
	isp->report_arg = arg;
}

/*
 * exit ?STATUS?: the console's owner decides what ending means (the VM in
 * vitro, the process in vitroctl); the script unwinds with errorCode
 * {VITRO EXIT N}, which catch cannot stop.
 */
static int exit_cmd(ClientData cd, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	struct isp *isp = cd;
	int status = 0;

	if (objc > 2) {
		Tcl_WrongNumArgs(interp, 1, objv, "?returnCode?");
		return TCL_ERROR;
	}
	if (objc == 2 && Tcl_GetIntFromObj(interp, objv[1], &status) != TCL_OK)
		return TCL_ERROR;
	isp->mon->exit(isp->mon_arg, status);
	Tcl_CancelEval(interp, NULL, NULL, TCL_CANCEL_UNWIND);
	Tcl_SetObjResult(interp, Tcl_ObjPrintf("exit %d", status));
	Tcl_SetObjErrorCode(interp, Tcl_ObjPrintf("VITRO EXIT %d", status));
	return TCL_ERROR;
}

void isp_set_monitor(Tcl_Interp *interp, const struct isp_monitor_ops *ops,
		     void *arg)
{
	struct isp *isp = isp_get(interp);

	isp->mon = ops;
	isp->mon_arg = arg;
	if (ops && ops->exit)
		Tcl_CreateObjCommand(interp, "::exit", exit_cmd, isp, NULL);
}

/* vitro::attach NAME */
static int attach_cmd(ClientData cd, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	struct isp *isp = isp_get(interp);
	struct vmctx *ctx;
	const char *name;
	int r;

	if (objc != 2)
		return isp_usage(interp, objv, "name");
	name = Tcl_GetString(objv[1]);
	ctx = vm_open(name);
	if (!ctx) {
		r = -errno;
		if (r == -ENOENT)
			return isp_error(interp, "NOVM",
					 "no VM named '%s' is running", name);
		return isp_errno(interp, r, "cannot attach to VM '%s'", name);
	}
	r = isp_attach(interp, ctx, true);
	if (r != TCL_OK) {
		vm_destroy(ctx);
		return r;
	}
	/* In a tclsh, events run through Tcl's notifier. */
	if (!isp->mon && vm_event_fd(ctx) >= 0) {
		Tcl_CreateFileHandler(vm_event_fd(ctx), TCL_READABLE, ev_ready,
				      interp);
		isp->evfd = vm_event_fd(ctx);
	}
	Tcl_SetObjResult(interp, Tcl_NewStringObj(vm_get_name(ctx), -1));
	return TCL_OK;
}

static int detach_cmd(ClientData cd, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	if (objc != 1)
		return isp_usage(interp, objv, "");
	isp_detach(interp);
	return TCL_OK;
}

static void isp_free(ClientData cd, Tcl_Interp *interp)
{
	struct isp *isp = cd;

	isp_detach(interp);
	isp_sym_free(isp);
	isp_types_free(isp);
	ckfree((char *)isp);
}

int isp_init(Tcl_Interp *interp, bool import_global)
{
	struct isp *isp;
	char name[64];

	if (isp_get(interp))
		return TCL_OK;
	isp = (struct isp *)ckalloc(sizeof(*isp));
	memset(isp, 0, sizeof(*isp));
	isp->interp = interp;
	isp->evfd = -1;
	isp->report = report_stderr;
	Tcl_SetAssocData(interp, ISP_ASSOC, isp_free, isp);
	if (!Tcl_CreateNamespace(interp, ISP_NS, NULL, NULL))
		return TCL_ERROR;
	for (int i = 0; isp_groups[i]; i++) {
		snprintf(name, sizeof(name), ISP_NS "::%s",
			 isp_groups[i]->name);
		Tcl_CreateObjCommand(interp, name, group_cmd,
				     (ClientData)isp_groups[i], NULL);
	}
	Tcl_CreateObjCommand(interp, ISP_NS "::help", help_cmd, NULL, NULL);
	Tcl_CreateObjCommand(interp, ISP_NS "::attach", attach_cmd, NULL, NULL);
	Tcl_CreateObjCommand(interp, ISP_NS "::detach", detach_cmd, NULL, NULL);
	/*
	 * Everything but break and trace is exported, so that `namespace
	 * import vitro::*` works in any tclsh; the consoles also take break,
	 * which is Tcl's own break when it has no argument, and trace, which
	 * is Tcl's own for Tcl's verbs (cmd_trace.c).
	 */
	if (Tcl_Eval(interp, "namespace eval " ISP_NS " {namespace export "
			     "{[a-z]*}}") != TCL_OK ||
	    Tcl_Eval(interp, "namespace eval " ISP_NS " {namespace export "
			     "-clear {*}[lmap c [info commands " ISP_NS
			     "::*] {set c [namespace tail $c]; if {$c in "
			     "{break trace}} continue; set c}]}") != TCL_OK)
		return TCL_ERROR;
	if (import_global &&
	    (Tcl_Eval(interp, "namespace import -force " ISP_NS "::*") !=
		     TCL_OK ||
	     Tcl_Eval(interp,
		      "rename ::break {}; interp alias {} ::break {} " ISP_NS
		      "::break") != TCL_OK ||
	     isp_trace_global(interp) != TCL_OK))
		return TCL_ERROR;
	Tcl_ResetResult(interp);
	return TCL_OK;
}

int Vitro_Init(Tcl_Interp *interp)
{
	if (isp_init(interp, false) != TCL_OK)
		return TCL_ERROR;
	return Tcl_PkgProvide(interp, "vitro", ISP_VERSION);
}
