/*
 * test-trace-filter.c: exit reason names (user, VMX, SVM) against the
 * kernel's uapi tables and back, and trace specs (vm_trace.h): each key,
 * combinations, capture options, and bad terms with their messages.
 * Single-threaded.
 */
#include <asm/kvm.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include <errno.h>
#include <linux/kvm.h>

#include "libvmmapi/vm_trace.h"
#include "tests/tap.h"

struct kname {
	uint32_t code;
	const char *name;
};

static const struct kname linux_vmx[] = { VMX_EXIT_REASONS };
static const struct kname linux_svm[] = { SVM_EXIT_REASONS };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The message got holds sub. */
#define has_sub(got, sub)                                                    \
	({                                                                   \
		const char *g_ = (got);                                      \
		bool r_ = ok(g_ && strstr(g_, sub), "message has: %s", sub); \
		if (!r_)                                                     \
			printf("#   got \"%s\"\n", g_ ? g_ : "(null)");      \
		r_;                                                          \
	})

static const char *rname(unsigned int source, unsigned int flags,
			 uint32_t reason)
{
	static char buf[32];

	return vm_trace_reason_name(source, flags, reason, buf, sizeof(buf));
}

/* name -> parse gives the code back, for every code of a table. */
static void round_trip(unsigned int source, unsigned int flags,
		       const char *what)
{
	static const uint32_t extra[] = { 0x400, 0x401,	  0x402,
					  0x403, 0x12345, 0xffffffff };
	unsigned int bad = 0, i;
	uint32_t code, back;

	for (i = 0; i < 0x100 + N(extra); i++) {
		code = i < 0x100 ? i : extra[i - 0x100];
		if (vm_trace_reason_parse(rname(source, flags, code), source,
					  flags, &back) < 0 ||
		    back != code) {
			if (bad++ < 3)
				printf("# %s %#x named %s\n", what, code,
				       rname(source, flags, code));
		}
	}
	is_int(bad, 0, "%s names parse back to their codes", what);
}

static void test_names(void)
{
	unsigned int bad = 0, i;
	uint32_t r;
	char buf[32];

	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_IO), "io", "user io");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_MMIO), "mmio", "user mmio");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_HLT), "hlt", "user hlt");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_FAIL_ENTRY), "fail_entry",
	       "user fail_entry");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_INTERNAL_ERROR),
	       "internal_error", "user internal_error");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_SYSTEM_EVENT), "system_event",
	       "user system_event");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_X86_RDMSR), "x86_rdmsr",
	       "user x86_rdmsr");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_X86_WRMSR), "x86_wrmsr",
	       "user x86_wrmsr");
	is_str(rname(VM_TRACE_USER, 0, KVM_EXIT_NOTIFY), "notify",
	       "user notify");
	is_str(rname(VM_TRACE_USER, 0, 1000), "reason_1000", "user unknown");
	is_str(vm_trace_reason_name(VM_TRACE_KERNEL, 0, 30, buf, sizeof(buf)),
	       "reason_30", "kernel without VMX/SVM: a number");

	for (i = 0; i < N(linux_vmx); i++)
		if (strcmp(rname(VM_TRACE_KERNEL, VM_TRACE_F_VMX,
				 linux_vmx[i].code),
			   linux_vmx[i].name) != 0 &&
		    bad++ < 3)
			printf("# VMX %u: %s\n", linux_vmx[i].code,
			       linux_vmx[i].name);
	is_int(bad, 0, "VMX names are Linux's (%zu)", N(linux_vmx));
	for (bad = 0, i = 0; i < N(linux_svm); i++) {
		if (linux_svm[i].code >= 0x80000000u &&
		    linux_svm[i].code != 0xffffffffu)
			continue; /* SEV-ES VMGEXIT subcodes */
		if ((vm_trace_reason_parse(linux_svm[i].name, VM_TRACE_KERNEL,
					   VM_TRACE_F_SVM, &r) < 0 ||
		     r != linux_svm[i].code) &&
		    bad++ < 3)
			printf("# SVM %#x: %s\n", linux_svm[i].code,
			       linux_svm[i].name);
	}
	is_int(bad, 0, "Linux's SVM names parse to their codes");
	is_str(rname(VM_TRACE_KERNEL, VM_TRACE_F_SVM, 0x7b), "ioio", "ioio");
	is_str(rname(VM_TRACE_KERNEL, VM_TRACE_F_SVM, 0x400), "npf", "npf");
	is_str(rname(VM_TRACE_KERNEL, VM_TRACE_F_SVM, 0x60), "intr", "intr");
	is_str(rname(VM_TRACE_KERNEL, VM_TRACE_F_SVM, 0x81), "vmmcall",
	       "vmmcall");
	is_str(rname(VM_TRACE_KERNEL, VM_TRACE_F_VMX,
		     EXIT_REASON_EPT_VIOLATION),
	       "EPT_VIOLATION", "EPT_VIOLATION");

	round_trip(VM_TRACE_USER, 0, "user");
	round_trip(VM_TRACE_KERNEL, VM_TRACE_F_VMX, "VMX");
	round_trip(VM_TRACE_KERNEL, VM_TRACE_F_SVM, "SVM");

	ok(vm_trace_reason_parse("io_instruction", VM_TRACE_KERNEL,
				 VM_TRACE_F_VMX, &r) == 0 &&
		   r == 30,
	   "parse is case-insensitive");
	ok(vm_trace_reason_parse("IO", VM_TRACE_USER, 0, &r) == 0 && r == 2,
	   "IO is user io");
	ok(vm_trace_reason_parse("de excp", VM_TRACE_KERNEL, VM_TRACE_F_SVM,
				 &r) == 0 &&
		   r == 0x40,
	   "SVM 'DE excp' as Linux writes it");
	ok(vm_trace_reason_parse("reason_77", VM_TRACE_USER, 0, &r) == 0 &&
		   r == 77,
	   "reason_N");
	ok(vm_trace_reason_parse("0x7b", VM_TRACE_KERNEL, VM_TRACE_F_SVM, &r) ==
			   0 &&
		   r == 0x7b,
	   "a plain number");
	is_int(vm_trace_reason_parse("npf", VM_TRACE_KERNEL, VM_TRACE_F_VMX,
				     &r),
	       -ENOENT, "npf is not a VMX name");
	is_int(vm_trace_reason_parse("bogus", VM_TRACE_USER, 0, &r), -ENOENT,
	       "an unknown name: -ENOENT");
	is_int(vm_trace_reason_parse("reason_x", VM_TRACE_USER, 0, &r), -ENOENT,
	       "reason_x: -ENOENT");
}

