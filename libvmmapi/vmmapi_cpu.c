/*
 * vmmapi_cpu.c: names for CPU models, kinds of KVM, CPUID features and
 * guest memory backings, shared by the monitor's log, the console's `vm info` and vitroctl.
 *
 * Threads: constant tables only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libvmmapi/vmmapi.h"

static const char *const model_names[VM_CPU_MODEL_MAX] = {
	[VM_CPU_MODEL_HOST] = "host",
	[VM_CPU_MODEL_CONSERVATIVE] = "conservative",
};

const char *vm_cpu_model_name(uint32_t model)
{
	return model < VM_CPU_MODEL_MAX ? model_names[model] : "?";
}

int vm_cpu_model_parse(const char *name, enum vm_cpu_model_id *model)
{
	for (int i = 0; i < VM_CPU_MODEL_MAX; i++) {
		if (strcmp(name, model_names[i]) == 0) {
			*model = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *vm_kvm_kind_name(uint32_t kind)
{
	switch (kind) {
	case VM_KVM_HARDWARE:
		return "hardware";
	case VM_KVM_EMULATED:
		return "emulated";
	}
	return "unknown";
}

/* Short names of the words, for bits without a feature name. */
static const char *const word_names[VM_CPUID_NWORDS] = {
	[VM_CPUID_1_ECX] = "1ecx",     [VM_CPUID_1_EDX] = "1edx",
	[VM_CPUID_7_EBX] = "7ebx",     [VM_CPUID_7_ECX] = "7ecx",
	[VM_CPUID_7_EDX] = "7edx",     [VM_CPUID_7_1_EAX] = "7.1eax",
	[VM_CPUID_D_1_EAX] = "d.1eax", [VM_CPUID_81_ECX] = "81ecx",
	[VM_CPUID_81_EDX] = "81edx",
};

/* Features by word and bit, as Linux's cpufeatures.h names them. */
static const struct {
	uint8_t word, bit;
	const char *name;
} features[] = {
	{ VM_CPUID_1_ECX, 0, "pni" },
	{ VM_CPUID_1_ECX, 1, "pclmulqdq" },
	{ VM_CPUID_1_ECX, 3, "monitor" },
	{ VM_CPUID_1_ECX, 5, "vmx" },
	{ VM_CPUID_1_ECX, 9, "ssse3" },
	{ VM_CPUID_1_ECX, 12, "fma" },
	{ VM_CPUID_1_ECX, 13, "cx16" },
	{ VM_CPUID_1_ECX, 15, "pdcm" },
	{ VM_CPUID_1_ECX, 17, "pcid" },
	{ VM_CPUID_1_ECX, 19, "sse4_1" },
	{ VM_CPUID_1_ECX, 20, "sse4_2" },
	{ VM_CPUID_1_ECX, 21, "x2apic" },
	{ VM_CPUID_1_ECX, 22, "movbe" },
	{ VM_CPUID_1_ECX, 23, "popcnt" },
	{ VM_CPUID_1_ECX, 24, "tsc_deadline_timer" },
	{ VM_CPUID_1_ECX, 25, "aes" },
	{ VM_CPUID_1_ECX, 26, "xsave" },
	{ VM_CPUID_1_ECX, 27, "osxsave" },
	{ VM_CPUID_1_ECX, 28, "avx" },
	{ VM_CPUID_1_ECX, 29, "f16c" },
	{ VM_CPUID_1_ECX, 30, "rdrand" },
	{ VM_CPUID_1_ECX, 31, "hypervisor" },
	{ VM_CPUID_7_EBX, 0, "fsgsbase" },
	{ VM_CPUID_7_EBX, 1, "tsc_adjust" },
	{ VM_CPUID_7_EBX, 2, "sgx" },
	{ VM_CPUID_7_EBX, 3, "bmi1" },
	{ VM_CPUID_7_EBX, 4, "hle" },
	{ VM_CPUID_7_EBX, 5, "avx2" },
	{ VM_CPUID_7_EBX, 7, "smep" },
	{ VM_CPUID_7_EBX, 8, "bmi2" },
	{ VM_CPUID_7_EBX, 9, "erms" },
	{ VM_CPUID_7_EBX, 10, "invpcid" },
	{ VM_CPUID_7_EBX, 11, "rtm" },
	{ VM_CPUID_7_EBX, 14, "mpx" },
	{ VM_CPUID_7_EBX, 16, "avx512f" },
	{ VM_CPUID_7_EBX, 17, "avx512dq" },
	{ VM_CPUID_7_EBX, 18, "rdseed" },
	{ VM_CPUID_7_EBX, 19, "adx" },
	{ VM_CPUID_7_EBX, 20, "smap" },
	{ VM_CPUID_7_EBX, 21, "avx512ifma" },
	{ VM_CPUID_7_EBX, 23, "clflushopt" },
	{ VM_CPUID_7_EBX, 24, "clwb" },
	{ VM_CPUID_7_EBX, 25, "intel_pt" },
	{ VM_CPUID_7_EBX, 28, "avx512cd" },
	{ VM_CPUID_7_EBX, 29, "sha_ni" },
	{ VM_CPUID_7_EBX, 30, "avx512bw" },
	{ VM_CPUID_7_EBX, 31, "avx512vl" },
	{ VM_CPUID_7_ECX, 1, "avx512vbmi" },
	{ VM_CPUID_7_ECX, 2, "umip" },
	{ VM_CPUID_7_ECX, 3, "pku" },
	{ VM_CPUID_7_ECX, 4, "ospke" },
	{ VM_CPUID_7_ECX, 5, "waitpkg" },
	{ VM_CPUID_7_ECX, 6, "avx512_vbmi2" },
	{ VM_CPUID_7_ECX, 8, "gfni" },
	{ VM_CPUID_7_ECX, 9, "vaes" },
	{ VM_CPUID_7_ECX, 10, "vpclmulqdq" },
	{ VM_CPUID_7_ECX, 11, "avx512_vnni" },
	{ VM_CPUID_7_ECX, 12, "avx512_bitalg" },
	{ VM_CPUID_7_ECX, 14, "avx512_vpopcntdq" },
	{ VM_CPUID_7_ECX, 16, "la57" },
	{ VM_CPUID_7_ECX, 22, "rdpid" },
	{ VM_CPUID_7_ECX, 25, "cldemote" },
	{ VM_CPUID_7_ECX, 27, "movdiri" },
	{ VM_CPUID_7_ECX, 28, "movdir64b" },
	{ VM_CPUID_7_EDX, 4, "fsrm" },
	{ VM_CPUID_7_EDX, 10, "md_clear" },
	{ VM_CPUID_7_EDX, 14, "serialize" },
	{ VM_CPUID_7_EDX, 26, "spec_ctrl" },
	{ VM_CPUID_7_EDX, 27, "intel_stibp" },
	{ VM_CPUID_7_EDX, 28, "flush_l1d" },
	{ VM_CPUID_7_EDX, 29, "arch_capabilities" },
	{ VM_CPUID_7_EDX, 31, "ssbd" },
	{ VM_CPUID_7_1_EAX, 4, "avx_vnni" },
	{ VM_CPUID_7_1_EAX, 5, "avx512_bf16" },
	{ VM_CPUID_D_1_EAX, 0, "xsaveopt" },
	{ VM_CPUID_D_1_EAX, 1, "xsavec" },
	{ VM_CPUID_D_1_EAX, 2, "xgetbv1" },
	{ VM_CPUID_D_1_EAX, 3, "xsaves" },
	{ VM_CPUID_81_ECX, 0, "lahf_lm" },
	{ VM_CPUID_81_ECX, 2, "svm" },
	{ VM_CPUID_81_ECX, 5, "abm" },
	{ VM_CPUID_81_ECX, 6, "sse4a" },
	{ VM_CPUID_81_ECX, 7, "misalignsse" },
	{ VM_CPUID_81_ECX, 8, "3dnowprefetch" },
	{ VM_CPUID_81_ECX, 11, "xop" },
	{ VM_CPUID_81_ECX, 16, "fma4" },
	{ VM_CPUID_81_ECX, 21, "tbm" },
	{ VM_CPUID_81_ECX, 22, "topoext" },
	{ VM_CPUID_81_EDX, 11, "syscall" },
	{ VM_CPUID_81_EDX, 20, "nx" },
	{ VM_CPUID_81_EDX, 22, "mmxext" },
	{ VM_CPUID_81_EDX, 25, "fxsr_opt" },
	{ VM_CPUID_81_EDX, 26, "pdpe1gb" },
	{ VM_CPUID_81_EDX, 27, "rdtscp" },
	{ VM_CPUID_81_EDX, 29, "lm" },
	{ VM_CPUID_81_EDX, 30, "3dnowext" },
	{ VM_CPUID_81_EDX, 31, "3dnow" },
};

