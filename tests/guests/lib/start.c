/*
 * start.c: from the entry code to guest_main(): the boot state, the
 * runtime's GDT, and the way out (exit port, panic).
 *
 * Runs on the BSP before anything else; the globals it sets are read-only
 * afterwards.
 */
#include "rt.h"

uint32_t rt_boot_magic;
const struct mb_info *rt_mbi;
const char *rt_cmdline = "";

/* Accessed bits preset, so loading a selector never writes the table. */
uint64_t rt_gdt[4] RT_ALIGNED(16) RT_CPU_TABLE = {
	0, /* null */
	0x00af9b000000ffffull, /* RT_SEL_CODE64: long mode, DPL 0 */
	0x00cf93000000ffffull, /* RT_SEL_DATA: flat, writable */
	0x00cf9b000000ffffull, /* RT_SEL_CODE32: flat, 32-bit */
};

void rt_gdt_load(void);
void rt_gdt_load(void)
{
	struct desc_ptr p = { sizeof(rt_gdt) - 1, (uintptr_t)rt_gdt };

	lgdt(&p);
#ifdef __x86_64__
	/* Writing %gs clears its base: the per-CPU setup comes after. */
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %[ds], %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs"
			 :
			 : [cs] "i"(RT_SEL_CODE64), [ds] "i"(RT_SEL_DATA)
			 : "rax", "memory");
#else
	__asm__ volatile("ljmp %[cs], $1f\n"
			 "1:\n\t"
			 "movl %[ds], %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "movl %%eax, %%ss"
			 :
			 : [cs] "i"(RT_SEL_CODE32), [ds] "i"(RT_SEL_DATA)
			 : "eax", "memory");
#endif
}

static const char *exit_name(int code)
{
	switch (code) {
	case GUEST_EXIT_PASS:
		return "pass";
	case GUEST_EXIT_FAIL:
		return "FAIL";
	case GUEST_EXIT_EXCEPTION:
		return "EXCEPTION";
	case GUEST_EXIT_UNSUPPORTED:
		return "unsupported";
	}
	return "exit";
}

void rt_exit(int code)
{
	outb(DEBUG_EXIT_PORT, (uint8_t)code);
	/*
	 * Still here: vitro runs without --debug-exit.  A pass powers the
	 * machine off through ACPI (status 1); anything else halts (2).
	 */
	if (code == GUEST_EXIT_PASS)
		outw(ACPI_PM1A_CNT_PORT,
		     ACPI_PM1_SLP_EN | ACPI_S5_SLP_TYP
					       << ACPI_PM1_SLP_TYP_SHIFT);
	for (;;) {
		irq_disable();
		halt();
	}
}

void rt_panic(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_printf("@panic: %s\n", buf);
	rt_exit(GUEST_EXIT_FAIL);
}

static void rt_boot(uint32_t magic, uint32_t mbi)
{
	int code;

	rt_boot_magic = magic;
	uart_init();
	trap_init();
	trap_load();
	if (magic == MULTIBOOT_BOOT_MAGIC && mbi) {
		rt_mbi = (const struct mb_info *)(uintptr_t)mbi;
		if ((rt_mbi->flags & MB_INFO_CMDLINE) && rt_mbi->cmdline)
			rt_cmdline = (const char *)(uintptr_t)rt_mbi->cmdline;
	} else {
		rt_printf("@boot magic %#x, not Multiboot's: no boot info\n",
			  magic);
	}
	code = guest_main();
	rt_printf("@%s (exit code %#x)\n", exit_name(code), code);
	rt_exit(code);
}

#ifdef __x86_64__
void rt_percpu_init(uint32_t index);
void rt_start64(uint32_t magic, uint64_t mbi);
void rt_start64(uint32_t magic, uint64_t mbi)
{
	rt_gdt_load();
	rt_percpu_init(0);
	rt_boot(magic, mbi >> 32 ? 0 : (uint32_t)mbi);
}
#else
void rt_start32(uint32_t magic, uint32_t mbi);
void rt_start32(uint32_t magic, uint32_t mbi)
{
	rt_gdt_load();
	rt_boot(magic, mbi);
}
#endif
