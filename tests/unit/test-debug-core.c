/*
 * test-debug-core.c: the debug core (monitor/debug/) without KVM, against
 * the fake libvmmapi of dbg_fake_vmm.c: parking and resuming, a bounded
 * stop with a vCPU that never parks, the bus's masks and drops, owners
 * and their reference counts, translation through the selected vCPU,
 * checked capabilities, the exits given back to the guest, a refused
 * setting at vm_run, and watchpoints (width, locked instructions,
 * fetches).
 *
 * Each fake vCPU is a thread that does what vcpu.c does around vm_run:
 * it parks while it is in the (fake) debug set, runs an exit the test
 * posts in its mailbox, or blocks "writing output" until told to go on,
 * and otherwise spins as a guest would.  The test speaks to the core
 * from the main thread, as the control thread does.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdbstub/gdb_target.h"
#include "monitor/debug/debug_int.h"
#include "monitor/debug/gdb_target.h"
#include "monitor/vitro.h"
#include "tests/tap.h"
#include "tests/unit/dbg_fake_vmm.h"

#define NCPU 2

/* A fake vCPU thread and its mailbox. */
struct fcpu {
	struct vitro_vcpu *vc;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;
	bool block_output; /* blocks in "output" until cleared */
	bool has_exit; /* an exit to run: vme, with vm_run's result r */
	struct vm_exit vme;
	int r;
	bool done; /* the exit was handled */
	bool handled; /* what the core said */
	atomic_ulong loops; /* times around the loop */
};

static struct vitro vm;
static struct vitro_vcpu vcpus[NCPU];
static struct fcpu fc[NCPU];
static struct dbg_core *d;

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait (a generous bound, for progress only) until cond holds. */
#define WAIT_FOR(cond)                          \
	({                                      \
		int n_ = 0;                     \
		while (!(cond) && n_++ < 20000) \
			usleep(500);            \
		(cond);                         \
	})

static void *vcpu_thread(void *arg)
{
	struct fcpu *f = arg;
	struct vitro_vcpu *vc = f->vc;

	for (;;) {
		struct vm_exit vme = { .exitcode = VM_EXITCODE_BOGUS };
		bool posted = false, handled = false;
		int r = 0;

		atomic_fetch_add(&f->loops, 1);
		dbg_vcpu_set_state(d, vc, VM_DBG_CPU_GUEST);
		pthread_mutex_lock(&f->lock);
		if (f->quit) {
			pthread_mutex_unlock(&f->lock);
			break;
		}
		if (fake_debug(vc->id)) {
			vme.exitcode = VM_EXITCODE_DEBUG;
		} else if (f->has_exit) {
			vme = f->vme;
			r = f->r;
			f->has_exit = false;
			posted = true;
		} else if (f->block_output) {
			dbg_vcpu_set_state(d, vc, VM_DBG_CPU_OUTPUT);
			while (f->block_output && !f->quit)
				pthread_cond_wait(&f->cond, &f->lock);
			pthread_mutex_unlock(&f->lock);
			dbg_vcpu_set_state(d, vc, VM_DBG_CPU_EXIT);
			continue;
		}
		pthread_mutex_unlock(&f->lock);
		if (!posted && vme.exitcode == VM_EXITCODE_BOGUS) {
			/*
			 * The guest runs; no exit comes back, so nothing the
			 * core recorded counts as applied yet (a test posts
			 * the exit, or the failure, that says).
			 */
			usleep(200);
			continue;
		}
		handled = dbg_vcpu_ran(d, vc, r, &vme);
		if (r == 0) {
			switch (vme.exitcode) {
			case VM_EXITCODE_DEBUG:
				dbg_vcpu_park(d, vc);
				break;
			case VM_EXITCODE_MMIO:
				handled = dbg_vcpu_memory_access(d, vc, &vme);
				break;
			default:
				handled = dbg_vcpu_exit(d, vc, &vme);
				break;
			}
		}
		if (posted) {
			pthread_mutex_lock(&f->lock);
			f->handled = handled;
			f->done = true;
			pthread_cond_broadcast(&f->cond);
			pthread_mutex_unlock(&f->lock);
		}
	}
	dbg_vcpu_exited(d, vc);
	return NULL;
}

/* Post an exit to vCPU i; with wait, until the core handled it. */
static void post(int i, const struct vm_exit *vme, int r)
{
	struct fcpu *f = &fc[i];

	pthread_mutex_lock(&f->lock);
	f->vme = *vme;
	f->r = r;
	f->done = false;
	f->has_exit = true;
	pthread_mutex_unlock(&f->lock);
}

static bool posted_done(int i)
{
	bool r;

	pthread_mutex_lock(&fc[i].lock);
	r = fc[i].done;
	pthread_mutex_unlock(&fc[i].lock);
	return r;
}

static void set_block(int i, bool on)
{
	pthread_mutex_lock(&fc[i].lock);
	fc[i].block_output = on;
	pthread_cond_broadcast(&fc[i].cond);
	pthread_mutex_unlock(&fc[i].lock);
}