static const struct vm_trace_region regions[] = {
	{ .name = "com1",
	  .kind = VM_TRACE_REGION_PIO,
	  .base = 0x3f8,
	  .size = 8 },
	{ .name = "hpet",
	  .kind = VM_TRACE_REGION_MMIO,
	  .base = 0xfed00000,
	  .size = 0x400 },
};

static int sym(void *arg, const char *name, uint64_t *start, uint64_t *end)
{
	if (strcmp(name, "main") != 0)
		return -ENOENT;
	*start = 0x401000;
	*end = 0x401080;
	return 0;
}

static struct vm_trace_filter *parse(const char *spec)
{
	struct vm_trace_filter *f = (void *)1;
	char err[256] = "";

	if (vm_trace_filter_parse(spec, regions, N(regions), sym, NULL, &f,
				  NULL, err, sizeof(err)) < 0)
		tap_bail("'%s': %s", spec, err);
	return f;
}

/* The message a bad spec gets; out and cap unchanged. */
static const char *parse_err(const char *spec, bool with_cap, bool with_sym)
{
	static char err[256];
	struct vm_trace_filter *f = (void *)1;
	struct vm_trace_capture cap = { 99, 99, true };
	int r;

	err[0] = '\0';
	r = vm_trace_filter_parse(spec, regions, N(regions),
				  with_sym ? sym : NULL, NULL, &f,
				  with_cap ? &cap : NULL, err, sizeof(err));
	if (r != -EINVAL || f != (void *)1 || cap.stack != 99)
		printf("# '%s': returned %d, outputs written\n", spec, r);
	return r == -EINVAL && f == (void *)1 ? err : "(accepted)";
}

static struct vm_trace_rec user(uint32_t reason, uint64_t addr)
{
	return (struct vm_trace_rec){ .reason = reason,
				      .addr = addr,
				      .source = VM_TRACE_USER,
				      .cpl = 0,
				      .t_exit = 1000,
				      .t_entry = 1000 };
}

static struct vm_trace_rec kern(unsigned int flags, uint32_t reason)
{
	return (struct vm_trace_rec){ .reason = reason,
				      .source = VM_TRACE_KERNEL,
				      .flags = (uint8_t)flags,
				      .cpl = 3 };
}

static bool m(const struct vm_trace_filter *f, struct vm_trace_rec r)
{
	return vm_trace_filter_match(f, &r);
}

