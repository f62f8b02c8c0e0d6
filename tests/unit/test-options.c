/*
 * test-options.c: vitro's command-line parser, every option and the error
 * message of each kind of bad input.
 */
#include <errno.h>

#include "monitor/options.h"
#include "tests/tap.h"

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

static void check_err(const char *what, int r, const char *err,
		      const char *needle)
{
	ok(r == -EINVAL && strstr(err, needle), "%s: error names '%s'", what,
	   needle);
	if (!strstr(err, needle))
		tap_diag("message was: %s", err);
}

static void test_sizes(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "512M", 512ULL << 20 },   { "4G", 4ULL << 30 },
		{ "1024K", 1ULL << 20 },    { "256", 256ULL << 20 },
		{ "2g", 2ULL << 30 },	    { "1T", 1ULL << 40 },
		{ "512MiB", 512ULL << 20 }, { "512MB", 512ULL << 20 },
	};
	static const char *const bad[] = { "",
					   "M",
					   "12X",
					   "-1",
					   "1.5G",
					   "99999999999999999999",
					   "18446744073709551615G",
					   "4Gx" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0;

		ok(options_parse_size(good[i].s, &v) == 0 && v == good[i].v,
		   "size '%s'", good[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;

		ok(options_parse_size(bad[i], &v) == -EINVAL && v == 7,
		   "bad size '%s' refused, output untouched", bad[i]);
	}
}

static void test_cpus(void)
{
	struct vm_cpu_topology t;
	unsigned n;
	char err[256];

	ok(options_parse_cpus("4", &n, &t, err, sizeof(err)) == 0 && n == 4 &&
		   t.sockets == 4 && t.cores == 1 && t.threads == 1 &&
		   t.maxcpus == 4,
	   "-c 4: four sockets of one core");
	ok(options_parse_cpus("cpus=2,sockets=1,cores=2,threads=2", &n, &t, err,
			      sizeof(err)) == 0 &&
		   n == 2 && t.sockets == 1 && t.cores == 2 && t.threads == 2 &&
		   t.maxcpus == 4,
	   "-c cpus=2 with a larger topology");
	ok(options_parse_cpus("sockets=2,cores=2", &n, &t, err, sizeof(err)) ==
			   0 &&
		   n == 4 && t.maxcpus == 4,
	   "-c topology alone gives all its vCPUs");
	ok(options_parse_cpus("3,cores=2", &n, &t, err, sizeof(err)) == 0 &&
		   n == 3 && t.sockets == 2 && t.cores == 2,
	   "-c 3,cores=2 rounds sockets up");
	check_err("-c 0", options_parse_cpus("0", &n, &t, err, sizeof(err)),
		  err, "not a number from 1");
	check_err("-c x", options_parse_cpus("x", &n, &t, err, sizeof(err)),
		  err, "'x'");
	check_err("-c dies=2",
		  options_parse_cpus("2,dies=2", &n, &t, err, sizeof(err)), err,
		  "unknown key 'dies'");
	check_err("-c 5,sockets=1,cores=2",
		  options_parse_cpus("5,sockets=1,cores=2", &n, &t, err,
				     sizeof(err)),
		  err, "do not fit");
	check_err("-c 300", options_parse_cpus("300", &n, &t, err, sizeof(err)),
		  err, "from 1 to 256");
	check_err("-c sockets=200,cores=2",
		  options_parse_cpus("sockets=200,cores=2", &n, &t, err,
				     sizeof(err)),
		  err, "more than 256");
}

static void test_parse(void)
{
	struct vitro_options o;
	char err[256];
	int r;

	r = parse(&o, err, "-k", "k.elf", NULL);
	ok(r == 0 && !strcmp(o.kernel, "k.elf") && o.ncpus == 1 &&
		   o.memsize == VITRO_DEFAULT_MEM &&
		   !strcmp(o.com1, "com1,stdio") && !o.name && !o.cmdline &&
		   !o.initrd && !o.debug_exit,
	   "defaults (no exit port)");
	r = parse(&o, err, "--debug-exit", "-k", "k", NULL);
	ok(r == 0 && o.debug_exit, "--debug-exit");
	ok(!o.no_hpet, "an HPET by default");
	r = parse(&o, err, "--no-hpet", "-k", "k", NULL);
	ok(r == 0 && o.no_hpet, "--no-hpet");
	r = parse(&o, err, "-c", "2", "-m", "1G", "-k", "k", "-a", "x=1 y",
		  "-i", "a,b", "-l", "com1,pty", "-v", "-v", "myvm", NULL);
	ok(r == 0 && o.ncpus == 2 && o.memsize == 1ULL << 30 &&
		   !strcmp(o.cmdline, "x=1 y") && !strcmp(o.initrd, "a,b") &&
		   !strcmp(o.com1, "com1,pty") && o.verbose == 2 &&
		   !strcmp(o.name, "myvm"),
	   "every option");
	r = parse(&o, err, "--help", NULL);
	ok(r == 0 && o.help, "--help needs no kernel");
	r = parse(&o, err, "--version", NULL);
	ok(r == 0 && o.version, "--version");
	check_err("no kernel", parse(&o, err, NULL), err, "-k FILE");
	check_err("unknown option", parse(&o, err, "-z", "-k", "k", NULL), err,
		  "unknown option -z");
	check_err("unknown long option",
		  parse(&o, err, "--frobnicate", "-k", "k", NULL), err,
		  "unknown option '--frobnicate'");
	check_err("missing value", parse(&o, err, "-k", NULL), err,
		  "-k needs a value");
	check_err("bad memory", parse(&o, err, "-m", "lots", "-k", "k", NULL),
		  err, "-m 'lots'");
	check_err("tiny memory", parse(&o, err, "-m", "1M", "-k", "k", NULL),
		  err, "from 2M");
	check_err("odd memory", parse(&o, err, "-m", "3000K", "-k", "k", NULL),
		  err, "multiple of 2M");
	check_err("two names", parse(&o, err, "-k", "k", "a", "b", NULL), err,
		  "unexpected argument 'b'");
	r = parse(&o, err, "-k", "vmlinux,entry=pvh", NULL);
	ok(r == 0 && !strcmp(o.kernel, "vmlinux") &&
		   !strcmp(o.kernel_entry, "pvh"),
	   "-k FILE,entry=pvh");
	r = parse(&o, err, "-k", "a,b,entry=linux64", NULL);
	ok(r == 0 && !strcmp(o.kernel, "a,b") &&
		   !strcmp(o.kernel_entry, "linux64"),
	   "-k FILE,entry=linux64 with a comma in FILE");
	r = parse(&o, err, "-k", "a,b", NULL);
	ok(r == 0 && !strcmp(o.kernel, "a,b") && !o.kernel_entry,
	   "-k FILE with a comma, no entry");
	check_err(
		"bad entry", parse(&o, err, "-k", "k,entry=bios", NULL), err,
		"-k 'k,entry=bios': entry 'bios' is not pvh, linux64 or bzimage");
	check_err("entry without a file",
		  parse(&o, err, "-k", ",entry=pvh", NULL), err,
		  "-k ',entry=pvh': expected FILE,entry=E");
	ok(strstr(options_usage, "usage: vitro") &&
		   strstr(options_usage, "Exit status"),
	   "usage text has the synopsis and the exit statuses");
}

static void test_mem_pin(void)
{
	struct vitro_options o;
	char err[256];
	int r;

	r = parse(&o, err, "-k", "k", NULL);
	ok(r == 0 && o.mem_flags == 0 && o.pin[0] == -1 &&
		   o.pin[VM_MAXCPU - 1] == -1,
	   "defaults: the host's choice of backing, no pinning");
	r = parse(&o, err, "-m", "1G,hugetlb,prealloc,mlock", "-k", "k", NULL);
	ok(r == 0 && o.memsize == 1ULL << 30 &&
		   o.mem_flags == (VM_MEMSEG_F_HUGETLB | VM_MEMSEG_F_PREALLOC |
				   VM_MEMSEG_F_MLOCK),
	   "-m 1G,hugetlb,prealloc,mlock");
	r = parse(&o, err, "-m", "2G,hugetlb=1G", "-k", "k", NULL);
	ok(r == 0 && o.mem_flags == (VM_MEMSEG_F_HUGETLB | VM_MEMSEG_F_HUGE_1G),
	   "-m 2G,hugetlb=1G");
	r = parse(&o, err, "-m", "64M,hugetlb=2M", "-k", "k", NULL);
	ok(r == 0 && o.mem_flags == VM_MEMSEG_F_HUGETLB, "-m 64M,hugetlb=2M");
	r = parse(&o, err, "-m", "64M,nothp", "-k", "k", NULL);
	ok(r == 0 && o.mem_flags == VM_MEMSEG_F_SMALL, "-m 64M,nothp");
	check_err("odd size for 1G pages",
		  parse(&o, err, "-m", "1536M,hugetlb=1G", "-k", "k", NULL),
		  err, "multiple of 1G, the huge page size");
	check_err("bad page size",
		  parse(&o, err, "-m", "1G,hugetlb=4M", "-k", "k", NULL), err,
		  "huge page size '4M' is not 2M or 1G");
	check_err("unknown memory option",
		  parse(&o, err, "-m", "1G,fast", "-k", "k", NULL), err,
		  "unknown option 'fast'");
	check_err("hugetlb and nothp",
		  parse(&o, err, "-m", "1G,hugetlb,nothp", "-k", "k", NULL),
		  err, "exclude each other");
	r = parse(&o, err, "-c", "2", "-p", "0:1", "-p", "1:0", "-k", "k",
		  NULL);
	ok(r == 0 && o.pin[0] == 1 && o.pin[1] == 0 && o.pin[2] == -1,
	   "-p 0:1 -p 1:0");
	r = parse(&o, err, "-p", "1:3", "-c", "2", "-k", "k", NULL);
	ok(r == 0 && o.pin[1] == 3, "-p before -c");
	check_err("pin past the vCPUs",
		  parse(&o, err, "-p", "1:0", "-k", "k", NULL), err,
		  "-p 1:0: the VM has 1 vCPU (0 to 0)");
	check_err("pin past VM_MAXCPU",
		  parse(&o, err, "-p", "999:0", "-k", "k", NULL), err,
		  "vCPU 999 is over");
	check_err("pin past the host's CPU numbers",
		  parse(&o, err, "-p", "0:5000", "-k", "k", NULL), err,
		  "host CPU 5000 is over");
	static const char *const bad[] = { "0",	  "0:",	  ":1",	  "a:1",
					   "0:x", "0:-1", "0:1x", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_err(bad[i], parse(&o, err, "-p", bad[i], "-k", "k", NULL),
			  err, "expected VCPU:HOSTCPU");
}

int main(void)
{
	test_sizes();
	test_cpus();
	test_parse();
	test_mem_pin();
	return tap_done();
}
