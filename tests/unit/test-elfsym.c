/*
 * test-elfsym.c: the ELF symbol reader (introspect/elfsym.h) on the
 * fixture built with -g (fixture-types.elf): names and addresses against
 * nm's, address lookup with offsets and sizes, the slide, prefixes, and
 * the errors for a missing, non-ELF, truncated and stripped file.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "introspect/elfsym.h"
#include "tests/tap.h"
#include "tests/unit/fixture-types.h"

#define FIXTURE FIXTURE_BASE ".elf"
#define FIXTURE_NODEBUG FIXTURE_BASE "-nodebug.elf"

static char tmpdir[] = "/tmp/test-elfsym.XXXXXX";

/* nm's address of name in path, or 0. */
static uint64_t nm_addr(const char *path, const char *name)
{
	char cmd[512], line[512], n[256], t;
	unsigned long long a;
	uint64_t r = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm %s 2>/dev/null", path);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &a, &t, n) == 3 &&
		    !strcmp(n, name))
			r = a;
	pclose(f);
	return r;
}

/* A copy of the first len bytes of src, as a file in tmpdir. */
static const char *truncated(const char *src, long len, const char *name)
{
	static char path[256];
	char buf[4096];
	FILE *in = fopen(src, "rb"), *out;
	long done = 0;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	out = fopen(path, "wb");
	if (!in || !out)
		tap_bail("cannot copy %s to %s", src, path);
	while (done < len && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if ((long)n > len - done)
			n = (size_t)(len - done);
		fwrite(buf, 1, n, out);
		done += (long)n;
	}
	fclose(in);
	fclose(out);
	return path;
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n;
}

static void test_errors(void)
{
	char err[256];
	struct elfsym *es;
	const char *p;

	errno = 0;
	es = elfsym_load("/nonexistent/vmlinux", err, sizeof(err));
	ok(!es && errno == ENOENT, "a missing file: ENOENT");
	ok(strstr(err, "/nonexistent/vmlinux") != NULL,
	   "... the message names it: %s", err);

	p = truncated("/proc/self/status", 100, "text");
	errno = 0;
	es = elfsym_load(p, err, sizeof(err));
	ok(!es && errno == ENOEXEC, "a text file: ENOEXEC (%s)", err);

	p = truncated(FIXTURE, file_size(FIXTURE) / 2, "half.elf");
	errno = 0;
	es = elfsym_load(p, err, sizeof(err));
	ok(!es && errno == ENOEXEC, "half an ELF: ENOEXEC (%s)", err);
	ok(strstr(err, "corrupt") != NULL, "... says corrupt");

	p = truncated(FIXTURE, 40, "head.elf");
	errno = 0;
	es = elfsym_load(p, err, sizeof(err));
	ok(!es && errno == ENOEXEC, "40 bytes of an ELF: ENOEXEC (%s)", err);

	errno = 0;
	es = elfsym_load(FIXTURE_BASE "-nosyms.elf", err, sizeof(err));
	ok(!es && (errno == ENODATA), "stripped of symbols: ENODATA (%s)", err);

	es = elfsym_load(FIXTURE_NODEBUG, err, sizeof(err));
	ok(es != NULL, "strip -g: loads");
	if (es) {
		ok(!elfsym_has_dwarf(es), "... without DWARF");
		ok(elfsym_by_name(es, "fx_func") != NULL, "... with symbols");
	}
	elfsym_free(es);
}

int main(void)
{
	const struct elfsym_sym *s, *f, *t;
	struct elfsym *es;
	char err[256];
	size_t first, n;
	uint64_t a;

	if (!mkdtemp(tmpdir))
		tap_bail("mkdtemp: %s", strerror(errno));
	es = elfsym_load(FIXTURE, err, sizeof(err));
	if (!es)
		tap_bail("%s", err);
	ok(elfsym_count(es) > 5, "symbols: %zu", elfsym_count(es));
	ok(elfsym_has_dwarf(es), "the fixture has DWARF");

	f = elfsym_by_name(es, "fx_func");
	ok(f && f->type == 2 /* STT_FUNC */ && f->size > 0,
	   "fx_func: a function with a size");
	a = nm_addr(FIXTURE, "fx_func");
	if (a && f)
		is_hex(f->addr, a, "fx_func's address is nm's");
	else
		tap_skip("nm not available");
	t = elfsym_by_name(es, "fx_tasks");
	ok(t && t->type == 1 /* STT_OBJECT */, "fx_tasks: an object");
	if (t) {
		is_int(t->size, 3 * sizeof(struct fx_task),
		       "fx_tasks' size is three tasks");
		s = elfsym_by_addr(es, t->addr + sizeof(struct fx_task) + 8);
		ok(s == t, "an address inside fx_tasks finds it");
		s = elfsym_by_addr(es, t->addr + t->size);
		ok(s != t, "its end does not");
	}
	s = elfsym_by_name(es, "fx_array");
	ok(s && s->size == 8 * sizeof(int), "fx_array: 32 bytes");
	ok(!elfsym_by_name(es, "fx_nosuch"), "an unknown name: NULL");
	ok(!elfsym_by_addr(es, 0), "address 0: no symbol");
	if (f) {
		s = elfsym_by_addr(es, f->addr + 4);
		ok(s == f, "fx_func+4 is in fx_func");
	}

	/* Sorted by address. */
	n = 0;
	for (size_t i = 1; i < elfsym_count(es); i++)
		if (elfsym_at(es, i)->addr < elfsym_at(es, i - 1)->addr)
			n++;
	is_int(n, 0, "symbols are sorted by address");

	/* The slide moves everything, and back. */
	if (f) {
		uint64_t base = f->addr;

		elfsym_set_slide(es, 0x100000);
		is_hex(elfsym_by_name(es, "fx_func")->addr, base + 0x100000,
		       "a slide of 0x100000 moves fx_func");
		s = elfsym_by_addr(es, base + 0x100000 + 4);
		ok(s && !strcmp(s->name, "fx_func"),
		   "... and lookups follow it");
		elfsym_set_slide(es, 0);
		is_hex(elfsym_by_name(es, "fx_func")->addr, base,
		       "slide 0 restores it");
	}

	n = elfsym_prefix(es, "fx_", &first);
	ok(n >= 5, "prefix fx_: %zu names", n);
	for (size_t i = 0; i < n; i++)
		if (strncmp(elfsym_by_name_at(es, first + i)->name, "fx_", 3))
			n = 0;
	ok(n >= 5, "... all starting with fx_");
	is_int(elfsym_prefix(es, "fx_nosuch", &first), 0,
	       "prefix fx_nosuch: none");
	elfsym_free(es);

	test_errors();
	snprintf(err, sizeof(err), "rm -rf %s", tmpdir);
	if (system(err) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
