/*
 * vitroctl.c: inspect and control a running VM from another shell, after
 * FreeBSD's bhyvectl.  It is a libvmmapi program: vm_open() attaches to
 * the VM's control socket and every option below is one or a few
 * libvmmapi calls, which the VM's monitor runs for it.
 *
 * As with bhyvectl, the options say what to do, not in which order:
 * actions run in a fixed order - register writes, then the debug set
 * (suspend, resume), then reports, then injections, then the VM's end -
 * and the first failure stops the rest.  Reports print bhyvectl's lines,
 * or with --json one JSON document for scripts (64-bit values as "0x..."
 * strings, since JSON numbers lose bits past 2^53).
 *
 * Exit status: 0 when everything was done, 1 when something failed (the
 * message says what), 2 for a bad command line.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/vitroctl/console.h"
#include "monitor/vitroctl/trace.h"

#define VITROCTL_VERSION "0.1"
#define DESTROY_WAIT_MS 10000
#define MAX_STATS 1024

/* The registers vitroctl reads and writes by name, in report order. */
static const int named_regs[] = {
	VM_REG_GUEST_EFER,	VM_REG_GUEST_CR0,     VM_REG_GUEST_CR2,
	VM_REG_GUEST_CR3,	VM_REG_GUEST_CR4,     VM_REG_GUEST_CR8,
	VM_REG_GUEST_DR0,	VM_REG_GUEST_DR1,     VM_REG_GUEST_DR2,
	VM_REG_GUEST_DR3,	VM_REG_GUEST_DR6,     VM_REG_GUEST_DR7,
	VM_REG_GUEST_RSP,	VM_REG_GUEST_RIP,     VM_REG_GUEST_RAX,
	VM_REG_GUEST_RBX,	VM_REG_GUEST_RCX,     VM_REG_GUEST_RDX,
	VM_REG_GUEST_RSI,	VM_REG_GUEST_RDI,     VM_REG_GUEST_RBP,
	VM_REG_GUEST_R8,	VM_REG_GUEST_R9,      VM_REG_GUEST_R10,
	VM_REG_GUEST_R11,	VM_REG_GUEST_R12,     VM_REG_GUEST_R13,
	VM_REG_GUEST_R14,	VM_REG_GUEST_R15,     VM_REG_GUEST_RFLAGS,
	VM_REG_GUEST_FS_BASE,	VM_REG_GUEST_GS_BASE, VM_REG_GUEST_KGS_BASE,
	VM_REG_GUEST_APIC_BASE, VM_REG_GUEST_TSC,     VM_REG_GUEST_CS,
	VM_REG_GUEST_DS,	VM_REG_GUEST_ES,      VM_REG_GUEST_FS,
	VM_REG_GUEST_GS,	VM_REG_GUEST_SS,      VM_REG_GUEST_TR,
	VM_REG_GUEST_LDTR,
};
#define NREGS (sizeof(named_regs) / sizeof(named_regs[0]))

/* Segment descriptors: the selector register, and the first of its cache. */
static const struct desc {
	const char *name;
	int base, limit, access; /* access -1: GDTR and IDTR have none */
} descs[] = {
	{ "ds", VM_REG_GUEST_DS_BASE, VM_REG_GUEST_DS_LIMIT,
	  VM_REG_GUEST_DS_ACCESS },
	{ "es", VM_REG_GUEST_ES_BASE, VM_REG_GUEST_ES_LIMIT,
	  VM_REG_GUEST_ES_ACCESS },
	{ "fs", VM_REG_GUEST_FS_BASE, VM_REG_GUEST_FS_LIMIT,
	  VM_REG_GUEST_FS_ACCESS },
	{ "gs", VM_REG_GUEST_GS_BASE, VM_REG_GUEST_GS_LIMIT,
	  VM_REG_GUEST_GS_ACCESS },
	{ "ss", VM_REG_GUEST_SS_BASE, VM_REG_GUEST_SS_LIMIT,
	  VM_REG_GUEST_SS_ACCESS },
	{ "cs", VM_REG_GUEST_CS_BASE, VM_REG_GUEST_CS_LIMIT,
	  VM_REG_GUEST_CS_ACCESS },
	{ "tr", VM_REG_GUEST_TR_BASE, VM_REG_GUEST_TR_LIMIT,
	  VM_REG_GUEST_TR_ACCESS },
	{ "ldtr", VM_REG_GUEST_LDTR_BASE, VM_REG_GUEST_LDTR_LIMIT,
	  VM_REG_GUEST_LDTR_ACCESS },
	{ "gdtr", VM_REG_GUEST_GDTR_BASE, VM_REG_GUEST_GDTR_LIMIT, -1 },
	{ "idtr", VM_REG_GUEST_IDTR_BASE, VM_REG_GUEST_IDTR_LIMIT, -1 },
};
#define NDESCS (sizeof(descs) / sizeof(descs[0]))

/* Long options without a register: their getopt codes. */
enum {
	OPT_VM = 256,
	OPT_CPU,
	OPT_JSON,
	OPT_LIST,
	OPT_HELP,
	OPT_VERSION,
	OPT_GET_ALL,
	OPT_GET_STATS,
	OPT_GET_ACTIVE,
	OPT_GET_SUSPENDED,
	OPT_GET_DEBUG,
	OPT_GET_TOPOLOGY,
	OPT_GET_MEMMAP,
	OPT_GET_MEMSEG,
	OPT_SUSPEND_CPU,
	OPT_RESUME_CPU,
	OPT_INJECT_NMI,
	OPT_FORCE_RESET,
	OPT_FORCE_POWEROFF,
	OPT_DESTROY,
	OPT_DESC_BASE,
	OPT_DESC_LIMIT,
	OPT_DESC_ACCESS,
	OPT_TIMEOUT,
	OPT_DUMP_CORE,
	OPT_GET_RTC_TIME,
	OPT_SET_RTC_TIME,
	OPT_GET_RTC_NVRAM,
	OPT_SET_RTC_NVRAM,
	OPT_RTC_NVRAM_OFFSET,
	/* then 4 per register and per descriptor, from OPT_REG */
	OPT_REG = 1024,
};
#define OPT_GET_REG(i) (OPT_REG + 4 * (i))
#define OPT_SET_REG(i) (OPT_REG + 4 * (i) + 1)
#define OPT_GET_DESC(i) (OPT_REG + 4 * (NREGS + (i)) + 2)
#define OPT_SET_DESC(i) (OPT_REG + 4 * (NREGS + (i)) + 3)

