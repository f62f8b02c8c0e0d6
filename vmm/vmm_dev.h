/*
 * vmm_dev.h: the vmm command set, vitro's stand-in for bhyve's ioctl
 * boundary to vmm.ko.
 *
 * Every operation on a VM is a numbered command with a flat argument struct,
 * passed to one entry point, vmm_ioctl().  The structs are a wire format:
 * the VM's control socket carries them between processes as they are.  So
 * they hold fixed-width fields only (no size_t, bool, enum or pointer),
 * with explicit padding, and each size is checked below.  A command number
 * carries the size of its struct and the ABI version (VMM_CMD), as
 * FreeBSD's _IOWR does, so a peer built against another layout is refused
 * rather than misread.  Two commands are in-process only and say so in
 * their number (VMM_CMD_LOCAL): VM_RUN, which returns pointers into KVM's
 * run area, and VM_GPA2HVA, which returns a host address; the socket
 * refuses them.  Per-vCPU commands keep the vCPU id in the struct's first
 * field.  The enums below name the values that fields of type uint32_t
 * take.
 *
 * Threading: vmm_ioctl() may be called from any thread.  Commands that read
 * or write guest CPU state (registers, translation with the vCPU's paging,
 * exception injection) require the vCPU to be out of VM_RUN: either in the
 * debug set and parked by its thread, or called by the vCPU's own thread
 * between runs.  Statistics may be read at any time.  VM_SUSPEND_CPU,
 * VM_RESUME_CPU and VM_SUSPEND kick a vCPU out of KVM_RUN promptly.
 *
 * Stops: when VM_RUN returns DEBUG or SUSPENDED, every instruction the
 * vCPU started is finished, including the one of an INOUT or MMIO exit
 * the monitor answered just before (vmm re-enters KVM once, without
 * running guest code, to let it finish).  Registers read at the stop are
 * final, and registers written there are what the guest resumes with.
 * Between an INOUT/MMIO exit and the next VM_RUN, by contrast, that
 * instruction is half done (rip may still point at it, its destination
 * is not written): the vCPU's own thread must not write the registers it
 * writes.  To report a stop from such an exit's handler, put the vCPU in
 * the debug set (VM_SUSPEND_CPU) and call VM_RUN: it may first return
 * another exit that finishing the instruction needed (the next piece of a
 * split MMIO access, a step), then DEBUG.
 *
 * Errors: vmm_ioctl() returns 0 or -errno.  Out fields are written only on
 * success.
 */
#ifndef VMM_DEV_H
#define VMM_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAXCPU 256 /* vCPU ids are 0 .. VM_MAXCPU-1 */
#define VM_NAME_MAX 64 /* VM and segment names, with the NUL */
#define VM_MAX_MEMSEGS 16 /* memory segments per VM */
#define VM_MAX_MEMMAPS 32 /* guest-physical mappings per VM */
#define VM_REGSET_MAX 192 /* registers in one VM_*_REGISTER_SET */
#define VM_STATS_BATCH 64 /* counters returned by one VM_STATS */
#define VM_STAT_NAME_MAX 64

/* Guest-physical layout of system memory: a PCI hole below 4 GiB. */
#define VM_LOWMEM_LIMIT (3ULL << 30) /* system memory below the hole */
#define VM_HIGHMEM_BASE (4ULL << 30) /* the rest starts here */

/* A set of vCPUs, as a bitmap. */
struct vm_cpuset {
	uint64_t bits[VM_MAXCPU / 64];
};