const char *vm_cpuid_feature_name(int word, int bit, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (features[i].word == word && features[i].bit == bit)
			return features[i].name;
	}
	snprintf(buf, len, "%s.%d",
		 word >= 0 && word < VM_CPUID_NWORDS ? word_names[word] : "?",
		 bit);
	return buf;
}

static const char *const backing_names[VM_MEMSEG_BACKING_MAX] = {
	[VM_MEMSEG_SHMEM] = "shmem",
	[VM_MEMSEG_SHMEM_THP] = "shmem-thp",
	[VM_MEMSEG_ANON_THP] = "anon-thp",
	[VM_MEMSEG_HUGETLB] = "hugetlb",
};

const char *vm_memseg_backing_name(uint32_t backing)
{
	return backing < VM_MEMSEG_BACKING_MAX ? backing_names[backing] : "?";
}

const char *vm_memseg_backing_desc(const struct vm_memseg *ms, char *buf,
				   size_t len)
{
	const char *size = ms->page_size >= (1ULL << 30) ? "1 GiB" : "2 MiB";

	switch (ms->backing) {
	case VM_MEMSEG_SHMEM:
		snprintf(buf, len, "a memfd of 4 KiB pages");
		break;
	case VM_MEMSEG_SHMEM_THP:
		snprintf(buf, len, "a memfd with transparent huge pages (%s)",
			 size);
		break;
	case VM_MEMSEG_ANON_THP:
		snprintf(buf, len,
			 "anonymous memory with transparent huge pages (%s)",
			 size);
		break;
	case VM_MEMSEG_HUGETLB:
		snprintf(buf, len, "hugetlbfs pages of %s", size);
		break;
	default:
		snprintf(buf, len, "an unknown backing (%u)", ms->backing);
		break;
	}
	return buf;
}

const char *vm_memseg_why_desc(uint32_t why)
{
	switch (why) {
	case VM_MEMSEG_WHY_THP_SHMEM:
		return "this host gives shared memory transparent huge pages";
	case VM_MEMSEG_WHY_THP_ANON:
		return "shmem THP disabled on this host "
		       "(transparent_hugepage/shmem_enabled)";
	case VM_MEMSEG_WHY_THP_OFF:
		return "transparent huge pages disabled on this host "
		       "(transparent_hugepage/enabled)";
	default:
		return "";
	}
}