struct request {
	const char *vm;
	const char *console; /* "shell" or "eval": the Tcl console */
	int console_argc; /* the words after it */
	char **console_argv;
	unsigned int timeout; /* eval's time limit in seconds; 0: none */
	int trace_argc; /* `trace VERB ...`: the words after trace */
	char **trace_argv;
	int cpu; /* -1: every vCPU */
	bool json, list, all;
	bool stats, active, suspended, debug, topology, memmap, memseg;
	bool suspend_cpu, resume_cpu, inject_nmi;
	bool force_reset, force_poweroff, destroy;
	const char *dump_core; /* --dump-core FILE */
	bool get_reg[NREGS], set_reg[NREGS];
	uint64_t reg_val[NREGS];
	bool get_desc[NDESCS], set_desc[NDESCS];
	bool desc_base_set, desc_limit_set, desc_access_set;
	uint64_t desc_base, desc_limit, desc_access;
	bool get_rtc_time, set_rtc_time, get_rtc_nvram, set_rtc_nvram;
	int64_t rtc_time; /* --set-rtc-time */
	uint8_t rtc_nvram; /* --set-rtc-nvram */
	int rtc_offset; /* --rtc-nvram-offset, or -1 */
};

static const char usage_text[] =
	"usage: vitroctl --vm=NAME [--cpu=N|all] [--json] [OPTION...]\n"
	"       vitroctl --list [--json]\n"
	"       vitroctl --vm=NAME shell\n"
	"       vitroctl --vm=NAME [--timeout=SECONDS] eval SCRIPT...\n"
	"       vitroctl [--vm=NAME] trace VERB [ARG...]\n"
	"\n"
	"Inspect and control a running vitro VM through its control socket.\n"
	"\n"
	"  --vm=NAME              the VM (as given to vitro, or vitro-PID)\n"
	"  --cpu=N|all            the vCPU for per-vCPU options (default 0)\n"
	"  --json                 print the reports as one JSON document\n"
	"  --list                 the running VMs of this user, with state\n"
	"\n"
	"Reports:\n"
	"  --get-all              every report below\n"
	"  --get-stats            the vCPU's counters (exits by reason, KVM's)\n"
	"  --get-active-cpus      vCPUs that exist\n"
	"  --get-suspended-cpus   vCPUs that acknowledged a VM suspend\n"
	"  --get-debug-cpus       vCPUs held in the debug set\n"
	"  --get-cpu-topology     sockets, cores, threads\n"
	"  --get-memmap           guest-physical mappings\n"
	"  --get-memseg           memory segments\n"
	"  --get-REG              a register: rax..r15, rip, rsp, rflags,\n"
	"                         cr0 cr2 cr3 cr4 cr8, dr0..dr3 dr6 dr7,\n"
	"                         efer, fs-base gs-base k-gs-base apic-base\n"
	"                         tsc, cs ds es fs gs ss tr ldtr\n"
	"  --get-desc-SEG         a segment descriptor (SEG: ds es fs gs ss cs\n"
	"                         tr ldtr gdtr idtr): base/limit/access\n"
	"  --get-rtc-time         the CMOS RTC's time (seconds since the epoch)\n"
	"  --get-rtc-nvram        the CMOS byte at --rtc-nvram-offset (0-0x7f)\n"
	"\n"
	"Changes:\n"
	"  --set-REG=VALUE        write a register (as --get-REG)\n"
	"  --set-desc-SEG         write a descriptor from --desc-base=B,\n"
	"                         --desc-limit=L and --desc-access=A\n"
	"  --set-rtc-time=SECONDS set the CMOS RTC's time (seconds since the\n"
	"                         epoch, UTC)\n"
	"  --set-rtc-nvram=VALUE  write a CMOS NVRAM byte at --rtc-nvram-offset\n"
	"                         (0x0e-0x7f, not the century byte 0x32)\n"
	"  --rtc-nvram-offset=N   the CMOS offset for the two options above\n"
	"  --suspend-cpu          hold the vCPU(s) in the debug set\n"
	"  --resume-cpu           let them run again\n"
	"  --inject-nmi           send the vCPU an NMI\n"
	"  --force-reset          reset the VM (vitro exits with status 0)\n"
	"  --force-poweroff       power the VM off (vitro exits with status 1)\n"
	"  --dump-core=FILE       write an ELF core of the guest (QEMU's\n"
	"                         dump-guest-memory layout: crash, gdb)\n"
	"  --destroy              power the VM off and wait until it is gone\n"
	"\n"
	"Tcl console (the vitro console's commands, attached to the VM):\n"
	"  shell                  interactive: line editing, history,\n"
	"                         Tab completion; exit or Ctrl-d leaves\n"
	"  eval SCRIPT...         run the words as one script, print its\n"
	"                         result; status 1 on an error, N on exit N\n"
	"  --timeout=SECONDS      eval's time limit (default 30; 0: none)\n"
	"\n"
	"%s"
	"\n"
	"  --help, --version\n"
	"\n"
	"Registers of a running vCPU are read and written with it stopped for\n"
	"the moment it takes.  See vitroctl(8).\n";

/* Messages. */

static const char *progname = "vitroctl";

static void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The register option name: vm_reg_name with '-' for '_'. */
static void reg_opt_name(int reg, char *buf, size_t len, const char *prefix)
{
	snprintf(buf, len, "%s%s", prefix, vm_reg_name(reg));
	for (char *p = buf; *p; p++) {
		if (*p == '_')
			*p = '-';
	}
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	/* strtoull would take leading spaces and a minus sign. */
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

/* JSON output: a small writer that keeps the commas. */

struct json {
	bool on;
	int depth;
	bool first[16]; /* no member yet at this depth */
};

static void json_sep(struct json *j)
{
	if (!j->first[j->depth])
		putchar(',');
	j->first[j->depth] = false;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_key(struct json *j, const char *key)
{
	json_sep(j);
	if (key) {
		json_str(key);
		putchar(':');
	}
}

static void json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	putchar(bracket);
	j->first[++j->depth] = true;
}

static void json_close(struct json *j, char bracket)
{
	putchar(bracket);
	j->depth--;
}

static void json_hex(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	printf("\"%#" PRIx64 "\"", v);
}

static void json_num(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	printf("%" PRId64, v);
}

static void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	printf("%" PRIu64, v);
}

static void json_text(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(s);
}

/* Reports. */

