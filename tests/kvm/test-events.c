/*
 * test-events.c: the event commands - VM_INJECT_EXCEPTION into the
 * guest's IDT (with and without error code, in long and protected mode),
 * VM_INJECT_NMI to a vCPU spinning in the guest (it is kicked out of
 * KVM_RUN), ISA IRQ assert/deassert/pulse through the in-kernel 8259 the
 * guest programmed, ISA IRQ 0 through IOAPIC pin 2 (the PC routing vmm
 * sets), and VM_LAPIC_MSI.
 *
 * The guest's IDT stubs (kvm_util) record each vector and report it with
 * an `out`.  The NMI test runs the vCPU on its own thread (kt_runner);
 * checks are made by the main thread.  A guest waiting for an interrupt
 * halts; "no interrupt" is observed as a run that reaches its watchdog.
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define CNT KT_DATA
#define IRQ 4
#define IRQ_MASKED 5
#define PIC_BASE 0x20
#define MSI_VECTOR 0x41
#define IOAPIC_PIN2_VECTOR 0x51
#define IOAPIC_PIN0_VECTOR 0x52
/* How long a halted guest is given to take an interrupt it must not. */
#define QUIET_MS 300

/* clang-format off */
asm(KT_GUEST_BEGIN(ge, KT_CODE)
    /* The same bytes in 32- and 64-bit mode. */
    KT_LABEL("ge_idle")
    "	nop\n"
    "	nop\n"
    "	mov $2, %eax\n"
    "	out %eax, $0xe0\n"
    "	ud2\n"

    ".code64\n"
    KT_LABEL("ge_spin")
    "1:	incq " KT_STR(CNT) "\n"
    "	jmp 1b\n"
    KT_LABEL("ge_spin_end")

    /* Program the 8259s (IRQ 4 only), enable the LAPIC, wait. */
    KT_LABEL("ge_irq")
    "	mov $0x11, %al\n"
    "	out %al, $0x20\n"		/* ICW1: edge, cascade, ICW4 */
    "	mov $" KT_STR(PIC_BASE) ", %al\n"
    "	out %al, $0x21\n"		/* ICW2: vector base */
    "	mov $0x04, %al\n"
    "	out %al, $0x21\n"		/* ICW3: slave on IRQ 2 */
    "	mov $0x01, %al\n"
    "	out %al, $0x21\n"		/* ICW4: 8086 mode */
    "	mov $0xef, %al\n"
    "	out %al, $0x21\n"		/* OCW1: all masked but IRQ 4 */
    "	mov $0x11, %al\n"
    "	out %al, $0xa0\n"
    "	mov $" KT_STR(PIC_BASE + 8) ", %al\n"
    "	out %al, $0xa1\n"
    "	mov $0x02, %al\n"
    "	out %al, $0xa1\n"
    "	mov $0x01, %al\n"
    "	out %al, $0xa1\n"
    "	mov $0xff, %al\n"
    "	out %al, $0xa1\n"
    "	mov $0xfee000f0, %edx\n"
    "	movl $0x1ff, (%rdx)\n"		/* LAPIC software-enabled */
    "	mov $1, %eax\n"
    "	out %eax, $0xe0\n"
    "	sti\n"
    "1:	hlt\n"
    "	jmp 1b\n"

    /*
     * The 8259s masked; IOAPIC pin 2 to IOAPIC_PIN2_VECTOR and pin 0 to
     * IOAPIC_PIN0_VECTOR, edge, to APIC ID 0; wait.
     */
    KT_LABEL("ge_ioapic")
    "	mov $0xff, %al\n"
    "	out %al, $0x21\n"
    "	out %al, $0xa1\n"
    "	mov $0xfee000f0, %edx\n"
    "	movl $0x1ff, (%rdx)\n"
    "	mov $0xfec00000, %edx\n"
    "	movl $0x14, (%rdx)\n"		/* pin 2, low dword */
    "	movl $" KT_STR(IOAPIC_PIN2_VECTOR) ", 0x10(%rdx)\n"
    "	movl $0x15, (%rdx)\n"
    "	movl $0, 0x10(%rdx)\n"
    "	movl $0x10, (%rdx)\n"		/* pin 0 */
    "	movl $" KT_STR(IOAPIC_PIN0_VECTOR) ", 0x10(%rdx)\n"
    "	movl $0x11, (%rdx)\n"
    "	movl $0, 0x10(%rdx)\n"
    "	mov $1, %eax\n"
    "	out %eax, $0xe0\n"
    "	sti\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    KT_GUEST_END(ge));
/* clang-format on */
KT_GUEST_DECLARE(ge);
extern const uint8_t ge_idle[], ge_spin[], ge_spin_end[], ge_irq[], ge_ioapic[];

#define GE(label) KT_GADDR(ge, KT_CODE, label)

/* Inject, run, and expect the guest's stub to report it. */
static void inject(struct kt_vm *vm, enum kt_mode mode, int vector, bool has_ec,
		   uint32_t ec, uint64_t cr2, const char *what)
{
	struct vcpu *v = vm->vcpu[0];
	struct kt_exc x;
	uint32_t val;
	int r;

	kt_exc_reset(vm);
	kt_vcpu_set_mode(v, mode, GE(ge_idle));
	r = vm_inject_exception(v, vector, has_ec, ec, cr2);
	is_int(r, 0, "inject %s", what);
	if (r < 0)
		return;
	ok(kt_run_out(v, KT_PORT_EXC, &val) == 0 && val == (uint32_t)vector,
	   "%s: the guest's handler for vector %d runs", what, vector);
	x = kt_exc_get(vm);
	ok(x.vector == (uint64_t)vector && x.error_code == ec &&
		   x.rip == GE(ge_idle) && x.count == 1,
	   "%s: error code %#x, at the vCPU's rip", what, ec);
	if (vector == IDT_PF)
		is_hex(x.cr2, cr2, "%s: CR2", what);
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 2,
	   "%s: the guest returns and goes on", what);
}

