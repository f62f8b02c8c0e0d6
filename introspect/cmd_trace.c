/*
 * introspect/cmd_trace.c: `trace` - the VM's exit trace from the console:
 * record to a file, stop, status and live counters (VM_CTL_TRACE and
 * vm_get_stats through libvmmapi), reports, plots and exports of a trace
 * file (trace_run.h, no VM needed), and `trace on`, a script run for each
 * exit as it happens (a watch: VM_CTL_TRACE WATCH, then VM_EVENT_TRACE
 * events and vm_trace_fetch).
 *
 * Tcl has a `trace` of its own (variable and command traces) that Tcl
 * code relies on, so the package does not export vitro::trace; the
 * consoles install a global `trace` (isp_trace_global) that sends vitro's
 * verbs to vitro::trace and every other word to Tcl's, renamed
 * ::tcl::trace::builtin, called in the caller's frame.
 *
 * Callbacks run as the `on` hooks do (cmd_debug.c): at global level with
 * a dict appended, under the hooks' time limit; one that fails is
 * reported and the watch ends.  A trace event that comes while callbacks
 * run is taken after them, never nested.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/cmd_sym.h"
#include "introspect/isp_int.h"
#include "introspect/trace_run.h"

#define TRACE_ASSOC "vitro-trace"
#define TRACE_BUILTIN "::tcl::trace::builtin"
#define TRACE_REGIONS_MAX 256

/* The console's watch (assoc data TRACE_ASSOC, freed with the interp). */
struct isp_trace {
	Tcl_Obj *script; /* the callback; NULL: no watch */
	char spec[512]; /* the watch's filter */
	unsigned int gen; /* changes with each on and off */
	uint64_t runs; /* callbacks run */
	uint64_t dropped; /* records the watch lost */
	bool busy; /* callbacks are running */
	bool pending; /* a trace event came meanwhile */
	int nregions;
	char regions[TRACE_REGIONS_MAX][32]; /* the monitor's, by index */
};

static void trace_free(ClientData cd, Tcl_Interp *interp)
{
	struct isp_trace *t = cd;

	if (t->script)
		Tcl_DecrRefCount(t->script);
	ckfree((char *)t);
}

static struct isp_trace *trace_get(Tcl_Interp *interp)
{
	struct isp_trace *t = Tcl_GetAssocData(interp, TRACE_ASSOC, NULL);

	if (t)
		return t;
	t = (struct isp_trace *)ckalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	Tcl_SetAssocData(interp, TRACE_ASSOC, trace_free, t);
	return t;
}

static void trace_forget(struct isp_trace *t)
{
	if (t->script)
		Tcl_DecrRefCount(t->script);
	t->script = NULL;
	t->spec[0] = 0;
	t->gen++;
}

static void dict_put(Tcl_Obj *d, const char *key, Tcl_Obj *val)
{
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj(key, -1), val);
}

static Tcl_Obj *u64_obj(uint64_t v)
{
	return Tcl_NewWideIntObj((Tcl_WideInt)v);
}

/* A failed VM_CTL_TRACE request as a Tcl error. */
static int control_error(Tcl_Interp *interp, const char *what,
			 const struct vm_ctl_trace *t, int r)
{
	if (r == -EINVAL && t->error[0])
		return isp_error(interp, "VALUE", "%s: %s", what, t->error);
	if (t->error[0])
		return isp_errno(interp, r, "%s: %s", what, t->error);
	if (r == -EBUSY)
		return isp_error(interp, "BUSY",
				 "%s: a recording runs already (trace stop "
				 "ends it)",
				 what);
	if (r == -ENOENT)
		return isp_error(interp, "BUSY", "%s: no recording runs", what);
	return isp_errno(interp, r, "%s", what);
}

