/*
 * trace_report.h: what a VM-exit trace says, for people and for tools.
 * Reports (a perf-kvm-stat-like table per reason, overall and per vCPU;
 * a log2 latency histogram; the top guest rips with symbols and source
 * lines; breakdowns by port, region and MSR), plots of the exit rate over
 * time per reason (terminal or SVG), and exports (Chrome/Perfetto Trace
 * Event JSON, CSV, folded stacks, the native file filtered).
 *
 * Used by vitroctl (trace report/export) and the Tcl `trace` command.
 * Pure: reads a trace through struct trace_source, writes to a FILE.
 * Each function makes its own passes over the source (rewinding it).
 * Threads: one caller at a time per source.
 */
#ifndef TRACE_REPORT_H
#define TRACE_REPORT_H

#include <stdio.h>

#include "libvmmapi/vm_trace.h"

/*
 * Where records come from: a file (trace_source_file) or, for tests and
 * live views, anything with these three functions.  next follows
 * vm_trace_next's contract; rewind returns 0 or -errno.
 */
struct trace_source {
	const struct vm_trace_info *info;
	int (*next)(void *arg, const struct vm_trace_rec **rec,
		    const uint64_t **stack);
	int (*rewind)(void *arg);
	const char *(*error)(void *arg);
	void *arg;
};

void trace_source_file(struct trace_source *src, struct vm_trace_file *f);

/*
 * Symbols for rips and stacks: 0 with the name, the offset and, when
 * known, "file:line" (line may be left empty); -ENOENT when none.
 */
typedef int trace_sym_fn(void *arg, uint64_t addr, char *name, size_t nlen,
			 uint64_t *off, char *line, size_t llen);

struct trace_report_opts {
	const struct vm_trace_filter *filter; /* NULL: every record */
	trace_sym_fn *sym; /* NULL: rips as numbers */
	void *sym_arg;
	unsigned int top; /* top rips shown (default 10 when 0) */
	bool per_vcpu; /* a table per vCPU after the overall one */
	bool by_time; /* sort reasons by time, not samples */
};

/*
 * The report, as text: the table per reason ("Samples Samples% Time%
 * Min Max Avg +- stddev%"), per vCPU if asked, the histogram, the top
 * rips, and the port, region and MSR breakdowns; drops and an incomplete
 * file are said at the top.  0, or -errno with err written.
 */
int trace_report(FILE *out, struct trace_source *src,
		 const struct trace_report_opts *o, char *err, size_t errlen);

enum trace_plot_format { TRACE_PLOT_TEXT, TRACE_PLOT_SVG };

/*
 * The exit rate over time, per reason (the busiest few, the rest as
 * "other"), in `buckets` intervals (default 60 when 0) over the trace.
 */
int trace_plot(FILE *out, struct trace_source *src,
	       const struct vm_trace_filter *filter, enum trace_plot_format fmt,
	       unsigned int buckets, char *err, size_t errlen);

enum trace_export_format {
	TRACE_EXPORT_JSON, /* Chrome/Perfetto Trace Event, a track per vCPU */
	TRACE_EXPORT_CSV, /* a header line, then a line per record */
	TRACE_EXPORT_FOLDED, /* "frame;frame;frame count" for flamegraphs */
	TRACE_EXPORT_NATIVE, /* the trace file format, filtered */
};

/* Parse "json", "csv", "folded", "native": 0 or -EINVAL. */
int trace_export_parse(const char *name, enum trace_export_format *fmt);

/*
 * Export.  NATIVE needs a path (a trace file is written with
 * vm_trace_create); the others write to out.  sym, when given, names
 * frames and rips.
 */
int trace_export(FILE *out, const char *path, struct trace_source *src,
		 enum trace_export_format fmt,
		 const struct vm_trace_filter *filter, trace_sym_fn *sym,
		 void *sym_arg, char *err, size_t errlen);

#endif