static void test_exceptions(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct vcpu *none = vm_vcpu_open(vm->ctx, 3);

	inject(vm, KT_MODE_LONG64, 6, false, 0, 0, "#UD");
	inject(vm, KT_MODE_LONG64, IDT_GP, true, 0x1234, 0, "#GP");
	inject(vm, KT_MODE_LONG64, IDT_PF, true, PGEX_P | PGEX_W,
	       0xffff800012345678ULL, "#PF");
	inject(vm, KT_MODE_LONG64, 0, false, 0, 0, "#DE");
	inject(vm, KT_MODE_PROT32, 6, false, 0, 0, "#UD in protected mode");
	inject(vm, KT_MODE_PROT32, IDT_GP, true, 0x18, 0,
	       "#GP in protected mode");

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GE(ge_idle));
	is_int(vm_inject_exception(v, IDT_GP, false, 0, 0), -EINVAL,
	       "#GP without its error code: EINVAL");
	is_int(vm_inject_exception(v, 6, true, 0, 0), -EINVAL,
	       "#UD with an error code: EINVAL");
	is_int(vm_inject_exception(v, 2, false, 0, 0), -EINVAL,
	       "vector 2 (NMI has its own command): EINVAL");
	is_int(vm_inject_exception(v, 32, false, 0, 0), -EINVAL,
	       "vector 32: EINVAL");
	is_int(vm_inject_exception(v, -1, false, 0, 0), -EINVAL,
	       "vector -1: EINVAL");
	is_int(vm_inject_exception(none, 6, false, 0, 0), -ENOENT,
	       "a vCPU that does not exist: ENOENT");
	is_int(vm_inject_exception(v, 6, false, 0, 0), 0, "inject #UD");
	is_int(vm_inject_exception(v, 0, false, 0, 0), -EBUSY,
	       "a second one before the vCPU ran: EBUSY");
	kt_exc_reset(vm);
	ok(kt_run_out(v, KT_PORT_EXC, NULL) == 0 && kt_exc_get(vm).count == 1 &&
		   kt_exc_get(vm).vector == 6,
	   "only the first is delivered");
	vm_vcpu_close(none);
}

static void test_nmi(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct kt_runner *r;
	struct vm_exit e;
	struct kt_exc x;
	uint64_t c, end = kt_now_ms() + 10000;
	char buf[160];

	kt_exc_reset(vm);
	kt_poke64(vm, CNT, 0);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GE(ge_spin));
	r = kt_runner_start(v);
	while (kt_peek64(vm, CNT) == 0 && kt_now_ms() < end)
		kt_sleep_ms(1);
	ok(kt_peek64(vm, CNT) > 0 && kt_runner_running(r),
	   "the guest spins inside VM_RUN");
	is_int(vm_inject_nmi(v), 0, "VM_INJECT_NMI to the running vCPU");
	if (kt_runner_wait(r, &e, 10000) == 0 &&
	    e.exitcode == VM_EXITCODE_INOUT && e.u.inout.port == KT_PORT_EXC) {
		x = kt_exc_get(vm);
		ok(x.vector == 2 && x.count == 1 && x.rip >= GE(ge_spin) &&
			   x.rip < GE(ge_spin_end),
		   "the guest takes the NMI in its loop");
	} else {
		ok(0, "the guest takes the NMI in its loop");
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
	}
	/*
	 * Let the handler return (its iret ends NMI blocking) and the loop
	 * count again before stopping.
	 */
	c = kt_peek64(vm, CNT);
	kt_runner_go(r);
	end = kt_now_ms() + 10000;
	while (kt_peek64(vm, CNT) == c && kt_now_ms() < end)
		kt_sleep_ms(1);
	ok(kt_peek64(vm, CNT) > c, "the guest returns to its loop");
	kt_runner_stop(r);
	is_int(vm_inject_nmi(v), 0, "VM_INJECT_NMI to a stopped vCPU");
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GE(ge_idle));
	ok(kt_run_out(v, KT_PORT_EXC, NULL) == 0 &&
		   kt_exc_get(vm).vector == 2 && kt_exc_get(vm).count == 2,
	   "it is delivered when the vCPU runs");
}