/* trace record FILE ?SPEC? */
static int trace_record(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	struct vm_ctl_trace t = { .op = VM_CTL_TRACE_RECORD };
	Tcl_Obj *abs;
	const char *path;
	int r;

	if (objc != 2 && objc != 3)
		return isp_usage(interp, objv, "file ?spec?");
	/* The monitor opens it: an absolute path. */
	abs = Tcl_FSGetNormalizedPath(interp, objv[1]);
	if (!abs)
		return isp_error(interp, "VALUE", "bad file name \"%s\"",
				 Tcl_GetString(objv[1]));
	path = Tcl_GetString(abs);
	if (strlen(path) >= sizeof(t.path))
		return isp_error(interp, "VALUE",
				 "the path %s is too long (at most %zu bytes)",
				 path, sizeof(t.path) - 1);
	snprintf(t.path, sizeof(t.path), "%s", path);
	if (objc == 3) {
		if (strlen(Tcl_GetString(objv[2])) >= sizeof(t.spec))
			return isp_error(interp, "VALUE",
					 "the spec is too long (at most %zu "
					 "bytes)",
					 sizeof(t.spec) - 1);
		snprintf(t.spec, sizeof(t.spec), "%s", Tcl_GetString(objv[2]));
	}
	r = vm_trace_control(isp->ctx, &t);
	if (r < 0)
		return control_error(interp, "trace record", &t, r);
	Tcl_SetObjResult(interp, Tcl_NewStringObj(t.path, -1));
	return TCL_OK;
}

static Tcl_Obj *status_dict(const struct vm_ctl_trace *t)
{
	Tcl_Obj *d = Tcl_NewDictObj();

	dict_put(d, "recording", Tcl_NewBooleanObj(t->recording));
	dict_put(d, "path", Tcl_NewStringObj(t->path, -1));
	dict_put(d, "spec", Tcl_NewStringObj(t->spec, -1));
	dict_put(d, "records", u64_obj(t->records));
	dict_put(d, "dropped", u64_obj(t->dropped));
	dict_put(d, "kernel_records", u64_obj(t->kernel_records));
	dict_put(d, "elapsed_ns",
		 u64_obj(t->recording && t->now > t->t0 ? t->now - t->t0 : 0));
	dict_put(d, "watchers", Tcl_NewIntObj((int)t->watchers));
	dict_put(d, "stack", Tcl_NewIntObj((int)t->stack));
	dict_put(d, "ring", Tcl_NewIntObj((int)t->ring));
	dict_put(d, "kernel", Tcl_NewStringObj(t->kernel, -1));
	return d;
}

