/*
 * introspect/cmd_type.c: `type`, `print` and `walk` - C types from the
 * loaded files' DWARF (cmd_sym.h), guest memory read as those types and
 * turned into Tcl values, and linked lists followed through a pointer
 * member or an embedded struct list_head.
 *
 * Values: a struct or union is a dict member -> value (the members of an
 * anonymous struct or union are the parent's), an array a list (a char
 * array a string up to its NUL), a pointer a hex address (with -depth N
 * > 0 a dict {addr A value V}), an enum its enumerator's name (a number
 * when none matches), a base type a number.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/cmd_sym.h"

/* The largest object print reads at once. */
#define PRINT_MAX (1u << 20)
/* What a followed char * shows at most. */
#define PRINT_STR_MAX 256

void isp_types_free(struct isp *isp)
{
	/* Types live with their files' DWARF (cmd_sym.c). */
	isp->types = NULL;
}

/* A type by name over the loaded files; NOSYM when none has it. */
static int find_type(struct isp *isp, Tcl_Interp *interp, Tcl_Obj *name,
		     struct dwinfo **dwp, const struct dwinfo_type **tp)
{
	struct dwinfo *dws[ISP_SYM_MAXFILES];
	int n;

	if (isp_sym_dwarfs(isp, interp, dws, &n) != TCL_OK)
		return TCL_ERROR;
	for (int i = 0; i < n; i++) {
		const struct dwinfo_type *t =
			dwinfo_type_find(dws[i], Tcl_GetString(name));

		if (t) {
			*dwp = dws[i];
			*tp = t;
			return TCL_OK;
		}
	}
	return isp_error(interp, "NOSYM",
			 "unknown type \"%s\" (write struct, union or enum "
			 "tags: \"struct task\")",
			 Tcl_GetString(name));
}

static Tcl_Obj *type_name_obj(const struct dwinfo_type *t)
{
	char buf[512];

	return Tcl_NewStringObj(dwinfo_type_name(t, buf, sizeof(buf)), -1);
}

static void dict_put(Tcl_Obj *d, const char *key, Tcl_Obj *v)
{
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj(key, -1), v);
}

/* Member paths: a.b[2].c (also a->b). */

/* Where a path leads: a type (dim: array dimensions already indexed) at
 * an offset from the start, or with print at an address. */
struct place {
	const struct dwinfo_type *type;
	uint32_t dim;
	uint64_t addr; /* offset for type offsetof, address for print */
	const struct dwinfo_member *bits; /* a bitfield member */
};

/* Reading memory for print and walk. */
struct reader {
	struct isp *isp;
	Tcl_Interp *interp;
	int cpu;
	bool phys;
	struct dwinfo *dw;
};

static int read_ptr(struct reader *rd, uint64_t addr, uint64_t size,
		    uint64_t *out)
{
	uint64_t v = 0;

	if (size > sizeof(v) || !size)
		size = sizeof(v);
	if (isp_mem_read_all(rd->isp, rd->interp, rd->cpu, rd->phys, addr, &v,
			     size) != TCL_OK)
		return TCL_ERROR;
	*out = v;
	return TCL_OK;
}

/* Bytes the object at p takes. */
static uint64_t place_size(struct dwinfo *dw, const struct place *p)
{
	const struct dwinfo_type *t = dwinfo_type_strip(dw, p->type);
	uint64_t n = 1;

	if (t->kind != DWINFO_ARRAY || !p->dim)
		return dwinfo_type_size(dw, p->type);
	for (uint32_t i = p->dim; i < t->ndims; i++)
		n *= t->dims[i];
	return n * dwinfo_type_size(dw, t->target);
}

static int path_error(Tcl_Interp *interp, const char *path, const char *fmt,
		      const char *what, const struct place *p)
{
	char tn[256];
	Tcl_Obj *msg;

	dwinfo_type_name(p->type, tn, sizeof(tn));
	msg = Tcl_ObjPrintf("bad member path \"%s\": ", path);
	Tcl_AppendPrintfToObj(msg, fmt, what, tn);
	Tcl_SetObjResult(interp, msg);
	Tcl_SetErrorCode(interp, "VITRO", "VALUE", (char *)NULL);
	return TCL_ERROR;
}

/*
 * Follow path from p.  With rd, pointers on the way are followed (read
 * from the guest); without, they are an error.
 */
