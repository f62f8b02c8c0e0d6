/*
 * dbg_fake_vmm.h: a fake libvmmapi for the debug core's unit tests
 * (test-debug-core), linked instead of libvmmapi: the vmmapi.h functions
 * the core calls, over plain arrays, with no KVM.
 *
 * One VM (struct vmctx) with DBG_FAKE_NCPU vCPUs and DBG_FAKE_MEM bytes
 * of guest-physical memory.  Linear addresses translate one to one,
 * except on vCPU DBG_FAKE_SHIFTED_CPU, whose paging maps linear a to
 * physical a + DBG_FAKE_SHIFT (so a test can tell whose paging a request
 * used).  Registers are an array per vCPU.  It records the capabilities
 * and debug registers the core asked for, the exceptions it injected, the
 * page protections and the debug set (vm_suspend_cpu), and can be told
 * to refuse a capability on one vCPU.
 *
 * Threads: the test's fake vCPU threads and its main thread; one mutex
 * guards everything here.
 */
#ifndef DBG_FAKE_VMM_H
#define DBG_FAKE_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "libvmmapi/vmmapi.h"

#define DBG_FAKE_NCPU 4
#define DBG_FAKE_MEM (1u << 20)
#define DBG_FAKE_SHIFTED_CPU 1
#define DBG_FAKE_SHIFT 0x10000u

struct fake_inject {
	int vector;
	uint64_t payload;
	unsigned int inst_length; /* vm_inject_trap */
	uint64_t rip; /* rip when it was injected */
};

struct fake_cpu {
	uint64_t regs[VM_REG_LAST];
	bool debug; /* in the debug set */
	int caps[VM_CAP_MAX];
	bool hw;
	uint64_t dr[4], dr7;
	int hw_calls; /* vm_set_hw_debug calls */
	int refuse_cap; /* 1 + the cap vm_set_capability(on) refuses */
	int refuse_err; /* with this error */
	struct fake_inject inj[16];
	int ninj;
};

struct fake_vm {
	pthread_mutex_t lock;
	struct fake_cpu cpu[DBG_FAKE_NCPU];
	uint8_t mem[DBG_FAKE_MEM];
	int prot[DBG_FAKE_MEM / 4096]; /* VM_PROT_*, all three by default */
	bool trap_db_ok; /* vm_inject_trap takes #DB (else -EINVAL) */
	int suspended; /* vm_suspend's how, 0 none */
};

extern struct fake_vm fake;
extern struct vmctx *fake_ctx;
extern struct vcpu *fake_vcpus[DBG_FAKE_NCPU];

/* Reset everything and set up the handles. */
void fake_vm_init(void);

/* Thread-safe accessors for the test. */
bool fake_debug(int cpu);
int fake_cap(int cpu, enum vm_cap_type cap);
int fake_ninj(int cpu);
struct fake_inject fake_inj(int cpu, int k);

#endif
