/*
 * test-stop.c: a stop shows the guest as it really is.  After an `in`, a
 * string `ins` or an MMIO read exit, KVM finishes the instruction only on
 * the next KVM_RUN; vmm does that (with immediate_exit) before VM_RUN
 * reports DEBUG or SUSPENDED.  Each test answers an exit, stops the vCPU
 * before its thread runs it again, and checks what a debugger would read
 * (rax, rip, rcx/rdi, memory) and that what it writes is what the guest
 * then sees: rax and rip are set to a label that reports rax with an
 * `out`.  Without the completion, KVM finishes the old instruction on
 * resume and overwrites both (rip is not at the label any more).
 *
 * The vCPU runs on its own thread (kt_runner), which hands each exit to
 * the main thread; the main thread answers it, stops the vCPU with
 * vm_suspend_cpu while the runner holds the exit, then lets the runner
 * call VM_RUN.  One test stops the vCPU from its own thread, as an exit
 * handler would; a last one lets a thread answer `in` exits freely while
 * the main thread stops it at random points.  Checks are made by the
 * main thread.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define PORT 0xe8 /* the guest polls it */
#define MMIO_GPA 0xd0000000ULL /* nothing is mapped there */
#define BUF KT_DATA /* rep insb stores here */
#define PAGE_END (KT_DATA + 0x1000) /* a page boundary inside guest memory */
#define MAGIC 0x600df00dULL /* what the debugger writes into rax */
#define WAIT_MS 10000
#define ROUNDS 20

/* clang-format off */
asm(KT_GUEST_BEGIN(gs, KT_CODE)
    ".code64\n"
    /* Poll the port for ever. */
    KT_LABEL("gs_poll")
    "	in $" KT_STR(PORT) ", %al\n"
    KT_LABEL("gs_poll_next")
    "	jmp gs_poll\n"

    /* Where the debugger sends the vCPU: report rax. */
    KT_LABEL("gs_report")
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	ud2\n"

    /* Read MMIO at rbx; say "bad" if the vCPU goes on from here. */
    KT_LABEL("gs_mmio")
    "	mov (%rbx), %eax\n"
    KT_LABEL("gs_mmio_next")
    "	mov $0xbad, %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	ud2\n"

    /* rep insb from port dx to rdi, rcx bytes; likewise. */
    KT_LABEL("gs_insb")
    "	rep insb\n"
    KT_LABEL("gs_insb_next")
    "	mov $0xbad, %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	ud2\n"
    KT_GUEST_END(gs));
/* clang-format on */
KT_GUEST_DECLARE(gs);
extern const uint8_t gs_poll[], gs_poll_next[], gs_report[], gs_mmio[],
	gs_mmio_next[], gs_insb[], gs_insb_next[];

#define GS(label) KT_GADDR(gs, KT_CODE, label)

static int stat_completions;

static bool next_exit(struct kt_runner *r, struct vm_exit *e, const char *what)
{
	int err = kt_runner_wait(r, e, WAIT_MS);

	if (err == 0)
		return true;
	tap_diag("%s: %s", what, strerror(-err));
	return false;
}

static bool is_exit(const struct vm_exit *e, enum vm_exitcode code,
		    const char *what)
{
	char buf[160];

	if (e->exitcode == code)
		return true;
	tap_diag("%s: expected %s, got %s", what, vm_exitcode_name(code),
		 kt_exit_str(e, buf, sizeof(buf)));
	return false;
}

/*
 * At a DEBUG stop: write rax and rip (to gs_report), resume, and expect
 * the guest to report the rax written.
 */
static void redirect(struct kt_vm *vm, struct kt_runner *r, const char *what)
{
	static const int regs[] = { VM_REG_GUEST_RAX, VM_REG_GUEST_RIP };
	const uint64_t vals[] = { MAGIC, GS(gs_report) };
	struct vcpu *v = vm->vcpu[0];
	struct vm_exit e;
	uint32_t got = 0;

	is_int(vm_set_register_set(v, 2, regs, vals), 0,
	       "%s: write rax and rip at the stop", what);
	vm_resume_cpu(v);
	kt_runner_go(r);
	if (next_exit(r, &e, what) && is_exit(&e, VM_EXITCODE_INOUT, what))
		memcpy(&got, e.u.inout.data, 4);
	is_hex(got, MAGIC,
	       "%s: the guest runs from the rip written, with "
	       "the rax written",
	       what);
}

static uint64_t reg(struct vcpu *v, int r)
{
	uint64_t val = 0xdeadbeefdeadbeefULL;

	vm_get_register(v, r, &val);
	return val;
}