static void setup(bool hold, enum dbg_bp_mode mode)
{
	struct dbg_host host = { .bp_mode = mode, .user_step = true };

	fake_vm_init();
	memset(&vm, 0, sizeof(vm));
	pthread_mutex_init(&vm.end_lock, NULL);
	vm.ctx = fake_ctx;
	vm.ncpus = NCPU;
	vm.vcpu = vcpus;
	for (int i = 0; i < NCPU; i++) {
		vcpus[i] = (struct vitro_vcpu){ .vm = &vm,
						.vcpu = fake_vcpus[i],
						.id = i };
	}
	d = dbg_create(&vm, hold);
	if (!d)
		tap_bail("dbg_create: %s", strerror(errno));
	dbg_host_set(d, &host);
	vm.dbg = d;
	for (int i = 0; i < NCPU; i++) {
		memset(&fc[i], 0, sizeof(fc[i]));
		fc[i].vc = &vcpus[i];
		pthread_mutex_init(&fc[i].lock, NULL);
		pthread_cond_init(&fc[i].cond, NULL);
		pthread_create(&fc[i].thread, NULL, vcpu_thread, &fc[i]);
	}
	/*
	 * A held vCPU whose thread has not started counts as stopped; the
	 * tests want threads that run.
	 */
	for (int i = 0; i < NCPU; i++)
		WAIT_FOR(atomic_load(&fc[i].loops) > 1);
}

static void teardown(void)
{
	vm_suspend(fake_ctx, VM_SUSPEND_POWEROFF);
	dbg_vm_ending(d, 1);
	for (int i = 0; i < NCPU; i++) {
		pthread_mutex_lock(&fc[i].lock);
		fc[i].quit = true;
		pthread_cond_broadcast(&fc[i].cond);
		pthread_mutex_unlock(&fc[i].lock);
		pthread_join(fc[i].thread, NULL);
	}
	dbg_destroy(d);
	d = NULL;
	vm.dbg = NULL;
}

/* Take events of sub until one of `type` (skipping others); false if none. */
static bool take_type(struct dbg_sub *s, uint32_t type, struct vm_event *ev)
{
	while (dbg_sub_take(s, ev)) {
		if (ev->type == type)
			return true;
	}
	return false;
}

/* Wait (a bound for progress only) for an event of `type`. */
static bool wait_event(struct dbg_sub *s, uint32_t type, struct vm_event *ev)
{
	for (int n = 0; n < 20000; n++) {
		if (take_type(s, type, ev))
			return true;
		usleep(500);
	}
	return false;
}

static bool all_parked(void)
{
	for (int i = 0; i < NCPU; i++)
		if (dbg_cpu_state(d, i) != VM_DBG_CPU_PARKED)
			return false;
	return true;
}

static void test_park_and_resume(void)
{
	struct vm_dbg_stop out;
	unsigned long before;
	int owner, r;

	setup(false, DBG_BP_INT3_EXIT);
	owner = dbg_owner_alloc(d, "test");
	ok(owner >= 0 && owner != d->local, "an owner id besides local's");
	WAIT_FOR(atomic_load(&fc[1].loops) > 2);
	r = dbg_stop(d, owner, -1, 5000, &out);
	is_int(r, 0, "stop all: every vCPU parked");
	ok(vm_cpuset_isset(&out.stopped, 0) && vm_cpuset_isset(&out.stopped, 1),
	   "both in the stopped set");
	ok(!vm_cpuset_isset(&out.late, 0) && !vm_cpuset_isset(&out.late, 1),
	   "none late");
	is_int(out.state[0], VM_DBG_CPU_PARKED, "vCPU 0 says parked");
	ok(fake_debug(0) && fake_debug(1), "both in vmm's debug set");
	ok(dbg_cpu_stopped(d, 0), "dbg_cpu_stopped");
	is_int(dbg_resume(d, owner, 1), 0, "resume vCPU 1 alone");
	before = atomic_load(&fc[1].loops);
	ok(WAIT_FOR(atomic_load(&fc[1].loops) > before + 5),
	   "vCPU 1 runs again");
	is_int(dbg_cpu_state(d, 0), VM_DBG_CPU_PARKED, "vCPU 0 stays parked");
	ok(!fake_debug(1) && fake_debug(0), "debug set follows");
	is_int(dbg_resume(d, owner, -1), 0, "resume all");
	before = atomic_load(&fc[0].loops);
	ok(WAIT_FOR(atomic_load(&fc[0].loops) > before + 5), "vCPU 0 runs");
	is_int(dbg_stop(d, owner, 7, 100, NULL), -EINVAL, "stop of no vCPU");
	teardown();

	/* Held from the start (-G w): parked before the first instruction. */
	setup(true, DBG_BP_INT3_EXIT);
	ok(WAIT_FOR(all_parked()), "held from creation: both park at once");
	is_int(atomic_load(&fc[0].loops) < 3, 1, "... without running");
	is_int(dbg_resume(d, d->local, -1), 0, "let them go");
	ok(WAIT_FOR(atomic_load(&fc[0].loops) > 5), "they run");
	teardown();
}

