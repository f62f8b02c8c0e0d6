/*
 * vm_trace.h: VM-exit traces.  The record vmm appends for every exit, the
 * trace file that holds them (writer and checking reader), the names of
 * exit reasons, and trace specs (filters and capture options).
 *
 * Sources.  A user record is an exit KVM_RUN returned to user space: vmm
 * fills it when KVM_RUN returns and finishes it when the monitor calls
 * VM_RUN again, so t_entry - t_exit is the time user space took.  A kernel
 * record is an exit KVM handled in the host kernel, from the kvm:kvm_exit
 * and kvm:kvm_entry tracepoints of the VM's vCPU threads (root only); its
 * reason is the hardware's (VMX basic exit reason or SVM exit code, told
 * by the VMX/SVM flag).  Every exit that reaches user space is a kernel
 * exit first: a kernel record whose span holds a user record is the same
 * exit seen from the host kernel.
 *
 * Time.  Nanoseconds of CLOCK_MONOTONIC, for both sources.
 *
 * The file.  Little-endian.  A 64-byte header (struct vm_trace_header),
 * then chunks, each a struct vm_trace_chunk followed by `len` bytes:
 *   FIELDS   the record layout, a table of struct vm_trace_field: a
 *            reader checks that every field it uses is where it expects
 *            (the file describes itself; tools may read it generically);
 *   META     "key=value\n" text: vm, ncpus, isa, spec, host, start
 *            (CLOCK_REALTIME ns at t0), tsc_hz, kernel (the in-kernel
 *            source: "on" or "off: WHY"), stack (depth asked);
 *   REGIONS  the monitor's named regions: struct vm_trace_region[];
 *   RECORDS  records, each a struct vm_trace_rec followed by its
 *            rec.nstack return addresses (uint64_t);
 *   DROPS    struct vm_trace_drops: records a vCPU's ring lost;
 *   END      struct vm_trace_end, last: the file is complete.
 * A reader skips chunk types it does not know (minor versions add them)
 * and refuses a major version above its own.  A file without END is read
 * to its last whole chunk and said to be incomplete.
 *
 * Threads.  A writer, reader or filter is used by one thread at a time.
 * Functions follow vmmapi.h's error contract; the ones that take
 * err/errlen also write a message there that names the file, the offset
 * and what was wrong.
 */
#ifndef VM_TRACE_H
#define VM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vm_trace_source {
	VM_TRACE_USER, /* an exit to user space (KVM_RUN returned) */
	VM_TRACE_KERNEL, /* an exit KVM handled in the host kernel */
};

#define VM_TRACE_F_WRITE 0x01 /* the guest wrote: out, MMIO store, wrmsr */
#define VM_TRACE_F_STACK_TRUNC 0x02 /* the stack walk stopped early */
#define VM_TRACE_F_VMX 0x04 /* kernel: reason is a VMX exit reason */
#define VM_TRACE_F_SVM 0x08 /* kernel: reason is an SVM exit code */
#define VM_TRACE_F_ERROR 0x10 /* MSR: the access failed (#GP) */

/*
 * KVM's exit numbers (<linux/kvm.h> KVM_EXIT_*) that user records carry
 * and that code above vmm looks at; vmm checks that they agree.
 */
#define VM_TRACE_KVM_EXIT_IO 2
#define VM_TRACE_KVM_EXIT_HLT 5
#define VM_TRACE_KVM_EXIT_MMIO 6
#define VM_TRACE_KVM_EXIT_INTR 10
#define VM_TRACE_KVM_EXIT_X86_RDMSR 29
#define VM_TRACE_KVM_EXIT_X86_WRMSR 30

#define VM_TRACE_CPL_UNKNOWN 0xff
#define VM_TRACE_STACK_MAX 32 /* return addresses per record, at most */

/*
 * One exit.  64 bytes; in a file or a ring it is followed by nstack
 * return addresses, innermost first (the caller of the code at rip).
 */
struct vm_trace_rec {
	uint64_t t_exit; /* ns: KVM_RUN returned (user), kvm_exit (kernel) */
	uint64_t t_entry; /* ns: VM_RUN called again (user), kvm_entry */
	uint64_t rip; /* guest rip at the exit */
	uint64_t addr; /* port, MMIO gpa, MSR number; kernel: info1 */
	uint64_t data; /* first value written or read; kernel: info2 */
	uint32_t reason; /* user: KVM_EXIT_*; kernel: hardware reason */
	uint16_t vcpu;
	uint8_t source; /* enum vm_trace_source */
	uint8_t cpl; /* 0-3, or VM_TRACE_CPL_UNKNOWN */
	uint8_t size; /* port or MMIO access bytes; 0 otherwise */
	uint8_t flags; /* VM_TRACE_F_* */
	uint8_t nstack; /* return addresses that follow */
	uint8_t pad;
	uint32_t count; /* string I/O elements; 1 otherwise */
	uint32_t region; /* index+1 in the file's REGIONS; 0: none */
};
_Static_assert(sizeof(struct vm_trace_rec) == 64, "vm_trace_rec is 64 bytes");

