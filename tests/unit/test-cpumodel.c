/*
 * test-cpumodel.c: CPU models without KVM - what each model lets through
 * a CPUID entry (vmm_cpuid_filter), the Linux command-line options for a
 * KVM whose filtering does not reach the guest, and -cpu on the command
 * line.
 */
#include <errno.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/cpumodel.h"
#include "monitor/options.h"
#include "tests/tap.h"
#include "vmm/vmm_priv.h"

#define BIT(n) (1u << (n))

static struct kvm_cpuid_entry2 filtered(uint32_t model,
					const struct vm_cpuid_mask *hide,
					uint32_t fn, uint32_t idx)
{
	static const struct vm_cpuid_mask none;
	struct kvm_cpuid_entry2 e = {
		.function = fn,
		.index = idx,
		.eax = 0xffffffff,
		.ebx = 0xffffffff,
		.ecx = 0xffffffff,
		.edx = 0xffffffff,
	};

	vmm_cpuid_filter(model, hide ? hide : &none, &e);
	return e;
}

static void test_filter(void)
{
	const uint32_t C = VM_CPU_MODEL_CONSERVATIVE, H = VM_CPU_MODEL_HOST;
	struct kvm_cpuid_entry2 e;
	struct vm_cpuid_mask hide = { { 0 } };

	e = filtered(H, NULL, 1, 0);
	ok(e.ecx == 0xffffffff && e.edx == 0xffffffff,
	   "host: leaf 1 as KVM has it");
	e = filtered(H, NULL, 0xd, 0);
	ok(e.eax == 0xffffffff, "host: leaf 0xD stays");

	e = filtered(C, NULL, 1, 0);
	is_int(e.ecx & (BIT(13) | BIT(23) | BIT(26) | BIT(27) | BIT(28) |
			BIT(12) | BIT(29) | BIT(30) | BIT(17) | BIT(25) |
			BIT(1)),
	       0,
	       "conservative: no cx16 popcnt xsave osxsave avx fma f16c "
	       "rdrand pcid aes pclmulqdq");
	is_int(e.ecx & (BIT(0) | BIT(9) | BIT(19) | BIT(20) | BIT(21) |
			BIT(24) | BIT(31)),
	       BIT(0) | BIT(9) | BIT(19) | BIT(20) | BIT(21) | BIT(24) |
		       BIT(31),
	       "conservative: sse3 ssse3 sse4.1 sse4.2 x2apic tsc-deadline "
	       "hypervisor stay");
	is_int(e.edx, 0xffffffff,
	       "conservative: leaf 1 EDX (fpu tsc apic sse sse2...) stays");
	e = filtered(C, NULL, 7, 0);
	is_int(e.ebx & (BIT(0) | BIT(3) | BIT(4) | BIT(5) | BIT(8) | BIT(10) |
			BIT(11) | BIT(18) | BIT(20) | BIT(16)),
	       0,
	       "conservative: no fsgsbase bmi hle avx2 invpcid rtm rdseed "
	       "smap avx512f");
	ok(e.ebx & BIT(7), "conservative: smep stays");
	is_int(e.ecx, 0, "conservative: leaf 7 ECX (pku la57 rdpid) hidden");
	is_int(e.edx, 0, "conservative: leaf 7 EDX hidden");
	is_int(e.eax, 0xffffffff,
	       "conservative: leaf 7 EAX (max subleaf) "
	       "stays");
	e = filtered(C, NULL, 7, 1);
	is_int(e.eax, 0, "conservative: leaf 7.1 EAX hidden");
	e = filtered(C, NULL, 0xd, 0);
	ok(!e.eax && !e.ebx && !e.ecx && !e.edx,
	   "conservative: leaf 0xD.0 empty without XSAVE");
	e = filtered(C, NULL, 0xd, 1);
	ok(!e.eax && !e.ebx && !e.ecx && !e.edx,
	   "conservative: leaf 0xD.1 (xsaveopt xsavec xsaves) empty");
	e = filtered(C, NULL, 0x80000001, 0);
	is_int(e.edx & (BIT(11) | BIT(20) | BIT(26) | BIT(29)),
	       BIT(11) | BIT(20) | BIT(26) | BIT(29),
	       "conservative: syscall nx pdpe1gb lm stay");
	is_int(e.edx & BIT(27), 0, "conservative: no rdtscp");
	is_int(e.ecx, BIT(0) | BIT(1) | BIT(4),
	       "conservative: 0x80000001 ECX keeps lahf_lm cmp_legacy "
	       "cr8_legacy");
	e = filtered(C, NULL, 0x40000001, 0);
	is_int(e.eax, 0xffffffff,
	       "conservative: KVM's leaves (kvm-clock) stay");

	hide.w[VM_CPUID_1_ECX] = BIT(13);
	e = filtered(H, &hide, 1, 0);
	is_int(e.ecx, ~BIT(13), "host with a mask: only cx16 goes");
	e = filtered(H, &hide, 0xd, 0);
	is_int(e.eax, 0xffffffff, "host with a mask: leaf 0xD stays");
	hide.w[VM_CPUID_1_ECX] = BIT(26);
	e = filtered(H, &hide, 0xd, 0);
	is_int(e.eax, 0, "host hiding xsave: leaf 0xD goes");
}

