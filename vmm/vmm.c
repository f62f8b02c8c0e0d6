/*
 * vmm.c: VMs over KVM - creation by name, the lifecycle commands, event
 * injection, and vmm_ioctl(), the one entry point that dispatches every
 * command of vmm_dev.h (guest memory is in vmm_mem.c, vCPUs in
 * vmm_vcpu.c, registers in vmm_regs.c).
 *
 * Locking: vm->lock guards memory segments and maps, the topology and vCPU
 * creation (see vmm_priv.h).  A vCPU, once created, lives until the VM is
 * destroyed or reinitialised, so vmm_vcpu_get() needs no lock to read the
 * pointer after the acquire load.
 *
 * A VM's name is held by an abstract unix socket "vitro-vm:NAME" for the
 * VM's lifetime, which makes names unique across processes (as
 * /dev/vmm/NAME is on FreeBSD) without files to clean up after a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/vmm_priv.h"

/* Where KVM keeps its real-mode helpers on Intel: below the BIOS area. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000
#define KVM_TSS_ADDR 0xfeffd000

struct vmm_holder {
	struct vmm vm;
	int name_fd; /* the abstract socket holding the name */
};

static int name_claim(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "vitro-vm:%s",
		     name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun,
		 offsetof(struct sockaddr_un, sun_path) + 1 + n) < 0) {
		int e = errno == EADDRINUSE ? EEXIST : errno;

		close(fd);
		return -e;
	}
	return fd;
}

bool vmm_name_valid(const char *name)
{
	size_t len = strlen(name);

	/* The name is a file name too: the control socket's. */
	if (len == 0 || len >= VM_NAME_MAX || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '/' || *p < 0x21 || *p > 0x7e)
			return false;
	}
	return true;
}

static int kvm_check_cap(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

/* The test knob VITRO_VMM_REFUSE_GUEST_DEBUG (vmm_priv.h): a mask. */
static uint32_t refuse_guest_debug(void)
{
	const char *s = getenv("VITRO_VMM_REFUSE_GUEST_DEBUG");

	return s ? (uint32_t)strtoul(s, NULL, 0) : 0;
}

/*
 * Interrupt routing as on a PC, and as QEMU sets it: GSI n reaches IOAPIC
 * pin n, except ISA IRQ 0 (the PIT, GSI 0), which reaches pin 2; GSIs 0-15
 * also reach the 8259s, but for 2, the cascade.  KVM's default sends GSI 0
 * to pin 0, which is not where the MP and ACPI tables say IRQ 0 is.
 */
static int vm_set_gsi_routing(struct vmm *vm)
{
	enum { NGSI = 24, MAXENT = 2 * NGSI };
	struct kvm_irq_routing *r;
	int ret = 0;

	r = calloc(1, sizeof(*r) + MAXENT * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	for (uint32_t gsi = 0; gsi < NGSI; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (gsi < 16 && gsi != 2) {
			e = &r->entries[r->nr++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ?
						       KVM_IRQCHIP_PIC_MASTER :
						       KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
		if (gsi == 2)
			continue;
		e = &r->entries[r->nr++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

static int vm_kvm_setup(struct vmm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int r;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;
	fcntl(vm->vm_fd, F_SETFD, FD_CLOEXEC);
	/*
	 * Intel needs these for real mode before the first vCPU exists; other
	 * implementations may refuse them, which is harmless.
	 */
	(void)ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
	(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	if ((r = vm_set_gsi_routing(vm)) < 0)
		return r;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	if (kvm_check_cap(vm->vm_fd, KVM_CAP_EXIT_ON_EMULATION_FAILURE)) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
			.args = { 1 },
		};

		vm->has_emul_failure_bytes =
			ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	}
	/*
	 * MSRs KVM does not know go to the monitor (VM_EXITCODE_MSR), which
	 * answers #GP as KVM would: the same for the guest, and the accesses
	 * are seen, counted and traced.
	 */
	if (kvm_check_cap(vm->vm_fd, KVM_CAP_X86_USER_SPACE_MSR) > 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_X86_USER_SPACE_MSR,
			.args = { KVM_MSR_EXIT_REASON_UNKNOWN },
		};

		(void)ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap);
	}
	/* #DB's DR6 bits go with the exception (VM_INJECT_EXCEPTION). */
	vm->has_exception_payload = false;
	if (kvm_check_cap(vm->vm_fd, KVM_CAP_EXCEPTION_PAYLOAD)) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_EXCEPTION_PAYLOAD,
			.args = { 1 },
		};

		vm->has_exception_payload =
			ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	}
	return 0;
}

static int vm_irq_line(struct vmm *vm, int irq, int level);

/* The HPET's interrupts, with its lock held. */
static void hpet_irq(void *arg, int gsi, int level)
{
	(void)vm_irq_line(arg, gsi, level);
}

/* HPET legacy mode takes IRQ 0 from the PIT, as QEMU tells KVM. */
static void hpet_legacy(void *arg, bool on)
{
	struct vmm *vm = arg;
	struct kvm_pit_state2 ps;

	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &ps) < 0)
		return;
	if (on)
		ps.flags |= KVM_PIT_FLAGS_HPET_LEGACY;
	else
		ps.flags &= ~KVM_PIT_FLAGS_HPET_LEGACY;
	(void)ioctl(vm->vm_fd, KVM_SET_PIT2, &ps);
}