/* trace stop */
static int trace_stop(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	struct vm_ctl_trace t = { .op = VM_CTL_TRACE_STOP };
	Tcl_Obj *d;
	int r;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	r = vm_trace_control(isp->ctx, &t);
	if (r < 0)
		return control_error(interp, "trace stop", &t, r);
	d = Tcl_NewDictObj();
	dict_put(d, "path", Tcl_NewStringObj(t.path, -1));
	dict_put(d, "records", u64_obj(t.records));
	dict_put(d, "dropped", u64_obj(t.dropped));
	dict_put(d, "kernel_records", u64_obj(t.kernel_records));
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

/* trace status */
static int trace_status(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	struct vm_ctl_trace t = { .op = VM_CTL_TRACE_STATUS };
	int r;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	r = vm_trace_control(isp->ctx, &t);
	if (r < 0)
		return control_error(interp, "trace status", &t, r);
	Tcl_SetObjResult(interp, status_dict(&t));
	return TCL_OK;
}

/* The counters `trace stats` gives: exits, by reason and in all. */
static bool exit_counter(const char *name)
{
	if (!strncmp(name, "exits.", 6) || !strcmp(name, "vmm.exits"))
		return true;
	return !strncmp(name, "kvm.", 4) && strstr(name, "exit");
}

/* trace stats */
static int trace_stats(struct isp *isp, Tcl_Interp *interp, int objc,
		       Tcl_Obj *const objv[])
{
	enum { MAX = 1024 };
	uint64_t *vals;
	Tcl_Obj *all;
	int r = TCL_OK;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	vals = (uint64_t *)ckalloc(sizeof(*vals) * MAX);
	all = Tcl_NewDictObj();
	Tcl_IncrRefCount(all);
	for (int c = 0; c < isp->ncpus && r == TCL_OK; c++) {
		struct vcpu *v = isp_vcpu(isp, c);
		Tcl_Obj *d = Tcl_NewDictObj();
		int n = 0, e;

		if (!v) {
			r = isp_error(interp, "VALUE", "cannot open vCPU %d",
				      c);
			break;
		}
		e = vm_get_stats(v, vals, MAX, &n);
		if (e < 0) {
			r = isp_errno(interp, e,
				      "cannot read vCPU %d's counters", c);
			break;
		}
		for (int i = 0; i < n && i < MAX; i++) {
			char name[VM_STAT_NAME_MAX];

			if (!vals[i])
				continue;
			e = vm_get_stat_desc(isp->ctx, i, name, sizeof(name));
			if (e < 0) {
				r = isp_errno(interp, e,
					      "cannot name counter %d", i);
				break;
			}
			if (exit_counter(name))
				dict_put(d, name, u64_obj(vals[i]));
		}
		Tcl_DictObjPut(NULL, all, Tcl_NewIntObj(c), d);
	}
	ckfree((char *)vals);
	if (r == TCL_OK)
		Tcl_SetObjResult(interp, all);
	Tcl_DecrRefCount(all);
	return r;
}

/* Files. */

/* The symbols: -sym's file, else the console's loaded ones. */
static int syms_for(struct isp *isp, Tcl_Interp *interp, const char *path,
		    struct trace_syms *s)
{
	char err[512];
	struct elfsym *es;
	struct dwinfo *dw;

	memset(s, 0, sizeof(*s));
	if (path) {
		if (trace_syms_load(s, path, err, sizeof(err)) < 0)
			return isp_error(interp, "NOFILE", "%s", err);
		return TCL_OK;
	}
	for (int i = 0;
	     s->n < TRACE_SYMS_MAX && isp_sym_file(isp, i, &es, &dw) == 0;
	     i++) {
		s->es[s->n] = es;
		s->dw[s->n++] = dw;
	}
	return TCL_OK;
}

/*
 * Run r to a memory stream; TCL_OK with its text (or out_path for an
 * export to a file) as the result.
 */
static int run_text(Tcl_Interp *interp, const char *what, struct trace_run *r)
{
	char err[512] = "", *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int ret;

	if (!mem)
		return isp_errno(interp, -errno, "%s", what);
	ret = trace_run(r, mem, err, sizeof(err));
	fclose(mem);
	if (ret < 0) {
		free(text);
		return isp_error(interp, r->bad_spec ? "VALUE" : "NOFILE",
				 "%s: %s", what, err[0] ? err : strerror(-ret));
	}
	if (r->out_path)
		Tcl_SetObjResult(interp, Tcl_NewStringObj(r->out_path, -1));
	else
		Tcl_SetObjResult(interp, Tcl_NewStringObj(text, (int)len));
	free(text);
	return TCL_OK;
}

static int positive(Tcl_Interp *interp, const char *opt, int v)
{
	if (v >= 0 && v <= 1000000)
		return TCL_OK;
	return isp_error(interp, "VALUE", "%s: expected a count but got %d",
			 opt, v);
}

/* trace report FILE ?-sym ELF? ?-filter SPEC? ?-per-vcpu? ?-top N? ... */
static int trace_report_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			    Tcl_Obj *const objv[])
{
	static const char usage[] = "file ?-sym elf? ?-filter spec? "
				    "?-per-vcpu? ?-top n? ?-by-time?";
	const char *sym = NULL, *filter = NULL;
	bool per_vcpu = false, by_time = false;
	int top = 0, i = 2, r;
	const struct isp_opt opts[] = {
		{ "-sym", ISP_OPT_STR, &sym },
		{ "-filter", ISP_OPT_STR, &filter },
		{ "-per-vcpu", ISP_OPT_FLAG, &per_vcpu },
		{ "-top", ISP_OPT_INT, &top },
		{ "-by-time", ISP_OPT_FLAG, &by_time },
		{ NULL },
	};
	struct trace_syms syms;
	struct trace_run run = { .op = TRACE_RUN_REPORT };

	if (objc < 2)
		return isp_usage(interp, objv, usage);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc)
		return isp_usage(interp, objv, usage);
	if (positive(interp, "-top", top) != TCL_OK ||
	    syms_for(isp, interp, sym, &syms) != TCL_OK)
		return TCL_ERROR;
	run.path = Tcl_GetString(objv[1]);
	run.filter = filter;
	run.syms = &syms;
	run.top = (unsigned int)top;
	run.per_vcpu = per_vcpu;
	run.by_time = by_time;
	r = run_text(interp, "trace report", &run);
	trace_syms_free(&syms);
	return r;
}

