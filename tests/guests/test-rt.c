/*
 * test-rt.c: the guest runtime's pure parts on the host: rt_snprintf's
 * formats (including 64-bit decimals, which 32-bit guests convert without
 * libgcc) and the command-line option parser.  No KVM.  TAP.
 *
 * Single-threaded.
 */
#include "tests/tap.h"
#include "tests/guests/lib/rt.h"

const char guest_name[] = "test-rt";

static void check_fmt(const char *want, int want_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check_fmt(const char *want, int want_len, const char *fmt, ...)
{
	char buf[96];
	va_list ap;
	int n;

	memset(buf, 'X', sizeof(buf));
	va_start(ap, fmt);
	n = rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ok(!strcmp(buf, want) && n == want_len,
	   "'%s' gives '%s' (%d), want '%s' (%d)", fmt, buf, n, want, want_len);
}

/* Behind volatile, so the compiler's format checks let them through. */
static const char *volatile no_string;
static const char *volatile unknown_conversion = "%y";

static void test_printf(void)
{
	char small[5];
	int n;

	check_fmt("42 -7 0", 7, "%d %i %u", 42, -7, 0u);
	check_fmt("ff FF 0xff 0", 12, "%x %X %#x %#x", 255u, 255u, 255u, 0u);
	check_fmt("[   7][7   ][0007]", 18, "[%4d][%-4d][%04d]", 7, 7, 7);
	check_fmt("[  -7][-007]", 12, "[%4d][%04d]", -7, -7);
	check_fmt("[0x00ff]", 8, "[%#06x]", 255u);
	check_fmt("[  ab][ab  ][abc]", 17, "[%4s][%-4s][%.3s]", "ab", "ab",
		  "abcdef");
	check_fmt("[   x][yz]", 10, "[%*s][%.*s]", 4, "x", 2, "yzw");
	check_fmt("c%", 2, "%c%%", 'c');
	check_fmt("(null)", 6, "%s", no_string);
	check_fmt("18446744073709551615", 20, "%llu", ~0ull);
	check_fmt("-9223372036854775808", 20, "%lld",
		  -0x7fffffffffffffffll - 1);
	check_fmt("10000000000 4294967296", 22, "%llu %lu", 10000000000ull,
		  4294967296ul);
	check_fmt("ffffffffffffffff", 16, "%llx", ~0ull);
	check_fmt("ff 7fff 12", 10, "%hhx %hx %zu", 0x1ff, 0x17fff, (size_t)12);
	check_fmt("0x1234", 6, "%p", (void *)0x1234);
	n = rt_snprintf(small, sizeof(small), unknown_conversion, 1);
	ok(n == 2 && !strcmp(small, "%y"), "an unknown conversion is copied");

	n = rt_snprintf(small, sizeof(small), "hello %s", "world");
	ok(n == 11 && !strcmp(small, "hell"),
	   "truncation: '%s' (%d), want 'hell' (11)", small, n);
	n = rt_snprintf(NULL, 0, "%d", 12345);
	ok(n == 5, "size 0 counts only: %d, want 5", n);
}

static void test_cmdline(void)
{
	const char *cl = "/boot/k.elf mode=64  exit-after=3 flag mods=0x10 "
			 "mem=256M big=4G kb=4k bad=12x empty= modes=9 "
			 "huge=99999999999999999999 mod0=a.txt:alpha";
	char buf[16];
	uint64_t v = 0;

	ok(cmdline_get(cl, "mode", buf, sizeof(buf)) == 2 && !strcmp(buf, "64"),
	   "mode=64 read as '%s'", buf);
	ok(cmdline_get(cl, "mod0", buf, sizeof(buf)) == 11 &&
		   !strcmp(buf, "a.txt:alpha"),
	   "mod0 read as '%s'", buf);
	ok(cmdline_get(cl, "mod0", buf, 4) == 11 && !strcmp(buf, "a.t"),
	   "a value truncates to the buffer: '%s'", buf);
	ok(cmdline_get(cl, "nothere", buf, sizeof(buf)) == -1,
	   "an absent key is -1");
	ok(cmdline_get(cl, "flag", buf, sizeof(buf)) == 0 && !*buf,
	   "a bare key has an empty value");
	ok(cmdline_has(cl, "flag") && cmdline_has(cl, "exit-after") &&
		   !cmdline_has(cl, "exit") && !cmdline_has(cl, "fla"),
	   "cmdline_has matches whole keys only");
	ok(cmdline_get(cl, "/boot/k.elf", buf, sizeof(buf)) == 0,
	   "the kernel path is a bare word");

	ok(cmdline_get_u64(cl, "exit-after", &v) == 1 && v == 3,
	   "exit-after=3: %llu", (unsigned long long)v);
	ok(cmdline_get_u64(cl, "mods", &v) == 1 && v == 16, "mods=0x10: %llu",
	   (unsigned long long)v);
	ok(cmdline_get_u64(cl, "mem", &v) == 1 && v == 256ull << 20,
	   "mem=256M: %llu", (unsigned long long)v);
	ok(cmdline_get_u64(cl, "big", &v) == 1 && v == 4ull << 30,
	   "big=4G: %llu", (unsigned long long)v);
	ok(cmdline_get_u64(cl, "kb", &v) == 1 && v == 4096, "kb=4k: %llu",
	   (unsigned long long)v);
	v = 77;
	ok(cmdline_get_u64(cl, "bad", &v) == -1 && v == 77,
	   "bad=12x is not a number, and leaves *val alone");
	ok(cmdline_get_u64(cl, "empty", &v) == -1, "empty= is not a number");
	ok(cmdline_get_u64(cl, "flag", &v) == -1, "a bare key is not a number");
	ok(cmdline_get_u64(cl, "huge", &v) == -1, "an overflow is refused");
	ok(cmdline_get_u64(cl, "absent", &v) == 0, "an absent key is 0");
	ok(cmdline_get_u64("", "mode", &v) == 0, "an empty command line");
	ok(!str_to_u64("0x", 2, &v) && !str_to_u64("", 0, &v) &&
		   str_to_u64("0", 1, &v) && v == 0,
	   "str_to_u64 edge cases");
}

int main(void)
{
	test_printf();
	test_cmdline();
	return tap_done();
}
