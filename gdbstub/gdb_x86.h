/*
 * gdb_x86.h: the x86 register descriptions the GDB stub serves, and the
 * mapping between gdb's register numbers and enum vm_reg_name.
 *
 * Three descriptions, each with a fixed 'g' packet layout that never
 * changes with the guest's mode (so gdb never finds a 'g' reply too long
 * or too short):
 * - GDB_X86_64 (the default): architecture i386:x86-64, 66 registers in
 *   QEMU's order and numbering - rax..r15, rip, eflags, cs ss ds es fs gs,
 *   fs_base, gs_base, k_gs_base, cr0 cr2 cr3 cr4 cr8 efer, st0-7 and the
 *   x87 control registers, xmm0-15, mxcsr.  32-bit state reads
 *   zero-extended.
 * - GDB_X86_I386: architecture i386, for guests in real or protected
 *   mode: eax..edi, eip, eflags, selectors, fs_base, gs_base, cr0 cr2 cr3
 *   cr4 efer, x87, xmm0-7, mxcsr.  Writes keep the upper halves of the
 *   64-bit registers.
 * - GDB_X86_I8086: the i386 registers under architecture i8086, for guests
 *   in real mode: gdb's disassembler follows the description's
 *   architecture, and `set architecture i8086` cannot override it.
 *
 * The pc is linear: in real mode (CR0.PE clear) and virtual-8086 mode,
 * rip/eip reads as CS.base + IP, so gdb's breakpoints, disassembly and
 * stepping follow CS:IP; writing it moves IP (and CS, when the target is
 * outside the current 64 KiB segment).  In those modes writing a segment
 * selector also sets its base to selector * 16.
 *
 * Threads: pure functions over constant tables; gdb_x86_fetch() and
 * gdb_x86_store() call the target and follow its rules (gdb_target.h).
 */
#ifndef GDB_X86_H
#define GDB_X86_H

#include <stddef.h>
#include <stdint.h>

#include "gdbstub/gdb_target.h"
#include "vmm/vmm_dev.h"

enum gdb_x86_layout {
	GDB_X86_64, /* i386:x86-64 */
	GDB_X86_I386, /* i386 */
	GDB_X86_I8086, /* i8086: the i386 registers, 16-bit disassembly */
};

struct gdb_x86_desc;

/* A vCPU's registers as fetched for the descriptions, by vm_reg_name. */
struct gdb_x86_regs {
	uint64_t val[VM_REG_LAST];
};

/* NULL for an unknown layout. */
const struct gdb_x86_desc *gdb_x86_desc_get(enum gdb_x86_layout layout);
const char *gdb_x86_arch_name(const struct gdb_x86_desc *d);
unsigned int gdb_x86_nregs(const struct gdb_x86_desc *d);
/* Bytes of register regno in packets; 0 past the last register. */
size_t gdb_x86_reg_size(const struct gdb_x86_desc *d, unsigned int regno);
/* Bytes of the whole 'g' packet (before hex). */
size_t gdb_x86_g_size(const struct gdb_x86_desc *d);
/* gdb register numbers of the pc, stack pointer and frame pointer. */
unsigned int gdb_x86_pc_regno(const struct gdb_x86_desc *d);
unsigned int gdb_x86_sp_regno(const struct gdb_x86_desc *d);
unsigned int gdb_x86_fp_regno(const struct gdb_x86_desc *d);
/* Register regno's name, or NULL past the last. */
const char *gdb_x86_reg_name(const struct gdb_x86_desc *d, unsigned int regno);

/*
 * The target description (target.xml), generated from the same table as
 * the packet layout.  malloc'd, NUL-terminated, length in *len; NULL with
 * errno set on failure.
 */
char *gdb_x86_xml(const struct gdb_x86_desc *d, size_t *len);

/* Read every register the descriptions use, in one regs_get call. */
int gdb_x86_fetch(const struct gdb_target *t, int vcpu, struct gdb_x86_regs *r);
/* Write back, in one regs_set call, the registers that differ from old. */
int gdb_x86_store(const struct gdb_target *t, int vcpu,
		  const struct gdb_x86_regs *old, const struct gdb_x86_regs *r);

/* Register regno in packet byte order (little-endian) into out. */
size_t gdb_x86_reg_encode(const struct gdb_x86_desc *d,
			  const struct gdb_x86_regs *r, unsigned int regno,
			  uint8_t *out);
/*
 * Set register regno in r from gdb_x86_reg_size() bytes at in.  -EINVAL
 * for a bad register number or a pc real mode cannot reach.
 */
int gdb_x86_reg_decode(const struct gdb_x86_desc *d, struct gdb_x86_regs *r,
		       unsigned int regno, const uint8_t *in);

/* True in real and virtual-8086 mode, where the pc is CS.base + IP. */
bool gdb_x86_real_mode(const struct gdb_x86_regs *r);
/* The linear pc. */
uint64_t gdb_x86_pc(const struct gdb_x86_regs *r);

#endif