static int path_walk(struct dwinfo *dw, Tcl_Interp *interp, const char *path,
		     struct place *p, struct reader *rd)
{
	const char *s = path;
	char name[256];

	while (*s) {
		const struct dwinfo_type *t = dwinfo_type_strip(dw, p->type);

		if (p->bits)
			return path_error(interp, path, "%s%s is a bitfield",
					  "", p);
		if (*s == '[') {
			char *end;
			unsigned long long idx = strtoull(s + 1, &end, 0);

			if (end == s + 1 || *end != ']')
				return path_error(interp, path,
						  "expected [INDEX] at "
						  "\"%s\" (in %s)",
						  s, p);
			s = end + 1;
			if (t->kind == DWINFO_ARRAY) {
				uint64_t n = t->ndims ? t->dims[p->dim] : 0;

				if (n && idx >= n) {
					snprintf(name, sizeof(name), "%llu",
						 idx);
					return path_error(interp, path,
							  "index %s is out of "
							  "range for %s",
							  name, p);
				}
				if (p->dim + 1 < t->ndims) {
					p->dim++;
					p->addr += idx * place_size(dw, p);
				} else {
					p->type = t->target;
					p->dim = 0;
					p->addr += idx * dwinfo_type_size(
								 dw, t->target);
				}
				continue;
			}
			if (t->kind == DWINFO_POINTER && rd) {
				uint64_t v;

				if (read_ptr(rd, p->addr, t->size, &v) !=
				    TCL_OK)
					return TCL_ERROR;
				p->type = t->target;
				p->dim = 0;
				p->addr = v +
					  idx * dwinfo_type_size(dw, t->target);
				continue;
			}
			return path_error(interp, path,
					  "%s%s cannot be indexed", "", p);
		}
		if (*s == '.')
			s++;
		else if (s[0] == '-' && s[1] == '>')
			s += 2;
		else if (s != path)
			return path_error(interp, path,
					  "expected . or [ at \"%s\" (in %s)",
					  s, p);
		size_t n = strcspn(s, ".[-");

		if (!n || n >= sizeof(name))
			return path_error(interp, path,
					  "expected a member name at \"%s\" "
					  "(in %s)",
					  s, p);
		memcpy(name, s, n);
		name[n] = 0;
		s += n;
		if (t->kind == DWINFO_POINTER) {
			uint64_t v;

			if (!rd)
				return path_error(interp, path,
						  "%s goes through a pointer "
						  "(%s)",
						  name, p);
			if (read_ptr(rd, p->addr, t->size, &v) != TCL_OK)
				return TCL_ERROR;
			p->type = t->target;
			p->dim = 0;
			p->addr = v;
			t = dwinfo_type_strip(dw, p->type);
		}
		if (t->kind != DWINFO_STRUCT && t->kind != DWINFO_UNION)
			return path_error(interp, path,
					  "%s: %s is not a struct or union",
					  name, p);
		uint64_t off;
		const struct dwinfo_member *m =
			dwinfo_member_find(dw, t, name, &off);

		if (!m)
			return path_error(interp, path, "no member %s in %s",
					  name, p);
		p->type = m->type;
		p->dim = 0;
		p->addr += off;
		p->bits = m->bit_size ? m : NULL;
	}
	return TCL_OK;
}

/* type ... */

static Tcl_Obj *members_obj(struct dwinfo *dw, const struct dwinfo_type *t)
{
	Tcl_Obj *list = Tcl_NewObj();

	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct dwinfo_member *m = &t->members[i];
		Tcl_Obj *d = Tcl_NewDictObj();

		dict_put(d, "name",
			 Tcl_NewStringObj(m->name ? m->name : "", -1));
		dict_put(d, "offset",
			 Tcl_NewWideIntObj((Tcl_WideInt)m->offset));
		dict_put(d, "size",
			 Tcl_NewWideIntObj(
				 (Tcl_WideInt)dwinfo_type_size(dw, m->type)));
		dict_put(d, "type", type_name_obj(m->type));
		if (m->bit_size) {
			dict_put(d, "bits", Tcl_NewIntObj((int)m->bit_size));
			dict_put(d, "bitoffset",
				 Tcl_NewIntObj((int)m->bit_offset));
		}
		Tcl_ListObjAppendElement(NULL, list, d);
	}
	return list;
}

