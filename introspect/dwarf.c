/*
 * introspect/dwarf.c: C types and source lines from an ELF's DWARF with
 * libdwarf (dwarf.h).  dwinfo_load walks every compilation unit once:
 * type DIEs become struct dwinfo_type (references kept as DIE offsets,
 * then resolved through a table sorted by offset), line tables become one
 * table of rows sorted by address, names go into an arena.  libdwarf's
 * handle is closed before dwinfo_load returns.
 *
 * Threads: one thread at a time per dwinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "introspect/dwarf.h"

/* One row of the line tables. */
struct dw_row {
	uint64_t addr;
	uint32_t line;
	uint32_t file; /* index into files */
	bool end; /* end of a sequence: no line from here */
	size_t idx; /* order read, which sorting keeps among equals */
};

/* A name for the index: "struct task", "int", a typedef's name. */
struct dw_name {
	const char *key;
	const struct dwinfo_type *type;
};

struct dw_chunk {
	struct dw_chunk *next;
	size_t used, size;
	char data[];
};

struct dwinfo {
	struct dwinfo_type **types; /* by DIE offset */
	size_t ntypes, captypes;
	struct dwinfo_type **extra; /* pointer types made by type_find */
	size_t nextra;
	struct dwinfo_type void_type;
	struct dw_name *names; /* by key */
	size_t nnames;
	struct dw_row *rows; /* by address */
	size_t nrows, caprows;
	const char **files;
	size_t nfiles, capfiles;
	uint32_t *fhash; /* files by name: index + 1, or 0; open addressing */
	size_t fhashcap; /* a power of 2, at least twice nfiles */
	struct dw_chunk *arena;
	unsigned int addr_size; /* of the first unit: pointer size */
	/* while loading */
	Dwarf_Debug dbg;
	uint32_t *unit_files; /* the unit's file numbers: index + 1, or 0 */
	size_t nunit_files;
	const char *path;
	char *err;
	size_t errlen;
};

