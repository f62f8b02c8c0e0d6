/*
 * dbg_fake_vmm.c: the fake libvmmapi of dbg_fake_vmm.h.  Only what the
 * debug core (and vitro.c, which it links) calls is here; a call the
 * fake does not know fails to link, which is the point.
 *
 * Locking: fake.lock around every access, so fake vCPU threads and the
 * test's main thread may call in at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/dbg_fake_vmm.h"

struct vmctx {
	int dummy;
	vm_services_fn *services;
	void *services_arg;
};

struct vcpu {
	int id;
};

struct fake_vm fake;
static struct vmctx ctx_storage;
static struct vcpu vcpu_storage[DBG_FAKE_NCPU];
struct vmctx *fake_ctx = &ctx_storage;
struct vcpu *fake_vcpus[DBG_FAKE_NCPU];

void fake_vm_init(void)
{
	static bool once;

	if (!once) {
		pthread_mutex_init(&fake.lock, NULL);
		once = true;
	}
	pthread_mutex_lock(&fake.lock);
	memset(fake.cpu, 0, sizeof(fake.cpu));
	memset(fake.mem, 0x90, sizeof(fake.mem)); /* nop */
	for (size_t i = 0; i < sizeof(fake.prot) / sizeof(fake.prot[0]); i++)
		fake.prot[i] = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC;
	fake.trap_db_ok = false;
	fake.suspended = 0;
	for (int i = 0; i < DBG_FAKE_NCPU; i++) {
		vcpu_storage[i].id = i;
		fake_vcpus[i] = &vcpu_storage[i];
		fake.cpu[i].regs[VM_REG_GUEST_RIP] = 0x1000;
		fake.cpu[i].regs[VM_REG_GUEST_RFLAGS] = 0x2;
		fake.cpu[i].regs[VM_REG_GUEST_CR0] = 0x80000011;
		fake.cpu[i].regs[VM_REG_GUEST_EFER] = 0x500;
		fake.cpu[i].regs[VM_REG_GUEST_IDTR_BASE] = 0x80000;
		fake.cpu[i].regs[VM_REG_GUEST_GDTR_BASE] = 0x81000;
		fake.cpu[i].regs[VM_REG_GUEST_TR_BASE] = 0x82000;
	}
	pthread_mutex_unlock(&fake.lock);
}

bool fake_debug(int cpu)
{
	bool r;

	pthread_mutex_lock(&fake.lock);
	r = fake.cpu[cpu].debug;
	pthread_mutex_unlock(&fake.lock);
	return r;
}

int fake_cap(int cpu, enum vm_cap_type cap)
{
	int r;

	pthread_mutex_lock(&fake.lock);
	r = fake.cpu[cpu].caps[cap];
	pthread_mutex_unlock(&fake.lock);
	return r;
}

int fake_ninj(int cpu)
{
	int r;

	pthread_mutex_lock(&fake.lock);
	r = fake.cpu[cpu].ninj;
	pthread_mutex_unlock(&fake.lock);
	return r;
}

struct fake_inject fake_inj(int cpu, int k)
{
	struct fake_inject r;

	pthread_mutex_lock(&fake.lock);
	r = fake.cpu[cpu].inj[k];
	pthread_mutex_unlock(&fake.lock);
	return r;
}

static struct fake_cpu *fcpu(struct vcpu *v)
{
	return &fake.cpu[v->id];
}

/* Linear to physical, as vCPU v's paging maps it. */
static uint64_t fake_xlate(struct vcpu *v, uint64_t gla)
{
	return v->id == DBG_FAKE_SHIFTED_CPU ? gla + DBG_FAKE_SHIFT : gla;
}

/* Handles and lifecycle: the probes get no scratch VM here. */

struct vmctx *vm_create(const char *name)
{
	errno = ENOSYS;
	return NULL;
}

void vm_destroy(struct vmctx *ctx)
{
}

int vm_setup_memory(struct vmctx *ctx, size_t len)
{
	return -ENOSYS;
}

struct vcpu *vm_vcpu_open(struct vmctx *ctx, int vcpuid)
{
	errno = ENOSYS;
	return NULL;
}

void vm_vcpu_close(struct vcpu *vcpu)
{
}