static int type_show(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	const struct dwinfo_type *t, *s;
	struct dwinfo *dw;
	Tcl_Obj *d;

	if (objc != 2)
		return isp_usage(interp, objv, "TYPE");
	if (find_type(isp, interp, objv[1], &dw, &t) != TCL_OK)
		return TCL_ERROR;
	s = dwinfo_type_strip(dw, t);
	d = Tcl_NewDictObj();
	dict_put(d, "name", type_name_obj(t));
	dict_put(d, "kind", Tcl_NewStringObj(dwinfo_kind_name(t->kind), -1));
	dict_put(d, "size",
		 Tcl_NewWideIntObj((Tcl_WideInt)dwinfo_type_size(dw, t)));
	if (t->kind == DWINFO_TYPEDEF || t->kind == DWINFO_POINTER ||
	    t->kind == DWINFO_CONST || t->kind == DWINFO_VOLATILE ||
	    t->kind == DWINFO_ARRAY)
		dict_put(d, "type", type_name_obj(t->target));
	if (s->declaration)
		dict_put(d, "incomplete", Tcl_NewIntObj(1));
	switch (s->kind) {
	case DWINFO_STRUCT:
	case DWINFO_UNION:
		dict_put(d, "members", members_obj(dw, s));
		break;
	case DWINFO_ENUM: {
		Tcl_Obj *v = Tcl_NewDictObj();

		for (uint32_t i = 0; i < s->nenums; i++)
			dict_put(v, s->enums[i].name ? s->enums[i].name : "",
				 Tcl_NewWideIntObj(s->enums[i].value));
		dict_put(d, "values", v);
		break;
	}
	case DWINFO_ARRAY: {
		Tcl_Obj *c = Tcl_NewObj();

		for (uint32_t i = 0; i < s->ndims; i++)
			Tcl_ListObjAppendElement(
				NULL, c,
				Tcl_NewWideIntObj((Tcl_WideInt)s->dims[i]));
		dict_put(d, "count", c);
		break;
	}
	case DWINFO_BASE: {
		static const char *const enc[] = { "signed", "unsigned",
						   "float", "bool" };

		dict_put(d, "encoding", Tcl_NewStringObj(enc[s->enc], -1));
		break;
	}
	default:
		break;
	}
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

static int type_size(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	const struct dwinfo_type *t;
	struct dwinfo *dw;

	if (objc != 2)
		return isp_usage(interp, objv, "TYPE");
	if (find_type(isp, interp, objv[1], &dw, &t) != TCL_OK)
		return TCL_ERROR;
	Tcl_SetObjResult(interp, Tcl_NewWideIntObj(
					 (Tcl_WideInt)dwinfo_type_size(dw, t)));
	return TCL_OK;
}

static int type_offsetof(struct isp *isp, Tcl_Interp *interp, int objc,
			 Tcl_Obj *const objv[])
{
	struct place p = { 0 };
	struct dwinfo *dw;

	if (objc != 3)
		return isp_usage(interp, objv, "TYPE MEMBER.PATH");
	if (find_type(isp, interp, objv[1], &dw, &p.type) != TCL_OK ||
	    path_walk(dw, interp, Tcl_GetString(objv[2]), &p, NULL) != TCL_OK)
		return TCL_ERROR;
	Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)p.addr));
	return TCL_OK;
}

/* Values. */