static void seterr(struct dwinfo *dw, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void seterr(struct dwinfo *dw, const char *fmt, ...)
{
	va_list ap;

	if (!dw->err || !dw->errlen || dw->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(dw->err, dw->errlen, fmt, ap);
	va_end(ap);
}

static int dw_fail(struct dwinfo *dw, Dwarf_Error e, const char *what)
{
	seterr(dw, "%s: corrupt DWARF: %s: %s", dw->path, what,
	       e ? dwarf_errmsg(e) : "no entry");
	if (e)
		dwarf_dealloc_error(dw->dbg, e);
	return -ENOEXEC;
}

/* Arena. */

static void *dw_alloc(struct dwinfo *dw, size_t n)
{
	struct dw_chunk *c = dw->arena;

	n = (n + 7) & ~(size_t)7;
	if (!c || c->size - c->used < n) {
		size_t sz = n > 65536 ? n : 65536;

		c = malloc(sizeof(*c) + sz);
		if (!c)
			return NULL;
		c->size = sz;
		c->used = 0;
		c->next = dw->arena;
		dw->arena = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static const char *dw_strdup(struct dwinfo *dw, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = dw_alloc(dw, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Attributes. */

static bool attr_u64(struct dwinfo *dw, Dwarf_Die die, Dwarf_Half at,
		     uint64_t *out)
{
	Dwarf_Attribute a;
	Dwarf_Error e = NULL;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	Dwarf_Half form;
	bool ok = false;

	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
		if (e)
			dwarf_dealloc_error(dw->dbg, e);
		return false;
	}
	if (dwarf_whatform(a, &form, &e) == DW_DLV_OK &&
	    (form == DW_FORM_sdata || form == DW_FORM_implicit_const)) {
		if (dwarf_formsdata(a, &s, &e) == DW_DLV_OK) {
			*out = (uint64_t)s;
			ok = true;
		}
	} else if (dwarf_formudata(a, &u, &e) == DW_DLV_OK) {
		*out = u;
		ok = true;
	}
	if (e)
		dwarf_dealloc_error(dw->dbg, e);
	dwarf_dealloc_attribute(a);
	return ok;
}

static bool attr_flag(struct dwinfo *dw, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Bool b = 0;
	Dwarf_Error e = NULL;

	if (dwarf_hasattr(die, at, &b, &e) != DW_DLV_OK && e)
		dwarf_dealloc_error(dw->dbg, e);
	return b;
}

/* DW_AT_type as a global DIE offset, or 0. */
static uint64_t attr_ref(struct dwinfo *dw, Dwarf_Die die)
{
	Dwarf_Attribute a;
	Dwarf_Error e = NULL;
	Dwarf_Off off = 0;

	if (dwarf_attr(die, DW_AT_type, &a, &e) != DW_DLV_OK) {
		if (e)
			dwarf_dealloc_error(dw->dbg, e);
		return 0;
	}
	if (dwarf_global_formref(a, &off, &e) != DW_DLV_OK) {
		off = 0;
		if (e)
			dwarf_dealloc_error(dw->dbg, e);
	}
	dwarf_dealloc_attribute(a);
	return off;
}

/* A member's offset: a constant, or a DW_OP_plus_uconst expression. */
static bool member_location(struct dwinfo *dw, Dwarf_Die die, uint64_t *out)
{
	Dwarf_Attribute a;
	Dwarf_Error e = NULL;
	Dwarf_Block *b;
	Dwarf_Half form;
	bool ok = false;

	if (dwarf_attr(die, DW_AT_data_member_location, &a, &e) != DW_DLV_OK) {
		if (e)
			dwarf_dealloc_error(dw->dbg, e);
		return false;
	}
	if (dwarf_whatform(a, &form, &e) == DW_DLV_OK &&
	    (form == DW_FORM_block1 || form == DW_FORM_block ||
	     form == DW_FORM_block2 || form == DW_FORM_block4 ||
	     form == DW_FORM_exprloc)) {
		if (dwarf_formblock(a, &b, &e) == DW_DLV_OK) {
			const uint8_t *p = b->bl_data;
			uint64_t v = 0;
			unsigned int shift = 0;

			if (b->bl_len > 1 && p[0] == DW_OP_plus_uconst) {
				for (size_t i = 1; i < b->bl_len && shift < 64;
				     i++, shift += 7) {
					v |= (uint64_t)(p[i] & 0x7f) << shift;
					if (!(p[i] & 0x80))
						break;
				}
				*out = v;
				ok = true;
			}
			dwarf_dealloc(dw->dbg, b, DW_DLA_BLOCK);
		}
	} else {
		Dwarf_Unsigned u;

		if (dwarf_formudata(a, &u, &e) == DW_DLV_OK) {
			*out = u;
			ok = true;
		}
	}
	if (e)
		dwarf_dealloc_error(dw->dbg, e);
	dwarf_dealloc_attribute(a);
	return ok;
}

static const char *die_name(struct dwinfo *dw, Dwarf_Die die)
{
	char *name = NULL;
	Dwarf_Error e = NULL;

	if (dwarf_diename(die, &name, &e) != DW_DLV_OK) {
		if (e)
			dwarf_dealloc_error(dw->dbg, e);
		return NULL;
	}
	return dw_strdup(dw, name);
}

/* Types. */

static struct dwinfo_type *type_new(struct dwinfo *dw, enum dwinfo_kind kind,
				    Dwarf_Die die)
{
	struct dwinfo_type *t = dw_alloc(dw, sizeof(*t));
	Dwarf_Error e = NULL;
	Dwarf_Off off = 0;

	if (!t)
		return NULL;
	if (dw->ntypes == dw->captypes) {
		size_t n = dw->captypes ? 2 * dw->captypes : 256;
		struct dwinfo_type **v = realloc(dw->types, n * sizeof(*v));

		if (!v)
			return NULL;
		dw->types = v;
		dw->captypes = n;
	}
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	if (dwarf_dieoffset(die, &off, &e) != DW_DLV_OK && e)
		dwarf_dealloc_error(dw->dbg, e);
	t->off_ = off;
	t->ref_ = attr_ref(dw, die);
	t->target = &dw->void_type;
	dw->types[dw->ntypes++] = t;
	return t;
}

/* Grow an arena array of n elements of size sz to n + 1 (copying). */
static void *grow(struct dwinfo *dw, void *v, size_t n, size_t sz)
{
	void *nv;

	/* Doubling at powers of two keeps this linear overall. */
	if (n && (n & (n - 1)))
		return v;
	nv = dw_alloc(dw, (n ? 2 * n : 1) * sz);
	if (nv && n)
		memcpy(nv, v, n * sz);
	return nv;
}

static int add_member(struct dwinfo *dw, struct dwinfo_type *t, Dwarf_Die die)
{
	struct dwinfo_member *m;
	uint64_t loc = 0, v;

	m = grow(dw, t->members, t->nmembers, sizeof(*m));
	if (!m)
		return -ENOMEM;
	t->members = m;
	m = &t->members[t->nmembers++];
	memset(m, 0, sizeof(*m));
	m->name = die_name(dw, die);
	m->ref_ = attr_ref(dw, die);
	member_location(dw, die, &loc);
	if (attr_u64(dw, die, DW_AT_bit_size, &v)) {
		uint64_t bits;

		m->bit_size = (uint32_t)v;
		if (attr_u64(dw, die, DW_AT_data_bit_offset, &bits)) {
			/* DWARF 4+: bits from the start, LSB first on x86. */
		} else {
			/* DWARF 2/3: from the storage unit's most significant
			 * bit. */
			uint64_t unit = 0, bo = 0;

			attr_u64(dw, die, DW_AT_byte_size, &unit);
			attr_u64(dw, die, DW_AT_bit_offset, &bo);
			bits = loc * 8 + unit * 8 - bo - v;
		}
		m->offset = bits / 8;
		m->bit_offset = bits % 8;
	} else {
		m->offset = loc;
	}
	return 0;
}

static int add_enumerator(struct dwinfo *dw, struct dwinfo_type *t,
			  Dwarf_Die die)
{
	struct dwinfo_enumerator *en;
	uint64_t v = 0;

	en = grow(dw, t->enums, t->nenums, sizeof(*en));
	if (!en)
		return -ENOMEM;
	t->enums = en;
	en = &t->enums[t->nenums++];
	en->name = die_name(dw, die);
	attr_u64(dw, die, DW_AT_const_value, &v);
	en->value = (int64_t)v;
	return 0;
}

static int add_dim(struct dwinfo *dw, struct dwinfo_type *t, Dwarf_Die die)
{
	uint64_t *d, v = 0, count = 0;

	d = grow(dw, t->dims, t->ndims, sizeof(*d));
	if (!d)
		return -ENOMEM;
	t->dims = d;
	if (attr_u64(dw, die, DW_AT_count, &v))
		count = v;
	else if (attr_u64(dw, die, DW_AT_upper_bound, &v) && v != UINT64_MAX)
		count = v + 1;
	t->dims[t->ndims++] = count;
	return 0;
}

static int visit_children(struct dwinfo *dw, Dwarf_Die die,
			  struct dwinfo_type *parent, int depth);

static enum dwinfo_kind tag_kind(Dwarf_Half tag, bool *is_type)
{
	*is_type = true;
	switch (tag) {
	case DW_TAG_base_type:
		return DWINFO_BASE;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
		return DWINFO_STRUCT;
	case DW_TAG_union_type:
		return DWINFO_UNION;
	case DW_TAG_enumeration_type:
		return DWINFO_ENUM;
	case DW_TAG_typedef:
		return DWINFO_TYPEDEF;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		return DWINFO_POINTER;
	case DW_TAG_array_type:
		return DWINFO_ARRAY;
	case DW_TAG_const_type:
		return DWINFO_CONST;
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
		return DWINFO_VOLATILE;
	case DW_TAG_subroutine_type:
		return DWINFO_FUNC;
	case DW_TAG_unspecified_type:
		return DWINFO_VOID;
	}
	*is_type = false;
	return DWINFO_VOID;
}

static int visit_die(struct dwinfo *dw, Dwarf_Die die,
		     struct dwinfo_type *parent, int depth)
{
	Dwarf_Error e = NULL;
	Dwarf_Half tag;
	struct dwinfo_type *t;
	enum dwinfo_kind kind;
	bool is_type;
	uint64_t v;

	if (dwarf_tag(die, &tag, &e) != DW_DLV_OK)
		return dw_fail(dw, e, "DIE tag");
	if (parent && tag == DW_TAG_member)
		return add_member(dw, parent, die);
	if (parent && tag == DW_TAG_enumerator)
		return add_enumerator(dw, parent, die);
	if (parent && tag == DW_TAG_subrange_type)
		return add_dim(dw, parent, die);
	kind = tag_kind(tag, &is_type);
	if (!is_type) {
		/* Functions' local types are left out; namespaces and the
		 * like are walked. */
		if (tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block ||
		    tag == DW_TAG_variable || tag == DW_TAG_formal_parameter ||
		    tag == DW_TAG_inlined_subroutine)
			return 0;
		return visit_children(dw, die, NULL, depth + 1);
	}
	t = type_new(dw, kind, die);
	if (!t)
		return -ENOMEM;
	t->name = die_name(dw, die);
	if (attr_u64(dw, die, DW_AT_byte_size, &v))
		t->size = v;
	t->declaration = attr_flag(dw, die, DW_AT_declaration);
	if (kind == DWINFO_BASE && attr_u64(dw, die, DW_AT_encoding, &v)) {
		switch (v) {
		case DW_ATE_signed:
		case DW_ATE_signed_char:
			t->enc = DWINFO_ENC_SIGNED;
			break;
		case DW_ATE_float:
			t->enc = DWINFO_ENC_FLOAT;
			break;
		case DW_ATE_boolean:
			t->enc = DWINFO_ENC_BOOL;
			break;
		default:
			t->enc = DWINFO_ENC_UNSIGNED;
		}
		t->is_char = v == DW_ATE_signed_char ||
			     v == DW_ATE_unsigned_char || v == DW_ATE_UTF;
	}
	if (kind == DWINFO_POINTER && !t->size)
		t->size = dw->addr_size;
	if (kind == DWINFO_STRUCT || kind == DWINFO_UNION ||
	    kind == DWINFO_ENUM || kind == DWINFO_ARRAY)
		return visit_children(dw, die, t, depth + 1);
	return 0;
}

static int visit_children(struct dwinfo *dw, Dwarf_Die die,
			  struct dwinfo_type *parent, int depth)
{
	Dwarf_Die child, next;
	Dwarf_Error e = NULL;
	int r;

	if (depth > 64)
		return 0;
	r = dwarf_child(die, &child, &e);
	if (r == DW_DLV_NO_ENTRY)
		return 0;
	if (r != DW_DLV_OK)
		return dw_fail(dw, e, "DIE children");
	for (;;) {
		r = visit_die(dw, child, parent, depth);
		if (r < 0) {
			dwarf_dealloc_die(child);
			return r;
		}
		r = dwarf_siblingof_b(dw->dbg, child, true, &next, &e);
		dwarf_dealloc_die(child);
		if (r == DW_DLV_NO_ENTRY)
			return 0;
		if (r != DW_DLV_OK)
			return dw_fail(dw, e, "DIE sibling");
		child = next;
	}
}

/* Lines. */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* The slot of name in fhash: its file's, or the empty one it would take. */
static uint32_t *fhash_slot(struct dwinfo *dw, const char *name)
{
	size_t mask = dw->fhashcap - 1;

	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		uint32_t *slot = &dw->fhash[i];

		if (!*slot || !strcmp(dw->files[*slot - 1], name))
			return slot;
	}
}

static int fhash_grow(struct dwinfo *dw)
{
	size_t cap = dw->fhashcap ? 2 * dw->fhashcap : 256;
	uint32_t *old = dw->fhash;
	size_t oldcap = dw->fhashcap;

	if (!(dw->fhash = calloc(cap, sizeof(*dw->fhash)))) {
		dw->fhash = old;
		return -ENOMEM;
	}
	dw->fhashcap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			*fhash_slot(dw, dw->files[old[i] - 1]) = old[i];
	free(old);
	return 0;
}

/*
 * The index of a source file's name, added when new.  A vmlinux's line
 * tables name thousands of files over millions of rows: a hash, not a
 * search.
 */
static int file_index(struct dwinfo *dw, const char *name, uint32_t *out)
{
	uint32_t *slot;

	if (2 * (dw->nfiles + 1) > dw->fhashcap && fhash_grow(dw) < 0)
		return -ENOMEM;
	slot = fhash_slot(dw, name);
	if (*slot) {
		*out = *slot - 1;
		return 0;
	}
	if (dw->nfiles == dw->capfiles) {
		size_t n = dw->capfiles ? 2 * dw->capfiles : 64;
		const char **v = realloc(dw->files, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		dw->files = v;
		dw->capfiles = n;
	}
	dw->files[dw->nfiles] = dw_strdup(dw, name);
	if (!dw->files[dw->nfiles])
		return -ENOMEM;
	*out = (uint32_t)dw->nfiles++;
	*slot = *out + 1;
	return 0;
}

/*
 * The file of a row: rows name the unit's files by number, so the name
 * (which libdwarf builds anew, directory and all, for every row) is
 * looked at once per number and unit.
 */
static int row_file(struct dwinfo *dw, Dwarf_Line line, uint32_t *out,
		    Dwarf_Error *e)
{
	Dwarf_Unsigned no;
	char *src = NULL;
	int r;

	if (dwarf_line_srcfileno(line, &no, e) != DW_DLV_OK)
		return dw_fail(dw, *e, "line table row");
	if (no < dw->nunit_files && dw->unit_files[no]) {
		*out = dw->unit_files[no] - 1;
		return 0;
	}
	if (dwarf_linesrc(line, &src, e) != DW_DLV_OK)
		return dw_fail(dw, *e, "line table row");
	r = file_index(dw, src, out);
	dwarf_dealloc(dw->dbg, src, DW_DLA_STRING);
	if (r < 0 || no >= (1u << 16)) /* a number too large to keep */
		return r;
	if (no >= dw->nunit_files) {
		size_t n = no + 64;
		uint32_t *v = realloc(dw->unit_files, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		memset(v + dw->nunit_files, 0,
		       (n - dw->nunit_files) * sizeof(*v));
		dw->unit_files = v;
		dw->nunit_files = n;
	}
	dw->unit_files[no] = *out + 1;
	return 0;
}

static int read_lines(struct dwinfo *dw, Dwarf_Die cu)
{
	Dwarf_Line_Context ctx;
	Dwarf_Line *lines;
	Dwarf_Signed n;
	Dwarf_Unsigned version;
	Dwarf_Small tables;
	Dwarf_Error e = NULL;
	int r;

	r = dwarf_srclines_b(cu, &version, &tables, &ctx, &e);
	if (r == DW_DLV_NO_ENTRY)
		return 0;
	if (r != DW_DLV_OK)
		return dw_fail(dw, e, "line table");
	if (dwarf_srclines_from_linecontext(ctx, &lines, &n, &e) != DW_DLV_OK) {
		dwarf_srclines_dealloc_b(ctx);
		return dw_fail(dw, e, "line table");
	}
	r = 0;
	/* File numbers are the unit's own. */
	if (dw->unit_files)
		memset(dw->unit_files, 0,
		       dw->nunit_files * sizeof(*dw->unit_files));
	for (Dwarf_Signed i = 0; i < n && r == 0; i++) {
		struct dw_row row = { 0 };
		Dwarf_Addr addr;
		Dwarf_Unsigned lno;
		Dwarf_Bool end = 0;

		if (dwarf_lineaddr(lines[i], &addr, &e) != DW_DLV_OK ||
		    dwarf_lineno(lines[i], &lno, &e) != DW_DLV_OK ||
		    dwarf_lineendsequence(lines[i], &end, &e) != DW_DLV_OK) {
			r = dw_fail(dw, e, "line table row");
			break;
		}
		row.addr = addr;
		row.line = (uint32_t)lno;
		row.end = end;
		row.idx = dw->nrows;
		if ((r = row_file(dw, lines[i], &row.file, &e)) < 0)
			break;
		if (dw->nrows == dw->caprows) {
			size_t cap = dw->caprows ? 2 * dw->caprows : 1024;
			struct dw_row *v = realloc(dw->rows, cap * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			dw->rows = v;
			dw->caprows = cap;
		}
		dw->rows[dw->nrows++] = row;
	}
	dwarf_srclines_dealloc_b(ctx);
	return r;
}

/* Loading. */

static int cmp_type_off(const void *a, const void *b)
{
	const struct dwinfo_type *x = *(struct dwinfo_type *const *)a;
	const struct dwinfo_type *y = *(struct dwinfo_type *const *)b;

	return x->off_ < y->off_ ? -1 : x->off_ > y->off_;
}

static int cmp_row(const void *a, const void *b)
{
	const struct dw_row *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* A sequence's end before the next one's start at that address. */
	if (x->end != y->end)
		return (int)y->end - (int)x->end;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const struct dwinfo_type *type_by_off(struct dwinfo *dw, uint64_t off)
{
	size_t lo = 0, hi = dw->ntypes;

	if (!off)
		return &dw->void_type;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dw->types[mid]->off_ < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < dw->ntypes && dw->types[lo]->off_ == off)
		return dw->types[lo];
	return &dw->void_type;
}

/*
 * A base type's name in one spelling: its words sorted, the implied
 * "int" added and a redundant "signed" dropped ("unsigned long" and
 * "long unsigned int" both become "int long unsigned").
 */
static void canon_base(const char *in, char *out, size_t len)
{
	const char *w[8];
	size_t wl[8], n = 0, o = 0;
	bool has_int = false, has_mod = false, has_char = false;
	const char *p = in;

	while (*p && n < 8) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w[n] = p;
		while (*p && *p != ' ')
			p++;
		wl[n] = (size_t)(p - w[n]);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
#define IS(s) (wl[i] == sizeof(s) - 1 && !strncmp(w[i], s, wl[i]))
		if (IS("int"))
			has_int = true;
		if (IS("char") || IS("double") || IS("float") || IS("_Bool"))
			has_char = true;
		if (IS("short") || IS("long") || IS("unsigned") || IS("signed"))
			has_mod = true;
	}
	if (has_mod && !has_int && !has_char && n < 8) {
		w[n] = "int";
		wl[n++] = 3;
		has_int = true;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			size_t m = wl[i] < wl[j] ? wl[i] : wl[j];
			int c = strncmp(w[i], w[j], m);

			if (c > 0 || (c == 0 && wl[i] > wl[j])) {
				const char *tw = w[i];
				size_t tl = wl[i];

				w[i] = w[j];
				wl[i] = wl[j];
				w[j] = tw;
				wl[j] = tl;
			}
		}
	for (size_t i = 0; i < n; i++) {
		if (has_int && IS("signed"))
			continue;
#undef IS
		if (o + wl[i] + 2 > len)
			break;
		if (o)
			out[o++] = ' ';
		memcpy(out + o, w[i], wl[i]);
		o += wl[i];
	}
	out[o < len ? o : len - 1] = 0;
}

static const char *kind_prefix(enum dwinfo_kind k)
{
	switch (k) {
	case DWINFO_STRUCT:
		return "struct ";
	case DWINFO_UNION:
		return "union ";
	case DWINFO_ENUM:
		return "enum ";
	default:
		return "";
	}
}

static int cmp_name(const void *a, const void *b)
{
	const struct dw_name *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	/* Definitions before declarations, then the first defined. */
	if (x->type->declaration != y->type->declaration)
		return x->type->declaration ? 1 : -1;
	return x->type->off_ < y->type->off_ ? -1 :
					       x->type->off_ > y->type->off_;
}

static int build_index(struct dwinfo *dw)
{
	size_t n = 0;

	dw->names = calloc(dw->ntypes ? dw->ntypes : 1, sizeof(*dw->names));
	if (!dw->names)
		return -ENOMEM;
	for (size_t i = 0; i < dw->ntypes; i++) {
		struct dwinfo_type *t = dw->types[i];
		char buf[256];

		if (!t->name)
			continue;
		switch (t->kind) {
		case DWINFO_STRUCT:
		case DWINFO_UNION:
		case DWINFO_ENUM:
			snprintf(buf, sizeof(buf), "%s%s", kind_prefix(t->kind),
				 t->name);
			break;
		case DWINFO_BASE:
			canon_base(t->name, buf, sizeof(buf));
			break;
		case DWINFO_TYPEDEF:
			snprintf(buf, sizeof(buf), "%s", t->name);
			break;
		default:
			continue;
		}
		dw->names[n].key = dw_strdup(dw, buf);
		if (!dw->names[n].key)
			return -ENOMEM;
		dw->names[n++].type = t;
	}
	dw->nnames = n;
	if (n)
		qsort(dw->names, n, sizeof(*dw->names), cmp_name);
	return 0;
}

static int resolve(struct dwinfo *dw)
{
	if (dw->ntypes) /* qsort's base may not be NULL, even for none */
		qsort(dw->types, dw->ntypes, sizeof(*dw->types), cmp_type_off);
	for (size_t i = 0; i < dw->ntypes; i++) {
		struct dwinfo_type *t = dw->types[i];

		t->target = type_by_off(dw, t->ref_);
		for (uint32_t j = 0; j < t->nmembers; j++)
			t->members[j].type =
				type_by_off(dw, t->members[j].ref_);
		if (t->kind == DWINFO_ENUM) {
			const struct dwinfo_type *u = t->target;

			while (u->kind == DWINFO_TYPEDEF ||
			       u->kind == DWINFO_CONST ||
			       u->kind == DWINFO_VOLATILE)
				u = u->target;
			if (u->kind == DWINFO_BASE)
				t->enc = u->enc;
			else
				t->enc = DWINFO_ENC_UNSIGNED;
			for (uint32_t j = 0; j < t->nenums; j++)
				if (t->enums[j].value < 0)
					t->enc = DWINFO_ENC_SIGNED;
		}
	}
	if (dw->nrows)
		qsort(dw->rows, dw->nrows, sizeof(*dw->rows), cmp_row);
	return build_index(dw);
}

static int load_units(struct dwinfo *dw)
{
	for (;;) {
		Dwarf_Unsigned hlen, typeoff, next;
		Dwarf_Half version, asize, lsize, esize, cutype;
		Dwarf_Off abbrev;
		Dwarf_Sig8 sig;
		Dwarf_Error e = NULL;
		Dwarf_Die cu;
		int r;

		r = dwarf_next_cu_header_d(dw->dbg, true, &hlen, &version,
					   &abbrev, &asize, &lsize, &esize,
					   &sig, &typeoff, &next, &cutype, &e);
		if (r == DW_DLV_NO_ENTRY)
			return 0;
		if (r != DW_DLV_OK)
			return dw_fail(dw, e, "unit header");
		if (!dw->addr_size)
			dw->addr_size = asize;
		r = dwarf_siblingof_b(dw->dbg, NULL, true, &cu, &e);
		if (r != DW_DLV_OK)
			return dw_fail(dw, e, "unit DIE");
		r = read_lines(dw, cu);
		if (r == 0)
			r = visit_children(dw, cu, NULL, 0);
		dwarf_dealloc_die(cu);
		if (r < 0)
			return r;
	}
}

struct dwinfo *dwinfo_load(const char *path, char *err, size_t errlen)
{
	struct dwinfo *dw;
	Dwarf_Error e = NULL;
	int r, fd;

	if (err && errlen)
		err[0] = 0;
	/* libdwarf says only "no DWARF" for a file it cannot open. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = errno;
		if (err && errlen)
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(r));
		errno = r;
		return NULL;
	}
	close(fd);
	dw = calloc(1, sizeof(*dw));
	if (!dw) {
		errno = ENOMEM;
		return NULL;
	}
	dw->path = path;
	dw->err = err;
	dw->errlen = errlen;
	dw->void_type.kind = DWINFO_VOID;
	dw->void_type.name = "void";
	dw->void_type.target = &dw->void_type;
	r = dwarf_init_path(path, NULL, 0, DW_DLC_READ, DW_GROUPNUMBER_ANY,
			    NULL, NULL, &dw->dbg, NULL, 0, NULL, &e);
	if (r == DW_DLV_NO_ENTRY) {
		seterr(dw, "%s has no DWARF (built without -g, or stripped)",
		       path);
		r = -ENODATA;
	} else if (r != DW_DLV_OK) {
		seterr(dw, "%s: cannot read its DWARF: %s", path,
		       e ? dwarf_errmsg(e) : "unknown error");
		if (e)
			dwarf_dealloc_error(NULL, e);
		dw->dbg = NULL;
		r = -ENOEXEC;
	} else {
		r = load_units(dw);
		dwarf_finish(dw->dbg, &e);
		dw->dbg = NULL;
		free(dw->unit_files);
		dw->unit_files = NULL;
		free(dw->fhash); /* only loading adds files */
		dw->fhash = NULL;
		if (r == 0)
			r = resolve(dw);
		if (r == -ENOMEM)
			seterr(dw, "%s: out of memory reading its DWARF", path);
	}
	if (r == 0 && !dw->ntypes && !dw->nrows) {
		seterr(dw, "%s has no DWARF (built without -g, or stripped)",
		       path);
		r = -ENODATA;
	}
	if (!dw->addr_size)
		dw->addr_size = 8;
	dw->path = NULL;
	dw->err = NULL;
	if (r < 0) {
		dwinfo_free(dw);
		errno = -r;
		return NULL;
	}
	return dw;
}

void dwinfo_free(struct dwinfo *dw)
{
	struct dw_chunk *c, *n;

	if (!dw)
		return;
	for (c = dw->arena; c; c = n) {
		n = c->next;
		free(c);
	}
	for (size_t i = 0; i < dw->nextra; i++)
		free(dw->extra[i]);
	free(dw->extra);
	free(dw->types);
	free(dw->names);
	free(dw->rows);
	free(dw->files);
	free(dw->fhash);
	free(dw->unit_files);
	free(dw);
}

/* Queries. */

static const struct dwinfo_type *name_lookup(const struct dwinfo *dw,
					     const char *key)
{
	size_t lo = 0, hi = dw->nnames;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(dw->names[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < dw->nnames && !strcmp(dw->names[lo].key, key))
		return dw->names[lo].type;
	return NULL;
}

static const struct dwinfo_type *complete(struct dwinfo *dw,
					  const struct dwinfo_type *t)
{
	char key[256];
	const struct dwinfo_type *d;

	if (!t->declaration || !t->name)
		return t;
	snprintf(key, sizeof(key), "%s%s", kind_prefix(t->kind), t->name);
	d = name_lookup(dw, key);
	return d ? d : t;
}

static const struct dwinfo_type *pointer_to(struct dwinfo *dw,
					    const struct dwinfo_type *t)
{
	struct dwinfo_type *p, **v;

	for (size_t i = 0; i < dw->ntypes; i++)
		if (dw->types[i]->kind == DWINFO_POINTER &&
		    dw->types[i]->target == t)
			return dw->types[i];
	for (size_t i = 0; i < dw->nextra; i++)
		if (dw->extra[i]->target == t)
			return dw->extra[i];
	p = calloc(1, sizeof(*p));
	v = realloc(dw->extra, (dw->nextra + 1) * sizeof(*v));
	if (!p || !v) {
		free(p);
		if (v)
			dw->extra = v;
		return NULL;
	}
	dw->extra = v;
	p->kind = DWINFO_POINTER;
	p->size = dw->addr_size;
	p->target = t;
	dw->extra[dw->nextra++] = p;
	return p;
}

const struct dwinfo_type *dwinfo_type_find(struct dwinfo *dw, const char *name)
{
	char key[256], canon[256];
	const struct dwinfo_type *t;
	size_t n = 0, stars = 0;
	const char *p;

	/* Collapse blanks; count and drop trailing stars. */
	for (p = name; *p && n + 1 < sizeof(key); p++) {
		if (*p == '*') {
			stars++;
			continue;
		}
		if (stars)
			return NULL;
		if (*p == ' ' || *p == '\t') {
			if (n && key[n - 1] != ' ')
				key[n++] = ' ';
			continue;
		}
		key[n++] = *p;
	}
	while (n && key[n - 1] == ' ')
		n--;
	key[n] = 0;
	if (!n)
		return NULL;
	if (!strcmp(key, "void"))
		t = &dw->void_type;
	else if (!(t = name_lookup(dw, key))) {
		canon_base(key, canon, sizeof(canon));
		t = name_lookup(dw, canon);
		if (t && t->kind != DWINFO_BASE)
			t = NULL;
	}
	if (!t)
		return NULL;
	t = complete(dw, t);
	while (t && stars--)
		t = pointer_to(dw, t);
	return t;
}

const struct dwinfo_type *dwinfo_type_strip(struct dwinfo *dw,
					    const struct dwinfo_type *t)
{
	for (int i = 0; i < 64; i++) {
		if (t->kind != DWINFO_TYPEDEF && t->kind != DWINFO_CONST &&
		    t->kind != DWINFO_VOLATILE)
			break;
		t = t->target;
	}
	return complete(dw, t);
}

uint64_t dwinfo_type_size(struct dwinfo *dw, const struct dwinfo_type *t)
{
	uint64_t n = 1;

	t = dwinfo_type_strip(dw, t);
	if (t->kind == DWINFO_ARRAY) {
		if (t->size)
			return t->size;
		for (uint32_t i = 0; i < t->ndims; i++)
			n *= t->dims[i];
		return n * dwinfo_type_size(dw, t->target);
	}
	if (t->kind == DWINFO_POINTER && !t->size)
		return dw->addr_size;
	return t->size;
}

const char *dwinfo_kind_name(enum dwinfo_kind kind)
{
	static const char *const names[] = {
		[DWINFO_VOID] = "void",	      [DWINFO_BASE] = "base",
		[DWINFO_STRUCT] = "struct",   [DWINFO_UNION] = "union",
		[DWINFO_ENUM] = "enum",	      [DWINFO_TYPEDEF] = "typedef",
		[DWINFO_POINTER] = "pointer", [DWINFO_ARRAY] = "array",
		[DWINFO_CONST] = "const",     [DWINFO_VOLATILE] = "volatile",
		[DWINFO_FUNC] = "function",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* dst = a b c, cut to len (no format: nothing for -Wformat-truncation). */
static void join(char *dst, size_t len, const char *a, const char *b,
		 const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t o = 0;

	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p && o + 1 < len; p++)
			dst[o++] = *p;
	dst[o] = 0;
}

/* The type's spelling as prefix and suffix around a declarator. */
static void spell(const struct dwinfo_type *t, char *pre, size_t plen,
		  char *suf, size_t slen, int depth)
{
	char p2[256], s2[256], dim[32];

	if (depth > 16) {
		join(pre, plen, "...", "", "");
		suf[0] = 0;
		return;
	}
	switch (t->kind) {
	case DWINFO_POINTER:
		spell(t->target, p2, sizeof(p2), s2, sizeof(s2), depth + 1);
		if (t->target->kind == DWINFO_ARRAY ||
		    t->target->kind == DWINFO_FUNC) {
			join(pre, plen, p2, "(*", "");
			join(suf, slen, ")", s2, "");
		} else {
			join(pre, plen, p2,
			     p2[0] && p2[strlen(p2) - 1] == '*' ? "*" : " *",
			     "");
			join(suf, slen, s2, "", "");
		}
		return;
	case DWINFO_ARRAY:
		spell(t->target, p2, sizeof(p2), s2, sizeof(s2), depth + 1);
		join(pre, plen, p2, "", "");
		suf[0] = 0;
		for (uint32_t i = 0; i < t->ndims; i++) {
			char tmp[256];

			if (t->dims[i])
				snprintf(dim, sizeof(dim), "[%llu]",
					 (unsigned long long)t->dims[i]);
			else
				snprintf(dim, sizeof(dim), "[]");
			join(tmp, sizeof(tmp), suf, dim, "");
			join(suf, slen, tmp, "", "");
		}
		join(p2, sizeof(p2), suf, s2, "");
		join(suf, slen, p2, "", "");
		return;
	case DWINFO_FUNC:
		spell(t->target, p2, sizeof(p2), s2, sizeof(s2), depth + 1);
		join(pre, plen, p2, s2, "");
		join(suf, slen, "()", "", "");
		return;
	case DWINFO_CONST:
	case DWINFO_VOLATILE: {
		const char *q = t->kind == DWINFO_CONST ? "const" : "volatile";

		spell(t->target, p2, sizeof(p2), s2, sizeof(s2), depth + 1);
		if (t->target->kind == DWINFO_POINTER)
			join(pre, plen, p2, " ", q);
		else
			join(pre, plen, q, " ", p2);
		join(suf, slen, s2, "", "");
		return;
	}
	default:
		join(pre, plen, kind_prefix(t->kind),
		     t->name ? t->name : "<anonymous>", "");
		suf[0] = 0;
	}
}

const char *dwinfo_type_name(const struct dwinfo_type *t, char *buf, size_t len)
{
	char pre[256], suf[256];

	spell(t, pre, sizeof(pre), suf, sizeof(suf), 0);
	join(buf, len, pre, suf[0] == '[' ? " " : "", suf);
	return buf;
}

static const struct dwinfo_member *member_in(struct dwinfo *dw,
					     const struct dwinfo_type *t,
					     const char *name, uint64_t base,
					     uint64_t *offset, int depth)
{
	t = dwinfo_type_strip(dw, t);
	if ((t->kind != DWINFO_STRUCT && t->kind != DWINFO_UNION) || depth > 8)
		return NULL;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct dwinfo_member *m = &t->members[i];

		if (m->name && !strcmp(m->name, name)) {
			*offset = base + m->offset;
			return m;
		}
	}
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct dwinfo_member *m = &t->members[i], *r;

		if (m->name)
			continue;
		r = member_in(dw, m->type, name, base + m->offset, offset,
			      depth + 1);
		if (r)
			return r;
	}
	return NULL;
}

const struct dwinfo_member *dwinfo_member_find(struct dwinfo *dw,
					       const struct dwinfo_type *t,
					       const char *name,
					       uint64_t *offset)
{
	return member_in(dw, t, name, 0, offset, 0);
}

int dwinfo_line(const struct dwinfo *dw, uint64_t addr, const char **file,
		unsigned int *line)
{
	size_t lo = 0, hi = dw->nrows;
	const struct dw_row *r;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dw->rows[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	r = &dw->rows[lo - 1];
	/* Rows at one address: the last is the one that holds from there. */
	if (r->end || !r->line)
		return -ENOENT;
	*file = dw->files[r->file];
	*line = r->line;
	return 0;
}