static void test_bounded_stop(void)
{
	struct vm_dbg_stop out;
	struct dbg_sub *s;
	struct vm_event ev;
	int owner, r;

	setup(false, DBG_BP_INT3_EXIT);
	owner = dbg_owner_alloc(d, "test");
	s = dbg_subscribe(d, 1u << VM_EVENT_MESSAGE | 1u << VM_EVENT_STOP);
	set_block(1, true);
	ok(WAIT_FOR(dbg_cpu_state(d, 1) == VM_DBG_CPU_OUTPUT),
	   "vCPU 1 blocks on output");
	r = dbg_stop(d, owner, -1, 100, &out);
	is_int(r, -ETIMEDOUT, "stop all with a vCPU that never parks: bounded");
	ok(vm_cpuset_isset(&out.late, 1) && !vm_cpuset_isset(&out.late, 0),
	   "vCPU 1 named late, vCPU 0 not");
	ok(vm_cpuset_isset(&out.stopped, 0) &&
		   !vm_cpuset_isset(&out.stopped, 1),
	   "vCPU 0 stopped");
	is_int(out.state[1], VM_DBG_CPU_OUTPUT, "... with what it was doing");
	ok(take_type(s, VM_EVENT_STOP, &ev) && strstr(ev.msg, "vCPU 1"),
	   "the stop event names it: %s", ev.msg);
	is_int(dbg_step(d, owner, 1, 0), -EBUSY, "no step of a late vCPU");
	ok(!dbg_cpu_stopped(d, 1), "its registers are not to be read");
	is_int(dbg_stop(d, owner, 1, 0, &out), 0, "timeout 0: only asks");
	set_block(1, false);
	ok(WAIT_FOR(dbg_cpu_state(d, 1) == VM_DBG_CPU_PARKED),
	   "once unblocked it parks, and stays stopped");
	ok(take_type(s, VM_EVENT_MESSAGE, &ev) && strstr(ev.msg, "late"),
	   "a message says it stopped late: %s", ev.msg);
	is_int(dbg_resume(d, owner, -1), 0, "resume");
	dbg_unsubscribe(s);
	teardown();
}

static void test_bus(void)
{
	struct dbg_sub *s1, *s2;
	struct vm_event ev, e = { .type = VM_EVENT_MESSAGE };
	struct pollfd pfd;
	int owner, n = 0;

	setup(false, DBG_BP_INT3_EXIT);
	owner = dbg_owner_alloc(d, "test");
	s1 = dbg_subscribe(d, 1u << VM_EVENT_STOP);
	s2 = dbg_subscribe(d, VM_EVENT_MASK_ALL);
	pfd = (struct pollfd){ .fd = dbg_sub_fd(s1), .events = POLLIN };
	is_int(poll(&pfd, 1, 0), 0, "an empty queue's fd is not readable");
	dbg_stop(d, owner, -1, 5000, NULL);
	dbg_resume(d, owner, -1);
	is_int(poll(&pfd, 1, 0), 1, "readable with an event queued");
	ok(dbg_sub_take(s1, &ev) && ev.type == VM_EVENT_STOP &&
		   ev.owner == owner && ev.cpuid == -1,
	   "the STOP subscriber gets the stop, with its owner");
	ok(!dbg_sub_take(s1, &ev), "... and not the resume (its mask)");
	is_int(poll(&pfd, 1, 0), 0, "the fd clears when empty");
	ok(dbg_sub_take(s2, &ev) && ev.type == VM_EVENT_STOP,
	   "the other gets the stop");
	ok(dbg_sub_take(s2, &ev) && ev.type == VM_EVENT_RESUME,
	   "... and the resume");
	for (int i = 0; i < 100; i++)
		dbg_publish(d, &e); /* never blocks on the full queue */
	while (dbg_sub_take(s2, &ev))
		n++;
	is_int(n, 64, "a slow subscriber keeps what fits");
	dbg_publish(d, &e);
	ok(dbg_sub_take(s2, &ev) && ev.dropped == 36,
	   "the next event counts the 36 lost (%u)", ev.dropped);
	for (int i = 0; i < 70; i++)
		dbg_publish(d, &e);
	dbg_vm_ending(d, 3);
	n = 0;
	while (dbg_sub_take(s2, &ev))
		n++;
	ok(ev.type == VM_EVENT_END && ev.status == 3,
	   "the end is never dropped, even from a full queue");
	dbg_unsubscribe(s1);
	dbg_unsubscribe(s2);
	teardown();
}

