/*
 * rt.h: the runtime shared by the guest programs in tests/guests: boot
 * entry, COM1 console and printf, exit port, command line, exceptions and
 * interrupts, time, and (64-bit guests) LAPIC and SMP start-up.
 *
 * A guest defines guest_name and guest_main(); the entry code sets up the
 * console, the GDT and the IDT, then calls guest_main() on the BSP and exits
 * through DEBUG_EXIT_PORT with what it returns.
 *
 * Threading: console output is serialised by a lock (a whole rt_printf
 * call is one unit); everything else is per-CPU or set up by the BSP before
 * it starts the APs.  Globals are deliberate: a guest has no heap.
 */
#ifndef GUESTS_RT_H
#define GUESTS_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/platform.h"
#include "tests/guests/guest_abi.h"
#include "multiboot.h"
#include "rt_defs.h"
#include "x86.h"

#define RT_NORETURN __attribute__((noreturn))
#define RT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RT_ALIGNED(n) __attribute__((aligned(n)))
/*
 * Tables the CPU reads by itself (GDT, IDT) go on pages of their own, so a
 * debugger may put read watchpoints on the data around them.
 */
#define RT_CPU_TABLE __attribute__((section(".data.cpu")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Provided by each guest. */
extern const char guest_name[];
int guest_main(void);

/* Boot state, valid from guest_main() on. */
extern uint32_t rt_boot_magic; /* EAX at entry */
extern const struct mb_info *rt_mbi; /* NULL if the magic was wrong */
extern const char *rt_cmdline; /* never NULL; "" without one */

/* Console on COM1 (polled).  rt_printf prints "%s: " guest_name first
 * when the format starts with '@'. */
void uart_init(void);
void uart_putc(char c);
int rt_printf(const char *fmt, ...) RT_PRINTF(1, 2);
int rt_vprintf(const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t size, const char *fmt, ...) RT_PRINTF(3, 4);
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/*
 * Leave through DEBUG_EXIT_PORT; if nothing listens there (vitro without
 * --debug-exit), a pass powers off through ACPI and anything else halts.
 */
void rt_exit(int code) RT_NORETURN;
/* Print "<guest>: panic: ..." and exit with GUEST_EXIT_FAIL. */
void rt_panic(const char *fmt, ...) RT_PRINTF(1, 2) RT_NORETURN;

/* Freestanding string functions (gcc may call the first four itself). */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/*
 * The command line is space-separated words; options are key=value (or a
 * bare key).  A first word without '=' (a boot loader's kernel path) is
 * just another word.  cmdline_get copies the value of `key` into buf (NUL
 * terminated, truncated to size) and returns its full length, or -1 when
 * the key is absent.  cmdline_get_u64 returns 1 and sets *val when the key
 * has a number (decimal, or 0x hex; K, M, G suffixes multiply), 0 when it
 * is absent, -1 when its value is not a number.
 */
int cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);
int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *val);
bool cmdline_has(const char *cmdline, const char *key);
/* Parse a whole string as cmdline_get_u64 does; false if it is not one. */
bool str_to_u64(const char *s, size_t len, uint64_t *val);

/*
 * Memory below 4 GiB and above, from the Multiboot memory map: the sum of
 * available regions, plus the 1 MiB that the conventional-memory map
 * leaves out, in bytes.  0 without a memory map.
 */
uint64_t mb_memory_size(const struct mb_info *mbi);

/* Spin locks (interrupts are not touched: see console_lock). */
struct spinlock {
	volatile uint32_t locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/*
 * Exceptions and interrupts.  The IDT covers all 256 vectors; a vector
 * with no handler prints the vector, error code, rip, cr2 and CPU and
 * exits with GUEST_EXIT_EXCEPTION.  Handlers run with interrupts off and
 * must send their own EOI.
 */
struct trap_frame {
#ifdef __x86_64__
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
#else
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
#endif
};

typedef void (*trap_handler_fn)(struct trap_frame *f);

void trap_init(void); /* build the IDT (BSP, once) */
void trap_load(void); /* load it on this CPU */
void trap_set_handler(unsigned int vector, trap_handler_fn fn);
/* Report an exception and exit; for trap code outside the IDT's stubs. */
void trap_report(uint32_t vector, uint32_t error, uint64_t rip,
		 uint64_t cr2) RT_NORETURN;
/* Called by the stubs. */
void trap_dispatch(struct trap_frame *f);

#ifdef __x86_64__
/*
 * Time (64-bit guests).  time_init (BSP, once, LAPIC enabled) measures the
 * TSC and the LAPIC timer against PIT channel 2.  Without a working PIT it
 * falls back to CPUID leaf 0x15/0x16 or 1 GHz, and says so.
 */
void time_init(void);
extern uint64_t rt_tsc_khz;
uint64_t time_us(void); /* since time_init */
void delay_us(uint64_t us); /* spins */

/* Per-CPU data; %gs points at this CPU's entry. */
struct percpu {
	uint32_t index; /* 0 is the BSP, then the order APs checked in */
	uint32_t apic_id;
	struct percpu *self;
	uint64_t irqs; /* interrupts taken */
};

extern struct percpu rt_percpu[GUEST_MAX_CPUS];
extern volatile uint32_t rt_ncpus; /* CPUs online, the BSP included */

static inline uint32_t cpu_index(void)
{
	uint32_t i;

	__asm__ volatile("movl %%gs:0, %0" : "=r"(i));
	return i;
}

/* xAPIC at LAPIC_BASE. */
#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

void lapic_enable(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Periodic timer on `vector`; needs time_init. */
void lapic_timer_periodic(uint8_t vector, uint32_t period_us);
void lapic_timer_stop(void);
extern uint64_t rt_lapic_khz; /* LAPIC timer ticks per ms, divide by 16 */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_ipi_others(uint8_t vector);
/* INIT, SIPI, SIPI to all others, start-up page = vector << 12. */
void lapic_send_init_sipi_all(uint8_t vector);

/*
 * Halt until `us` have passed, on a one-shot timer (RT_VECTOR_WAKE), so a
 * waiting vCPU gives its host CPU back.  It takes over this CPU's LAPIC
 * timer: not while a periodic timer runs there.
 */
void sleep_us(uint64_t us);

/*
 * Start every other CPU.  Each runs ap_main(its index) on its own stack
 * with the runtime's GDT, IDT, page tables and %gs set up and its LAPIC
 * enabled, interrupts off.  Returns the number of CPUs, the BSP included.
 * ap_main must not return.
 */
typedef void (*ap_main_fn)(uint32_t index) RT_NORETURN;
uint32_t smp_start(ap_main_fn ap_main);
#else
static inline uint32_t cpu_index(void)
{
	return 0;
}
#endif

#endif
