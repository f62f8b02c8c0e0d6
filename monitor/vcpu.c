/*
 * vcpu.c: the vCPU threads: VM_RUN, and one switch on the exit code that
 * sends port I/O and MMIO to the named regions, debug exits to the debug
 * core (always there: a debug exit nobody asked for goes back to the
 * guest, never ends the VM), and turns the ends of the VM (suspend,
 * triple fault, an instruction KVM cannot emulate) into vitro_end() with
 * a message that says where the guest was.
 *
 * Threads.  Each vitro_vcpu is used by its own thread only (its region
 * caches included); the region maps, the debug core and vitro_end() are
 * thread-safe.  Each thread tells the core what it is doing (in the
 * guest, handling an exit), so that a stop that cannot catch it can say.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor/debug/debug.h"
#include "monitor/vitro.h"

/* Decode "where the guest was" for an error message: cs:rip and bytes. */
static void describe_rip(struct vitro_vcpu *vc, uint64_t rip, char *buf,
			 size_t len)
{
	static const int regs[] = { VM_REG_GUEST_CS, VM_REG_GUEST_CS_BASE,
				    VM_REG_GUEST_RIP };
	uint64_t v[3];
	uint8_t code[VM_EXIT_INST_BYTES];
	ssize_t n;
	int off;

	if (vm_get_register_set(vc->vcpu, 3, regs, v) < 0) {
		snprintf(buf, len, "rip %#llx", (unsigned long long)rip);
		return;
	}
	if (!rip)
		rip = v[2];
	off = snprintf(buf, len, "rip %#llx (cs %#llx)",
		       (unsigned long long)rip, (unsigned long long)v[0]);
	n = vm_copyin(vc->vcpu, v[1] + rip, code, sizeof(code));
	if (n > 0 && off > 0 && (size_t)off < len) {
		off += snprintf(buf + off, len - off, ", bytes");
		for (ssize_t i = 0; i < n && (size_t)off < len; i++)
			off += snprintf(buf + off, len - off, " %02x", code[i]);
	} else if (off > 0 && (size_t)off < len) {
		snprintf(buf + off, len - off, ", code not readable");
	}
}

/*
 * Whether the vCPU sits at the reset vector (cs f000 based at ffff0000,
 * rip fff0, CR0 as a reset leaves it: ET, CD and NW at most).  kvm_amd
 * resets the vCPU on a shutdown intercept (the VMCB is undefined after
 * one), so after a triple fault there the faulting state is gone.
 */
static bool at_reset_vector(struct vitro_vcpu *vc, uint64_t *cr0)
{
	static const int regs[] = { VM_REG_GUEST_CS, VM_REG_GUEST_CS_BASE,
				    VM_REG_GUEST_RIP, VM_REG_GUEST_CR0 };
	uint64_t v[4];

	if (vm_get_register_set(vc->vcpu, 4, regs, v) < 0)
		return false;
	*cr0 = v[3];
	return v[0] == 0xf000 && v[1] == 0xffff0000 && v[2] == 0xfff0 &&
	       (v[3] & ~0x60000000ULL) == 0x10;
}

static void format_bytes(const uint8_t *b, unsigned n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%02x", i ? " " : "",
				b[i]);
}

/* A port's data, 1, 2 or 4 bytes, little-endian: copies of fixed size. */
static uint64_t pio_load(const uint8_t *p, unsigned bytes)
{
	uint32_t v32;
	uint16_t v16;

	switch (bytes) {
	case 1:
		return *p;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	default:
		memcpy(&v32, p, 4);
		return v32;
	}
}

static void pio_store(uint8_t *p, unsigned bytes, uint64_t val)
{
	uint32_t v32 = (uint32_t)val;
	uint16_t v16 = (uint16_t)val;

	switch (bytes) {
	case 1:
		*p = (uint8_t)val;
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	default:
		memcpy(p, &v32, 4);
		break;
	}
}

static void handle_inout(struct vitro_vcpu *vc, const struct vm_exit *vme)
{
	struct vitro *vm = vc->vm;
	unsigned bytes = vme->u.inout.bytes;

	/* KVM's sizes: anything else would overrun the data page's slot. */
	if (bytes != 1 && bytes != 2 && bytes != 4)
		return;
	for (uint32_t i = 0; i < vme->u.inout.count; i++) {
		uint8_t *p = vme->u.inout.data + i * bytes;
		uint64_t val = 0;
		int r;

		if (!vme->u.inout.in)
			val = pio_load(p, bytes);
		r = region_dispatch(vm->pio, &vc->pio_cache, vc->id,
				    !vme->u.inout.in, vme->u.inout.port, bytes,
				    &val);
		/* Unclaimed or refused: reads float high, writes vanish. */
		if (r < 0)
			val = ~0ULL;
		if (vme->u.inout.in)
			pio_store(p, bytes, val);
	}
}