static void test_owners(void)
{
	int a, b, r;
	uint64_t sh = DBG_FAKE_SHIFT;

	setup(false, DBG_BP_INT3_EXIT);
	a = dbg_owner_alloc(d, "gdb");
	b = dbg_owner_alloc(d, "console");
	fake.mem[0x2000] = 0x55;
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x2000, 1, 0), 0,
	       "owner A: a breakpoint while the VM runs");
	is_hex(fake.mem[0x2000], 0xcc, "an int3 planted");
	ok(fake_cap(0, VM_CAP_BPT_EXIT) && fake_cap(1, VM_CAP_BPT_EXIT),
	   "int3 exits on for every vCPU");
	ok(!fake_debug(0) && !fake_debug(1),
	   "the change's own stop was lifted");
	is_int(dbg_breakpoint(d, b, true, VM_DBG_BP_SW, 0x2000, 1, 0), 0,
	       "owner B: the same one");
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x2000, 1, 0), 0,
	       "A again: not an error");
	{
		uint8_t view[32];

		memcpy(view, fake.mem + 0x1ff0, sizeof(view));
		ok(dbg_mem_shadowed(d),
		   "an int3 is planted: views are shadowed");
		dbg_mem_shadow(d, 0x1ff0, view, sizeof(view), false);
		is_hex(view[0x10], 0x55, "a client reads the byte under it");
		view[0x10] = 0x77;
		fake.mem[0x2000] = 0x77; /* the client's write */
		dbg_mem_shadow(d, 0x1ff0, view, sizeof(view), true);
		is_hex(fake.mem[0x2000], 0xcc,
		       "a client's write there goes under the int3");
	}
	is_int(dbg_breakpoint(d, a, false, VM_DBG_BP_SW, 0x2000, 1, 0), 0,
	       "A removes it");
	is_hex(fake.mem[0x2000], 0xcc, "B's is still there");
	is_int(dbg_breakpoint(d, a, false, VM_DBG_BP_SW, 0x2000, 1, 0), -ENOENT,
	       "A has none left to remove");
	is_int(dbg_breakpoint(d, b, false, VM_DBG_BP_SW, 0x2000, 1, 0), 0,
	       "B removes it");
	is_hex(fake.mem[0x2000], 0x77,
	       "the byte is back, as the client wrote it");
	ok(!fake_cap(0, VM_CAP_BPT_EXIT), "int3 exits off with none left");
	ok(!dbg_mem_shadowed(d), "nothing to shadow");

	/* Through the selected vCPU's paging, not vCPU 0's. */
	fake.mem[0x3000 + sh] = 0x66;
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x3000, 1,
			      DBG_FAKE_SHIFTED_CPU),
	       0, "a breakpoint through vCPU 1");
	is_hex(fake.mem[0x3000 + sh], 0xcc, "planted where vCPU 1 maps it");
	is_hex(fake.mem[0x3000], 0x90, "not where vCPU 0 would");

	/* Hardware: two owners share one slot. */
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_HW, 0x4000, 1, 0), 0,
	       "A: hbreak");
	is_int(dbg_breakpoint(d, b, true, VM_DBG_BP_HW, 0x4000, 1, 0), 0,
	       "B: the same hbreak");
	ok(fake.cpu[0].hw && fake.cpu[0].dr[0] == 0x4000 &&
		   fake.cpu[0].dr7 == 2 && fake.cpu[1].dr7 == 2,
	   "one slot, on every vCPU");
	dbg_owner_free(d, a);
	ok(fake.cpu[0].hw && fake.cpu[0].dr[0] == 0x4000,
	   "freeing A leaves B's hbreak");
	is_hex(fake.mem[0x3000 + sh], 0x66, "and removes A's int3");
	r = dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x2000, 1, 0);
	is_int(r, -EINVAL, "a freed owner cannot insert");
	dbg_owner_free(d, b);
	ok(!fake.cpu[0].hw && !fake.cpu[1].hw, "no debug registers left");
	teardown();

	/* Debug registers only (neither int3 works): four slots. */
	setup(false, DBG_BP_DEBUGREG);
	a = dbg_owner_alloc(d, "gdb");
	for (int i = 0; i < 4; i++)
		r = dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x100 * (i + 1), 1,
				   0);
	is_int(r, 0, "four software breakpoints in debug registers");
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x900, 1, 0), -ENOSPC,
	       "a fifth: out of slots");
	is_hex(fake.mem[0x100], 0x90, "no int3 written");
	teardown();
}

static void test_checked_caps(void)
{
	int a;

	setup(false, DBG_BP_INT3_EXIT);
	a = dbg_owner_alloc(d, "gdb");
	fake.mem[0x2000] = 0x55;
	fake.cpu[1].refuse_cap = VM_CAP_BPT_EXIT + 1;
	fake.cpu[1].refuse_err = -EINVAL;
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x2000, 1, 0), -EINVAL,
	       "a refused int3 exit fails the breakpoint");
	is_int(fake_cap(0, VM_CAP_BPT_EXIT), 0,
	       "vCPU 0, set before the refusal, is back as it was");
	is_hex(fake.mem[0x2000], 0x55, "nothing planted");
	is_int(dbg_breakpoint(d, a, false, VM_DBG_BP_SW, 0x2000, 1, 0), -ENOENT,
	       "nothing kept");
	dbg_stop(d, a, -1, 5000, NULL);
	fake.cpu[0].refuse_cap = VM_CAP_MTRAP_EXIT + 1;
	is_int(dbg_step(d, a, 0, 0), -ENOTSUP, "a refused step fails");
	is_int(fake_cap(0, VM_CAP_MTRAP_EXIT), 0, "no step armed");
	is_int(dbg_cpu_state(d, 0), VM_DBG_CPU_PARKED, "the vCPU stays parked");
	fake.cpu[0].refuse_cap = VM_CAP_MASK_HWINTR + 1;
	is_int(dbg_step(d, a, 0, VM_DBG_STEP_NOIRQ), -ENOTSUP,
	       "refused interrupt masking fails the step too");
	is_int(fake_cap(0, VM_CAP_MTRAP_EXIT), 0,
	       "... and takes its single-step back");
	fake.cpu[0].refuse_cap = 0;
	fake.cpu[1].refuse_cap = 0;
	teardown();
}

static struct vm_exit exit_of(enum vm_exitcode code)
{
	struct vm_exit e;

	memset(&e, 0, sizeof(e));
	e.exitcode = code;
	return e;
}

/* Post an exit to vCPU i and wait until the core handled it. */
static bool run_exit(int i, const struct vm_exit *e, int r)
{
	post(i, e, r);
	WAIT_FOR(posted_done(i));
	return fc[i].handled;
}