static void print_cpus(struct json *j, const char *banner, const char *key,
		       const struct vm_cpuset *set)
{
	bool first = true;

	if (j->on)
		json_open(j, key, '[');
	else
		printf("%s:\t", banner);
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (!vm_cpuset_isset(set, i))
			continue;
		if (j->on)
			json_num(j, NULL, i);
		else
			printf("%s%d", first ? " " : ", ", i);
		first = false;
	}
	if (j->on)
		json_close(j, ']');
	else
		printf("%s\n", first ? " (none)" : "");
}

/* "name[cpu]" and bhyvectl's tab or two before the value. */
static void print_label(const char *name, int cpu)
{
	char label[64];

	snprintf(label, sizeof(label), "%s[%d]", name, cpu);
	printf("%s%s", label, strlen(label) < 8 ? "\t\t" : "\t");
}

static bool is_selector(int reg)
{
	return reg >= VM_REG_GUEST_ES && reg <= VM_REG_GUEST_TR;
}

static void humanize(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	unsigned u = 0;

	while (n >= 1024 && n % 1024 == 0 && u < sizeof(units) - 2) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", n, units[u]);
}

static int report_memseg(struct vmctx *ctx, struct json *j)
{
	if (j->on)
		json_open(j, "memseg", '[');
	else
		printf("ID  Length      Backing    Page   Name\n");
	for (int id = 0; id < VM_MAX_MEMSEGS; id++) {
		char num[32], page[32];
		struct vm_memseg ms;
		int r = vm_get_memseg_info(ctx, id, &ms);
		const char *name = ms.name;
		size_t len = ms.len;

		if (r == -ENOENT) /* not allocated */
			continue;
		if (r < 0) {
			err_msg("reading memory segment %d: %s", id,
				strerror(-r));
			return r;
		}
		if (!len)
			continue;
		if (j->on) {
			json_open(j, NULL, '{');
			json_num(j, "id", id);
			json_num(j, "length", (int64_t)len);
			json_text(j, "name", name[0] ? name : "sysmem");
			json_text(j, "backing",
				  vm_memseg_backing_name(ms.backing));
			json_num(j, "page_size", (int64_t)ms.page_size);
			json_close(j, '}');
			continue;
		}
		humanize(len, num, sizeof(num));
		humanize(ms.page_size, page, sizeof(page));
		printf("%-4d%-12s%-11s%-7s%s\n", id, num,
		       vm_memseg_backing_name(ms.backing), page,
		       name[0] ? name : "sysmem");
	}
	if (j->on)
		json_close(j, ']');
	return 0;
}

static int report_memmap(struct vmctx *ctx, struct json *j)
{
	uint64_t gpa = 0;

	if (j->on)
		json_open(j, "memmap", '[');
	else
		printf("Address     Length      Segment     Offset      "
		       "Prot  Flags\n");
	for (;;) {
		char name[VM_NAME_MAX], num[32], prot[4], flags[32] = "";
		uint64_t segoff;
		size_t len, seglen;
		int segid, p, f, r;

		r = vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &p, &f);
		if (r == -ENOENT)
			break;
		if (r == 0)
			r = vm_get_memseg(ctx, segid, &seglen, name,
					  sizeof(name));
		if (r < 0) {
			err_msg("reading the memory map at %#" PRIx64 ": %s",
				gpa, strerror(-r));
			return r;
		}
		snprintf(prot, sizeof(prot), "%c%c%c",
			 p & VM_PROT_READ ? 'R' : '-',
			 p & VM_PROT_WRITE ? 'W' : '-',
			 p & VM_PROT_EXEC ? 'X' : '-');
		snprintf(flags, sizeof(flags), "%s%s%s",
			 f & VM_MEMMAP_F_WIRED ? "wired" : "",
			 (f & VM_MEMMAP_F_WIRED) && (f & VM_MEMMAP_F_READONLY) ?
				 "/" :
				 "",
			 f & VM_MEMMAP_F_READONLY ? "readonly" : "");
		if (j->on) {
			json_open(j, NULL, '{');
			json_hex(j, "address", gpa);
			json_num(j, "length", (int64_t)len);
			json_text(j, "segment", name[0] ? name : "sysmem");
			json_hex(j, "offset", segoff);
			json_text(j, "prot", prot);
			json_text(j, "flags", flags);
			json_close(j, '}');
		} else {
			humanize(len, num, sizeof(num));
			printf("%-12" PRIX64 "%-12s%-12s%-12" PRIX64
			       "%s   %s\n",
			       gpa, num, name[0] ? name : "sysmem", segoff,
			       prot, flags);
		}
		gpa += len;
	}
	if (j->on)
		json_close(j, ']');
	return 0;
}

static int report_stats(struct vmctx *ctx, struct vcpu *v, struct json *j)
{
	static uint64_t vals[MAX_STATS];
	int n, r;

	if ((r = vm_get_stats(v, vals, MAX_STATS, &n)) < 0) {
		err_msg("vCPU %d: reading its statistics: %s", vcpu_id(v),
			strerror(-r));
		return r;
	}
	if (n > MAX_STATS)
		n = MAX_STATS;
	if (j->on)
		json_open(j, "stats", '{');
	else
		printf("vcpu%d stats:\n", vcpu_id(v));
	for (int i = 0; i < n; i++) {
		char desc[VM_STAT_NAME_MAX];

		if ((r = vm_get_stat_desc(ctx, i, desc, sizeof(desc))) < 0) {
			err_msg("naming statistic %d: %s", i, strerror(-r));
			return r;
		}
		if (j->on)
			json_u64(j, desc, vals[i]);
		else
			printf("%-40s\t%" PRIu64 "\n", desc, vals[i]);
	}
	if (j->on)
		json_close(j, '}');
	return 0;
}

/*
 * Every register and descriptor this vCPU's report needs, in one call:
 * one stop of a running vCPU, not one per register.
 */
