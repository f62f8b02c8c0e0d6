/*
 * introspect/trace_run.c: symbols for traces and the one call behind the
 * trace report, plot and export commands of vitroctl and the console
 * (trace_run.h).
 *
 * Threads: one caller at a time per trace_syms; trace_run keeps nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "introspect/dwarf.h"
#include "introspect/elfsym.h"
#include "introspect/trace_run.h"

int trace_syms_load(struct trace_syms *s, const char *path, char *err,
		    size_t errlen)
{
	struct elfsym *es;
	char dwerr[256];

	if (s->n == TRACE_SYMS_MAX) {
		snprintf(err, errlen, "%s: at most %d symbol files", path,
			 TRACE_SYMS_MAX);
		return -ENOSPC;
	}
	es = elfsym_load(path, err, errlen);
	if (!es)
		return errno ? -errno : -EIO;
	s->own = true;
	s->es[s->n] = es;
	/* Without DWARF the report still names functions, without lines. */
	s->dw[s->n] = elfsym_has_dwarf(es) ?
			      dwinfo_load(path, dwerr, sizeof(dwerr)) :
			      NULL;
	s->n++;
	return 0;
}

void trace_syms_free(struct trace_syms *s)
{
	if (!s || !s->own)
		return;
	for (int i = 0; i < s->n; i++) {
		elfsym_free(s->es[i]);
		dwinfo_free(s->dw[i]);
	}
	s->n = 0;
}

int trace_syms_addr(void *arg, uint64_t addr, char *name, size_t nlen,
		    uint64_t *off, char *line, size_t llen)
{
	const struct trace_syms *s = arg;
	const struct elfsym_sym *best = NULL;
	const char *file;
	unsigned int ln;
	int at = -1;

	for (int i = 0; i < s->n; i++) {
		const struct elfsym_sym *e = elfsym_by_addr(s->es[i], addr);

		if (e && (!best || e->addr > best->addr)) {
			best = e;
			at = i;
		}
	}
	if (!best)
		return -ENOENT;
	snprintf(name, nlen, "%s", best->name);
	*off = addr - best->addr;
	if (llen)
		line[0] = 0;
	if (llen && s->dw[at] &&
	    dwinfo_line(s->dw[at], addr - elfsym_slide(s->es[at]), &file,
			&ln) == 0)
		snprintf(line, llen, "%s:%u", file, ln);
	return 0;
}

int trace_syms_range(void *arg, const char *name, uint64_t *start,
		     uint64_t *end)
{
	const struct trace_syms *s = arg;

	for (int i = 0; i < s->n; i++) {
		const struct elfsym_sym *e = elfsym_by_name(s->es[i], name);

		if (e && !e->abs) {
			*start = e->addr;
			*end = e->end > e->addr ? e->end : e->addr + 1;
			return 0;
		}
	}
	return -ENOENT;
}

static int run_open(const struct trace_run *r, FILE *out, FILE **to, char *err,
		    size_t errlen)
{
	*to = out;
	if (r->op != TRACE_RUN_EXPORT || !r->out_path ||
	    r->format == TRACE_EXPORT_NATIVE)
		return 0;
	*to = fopen(r->out_path, "w");
	if (!*to) {
		int e = errno;

		snprintf(err, errlen, "cannot write %s: %s", r->out_path,
			 strerror(e));
		return -e;
	}
	return 0;
}

int trace_run(struct trace_run *r, FILE *out, char *err, size_t errlen)
{
	struct trace_syms *syms = r->syms && r->syms->n ? r->syms : NULL;
	struct vm_trace_filter *filter = NULL;
	const struct vm_trace_info *info;
	struct trace_source src;
	struct vm_trace_file *f;
	FILE *to = out;
	int ret;

	if (r->op == TRACE_RUN_EXPORT && r->format == TRACE_EXPORT_NATIVE &&
	    !r->out_path) {
		snprintf(err, errlen,
			 "the native format is a trace file: give it a path "
			 "to write (-o)");
		return -EINVAL;
	}
	r->bad_spec = false;
	errno = 0;
	f = vm_trace_open(r->path, err, errlen);
	if (!f)
		return errno ? -errno : -EINVAL;
	info = vm_trace_info(f);
	ret = vm_trace_filter_parse(r->filter, info->regions, info->nregions,
				    syms ? trace_syms_range : NULL, syms,
				    &filter, NULL, err, errlen);
	r->bad_spec = ret < 0;
	if (ret == 0)
		ret = run_open(r, out, &to, err, errlen);
	if (ret < 0)
		goto out;
	trace_source_file(&src, f);
	switch (r->op) {
	case TRACE_RUN_REPORT: {
		struct trace_report_opts o = {
			.filter = filter,
			.sym = syms ? trace_syms_addr : NULL,
			.sym_arg = syms,
			.top = r->top,
			.per_vcpu = r->per_vcpu,
			.by_time = r->by_time,
		};

		ret = trace_report(to, &src, &o, err, errlen);
		break;
	}
	case TRACE_RUN_PLOT:
		ret = trace_plot(to, &src, filter,
				 r->svg ? TRACE_PLOT_SVG : TRACE_PLOT_TEXT,
				 r->buckets, err, errlen);
		break;
	case TRACE_RUN_EXPORT:
		ret = trace_export(to, r->out_path, &src, r->format, filter,
				   syms ? trace_syms_addr : NULL, syms, err,
				   errlen);
		break;
	}
	if (to != out && fclose(to) != 0 && ret == 0) {
		ret = -errno;
		snprintf(err, errlen, "writing %s: %s", r->out_path,
			 strerror(errno));
	}
out:
	vm_trace_filter_free(filter);
	vm_trace_close(f);
	return ret;
}
