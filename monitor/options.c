/*
 * options.c: parsing vitro's command line (see options.h and vitro.8).
 * Pure functions over argv; getopt's own globals are reset on entry so the
 * parser can run more than once (tests do).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/options.h"

const char options_usage[] =
	"usage: vitro [options] [NAME]\n"
	"\n"
	"Run a virtual machine on KVM, with a debugger's view of it.\n"
	"\n"
	"  -k FILE[,entry=E]\n"
	"                  the kernel: an ELF64 image (entered in 64-bit mode),\n"
	"                  a Multiboot image (ELF32, ELF64 or a.out kludge),\n"
	"                  or Linux: a vmlinux or a bzImage (gzip, xz, lzma,\n"
	"                  zstd or lz4), entered through PVH when it has the\n"
	"                  PVH note, else the 64-bit boot protocol; E (pvh or\n"
	"                  linux64) forces one; bzimage: the kernel's own\n"
	"                  decompressor (slower; KASLR works)\n"
	"  -a CMDLINE      the kernel command line\n"
	"  -i FILE[,FILE]  Multiboot modules, in order; for Linux, the initrd\n"
	"  -m SIZE[,hugetlb[=2M|1G]][,nothp][,prealloc][,mlock]\n"
	"                  guest memory: 512M, 4G... (a plain number is MiB;\n"
	"                  default 256M), on transparent huge pages where\n"
	"                  the host gives them; hugetlb: hugetlbfs pages,\n"
	"                  reserved at start (vm.nr_hugepages); nothp: 4 KiB\n"
	"                  pages; prealloc: populate it all before the\n"
	"                  guest starts; mlock: lock it in RAM\n"
	"  -p VCPU:HOSTCPU run vCPU VCPU's thread on host CPU HOSTCPU only\n"
	"                  (repeatable)\n"
	"  -c N[,sockets=S][,cores=C][,threads=T]\n"
	"                  vCPUs and topology (default 1)\n"
	"  -l com1,BACKEND the COM1 serial port: stdio (default), pty,\n"
	"                  file:PATH or unix:PATH\n"
	"  -G [w][ADDR:]PORT[,arch=ARCH][,sym=FILE]\n"
	"  -G [w]unix:PATH[,arch=ARCH][,sym=FILE]\n"
	"                  serve gdb's remote protocol (on 127.0.0.1 unless\n"
	"                  ADDR is given); w holds the guest until gdb\n"
	"                  attaches; ARCH is x86-64 (default), i386 (32-bit\n"
	"                  images, protected mode) or i8086 (real mode); FILE\n"
	"                  (a vmlinux) finds the KASLR slide for gdb when -k\n"
	"                  has no symbols (a bzImage)\n"
	"  -S SCRIPT       run the Tcl script SCRIPT in vitro's console before\n"
	"                  the guest's first instruction; the guest runs when\n"
	"                  it returns (exit N in it ends vitro with status N)\n"
	"  -T FILE[,SPEC]  record every VM exit to the trace file FILE; SPEC\n"
	"                  filters and sets capture (stack=N for N return\n"
	"                  addresses, kernel for in-kernel exits; see\n"
	"                  vitro(8) TRACING); read it with vitroctl trace\n"
	"  -cpu MODEL      the CPU the guest sees: host (all KVM supports) or\n"
	"                  conservative (no XSAVE/AVX, cmpxchg16b, popcnt,\n"
	"                  SMAP, FSGSBASE...: what an instruction emulator\n"
	"                  runs); default: host where KVM runs guest kernel\n"
	"                  code natively, conservative on a software KVM\n"
	"                  (kvm_pvm), with a notice (see vitro(8) CPU MODELS)\n"
	"      --console   the vitro prompt (Tcl) on this terminal: Ctrl-a c\n"
	"                  switches between it and the guest's console\n"
	"      --debug-exit\n"
	"                  the exit port 0xf4, as QEMU's isa-debug-exit: a\n"
	"                  guest writing V to it ends vitro with status\n"
	"                  (V << 1) | 1 (for test guests; off by default)\n"
	"      --no-hpet   no HPET (at 0xfed00000) and no ACPI HPET table\n"
	"  -v              say more on stderr (start-up figures, exits)\n"
	"  -h, --help      this text\n"
	"      --version   the version\n"
	"\n"
	"NAME names the VM (default vitro-PID).  On a terminal, COM1 on stdio\n"
	"puts the terminal in raw mode: Ctrl-a x quits, Ctrl-a h lists the\n"
	"other escapes.\n"
	"gdb's `monitor LINE` runs LINE in the Tcl console of -S and\n"
	"--console; one that waits for the guest holds vitro's event loop.\n"
	"\n"
	"Exit status: 0 the guest reset, 1 powered off, 2 halted, 3 triple\n"
	"fault, 4 an error (bad option or image, emulation failure, an error\n"
	"in the -S script...), N when the -S script or the console ran\n"
	"exit N, or (V << 1) | 1 when the guest wrote V to --debug-exit's\n"
	"port.\n";

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int options_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 20;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		/* 512M, 512MB, 512MiB are the same thing here. */
		if (strcmp(end, "") && strcmp(end, "B") && strcmp(end, "iB"))
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int options_parse_cpus(const char *s, unsigned *ncpus,
		       struct vm_cpu_topology *topo, char *err, size_t errlen)
{
	unsigned n = 0, sockets = 0, cores = 1, threads = 1, max;
	char buf[256], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "-c '%.40s...': too long", s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned *dst;
		const char *val = tok;

