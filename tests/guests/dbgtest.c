/*
 * dbgtest.c: a guest for the gdb tests (tests/gdb/): globals to watch,
 * alone on a data page of their own; a loop that writes, reads and
 * updates them in a fixed order; a known fs_base; and an alias mapping so
 * that a linear address and the physical address behind it differ.
 *
 * A read or access watchpoint makes its whole page inaccessible to the
 * guest, so the watched globals share their page with nothing the CPU
 * uses by itself (code, GDT, IDT, stacks, page tables).  This file is
 * compiled with -fno-toplevel-reorder so that they land in the order
 * defined, between two page-aligned symbols (the gdb tests check it).
 *
 * Options: rounds=N, exit with pass after N rounds (default: never; the
 * loop reads the limit from dbg_stop_after every round, so a debugger may
 * set it); int3=N, first run N int3 instructions of the guest's own, each
 * taken by its #BP handler (counted in dbg_int3s), whatever breakpoints a
 * debugger has planted.  One CPU; interrupts stay off.
 */
#include "rt.h"

const char guest_name[] = "dbgtest";

#define DBG_FN __attribute__((noinline))
#define MSR_FS_BASE 0xc0000100

/* fs_base as the guest leaves it, for `info registers`. */
#define DBG_FS_BASE 0x5a5a000ULL
/*
 * A 2 MiB page at this linear address maps guest-physical 0 (the guest's
 * own image is there, at 1 MiB), through the last entry of the boot page
 * directory for the first GiB.  With less than 1 GiB of RAM nothing is at
 * this physical address.
 */
#define DBG_ALIAS 0x3fe00000ULL
#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL

/* The watched page: these and nothing else, in this order. */
volatile uint64_t dbg_w0 RT_ALIGNED(4096); /* written every round: k */
volatile uint64_t dbg_w1; /* k + 1 */
volatile uint64_t dbg_w2; /* k + 2 */
volatile uint64_t dbg_w3; /* k + 3 */
volatile uint64_t dbg_w4; /* k + 4 */
volatile uint64_t dbg_w5; /* k + 5 */
volatile uint64_t dbg_w6; /* k + 6 */
volatile uint64_t dbg_ro; /* read every round, written once at start */
volatile uint64_t dbg_rw; /* read, then written with one more */
/* The start of the next page: nothing of ours after the watched ones. */
volatile uint8_t dbg_watch_end[8] RT_ALIGNED(4096);

/* Elsewhere. */
volatile uint64_t dbg_rounds; /* rounds done */
volatile uint64_t dbg_sum; /* sum of dbg_ro as read */
volatile uint64_t dbg_stop_after; /* exit with pass at this round; 0 never */
volatile uint64_t dbg_int3s; /* #BP exceptions taken */
uint64_t dbg_alias = DBG_ALIAS; /* for the tests: where the alias is */

DBG_FN void dbg_round(uint64_t k);
DBG_FN uint64_t dbg_add(uint64_t a, uint64_t b);
DBG_FN void dbg_alias_map(void);
DBG_FN void dbg_int3_run(uint64_t n);

/* A leaf a debugger can break in, change arguments of, and finish. */
uint64_t dbg_add(uint64_t a, uint64_t b)
{
	return a + b;
}

void dbg_round(uint64_t k)
{
	dbg_w0 = k;
	dbg_w1 = k + 1;
	dbg_w2 = k + 2;
	dbg_w3 = k + 3;
	dbg_w4 = k + 4;
	dbg_w5 = k + 5;
	dbg_w6 = k + 6;
	dbg_sum = dbg_add(dbg_sum, dbg_ro);
	dbg_rw = dbg_rw + 1;
}

/* Point the last 2 MiB entry of the first GiB's page directory at 0. */
void dbg_alias_map(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & PTE_ADDR);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & PTE_ADDR);
	uint64_t *pd = (uint64_t *)(pdpt[0] & PTE_ADDR);

	pd[(DBG_ALIAS >> 21) & 511] = PTE_P | PTE_RW | PTE_PS;
	invlpg(DBG_ALIAS);
}

static void dbg_bp_trap(struct trap_frame *f)
{
	dbg_int3s++;
}

/* The guest's own breakpoints: #BP is a trap, so each returns past it. */
void dbg_int3_run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("int3" ::: "memory");
}

int guest_main(void)
{
	uint64_t k, rounds = 0, int3s = 0;

	if (cmdline_get_u64(rt_cmdline, "rounds", &rounds) < 0 ||
	    cmdline_get_u64(rt_cmdline, "int3", &int3s) < 0) {
		rt_printf("@bad option: expected rounds=N, int3=N\n");
		return GUEST_EXIT_FAIL;
	}
	dbg_stop_after = rounds;
	if (int3s) {
		trap_set_handler(3, dbg_bp_trap);
		dbg_int3_run(int3s);
		rt_printf("@int3: %llu of %llu taken by the guest\n",
			  (unsigned long long)dbg_int3s,
			  (unsigned long long)int3s);
		if (dbg_int3s != int3s)
			return GUEST_EXIT_FAIL;
	}
	wrmsr(MSR_FS_BASE, DBG_FS_BASE);
	dbg_alias_map();
	dbg_ro = 42;
	rt_printf("@running: watched globals at %p, alias at %#llx\n",
		  (void *)&dbg_w0, (unsigned long long)DBG_ALIAS);
	for (k = 1;; k++) {
		dbg_round(k);
		dbg_rounds = k;
		if (dbg_stop_after && k >= dbg_stop_after)
			break;
	}
	rt_printf("@stopped after %llu rounds, sum %llu\n",
		  (unsigned long long)k, (unsigned long long)dbg_sum);
	return GUEST_EXIT_PASS;
}
