/*
 * gdb_x86.c: x86 register descriptions for the GDB stub: the tables that
 * give both the 'g' packet layout and target.xml, the conversions between
 * gdb's registers and the vmm's (enum vm_reg_name), and the linear pc of
 * real mode.
 *
 * Threads: constant tables and pure functions; see gdb_x86.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/gdb_x86.h"

#define CR0_PE 0x1ULL
#define RFLAGS_VM (1ULL << 17)

/* How a gdb register is made of vmm registers. */
enum x86_kind {
	K_REG, /* one vmm register, truncated to the gdb width */
	K_PC, /* rip/eip: linear in real mode */
	K_SEL, /* segment selector; in real mode writes set the base too */
	K_ST, /* x87 register n: significand and sign/exponent */
	K_XMM, /* xmm register n: two 64-bit halves */
	K_FTAG, /* full x87 tag word, from the abridged FTW */
	K_FISEG, /* x87 last instruction pointer, high half */
	K_FIOFF, /* ... low half */
	K_FOSEG, /* x87 last data pointer, high half */
	K_FOOFF, /* ... low half */
};

/* Target-description features, in the order target.xml lists them. */
enum x86_feature {
	F_CORE,
	F_SEGMENTS,
	F_SYS,
	F_SSE,
	F_COUNT,
};

struct x86_reg {
	const char *name;
	unsigned short bits; /* width in gdb */
	unsigned char kind; /* enum x86_kind */
	unsigned char feature; /* enum x86_feature */
	short vmreg; /* vm_reg_name, or the index n of K_ST/K_XMM */
	const char *type; /* target.xml type */
	const char *group; /* target.xml group, or NULL */
};

struct gdb_x86_desc {
	const char *arch; /* <architecture> */
	const struct x86_reg *regs;
	unsigned int nregs;
	unsigned int pc, sp, fp; /* register numbers */
	unsigned int ctl_bytes; /* size of cr0/cr4 flags types */
};

#define R(n, b, r, t)                                          \
	{                                                      \
		n, b, K_REG, F_CORE, VM_REG_GUEST_##r, t, NULL \
	}
#define SEL(n, r)                                                     \
	{                                                             \
		n, 32, K_SEL, F_CORE, VM_REG_GUEST_##r, "int32", NULL \
	}
#define ST(i)                                                  \
	{                                                      \
		"st" #i, 80, K_ST, F_CORE, i, "i387_ext", NULL \
	}
#define FPU(n, k, r)                                \
	{                                           \
		n, 32, k, F_CORE, r, "int", "float" \
	}
#define XMM(i)                                                 \
	{                                                      \
		"xmm" #i, 128, K_XMM, F_SSE, i, "vec128", NULL \
	}
#define FEAT(f, n, b, r, t)                               \
	{                                                 \
		n, b, K_REG, f, VM_REG_GUEST_##r, t, NULL \
	}

#define X87_REGS                                                               \
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),                \
		FPU("fctrl", K_REG, VM_REG_GUEST_FCW),                         \
		FPU("fstat", K_REG, VM_REG_GUEST_FSW), FPU("ftag", K_FTAG, 0), \
		FPU("fiseg", K_FISEG, 0), FPU("fioff", K_FIOFF, 0),            \
		FPU("foseg", K_FOSEG, 0), FPU("fooff", K_FOOFF, 0),            \
		FPU("fop", K_REG, VM_REG_GUEST_FOP)

#define MXCSR                                                                \
	{                                                                    \
		"mxcsr", 32, K_REG, F_SSE, VM_REG_GUEST_MXCSR, "i386_mxcsr", \
			"vector"                                             \
	}