static int report_regs(const struct request *rq, struct vcpu *v, struct json *j)
{
	int regs[VM_REGSET_MAX], idx[NREGS], didx[NDESCS];
	uint64_t vals[VM_REGSET_MAX];
	unsigned n = 0;
	int cpu = vcpu_id(v), r;
	bool any = false;

	for (unsigned i = 0; i < NREGS; i++) {
		idx[i] = -1;
		if (rq->all || rq->get_reg[i]) {
			idx[i] = n;
			regs[n++] = named_regs[i];
		}
	}
	for (unsigned i = 0; i < NDESCS; i++) {
		didx[i] = -1;
		if (rq->all || rq->get_desc[i]) {
			didx[i] = n;
			regs[n++] = descs[i].base;
			regs[n++] = descs[i].limit;
			if (descs[i].access >= 0)
				regs[n++] = descs[i].access;
		}
	}
	if (n == 0)
		return 0;
	if ((r = vm_get_register_set(v, n, regs, vals)) < 0) {
		err_msg("vCPU %d: reading its registers: %s%s", cpu,
			strerror(-r),
			r == -EBUSY || r == -ETIMEDOUT ?
				" (it did not stop in time to be read)" :
				"");
		return r;
	}
	if (j->on)
		json_open(j, "registers", '{');
	for (unsigned i = 0; i < NREGS; i++) {
		if (idx[i] < 0)
			continue;
		if (j->on) {
			json_hex(j, vm_reg_name(named_regs[i]), vals[idx[i]]);
			continue;
		}
		print_label(vm_reg_name(named_regs[i]), cpu);
		printf(is_selector(named_regs[i]) ? "0x%04" PRIx64 "\n" :
						    "0x%016" PRIx64 "\n",
		       vals[idx[i]]);
	}
	if (j->on) {
		json_close(j, '}');
		for (unsigned i = 0; i < NDESCS; i++)
			any |= didx[i] >= 0;
		if (any)
			json_open(j, "descriptors", '{');
	}
	for (unsigned i = 0; i < NDESCS; i++) {
		const uint64_t *d;

		if (didx[i] < 0)
			continue;
		d = &vals[didx[i]];
		if (j->on) {
			json_open(j, descs[i].name, '{');
			json_hex(j, "base", d[0]);
			json_hex(j, "limit", d[1]);
			if (descs[i].access >= 0)
				json_hex(j, "access", d[2]);
			json_close(j, '}');
		} else if (descs[i].access >= 0) {
			printf("%s desc[%d]\t0x%016" PRIx64 "/0x%08" PRIx64
			       "/0x%08" PRIx64 "\n",
			       descs[i].name, cpu, d[0], d[1], d[2]);
		} else {
			print_label(descs[i].name, cpu);
			printf("0x%016" PRIx64 "/0x%08" PRIx64 "\n", d[0],
			       d[1]);
		}
	}
	if (j->on && any)
		json_close(j, '}');
	return 0;
}

/* Register and descriptor writes for one vCPU, in one call. */
static int set_regs(const struct request *rq, struct vcpu *v)
{
	int regs[VM_REGSET_MAX];
	uint64_t vals[VM_REGSET_MAX];
	unsigned n = 0;
	int r;

	for (unsigned i = 0; i < NREGS; i++) {
		if (rq->set_reg[i]) {
			regs[n] = named_regs[i];
			vals[n++] = rq->reg_val[i];
		}
	}
	for (unsigned i = 0; i < NDESCS; i++) {
		if (!rq->set_desc[i])
			continue;
		regs[n] = descs[i].base;
		vals[n++] = rq->desc_base;
		regs[n] = descs[i].limit;
		vals[n++] = rq->desc_limit;
		if (descs[i].access >= 0) {
			regs[n] = descs[i].access;
			vals[n++] = rq->desc_access;
		}
	}
	if (n == 0)
		return 0;
	if ((r = vm_set_register_set(v, n, regs, vals)) < 0)
		err_msg("vCPU %d: writing its registers: %s", vcpu_id(v),
			strerror(-r));
	return r;
}

static bool wants_vcpu_report(const struct request *rq)
{
	if (rq->all || rq->stats)
		return true;
	for (unsigned i = 0; i < NREGS; i++) {
		if (rq->get_reg[i])
			return true;
	}
	for (unsigned i = 0; i < NDESCS; i++) {
		if (rq->get_desc[i])
			return true;
	}
	return false;
}

/* The vCPUs a per-vCPU option applies to. */
static int target_cpus(struct vmctx *ctx, int cpu, struct vm_cpuset *set)
{
	struct vm_cpuset active;
	int r;

	if ((r = vm_active_cpus(ctx, &active)) < 0) {
		err_msg("reading the active vCPUs: %s", strerror(-r));
		return r;
	}
	if (cpu < 0) {
		*set = active;
		return 0;
	}
	if (cpu >= VM_MAXCPU || !vm_cpuset_isset(&active, cpu)) {
		err_msg("VM '%s' has no vCPU %d", vm_get_name(ctx), cpu);
		return -ENOENT;
	}
	memset(set, 0, sizeof(*set));
	vm_cpuset_set(set, cpu);
	return 0;
}

