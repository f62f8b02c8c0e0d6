/*
 * introspect/kaslr.h: the slide of a running kernel (KASLR: where its
 * text is minus where the ELF links it), found from the guest alone: the
 * handler in gate 0 of a vCPU's IDT is a known symbol of the kernel
 * (asm_exc_divide_error once traps are set up, early_idt_handler_array
 * before), so the slide is that handler's address minus the symbol's
 * link-time address.  x86-64 Linux moves its virtual text by a multiple
 * of 2 MiB (CONFIG_PHYSICAL_ALIGN); a kernel that does not run in its
 * virtual map yet (no paging, no long mode, no IDT) has slide 0.
 *
 * Pure: the vCPU's state comes through struct kaslr_ops, so the unit
 * test drives it with a fake target.  No threads of its own.
 */
#ifndef INTROSPECT_KASLR_H
#define INTROSPECT_KASLR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elfsym;

/* The alignment of the kernel's virtual slide. */
#define KASLR_ALIGN (2ull << 20)

struct kaslr_cpu {
	uint64_t cr0;
	uint64_t efer;
	uint64_t idtr_base;
	uint64_t idtr_limit;
};

/*
 * The registers a kaslr_cpu is made of, in the order of kaslr_cpu_regs
 * (enum vm_reg_name values, for one bulk register read), and the struct
 * from their values.
 */
#define KASLR_CPU_NREGS 4
extern const int kaslr_cpu_regs[KASLR_CPU_NREGS];
void kaslr_cpu_set(struct kaslr_cpu *cpu, const uint64_t *val);

struct kaslr_ops {
	/* The vCPU's control registers and IDTR: 0 or -errno. */
	int (*regs)(void *arg, struct kaslr_cpu *cpu);
	/* Virtual memory through the vCPU's paging: bytes read, or -errno. */
	ssize_t (*read)(void *arg, uint64_t addr, void *buf, size_t len);
};

/* Symbols tried for gate 0, in order (NULL-terminated). */
extern const char *const kaslr_gate0_names[];

struct kaslr_result {
	uint64_t slide;
	uint64_t handler; /* gate 0's handler, 0 when not read */
	const char *symbol; /* the symbol it matched, NULL for slide 0 */
	char why[160]; /* for slide 0 without a match: the reason */
};

/*
 * Find the slide of the kernel whose symbols es holds (at their link
 * addresses plus whatever slide es has now), trying names (NULL:
 * kaslr_gate0_names).  0 with *res (a slide of 0 with res->why set when
 * the kernel is not in its virtual map yet); -ENOENT when gate 0 holds
 * none of the names at a 2 MiB-aligned slide (res->why says what it
 * holds); -errno when the state cannot be read.
 */
int kaslr_find(const struct kaslr_ops *ops, void *arg, const struct elfsym *es,
	       const char *const *names, struct kaslr_result *res);

#endif
