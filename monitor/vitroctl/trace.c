/*
 * vitroctl/trace.c: `vitroctl trace VERB` (trace.h).  record, stop and
 * status are VM_CTL_TRACE requests (vm_trace_control): the monitor opens
 * and writes the file, so record sends an absolute path.  stats reads the
 * vCPUs' counters (vm_get_stats), which needs no root and no recording.
 * report, plot and export read a trace file through introspect/trace_run.h
 * and need no VM.
 *
 * Exit status as vitroctl's: 0 done, 1 failed, 2 a bad command line.
 *
 * Threads: one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "introspect/trace_run.h"
#include "libvmmapi/vmmapi.h"
#include "monitor/vitroctl/trace.h"

#define STATS_MAX 1024

const char vitroctl_trace_usage[] =
	"VM-exit traces (see TRACING in vitroctl(8); SPEC: vitro -T):\n"
	"  --vm=NAME trace record FILE [SPEC]\n"
	"                         record the VM's exits to FILE (the monitor\n"
	"                         writes it) with a spec: filter terms such\n"
	"                         as reason=io,port=0x3f8, capture terms\n"
	"                         stack=N, ring=N, kernel\n"
	"  --vm=NAME trace stop   end the recording: records written, dropped\n"
	"  --vm=NAME trace status the recording and the watches\n"
	"  --vm=NAME trace stats  live exit counters per vCPU (no recording)\n"
	"  trace report [--sym ELF] [--filter SPEC] [--per-vcpu] [--top N]\n"
	"               [--by-time] FILE\n"
	"                         exits per reason, latencies, top rips\n"
	"  trace plot [--svg] [--buckets N] [--filter SPEC] FILE\n"
	"                         the exit rate over time, per reason\n"
	"  trace export --format json|csv|folded|native [--filter SPEC]\n"
	"               [--sym ELF] [-o OUT] FILE\n"
	"                         for Perfetto (json), spreadsheets (csv),\n"
	"                         flame graphs (folded), or a filtered trace\n"
	"                         file (native, needs -o)\n";

static void trace_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void trace_err(const char *fmt, ...)
{
	va_list ap;

	fputs("vitroctl: trace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool vitroctl_trace_needs_vm(const char *verb)
{
	static const char *const vm_verbs[] = { "record", "stop", "status",
						"stats", NULL };

	for (int i = 0; vm_verbs[i]; i++)
		if (!strcmp(verb, vm_verbs[i]))
			return true;
	return false;
}

/* The request's failure: the monitor's reason when it gave one. */
static int control_failed(const char *what, const struct vm_ctl_trace *t, int r)
{
	if (t->error[0])
		trace_err("%s: %s", what, t->error);
	else if (r == -EBUSY)
		trace_err("%s: a recording runs already (trace stop ends it)",
			  what);
	else if (r == -ENOENT)
		trace_err("%s: no recording runs", what);
	else if (r == -EOPNOTSUPP || r == -ENOTTY || r == -ENOSYS)
		trace_err("%s: this VM's monitor cannot trace (%s)", what,
			  strerror(-r));
	else
		trace_err("%s: %s", what, strerror(-r));
	return 1;
}

static int trace_record(struct vmctx *ctx, int argc, char **argv)
{
	struct vm_ctl_trace t = { .op = VM_CTL_TRACE_RECORD };
	char cwd[PATH_MAX];
	int r;

	if (argc < 2 || argc > 3) {
		trace_err("usage: vitroctl --vm=NAME trace record FILE [SPEC]");
		return 2;
	}
	/* The monitor opens the file, from its own working directory. */
	if (argv[1][0] == '/') {
		r = snprintf(t.path, sizeof(t.path), "%s", argv[1]);
	} else if (!getcwd(cwd, sizeof(cwd))) {
		trace_err("record: cannot make %s absolute: %s", argv[1],
			  strerror(errno));
		return 1;
	} else {
		r = snprintf(t.path, sizeof(t.path), "%s/%s", cwd, argv[1]);
	}
	if (r < 0 || (size_t)r >= sizeof(t.path)) {
		trace_err("record: the path %s is too long (at most %zu bytes)",
			  argv[1], sizeof(t.path) - 1);
		return 1;
	}
	if (argc == 3 && strlen(argv[2]) >= sizeof(t.spec)) {
		trace_err("record: the spec is too long (at most %zu bytes)",
			  sizeof(t.spec) - 1);
		return 1;
	}
	if (argc == 3)
		snprintf(t.spec, sizeof(t.spec), "%s", argv[2]);
	r = vm_trace_control(ctx, &t);
	if (r < 0)
		return control_failed("record", &t, r);
	printf("recording VM %s's exits to %s%s%s\n", vm_get_name(ctx), t.path,
	       t.spec[0] ? " with " : "", t.spec);
	return 0;
}

