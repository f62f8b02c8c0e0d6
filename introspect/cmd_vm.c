/*
 * introspect/cmd_vm.c: the `vm` and `vcpu` command families - the VM as
 * a whole (info, stop and continue through the debug core, events,
 * reset and power-off, statistics, the monitor's regions, the memory
 * map) and its vCPUs (list, registers, steps, the selected vCPU that
 * every -cpu defaults to).  Events come as isp_event_dict makes them
 * (cmd_debug.c), the same dict the hooks see.
 *
 * Everything goes through libvmmapi on the console's handle, which has
 * the control socket's semantics: a vCPU that runs is stopped by the
 * monitor for each register command, so these work on a running VM.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "introspect/isp_int.h"

#define VM_STOP_DEFAULT_MS 1000 /* vm stop without -timeout */
#define VCPU_STEP_MS 5000 /* a step that takes longer did not happen */
#define VCPU_STEP_MAX 100000 /* steps in one vcpu step */
#define VM_REGIONS_MAX 4096 /* a bound on a monitor that never says ENOENT */

/* Arguments. */

/*
 * Options anywhere among the positional words (vcpu get REG -cpu 1 and
 * vcpu get -cpu 1 REG alike): between min and max positional words into
 * pos, their count into *npos.
 */
static int parse_args(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[], const struct isp_opt *opts,
		      Tcl_Obj **pos, int min, int max, int *npos,
		      const char *usage)
{
	int i = 1, n = 0;

	for (;;) {
		if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
			return TCL_ERROR;
		if (i >= objc)
			break;
		if (n >= max)
			return isp_usage(interp, objv, usage);
		pos[n++] = objv[i++];
	}
	if (n < min)
		return isp_usage(interp, objv, usage);
	if (npos)
		*npos = n;
	return TCL_OK;
}

static struct vcpu *get_vcpu(struct isp *isp, Tcl_Interp *interp, int cpu)
{
	struct vcpu *v = isp_vcpu(isp, cpu);

	if (!v) {
		if (cpu < 0 || cpu >= isp->ncpus)
			isp_error(interp, "VALUE",
				  "no vCPU %d: the VM has %d (0-%d)", cpu,
				  isp->ncpus, isp->ncpus - 1);
		else
			isp_errno(interp, errno ? -errno : -ENODEV,
				  "cannot open vCPU %d", cpu);
	}
	return v;
}

static void dict_put(Tcl_Interp *interp, Tcl_Obj *d, const char *key,
		     Tcl_Obj *val)
{
	Tcl_DictObjPut(interp, d, Tcl_NewStringObj(key, -1), val);
}

static Tcl_Obj *cpuset_list(const struct vm_cpuset *s, int ncpus)
{
	Tcl_Obj *l = Tcl_NewListObj(0, NULL);

	for (int i = 0; i < ncpus; i++) {
		if (vm_cpuset_isset(s, i))
			Tcl_ListObjAppendElement(NULL, l, Tcl_NewIntObj(i));
	}
	return l;
}

/* Events. */

static const char *const event_names[VM_EVENT_MAX] = {
	[VM_EVENT_STOP] = "stop",
	[VM_EVENT_BREAKPOINT] = "breakpoint",
	[VM_EVENT_WATCHPOINT] = "watchpoint",
	[VM_EVENT_STEP] = "step",
	[VM_EVENT_RESUME] = "resume",
	[VM_EVENT_END] = "end",
	[VM_EVENT_MESSAGE] = "message",
	[VM_EVENT_TRACE] = "trace",
};

#define WAIT_DEFAULT_MASK                                  \
	(1u << VM_EVENT_STOP | 1u << VM_EVENT_BREAKPOINT | \
	 1u << VM_EVENT_WATCHPOINT | 1u << VM_EVENT_STEP | 1u << VM_EVENT_END)

/* Names of the debug core's vCPU states, for a stop that came late. */
static const char *cpu_state_name(unsigned int st)
{
	switch (st) {
	case VM_DBG_CPU_IDLE:
		return "not started yet";
	case VM_DBG_CPU_GUEST:
		return "running guest code";
	case VM_DBG_CPU_EXIT:
		return "handling an exit in the monitor";
	case VM_DBG_CPU_OUTPUT:
		return "blocked writing guest output";
	case VM_DBG_CPU_PARKED:
		return "stopped";
	case VM_DBG_CPU_GONE:
		return "its thread ended";
	}
	return "in an unknown state";
}

/* vm */

/* The debug set, or -ESHUTDOWN while the VM ends. */
static int stopped_set(struct isp *isp, struct vm_cpuset *set)
{
	return vm_debug_cpus(isp->ctx, set);
}

/*
 * The VM's CPU model as a dict {model NAME hidden {FEATURE ...} kvm KIND
 * filtered yes|no|unknown}, or NULL where the monitor does not say.
 */
