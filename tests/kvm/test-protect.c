/*
 * test-protect.c: VM_PROTECT_GPA, the page protection that watchpoints
 * are built on: a read-only page turns guest writes into MMIO exits that
 * carry the data and leave memory alone, a page with no access turns every
 * access into one, and ordinary access comes back when the protection is
 * lifted; the monitor reaches the memory throughout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libvmmapi/vmmapi.h"
#include "tests/tap.h"

#define PAGE 0x2000

/* Real mode at 0x1000: movb $0x55, 0x2000; mov 0x2004, %al; out $0x10. */
static const uint8_t code[] = {
	0xc6, 0x06, 0x00, 0x20, 0x55, /* movb $0x55, 0x2000 */
	0xa0, 0x04, 0x20, /* mov 0x2004, %al */
	0xe6, 0x10, /* out %al, $0x10 */
	0xeb, 0xf4, /* jmp 0x1000 */
};

static void run(struct vcpu *vc, struct vm_exit *e)
{
	if (vm_run(vc, e) < 0)
		tap_bail("vm_run failed");
}

int main(void)
{
	static const int regs[] = { VM_REG_GUEST_CS, VM_REG_GUEST_CS_BASE,
				    VM_REG_GUEST_RIP };
	const uint64_t vals[] = { 0, 0, 0x1000 };
	char name[64];
	struct vmctx *ctx;
	struct vcpu *vc;
	struct vm_exit e;
	uint8_t *mem;
	int fd = open("/dev/kvm", O_RDWR);

	if (fd < 0)
		tap_skip_all("/dev/kvm not available: %s", strerror(errno));
	close(fd);
	snprintf(name, sizeof(name), "test-protect-%d", (int)getpid());
	ctx = vm_create(name);
	if (!ctx || vm_setup_memory(ctx, 16 << 20) < 0)
		tap_bail("cannot create a VM");
	vc = vm_vcpu_open(ctx, 0);
	if (vm_activate_cpu(vc) < 0 ||
	    vm_set_register_set(vc, 3, regs, vals) < 0)
		tap_bail("cannot set up the vCPU");
	mem = vm_map_gpa(ctx, 0, 16 << 20);
	memcpy(mem + 0x1000, code, sizeof(code));
	mem[PAGE + 4] = 0x77;

	is_int(vm_protect_gpa(ctx, PAGE + 1, 4096, VM_PROT_READ), -EINVAL,
	       "unaligned range refused");
	is_int(vm_protect_gpa(ctx, PAGE, 0, VM_PROT_READ), -EINVAL,
	       "empty range refused");
	is_int(vm_protect_gpa(ctx, PAGE, 4096, 8), -EINVAL,
	       "unknown protection bits refused");

	is_int(vm_protect_gpa(ctx, PAGE, 4096, VM_PROT_READ | VM_PROT_EXEC), 0,
	       "page made read-only");
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_MMIO && e.u.mmio.write &&
		   e.u.mmio.gpa == PAGE && e.u.mmio.bytes == 1 &&
		   e.u.mmio.data[0] == 0x55,
	   "a guest write to it exits as MMIO with address and data");
	is_int(mem[PAGE], 0, "and memory is unchanged");
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_INOUT && e.u.inout.data[0] == 0x77,
	   "a read of the read-only page goes to memory");

	is_int(vm_protect_gpa(ctx, PAGE, 4096, 0), 0, "page made inaccessible");
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_MMIO && e.u.mmio.write &&
		   e.u.mmio.gpa == PAGE,
	   "a write to it exits");
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_MMIO && !e.u.mmio.write &&
		   e.u.mmio.gpa == PAGE + 4,
	   "so does a read");
	e.u.mmio.data[0] = 0x99;
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_INOUT && e.u.inout.data[0] == 0x99,
	   "the read returns what the monitor supplied");
	ok(vm_map_gpa(ctx, PAGE, 4096) == mem + PAGE,
	   "the monitor still reaches the memory");

	is_int(vm_protect_gpa(ctx, PAGE, 4096,
			      VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC),
	       0, "protection lifted");
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_INOUT && mem[PAGE] == 0x55,
	   "the write reaches memory without an exit");

	/* Split a protection, then lift it piece by piece. */
	is_int(vm_protect_gpa(ctx, 0x100000, 0x10000, VM_PROT_READ), 0,
	       "a 16-page range made read-only");
	is_int(vm_protect_gpa(ctx, 0x104000, 0x1000,
			      VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC),
	       0, "one page in its middle lifted (a split)");
	is_int(vm_protect_gpa(ctx, 0x100000, 0x10000,
			      VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC),
	       0, "the rest lifted");
	mem[PAGE] = 0;
	run(vc, &e);
	ok(e.exitcode == VM_EXITCODE_INOUT && mem[PAGE] == 0x55,
	   "the guest still runs on ordinary memory");

	vm_vcpu_close(vc);
	vm_destroy(ctx);
	return tap_done();
}
