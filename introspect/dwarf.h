/*
 * introspect/dwarf.h: an ELF file's DWARF (libdwarf), for the console's
 * `type`, `print`, `walk` and `sym line`: C types by name (structs,
 * unions, enums, typedefs, base types, pointers, arrays) with their
 * members' offsets, sizes and bitfields, and source lines by address.
 *
 * dwinfo_load reads the whole .debug_info and .debug_line once into a
 * model of its own and lets libdwarf go; local types of functions are
 * left out.  Addresses are the file's own (no slide).  Type objects live
 * as long as their dwinfo.
 *
 * Pure: no Tcl, no VM.  A dwinfo is used by one thread at a time
 * (dwinfo_type_find may add a pointer type to it).
 */
#ifndef INTROSPECT_DWARF_H
#define INTROSPECT_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dwinfo;

enum dwinfo_kind {
	DWINFO_VOID,
	DWINFO_BASE,
	DWINFO_STRUCT,
	DWINFO_UNION,
	DWINFO_ENUM,
	DWINFO_TYPEDEF,
	DWINFO_POINTER,
	DWINFO_ARRAY,
	DWINFO_CONST,
	DWINFO_VOLATILE,
	DWINFO_FUNC,
};

/* What a base type's bytes mean. */
enum dwinfo_enc {
	DWINFO_ENC_SIGNED,
	DWINFO_ENC_UNSIGNED,
	DWINFO_ENC_FLOAT,
	DWINFO_ENC_BOOL,
};

struct dwinfo_type;

struct dwinfo_member {
	const char *name; /* NULL: an anonymous struct or union */
	uint64_t offset; /* bytes from the start of the aggregate */
	const struct dwinfo_type *type;
	uint32_t bit_size; /* 0: not a bitfield */
	uint32_t bit_offset; /* bitfield: bits from offset, LSB first */
	uint64_t ref_; /* dwarf.c's, while loading */
};

struct dwinfo_enumerator {
	const char *name;
	int64_t value;
};

struct dwinfo_type {
	enum dwinfo_kind kind;
	const char *name; /* NULL when anonymous; no "struct " */
	uint64_t size; /* DW_AT_byte_size (0: none, see dwinfo_type_size) */
	bool declaration; /* an incomplete struct/union/enum */
	enum dwinfo_enc enc; /* base types and enums */
	bool is_char; /* a character base type (char arrays are strings) */
	/* typedef, pointer, const, volatile, array element, enum's type,
	 * function's return: never NULL (the void type) */
	const struct dwinfo_type *target;
	struct dwinfo_member *members; /* struct, union */
	uint32_t nmembers;
	struct dwinfo_enumerator *enums; /* enum */
	uint32_t nenums;
	uint64_t *dims; /* array: element counts, outermost first; 0: none
			 * given (a flexible array) */
	uint32_t ndims;
	uint64_t off_; /* dwarf.c's: the DIE's offset */
	uint64_t ref_;
};

/*
 * Read path's DWARF.  NULL with errno set and a message naming the file
 * in err: ENOENT (missing), ENODATA (no DWARF), ENOEXEC (corrupt).
 */
struct dwinfo *dwinfo_load(const char *path, char *err, size_t errlen);
void dwinfo_free(struct dwinfo *dw);

/*
 * A type by its C name: "struct task", "union u", "enum e", a typedef,
 * a base type ("unsigned long" finds gcc's "long unsigned int"), "void",
 * each with trailing "*"s for pointers to it.  A struct that is only
 * declared somewhere is found as its definition.  NULL when none.
 */
const struct dwinfo_type *dwinfo_type_find(struct dwinfo *dw, const char *name);
/* Without typedefs, const and volatile; a declaration as its definition. */
const struct dwinfo_type *dwinfo_type_strip(struct dwinfo *dw,
					    const struct dwinfo_type *t);
/* Bytes an object of type t takes (arrays: all elements). */
uint64_t dwinfo_type_size(struct dwinfo *dw, const struct dwinfo_type *t);
/* t's C spelling into buf ("struct task *", "char [16]", "int"). */
const char *dwinfo_type_name(const struct dwinfo_type *t, char *buf,
			     size_t len);
/* "struct", "union", "enum", "typedef", "base", "pointer", "array"... */
const char *dwinfo_kind_name(enum dwinfo_kind kind);
/*
 * The member named name of struct/union t (which is stripped first),
 * looking into anonymous members; its offset from t's start in *offset.
 */
const struct dwinfo_member *dwinfo_member_find(struct dwinfo *dw,
					       const struct dwinfo_type *t,
					       const char *name,
					       uint64_t *offset);

/*
 * The source line of addr (a file address): 0 with *file (valid while
 * dw is) and *line, or -ENOENT.
 */
int dwinfo_line(const struct dwinfo *dw, uint64_t addr, const char **file,
		unsigned int *line);

#endif