/* Run fn on each target vCPU; stop at the first failure. */
static int each_vcpu(struct vmctx *ctx, const struct vm_cpuset *set,
		     int (*fn)(const struct request *, struct vcpu *, void *),
		     const struct request *rq, void *arg)
{
	for (int i = 0; i < VM_MAXCPU; i++) {
		struct vcpu *v;
		int r;

		if (!vm_cpuset_isset(set, i))
			continue;
		if (!(v = vm_vcpu_open(ctx, i)))
			return -errno;
		r = fn(rq, v, arg);
		vm_vcpu_close(v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int do_set(const struct request *rq, struct vcpu *v, void *arg)
{
	return set_regs(rq, v);
}

static int do_debug_set(const struct request *rq, struct vcpu *v, void *arg)
{
	int r = rq->suspend_cpu ? vm_suspend_cpu(v) : vm_resume_cpu(v);

	if (r < 0)
		err_msg("vCPU %d: %s: %s", vcpu_id(v),
			rq->suspend_cpu ? "suspending" : "resuming",
			strerror(-r));
	return r;
}

static int do_report(const struct request *rq, struct vcpu *v, void *arg)
{
	struct json *j = arg;
	int r;

	if (j->on) {
		json_open(j, NULL, '{');
		json_num(j, "id", vcpu_id(v));
	}
	r = report_regs(rq, v, j);
	if (r == 0 && (rq->all || rq->stats))
		r = report_stats(vcpu_ctx(v), v, j);
	if (j->on)
		json_close(j, '}');
	return r;
}

static int do_nmi(const struct request *rq, struct vcpu *v, void *arg)
{
	int r = vm_inject_nmi(v);

	if (r < 0)
		err_msg("vCPU %d: injecting an NMI: %s", vcpu_id(v),
			strerror(-r));
	return r;
}

/* --dump-core: the monitor writes the file, so it gets an absolute name. */
static int dump_core(struct vmctx *ctx, const char *file)
{
	struct vm_ctl_dump d = { 0 };
	char cwd[PATH_MAX];
	int n, r;

	if (file[0] == '/')
		n = snprintf(d.path, sizeof(d.path), "%s", file);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(d.path, sizeof(d.path), "%s/%s", cwd, file);
	else
		n = -1;
	if (n < 0 || (size_t)n >= sizeof(d.path)) {
		err_msg("--dump-core: '%s': the name is too long (at most %zu "
			"bytes as an absolute path)",
			file, sizeof(d.path) - 1);
		return -ENAMETOOLONG;
	}
	r = vm_dump_core(ctx, &d);
	if (r < 0) {
		err_msg("--dump-core %s: %s", d.path,
			d.error[0] ? d.error : strerror(-r));
		return r;
	}
	printf("%s: %llu MiB of guest memory, %u vCPUs\n", d.path,
	       (unsigned long long)(d.mem >> 20), d.ncpus);
	return 0;
}

static int rtc_set(struct vmctx *ctx, const struct request *rq)
{
	int r = 0;

	if (rq->set_rtc_time) {
		r = vm_rtc_settime(ctx, (time_t)rq->rtc_time);
		if (r < 0)
			err_msg("setting the RTC's time to %lld: %s",
				(long long)rq->rtc_time, strerror(-r));
	}
	if (r == 0 && rq->set_rtc_nvram) {
		r = vm_rtc_write(ctx, rq->rtc_offset, rq->rtc_nvram);
		if (r < 0)
			err_msg("writing RTC NVRAM byte 0x%02x: %s",
				rq->rtc_offset, strerror(-r));
	}
	return r;
}

/* bhyvectl's lines: "rtc time 0x...: Thu Jan 01 00:00:00 1970". */
static int report_rtc(struct vmctx *ctx, const struct request *rq,
		      struct json *j)
{
	int r = 0;

	if (rq->get_rtc_time) {
		char when[64] = "?";
		struct tm tm;
		time_t t;

		r = vm_rtc_gettime(ctx, &t);
		if (r < 0) {
			err_msg("reading the RTC's time: %s", strerror(-r));
			return r;
		}
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Y",
				 &tm);
		if (j->on) {
			json_num(j, "rtc_time", (int64_t)t);
		} else {
			printf("rtc time %#llx: %s\n", (unsigned long long)t,
			       when);
		}
	}
	if (rq->get_rtc_nvram) {
		uint8_t v;

		r = vm_rtc_read(ctx, rq->rtc_offset, &v);
		if (r < 0) {
			err_msg("reading RTC NVRAM byte 0x%02x: %s",
				rq->rtc_offset, strerror(-r));
			return r;
		}
		if (j->on) {
			json_open(j, "rtc_nvram", '{');
			json_num(j, "offset", rq->rtc_offset);
			json_num(j, "value", v);
			json_close(j, '}');
		} else {
			printf("rtc nvram[%03d]: 0x%02x\n", rq->rtc_offset, v);
		}
	}
	return r;
}

static int report_vm(struct vmctx *ctx, const struct request *rq,
		     struct json *j)
{
	static const struct {
		enum vm_cpuset_which which;
		const char *banner, *key;
	} sets[] = {
		{ VM_ACTIVE_CPUS, "active cpus", "active_cpus" },
		{ VM_SUSPENDED_CPUS, "suspended cpus", "suspended_cpus" },
		{ VM_DEBUG_CPUS, "debug cpus", "debug_cpus" },
	};
	const bool want[] = { rq->active, rq->suspended, rq->debug };
	int r = 0;

	if (r == 0 && (rq->all || rq->memseg))
		r = report_memseg(ctx, j);
	if (r == 0 && (rq->all || rq->memmap))
		r = report_memmap(ctx, j);
	for (unsigned i = 0; i < 3 && r == 0; i++) {
		struct vm_cpuset set;

		if (!rq->all && !want[i])
			continue;
		r = sets[i].which == VM_ACTIVE_CPUS ?
			    vm_active_cpus(ctx, &set) :
		    sets[i].which == VM_SUSPENDED_CPUS ?
			    vm_suspended_cpus(ctx, &set) :
			    vm_debug_cpus(ctx, &set);
		if (r < 0)
			err_msg("reading the %s: %s", sets[i].banner,
				strerror(-r));
		else
			print_cpus(j, sets[i].banner, sets[i].key, &set);
	}
	if (r == 0)
		r = report_rtc(ctx, rq, j);
	if (r == 0 && (rq->all || rq->topology)) {
		uint16_t s, c, t, m;

		r = vm_get_topology(ctx, &s, &c, &t, &m);
		if (r < 0) {
			err_msg("reading the topology: %s", strerror(-r));
		} else if (j->on) {
			json_open(j, "cpu_topology", '{');
			json_num(j, "sockets", s);
			json_num(j, "cores", c);
			json_num(j, "threads", t);
			json_num(j, "maxcpus", m);
			json_close(j, '}');
		} else {
			printf("cpu_topology:\tsockets=%hu, cores=%hu, "
			       "threads=%hu, maxcpus=%hu\n",
			       s, c, t, m);
		}
	}
	return r;
}

/* Whether process pid has ended (a zombie has; one we cannot see too). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool gone;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return true;
	gone = !fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
	       p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return gone;
}

/*
 * Wait until the VM no longer answers and its monitor has exited, which
 * frees its name: the socket goes a little before the process does.
 */
static int wait_gone(const char *name, pid_t pid)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (int waited = 0; waited < DESTROY_WAIT_MS; waited += 20) {
		struct vmctx *c = vm_open(name);

		if (c)
			vm_destroy(c);
		else if (pid <= 0 || process_gone(pid))
			return 0;
		nanosleep(&ts, NULL);
	}
	err_msg("VM '%s' was asked to power off but still answers after %d s",
		name, DESTROY_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

static int end_vm(struct vmctx *ctx, const struct request *rq)
{
	enum vm_suspend_how how =
		rq->force_reset ? VM_SUSPEND_RESET : VM_SUSPEND_POWEROFF;
	int r = vm_suspend(ctx, how);

	/* Already ending for another reason: that is what was asked. */
	if (r == -EALREADY || r == -ESHUTDOWN)
		r = 0;
	if (r < 0)
		err_msg("%s VM '%s': %s",
			how == VM_SUSPEND_RESET ? "resetting" : "powering off",
			vm_get_name(ctx), strerror(-r));
	return r;
}

/* Why vm_open failed, in words. */
static void open_failed(const char *name, int e)
{
	char path[256] = "?";

	vm_ctl_socket_path(name, path, sizeof(path));
	switch (e) {
	case ENOENT:
		err_msg("no VM named '%s' is running (no socket %s)", name,
			path);
		break;
	case ECONNREFUSED:
		err_msg("VM '%s' is gone: its socket %s is left from a "
			"monitor that ended",
			name, path);
		break;
	case EACCES:
	case EPERM:
		err_msg("VM '%s': not allowed to use %s (another user's VM?)",
			name, path);
		break;
	case EPROTONOSUPPORT:
		err_msg("VM '%s' runs a vitro of another version (ABI); use "
			"the vitroctl that came with it",
			name);
		break;
	default:
		err_msg("cannot attach to VM '%s' at %s: %s", name, path,
			strerror(e));
		break;
	}
}

static int list_vms(bool json)
{
	struct json j = { .on = json, .first = { true } };
	char dir[256];
	struct dirent *de;
	DIR *d;
	int r;

	if ((r = vm_ctl_runtime_dir(dir, sizeof(dir))) < 0) {
		err_msg("no runtime directory: its path is too long");
		return r;
	}
	if (json)
		json_open(&j, NULL, '[');
	else
		printf("%-24s %8s %6s %10s  %s\n", "NAME", "PID", "VCPUS",
		       "MEMORY", "STATE");
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct vm_cpuset dbg;
		struct vmctx *ctx;
		char name[VM_NAME_MAX + 8], mem[32];
		struct vm_ctl_hello hi;
		const char *state;
		int ndbg = 0;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".sock") ||
		    len - 5 >= VM_NAME_MAX)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = 0;
		if (!(ctx = vm_open(name)))
			continue; /* gone since, or not ours */
		if (vm_get_info(ctx, &hi) < 0) {
			vm_destroy(ctx);
			continue;
		}
		if (vm_debug_cpus(ctx, &dbg) == 0) {
			for (int i = 0; i < VM_MAXCPU; i++)
				ndbg += vm_cpuset_isset(&dbg, i);
		}
		state = hi.state == VM_CTL_ENDING  ? "ending" :
			ndbg == 0		   ? "running" :
			(unsigned)ndbg == hi.ncpus ? "stopped" :
						     "partly stopped";
		humanize(hi.lowmem + hi.highmem, mem, sizeof(mem));
		if (json) {
			json_open(&j, NULL, '{');
			json_text(&j, "name", name);
			json_num(&j, "pid", hi.pid);
			json_num(&j, "vcpus", hi.ncpus);
			json_num(&j, "memory",
				 (int64_t)(hi.lowmem + hi.highmem));
			json_text(&j, "state", state);
			json_close(&j, '}');
		} else {
			printf("%-24s %8d %6u %10s  %s\n", name, hi.pid,
			       hi.ncpus, mem, state);
		}
		vm_destroy(ctx);
	}
	if (d)
		closedir(d);
	if (json) {
		json_close(&j, ']');
		putchar('\n');
	}
	return 0;
}