struct vmm *vmm_create(const char *name)
{
	struct vmm_holder *h;
	struct vmm *vm;
	int r;

	if (!vmm_name_valid(name)) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = vmm_kick_init()) < 0) {
		errno = -r;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->name_fd = -1;
	vm = &h->vm;
	vm->kvm_fd = vm->vm_fd = -1;
	h->name_fd = name_claim(name);
	if (h->name_fd < 0) {
		r = h->name_fd;
		goto fail;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->probe_lock, NULL);
	vmm_rtc_init(&vm->rtc, NULL);
	vmm_hpet_init(&vm->hpet, NULL, hpet_irq, hpet_legacy, vm);
	vm->trap_mode = VMM_TRAP_UNPROBED;
	vm->topo = (struct vm_cpu_topology){ 1, 1, 1, 1 };
	for (int i = 0; i < VM_MAX_MEMSEGS; i++)
		vm->seg[i].fd = -1;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		r = -errno;
		goto fail;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		r = -ENOTSUP;
		goto fail;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0) {
		r = r < 0 ? -errno : -EINVAL;
		goto fail;
	}
	vm->run_size = r;
	vm->refuse_guest_debug = refuse_guest_debug();
	vm->has_sregs2 = kvm_check_cap(vm->kvm_fd, KVM_CAP_SREGS2);
	vm->has_guest_debug =
		kvm_check_cap(vm->kvm_fd, KVM_CAP_SET_GUEST_DEBUG) > 0;
	vm->has_blockirq =
		(kvm_check_cap(vm->kvm_fd, KVM_CAP_SET_GUEST_DEBUG2) &
		 KVM_GUESTDBG_BLOCKIRQ) != 0;
	if (kvm_check_cap(vm->kvm_fd, KVM_CAP_XSAVE)) {
		int n = kvm_check_cap(vm->kvm_fd, KVM_CAP_XSAVE2);

		vm->xsave_size = n > (int)sizeof(struct kvm_xsave) ?
					 (size_t)n :
					 sizeof(struct kvm_xsave);
		if (vm->xsave_size > VMM_XSAVE_MAX)
			vm->xsave_size = 0;
	}
	vm->nslots = kvm_check_cap(vm->kvm_fd, KVM_CAP_NR_MEMSLOTS);
	if (vm->nslots <= 0 || vm->nslots > VMM_MAX_SLOTS)
		vm->nslots = VMM_MAX_SLOTS;
	for (int i = 0; i < VMM_MAX_SLOTS; i++)
		vm->slot[i].map = -1;
	if ((r = vm_kvm_setup(vm)) < 0)
		goto fail;
	if ((r = vmm_cpuid_init(vm)) < 0)
		goto fail;
	return vm;
fail:
	vmm_destroy(vm);
	errno = -r;
	return NULL;
}

static void vm_destroy_vcpus(struct vmm *vm)
{
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm->vcpu[i]) {
			vmm_vcpu_destroy(vm->vcpu[i]);
			vm->vcpu[i] = NULL;
		}
	}
}

void vmm_destroy(struct vmm *vm)
{
	struct vmm_holder *h = (struct vmm_holder *)vm;

	if (!vm)
		return;
	vm_destroy_vcpus(vm);
	vmm_hpet_fini(&vm->hpet);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vmm_mem_free(vm);
	free(vm->cpuid);
	free(vm->kvm_stat);
	vmm_rtc_fini(&vm->rtc);
	if (h->name_fd >= 0)
		close(h->name_fd);
	free(h);
}