static void test_guest_first(void)
{
	struct vm_exit e;
	struct fake_inject inj;
	struct dbg_sub *s;
	struct vm_event ev;
	int a;

	setup(false, DBG_BP_INT3_EXIT);
	a = dbg_owner_alloc(d, "gdb");
	s = dbg_subscribe(d, VM_EVENT_MASK_ALL);

	/* The guest's own TF single-step, while the core steps nothing. */
	e = exit_of(VM_EXITCODE_HWBP);
	e.u.hwbp.dr6 = 0xffff4ff0; /* BS */
	ok(run_exit(0, &e, 0), "a #DB of the guest's own TF: handled");
	inj = fake_inj(0, 0);
	ok(fake_ninj(0) == 1 && inj.vector == IDT_DB && inj.payload == 0x4000,
	   "given back as #DB with DR6.BS (payload %#llx)",
	   (unsigned long long)inj.payload);
	ok(!dbg_cpu_stopped(d, 0), "and the vCPU runs on");

	/* The guest's own int3, intercepted or an emulation failure. */
	fake.mem[0x1000] = 0xcc;
	e = exit_of(VM_EXITCODE_BPT);
	ok(run_exit(0, &e, 0), "the guest's int3 (an intercept): handled");
	inj = fake_inj(0, 1);
	ok(inj.vector == IDT_BP && inj.inst_length == 1 && inj.rip == 0x1000,
	   "delivered as a #BP trap of 1 byte with rip left at the int3");
	e = exit_of(VM_EXITCODE_INST_EMUL);
	e.u.inst_emul.inst_len = 1;
	e.u.inst_emul.inst[0] = 0xcc;
	ok(run_exit(0, &e, 0), "the guest's int3 (an emulation failure)");
	is_int(fake_inj(0, 2).vector, IDT_BP, "... delivered as #BP");
	e.u.inst_emul.inst[0] = 0x0f;
	ok(!run_exit(0, &e, 0), "another emulation failure: not the core's");

	/* icebp, with a vmm that takes only #BP and #OF as traps. */
	fake.mem[0x1000] = 0xf1;
	e.u.inst_emul.inst[0] = 0xf1;
	ok(run_exit(0, &e, 0), "the guest's icebp: handled");
	inj = fake_inj(0, 3);
	ok(inj.vector == IDT_DB && inj.rip == 0x1001,
	   "#DB delivered with rip past the icebp (%#llx)",
	   (unsigned long long)inj.rip);
	vm_set_register(fake_vcpus[0], VM_REG_GUEST_RIP, 0x1000);
	fake.mem[0x1000] = 0x90;

	/* A breakpoint of the core's: a stop, nothing for the guest. */
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_SW, 0x1000, 1, 0), 0,
	       "a breakpoint at the vCPU's pc");
	while (dbg_sub_take(s, &ev))
		;
	e = exit_of(VM_EXITCODE_BPT);
	post(0, &e, 0);
	ok(wait_event(s, VM_EVENT_BREAKPOINT, &ev) && ev.cpuid == 0 &&
		   ev.addr == 0x1000 && ev.owners == 1ULL << a &&
		   ev.kind == VM_DBG_BP_SW,
	   "BREAKPOINT: vCPU 0, at 0x1000, owned by gdb");
	ok(dbg_sub_take(s, &ev) && ev.type == VM_EVENT_STOP && ev.owner == -1 &&
		   ev.cpuid == 0,
	   "then the vCPU's STOP");
	ok(WAIT_FOR(dbg_cpu_state(d, 0) == VM_DBG_CPU_PARKED &&
		    dbg_cpu_state(d, 1) == VM_DBG_CPU_PARKED),
	   "the hit parks it, and stops the other");
	is_int(fake_ninj(0), 4, "nothing given to the guest");

	/* Continue: a step over the breakpoint first, vCPU 1 waiting. */
	is_int(dbg_resume(d, a, -1), 0, "continue");
	ok(WAIT_FOR(fake_cap(0, VM_CAP_MTRAP_EXIT) == 1),
	   "vCPU 0 steps over its breakpoint");
	is_hex(fake.mem[0x1000], 0x90, "... with the int3 lifted");
	is_int(dbg_cpu_state(d, 1), VM_DBG_CPU_PARKED,
	       "vCPU 1 waits meanwhile");
	e = exit_of(VM_EXITCODE_MTRAP);
	vm_set_register(fake_vcpus[0], VM_REG_GUEST_RIP, 0x1001);
	ok(run_exit(0, &e, 0), "the step-over is done");
	is_hex(fake.mem[0x1000], 0xcc, "the int3 is back");
	is_int(fake_cap(0, VM_CAP_MTRAP_EXIT), 0, "stepping is off");
	ok(WAIT_FOR(dbg_cpu_state(d, 1) != VM_DBG_CPU_PARKED),
	   "vCPU 1 runs now");
	ok(!take_type(s, VM_EVENT_STEP, &ev), "and nobody heard of a step");

	/* An int3 exit in flight from a breakpoint removed meanwhile. */
	dbg_breakpoint(d, a, false, VM_DBG_BP_SW, 0x1000, 1, 0);
	vm_set_register(fake_vcpus[0], VM_REG_GUEST_RIP, 0x1000);
	e = exit_of(VM_EXITCODE_BPT);
	ok(run_exit(0, &e, 0) && fake_ninj(0) == 4,
	   "a stale int3 exit: the real byte runs, no #BP for the guest");

	/* Debug registers: ours stop, the guest's bits go back. */
	is_int(dbg_breakpoint(d, a, true, VM_DBG_BP_HW, 0x1000, 1, 0), 0,
	       "hbreak at 0x1000");
	e = exit_of(VM_EXITCODE_HWBP);
	e.u.hwbp.dr6 = 0xffff4ff2; /* B1 (not ours) and BS */
	ok(run_exit(0, &e, 0), "a #DB with B1 and BS, ours in slot 0");
	inj = fake_inj(0, 4);
	ok(inj.vector == IDT_DB && inj.payload == 0x4000,
	   "the guest gets its BS, not B1 of our debug registers (%#llx)",
	   (unsigned long long)inj.payload);
	while (dbg_sub_take(s, &ev))
		;
	e.u.hwbp.dr6 = 0xffff0ff1; /* B0 */
	post(0, &e, 0);
	ok(wait_event(s, VM_EVENT_BREAKPOINT, &ev) && ev.kind == VM_DBG_BP_HW &&
		   ev.addr == 0x1000,
	   "B0: our hbreak stops it: BREAKPOINT of kind hw");
	ok(WAIT_FOR(dbg_cpu_state(d, 0) == VM_DBG_CPU_PARKED), "parked");
	dbg_breakpoint(d, a, false, VM_DBG_BP_HW, 0x1000, 1, 0);
	is_int(dbg_resume(d, a, -1), 0, "resume");
	dbg_unsubscribe(s);
	teardown();
}

