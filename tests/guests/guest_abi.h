/*
 * guest_abi.h: what the guest programs in tests/guests and the host-side
 * tests that run them agree on: exit codes, the test request port and the
 * layout of the result areas a guest fills in guest-physical memory.
 *
 * Only #defines: guests (ELF32 and ELF64) and host programs include it.
 * A host reads a result area through its host mapping of guest memory;
 * every field is little-endian and naturally aligned.
 */
#ifndef GUEST_ABI_H
#define GUEST_ABI_H

/*
 * Exit codes a guest writes to DEBUG_EXIT_PORT.  vitro exits with status
 * (V << 1) | 1, which keeps them apart from vitro's own 0-4.
 */
#define GUEST_EXIT_PASS 0x10 /* status 33: every check passed */
#define GUEST_EXIT_FAIL 0x11 /* status 35: a check failed (see console) */
#define GUEST_EXIT_EXCEPTION 0x12 /* status 37: an unexpected exception */
#define GUEST_EXIT_UNSUPPORTED 0x13 /* status 39: the CPU cannot do it */
#define GUEST_EXIT_STATUS(v) (((v) << 1) | 1)

/*
 * The test request port: a guest writes a request code (a 32-bit `out`) when
 * it wants the host harness to check something; the harness does so at
 * that port-I/O exit, with the guest's state as the `out` left it, before
 * it resumes the vCPU.  Nothing claims the port in plain vitro, so there
 * the write is ignored and the guest goes on.
 */
#define GUEST_TEST_PORT 0xf0
#define GUEST_REQ_PAGING_CHECK 1 /* paging.elf: translate its table now */
#define GUEST_REQ_SMP_READY 2 /* smp.elf: every CPU found is counting */
/* paging.elf: the CPU refused the mode (#GP), so the tables are not live;
 * the header's CR0/CR3/CR4/EFER say how they would be used */
#define GUEST_REQ_PAGING_TABLES 3

/*
 * trace.elf: where its exits go (tests/tcl/trace.sh counts them).  Nothing
 * claims the ports, no RAM or device is at the address, KVM does not know
 * the MSR (vitro answers #GP, as KVM would).
 */
#define TRACE_PIO_PORT 0x510 /* pio=P: P 1-byte outs */
#define TRACE_MARK_PORT 0x511 /* chain=C: trace_a -> trace_b -> trace_c */
#define TRACE_MMIO_GPA 0xd0000000 /* mmio=M: in the PCI hole */
#define TRACE_MSR 0x40005ead /* rdmsr=R, wrmsr=W */

/* Most CPUs any guest brings up; more are parked and not counted. */
#define GUEST_MAX_CPUS 64

/*
 * The result area: guest-physical, below 640 KiB, in memory that platform.h
 * leaves free on both boot paths.  Every guest that fills it starts with a
 * magic (which guest wrote it) and a state word.
 */
#define GUEST_RESULT_ADDR 0x90000
#define GUEST_RESULT_SIZE 0x8000
#define GUEST_RESULT_MAGIC 0x00 /* u32: GUEST_*_MAGIC, written last */
#define GUEST_RESULT_STATE 0x04 /* u32: GUEST_STATE_* */

#define GUEST_STATE_BUSY 0 /* still setting up */
#define GUEST_STATE_READY 1 /* the data is complete */

/*
 * smp.elf: every vCPU increments its own 64-bit counter, forever.  CPU i is
 * the i-th to check in (0 is the BSP); its counter is at
 * GUEST_SMP_COUNTERS + i * GUEST_SMP_COUNTER_STRIDE.
 */
#define GUEST_SMP_MAGIC 0x31504d53 /* "SMP1" */
#define GUEST_SMP_NCPUS 0x08 /* u32: CPUs found, the BSP included */
#define GUEST_SMP_APIC_IDS 0x40 /* u32[GUEST_MAX_CPUS]: LAPIC id of CPU i */
#define GUEST_SMP_COUNTERS 0x200 /* u64 counters, one per cache line */
#define GUEST_SMP_COUNTER_STRIDE 64

/*
 * paging.elf: a header, then GUEST_PAGING_COUNT entries of
 * GUEST_PAGING_ENTRY_SIZE bytes from GUEST_PAGING_ENTRIES.  When the guest
 * writes GUEST_REQ_PAGING_CHECK its paging mode is live on the vCPU, at
 * CPL 0, and every entry describes a translation of that mode.  With
 * GUEST_REQ_PAGING_TABLES the same holds for the control registers in the
 * header, which the CPU refused to take.
 */
#define GUEST_PAGING_MAGIC 0x45474150 /* "PAGE" */
#define GUEST_PAGING_MODE 0x08 /* u32: GUEST_PAGING_MODE_* */
#define GUEST_PAGING_COUNT 0x0c /* u32: entries */
#define GUEST_PAGING_CR3 0x10 /* u64 */
#define GUEST_PAGING_CR4 0x18 /* u64 */
#define GUEST_PAGING_EFER 0x20 /* u64 */
#define GUEST_PAGING_CR0 0x28 /* u64 */
#define GUEST_PAGING_ENTRIES 0x40
#define GUEST_PAGING_ENTRY_SIZE 32
#define GUEST_PAGING_MAX_ENTRIES 128

#define GUEST_PAGING_MODE_32 1 /* 32-bit, CR4.PSE on if CPUID has PSE */
#define GUEST_PAGING_MODE_PAE 2
#define GUEST_PAGING_MODE_64 3 /* 4-level, IA-32e */
#define GUEST_PAGING_MODE_LA57 4 /* 5-level, IA-32e */

/* Fields of one entry, offsets from its start. */
#define GUEST_PAGING_E_GLA 0x00 /* u64: linear address */
#define GUEST_PAGING_E_GPA 0x08 /* u64: the physical address it must give */
/* u32s: GUEST_PROT_* accesses that succeed, and that fault, at CPL 0 */
#define GUEST_PAGING_E_PROT_OK 0x10
#define GUEST_PAGING_E_PROT_FAULT 0x14
#define GUEST_PAGING_E_PAGE_SIZE 0x18 /* u32: bytes mapped by the final entry */
#define GUEST_PAGING_E_FLAGS 0x1c /* u32: GUEST_PAGING_F_* */

/* The same values as VM_PROT_* in vmm/vmm_dev.h. */
#define GUEST_PROT_READ 1
#define GUEST_PROT_WRITE 2
#define GUEST_PROT_EXEC 4

#define GUEST_PAGING_F_USER 0x1 /* user page: CPL 3 may use it too */
#define GUEST_PAGING_F_NX 0x2 /* execute-disable set at some level */
#define GUEST_PAGING_F_RO 0x4 /* read-only at some level */
#define GUEST_PAGING_F_ALIAS 0x8 /* another entry maps the same page */

#endif
