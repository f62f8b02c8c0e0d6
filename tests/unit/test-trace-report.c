/*
 * test-trace-report.c: reports, plots and exports of a trace
 * (introspect/trace_report.h) over a small trace file with known exits:
 * the per-reason table's samples, percentages and times, the histogram,
 * the top rips named by a symbol callback, the breakdowns, a filter, and
 * the exports (JSON checked by Python's json module for the Trace Event
 * fields, CSV, folded stacks, SVG well-formed for Python's XML parser,
 * a native copy read back).  No KVM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect/trace_report.h"
#include "tests/tap.h"

#define T0 1000000000ULL

static char dir[] = "/tmp/test-trace-report-XXXXXX";
static char path[256];

/* vCPU 0: 3 outs to 0x510 of 1, 2 and 3 us; 1 MMIO read of 10 us. */
/* vCPU 1: 2 rdmsr of 0x10 of 4 us, with a stack a -> b. */
static void make_trace(void)
{
	static const struct vm_trace_region regs[] = {
		{ .name = "dbg",
		  .kind = VM_TRACE_REGION_PIO,
		  .base = 0x510,
		  .size = 2 },
	};
	struct vm_trace_meta meta = { .vm = "unit",
				      .ncpus = 2,
				      .isa = "svm",
				      .spec = "stack=2",
				      .kernel = "on",
				      .stack = 2,
				      .t0 = T0,
				      .regions = regs,
				      .nregions = 1 };
	uint64_t st[2] = { 0x2000, 0x3000 };
	char err[200];
	struct vm_trace_writer *w =
		vm_trace_create(path, &meta, err, sizeof(err));
	uint64_t t = T0;

	if (!w)
		tap_bail("%s", err);
	for (int i = 1; i <= 3; i++, t += 10000) {
		struct vm_trace_rec r = { .t_exit = t,
					  .t_entry = t + i * 1000,
					  .rip = 0x1010,
					  .addr = 0x510,
					  .reason = VM_TRACE_KVM_EXIT_IO,
					  .size = 1,
					  .flags = VM_TRACE_F_WRITE,
					  .count = 1,
					  .region = 1 };

		vm_trace_write(w, &r, NULL);
	}
	{
		struct vm_trace_rec r = { .t_exit = t,
					  .t_entry = t + 10000,
					  .rip = 0x1020,
					  .addr = 0xd0000000,
					  .reason = VM_TRACE_KVM_EXIT_MMIO,
					  .size = 4,
					  .count = 1 };

		vm_trace_write(w, &r, NULL);
	}
	for (int i = 0; i < 2; i++, t += 10000) {
		struct vm_trace_rec r = { .t_exit = t,
					  .t_entry = t + 4000,
					  .rip = 0x1030,
					  .addr = 0x10,
					  .reason = VM_TRACE_KVM_EXIT_X86_RDMSR,
					  .vcpu = 1,
					  .nstack = 2,
					  .count = 1 };

		vm_trace_write(w, &r, st);
	}
	vm_trace_write_drops(w, 1, 5, t);
	if (vm_trace_finish(w, t + 1000) < 0)
		tap_bail("cannot finish the trace");
}

/* Symbols: f at 0x1000-0x10ff, a at 0x3000, b at 0x2000. */
static int sym(void *arg, uint64_t addr, char *name, size_t nlen, uint64_t *off,
	       char *line, size_t llen)
{
	(void)arg;
	if (addr >= 0x1000 && addr < 0x1100) {
		snprintf(name, nlen, "f");
		*off = addr - 0x1000;
		snprintf(line, llen, "f.c:%d", (int)(addr - 0x1000));
		return 0;
	}
	if ((addr >= 0x1fff && addr < 0x2100) ||
	    (addr >= 0x2fff && addr < 0x3100)) {
		snprintf(name, nlen, "%s", addr < 0x2100 ? "b" : "a");
		*off = 0;
		line[0] = 0;
		return 0;
	}
	return -ENOENT;
}

