/*
 * multiboot.c: checks what a Multiboot 1 loader handed over, one console
 * line per check ("multiboot: ok: ..." or "multiboot: FAIL: ..."), then
 * exits with GUEST_EXIT_PASS if all passed, else GUEST_EXIT_FAIL.
 *
 * Checked: the magic in EAX; the info flags; mem_lower (639 KiB: memory
 * ends at LOWMEM_FREE_END) and mem_upper against mem=; that the command
 * line arrived; the memory map against mem= and platform.h's layout; each
 * module's place (page-aligned, after the image and its .bss, inside RAM,
 * not overlapping another), string and content; that a large .bss array
 * is all zero and .data kept its values.
 *
 * Options:
 *   mem=MIB          the RAM size given to vitro -m, in MiB (required)
 *   mods=N           the number of modules expected (default 0)
 *   modI=NAME:TEXT   module I's string ends with NAME, and its content is
 *                    TEXT, optionally followed by one newline (TEXT has no
 *                    spaces)
 *
 * Single CPU, paging off: every address is physical.
 */
#include "rt.h"

const char guest_name[] = "multiboot";

#define MIB (1024u * 1024u)
#define LOW_END LOWMEM_FREE_END
#define HOLE_START 0xc0000000ull /* RAM above 3 GiB moves to 4 GiB */
#define HIGH_START 0x100000000ull

extern char _end[]; /* multiboot.ld: the end of the image, .bss included */

/* The loader must zero all of it, though none is in the file. */
uint32_t mb_bss_probe[16384];
/* And must copy these. */
uint32_t mb_data_probe[4] = { 0x600dd00d, 0x12345678, 0x9abcdef0, 0x5a5aa5a5 };

int mb_failures;

static void check(bool ok, const char *fmt, ...) RT_PRINTF(2, 3);
static void check(bool ok, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_printf("@%s: %s\n", ok ? "ok" : "FAIL", buf);
	if (!ok)
		mb_failures++;
}

static void check_memory(const struct mb_info *mbi, uint32_t mem_mib)
{
	uint64_t ram = (uint64_t)mem_mib * MIB;
	uint64_t low = ram < HOLE_START ? ram : HOLE_START;
	uint32_t want_upper = (uint32_t)((low - MIB) >> 10);

	check(mbi->mem_lower == LOW_END >> 10, "mem_lower %u KiB (want %u)",
	      mbi->mem_lower, LOW_END >> 10);
	check(mbi->mem_upper == want_upper, "mem_upper %u KiB (want %u)",
	      mbi->mem_upper, want_upper);
}

/* Available bytes of the map inside [lo, hi). */
static uint64_t mmap_avail(const struct mb_info *mbi, uint64_t lo, uint64_t hi)
{
	uintptr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
	uint64_t sum = 0;

	while (p + sizeof(struct mb_mmap_entry) <= end) {
		const struct mb_mmap_entry *e = (const void *)p;
		uint64_t a = e->addr, b = e->addr + e->len;

		if (e->type == MB_MEMORY_AVAILABLE) {
			a = a > lo ? a : lo;
			b = b < hi ? b : hi;
			if (b > a)
				sum += b - a;
		}
		p += e->size + 4;
	}
	return sum;
}

static void check_mmap(const struct mb_info *mbi, uint32_t mem_mib)
{
	uintptr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
	uint64_t ram = (uint64_t)mem_mib * MIB, avail = 0;
	uint64_t low = ram < HOLE_START ? ram : HOLE_START;
	uint64_t high = ram - low;
	uint32_t n = 0;
	bool sizes_ok = true, overlap = false;

	while (p + sizeof(struct mb_mmap_entry) <= end) {
		const struct mb_mmap_entry *e = (const void *)p, *f;
		uintptr_t q;

		rt_printf("@  map %u: %#llx-%#llx type %u\n", n,
			  (unsigned long long)e->addr,
			  (unsigned long long)(e->addr + e->len), e->type);
		if (e->size < 20)
			sizes_ok = false;
		if (e->type == MB_MEMORY_AVAILABLE) {
			avail += e->len;
			for (q = p + e->size + 4; q + sizeof(*f) <= end;
			     q += f->size + 4) {
				f = (const void *)q;
				if (f->type == MB_MEMORY_AVAILABLE &&
				    f->addr < e->addr + e->len &&
				    e->addr < f->addr + f->len)
					overlap = true;
				if (f->size < 20)
					break;
			}
		}
		if (e->size < 20)
			break;
		p += e->size + 4;
		n++;
	}
	check(n > 0 && sizes_ok && p == end,
	      "memory map: %u entries in %u bytes at %#x", n, mbi->mmap_length,
	      mbi->mmap_addr);
	check(!overlap, "memory map: available regions do not overlap");
	check(mmap_avail(mbi, 0, LOW_END) == LOW_END,
	      "memory map: [0, %#x) available", LOW_END);
	check(mmap_avail(mbi, LOW_END, MIB) == 0,
	      "memory map: [%#x, 1 MiB) not available", LOW_END);
	check(mmap_avail(mbi, MIB, low) == low - MIB,
	      "memory map: [1 MiB, %#llx) available", (unsigned long long)low);
	check(mmap_avail(mbi, low, HIGH_START) == 0,
	      "memory map: nothing available in [%#llx, 4 GiB)",
	      (unsigned long long)low);
	check(mmap_avail(mbi, HIGH_START, ~0ull) == high,
	      "memory map: %llu MiB available from 4 GiB (want %llu)",
	      (unsigned long long)(mmap_avail(mbi, HIGH_START, ~0ull) >> 20),
	      (unsigned long long)(high >> 20));
	check(avail == ram - (MIB - LOW_END),
	      "memory map: %llu KiB available in all (want %llu)",
	      (unsigned long long)(avail >> 10),
	      (unsigned long long)((ram - (MIB - LOW_END)) >> 10));
}