/* Numbered as QEMU's i386-64bit.xml, so scripts using numbers agree. */
static const struct x86_reg x86_64_regs[] = {
	R("rax", 64, RAX, "int64"),
	R("rbx", 64, RBX, "int64"),
	R("rcx", 64, RCX, "int64"),
	R("rdx", 64, RDX, "int64"),
	R("rsi", 64, RSI, "int64"),
	R("rdi", 64, RDI, "int64"),
	R("rbp", 64, RBP, "data_ptr"),
	R("rsp", 64, RSP, "data_ptr"),
	R("r8", 64, R8, "int64"),
	R("r9", 64, R9, "int64"),
	R("r10", 64, R10, "int64"),
	R("r11", 64, R11, "int64"),
	R("r12", 64, R12, "int64"),
	R("r13", 64, R13, "int64"),
	R("r14", 64, R14, "int64"),
	R("r15", 64, R15, "int64"),
	{ "rip", 64, K_PC, F_CORE, VM_REG_GUEST_RIP, "code_ptr", NULL },
	R("eflags", 32, RFLAGS, "i386_eflags"),
	SEL("cs", CS),
	SEL("ss", SS),
	SEL("ds", DS),
	SEL("es", ES),
	SEL("fs", FS),
	SEL("gs", GS),
	FEAT(F_SEGMENTS, "fs_base", 64, FS_BASE, "int64"),
	FEAT(F_SEGMENTS, "gs_base", 64, GS_BASE, "int64"),
	FEAT(F_SYS, "k_gs_base", 64, KGS_BASE, "int64"),
	FEAT(F_SYS, "cr0", 64, CR0, "x86_cr0"),
	FEAT(F_SYS, "cr2", 64, CR2, "int64"),
	FEAT(F_SYS, "cr3", 64, CR3, "int64"),
	FEAT(F_SYS, "cr4", 64, CR4, "x86_cr4"),
	FEAT(F_SYS, "cr8", 64, CR8, "int64"),
	FEAT(F_SYS, "efer", 64, EFER, "x86_efer"),
	X87_REGS,
	XMM(0),
	XMM(1),
	XMM(2),
	XMM(3),
	XMM(4),
	XMM(5),
	XMM(6),
	XMM(7),
	XMM(8),
	XMM(9),
	XMM(10),
	XMM(11),
	XMM(12),
	XMM(13),
	XMM(14),
	XMM(15),
	MXCSR,
};

/* gdb's i386 order: eax ecx edx ebx esp ebp esi edi. */
static const struct x86_reg i386_regs[] = {
	R("eax", 32, RAX, "int32"),
	R("ecx", 32, RCX, "int32"),
	R("edx", 32, RDX, "int32"),
	R("ebx", 32, RBX, "int32"),
	R("esp", 32, RSP, "data_ptr"),
	R("ebp", 32, RBP, "data_ptr"),
	R("esi", 32, RSI, "int32"),
	R("edi", 32, RDI, "int32"),
	{ "eip", 32, K_PC, F_CORE, VM_REG_GUEST_RIP, "code_ptr", NULL },
	R("eflags", 32, RFLAGS, "i386_eflags"),
	SEL("cs", CS),
	SEL("ss", SS),
	SEL("ds", DS),
	SEL("es", ES),
	SEL("fs", FS),
	SEL("gs", GS),
	/*
	 * Not in org.gnu.gdb.i386.segments: gdb 13 numbers that feature's
	 * registers past what a non-Linux i386 architecture holds, and
	 * fails an internal assertion.
	 */
	FEAT(F_SYS, "fs_base", 32, FS_BASE, "int32"),
	FEAT(F_SYS, "gs_base", 32, GS_BASE, "int32"),
	FEAT(F_SYS, "cr0", 32, CR0, "x86_cr0"),
	FEAT(F_SYS, "cr2", 32, CR2, "int32"),
	FEAT(F_SYS, "cr3", 32, CR3, "int32"),
	FEAT(F_SYS, "cr4", 32, CR4, "x86_cr4"),
	FEAT(F_SYS, "efer", 64, EFER, "x86_efer"),
	X87_REGS,
	XMM(0),
	XMM(1),
	XMM(2),
	XMM(3),
	XMM(4),
	XMM(5),
	XMM(6),
	XMM(7),
	MXCSR,
};

#define NREGS(a) (sizeof(a) / sizeof((a)[0]))

