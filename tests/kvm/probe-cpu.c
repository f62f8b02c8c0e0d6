/*
 * probe-cpu.c: probes of the virtual CPU and of KVM's interfaces around
 * it - whether a TSC write takes effect, what a triple fault leaves of the
 * vCPU's state, which paging modes a guest can turn on (and what the CPU
 * writes into PAE PDPTEs), LA57 in the supported CPUID, and the vCPU's
 * binary statistics.  Bare VMs (probe_vm.h).  Single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <x86intrin.h>

#include "tests/kvm/probe_vm.h"

#define MSR_IA32_TSC 0x10
/* Far from any host's TSC (2^61 cycles is decades), so no coincidence. */
#define TSC_SET (1ULL << 61)
/* What a TSC may advance by during a probe. */
#define TSC_SLACK (1ULL << 40)

#define MAGIC 0x600dcafe
#define PAE_PDPTE_RSVD 0x1e6ULL /* bits 8:5 and 2:1 (Intel SDM table 4-8) */

/* clang-format off */
KPV_BLOB(kpc,
	 ".code64\n"
	 KPV_L("kpc_rdtsc")
	 "	rdtsc\n"
	 "	out %eax, $0xe0\n"
	 "	hlt\n"

	 KPV_L("kpc_triple")
	 "	nop\n"
	 KPV_L("kpc_triple_ud2")
	 "	ud2\n"

	 /* 32-bit: turn on the paging CR3/CR4 were given, read 4 MiB. */
	 ".code32\n"
	 KPV_L("kpc_paging")
	 "	mov %cr0, %eax\n"
	 "	or $0x80000000, %eax\n"
	 "	mov %eax, %cr0\n"
	 "	jmp 1f\n"
	 "1:	mov 0x400000, %eax\n"
	 "	out %eax, $0xe0\n"
	 "	hlt\n"
	 ".code64\n");
/* clang-format on */
extern const uint8_t kpc_rdtsc[], kpc_triple[], kpc_triple_ud2[], kpc_paging[];
#define KPC(label) KPV_ADDR(kpc, KPV_CODE, label)

static int start(struct kpv *p, struct kp_result *res)
{
	if (kpv_open(p, false, res))
		return -1;
	kpv_load(p, KPV_CODE, kpc, kpc_end);
	return 0;
}

static int set_tsc(struct kpv *p, uint64_t val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e = { .index = MSR_IA32_TSC, .data = val } };

	return ioctl(p->vcpu, KVM_SET_MSRS, &m) == 1 ? 0 : -1;
}

static int get_tsc(struct kpv *p, uint64_t *val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e = { .index = MSR_IA32_TSC } };

	if (ioctl(p->vcpu, KVM_GET_MSRS, &m) != 1)
		return -1;
	*val = m.e.data;
	return 0;
}

static bool tsc_from(uint64_t got, uint64_t set)
{
	return got >= set && got - set < TSC_SLACK;
}