static void test_refused_at_run(void)
{
	struct vm_exit e = exit_of(VM_EXITCODE_BOGUS);
	struct dbg_sub *s;
	struct vm_event ev;
	int a;

	setup(false, DBG_BP_INT3_EXIT);
	a = dbg_owner_alloc(d, "gdb");
	s = dbg_subscribe(d, VM_EVENT_MASK_ALL);
	dbg_stop(d, a, -1, 5000, NULL);
	is_int(dbg_step(d, a, 0, 0), 0, "a step, armed");
	is_int(fake_cap(0, VM_CAP_MTRAP_EXIT), 1, "MTRAP recorded in vmm");
	/* KVM refuses KVM_SET_GUEST_DEBUG: vm_run fails. */
	post(0, &e, -EINVAL);
	ok(wait_event(s, VM_EVENT_MESSAGE, &ev) && ev.owner == a &&
		   strstr(ev.msg, "refused"),
	   "the step's owner is told: %s", ev.msg);
	/* The stop is published by the vCPU's thread: wait for it. */
	ok(wait_event(s, VM_EVENT_STOP, &ev) && strstr(ev.msg, "refused"),
	   "the VM stops, saying why");
	ok(WAIT_FOR(dbg_cpu_state(d, 0) == VM_DBG_CPU_PARKED &&
		    dbg_cpu_state(d, 1) == VM_DBG_CPU_PARKED),
	   "the failed vm_run stopped the VM");
	is_int(fake_cap(0, VM_CAP_MTRAP_EXIT), 0, "the step is undone");
	is_int(dbg_resume(d, a, -1), 0, "resume");
	ok(WAIT_FOR(posted_done(0)) && fc[0].handled,
	   "the failure was the core's: the VM did not end");
	post(0, &e, -EINVAL);
	WAIT_FOR(posted_done(0));
	ok(!fc[0].handled, "a failure with nothing of the core's: not its own");
	dbg_unsubscribe(s);
	teardown();
}

