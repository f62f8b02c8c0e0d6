/*
 * vmm_names.c: the names of exit codes, suspend reasons and registers,
 * shared by logs, traces, statistics and the console.  Constant tables
 * only; safe from any thread.
 */
#include "vmm/vmm.h"

static const char *const exitcode_names[VM_EXITCODE_MAX] = {
	[VM_EXITCODE_BOGUS] = "bogus",
	[VM_EXITCODE_INOUT] = "inout",
	[VM_EXITCODE_MMIO] = "mmio",
	[VM_EXITCODE_DEBUG] = "debug",
	[VM_EXITCODE_MTRAP] = "mtrap",
	[VM_EXITCODE_BPT] = "bpt",
	[VM_EXITCODE_HWBP] = "hwbp",
	[VM_EXITCODE_SUSPENDED] = "suspended",
	[VM_EXITCODE_INST_EMUL] = "inst_emul",
	[VM_EXITCODE_RUN_FAILED] = "run_failed",
	[VM_EXITCODE_HLT] = "hlt",
	[VM_EXITCODE_UNHANDLED] = "unhandled",
	[VM_EXITCODE_DEBUG_REFUSED] = "debug_refused",
	[VM_EXITCODE_MSR] = "msr",
};

const char *vmm_exitcode_name(enum vm_exitcode code)
{
	if ((unsigned)code >= VM_EXITCODE_MAX || !exitcode_names[code])
		return "?";
	return exitcode_names[code];
}

static const char *const suspend_names[VM_SUSPEND_LAST] = {
	[VM_SUSPEND_NONE] = "none",
	[VM_SUSPEND_RESET] = "reset",
	[VM_SUSPEND_POWEROFF] = "poweroff",
	[VM_SUSPEND_HALT] = "halt",
	[VM_SUSPEND_TRIPLEFAULT] = "triple fault",
};

const char *vmm_suspend_name(enum vm_suspend_how how)
{
	if ((unsigned)how >= VM_SUSPEND_LAST)
		return "?";
	return suspend_names[how];
}