/* trace plot FILE ?-svg? ?-buckets N? ?-filter SPEC? */
static int trace_plot_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			  Tcl_Obj *const objv[])
{
	static const char usage[] = "file ?-svg? ?-buckets n? ?-filter spec?";
	const char *filter = NULL;
	bool svg = false;
	int buckets = 0, i = 2, r;
	const struct isp_opt opts[] = {
		{ "-svg", ISP_OPT_FLAG, &svg },
		{ "-buckets", ISP_OPT_INT, &buckets },
		{ "-filter", ISP_OPT_STR, &filter },
		{ NULL },
	};
	struct trace_syms syms;
	struct trace_run run = { .op = TRACE_RUN_PLOT };

	if (objc < 2)
		return isp_usage(interp, objv, usage);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc)
		return isp_usage(interp, objv, usage);
	if (positive(interp, "-buckets", buckets) != TCL_OK ||
	    syms_for(isp, interp, NULL, &syms) != TCL_OK)
		return TCL_ERROR;
	run.path = Tcl_GetString(objv[1]);
	run.filter = filter;
	run.syms = &syms;
	run.svg = svg;
	run.buckets = (unsigned int)buckets;
	r = run_text(interp, "trace plot", &run);
	trace_syms_free(&syms);
	return r;
}

/* trace export FILE -format F ?-o OUT? ?-filter SPEC? ?-sym ELF? */
static int trace_export_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			    Tcl_Obj *const objv[])
{
	static const char usage[] = "file -format json|csv|folded|native "
				    "?-o out? ?-filter spec? ?-sym elf?";
	const char *format = NULL, *out = NULL, *filter = NULL, *sym = NULL;
	int i = 2, r;
	const struct isp_opt opts[] = {
		{ "-format", ISP_OPT_STR, &format },
		{ "-o", ISP_OPT_STR, &out },
		{ "-filter", ISP_OPT_STR, &filter },
		{ "-sym", ISP_OPT_STR, &sym },
		{ NULL },
	};
	struct trace_syms syms;
	struct trace_run run = { .op = TRACE_RUN_EXPORT };

	if (objc < 2)
		return isp_usage(interp, objv, usage);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc || !format)
		return isp_usage(interp, objv, usage);
	if (trace_export_parse(format, &run.format) < 0)
		return isp_error(interp, "VALUE",
				 "bad format \"%s\": must be json, csv, folded "
				 "or native",
				 format);
	if (run.format == TRACE_EXPORT_NATIVE && !out)
		return isp_error(interp, "USAGE",
				 "the native format is a trace file: give its "
				 "path with -o");
	if (syms_for(isp, interp, sym, &syms) != TCL_OK)
		return TCL_ERROR;
	run.path = Tcl_GetString(objv[1]);
	run.filter = filter;
	run.syms = &syms;
	run.out_path = out;
	r = run_text(interp, "trace export", &run);
	trace_syms_free(&syms);
	return r;
}

/* Live exits. */

static const char *rec_dir(const struct vm_trace_rec *rec)
{
	bool wr = rec->flags & VM_TRACE_F_WRITE;

	if (rec->source != VM_TRACE_USER)
		return "";
	switch (rec->reason) {
	case VM_TRACE_KVM_EXIT_IO:
		return wr ? "out" : "in";
	case VM_TRACE_KVM_EXIT_MMIO:
		return wr ? "write" : "read";
	case VM_TRACE_KVM_EXIT_X86_RDMSR:
		return "read";
	case VM_TRACE_KVM_EXIT_X86_WRMSR:
		return "write";
	}
	return "";
}