static int trace_stop(struct vmctx *ctx, int argc, char **argv)
{
	struct vm_ctl_trace t = { .op = VM_CTL_TRACE_STOP };
	int r;

	if (argc != 1) {
		trace_err("usage: vitroctl --vm=NAME trace stop");
		return 2;
	}
	r = vm_trace_control(ctx, &t);
	if (r < 0)
		return control_failed("stop", &t, r);
	printf("stopped recording %s: %" PRIu64 " records written, %" PRIu64
	       " dropped\n",
	       t.path[0] ? t.path : "(unknown file)", t.records, t.dropped);
	return 0;
}

static int trace_status(struct vmctx *ctx, int argc, char **argv)
{
	struct vm_ctl_trace t = { .op = VM_CTL_TRACE_STATUS };
	int r;

	if (argc != 1) {
		trace_err("usage: vitroctl --vm=NAME trace status");
		return 2;
	}
	r = vm_trace_control(ctx, &t);
	if (r < 0)
		return control_failed("status", &t, r);
	printf("vm:        %s\n", vm_get_name(ctx));
	if (t.recording) {
		double secs = t.now > t.t0 ? (t.now - t.t0) / 1e9 : 0;

		printf("recording: %s\n", t.path);
		printf("spec:      %s\n", t.spec[0] ? t.spec : "(all exits)");
		printf("for:       %.3f s\n", secs);
		printf("records:   %" PRIu64 " (%" PRIu64 " in-kernel)\n",
		       t.records, t.kernel_records);
		printf("dropped:   %" PRIu64 "\n", t.dropped);
	} else {
		printf("recording: no\n");
	}
	printf("watchers:  %u\n", t.watchers);
	if (t.recording || t.watchers)
		printf("capture:   stack=%u ring=%u\n", t.stack, t.ring);
	printf("kernel:    %s\n", t.kernel[0] ? t.kernel : "off");
	return 0;
}

/* The counters `trace stats` shows: exits, by reason and in all. */
static bool exit_counter(const char *name)
{
	if (!strncmp(name, "exits.", 6) || !strcmp(name, "vmm.exits"))
		return true;
	return !strncmp(name, "kvm.", 4) && strstr(name, "exit");
}

static int trace_stats(struct vmctx *ctx, int argc, char **argv)
{
	int ncpus = vm_get_ncpus(ctx), nstats = 0, ret = 1, r;
	uint64_t *vals = NULL;
	char(*names)[VM_STAT_NAME_MAX] = NULL;
	bool any = false;

	if (argc != 1) {
		trace_err("usage: vitroctl --vm=NAME trace stats");
		return 2;
	}
	if (ncpus <= 0) {
		trace_err("stats: cannot count the VM's vCPUs: %s",
			  strerror(ncpus ? -ncpus : ENODEV));
		return 1;
	}
	vals = calloc((size_t)ncpus * STATS_MAX, sizeof(*vals));
	names = calloc(STATS_MAX, sizeof(*names));
	if (!vals || !names) {
		trace_err("stats: out of memory");
		goto out;
	}
	for (int c = 0; c < ncpus; c++) {
		struct vcpu *v = vm_vcpu_open(ctx, c);
		int n = 0;

		if (!v) {
			trace_err("stats: cannot open vCPU %d: %s", c,
				  strerror(errno));
			goto out;
		}
		r = vm_get_stats(v, vals + (size_t)c * STATS_MAX, STATS_MAX,
				 &n);
		vm_vcpu_close(v);
		if (r < 0) {
			trace_err("stats: reading vCPU %d's counters: %s", c,
				  strerror(-r));
			goto out;
		}
		if (n > STATS_MAX)
			n = STATS_MAX;
		if (n > nstats)
			nstats = n;
	}
	for (int i = 0; i < nstats; i++) {
		r = vm_get_stat_desc(ctx, i, names[i], sizeof(names[i]));
		if (r < 0) {
			trace_err("stats: naming counter %d: %s", i,
				  strerror(-r));
			goto out;
		}
	}
	printf("%-28s", "counter");
	for (int c = 0; c < ncpus; c++) {
		char h[16];

		snprintf(h, sizeof(h), "vcpu%d", c);
		printf(" %12s", h);
	}
	printf(" %12s\n", ncpus > 1 ? "total" : "");
	for (int i = 0; i < nstats; i++) {
		uint64_t total = 0;

		if (!exit_counter(names[i]))
			continue;
		for (int c = 0; c < ncpus; c++)
			total += vals[(size_t)c * STATS_MAX + i];
		if (!total)
			continue;
		any = true;
		printf("%-28s", names[i]);
		for (int c = 0; c < ncpus; c++)
			printf(" %12" PRIu64, vals[(size_t)c * STATS_MAX + i]);
		if (ncpus > 1)
			printf(" %12" PRIu64, total);
		putchar('\n');
	}
	if (!any)
		printf("(no exits counted yet)\n");
	ret = 0;
out:
	free(vals);
	free(names);
	return ret;
}

enum {
	OPT_SYM = 256,
	OPT_FILTER,
	OPT_PER_VCPU,
	OPT_TOP,
	OPT_BY_TIME,
	OPT_SVG,
	OPT_BUCKETS,
	OPT_FORMAT,
	OPT_HELP,
};