/* The command line. */

static struct option *build_options(void)
{
	static const struct option fixed[] = {
		{ "vm", required_argument, NULL, OPT_VM },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "get-all", no_argument, NULL, OPT_GET_ALL },
		{ "get-stats", no_argument, NULL, OPT_GET_STATS },
		{ "get-active-cpus", no_argument, NULL, OPT_GET_ACTIVE },
		{ "get-suspended-cpus", no_argument, NULL, OPT_GET_SUSPENDED },
		{ "get-debug-cpus", no_argument, NULL, OPT_GET_DEBUG },
		{ "get-cpu-topology", no_argument, NULL, OPT_GET_TOPOLOGY },
		{ "get-memmap", no_argument, NULL, OPT_GET_MEMMAP },
		{ "get-memseg", no_argument, NULL, OPT_GET_MEMSEG },
		{ "suspend-cpu", no_argument, NULL, OPT_SUSPEND_CPU },
		{ "resume-cpu", no_argument, NULL, OPT_RESUME_CPU },
		{ "inject-nmi", no_argument, NULL, OPT_INJECT_NMI },
		{ "force-reset", no_argument, NULL, OPT_FORCE_RESET },
		{ "force-poweroff", no_argument, NULL, OPT_FORCE_POWEROFF },
		{ "dump-core", required_argument, NULL, OPT_DUMP_CORE },
		{ "destroy", no_argument, NULL, OPT_DESTROY },
		{ "desc-base", required_argument, NULL, OPT_DESC_BASE },
		{ "desc-limit", required_argument, NULL, OPT_DESC_LIMIT },
		{ "desc-access", required_argument, NULL, OPT_DESC_ACCESS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "get-rtc-time", no_argument, NULL, OPT_GET_RTC_TIME },
		{ "set-rtc-time", required_argument, NULL, OPT_SET_RTC_TIME },
		{ "get-rtc-nvram", no_argument, NULL, OPT_GET_RTC_NVRAM },
		{ "set-rtc-nvram", required_argument, NULL, OPT_SET_RTC_NVRAM },
		{ "rtc-nvram-offset", required_argument, NULL,
		  OPT_RTC_NVRAM_OFFSET },
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	size_t total = nfixed + 2 * NREGS + 2 * NDESCS + 1;
	struct option *o = calloc(total, sizeof(*o));
	size_t k = nfixed;

	if (!o)
		return NULL;
	memcpy(o, fixed, sizeof(fixed));
	for (unsigned i = 0; i < NREGS; i++) {
		char name[48];

		reg_opt_name(named_regs[i], name, sizeof(name), "get-");
		o[k++] = (struct option){ strdup(name), no_argument, NULL,
					  OPT_GET_REG(i) };
		reg_opt_name(named_regs[i], name, sizeof(name), "set-");
		o[k++] = (struct option){ strdup(name), required_argument, NULL,
					  OPT_SET_REG(i) };
	}
	for (unsigned i = 0; i < NDESCS; i++) {
		char name[48];

		snprintf(name, sizeof(name), "get-desc-%s", descs[i].name);
		o[k++] = (struct option){ strdup(name), no_argument, NULL,
					  OPT_GET_DESC(i) };
		snprintf(name, sizeof(name), "set-desc-%s", descs[i].name);
		o[k++] = (struct option){ strdup(name), no_argument, NULL,
					  OPT_SET_DESC(i) };
	}
	for (size_t i = nfixed; i < k; i++) {
		if (!o[i].name)
			return NULL;
	}
	return o;
}

