/*
 * kvm_util.h: common set-up for the tests in tests/kvm/, which run small
 * guest programs on /dev/kvm through libvmmapi.
 *
 * A test VM (struct kt_vm) has a unique name, system memory from
 * guest-physical 0, and vCPUs that kt_vcpu_set_mode() puts in real mode,
 * flat protected mode, or long mode (kernel or user) over an identity map
 * of the first 8 GiB.  Guest memory below 1 MiB is laid out as below; the
 * GDT, both IDTs and the exception stubs are written when the VM is made.
 *
 * Guest code is written as assembly inside the tests (KT_GUEST_BEGIN/END)
 * and assembled with them; it is copied into guest memory with kt_load().
 * Guests report to the test with `out` to KT_PORT_OUT; every exception or
 * interrupt vector enters a stub that fills struct kt_exc at KT_EXC and
 * writes the vector to KT_PORT_EXC before it returns to the interrupted
 * code (with iretq in long mode; with a near return in 32-bit mode, where
 * some KVMs cannot emulate iret).
 *
 * kt_run() is VM_RUN with a watchdog: it never blocks longer than its
 * deadline, so a guest that does not do what a test expects makes that
 * test fail instead of hang.  It may be called from several threads (one
 * per vCPU).  TAP checks (tests/tap.h) are made by the main thread only;
 * this module reports with tap_diag and tap_bail only.
 */
#ifndef TESTS_KVM_KVM_UTIL_H
#define TESTS_KVM_KVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvmmapi/vmmapi.h"

/* Guest-physical layout of a test VM. */
#define KT_GDT 0x1000
#define KT_IDT64 0x2000 /* 256 16-byte gates */
#define KT_IDT32 0x3000 /* 256 8-byte gates */
#define KT_EXC 0x3800 /* struct kt_exc */
#define KT_RT 0x4000 /* the runtime: AP start-up, exception stubs */
#define KT_START_AP 0x4000 /* 64-bit: INIT/SIPI/SIPI, see below */
#define KT_TRAMP 0x8000 /* 0x8000-0xffff free, for AP trampolines */
#define KT_PGT 0x10000 /* PML4, PDPT, 8 PDs: identity map of 8 GiB */
#define KT_CODE 0x20000 /* where tests load their guest code */
#define KT_DATA 0x40000 /* guest data, free for tests */
#define KT_STACK_TOP 0x80000
#define KT_FREE 0x80000 /* from here to the end of memory: free */
#define KT_MEM_DEFAULT (2u << 20)

#define KT_SEL_CODE64 0x08
#define KT_SEL_DATA 0x10
#define KT_SEL_CODE32 0x18
#define KT_SEL_UCODE64 0x23 /* CPL 3 */
#define KT_SEL_UDATA 0x2b /* CPL 3 */

#define KT_PORT_OUT 0xe0 /* a guest reports a value */
#define KT_PORT_EXC 0xe4 /* the exception stubs report a vector */

#define KT_MAXCPUS 4

/*
 * What the exception stubs write at KT_EXC, before the `out` to
 * KT_PORT_EXC.  In 32-bit modes the high halves are 0.
 */
struct kt_exc {
	uint64_t vector;
	uint64_t error_code; /* 0 for vectors without one */
	uint64_t rip; /* from the interrupt frame */
	uint64_t cr2;
	uint64_t count; /* entries so far */
	uint64_t eoi; /* in: KT_EOI_* bits, what the stub acknowledges */
};

#define KT_EOI_PIC 1 /* non-specific EOI to the master 8259 */
#define KT_EOI_LAPIC 2 /* write to the LAPIC EOI register */

/*
 * KT_START_AP, called (64-bit, CPL 0) with the AP's APIC ID in edi and
 * the start-up vector in esi: software-enables the LAPIC and sends INIT,
 * SIPI, SIPI through the ICR; the AP starts in real mode at esi << 12.
 * Clobbers rax, rcx, rdx.
 */

/*
 * Guest code inside a test, as a top-level asm statement:
 *
 *	asm(KT_GUEST_BEGIN(name, base) "...assembly..." KT_GUEST_END(name));
 *	KT_GUEST_DECLARE(name);
 *
 * assembles the text (GNU as, AT&T syntax, .code16/.code32/.code64 as
 * needed) into its own section between `name` and `name_end`, to be copied
 * to guest-physical `base` with kt_load().  The blob ends in .code64, as
 * the compiler expects.  Jumps are relative; an absolute address in 16- or
 * 32-bit code is written KT_ADDR(name, "label").  KT_LABEL("label") exports
 * a label, whose guest address C gets with KT_GADDR(name, base, label).
 */
#define KT_STR_(x) #x
#define KT_STR(x) KT_STR_(x)
/* clang-format off */
#define KT_GUEST_BEGIN(name, base)					\
	".pushsection .rodata.kt_guest." #name ",\"a\"\n"		\
	".balign 4096\n"						\
	#name ":\n"							\
	".set " #name "_delta, " #name " - (" KT_STR(base) ")\n"