static Tcl_Obj *rec_dict(const struct isp_trace *t,
			 const struct vm_trace_rec *rec, const uint64_t *stack)
{
	Tcl_Obj *d = Tcl_NewDictObj(), *st = Tcl_NewListObj(0, NULL);
	char buf[64];
	const char *reason = vm_trace_reason_name(
		rec->source, rec->flags, rec->reason, buf, sizeof(buf));
	const char *region = "";

	if (rec->region > 0 && (int)rec->region <= t->nregions)
		region = t->regions[rec->region - 1];
	for (unsigned int i = 0; i < rec->nstack; i++)
		Tcl_ListObjAppendElement(NULL, st, isp_hex(stack[i]));
	dict_put(d, "vcpu", Tcl_NewIntObj(rec->vcpu));
	dict_put(d, "source",
		 Tcl_NewStringObj(rec->source == VM_TRACE_KERNEL ? "kernel" :
								   "user",
				  -1));
	dict_put(d, "reason", Tcl_NewStringObj(reason, -1));
	dict_put(d, "rip", isp_hex(rec->rip));
	dict_put(d, "cpl",
		 Tcl_NewIntObj(rec->cpl == VM_TRACE_CPL_UNKNOWN ? -1 :
								  rec->cpl));
	dict_put(d, "addr", isp_hex(rec->addr));
	dict_put(d, "size", Tcl_NewIntObj(rec->size));
	dict_put(d, "data", isp_hex(rec->data));
	dict_put(d, "dir", Tcl_NewStringObj(rec_dir(rec), -1));
	dict_put(d, "count", u64_obj(rec->count));
	dict_put(d, "region", Tcl_NewStringObj(region, -1));
	dict_put(d, "dur_ns",
		 u64_obj(rec->t_entry > rec->t_exit ?
				 rec->t_entry - rec->t_exit :
				 0));
	dict_put(d, "t_ns", u64_obj(rec->t_exit));
	dict_put(d, "stack", st);
	return d;
}

/* End the watch after its callback failed. */
static void watch_failed(struct isp *isp, struct isp_trace *t, Tcl_Obj *msg)
{
	struct vm_ctl_trace c = { .op = VM_CTL_TRACE_UNWATCH };

	isp_report(isp, "vitro: the trace callback failed: %s (watch ended)",
		   Tcl_GetString(msg));
	if (isp->ctx)
		(void)vm_trace_control(isp->ctx, &c);
	trace_forget(t);
}

/* The records of one fetch: TCL_OK to go on, TCL_ERROR to stop. */
static int run_batch(struct isp *isp, struct isp_trace *t,
		     const struct vm_ctl_trace_read *rd)
{
	unsigned int gen = t->gen;
	size_t off = 0;

	for (uint32_t k = 0; k < rd->nrecs; k++) {
		struct vm_trace_rec rec;
		uint64_t stack[VM_TRACE_STACK_MAX];
		Tcl_Obj *d, *msg, *script;
		int r;

		if (off + sizeof(rec) > rd->len)
			goto bad;
		memcpy(&rec, rd->buf + off, sizeof(rec));
		off += sizeof(rec);
		if (rec.nstack > VM_TRACE_STACK_MAX ||
		    off + rec.nstack * sizeof(uint64_t) > rd->len)
			goto bad;
		memcpy(stack, rd->buf + off, rec.nstack * sizeof(uint64_t));
		off += rec.nstack * sizeof(uint64_t);
		d = rec_dict(t, &rec, stack);
		script = t->script;
		Tcl_IncrRefCount(d);
		Tcl_IncrRefCount(script);
		t->runs++;
		r = isp_run_script(isp, script, d, NULL, &msg);
		Tcl_DecrRefCount(script);
		Tcl_DecrRefCount(d);
		if (r != TCL_OK) {
			if (t->gen == gen)
				watch_failed(isp, t, msg);
			Tcl_DecrRefCount(msg);
			return TCL_ERROR;
		}
		/* The callback ended or replaced the watch. */
		if (t->gen != gen || !isp->ctx)
			return TCL_ERROR;
	}
	return TCL_OK;
bad:
	isp_report(isp,
		   "vitro: VM %s sent malformed trace records (watch "
		   "ended)",
		   vm_get_name(isp->ctx));
	trace_forget(t);
	return TCL_ERROR;
}

void isp_trace_event(struct isp *isp, const struct vm_event *ev)
{
	struct isp_trace *t = Tcl_GetAssocData(isp->interp, TRACE_ASSOC, NULL);
	struct vm_ctl_trace_read *rd;

	if (!t || !t->script || !isp->ctx)
		return;
	if (t->busy) {
		t->pending = true;
		return;
	}
	t->busy = true;
	rd = (struct vm_ctl_trace_read *)ckalloc(sizeof(*rd));
	do {
		t->pending = false;
		while (t->script && isp->ctx) {
			int r = vm_trace_fetch(isp->ctx, rd);

			if (r < 0) {
				if (r != -ENOENT)
					isp_report(isp,
						   "vitro: reading the trace "
						   "of VM %s: %s",
						   vm_get_name(isp->ctx),
						   strerror(-r));
				break;
			}
			t->dropped += rd->dropped;
			if (rd->nrecs == 0 || run_batch(isp, t, rd) != TCL_OK)
				break;
		}
	} while (t->pending && t->script && isp->ctx);
	ckfree((char *)rd);
	t->busy = false;
}