static inline void vm_cpuset_set(struct vm_cpuset *s, int cpu)
{
	s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void vm_cpuset_clr(struct vm_cpuset *s, int cpu)
{
	s->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static inline bool vm_cpuset_isset(const struct vm_cpuset *s, int cpu)
{
	return (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

/*
 * Registers.  Every value is 64 bits wide.  Registers wider than that are
 * split: a segment register is its selector plus _BASE/_LIMIT/_ACCESS
 * entries, GDTR and IDTR are base and limit, an x87 register is its 64-bit
 * significand (_LO) and its sign and exponent (_HI), an XMM register is two
 * halves.  _ACCESS uses the VMX access-rights layout (type, S, DPL, P in
 * bits 0-7, AVL, L, D/B, G in bits 12-15, "unusable" in bit 16).
 */
enum vm_reg_name {
	VM_REG_GUEST_RAX,
	VM_REG_GUEST_RBX,
	VM_REG_GUEST_RCX,
	VM_REG_GUEST_RDX,
	VM_REG_GUEST_RSI,
	VM_REG_GUEST_RDI,
	VM_REG_GUEST_RBP,
	VM_REG_GUEST_RSP,
	VM_REG_GUEST_R8,
	VM_REG_GUEST_R9,
	VM_REG_GUEST_R10,
	VM_REG_GUEST_R11,
	VM_REG_GUEST_R12,
	VM_REG_GUEST_R13,
	VM_REG_GUEST_R14,
	VM_REG_GUEST_R15,
	VM_REG_GUEST_RIP,
	VM_REG_GUEST_RFLAGS,
	/* segment selectors */
	VM_REG_GUEST_ES,
	VM_REG_GUEST_CS,
	VM_REG_GUEST_SS,
	VM_REG_GUEST_DS,
	VM_REG_GUEST_FS,
	VM_REG_GUEST_GS,
	VM_REG_GUEST_LDTR,
	VM_REG_GUEST_TR,
	/* segment descriptor caches, in the same order */
	VM_REG_GUEST_ES_BASE,
	VM_REG_GUEST_CS_BASE,
	VM_REG_GUEST_SS_BASE,
	VM_REG_GUEST_DS_BASE,
	VM_REG_GUEST_FS_BASE,
	VM_REG_GUEST_GS_BASE,
	VM_REG_GUEST_LDTR_BASE,
	VM_REG_GUEST_TR_BASE,
	VM_REG_GUEST_ES_LIMIT,
	VM_REG_GUEST_CS_LIMIT,
	VM_REG_GUEST_SS_LIMIT,
	VM_REG_GUEST_DS_LIMIT,
	VM_REG_GUEST_FS_LIMIT,
	VM_REG_GUEST_GS_LIMIT,
	VM_REG_GUEST_LDTR_LIMIT,
	VM_REG_GUEST_TR_LIMIT,
	VM_REG_GUEST_ES_ACCESS,
	VM_REG_GUEST_CS_ACCESS,
	VM_REG_GUEST_SS_ACCESS,
	VM_REG_GUEST_DS_ACCESS,
	VM_REG_GUEST_FS_ACCESS,
	VM_REG_GUEST_GS_ACCESS,
	VM_REG_GUEST_LDTR_ACCESS,
	VM_REG_GUEST_TR_ACCESS,
	VM_REG_GUEST_GDTR_BASE,
	VM_REG_GUEST_GDTR_LIMIT,
	VM_REG_GUEST_IDTR_BASE,
	VM_REG_GUEST_IDTR_LIMIT,
	/* control registers and MSRs */
	VM_REG_GUEST_CR0,
	VM_REG_GUEST_CR2,
	VM_REG_GUEST_CR3,
	VM_REG_GUEST_CR4,
	VM_REG_GUEST_CR8,
	VM_REG_GUEST_EFER,
	VM_REG_GUEST_KGS_BASE, /* IA32_KERNEL_GS_BASE */
	VM_REG_GUEST_APIC_BASE,
	VM_REG_GUEST_TSC,
	VM_REG_GUEST_PDPTE0, /* PAE page-directory pointers (read only) */
	VM_REG_GUEST_PDPTE1,
	VM_REG_GUEST_PDPTE2,
	VM_REG_GUEST_PDPTE3,
	/* debug registers */
	VM_REG_GUEST_DR0,
	VM_REG_GUEST_DR1,
	VM_REG_GUEST_DR2,
	VM_REG_GUEST_DR3,
	VM_REG_GUEST_DR6,
	VM_REG_GUEST_DR7,
	/* x87 and SSE */
	VM_REG_GUEST_FCW,
	VM_REG_GUEST_FSW,
	VM_REG_GUEST_FTW, /* abridged (FXSAVE) tag byte */
	VM_REG_GUEST_FOP,
	VM_REG_GUEST_FIP,
	VM_REG_GUEST_FDP,
	VM_REG_GUEST_MXCSR,
	VM_REG_GUEST_ST0_LO,
	VM_REG_GUEST_ST0_HI = VM_REG_GUEST_ST0_LO + 1,
	VM_REG_GUEST_ST7_HI = VM_REG_GUEST_ST0_LO + 15,
	VM_REG_GUEST_XMM0_LO,
	VM_REG_GUEST_XMM0_HI = VM_REG_GUEST_XMM0_LO + 1,
	VM_REG_GUEST_XMM15_HI = VM_REG_GUEST_XMM0_LO + 31,
	/* interrupt shadow (STI / MOV SS blocking), 0 or 1 */
	VM_REG_GUEST_INTR_SHADOW,
	VM_REG_LAST
};

#define VM_REG_GUEST_STn_LO(n) (VM_REG_GUEST_ST0_LO + 2 * (n))
#define VM_REG_GUEST_STn_HI(n) (VM_REG_GUEST_ST0_LO + 2 * (n) + 1)
#define VM_REG_GUEST_XMMn_LO(n) (VM_REG_GUEST_XMM0_LO + 2 * (n))
#define VM_REG_GUEST_XMMn_HI(n) (VM_REG_GUEST_XMM0_LO + 2 * (n) + 1)

/* Segment access-rights bits (VMX layout). */
#define VM_SEG_ACCESS_P (1u << 7)
#define VM_SEG_ACCESS_L (1u << 13)
#define VM_SEG_ACCESS_DB (1u << 14)
#define VM_SEG_ACCESS_G (1u << 15)
#define VM_SEG_ACCESS_UNUSABLE (1u << 16)
#define VM_SEG_ACCESS_DPL(a) (((a) >> 5) & 3)

/* Exit codes of VM_RUN.  vm_exitcode_name() gives their names. */
enum vm_exitcode {
	VM_EXITCODE_BOGUS, /* nothing to do: run again */
	VM_EXITCODE_INOUT, /* port I/O for the monitor */
	VM_EXITCODE_MMIO, /* MMIO for the monitor */
	VM_EXITCODE_DEBUG, /* in the debug set; instructions finished */
	VM_EXITCODE_MTRAP, /* one instruction stepped (MTRAP_EXIT) */
	VM_EXITCODE_BPT, /* int3 (BPT_EXIT) */
	VM_EXITCODE_HWBP, /* debug-register breakpoint or watchpoint */
	VM_EXITCODE_SUSPENDED, /* the VM is suspended (VM_SUSPEND) */
	VM_EXITCODE_INST_EMUL, /* KVM could not emulate an instruction */
	VM_EXITCODE_RUN_FAILED, /* KVM refused to enter the guest */
	VM_EXITCODE_HLT, /* hlt, without an in-kernel LAPIC only */
	VM_EXITCODE_UNHANDLED, /* a KVM exit vmm does not decode */
	VM_EXITCODE_DEBUG_REFUSED, /* KVM refused the debug settings asked */
	VM_EXITCODE_MSR, /* rdmsr/wrmsr of an MSR KVM does not know */
	VM_EXITCODE_MAX
};

/* How a VM is suspended (VM_SUSPEND), and why VM_RUN says SUSPENDED. */
enum vm_suspend_how {
	VM_SUSPEND_NONE,
	VM_SUSPEND_RESET,
	VM_SUSPEND_POWEROFF,
	VM_SUSPEND_HALT,
	VM_SUSPEND_TRIPLEFAULT,
	VM_SUSPEND_LAST
};

#define VM_EXIT_INST_BYTES 15

/*
 * Debug-register breakpoints and watchpoints for the monitor's debugger
 * (VM_SET_HW_DEBUG, VM_GET_HW_DEBUG).  DR7 is checked when set: its upper
 * half and its reserved bits 12, 14 and 15 must be 0 (-EINVAL).
 */
struct vm_hw_debug {
	int32_t cpuid;
	uint8_t enable; /* 0 or 1 */
	uint8_t pad[3];
	uint64_t dr[4]; /* linear addresses */
	uint64_t dr7; /* enables, kinds and lengths */
};

/*
 * The decoded result of VM_RUN.  For INOUT and MMIO, `data` points into the
 * vCPU's KVM run area: the monitor reads what the guest wrote from it, and
 * stores what a read returns into it before the next VM_RUN.
 */
struct vm_exit {
	enum vm_exitcode exitcode;
	/*
	 * Guest rip at the exit (not CS base + rip).  For INOUT and MMIO it
	 * is at or after the instruction, depending on the KVM; for debug
	 * exits it is where the vCPU will resume.
	 */
	uint64_t rip;
	int inst_length; /* length of the exiting instruction, or 0 */
	union {
		struct {
			uint16_t port;
			uint8_t bytes; /* 1, 2 or 4 */
			bool in; /* guest reads */
			uint32_t count; /* elements, >1 for rep ins/outs */
			uint8_t *data; /* count * bytes, in the run area */
		} inout;
		struct {
			uint64_t gpa;
			uint8_t bytes; /* 1 to 8 */
			bool write;
			uint8_t *data; /* little-endian value */
		} mmio;
		struct {
			uint64_t dr6; /* which breakpoint, BS for a step */
			uint64_t dr7;
		} hwbp;
		struct {
			enum vm_suspend_how how;
			int cpuid; /* the vCPU that caused it, or -1 */
		} suspended;
		struct {
			uint32_t suberror; /* KVM_INTERNAL_ERROR_* */
			uint8_t inst_len; /* bytes valid in inst */
			uint8_t inst[VM_EXIT_INST_BYTES];
			uint64_t data[4]; /* KVM's diagnostic words */
			uint32_t ndata;
		} inst_emul;
		struct {
			uint64_t reason; /* hardware entry failure code */
		} run_failed;
		struct {
			uint32_t kvm_reason; /* KVM_EXIT_* */
		} unhandled;
		/*
		 * KVM hands user space the MSRs it does not know: the
		 * monitor sets *error to 1 to give the guest #GP (what KVM
		 * itself would do), or 0 with *value for a read.
		 */
		struct {
			uint32_t index;
			bool write;
			uint64_t wval; /* the value written */
			uint64_t *value; /* rdmsr's result, in the run area */
			uint8_t *error; /* in the run area */
		} msr;
		struct {
			int error; /* -errno from KVM_SET_GUEST_DEBUG */
			uint32_t caps; /* refused: bit n is VM_CAP_n on */
			struct vm_hw_debug hw; /* refused */
		} debug_refused;
	} u;
};

/*
 * Optional per-vCPU features, VM_GET/SET_CAPABILITY.
 *
 * VM_SET_CAPABILITY and VM_SET_HW_DEBUG (the debug settings) check what
 * can be checked at once (-ENOTSUP for a feature this KVM lacks, -EINVAL
 * for a bad value) and record the rest: the vCPU's thread gives them to
 * KVM (KVM_SET_GUEST_DEBUG) at its next VM_RUN, before the guest runs.
 * If KVM refuses them there, the vCPU goes back to the settings KVM last
 * took, and that VM_RUN returns VM_EXITCODE_DEBUG_REFUSED at once (no
 * guest instruction ran) with KVM's error and the settings refused; the
 * next VM_RUN runs the guest under the settings before.  All changes made
 * since the last VM_RUN are refused together.  (Should KVM then refuse
 * the settings before as well, which it took once, VM_RUN fails with its
 * error: the vCPU's debug state is not known any more.)
 * VM_GET_CAPABILITY and VM_GET_HW_DEBUG read the settings the vCPU runs
 * with next: what was asked, or after a refusal the ones before.  The
 * count of refusals is the statistic exits.debug_refused.
 */
enum vm_cap_type {
	VM_CAP_MTRAP_EXIT, /* exit after every instruction */
	VM_CAP_BPT_EXIT, /* int3 exits to the monitor */
	VM_CAP_MASK_HWINTR, /* no interrupt injection (with MTRAP) */
	VM_CAP_MAX
};

/* Paging modes of the page walker. */
enum vm_paging_mode {
	PAGING_MODE_FLAT, /* CR0.PG = 0 */
	PAGING_MODE_32, /* 2-level, 4 KiB and 4 MiB pages */
	PAGING_MODE_PAE, /* 3-level */
	PAGING_MODE_64, /* 4-level */
	PAGING_MODE_64_LA57, /* 5-level */
};

/* Execution modes. */
enum vm_cpu_mode {
	CPU_MODE_REAL,
	CPU_MODE_PROTECTED,
	CPU_MODE_COMPATIBILITY, /* IA-32e, 32-bit code segment */
	CPU_MODE_64BIT,
};

/*
 * What a walk needs to know of the CPU: vm_get_guest_paging() fills it.
 * The flags are 0 or 1.
 */
struct vm_guest_paging {
	uint64_t cr3;
	int32_t cpl;
	uint32_t cpu_mode; /* enum vm_cpu_mode */
	uint32_t paging_mode; /* enum vm_paging_mode */
	uint8_t wp; /* CR0.WP */
	uint8_t nxe; /* EFER.NXE */
	uint8_t smep; /* CR4.SMEP */
	uint8_t smap; /* CR4.SMAP */
	uint8_t ac; /* RFLAGS.AC, which lifts SMAP */
	uint8_t pse; /* CR4.PSE, 4 MiB pages in 32-bit paging */
	uint8_t pad[6];
};

/* Access kinds for translation: a bitmask of these. */
#define VM_PROT_READ 1
#define VM_PROT_WRITE 2
#define VM_PROT_EXEC 4

/* Page-fault error-code bits. */
#define PGEX_P 0x01
#define PGEX_W 0x02
#define PGEX_U 0x04
#define PGEX_RSVD 0x08
#define PGEX_I 0x10

/* Exception vectors used by the walker and the debugger. */
#define IDT_DB 1
#define IDT_BP 3
#define IDT_OF 4
#define IDT_GP 13
#define IDT_PF 14

#define VM_WALK_MAX_LEVELS 5

/*
 * VM_GLA2GPA and VM_GLA2GPA_NOFAULT.  With use_current the vCPU's own paging
 * state is used and `paging` is ignored.  A translation that the CPU would
 * fault is not an error: `fault` is set with the vector (IDT_PF or IDT_GP
 * for a non-canonical address) and error code, and `fault_level` names the
 * level whose entry stopped the walk (5..1 from the top, 0 for a canonical
 * check).  VM_GLA2GPA also does what the CPU would: it sets accessed and
 * dirty bits, and on a fault injects the exception (with CR2).
 */
struct vm_gla2gpa {
	int32_t cpuid; /* in */
	uint8_t use_current; /* in: 0 or 1 */
	uint8_t fault; /* out: 0 or 1 */
	uint8_t pad[2];
	struct vm_guest_paging paging; /* in */
	uint64_t gla; /* in */
	int32_t prot; /* in: VM_PROT_* */
	int32_t vector; /* out, when fault */
	uint32_t error_code; /* out, when fault */
	int32_t fault_level; /* out, when fault */
	int32_t levels; /* out: entries read */
	uint32_t pad2;
	uint64_t gpa; /* out, when !fault */
	uint64_t pte[VM_WALK_MAX_LEVELS]; /* out: entries, top first */
	uint64_t page_size; /* out, when !fault */
};

/* Memory segments.  Segment 0 is system memory; others are named. */
#define VM_SYSMEM 0

/*
 * How a segment is backed (VM_ALLOC_MEMSEG's flags ask, VM_GET_MEMSEG
 * tells).  Without a HUGETLB flag, vmm picks the backing that lets KVM map
 * 2 MiB pages on this host: a memfd with transparent huge pages where the
 * host gives them to shared memory (transparent_hugepage/shmem_enabled),
 * else private anonymous memory madvised MADV_HUGEPAGE where the host
 * gives them on request (transparent_hugepage/enabled), else a memfd of
 * 4 KiB pages.  A segment is mapped in vitro at an address aligned as its
 * page size, so that guest-physical and host-virtual 2 MiB (1 GiB) frames
 * line up for every map whose gpa and segoff agree modulo that size.
 * - HUGETLB: a hugetlbfs memfd (MFD_HUGETLB) of 2 MiB pages, or 1 GiB
 *   with HUGE_1G; its pages are reserved at allocation, which fails with
 *   ENOMEM when the host has too few (vm.nr_hugepages); len must be a
 *   multiple of the page size (EINVAL).
 * - SMALL: a memfd of 4 KiB pages whatever the host offers.
 * - PREALLOC: every page populated before VM_ALLOC_MEMSEG returns.
 * - MLOCK: locked in RAM (mlock); ENOMEM beyond RLIMIT_MEMLOCK without
 *   CAP_IPC_LOCK.
 */
#define VM_MEMSEG_F_HUGETLB 1u
#define VM_MEMSEG_F_HUGE_1G 2u /* with HUGETLB: 1 GiB pages */
#define VM_MEMSEG_F_SMALL 4u
#define VM_MEMSEG_F_PREALLOC 8u
#define VM_MEMSEG_F_MLOCK 16u
#define VM_MEMSEG_F_ALL 31u

enum vm_memseg_backing {
	VM_MEMSEG_SHMEM, /* memfd, 4 KiB pages */
	VM_MEMSEG_SHMEM_THP, /* memfd, transparent huge pages */
	VM_MEMSEG_ANON_THP, /* private anonymous, transparent huge pages */
	VM_MEMSEG_HUGETLB, /* hugetlbfs memfd */
	VM_MEMSEG_BACKING_MAX
};

/* Why the backing is what it is (libvmmapi names them). */
enum vm_memseg_why {
	VM_MEMSEG_WHY_ASKED, /* the flags asked for it */
	VM_MEMSEG_WHY_THP_SHMEM, /* the host gives THP to shared memory */
	VM_MEMSEG_WHY_THP_ANON, /* shmem THP off, anonymous THP on request */
	VM_MEMSEG_WHY_THP_OFF, /* the host's THP is off (or absent) */
	VM_MEMSEG_WHY_MAX
};

struct vm_memseg {
	int32_t segid; /* in */
	uint32_t flags; /* in: alloc, VM_MEMSEG_F_*; out: get, as allocated */
	uint64_t len; /* in: alloc; out: get */
	char name[VM_NAME_MAX]; /* in: alloc ("" for sysmem); out */
	uint32_t backing; /* out: enum vm_memseg_backing */
	uint32_t why; /* out: enum vm_memseg_why */
	uint64_t page_size; /* out: the largest page that can back it */
};

/*
 * A map whose prot lacks VM_PROT_WRITE, or with VM_MEMMAP_F_READONLY, is
 * read-only to the guest: its writes exit as MMIO (a boot ROM).
 */
#define VM_MEMMAP_F_WIRED 1
#define VM_MEMMAP_F_READONLY 2

struct vm_memmap {
	uint64_t gpa; /* in/out */
	uint64_t segoff; /* in/out */
	uint64_t len; /* in/out */
	int32_t segid; /* in/out */
	int32_t prot; /* in/out: VM_PROT_* */
	int32_t flags; /* in/out: VM_MEMMAP_F_* */
	uint32_t pad;
};

struct vm_munmap {
	uint64_t gpa;
	uint64_t len;
};

/*
 * VM_PROTECT_GPA: how guest accesses to [gpa, gpa+len) reach memory, by
 * page.  With VM_PROT_WRITE and VM_PROT_READ (the default) they go to
 * memory; without VM_PROT_WRITE every guest write exits as an MMIO write
 * carrying the data, memory unchanged; with no access bits every guest
 * access exits as MMIO (instruction fetches from such a page cannot be
 * emulated).  VM_GPA2HVA, VM_READ_GPA and VM_WRITE_GPA still reach the
 * memory, so the monitor can perform the access itself.  A debugger's
 * watchpoints are built on this.
 */
struct vm_gpa_prot {
	uint64_t gpa;
	uint64_t len;
	int32_t prot; /* VM_PROT_* */
	uint32_t pad;
};

/* VM_GPA2HVA: in-process only. */
struct vm_gpa2hva {
	uint64_t gpa; /* in */
	uint64_t len; /* in: the range must lie in one map */
	void *hva; /* out */
};

/*
 * VM_READ_GPA / VM_WRITE_GPA: guest-physical memory by value, for a client
 * in another process.  Up to VM_GPA_RW_MAX bytes from gpa; the range may
 * span maps, and stops at the first byte that is not memory: `len` is then
 * lowered to the bytes done (out).  -EFAULT when not even the first byte is
 * memory, -EINVAL when len is 0 or above VM_GPA_RW_MAX.  Page protection
 * (VM_PROTECT_GPA) does not apply: this is the monitor's access.
 */
#define VM_GPA_RW_MAX 4096

struct vm_gpa_rw {
	uint64_t gpa; /* in */
	uint32_t len; /* in: bytes wanted; out: bytes done */
	uint32_t pad;
	uint8_t data[VM_GPA_RW_MAX]; /* out for READ, in for WRITE */
};

/* VM_RUN: in-process only (vm_exit holds pointers into KVM's run area). */
struct vm_run {
	int32_t cpuid;
	uint32_t pad;
	struct vm_exit *vm_exit;
};

struct vm_register {
	int32_t cpuid;
	int32_t regnum;
	uint64_t regval;
};

struct vm_register_set {
	int32_t cpuid;
	uint32_t count;
	int32_t regnums[VM_REGSET_MAX];
	uint64_t regvals[VM_REGSET_MAX];
};

struct vm_capability {
	int32_t cpuid;
	uint32_t captype; /* enum vm_cap_type */
	int32_t capval;
};

/* VM_SUSPEND_CPU / VM_RESUME_CPU / VM_ACTIVATE_CPU; cpuid -1 means all. */
struct vm_activate_cpu {
	int32_t cpuid;
};

enum vm_cpuset_which {
	VM_ACTIVE_CPUS,
	VM_SUSPENDED_CPUS,
	VM_DEBUG_CPUS,
};

struct vm_cpus {
	uint32_t which; /* enum vm_cpuset_which */
	uint32_t pad;
	struct vm_cpuset cpus; /* out */
};

struct vm_suspend {
	uint32_t how; /* enum vm_suspend_how */
};

struct vm_cpu_topology {
	uint16_t sockets;
	uint16_t cores;
	uint16_t threads;
	uint16_t maxcpus;
};

/*
 * VM_INJECT_EXCEPTION: deliver an exception to a stopped vCPU when it next
 * runs; -EBUSY while one is already waiting to be delivered.  Register
 * writes made before the vCPU runs do not cancel it.
 * - A fault (#UD, #GP, #PF...) is delivered at the current rip.
 * - A trap that an instruction raises (#BP from int3, #OF from into) gives
 *   the instruction's length in inst_length, with rip still at the
 *   instruction: the guest's handler sees rip + inst_length (0: rip as it
 *   is).  KVMs push rip differently for these, so vmm measures it once per
 *   VM, on the first such injection (a scratch VM; vmm_probe.c).  A KVM
 *   that pushes rip as it is (a software KVM such as kvm_pvm) takes any
 *   such trap: vmm moves rip first.  VMX and SVM push rip plus a length of
 *   their own that is right only for the int3 of the vCPU's last VM_RUN
 *   exit (BPT, or INST_EMUL at an int3), with no run since; there a #BP is
 *   taken when rip + inst_length is that int3's address + 1 (rip at the
 *   int3 and inst_length 1, or rip already past it and 0), and any other
 *   #BP or #OF is refused with -EOPNOTSUPP rather than delivered at a
 *   wrong rip.  After VM_RUN returned BPT, re-inject before the vCPU runs
 *   again; stopping and reading or writing registers in between is fine.
 * - payload: for #PF, CR2; for #DB, the DR6 bits that say why (B0-B3, BD,
 *   BS, BT; any other bit is -EINVAL): the handler reads DR6 with B0-B3
 *   equal to those, BD, BS, BT set where given (they accumulate, as on
 *   hardware) and the reserved bits as hardware has them.  vmm uses
 *   KVM_CAP_EXCEPTION_PAYLOAD where KVM has it (KVM writes DR6 as it
 *   delivers the #DB), else sets DR6 now.  A #DB with payload 0 leaves
 *   DR6 alone.  Other vectors ignore payload.
 */
struct vm_exception {
	int32_t cpuid;
	int32_t vector;
	uint8_t error_code_valid; /* 0 or 1 */
	uint8_t pad[3];
	uint32_t error_code;
	uint64_t payload; /* #PF: the faulting address; #DB: DR6 bits */
	uint32_t inst_length; /* #BP, #OF: the raising instruction's length */
	uint32_t pad2;
};

/*
 * VM_GET_RUN_STATE (after illumos bhyve): whether a stopped vCPU was
 * running, halted in hlt, or waiting for INIT/SIPI (an AP not started).
 */
enum vm_runstate {
	VRS_RUN, /* runnable */
	VRS_HALT, /* in hlt, waiting for an interrupt */
	VRS_INIT, /* waiting for INIT, then a SIPI */
	VRS_SIPI, /* INIT received, waiting for a SIPI */
	VRS_OTHER, /* another state of KVM's (stopped, SMM...) */
};

struct vm_run_state {
	int32_t cpuid;
	uint32_t state; /* out: enum vm_runstate */
};

struct vm_nmi {
	int32_t cpuid;
};

struct vm_irq {
	int32_t irq; /* ISA irq 0-15, or IOAPIC pin */
};

struct vm_msi {
	uint64_t addr;
	uint64_t data;
};

/*
 * Statistics.  Each vCPU has counters numbered 0..n-1: first the exits by
 * exit code (one per enum vm_exitcode), then vmm's own, then KVM's binary
 * per-vCPU statistics.  VM_STATS returns up to VM_STATS_BATCH counters from
 * `index`; VM_STAT_DESC names counter `index` (-ENOENT past the last).
 */
struct vm_stats {
	int32_t cpuid; /* in */
	int32_t index; /* in: first counter */
	int32_t num_entries; /* out */
	uint32_t pad;
	uint64_t tv_usec; /* out: when read, CLOCK_MONOTONIC */
	uint64_t statbuf[VM_STATS_BATCH]; /* out */
};

struct vm_stat_desc {
	int32_t index; /* in */
	char desc[VM_STAT_NAME_MAX]; /* out */
};

/*
 * VM-exit tracing.  While tracing is on, every exit KVM_RUN returns adds
 * one record (libvmmapi/vm_trace.h, source VM_TRACE_USER) to its vCPU's
 * ring: filled when KVM_RUN returns, finished (t_entry, and the data an
 * IN, MMIO read or rdmsr got from the monitor) when the monitor calls
 * VM_RUN again.  With a stack depth, the record carries up to that many
 * return addresses found by the guest's frame pointers (read like
 * VM_GLA2GPA_NOFAULT: never touching the guest).  A full ring drops the
 * new record and counts it.
 * - VM_TRACE_START: (re)start with rings of `ring` records (rounded up
 *   to a power of two, at most VM_TRACE_RING_MAX) and `stack` depth; the
 *   rings of a restart are new and empty.  vCPUs made later get rings.
 * - VM_TRACE_STOP: no argument; the rings and what they held go.
 * - VM_TRACE_READ (in-process): copy whole records (each followed by its
 *   nstack return addresses) from vCPU cpuid's ring into buf, up to len
 *   bytes; -ENOENT when tracing is off.
 * START, STOP and READ come from one thread at a time (the consumer).
 */
struct vm_trace_start {
	uint32_t ring; /* records per vCPU */
	uint32_t stack; /* return addresses per record, 0..32 */
};

struct vm_trace_read {
	int32_t cpuid; /* in */
	uint32_t len; /* in: bytes at buf */
	uint64_t buf; /* in: a pointer, in-process */
	uint32_t bytes; /* out: bytes copied */
	uint32_t nrecs; /* out: records copied */
	uint64_t dropped; /* out: records this ring lost since the start */
};

/*
 * CPU models: the CPUID features a VM's vCPUs show.  VM_SET_CPU_MODEL
 * takes effect for vCPUs activated after it (-EBUSY once one exists):
 * - VM_CPU_MODEL_HOST: everything KVM supports (the default);
 * - VM_CPU_MODEL_CONSERVATIVE: what an instruction emulator (a software
 *   KVM such as kvm_pvm, or KVM emulating an instruction) can run: no
 *   XSAVE family nor AVX (with them leaf 0xD goes), no cmpxchg16b, popcnt,
 *   SMAP (clac/stac), FSGSBASE, PCID/INVPCID, RDRAND/RDSEED, RDTSCP/RDPID,
 *   TSX, PKU, LA57, BMI, SHA/AES/PCLMUL and other SIMD beyond SSE4.2, nor
 *   the speculation-control leaf 7 EDX.  SSE to SSE4.2, NX, LM, the APIC
 *   and x2APIC, the TSC and KVM's paravirtual leaves stay.
 * Features are named by word and bit: the words below are the CPUID
 * registers a model filters.  `hide` hides more on top of the model's.
 * `hidden` (out, for both commands) is what is hidden that the host's CPU
 * (as vitro's own CPUID shows it) or KVM has: the features a guest would
 * see if filtering did not reach it.
 */
enum vm_cpu_model_id {
	VM_CPU_MODEL_HOST,
	VM_CPU_MODEL_CONSERVATIVE,
	VM_CPU_MODEL_MAX
};

enum vm_cpuid_word {
	VM_CPUID_1_ECX, /* leaf 1 ECX */
	VM_CPUID_1_EDX, /* leaf 1 EDX */
	VM_CPUID_7_EBX, /* leaf 7.0 EBX */
	VM_CPUID_7_ECX, /* leaf 7.0 ECX */
	VM_CPUID_7_EDX, /* leaf 7.0 EDX */
	VM_CPUID_7_1_EAX, /* leaf 7.1 EAX */
	VM_CPUID_D_1_EAX, /* leaf 0xD.1 EAX */
	VM_CPUID_81_ECX, /* leaf 0x80000001 ECX */
	VM_CPUID_81_EDX, /* leaf 0x80000001 EDX */
	VM_CPUID_NWORDS
};

#define VM_CPUID_WORDS 10 /* VM_CPUID_NWORDS, rounded up to 8 bytes */

struct vm_cpuid_mask {
	uint32_t w[VM_CPUID_WORDS]; /* indexed by enum vm_cpuid_word */
};

struct vm_cpu_model {
	uint32_t model; /* in (SET), out (GET): enum vm_cpu_model_id */
	uint32_t pad;
	struct vm_cpuid_mask hide; /* in (SET), out (GET) */
	struct vm_cpuid_mask hidden; /* out */
};

/*
 * VM_CPUID_PROBE: does the CPUID that vmm sets (KVM_SET_CPUID2) reach the
 * guest?  Measured once per VM on a scratch VM (vmm_cpuid_probe.c): its
 * guest runs CPUID leaves 1 and 7 at CPL 0 with leaf 1 ECX and leaf 7
 * EBX set to almost nothing, and reports what it saw.  `kvm` says what
 * kind of KVM this is: one that runs guest kernel code on the CPU (VMX,
 * SVM), or one that emulates it (kvm_pvm; /sys/module/kvm_pvm, or a
 * probe whose filtering did not reach the guest).  A probe that could
 * not run answers with `filtered` -1 and the kind its module says (and
 * is tried again next time).
 */
enum vm_kvm_kind {
	VM_KVM_UNKNOWN,
	VM_KVM_HARDWARE, /* guest kernel code runs natively */
	VM_KVM_EMULATED, /* guest kernel code is emulated (kvm_pvm) */
};

struct vm_cpuid_probe {
	uint32_t kvm; /* out: enum vm_kvm_kind */
	int32_t filtered; /* out: 1 it saw what was set, 0 not, -1 unknown */
	uint32_t set_1_ecx; /* out: leaf 1 ECX as set */
	uint32_t seen_1_ecx; /* out: as the guest saw it */
	uint32_t set_7_ebx; /* out: leaf 7 EBX as set */
	uint32_t seen_7_ebx; /* out: as the guest saw it */
};

/*
 * The CMOS real-time clock and its NVRAM (vmm_rtc.c), an MC146818 as
 * bhyve's vrtc: 128 bytes, the clock registers 0x00-0x0d (time, alarm,
 * registers A-D), then NVRAM 0x0e-0x7f with the century at 0x32.  The
 * time is the host's clock plus an offset that VM_RTC_SETTIME (or a guest
 * writing the time registers) changes; it stops while register B's SET
 * bit is on or register A's divider is not 010.
 * - VM_RTC_READ: the byte at offset (0-0x7f), the time registers as they
 *   are now; no side effect.
 * - VM_RTC_WRITE: NVRAM only, as bhyve: offsets 0x0e-0x7f but the
 *   century byte, else -EINVAL.
 * - With VM_RTC_F_GUEST in flags, either one is the guest's access to
 *   the data port (0x71): any register, with the chip's side effects
 *   (reading register C clears it, writing the time registers or SET in
 *   register B sets the clock, register D and UIP are read only).
 * - VM_RTC_SETTIME / VM_RTC_GETTIME: the RTC's time in seconds since the
 *   epoch (UTC); SETTIME takes 0 to VM_RTC_TIME_MAX (2199), else
 *   -EINVAL.
 * Interrupts (IRQ 8) are not raised; register C's flags say what would.
 */
#define VM_RTC_NREGS 128
#define VM_RTC_NVRAM_START 0x0e /* the first NVRAM byte */
#define VM_RTC_CENTURY 0x32 /* the century byte, in NVRAM */
#define VM_RTC_TIME_MAX 7258118399LL /* 2199-12-31T23:59:59Z */
#define VM_RTC_F_GUEST 1 /* a guest port access, with side effects */

struct vm_rtc_data {
	int32_t offset; /* in: 0 to VM_RTC_NREGS - 1 */
	uint8_t value; /* in for WRITE, out for READ */
	uint8_t flags; /* in: VM_RTC_F_* */
	uint8_t pad[2];
};

struct vm_rtc_time {
	int64_t secs; /* seconds since the epoch, UTC */
};

/*
 * The HPET (vmm_hpet.c), an IA-PC HPET 1.0a event timer block as QEMU's
 * and bhyve's: a 64-bit main counter of period VM_HPET_PERIOD_FS
 * (GCAP_ID), VM_HPET_NTIMERS timers, each 64-bit and periodic capable,
 * routed to IOAPIC pins 20-23 (INT_ROUTE_CAP) or, with LEG_RT, timer 0
 * to ISA IRQ 0 (IOAPIC pin 2) and timer 1 to IRQ 8; no FSB delivery.
 * Edge interrupts are pulses; a level one holds its line until the guest
 * clears its bit in the ISR.
 * - VM_HPET_MMIO_READ / VM_HPET_MMIO_WRITE: the guest's access to the
 *   register at offset (0 to VM_HPET_MMIO_SIZE - 1) with its side
 *   effects; size 4 (offset a multiple of 4) or 8 (a multiple of 8), else
 *   -EINVAL.  Registers that do not exist read 0 and ignore writes.
 * - VM_HPET_GET_STATE / VM_HPET_SET_STATE: the whole model, for save and
 *   restore: counter is the main counter's value now (it runs on from
 *   there while ENABLE is on); SET_STATE refuses (-EINVAL) bits that are
 *   not writable, routes outside INT_ROUTE_CAP, 32-bit timers with wider
 *   values, unknown flags.  Power-on state: all zeros but cmp, all ones.
 */
#define VM_HPET_NTIMERS 3
#define VM_HPET_MMIO_SIZE 0x400
#define VM_HPET_PERIOD_FS 10000000 /* 10 ns: a 100 MHz counter */
/* The shortest period the timer thread keeps up with, in ticks (10 us). */
#define VM_HPET_MIN_TICK 1000
#define VM_HPET_TIMER_ARMED 1 /* flags: the comparator will fire */
#define VM_HPET_TIMER_WRAP 2 /* a 32-bit one-shot fires at the wrap first */

struct vm_hpet_mmio {
	uint32_t offset; /* in: from the block's base */
	uint32_t size; /* in: 4 or 8 */
	uint64_t value; /* in for WRITE, out for READ */
};

struct vm_hpet_timer_state {
	uint64_t config; /* Tn_CONF: the writable bits */
	uint64_t cmp; /* the comparator */
	uint64_t period; /* a periodic timer's increment */
	uint32_t flags; /* VM_HPET_TIMER_* */
	uint32_t pad;
};

struct vm_hpet_state {
	uint64_t config; /* GEN_CONF: ENABLE, LEG_RT */
	uint64_t isr; /* GINTR_STA */
	uint64_t counter; /* MAIN_CNT */
	struct vm_hpet_timer_state timer[VM_HPET_NTIMERS];
};

/* The wire format's sizes, checked where they are defined. */
#define VMM_CMD_SIZE_MAX 0x1fff /* the largest struct a command can carry */
#define VMM_CHECK_SIZE(type, size)                               \
	_Static_assert(sizeof(type) == (size) &&                 \
			       sizeof(type) <= VMM_CMD_SIZE_MAX, \
		       #type " changed size")
VMM_CHECK_SIZE(struct vm_cpuset, 32);
VMM_CHECK_SIZE(struct vm_guest_paging, 32);
VMM_CHECK_SIZE(struct vm_gla2gpa, 128);
VMM_CHECK_SIZE(struct vm_memseg, 96);
VMM_CHECK_SIZE(struct vm_memmap, 40);
VMM_CHECK_SIZE(struct vm_munmap, 16);
VMM_CHECK_SIZE(struct vm_gpa_prot, 24);
VMM_CHECK_SIZE(struct vm_gpa2hva, 24);
VMM_CHECK_SIZE(struct vm_gpa_rw, 16 + VM_GPA_RW_MAX);
VMM_CHECK_SIZE(struct vm_run, 16);
VMM_CHECK_SIZE(struct vm_register, 16);
VMM_CHECK_SIZE(struct vm_register_set, 8 + 12 * VM_REGSET_MAX);
VMM_CHECK_SIZE(struct vm_capability, 12);
VMM_CHECK_SIZE(struct vm_hw_debug, 48);
VMM_CHECK_SIZE(struct vm_activate_cpu, 4);
VMM_CHECK_SIZE(struct vm_cpus, 40);
VMM_CHECK_SIZE(struct vm_suspend, 4);
VMM_CHECK_SIZE(struct vm_cpu_topology, 8);
VMM_CHECK_SIZE(struct vm_exception, 32);
VMM_CHECK_SIZE(struct vm_run_state, 8);
VMM_CHECK_SIZE(struct vm_nmi, 4);
VMM_CHECK_SIZE(struct vm_irq, 4);
VMM_CHECK_SIZE(struct vm_msi, 16);
VMM_CHECK_SIZE(struct vm_rtc_data, 8);
VMM_CHECK_SIZE(struct vm_rtc_time, 8);
VMM_CHECK_SIZE(struct vm_hpet_mmio, 16);
VMM_CHECK_SIZE(struct vm_hpet_timer_state, 32);
VMM_CHECK_SIZE(struct vm_hpet_state, 24 + 32 * VM_HPET_NTIMERS);
VMM_CHECK_SIZE(struct vm_stats, 24 + 8 * VM_STATS_BATCH);
VMM_CHECK_SIZE(struct vm_stat_desc, 4 + VM_STAT_NAME_MAX);
VMM_CHECK_SIZE(struct vm_trace_start, 8);
VMM_CHECK_SIZE(struct vm_trace_read, 32);
VMM_CHECK_SIZE(struct vm_cpuid_mask, 40);
VMM_CHECK_SIZE(struct vm_cpu_model, 88);
VMM_CHECK_SIZE(struct vm_cpuid_probe, 24);

/*
 * Command numbers, after FreeBSD's _IOWR: bits 0-7 the command, 8-15 the
 * ABI version, 16-28 the size of the argument struct, bit 29 set for a
 * command that is in-process only.  A command without an argument has
 * size 0.  The version changes whenever a struct's layout or a command's
 * meaning does.
 */
#define VMM_ABI_VERSION 5
#define VMM_CMD_LOCAL (1u << 29)
#define VMM_CMD_(nr, size)                                 \
	((uint32_t)(nr) | (uint32_t)VMM_ABI_VERSION << 8 | \
	 (uint32_t)(size) << 16)
#define VMM_CMD(nr, type) VMM_CMD_(nr, sizeof(type))
#define VMM_CMD_NR(cmd) ((cmd)&0xff)
#define VMM_CMD_VERSION(cmd) (((cmd) >> 8) & 0xff)
#define VMM_CMD_SIZE(cmd) (((cmd) >> 16) & VMM_CMD_SIZE_MAX)

/* The commands. */
/* lifecycle */
#define VM_REINIT VMM_CMD_(1, 0)
#define VM_SUSPEND VMM_CMD(2, struct vm_suspend)
/*
 * Start a halt probe: each vCPU's thread looks at its own state after a
 * kick, and when every vCPU is halted with interrupts disabled (or waits
 * for a SIPI) on two probes in a row, the VM is suspended with
 * VM_SUSPEND_HALT.  KVM runs HLT in the kernel, so without probes no one
 * would notice a guest that has stopped for good.  No argument.
 */
#define VM_CHECK_HALT VMM_CMD_(3, 0)
#define VM_ACTIVATE_CPU VMM_CMD(4, struct vm_activate_cpu)
#define VM_GET_CPUS VMM_CMD(5, struct vm_cpus)
#define VM_SET_TOPOLOGY VMM_CMD(6, struct vm_cpu_topology)
#define VM_GET_TOPOLOGY VMM_CMD(7, struct vm_cpu_topology)
/* CPU models (above); 8-9 and 90 are taken here */
#define VM_SET_CPU_MODEL VMM_CMD(8, struct vm_cpu_model)
#define VM_GET_CPU_MODEL VMM_CMD(9, struct vm_cpu_model)
/* memory */
#define VM_ALLOC_MEMSEG VMM_CMD(16, struct vm_memseg)
#define VM_GET_MEMSEG VMM_CMD(17, struct vm_memseg)
#define VM_MMAP_MEMSEG VMM_CMD(18, struct vm_memmap)
#define VM_MUNMAP_MEMSEG VMM_CMD(19, struct vm_munmap)
/* the first map at or above gpa */
#define VM_MMAP_GETNEXT VMM_CMD(20, struct vm_memmap)
#define VM_GPA2HVA (VMM_CMD(21, struct vm_gpa2hva) | VMM_CMD_LOCAL)
#define VM_PROTECT_GPA VMM_CMD(22, struct vm_gpa_prot)
#define VM_READ_GPA VMM_CMD(23, struct vm_gpa_rw)
#define VM_WRITE_GPA VMM_CMD(24, struct vm_gpa_rw)
/* run */
#define VM_RUN (VMM_CMD(32, struct vm_run) | VMM_CMD_LOCAL)
/* registers */
#define VM_GET_REGISTER VMM_CMD(40, struct vm_register)
#define VM_SET_REGISTER VMM_CMD(41, struct vm_register)
#define VM_GET_REGISTER_SET VMM_CMD(42, struct vm_register_set)
#define VM_SET_REGISTER_SET VMM_CMD(43, struct vm_register_set)
/* debug */
#define VM_SUSPEND_CPU VMM_CMD(48, struct vm_activate_cpu)
#define VM_RESUME_CPU VMM_CMD(49, struct vm_activate_cpu)
#define VM_GET_CAPABILITY VMM_CMD(50, struct vm_capability)
#define VM_SET_CAPABILITY VMM_CMD(51, struct vm_capability)
#define VM_SET_HW_DEBUG VMM_CMD(52, struct vm_hw_debug)
#define VM_GET_RUN_STATE VMM_CMD(53, struct vm_run_state)
#define VM_GET_HW_DEBUG VMM_CMD(54, struct vm_hw_debug)
/* translation */
#define VM_GLA2GPA VMM_CMD(56, struct vm_gla2gpa)
#define VM_GLA2GPA_NOFAULT VMM_CMD(57, struct vm_gla2gpa)
/* events */
#define VM_INJECT_EXCEPTION VMM_CMD(64, struct vm_exception)
#define VM_INJECT_NMI VMM_CMD(65, struct vm_nmi)
#define VM_ISA_ASSERT_IRQ VMM_CMD(66, struct vm_irq)
#define VM_ISA_DEASSERT_IRQ VMM_CMD(67, struct vm_irq)
#define VM_ISA_PULSE_IRQ VMM_CMD(68, struct vm_irq)
#define VM_LAPIC_MSI VMM_CMD(69, struct vm_msi)
/* timers */
#define VM_RTC_WRITE VMM_CMD(72, struct vm_rtc_data)
#define VM_RTC_READ VMM_CMD(73, struct vm_rtc_data)
#define VM_RTC_SETTIME VMM_CMD(74, struct vm_rtc_time)
#define VM_RTC_GETTIME VMM_CMD(75, struct vm_rtc_time)
#define VM_HPET_MMIO_READ VMM_CMD(76, struct vm_hpet_mmio)
#define VM_HPET_MMIO_WRITE VMM_CMD(77, struct vm_hpet_mmio)
#define VM_HPET_GET_STATE VMM_CMD(78, struct vm_hpet_state)
#define VM_HPET_SET_STATE VMM_CMD(79, struct vm_hpet_state)
/* observation */
#define VM_STATS VMM_CMD(80, struct vm_stats)
#define VM_STAT_DESC VMM_CMD(81, struct vm_stat_desc)
#define VM_TRACE_START VMM_CMD(84, struct vm_trace_start)
#define VM_TRACE_STOP VMM_CMD_(85, 0)
#define VM_TRACE_READ (VMM_CMD(86, struct vm_trace_read) | VMM_CMD_LOCAL)
#define VM_CPUID_PROBE VMM_CMD(90, struct vm_cpuid_probe)

#endif