static const struct gdb_x86_desc x86_descs[] = {
	[GDB_X86_64] = { "i386:x86-64", x86_64_regs, NREGS(x86_64_regs), 16, 7,
			 6, 8 },
	[GDB_X86_I386] = { "i386", i386_regs, NREGS(i386_regs), 8, 4, 5, 4 },
	[GDB_X86_I8086] = { "i8086", i386_regs, NREGS(i386_regs), 8, 4, 5, 4 },
};

/* Everything the descriptions read, fetched in one regs_get. */
static const int x86_fetch_regs[] = {
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
	VM_REG_GUEST_ES,
	VM_REG_GUEST_CS,
	VM_REG_GUEST_SS,
	VM_REG_GUEST_DS,
	VM_REG_GUEST_FS,
	VM_REG_GUEST_GS,
	VM_REG_GUEST_ES_BASE,
	VM_REG_GUEST_CS_BASE,
	VM_REG_GUEST_SS_BASE,
	VM_REG_GUEST_DS_BASE,
	VM_REG_GUEST_FS_BASE,
	VM_REG_GUEST_GS_BASE,
	VM_REG_GUEST_KGS_BASE,
	VM_REG_GUEST_CR0,
	VM_REG_GUEST_CR2,
	VM_REG_GUEST_CR3,
	VM_REG_GUEST_CR4,
	VM_REG_GUEST_CR8,
	VM_REG_GUEST_EFER,
	VM_REG_GUEST_FCW,
	VM_REG_GUEST_FSW,
	VM_REG_GUEST_FTW,
	VM_REG_GUEST_FOP,
	VM_REG_GUEST_FIP,
	VM_REG_GUEST_FDP,
	VM_REG_GUEST_MXCSR,
#define PAIR(base, i) base + 2 * (i), base + 2 * (i) + 1
	PAIR(VM_REG_GUEST_ST0_LO, 0),
	PAIR(VM_REG_GUEST_ST0_LO, 1),
	PAIR(VM_REG_GUEST_ST0_LO, 2),
	PAIR(VM_REG_GUEST_ST0_LO, 3),
	PAIR(VM_REG_GUEST_ST0_LO, 4),
	PAIR(VM_REG_GUEST_ST0_LO, 5),
	PAIR(VM_REG_GUEST_ST0_LO, 6),
	PAIR(VM_REG_GUEST_ST0_LO, 7),
	PAIR(VM_REG_GUEST_XMM0_LO, 0),
	PAIR(VM_REG_GUEST_XMM0_LO, 1),
	PAIR(VM_REG_GUEST_XMM0_LO, 2),
	PAIR(VM_REG_GUEST_XMM0_LO, 3),
	PAIR(VM_REG_GUEST_XMM0_LO, 4),
	PAIR(VM_REG_GUEST_XMM0_LO, 5),
	PAIR(VM_REG_GUEST_XMM0_LO, 6),
	PAIR(VM_REG_GUEST_XMM0_LO, 7),
	PAIR(VM_REG_GUEST_XMM0_LO, 8),
	PAIR(VM_REG_GUEST_XMM0_LO, 9),
	PAIR(VM_REG_GUEST_XMM0_LO, 10),
	PAIR(VM_REG_GUEST_XMM0_LO, 11),
	PAIR(VM_REG_GUEST_XMM0_LO, 12),
	PAIR(VM_REG_GUEST_XMM0_LO, 13),
	PAIR(VM_REG_GUEST_XMM0_LO, 14),
	PAIR(VM_REG_GUEST_XMM0_LO, 15),
#undef PAIR
};

#define NFETCH NREGS(x86_fetch_regs)
_Static_assert(NREGS(x86_fetch_regs) <= VM_REGSET_MAX,
	       "one register-set call must hold every register");

const struct gdb_x86_desc *gdb_x86_desc_get(enum gdb_x86_layout layout)
{
	if ((unsigned int)layout >= NREGS(x86_descs))
		return NULL;
	return &x86_descs[layout];
}

const char *gdb_x86_arch_name(const struct gdb_x86_desc *d)
{
	return d->arch;
}

unsigned int gdb_x86_nregs(const struct gdb_x86_desc *d)
{
	return d->nregs;
}

size_t gdb_x86_reg_size(const struct gdb_x86_desc *d, unsigned int regno)
{
	return regno < d->nregs ? d->regs[regno].bits / 8 : 0;
}

