/*
 * memsieve.c: the guest of the guest-memory benchmark
 * (tests/bench/guest-mem.c): memory-heavy loops at CPL 3, timed with
 * rdtsc in ring 0, the same under vitro and QEMU.
 *
 * Boot: memsieve-entry.S (Multiboot 1, ELF32 by objcopy, so that QEMU's
 * -kernel takes it too) maps the first 4 GiB one to one with 2 MiB pages,
 * user pages up to 3 GiB, and enters long mode; the 64-bit runtime takes
 * over from there.  guest_main adds a GDT with ring-3 code and data
 * segments and a 64-bit TSS (RSP0), and an interrupt gate of DPL 3 at
 * MEMSIEVE_SYSCALL, the user code's only way back to ring 0.
 *
 * The work, in three phases, each one call of user_run at CPL 3:
 *
 *   sieve  Eratosthenes' sieve over a SIEVE-byte array (default 256 MiB),
 *          one byte per odd number: byte i stands for 2i + 1, so it
 *          counts the primes below 2 * SIEVE (28192750 below 2^29).  The
 *          array is cleared first, by the same user code (its first touch
 *          is in the phase).
 *   fill   a BUF-byte buffer (default 1 GiB, a power of two) filled with
 *          64-bit words, word i = (i + seed) * 0x9e3779b97f4a7c15 (first
 *          touch of the whole buffer).
 *   reads  READS (default 2^27) reads of 8-byte words at random
 *          8-byte-aligned addresses in the buffer: xorshift64 (13, 7, 17)
 *          from the seed, word index = state & (BUF / 8 - 1), summed.
 *
 * The arrays follow the image, each 2 MiB-aligned, and must lie in one
 * available region of the Multiboot memory map (1536 MiB of RAM is enough
 * for the defaults).  Last line before the pass line:
 *
 *   memsieve: result sieve=C fill=C reads=C tsc_khz=K primes=P
 *             checksum=0xX
 *
 * C in TSC cycles; K is the TSC frequency from CPUID 0x15 or 0x40000010,
 * 0 when neither gives it (then the per-phase lines give cycles only);
 * the checksum is the sum of the words read, so the reads cannot be
 * optimised away and both VMMs must agree on it.
 *
 * Options: sieve=MIB (default 256), buf=MIB (default 1024, a power of
 * two), reads=N (default 134217728), seed=N (not 0; default
 * 0x2545f4914f6cdd1d).  Exit: pass; fail on a bad option, too little
 * RAM, or a prime count that is not the known one for a power-of-two
 * sieve.
 *
 * One CPU, interrupts off throughout; the globals are the BSP's.
 */
#include "rt.h"

#define MEMSIEVE_SYSCALL 0x80
#define MIB (1ull << 20)
#define LARGE_PAGE (2 * MIB)
#define USER_RAM_END (3ull << 30) /* memsieve-entry.S's user mapping */

#define SEL_USER_DATA 0x20
#define SEL_USER_CODE 0x28
#define SEL_TSS 0x30

#define DEFAULT_SIEVE_MIB 256
#define DEFAULT_BUF_MIB 1024
#define DEFAULT_READS (1ull << 27)
#define DEFAULT_SEED 0x2545f4914f6cdd1dull

const char guest_name[] = "memsieve";

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base; /* past the limit: no I/O bitmap */
};

/* What a phase reads and writes; all of it on user pages. */
struct job {
	uint8_t *sieve;
	uint64_t sieve_len; /* bytes */
	uint64_t *buf;
	uint64_t buf_words; /* a power of two */
	uint64_t reads;
	uint64_t seed;
	uint64_t primes; /* out */
	uint64_t checksum; /* out */
};

/* memsieve-entry.S */
void user_run(void (*fn)(struct job *), struct job *job, void *stack);
void user_return(void) RT_NORETURN;
extern char _end[];

/* trap.c's IDT: 16-byte gates, DPL in bits 45-46 of the low quadword. */
extern uint64_t rt_idt[256][2];

static struct tss64 ms_tss RT_ALIGNED(16) RT_CPU_TABLE;
static uint64_t ms_gdt[8] RT_ALIGNED(16) RT_CPU_TABLE = {
	0,
	0x00af9b000000ffffull, /* RT_SEL_CODE64 */
	0x00cf93000000ffffull, /* RT_SEL_DATA */
	0x00cf9b000000ffffull, /* RT_SEL_CODE32 */
	0x00cff3000000ffffull, /* SEL_USER_DATA: DPL 3 */
	0x00affb000000ffffull, /* SEL_USER_CODE: long mode, DPL 3 */
	0, /* SEL_TSS, two entries, filled in by cpl3_init */
	0,
};
static uint8_t ms_kernel_stack[RT_STACK_SIZE] RT_ALIGNED(16);
static uint8_t ms_user_stack[RT_STACK_SIZE] RT_ALIGNED(16);
static struct job ms_job;