static Tcl_Obj *cpu_model_dict(struct isp *isp, Tcl_Interp *interp)
{
	struct vm_cpu_model m;
	struct vm_cpuid_probe p;
	Tcl_Obj *d, *hidden;
	char buf[32];

	if (vm_get_cpu_model(isp->ctx, &m) < 0 ||
	    vm_cpuid_probe(isp->ctx, &p) < 0)
		return NULL;
	hidden = Tcl_NewListObj(0, NULL);
	for (int w = 0; w < VM_CPUID_NWORDS; w++) {
		for (int b = 0; b < 32; b++) {
			if (m.hidden.w[w] & (1u << b))
				Tcl_ListObjAppendElement(
					interp, hidden,
					Tcl_NewStringObj(
						vm_cpuid_feature_name(
							w, b, buf, sizeof(buf)),
						-1));
		}
	}
	d = Tcl_NewDictObj();
	dict_put(interp, d, "model",
		 Tcl_NewStringObj(vm_cpu_model_name(m.model), -1));
	dict_put(interp, d, "hidden", hidden);
	dict_put(interp, d, "kvm",
		 Tcl_NewStringObj(vm_kvm_kind_name(p.kvm), -1));
	dict_put(interp, d, "filtered",
		 Tcl_NewStringObj(p.filtered == 1 ? "yes" :
				  p.filtered == 0 ? "no" :
						    "unknown",
				  -1));
	return d;
}

static int vm_info_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
		       Tcl_Obj *const objv[])
{
	struct vm_ctl_hello *h = &isp->info;
	struct vm_cpuset set = { { 0 } };
	const char *state = "running";
	struct vm_memseg ms;
	Tcl_Obj *d, *cpu;
	int r;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	r = stopped_set(isp, &set);
	if (r == -ESHUTDOWN)
		state = "ending";
	else if (r < 0)
		return isp_errno(interp, r,
				 "cannot read the VM's stopped vCPUs");
	for (int i = 0; r == 0 && i < isp->ncpus; i++) {
		if (vm_cpuset_isset(&set, i))
			state = "stopped";
	}
	d = Tcl_NewDictObj();
	dict_put(interp, d, "name",
		 Tcl_NewStringObj(vm_get_name(isp->ctx), -1));
	dict_put(interp, d, "pid", Tcl_NewIntObj(h->pid));
	dict_put(interp, d, "ncpus", Tcl_NewIntObj(isp->ncpus));
	dict_put(interp, d, "memory",
		 Tcl_NewWideIntObj((Tcl_WideInt)(h->lowmem + h->highmem)));
	if (vm_get_memseg_info(isp->ctx, VM_SYSMEM, &ms) == 0) {
		dict_put(interp, d, "backing",
			 Tcl_NewStringObj(vm_memseg_backing_name(ms.backing),
					  -1));
		dict_put(interp, d, "page_size",
			 Tcl_NewWideIntObj((Tcl_WideInt)ms.page_size));
	}
	dict_put(interp, d, "state", Tcl_NewStringObj(state, -1));
	dict_put(interp, d, "stopped", cpuset_list(&set, isp->ncpus));
	dict_put(interp, d, "owner", Tcl_NewIntObj(h->owner));
	if ((cpu = cpu_model_dict(isp, interp)))
		dict_put(interp, d, "cpu", cpu);
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

static int vm_stop_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
		       Tcl_Obj *const objv[])
{
	int cpu = -1, ms = VM_STOP_DEFAULT_MS, r;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ "-timeout", ISP_OPT_INT, &ms },
					{ NULL } };
	struct vm_dbg_stop res;
	Tcl_Obj *msg, *late;

	if (parse_args(isp, interp, objc, objv, opts, NULL, 0, 0, NULL,
		       "?-cpu N? ?-timeout MS?") != TCL_OK)
		return TCL_ERROR;
	if (ms < 0)
		return isp_error(interp, "VALUE",
				 "-timeout: expected milliseconds >= 0 but "
				 "got %d",
				 ms);
	r = vm_debug_stop(isp->ctx, cpu, ms, &res);
	if (r == 0) {
		Tcl_SetObjResult(interp, cpuset_list(&res.stopped, isp->ncpus));
		return TCL_OK;
	}
	if (r != -ETIMEDOUT)
		return isp_errno(interp, r, "cannot stop %s",
				 cpu < 0 ? "the VM" : "the vCPU");
	msg = Tcl_NewObj();
	late = Tcl_NewListObj(0, NULL);
	for (int i = 0; i < isp->ncpus; i++) {
		if (!vm_cpuset_isset(&res.late, i))
			continue;
		Tcl_AppendPrintfToObj(msg,
				      "%svCPU %d did not stop within %d ms "
				      "(%s)",
				      Tcl_GetCharLength(msg) ? "; " : "", i, ms,
				      cpu_state_name(res.state[i]));
		Tcl_ListObjAppendElement(NULL, late, Tcl_NewIntObj(i));
	}
	Tcl_AppendToObj(msg, "; it stops when it can (vm wait)", -1);
	Tcl_SetObjResult(interp, msg);
	Tcl_SetObjErrorCode(
		interp,
		Tcl_NewListObj(3, (Tcl_Obj *[]){ Tcl_NewStringObj("VITRO", -1),
						 Tcl_NewStringObj("BUSY", -1),
						 late }));
	return TCL_ERROR;
}

static int vm_continue_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			   Tcl_Obj *const objv[])
{
	int cpu = -1, r;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ NULL } };

	if (parse_args(isp, interp, objc, objv, opts, NULL, 0, 0, NULL,
		       "?-cpu N?") != TCL_OK)
		return TCL_ERROR;
	r = vm_debug_resume(isp->ctx, cpu);
	if (r < 0)
		return isp_errno(interp, r, "cannot resume %s",
				 cpu < 0 ? "the VM" : "the vCPU");
	Tcl_ResetResult(interp);
	return TCL_OK;
}