size_t gdb_x86_g_size(const struct gdb_x86_desc *d)
{
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < d->nregs; i++)
		n += d->regs[i].bits / 8;
	return n;
}

unsigned int gdb_x86_pc_regno(const struct gdb_x86_desc *d)
{
	return d->pc;
}

unsigned int gdb_x86_sp_regno(const struct gdb_x86_desc *d)
{
	return d->sp;
}

unsigned int gdb_x86_fp_regno(const struct gdb_x86_desc *d)
{
	return d->fp;
}

const char *gdb_x86_reg_name(const struct gdb_x86_desc *d, unsigned int regno)
{
	return regno < d->nregs ? d->regs[regno].name : NULL;
}

/* target.xml */

struct x86_field {
	const char *name;
	unsigned char start, end;
};

struct x86_flags {
	const char *id;
	unsigned char feature;
	unsigned char bytes; /* 0: the layout's control-register width */
	const struct x86_field *fields;
};

static const struct x86_field eflags_fields[] = {
	{ "CF", 0, 0 },	    { "PF", 2, 2 },   { "AF", 4, 4 },
	{ "ZF", 6, 6 },	    { "SF", 7, 7 },   { "TF", 8, 8 },
	{ "IF", 9, 9 },	    { "DF", 10, 10 }, { "OF", 11, 11 },
	{ "IOPL", 12, 13 }, { "NT", 14, 14 }, { "RF", 16, 16 },
	{ "VM", 17, 17 },   { "AC", 18, 18 }, { "VIF", 19, 19 },
	{ "VIP", 20, 20 },  { "ID", 21, 21 }, { NULL, 0, 0 },
};

static const struct x86_field mxcsr_fields[] = {
	{ "IE", 0, 0 },	  { "DE", 1, 1 },   { "ZE", 2, 2 },   { "OE", 3, 3 },
	{ "UE", 4, 4 },	  { "PE", 5, 5 },   { "DAZ", 6, 6 },  { "IM", 7, 7 },
	{ "DM", 8, 8 },	  { "ZM", 9, 9 },   { "OM", 10, 10 }, { "UM", 11, 11 },
	{ "PM", 12, 12 }, { "FZ", 15, 15 }, { NULL, 0, 0 },
};

static const struct x86_field cr0_fields[] = {
	{ "PE", 0, 0 },	  { "MP", 1, 1 },   { "EM", 2, 2 },   { "TS", 3, 3 },
	{ "ET", 4, 4 },	  { "NE", 5, 5 },   { "WP", 16, 16 }, { "AM", 18, 18 },
	{ "NW", 29, 29 }, { "CD", 30, 30 }, { "PG", 31, 31 }, { NULL, 0, 0 },
};

static const struct x86_field cr4_fields[] = {
	{ "VME", 0, 0 },	{ "PVI", 1, 1 },	  { "TSD", 2, 2 },
	{ "DE", 3, 3 },		{ "PSE", 4, 4 },	  { "PAE", 5, 5 },
	{ "MCE", 6, 6 },	{ "PGE", 7, 7 },	  { "PCE", 8, 8 },
	{ "OSFXSR", 9, 9 },	{ "OSXMMEXCPT", 10, 10 }, { "UMIP", 11, 11 },
	{ "LA57", 12, 12 },	{ "VMXE", 13, 13 },	  { "SMXE", 14, 14 },
	{ "FSGSBASE", 16, 16 }, { "PCIDE", 17, 17 },	  { "OSXSAVE", 18, 18 },
	{ "SMEP", 20, 20 },	{ "SMAP", 21, 21 },	  { "PKE", 22, 22 },
	{ "CET", 23, 23 },	{ "PKS", 24, 24 },	  { NULL, 0, 0 },
};

static const struct x86_field efer_fields[] = {
	{ "SCE", 0, 0 },     { "LME", 8, 8 },	 { "LMA", 10, 10 },
	{ "NXE", 11, 11 },   { "SVME", 12, 12 }, { "LMSLE", 13, 13 },
	{ "FFXSR", 14, 14 }, { "TCE", 15, 15 },	 { NULL, 0, 0 },
};

