/*
 * vmmapi.c: libvmmapi, one function per vmm command, plus the helpers
 * built from several (memory set-up, guest copies).
 *
 * Two transports behind one ctl(): in-process, each call is a vmm_ioctl()
 * on the VM this process created (or, for the monitor's services, a call
 * of the handler it registered); remote, each call is a request on the
 * VM's control socket (vmmapi_remote.c).  Handles carry no mutable state
 * after creation except the memory sizes set once by vm_setup_memory() and
 * the services handler set once before vCPUs run, so every function may be
 * called from any thread (vmmapi.h gives the rules on vCPU state).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "libvmmapi/vmmapi_priv.h"
#include "vmm/vmm.h"
#include "vmm/vmm_paging.h"

/* Remote semantics: a control socket, or a transport of the caller's. */
static bool is_remote(const struct vmctx *ctx)
{
	return ctx->remote || ctx->tops;
}

static int ctl(struct vmctx *ctx, uint32_t cmd, void *arg)
{
	if (ctx->remote)
		return vm_remote_call(ctx->remote, cmd, arg);
	if (ctx->tops)
		return ctx->tops->call(ctx->targ, cmd, arg);
	if (VMM_CMD_NR(cmd) >= VM_CTL_FIRST_NR)
		return ctx->services ?
			       ctx->services(ctx->services_arg, cmd, arg) :
			       -EOPNOTSUPP;
	return vmm_ioctl(ctx->vmm, cmd, arg);
}

struct vmctx *vm_create(const char *name)
{
	struct vmctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->vmm = vmm_create(name);
	if (!ctx->vmm) {
		int e = errno;

		free(ctx);
		errno = e;
		return NULL;
	}
	return ctx;
}

bool vm_name_valid(const char *name)
{
	return vmm_name_valid(name);
}

/* What the monitor said when a remote handle attached. */
static void ctx_hello(struct vmctx *ctx, const struct vm_ctl_hello *hello)
{
	ctx->hello = *hello;
	ctx->hello.name[sizeof(ctx->hello.name) - 1] = 0;
	if (ctx->hello.ncpus > VM_MAXCPU)
		ctx->hello.ncpus = VM_MAXCPU;
	ctx->lowmem = hello->lowmem;
	ctx->highmem = hello->highmem;
}

struct vmctx *vm_open(const char *name)
{
	struct vmctx *ctx = calloc(1, sizeof(*ctx));
	struct vm_ctl_hello hello;
	int r;

	if (!ctx)
		return NULL;
	r = vm_remote_open(name, &ctx->remote, &hello);
	if (r < 0) {
		free(ctx);
		errno = -r;
		return NULL;
	}
	ctx_hello(ctx, &hello);
	return ctx;
}

struct vmctx *vm_open_transport(const struct vm_transport_ops *ops, void *arg)
{
	struct vmctx *ctx = calloc(1, sizeof(*ctx));
	struct vm_ctl_hello hello = { .abi = VMM_ABI_VERSION };
	int r;

	if (!ctx)
		return NULL;
	ctx->tops = ops;
	ctx->targ = arg;
	r = ops->call(arg, VM_CTL_HELLO, &hello);
	if (r < 0) {
		free(ctx);
		errno = -r;
		return NULL;
	}
	ctx_hello(ctx, &hello);
	return ctx;
}

void vm_destroy(struct vmctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->remote)
		vm_remote_close(ctx->remote);
	else if (ctx->tops) {
		if (ctx->tops->close)
			ctx->tops->close(ctx->targ);
	} else
		vmm_destroy(ctx->vmm);
	free(ctx);
}

int vm_get_info(struct vmctx *ctx, struct vm_ctl_hello *info)
{
	if (!is_remote(ctx))
		return -EOPNOTSUPP;
	*info = ctx->hello;
	return 0;
}

int vm_get_region(struct vmctx *ctx, int index, struct vm_ctl_region *out)
{
	struct vm_ctl_region r = { .index = index };
	int ret;

	if (!is_remote(ctx))
		return -EOPNOTSUPP;
	if (index < 0)
		return -EINVAL;
	ret = ctl(ctx, VM_CTL_REGION, &r);
	if (ret == 0) {
		r.name[sizeof(r.name) - 1] = 0; /* from a socket, maybe */
		*out = r;
	}
	return ret;
}