static void test_reason(void)
{
	struct vm_trace_filter *f = parse("reason=io");

	ok(f != NULL, "reason=io filters");
	ok(m(f, user(KVM_EXIT_IO, 0)), "reason=io: user io");
	ok(!m(f, user(KVM_EXIT_MMIO, 0)), "reason=io: not user mmio");
	ok(m(f, kern(VM_TRACE_F_SVM, 0x7b)),
	   "reason=io: SVM ioio (Linux's io)");
	ok(!m(f, kern(VM_TRACE_F_VMX, 2)), "reason=io: not VMX 2");
	vm_trace_filter_free(f);

	f = parse("reason=hlt");
	ok(m(f, user(KVM_EXIT_HLT, 0)) && m(f, kern(VM_TRACE_F_VMX, 12)) &&
		   m(f, kern(VM_TRACE_F_SVM, 0x78)),
	   "reason=hlt: user, VMX and SVM hlt");
	ok(!m(f, user(12, 0)) && !m(f, kern(VM_TRACE_F_SVM, 12)),
	   "reason=hlt: not code 12 of user or SVM");
	vm_trace_filter_free(f);

	f = parse("reason=IO_INSTRUCTION,reason=npf");
	ok(m(f, kern(VM_TRACE_F_VMX, 30)) && m(f, kern(VM_TRACE_F_SVM, 0x400)),
	   "two reasons: either matches");
	ok(!m(f, user(30, 0)) && !m(f, kern(VM_TRACE_F_VMX, 0x400)),
	   "two reasons: only their tables");
	vm_trace_filter_free(f);

	f = parse("reason=48");
	ok(m(f, kern(VM_TRACE_F_VMX, 48)) && m(f, user(48, 0)) &&
		   m(f, kern(0, 48)),
	   "reason=48 is code 48 of any source");
	vm_trace_filter_free(f);
	f = parse("reason=reason_49");
	ok(m(f, kern(VM_TRACE_F_VMX, 49)) && !m(f, kern(VM_TRACE_F_VMX, 48)),
	   "reason=reason_49");
	vm_trace_filter_free(f);
	has_sub(parse_err("reason=bogus", false, true),
		"trace spec: 'reason=bogus': no exit reason bogus");
}

static void test_vcpu_cpl_source(void)
{
	struct vm_trace_filter *f = parse("vcpu=1,vcpu=4-6");
	struct vm_trace_rec r = user(2, 0);
	unsigned int v, got = 0;

	for (v = 0; v < 10; v++) {
		r.vcpu = (uint16_t)v;
		got |= m(f, r) << v;
	}
	is_hex(got, 0x72, "vcpu=1,vcpu=4-6: vCPUs 1, 4, 5, 6");
	vm_trace_filter_free(f);

	f = parse("cpl=0,cpl=3");
	r.cpl = 0;
	ok(m(f, r), "cpl=0 matches CPL 0");
	r.cpl = 2;
	ok(!m(f, r), "cpl=0,cpl=3: not CPL 2");
	r.cpl = VM_TRACE_CPL_UNKNOWN;
	ok(!m(f, r), "an unknown CPL matches no cpl=");
	vm_trace_filter_free(f);

	f = parse("source=kernel");
	ok(m(f, kern(0, 1)) && !m(f, user(2, 0)), "source=kernel");
	vm_trace_filter_free(f);
	f = parse("source=user");
	ok(!m(f, kern(0, 1)) && m(f, user(2, 0)), "source=user");
	vm_trace_filter_free(f);
}