/* The prime counts below 2^(21 + k) for sieve=2^k MiB. */
static const uint64_t known_primes[] = {
	155611,	 295947,  564163,   1077871,  2063689,
	3957809, 7603553, 14630843, 28192750,
};

static RT_NORETURN void user_exit(void)
{
	__asm__ volatile("int %0" : : "i"(MEMSIEVE_SYSCALL) : "memory");
	__builtin_unreachable();
}

static void user_sieve(struct job *j)
{
	uint8_t *s = j->sieve;
	uint64_t n = j->sieve_len, count = 1; /* 2 */

	for (uint64_t i = 0; i < n; i++)
		s[i] = 0;
	s[0] = 1; /* 1 */
	for (uint64_t i = 1; 2 * i * (i + 1) < n; i++) {
		uint64_t p = 2 * i + 1;

		if (s[i])
			continue;
		for (uint64_t k = 2 * i * (i + 1); k < n; k += p)
			s[k] = 1;
	}
	for (uint64_t i = 0; i < n; i++)
		count += !s[i];
	j->primes = count;
	user_exit();
}

static void user_fill(struct job *j)
{
	for (uint64_t i = 0; i < j->buf_words; i++)
		j->buf[i] = (i + j->seed) * 0x9e3779b97f4a7c15ull;
	user_exit();
}

static void user_reads(struct job *j)
{
	const volatile uint64_t *b = j->buf;
	uint64_t x = j->seed, mask = j->buf_words - 1, sum = 0;

	for (uint64_t k = 0; k < j->reads; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += b[x & mask];
	}
	j->checksum = sum;
	user_exit();
}

static void sys_handler(struct trap_frame *f)
{
	if ((f->cs & 3) != 3)
		trap_report(f->vector, 0, f->rip, 0);
	user_return();
}