static void test_cmdline(void)
{
	struct vm_cpuid_mask h = { { 0 } };
	char out[512], added[256], tiny[8];
	unsigned dropped;
	int r;

	h.w[VM_CPUID_1_ECX] = BIT(13) | BIT(23) | BIT(26) | BIT(27) | BIT(28);
	h.w[VM_CPUID_7_EBX] = BIT(0) | BIT(20) | BIT(5);
	r = cpu_model_linux_cmdline(&h, true, "console=ttyS0", out, sizeof(out),
				    added, sizeof(added), &dropped);
	ok(r == 0 && !strcmp(out, "console=ttyS0") && !added[0],
	   "filtering reaches the guest: the command line is the user's");
	r = cpu_model_linux_cmdline(&h, false, "console=ttyS0", out,
				    sizeof(out), added, sizeof(added),
				    &dropped);
	is_int(r, 0, "not filtered: options fit");
	is_str(out,
	       "console=ttyS0 noxsave nofsgsbase "
	       "clearcpuid=141,151,308,155",
	       "not filtered: noxsave (with avx, avx2), nofsgsbase, then "
	       "cx16 popcnt smap osxsave by Linux number");
	is_str(added, "noxsave nofsgsbase clearcpuid=141,151,308,155",
	       "the options alone, for the notice");
	is_int(dropped, 0, "nothing dropped");
	r = cpu_model_linux_cmdline(&h, false, NULL, out, sizeof(out), NULL, 0,
				    &dropped);
	ok(r == 0 && !strcmp(out, "noxsave nofsgsbase "
				  "clearcpuid=141,151,308,155"),
	   "no user command line: the options alone, no leading space");
	r = cpu_model_linux_cmdline(&h, false, "clearcpuid=1 quiet", out,
				    sizeof(out), added, sizeof(added),
				    &dropped);
	is_str(out, "clearcpuid=1 quiet noxsave nofsgsbase",
	       "the user's clearcpuid= is kept, not doubled");
	r = cpu_model_linux_cmdline(&h, false, "noclearcpuid=1", out,
				    sizeof(out), added, sizeof(added),
				    &dropped);
	ok(r == 0 && strstr(out, " clearcpuid=141"),
	   "clearcpuid= inside another word does not count");

	memset(&h, 0, sizeof(h));
	h.w[VM_CPUID_1_ECX] = BIT(17);
	h.w[VM_CPUID_7_EBX] = BIT(10);
	h.w[VM_CPUID_7_ECX] = BIT(16) | BIT(3);
	r = cpu_model_linux_cmdline(&h, false, "", out, sizeof(out), added,
				    sizeof(added), &dropped);
	is_str(out, "nopcid noinvpcid no5lvl clearcpuid=515",
	       "pcid invpcid la57 by option; pku (no xsave hidden) by "
	       "number 16*32+3");

	memset(&h, 0, sizeof(h));
	r = cpu_model_linux_cmdline(&h, false, "a b", out, sizeof(out), added,
				    sizeof(added), &dropped);
	ok(r == 0 && !strcmp(out, "a b") && !added[0],
	   "nothing hidden: nothing added");

	for (int w = 0; w < VM_CPUID_NWORDS; w++)
		h.w[w] = 0xffffffff;
	h.w[VM_CPUID_1_ECX] &= ~BIT(26); /* no noxsave: every bit by number */
	r = cpu_model_linux_cmdline(&h, false, "", out, sizeof(out), added,
				    sizeof(added), &dropped);
	{
		const char *c = strstr(out, "clearcpuid=");
		size_t n = c ? strcspn(c + 11, " ") : 0;

		ok(r == 0 && c && n <= CPU_CLEARCPUID_MAX && n > 100,
		   "a long list stops at %d characters (got %zu)",
		   CPU_CLEARCPUID_MAX, n);
		ok(c && !strncmp(c + 11, "141,151,308,155,158", 19),
		   "the kernel's own instructions come first");
	}
	ok(dropped > 0, "the features left out are counted (%u)", dropped);
	r = cpu_model_linux_cmdline(&h, false, "", tiny, sizeof(tiny), NULL, 0,
				    &dropped);
	is_int(r, -ENAMETOOLONG, "a buffer too small is refused");
}