const char *vmm_name(const struct vmm *vm)
{
	return vm->name;
}

struct vmm_vcpu *vmm_vcpu_get(struct vmm *vm, int cpuid)
{
	if (cpuid < 0 || cpuid >= VM_MAXCPU)
		return NULL;
	return __atomic_load_n(&vm->vcpu[cpuid], __ATOMIC_ACQUIRE);
}

/* Memory: vmm_mem.c. */

void *vmm_gpa2hva(struct vmm *vm, uint64_t gpa, size_t len)
{
	void *p;

	pthread_mutex_lock(&vm->lock);
	p = vmm_gpa2hva_locked(vm, gpa, len);
	pthread_mutex_unlock(&vm->lock);
	return p;
}

void *vmm_gpa2hva_cb(void *vm, uint64_t gpa, size_t len)
{
	return vmm_gpa2hva(vm, gpa, len);
}

/* Lifecycle. */

static int vm_activate(struct vmm *vm, int cpuid)
{
	struct vmm_vcpu *vcpu;
	int r;

	if (cpuid < 0 || cpuid >= vm->topo.maxcpus)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->vcpu[cpuid]) {
		pthread_mutex_unlock(&vm->lock);
		return -EEXIST;
	}
	r = vmm_vcpu_create(vm, cpuid, &vcpu);
	if (r == 0)
		__atomic_store_n(&vm->vcpu[cpuid], vcpu, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int vm_set_topology(struct vmm *vm, const struct vm_cpu_topology *t)
{
	uint64_t n = (uint64_t)t->sockets * t->cores * t->threads;
	int r = 0;

	if (!t->sockets || !t->cores || !t->threads || n > t->maxcpus ||
	    t->maxcpus > VM_MAXCPU)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm->vcpu[i])
			r = -EBUSY;
	}
	if (r == 0)
		vm->topo = *t;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int vm_get_cpus(struct vmm *vm, struct vm_cpus *c)
{
	struct vm_cpuset set = { { 0 } };

	if (c->which != VM_ACTIVE_CPUS && c->which != VM_SUSPENDED_CPUS &&
	    c->which != VM_DEBUG_CPUS)
		return -EINVAL;

	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vmm_vcpu *v = vmm_vcpu_get(vm, i);
		bool in;

		if (!v)
			continue;
		switch (c->which) {
		case VM_ACTIVE_CPUS:
			in = true;
			break;
		case VM_SUSPENDED_CPUS:
			in = atomic_load(&v->suspended);
			break;
		default:
			in = atomic_load(&v->debug);
			break;
		}
		if (in)
			vm_cpuset_set(&set, i);
	}
	c->cpus = set;
	return 0;
}

int vmm_suspend(struct vmm *vm, enum vm_suspend_how how, int cpuid)
{
	int none = VM_SUSPEND_NONE;

	if (how <= VM_SUSPEND_NONE || how >= VM_SUSPEND_LAST)
		return -EINVAL;
	/* The first reason wins: a reset racing a power-off is one event. */
	if (!atomic_compare_exchange_strong(&vm->suspend, &none,
					    VMM_SUSPEND_WORD(how, cpuid)))
		return -EALREADY;
	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vmm_vcpu *v = vmm_vcpu_get(vm, i);

		if (v)
			vmm_vcpu_kick(v);
	}
	return 0;
}

/*
 * The halt probe kicks every vCPU out of KVM_RUN to read its state, which
 * costs a signal and an exit to user space per vCPU and round.  Where KVM
 * has the statistics, a round first reads them (a pread each, no exit):
 * a vCPU that ran guest code since the last round or is not blocked in a
 * halt now cannot be stopped for good, and then no vCPU is kicked.  So a
 * busy or idle-but-ticking guest is never interrupted; only a VM whose
 * every vCPU sat in a halt without a single exit gets the probe.
 */
int vmm_check_halt(struct vmm *vm)
{
	bool all = true;

	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vmm_vcpu *v = vmm_vcpu_get(vm, i);

		if (v && !vmm_stats_halt_candidate(v)) {
			atomic_store(&v->halted_probes, 0);
			all = false;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	if (!all)
		return 0;
	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vmm_vcpu *v = vmm_vcpu_get(vm, i);

		if (v) {
			atomic_store(&v->halt_probe, true);
			vmm_vcpu_kick(v);
		}
	}
	return 0;
}