static void cpl3_init(void)
{
	uint64_t base = (uintptr_t)&ms_tss, limit = sizeof(ms_tss) - 1;
	struct desc_ptr p = { sizeof(ms_gdt) - 1, (uintptr_t)ms_gdt };

	ms_tss.rsp[0] = (uintptr_t)(ms_kernel_stack + sizeof(ms_kernel_stack));
	ms_tss.iomap_base = sizeof(ms_tss);
	/* Available 64-bit TSS (type 9), present, DPL 0. */
	ms_gdt[SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			      0x89ull << 40 | (limit >> 16 & 0xf) << 48 |
			      (base >> 24 & 0xff) << 56;
	ms_gdt[SEL_TSS / 8 + 1] = base >> 32;
	lgdt(&p);
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
	rt_idt[MEMSIEVE_SYSCALL][0] |= 3ull << 45;
	trap_set_handler(MEMSIEVE_SYSCALL, sys_handler);
}

/* The TSC's kHz from CPUID, and where it came from; 0 if unknown. */
static uint64_t tsc_khz(const char **src)
{
	uint32_t a, b, c, d;

	*src = "unknown: cycles only";
	if (cpuid_max(0) >= 0x15) {
		cpuid_count(0x15, 0, &a, &b, &c, &d);
		if (a && b && c) {
			*src = "CPUID 0x15";
			return (uint64_t)c * b / a / 1000;
		}
	}
	cpuid_count(0x40000000, 0, &a, &b, &c, &d);
	if (a >= 0x40000010 && a < 0x40010000) {
		cpuid_count(0x40000010, 0, &a, &b, &c, &d);
		if (a) {
			*src = "CPUID 0x40000010";
			return a;
		}
	}
	return 0;
}

/* Run one phase at CPL 3; its TSC cycles. */
static uint64_t phase(const char *name, void (*fn)(struct job *), uint64_t khz)
{
	uint64_t gs = rdmsr(MSR_GS_BASE), t0, t1;

	__asm__ volatile("lfence" ::: "memory");
	t0 = rdtsc();
	user_run(fn, &ms_job, ms_user_stack + sizeof(ms_user_stack));
	__asm__ volatile("lfence" ::: "memory");
	t1 = rdtsc();
	/* The trip through ring 3 may have nulled %gs and its base. */
	wrmsr(MSR_GS_BASE, gs);
	if (khz)
		rt_printf("@%s: %llu cycles, %llu ms\n", name,
			  (unsigned long long)(t1 - t0),
			  (unsigned long long)((t1 - t0) / khz));
	else
		rt_printf("@%s: %llu cycles\n", name,
			  (unsigned long long)(t1 - t0));
	return t1 - t0;
}

/* Is [start, end) inside one available region of the memory map? */
static bool ram_has(uint64_t start, uint64_t end)
{
	uintptr_t p, lim;

	if (!rt_mbi || !(rt_mbi->flags & MB_INFO_MEM_MAP))
		return false;
	p = rt_mbi->mmap_addr;
	lim = p + rt_mbi->mmap_length;
	while (p + sizeof(struct mb_mmap_entry) <= lim) {
		const struct mb_mmap_entry *e = (const void *)p;

		if (e->type == MB_MEMORY_AVAILABLE && e->addr <= start &&
		    end <= e->addr + e->len)
			return true;
		p += e->size + 4;
	}
	return false;
}

static int get_opt(const char *key, uint64_t *v, uint64_t def)
{
	int r = cmdline_get_u64(rt_cmdline, key, v);

	if (r == 0)
		*v = def;
	if (r < 0)
		rt_printf("@bad %s= (a number)\n", key);
	return r < 0 ? -1 : 0;
}

int guest_main(void)
{
	uint64_t sieve_mib, buf_mib, start, end, khz, c_sieve, c_fill, c_reads;
	const char *src;
	struct job *j = &ms_job;

	if (get_opt("sieve", &sieve_mib, DEFAULT_SIEVE_MIB) < 0 ||
	    get_opt("buf", &buf_mib, DEFAULT_BUF_MIB) < 0 ||
	    get_opt("reads", &j->reads, DEFAULT_READS) < 0 ||
	    get_opt("seed", &j->seed, DEFAULT_SEED) < 0)
		return GUEST_EXIT_FAIL;
	if (!sieve_mib || sieve_mib > 2048 || !buf_mib || buf_mib > 2048 ||
	    (buf_mib & (buf_mib - 1)) || !j->seed) {
		rt_printf("@sieve= and buf= from 1 to 2048 MiB, buf= a power "
			  "of two, seed= not 0\n");
		return GUEST_EXIT_FAIL;
	}
	start = ((uintptr_t)_end + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1);
	j->sieve = (uint8_t *)(uintptr_t)start;
	j->sieve_len = sieve_mib * MIB;
	start += (j->sieve_len + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1);
	j->buf = (uint64_t *)(uintptr_t)start;
	j->buf_words = buf_mib * MIB / 8;
	end = start + buf_mib * MIB;
	if (end > USER_RAM_END || !ram_has((uintptr_t)j->sieve, end)) {
		rt_printf("@needs RAM from %#llx to %#llx in one region: give "
			  "it %llu MiB or more\n",
			  (unsigned long long)(uintptr_t)j->sieve,
			  (unsigned long long)end,
			  (unsigned long long)(end / MIB + 64));
		return GUEST_EXIT_FAIL;
	}
	khz = tsc_khz(&src);
	rt_printf("@%llu MiB of RAM; sieve %llu MiB at %#llx, buffer %llu MiB "
		  "at %#llx, %llu reads; 2 MiB user pages, CPL 3; TSC %llu "
		  "kHz (%s)\n",
		  (unsigned long long)(mb_memory_size(rt_mbi) / MIB),
		  (unsigned long long)sieve_mib,
		  (unsigned long long)(uintptr_t)j->sieve,
		  (unsigned long long)buf_mib,
		  (unsigned long long)(uintptr_t)j->buf,
		  (unsigned long long)j->reads, (unsigned long long)khz, src);
	cpl3_init();
	c_sieve = phase("sieve", user_sieve, khz);
	c_fill = phase("fill", user_fill, khz);
	c_reads = phase("reads", user_reads, khz);
	rt_printf("@result sieve=%llu fill=%llu reads=%llu tsc_khz=%llu "
		  "primes=%llu checksum=%#llx\n",
		  (unsigned long long)c_sieve, (unsigned long long)c_fill,
		  (unsigned long long)c_reads, (unsigned long long)khz,
		  (unsigned long long)j->primes,
		  (unsigned long long)j->checksum);
	for (unsigned int k = 0; k < ARRAY_SIZE(known_primes); k++) {
		if (sieve_mib == 1ull << k && j->primes != known_primes[k]) {
			rt_printf("@%llu primes below %llu, expected %llu\n",
				  (unsigned long long)j->primes,
				  (unsigned long long)(2 * j->sieve_len),
				  (unsigned long long)known_primes[k]);
			return GUEST_EXIT_FAIL;
		}
	}
	return GUEST_EXIT_PASS;
}