		if (!eq) {
			dst = &n;
		} else {
			*eq = 0;
			val = eq + 1;
			if (!strcmp(tok, "cpus"))
				dst = &n;
			else if (!strcmp(tok, "sockets"))
				dst = &sockets;
			else if (!strcmp(tok, "cores"))
				dst = &cores;
			else if (!strcmp(tok, "threads"))
				dst = &threads;
			else
				return fail(err, errlen,
					    "-c: unknown key '%s' (expected "
					    "cpus, sockets, cores or threads)",
					    tok);
		}
		if (parse_uint(val, VM_MAXCPU, dst) < 0)
			return fail(err, errlen,
				    "-c: '%s' is not a number from 1 to %d",
				    val, VM_MAXCPU);
	}
	if (!n && !sockets)
		return fail(err, errlen,
			    "-c '%s': give the number of vCPUs, e.g. -c 2", s);
	if (!sockets) /* bhyve's default: one vCPU per socket */
		sockets = (n + cores * threads - 1) / (cores * threads);
	max = sockets * cores * threads;
	if (max > VM_MAXCPU)
		return fail(err, errlen,
			    "-c '%s': %u sockets x %u cores x %u threads is "
			    "more than %d vCPUs",
			    s, sockets, cores, threads, VM_MAXCPU);
	if (!n)
		n = max;
	if (n > max)
		return fail(err, errlen,
			    "-c '%s': %u vCPUs do not fit in %u sockets x %u "
			    "cores x %u threads",
			    s, n, sockets, cores, threads);
	*ncpus = n;
	*topo = (struct vm_cpu_topology){ sockets, cores, threads, max };
	return 0;
}

/* -k FILE or FILE,entry=pvh|linux64|bzimage (the last ",entry=" decides). */
static int parse_kernel(const char *arg, struct vitro_options *o, char *err,
			size_t errlen)
{
	const char *e = NULL, *p;

	for (p = strstr(arg, ",entry="); p; p = strstr(p + 1, ",entry="))
		e = p;
	o->kernel = arg;
	o->kernel_entry = NULL;
	if (!e)
		return 0;
	o->kernel_entry = e + strlen(",entry=");
	if (strcmp(o->kernel_entry, "pvh") != 0 &&
	    strcmp(o->kernel_entry, "linux64") != 0 &&
	    strcmp(o->kernel_entry, "bzimage") != 0)
		return fail(
			err, errlen,
			"-k '%s': entry '%s' is not pvh, linux64 or bzimage",
			arg, o->kernel_entry);
	if ((size_t)(e - arg) >= sizeof(o->kernel_buf) || e == arg)
		return fail(err, errlen, "-k '%s': expected FILE,entry=E", arg);
	memcpy(o->kernel_buf, arg, e - arg);
	o->kernel_buf[e - arg] = '\0';
	o->kernel = o->kernel_buf;
	return 0;
}