static void test_watch(void)
{
	struct vm_exit e = exit_of(VM_EXITCODE_MMIO);
	uint8_t data[8];
	struct dbg_sub *s;
	struct vm_event ev;
	uint64_t v;
	int a, b;

	setup(false, DBG_BP_INT3_EXIT);
	a = dbg_owner_alloc(d, "gdb");
	b = dbg_owner_alloc(d, "console");
	s = dbg_subscribe(d, VM_EVENT_MASK_ALL);
	is_int(dbg_breakpoint(d, a, true, VM_DBG_WP_ACCESS, 0x5010, 8, 0), 0,
	       "awatch 0x5010, 8 bytes");
	is_int(fake.prot[5], 0, "its page is inaccessible");
	is_int(dbg_breakpoint(d, b, true, VM_DBG_WP_WRITE, 0x5010, 8, 0), 0,
	       "another owner's write watchpoint on it");
	is_int(dbg_breakpoint(d, a, false, VM_DBG_WP_ACCESS, 0x5010, 8, 0), 0,
	       "awatch removed");
	is_int(fake.prot[5], VM_PROT_READ | VM_PROT_EXEC,
	       "the page is read-only for the other's");
	dbg_breakpoint(d, b, false, VM_DBG_WP_WRITE, 0x5010, 8, 0);
	is_int(fake.prot[5], VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC,
	       "and whole again");
	is_int(dbg_breakpoint(d, a, true, VM_DBG_WP_READ, 0x1010, 4, 0), -EPERM,
	       "no read watchpoint on the page of running code");

	/* Accesses: the instruction's width, one atomic store. */
	dbg_breakpoint(d, a, true, VM_DBG_WP_ACCESS, 0x5010, 8, 0);
	while (dbg_sub_take(s, &ev))
		;
	v = 0x1122334455667788ULL;
	memcpy(data, &v, 8);
	e.u.mmio.gpa = 0x5100;
	e.u.mmio.bytes = 8;
	e.u.mmio.write = true;
	e.u.mmio.data = data;
	ok(run_exit(0, &e, 0), "a write elsewhere on the page: performed");
	ok(!memcmp(fake.mem + 0x5100, &v, 8), "all 8 bytes stored");
	ok(!dbg_sub_take(s, &ev), "no stop outside the watched range");
	v = 0xaabbccdd;
	memcpy(data, &v, 4);
	e.u.mmio.gpa = 0x5102;
	e.u.mmio.bytes = 4;
	ok(run_exit(0, &e, 0), "an unaligned 4-byte write within a word");
	is_hex(*(uint64_t *)(fake.mem + 0x5100), 0x1122aabbccdd7788ULL,
	       "stored in place, the rest of the word kept");
	e.u.mmio.gpa = 0x5014;
	e.u.mmio.write = false;
	memset(fake.mem + 0x5014, 0x42, 4);
	post(0, &e, 0);
	ok(wait_event(s, VM_EVENT_WATCHPOINT, &ev) && ev.addr == 0x5014 &&
		   ev.kind == VM_DBG_WP_ACCESS && ev.owners == 1ULL << a,
	   "a read in the watched range: WATCHPOINT at 0x5014, the access "
	   "watchpoint's");
	ok(WAIT_FOR(dbg_cpu_state(d, 0) == VM_DBG_CPU_PARKED), "it stops");
	is_hex(*(uint32_t *)data, 0x42424242, "the value read is delivered");
	dbg_resume(d, a, -1);

	/*
	 * A locked instruction: vCPU 0's read takes the slot, vCPU 1's
	 * access waits for vCPU 0's write.
	 */
	{
		static const uint8_t lock_xadd[] = { 0xf0, 0x0f, 0xc1, 0x05 };
		uint8_t d0[8], d1[8];
		struct vm_exit e1 = exit_of(VM_EXITCODE_MMIO);

		memcpy(fake.mem + 0x1000, lock_xadd, sizeof(lock_xadd));
		*(uint32_t *)(fake.mem + 0x5100) = 10;
		e.u.mmio.gpa = 0x5100;
		e.u.mmio.bytes = 4;
		e.u.mmio.write = false;
		e.u.mmio.data = d0;
		ok(run_exit(0, &e, 0) && *(uint32_t *)d0 == 10,
		   "vCPU 0: the read of its lock xadd");
		is_int(atomic_load(&d->rmw_cpu), 0,
		       "vCPU 0 holds the RMW slot");
		vm_set_register(fake_vcpus[1], VM_REG_GUEST_RIP,
				0x2000); /* a plain mov */
		e1.u.mmio = e.u.mmio;
		e1.u.mmio.data = d1;
		post(1, &e1, 0);
		msleep(50);
		ok(!posted_done(1), "vCPU 1's read of the page waits");
		*(uint32_t *)d0 = 11;
		e.u.mmio.write = true;
		ok(run_exit(0, &e, 0), "vCPU 0's write ends the instruction");
		ok(WAIT_FOR(posted_done(1)), "then vCPU 1's read goes on");
		is_int(*(uint32_t *)d1, 11,
		       "and sees the whole read-modify-write");
		is_int(atomic_load(&d->rmw_cpu), -1, "the slot is free");
	}

	/* An instruction fetch from the inaccessible page. */
	while (dbg_sub_take(s, &ev))
		;
	vm_set_register(fake_vcpus[0], VM_REG_GUEST_RIP, 0x5800);
	e = exit_of(VM_EXITCODE_INST_EMUL);
	post(0, &e, 0);
	ok(wait_event(s, VM_EVENT_STOP, &ev) && strstr(ev.msg, "0x5000") &&
		   strstr(ev.msg, "0x5010"),
	   "a fetch from the watched page stops, naming the page and the "
	   "watchpoint: %s",
	   ev.msg);
	ok(WAIT_FOR(dbg_cpu_state(d, 0) == VM_DBG_CPU_PARKED), "parked");
	dbg_owner_free(d, a);
	is_int(fake.prot[5], VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC,
	       "freeing the owner gives the page back");
	dbg_resume(d, b, -1);
	dbg_unsubscribe(s);
	teardown();
}

static void test_services(void)
{
	struct vm_dbg_stop st = { .cpuid = -1, .timeout_ms = 5000 };
	struct vm_dbg_bp bp = { .owner = -1,
				.cpuid = 0,
				.type = VM_DBG_BP_SW,
				.insert = 1,
				.addr = 0x2000,
				.len = 1 };
	struct vm_dbg_cpu c = { .cpuid = -1 };

	setup(false, DBG_BP_INT3_EXIT);
	is_int(dbg_services(d, VM_DBG_STOP, &st), 0, "VM_DBG_STOP");
	ok(vm_cpuset_isset(&st.stopped, 0) && vm_cpuset_isset(&st.stopped, 1),
	   "... says who stopped");
	is_int(dbg_services(d, VM_DBG_BREAKPOINT, &bp), 0,
	       "VM_DBG_BREAKPOINT as the local owner");
	is_hex(fake.mem[0x2000], 0xcc, "planted");
	bp.insert = 0;
	is_int(dbg_services(d, VM_DBG_BREAKPOINT, &bp), 0, "removed");
	is_int(dbg_services(d, VM_DBG_RESUME, &c), 0, "VM_DBG_RESUME");
	is_int(dbg_services(d, VM_DBG_SUBSCRIBE, &c), -EOPNOTSUPP,
	       "subscriptions are the control socket's");
	teardown();
}