int vm_trace_control(struct vmctx *ctx, struct vm_ctl_trace *t)
{
	int ret;

	if (!is_remote(ctx))
		return -EOPNOTSUPP;
	t->path[sizeof(t->path) - 1] = 0;
	t->spec[sizeof(t->spec) - 1] = 0;
	ret = ctl(ctx, VM_CTL_TRACE, t);
	/* From a socket, maybe: every string ends inside its array. */
	t->path[sizeof(t->path) - 1] = 0;
	t->spec[sizeof(t->spec) - 1] = 0;
	t->kernel[sizeof(t->kernel) - 1] = 0;
	t->error[sizeof(t->error) - 1] = 0;
	return ret;
}

int vm_dump_core(struct vmctx *ctx, struct vm_ctl_dump *d)
{
	int ret;

	if (!is_remote(ctx))
		return -EOPNOTSUPP;
	d->path[sizeof(d->path) - 1] = 0;
	/* A large guest takes a while to write. */
	vm_set_ctl_timeout(ctx, 3600u * 1000u);
	ret = ctl(ctx, VM_CTL_DUMP_CORE, d);
	vm_set_ctl_timeout(ctx, VM_CTL_TIMEOUT_MS);
	d->path[sizeof(d->path) - 1] = 0;
	d->error[sizeof(d->error) - 1] = 0;
	return ret;
}

int vm_trace_fetch(struct vmctx *ctx, struct vm_ctl_trace_read *r)
{
	int ret;

	if (!is_remote(ctx))
		return -EOPNOTSUPP;
	ret = ctl(ctx, VM_CTL_TRACE_READ, r);
	if (ret == 0 && r->len > sizeof(r->buf))
		return -EPROTO;
	return ret;
}

bool vm_is_remote(const struct vmctx *ctx)
{
	return is_remote(ctx);
}

const char *vm_get_name(const struct vmctx *ctx)
{
	return is_remote(ctx) ? ctx->hello.name : vmm_name(ctx->vmm);
}

void vm_set_services(struct vmctx *ctx, vm_services_fn *fn, void *arg)
{
	ctx->services = fn;
	ctx->services_arg = arg;
}

int vm_get_ncpus(struct vmctx *ctx)
{
	struct vm_cpuset cpus;
	int r, n = 0;

	if (is_remote(ctx))
		return ctx->hello.ncpus;
	if ((r = vm_active_cpus(ctx, &cpus)) < 0)
		return r;
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm_cpuset_isset(&cpus, i))
			n = i + 1;
	}
	return n;
}

void vm_set_ctl_timeout(struct vmctx *ctx, unsigned int ms)
{
	if (ctx->remote)
		vm_remote_set_timeout(ctx->remote, ms);
}

int vm_command(struct vmctx *ctx, uint32_t cmd, void *arg)
{
	if (VMM_CMD_SIZE(cmd) && !arg)
		return -EFAULT;
	return ctl(ctx, cmd, arg);
}

int vm_events_subscribe(struct vmctx *ctx, uint32_t mask)
{
	struct vm_dbg_subscribe s = { .mask = mask };

	if (!is_remote(ctx))
		return -EOPNOTSUPP;
	return ctl(ctx, VM_DBG_SUBSCRIBE, &s);
}

int vm_event_fd(struct vmctx *ctx)
{
	if (ctx->tops)
		return ctx->tops->event_fd ? ctx->tops->event_fd(ctx->targ) :
					     -EOPNOTSUPP;
	return ctx->remote ? vm_remote_event_fd(ctx->remote) : -EOPNOTSUPP;
}

int vm_event_next(struct vmctx *ctx, struct vm_event *ev, int timeout_ms)
{
	if (ctx->tops)
		return ctx->tops->event_next ?
			       ctx->tops->event_next(ctx->targ, ev,
						     timeout_ms) :
			       -EOPNOTSUPP;
	if (!ctx->remote)
		return -EOPNOTSUPP;
	return vm_remote_event_next(ctx->remote, ev, timeout_ms);
}

struct vcpu *vm_vcpu_open(struct vmctx *ctx, int vcpuid)
{
	struct vcpu *v;

	if (vcpuid < 0 || vcpuid >= VM_MAXCPU ||
	    (is_remote(ctx) && (unsigned)vcpuid >= ctx->hello.ncpus)) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->ctx = ctx;
	v->id = vcpuid;
	return v;
}

void vm_vcpu_close(struct vcpu *vcpu)
{
	free(vcpu);
}

int vcpu_id(const struct vcpu *vcpu)
{
	return vcpu->id;
}

struct vmctx *vcpu_ctx(const struct vcpu *vcpu)
{
	return vcpu->ctx;
}