/* -m SIZE[,hugetlb[=2M|1G]][,nothp][,prealloc][,mlock] */
static int parse_mem(const char *arg, struct vitro_options *o, char *err,
		     size_t errlen)
{
	char buf[128], *tok, *save;
	uint64_t page = 2ULL << 20;

	if (strlen(arg) >= sizeof(buf))
		return fail(err, errlen, "-m '%.40s...': too long", arg);
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (!tok || options_parse_size(tok, &o->memsize) < 0)
		return fail(err, errlen,
			    "-m '%s': expected a size such as 512M or 4G", arg);
	o->mem_flags = 0;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "hugetlb") || !strcmp(tok, "hugetlb=2M")) {
			o->mem_flags |= VM_MEMSEG_F_HUGETLB;
			o->mem_flags &= ~VM_MEMSEG_F_HUGE_1G;
			page = 2ULL << 20;
		} else if (!strcmp(tok, "hugetlb=1G")) {
			o->mem_flags |=
				VM_MEMSEG_F_HUGETLB | VM_MEMSEG_F_HUGE_1G;
			page = 1ULL << 30;
		} else if (!strcmp(tok, "nothp")) {
			o->mem_flags |= VM_MEMSEG_F_SMALL;
		} else if (!strcmp(tok, "prealloc")) {
			o->mem_flags |= VM_MEMSEG_F_PREALLOC;
		} else if (!strcmp(tok, "mlock")) {
			o->mem_flags |= VM_MEMSEG_F_MLOCK;
		} else if (!strncmp(tok, "hugetlb=", 8)) {
			return fail(err, errlen,
				    "-m '%s': huge page size '%s' is not 2M "
				    "or 1G",
				    arg, tok + 8);
		} else {
			return fail(err, errlen,
				    "-m '%s': unknown option '%s' (expected "
				    "hugetlb[=2M|1G], nothp, prealloc or "
				    "mlock)",
				    arg, tok);
		}
	}
	if ((o->mem_flags & VM_MEMSEG_F_HUGETLB) &&
	    (o->mem_flags & VM_MEMSEG_F_SMALL))
		return fail(err, errlen,
			    "-m '%s': hugetlb and nothp exclude each other",
			    arg);
	if (o->memsize < VITRO_MIN_MEM || o->memsize > VITRO_MAX_MEM)
		return fail(err, errlen,
			    "-m '%s': guest memory must be from 2M to 1T", arg);
	if (o->memsize % page)
		return fail(err, errlen,
			    "-m '%s': guest memory must be a multiple of "
			    "%s%s",
			    arg, page == (1ULL << 30) ? "1G" : "2M",
			    o->mem_flags & VM_MEMSEG_F_HUGETLB ?
				    ", the huge page size" :
				    "");
	return 0;
}

/* -p VCPU:HOSTCPU, repeatable; vCPUs are checked against -c at the end. */
static int parse_pin(const char *arg, struct vitro_options *o, char *err,
		     size_t errlen)
{
	unsigned long vcpu, host;
	char *end;

	errno = 0;
	vcpu = strtoul(arg, &end, 10);
	if (errno || end == arg || *end != ':' || arg[0] < '0' || arg[0] > '9')
		return fail(err, errlen,
			    "-p '%s': expected VCPU:HOSTCPU, e.g. -p 0:2", arg);
	if (end[1] < '0' || end[1] > '9')
		return fail(err, errlen,
			    "-p '%s': expected VCPU:HOSTCPU, e.g. -p 0:2", arg);
	host = strtoul(end + 1, &end, 10);
	if (errno || *end)
		return fail(err, errlen,
			    "-p '%s': expected VCPU:HOSTCPU, e.g. -p 0:2", arg);
	if (vcpu >= VM_MAXCPU)
		return fail(err, errlen, "-p '%s': vCPU %lu is over %d", arg,
			    vcpu, VM_MAXCPU - 1);
	if (host >= VITRO_MAX_HOSTCPU)
		return fail(err, errlen, "-p '%s': host CPU %lu is over %d",
			    arg, host, VITRO_MAX_HOSTCPU - 1);
	o->pin[vcpu] = (int)host;
	return 0;
}

enum { OPT_VERSION = 256, OPT_CONSOLE, OPT_DEBUG_EXIT, OPT_CPU, OPT_NO_HPET };

static const struct option long_opts[] = {
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "console", no_argument, NULL, OPT_CONSOLE },
	{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
	{ "no-hpet", no_argument, NULL, OPT_NO_HPET },
	{ NULL, 0, NULL, 0 },
};

static int parse_cpu_model(const char *s, int *model, char *err, size_t errlen)
{
	enum vm_cpu_model_id m;

	if (vm_cpu_model_parse(s, &m) < 0)
		return fail(err, errlen,
			    "-cpu '%s': expected host or conservative", s);
	*model = m;
	return 0;
}