static void free_options(struct option *o)
{
	if (!o)
		return;
	for (size_t i = 0; o[i].name; i++) {
		if (o[i].val >= OPT_REG)
			free((char *)o[i].name);
	}
	free(o);
}

/* 0, 1 to exit 0 at once (--help, --version), or -1 after a message. */
static int parse_args(int argc, char **argv, struct request *rq)
{
	struct option *opts = build_options();
	int c, ret = 0;

	if (!opts) {
		err_msg("out of memory");
		return -1;
	}
	rq->cpu = 0;
	rq->timeout = 30;
	rq->rtc_offset = -1;
	opterr = 0;
	/*
	 * "+": options stop at shell, eval or trace, whose words may start
	 * with -.
	 */
	while (ret == 0 &&
	       (c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		uint64_t v;

		switch (c) {
		case OPT_VM:
			rq->vm = optarg;
			break;
		case OPT_CPU:
			if (!strcmp(optarg, "all") || !strcmp(optarg, "-1")) {
				rq->cpu = -1;
			} else if (!parse_u64(optarg, &v) || v >= VM_MAXCPU) {
				err_msg("--cpu: '%s' is not a vCPU number "
					"(0 to %d) or 'all'",
					optarg, VM_MAXCPU - 1);
				ret = -1;
			} else {
				rq->cpu = (int)v;
			}
			break;
		case OPT_JSON:
			rq->json = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_u64(optarg, &v) || v > 86400 * 365) {
				err_msg("--timeout: '%s' is not a number of "
					"seconds (0: no limit)",
					optarg);
				ret = -1;
			} else {
				rq->timeout = (unsigned int)v;
			}
			break;
		case OPT_LIST:
			rq->list = true;
			break;
		case OPT_HELP:
			printf(usage_text, vitroctl_trace_usage);
			ret = 1;
			break;
		case OPT_VERSION:
			printf("vitroctl %s (vmm ABI %d)\n", VITROCTL_VERSION,
			       VMM_ABI_VERSION);
			ret = 1;
			break;
		case OPT_GET_ALL:
			rq->all = true;
			break;
		case OPT_GET_STATS:
			rq->stats = true;
			break;
		case OPT_GET_ACTIVE:
			rq->active = true;
			break;
		case OPT_GET_SUSPENDED:
			rq->suspended = true;
			break;
		case OPT_GET_DEBUG:
			rq->debug = true;
			break;
		case OPT_GET_TOPOLOGY:
			rq->topology = true;
			break;
		case OPT_GET_MEMMAP:
			rq->memmap = true;
			break;
		case OPT_GET_MEMSEG:
			rq->memseg = true;
			break;
		case OPT_SUSPEND_CPU:
			rq->suspend_cpu = true;
			break;
		case OPT_RESUME_CPU:
			rq->resume_cpu = true;
			break;
		case OPT_INJECT_NMI:
			rq->inject_nmi = true;
			break;
		case OPT_FORCE_RESET:
			rq->force_reset = true;
			break;
		case OPT_DUMP_CORE:
			rq->dump_core = optarg;
			break;
		case OPT_FORCE_POWEROFF:
			rq->force_poweroff = true;
			break;
		case OPT_DESTROY:
			rq->destroy = true;
			break;
		case OPT_DESC_BASE:
		case OPT_DESC_LIMIT:
		case OPT_DESC_ACCESS:
			if (!parse_u64(optarg, &v)) {
				err_msg("--%s: '%s' is not a number",
					c == OPT_DESC_BASE  ? "desc-base" :
					c == OPT_DESC_LIMIT ? "desc-limit" :
							      "desc-access",
					optarg);
				ret = -1;
			} else if (c == OPT_DESC_BASE) {
				rq->desc_base = v;
				rq->desc_base_set = true;
			} else if (c == OPT_DESC_LIMIT) {
				rq->desc_limit = v;
				rq->desc_limit_set = true;
			} else {
				rq->desc_access = v;
				rq->desc_access_set = true;
			}
			break;
		case OPT_GET_RTC_TIME:
			rq->get_rtc_time = true;
			break;
		case OPT_SET_RTC_TIME:
			if (!parse_u64(optarg, &v) || v > VM_RTC_TIME_MAX) {
				err_msg("--set-rtc-time: '%s' is not a time in "
					"seconds since the epoch (0 to %lld)",
					optarg, VM_RTC_TIME_MAX);
				ret = -1;
			}
			rq->set_rtc_time = true;
			rq->rtc_time = (int64_t)v;
			break;
		case OPT_GET_RTC_NVRAM:
			rq->get_rtc_nvram = true;
			break;
		case OPT_SET_RTC_NVRAM:
			if (!parse_u64(optarg, &v) || v > 0xff) {
				err_msg("--set-rtc-nvram: '%s' is not a byte "
					"value (0 to 0xff)",
					optarg);
				ret = -1;
			}
			rq->set_rtc_nvram = true;
			rq->rtc_nvram = (uint8_t)v;
			break;
		case OPT_RTC_NVRAM_OFFSET:
			if (!parse_u64(optarg, &v) || v >= VM_RTC_NREGS) {
				err_msg("--rtc-nvram-offset: '%s' is not a CMOS "
					"offset (0 to 0x%x)",
					optarg, VM_RTC_NREGS - 1);
				ret = -1;
			}
			rq->rtc_offset = (int)v;
			break;
		case ':':
			err_msg("option '%s' needs a value (--%s=VALUE)",
				argv[optind - 1], argv[optind - 1] + 2);
			ret = -1;
			break;
		case '?':
			err_msg("unknown option '%s' (see vitroctl --help)",
				argv[optind - 1]);
			ret = -1;
			break;
		default: {
			int i = (c - OPT_REG) / 4, kind = (c - OPT_REG) % 4;

			if (c < OPT_REG) {
				ret = -1;
			} else if (kind == 0) {
				rq->get_reg[i] = true;
			} else if (kind == 1) {
				if (!parse_u64(optarg, &rq->reg_val[i])) {
					err_msg("--set-%s: '%s' is not a "
						"number",
						vm_reg_name(named_regs[i]),
						optarg);
					ret = -1;
				}
				rq->set_reg[i] = true;
			} else if (kind == 2) {
				rq->get_desc[i - NREGS] = true;
			} else {
				rq->set_desc[i - NREGS] = true;
			}
			break;
		}
		}
	}
	free_options(opts);
	if (ret)
		return ret;
	if (optind < argc &&
	    (!strcmp(argv[optind], "shell") || !strcmp(argv[optind], "eval"))) {
		rq->console = argv[optind];
		rq->console_argc = argc - optind - 1;
		rq->console_argv = argv + optind + 1;
		if (!strcmp(rq->console, "eval") && rq->console_argc < 1) {
			err_msg("eval needs a Tcl command: eval 'vm info'");
			return -1;
		}
	} else if (optind < argc && !strcmp(argv[optind], "trace")) {
		rq->trace_argc = argc - optind - 1;
		rq->trace_argv = argv + optind + 1;
		if (rq->trace_argc < 1) {
			err_msg("trace needs a verb: record, stop, status, "
				"stats, report, plot, export or help");
			return -1;
		}
		/* report, plot and export read a file: no VM. */
		if (!vitroctl_trace_needs_vm(rq->trace_argv[0]))
			return 0;
	} else if (optind < argc) {
		err_msg("unexpected argument '%s' (options are --name[=value],"
			" or the words shell, eval or trace)",
			argv[optind]);
		return -1;
	}
	if (!rq->list && !rq->vm) {
		err_msg("no VM given: use --vm=NAME, or --list to see them");
		return -1;
	}
	if (rq->suspend_cpu && rq->resume_cpu) {
		err_msg("--suspend-cpu and --resume-cpu together: choose one");
		return -1;
	}
	if (rq->force_reset + rq->force_poweroff + rq->destroy > 1) {
		err_msg("--force-reset, --force-poweroff and --destroy are ways "
			"to end the VM: choose one");
		return -1;
	}
	if ((rq->get_rtc_nvram || rq->set_rtc_nvram) && rq->rtc_offset < 0) {
		err_msg("--%s-rtc-nvram needs --rtc-nvram-offset=N",
			rq->set_rtc_nvram ? "set" : "get");
		return -1;
	}
	if (rq->rtc_offset >= 0 && !rq->get_rtc_nvram && !rq->set_rtc_nvram) {
		err_msg("--rtc-nvram-offset goes with --get-rtc-nvram or "
			"--set-rtc-nvram");
		return -1;
	}
	if (rq->set_rtc_nvram && (rq->rtc_offset < VM_RTC_NVRAM_START ||
				  rq->rtc_offset == VM_RTC_CENTURY)) {
		err_msg("--rtc-nvram-offset=0x%02x: not an NVRAM byte that can be "
			"set (0x%02x to 0x%02x, but the century byte 0x%02x)",
			rq->rtc_offset, VM_RTC_NVRAM_START, VM_RTC_NREGS - 1,
			VM_RTC_CENTURY);
		return -1;
	}
	for (unsigned i = 0; i < NDESCS; i++) {
		if (rq->set_desc[i] &&
		    (!rq->desc_base_set || !rq->desc_limit_set ||
		     (descs[i].access >= 0 && !rq->desc_access_set))) {
			err_msg("--set-desc-%s needs --desc-base, --desc-limit%s",
				descs[i].name,
				descs[i].access >= 0 ? " and --desc-access" :
						       "");
			return -1;
		}
	}
	return 0;
}