static const char *const reg_names[VM_REG_LAST] = {
	[VM_REG_GUEST_RAX] = "rax",
	[VM_REG_GUEST_RBX] = "rbx",
	[VM_REG_GUEST_RCX] = "rcx",
	[VM_REG_GUEST_RDX] = "rdx",
	[VM_REG_GUEST_RSI] = "rsi",
	[VM_REG_GUEST_RDI] = "rdi",
	[VM_REG_GUEST_RBP] = "rbp",
	[VM_REG_GUEST_RSP] = "rsp",
	[VM_REG_GUEST_R8] = "r8",
	[VM_REG_GUEST_R9] = "r9",
	[VM_REG_GUEST_R10] = "r10",
	[VM_REG_GUEST_R11] = "r11",
	[VM_REG_GUEST_R12] = "r12",
	[VM_REG_GUEST_R13] = "r13",
	[VM_REG_GUEST_R14] = "r14",
	[VM_REG_GUEST_R15] = "r15",
	[VM_REG_GUEST_RIP] = "rip",
	[VM_REG_GUEST_RFLAGS] = "rflags",
	[VM_REG_GUEST_ES] = "es",
	[VM_REG_GUEST_CS] = "cs",
	[VM_REG_GUEST_SS] = "ss",
	[VM_REG_GUEST_DS] = "ds",
	[VM_REG_GUEST_FS] = "fs",
	[VM_REG_GUEST_GS] = "gs",
	[VM_REG_GUEST_LDTR] = "ldtr",
	[VM_REG_GUEST_TR] = "tr",
	[VM_REG_GUEST_ES_BASE] = "es_base",
	[VM_REG_GUEST_CS_BASE] = "cs_base",
	[VM_REG_GUEST_SS_BASE] = "ss_base",
	[VM_REG_GUEST_DS_BASE] = "ds_base",
	[VM_REG_GUEST_FS_BASE] = "fs_base",
	[VM_REG_GUEST_GS_BASE] = "gs_base",
	[VM_REG_GUEST_LDTR_BASE] = "ldtr_base",
	[VM_REG_GUEST_TR_BASE] = "tr_base",
	[VM_REG_GUEST_ES_LIMIT] = "es_limit",
	[VM_REG_GUEST_CS_LIMIT] = "cs_limit",
	[VM_REG_GUEST_SS_LIMIT] = "ss_limit",
	[VM_REG_GUEST_DS_LIMIT] = "ds_limit",
	[VM_REG_GUEST_FS_LIMIT] = "fs_limit",
	[VM_REG_GUEST_GS_LIMIT] = "gs_limit",
	[VM_REG_GUEST_LDTR_LIMIT] = "ldtr_limit",
	[VM_REG_GUEST_TR_LIMIT] = "tr_limit",
	[VM_REG_GUEST_ES_ACCESS] = "es_access",
	[VM_REG_GUEST_CS_ACCESS] = "cs_access",
	[VM_REG_GUEST_SS_ACCESS] = "ss_access",
	[VM_REG_GUEST_DS_ACCESS] = "ds_access",
	[VM_REG_GUEST_FS_ACCESS] = "fs_access",
	[VM_REG_GUEST_GS_ACCESS] = "gs_access",
	[VM_REG_GUEST_LDTR_ACCESS] = "ldtr_access",
	[VM_REG_GUEST_TR_ACCESS] = "tr_access",
	[VM_REG_GUEST_GDTR_BASE] = "gdtr_base",
	[VM_REG_GUEST_GDTR_LIMIT] = "gdtr_limit",
	[VM_REG_GUEST_IDTR_BASE] = "idtr_base",
	[VM_REG_GUEST_IDTR_LIMIT] = "idtr_limit",
	[VM_REG_GUEST_CR0] = "cr0",
	[VM_REG_GUEST_CR2] = "cr2",
	[VM_REG_GUEST_CR3] = "cr3",
	[VM_REG_GUEST_CR4] = "cr4",
	[VM_REG_GUEST_CR8] = "cr8",
	[VM_REG_GUEST_EFER] = "efer",
	[VM_REG_GUEST_KGS_BASE] = "k_gs_base",
	[VM_REG_GUEST_APIC_BASE] = "apic_base",
	[VM_REG_GUEST_TSC] = "tsc",
	[VM_REG_GUEST_PDPTE0] = "pdpte0",
	[VM_REG_GUEST_PDPTE1] = "pdpte1",
	[VM_REG_GUEST_PDPTE2] = "pdpte2",
	[VM_REG_GUEST_PDPTE3] = "pdpte3",
	[VM_REG_GUEST_DR0] = "dr0",
	[VM_REG_GUEST_DR1] = "dr1",
	[VM_REG_GUEST_DR2] = "dr2",
	[VM_REG_GUEST_DR3] = "dr3",
	[VM_REG_GUEST_DR6] = "dr6",
	[VM_REG_GUEST_DR7] = "dr7",
	[VM_REG_GUEST_FCW] = "fctrl",
	[VM_REG_GUEST_FSW] = "fstat",
	[VM_REG_GUEST_FTW] = "ftag",
	[VM_REG_GUEST_FOP] = "fop",
	[VM_REG_GUEST_FIP] = "fioff",
	[VM_REG_GUEST_FDP] = "fooff",
	[VM_REG_GUEST_MXCSR] = "mxcsr",
	[VM_REG_GUEST_INTR_SHADOW] = "intr_shadow",
};

/* st0_lo .. xmm15_hi are generated: 16 + 32 names. */
static const char *const wide_names[] = {
	"st0_lo",   "st0_hi",	"st1_lo",   "st1_hi",	"st2_lo",   "st2_hi",
	"st3_lo",   "st3_hi",	"st4_lo",   "st4_hi",	"st5_lo",   "st5_hi",
	"st6_lo",   "st6_hi",	"st7_lo",   "st7_hi",	"xmm0_lo",  "xmm0_hi",
	"xmm1_lo",  "xmm1_hi",	"xmm2_lo",  "xmm2_hi",	"xmm3_lo",  "xmm3_hi",
	"xmm4_lo",  "xmm4_hi",	"xmm5_lo",  "xmm5_hi",	"xmm6_lo",  "xmm6_hi",
	"xmm7_lo",  "xmm7_hi",	"xmm8_lo",  "xmm8_hi",	"xmm9_lo",  "xmm9_hi",
	"xmm10_lo", "xmm10_hi", "xmm11_lo", "xmm11_hi", "xmm12_lo", "xmm12_hi",
	"xmm13_lo", "xmm13_hi", "xmm14_lo", "xmm14_hi", "xmm15_lo", "xmm15_hi",
};

_Static_assert(sizeof(wide_names) / sizeof(wide_names[0]) ==
		       VM_REG_GUEST_XMM15_HI - VM_REG_GUEST_ST0_LO + 1,
	       "one name per x87/SSE half");

const char *vmm_reg_name(int reg)
{
	if (reg >= VM_REG_GUEST_ST0_LO && reg <= VM_REG_GUEST_XMM15_HI)
		return wide_names[reg - VM_REG_GUEST_ST0_LO];
	if (reg < 0 || reg >= VM_REG_LAST || !reg_names[reg])
		return "?";
	return reg_names[reg];
}