static const struct x86_flags x86_flags_types[] = {
	{ "i386_eflags", F_CORE, 4, eflags_fields },
	{ "i386_mxcsr", F_SSE, 4, mxcsr_fields },
	{ "x86_cr0", F_SYS, 0, cr0_fields },
	{ "x86_cr4", F_SYS, 0, cr4_fields },
	{ "x86_efer", F_SYS, 8, efer_fields },
};

static const char *const x86_feature_names[F_COUNT] = {
	[F_CORE] = "org.gnu.gdb.i386.core",
	[F_SEGMENTS] = "org.gnu.gdb.i386.segments",
	/* Not a gdb feature: gdb shows its registers without knowing them. */
	[F_SYS] = "org.vitro.x86.sys",
	[F_SSE] = "org.gnu.gdb.i386.sse",
};

static void xml_vec128(FILE *f)
{
	fputs("<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	      "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	      "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
	      "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
	      "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
	      "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
	      "<union id=\"vec128\">\n"
	      " <field name=\"v4_float\" type=\"v4f\"/>\n"
	      " <field name=\"v2_double\" type=\"v2d\"/>\n"
	      " <field name=\"v16_int8\" type=\"v16i8\"/>\n"
	      " <field name=\"v8_int16\" type=\"v8i16\"/>\n"
	      " <field name=\"v4_int32\" type=\"v4i32\"/>\n"
	      " <field name=\"v2_int64\" type=\"v2i64\"/>\n"
	      " <field name=\"uint128\" type=\"uint128\"/>\n"
	      "</union>\n",
	      f);
}

static void xml_feature(FILE *f, const struct gdb_x86_desc *d,
			enum x86_feature feat)
{
	const struct x86_field *fl;
	unsigned int i;

	for (i = 0; i < d->nregs; i++)
		if (d->regs[i].feature == feat)
			break;
	if (i == d->nregs)
		return; /* no registers: no feature */
	fprintf(f, "<feature name=\"%s\">\n", x86_feature_names[feat]);
	if (feat == F_SSE)
		xml_vec128(f);
	for (i = 0; i < NREGS(x86_flags_types); i++) {
		const struct x86_flags *t = &x86_flags_types[i];

		if (t->feature != feat)
			continue;
		fprintf(f, "<flags id=\"%s\" size=\"%u\">\n", t->id,
			t->bytes ? t->bytes : d->ctl_bytes);
		for (fl = t->fields; fl->name; fl++)
			fprintf(f,
				" <field name=\"%s\" start=\"%u\" end=\"%u\"/>\n",
				fl->name, fl->start, fl->end);
		fputs("</flags>\n", f);
	}
	for (i = 0; i < d->nregs; i++) {
		const struct x86_reg *r = &d->regs[i];

		if (r->feature != feat)
			continue;
		fprintf(f, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\"",
			r->name, r->bits, r->type);
		if (r->group)
			fprintf(f, " group=\"%s\"", r->group);
		fprintf(f, " regnum=\"%u\"/>\n", i);
	}
	fputs("</feature>\n", f);
}

char *gdb_x86_xml(const struct gdb_x86_desc *d, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int feat;

	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fprintf(f,
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		"<target version=\"1.0\">\n"
		"<architecture>%s</architecture>\n",
		d->arch);
	for (feat = 0; feat < F_COUNT; feat++)
		xml_feature(f, d, feat);
	fputs("</target>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	*len = size;
	return buf;
}

/* Register values */

int gdb_x86_fetch(const struct gdb_target *t, int vcpu, struct gdb_x86_regs *r)
{
	uint64_t vals[NFETCH];
	unsigned int i;
	int err;

	err = t->ops->regs_get(t->opaque, vcpu, NFETCH, x86_fetch_regs, vals);
	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < NFETCH; i++)
		r->val[x86_fetch_regs[i]] = vals[i];
	return 0;
}