int vm_set_topology(struct vmctx *ctx, uint16_t sockets, uint16_t cores,
		    uint16_t threads, uint16_t maxcpus)
{
	struct vm_cpu_topology t = { sockets, cores, threads, maxcpus };

	return ctl(ctx, VM_SET_TOPOLOGY, &t);
}

int vm_get_topology(struct vmctx *ctx, uint16_t *sockets, uint16_t *cores,
		    uint16_t *threads, uint16_t *maxcpus)
{
	struct vm_cpu_topology t = ctx->hello.topo;
	/* Remotely the monitor's hello said it; it cannot change there. */
	int r = is_remote(ctx) ? 0 : ctl(ctx, VM_GET_TOPOLOGY, &t);

	if (r == 0) {
		*sockets = t.sockets;
		*cores = t.cores;
		*threads = t.threads;
		*maxcpus = t.maxcpus;
	}
	return r;
}

int vm_set_cpu_model(struct vmctx *ctx, enum vm_cpu_model_id model,
		     const struct vm_cpuid_mask *hide,
		     struct vm_cpuid_mask *hidden)
{
	struct vm_cpu_model m = { .model = model };
	int r;

	if (hide)
		m.hide = *hide;
	r = ctl(ctx, VM_SET_CPU_MODEL, &m);
	if (r == 0 && hidden)
		*hidden = m.hidden;
	return r;
}

int vm_get_cpu_model(struct vmctx *ctx, struct vm_cpu_model *m)
{
	struct vm_cpu_model t = { 0 };
	int r = ctl(ctx, VM_GET_CPU_MODEL, &t);

	if (r == 0)
		*m = t;
	return r;
}

int vm_cpuid_probe(struct vmctx *ctx, struct vm_cpuid_probe *p)
{
	struct vm_cpuid_probe t = { 0 };
	int r = ctl(ctx, VM_CPUID_PROBE, &t);

	if (r == 0)
		*p = t;
	return r;
}

int vm_activate_cpu(struct vcpu *vcpu)
{
	struct vm_activate_cpu a = { vcpu->id };

	return ctl(vcpu->ctx, VM_ACTIVATE_CPU, &a);
}

static int get_cpus(struct vmctx *ctx, enum vm_cpuset_which which,
		    struct vm_cpuset *cpus)
{
	struct vm_cpus c = { .which = which };
	int r = ctl(ctx, VM_GET_CPUS, &c);

	if (r == 0)
		*cpus = c.cpus;
	return r;
}

int vm_active_cpus(struct vmctx *ctx, struct vm_cpuset *cpus)
{
	return get_cpus(ctx, VM_ACTIVE_CPUS, cpus);
}

int vm_suspended_cpus(struct vmctx *ctx, struct vm_cpuset *cpus)
{
	return get_cpus(ctx, VM_SUSPENDED_CPUS, cpus);
}

int vm_debug_cpus(struct vmctx *ctx, struct vm_cpuset *cpus)
{
	return get_cpus(ctx, VM_DEBUG_CPUS, cpus);
}

int vm_suspend(struct vmctx *ctx, enum vm_suspend_how how)
{
	struct vm_suspend s = { how };

	return ctl(ctx, VM_SUSPEND, &s);
}

int vm_check_halt(struct vmctx *ctx)
{
	return ctl(ctx, VM_CHECK_HALT, NULL);
}

int vm_reinit(struct vmctx *ctx)
{
	return ctl(ctx, VM_REINIT, NULL);
}

/* Memory. */

int vm_alloc_memseg(struct vmctx *ctx, int segid, size_t len, const char *name)
{
	return vm_alloc_memseg_flags(ctx, segid, len, name, 0);
}

int vm_alloc_memseg_flags(struct vmctx *ctx, int segid, size_t len,
			  const char *name, unsigned flags)
{
	struct vm_memseg ms = { .segid = segid, .flags = flags, .len = len };

	if (name) {
		if (strlen(name) >= sizeof(ms.name))
			return -ENAMETOOLONG;
		strcpy(ms.name, name);
	}
	return ctl(ctx, VM_ALLOC_MEMSEG, &ms);
}

int vm_get_memseg_info(struct vmctx *ctx, int segid, struct vm_memseg *ms)
{
	int r;

	*ms = (struct vm_memseg){ .segid = segid };
	r = ctl(ctx, VM_GET_MEMSEG, ms);
	ms->name[sizeof(ms->name) - 1] = 0; /* from a socket, maybe */
	return r;
}