static int parse(struct vitro_options *o, char *err, const char *a0, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "vitro";
	va_start(ap, a0);
	for (const char *a = a0; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = 0;
	return options_parse(argc, argv, o, err, 256);
}

static void test_options(void)
{
	struct vitro_options o;
	char err[256];
	int r;

	r = parse(&o, err, "-k", "k", NULL);
	ok(r == 0 && o.cpu_model == -1, "no -cpu: automatic");
	r = parse(&o, err, "-cpu", "host", "-k", "k", NULL);
	ok(r == 0 && o.cpu_model == VM_CPU_MODEL_HOST, "-cpu host");
	r = parse(&o, err, "-c", "2", "-cpu", "conservative", "-k", "k", "vm",
		  NULL);
	ok(r == 0 && o.cpu_model == VM_CPU_MODEL_CONSERVATIVE && o.ncpus == 2 &&
		   !strcmp(o.name, "vm"),
	   "-cpu conservative beside -c 2 and a name");
	r = parse(&o, err, "-k", "k", "-cpu=conservative", NULL);
	ok(r == 0 && o.cpu_model == VM_CPU_MODEL_CONSERVATIVE,
	   "-cpu=conservative");
	r = parse(&o, err, "--cpu", "host", "-k", "k", NULL);
	ok(r == 0 && o.cpu_model == VM_CPU_MODEL_HOST, "--cpu host");
	r = parse(&o, err, "-cpu", "pentium", "-k", "k", NULL);
	ok(r == -EINVAL && strstr(err, "-cpu 'pentium'") &&
		   strstr(err, "host or conservative"),
	   "an unknown model is named, with the ones there are");
	r = parse(&o, err, "-k", "k", "-cpu", NULL);
	ok(r == -EINVAL && strstr(err, "-cpu needs a value"),
	   "-cpu without a value");
	r = parse(&o, err, "-k", "k", "-a", "x", "--", "-cpu", NULL);
	ok(r != 0 || o.cpu_model == -1, "-cpu after -- is not the option");
	ok(strstr(options_usage, "-cpu MODEL"), "--help shows -cpu");
	is_str(vm_cpu_model_name(VM_CPU_MODEL_CONSERVATIVE), "conservative",
	       "model names");
	is_str(vm_cpu_model_name(7), "?", "an unknown model's name");
}

static void test_names(void)
{
	char buf[32];

	is_str(vm_cpuid_feature_name(VM_CPUID_1_ECX, 13, buf, sizeof(buf)),
	       "cx16", "feature names follow Linux");
	is_str(vm_cpuid_feature_name(VM_CPUID_7_EBX, 12, buf, sizeof(buf)),
	       "7ebx.12", "a bit without a name is WORD.BIT");
	is_str(vm_kvm_kind_name(VM_KVM_EMULATED), "emulated", "kind names");
}

int main(void)
{
	test_filter();
	test_cmdline();
	test_options();
	test_names();
	return tap_done();
}