static int vm_wait_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
		       Tcl_Obj *const objv[])
{
	int ms = -1, n = 0;
	const struct isp_opt opts[] = { { "-timeout", ISP_OPT_INT, &ms },
					{ NULL } };
	Tcl_Obj *pos[VM_EVENT_MAX * 2];
	uint32_t mask = 0;
	struct vm_event ev;

	if (parse_args(isp, interp, objc, objv, opts, pos, 0,
		       (int)(sizeof(pos) / sizeof(pos[0])), &n,
		       "?-timeout MS? ?EVENT ...?") != TCL_OK)
		return TCL_ERROR;
	for (int k = 0; k < n; k++) {
		const char *w = Tcl_GetString(pos[k]);
		int t;

		for (t = 1; t < VM_EVENT_MAX && strcmp(w, event_names[t]); t++)
			;
		if (t == VM_EVENT_MAX)
			return isp_error(interp, "VALUE",
					 "unknown event \"%s\": must be stop, "
					 "breakpoint, watchpoint, step, "
					 "resume, end or message",
					 w);
		mask |= 1u << t;
	}
	if (!mask)
		mask = WAIT_DEFAULT_MASK;
	if (isp_dbg_wait(isp, interp, mask, -1, ms < 0 ? -1 : ms, &ev) !=
	    TCL_OK)
		return TCL_ERROR;
	Tcl_SetObjResult(interp, isp_event_dict(&ev));
	return TCL_OK;
}

static int vm_end(struct isp *isp, Tcl_Interp *interp, int objc,
		  Tcl_Obj *const objv[], enum vm_suspend_how how)
{
	int r;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	r = vm_suspend(isp->ctx, how);
	if (r < 0)
		return isp_errno(interp, r, "cannot %s the VM",
				 how == VM_SUSPEND_RESET ? "reset" :
							   "power off");
	Tcl_ResetResult(interp);
	return TCL_OK;
}

static int vm_reset_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	return vm_end(isp, interp, objc, objv, VM_SUSPEND_RESET);
}

static int vm_poweroff_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			   Tcl_Obj *const objv[])
{
	return vm_end(isp, interp, objc, objv, VM_SUSPEND_POWEROFF);
}

/* Counters of one vCPU, added into *sum (grown to *n entries). */
static int stats_add(struct isp *isp, Tcl_Interp *interp, int cpu,
		     uint64_t **sum, int *n)
{
	struct vcpu *v = get_vcpu(isp, interp, cpu);
	uint64_t *buf;
	int cap = 256, count, r;

	if (!v)
		return TCL_ERROR;
	for (;;) {
		buf = (uint64_t *)ckalloc(sizeof(*buf) * cap);
		r = vm_get_stats(v, buf, cap, &count);
		if (r < 0 || count <= cap)
			break;
		ckfree((char *)buf);
		cap = count;
	}
	if (r < 0) {
		ckfree((char *)buf);
		return isp_errno(interp, r, "cannot read vCPU %d's counters",
				 cpu);
	}
	if (count > *n) {
		*sum = (uint64_t *)ckrealloc((char *)*sum,
					     sizeof(**sum) * count);
		memset(*sum + *n, 0, sizeof(**sum) * (count - *n));
		*n = count;
	}
	for (int i = 0; i < count; i++)
		(*sum)[i] += buf[i];
	ckfree((char *)buf);
	return TCL_OK;
}

static int vm_stats_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	int cpu = -1, n = 0, r = TCL_OK;
	bool all = false;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ "-all", ISP_OPT_FLAG, &all },
					{ NULL } };
	uint64_t *sum = (uint64_t *)ckalloc(sizeof(*sum));
	Tcl_Obj *d;

	if (parse_args(isp, interp, objc, objv, opts, NULL, 0, 0, NULL,
		       "?-cpu N? ?-all?") != TCL_OK) {
		ckfree((char *)sum);
		return TCL_ERROR;
	}
	for (int i = 0; i < isp->ncpus && r == TCL_OK; i++) {
		if (cpu < 0 || i == cpu)
			r = stats_add(isp, interp, i, &sum, &n);
	}
	d = Tcl_NewDictObj();
	for (int i = 0; i < n && r == TCL_OK; i++) {
		char name[VM_STAT_NAME_MAX];
		int e;

		if (!sum[i] && !all)
			continue;
		e = vm_get_stat_desc(isp->ctx, i, name, sizeof(name));
		if (e < 0)
			r = isp_errno(interp, e, "cannot name counter %d", i);
		else
			dict_put(interp, d, name,
				 Tcl_NewWideIntObj((Tcl_WideInt)sum[i]));
	}
	ckfree((char *)sum);
	if (r != TCL_OK) {
		Tcl_IncrRefCount(d);
		Tcl_DecrRefCount(d);
		return r;
	}
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