int vm_get_memseg(struct vmctx *ctx, int segid, size_t *len, char *name,
		  size_t namelen)
{
	struct vm_memseg ms = { .segid = segid };
	int r = ctl(ctx, VM_GET_MEMSEG, &ms);

	if (r == 0) {
		ms.name[sizeof(ms.name) - 1] = 0; /* from a socket, maybe */
		if (name && strlen(ms.name) >= namelen)
			return -ENAMETOOLONG;
		*len = ms.len;
		if (name)
			strcpy(name, ms.name);
	}
	return r;
}

int vm_mmap_memseg(struct vmctx *ctx, uint64_t gpa, int segid, uint64_t segoff,
		   size_t len, int prot)
{
	struct vm_memmap mm = {
		.gpa = gpa,
		.segid = segid,
		.segoff = segoff,
		.len = len,
		.prot = prot,
	};

	return ctl(ctx, VM_MMAP_MEMSEG, &mm);
}

int vm_munmap_memseg(struct vmctx *ctx, uint64_t gpa, size_t len)
{
	struct vm_munmap mu = { gpa, len };

	return ctl(ctx, VM_MUNMAP_MEMSEG, &mu);
}

int vm_mmap_getnext(struct vmctx *ctx, uint64_t *gpa, int *segid,
		    uint64_t *segoff, size_t *len, int *prot, int *flags)
{
	struct vm_memmap mm = { .gpa = *gpa };
	int r = ctl(ctx, VM_MMAP_GETNEXT, &mm);

	if (r == 0) {
		*gpa = mm.gpa;
		*segid = mm.segid;
		*segoff = mm.segoff;
		*len = mm.len;
		*prot = mm.prot;
		*flags = mm.flags;
	}
	return r;
}

int vm_protect_gpa(struct vmctx *ctx, uint64_t gpa, size_t len, int prot)
{
	struct vm_gpa_prot gp = { .gpa = gpa, .len = len, .prot = prot };

	return ctl(ctx, VM_PROTECT_GPA, &gp);
}

int vm_setup_memory(struct vmctx *ctx, size_t len)
{
	return vm_setup_memory_flags(ctx, len, 0);
}

int vm_setup_memory_flags(struct vmctx *ctx, size_t len, unsigned flags)
{
	const int prot = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC;
	size_t low = len < VM_LOWMEM_LIMIT ? len : VM_LOWMEM_LIMIT;
	int r;

	if (len == 0 || len % 4096)
		return -EINVAL;
	if ((r = vm_alloc_memseg_flags(ctx, VM_SYSMEM, len, NULL, flags)) < 0)
		return r;
	if ((r = vm_mmap_memseg(ctx, 0, VM_SYSMEM, 0, low, prot)) < 0)
		return r;
	if (len > low && (r = vm_mmap_memseg(ctx, VM_HIGHMEM_BASE, VM_SYSMEM,
					     low, len - low, prot)) < 0)
		return r;
	ctx->lowmem = low;
	ctx->highmem = len - low;
	return 0;
}

size_t vm_get_lowmem_size(struct vmctx *ctx)
{
	return ctx->lowmem;
}

size_t vm_get_highmem_size(struct vmctx *ctx)
{
	return ctx->highmem;
}