/* The gdb adapter: the bus's events as the stub's stops. */
static void test_gdb_adapter(void)
{
	struct gdb_events *q = gdb_events_create();
	struct gdb_stop_event st;
	struct gdb_resume_action act[VM_MAXCPU] = { { 0 } };
	struct dbg_gdb *g;
	struct gdb_target t;
	struct vm_exit e = exit_of(VM_EXITCODE_BPT);
	int con;
	uint8_t b;

	setup(false, DBG_BP_INT3_EXIT);
	g = dbg_gdb_create(d, q);
	ok(g != NULL, "gdb's adapter: an owner and a subscription");
	t = dbg_gdb_target(g);
	con = dbg_owner_alloc(d, "console");
	fake.mem[0x1000] = 0x90;

	/* Another owner's breakpoint: a plain SIGTRAP for gdb. */
	dbg_breakpoint(d, con, true, VM_DBG_BP_SW, 0x1000, 1, 0);
	post(0, &e, 0);
	ok(WAIT_FOR(dbg_cpu_state(d, 0) == VM_DBG_CPU_PARKED &&
		    dbg_cpu_state(d, 1) == VM_DBG_CPU_PARKED),
	   "a console breakpoint stops the VM");
	WAIT_FOR(({
		dbg_gdb_pump(g, true, true);
		gdb_events_take(q, &st);
	}));
	ok(st.reason == GDB_STOP_SIGNAL && st.signal == GDB_SIGNAL_TRAP &&
		   st.vcpu == 0,
	   "gdb hears a plain SIGTRAP in thread 1, not a swbreak of its own");
	ok(t.ops->mem_read(t.opaque, 0, 0x1000, &b, 1, 0) == 1 && b == 0x90,
	   "gdb reads the byte under the console's int3");
	ok(t.ops->cpu_ready(t.opaque, 0), "vCPU 0 is ready for gdb");

	/* gdb's own at the same address: its own reason wins. */
	is_int(t.ops->bp_insert(t.opaque, 0, GDB_BP_SW, 0x1000, 1), 0,
	       "gdb inserts a breakpoint at the same address");
	act[0].kind = GDB_RESUME_CONT;
	act[1].kind = GDB_RESUME_CONT;
	is_int(t.ops->resume(t.opaque, act, 0), 0, "gdb continues");
	e = exit_of(VM_EXITCODE_MTRAP); /* the step over the breakpoint */
	ok(run_exit(0, &e, 0), "the step over it is done");
	e = exit_of(VM_EXITCODE_BPT); /* and it comes round again */
	post(0, &e, 0);
	WAIT_FOR(({
		dbg_gdb_pump(g, true, true);
		gdb_events_take(q, &st);
	}));
	ok(st.reason == GDB_STOP_SWBREAK && st.addr == 0x1000 && st.vcpu == 0,
	   "a hit of both owners': gdb's swbreak at 0x1000");

	/* A step gdb asked for, and a stop another owner asked for. */
	act[0].kind = GDB_RESUME_STEP;
	act[1].kind = GDB_RESUME_STOP;
	is_int(t.ops->bp_remove(t.opaque, 0, GDB_BP_SW, 0x1000, 1), 0,
	       "gdb removes its breakpoint");
	is_int(t.ops->resume(t.opaque, act, GDB_SSTEP_NOIRQ), 0, "gdb steps");
	e = exit_of(VM_EXITCODE_MTRAP);
	post(0, &e, 0);
	WAIT_FOR(({
		dbg_gdb_pump(g, true, true);
		gdb_events_take(q, &st);
	}));
	ok(st.reason == GDB_STOP_STEP && st.vcpu == 0, "gdb's step: a step");
	dbg_resume(d, con, -1);
	dbg_stop(d, con, -1, 5000, NULL);
	dbg_gdb_pump(g, true, true);
	ok(gdb_events_take(q, &st) && st.reason == GDB_STOP_SIGNAL &&
		   st.signal == GDB_SIGNAL_INT,
	   "another owner's stop while gdb waits: SIGINT");
	dbg_resume(d, con, -1);
	dbg_stop(d, con, -1, 5000, NULL);
	dbg_gdb_pump(g, false, false);
	ok(!gdb_events_take(q, &st), "no debugger attached: nothing for it");
	dbg_vm_ending(d, 33);
	dbg_gdb_pump(g, false, false);
	ok(gdb_events_take(q, &st) && st.reason == GDB_STOP_EXITED &&
		   st.status == 33,
	   "the end, always: W");
	dbg_gdb_destroy(g);
	teardown();
	gdb_events_destroy(q);
}

int main(void)
{
	test_park_and_resume();
	test_bounded_stop();
	test_bus();
	test_owners();
	test_checked_caps();
	test_guest_first();
	test_refused_at_run();
	test_watch();
	test_services();
	test_gdb_adapter();
	return tap_done();
}