void isp_trace_detach(struct isp *isp)
{
	struct isp_trace *t = Tcl_GetAssocData(isp->interp, TRACE_ASSOC, NULL);

	/* The monitor ends the watch with the connection. */
	if (t)
		trace_forget(t);
}

/* The monitor's region names, for the callbacks' region key. */
static void load_regions(struct isp *isp, struct isp_trace *t)
{
	struct vm_ctl_region reg;

	t->nregions = 0;
	while (t->nregions < TRACE_REGIONS_MAX &&
	       vm_get_region(isp->ctx, t->nregions, &reg) == 0) {
		snprintf(t->regions[t->nregions], sizeof(t->regions[0]), "%s",
			 reg.name);
		t->nregions++;
	}
}

/* trace on ?-filter SPEC? SCRIPT */
static int trace_on(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	struct vm_ctl_trace c = { .op = VM_CTL_TRACE_WATCH };
	const char *filter = "";
	const struct isp_opt opts[] = {
		{ "-filter", ISP_OPT_STR, &filter },
		{ NULL },
	};
	struct isp_trace *t;
	int i = 1, r;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc - 1)
		return isp_usage(interp, objv, "?-filter spec? script");
	if (strlen(filter) >= sizeof(c.spec))
		return isp_error(interp, "VALUE",
				 "the filter is too long (at most %zu bytes)",
				 sizeof(c.spec) - 1);
	snprintf(c.spec, sizeof(c.spec), "%s", filter);
	r = vm_trace_control(isp->ctx, &c);
	if (r < 0)
		return control_error(interp, "trace on", &c, r);
	t = trace_get(interp);
	trace_forget(t);
	load_regions(isp, t);
	t->script = Tcl_DuplicateObj(objv[i]);
	Tcl_IncrRefCount(t->script);
	snprintf(t->spec, sizeof(t->spec), "%s", filter);
	t->runs = 0;
	t->dropped = 0;
	return TCL_OK;
}

/* trace off */
static int trace_off(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	struct vm_ctl_trace c = { .op = VM_CTL_TRACE_UNWATCH };
	struct isp_trace *t = trace_get(interp);
	int r;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	r = vm_trace_control(isp->ctx, &c);
	if (r < 0 && r != -ENOENT)
		return control_error(interp, "trace off", &c, r);
	trace_forget(t);
	return TCL_OK;
}

