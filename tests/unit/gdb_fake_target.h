/*
 * gdb_fake_target.h: a fake machine behind the GDB stub's target
 * operations, for the stub's unit tests and its fuzzer.
 *
 * It has up to GDB_FAKE_NCPU vCPUs (any subset active), registers as a
 * plain array per vCPU, and GDB_FAKE_MEM bytes of "physical" memory.
 * Linear addresses map with a fixed offset: linear GDB_FAKE_LINEAR + p is
 * physical p, except one unmapped page (GDB_FAKE_HOLE) for partial reads.
 * It records what the stub asked of it, checks the target contract (no
 * register, memory or breakpoint access while a vCPU runs), and can
 * report a stop on every resume, as a vCPU would (auto_stop).
 *
 * Threads: one; the tests and the fuzzer drive everything from theirs.
 */
#ifndef GDB_FAKE_TARGET_H
#define GDB_FAKE_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "gdbstub/gdb_target.h"

#define GDB_FAKE_NCPU 8
#define GDB_FAKE_MEM (256 * 1024)
#define GDB_FAKE_LINEAR 0xffffffff80000000ULL
#define GDB_FAKE_HOLE (GDB_FAKE_LINEAR + 0x10000) /* one unmapped page */
#define GDB_FAKE_MAX_BPS 64

struct gdb_fake_bp {
	enum gdb_bp_type type;
	uint64_t addr;
	uint64_t len;
	int vcpu; /* whose paging translates addr (gdb's Hg) */
};

struct gdb_fake {
	struct gdb_events *events; /* where stops are reported */
	struct vm_cpuset cpus; /* active vCPUs */
	bool running[GDB_FAKE_NCPU]; /* vCPU is executing */
	uint64_t regs[GDB_FAKE_NCPU][VM_REG_LAST];
	uint8_t mem[GDB_FAKE_MEM]; /* guest-physical memory */

	/* behaviour */
	int hw_slots; /* hardware breakpoints + watchpoints, default 4 */
	bool no_read_watch; /* Z3 is unsupported */
	unsigned int step_caps; /* GDB_SSTEP_* bits offered */
	int fail_regs; /* when nonzero, register ops return it */
	bool auto_stop; /* every resume reports a stop at once */
	bool not_ready[GDB_FAKE_NCPU]; /* a stop left it running (cpu_ready) */
	int offsets_err; /* offsets: this error when nonzero */
	uint64_t slide; /* offsets: the kernel's slide */

	/* what happened */
	int stop_all_calls;
	int resume_calls;
	struct gdb_resume_action last_act[GDB_FAKE_NCPU];
	unsigned int last_step_flags;
	int regs_set_calls;
	int regs_set_count; /* registers in the last regs_set */
	int last_mem_vcpu;
	unsigned int last_mem_flags;
	struct gdb_fake_bp bps[GDB_FAKE_MAX_BPS]; /* inserted */
	int nbps;
	int kill_calls;
	char last_monitor[256];
	int violations; /* contract breaches seen */
};

/* A fake with vCPUs 0..ncpus-1 active, all running; NULL on failure. */
struct gdb_fake *gdb_fake_create(struct gdb_events *events, int ncpus);
void gdb_fake_destroy(struct gdb_fake *f);
struct gdb_target gdb_fake_target(struct gdb_fake *f);

/* Park vCPU v and report ev from it, as a vCPU thread would. */
int gdb_fake_stop(struct gdb_fake *f, int vcpu, enum gdb_stop_reason reason,
		  uint64_t addr);

#endif