int vm_activate_cpu(struct vcpu *vcpu)
{
	return -ENOSYS;
}

int vm_run(struct vcpu *vcpu, struct vm_exit *vmexit)
{
	return -ENOSYS;
}

void vm_set_services(struct vmctx *ctx, vm_services_fn *fn, void *arg)
{
	ctx->services = fn;
	ctx->services_arg = arg;
}

int vm_suspend(struct vmctx *ctx, enum vm_suspend_how how)
{
	pthread_mutex_lock(&fake.lock);
	fake.suspended = how;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_active_cpus(struct vmctx *ctx, struct vm_cpuset *cpus)
{
	memset(cpus, 0, sizeof(*cpus));
	for (int i = 0; i < DBG_FAKE_NCPU; i++)
		vm_cpuset_set(cpus, i);
	return 0;
}

/* The debug set and capabilities. */

int vm_suspend_cpu(struct vcpu *vcpu)
{
	pthread_mutex_lock(&fake.lock);
	fcpu(vcpu)->debug = true;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_resume_cpu(struct vcpu *vcpu)
{
	pthread_mutex_lock(&fake.lock);
	fcpu(vcpu)->debug = false;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_suspend_all_cpus(struct vmctx *ctx)
{
	pthread_mutex_lock(&fake.lock);
	for (int i = 0; i < DBG_FAKE_NCPU; i++)
		fake.cpu[i].debug = true;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_resume_all_cpus(struct vmctx *ctx)
{
	pthread_mutex_lock(&fake.lock);
	for (int i = 0; i < DBG_FAKE_NCPU; i++)
		fake.cpu[i].debug = false;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_get_capability(struct vcpu *vcpu, enum vm_cap_type cap, int *val)
{
	if ((unsigned int)cap >= VM_CAP_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fake.lock);
	*val = fcpu(vcpu)->caps[cap];
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_set_capability(struct vcpu *vcpu, enum vm_cap_type cap, int val)
{
	struct fake_cpu *c = fcpu(vcpu);
	int r = 0;

	if ((unsigned int)cap >= VM_CAP_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fake.lock);
	if (val && c->refuse_cap == (int)cap + 1)
		r = c->refuse_err ? c->refuse_err : -ENOTSUP;
	else
		c->caps[cap] = !!val;
	pthread_mutex_unlock(&fake.lock);
	return r;
}

int vm_set_hw_debug(struct vcpu *vcpu, bool enable, const uint64_t dr[4],
		    uint64_t dr7)
{
	struct fake_cpu *c = fcpu(vcpu);

	pthread_mutex_lock(&fake.lock);
	c->hw = enable;
	memcpy(c->dr, dr, sizeof(c->dr));
	c->dr7 = dr7;
	c->hw_calls++;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_get_run_state(struct vcpu *vcpu, enum vm_runstate *state)
{
	*state = VRS_RUN;
	return 0;
}

/* Registers. */

int vm_get_register(struct vcpu *vcpu, int reg, uint64_t *val)
{
	if (reg < 0 || reg >= VM_REG_LAST)
		return -EINVAL;
	pthread_mutex_lock(&fake.lock);
	*val = fcpu(vcpu)->regs[reg];
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_set_register(struct vcpu *vcpu, int reg, uint64_t val)
{
	if (reg < 0 || reg >= VM_REG_LAST)
		return -EINVAL;
	pthread_mutex_lock(&fake.lock);
	fcpu(vcpu)->regs[reg] = val;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_get_register_set(struct vcpu *vcpu, unsigned int count,
			const int *regnums, uint64_t *regvals)
{
	for (unsigned int i = 0; i < count; i++) {
		int r = vm_get_register(vcpu, regnums[i], &regvals[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

int vm_set_register_set(struct vcpu *vcpu, unsigned int count,
			const int *regnums, const uint64_t *regvals)
{
	for (unsigned int i = 0; i < count; i++) {
		int r = vm_set_register(vcpu, regnums[i], regvals[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Memory and translation. */

void *vm_map_gpa(struct vmctx *ctx, uint64_t gpa, size_t len)
{
	if (gpa >= DBG_FAKE_MEM || len > DBG_FAKE_MEM - gpa) {
		errno = EFAULT;
		return NULL;
	}
	return fake.mem + gpa;
}

int vm_protect_gpa(struct vmctx *ctx, uint64_t gpa, size_t len, int prot)
{
	if ((gpa | len) & 4095 || gpa + len > DBG_FAKE_MEM)
		return -EINVAL;
	pthread_mutex_lock(&fake.lock);
	for (uint64_t a = gpa; a < gpa + len; a += 4096)
		fake.prot[a / 4096] = prot;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_get_guest_paging(struct vcpu *vcpu, struct vm_guest_paging *paging)
{
	memset(paging, 0, sizeof(*paging));
	paging->cpu_mode = CPU_MODE_64BIT;
	paging->paging_mode = PAGING_MODE_64;
	return 0;
}

int vm_gla2gpa_nofault(struct vcpu *vcpu, const struct vm_guest_paging *paging,
		       uint64_t gla, int prot, uint64_t *gpa, int *fault)
{
	uint64_t g = fake_xlate(vcpu, gla);

	*fault = g >= DBG_FAKE_MEM;
	if (!*fault)
		*gpa = g;
	return 0;
}

int vm_gla2gpa_walk(struct vcpu *vcpu, struct vm_gla2gpa *walk, bool nofault)
{
	/* One level: the table at CR3 (0x90000 in the fake). */
	walk->levels = 1;
	walk->pte[0] = 0;
	walk->fault = 0;
	walk->gpa = fake_xlate(vcpu, walk->gla);
	return 0;
}

ssize_t vm_copyin(struct vcpu *vcpu, uint64_t gla, void *buf, size_t len)
{
	uint64_t g = fake_xlate(vcpu, gla);

	if (g >= DBG_FAKE_MEM)
		return -EFAULT;
	if (len > DBG_FAKE_MEM - g)
		len = DBG_FAKE_MEM - g;
	memcpy(buf, fake.mem + g, len);
	return (ssize_t)len;
}

ssize_t vm_copyout(struct vcpu *vcpu, const void *buf, uint64_t gla, size_t len)
{
	return vm_copyout_paging(vcpu, NULL, buf, gla, len);
}

/* Events. */

static int inject(struct vcpu *vcpu, int vector, uint64_t payload,
		  unsigned int len)
{
	struct fake_cpu *c = fcpu(vcpu);

	pthread_mutex_lock(&fake.lock);
	if (c->ninj < 16)
		c->inj[c->ninj++] =
			(struct fake_inject){ vector, payload, len,
					      c->regs[VM_REG_GUEST_RIP] };
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int vm_inject_exception(struct vcpu *vcpu, int vector, bool errcode_valid,
			uint32_t errcode, uint64_t payload)
{
	return inject(vcpu, vector, payload, 0);
}

int vm_inject_trap(struct vcpu *vcpu, int vector, unsigned int inst_length)
{
	/* As vmm today: only #BP and #OF are traps of an instruction. */
	if (vector != IDT_BP && vector != 4 &&
	    !(vector == IDT_DB && fake.trap_db_ok))
		return -EINVAL;
	return inject(vcpu, vector, 0, inst_length);
}

/* What the gdb adapter's monitor commands and memory access use. */

int vm_get_stats(struct vcpu *vcpu, uint64_t *buf, int max, int *count)
{
	*count = 0;
	return 0;
}

int vm_get_stat_desc(struct vmctx *ctx, int index, char *buf, size_t len)
{
	return -ENOENT;
}

ssize_t vm_copyin_paging(struct vcpu *vcpu,
			 const struct vm_guest_paging *paging, uint64_t gla,
			 void *buf, size_t len)
{
	return vm_copyin(vcpu, gla, buf, len);
}

ssize_t vm_copyout_paging(struct vcpu *vcpu,
			  const struct vm_guest_paging *paging, const void *buf,
			  uint64_t gla, size_t len)
{
	uint64_t g = fake_xlate(vcpu, gla);

	if (g >= DBG_FAKE_MEM)
		return -EFAULT;
	if (len > DBG_FAKE_MEM - g)
		len = DBG_FAKE_MEM - g;
	memcpy(fake.mem + g, buf, len);
	return (ssize_t)len;
}