int gdb_x86_store(const struct gdb_target *t, int vcpu,
		  const struct gdb_x86_regs *old, const struct gdb_x86_regs *r)
{
	int regs[NFETCH];
	uint64_t vals[NFETCH];
	unsigned int i, n = 0;

	for (i = 0; i < NFETCH; i++) {
		int reg = x86_fetch_regs[i];

		if (r->val[reg] != old->val[reg]) {
			regs[n] = reg;
			vals[n++] = r->val[reg];
		}
	}
	if (n == 0)
		return 0;
	return t->ops->regs_set(t->opaque, vcpu, n, regs, vals);
}

bool gdb_x86_real_mode(const struct gdb_x86_regs *r)
{
	return !(r->val[VM_REG_GUEST_CR0] & CR0_PE) ||
	       (r->val[VM_REG_GUEST_RFLAGS] & RFLAGS_VM);
}

uint64_t gdb_x86_pc(const struct gdb_x86_regs *r)
{
	uint64_t rip = r->val[VM_REG_GUEST_RIP];

	if (gdb_x86_real_mode(r))
		return r->val[VM_REG_GUEST_CS_BASE] + (rip & 0xffff);
	return rip;
}

/* Classify an x87 register as the full tag word does (Intel SDM 8.1.7). */
static unsigned int x87_tag(uint64_t signif, uint64_t sign_exp)
{
	unsigned int exp = sign_exp & 0x7fff;

	if (exp == 0x7fff)
		return 2; /* special: NaN or infinity */
	if (exp == 0)
		return signif == 0 ? 1 : 2; /* zero, or denormal */
	return signif >> 63 ? 0 : 2; /* valid, or unnormal */
}

/* The abridged tag has one bit per physical register; ST(i) is R(top+i). */
static uint64_t x87_full_tag(const struct gdb_x86_regs *r)
{
	unsigned int top = (r->val[VM_REG_GUEST_FSW] >> 11) & 7;
	uint64_t ftw = r->val[VM_REG_GUEST_FTW], full = 0;
	unsigned int phys;

	for (phys = 0; phys < 8; phys++) {
		unsigned int st = (phys - top) & 7, tag = 3;

		if (ftw & (1u << phys))
			tag = x87_tag(r->val[VM_REG_GUEST_STn_LO(st)],
				      r->val[VM_REG_GUEST_STn_HI(st)]);
		full |= (uint64_t)tag << (2 * phys);
	}
	return full;
}

static uint64_t x87_abridged_tag(uint64_t full)
{
	uint64_t ftw = 0;
	unsigned int phys;

	for (phys = 0; phys < 8; phys++)
		if (((full >> (2 * phys)) & 3) != 3)
			ftw |= 1u << phys;
	return ftw;
}