static int vm_regions_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			  Tcl_Obj *const objv[])
{
	Tcl_Obj *l;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	l = Tcl_NewListObj(0, NULL);
	Tcl_IncrRefCount(l);
	for (int i = 0; i < VM_REGIONS_MAX; i++) {
		struct vm_ctl_region rg;
		Tcl_Obj *d;
		int r = vm_get_region(isp->ctx, i, &rg);

		if (r == -ENOENT)
			break;
		if (r < 0) {
			Tcl_DecrRefCount(l);
			return isp_errno(interp, r,
					 "cannot read the monitor's region %d",
					 i);
		}
		d = Tcl_NewDictObj();
		dict_put(interp, d, "name", Tcl_NewStringObj(rg.name, -1));
		dict_put(interp, d, "kind",
			 Tcl_NewStringObj(rg.kind == VM_CTL_REGION_PIO ? "pio" :
									 "mmio",
					  -1));
		dict_put(interp, d, "base", isp_hex(rg.base));
		dict_put(interp, d, "size", isp_hex(rg.size));
		dict_put(interp, d, "hits",
			 Tcl_NewWideIntObj((Tcl_WideInt)rg.hits));
		Tcl_ListObjAppendElement(interp, l, d);
	}
	Tcl_SetObjResult(interp, l);
	Tcl_DecrRefCount(l);
	return TCL_OK;
}

static int vm_memmap_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			 Tcl_Obj *const objv[])
{
	uint64_t gpa = 0;
	Tcl_Obj *l;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	l = Tcl_NewListObj(0, NULL);
	Tcl_IncrRefCount(l);
	for (int k = 0; k < VM_MAX_MEMMAPS; k++) {
		uint64_t segoff;
		size_t len, seglen;
		int segid, prot, flags, r;
		char name[VM_NAME_MAX], pstr[4];
		Tcl_Obj *d;

		r = vm_mmap_getnext(isp->ctx, &gpa, &segid, &segoff, &len,
				    &prot, &flags);
		if (r == -ENOENT)
			break;
		if (r == 0)
			r = vm_get_memseg(isp->ctx, segid, &seglen, name,
					  sizeof(name));
		if (r < 0) {
			Tcl_DecrRefCount(l);
			return isp_errno(interp, r,
					 "cannot read the VM's memory map");
		}
		snprintf(pstr, sizeof(pstr), "%c%c%c",
			 prot & VM_PROT_READ ? 'r' : '-',
			 prot & VM_PROT_WRITE ? 'w' : '-',
			 prot & VM_PROT_EXEC ? 'x' : '-');
		d = Tcl_NewDictObj();
		dict_put(interp, d, "gpa", isp_hex(gpa));
		dict_put(interp, d, "size", isp_hex(len));
		dict_put(interp, d, "segment",
			 Tcl_NewStringObj(name[0]	     ? name :
					  segid == VM_SYSMEM ? "sysmem" :
							       "?",
					  -1));
		dict_put(interp, d, "offset", isp_hex(segoff));
		dict_put(interp, d, "prot", Tcl_NewStringObj(pstr, -1));
		Tcl_ListObjAppendElement(interp, l, d);
		if (!len || gpa + len < gpa)
			break;
		gpa += len;
	}
	Tcl_SetObjResult(interp, l);
	Tcl_DecrRefCount(l);
	return TCL_OK;
}

/* vm dump-core FILE: the monitor writes it, so it gets an absolute name. */
static int vm_dump_core_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			    Tcl_Obj *const objv[])
{
	struct vm_ctl_dump d = { 0 };
	Tcl_Obj *abs, *res;
	int r;

	if (objc != 2)
		return isp_usage(interp, objv, "FILE");
	abs = Tcl_FSGetNormalizedPath(interp, objv[1]);
	if (!abs)
		return isp_error(interp, "VALUE", "bad file name \"%s\"",
				 Tcl_GetString(objv[1]));
	if (strlen(Tcl_GetString(abs)) >= sizeof(d.path))
		return isp_error(interp, "VALUE",
				 "file name too long: \"%s\" (at most %zu "
				 "bytes as an absolute path)",
				 Tcl_GetString(abs), sizeof(d.path) - 1);
	snprintf(d.path, sizeof(d.path), "%s", Tcl_GetString(abs));
	r = vm_dump_core(isp->ctx, &d);
	if (r < 0 && d.error[0])
		return isp_error(interp, r == -EBUSY ? "BUSY" : "NOFILE",
				 "dumping the guest to %s: %s", d.path,
				 d.error);
	if (r < 0)
		return isp_errno(interp, r, "dumping the guest to %s", d.path);
	res = Tcl_NewDictObj();
	Tcl_DictObjPut(NULL, res, Tcl_NewStringObj("file", -1),
		       Tcl_NewStringObj(d.path, -1));
	Tcl_DictObjPut(NULL, res, Tcl_NewStringObj("bytes", -1),
		       Tcl_NewWideIntObj((Tcl_WideInt)d.bytes));
	Tcl_DictObjPut(NULL, res, Tcl_NewStringObj("memory", -1),
		       Tcl_NewWideIntObj((Tcl_WideInt)d.mem));
	Tcl_DictObjPut(NULL, res, Tcl_NewStringObj("ncpus", -1),
		       Tcl_NewIntObj((int)d.ncpus));
	Tcl_DictObjPut(NULL, res, Tcl_NewStringObj("mappings", -1),
		       Tcl_NewIntObj((int)d.nvirt));
	Tcl_SetObjResult(interp, res);
	return TCL_OK;
}

