/*
 * test-run.c: VM_RUN and its exits - port I/O of each size and direction,
 * string I/O with a repeat count, what the data pointer means for `in`,
 * the rip reported, and an instruction KVM cannot emulate.
 *
 * KVM reports an I/O exit with rip at the instruction (hardware KVM's fast
 * path) or past it (when it emulated the instruction, as this host's KVM
 * does); both are accepted, nothing else.  Single-threaded.
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define PORT_DX 0x1234
#define PORT_IN 0xe2
#define PORT_STR 0xe8

/* clang-format off */
asm(KT_GUEST_BEGIN(gr, KT_CODE)
    ".code64\n"
    KT_LABEL("gr_start")
    "	mov $0x12345678, %eax\n"
    KT_LABEL("gr_out1")
    "	out %al, $0xe0\n"
    KT_LABEL("gr_out2")
    "	out %ax, $0xe0\n"
    KT_LABEL("gr_out4")
    "	out %eax, $0xe0\n"
    "	mov $0x1234, %dx\n"
    KT_LABEL("gr_outdx")
    "	out %eax, %dx\n"
    KT_LABEL("gr_outdx_end")
    "	mov $0x11223344, %eax\n"
    KT_LABEL("gr_in1")
    "	in $0xe2, %al\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gr_in2")
    "	in %dx, %ax\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gr_in4")
    "	in %dx, %eax\n"
    KT_LABEL("gr_in4_end")
    "	out %eax, $0xe0\n"
    "	lea gr_msg(%rip), %rsi\n"
    "	mov $5, %ecx\n"
    "	mov $0xe8, %dx\n"
    "	cld\n"
    KT_LABEL("gr_outsb")
    "	rep outsb\n"
    KT_LABEL("gr_outsb_end")
    "	mov %ecx, %eax\n"
    "	out %eax, $0xe0\n"		/* rcx after: 0 */
    "	lea gr_msg(%rip), %rax\n"
    "	sub %rax, %rsi\n"
    "	mov %esi, %eax\n"
    "	out %eax, $0xe0\n"		/* rsi advanced: 5 */
    "	mov $" KT_STR(KT_DATA) ", %edi\n"
    "	mov $6, %ecx\n"
    KT_LABEL("gr_insb")
    "	rep insb\n"
    KT_LABEL("gr_insb_end")
    "	mov %ecx, %eax\n"
    "	out %eax, $0xe0\n"		/* rcx after: 0 */
    "	mov $0xf0f1, %ebx\n"
    "	xor %eax, %eax\n"
    KT_LABEL("gr_popcnt")
    "	popcnt %ebx, %eax\n"
    KT_LABEL("gr_popcnt_end")
    "	out %eax, $0xe0\n"
    "gr_msg: .ascii \"hello\"\n"
    KT_GUEST_END(gr));
/* clang-format on */
KT_GUEST_DECLARE(gr);
extern const uint8_t gr_start[], gr_out1[], gr_out2[], gr_out4[], gr_outdx[],
	gr_outdx_end[], gr_in1[], gr_in2[], gr_in4[], gr_in4_end[], gr_outsb[],
	gr_outsb_end[], gr_insb[], gr_insb_end[], gr_popcnt[], gr_popcnt_end[];

#define GR(label) KT_GADDR(gr, KT_CODE, label)

/*
 * Run to the next exit, expect port I/O; fills *e.  `at` is the
 * instruction, `next` the one after it.
 */
static bool io_exit(struct vcpu *v, struct vm_exit *e, bool in, int port,
		    int bytes, uint64_t at, uint64_t next, const char *what)
{
	char buf[160];
	bool r;

	if (kt_run(v, e) < 0 || e->exitcode != VM_EXITCODE_INOUT) {
		ok(0, "%s: an INOUT exit", what);
		tap_diag("got %s", kt_exit_str(e, buf, sizeof(buf)));
		return false;
	}
	r = ok(e->u.inout.in == in && e->u.inout.port == port &&
		       e->u.inout.bytes == bytes,
	       "%s: %s port %#x, %d bytes", what, in ? "in" : "out", port,
	       bytes);
	r &= ok(e->rip == at || e->rip == next,
		"%s: rip %#llx at the instruction or after it", what,
		(unsigned long long)e->rip);
	if (!r)
		tap_diag("got %s", kt_exit_str(e, buf, sizeof(buf)));
	return r;
}

static uint32_t io_val(const struct vm_exit *e)
{
	uint32_t v = 0;

	memcpy(&v, e->u.inout.data, e->u.inout.bytes);
	return v;
}

static uint32_t report(struct vcpu *v, const char *what)
{
	uint32_t val = ~0u;

	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0, "guest reports %s", what);
	return val;
}

