/*
 * monitor/coredump.h: a guest core dump as QEMU's dump-guest-memory
 * writes it, so that `crash` and `gdb vmlinux FILE` open it: an ELF64
 * ET_CORE file with a PT_NOTE holding, per vCPU, an NT_PRSTATUS note
 * ("CORE", the x86-64 struct elf_prstatus with the general registers)
 * and then, per vCPU, a "QEMU" note (QEMUCPUState version 1: registers,
 * segments, cr0-cr4, GDT/LDT/TR/IDT, kernel GS base); then PT_LOADs.
 * Guest memory is in physical PT_LOADs (p_paddr the guest-physical
 * address, p_vaddr 0 as QEMU writes without paging); virtual PT_LOADs,
 * first, give gdb the mappings of a vCPU's page tables (p_vaddr the
 * linear address) over the same bytes of the file.
 *
 * Pure: the writer gets the registers, the memory ranges and the
 * mappings from its caller (struct coredump), so a unit test writes a
 * dump of a fake guest.  No threads of its own; the caller keeps the
 * vCPUs stopped while it runs.
 */
#ifndef MONITOR_COREDUMP_H
#define MONITOR_COREDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The registers a dump takes of each vCPU, by enum vm_reg_name. */
extern const int coredump_regnums[];
#define COREDUMP_NREGS 64

/* Values for coredump_regnums[], in its order. */
struct coredump_cpu {
	uint64_t r[COREDUMP_NREGS];
};

/* Guest-physical memory: one PT_LOAD each. */
struct coredump_mem {
	uint64_t gpa;
	uint64_t len;
};

/* A linear range mapped onto contiguous guest-physical memory. */
struct coredump_vrange {
	uint64_t va;
	uint64_t pa;
	uint64_t size;
};

/* The largest number of virtual PT_LOADs (more mappings are left out). */
#define COREDUMP_MAX_VIRT 16384

struct coredump {
	int ncpus;
	const struct coredump_cpu *cpus;
	int nmem;
	const struct coredump_mem *mem; /* in gpa order, not overlapping */
	size_t nvirt;
	const struct coredump_vrange *virt; /* parts outside mem are cut */
	/* Copy guest-physical memory: 0 or -errno. */
	int (*read)(void *arg, uint64_t gpa, void *buf, size_t len);
	void *arg;
	/* Optional: called as memory is written (bytes done, total). */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
};

/*
 * Write the dump to fd (at its start; a regular file).  0, or -errno with
 * a message naming the problem in err.
 */
int coredump_write(int fd, const struct coredump *cd, char *err, size_t errlen);

/* Sizes of the notes' descriptors, for tests. */
#define COREDUMP_PRSTATUS_SIZE 336
#define COREDUMP_QEMU_STATE_SIZE 440

#endif