static bool parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > 1000000)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* report, plot, export: options, then the file. */
static int trace_file(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sym", required_argument, NULL, OPT_SYM },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "per-vcpu", no_argument, NULL, OPT_PER_VCPU },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "by-time", no_argument, NULL, OPT_BY_TIME },
		{ "svg", no_argument, NULL, OPT_SVG },
		{ "buckets", required_argument, NULL, OPT_BUCKETS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	/* Which options each verb takes. */
	static const struct {
		const char *verb;
		enum trace_run_op op;
		const int allowed[8];
	} verbs[] = {
		{ "report",
		  TRACE_RUN_REPORT,
		  { OPT_SYM, OPT_FILTER, OPT_PER_VCPU, OPT_TOP, OPT_BY_TIME } },
		{ "plot",
		  TRACE_RUN_PLOT,
		  { OPT_SVG, OPT_BUCKETS, OPT_FILTER } },
		{ "export",
		  TRACE_RUN_EXPORT,
		  { OPT_FORMAT, OPT_FILTER, OPT_SYM, 'o' } },
	};
	struct trace_syms syms = { 0 };
	struct trace_run run = { 0 };
	bool have_format = false;
	char err[512];
	unsigned int k;
	int c, r, ret = 2;

	for (k = 0; k < 3 && strcmp(verbs[k].verb, argv[0]); k++)
		;
	run.op = verbs[k].op;
	optind = 0; /* glibc: start afresh on this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		bool ok = false;

		for (unsigned int i = 0; i < 8 && verbs[k].allowed[i]; i++)
			ok |= verbs[k].allowed[i] == c;
		if (c == OPT_HELP) {
			fputs(vitroctl_trace_usage, stdout);
			ret = 0;
			goto out;
		}
		if (c == ':') {
			trace_err("%s: option '%s' needs a value", argv[0],
				  argv[optind - 1]);
			goto out;
		}
		if (c == '?' || !ok) {
			trace_err("%s: unknown option '%s' (see vitroctl "
				  "--help)",
				  argv[0], argv[optind - 1]);
			goto out;
		}
		switch (c) {
		case OPT_SYM:
			r = trace_syms_load(&syms, optarg, err, sizeof(err));
			if (r < 0) {
				trace_err("%s: --sym: %s", argv[0], err);
				ret = 1;
				goto out;
			}
			break;
		case OPT_FILTER:
			run.filter = optarg;
			break;
		case OPT_PER_VCPU:
			run.per_vcpu = true;
			break;
		case OPT_BY_TIME:
			run.by_time = true;
			break;
		case OPT_SVG:
			run.svg = true;
			break;
		case OPT_TOP:
		case OPT_BUCKETS:
			if (!parse_uint(optarg, c == OPT_TOP ? &run.top :
							       &run.buckets)) {
				trace_err("%s: --%s: '%s' is not a count",
					  argv[0],
					  c == OPT_TOP ? "top" : "buckets",
					  optarg);
				goto out;
			}
			break;
		case OPT_FORMAT:
			if (trace_export_parse(optarg, &run.format) < 0) {
				trace_err("export: --format: '%s' is not json, "
					  "csv, folded or native",
					  optarg);
				goto out;
			}
			have_format = true;
			break;
		case 'o':
			run.out_path = optarg;
			break;
		}
	}
	if (optind != argc - 1) {
		trace_err("%s: %s (see vitroctl --help)", argv[0],
			  optind >= argc ? "no trace file given" :
					   "give one trace file");
		goto out;
	}
	if (run.op == TRACE_RUN_EXPORT && !have_format) {
		trace_err("export: no --format given (json, csv, folded or "
			  "native)");
		goto out;
	}
	if (run.op == TRACE_RUN_EXPORT && run.format == TRACE_EXPORT_NATIVE &&
	    !run.out_path) {
		trace_err("export: the native format is a trace file: give "
			  "its path with -o OUT");
		goto out;
	}
	run.path = argv[optind];
	run.syms = &syms;
	err[0] = 0;
	r = trace_run(&run, stdout, err, sizeof(err));
	fflush(stdout);
	if (r < 0) {
		trace_err("%s: %s", argv[0], err[0] ? err : strerror(-r));
		ret = 1;
	} else {
		ret = 0;
	}
out:
	trace_syms_free(&syms);
	return ret;
}

int vitroctl_trace(struct vmctx *ctx, int argc, char **argv)
{
	const char *verb = argv[0];

	if (!strcmp(verb, "help") || !strcmp(verb, "--help")) {
		fputs(vitroctl_trace_usage, stdout);
		return 0;
	}
	if (!strcmp(verb, "record"))
		return trace_record(ctx, argc, argv);
	if (!strcmp(verb, "stop"))
		return trace_stop(ctx, argc, argv);
	if (!strcmp(verb, "status"))
		return trace_status(ctx, argc, argv);
	if (!strcmp(verb, "stats"))
		return trace_stats(ctx, argc, argv);
	if (!strcmp(verb, "report") || !strcmp(verb, "plot") ||
	    !strcmp(verb, "export"))
		return trace_file(argc, argv);
	trace_err("unknown verb '%s': record, stop, status, stats, report, "
		  "plot, export or help",
		  verb);
	return 2;
}