static void put_le(uint8_t *out, uint64_t v, size_t bytes)
{
	size_t i;

	for (i = 0; i < bytes; i++, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *in, size_t bytes)
{
	uint64_t v = 0;
	size_t i;

	for (i = bytes; i-- > 0;)
		v = v << 8 | in[i];
	return v;
}

size_t gdb_x86_reg_encode(const struct gdb_x86_desc *d,
			  const struct gdb_x86_regs *r, unsigned int regno,
			  uint8_t *out)
{
	const struct x86_reg *reg;
	size_t bytes;
	uint64_t v = 0;

	if (regno >= d->nregs)
		return 0;
	reg = &d->regs[regno];
	bytes = reg->bits / 8;
	switch (reg->kind) {
	case K_REG:
		v = r->val[reg->vmreg];
		break;
	case K_PC:
		v = gdb_x86_pc(r);
		break;
	case K_SEL:
		v = r->val[reg->vmreg] & 0xffff;
		break;
	case K_ST:
		put_le(out, r->val[VM_REG_GUEST_STn_LO(reg->vmreg)], 8);
		put_le(out + 8, r->val[VM_REG_GUEST_STn_HI(reg->vmreg)], 2);
		return bytes;
	case K_XMM:
		put_le(out, r->val[VM_REG_GUEST_XMMn_LO(reg->vmreg)], 8);
		put_le(out + 8, r->val[VM_REG_GUEST_XMMn_HI(reg->vmreg)], 8);
		return bytes;
	case K_FTAG:
		v = x87_full_tag(r);
		break;
	case K_FISEG:
		v = r->val[VM_REG_GUEST_FIP] >> 32;
		break;
	case K_FIOFF:
		v = r->val[VM_REG_GUEST_FIP];
		break;
	case K_FOSEG:
		v = r->val[VM_REG_GUEST_FDP] >> 32;
		break;
	case K_FOOFF:
		v = r->val[VM_REG_GUEST_FDP];
		break;
	}
	put_le(out, v, bytes);
	return bytes;
}

/* Replace the low `bits` of old with v. */
static uint64_t narrow_write(uint64_t old, uint64_t v, unsigned int bits)
{
	uint64_t mask = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;

	return (old & ~mask) | (v & mask);
}

static int x86_set_pc(struct gdb_x86_regs *r, uint64_t pc, unsigned int bits)
{
	uint64_t *rip = &r->val[VM_REG_GUEST_RIP];
	uint64_t base = r->val[VM_REG_GUEST_CS_BASE];

	if (!gdb_x86_real_mode(r)) {
		*rip = narrow_write(*rip, pc, bits);
		return 0;
	}
	if (pc >= base && pc - base <= 0xffff) {
		*rip = narrow_write(*rip, pc - base, 16);
		return 0;
	}
	/* Outside this code segment: choose CS so that IP is pc % 16. */
	if (pc >> 4 > 0xffff)
		return -EINVAL;
	r->val[VM_REG_GUEST_CS] = pc >> 4;
	r->val[VM_REG_GUEST_CS_BASE] = pc & ~0xfULL;
	*rip = narrow_write(*rip, pc & 0xf, 16);
	return 0;
}

int gdb_x86_reg_decode(const struct gdb_x86_desc *d, struct gdb_x86_regs *r,
		       unsigned int regno, const uint8_t *in)
{
	const struct x86_reg *reg;
	uint64_t v, *p;

	if (regno >= d->nregs)
		return -EINVAL;
	reg = &d->regs[regno];
	switch (reg->kind) {
	case K_ST:
		r->val[VM_REG_GUEST_STn_LO(reg->vmreg)] = get_le(in, 8);
		p = &r->val[VM_REG_GUEST_STn_HI(reg->vmreg)];
		*p = narrow_write(*p, get_le(in + 8, 2), 16);
		return 0;
	case K_XMM:
		r->val[VM_REG_GUEST_XMMn_LO(reg->vmreg)] = get_le(in, 8);
		r->val[VM_REG_GUEST_XMMn_HI(reg->vmreg)] = get_le(in + 8, 8);
		return 0;
	default:
		break;
	}
	v = get_le(in, reg->bits / 8);
	switch (reg->kind) {
	case K_REG:
		p = &r->val[reg->vmreg];
		*p = narrow_write(*p, v, reg->bits);
		break;
	case K_PC:
		return x86_set_pc(r, v, reg->bits);
	case K_SEL:
		/*
		 * Only a changed selector reloads the base: an unchanged one
		 * (a 'G' writing everything back) keeps a base that differs,
		 * such as CS.base 0xffff0000 after reset.
		 */
		v &= 0xffff;
		if (v != (r->val[reg->vmreg] & 0xffff) && gdb_x86_real_mode(r))
			r->val[reg->vmreg - VM_REG_GUEST_ES +
			       VM_REG_GUEST_ES_BASE] = v << 4;
		r->val[reg->vmreg] = v;
		break;
	case K_FTAG:
		r->val[VM_REG_GUEST_FTW] = x87_abridged_tag(v);
		break;
	case K_FISEG:
		p = &r->val[VM_REG_GUEST_FIP];
		*p = (*p & 0xffffffffULL) | v << 32;
		break;
	case K_FIOFF:
		p = &r->val[VM_REG_GUEST_FIP];
		*p = narrow_write(*p, v, 32);
		break;
	case K_FOSEG:
		p = &r->val[VM_REG_GUEST_FDP];
		*p = (*p & 0xffffffffULL) | v << 32;
		break;
	case K_FOOFF:
		p = &r->val[VM_REG_GUEST_FDP];
		*p = narrow_write(*p, v, 32);
		break;
	}
	return 0;
}
