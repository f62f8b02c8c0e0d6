/*
 * introspect/elfsym.c: an ELF file's symbols with libelf (elfsym.h).  The
 * file is read once in elfsym_load and closed; names are copied into one
 * block the elfsym owns.
 *
 * Threads: libelf's elf_version is process-wide and idempotent; an
 * elfsym is used by one thread at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "introspect/elfsym.h"

struct elfsym {
	struct elfsym_sym *syms; /* by address */
	size_t nsyms;
	struct elfsym_sym **by_name; /* the same, by name */
	char *names; /* every name, NUL-separated */
	uint64_t slide;
	bool dwarf; /* has .debug_info */
};

/* A section's range, for the end of a size-0 symbol. */
struct sec_range {
	uint64_t addr;
	uint64_t end;
	bool alloc;
};

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Functions and objects before labels; globals before locals. */
static int sym_rank(const struct elfsym_sym *s)
{
	int r = 0;

	if (s->type != STT_FUNC && s->type != STT_OBJECT &&
	    s->type != STT_GNU_IFUNC)
		r += 2;
	if (s->bind == STB_LOCAL)
		r += 1;
	return r;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct elfsym_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (sym_rank(x) != sym_rank(y))
		return sym_rank(x) - sym_rank(y);
	return strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b)
{
	const struct elfsym_sym *x = *(struct elfsym_sym *const *)a;
	const struct elfsym_sym *y = *(struct elfsym_sym *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->bind != y->bind)
		return x->bind == STB_LOCAL ? 1 : y->bind == STB_LOCAL ? -1 : 0;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool sym_wanted(const GElf_Sym *s, const char *name)
{
	int type = GELF_ST_TYPE(s->st_info);

	if (!name || !*name || s->st_shndx == SHN_UNDEF)
		return false;
	return type == STT_NOTYPE || type == STT_OBJECT || type == STT_FUNC ||
	       type == STT_GNU_IFUNC;
}

/* Ends of size-0 symbols: the next symbol's address, or their section's
 * end. */
static void set_ends(struct elfsym *es, const struct sec_range *secs,
		     size_t nsecs, const uint16_t *shndx)
{
	for (size_t i = 0; i < es->nsyms; i++) {
		struct elfsym_sym *s = &es->syms[i];
		uint64_t end = UINT64_MAX;
		size_t j;

		if (s->size) {
			s->end = s->addr + s->size;
			continue;
		}
		for (j = i + 1; j < es->nsyms; j++)
			if (es->syms[j].addr > s->addr && !es->syms[j].abs)
				break;
		if (j < es->nsyms)
			end = es->syms[j].addr;
		if (shndx[i] < nsecs && secs[shndx[i]].alloc &&
		    secs[shndx[i]].end > s->addr && secs[shndx[i]].end < end)
			end = secs[shndx[i]].end;
		s->end = end == UINT64_MAX ? s->addr + 1 : end;
	}
}

/* The symbols of one SHT_SYMTAB / SHT_DYNSYM section into es. */
static int read_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		       struct elfsym *es, uint16_t **shndx, const char *path,
		       char *err, size_t errlen)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n, namelen = 0, k = 0, off = 0;

	if (!data || !sh->sh_entsize) {
		seterr(err, errlen,
		       "%s: corrupt ELF: cannot read its symbol "
		       "table (%s)",
		       path, elf_errmsg(-1));
		return -ENOEXEC;
	}
	n = sh->sh_size / sh->sh_entsize;
	/* Two passes: count and size the names, then copy. */
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(data, (int)i, &s))
			break;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!sym_wanted(&s, name))
			continue;
		k++;
		namelen += strlen(name) + 1;
	}
	if (!k) {
		seterr(err, errlen, "%s: no symbols (stripped?)", path);
		return -ENODATA;
	}
	es->syms = calloc(k, sizeof(*es->syms));
	es->names = malloc(namelen);
	*shndx = calloc(k, sizeof(**shndx));
	if (!es->syms || !es->names || !*shndx) {
		seterr(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && es->nsyms < k; i++) {
		struct elfsym_sym *d = &es->syms[es->nsyms];
		GElf_Sym s;
		const char *name;
		size_t len;

		if (!gelf_getsym(data, (int)i, &s))
			break;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!sym_wanted(&s, name))
			continue;
		len = strlen(name) + 1;
		memcpy(es->names + off, name, len);
		d->name = es->names + off;
		off += len;
		d->addr = s.st_value;
		d->size = s.st_size;
		d->type = GELF_ST_TYPE(s.st_info);
		d->bind = GELF_ST_BIND(s.st_info);
		d->abs = s.st_shndx == SHN_ABS;
		(*shndx)[es->nsyms] = s.st_shndx;
		es->nsyms++;
	}
	return 0;
}