void *vm_create_devmem(struct vmctx *ctx, int segid, const char *name,
		       uint64_t gpa, size_t len)
{
	int r;
	void *p;

	if (!name || !name[0]) {
		errno = EINVAL;
		return NULL;
	}
	r = vm_alloc_memseg(ctx, segid, len, name);
	if (r == 0)
		r = vm_mmap_memseg(ctx, gpa, segid, 0, len,
				   VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	p = vm_map_gpa(ctx, gpa, len);
	return p;
}

void *vm_map_gpa(struct vmctx *ctx, uint64_t gpa, size_t len)
{
	struct vm_gpa2hva a = { .gpa = gpa, .len = len };
	int r = is_remote(ctx) ? -EOPNOTSUPP : ctl(ctx, VM_GPA2HVA, &a);

	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return a.hva;
}

/*
 * Guest-physical memory by value.  In-process a direct copy, page by page
 * (each page may lie in another map); remotely VM_READ_GPA / VM_WRITE_GPA
 * in pieces of VM_GPA_RW_MAX.
 */
static ssize_t gpa_copy(struct vmctx *ctx, uint64_t gpa, void *buf, size_t len,
			bool write)
{
	size_t done = 0;
	int r = 0;

	while (done < len) {
		uint64_t a = gpa + done;
		size_t n = 4096 - (a & 4095);

		if (n > len - done)
			n = len - done;
		if (is_remote(ctx)) {
			struct vm_gpa_rw rw = { .gpa = a, .len = n };

			if (write)
				memcpy(rw.data, (uint8_t *)buf + done, n);
			r = ctl(ctx, write ? VM_WRITE_GPA : VM_READ_GPA, &rw);
			/* A reply is input: never more than was asked. */
			if (r == 0 && (rw.len == 0 || rw.len > n))
				r = -EPROTO;
			if (r < 0)
				break;
			if (!write)
				memcpy((uint8_t *)buf + done, rw.data, rw.len);
			done += rw.len;
			if (rw.len < n)
				break;
		} else {
			uint8_t *p = vm_map_gpa(ctx, a, n);

			if (!p)
				break;
			if (write)
				memcpy(p, (uint8_t *)buf + done, n);
			else
				memcpy((uint8_t *)buf + done, p, n);
			done += n;
		}
	}
	if (done == 0 && len > 0)
		return r < 0 && r != -EFAULT ? r : -EFAULT;
	return done;
}

ssize_t vm_read_gpa(struct vmctx *ctx, uint64_t gpa, void *buf, size_t len)
{
	return gpa_copy(ctx, gpa, buf, len, false);
}

ssize_t vm_write_gpa(struct vmctx *ctx, uint64_t gpa, const void *buf,
		     size_t len)
{
	return gpa_copy(ctx, gpa, (void *)buf, len, true);
}

/* Running and registers. */

const char *vm_exitcode_name(enum vm_exitcode code)
{
	return vmm_exitcode_name(code);
}

const char *vm_suspend_name(enum vm_suspend_how how)
{
	return vmm_suspend_name(how);
}

const char *vm_reg_name(int reg)
{
	return vmm_reg_name(reg);
}
int vm_kick_signal(void)
{
	return vmm_kick_signal();
}

int vm_run(struct vcpu *vcpu, struct vm_exit *vmexit)
{
	struct vm_run a = { .cpuid = vcpu->id, .vm_exit = vmexit };

	return ctl(vcpu->ctx, VM_RUN, &a);
}

int vm_get_register(struct vcpu *vcpu, int reg, uint64_t *val)
{
	struct vm_register a = { vcpu->id, reg, 0 };
	int r = ctl(vcpu->ctx, VM_GET_REGISTER, &a);

	if (r == 0)
		*val = a.regval;
	return r;
}

int vm_set_register(struct vcpu *vcpu, int reg, uint64_t val)
{
	struct vm_register a = { vcpu->id, reg, val };

	return ctl(vcpu->ctx, VM_SET_REGISTER, &a);
}

int vm_get_register_set(struct vcpu *vcpu, unsigned int count,
			const int *regnums, uint64_t *regvals)
{
	struct vm_register_set a = { .cpuid = vcpu->id, .count = count };
	int r;

	if (count > VM_REGSET_MAX)
		return -E2BIG;
	memcpy(a.regnums, regnums, count * sizeof(*regnums));
	r = ctl(vcpu->ctx, VM_GET_REGISTER_SET, &a);
	if (r == 0)
		memcpy(regvals, a.regvals, count * sizeof(*regvals));
	return r;
}

int vm_set_register_set(struct vcpu *vcpu, unsigned int count,
			const int *regnums, const uint64_t *regvals)
{
	struct vm_register_set a = { .cpuid = vcpu->id, .count = count };

	if (count > VM_REGSET_MAX)
		return -E2BIG;
	memcpy(a.regnums, regnums, count * sizeof(*regnums));
	memcpy(a.regvals, regvals, count * sizeof(*regvals));
	return ctl(vcpu->ctx, VM_SET_REGISTER_SET, &a);
}

/* Debugging. */

static int debug_cpu(struct vmctx *ctx, uint32_t cmd, int cpuid)
{
	struct vm_activate_cpu a = { cpuid };

	return ctl(ctx, cmd, &a);
}

int vm_suspend_cpu(struct vcpu *vcpu)
{
	return debug_cpu(vcpu->ctx, VM_SUSPEND_CPU, vcpu->id);
}

int vm_resume_cpu(struct vcpu *vcpu)
{
	return debug_cpu(vcpu->ctx, VM_RESUME_CPU, vcpu->id);
}

int vm_suspend_all_cpus(struct vmctx *ctx)
{
	return debug_cpu(ctx, VM_SUSPEND_CPU, -1);
}

int vm_resume_all_cpus(struct vmctx *ctx)
{
	return debug_cpu(ctx, VM_RESUME_CPU, -1);
}

int vm_get_capability(struct vcpu *vcpu, enum vm_cap_type cap, int *val)
{
	struct vm_capability a = { vcpu->id, cap, 0 };
	int r = ctl(vcpu->ctx, VM_GET_CAPABILITY, &a);

	if (r == 0)
		*val = a.capval;
	return r;
}

int vm_set_capability(struct vcpu *vcpu, enum vm_cap_type cap, int val)
{
	struct vm_capability a = { vcpu->id, cap, val };

	return ctl(vcpu->ctx, VM_SET_CAPABILITY, &a);
}

int vm_get_run_state(struct vcpu *vcpu, enum vm_runstate *state)
{
	struct vm_run_state rs = { .cpuid = vcpu->id };
	int r = ctl(vcpu->ctx, VM_GET_RUN_STATE, &rs);

	if (r == 0)
		*state = rs.state;
	return r;
}

int vm_set_hw_debug(struct vcpu *vcpu, bool enable, const uint64_t dr[4],
		    uint64_t dr7)
{
	struct vm_hw_debug a = { .cpuid = vcpu->id,
				 .enable = enable,
				 .dr7 = dr7 };

	if (enable)
		memcpy(a.dr, dr, sizeof(a.dr));
	return ctl(vcpu->ctx, VM_SET_HW_DEBUG, &a);
}

int vm_get_hw_debug(struct vcpu *vcpu, bool *enable, uint64_t dr[4],
		    uint64_t *dr7)
{
	struct vm_hw_debug a = { .cpuid = vcpu->id };
	int r = ctl(vcpu->ctx, VM_GET_HW_DEBUG, &a);

	if (r == 0) {
		*enable = a.enable;
		memcpy(dr, a.dr, sizeof(a.dr));
		*dr7 = a.dr7;
	}
	return r;
}

/* Translation. */

int vm_gla2gpa_walk(struct vcpu *vcpu, struct vm_gla2gpa *walk, bool nofault)
{
	walk->cpuid = vcpu->id;
	return ctl(vcpu->ctx, nofault ? VM_GLA2GPA_NOFAULT : VM_GLA2GPA, walk);
}

int vm_get_guest_paging(struct vcpu *vcpu, struct vm_guest_paging *paging)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	VM_REG_GUEST_CR3,
		VM_REG_GUEST_CR4,	VM_REG_GUEST_EFER,
		VM_REG_GUEST_RFLAGS,	VM_REG_GUEST_CS_ACCESS,
		VM_REG_GUEST_SS_ACCESS,
	};
	uint64_t v[7];
	int r;

	if ((r = vm_get_register_set(vcpu, 7, regs, v)) < 0)
		return r;
	vmm_paging_from_regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], paging);
	return 0;
}