/* Run the halted guest and expect `vector` from its stub. */
static bool takes(struct kt_vm *vm, int vector, const char *what)
{
	uint32_t val = 0;
	bool r = kt_run_out(vm->vcpu[0], KT_PORT_EXC, &val) == 0 &&
		 val == (uint32_t)vector;

	return ok(r, "%s: the guest takes vector %#x", what, vector);
}

/* Run the halted guest and expect nothing for a while. */
static void quiet(struct kt_vm *vm, const char *what)
{
	struct vm_exit e;
	char buf[160];
	int r = kt_run_timeout(vm->vcpu[0], &e, QUIET_MS);

	if (!ok(r == -ETIMEDOUT, "%s: no interrupt", what) && r == 0)
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
}

static void test_irqs(struct kt_vm *vm)
{
	struct vmctx *ctx = vm->ctx;
	struct vcpu *v = vm->vcpu[0];
	struct kt_exc *rec = kt_gpa(vm, KT_EXC);

	kt_exc_reset(vm);
	rec->eoi = KT_EOI_PIC | KT_EOI_LAPIC;
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GE(ge_irq));
	if (kt_run_out(v, KT_PORT_OUT, NULL) < 0) {
		ok(0, "the guest programs its 8259s");
		return;
	}
	/* ISA IRQ 4 reaches the BSP through the 8259 (edge-triggered). */
	is_int(vm_isa_assert_irq(ctx, IRQ), 0, "assert IRQ %d", IRQ);
	takes(vm, PIC_BASE + IRQ, "assert");
	quiet(vm, "the line stays up after EOI");
	is_int(vm_isa_deassert_irq(ctx, IRQ), 0, "deassert IRQ %d", IRQ);
	quiet(vm, "deassert");
	is_int(vm_isa_assert_irq(ctx, IRQ), 0, "assert IRQ %d again", IRQ);
	takes(vm, PIC_BASE + IRQ, "a new edge");
	is_int(vm_isa_deassert_irq(ctx, IRQ), 0, "deassert");
	is_int(vm_isa_pulse_irq(ctx, IRQ), 0, "pulse IRQ %d", IRQ);
	takes(vm, PIC_BASE + IRQ, "pulse");
	is_int(vm_isa_pulse_irq(ctx, IRQ), 0, "pulse again");
	takes(vm, PIC_BASE + IRQ, "pulse again: the line was left down");
	is_int(vm_isa_pulse_irq(ctx, IRQ_MASKED), 0, "pulse IRQ %d",
	       IRQ_MASKED);
	quiet(vm, "a line the guest masked");
	is_int(rec->count, 4, "4 interrupts in all");
	is_int(vm_isa_assert_irq(ctx, 24), -EINVAL, "IRQ 24: EINVAL");
	is_int(vm_isa_pulse_irq(ctx, -1), -EINVAL, "IRQ -1: EINVAL");

	/* MSI: fixed delivery, edge, to APIC ID 0. */
	is_int(vm_lapic_msi(ctx, 0xfee00000, MSI_VECTOR), 0, "MSI vector %#x",
	       MSI_VECTOR);
	takes(vm, MSI_VECTOR, "MSI");
	is_int(vm_lapic_msi(ctx, 0xfee00000 | 1 << 12, MSI_VECTOR), 0,
	       "MSI to APIC ID 1, which no vCPU has");
	quiet(vm, "an MSI to another APIC ID");
	is_int(rec->count, 5, "5 interrupts in all");
}

/*
 * ISA IRQ 0 (the PIT's line) reaches IOAPIC pin 2, as the MP and ACPI
 * tables say (an interrupt source override), not pin 0.
 */
static void test_ioapic_routing(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct kt_exc *rec = kt_gpa(vm, KT_EXC);

	kt_exc_reset(vm);
	rec->eoi = KT_EOI_LAPIC;
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GE(ge_ioapic));
	if (kt_run_out(v, KT_PORT_OUT, NULL) < 0) {
		ok(0, "the guest programs its IOAPIC");
		return;
	}
	is_int(vm_isa_pulse_irq(vm->ctx, 0), 0, "pulse ISA IRQ 0");
	takes(vm, IOAPIC_PIN2_VECTOR, "ISA IRQ 0 through IOAPIC pin 2");
	quiet(vm, "nothing on pin 0");
	is_int(vm_isa_pulse_irq(vm->ctx, IRQ), 0, "pulse ISA IRQ 4");
	quiet(vm, "IRQ 4's pin is masked");
	is_int(rec->count, 1, "1 interrupt in all");
}

int main(void)
{
	struct kt_vm *vm;

	kt_require_kvm();
	vm = kt_vm_create("events", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, ge, ge_end);
	test_exceptions(vm);
	test_nmi(vm);
	test_irqs(vm);
	kt_vm_destroy(vm);
	/* A new VM: the last one's vCPU is halted for good. */
	vm = kt_vm_create("events-ioapic", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, ge, ge_end);
	test_ioapic_routing(vm);
	kt_vm_destroy(vm);
	return tap_done();
}