static uint64_t load_le(const uint8_t *b, uint64_t size)
{
	uint64_t v = 0;

	for (uint64_t i = 0; i < size && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static int64_t sign_extend(uint64_t v, unsigned int bits)
{
	if (bits >= 64)
		return (int64_t)v;
	v &= (1ull << bits) - 1;
	if (v & (1ull << (bits - 1)))
		v |= ~0ull << bits;
	return (int64_t)v;
}

static Tcl_Obj *int_obj(uint64_t v, bool is_signed, unsigned int bits)
{
	char buf[32];

	if (is_signed)
		return Tcl_NewWideIntObj(sign_extend(v, bits));
	if (v <= INT64_MAX)
		return Tcl_NewWideIntObj((Tcl_WideInt)v);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return Tcl_NewStringObj(buf, -1);
}

/* Bytes as a string up to the first NUL, each byte one character. */
static Tcl_Obj *str_obj(const uint8_t *b, size_t n)
{
	Tcl_Obj *o = Tcl_NewObj();
	Tcl_UniChar c;

	for (size_t i = 0; i < n && b[i]; i++) {
		c = b[i];
		Tcl_AppendUnicodeToObj(o, &c, 1);
	}
	return o;
}

static Tcl_Obj *value_obj(struct reader *rd, const struct dwinfo_type *t,
			  uint32_t dim, const uint8_t *b, uint64_t size,
			  int depth);

static Tcl_Obj *enum_obj(const struct dwinfo_type *t, uint64_t raw,
			 unsigned int bits)
{
	int64_t v = t->enc == DWINFO_ENC_SIGNED ? sign_extend(raw, bits) :
						  (int64_t)raw;

	for (uint32_t i = 0; i < t->nenums; i++)
		if (t->enums[i].value == v && t->enums[i].name)
			return Tcl_NewStringObj(t->enums[i].name, -1);
	return int_obj(raw, t->enc == DWINFO_ENC_SIGNED, bits);
}

static Tcl_Obj *bitfield_obj(struct dwinfo *dw, const struct dwinfo_member *m,
			     const uint8_t *b, uint64_t size)
{
	const struct dwinfo_type *t = dwinfo_type_strip(dw, m->type);
	uint64_t need = (m->bit_offset + m->bit_size + 7) / 8, v = 0;

	/* b is at the member's byte offset; size bytes remain. */
	if (need > size)
		need = size;
	for (uint64_t i = 0; i < need && i < 9; i++) {
		uint64_t byte = b[i];

		if (8 * i >= m->bit_offset)
			v |= byte << (8 * i - m->bit_offset);
		else
			v |= byte >> (m->bit_offset - 8 * i);
	}
	if (m->bit_size < 64)
		v &= (1ull << m->bit_size) - 1;
	if (t->kind == DWINFO_ENUM)
		return enum_obj(t, v, m->bit_size);
	return int_obj(v, t->kind == DWINFO_BASE && t->enc == DWINFO_ENC_SIGNED,
		       m->bit_size);
}

static void members_into(struct reader *rd, const struct dwinfo_type *t,
			 const uint8_t *b, uint64_t size, int depth,
			 Tcl_Obj *dict)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct dwinfo_member *m = &t->members[i];
		const struct dwinfo_type *mt =
			dwinfo_type_strip(rd->dw, m->type);
		uint64_t msize = dwinfo_type_size(rd->dw, m->type);

		if (m->offset > size)
			continue;
		if (!m->name) {
			if (mt->kind == DWINFO_STRUCT ||
			    mt->kind == DWINFO_UNION)
				members_into(rd, mt, b + m->offset,
					     size - m->offset, depth, dict);
			continue;
		}
		if (m->bit_size) {
			dict_put(dict, m->name,
				 bitfield_obj(rd->dw, m, b + m->offset,
					      size - m->offset));
			continue;
		}
		if (msize > size - m->offset)
			msize = size - m->offset;
		dict_put(
			dict, m->name,
			value_obj(rd, m->type, 0, b + m->offset, msize, depth));
	}
}

/* The object at addr with type t, followed from a pointer. */
static Tcl_Obj *pointee_obj(struct reader *rd, const struct dwinfo_type *ptr,
			    uint64_t addr, int depth)
{
	const struct dwinfo_type *t = dwinfo_type_strip(rd->dw, ptr->target);
	Tcl_Obj *d = Tcl_NewDictObj();
	uint64_t size;
	uint8_t *buf;
	ssize_t n;

	dict_put(d, "addr", isp_hex(addr));
	if (t->kind == DWINFO_BASE && t->is_char && t->size == 1) {
		uint8_t s[PRINT_STR_MAX];

		n = isp_mem_read(rd->isp, rd->cpu, rd->phys, addr, s,
				 sizeof(s));
		if (n > 0) {
			dict_put(d, "value", str_obj(s, (size_t)n));
			return d;
		}
	}
	size = dwinfo_type_size(rd->dw, t);
	if (!size || size > PRINT_MAX || t->kind == DWINFO_FUNC)
		return d;
	buf = malloc(size);
	if (!buf)
		return d;
	if (isp_mem_read_all(rd->isp, rd->interp, rd->cpu, rd->phys, addr, buf,
			     size) == TCL_OK)
		dict_put(d, "value",
			 value_obj(rd, ptr->target, 0, buf, size, depth - 1));
	else
		dict_put(d, "error", Tcl_GetObjResult(rd->interp));
	Tcl_ResetResult(rd->interp);
	free(buf);
	return d;
}