static int gla2gpa(struct vcpu *vcpu, const struct vm_guest_paging *paging,
		   uint64_t gla, int prot, uint64_t *gpa, int *fault,
		   bool nofault)
{
	struct vm_gla2gpa w = { .gla = gla, .prot = prot };
	int r;

	if (paging)
		w.paging = *paging;
	else
		w.use_current = true;
	r = vm_gla2gpa_walk(vcpu, &w, nofault);
	if (r == 0) {
		*fault = w.fault;
		if (!w.fault)
			*gpa = w.gpa;
	}
	return r;
}

int vm_gla2gpa(struct vcpu *vcpu, const struct vm_guest_paging *paging,
	       uint64_t gla, int prot, uint64_t *gpa, int *fault)
{
	return gla2gpa(vcpu, paging, gla, prot, gpa, fault, false);
}

int vm_gla2gpa_nofault(struct vcpu *vcpu, const struct vm_guest_paging *paging,
		       uint64_t gla, int prot, uint64_t *gpa, int *fault)
{
	return gla2gpa(vcpu, paging, gla, prot, gpa, fault, true);
}

/*
 * Copy page by page with one paging state; stop at the first page that is
 * not mapped or not memory.
 */
static ssize_t guest_copy(struct vcpu *vcpu, const struct vm_guest_paging *pg,
			  uint64_t gla, void *buf, size_t len, bool to_guest)
{
	size_t done = 0;
	int r = 0;

	while (done < len) {
		uint64_t a = gla + done, gpa;
		size_t n = 4096 - (a & 4095);
		ssize_t got;
		int fault;

		if (n > len - done)
			n = len - done;
		r = vm_gla2gpa_nofault(vcpu, pg, a,
				       to_guest ? VM_PROT_WRITE : VM_PROT_READ,
				       &gpa, &fault);
		if (r < 0 || fault)
			break;
		got = gpa_copy(vcpu->ctx, gpa, (uint8_t *)buf + done, n,
			       to_guest);
		if (got <= 0)
			break;
		done += got;
		if ((size_t)got < n)
			break;
	}
	if (done == 0 && len > 0)
		return r < 0 ? r : -EFAULT;
	return done;
}