/* A NUL within max bytes of s. */
static bool str_bounded(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++)
		if (!s[i])
			return true;
	return false;
}

static void check_module(const struct mb_module *mods, uint32_t count,
			 uint32_t i, uint64_t ram_low)
{
	const struct mb_module *m = &mods[i];
	const char *str = (const char *)(uintptr_t)m->string;
	char key[16], spec[256], *text;
	size_t nlen, slen, tlen, len;
	uint32_t j;
	bool overlap = false;

	rt_printf("@  module %u: %#x-%#x '%s'\n", i, m->mod_start, m->mod_end,
		  m->string && str_bounded(str, 4096) ? str : "(bad)");
	check(!(m->mod_start & 0xfff), "module %u: page-aligned start", i);
	check(m->mod_start >= (uintptr_t)_end,
	      "module %u: starts after the image and its .bss (%#x)", i,
	      (unsigned int)(uintptr_t)_end);
	check(m->mod_end >= m->mod_start && m->mod_end <= ram_low,
	      "module %u: ends inside RAM", i);
	for (j = 0; j < count; j++)
		if (j != i && mods[j].mod_start < m->mod_end &&
		    m->mod_start < mods[j].mod_end)
			overlap = true;
	check(!overlap, "module %u: overlaps no other module", i);
	check(m->string && str_bounded(str, 4096), "module %u: has a string",
	      i);

	rt_snprintf(key, sizeof(key), "mod%u", i);
	if (cmdline_get(rt_cmdline, key, spec, sizeof(spec)) < 0) {
		check(false, "module %u: %s=NAME:TEXT on the command line", i,
		      key);
		return;
	}
	for (text = spec; *text && *text != ':'; text++)
		;
	if (*text)
		*text++ = '\0';
	nlen = strlen(spec);
	if (m->string && str_bounded(str, 4096)) {
		slen = strlen(str);
		check(slen >= nlen && !strcmp(str + slen - nlen, spec),
		      "module %u: string '%s' ends with '%s'", i, str, spec);
	}
	tlen = strlen(text);
	len = m->mod_end - m->mod_start;
	check((len == tlen ||
	       (len == tlen + 1 &&
		((const char *)(uintptr_t)m->mod_start)[tlen] == '\n')) &&
		      !memcmp((const void *)(uintptr_t)m->mod_start, text,
			      tlen),
	      "module %u: %zu bytes, content '%s'", i, len, text);
}

static void check_image(void)
{
	uint32_t i, nonzero = 0;

	for (i = 0; i < ARRAY_SIZE(mb_bss_probe); i++)
		nonzero |= mb_bss_probe[i];
	check(!nonzero, ".bss: %u KiB all zero",
	      (unsigned int)(sizeof(mb_bss_probe) >> 10));
	check(mb_data_probe[0] == 0x600dd00d && mb_data_probe[3] == 0x5a5aa5a5,
	      ".data: initial values loaded");
}

int guest_main(void)
{
	const struct mb_info *mbi = rt_mbi;
	uint64_t mem = 0, nmods = 0;
	uint32_t i;

	rt_printf("@image %#x-%#x\n", 0x100000, (unsigned int)(uintptr_t)_end);
	check(rt_boot_magic == MULTIBOOT_BOOT_MAGIC, "EAX magic %#x",
	      rt_boot_magic);
	if (!mbi)
		return GUEST_EXIT_FAIL;
	rt_printf("@info at %#x, flags %#x\n", (unsigned int)(uintptr_t)mbi,
		  mbi->flags);
	check(mbi->flags & MB_INFO_MEMORY, "flags: memory (bit 0)");
	check(mbi->flags & MB_INFO_CMDLINE, "flags: command line (bit 2)");
	check(mbi->flags & MB_INFO_MEM_MAP, "flags: memory map (bit 6)");
	check(*rt_cmdline, "command line '%s'", rt_cmdline);
	if (cmdline_get_u64(rt_cmdline, "mem", &mem) <= 0 || !mem ||
	    mem > 1024 * 1024) {
		check(false, "mem=MIB on the command line");
		return GUEST_EXIT_FAIL;
	}
	if (cmdline_get_u64(rt_cmdline, "mods", &nmods) < 0 || nmods > 64) {
		check(false, "mods=N on the command line is a number <= 64");
		return GUEST_EXIT_FAIL;
	}

	if (mbi->flags & MB_INFO_MEMORY)
		check_memory(mbi, (uint32_t)mem);
	if (mbi->flags & MB_INFO_MEM_MAP)
		check_mmap(mbi, (uint32_t)mem);

	if (nmods)
		check(mbi->flags & MB_INFO_MODS, "flags: modules (bit 3)");
	if (mbi->flags & MB_INFO_MODS) {
		check(mbi->mods_count == nmods, "%u modules (want %u)",
		      mbi->mods_count, (uint32_t)nmods);
		if (mbi->mods_count == nmods)
			for (i = 0; i < nmods; i++)
				check_module(
					(const void *)(uintptr_t)mbi->mods_addr,
					(uint32_t)nmods, i,
					mem * MIB < HOLE_START ? mem * MIB :
								 HOLE_START);
	}
	check_image();

	if (mb_failures)
		rt_printf("@%d checks failed\n", mb_failures);
	return mb_failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