static Tcl_Obj *value_obj(struct reader *rd, const struct dwinfo_type *t,
			  uint32_t dim, const uint8_t *b, uint64_t size,
			  int depth)
{
	struct place p = { .type = t, .dim = dim };
	uint64_t v;

	t = dwinfo_type_strip(rd->dw, t);
	switch (t->kind) {
	case DWINFO_BASE:
		if (t->size > size)
			return Tcl_NewObj();
		if (t->enc == DWINFO_ENC_FLOAT) {
			if (t->size == 4) {
				float f;

				memcpy(&f, b, 4);
				return Tcl_NewDoubleObj(f);
			}
			if (t->size == 8) {
				double f;

				memcpy(&f, b, 8);
				return Tcl_NewDoubleObj(f);
			}
			if (t->size == 16 || t->size == 10) {
				long double f = 0;

				memcpy(&f, b,
				       t->size < sizeof(f) ? t->size :
							     sizeof(f));
				return Tcl_NewDoubleObj((double)f);
			}
		}
		if (t->size > 8) {
			Tcl_Obj *o = Tcl_NewStringObj("0x", -1);

			for (uint64_t i = t->size; i-- > 0;)
				Tcl_AppendPrintfToObj(o, "%02x", b[i]);
			return o;
		}
		return int_obj(load_le(b, t->size), t->enc == DWINFO_ENC_SIGNED,
			       (unsigned int)t->size * 8);
	case DWINFO_ENUM:
		if (!t->size || t->size > size)
			return Tcl_NewObj();
		return enum_obj(t, load_le(b, t->size),
				(unsigned int)t->size * 8);
	case DWINFO_POINTER:
		if (t->size > size)
			return Tcl_NewObj();
		v = load_le(b, t->size);
		if (depth > 0 && v) {
			const struct dwinfo_type *to =
				dwinfo_type_strip(rd->dw, t->target);

			if (to->kind != DWINFO_VOID && to->kind != DWINFO_FUNC)
				return pointee_obj(rd, t, v, depth);
		}
		return isp_hex(v);
	case DWINFO_STRUCT:
	case DWINFO_UNION: {
		Tcl_Obj *d = Tcl_NewDictObj();

		members_into(rd, t, b, size, depth, d);
		return d;
	}
	case DWINFO_ARRAY: {
		Tcl_Obj *list = Tcl_NewObj();
		uint64_t n = t->ndims > dim ? t->dims[dim] : 0, esize;
		const struct dwinfo_type *et =
			dwinfo_type_strip(rd->dw, t->target);
		bool last = dim + 1 >= t->ndims;

		if (last && et->kind == DWINFO_BASE && et->is_char &&
		    et->size == 1)
			return str_obj(b, n < size ? n : size);
		p.dim = dim + 1;
		esize = last ? dwinfo_type_size(rd->dw, t->target) :
			       place_size(rd->dw, &p);
		for (uint64_t i = 0; i < n && esize && (i + 1) * esize <= size;
		     i++)
			Tcl_ListObjAppendElement(
				NULL, list,
				last ? value_obj(rd, t->target, 0,
						 b + i * esize, esize, depth) :
				       value_obj(rd, t, dim + 1, b + i * esize,
						 esize, depth));
		return list;
	}
	default:
		return Tcl_NewObj();
	}
}

/* The value of the object at p (a bitfield read with its container). */
static int place_value(struct reader *rd, const struct place *p, int depth,
		       Tcl_Obj **out)
{
	uint64_t size =
		p->bits ? (p->bits->bit_offset + p->bits->bit_size + 7) / 8 :
			  place_size(rd->dw, p);
	uint8_t *buf;

	if (size > PRINT_MAX)
		return isp_error(rd->interp, "VALUE",
				 "the object is %" PRIu64 " bytes, more than "
				 "print shows (%u): give a MEMBER.PATH",
				 size, PRINT_MAX);
	if (!size) {
		*out = Tcl_NewObj();
		return TCL_OK;
	}
	buf = malloc(size);
	if (!buf)
		return isp_errno(rd->interp, -ENOMEM, "print");
	if (isp_mem_read_all(rd->isp, rd->interp, rd->cpu, rd->phys, p->addr,
			     buf, size) != TCL_OK) {
		free(buf);
		return TCL_ERROR;
	}
	*out = p->bits ? bitfield_obj(rd->dw, p->bits, buf, size) :
			 value_obj(rd, p->type, p->dim, buf, size, depth);
	free(buf);
	return TCL_OK;
}