ssize_t vm_copyin_paging(struct vcpu *vcpu,
			 const struct vm_guest_paging *paging, uint64_t gla,
			 void *buf, size_t len)
{
	return guest_copy(vcpu, paging, gla, buf, len, false);
}

ssize_t vm_copyout_paging(struct vcpu *vcpu,
			  const struct vm_guest_paging *paging, const void *buf,
			  uint64_t gla, size_t len)
{
	return guest_copy(vcpu, paging, gla, (void *)buf, len, true);
}

ssize_t vm_copyin(struct vcpu *vcpu, uint64_t gla, void *buf, size_t len)
{
	struct vm_guest_paging pg;
	int r = vm_get_guest_paging(vcpu, &pg);

	return r < 0 ? r : guest_copy(vcpu, &pg, gla, buf, len, false);
}

ssize_t vm_copyout(struct vcpu *vcpu, const void *buf, uint64_t gla, size_t len)
{
	struct vm_guest_paging pg;
	int r = vm_get_guest_paging(vcpu, &pg);

	return r < 0 ? r : guest_copy(vcpu, &pg, gla, (void *)buf, len, true);
}

/* Events. */

int vm_inject_exception(struct vcpu *vcpu, int vector, bool errcode_valid,
			uint32_t errcode, uint64_t payload)
{
	struct vm_exception e = {
		.cpuid = vcpu->id,
		.vector = vector,
		.error_code_valid = errcode_valid,
		.error_code = errcode,
		.payload = payload,
	};

	return ctl(vcpu->ctx, VM_INJECT_EXCEPTION, &e);
}

int vm_inject_trap(struct vcpu *vcpu, int vector, unsigned int inst_length)
{
	struct vm_exception e = {
		.cpuid = vcpu->id,
		.vector = vector,
		.inst_length = inst_length,
	};

	return ctl(vcpu->ctx, VM_INJECT_EXCEPTION, &e);
}

int vm_inject_nmi(struct vcpu *vcpu)
{
	struct vm_nmi n = { vcpu->id };

	return ctl(vcpu->ctx, VM_INJECT_NMI, &n);
}

static int irq(struct vmctx *ctx, uint32_t cmd, int line)
{
	struct vm_irq a = { line };

	return ctl(ctx, cmd, &a);
}

int vm_isa_assert_irq(struct vmctx *ctx, int line)
{
	return irq(ctx, VM_ISA_ASSERT_IRQ, line);
}

int vm_isa_deassert_irq(struct vmctx *ctx, int line)
{
	return irq(ctx, VM_ISA_DEASSERT_IRQ, line);
}

int vm_isa_pulse_irq(struct vmctx *ctx, int line)
{
	return irq(ctx, VM_ISA_PULSE_IRQ, line);
}

int vm_lapic_msi(struct vmctx *ctx, uint64_t addr, uint64_t data)
{
	struct vm_msi m = { addr, data };

	return ctl(ctx, VM_LAPIC_MSI, &m);
}

/* The CMOS RTC. */

static int rtc_write(struct vmctx *ctx, int offset, uint8_t value,
		     uint8_t flags)
{
	struct vm_rtc_data d = { .offset = offset,
				 .value = value,
				 .flags = flags };

	return ctl(ctx, VM_RTC_WRITE, &d);
}

static int rtc_read(struct vmctx *ctx, int offset, uint8_t *retval,
		    uint8_t flags)
{
	struct vm_rtc_data d = { .offset = offset, .flags = flags };
	int r = ctl(ctx, VM_RTC_READ, &d);

	if (r == 0)
		*retval = d.value;
	return r;
}

int vm_rtc_write(struct vmctx *ctx, int offset, uint8_t value)
{
	return rtc_write(ctx, offset, value, 0);
}

int vm_rtc_read(struct vmctx *ctx, int offset, uint8_t *retval)
{
	return rtc_read(ctx, offset, retval, 0);
}

int vm_rtc_guest_write(struct vmctx *ctx, int offset, uint8_t value)
{
	return rtc_write(ctx, offset, value, VM_RTC_F_GUEST);
}

