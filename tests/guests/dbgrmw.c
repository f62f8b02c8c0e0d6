/*
 * dbgrmw.c: locked read-modify-writes from every CPU on one page, for the
 * watchpoint tests (tests/gdb/rmw.sh).  A debugger watches dbgrmw_watched
 * with a read or access watchpoint: that makes the whole page, and so
 * the counters beside it, inaccessible, and every access to them goes
 * through vitro.  Each CPU adds 1 to each counter n times, with three
 * kinds of atomic instruction:
 *   dbgrmw_xadd  lock xadd (__atomic_fetch_add)
 *   dbgrmw_cas   a lock cmpxchg loop
 *   dbgrmw_held  a plain increment under a spin lock taken with xchg
 *                (dbgrmw_lock), whose lock prefix is implicit
 * An update lost by a read-modify-write that was not atomic shows as a
 * count short of CPUs * n.  The BSP waits for the others and exits with
 * pass when all three are exact.
 *
 * This file is compiled with -fno-toplevel-reorder: the watched page
 * holds these and nothing else (no code, stack or table the CPU reads by
 * itself), between two page-aligned symbols.
 *
 * Option: n=N (default 1000).
 */
#include "rt.h"

const char guest_name[] = "dbgrmw";

/* The watched page: these and nothing else. */
volatile uint64_t dbgrmw_xadd RT_ALIGNED(4096);
volatile uint64_t dbgrmw_cas;
volatile uint64_t dbgrmw_held;
struct spinlock dbgrmw_lock;
volatile uint64_t dbgrmw_watched; /* a debugger's watchpoint goes here */
volatile uint8_t dbgrmw_page_end[8] RT_ALIGNED(4096);

/* Elsewhere. */
volatile uint32_t dbgrmw_done; /* CPUs that finished */
uint64_t dbgrmw_n = 1000;

__attribute__((noinline)) void dbgrmw_work(void);
void dbgrmw_work(void)
{
	for (uint64_t i = 0; i < dbgrmw_n; i++) {
		uint64_t old = dbgrmw_cas;

		__atomic_fetch_add(&dbgrmw_xadd, 1, __ATOMIC_SEQ_CST);
		while (!__atomic_compare_exchange_n(&dbgrmw_cas, &old, old + 1,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST))
			;
		spin_lock(&dbgrmw_lock);
		dbgrmw_held = dbgrmw_held + 1;
		spin_unlock(&dbgrmw_lock);
	}
	__atomic_fetch_add(&dbgrmw_done, 1, __ATOMIC_SEQ_CST);
}

__attribute__((noreturn)) void dbgrmw_ap_main(uint32_t cpu);
void dbgrmw_ap_main(uint32_t cpu)
{
	dbgrmw_work();
	for (;;)
		halt();
}

int guest_main(void)
{
	uint64_t want;
	uint32_t n;

	if (cmdline_get_u64(rt_cmdline, "n", &dbgrmw_n) < 0) {
		rt_printf("@bad option: expected n=N\n");
		return GUEST_EXIT_FAIL;
	}
	lapic_enable();
	time_init();
	n = smp_start(dbgrmw_ap_main);
	rt_printf("@%u CPUs, %llu updates each, counters at %p\n", n,
		  (unsigned long long)dbgrmw_n, (void *)&dbgrmw_xadd);
	dbgrmw_work();
	while (__atomic_load_n(&dbgrmw_done, __ATOMIC_SEQ_CST) < n)
		cpu_relax();
	want = n * dbgrmw_n;
	rt_printf("@lock xadd %llu, lock cmpxchg %llu, xchg lock %llu; "
		  "expected %llu each\n",
		  (unsigned long long)dbgrmw_xadd,
		  (unsigned long long)dbgrmw_cas,
		  (unsigned long long)dbgrmw_held, (unsigned long long)want);
	return dbgrmw_xadd == want && dbgrmw_cas == want &&
			       dbgrmw_held == want ?
		       GUEST_EXIT_PASS :
		       GUEST_EXIT_FAIL;
}
