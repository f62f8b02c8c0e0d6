/*
 * introspect/kaslr.c: the running kernel's slide from its IDT (kaslr.h).
 *
 * Pure: no VM, no Tcl.  No threads of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "introspect/elfsym.h"
#include "introspect/kaslr.h"
#include "vmm/vmm_dev.h"

const int kaslr_cpu_regs[KASLR_CPU_NREGS] = {
	VM_REG_GUEST_CR0,
	VM_REG_GUEST_EFER,
	VM_REG_GUEST_IDTR_BASE,
	VM_REG_GUEST_IDTR_LIMIT,
};

void kaslr_cpu_set(struct kaslr_cpu *cpu, const uint64_t *val)
{
	cpu->cr0 = val[0];
	cpu->efer = val[1];
	cpu->idtr_base = val[2];
	cpu->idtr_limit = val[3];
}

#define CR0_PG (1ull << 31)
#define EFER_LMA (1ull << 10)

const char *const kaslr_gate0_names[] = {
	"asm_exc_divide_error", /* Linux 5.8 and later, after trap_init */
	"divide_error", /* Linux before 5.8 */
	"early_idt_handler_array", /* Linux's early IDT (gate 0 at its start) */
	"trap_stubs", /* vitro's test guests (tests/guests/lib/idt64.S) */
	NULL,
};

static void zero(struct kaslr_result *res, const char *why)
{
	res->slide = 0;
	res->symbol = NULL;
	snprintf(res->why, sizeof(res->why), "%s", why);
}

int kaslr_find(const struct kaslr_ops *ops, void *arg, const struct elfsym *es,
	       const char *const *names, struct kaslr_result *res)
{
	struct kaslr_result r = { 0 };
	struct kaslr_cpu cpu;
	uint8_t g[16];
	ssize_t n;
	int ret;

	if (!names)
		names = kaslr_gate0_names;
	ret = ops->regs(arg, &cpu);
	if (ret < 0)
		return ret;
	if (!(cpu.cr0 & CR0_PG) || !(cpu.efer & EFER_LMA)) {
		zero(&r, "the vCPU is not in long mode with paging: the kernel "
			 "does not run in its virtual map yet");
		*res = r;
		return 0;
	}
	if (cpu.idtr_limit < sizeof(g) - 1) {
		zero(&r, "the vCPU has no IDT yet");
		*res = r;
		return 0;
	}
	n = ops->read(arg, cpu.idtr_base, g, sizeof(g));
	if (n < (ssize_t)sizeof(g)) {
		snprintf(r.why, sizeof(r.why),
			 "the IDT at 0x%" PRIx64 " is not mapped",
			 cpu.idtr_base);
		*res = r;
		return n < 0 ? (int)n : -EFAULT;
	}
	/* A 64-bit interrupt gate: offset 15:0, 31:16, 63:32; P bit 47. */
	r.handler = (uint64_t)g[0] | (uint64_t)g[1] << 8 |
		    (uint64_t)g[6] << 16 | (uint64_t)g[7] << 24 |
		    (uint64_t)g[8] << 32 | (uint64_t)g[9] << 40 |
		    (uint64_t)g[10] << 48 | (uint64_t)g[11] << 56;
	if (!(g[5] & 0x80) || !r.handler) {
		zero(&r, "gate 0 of the IDT is empty: the kernel has not set "
			 "up its IDT yet");
		*res = r;
		return 0;
	}
	for (int i = 0; names[i]; i++) {
		const struct elfsym_sym *s = elfsym_by_name(es, names[i]);
		uint64_t link, slide;

		if (!s)
			continue;
		link = s->addr - elfsym_slide(es);
		slide = r.handler - link;
		if (slide % KASLR_ALIGN)
			continue;
		r.slide = slide;
		r.symbol = s->name;
		*res = r;
		return 0;
	}
	snprintf(r.why, sizeof(r.why),
		 "gate 0's handler 0x%" PRIx64 " is none of the known "
		 "symbols (%s...) at a 2 MiB-aligned slide",
		 r.handler, names[0] ? names[0] : "");
	*res = r;
	return -ENOENT;
}