static void test_addresses(void)
{
	struct vm_trace_filter *f = parse("port=0x3f8-0x3ff");

	ok(m(f, user(KVM_EXIT_IO, 0x3f8)) && m(f, user(KVM_EXIT_IO, 0x3ff)),
	   "port range: both ends");
	ok(!m(f, user(KVM_EXIT_IO, 0x400)), "port range: past it");
	ok(!m(f, user(KVM_EXIT_MMIO, 0x3f8)), "port=: not MMIO");
	vm_trace_filter_free(f);

	f = parse("gpa=0xfee00000-0xfee00fff");
	ok(m(f, user(KVM_EXIT_MMIO, 0xfee00300)), "gpa range");
	ok(!m(f, user(KVM_EXIT_IO, 0xfee00300)), "gpa=: not port I/O");
	vm_trace_filter_free(f);

	f = parse("msr=0x10,msr=0xc0000080-0xc0000082");
	ok(m(f, user(KVM_EXIT_X86_RDMSR, 0x10)) &&
		   m(f, user(KVM_EXIT_X86_WRMSR, 0xc0000081)),
	   "msr=: rdmsr and wrmsr");
	ok(!m(f, user(KVM_EXIT_X86_RDMSR, 0x11)), "msr=: another MSR");
	ok(!m(f, user(KVM_EXIT_IO, 0x10)), "msr=: not port I/O");
	vm_trace_filter_free(f);

	f = parse("region=com1");
	ok(m(f, user(KVM_EXIT_IO, 0x3fd)), "region=com1: a port in it");
	ok(!m(f, user(KVM_EXIT_IO, 0x2f8)), "region=com1: not another port");
	ok(!m(f, user(KVM_EXIT_MMIO, 0x3fd)), "region=com1: not MMIO");
	vm_trace_filter_free(f);
	f = parse("region=hpet,region=com1");
	ok(m(f, user(KVM_EXIT_MMIO, 0xfed000f0)) &&
		   m(f, user(KVM_EXIT_IO, 0x3f8)),
	   "region=hpet,region=com1: MMIO in one, port I/O in the other");
	ok(!m(f, user(KVM_EXIT_IO, 0xfed000f0)) &&
		   !m(f, user(KVM_EXIT_MMIO, 0xfed00400)),
	   "region=hpet: not I/O ports, not past its end");
	vm_trace_filter_free(f);

	f = parse("rip=main");
	ok(m(f, (struct vm_trace_rec){ .rip = 0x40107f }) &&
		   !m(f, (struct vm_trace_rec){ .rip = 0x401080 }),
	   "rip=main: inside the function, not at its end");
	vm_trace_filter_free(f);
	f = parse("rip=0x1000-0x1fff");
	ok(m(f, (struct vm_trace_rec){ .rip = 0x1fff }) &&
		   !m(f, (struct vm_trace_rec){ .rip = 0x2000 }),
	   "rip=A-B");
	vm_trace_filter_free(f);
}

static void test_min(void)
{
	static const struct {
		const char *spec;
		uint64_t ns;
	} t[] = {
		{ "min=10", 10000 },	  { "min=10us", 10000 },
		{ "min=500ns", 500 },	  { "min=5ms", 5000000 },
		{ "min=2s", 2000000000 }, { "min=1.5us", 1500 },
	};
	struct vm_trace_rec r = user(2, 0);
	struct vm_trace_filter *f;
	unsigned int i;

	for (i = 0; i < N(t); i++) {
		f = parse(t[i].spec);
		r.t_exit = 1000;
		r.t_entry = 1000 + t[i].ns;
		ok(m(f, r), "%s keeps %" PRIu64 " ns", t[i].spec, t[i].ns);
		r.t_entry--;
		ok(!m(f, r), "%s drops %" PRIu64 " ns", t[i].spec, t[i].ns - 1);
		vm_trace_filter_free(f);
	}
}

static void test_combined(void)
{
	struct vm_trace_filter *f = parse("reason=io, vcpu=1 ,cpl=0");
	struct vm_trace_rec r = user(KVM_EXIT_IO, 0x60);

	r.vcpu = 1;
	ok(m(f, r), "reason, vcpu and cpl all match (spaces trimmed)");
	r.vcpu = 2;
	ok(!m(f, r), "a different vCPU fails the AND");
	r.vcpu = 1;
	r.reason = KVM_EXIT_MMIO;
	ok(!m(f, r), "a different reason fails the AND");
	vm_trace_filter_free(f);
	ok(vm_trace_filter_match(NULL, &r), "a NULL filter matches all");
}

static void test_capture(void)
{
	struct vm_trace_capture cap = { 1, 2, true };
	struct vm_trace_filter *f = (void *)1;
	char err[256];

	is_int(vm_trace_filter_parse(NULL, NULL, 0, NULL, NULL, &f, &cap, err,
				     sizeof(err)),
	       0, "a NULL spec");
	ok(f == NULL && cap.stack == 0 && cap.ring == VM_TRACE_RING_DEFAULT &&
		   !cap.kernel,
	   "keeps everything, default capture");
	f = (void *)1;
	is_int(vm_trace_filter_parse("", NULL, 0, NULL, NULL, &f, NULL, err,
				     sizeof(err)),
	       0, "an empty spec");
	ok(f == NULL, "keeps everything");
	is_int(vm_trace_filter_parse("stack=8,ring=1024,kernel", NULL, 0, NULL,
				     NULL, &f, &cap, err, sizeof(err)),
	       0, "capture terms");
	ok(f == NULL && cap.stack == 8 && cap.ring == 1024 && cap.kernel,
	   "stack=8, ring=1024, kernel; nothing filtered");
	is_int(vm_trace_filter_parse("stack=4,vcpu=0", regions, 2, NULL, NULL,
				     &f, &cap, err, sizeof(err)),
	       0, "capture and filter terms");
	ok(f && cap.stack == 4 && cap.ring == VM_TRACE_RING_DEFAULT,
	   "the filter and the capture options");
	vm_trace_filter_free(f);
}