static const struct isp_cmd vm_cmds[] = {
	{ "info", vm_info_cmd, "",
	  "the VM: a dict {name pid ncpus memory (bytes) backing (of the "
	  "memory: shmem, shmem-thp, anon-thp or hugetlb) page_size (the "
	  "largest host page behind it) state "
	  "(running|stopped|ending) stopped (the stopped vCPUs) owner (this "
	  "console's owner id in the debug core) cpu (the CPU model: {model "
	  "host|conservative hidden {features the host has that the guest "
	  "is not shown} kvm hardware|emulated|unknown filtered yes|no|"
	  "unknown (whether the CPUID set reaches the guest)})}",
	  ISP_VM },
	{ "stop", vm_stop_cmd, "?-cpu N? ?-timeout MS?",
	  "stop every vCPU (or vCPU N) and wait up to MS milliseconds "
	  "(default 1000) for each to park; returns the list of stopped "
	  "vCPUs, or a BUSY error naming each late vCPU and what it was "
	  "doing (it stops when it can)",
	  ISP_VM },
	{ "continue", vm_continue_cmd, "?-cpu N?",
	  "resume every vCPU (or vCPU N) this or any console stopped", ISP_VM },
	{ "wait", vm_wait_cmd, "?-timeout MS? ?EVENT ...?",
	  "wait (default: without limit) for the next event among EVENTs "
	  "(stop breakpoint watchpoint step resume end message; default "
	  "stop breakpoint watchpoint step end), running the hooks of those "
	  "that come first; returns it as a dict {event cpu addr msg seq "
	  "...}: kind and owners for a breakpoint or watchpoint, status for "
	  "the end, owner for the others; BUSY error on timeout",
	  ISP_VM },
	{ "reset", vm_reset_cmd, "",
	  "end the VM as a guest reset would (vitro exits with status 0)",
	  ISP_VM },
	{ "poweroff", vm_poweroff_cmd, "",
	  "end the VM as a guest power-off would (vitro exits with status 1)",
	  ISP_VM },
	{ "stats", vm_stats_cmd, "?-cpu N? ?-all?",
	  "the statistics counters as a dict name -> value, summed over the "
	  "vCPUs (or of vCPU N): exits by reason, vmm's and KVM's own; only "
	  "the non-zero ones unless -all",
	  ISP_VM },
	{ "regions", vm_regions_cmd, "",
	  "the monitor's named port-I/O and MMIO regions: a list of dicts "
	  "{name kind (pio|mmio) base size hits}, ports first, by address",
	  ISP_VM },
	{ "memmap", vm_memmap_cmd, "",
	  "guest-physical memory: a list of dicts {gpa size segment (sysmem "
	  "or the device memory's name) offset (in the segment) prot (rwx)}",
	  ISP_VM },
	{ "dump-core", vm_dump_core_cmd, "FILE",
	  "write an ELF core of the guest to FILE (written by the monitor, "
	  "with every vCPU stopped meanwhile): its memory, and per vCPU "
	  "the registers in the layout of QEMU's dump-guest-memory, for "
	  "crash and gdb; returns {file bytes memory ncpus mappings}",
	  ISP_VM },
	{ NULL },
};

const struct isp_group isp_group_vm = {
	.name = "vm",
	.summary = "the VM: info, stop/continue, wait for events, stats, "
		   "regions, memory map",
	.cmds = vm_cmds,
};

/* vcpu */

struct reg_def {
	const char *name;
	int reg;
};

/* What vcpu regs shows, then what get and set know besides. */
static const struct reg_def reg_defs[] = {
	{ "rax", VM_REG_GUEST_RAX },
	{ "rbx", VM_REG_GUEST_RBX },
	{ "rcx", VM_REG_GUEST_RCX },
	{ "rdx", VM_REG_GUEST_RDX },
	{ "rsi", VM_REG_GUEST_RSI },
	{ "rdi", VM_REG_GUEST_RDI },
	{ "rbp", VM_REG_GUEST_RBP },
	{ "rsp", VM_REG_GUEST_RSP },
	{ "r8", VM_REG_GUEST_R8 },
	{ "r9", VM_REG_GUEST_R9 },
	{ "r10", VM_REG_GUEST_R10 },
	{ "r11", VM_REG_GUEST_R11 },
	{ "r12", VM_REG_GUEST_R12 },
	{ "r13", VM_REG_GUEST_R13 },
	{ "r14", VM_REG_GUEST_R14 },
	{ "r15", VM_REG_GUEST_R15 },
	{ "rip", VM_REG_GUEST_RIP },
	{ "rflags", VM_REG_GUEST_RFLAGS },
	{ "cs", VM_REG_GUEST_CS },
	{ "ss", VM_REG_GUEST_SS },
	{ "ds", VM_REG_GUEST_DS },
	{ "es", VM_REG_GUEST_ES },
	{ "fs", VM_REG_GUEST_FS },
	{ "gs", VM_REG_GUEST_GS },
	{ "fs_base", VM_REG_GUEST_FS_BASE },
	{ "gs_base", VM_REG_GUEST_GS_BASE },
	{ "cr0", VM_REG_GUEST_CR0 },
	{ "cr2", VM_REG_GUEST_CR2 },
	{ "cr3", VM_REG_GUEST_CR3 },
	{ "cr4", VM_REG_GUEST_CR4 },
	{ "efer", VM_REG_GUEST_EFER },
	{ "dr6", VM_REG_GUEST_DR6 },
	{ "dr7", VM_REG_GUEST_DR7 },
#define REGS_SHOWN 33
	{ "cr8", VM_REG_GUEST_CR8 },
	{ "dr0", VM_REG_GUEST_DR0 },
	{ "dr1", VM_REG_GUEST_DR1 },
	{ "dr2", VM_REG_GUEST_DR2 },
	{ "dr3", VM_REG_GUEST_DR3 },
	{ "kgs_base", VM_REG_GUEST_KGS_BASE },
	{ "cs_base", VM_REG_GUEST_CS_BASE },
	{ "ss_base", VM_REG_GUEST_SS_BASE },
	{ "ds_base", VM_REG_GUEST_DS_BASE },
	{ "es_base", VM_REG_GUEST_ES_BASE },
	{ "ldtr", VM_REG_GUEST_LDTR },
	{ "tr", VM_REG_GUEST_TR },
	{ "tr_base", VM_REG_GUEST_TR_BASE },
	{ "gdtr_base", VM_REG_GUEST_GDTR_BASE },
	{ "gdtr_limit", VM_REG_GUEST_GDTR_LIMIT },
	{ "idtr_base", VM_REG_GUEST_IDTR_BASE },
	{ "idtr_limit", VM_REG_GUEST_IDTR_LIMIT },
	{ "apic_base", VM_REG_GUEST_APIC_BASE },
	{ "tsc", VM_REG_GUEST_TSC },
};