/* An `in` answered, then a stop before the vCPU runs again. */
static void test_in(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct kt_runner *r;
	struct vm_exit e;
	uint64_t before, after;

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_poll));
	vm_set_register(v, VM_REG_GUEST_RAX, 0);
	r = kt_runner_start(v);
	/* A few rounds of polling, answered 0, then one answered 0x5a. */
	for (int i = 0; i < 3; i++) {
		if (!next_exit(r, &e, "in") ||
		    !is_exit(&e, VM_EXITCODE_INOUT, "in"))
			break;
		e.u.inout.data[0] = 0;
		kt_runner_go(r);
	}
	if (!next_exit(r, &e, "in") || !is_exit(&e, VM_EXITCODE_INOUT, "in")) {
		ok(0, "in: the guest polls its port");
		kt_runner_stop(r);
		return;
	}
	ok(e.u.inout.in && e.u.inout.port == PORT && e.u.inout.bytes == 1,
	   "in: an in exit on port %#x", PORT);
	e.u.inout.data[0] = 0x5a;
	/* Not yet run again: the `in` is half done. */
	is_int(vm_suspend_cpu(v), 0, "in: vm_suspend_cpu between two exits");
	before = kt_stat(v, stat_completions);
	kt_runner_go(r);
	if (next_exit(r, &e, "in stop"))
		ok(is_exit(&e, VM_EXITCODE_DEBUG, "in stop"),
		   "in: VM_RUN reports the stop");
	after = kt_stat(v, stat_completions);
	is_hex(reg(v, VM_REG_GUEST_RAX) & 0xff, 0x5a,
	       "in: rax holds the value answered");
	is_hex(reg(v, VM_REG_GUEST_RIP), GS(gs_poll_next),
	       "in: rip is past the in");
	is_hex(e.rip, GS(gs_poll_next), "in: and the DEBUG exit says so");
	is_int(after - before, 1, "in: vmm.stop_completions counts it");
	redirect(vm, r, "in");
	kt_runner_stop(r);
}

/* An MMIO read answered, then a stop; then one split in two fragments. */
static void test_mmio(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct kt_runner *r;
	struct vm_exit e;
	uint32_t val = 0xcafef00d;

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_mmio));
	vm_set_register(v, VM_REG_GUEST_RBX, MMIO_GPA);
	r = kt_runner_start(v);
	if (next_exit(r, &e, "mmio") && is_exit(&e, VM_EXITCODE_MMIO, "mmio")) {
		ok(!e.u.mmio.write && e.u.mmio.gpa == MMIO_GPA &&
			   e.u.mmio.bytes == 4,
		   "mmio: a 4-byte read at %#llx", MMIO_GPA);
		memcpy(e.u.mmio.data, &val, 4);
	}
	vm_suspend_cpu(v);
	kt_runner_go(r);
	if (next_exit(r, &e, "mmio stop"))
		ok(is_exit(&e, VM_EXITCODE_DEBUG, "mmio stop"),
		   "mmio: VM_RUN reports the stop");
	is_hex(reg(v, VM_REG_GUEST_RAX), val,
	       "mmio: rax holds the value answered");
	is_hex(reg(v, VM_REG_GUEST_RIP), GS(gs_mmio_next),
	       "mmio: rip is past the read");
	redirect(vm, r, "mmio");
	kt_runner_stop(r);

	/*
	 * A read across a page boundary: KVM asks for the first piece, and
	 * finishing it asks for the second, which must reach the monitor
	 * as an MMIO exit, not be lost in the stop.
	 */
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_mmio));
	vm_set_register(v, VM_REG_GUEST_RBX, MMIO_GPA + 0xffe);
	r = kt_runner_start(v);
	if (next_exit(r, &e, "split") &&
	    is_exit(&e, VM_EXITCODE_MMIO, "split")) {
		ok(!e.u.mmio.write && e.u.mmio.gpa == MMIO_GPA + 0xffe &&
			   e.u.mmio.bytes == 2,
		   "split: the first 2 bytes, before the page boundary");
		memcpy(e.u.mmio.data, "\x11\x22", 2);
	}
	vm_suspend_cpu(v);
	kt_runner_go(r);
	if (next_exit(r, &e, "split") &&
	    is_exit(&e, VM_EXITCODE_MMIO, "split second piece")) {
		ok(!e.u.mmio.write && e.u.mmio.gpa == MMIO_GPA + 0x1000 &&
			   e.u.mmio.bytes == 2,
		   "split: the stop first hands over the second piece");
		memcpy(e.u.mmio.data, "\x33\x44", 2);
	} else {
		ok(0, "split: the stop first hands over the second piece");
	}
	kt_runner_go(r);
	if (next_exit(r, &e, "split stop"))
		ok(is_exit(&e, VM_EXITCODE_DEBUG, "split stop"),
		   "split: then VM_RUN reports the stop");
	is_hex(reg(v, VM_REG_GUEST_RAX), 0x44332211,
	       "split: rax holds both pieces");
	is_hex(reg(v, VM_REG_GUEST_RIP), GS(gs_mmio_next),
	       "split: rip is past the read");
	redirect(vm, r, "split");
	kt_runner_stop(r);
}