int vm_rtc_guest_read(struct vmctx *ctx, int offset, uint8_t *retval)
{
	return rtc_read(ctx, offset, retval, VM_RTC_F_GUEST);
}

int vm_rtc_settime(struct vmctx *ctx, time_t secs)
{
	struct vm_rtc_time t = { .secs = secs };

	return ctl(ctx, VM_RTC_SETTIME, &t);
}

int vm_rtc_gettime(struct vmctx *ctx, time_t *secs)
{
	struct vm_rtc_time t;
	int r = ctl(ctx, VM_RTC_GETTIME, &t);

	if (r == 0)
		*secs = (time_t)t.secs;
	return r;
}

/* The HPET. */

int vm_hpet_read(struct vmctx *ctx, uint32_t offset, unsigned size,
		 uint64_t *retval)
{
	struct vm_hpet_mmio m = { .offset = offset, .size = size };
	int r = ctl(ctx, VM_HPET_MMIO_READ, &m);

	if (r == 0)
		*retval = m.value;
	return r;
}

int vm_hpet_write(struct vmctx *ctx, uint32_t offset, unsigned size,
		  uint64_t value)
{
	struct vm_hpet_mmio m = { .offset = offset,
				  .size = size,
				  .value = value };

	return ctl(ctx, VM_HPET_MMIO_WRITE, &m);
}

int vm_hpet_get_state(struct vmctx *ctx, struct vm_hpet_state *state)
{
	struct vm_hpet_state s;
	int r = ctl(ctx, VM_HPET_GET_STATE, &s);

	if (r == 0)
		*state = s;
	return r;
}

int vm_hpet_set_state(struct vmctx *ctx, const struct vm_hpet_state *state)
{
	struct vm_hpet_state s = *state;

	return ctl(ctx, VM_HPET_SET_STATE, &s);
}

/* The debug core's services. */

int vm_debug_stop(struct vmctx *ctx, int cpuid, unsigned int timeout_ms,
		  struct vm_dbg_stop *out)
{
	struct vm_dbg_stop s = { .cpuid = cpuid, .timeout_ms = timeout_ms };
	int r = ctl(ctx, VM_DBG_STOP, &s);

	/* A late vCPU is a result too: say which, with the error. */
	if (out && (r == 0 || r == -ETIMEDOUT))
		*out = s;
	return r;
}

int vm_debug_resume(struct vmctx *ctx, int cpuid)
{
	struct vm_dbg_cpu c = { .cpuid = cpuid, .owner = -1 };

	return ctl(ctx, VM_DBG_RESUME, &c);
}

int vm_debug_step(struct vcpu *vcpu, unsigned int flags)
{
	struct vm_dbg_cpu c = { .cpuid = vcpu->id,
				.flags = flags,
				.owner = -1 };

	return ctl(vcpu->ctx, VM_DBG_STEP, &c);
}

int vm_debug_breakpoint(struct vcpu *vcpu, bool insert,
			enum vm_dbg_bp_type type, uint64_t addr, uint64_t len)
{
	struct vm_dbg_bp b = {
		.owner = -1,
		.cpuid = vcpu->id,
		.type = type,
		.insert = insert,
		.addr = addr,
		.len = len,
	};

	return ctl(vcpu->ctx, VM_DBG_BREAKPOINT, &b);
}

/* Statistics. */

int vm_get_stats(struct vcpu *vcpu, uint64_t *buf, int max, int *count)
{
	struct vm_stats st;
	int n = 0, r;

	if (max < 0)
		return -EINVAL;
	for (;;) {
		st.cpuid = vcpu->id;
		st.index = n;
		if ((r = ctl(vcpu->ctx, VM_STATS, &st)) < 0)
			return r;
		if (st.num_entries < 0 || st.num_entries > VM_STATS_BATCH ||
		    n > INT_MAX - VM_STATS_BATCH)
			return -EPROTO;
		for (int i = 0; i < st.num_entries && n + i < max; i++)
			buf[n + i] = st.statbuf[i];
		n += st.num_entries;
		if (st.num_entries < VM_STATS_BATCH)
			break;
	}
	*count = n;
	return 0;
}

int vm_get_stat_desc(struct vmctx *ctx, int index, char *buf, size_t len)
{
	struct vm_stat_desc d = { .index = index };
	int r = ctl(ctx, VM_STAT_DESC, &d);

	if (r == 0) {
		d.desc[sizeof(d.desc) - 1] = 0; /* from a socket, maybe */
		if (strlen(d.desc) >= len)
			return -ENAMETOOLONG;
		strcpy(buf, d.desc);
	}
	return r;
}