int main(void)
{
	struct kt_vm *vm;
	struct vcpu *v;
	struct vm_exit e;
	char buf[160];
	uint8_t str[8];
	unsigned got, exits, maxcount;

	kt_require_kvm();
	vm = kt_vm_create("run", KT_MEM_DEFAULT, 1);
	v = vm->vcpu[0];
	kt_load(vm, KT_CODE, gr, gr_end);
	if (kt_vcpu_set_mode(v, KT_MODE_LONG64, GR(gr_start)) < 0)
		tap_bail("set mode");
	is_int(vm_run(v, NULL), -EINVAL, "VM_RUN without an exit struct");

	/* out, each size */
	if (io_exit(v, &e, false, KT_PORT_OUT, 1, GR(gr_out1), GR(gr_out2),
		    "out al"))
		is_hex(io_val(&e), 0x78, "out al: the data is al");
	if (io_exit(v, &e, false, KT_PORT_OUT, 2, GR(gr_out2), GR(gr_out4),
		    "out ax"))
		is_hex(io_val(&e), 0x5678, "out ax: the data is ax");
	if (io_exit(v, &e, false, KT_PORT_OUT, 4, GR(gr_out4), GR(gr_out4) + 2,
		    "out eax"))
		is_hex(io_val(&e), 0x12345678, "out eax: the data is eax");
	ok(io_exit(v, &e, false, PORT_DX, 4, GR(gr_outdx), GR(gr_outdx_end),
		   "out eax to dx") &&
		   e.u.inout.count == 1,
	   "out eax to dx: count 1");

	/* in, each size: the test stores the value in the data area */
	if (io_exit(v, &e, true, PORT_IN, 1, GR(gr_in1), GR(gr_in1) + 2,
		    "in al"))
		*e.u.inout.data = 0xab;
	is_hex(report(v, "eax after in al"), 0x112233ab,
	       "in al: al is the value stored, the rest of eax kept");
	if (io_exit(v, &e, true, PORT_DX, 2, GR(gr_in2), GR(gr_in2) + 2,
		    "in ax"))
		memcpy(e.u.inout.data, "\xef\xbe", 2);
	is_hex(report(v, "eax after in ax"), 0x1122beef, "in ax");
	if (io_exit(v, &e, true, PORT_DX, 4, GR(gr_in4), GR(gr_in4_end),
		    "in eax"))
		memcpy(e.u.inout.data, "\x0d\xf0\xfe\xca", 4);
	is_hex(report(v, "eax after in eax"), 0xcafef00d, "in eax");

	/* rep outsb of 5 bytes: one exit or several, 5 bytes in order */
	got = exits = maxcount = 0;
	while (got < 5) {
		if (!io_exit(v, &e, false, PORT_STR, 1, GR(gr_outsb),
			     GR(gr_outsb_end), "rep outsb"))
			break;
		exits++;
		if (e.u.inout.count > maxcount)
			maxcount = e.u.inout.count;
		if (e.u.inout.count < 1 || e.u.inout.count > 5 - got) {
			ok(0, "rep outsb: count %u", e.u.inout.count);
			break;
		}
		memcpy(str + got, e.u.inout.data, e.u.inout.count);
		got += e.u.inout.count;
	}
	ok(got == 5 && memcmp(str, "hello", 5) == 0,
	   "rep outsb: \"hello\" in %u exits, up to %u bytes each", exits,
	   maxcount);
	is_int(report(v, "rcx after rep outsb"), 0, "rep outsb: rcx is 0");
	is_int(report(v, "rsi after rep outsb"), 5, "rep outsb: rsi moved 5");

	/* rep insb of 6 bytes: the test stores them */
	got = exits = maxcount = 0;
	while (got < 6) {
		if (!io_exit(v, &e, true, PORT_STR, 1, GR(gr_insb),
			     GR(gr_insb_end), "rep insb"))
			break;
		exits++;
		if (e.u.inout.count > maxcount)
			maxcount = e.u.inout.count;
		if (e.u.inout.count < 1 || e.u.inout.count > 6 - got) {
			ok(0, "rep insb: count %u", e.u.inout.count);
			break;
		}
		memcpy(e.u.inout.data, "world!" + got, e.u.inout.count);
		got += e.u.inout.count;
	}
	ok(maxcount > 1, "rep insb: one exit has a count of %u > 1", maxcount);
	is_int(report(v, "rcx after rep insb"), 0, "rep insb: rcx is 0");
	ok(memcmp(kt_gpa(vm, KT_DATA), "world!", 6) == 0,
	   "rep insb: guest memory has the 6 bytes stored, in order");

	/*
	 * popcnt: this host's KVM emulates kernel code and cannot emulate it;
	 * on hardware it simply runs.
	 */
	if (kt_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_INST_EMUL) {
		ok(e.rip == GR(gr_popcnt), "popcnt: INST_EMUL at its rip");
		is_int(e.u.inst_emul.suberror, 1,
		       "popcnt: suberror KVM_INTERNAL_ERROR_EMULATION");
		ok(e.u.inst_emul.inst_len >= 4 &&
			   memcmp(e.u.inst_emul.inst, gr_popcnt, 4) == 0,
		   "popcnt: the instruction bytes (%d) are f3 0f b8 c3",
		   e.u.inst_emul.inst_len);
	} else if (e.exitcode == VM_EXITCODE_INOUT) {
		ok(e.u.inout.port == KT_PORT_OUT && io_val(&e) == 9,
		   "popcnt ran: popcnt(0xf0f1) = %u", io_val(&e));
		ok(e.rip == GR(gr_popcnt_end) || e.rip == GR(gr_popcnt_end) + 2,
		   "rip after popcnt");
	} else {
		ok(0, "popcnt: INST_EMUL or an out");
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
	}
	kt_vm_destroy(vm);
	return tap_done();
}
