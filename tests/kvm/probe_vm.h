/*
 * probe_vm.h: the bare KVM VM the probes in tests/kvm/probe-*.c run their
 * guest code on, with raw /dev/kvm ioctls and nothing of vitro.
 *
 * One vCPU, KPV_MEM bytes of memory at guest-physical 0, laid out below:
 * a GDT, a 64-bit IDT whose every vector enters a stub that records the
 * event at KPV_EXC and reports its vector with `out` to KPV_PORT_EXC
 * before it returns (iretq), page tables mapping the first 4 GiB with
 * 2 MiB pages (so the LAPIC at 0xfee00000 is reachable), and a stack.
 * Guest code is written as assembly with KPV_BLOB and copied with
 * kpv_load.  Single-threaded: one probe process owns its VM.
 */
#ifndef TESTS_KVM_PROBE_VM_H
#define TESTS_KVM_PROBE_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/kvm/probe.h"

#define KPV_MEM (2u << 20)
#define KPV_GDT 0x1000
#define KPV_IDT 0x2000
#define KPV_PML4 0x3000 /* then the PDPT at 0x4000, 4 PDs from 0x5000 */
#define KPV_EXC 0x9000 /* vector, error code, rip, cr2, count: u64 each */
#define KPV_RT 0xa000 /* the exception stubs */
#define KPV_CODE 0x10000 /* where probes load their code */
#define KPV_TABLES 0x18000 /* free for a probe's own page tables */
#define KPV_DATA 0x20000
#define KPV_STACK 0x80000

#define KPV_SEL_CODE64 0x08
#define KPV_SEL_DATA 0x10
#define KPV_SEL_CODE32 0x18

#define KPV_PORT_OUT 0xe0
#define KPV_PORT_EXC 0xe4

struct kpv {
	int kvm, vm, vcpu; /* file descriptors, -1 when closed */
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem; /* guest-physical 0 */
};

/*
 * Guest code as a top-level asm statement, between `name` and `name_end`
 * in its own section: KPV_BLOB(name, "...AT&T assembly...").  Jumps are
 * relative, so the code runs wherever it is loaded; KPV_L("x") exports
 * label x, whose guest address is KPV_ADDR(name, base, x).
 */
#define KPV_BLOB(name, text)                                               \
	asm(".pushsection .rodata.kpv_" #name ",\"a\"\n.balign 16\n" #name \
	    ":\n" text "\n" #name "_end:\n.code64\n.popsection\n");        \
	extern const uint8_t name[], name##_end[]
#define KPV_L(label) ".globl " label "\n.hidden " label "\n" label ":\n"
#define KPV_ADDR(name, base, label) \
	((uint64_t)(base) + (uint64_t)((const uint8_t *)(label) - (name)))

/* Open /dev/kvm, make the VM (with the in-kernel irqchip if asked). */
int kpv_open(struct kpv *p, bool irqchip, struct kp_result *res);
void kpv_close(struct kpv *p);
void kpv_load(struct kpv *p, uint64_t gpa, const void *start, const void *end);

/* 64-bit mode at CPL 0 on the identity map; or flat 32-bit, no IDT. */
int kpv_long64(struct kpv *p, uint64_t rip);
int kpv_prot32(struct kpv *p, uint64_t rip);

/* KVM_RUN; the exit reason, or -errno. */
int kpv_run(struct kpv *p);
/* Whether the last exit is an `out` to `port`; its 32-bit value in *val. */
bool kpv_is_out(struct kpv *p, uint16_t port, uint32_t *val);
/* The vCPU's rip, or ~0 when it cannot be read. */
uint64_t kpv_rip(struct kpv *p);
/* A one-line description of the last exit, for reasons. */
const char *kpv_exit_str(struct kpv *p, char *buf, size_t len);

int kpv_set_debug(struct kpv *p, uint32_t control, const uint64_t dr[4],
		  uint64_t dr7);
uint64_t kpv_peek64(struct kpv *p, uint64_t gpa);

/* Set res: verdict and a printf-style reason. */
__attribute__((format(printf, 3, 4))) int
kp_say(struct kp_result *res, int verdict, const char *fmt, ...);

/* The probes, one function each; see the table in probe.c. */
int kp_tsc_msr(struct kp_result *res);
int kp_tsc_guest(struct kp_result *res);
int kp_guest_debug(struct kp_result *res);
int kp_blockirq(struct kp_result *res);
int kp_sw_bp(struct kp_result *res);
int kp_hw_bp(struct kp_result *res);
int kp_step(struct kp_result *res);
int kp_step_blockirq(struct kp_result *res);
int kp_shutdown_state(struct kp_result *res);
int kp_legacy_paging(struct kp_result *res);
int kp_pae_paging(struct kp_result *res);
int kp_pae_pdpte(struct kp_result *res);
int kp_la57(struct kp_result *res);
int kp_tsc_deadline(struct kp_result *res);
int kp_stats(struct kp_result *res);
int kp_stat_exits(struct kp_result *res);

#endif
