/*
 * cpumodel.c: Linux command-line options for a CPU model whose CPUID
 * filtering does not reach the guest (see cpumodel.h).
 *
 * Threads: no state; constant tables only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "monitor/cpumodel.h"

#define BIT(n) (1u << (n))

/* Linux's cpufeatures.h word for each of vmm's words. */
static const uint8_t linux_word[VM_CPUID_NWORDS] = {
	[VM_CPUID_1_ECX] = 4,	 [VM_CPUID_1_EDX] = 0,	[VM_CPUID_7_EBX] = 9,
	[VM_CPUID_7_ECX] = 16,	 [VM_CPUID_7_EDX] = 18, [VM_CPUID_7_1_EAX] = 12,
	[VM_CPUID_D_1_EAX] = 10, [VM_CPUID_81_ECX] = 6, [VM_CPUID_81_EDX] = 1,
};

/* Features with an option of their own. */
static const struct {
	uint8_t word, bit;
	const char *opt;
} own_opts[] = {
	{ VM_CPUID_1_ECX, 26, "noxsave" }, { VM_CPUID_7_EBX, 0, "nofsgsbase" },
	{ VM_CPUID_1_ECX, 17, "nopcid" },  { VM_CPUID_7_EBX, 10, "noinvpcid" },
	{ VM_CPUID_7_ECX, 16, "no5lvl" },
};

/*
 * What Linux clears with XSAVE (cpuid-deps.c of 6.1, followed through
 * AVX and AVX512F): no need to name these after noxsave.
 */
static const uint32_t xsave_deps[VM_CPUID_NWORDS] = {
	[VM_CPUID_1_ECX] = BIT(12) | BIT(28), /* fma, avx */
	/* avx2, mpx, avx512 f dq ifma pf er cd bw vl */
	[VM_CPUID_7_EBX] = BIT(5) | BIT(14) | BIT(16) | BIT(17) | BIT(21) |
			   BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31),
	/* vbmi, pku, vbmi2, vaes, vpclmulqdq, vnni, bitalg, vpopcntdq, enqcmd */
	[VM_CPUID_7_ECX] = BIT(1) | BIT(3) | BIT(6) | BIT(9) | BIT(10) |
			   BIT(11) | BIT(12) | BIT(14) | BIT(29),
	/* 4vnniw, 4fmaps, vp2intersect, avx512_fp16, amx_tile */
	[VM_CPUID_7_EDX] = BIT(2) | BIT(3) | BIT(8) | BIT(23) | BIT(24),
	[VM_CPUID_7_1_EAX] = BIT(5), /* avx512_bf16 */
	[VM_CPUID_D_1_EAX] = 0xffffffff,
};

/* What a kernel's own code runs: these go first in clearcpuid=. */
static const struct {
	uint8_t word, bit;
} first[] = {
	{ VM_CPUID_1_ECX, 13 }, /* cx16: cmpxchg16b */
	{ VM_CPUID_1_ECX, 23 }, /* popcnt */
	{ VM_CPUID_7_EBX, 20 }, /* smap: clac/stac */
	{ VM_CPUID_1_ECX, 27 }, /* osxsave: xgetbv */
	{ VM_CPUID_1_ECX, 30 }, /* rdrand */
	{ VM_CPUID_7_EBX, 18 }, /* rdseed */
	{ VM_CPUID_7_ECX, 22 }, /* rdpid */
	{ VM_CPUID_81_EDX, 27 }, /* rdtscp */
	{ VM_CPUID_7_EBX, 4 }, /* hle */
	{ VM_CPUID_7_EBX, 11 }, /* rtm */
	{ VM_CPUID_7_EBX, 23 }, /* clflushopt */
	{ VM_CPUID_7_EBX, 24 }, /* clwb */
	{ VM_CPUID_7_ECX, 2 }, /* umip */
	{ VM_CPUID_7_EDX, 10 }, /* md_clear: verw */
	{ VM_CPUID_81_ECX, 8 }, /* 3dnowprefetch: prefetchw */
};

/* Append " word" to buf of len; false when it does not fit. */
static bool append(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);
	int m = snprintf(buf + n, len - n, "%s%s", n ? " " : "", word);

	if (m < 0 || (size_t)m >= len - n) {
		buf[n] = '\0';
		return false;
	}
	return true;
}

static bool has_word(const char *cmdline, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = cmdline; (p = strstr(p, prefix)); p += n) {
		if (p == cmdline || p[-1] == ' ' || p[-1] == '\t')
			return true;
	}
	return false;
}

/* Add word w's bit b to the clearcpuid= list, if it fits. */
static void clear_add(char *list, int w, int b, unsigned *dropped)
{
	char num[16];
	size_t n = strlen(list);

	snprintf(num, sizeof(num), "%s%d", n ? "," : "",
		 linux_word[w] * 32 + b);
	if (n + strlen(num) > CPU_CLEARCPUID_MAX) {
		(*dropped)++;
		return;
	}
	strcat(list, num);
}

int cpu_model_linux_cmdline(const struct vm_cpuid_mask *hidden, bool filtered,
			    const char *cmdline, char *out, size_t outlen,
			    char *added, size_t addedlen, unsigned *dropped)
{
	struct vm_cpuid_mask left = *hidden;
	char list[CPU_CLEARCPUID_MAX + 1] = "";
	char opts[512] = "";
	bool fits = true;
	int n;

	*dropped = 0;
	if (!cmdline)
		cmdline = "";
	if (addedlen)
		added[0] = '\0';
	if (!filtered) {
		for (size_t i = 0; i < sizeof(own_opts) / sizeof(own_opts[0]);
		     i++) {
			int w = own_opts[i].word, b = own_opts[i].bit;

			if (!(left.w[w] & BIT(b)))
				continue;
			left.w[w] &= ~BIT(b);
			if (w == VM_CPUID_1_ECX && b == 26) {
				for (int j = 0; j < VM_CPUID_NWORDS; j++)
					left.w[j] &= ~xsave_deps[j];
			}
			fits &= append(opts, sizeof(opts), own_opts[i].opt);
		}
		for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
			int w = first[i].word, b = first[i].bit;

			if (left.w[w] & BIT(b)) {
				left.w[w] &= ~BIT(b);
				clear_add(list, w, b, dropped);
			}
		}
		for (int w = 0; w < VM_CPUID_NWORDS; w++) {
			for (int b = 0; b < 32; b++) {
				if (left.w[w] & BIT(b))
					clear_add(list, w, b, dropped);
			}
		}
		if (list[0] && !has_word(cmdline, "clearcpuid=")) {
			char opt[sizeof(list) + 16];

			snprintf(opt, sizeof(opt), "clearcpuid=%s", list);
			fits &= append(opts, sizeof(opts), opt);
		}
	}
	if (!fits)
		return -ENAMETOOLONG;
	n = snprintf(out, outlen, "%s%s%s", cmdline,
		     cmdline[0] && opts[0] ? " " : "", opts);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	if (addedlen) {
		n = snprintf(added, addedlen, "%s", opts);
		if (n < 0 || (size_t)n >= addedlen)
			return -ENAMETOOLONG;
	}
	return 0;
}