static int load_elf(Elf *elf, struct elfsym *es, const char *path, off_t fsize,
		    char *err, size_t errlen)
{
	struct sec_range *secs = NULL;
	uint16_t *shndx = NULL;
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr symsh, sh;
	GElf_Ehdr eh;
	size_t nsecs, strndx;
	int r;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		seterr(err, errlen, "%s: not an ELF file", path);
		return -ENOEXEC;
	}
	if (elf_getshdrnum(elf, &nsecs) < 0 ||
	    elf_getshdrstrndx(elf, &strndx) < 0 ||
	    eh.e_shoff + (uint64_t)nsecs * eh.e_shentsize > (uint64_t)fsize) {
		seterr(err, errlen,
		       "%s: corrupt ELF: its section headers are "
		       "missing or truncated",
		       path);
		return -ENOEXEC;
	}
	secs = calloc(nsecs ? nsecs : 1, sizeof(*secs));
	if (!secs) {
		seterr(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		size_t i = elf_ndxscn(scn);
		const char *name;

		if (!gelf_getshdr(scn, &sh) || i >= nsecs)
			continue;
		secs[i].addr = sh.sh_addr;
		secs[i].end = sh.sh_addr + sh.sh_size;
		secs[i].alloc = sh.sh_flags & SHF_ALLOC;
		if (sh.sh_type != SHT_NOBITS &&
		    sh.sh_offset + sh.sh_size > (uint64_t)fsize) {
			seterr(err, errlen,
			       "%s: corrupt ELF: section %zu "
			       "extends past the end of the file",
			       path, i);
			free(secs);
			return -ENOEXEC;
		}
		name = elf_strptr(elf, strndx, sh.sh_name);
		if (name && !strcmp(name, ".debug_info"))
			es->dwarf = true;
		if (sh.sh_type == SHT_SYMTAB && !symtab)
			symtab = scn;
		if (sh.sh_type == SHT_DYNSYM && !dynsym)
			dynsym = scn;
	}
	if (!symtab)
		symtab = dynsym;
	if (!symtab || !gelf_getshdr(symtab, &symsh)) {
		seterr(err, errlen, "%s: no symbol table (stripped?)", path);
		free(secs);
		return -ENODATA;
	}
	r = read_symtab(elf, symtab, &symsh, es, &shndx, path, err, errlen);
	if (r == 0) {
		/* Sort the symbols and their section numbers together. */
		struct {
			struct elfsym_sym s;
			uint16_t x;
		} *tmp = calloc(es->nsyms, sizeof(*tmp));

		if (!tmp) {
			r = -ENOMEM;
			seterr(err, errlen, "%s: out of memory", path);
		} else {
			for (size_t i = 0; i < es->nsyms; i++) {
				tmp[i].s = es->syms[i];
				tmp[i].x = shndx[i];
			}
			qsort(tmp, es->nsyms, sizeof(*tmp), cmp_addr);
			for (size_t i = 0; i < es->nsyms; i++) {
				es->syms[i] = tmp[i].s;
				shndx[i] = tmp[i].x;
			}
			free(tmp);
			set_ends(es, secs, nsecs, shndx);
		}
	}
	free(shndx);
	free(secs);
	return r;
}

