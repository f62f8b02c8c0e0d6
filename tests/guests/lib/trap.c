/*
 * trap.c: the IDT (64-bit gates in long mode, 32-bit gates in protected
 * mode), the handler table, and the report of an unexpected exception or
 * interrupt: vector, error code, rip, cr2 and CPU on the console, then
 * GUEST_EXIT_EXCEPTION.
 *
 * The BSP builds the IDT and sets handlers before it enables interrupts or
 * starts APs; afterwards the table is only read, by every CPU.
 */
#include "rt.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_VECTOR_BASE 0x20 /* IRQ 0-15 on 0x20-0x2f, all masked */

#ifdef __x86_64__
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type; /* present, DPL 0, interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};
#define TRAP_SEL RT_SEL_CODE64
#else
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type;
	uint16_t offset_mid;
};
#define TRAP_SEL RT_SEL_CODE32
#endif

extern const char trap_stubs[]; /* idt*.S: 256 stubs, 16 bytes each */

struct idt_gate rt_idt[256] RT_ALIGNED(16) RT_CPU_TABLE;
trap_handler_fn rt_trap_handlers[256];

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "",	 "",
	"",    "",    "",    "",    "#HV", "#VC", "#SX", "",
};

static void spurious(struct trap_frame *f)
{
}

/*
 * Remap the 8259s away from the exception vectors and mask them: after
 * reset their base is 0, and the BSP's LINT0 takes their ExtINT.
 */
static void pic_mask_all(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC_VECTOR_BASE); /* ICW2 */
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

void trap_init(void)
{
	unsigned int v;

	for (v = 0; v < 256; v++) {
		uintptr_t a = (uintptr_t)(trap_stubs + 16 * v);
		struct idt_gate *g = &rt_idt[v];

		memset(g, 0, sizeof(*g));
		g->offset_lo = (uint16_t)a;
		g->selector = TRAP_SEL;
		g->type = 0x8e;
		g->offset_mid = (uint16_t)(a >> 16);
#ifdef __x86_64__
		g->offset_hi = (uint32_t)(a >> 32);
#endif
	}
	rt_trap_handlers[RT_VECTOR_SPURIOUS] = spurious;
	for (v = PIC_VECTOR_BASE; v < PIC_VECTOR_BASE + 16; v++)
		rt_trap_handlers[v] = spurious;
	pic_mask_all();
}

void trap_load(void)
{
	struct desc_ptr p = { sizeof(rt_idt) - 1, (uintptr_t)rt_idt };

	lidt(&p);
}

void trap_set_handler(unsigned int vector, trap_handler_fn fn)
{
	if (vector < 256)
		rt_trap_handlers[vector] = fn;
}

void trap_report(uint32_t vector, uint32_t error, uint64_t rip, uint64_t cr2)
{
	const char *name = vector < 32 ? exception_names[vector] : "irq";

	rt_printf("@unexpected %s (vector %u) error %#x rip %#llx cr2 %#llx "
		  "cpu %u\n",
		  *name ? name : "reserved", vector, error,
		  (unsigned long long)rip, (unsigned long long)cr2,
		  cpu_index());
	rt_exit(GUEST_EXIT_EXCEPTION);
}

void trap_dispatch(struct trap_frame *f)
{
	trap_handler_fn fn = rt_trap_handlers[f->vector & 0xff];

	if (fn) {
		fn(f);
		return;
	}
#ifdef __x86_64__
	trap_report(f->vector, f->error, f->rip, read_cr2());
#else
	trap_report(f->vector, f->error, f->eip, read_cr2());
#endif
}
