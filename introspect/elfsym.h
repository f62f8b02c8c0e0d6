/*
 * introspect/elfsym.h: an ELF file's symbol table (libelf), for the
 * console's `sym` commands: symbols sorted by address for "what is at
 * this address", and by name for "where is this symbol", both moved by a
 * slide (where the file is loaded minus where it was linked).
 *
 * Pure: no Tcl, no VM.  An elfsym is not modified after elfsym_load but
 * by elfsym_set_slide; the caller serialises that against lookups.
 */
#ifndef INTROSPECT_ELFSYM_H
#define INTROSPECT_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfsym;

struct elfsym_sym {
	const char *name;
	uint64_t addr; /* with the slide */
	uint64_t size; /* st_size; 0 for labels */
	uint64_t end; /* what an address lookup covers: addr + size, or
		       * for size 0 up to the next symbol or section end */
	uint8_t type; /* STT_* */
	uint8_t bind; /* STB_* */
	bool abs; /* SHN_ABS: a value, not an address; name lookup only */
};

/*
 * Read path's symbols (.symtab, else .dynsym).  NULL with errno set and
 * a message naming the file and the problem in err: missing (ENOENT),
 * not ELF or corrupt (ENOEXEC), no symbols (ENODATA).
 */
struct elfsym *elfsym_load(const char *path, char *err, size_t errlen);
void elfsym_free(struct elfsym *es);

/* Whether the file has DWARF (a .debug_info section). */
bool elfsym_has_dwarf(const struct elfsym *es);
/* The symbols by address: i in [0, elfsym_count). */
size_t elfsym_count(const struct elfsym *es);
const struct elfsym_sym *elfsym_at(const struct elfsym *es, size_t i);

/* Move every address by slide (replacing the slide set before). */
void elfsym_set_slide(struct elfsym *es, uint64_t slide);
uint64_t elfsym_slide(const struct elfsym *es);

/* The symbol named name (a global one first), or NULL. */
const struct elfsym_sym *elfsym_by_name(const struct elfsym *es,
					const char *name);
/*
 * The symbol that covers addr: the nearest at or below it whose range
 * (elfsym_sym.end) holds addr, preferring functions and objects among
 * symbols at one address.  NULL when none does.
 */
const struct elfsym_sym *elfsym_by_addr(const struct elfsym *es, uint64_t addr);
/*
 * Names starting with prefix, in name order: *first is the index of the
 * first in elfsym_by_name_at's order, the return value their number.
 */
size_t elfsym_prefix(const struct elfsym *es, const char *prefix,
		     size_t *first);
const struct elfsym_sym *elfsym_by_name_at(const struct elfsym *es, size_t i);

#endif