/* The file. */
#define VM_TRACE_MAGIC "VITROTRC" /* 8 bytes, no NUL */
#define VM_TRACE_VERSION_MAJOR 1
#define VM_TRACE_VERSION_MINOR 0

struct vm_trace_header {
	char magic[8]; /* VM_TRACE_MAGIC */
	uint16_t major; /* a reader refuses a major above its own */
	uint16_t minor; /* a reader reads any minor of its major */
	uint32_t header_size; /* bytes from the file start to the 1st chunk */
	uint32_t rec_size; /* sizeof(struct vm_trace_rec) when written */
	uint32_t ncpus;
	uint64_t t0; /* ns CLOCK_MONOTONIC when recording started */
	uint8_t reserved[32];
};
_Static_assert(sizeof(struct vm_trace_header) == 64, "trace header size");

enum vm_trace_chunk_type {
	VM_TRACE_CHUNK_FIELDS = 1,
	VM_TRACE_CHUNK_META,
	VM_TRACE_CHUNK_REGIONS,
	VM_TRACE_CHUNK_RECORDS,
	VM_TRACE_CHUNK_DROPS,
	VM_TRACE_CHUNK_END,
};

#define VM_TRACE_CHUNK_MAX (16u << 20) /* larger is corruption */

struct vm_trace_chunk {
	uint32_t type; /* enum vm_trace_chunk_type */
	uint32_t len; /* bytes that follow, up to VM_TRACE_CHUNK_MAX */
};

struct vm_trace_field {
	char name[16]; /* the member's name in struct vm_trace_rec */
	uint16_t offset;
	uint16_t size;
	uint32_t pad;
};

#define VM_TRACE_REGION_PIO 0
#define VM_TRACE_REGION_MMIO 1

struct vm_trace_region {
	char name[48];
	uint32_t kind; /* VM_TRACE_REGION_PIO or _MMIO */
	uint32_t pad;
	uint64_t base;
	uint64_t size;
};

struct vm_trace_drops {
	uint32_t vcpu;
	uint32_t pad;
	uint64_t count; /* records lost since the last DROPS of this vCPU */
	uint64_t t; /* ns: when the loss was seen */
};

struct vm_trace_end {
	uint64_t records; /* records written in all */
	uint64_t dropped; /* records lost in all */
	uint64_t t_end; /* ns CLOCK_MONOTONIC when recording stopped */
};

/* What a reader learnt from the header, META, REGIONS and DROPS. */
struct vm_trace_info {
	unsigned int major, minor;
	unsigned int ncpus;
	uint64_t t0, t_end; /* t_end 0 until END is read */
	char vm[64];
	char isa[8]; /* "vmx", "svm" or "" */
	char spec[256]; /* the spec it was recorded with */
	char kernel[160]; /* the in-kernel source: "on" or "off: why" */
	unsigned int stack; /* stack depth asked */
	const struct vm_trace_region *regions; /* valid until close */
	unsigned int nregions;
	uint64_t dropped; /* DROPS read so far, all vCPUs */
	uint64_t records; /* records read so far */
	bool complete; /* END was read */
};

/* Writing: vm_trace_create, vm_trace_write..., vm_trace_finish. */
struct vm_trace_writer;

struct vm_trace_meta {
	const char *vm;
	unsigned int ncpus;
	const char *isa; /* "vmx", "svm", or NULL */
	const char *spec;
	const char *kernel; /* "on", or "off: why" */
	unsigned int stack;
	uint64_t t0;
	const struct vm_trace_region *regions;
	unsigned int nregions;
};

/* Create (truncate) path and write the header, FIELDS, META, REGIONS. */
struct vm_trace_writer *vm_trace_create(const char *path,
					const struct vm_trace_meta *meta,
					char *err, size_t errlen);
/* Buffered; a RECORDS chunk is written per 64 KiB or at a flush. */
int vm_trace_write(struct vm_trace_writer *w, const struct vm_trace_rec *rec,
		   const uint64_t *stack);
int vm_trace_write_drops(struct vm_trace_writer *w, unsigned int vcpu,
			 uint64_t count, uint64_t t);