#define KT_GUEST_END(name)						\
	#name "_end:\n"							\
	".code64\n"							\
	".popsection\n"
/* clang-format on */
#define KT_ADDR(name, label) "(" label " - " #name "_delta)"
#define KT_LABEL(label) ".globl " label "\n.hidden " label "\n" label ":\n"
#define KT_GUEST_DECLARE(name) extern const uint8_t name[], name##_end[]
#define KT_GADDR(name, base, label) \
	((uint64_t)(base) + (uint64_t)((const uint8_t *)(label) - (name)))

struct kt_vm {
	struct vmctx *ctx;
	char name[VM_NAME_MAX];
	uint8_t *mem; /* host address of guest-physical 0 */
	size_t lowmem; /* bytes at mem */
	int ncpus;
	struct vcpu *vcpu[KT_MAXCPUS];
};

enum kt_mode {
	KT_MODE_REAL, /* CS base from rip, 64 KiB segments */
	KT_MODE_PROT32, /* flat 32-bit, no paging, IDT at KT_IDT32 */
	KT_MODE_LONG64, /* 64-bit CPL 0, identity map, IDT at KT_IDT64 */
	KT_MODE_USER64, /* 64-bit CPL 3, IOPL 3 (so `out` works) */
};

/* Print the skip plan and exit unless /dev/kvm can be opened. */
void kt_require_kvm(void);

/* A VM name unique on this host: "kt-TAG-PID-N". */
void kt_name(char *buf, size_t len, const char *tag);

/*
 * Create a VM with `memsize` bytes of system memory and `ncpus` activated
 * vCPUs (the topology is set to that many cores first), and write the GDT,
 * IDTs, page tables and runtime.  Bails out on failure.
 */
struct kt_vm *kt_vm_create(const char *tag, size_t memsize, int ncpus);
void kt_vm_destroy(struct kt_vm *vm);

/* Rewrite the GDT, IDTs, page tables and runtime (after VM_REINIT, say). */
void kt_mem_init(struct kt_vm *vm);

/* Host address of low guest memory at gpa; bails out if outside it. */
void *kt_gpa(struct kt_vm *vm, uint64_t gpa);
/* Copy [start, end) to guest-physical gpa. */
void kt_load(struct kt_vm *vm, uint64_t gpa, const void *start,
	     const void *end);
/* Volatile access to guest memory, for guests running concurrently. */
uint64_t kt_peek64(struct kt_vm *vm, uint64_t gpa);
void kt_poke64(struct kt_vm *vm, uint64_t gpa, uint64_t val);
/* The exception record; zero it with kt_exc_reset(). */
struct kt_exc kt_exc_get(struct kt_vm *vm);
void kt_exc_reset(struct kt_vm *vm);

/* Put a vCPU in `mode` at `rip`, stack at KT_STACK_TOP; 0 or -errno. */
int kt_vcpu_set_mode(struct vcpu *v, enum kt_mode mode, uint64_t rip);

/*
 * VM_RUN with a watchdog, skipping BOGUS exits (kicks): 0 with an exit,
 * -ETIMEDOUT after `ms` milliseconds, or vm_run's error.
 */
int kt_run_timeout(struct vcpu *v, struct vm_exit *e, int ms);
#define KT_RUN_MS 10000
int kt_run(struct vcpu *v, struct vm_exit *e);

/*
 * Run until the next exit and expect an `out` to `port`: 0 and the value
 * written in *val (if val), or -EPROTO after saying what came instead.
 */
int kt_run_out(struct vcpu *v, uint16_t port, uint32_t *val);

/*
 * A vCPU thread that runs the vCPU one exit at a time: it calls kt_run
 * (watchdog KT_RUNNER_MS), hands the exit to the main thread and waits
 * for kt_runner_go() before it runs again.  It ends after an error or a
 * SUSPENDED exit, or when kt_runner_stop() asks.
 */
#define KT_RUNNER_MS 20000
struct kt_runner;
struct kt_runner *kt_runner_start(struct vcpu *v);
/*
 * Wait up to `ms` for the exit the runner holds: 0 and *e, -ETIMEDOUT, or
 * the error that ended the runner.  The same exit is returned until
 * kt_runner_go().
 */
int kt_runner_wait(struct kt_runner *r, struct vm_exit *e, int ms);
void kt_runner_go(struct kt_runner *r);
/* Whether the runner is inside kt_run (not holding an exit). */
bool kt_runner_running(struct kt_runner *r);
/* End the thread (kicking the vCPU out of VM_RUN if need be), free r. */
void kt_runner_stop(struct kt_runner *r);

/* A one-line description of an exit, for diagnostics. */
const char *kt_exit_str(const struct vm_exit *e, char *buf, size_t len);

/* Index of the statistic called `name`, or -1. */
int kt_stat_index(struct vmctx *ctx, const char *name);
/* Value of statistic `index` of a vCPU; bails out on failure. */
uint64_t kt_stat(struct vcpu *v, int index);

uint64_t kt_now_ms(void);
void kt_sleep_ms(int ms);

#endif
