/*
 * introspect/trace_run.h: what `vitroctl trace report|plot|export` and the
 * Tcl `trace report|plot|export` share: symbols for a trace (an ELF's
 * symbols and DWARF, as name+offset and file:line for rips and stacks, and
 * as [start, end) for rip=SYMBOL in filters), and one call that opens a
 * trace file, parses a filter and runs the report, plot or export
 * (trace_report.h).
 *
 * Pure: no Tcl, no VM.  Threads: one caller at a time per trace_syms.
 */
#ifndef INTROSPECT_TRACE_RUN_H
#define INTROSPECT_TRACE_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "introspect/trace_report.h"

struct elfsym;
struct dwinfo;

#define TRACE_SYMS_MAX 32

/* ELF files' symbols and their DWARF (dw[i] NULL: no line numbers). */
struct trace_syms {
	int n;
	struct elfsym *es[TRACE_SYMS_MAX];
	struct dwinfo *dw[TRACE_SYMS_MAX];
	bool own; /* loaded by trace_syms_load: trace_syms_free frees them */
};

/*
 * Add path's symbols (and its DWARF when it has some) to s, which starts
 * zeroed: 0, or -errno with err naming the file and the problem.
 */
int trace_syms_load(struct trace_syms *s, const char *path, char *err,
		    size_t errlen);
void trace_syms_free(struct trace_syms *s);

/* trace_sym_fn over a struct trace_syms: name, offset, "file:line". */
int trace_syms_addr(void *arg, uint64_t addr, char *name, size_t nlen,
		    uint64_t *off, char *line, size_t llen);
/* vm_trace_sym_fn over a struct trace_syms: a function's [start, end). */
int trace_syms_range(void *arg, const char *name, uint64_t *start,
		     uint64_t *end);

enum trace_run_op { TRACE_RUN_REPORT, TRACE_RUN_PLOT, TRACE_RUN_EXPORT };

struct trace_run {
	enum trace_run_op op;
	const char *path; /* the trace file */
	const char *filter; /* a spec (vm_trace.h), or NULL */
	struct trace_syms *syms; /* NULL or n == 0: none */
	/* report */
	unsigned int top;
	bool per_vcpu, by_time;
	/* plot */
	bool svg;
	unsigned int buckets;
	/* export */
	enum trace_export_format format;
	const char *out_path; /* NULL: to out; NATIVE needs one */
	bool bad_spec; /* out: it failed because the filter did not parse */
};

/*
 * Run r, writing to out (or to r->out_path for an export that has one):
 * 0, or -errno with err saying what was wrong: the reader's message for
 * a missing or bad file, the filter term that does not parse.
 */
int trace_run(struct trace_run *r, FILE *out, char *err, size_t errlen);

#endif