struct elfsym *elfsym_load(const char *path, char *err, size_t errlen)
{
	struct elfsym *es;
	struct stat st;
	Elf *elf;
	int fd, r;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		seterr(err, errlen, "libelf: %s", elf_errmsg(-1));
		errno = ENOSYS;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = errno;
		seterr(err, errlen, "cannot open %s: %s", path, strerror(r));
		errno = r;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	es = calloc(1, sizeof(*es));
	elf = es ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	if (!es) {
		r = -ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
	} else if (!elf) {
		r = -ENOEXEC;
		seterr(err, errlen, "%s: not an ELF file (%s)", path,
		       elf_errmsg(-1));
	} else {
		r = load_elf(elf, es, path, st.st_size, err, errlen);
		elf_end(elf);
	}
	close(fd);
	if (r == 0) {
		es->by_name = calloc(es->nsyms, sizeof(*es->by_name));
		if (!es->by_name) {
			r = -ENOMEM;
			seterr(err, errlen, "%s: out of memory", path);
		}
	}
	if (r < 0) {
		elfsym_free(es);
		errno = -r;
		return NULL;
	}
	for (size_t i = 0; i < es->nsyms; i++)
		es->by_name[i] = &es->syms[i];
	qsort(es->by_name, es->nsyms, sizeof(*es->by_name), cmp_name);
	return es;
}

void elfsym_free(struct elfsym *es)
{
	if (!es)
		return;
	free(es->syms);
	free(es->by_name);
	free(es->names);
	free(es);
}

bool elfsym_has_dwarf(const struct elfsym *es)
{
	return es->dwarf;
}

size_t elfsym_count(const struct elfsym *es)
{
	return es->nsyms;
}

const struct elfsym_sym *elfsym_at(const struct elfsym *es, size_t i)
{
	return i < es->nsyms ? &es->syms[i] : NULL;
}

void elfsym_set_slide(struct elfsym *es, uint64_t slide)
{
	uint64_t d = slide - es->slide;

	for (size_t i = 0; i < es->nsyms; i++) {
		struct elfsym_sym *s = &es->syms[i];

		if (s->abs)
			continue;
		s->addr += d;
		s->end += d;
	}
	es->slide = slide;
}

uint64_t elfsym_slide(const struct elfsym *es)
{
	return es->slide;
}

/* The first index in by_name whose name is >= name (or, with prefix, whose
 * first strlen(name) bytes are). */
static size_t name_lower(const struct elfsym *es, const char *name, size_t n)
{
	size_t lo = 0, hi = es->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(es->by_name[mid]->name, name, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct elfsym_sym *elfsym_by_name(const struct elfsym *es,
					const char *name)
{
	size_t i = name_lower(es, name, strlen(name) + 1);

	if (i < es->nsyms && !strcmp(es->by_name[i]->name, name))
		return es->by_name[i];
	return NULL;
}

size_t elfsym_prefix(const struct elfsym *es, const char *prefix, size_t *first)
{
	size_t n = strlen(prefix), i = name_lower(es, prefix, n), j = i;

	while (j < es->nsyms && !strncmp(es->by_name[j]->name, prefix, n))
		j++;
	*first = i;
	return j - i;
}

const struct elfsym_sym *elfsym_by_name_at(const struct elfsym *es, size_t i)
{
	return i < es->nsyms ? es->by_name[i] : NULL;
}

/* How far back a lookup looks for an enclosing symbol past closer ones. */
#define ELFSYM_BACK 64

const struct elfsym_sym *elfsym_by_addr(const struct elfsym *es, uint64_t addr)
{
	size_t lo = 0, hi = es->nsyms;

	/* hi: the first symbol above addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (es->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The best-ranked symbol at the highest address <= addr that covers
	 * it: the first of its address group, as cmp_addr sorted them. */
	for (size_t k = 0; k < ELFSYM_BACK && hi > 0; k++, hi--) {
		const struct elfsym_sym *s = &es->syms[hi - 1];
		size_t g = hi - 1;

		if (s->abs || addr >= s->end)
			continue;
		while (g > 0 && es->syms[g - 1].addr == s->addr) {
			const struct elfsym_sym *t = &es->syms[g - 1];

			if (!t->abs && addr < t->end)
				s = t;
			g--;
		}
		return s;
	}
	return NULL;
}