#define NREGS ((int)(sizeof(reg_defs) / sizeof(reg_defs[0])))
_Static_assert(REGS_SHOWN <= NREGS && NREGS <= VM_REGSET_MAX, "register table");

static int get_reg(Tcl_Interp *interp, Tcl_Obj *obj, const struct reg_def **out)
{
	const char *w = Tcl_GetString(obj);
	Tcl_Obj *msg;

	for (int i = 0; i < NREGS; i++) {
		if (!strcasecmp(reg_defs[i].name, w)) {
			*out = &reg_defs[i];
			return TCL_OK;
		}
	}
	msg = Tcl_ObjPrintf("unknown register \"%s\": must be", w);
	for (int i = 0; i < NREGS; i++)
		Tcl_AppendPrintfToObj(msg, "%s %s", i ? "," : "",
				      reg_defs[i].name);
	Tcl_SetObjResult(interp, msg);
	Tcl_SetErrorCode(interp, "VITRO", "VALUE", (char *)NULL);
	return TCL_ERROR;
}

static const char *mode_name(uint32_t mode)
{
	switch (mode) {
	case CPU_MODE_REAL:
		return "real";
	case CPU_MODE_PROTECTED:
		return "protected";
	case CPU_MODE_COMPATIBILITY:
		return "compat";
	case CPU_MODE_64BIT:
		return "long";
	}
	return "unknown";
}

static const char *runstate_name(enum vm_runstate st)
{
	switch (st) {
	case VRS_RUN:
		return "run";
	case VRS_HALT:
		return "halt";
	case VRS_INIT:
		return "wait-init";
	case VRS_SIPI:
		return "wait-sipi";
	case VRS_OTHER:
		break;
	}
	return "other";
}

/* One vCPU of vcpu list. */
static int cpu_dict(struct isp *isp, Tcl_Interp *interp, int cpu,
		    const struct vm_cpuset *stopped, Tcl_Obj **out)
{
	static const int regs[] = { VM_REG_GUEST_RIP, VM_REG_GUEST_CS_BASE };
	struct vcpu *v = get_vcpu(isp, interp, cpu);
	struct vm_guest_paging pg;
	enum vm_runstate rs;
	uint64_t val[2];
	char sym[256];
	Tcl_Obj *d;
	int r;

	if (!v)
		return TCL_ERROR;
	if ((r = vm_get_register_set(v, 2, regs, val)) < 0 ||
	    (r = vm_get_guest_paging(v, &pg)) < 0 ||
	    (r = vm_get_run_state(v, &rs)) < 0)
		return isp_errno(interp, r, "cannot read vCPU %d", cpu);
	if (isp_sym_describe(isp, val[0] + val[1], sym, sizeof(sym)) < 0)
		sym[0] = 0;
	d = Tcl_NewDictObj();
	dict_put(interp, d, "cpu", Tcl_NewIntObj(cpu));
	dict_put(interp, d, "state",
		 Tcl_NewStringObj(vm_cpuset_isset(stopped, cpu) ? "stopped" :
								  "running",
				  -1));
	dict_put(interp, d, "activity",
		 Tcl_NewStringObj(runstate_name(rs), -1));
	dict_put(interp, d, "mode",
		 Tcl_NewStringObj(mode_name(pg.cpu_mode), -1));
	dict_put(interp, d, "cpl", Tcl_NewIntObj(pg.cpl));
	dict_put(interp, d, "rip", isp_hex(val[0]));
	dict_put(interp, d, "sym", Tcl_NewStringObj(sym, -1));
	*out = d;
	return TCL_OK;
}

