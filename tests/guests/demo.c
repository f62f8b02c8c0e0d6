/*
 * demo.c: the guest `make run` boots (vitro -c 2 -m 256M -k demo.elf).
 *
 * It starts every vCPU, runs a LAPIC timer on each, and on every tick each
 * vCPU does one step of a small task (the length of the next Collatz
 * chain).  The BSP prints a status line every interval and pings the APs
 * with an IPI; a key on COM1 (UART interrupt) prints one at once.  Named
 * functions and per-CPU globals give a debugger something to look at:
 * break on demo_task_step, watch demo_steps[1], bt from demo_collatz_len.
 *
 * Options: exit-after=N (leave with GUEST_EXIT_PASS after N status
 * lines), interval=MS (status period, default 2000), hz=N (timer rate,
 * default 100), fault (read a non-canonical address after the first
 * status line: the runtime's #GP report, GUEST_EXIT_EXCEPTION).
 *
 * Each CPU writes only its own slot of the demo_* arrays; the BSP reads
 * them all for the status line.
 */
#include "rt.h"

#define DEMO_TIMER_VECTOR 0x40
#define DEMO_IPI_VECTOR 0x41
#define DEMO_UART_VECTOR 0x42

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))

#define UART_RBR 0 /* receive buffer */
#define UART_IER 1
#define UART_IIR 2
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_DR 0x01

const char guest_name[] = "demo";

/* Global, never inlined: a debugger finds them by name. */
#define DEMO_FN __attribute__((noinline))
DEMO_FN uint64_t demo_collatz_len(uint64_t n);
DEMO_FN void demo_task_step(uint32_t cpu);
DEMO_FN void demo_task_loop(uint32_t cpu, bool bsp);
DEMO_FN void demo_status_print(void);
DEMO_FN void demo_fault(void);
void demo_timer_irq(struct trap_frame *f);
void demo_ipi_irq(struct trap_frame *f);
void demo_uart_irq(struct trap_frame *f);
void demo_ap_main(uint32_t cpu) RT_NORETURN;

struct demo_config {
	uint64_t exit_after; /* status lines before exiting; 0 = never */
	uint64_t interval_ms; /* between status lines */
	uint64_t hz; /* timer interrupts per second, per CPU */
	bool fault; /* take an exception after the first status line */
};

struct demo_config demo_config = { 0, 2000, 100, false };
uint32_t demo_ncpus;
uint64_t demo_memory_mib;
volatile uint64_t demo_status_lines;
volatile bool demo_go; /* the BSP knows demo_ncpus: APs may start */
volatile bool demo_status_wanted; /* a key was pressed */
volatile uint64_t demo_keys; /* characters received on COM1 */

/* Per CPU, indexed by cpu_index(). */
volatile uint64_t demo_ticks[GUEST_MAX_CPUS]; /* timer interrupts taken */
volatile uint64_t demo_ipis[GUEST_MAX_CPUS]; /* IPIs from the BSP taken */
volatile uint64_t demo_steps[GUEST_MAX_CPUS]; /* task steps done */
volatile uint64_t demo_seed[GUEST_MAX_CPUS]; /* next number to try */
volatile uint64_t demo_best_len[GUEST_MAX_CPUS]; /* longest chain so far */
volatile uint64_t demo_best_seed[GUEST_MAX_CPUS]; /* ... and where */

uint64_t demo_collatz_len(uint64_t n)
{
	uint64_t len = 1;

	while (n != 1) {
		n = (n & 1) ? 3 * n + 1 : n / 2;
		len++;
	}
	return len;
}

void demo_task_step(uint32_t cpu)
{
	uint64_t n = demo_seed[cpu], len = demo_collatz_len(n);

	if (len > demo_best_len[cpu]) {
		demo_best_len[cpu] = len;
		demo_best_seed[cpu] = n;
	}
	/* CPUs take interleaved numbers, so they never repeat each other. */
	demo_seed[cpu] = n + demo_ncpus;
	demo_steps[cpu]++;
}

void demo_timer_irq(struct trap_frame *f)
{
	demo_ticks[cpu_index()]++;
	lapic_eoi();
}

void demo_ipi_irq(struct trap_frame *f)
{
	demo_ipis[cpu_index()]++;
	lapic_eoi();
}

void demo_uart_irq(struct trap_frame *f)
{
	int n;

	inb(COM1_PORT + UART_IIR);
	for (n = 0; n < 64 && (inb(COM1_PORT + UART_LSR) & UART_LSR_DR); n++) {
		inb(COM1_PORT + UART_RBR);
		demo_keys++;
		demo_status_wanted = true;
	}
	lapic_eoi();
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + IOAPIC_REGSEL) = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + IOAPIC_WIN) = v;
}