/* print ?-cpu N? ?-phys? ?-depth N? -type TYPE ADDR ?MEMBER.PATH? */
static int print_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	static const char usage[] =
		"?-cpu N? ?-phys? ?-depth N? -type TYPE ADDR ?MEMBER.PATH?";
	struct reader rd = { .isp = isp, .interp = interp, .cpu = isp->cpu };
	struct place p = { 0 };
	Tcl_Obj *type = NULL, *v;
	int depth = 0, i = 1;
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &rd.cpu },
		{ "-phys", ISP_OPT_FLAG, &rd.phys },
		{ "-depth", ISP_OPT_INT, &depth },
		{ "-type", ISP_OPT_OBJ, &type },
		{ 0 },
	};

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (!type || i >= objc || objc - i > 2)
		return isp_usage(interp, objv, usage);
	if (find_type(isp, interp, type, &rd.dw, &p.type) != TCL_OK ||
	    isp_get_addr(isp, interp, objv[i], &p.addr) != TCL_OK)
		return TCL_ERROR;
	if (i + 1 < objc && path_walk(rd.dw, interp, Tcl_GetString(objv[i + 1]),
				      &p, &rd) != TCL_OK)
		return TCL_ERROR;
	if (place_value(&rd, &p, depth, &v) != TCL_OK)
		return TCL_ERROR;
	Tcl_SetObjResult(interp, v);
	return TCL_OK;
}

/* walk */

/* walk ?-cpu N? ?-phys? ?-max N? ?-depth N? -type TYPE -member NEXT ADDR
 * ?-print? */
static int walk_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	static const char usage[] = "?-cpu N? ?-phys? ?-max N? -type TYPE "
				    "-member NEXT ADDR ?-print?";
	struct reader rd = { .isp = isp, .interp = interp, .cpu = isp->cpu };
	const struct dwinfo_type *t, *mt;
	const struct dwinfo_member *m, *nm = NULL;
	Tcl_Obj *type = NULL, *list;
	const char *member = NULL;
	uint64_t start, moff, noff = 0, cur;
	bool print = false;
	int max = 10000, depth = 0, i = 1, count = 0;
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &rd.cpu },
		{ "-phys", ISP_OPT_FLAG, &rd.phys },
		{ "-max", ISP_OPT_INT, &max },
		{ "-depth", ISP_OPT_INT, &depth },
		{ "-type", ISP_OPT_OBJ, &type },
		{ "-member", ISP_OPT_STR, &member },
		{ "-print", ISP_OPT_FLAG, &print },
		{ 0 },
	};

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i >= objc)
		return isp_usage(interp, objv, usage);
	if (isp_get_addr(isp, interp, objv[i++], &start) != TCL_OK)
		return TCL_ERROR;
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc || !type || !member)
		return isp_usage(interp, objv, usage);
	if (max < 0)
		return isp_error(interp, "VALUE", "-max %d: expected >= 0",
				 max);
	if (find_type(isp, interp, type, &rd.dw, &t) != TCL_OK)
		return TCL_ERROR;
	t = dwinfo_type_strip(rd.dw, t);
	if (t->kind != DWINFO_STRUCT && t->kind != DWINFO_UNION)
		return isp_error(interp, "VALUE",
				 "walk: %s is not a struct or union",
				 Tcl_GetString(type));
	m = dwinfo_member_find(rd.dw, t, member, &moff);
	if (!m)
		return isp_error(interp, "VALUE",
				 "bad member path \"%s\": %s has no member %s",
				 member, Tcl_GetString(type), member);
	mt = dwinfo_type_strip(rd.dw, m->type);
	if (mt->kind == DWINFO_STRUCT)
		nm = dwinfo_member_find(rd.dw, mt, "next", &noff);
	if (nm && dwinfo_type_strip(rd.dw, nm->type)->kind != DWINFO_POINTER)
		nm = NULL;
	if (mt->kind != DWINFO_POINTER && !nm)
		return isp_error(interp, "VALUE",
				 "walk: member %s is neither a pointer nor a "
				 "list head (a struct with a next pointer)",
				 member);
	list = Tcl_NewObj();
	Tcl_IncrRefCount(list);
	if (nm) {
		/* start is the list's head; its entries are embedded at
		 * moff in their elements (container_of). */
		uint64_t psize = dwinfo_type_strip(rd.dw, nm->type)->size;
		uint64_t first = 0, e;

		if (read_ptr(&rd, start + noff, psize, &cur) != TCL_OK)
			goto fail;
		while (cur && cur != start && cur != first && count < max) {
			if (!first)
				first = cur;
			e = cur - moff;
			Tcl_ListObjAppendElement(NULL, list, isp_hex(e));
			count++;
			if (read_ptr(&rd, cur + noff, psize, &cur) != TCL_OK)
				goto fail;
		}
	} else {
		cur = start;
		while (cur && count < max) {
			Tcl_ListObjAppendElement(NULL, list, isp_hex(cur));
			count++;
			if (read_ptr(&rd, cur + moff, mt->size, &cur) != TCL_OK)
				goto fail;
			if (cur == start)
				break;
		}
	}
	if (print) {
		Tcl_Obj *out = Tcl_NewObj(), **elems;
		int n;

		Tcl_ListObjGetElements(NULL, list, &n, &elems);
		for (int k = 0; k < n; k++) {
			struct place p = { .type = t };
			Tcl_Obj *v;

			isp_get_u64(NULL, elems[k], &p.addr);
			if (place_value(&rd, &p, depth, &v) != TCL_OK) {
				Tcl_DecrRefCount(out);
				goto fail;
			}
			Tcl_ListObjAppendElement(NULL, out, v);
		}
		Tcl_DecrRefCount(list);
		Tcl_SetObjResult(interp, out);
		return TCL_OK;
	}
	Tcl_SetObjResult(interp, list);
	Tcl_DecrRefCount(list);
	return TCL_OK;