static void handle_mmio(struct vitro_vcpu *vc, const struct vm_exit *vme)
{
	struct vitro *vm = vc->vm;
	unsigned bytes = vme->u.mmio.bytes;
	uint64_t val = 0;
	int r;

	if (bytes == 0 || bytes > 8)
		return;
	if (vme->u.mmio.write)
		memcpy(&val, vme->u.mmio.data, bytes);
	r = region_dispatch(vm->mmio, &vc->mmio_cache, vc->id,
			    vme->u.mmio.write, vme->u.mmio.gpa, bytes, &val);
	/* Memory the debugger protects (a watched page) exits too. */
	if (r == -ENOENT && dbg_vcpu_memory_access(vm->dbg, vc, vme))
		return;
	if (r < 0)
		val = ~0ULL;
	if (!vme->u.mmio.write)
		memcpy(vme->u.mmio.data, &val, bytes);
}

/*
 * An MSR KVM does not know: #GP, as KVM would give without user-space
 * MSR exits.  Noted at -vv, for whoever wonders what a guest probes.
 */
static void handle_msr(struct vitro_vcpu *vc, const struct vm_exit *vme)
{
	*vme->u.msr.error = 1;
	if (vc->vm->opt.verbose > 1)
		vitro_log("vCPU %d: %s of unknown MSR %#x at rip %#llx: #GP",
			  vc->id, vme->u.msr.write ? "wrmsr" : "rdmsr",
			  vme->u.msr.index, (unsigned long long)vme->rip);
}

static void handle_suspended(struct vitro_vcpu *vc, const struct vm_exit *vme)
{
	static const int status[VM_SUSPEND_LAST] = {
		[VM_SUSPEND_RESET] = VITRO_EXIT_RESET,
		[VM_SUSPEND_POWEROFF] = VITRO_EXIT_POWEROFF,
		[VM_SUSPEND_HALT] = VITRO_EXIT_HALT,
		[VM_SUSPEND_TRIPLEFAULT] = VITRO_EXIT_TRIPLEFAULT,
	};
	enum vm_suspend_how how = vme->u.suspended.how;
	char where[160];
	uint64_t cr0;

	if (how <= VM_SUSPEND_NONE || how >= VM_SUSPEND_LAST) {
		vitro_end(vc->vm, VITRO_EXIT_ERROR,
			  "vCPU %d: suspended for an unknown reason %d", vc->id,
			  how);
		return;
	}
	if (how == VM_SUSPEND_HALT && vme->u.suspended.cpuid < 0) {
		vitro_end(vc->vm, status[how],
			  "the guest halted: every vCPU is in hlt with "
			  "interrupts disabled");
		return;
	}
	/* Only the vCPU that caused it reports it, with its own state. */
	if (vme->u.suspended.cpuid != vc->id) {
		vitro_end(vc->vm, status[how], NULL);
		return;
	}
	if (how == VM_SUSPEND_TRIPLEFAULT && at_reset_vector(vc, &cr0)) {
		vitro_end(vc->vm, status[how],
			  "vCPU %d: triple fault: the guest hit an exception "
			  "it could not handle; KVM reset the vCPU at the "
			  "shutdown (it is at the reset vector, cs:rip "
			  "f000:fff0, cr0 %#llx), so the faulting rip and "
			  "instruction are lost",
			  vc->id, (unsigned long long)cr0);
		return;
	}
	describe_rip(vc, 0, where, sizeof(where));
	if (how == VM_SUSPEND_TRIPLEFAULT)
		vitro_end(vc->vm, status[how],
			  "vCPU %d: triple fault at %s: the guest hit an "
			  "exception it could not handle",
			  vc->id, where);
	else
		vitro_end(vc->vm, status[how], "vCPU %d: guest %s at %s",
			  vc->id, vm_suspend_name(how), where);
}

static void handle_inst_emul(struct vitro_vcpu *vc, const struct vm_exit *vme)
{
	char where[160], bytes[3 * VM_EXIT_INST_BYTES + 1];

	if (vme->u.inst_emul.inst_len) {
		format_bytes(vme->u.inst_emul.inst, vme->u.inst_emul.inst_len,
			     bytes, sizeof(bytes));
		vitro_end(vc->vm, VITRO_EXIT_ERROR,
			  "vCPU %d: KVM could not emulate the instruction at "
			  "rip %#llx, bytes %s (internal error, suberror %u)",
			  vc->id, (unsigned long long)vme->rip, bytes,
			  vme->u.inst_emul.suberror);
		return;
	}
	describe_rip(vc, vme->rip, where, sizeof(where));
	vitro_end(vc->vm, VITRO_EXIT_ERROR,
		  "vCPU %d: KVM could not emulate the instruction at %s "
		  "(internal error, suberror %u)",
		  vc->id, where, vme->u.inst_emul.suberror);
}

