/*
 * test-dwarf.c: the DWARF reader (introspect/dwarf.h) on the fixture
 * built with -g (fixture-types.elf), against the compiler's own view of
 * fixture-types.h: sizes and member offsets (offsetof), bitfield
 * positions, anonymous unions, enums, typedefs, base type names, pointer
 * types made by name, spellings, source lines; and the errors for a
 * missing, DWARF-less and truncated file.
 */
#include <errno.h>
#include <stdio.h>

#include "introspect/dwarf.h"
#include "introspect/elfsym.h"
#include "tests/tap.h"
#include "tests/unit/fixture-types.h"

#define FIXTURE FIXTURE_BASE ".elf"

struct want {
	const char *name;
	size_t offset;
	const char *type;
};

/* A bitfield's position, found as the compiler lays it out. */
#define BITPOS(field)                                          \
	({                                                     \
		struct fx_task x_;                             \
		unsigned char *p_ = (unsigned char *)&x_;      \
		int b_ = -1;                                   \
		memset(&x_, 0, sizeof(x_));                    \
		x_.field = -1;                                 \
		for (size_t i_ = 0; i_ < sizeof(x_) * 8; i_++) \
			if (p_[i_ / 8] & (1u << (i_ % 8))) {   \
				b_ = (int)i_;                  \
				break;                         \
			}                                      \
		b_;                                            \
	})

static const struct dwinfo_member *member(const struct dwinfo_type *t,
					  const char *name)
{
	for (uint32_t i = 0; t && i < t->nmembers; i++)
		if (t->members[i].name && !strcmp(t->members[i].name, name))
			return &t->members[i];
	return NULL;
}

static void test_task(struct dwinfo *dw)
{
	static const struct want want[] = {
		{ "pid", offsetof(struct fx_task, pid), "int" },
		{ "name", offsetof(struct fx_task, name), "char [16]" },
		{ "state", offsetof(struct fx_task, state), "enum fx_state" },
		{ "next", offsetof(struct fx_task, next), "struct fx_task *" },
		{ "link", offsetof(struct fx_task, link), "struct fx_list" },
		{ "val", offsetof(struct fx_task, val), "union fx_val" },
		{ "grid", offsetof(struct fx_task, grid), "short int [2][3]" },
		{ "label", offsetof(struct fx_task, label), "const char *" },
		{ "big", offsetof(struct fx_task, big),
		  "long long unsigned int" },
	};
	const struct dwinfo_type *t = dwinfo_type_find(dw, "struct fx_task");
	const struct dwinfo_member *m;
	char buf[128];
	uint64_t off;

	ok(t && t->kind == DWINFO_STRUCT, "struct fx_task found");
	if (!t)
		return;
	is_int(dwinfo_type_size(dw, t), sizeof(struct fx_task),
	       "struct fx_task's size is sizeof's");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		m = member(t, want[i].name);
		ok(m != NULL, "member %s", want[i].name);
		if (!m)
			continue;
		is_int(m->offset, want[i].offset, "%s at offsetof's offset",
		       want[i].name);
		is_str(dwinfo_type_name(m->type, buf, sizeof(buf)),
		       want[i].type, "%s's type", want[i].name);
	}
	m = member(t, "name");
	if (m)
		is_int(dwinfo_type_size(dw, m->type), 16, "name: 16 bytes");
	m = member(t, "flag_a");
	ok(m && m->bit_size == 3, "flag_a: 3 bits");
	if (m)
		is_int(m->offset * 8 + m->bit_offset, BITPOS(flag_a),
		       "flag_a's bit position is the compiler's");
	m = member(t, "flag_b");
	ok(m && m->bit_size == 5, "flag_b: 5 bits");
	if (m)
		is_int(m->offset * 8 + m->bit_offset, BITPOS(flag_b),
		       "flag_b's bit position is the compiler's");
	m = member(t, "flag_c");
	ok(m && m->bit_size == 4, "flag_c: 4 bits");
	if (m)
		is_int(m->offset * 8 + m->bit_offset, BITPOS(flag_c),
		       "flag_c's bit position is the compiler's");
	m = dwinfo_member_find(dw, t, "anon_p", &off);
	ok(m != NULL, "anon_p found through the anonymous union");
	if (m)
		is_int(off, offsetof(struct fx_task, anon_p),
		       "... at offsetof's offset");
	ok(!dwinfo_member_find(dw, t, "nosuch", &off), "no member nosuch");
}