fail:
	Tcl_DecrRefCount(list);
	return TCL_ERROR;
}

static const struct isp_cmd type_cmds[] = {
	{ "show", type_show, "TYPE",
	  "A C type from the loaded DWARF (\"struct task\", \"union u\", "
	  "\"enum e\", a typedef, \"unsigned long\", \"struct task *\"): "
	  "{name kind size ...} with, for a struct or union, members (a "
	  "list of {name offset size type ?bits bitoffset?}), for an enum "
	  "values (name -> value), for an array count, for a typedef or "
	  "pointer type (what it names or points to).",
	  0 },
	{ "size", type_size, "TYPE", "sizeof(TYPE) in bytes.", 0 },
	{ "offsetof", type_offsetof, "TYPE MEMBER.PATH",
	  "The byte offset of a member (a.b[2].c) from the start of TYPE.", 0 },
	{ 0 },
};

const struct isp_group isp_group_type = {
	.name = "type",
	.summary = "C types from DWARF: layouts, sizes, offsets",
	.cmds = type_cmds,
};

static const struct isp_cmd print_cmds[] = {
	{ "", print_cmd,
	  "?-cpu N? ?-phys? ?-depth N? -type TYPE ADDR ?MEMBER.PATH?",
	  "Read the TYPE at ADDR (virtual through vCPU N's paging, or with "
	  "-phys guest-physical) and return it as a Tcl value: a struct as "
	  "a dict member -> value, an array as a list (a char array as a "
	  "string), a pointer as its address (with -depth N > 0 followed: "
	  "{addr A value V}), an enum as its name.  MEMBER.PATH (a.b[2].c, "
	  "through pointers too) picks a part.",
	  ISP_VM },
	{ 0 },
};

const struct isp_group isp_group_print = {
	.name = "print",
	.summary = "guest memory as a C type (a Tcl value)",
	.cmds = print_cmds,
};

static const struct isp_cmd walk_cmds[] = {
	{ "", walk_cmd,
	  "?-cpu N? ?-phys? ?-max N? ?-depth N? -type TYPE -member NEXT ADDR "
	  "?-print?",
	  "Follow a linked list of TYPE: with a pointer member NEXT from "
	  "the element at ADDR until NULL or ADDR again; with a struct "
	  "list_head member NEXT from the list head at ADDR through .next "
	  "until the head again, each element found from its entry "
	  "(container_of).  At most -max elements (10000).  Returns their "
	  "addresses, or with -print their values as print gives them.",
	  ISP_VM },
	{ 0 },
};

const struct isp_group isp_group_walk = {
	.name = "walk",
	.summary = "follow a linked list in guest memory",
	.cmds = walk_cmds,
};