int kp_tsc_msr(struct kp_result *res)
{
	struct kpv p;
	uint64_t got;

	if (start(&p, res) == 0) {
		if (set_tsc(&p, TSC_SET) < 0)
			kp_say(res, KP_CANNOT, "KVM_SET_MSRS refused IA32_TSC");
		else if (get_tsc(&p, &got) < 0)
			kp_say(res, KP_UNKNOWN, "KVM_GET_MSRS of IA32_TSC");
		else if (tsc_from(got, TSC_SET))
			kp_say(res, KP_CAN, "read back %#llx",
			       (unsigned long long)got);
		else
			kp_say(res, KP_CANNOT,
			       "IA32_TSC written %#llx with KVM_SET_MSRS reads "
			       "back %#llx (the host's TSC is %#llx): this KVM "
			       "does not virtualise the TSC",
			       (unsigned long long)TSC_SET,
			       (unsigned long long)got,
			       (unsigned long long)__rdtsc());
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_tsc_guest(struct kp_result *res)
{
	struct kvm_regs r;
	struct kpv p;
	char buf[160];
	uint64_t got;

	if (start(&p, res) == 0) {
		if (kpv_long64(&p, KPC(kpc_rdtsc)) < 0 ||
		    set_tsc(&p, TSC_SET) < 0)
			kp_say(res, KP_UNKNOWN, "set-up (KVM_SET_MSRS)");
		else if (kpv_run(&p) != KVM_EXIT_IO ||
			 !kpv_is_out(&p, KPV_PORT_OUT, NULL) ||
			 ioctl(p.vcpu, KVM_GET_REGS, &r) < 0)
			kp_say(res, KP_UNKNOWN, "rdtsc gave %s",
			       kpv_exit_str(&p, buf, sizeof(buf)));
		else if (got = (r.rdx << 32) | (uint32_t)r.rax,
			 tsc_from(got, TSC_SET))
			kp_say(res, KP_CAN, "the guest read %#llx",
			       (unsigned long long)got);
		else
			kp_say(res, KP_CANNOT,
			       "after IA32_TSC was written %#llx with "
			       "KVM_SET_MSRS the guest's rdtsc read %#llx (the "
			       "host's TSC is %#llx): this KVM does not "
			       "virtualise the TSC",
			       (unsigned long long)TSC_SET,
			       (unsigned long long)got,
			       (unsigned long long)__rdtsc());
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_shutdown_state(struct kp_result *res)
{
	uint64_t at = KPC(kpc_triple_ud2);
	struct kvm_sregs sr;
	struct kvm_regs r;
	struct kpv p;
	char buf[160];

	if (start(&p, res) == 0) {
		/* No IDT: the #UD cannot be delivered, nor the #DF. */
		if (kpv_long64(&p, KPC(kpc_triple)) < 0 ||
		    ioctl(p.vcpu, KVM_GET_SREGS, &sr) < 0 ||
		    (sr.idt.limit = 0, ioctl(p.vcpu, KVM_SET_SREGS, &sr) < 0))
			kp_say(res, KP_UNKNOWN, "set-up");
		else if (kpv_run(&p) != KVM_EXIT_SHUTDOWN ||
			 ioctl(p.vcpu, KVM_GET_REGS, &r) < 0 ||
			 ioctl(p.vcpu, KVM_GET_SREGS, &sr) < 0)
			kp_say(res, KP_UNKNOWN, "a ud2 without IDT gave %s",
			       kpv_exit_str(&p, buf, sizeof(buf)));
		else if (r.rip == at)
			kp_say(res, KP_CAN, "rip %#llx, the ud2",
			       (unsigned long long)r.rip);
		else if (sr.cs.selector == 0xf000 && r.rip == 0xfff0)
			kp_say(res, KP_CANNOT,
			       "KVM reset the vCPU at the shutdown: cs:rip "
			       "f000:fff0, cr0 %#llx; the faulting rip is lost",
			       (unsigned long long)sr.cr0);
		else
			kp_say(res, KP_CANNOT,
			       "after the shutdown rip is %#llx (cs %#x), not "
			       "the ud2 at %#llx",
			       (unsigned long long)r.rip, sr.cs.selector,
			       (unsigned long long)at);
	}
	kpv_close(&p);
	return res->verdict;
}

/*
 * Run kpc_paging in flat 32-bit mode with cr3/cr4 given; linear 4 MiB
 * must map the page at KPV_DATA, which holds MAGIC.  0 when the guest read
 * it, else -1 with what happened in res.
 */
static int paging_run(struct kpv *p, const char *mode, uint64_t cr3,
		      uint64_t cr4, struct kp_result *res)
{
	struct kvm_sregs sr;
	char buf[160];
	uint32_t val;

	*(uint32_t *)(p->mem + KPV_DATA) = MAGIC;
	if (kpv_prot32(p, KPC(kpc_paging)) < 0 ||
	    ioctl(p->vcpu, KVM_GET_SREGS, &sr) < 0) {
		kp_say(res, KP_UNKNOWN, "set-up");
		return -1;
	}
	sr.cr3 = cr3;
	sr.cr4 = cr4;
	if (ioctl(p->vcpu, KVM_SET_SREGS, &sr) < 0) {
		kp_say(res, KP_UNKNOWN, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	if (kpv_run(p) == KVM_EXIT_IO && kpv_is_out(p, KPV_PORT_OUT, &val) &&
	    val == MAGIC)
		return 0;
	kp_say(res, KP_CANNOT,
	       "a guest turning on %s paging (mov to CR0.PG) and reading "
	       "through it gave %s%s",
	       mode, kpv_exit_str(p, buf, sizeof(buf)),
	       p->run->exit_reason == KVM_EXIT_SHUTDOWN ?
		       ": the CPU refused the mode (#GP, no IDT)" :
		       "");
	return -1;
}

int kp_legacy_paging(struct kp_result *res)
{
	uint32_t *pd, *pt;
	struct kpv p;

	if (start(&p, res) == 0) {
		/* PD at KPV_TABLES: 0-4 MiB identity, 4 MiB -> KPV_DATA. */
		pd = (uint32_t *)(p.mem + KPV_TABLES);
		pt = pd + 1024;
		pd[0] = (KPV_TABLES + 0x1000) | 3;
		pd[1] = (KPV_TABLES + 0x2000) | 3;
		for (int i = 0; i < 1024; i++)
			pt[i] = (i << 12) | 3;
		pt[1024] = KPV_DATA | 3;
		if (paging_run(&p, "32-bit", KPV_TABLES, 0, res) == 0)
			kp_say(res, KP_CAN, "read through 32-bit paging");
	}
	kpv_close(&p);
	return res->verdict;
}

/*
 * PAE tables at KPV_TABLES: PDPTE 0 -> a PD mapping 0-2 MiB with a 2 MiB
 * page and 4 MiB with a 4 KiB page at KPV_DATA.  0 once the guest read
 * through them.
 */
static int pae_run(struct kpv *p, struct kp_result *res)
{
	uint64_t *pdpt = (uint64_t *)(p->mem + KPV_TABLES);
	uint64_t *pd = pdpt + 512, *pt = pd + 512;

	pdpt[0] = (KPV_TABLES + 0x1000) | 1; /* P only: the rest is reserved */
	pd[0] = 0x83;
	pd[2] = (KPV_TABLES + 0x2000) | 3;
	pt[0] = KPV_DATA | 3;
	return paging_run(p, "PAE", KPV_TABLES, 0x20 /* PAE */, res);
}

int kp_pae_paging(struct kp_result *res)
{
	struct kpv p;

	if (start(&p, res) == 0 && pae_run(&p, res) == 0)
		kp_say(res, KP_CAN, "read through PAE paging");
	kpv_close(&p);
	return res->verdict;
}

int kp_pae_pdpte(struct kp_result *res)
{
	struct kp_result ran;
	struct kpv p;
	uint64_t e;

	if (start(&p, res) == 0) {
		if (pae_run(&p, &ran) < 0) {
			kp_say(res, KP_UNKNOWN, "no PAE paging: %s", ran.why);
		} else if ((e = kpv_peek64(&p, KPV_TABLES)) & PAE_PDPTE_RSVD) {
			kp_say(res, KP_CANNOT,
			       "the CPU set bit(s) %#llx of a PAE PDPTE in "
			       "memory (now %#llx), reserved there by Intel's "
			       "SDM (table 4-8: bits 8:5, 2:1); a walker that "
			       "reads PDPTEs from memory sees a reserved bit",
			       (unsigned long long)(e & PAE_PDPTE_RSVD),
			       (unsigned long long)e);
		} else {
			kp_say(res, KP_CAN, "PDPTE 0 still %#llx",
			       (unsigned long long)e);
		}
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_la57(struct kp_result *res)
{
	static struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid;
	struct kpv p;

	if (kpv_open(&p, false, res) == 0) {
		cpuid.c.nent = 256;
		if (ioctl(p.kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0) {
			kp_say(res, KP_UNKNOWN, "KVM_GET_SUPPORTED_CPUID: %s",
			       strerror(errno));
		} else {
			kp_say(res, KP_CANNOT,
			       "KVM's supported CPUID has no LA57 (leaf 7 ECX "
			       "bit 16)");
			for (uint32_t i = 0; i < cpuid.c.nent; i++) {
				const struct kvm_cpuid_entry2 *e = &cpuid.e[i];

				if (e->function == 7 && e->index == 0 &&
				    (e->ecx & (1u << 16)))
					kp_say(res, KP_CAN, "LA57 in CPUID");
			}
		}
	}
	kpv_close(&p);
	return res->verdict;
}

/*
 * The vCPU's binary statistics: the number of scalar ones in res->value;
 * *has_exits whether one is called "exits".
 */
static int vcpu_stats(struct kp_result *res, bool *has_exits)
{
	struct kvm_stats_header h;
	struct kpv p;
	char *descs = NULL;
	int fd = -1;

	*has_exits = false;
	if (kpv_open(&p, false, res))
		goto out;
	if (ioctl(p.kvm, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0) {
		kp_say(res, KP_CANNOT, "no KVM_CAP_BINARY_STATS_FD");
		goto out;
	}
	fd = ioctl(p.vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h) ||
	    h.num_desc > 4096 || h.name_size > 4096) {
		kp_say(res, KP_CANNOT, "KVM_GET_STATS_FD on a vCPU: %s",
		       fd < 0 ? strerror(errno) : "a short header");
		goto out;
	}
	{
		size_t dsize = sizeof(struct kvm_stats_desc) + h.name_size;

		descs = malloc(dsize * h.num_desc + 1);
		if (!descs ||
		    pread(fd, descs, dsize * h.num_desc, h.desc_offset) !=
			    (ssize_t)(dsize * h.num_desc)) {
			kp_say(res, KP_UNKNOWN, "reading the descriptors");
			goto out;
		}
		res->value = 0;
		for (uint32_t i = 0; i < h.num_desc; i++) {
			const struct kvm_stats_desc *d =
				(const void *)(descs + i * dsize);

			if (d->size != 1)
				continue; /* histograms */
			res->value++;
			if (strncmp(d->name, "exits", h.name_size) == 0)
				*has_exits = true;
		}
	}
	kp_say(res, KP_CAN, "%lld scalar statistics per vCPU", res->value);
out:
	free(descs);
	if (fd >= 0)
		close(fd);
	kpv_close(&p);
	return res->verdict;
}

int kp_tsc_deadline(struct kp_result *res)
{
	struct kpv p;

	if (kpv_open(&p, false, res) == 0) {
		if (ioctl(p.kvm, KVM_CHECK_EXTENSION,
			  KVM_CAP_TSC_DEADLINE_TIMER) > 0)
			kp_say(res, KP_CAN, "KVM_CAP_TSC_DEADLINE_TIMER");
		else
			kp_say(res, KP_CANNOT,
			       "KVM has no KVM_CAP_TSC_DEADLINE_TIMER");
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_stats(struct kp_result *res)
{
	bool exits;

	return vcpu_stats(res, &exits);
}

int kp_stat_exits(struct kp_result *res)
{
	bool exits;

	if (vcpu_stats(res, &exits) == KP_CAN && !exits)
		kp_say(res, KP_CANNOT,
		       "the vCPU's binary statistics have no 'exits'");
	return res->verdict;
}