/*
 * rep insb of `count` bytes to `dst`: answer each batch with bytes
 * 1, 2, 3..., stop after the first, and check that what the stop shows
 * is consistent: the bytes stored, rcx and rdi, and rip at the rep insb
 * while bytes remain.  Returns the bytes done.
 */
static unsigned insb(struct kt_vm *vm, uint64_t dst, unsigned count,
		     const char *what)
{
	struct vcpu *v = vm->vcpu[0];
	uint8_t *mem = kt_gpa(vm, dst);
	struct kt_runner *r;
	struct vm_exit e;
	unsigned done = 0, batches = 0;
	bool good = true;
	uint64_t rip;
	static const int regs[] = { VM_REG_GUEST_RDX, VM_REG_GUEST_RDI,
				    VM_REG_GUEST_RCX, VM_REG_GUEST_RAX };
	const uint64_t vals[] = { PORT, dst, count, 0 };

	memset(mem, 0, count);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_insb));
	vm_set_register_set(v, 4, regs, vals);
	r = kt_runner_start(v);
	for (;;) {
		if (!next_exit(r, &e, what)) {
			good = false;
			break;
		}
		if (e.exitcode == VM_EXITCODE_DEBUG)
			break;
		if (!is_exit(&e, VM_EXITCODE_INOUT, what) || !e.u.inout.in ||
		    e.u.inout.port != PORT || e.u.inout.bytes != 1 ||
		    e.u.inout.count == 0 || done + e.u.inout.count > count) {
			good = false;
			break;
		}
		for (uint32_t i = 0; i < e.u.inout.count; i++)
			e.u.inout.data[i] = (uint8_t)(++done);
		/* Stop after the first batch, before it is stored. */
		if (batches++ == 0)
			vm_suspend_cpu(v);
		kt_runner_go(r);
	}
	ok(good && e.exitcode == VM_EXITCODE_DEBUG,
	   "%s: %u byte(s) answered in %u batch(es), then the stop", what, done,
	   batches);
	for (unsigned i = 0; i < done; i++)
		good = good && mem[i] == (uint8_t)(i + 1);
	ok(good, "%s: the %u bytes answered are in memory", what, done);
	is_int(reg(v, VM_REG_GUEST_RCX), count - done, "%s: rcx", what);
	is_hex(reg(v, VM_REG_GUEST_RDI), dst + done, "%s: rdi", what);
	rip = reg(v, VM_REG_GUEST_RIP);
	/* With rcx 0, KVM may leave rip at the rep insb (a no-op now). */
	if (done == count)
		ok(rip == GS(gs_insb) || rip == GS(gs_insb_next),
		   "%s: rip %#llx at the finished rep insb or past it", what,
		   (unsigned long long)rip);
	else
		is_hex(rip, GS(gs_insb), "%s: rip still at the rep insb", what);
	redirect(vm, r, what);
	kt_runner_stop(r);
	return done;
}

static void test_insb(struct kt_vm *vm)
{
	insb(vm, BUF, 4, "rep insb");
	/*
	 * 2 bytes before a page boundary: KVM reads at most to the end of
	 * the page in one batch, so the stop may come between batches.
	 */
	insb(vm, PAGE_END - 2, 6, "rep insb across a page");
}

/*
 * What a monitor's MMIO handler does to report a stop after the access
 * (a watchpoint): answer, put its own vCPU in the debug set, VM_RUN.
 */
static void test_self(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	uint32_t val = 0x87654321;
	struct vm_exit e;
	char buf[160];

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_mmio));
	vm_set_register(v, VM_REG_GUEST_RBX, MMIO_GPA);
	if (kt_run(v, &e) < 0 || e.exitcode != VM_EXITCODE_MMIO) {
		ok(0, "self: an MMIO exit");
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
		return;
	}
	memcpy(e.u.mmio.data, &val, 4);
	vm_suspend_cpu(v);
	ok(kt_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_DEBUG &&
		   e.rip == GS(gs_mmio_next),
	   "self: the vCPU's own thread stops it from the handler: DEBUG, "
	   "past the read");
	is_hex(reg(v, VM_REG_GUEST_RAX), val, "self: rax holds the answer");
	vm_resume_cpu(v);
}