/* COM1's receive interrupt, through the IOAPIC (ISA IRQ 4 is pin 4). */
static void demo_uart_irq_enable(void)
{
	trap_set_handler(DEMO_UART_VECTOR, demo_uart_irq);
	ioapic_write(IOAPIC_REDTBL(COM1_IRQ) + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_REDTBL(COM1_IRQ), DEMO_UART_VECTOR);
	outb(COM1_PORT + UART_MCR, 0x0b); /* DTR, RTS, OUT2 gates the IRQ */
	outb(COM1_PORT + UART_IER, 0x01); /* received data available */
}

void demo_status_print(void)
{
	uint64_t us = time_us();
	uint32_t i, shown = demo_ncpus < 8 ? demo_ncpus : 8;

	demo_status_lines++;
	rt_printf("@status %llu at %llu.%02llu s:",
		  (unsigned long long)demo_status_lines,
		  (unsigned long long)(us / 1000000),
		  (unsigned long long)(us / 10000 % 100));
	for (i = 0; i < shown; i++)
		rt_printf(" cpu%u ticks=%llu steps=%llu ipis=%llu best=%llu%s",
			  i, (unsigned long long)demo_ticks[i],
			  (unsigned long long)demo_steps[i],
			  (unsigned long long)demo_ipis[i],
			  (unsigned long long)demo_best_len[i],
			  i + 1 < shown ? "," : "");
	rt_printf("%s\n", shown < demo_ncpus ? " ..." : "");
}

/* A non-canonical read: #GP, which the runtime reports before it exits. */
void demo_fault(void)
{
	rt_printf("@reading a non-canonical address: expect a #GP report\n");
	(void)*(volatile uint64_t *)0x8000000000000000ull;
}

/* Every CPU: wait for a tick, do one step per tick taken. */
void demo_task_loop(uint32_t cpu, bool bsp)
{
	uint64_t seen = 0, next_status = demo_config.interval_ms * 1000;

	for (;;) {
		irq_enable_and_halt();
		irq_disable();
		while (seen != demo_ticks[cpu]) {
			seen++;
			demo_task_step(cpu);
		}
		if (!bsp)
			continue;
		if (time_us() >= next_status || demo_status_wanted) {
			demo_status_wanted = false;
			next_status =
				time_us() + demo_config.interval_ms * 1000;
			demo_status_print();
			if (demo_ncpus > 1)
				lapic_send_ipi_others(DEMO_IPI_VECTOR);
			if (demo_config.fault)
				demo_fault();
			if (demo_config.exit_after &&
			    demo_status_lines >= demo_config.exit_after)
				return;
		}
	}
}

static void demo_cpu_start(uint32_t cpu)
{
	demo_seed[cpu] = 1 + cpu;
	lapic_timer_periodic(DEMO_TIMER_VECTOR,
			     (uint32_t)(1000000 / demo_config.hz));
}

void demo_ap_main(uint32_t cpu)
{
	while (!demo_go)
		cpu_relax();
	demo_cpu_start(cpu);
	demo_task_loop(cpu, false);
	rt_panic("cpu %u left its task loop", cpu);
}

static bool demo_option(const char *key, uint64_t *val, uint64_t min)
{
	int r = cmdline_get_u64(rt_cmdline, key, val);

	if (r < 0 || (r > 0 && *val < min)) {
		rt_printf("@bad option %s: expected a number >= %llu\n", key,
			  (unsigned long long)min);
		return false;
	}
	return true;
}

int guest_main(void)
{
	if (!demo_option("exit-after", &demo_config.exit_after, 0) ||
	    !demo_option("interval", &demo_config.interval_ms, 10) ||
	    !demo_option("hz", &demo_config.hz, 1))
		return GUEST_EXIT_FAIL;
	if (demo_config.hz > 10000)
		demo_config.hz = 10000;
	demo_config.fault = cmdline_has(rt_cmdline, "fault");

	lapic_enable();
	time_init();
	trap_set_handler(DEMO_TIMER_VECTOR, demo_timer_irq);
	trap_set_handler(DEMO_IPI_VECTOR, demo_ipi_irq);
	demo_ncpus = smp_start(demo_ap_main);
	demo_go = true;
	demo_memory_mib = mb_memory_size(rt_mbi) >> 20;

	rt_printf("vitro demo: %u vCPUs, %llu MiB, cmdline '%s'\n", demo_ncpus,
		  (unsigned long long)demo_memory_mib, rt_cmdline);
	rt_printf("@timer %llu Hz on every vCPU, status every %llu ms; "
		  "TSC %llu kHz, LAPIC timer %llu kHz\n",
		  (unsigned long long)demo_config.hz,
		  (unsigned long long)demo_config.interval_ms,
		  (unsigned long long)rt_tsc_khz,
		  (unsigned long long)rt_lapic_khz);

	demo_uart_irq_enable();
	demo_cpu_start(0);
	demo_task_loop(0, true);
	lapic_timer_stop();
	return GUEST_EXIT_PASS;
}
