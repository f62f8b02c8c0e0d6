/*
 * test-kaslr.c: the kernel slide from gate 0 of the IDT
 * (introspect/kaslr.h), against a fake vCPU whose IDT points into the
 * fixture (fixture-types.elf) moved by a known slide: the slide found,
 * a slide set before, the 2 MiB rule, and the states that give slide 0
 * or an error.
 */
#include <errno.h>
#include <string.h>

#include "introspect/elfsym.h"
#include "introspect/kaslr.h"
#include "tests/tap.h"

#define FIXTURE FIXTURE_BASE ".elf"
#define IDT 0xfffffe0000000000ull

struct fake {
	struct kaslr_cpu cpu;
	int regs_err;
	uint8_t idt[16];
	bool idt_mapped;
};

static int fake_regs(void *arg, struct kaslr_cpu *cpu)
{
	struct fake *f = arg;

	if (f->regs_err)
		return f->regs_err;
	*cpu = f->cpu;
	return 0;
}

static ssize_t fake_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = arg;

	if (!f->idt_mapped || addr != IDT || len > sizeof(f->idt))
		return -EFAULT;
	memcpy(buf, f->idt, len);
	return (ssize_t)len;
}

static const struct kaslr_ops ops = { fake_regs, fake_read };

static void fake_init(struct fake *f, uint64_t handler)
{
	memset(f, 0, sizeof(*f));
	f->cpu.cr0 = 0x80050033;
	f->cpu.efer = 0xd01;
	f->cpu.idtr_base = IDT;
	f->cpu.idtr_limit = 0xfff;
	f->idt_mapped = true;
	f->idt[0] = handler & 0xff;
	f->idt[1] = (handler >> 8) & 0xff;
	f->idt[2] = 0x10; /* selector */
	f->idt[5] = 0x8e; /* present interrupt gate */
	f->idt[6] = (handler >> 16) & 0xff;
	f->idt[7] = (handler >> 24) & 0xff;
	for (int i = 0; i < 4; i++)
		f->idt[8 + i] = (handler >> (32 + 8 * i)) & 0xff;
}

int main(void)
{
	static const char *const names[] = { "no_such_symbol", "fx_func",
					     NULL };
	const uint64_t slide = 0x3a00000;
	struct kaslr_result r;
	struct elfsym *es;
	struct fake f;
	char err[256];
	uint64_t link;
	int ret;

	tap_plan(17);
	es = elfsym_load(FIXTURE, err, sizeof(err));
	if (!es)
		tap_bail("%s", err);
	link = elfsym_by_name(es, "fx_func")->addr;

	fake_init(&f, link + slide);
	ret = kaslr_find(&ops, &f, es, names, &r);
	is_int(ret, 0, "gate 0 at fx_func + 0x3a00000: found");
	is_hex(r.slide, slide, "... the slide");
	is_str(r.symbol ? r.symbol : "", "fx_func", "... through fx_func");
	is_hex(r.handler, link + slide, "... the handler read");

	/* A slide set before does not count: link addresses do. */
	elfsym_set_slide(es, 0x200000);
	ret = kaslr_find(&ops, &f, es, names, &r);
	ok(ret == 0 && r.slide == slide,
	   "with the symbols slid by 0x200000 already: the same slide");
	elfsym_set_slide(es, 0);

	fake_init(&f, link + slide + 0x1000);
	ret = kaslr_find(&ops, &f, es, names, &r);
	is_int(ret, -ENOENT, "a handler 4 KiB off: no 2 MiB-aligned slide");
	like(r.why, "none of the known symbols", "... says why: %s", r.why);

	ret = kaslr_find(&ops, &f, es, NULL, &r);
	is_int(ret, -ENOENT, "the default names: not in a host program");

	fake_init(&f, link);
	ret = kaslr_find(&ops, &f, es, names, &r);
	ok(ret == 0 && r.slide == 0, "at its link address: slide 0");

	fake_init(&f, link + slide);
	f.cpu.cr0 = 0x11;
	ret = kaslr_find(&ops, &f, es, names, &r);
	ok(ret == 0 && r.slide == 0 && !r.symbol, "without paging: slide 0");
	like(r.why, "virtual map", "... not in its virtual map yet: %s", r.why);

	fake_init(&f, link + slide);
	f.cpu.idtr_limit = 0;
	ret = kaslr_find(&ops, &f, es, names, &r);
	ok(ret == 0 && r.slide == 0, "no IDT: slide 0 (%s)", r.why);

	fake_init(&f, 0);
	f.idt[5] = 0;
	ret = kaslr_find(&ops, &f, es, names, &r);
	ok(ret == 0 && r.slide == 0, "an empty gate 0: slide 0 (%s)", r.why);

	fake_init(&f, link + slide);
	f.idt_mapped = false;
	ret = kaslr_find(&ops, &f, es, names, &r);
	is_int(ret, -EFAULT, "an IDT that is not mapped: -EFAULT");
	like(r.why, "not mapped", "... says so: %s", r.why);

	f.regs_err = -EBUSY;
	ret = kaslr_find(&ops, &f, es, names, &r);
	is_int(ret, -EBUSY, "registers that cannot be read: their error");

	ok(kaslr_gate0_names[0] &&
		   !strcmp(kaslr_gate0_names[0], "asm_exc_divide_error"),
	   "the default names start with Linux's asm_exc_divide_error");
	elfsym_free(es);
	return tap_done();
}
