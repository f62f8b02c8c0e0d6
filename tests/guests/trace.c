/*
 * trace.c: the VM-exit tracing tests' guest (tests/tcl/trace.sh): known
 * numbers of exits of each kind, so that a trace can be counted.
 *
 *   pio=P     P 1-byte `out`s to TRACE_PIO_PORT (nothing claims it)
 *   mmio=M    M 4-byte accesses to TRACE_MMIO_GPA (no RAM, no device):
 *             writes at even steps, reads at odd ones
 *   rdmsr=R   R rdmsr of TRACE_MSR, an MSR KVM does not know: each ends
 *   wrmsr=W   W wrmsr of it       in a #GP that the handler skips
 *   chain=C   C calls trace_a -> trace_b -> trace_c, which writes to
 *             TRACE_MARK_PORT (a known stack for stack=N captures)
 *   wait      spin until trace_go is not 0 (a debugger writes it), so
 *             that a watch can be set up before the exits
 *   rounds=N  do it all N times (default 1; 0: forever, never exits)
 *   hold      after the rounds, spin instead of exiting (a client can
 *             still talk to the VM)
 *
 * It prints the counts it made ("trace: done pio=P mmio=M ... gp=G") and
 * exits with pass, or fail when a #GP count is off.  One CPU, interrupts
 * off.  Built with frame pointers for the stack walks.
 */
#include "rt.h"

const char guest_name[] = "trace";

#define TRACE_FN __attribute__((noinline))

volatile uint64_t trace_go; /* wait: a debugger sets it */
volatile uint64_t trace_gps; /* #GP taken */

static void on_gp(struct trap_frame *f)
{
	trace_gps++;
	f->rip += 2; /* rdmsr and wrmsr are 0f 32 and 0f 30 */
}

TRACE_FN void trace_pio(uint64_t n);
void trace_pio(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("outb %%al, %w1" ::"a"((uint8_t)i),
				 "Nd"(TRACE_PIO_PORT)
				 : "memory");
}

TRACE_FN void trace_mmio(uint64_t n);
void trace_mmio(uint64_t n)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)TRACE_MMIO_GPA;
	uint32_t sink = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (i % 2 == 0)
			*p = (uint32_t)i;
		else
			sink += *p;
	}
	(void)sink;
}

TRACE_FN void trace_rdmsr(uint64_t n);
void trace_rdmsr(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint32_t lo = 0, hi = 0;

		__asm__ volatile("rdmsr"
				 : "+a"(lo), "+d"(hi)
				 : "c"(TRACE_MSR)
				 : "memory");
	}
}

TRACE_FN void trace_wrmsr(uint64_t n);
void trace_wrmsr(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("wrmsr" ::"c"(TRACE_MSR), "a"((uint32_t)i),
				 "d"(0)
				 : "memory");
}

/* The known chain; the empty asm after each call keeps it a call. */
TRACE_FN void trace_c(uint64_t k);
void trace_c(uint64_t k)
{
	/* On the stack: a frame of its own, so the walk finds trace_b. */
	volatile uint64_t mark = k;

	__asm__ volatile("outb %%al, %w1" ::"a"((uint8_t)mark),
			 "Nd"(TRACE_MARK_PORT)
			 : "memory");
}

TRACE_FN void trace_b(uint64_t k);
void trace_b(uint64_t k)
{
	trace_c(k);
	__asm__ volatile("" ::: "memory");
}

TRACE_FN void trace_a(uint64_t k);
void trace_a(uint64_t k)
{
	trace_b(k);
	__asm__ volatile("" ::: "memory");
}

static bool opt(const char *key, uint64_t *v)
{
	if (cmdline_get_u64(rt_cmdline, key, v) >= 0)
		return true;
	rt_printf("@bad option %s: expected a number\n", key);
	return false;
}

int guest_main(void)
{
	uint64_t pio = 0, mmio = 0, rd = 0, wr = 0, chain = 0, rounds = 1;

	if (!opt("pio", &pio) || !opt("mmio", &mmio) || !opt("rdmsr", &rd) ||
	    !opt("wrmsr", &wr) || !opt("chain", &chain) ||
	    !opt("rounds", &rounds))
		return GUEST_EXIT_FAIL;
	trap_set_handler(13, on_gp);
	rt_printf("@pio=%llu port=%#x mmio=%llu gpa=%#lx rdmsr=%llu "
		  "wrmsr=%llu msr=%#x chain=%llu rounds=%llu\n",
		  (unsigned long long)pio, TRACE_PIO_PORT,
		  (unsigned long long)mmio, (unsigned long)TRACE_MMIO_GPA,
		  (unsigned long long)rd, (unsigned long long)wr, TRACE_MSR,
		  (unsigned long long)chain, (unsigned long long)rounds);
	if (cmdline_has(rt_cmdline, "wait")) {
		rt_printf("@waiting for trace_go\n");
		while (!trace_go)
			cpu_relax();
	}
	for (uint64_t r = 0; rounds == 0 || r < rounds; r++) {
		trace_pio(pio);
		trace_mmio(mmio);
		trace_rdmsr(rd);
		trace_wrmsr(wr);
		for (uint64_t k = 0; k < chain; k++)
			trace_a(k);
	}
	rt_printf("@done pio=%llu mmio=%llu rdmsr=%llu wrmsr=%llu chain=%llu "
		  "gp=%llu\n",
		  (unsigned long long)(pio * rounds),
		  (unsigned long long)(mmio * rounds),
		  (unsigned long long)(rd * rounds),
		  (unsigned long long)(wr * rounds),
		  (unsigned long long)(chain * rounds),
		  (unsigned long long)trace_gps);
	if (trace_gps != (rd + wr) * rounds) {
		rt_printf("@FAIL: %llu #GPs, expected %llu\n",
			  (unsigned long long)trace_gps,
			  (unsigned long long)((rd + wr) * rounds));
		return GUEST_EXIT_FAIL;
	}
	if (cmdline_has(rt_cmdline, "hold")) {
		for (;;)
			cpu_relax();
	}
	return GUEST_EXIT_PASS;
}