static int run(struct vmctx *ctx, const struct request *rq)
{
	struct json j = { .on = rq->json, .first = { true } };
	bool reports;
	struct vm_cpuset cpus;
	int r;

	if ((r = target_cpus(ctx, rq->cpu, &cpus)) < 0)
		return r;
	if ((r = each_vcpu(ctx, &cpus, do_set, rq, NULL)) < 0)
		return r;
	if ((r = rtc_set(ctx, rq)) < 0)
		return r;
	if ((rq->suspend_cpu || rq->resume_cpu) &&
	    (r = each_vcpu(ctx, &cpus, do_debug_set, rq, NULL)) < 0)
		return r;

	reports = wants_vcpu_report(rq) || rq->memseg || rq->memmap ||
		  rq->active || rq->suspended || rq->debug || rq->topology ||
		  rq->get_rtc_time || rq->get_rtc_nvram;
	if (reports && j.on) {
		json_open(&j, NULL, '{');
		json_text(&j, "vm", vm_get_name(ctx));
	}
	if (reports)
		r = report_vm(ctx, rq, &j);
	if (r == 0 && wants_vcpu_report(rq)) {
		if (j.on)
			json_open(&j, "vcpus", '[');
		r = each_vcpu(ctx, &cpus, do_report, rq, &j);
		if (j.on)
			json_close(&j, ']');
	}
	if (reports && j.on) {
		json_close(&j, '}');
		putchar('\n');
	}
	if (r < 0)
		return r;
	if (rq->inject_nmi && (r = each_vcpu(ctx, &cpus, do_nmi, rq, NULL)) < 0)
		return r;
	if (rq->dump_core && (r = dump_core(ctx, rq->dump_core)) < 0)
		return r;
	if (rq->force_reset || rq->force_poweroff || rq->destroy)
		r = end_vm(ctx, rq);
	return r;
}

int main(int argc, char **argv)
{
	struct request rq = { 0 };
	struct vm_ctl_hello hi;
	struct vmctx *ctx;
	int r;

	if ((r = parse_args(argc, argv, &rq)) != 0)
		return r > 0 ? 0 : 2;
	if (rq.list)
		return list_vms(rq.json) < 0;
	if (rq.trace_argc && !vitroctl_trace_needs_vm(rq.trace_argv[0]))
		return vitroctl_trace(NULL, rq.trace_argc, rq.trace_argv);
	if (!(ctx = vm_open(rq.vm))) {
		open_failed(rq.vm, errno);
		return 1;
	}
	if (rq.console)
		return vitroctl_console(ctx, rq.console, rq.console_argc,
					rq.console_argv, rq.timeout);
	if (rq.trace_argc) {
		r = vitroctl_trace(ctx, rq.trace_argc, rq.trace_argv);
		vm_destroy(ctx);
		return r;
	}
	if (vm_get_info(ctx, &hi) < 0)
		hi.pid = 0;
	r = run(ctx, &rq);
	vm_destroy(ctx);
	if (r == 0 && rq.destroy)
		r = wait_gone(rq.vm, hi.pid);
	fflush(stdout);
	return r < 0;
}