/* trace watching */
static int trace_watching(struct isp *isp, Tcl_Interp *interp, int objc,
			  Tcl_Obj *const objv[])
{
	struct isp_trace *t = trace_get(interp);
	Tcl_Obj *d;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	if (!t->script) {
		Tcl_ResetResult(interp);
		return TCL_OK;
	}
	d = Tcl_NewDictObj();
	dict_put(d, "script", t->script);
	dict_put(d, "filter", Tcl_NewStringObj(t->spec, -1));
	dict_put(d, "runs", u64_obj(t->runs));
	dict_put(d, "dropped", u64_obj(t->dropped));
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

/* The global `trace`: vitro's verbs here, the rest to Tcl's own. */

static const char *const vitro_verbs[] = {
	"record", "stop", "status", "stats",	"report", "plot",
	"export", "on",	  "off",    "watching", "help",	  NULL,
};

static int global_trace(ClientData cd, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	Tcl_CmdInfo info;
	const char *w = objc > 1 ? Tcl_GetString(objv[1]) : "help";

	for (int i = 0; vitro_verbs[i]; i++) {
		if (!strcmp(w, vitro_verbs[i])) {
			if (!Tcl_GetCommandInfo(interp, "::vitro::trace",
						&info))
				break;
			return info.objProc(info.objClientData, interp, objc,
					    objv);
		}
	}
	/* Called directly, Tcl's trace works in the caller's frame. */
	if (!Tcl_GetCommandInfo(interp, TRACE_BUILTIN, &info))
		return isp_error(interp, "USAGE",
				 "Tcl's trace is gone (it was renamed "
				 "to " TRACE_BUILTIN ")");
	return info.objProc(info.objClientData, interp, objc, objv);
}

int isp_trace_global(Tcl_Interp *interp)
{
	if (Tcl_FindCommand(interp, TRACE_BUILTIN, NULL, TCL_GLOBAL_ONLY))
		return TCL_OK;
	if (Tcl_Eval(interp, "namespace eval ::tcl::trace {}; rename ::trace "
			     "" TRACE_BUILTIN) != TCL_OK)
		return TCL_ERROR;
	Tcl_CreateObjCommand(interp, "::trace", global_trace, NULL, NULL);
	return TCL_OK;
}

/* Table. */

static const struct isp_cmd trace_cmds[] = {
	{ "record", trace_record, "file ?spec?",
	  "Record the VM's exits to file (the monitor writes it; a relative "
	  "name is made absolute here) with spec: filter terms (reason=io, "
	  "vcpu=0, port=0x3f8, gpa=A-B, region=NAME, msr=A-B, rip=A-B, "
	  "cpl=N, min=10us, source=user|kernel) and capture terms (stack=N, "
	  "ring=N, kernel), comma-separated.  Returns the absolute path.",
	  ISP_VM },
	{ "stop", trace_stop, "",
	  "End the recording; the file is complete.  Returns a dict: path "
	  "records dropped kernel_records.",
	  ISP_VM },
	{ "status", trace_status, "",
	  "The monitor's trace, as a dict: recording (bool) path spec "
	  "records dropped kernel_records elapsed_ns watchers stack ring "
	  "kernel (the in-kernel source: on, or off: why).",
	  ISP_VM },
	{ "stats", trace_stats, "",
	  "Live exit counters, no recording needed: a dict from vCPU id to a "
	  "dict of the non-zero counters (exits.REASON, vmm.exits and KVM's "
	  "kvm.*exits*).",
	  ISP_VM },
	{ "report", trace_report_cmd,
	  "file ?-sym elf? ?-filter spec? ?-per-vcpu? ?-top n? ?-by-time?",
	  "A trace file's report as text: exits per reason (samples, time, "
	  "min, max, average), per vCPU with -per-vcpu, the latency "
	  "histogram, the top n rips, ports, regions and MSRs.  Rips are "
	  "named with elf's symbols, else with the ones sym load loaded; "
	  "the same symbols resolve rip=SYMBOL in the filter.  No VM needed.",
	  0 },
	{ "plot", trace_plot_cmd, "file ?-svg? ?-buckets n? ?-filter spec?",
	  "The exit rate over time per reason, as text (or an SVG "
	  "document with -svg), in n intervals (default 60).",
	  0 },
	{ "export", trace_export_cmd,
	  "file -format json|csv|folded|native ?-o out? ?-filter spec? "
	  "?-sym elf?",
	  "Convert a trace file: json (Chrome/Perfetto trace events), csv, "
	  "folded (stacks for flame graphs), native (a filtered trace file; "
	  "needs -o).  Returns the text, or out when -o is given.",
	  0 },
	{ "on", trace_on, "?-filter spec? script",
	  "Run script at global level for each exit that matches spec, as "
	  "it happens, with a dict appended: vcpu source reason rip cpl "
	  "addr size data dir (in out read write, or empty) count region "
	  "dur_ns t_ns stack (return addresses, when the capture has "
	  "stack=N).  Replaces the last trace on.  Callbacks run between "
	  "commands under the hooks' time limit; one that fails is reported "
	  "and the watch ends.",
	  ISP_VM },
	{ "off", trace_off, "", "End trace on's watch.", ISP_VM },
	{ "watching", trace_watching, "",
	  "trace on's watch, as a dict: script filter runs dropped (records "
	  "the watch lost); empty when none.",
	  0 },
	{ NULL },
};

const struct isp_group isp_group_trace = {
	.name = "trace",
	.summary = "VM-exit traces: record, stop, status, stats, report, "
		   "plot, export, on, off, watching (other words: Tcl's trace)",
	.cmds = trace_cmds,
};