static void test_errors(void)
{
	static const struct {
		const char *spec, *msg;
	} t[] = {
		{ "vcpu=x", "trace spec: 'vcpu=x': expected a vCPU number or "
			    "range N-M" },
		{ "vcpu=3-1", "trace spec: 'vcpu=3-1': expected a vCPU "
			      "number or range N-M" },
		{ "vcpu=70000", "trace spec: 'vcpu=70000': expected a vCPU "
				"number or range N-M" },
		{ "vcpu", "trace spec: 'vcpu': expected vcpu=VALUE" },
		{ "vcpu=", "trace spec: 'vcpu=': expected vcpu=VALUE" },
		{ "port=0x10000", "trace spec: 'port=0x10000': expected a "
				  "port number (0-0xffff) or range N-M" },
		{ "gpa=0xz", "trace spec: 'gpa=0xz': expected a "
			     "guest-physical address or range N-M" },
		{ "msr=-1", "trace spec: 'msr=-1': expected an MSR number or "
			    "range N-M" },
		{ "cpl=4", "trace spec: 'cpl=4': expected a CPL 0-3" },
		{ "min=abc", "trace spec: 'min=abc': expected a duration: a "
			     "number with ns, us, ms or s (default us)" },
		{ "min=10h", "trace spec: 'min=10h': expected a duration: a "
			     "number with ns, us, ms or s (default us)" },
		{ "source=both", "trace spec: 'source=both': expected "
				 "source=user or source=kernel" },
		{ "region=nope", "trace spec: 'region=nope': no region named "
				 "nope" },
		{ "rip=nosuch", "trace spec: 'rip=nosuch': no symbol nosuch" },
		{ "foo=1", "trace spec: 'foo=1': unknown key (keys: reason, "
			   "vcpu, port, gpa, region, msr, rip, cpl, min, "
			   "source, stack, ring, kernel)" },
		{ "vcpu=1,,vcpu=2", "trace spec: empty term (two commas, or "
				    "a comma at an end)" },
		{ "vcpu=1,", "trace spec: empty term (two commas, or a comma "
			     "at an end)" },
		{ ",vcpu=1", "trace spec: empty term (two commas, or a comma "
			     "at an end)" },
		{ "stack=8", "trace spec: stack=8 is a capture option: give "
			     "it when recording" },
		{ "kernel", "trace spec: kernel is a capture option: give it "
			    "when recording" },
		{ "vcpu=0,bad", "trace spec: 'bad': unknown key (keys: "
				"reason, vcpu, port, gpa, region, msr, rip, "
				"cpl, min, source, stack, ring, kernel)" },
	};
	static const struct {
		const char *spec, *msg;
	} tc[] = {
		{ "stack=33", "trace spec: 'stack=33': expected a stack depth "
			      "0-32" },
		{ "ring=0", "trace spec: 'ring=0': expected records per ring, "
			    "1-16777216" },
		{ "kernel=1", "trace spec: 'kernel=1': kernel takes no value" },
	};
	struct vm_trace_filter *f = (void *)1;
	char err[256];
	unsigned int i;

	for (i = 0; i < N(t); i++)
		is_str(parse_err(t[i].spec, false, true), t[i].msg, "'%s'",
		       t[i].spec);
	for (i = 0; i < N(tc); i++)
		is_str(parse_err(tc[i].spec, true, true), tc[i].msg,
		       "'%s' when recording", tc[i].spec);
	is_str(parse_err("rip=main", false, false),
	       "trace spec: 'rip=main': rip=main needs symbols (give an ELF "
	       "with --sym, or load them with `sym load`)",
	       "rip=SYMBOL without symbols");
	is_int(vm_trace_filter_parse("region=com1", NULL, 0, NULL, NULL, &f,
				     NULL, err, sizeof(err)),
	       -EINVAL, "region= without a region table");
	is_str(err,
	       "trace spec: 'region=com1': no region named com1 (no regions "
	       "known)",
	       "its message");
	ok(f == (void *)1, "out untouched on failure");
}

int main(void)
{
	test_names();
	test_reason();
	test_vcpu_cpl_source();
	test_addresses();
	test_min();
	test_combined();
	test_capture();
	test_errors();
	return tap_done();
}