int vm_trace_flush(struct vm_trace_writer *w);
uint64_t vm_trace_written(const struct vm_trace_writer *w);
/* Write END (t_end) and close; frees w whatever happens. */
int vm_trace_finish(struct vm_trace_writer *w, uint64_t t_end);

/* Reading. */
struct vm_trace_file;

/* Open and check the header, FIELDS and META; NULL with err written. */
struct vm_trace_file *vm_trace_open(const char *path, char *err, size_t errlen);
const struct vm_trace_info *vm_trace_info(const struct vm_trace_file *f);
/*
 * The next record: 1 with *rec and *stack (rec->nstack entries) valid
 * until the next call, 0 at the end (info->complete says whether END was
 * there), or -EINVAL for a corrupt or truncated file with the message in
 * vm_trace_error().
 */
int vm_trace_next(struct vm_trace_file *f, const struct vm_trace_rec **rec,
		  const uint64_t **stack);
const char *vm_trace_error(const struct vm_trace_file *f);
/* Back to the first record (for a second pass). */
int vm_trace_rewind(struct vm_trace_file *f);
void vm_trace_close(struct vm_trace_file *f);

/*
 * Names.  A user reason's name is KVM's exit name in lower case ("io",
 * "mmio", "hlt", "intr", "debug", "x86_rdmsr", ...); a kernel reason's is
 * the hardware's ("IO_INSTRUCTION", "EPT_VIOLATION" for VMX; "npf",
 * "ioio", "msr" for SVM), as perf kvm stat prints them.  Never NULL:
 * an unknown number reads "reason_N".  vm_trace_reason_parse is the
 * inverse for one source and isa flag (VM_TRACE_F_VMX/SVM, 0 for user),
 * case-insensitive: 0 or -ENOENT.
 */
const char *vm_trace_reason_name(unsigned int source, unsigned int flags,
				 uint32_t reason, char *buf, size_t len);
int vm_trace_reason_parse(const char *name, unsigned int source,
			  unsigned int flags, uint32_t *reason);

/*
 * Specs: what to capture and which exits to keep, as comma-separated
 * terms, the same for `vitro -T FILE,SPEC`, `vitroctl trace`, the Tcl
 * `trace` command and the readers' --filter:
 *   reason=NAME    an exit reason (user or kernel name)
 *   vcpu=N[-M]     vCPU ids
 *   port=A[-B]     port I/O to ports A..B
 *   gpa=A[-B]      MMIO to guest-physical A..B
 *   region=NAME    port I/O or MMIO to the named region
 *   msr=A[-B]      MSR accesses to MSRs A..B
 *   rip=A[-B]      guest rip in A..B; rip=SYMBOL: inside that function
 *   cpl=N          at CPL N (0-3)
 *   min=DURATION   at least this long (ns, us, ms, s; default unit us)
 *   source=user|kernel
 *   stack=N        capture: up to N return addresses (0-32, default 0)
 *   ring=N         capture: records per vCPU ring (default 65536)
 *   kernel         capture: in-kernel exits too (root; kvm tracepoints)
 * Numbers are decimal or 0x hex.  A key given more than once matches any
 * of its values; different keys must all match.  Ranges are inclusive.
 */
struct vm_trace_filter;

struct vm_trace_capture {
	unsigned int stack; /* 0..VM_TRACE_STACK_MAX */
	unsigned int ring; /* records per vCPU */
	bool kernel;
};

#define VM_TRACE_RING_DEFAULT 65536
#define VM_TRACE_RING_MAX (1u << 24)

/*
 * Resolves a symbol for rip=SYMBOL: 0 with [*start, *end) or -ENOENT.
 * May be NULL: rip=SYMBOL is then an error that says symbols are needed.
 */
typedef int vm_trace_sym_fn(void *arg, const char *name, uint64_t *start,
			    uint64_t *end);

/*
 * Parse spec (NULL or "" keeps everything) into a filter and, if cap is
 * not NULL, the capture options (defaults where absent; capture terms are
 * an error when cap is NULL).  *out is NULL when nothing is filtered.
 * region=NAME is looked up in regions, which may be NULL only when the
 * spec names no region.  -EINVAL with err naming the bad term.
 */
int vm_trace_filter_parse(const char *spec,
			  const struct vm_trace_region *regions,
			  unsigned int nregions, vm_trace_sym_fn *sym,
			  void *sym_arg, struct vm_trace_filter **out,
			  struct vm_trace_capture *cap, char *err,
			  size_t errlen);
/* A NULL filter matches everything. */
bool vm_trace_filter_match(const struct vm_trace_filter *f,
			   const struct vm_trace_rec *rec);
void vm_trace_filter_free(struct vm_trace_filter *f);

#endif