/* The same for a VM suspend: SUSPENDED reports the finished `in`. */
static void test_suspended(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct kt_runner *r;
	struct vm_exit e;
	uint64_t before;

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_poll));
	r = kt_runner_start(v);
	if (next_exit(r, &e, "suspend") &&
	    is_exit(&e, VM_EXITCODE_INOUT, "suspend"))
		e.u.inout.data[0] = 0xa5;
	vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF);
	kt_runner_go(r);
	ok(next_exit(r, &e, "suspend") &&
		   is_exit(&e, VM_EXITCODE_SUSPENDED, "suspend"),
	   "suspend: VM_RUN reports SUSPENDED");
	is_hex(reg(v, VM_REG_GUEST_RAX) & 0xff, 0xa5,
	       "suspend: rax holds the value answered");
	is_hex(e.rip, GS(gs_poll_next),
	       "suspend: the exit's rip is past the in");
	kt_runner_stop(r);

	/* A new vCPU after VM_REINIT has nothing left to finish. */
	is_int(vm_reinit(vm->ctx), 0, "VM_REINIT");
	kt_mem_init(vm);
	kt_load(vm, KT_CODE, gs, gs_end);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_report));
	before = kt_stat(v, stat_completions);
	vm_suspend_cpu(v);
	ok(vm_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_DEBUG &&
		   e.rip == GS(gs_report),
	   "after VM_REINIT: a stop at once, where the vCPU was put");
	is_int(kt_stat(v, stat_completions) - before, 0,
	       "after VM_REINIT: nothing to complete");
	vm_resume_cpu(v);
}

/* A thread answers `in` exits with 1, 2, 3...: the last one it gave. */
struct answerer {
	struct vcpu *vcpu;
	int count; /* answers so far; atomic */
	int err;
	struct vm_exit last;
};

static void *answer_main(void *arg)
{
	struct answerer *a = arg;
	struct vm_exit e;

	for (;;) {
		int err = kt_run_timeout(a->vcpu, &e, KT_RUN_MS);

		if (err < 0 || e.exitcode != VM_EXITCODE_INOUT) {
			a->err = err;
			a->last = e;
			return NULL;
		}
		e.u.inout.data[0] =
			(uint8_t)(__atomic_load_n(&a->count, __ATOMIC_RELAXED) +
				  1);
		__atomic_fetch_add(&a->count, 1, __ATOMIC_SEQ_CST);
	}
}

/*
 * Stops at whatever point the vCPU is: inside KVM_RUN or between two
 * exits.  Either way al holds the last value answered.
 */
static void test_racing(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	int bad = 0, stops = 0;

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GS(gs_poll));
	for (int round = 0; round < ROUNDS; round++) {
		struct answerer a = { .vcpu = v };
		uint64_t end = kt_now_ms() + WAIT_MS;
		pthread_t t;
		uint64_t rax;

		if (pthread_create(&t, NULL, answer_main, &a) != 0)
			tap_bail("pthread_create");
		while (__atomic_load_n(&a.count, __ATOMIC_SEQ_CST) <
			       1 + round % 5 &&
		       kt_now_ms() < end)
			kt_sleep_ms(1);
		vm_suspend_cpu(v);
		pthread_join(t, NULL);
		if (a.err < 0 || a.last.exitcode != VM_EXITCODE_DEBUG) {
			bad++;
			vm_resume_cpu(v);
			continue;
		}
		stops++;
		rax = reg(v, VM_REG_GUEST_RAX);
		if ((rax & 0xff) != (uint8_t)a.count) {
			tap_diag("round %d: al %#llx, last answer %#x", round,
				 (unsigned long long)rax & 0xff,
				 (uint8_t)a.count);
			bad++;
		}
		vm_resume_cpu(v);
	}
	is_int(stops, ROUNDS, "racing: %d stops of a vCPU polling a port",
	       ROUNDS);
	is_int(bad, 0, "racing: at every stop al is the last value answered");
}

int main(void)
{
	struct kt_vm *vm;

	kt_require_kvm();
	vm = kt_vm_create("stop", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, gs, gs_end);
	stat_completions = kt_stat_index(vm->ctx, "vmm.stop_completions");
	if (stat_completions < 0)
		tap_bail("no vmm.stop_completions statistic");
	test_in(vm);
	test_mmio(vm);
	test_insb(vm);
	test_self(vm);
	test_racing(vm);
	test_suspended(vm);
	kt_vm_destroy(vm);
	return tap_done();
}