/* The output of fn over the trace, in a malloc'd string. */
static char *capture(int (*fn)(FILE *, struct trace_source *, void *),
		     void *arg)
{
	struct vm_trace_file *f;
	struct trace_source src;
	char err[200], *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!(f = vm_trace_open(path, err, sizeof(err))))
		tap_bail("%s", err);
	trace_source_file(&src, f);
	if (fn(out, &src, arg) < 0)
		fprintf(out, "FAILED");
	fclose(out);
	vm_trace_close(f);
	return buf;
}

static int do_report(FILE *out, struct trace_source *src, void *arg)
{
	char err[200];

	return trace_report(out, src, arg, err, sizeof(err));
}

static int do_export(FILE *out, struct trace_source *src, void *arg)
{
	char err[200];

	return trace_export(out, NULL, src, *(enum trace_export_format *)arg,
			    NULL, sym, NULL, err, sizeof(err));
}

static int do_plot(FILE *out, struct trace_source *src, void *arg)
{
	char err[200];

	return trace_plot(out, src, NULL, *(enum trace_plot_format *)arg, 10,
			  err, sizeof(err));
}

/* Run python3 on what is in text: its exit status (0 good). */
static int python(const char *prog, const char *text)
{
	char file[300], cmd[700];
	FILE *f;
	int st;

	snprintf(file, sizeof(file), "%s/in", dir);
	if (!(f = fopen(file, "w")))
		return -1;
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' %s", prog, file);
	st = system(cmd);
	return st;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int main(void)
{
	struct trace_report_opts o = { .sym = sym, .per_vcpu = true };
	enum trace_export_format fmt;
	enum trace_plot_format pf;
	char *s;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/t.trc", dir);
	make_trace();

	s = capture(do_report, &o);
	like(s, "VM unit, 2 vCPUs; 6 exits", "the header: VM, vCPUs, exits");
	like(s, "WARNING: 5 records were dropped", "the drops are said");
	like(s,
	     "\n +io +3 +50\\.00% +25\\.00% +1\\.00us +3\\.00us +2\\.00us "
	     "\\( \\+- +40\\.82% \\)",
	     "io: 3 samples, 50%, 6 of 24 us, min 1, max 3, avg 2 +- 40.82%");
	like(s, "\n +mmio +1 +16\\.67% +41\\.67% +10\\.00us",
	     "mmio: 1 sample, 10 us");
	like(s,
	     "\n +x86_rdmsr +2 +33\\.33% +33\\.33% +4\\.00us +4\\.00us "
	     "+4\\.00us \\( \\+- +0\\.00% \\)",
	     "x86_rdmsr: 2 samples of 4 us");
	like(s, "Total Samples:6, Total events handled time:24\\.00us\\.",
	     "the footer, as perf kvm stat's");
	like(s, "\nvCPU 1\n", "a table per vCPU");
	like(s, "2\\.05us - 4\\.1us +\\| +3 ",
	     "histogram: the 2-4 us bucket holds 3");
	like(s, "\n +3 +50\\.00% +6\\.00us +0x1010  f\\+0x10  f\\.c:16",
	     "top rips: 0x1010 three times, named with its line");
	like(s, "\n +0x510 +3 +0 +3 ", "by port: 0x510, 3 writes");
	like(s, "dbg \\(ports\\) +3 ", "by region: dbg, 3");
	like(s, "\n +0x10 +2 +2 +0 ", "by MSR: 0x10, 2 reads");
	free(s);

	{
		struct vm_trace_filter *f;
		char err[200];

		vm_trace_filter_parse("vcpu=1", NULL, 0, NULL, NULL, &f, NULL,
				      err, sizeof(err));
		o.filter = f;
		s = capture(do_report, &o);
		like(s, "Total Samples:2,", "a filter: vcpu=1 keeps 2");
		ok(!strstr(s, " io "), "and no io row");
		free(s);
		vm_trace_filter_free(f);
		o.filter = NULL;
	}

	trace_export_parse("json", &fmt);
	s = capture(do_export, &fmt);
	is_int(python("import json,sys\n"
		      "d=json.load(open(sys.argv[1]))\n"
		      "ev=d[\"traceEvents\"]\n"
		      "assert all(k in e for e in ev for k in "
		      "(\"name\",\"ph\",\"ts\",\"pid\",\"tid\"))\n"
		      "x=[e for e in ev if e[\"ph\"]==\"X\"]\n"
		      "assert len(x)==6 and all(\"dur\" in e for e in x)\n"
		      "assert x[0][\"dur\"]==1.0 and x[0][\"ts\"]==0.0\n"
		      "m=[e for e in ev if e[\"name\"]==\"thread_name\"]\n"
		      "assert sorted(e[\"tid\"] for e in m)==[0,1]\n"
		      "assert x[-1][\"args\"][\"stack\"]==[\"0x2000\","
		      "\"0x3000\"]\n",
		      s),
	       0,
	       "JSON: Trace Event fields on every event, 6 X events with "
	       "dur, a named track per vCPU, stacks");
	free(s);

	trace_export_parse("csv", &fmt);
	s = capture(do_export, &fmt);
	is_int(lines(s), 7, "CSV: a header and 6 lines");
	like(s, "^t_exit_ns,t_entry_ns,dur_ns,vcpu,source,reason,rip",
	     "CSV header");
	like(s,
	     "\n1000000000,1000001000,1000,0,user,io,0x1010,0,0x510,1,0,"
	     "out,1,dbg,\n",
	     "CSV: the first out, with its region");
	free(s);

	trace_export_parse("folded", &fmt);
	s = capture(do_export, &fmt);
	like(s, "(^|\n)a;b;f;x86_rdmsr 2\n",
	     "folded: root first, the rip's function, the reason last");
	like(s, "(^|\n)f;io 3\n", "folded: a record without a stack");
	free(s);
	is_int(trace_export_parse("xml", &fmt), -EINVAL,
	       "an unknown export format");

	pf = TRACE_PLOT_TEXT;
	s = capture(do_plot, &pf);
	like(s, "\n +io \\|", "text plot: a row for io");
	like(s, "\n +x86_rdmsr \\|", "and for x86_rdmsr");
	free(s);
	pf = TRACE_PLOT_SVG;
	s = capture(do_plot, &pf);
	is_int(python("import xml.dom.minidom,sys\n"
		      "d=xml.dom.minidom.parse(sys.argv[1])\n"
		      "assert d.documentElement.tagName==\"svg\"\n"
		      "assert len(d.getElementsByTagName(\"polyline\"))==3\n",
		      s),
	       0, "SVG: well-formed, a line per reason");
	free(s);

	{
		char out[300], err[200];
		struct vm_trace_file *f = vm_trace_open(path, err, sizeof(err));
		struct vm_trace_filter *flt;
		struct trace_source src;
		const struct vm_trace_rec *r;
		const uint64_t *st;
		int n = 0;

		snprintf(out, sizeof(out), "%s/n.trc", dir);
		trace_source_file(&src, f);
		vm_trace_filter_parse("reason=mmio", NULL, 0, NULL, NULL, &flt,
				      NULL, err, sizeof(err));
		is_int(trace_export(NULL, out, &src, TRACE_EXPORT_NATIVE, flt,
				    NULL, NULL, err, sizeof(err)),
		       0, "native export");
		vm_trace_filter_free(flt);
		vm_trace_close(f);
		f = vm_trace_open(out, err, sizeof(err));
		while (f && vm_trace_next(f, &r, &st) == 1)
			n += r->reason == VM_TRACE_KVM_EXIT_MMIO;
		ok(f && n == 1 && vm_trace_info(f)->complete &&
			   vm_trace_info(f)->dropped == 5 &&
			   !strcmp(vm_trace_info(f)->vm, "unit"),
		   "the copy: the one mmio record, complete, the drops and "
		   "the VM kept");
		vm_trace_close(f);
		unlink(out);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/in", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