static void handle_unexpected(struct vitro_vcpu *vc, const struct vm_exit *vme)
{
	char where[160];

	describe_rip(vc, vme->rip, where, sizeof(where));
	switch (vme->exitcode) {
	case VM_EXITCODE_RUN_FAILED:
		vitro_end(vc->vm, VITRO_EXIT_ERROR,
			  "vCPU %d: KVM refused to enter the guest at %s "
			  "(hardware entry failure reason %#llx)",
			  vc->id, where,
			  (unsigned long long)vme->u.run_failed.reason);
		break;
	case VM_EXITCODE_UNHANDLED:
		vitro_end(vc->vm, VITRO_EXIT_ERROR,
			  "vCPU %d: unhandled KVM exit %u at %s", vc->id,
			  vme->u.unhandled.kvm_reason, where);
		break;
	default:
		vitro_end(vc->vm, VITRO_EXIT_ERROR,
			  "vCPU %d: unexpected exit '%s' at %s", vc->id,
			  vm_exitcode_name(vme->exitcode), where);
		break;
	}
}

static __thread struct vitro_vcpu *vcpu_self;

struct vitro_vcpu *vitro_vcpu_self(void)
{
	return vcpu_self;
}

static void *vcpu_thread(void *arg)
{
	struct vitro_vcpu *vc = arg;
	struct vitro *vm = vc->vm;
	struct dbg_core *dbg = vm->dbg;
	struct vm_exit vme;
	char name[16];

	vcpu_self = vc;
	__atomic_store_n(&vc->tid, gettid(), __ATOMIC_RELEASE);
	snprintf(name, sizeof(name), "vcpu %d", vc->id);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		int r;

		dbg_vcpu_set_state(dbg, vc, VM_DBG_CPU_GUEST);
		r = vm_run(vc->vcpu, &vme);
		/* A debug setting KVM refused stops the VM, not ends it. */
		if (dbg_vcpu_ran(dbg, vc, r, &vme))
			continue;
		if (r < 0) {
			vitro_end(vc->vm, VITRO_EXIT_ERROR,
				  "vCPU %d: VM_RUN failed: %s", vc->id,
				  strerror(-r));
			goto out;
		}
		switch (vme.exitcode) {
		case VM_EXITCODE_BOGUS:
			continue;
		case VM_EXITCODE_INOUT:
			handle_inout(vc, &vme);
			continue;
		case VM_EXITCODE_MMIO:
			handle_mmio(vc, &vme);
			continue;
		case VM_EXITCODE_MSR:
			handle_msr(vc, &vme);
			continue;
		case VM_EXITCODE_SUSPENDED:
			handle_suspended(vc, &vme);
			goto out;
		case VM_EXITCODE_DEBUG:
			dbg_vcpu_park(dbg, vc);
			continue;
		case VM_EXITCODE_MTRAP:
		case VM_EXITCODE_BPT:
		case VM_EXITCODE_HWBP:
			/* A client's stop, or given back to the guest. */
			if (dbg_vcpu_exit(dbg, vc, &vme))
				continue;
			break;
		case VM_EXITCODE_INST_EMUL:
			/*
			 * On a KVM that cannot emulate int3 or icebp, a
			 * breakpoint or the guest's own trap; a fetch from a
			 * watched page, a stop.
			 */
			if (dbg_vcpu_exit(dbg, vc, &vme))
				continue;
			handle_inst_emul(vc, &vme);
			continue;
		default:
			break;
		}
		handle_unexpected(vc, &vme);
	}
out:
	dbg_vcpu_exited(dbg, vc);
	region_cache_release(&vc->pio_cache);
	region_cache_release(&vc->mmio_cache);
	return NULL;
}

int vitro_vcpus_start(struct vitro *vm)
{
	sigset_t all, old;
	int r = 0;

	/*
	 * vCPU threads take no process signals (the main thread reads them
	 * from a signalfd); vmm's kick signal is sent to a thread directly
	 * and is left unblocked.
	 */
	sigfillset(&all);
	sigdelset(&all, vm_kick_signal());
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vitro_vcpu *vc = &vm->vcpu[i];
		pthread_attr_t attr;

		/* -p: the thread starts on its host CPU, never elsewhere. */
		if ((r = -pthread_attr_init(&attr)) < 0)
			break;
		if (i < VM_MAXCPU && vm->opt.pin[i] >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(vm->opt.pin[i], &set);
			r = -pthread_attr_setaffinity_np(&attr, sizeof(set),
							 &set);
		}
		if (r == 0)
			r = -pthread_create(&vc->thread, &attr, vcpu_thread,
					    vc);
		pthread_attr_destroy(&attr);
		if (r < 0)
			break;
		vc->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

void vitro_vcpus_join(struct vitro *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpu[i].started)
			pthread_join(vm->vcpu[i].thread, NULL);
		vm->vcpu[i].started = false;
	}
}

int vitro_pins_check(const struct vitro_options *o, char *err, size_t errlen)
{
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		CPU_ZERO(&allowed);
	for (unsigned i = 0; i < o->ncpus && i < VM_MAXCPU; i++) {
		if (o->pin[i] < 0 || CPU_ISSET(o->pin[i], &allowed))
			continue;
		snprintf(err, errlen,
			 "-p %u:%d: host CPU %d is not one vitro may run on "
			 "(this host has %d CPUs online; vitro may use %d of "
			 "them)",
			 i, o->pin[i], o->pin[i],
			 (int)sysconf(_SC_NPROCESSORS_ONLN),
			 CPU_COUNT(&allowed));
		return -1;
	}
	return 0;
}