/*
 * -cpu is spelt with one dash, as QEMU spells it, which getopt would read
 * as -c pu: take it (and -cpu=MODEL) out of argv first, up to a "--".
 * av has room for argc + 1 pointers.
 */
static int take_cpu(int argc, char **argv, char **av, int *avc, int *model,
		    char *err, size_t errlen)
{
	int n = 0, i, r;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (i > 0 && strcmp(argv[i], "-cpu") == 0) {
			if (i + 1 >= argc)
				return fail(err, errlen,
					    "option -cpu needs a value");
			if ((r = parse_cpu_model(argv[++i], model, err,
						 errlen)) < 0)
				return r;
		} else if (i > 0 && strncmp(argv[i], "-cpu=", 5) == 0) {
			if ((r = parse_cpu_model(argv[i] + 5, model, err,
						 errlen)) < 0)
				return r;
		} else {
			av[n++] = argv[i];
		}
	}
	while (i < argc)
		av[n++] = argv[i++];
	av[n] = NULL;
	*avc = n;
	return 0;
}

int options_parse(int argc, char **argv, struct vitro_options *o, char *err,
		  size_t errlen)
{
	char *av[argc + 1];
	int c, r, avc = 0;

	*o = (struct vitro_options){
		.ncpus = 1,
		.topo = { 1, 1, 1, 1 },
		.memsize = VITRO_DEFAULT_MEM,
		.com1 = "com1,stdio",
		.cpu_model = -1,
	};
	for (int i = 0; i < VM_MAXCPU; i++)
		o->pin[i] = -1;
	if ((r = take_cpu(argc, argv, av, &avc, &o->cpu_model, err, errlen)) <
	    0)
		return r;
	argc = avc;
	argv = av;
	optind = 0; /* glibc: start over, and reset its internal state */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":a:c:G:hi:k:l:m:p:S:T:v",
				long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_CPU:
			r = parse_cpu_model(optarg, &o->cpu_model, err, errlen);
			if (r < 0)
				return r;
			break;
		case 'a':
			o->cmdline = optarg;
			break;
		case 'c':
			r = options_parse_cpus(optarg, &o->ncpus, &o->topo, err,
					       errlen);
			if (r < 0)
				return r;
			break;
		case 'G':
			o->gdb = optarg;
			break;
		case 'h':
			o->help = true;
			return 0;
		case OPT_VERSION:
			o->version = true;
			return 0;
		case 'i':
			o->initrd = optarg;
			break;
		case 'k':
			r = parse_kernel(optarg, o, err, errlen);
			if (r < 0)
				return r;
			break;
		case 'l':
			o->com1 = optarg; /* checked by uart_backend_parse */
			break;
		case 'm':
			if ((r = parse_mem(optarg, o, err, errlen)) < 0)
				return r;
			break;
		case 'p':
			if ((r = parse_pin(optarg, o, err, errlen)) < 0)
				return r;
			break;
		case 'S':
			o->script = optarg;
			break;
		case 'T':
			/* Checked by the tracer, which knows regions and symbols. */
			o->trace = optarg;
			break;
		case OPT_CONSOLE:
			o->console = true;
			break;
		case OPT_DEBUG_EXIT:
			o->debug_exit = true;
			break;
		case OPT_NO_HPET:
			o->no_hpet = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case ':':
			return fail(err, errlen, "option -%c needs a value",
				    optopt);
		default:
			if (optopt)
				return fail(err, errlen,
					    "unknown option -%c (try --help)",
					    optopt);
			return fail(err, errlen,
				    "unknown option '%s' (try --help)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->name = argv[optind++];
	if (optind < argc)
		return fail(err, errlen,
			    "unexpected argument '%s' after the VM name '%s'",
			    argv[optind], o->name);
	for (unsigned i = o->ncpus; i < VM_MAXCPU; i++)
		if (o->pin[i] >= 0)
			return fail(err, errlen,
				    "-p %u:%d: the VM has %u vCPU%s (0 to %u)",
				    i, o->pin[i], o->ncpus,
				    o->ncpus == 1 ? "" : "s", o->ncpus - 1);
	if (!o->kernel)
		return fail(err, errlen,
			    "no kernel: give one with -k FILE (try --help)");
	return 0;
}