static int vcpu_list_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			 Tcl_Obj *const objv[])
{
	struct vm_cpuset stopped;
	Tcl_Obj *l;
	int r;

	if (objc != 1)
		return isp_usage(interp, objv, "");
	if ((r = stopped_set(isp, &stopped)) < 0)
		return isp_errno(interp, r, "cannot read the stopped vCPUs");
	l = Tcl_NewListObj(0, NULL);
	Tcl_IncrRefCount(l);
	for (int i = 0; i < isp->ncpus; i++) {
		Tcl_Obj *d = NULL;

		if (cpu_dict(isp, interp, i, &stopped, &d) != TCL_OK) {
			Tcl_DecrRefCount(l);
			return TCL_ERROR;
		}
		Tcl_ListObjAppendElement(interp, l, d);
	}
	Tcl_SetObjResult(interp, l);
	Tcl_DecrRefCount(l);
	return TCL_OK;
}

static int vcpu_regs_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			 Tcl_Obj *const objv[])
{
	int cpu = isp->cpu, n, r;
	bool all = false;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ "-all", ISP_OPT_FLAG, &all },
					{ NULL } };
	int nums[NREGS];
	uint64_t vals[NREGS];
	struct vcpu *v;
	Tcl_Obj *d;

	if (parse_args(isp, interp, objc, objv, opts, NULL, 0, 0, NULL,
		       "?-cpu N? ?-all?") != TCL_OK)
		return TCL_ERROR;
	if (!(v = get_vcpu(isp, interp, cpu)))
		return TCL_ERROR;
	n = all ? NREGS : REGS_SHOWN;
	for (int i = 0; i < n; i++)
		nums[i] = reg_defs[i].reg;
	if ((r = vm_get_register_set(v, n, nums, vals)) < 0)
		return isp_errno(interp, r, "cannot read vCPU %d's registers",
				 cpu);
	d = Tcl_NewDictObj();
	for (int i = 0; i < n; i++)
		dict_put(interp, d, reg_defs[i].name, isp_hex(vals[i]));
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

static int vcpu_get_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	int cpu = isp->cpu, r;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ NULL } };
	const struct reg_def *rd;
	struct vcpu *v;
	Tcl_Obj *pos[1] = { NULL };
	uint64_t val;

	if (parse_args(isp, interp, objc, objv, opts, pos, 1, 1, NULL,
		       "REG ?-cpu N?") != TCL_OK ||
	    get_reg(interp, pos[0], &rd) != TCL_OK ||
	    !(v = get_vcpu(isp, interp, cpu)))
		return TCL_ERROR;
	if ((r = vm_get_register(v, rd->reg, &val)) < 0)
		return isp_errno(interp, r, "cannot read %s of vCPU %d",
				 rd->name, cpu);
	Tcl_SetObjResult(interp, isp_hex(val));
	return TCL_OK;
}

static int vcpu_set_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			Tcl_Obj *const objv[])
{
	int cpu = isp->cpu, r;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ NULL } };
	const struct reg_def *rd;
	struct vcpu *v;
	Tcl_Obj *pos[2] = { NULL };
	uint64_t val;

	if (parse_args(isp, interp, objc, objv, opts, pos, 2, 2, NULL,
		       "REG VALUE ?-cpu N?") != TCL_OK ||
	    get_reg(interp, pos[0], &rd) != TCL_OK ||
	    isp_get_addr(isp, interp, pos[1], &val) != TCL_OK ||
	    !(v = get_vcpu(isp, interp, cpu)))
		return TCL_ERROR;
	if ((r = vm_set_register(v, rd->reg, val)) < 0)
		return isp_errno(interp, r, "cannot set %s of vCPU %d",
				 rd->name, cpu);
	if ((r = vm_get_register(v, rd->reg, &val)) < 0)
		return isp_errno(interp, r, "cannot read %s of vCPU %d back",
				 rd->name, cpu);
	Tcl_SetObjResult(interp, isp_hex(val));
	return TCL_OK;
}

/* Whether the error in interp has errorCode {VITRO BUSY ...}. */
static bool error_is_busy(Tcl_Interp *interp)
{
	const char *ec = Tcl_GetVar(interp, "errorCode", TCL_GLOBAL_ONLY);

	return ec && !strncmp(ec, "VITRO BUSY", 10);
}

/* One step of vCPU cpu, up to its STEP event. */
static int step_one(struct isp *isp, Tcl_Interp *interp, int cpu,
		    struct vcpu *v, unsigned int flags)
{
	const uint32_t mask = 1u << VM_EVENT_STEP | 1u << VM_EVENT_MESSAGE;
	struct vm_event ev;
	int r = vm_debug_step(v, flags);

	switch (r) {
	case 0:
		break;
	case -EBUSY:
		return isp_error(interp, "BUSY",
				 "vCPU %d is running: stop it first (vm stop)",
				 cpu);
	case -EPERM:
		return isp_errno(interp, r,
				 "the debug core refused to step vCPU %d: "
				 "single-stepping is not available in its "
				 "mode on this KVM (vitro's log says why)",
				 cpu);
	case -ENOTSUP:
	case -ENOTTY:
	case -EINVAL:
		return isp_errno(interp, r,
				 "the debug core refused to step vCPU %d: "
				 "single-stepping is not available on this "
				 "KVM",
				 cpu);
	default:
		return isp_errno(interp, r, "cannot step vCPU %d", cpu);
	}
	for (;;) {
		if (isp_dbg_wait(isp, interp, mask, cpu, VCPU_STEP_MS, &ev) !=
		    TCL_OK) {
			if (!error_is_busy(interp))
				return TCL_ERROR;
			/* The step never came: hold the vCPU again. */
			vm_debug_stop(isp->ctx, cpu, VM_STOP_DEFAULT_MS, NULL);
			return isp_error(interp, "BUSY",
					 "single-stepping is not available: "
					 "vCPU %d did not finish its step "
					 "within %d ms",
					 cpu, VCPU_STEP_MS);
		}
		if (ev.type == VM_EVENT_STEP)
			return TCL_OK;
		/* A message to us about this vCPU: the step was refused. */
		if (ev.cpuid == cpu &&
		    (ev.owner == isp->info.owner || ev.owner < 0)) {
			ev.msg[sizeof(ev.msg) - 1] = 0;
			return isp_error(interp, "BUSY",
					 "single-stepping is not available on "
					 "vCPU %d: %s",
					 cpu, ev.msg);
		}
	}
}