static void test_types(struct dwinfo *dw)
{
	const struct dwinfo_type *t, *s;
	char buf[128];

	t = dwinfo_type_find(dw, "union fx_val");
	ok(t && t->kind == DWINFO_UNION && t->nmembers == 3,
	   "union fx_val: 3 members");
	if (t)
		is_int(dwinfo_type_size(dw, t), sizeof(union fx_val),
		       "... of sizeof's size");

	t = dwinfo_type_find(dw, "enum fx_state");
	ok(t && t->kind == DWINFO_ENUM && t->nenums == 4,
	   "enum fx_state: 4 values");
	if (t && t->nenums == 4) {
		is_str(t->enums[2].name, "FX_DEAD", "third is FX_DEAD");
		is_int(t->enums[2].value, FX_DEAD, "... = 7");
		is_int(t->enums[3].value, FX_NEG, "FX_NEG = -2");
		ok(t->enc == DWINFO_ENC_SIGNED, "... so the enum is signed");
	}

	t = dwinfo_type_find(dw, "fx_task_t");
	s = dwinfo_type_find(dw, "struct fx_task");
	ok(t && t->kind == DWINFO_TYPEDEF, "typedef fx_task_t");
	ok(t && s && dwinfo_type_strip(dw, t) == s,
	   "... stripped, it is struct fx_task");

	t = dwinfo_type_find(dw, "unsigned long");
	ok(t && t->kind == DWINFO_BASE && t->size == 8 &&
		   t->enc == DWINFO_ENC_UNSIGNED,
	   "unsigned long: 8 unsigned bytes");
	ok(t && t == dwinfo_type_find(dw, "long  unsigned int"),
	   "... the same as gcc's long unsigned int");
	t = dwinfo_type_find(dw, "int");
	ok(t && t->size == 4 && t->enc == DWINFO_ENC_SIGNED, "int: 4, signed");
	t = dwinfo_type_find(dw, "char");
	ok(t && t->is_char, "char is a character type");

	t = dwinfo_type_find(dw, "struct fx_task **");
	ok(t && t->kind == DWINFO_POINTER && t->size == 8,
	   "struct fx_task **: a pointer");
	if (t)
		is_str(dwinfo_type_name(t, buf, sizeof(buf)),
		       "struct fx_task **", "... spelled so");
	ok(t && dwinfo_type_find(dw, "struct fx_task**") == t,
	   "... found again as the same");
	t = dwinfo_type_find(dw, "void");
	ok(t && t->kind == DWINFO_VOID, "void");
	ok(!dwinfo_type_find(dw, "struct nosuch"), "struct nosuch: NULL");
	ok(!dwinfo_type_find(dw, "fx_tasks"), "a variable is not a type");
	ok(!dwinfo_type_find(dw, ""), "an empty name: NULL");
}

static void test_lines(struct dwinfo *dw)
{
	const struct elfsym_sym *f;
	struct elfsym *es = elfsym_load(FIXTURE, NULL, 0);
	const char *file = NULL;
	unsigned int line = 0;

	f = es ? elfsym_by_name(es, "fx_func") : NULL;
	ok(f != NULL, "fx_func's address from the symbols");
	if (f) {
		ok(dwinfo_line(dw, f->addr, &file, &line) == 0,
		   "a line for fx_func");
		ok(file && strstr(file, "fixture-types.c"),
		   "... in fixture-types.c (%s)", file ? file : "-");
		ok(line >= 13 && line <= 15, "... line %u: the function's",
		   line);
	}
	ok(dwinfo_line(dw, 0x10, &file, &line) == -ENOENT, "no line at 0x10");
	elfsym_free(es);
}

static void test_errors(void)
{
	char err[256], cmd[512];
	char dir[] = "/tmp/test-dwarf.XXXXXX";
	struct dwinfo *dw;

	errno = 0;
	dw = dwinfo_load("/nonexistent/vmlinux", err, sizeof(err));
	ok(!dw && errno == ENOENT, "missing file: ENOENT (%s)", err);
	errno = 0;
	dw = dwinfo_load(FIXTURE_BASE "-nodebug.elf", err, sizeof(err));
	ok(!dw && errno == ENODATA, "strip -g: ENODATA (%s)", err);
	ok(strstr(err, "no DWARF") != NULL, "... says no DWARF");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), "head -c 9000 %s > %s/t.elf", FIXTURE, dir);
	if (system(cmd) != 0)
		tap_bail("%s failed", cmd);
	snprintf(cmd, sizeof(cmd), "%s/t.elf", dir);
	errno = 0;
	dw = dwinfo_load(cmd, err, sizeof(err));
	ok(!dw && errno != 0, "a truncated ELF: an error (%s)", err);
	dwinfo_free(dw);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
}

int main(void)
{
	char err[256];
	struct dwinfo *dw = dwinfo_load(FIXTURE, err, sizeof(err));

	if (!dw)
		tap_bail("%s", err);
	test_task(dw);
	test_types(dw);
	test_lines(dw);
	dwinfo_free(dw);
	test_errors();
	return tap_done();
}