/*
 * Suspend the VM when every vCPU has been found halted on two probes in a
 * row.  A halted vCPU with interrupts off can only be woken by an NMI or an
 * INIT, which another vCPU may still send between the probes of one round;
 * a vCPU woken that way is probed as running in the next round, so two
 * rounds make a stale answer harmless.  A vCPU in the debug set is not
 * halted: the debugger holds it.
 */
void vmm_halt_evaluate(struct vmm *vm)
{
	bool any = false;

	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vmm_vcpu *v = vmm_vcpu_get(vm, i);

		if (!v)
			continue;
		if (atomic_load(&v->debug) ||
		    atomic_load(&v->halted_probes) < 2)
			return;
		any = true;
	}
	if (any)
		vmm_suspend(vm, VM_SUSPEND_HALT, -1);
}

/*
 * Return the VM to power-on state, keeping memory: every vCPU must have
 * acknowledged a VM suspend, so no thread is inside KVM_RUN.  KVM cannot
 * reset its irqchip or a vCPU in place, so the KVM VM is built again.
 */
static int vm_reinit(struct vmm *vm)
{
	int r = 0, old_fd;

	pthread_mutex_lock(&vm->lock);
	if (atomic_load(&vm->suspend) == VM_SUSPEND_NONE)
		r = -EBUSY;
	for (int i = 0; i < VM_MAXCPU && r == 0; i++) {
		if (vm->vcpu[i] && !atomic_load(&vm->vcpu[i]->suspended))
			r = -EBUSY;
	}
	if (r) {
		pthread_mutex_unlock(&vm->lock);
		return r;
	}
	/* Its timers stop before the KVM VM they raise lines on goes. */
	vmm_hpet_reset(&vm->hpet);
	old_fd = vm->vm_fd;
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm->vcpu[i] && vm->vcpu[i]->fd >= 0) {
			munmap(vm->vcpu[i]->run, vm->run_size);
			close(vm->vcpu[i]->fd);
			if (vm->vcpu[i]->stats_fd >= 0)
				close(vm->vcpu[i]->stats_fd);
			vm->vcpu[i]->fd = vm->vcpu[i]->stats_fd = -1;
		}
	}
	close(old_fd);
	vm->vm_fd = -1;
	r = vm_kvm_setup(vm);
	if (r == 0)
		r = vmm_memslots_restore(vm);
	for (int i = 0; i < VM_MAXCPU && r == 0; i++) {
		if (vm->vcpu[i])
			r = vmm_vcpu_reset(vm->vcpu[i]);
	}
	if (r == 0) {
		vmm_rtc_reset(&vm->rtc);
		atomic_store(&vm->suspend, VM_SUSPEND_NONE);
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int vm_debug_cpu(struct vmm *vm, int cpuid, bool on)
{
	int n = 0;

	if (cpuid < -1 || cpuid >= VM_MAXCPU)
		return -EINVAL;
	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vmm_vcpu *v;

		if (cpuid != -1 && i != cpuid)
			continue;
		if (!(v = vmm_vcpu_get(vm, i)))
			continue;
		n++;
		/* Already in the debug set: it was kicked then, and stays out. */
		if (!on)
			atomic_store(&v->debug, false);
		else if (!atomic_exchange(&v->debug, true))
			vmm_vcpu_kick(v);
	}
	return n || cpuid == -1 ? 0 : -ENOENT;
}

static int vm_irq_line(struct vmm *vm, int irq, int level)
{
	struct kvm_irq_level il = { .irq = irq, .level = level };

	if (irq < 0 || irq >= 24)
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &il) < 0)
		return -errno;
	return 0;
}

static int vm_msi(struct vmm *vm, const struct vm_msi *m)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)m->addr,
		.address_hi = (uint32_t)(m->addr >> 32),
		.data = (uint32_t)m->data,
	};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

/*
 * Guest-physical memory by value: map by map, up to the first byte that is
 * not memory.  Maps change rarely; the lock keeps one from going away
 * under the copy.
 */
static int vm_gpa_rw(struct vmm *vm, struct vm_gpa_rw *a, bool write)
{
	uint32_t done = 0;

	if (a->len == 0 || a->len > VM_GPA_RW_MAX)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	while (done < a->len) {
		uint64_t gpa = a->gpa + done;
		uint32_t n = 4096 - (gpa & 4095);
		uint8_t *p;

		if (n > a->len - done)
			n = a->len - done;
		if (gpa < a->gpa || !(p = vmm_gpa2hva_locked(vm, gpa, n)))
			break;
		if (write)
			memcpy(p, a->data + done, n);
		else
			memcpy(a->data + done, p, n);
		done += n;
	}
	pthread_mutex_unlock(&vm->lock);
	if (done == 0)
		return -EFAULT;
	a->len = done;
	return 0;
}

