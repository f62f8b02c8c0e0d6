/*
 * dbgtrap.c: a guest whose own debug exceptions must reach it, whatever a
 * debugger has planted (tests/gdb/trap.sh): int3 instructions, a stretch
 * of code it single-steps itself with RFLAGS.TF, and icebp.  Its handlers
 * check what the CPU pushed: #BP's rip must be the address right after
 * the int3 (a trap), each single-step #DB must say BS in DR6 and come
 * after the instruction before it, icebp's #DB must return past it.
 *
 * Options: int3=N (N int3s), tf=1 (the single-stepped stretch), icebp=N
 * (N icebps).  It prints one line per part and exits with pass when every
 * count and address is right, fail otherwise.  One CPU, interrupts off.
 *
 * For debuggers: dbgtrap_tf_mid is an instruction in the middle of the
 * single-stepped stretch (a place for hbreak), dbgtrap_done is called
 * once all parts ran, dbgtrap_* globals hold the counts.
 */
#include "rt.h"

const char guest_name[] = "dbgtrap";

#define DBG_FN __attribute__((noinline))
#define DR6_BS (1UL << 14)
#define TF_NOPS 8 /* instructions between the popf that sets TF and the end */

volatile uint64_t dbgtrap_int3s; /* #BP taken */
volatile uint64_t dbgtrap_int3_bad; /* #BP with rip not past the int3 */
volatile uint64_t dbgtrap_tf_traps; /* single-step #DB (DR6.BS) taken */
volatile uint64_t dbgtrap_tf_bad; /* #DB in the stretch without BS */
volatile uint64_t dbgtrap_icebps; /* icebp #DB taken */
volatile uint64_t dbgtrap_icebp_bad; /* with rip not past the icebp */
volatile uint64_t dbgtrap_stray; /* #DB from anywhere else */

/* Labels in the asm below. */
extern const char dbgtrap_after_int3[], dbgtrap_after_icebp[];
extern const char dbgtrap_tf_begin[], dbgtrap_tf_mid[], dbgtrap_tf_end[];

DBG_FN void dbgtrap_int3_run(uint64_t n);
DBG_FN void dbgtrap_icebp_run(uint64_t n);
DBG_FN void dbgtrap_tf_run(void);
DBG_FN void dbgtrap_done(void);

static unsigned long read_dr6(void)
{
	unsigned long v;

	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static void write_dr6(unsigned long v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

static void on_bp(struct trap_frame *f)
{
	dbgtrap_int3s++;
	if (f->rip != (uint64_t)dbgtrap_after_int3)
		dbgtrap_int3_bad++;
}

static void on_db(struct trap_frame *f)
{
	unsigned long dr6 = read_dr6();

	/* DR6 is sticky: clear it for the next one (bits 4-11, 16-31 set). */
	write_dr6(0xffff0ff0UL);
	if (f->rip == (uint64_t)dbgtrap_after_icebp) {
		dbgtrap_icebps++;
		return;
	}
	if (f->rip > (uint64_t)dbgtrap_tf_begin &&
	    f->rip <= (uint64_t)dbgtrap_tf_end) {
		dbgtrap_tf_traps++;
		if (!(dr6 & DR6_BS))
			dbgtrap_tf_bad++;
		return;
	}
	dbgtrap_stray++;
	/* A TF left on by mistake must not trap forever. */
	f->rflags &= ~0x100UL;
}

/* One site each (the labels must be unique): called n times. */
DBG_FN void dbgtrap_int3(void);
void dbgtrap_int3(void)
{
	__asm__ volatile("int3\n\t"
			 ".globl dbgtrap_after_int3\n"
			 "dbgtrap_after_int3:" ::
				 : "memory");
}

DBG_FN void dbgtrap_icebp(void);
void dbgtrap_icebp(void)
{
	__asm__ volatile(".byte 0xf1\n\t"
			 ".globl dbgtrap_after_icebp\n"
			 "dbgtrap_after_icebp:" ::
				 : "memory");
}

void dbgtrap_int3_run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		dbgtrap_int3();
}

void dbgtrap_icebp_run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		dbgtrap_icebp();
	/* An icebp whose #DB came back before it would be counted as stray. */
	dbgtrap_icebp_bad = n - dbgtrap_icebps;
}

/*
 * TF set by popf traps after the instruction that follows the popf, and
 * after every one until the popf that clears it (which traps too, as TF
 * was set when it began): TF_NOPS nops, pushf, and, popf.
 */
void dbgtrap_tf_run(void)
{
	__asm__ volatile("pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 ".globl dbgtrap_tf_begin\n"
			 "dbgtrap_tf_begin:\n\t"
			 "nop\n\tnop\n\tnop\n\tnop\n\t"
			 ".globl dbgtrap_tf_mid\n"
			 "dbgtrap_tf_mid:\n\t"
			 "nop\n\tnop\n\tnop\n\tnop\n\t"
			 "pushfq\n\t"
			 "andq $~0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 ".globl dbgtrap_tf_end\n"
			 "dbgtrap_tf_end:" ::
				 : "memory", "cc");
}

void dbgtrap_done(void)
{
	__asm__ volatile("" ::: "memory");
}

int guest_main(void)
{
	uint64_t int3s = 0, tf = 0, icebps = 0;
	bool pass = true;

	if (cmdline_get_u64(rt_cmdline, "int3", &int3s) < 0 ||
	    cmdline_get_u64(rt_cmdline, "tf", &tf) < 0 ||
	    cmdline_get_u64(rt_cmdline, "icebp", &icebps) < 0) {
		rt_printf("@bad option: expected int3=N, tf=1, icebp=N\n");
		return GUEST_EXIT_FAIL;
	}
	trap_set_handler(1, on_db);
	trap_set_handler(3, on_bp);
	write_dr6(0xffff0ff0UL);
	if (int3s) {
		dbgtrap_int3_run(int3s);
		rt_printf("@int3: %llu of %llu taken, %llu with a wrong rip\n",
			  (unsigned long long)dbgtrap_int3s,
			  (unsigned long long)int3s,
			  (unsigned long long)dbgtrap_int3_bad);
		pass &= dbgtrap_int3s == int3s && !dbgtrap_int3_bad;
	}
	if (tf) {
		dbgtrap_tf_run();
		rt_printf(
			"@tf: %llu single-step traps of %u, %llu without BS\n",
			(unsigned long long)dbgtrap_tf_traps, TF_NOPS + 3,
			(unsigned long long)dbgtrap_tf_bad);
		pass &= dbgtrap_tf_traps == TF_NOPS + 3 && !dbgtrap_tf_bad;
	}
	if (icebps) {
		dbgtrap_icebp_run(icebps);
		rt_printf("@icebp: %llu of %llu taken past the icebp\n",
			  (unsigned long long)dbgtrap_icebps,
			  (unsigned long long)icebps);
		pass &= dbgtrap_icebps == icebps;
	}
	if (dbgtrap_stray) {
		rt_printf("@%llu stray #DB\n",
			  (unsigned long long)dbgtrap_stray);
		pass = false;
	}
	dbgtrap_done();
	return pass ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