static int vcpu_step_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			 Tcl_Obj *const objv[])
{
	int cpu = isp->cpu, count = 1, n = 0, r;
	bool irq = false, noirq = false;
	const struct isp_opt opts[] = { { "-cpu", ISP_OPT_CPU, &cpu },
					{ "-irq", ISP_OPT_FLAG, &irq },
					{ "-noirq", ISP_OPT_FLAG, &noirq },
					{ NULL } };
	struct vcpu *v;
	Tcl_Obj *pos[1] = { NULL };
	uint64_t rip;

	if (parse_args(isp, interp, objc, objv, opts, pos, 0, 1, &n,
		       "?COUNT? ?-cpu N? ?-irq?") != TCL_OK)
		return TCL_ERROR;
	if (irq && noirq)
		return isp_error(interp, "USAGE",
				 "-irq and -noirq: choose one");
	if (n && (Tcl_GetIntFromObj(NULL, pos[0], &count) != TCL_OK ||
		  count < 1 || count > VCPU_STEP_MAX))
		return isp_error(interp, "VALUE",
				 "expected a step count from 1 to %d but got "
				 "\"%s\"",
				 VCPU_STEP_MAX, Tcl_GetString(pos[0]));
	if (!(v = get_vcpu(isp, interp, cpu)))
		return TCL_ERROR;
	/* Events of before (our own stop's) must not pass for the step's. */
	isp_dispatch_events(interp);
	for (int i = 0; i < count; i++) {
		if (step_one(isp, interp, cpu, v,
			     irq ? 0 : VM_DBG_STEP_NOIRQ) != TCL_OK)
			return TCL_ERROR;
	}
	if ((r = vm_get_register(v, VM_REG_GUEST_RIP, &rip)) < 0)
		return isp_errno(interp, r, "cannot read rip of vCPU %d", cpu);
	Tcl_SetObjResult(interp, isp_hex(rip));
	return TCL_OK;
}

static int vcpu_select_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			   Tcl_Obj *const objv[])
{
	int cpu;

	if (objc > 2)
		return isp_usage(interp, objv, "?N?");
	if (objc == 2) {
		if (isp_get_cpu(isp, interp, objv[1], &cpu) != TCL_OK)
			return TCL_ERROR;
		isp->cpu = cpu;
	}
	Tcl_SetObjResult(interp, Tcl_NewIntObj(isp->cpu));
	return TCL_OK;
}

static const struct isp_cmd vcpu_cmds[] = {
	{ "list", vcpu_list_cmd, "",
	  "the vCPUs: a list of dicts {cpu state (running|stopped) activity "
	  "(run|halt|wait-init|wait-sipi|other) mode "
	  "(real|protected|compat|long) cpl rip sym (the symbol at rip, or "
	  "\"\")}",
	  ISP_VM },
	{ "regs", vcpu_regs_cmd, "?-cpu N? ?-all?",
	  "the registers of the selected vCPU (or N) as a dict name -> hex "
	  "value: rax..r15 rip rflags, the selectors, fs_base gs_base, cr0 "
	  "cr2 cr3 cr4 efer dr6 dr7; -all adds cr8, dr0-dr3, segment bases, "
	  "ldtr tr, gdtr/idtr, apic_base, tsc",
	  ISP_VM },
	{ "get", vcpu_get_cmd, "REG ?-cpu N?",
	  "one register (a name of vcpu regs -all, any case) of the selected "
	  "vCPU (or N), as hex",
	  ISP_VM },
	{ "set", vcpu_set_cmd, "REG VALUE ?-cpu N?",
	  "set a register of the selected vCPU (or N) to VALUE (a number or "
	  "a symbol); returns the value read back",
	  ISP_VM },
	{ "step", vcpu_step_cmd, "?COUNT? ?-cpu N? ?-irq?",
	  "single-step the selected vCPU (or N), which must be stopped, COUNT "
	  "instructions (default 1); returns the new rip.  Interrupts wait "
	  "until the vCPU runs again, where the host's KVM can hold them (as "
	  "gdb's steps); -irq lets them in, so a step may end in a handler.  "
	  "An error where this KVM cannot step",
	  ISP_VM },
	{ "select", vcpu_select_cmd, "?N?",
	  "the selected vCPU, which every -cpu defaults to; with N, select "
	  "vCPU N first",
	  ISP_VM },
	{ NULL },
};

const struct isp_group isp_group_vcpu = {
	.name = "vcpu",
	.summary = "the vCPUs: list, registers, step, select",
	.cmds = vcpu_cmds,
};