/* Commands on one vCPU: find it, or say it does not exist. */
#define VCPU_OR_ENOENT(id)                                               \
	({                                                               \
		struct vmm_vcpu *v_ = vmm_vcpu_get(vm, (id));            \
		if (!v_)                                                 \
			return (id) < 0 || (id) >= VM_MAXCPU ? -EINVAL : \
							       -ENOENT;  \
		v_;                                                      \
	})

static __attribute__((noinline)) int vmm_ioctl_other(struct vmm *vm,
						     uint32_t cmd, void *arg)
{
	int r;

	switch (cmd) {
	case VM_REINIT:
		return vm_reinit(vm);
	case VM_SUSPEND:
		return vmm_suspend(vm, ((struct vm_suspend *)arg)->how, -1);
	case VM_CHECK_HALT:
		return vmm_check_halt(vm);
	case VM_ACTIVATE_CPU:
		return vm_activate(vm, ((struct vm_activate_cpu *)arg)->cpuid);
	case VM_GET_CPUS:
		return vm_get_cpus(vm, arg);
	case VM_SET_TOPOLOGY:
		return vm_set_topology(vm, arg);
	case VM_GET_TOPOLOGY:
		pthread_mutex_lock(&vm->lock);
		*(struct vm_cpu_topology *)arg = vm->topo;
		pthread_mutex_unlock(&vm->lock);
		return 0;
	case VM_SET_CPU_MODEL:
	case VM_GET_CPU_MODEL:
		pthread_mutex_lock(&vm->lock);
		r = cmd == VM_SET_CPU_MODEL ? vmm_cpu_model_set(vm, arg) :
					      vmm_cpu_model_get(vm, arg);
		pthread_mutex_unlock(&vm->lock);
		return r;
	case VM_CPUID_PROBE:
		return vmm_cpuid_probe(vm, arg);

	case VM_ALLOC_MEMSEG:
	case VM_GET_MEMSEG:
	case VM_MMAP_MEMSEG:
	case VM_MUNMAP_MEMSEG:
	case VM_MMAP_GETNEXT:
	case VM_PROTECT_GPA:
		pthread_mutex_lock(&vm->lock);
		if (cmd == VM_ALLOC_MEMSEG)
			r = vmm_memseg_alloc(vm, arg);
		else if (cmd == VM_GET_MEMSEG)
			r = vmm_memseg_get(vm, arg);
		else if (cmd == VM_MMAP_MEMSEG)
			r = vmm_memmap_add(vm, arg);
		else if (cmd == VM_MUNMAP_MEMSEG)
			r = vmm_memmap_remove(vm, arg);
		else if (cmd == VM_PROTECT_GPA)
			r = vmm_protect_gpa(vm, arg);
		else
			r = vmm_memmap_getnext(vm, arg);
		pthread_mutex_unlock(&vm->lock);
		return r;
	case VM_READ_GPA:
	case VM_WRITE_GPA:
		return vm_gpa_rw(vm, arg, cmd == VM_WRITE_GPA);
	case VM_GPA2HVA: {
		struct vm_gpa2hva *a = arg;
		void *p = vmm_gpa2hva(vm, a->gpa, a->len);

		if (!p)
			return -EFAULT;
		a->hva = p;
		return 0;
	}

	case VM_GET_REGISTER: {
		struct vm_register *a = arg;

		return vmm_get_regset(VCPU_OR_ENOENT(a->cpuid), 1, &a->regnum,
				      &a->regval);
	}
	case VM_SET_REGISTER: {
		struct vm_register *a = arg;

		return vmm_set_regset(VCPU_OR_ENOENT(a->cpuid), 1, &a->regnum,
				      &a->regval);
	}
	case VM_GET_REGISTER_SET: {
		struct vm_register_set *a = arg;

		if (a->count > VM_REGSET_MAX)
			return -E2BIG;
		return vmm_get_regset(VCPU_OR_ENOENT(a->cpuid), a->count,
				      a->regnums, a->regvals);
	}
	case VM_SET_REGISTER_SET: {
		struct vm_register_set *a = arg;

		if (a->count > VM_REGSET_MAX)
			return -E2BIG;
		return vmm_set_regset(VCPU_OR_ENOENT(a->cpuid), a->count,
				      a->regnums, a->regvals);
	}

	case VM_SUSPEND_CPU:
	case VM_RESUME_CPU:
		return vm_debug_cpu(vm, ((struct vm_activate_cpu *)arg)->cpuid,
				    cmd == VM_SUSPEND_CPU);
	case VM_GET_CAPABILITY: {
		struct vm_capability *a = arg;

		return vmm_get_capability(VCPU_OR_ENOENT(a->cpuid), a);
	}
	case VM_SET_CAPABILITY: {
		struct vm_capability *a = arg;

		return vmm_set_capability(VCPU_OR_ENOENT(a->cpuid), a);
	}
	case VM_GET_RUN_STATE: {
		struct vm_run_state *a = arg;

		return vmm_get_run_state(VCPU_OR_ENOENT(a->cpuid), a);
	}
	case VM_SET_HW_DEBUG: {
		struct vm_hw_debug *a = arg;

		return vmm_set_hw_debug(VCPU_OR_ENOENT(a->cpuid), a);
	}
	case VM_GET_HW_DEBUG: {
		struct vm_hw_debug *a = arg;

		return vmm_get_hw_debug(VCPU_OR_ENOENT(a->cpuid), a);
	}

	case VM_GLA2GPA:
	case VM_GLA2GPA_NOFAULT: {
		struct vm_gla2gpa *a = arg;

		return vmm_gla2gpa(VCPU_OR_ENOENT(a->cpuid), a,
				   cmd == VM_GLA2GPA_NOFAULT);
	}

	case VM_INJECT_EXCEPTION: {
		struct vm_exception *a = arg;

		return vmm_inject_exception(VCPU_OR_ENOENT(a->cpuid), a);
	}
	case VM_INJECT_NMI:
		return vmm_inject_nmi(
			VCPU_OR_ENOENT(((struct vm_nmi *)arg)->cpuid));
	case VM_ISA_ASSERT_IRQ:
		return vm_irq_line(vm, ((struct vm_irq *)arg)->irq, 1);
	case VM_ISA_DEASSERT_IRQ:
		return vm_irq_line(vm, ((struct vm_irq *)arg)->irq, 0);
	case VM_ISA_PULSE_IRQ:
		r = vm_irq_line(vm, ((struct vm_irq *)arg)->irq, 1);
		return r ? r : vm_irq_line(vm, ((struct vm_irq *)arg)->irq, 0);
	case VM_LAPIC_MSI:
		return vm_msi(vm, arg);

	case VM_RTC_WRITE:
		return vmm_rtc_write(&vm->rtc, arg);
	case VM_RTC_READ:
		return vmm_rtc_read(&vm->rtc, arg);
	case VM_RTC_SETTIME:
		return vmm_rtc_settime(&vm->rtc, arg);
	case VM_RTC_GETTIME:
		return vmm_rtc_gettime(&vm->rtc, arg);
	case VM_HPET_MMIO_READ:
		return vmm_hpet_mmio_read(&vm->hpet, arg);
	case VM_HPET_MMIO_WRITE:
		return vmm_hpet_mmio_write(&vm->hpet, arg);
	case VM_HPET_GET_STATE:
		return vmm_hpet_get_state(&vm->hpet, arg);
	case VM_HPET_SET_STATE:
		return vmm_hpet_set_state(&vm->hpet, arg);

	case VM_STATS: {
		struct vm_stats *a = arg;

		return vmm_get_stats(VCPU_OR_ENOENT(a->cpuid), a);
	}
	case VM_STAT_DESC:
		return vmm_stat_desc(vm, arg);

	case VM_TRACE_START:
		return vmm_trace_start(vm, arg);
	case VM_TRACE_STOP:
		return vmm_trace_stop(vm);
	case VM_TRACE_READ: {
		struct vm_trace_read *a = arg;

		return vmm_trace_read(VCPU_OR_ENOENT(a->cpuid), a);
	}
	}
	return -ENOTTY;
}

/*
 * VM_RUN comes once per exit: it is taken before, and without the frame
 * of, the switch over every other command.
 */
int vmm_ioctl(struct vmm *vm, uint32_t cmd, void *arg)
{
	if (cmd == VM_RUN) {
		struct vm_run *a = arg;

		return vmm_run(VCPU_OR_ENOENT(a->cpuid), a->vm_exit);
	}
	return vmm_ioctl_other(vm, cmd, arg);
}
