/*
 * trace_report.c: reports, plots and exports of VM-exit traces (see
 * trace_report.h).  Pure: records come from a struct trace_source, text
 * goes to a FILE.  Each entry point makes its own passes (rewinding the
 * source first) and keeps its tallies on the heap, freed before it
 * returns.  No state between calls; one caller at a time per source.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/trace_report.h"

#define NAME_LEN 48
#define HIST_BUCKETS 64
#define PLOT_SERIES 5 /* reasons plotted by name; the rest are "other" */

/* A growing array of tallies, found by key with a hash. */
struct tally {
	uint64_t key; /* what is tallied: a reason, rip, port... */
	uint64_t key2; /* more of it (source and flags, direction) */
	uint64_t n;
	uint64_t ns, min, max;
	double sq; /* sum of squared durations, for the stddev */
	uint64_t reads, writes;
};

struct tallies {
	struct tally *v;
	size_t n, cap;
	uint32_t *hash; /* index+1, open addressing; hcap slots */
	size_t hcap;
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

static int tallies_rehash(struct tallies *t, size_t hcap)
{
	uint32_t *h = calloc(hcap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t s = mix(t->v[i].key, t->v[i].key2) & (hcap - 1);

		while (h[s])
			s = (s + 1) & (hcap - 1);
		h[s] = i + 1;
	}
	free(t->hash);
	t->hash = h;
	t->hcap = hcap;
	return 0;
}

/* The tally of (key, key2), made if new; NULL when out of memory. */
static struct tally *tally_get(struct tallies *t, uint64_t key, uint64_t key2)
{
	size_t s;

	if ((t->n + 1) * 2 > t->hcap &&
	    tallies_rehash(t, t->hcap ? t->hcap * 2 : 64) < 0)
		return NULL;
	for (s = mix(key, key2) & (t->hcap - 1); t->hash[s];
	     s = (s + 1) & (t->hcap - 1)) {
		struct tally *e = &t->v[t->hash[s] - 1];

		if (e->key == key && e->key2 == key2)
			return e;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct tally *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].key = key;
	t->v[t->n].key2 = key2;
	t->v[t->n].min = UINT64_MAX;
	t->hash[s] = ++t->n;
	return &t->v[t->n - 1];
}

static void tallies_free(struct tallies *t)
{
	free(t->v);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

static void tally_add(struct tally *e, uint64_t ns, bool write)
{
	e->n++;
	e->ns += ns;
	e->sq += (double)ns * (double)ns;
	if (ns < e->min)
		e->min = ns;
	if (ns > e->max)
		e->max = ns;
	if (write)
		e->writes++;
	else
		e->reads++;
}

static uint64_t dur_ns(const struct vm_trace_rec *r)
{
	return r->t_entry > r->t_exit ? r->t_entry - r->t_exit : 0;
}

/* The key of a record's reason: source, ISA flag, reason. */
static uint64_t reason_key2(const struct vm_trace_rec *r)
{
	return (uint64_t)r->source << 8 |
	       (r->flags & (VM_TRACE_F_VMX | VM_TRACE_F_SVM));
}

static const char *reason_of(uint64_t key, uint64_t key2, char *buf, size_t len)
{
	return vm_trace_reason_name(key2 >> 8, key2 & 0xff, key, buf, len);
}

static int err_set(char *err, size_t len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int err_set(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* File sources. */

static int file_next(void *arg, const struct vm_trace_rec **rec,
		     const uint64_t **stack)
{
	return vm_trace_next(arg, rec, stack);
}

static int file_rewind(void *arg)
{
	return vm_trace_rewind(arg);
}

static const char *file_error(void *arg)
{
	return vm_trace_error(arg);
}

void trace_source_file(struct trace_source *src, struct vm_trace_file *f)
{
	src->info = vm_trace_info(f);
	src->next = file_next;
	src->rewind = file_rewind;
	src->error = file_error;
	src->arg = f;
}

/*
 * One pass over the records the filter keeps: fn for each; 0, or the
 * source's or fn's error with err written.
 */
typedef int rec_fn(void *arg, const struct vm_trace_rec *rec,
		   const uint64_t *stack);

static int each_record(struct trace_source *src,
		       const struct vm_trace_filter *filter, rec_fn *fn,
		       void *arg, char *err, size_t errlen)
{
	const struct vm_trace_rec *rec;
	const uint64_t *stack;
	int r;

	if ((r = src->rewind(src->arg)) < 0)
		return err_set(err, errlen, r, "cannot rewind the trace: %s",
			       src->error ? src->error(src->arg) : "");
	while ((r = src->next(src->arg, &rec, &stack)) == 1) {
		if (filter && !vm_trace_filter_match(filter, rec))
			continue;
		if ((r = fn(arg, rec, stack)) < 0)
			return err_set(err, errlen, r, "out of memory");
	}
	if (r < 0)
		return err_set(err, errlen, r, "%s",
			       src->error ? src->error(src->arg) :
					    "cannot read the trace");
	return 0;
}

/* The report. */

struct report {
	const struct trace_report_opts *o;
	const struct vm_trace_info *info;
	struct tallies reasons[2]; /* by source */
	struct tallies *cpu_reasons; /* [vcpu], per_vcpu only */
	unsigned int ncpu;
	struct tallies rips, ports, regions, msrs;
	uint64_t hist[HIST_BUCKETS];
	uint64_t n, first, last;
};

static unsigned int log2_bucket(uint64_t ns)
{
	unsigned int b = 0;

	while (ns > 1) {
		ns >>= 1;
		b++;
	}
	return b;
}

static int report_rec(void *arg, const struct vm_trace_rec *r,
		      const uint64_t *stack)
{
	struct report *rp = arg;
	uint64_t ns = dur_ns(r);
	bool wr = r->flags & VM_TRACE_F_WRITE;
	struct tally *e;
	unsigned int src = r->source == VM_TRACE_KERNEL;

	(void)stack;
	if (!rp->n || r->t_exit < rp->first)
		rp->first = r->t_exit;
	if (r->t_entry > rp->last)
		rp->last = r->t_entry;
	rp->n++;
	if (!(e = tally_get(&rp->reasons[src], r->reason, reason_key2(r))))
		return -ENOMEM;
	tally_add(e, ns, wr);
	if (rp->o->per_vcpu && r->vcpu < rp->ncpu) {
		e = tally_get(&rp->cpu_reasons[r->vcpu], r->reason,
			      reason_key2(r));
		if (!e)
			return -ENOMEM;
		tally_add(e, ns, wr);
	}
	rp->hist[log2_bucket(ns)]++;
	if (!(e = tally_get(&rp->rips, r->rip, 0)))
		return -ENOMEM;
	tally_add(e, ns, wr);
	if (r->source != VM_TRACE_USER)
		return 0;
	if (r->reason == VM_TRACE_KVM_EXIT_IO) {
		if (!(e = tally_get(&rp->ports, r->addr, 0)))
			return -ENOMEM;
		tally_add(e, ns, wr);
	} else if (r->reason == VM_TRACE_KVM_EXIT_X86_RDMSR ||
		   r->reason == VM_TRACE_KVM_EXIT_X86_WRMSR) {
		if (!(e = tally_get(&rp->msrs, r->addr, 0)))
			return -ENOMEM;
		tally_add(e, ns, wr);
	}
	if (r->region) {
		if (!(e = tally_get(&rp->regions, r->region, 0)))
			return -ENOMEM;
		tally_add(e, ns, wr);
	}
	return 0;
}

static int by_samples(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->key2 < y->key2 ? -1 : x->key2 > y->key2;
}

static int by_time(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return by_samples(a, b);
}

static int by_key(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* perf kvm stat's table: one row per reason, then the totals. */
static void print_table(FILE *out, struct tallies *t, bool time_order,
			const char *what)
{
	uint64_t n = 0, ns = 0;

	if (!t->n)
		return;
	qsort(t->v, t->n, sizeof(t->v[0]), time_order ? by_time : by_samples);
	for (size_t i = 0; i < t->n; i++) {
		n += t->v[i].n;
		ns += t->v[i].ns;
	}
	fprintf(out, "\n%s\n", what);
	fprintf(out, "%24s %10s %9s %8s %12s %12s %12s\n", "Event name",
		"Samples", "Samples%", "Time%", "Min Time", "Max Time",
		"Avg time");
	for (size_t i = 0; i < t->n; i++) {
		const struct tally *e = &t->v[i];
		double avg = (double)e->ns / e->n;
		double var = e->sq / e->n - avg * avg;
		double rel = avg > 0 && var > 0 ? sqrt(var) / avg * 100 : 0;
		char name[NAME_LEN];

		fprintf(out,
			"%24s %10" PRIu64 " %8.2f%% %7.2f%% %10.2fus "
			"%10.2fus %9.2fus ( +-%7.2f%% )\n",
			reason_of(e->key, e->key2, name, sizeof(name)), e->n,
			100.0 * e->n / n, ns ? 100.0 * e->ns / ns : 0,
			e->min / 1e3, e->max / 1e3, avg / 1e3, rel);
	}
	fprintf(out,
		"\nTotal Samples:%" PRIu64 ", Total events handled "
		"time:%.2fus.\n",
		n, ns / 1e3);
}

/* A duration for people: 512ns, 1.02us, 4.19ms, 1.07s. */
static void fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3gus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3gms", ns / 1e6);
	else
		snprintf(buf, len, "%.3gs", ns / 1e9);
}

static void print_histogram(FILE *out, const uint64_t *hist, uint64_t n)
{
	unsigned int lo = HIST_BUCKETS, hi = 0;
	uint64_t most = 0;

	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		lo = b < lo ? b : lo;
		hi = b;
		most = hist[b] > most ? hist[b] : most;
	}
	if (lo == HIST_BUCKETS)
		return;
	fprintf(out, "\nLatency (log2 buckets of the time to go back to the "
		     "guest)\n");
	for (unsigned int b = lo; b <= hi; b++) {
		char from[16], to[16];
		int bar = (int)(hist[b] * 40 / most);

		fmt_dur(from, sizeof(from), b ? 1ULL << b : 0);
		fmt_dur(to, sizeof(to), 2ULL << b);
		fprintf(out, "  %8s - %-8s | %10" PRIu64 " %6.2f%% |%.*s\n",
			from, to, hist[b], 100.0 * hist[b] / n, bar,
			"########################################");
	}
}

static void print_rip(FILE *out, const struct trace_report_opts *o,
		      uint64_t rip)
{
	char name[128], line[160] = "";
	uint64_t off = 0;

	fprintf(out, "%#18" PRIx64, rip);
	if (o->sym && o->sym(o->sym_arg, rip, name, sizeof(name), &off, line,
			     sizeof(line)) == 0) {
		fprintf(out, "  %s+%#" PRIx64, name, off);
		if (line[0])
			fprintf(out, "  %s", line);
	}
	fputc('\n', out);
}

static void print_rips(FILE *out, struct report *rp)
{
	unsigned int top = rp->o->top ? rp->o->top : 10;

	if (!rp->rips.n)
		return;
	qsort(rp->rips.v, rp->rips.n, sizeof(rp->rips.v[0]), by_samples);
	fprintf(out, "\nTop guest rips\n%10s %8s %12s %18s\n", "Samples",
		"Samples%", "Time", "rip");
	for (size_t i = 0; i < rp->rips.n && i < top; i++) {
		const struct tally *e = &rp->rips.v[i];

		fprintf(out, "%10" PRIu64 " %7.2f%% %10.2fus ", e->n,
			100.0 * e->n / rp->n, e->ns / 1e3);
		print_rip(out, rp->o, e->key);
	}
}

static void print_breakdown(FILE *out, struct tallies *t, const char *title,
			    const char *col,
			    int (*label)(char *, size_t, const struct report *,
					 uint64_t),
			    const struct report *rp)
{
	if (!t->n)
		return;
	qsort(t->v, t->n, sizeof(t->v[0]), by_key);
	fprintf(out, "\n%s\n%24s %10s %10s %10s %12s %12s\n", title, col,
		"Samples", "Reads", "Writes", "Time", "Avg time");
	for (size_t i = 0; i < t->n; i++) {
		const struct tally *e = &t->v[i];
		char name[NAME_LEN + 24];

		label(name, sizeof(name), rp, e->key);
		fprintf(out,
			"%24s %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			" %10.2fus %10.2fus\n",
			name, e->n, e->reads, e->writes, e->ns / 1e3,
			e->ns / 1e3 / e->n);
	}
}

static int label_hex(char *buf, size_t len, const struct report *rp,
		     uint64_t key)
{
	(void)rp;
	return snprintf(buf, len, "%#" PRIx64, key);
}

static int label_region(char *buf, size_t len, const struct report *rp,
			uint64_t key)
{
	const struct vm_trace_info *in = rp->info;

	if (key == 0 || key > in->nregions)
		return snprintf(buf, len, "region %" PRIu64, key);
	return snprintf(buf, len, "%s (%s)", in->regions[key - 1].name,
			in->regions[key - 1].kind == VM_TRACE_REGION_PIO ?
				"ports" :
				"mmio");
}

static void print_header(FILE *out, const struct report *rp)
{
	const struct vm_trace_info *in = rp->info;

	fprintf(out, "VM %s, %u vCPUs; %" PRIu64 " exits over %.3f s",
		in->vm[0] ? in->vm : "?", in->ncpus, rp->n,
		rp->n ? (rp->last - rp->first) / 1e9 : 0.0);
	if (in->spec[0])
		fprintf(out, "; recorded with '%s'", in->spec);
	fputc('\n', out);
	fprintf(out, "In-kernel exits: %s\n", in->kernel[0] ? in->kernel : "?");
	if (in->dropped)
		fprintf(out,
			"WARNING: %" PRIu64 " records were dropped (rings "
			"overflowed): counts and times below miss them\n",
			in->dropped);
	if (!in->complete)
		fprintf(out, "WARNING: the file is incomplete (no end record: "
			     "the recording did not stop cleanly)\n");
	if (rp->o->filter)
		fprintf(out, "Filtered: only the records the filter keeps\n");
}

int trace_report(FILE *out, struct trace_source *src,
		 const struct trace_report_opts *o, char *err, size_t errlen)
{
	struct report rp = { .o = o, .info = src->info };
	int r;

	rp.ncpu = src->info->ncpus ? src->info->ncpus : 1;
	if (o->per_vcpu &&
	    !(rp.cpu_reasons = calloc(rp.ncpu, sizeof(*rp.cpu_reasons))))
		return err_set(err, errlen, -ENOMEM, "out of memory");
	r = each_record(src, o->filter, report_rec, &rp, err, errlen);
	if (r == 0) {
		print_header(out, &rp);
		print_table(out, &rp.reasons[0], o->by_time,
			    "Exits to user space (all vCPUs)");
		print_table(out, &rp.reasons[1], o->by_time,
			    "Exits handled in the host kernel (all vCPUs)");
		for (unsigned int c = 0; o->per_vcpu && c < rp.ncpu; c++) {
			char what[64];

			snprintf(what, sizeof(what), "vCPU %u", c);
			print_table(out, &rp.cpu_reasons[c], o->by_time, what);
		}
		if (rp.n)
			print_histogram(out, rp.hist, rp.n);
		print_rips(out, &rp);
		print_breakdown(out, &rp.ports, "Port I/O by port", "Port",
				label_hex, &rp);
		print_breakdown(out, &rp.regions, "By region", "Region",
				label_region, &rp);
		print_breakdown(out, &rp.msrs, "MSR accesses by MSR", "MSR",
				label_hex, &rp);
		if (!rp.n)
			fprintf(out, "\nNo exits%s.\n",
				o->filter ? " match the filter" : "");
		if (ferror(out))
			r = err_set(err, errlen, -EIO,
				    "cannot write the "
				    "report");
	}
	tallies_free(&rp.reasons[0]);
	tallies_free(&rp.reasons[1]);
	for (unsigned int c = 0; rp.cpu_reasons && c < rp.ncpu; c++)
		tallies_free(&rp.cpu_reasons[c]);
	free(rp.cpu_reasons);
	tallies_free(&rp.rips);
	tallies_free(&rp.ports);
	tallies_free(&rp.regions);
	tallies_free(&rp.msrs);
	return r;
}

/* Plots. */

struct plot {
	uint64_t first, last;
	unsigned int buckets;
	struct tallies reasons; /* pass 1: counts per reason */
	uint64_t keys[PLOT_SERIES][2]; /* the series' reasons */
	unsigned int nseries; /* named ones; one more for "other" */
	uint64_t *count; /* [(PLOT_SERIES + 1) * buckets] */
};

static int plot_span(void *arg, const struct vm_trace_rec *r,
		     const uint64_t *stack)
{
	struct plot *p = arg;
	struct tally *e = tally_get(&p->reasons, r->reason, reason_key2(r));

	(void)stack;
	if (!e)
		return -ENOMEM;
	e->n++;
	if (!p->first || r->t_exit < p->first)
		p->first = r->t_exit;
	if (r->t_exit > p->last)
		p->last = r->t_exit;
	return 0;
}

static int plot_count(void *arg, const struct vm_trace_rec *r,
		      const uint64_t *stack)
{
	struct plot *p = arg;
	uint64_t span = p->last - p->first + 1;
	unsigned int b = (unsigned int)((r->t_exit - p->first) *
					(unsigned __int128)p->buckets / span);
	unsigned int s = p->nseries;

	(void)stack;
	for (unsigned int i = 0; i < p->nseries; i++) {
		if (p->keys[i][0] == r->reason &&
		    p->keys[i][1] == reason_key2(r)) {
			s = i;
			break;
		}
	}
	p->count[s * p->buckets + (b < p->buckets ? b : p->buckets - 1)]++;
	return 0;
}

static void plot_text(FILE *out, const struct plot *p, bool other)
{
	static const char shade[] = " .:-=+*#%@";
	double width = (p->last - p->first + 1) / 1e9 / p->buckets;

	fprintf(out,
		"Exit rate over time: %u columns of %.3g s each; in each "
		"row ' ' is none and '@' its busiest column\n",
		p->buckets, width);
	for (unsigned int s = 0; s < p->nseries + other; s++) {
		const uint64_t *c = &p->count[s * p->buckets];
		uint64_t most = 0;
		char buf[NAME_LEN];
		const char *name =
			s < p->nseries ? reason_of(p->keys[s][0], p->keys[s][1],
						   buf, sizeof(buf)) :
					 "other";

		for (unsigned int b = 0; b < p->buckets; b++)
			most = c[b] > most ? c[b] : most;
		fprintf(out, "%16s |", name);
		for (unsigned int b = 0; b < p->buckets; b++)
			fputc(c[b] ? shade[1 + c[b] * 8 / (most ? most : 1)] :
				     ' ',
			      out);
		fprintf(out, "| max %.0f/s\n", most / width);
	}
}

static void plot_svg(FILE *out, const struct plot *p, bool other)
{
	static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c",
					      "#ff7f0e", "#9467bd", "#7f7f7f" };
	const int w = 800, h = 400, x0 = 70, y0 = 30, pw = 560, ph = 320;
	double width = (p->last - p->first + 1) / 1e9 / p->buckets;
	uint64_t most = 1;

	for (unsigned int i = 0; i < (p->nseries + other) * p->buckets; i++)
		most = p->count[i] > most ? p->count[i] : most;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<title>VM exit rate over time</title>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"18\" font-size=\"14\">VM exits per "
		"second, by reason</text>\n",
		w, h, w, h, x0);
	fprintf(out,
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		"stroke=\"black\"/>\n"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		"stroke=\"black\"/>\n",
		x0, y0 + ph, x0 + pw, y0 + ph, x0, y0, x0, y0 + ph);
	fprintf(out,
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f/s</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n"
		"<text x=\"%d\" y=\"%d\">0 s</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3f s</text>\n",
		x0 - 4, y0 + 10, most / width, x0 - 4, y0 + ph, x0,
		y0 + ph + 16, x0 + pw, y0 + ph + 16,
		(p->last - p->first) / 1e9);
	for (unsigned int s = 0; s < p->nseries + other; s++) {
		const uint64_t *c = &p->count[s * p->buckets];
		char buf[NAME_LEN];
		const char *name =
			s < p->nseries ? reason_of(p->keys[s][0], p->keys[s][1],
						   buf, sizeof(buf)) :
					 "other";

		fprintf(out,
			"<polyline fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"1.5\" points=\"",
			colors[s]);
		for (unsigned int b = 0; b < p->buckets; b++)
			fprintf(out, "%s%.1f,%.1f", b ? " " : "",
				x0 + (b + 0.5) * pw / p->buckets,
				y0 + ph - (double)c[b] * ph / most);
		fprintf(out,
			"\"/>\n<rect x=\"%d\" y=\"%d\" width=\"12\" "
			"height=\"12\" fill=\"%s\"/>\n"
			"<text x=\"%d\" y=\"%d\">",
			x0 + pw + 20, y0 + 20 * s, colors[s], x0 + pw + 38,
			y0 + 20 * s + 10);
		for (const char *q = name; *q; q++) {
			if (*q == '<' || *q == '>' || *q == '&')
				fprintf(out, "&#%d;", *q);
			else
				fputc(*q, out);
		}
		fprintf(out, "</text>\n");
	}
	fprintf(out, "</svg>\n");
}

int trace_plot(FILE *out, struct trace_source *src,
	       const struct vm_trace_filter *filter, enum trace_plot_format fmt,
	       unsigned int buckets, char *err, size_t errlen)
{
	struct plot p = { .buckets = buckets ? buckets : 60 };
	bool other = false;
	int r;

	if (p.buckets > 10000)
		return err_set(err, errlen, -EINVAL,
			       "%u buckets: at most 10000", buckets);
	if ((r = each_record(src, filter, plot_span, &p, err, errlen)) < 0)
		goto out;
	if (!p.reasons.n) {
		fprintf(out, "No exits%s to plot.\n",
			filter ? " match the filter" : "");
		goto out;
	}
	qsort(p.reasons.v, p.reasons.n, sizeof(p.reasons.v[0]), by_samples);
	p.nseries = p.reasons.n < PLOT_SERIES ? p.reasons.n : PLOT_SERIES;
	other = p.reasons.n > PLOT_SERIES;
	for (unsigned int i = 0; i < p.nseries; i++) {
		p.keys[i][0] = p.reasons.v[i].key;
		p.keys[i][1] = p.reasons.v[i].key2;
	}
	if (!(p.count = calloc((PLOT_SERIES + 1) * (size_t)p.buckets,
			       sizeof(*p.count)))) {
		r = err_set(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = each_record(src, filter, plot_count, &p, err, errlen)) < 0)
		goto out;
	if (fmt == TRACE_PLOT_SVG)
		plot_svg(out, &p, other);
	else
		plot_text(out, &p, other);
out:
	tallies_free(&p.reasons);
	free(p.count);
	return r;
}

/* Exports. */

int trace_export_parse(const char *name, enum trace_export_format *fmt)
{
	static const char *const names[] = {
		[TRACE_EXPORT_JSON] = "json",
		[TRACE_EXPORT_CSV] = "csv",
		[TRACE_EXPORT_FOLDED] = "folded",
		[TRACE_EXPORT_NATIVE] = "native",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*fmt = i;
			return 0;
		}
	}
	return -EINVAL;
}

struct export
{
	FILE *out;
	const struct vm_trace_info *info;
	trace_sym_fn *sym;
	void *sym_arg;
	uint64_t n;
	struct vm_trace_writer *w;
	struct tallies tids; /* JSON: tracks named so far */
	/* FOLDED: stacks, as strings, counted. */
	char **stacks;
	uint64_t *counts;
	size_t nstacks, cap;
	struct tallies index; /* hash of a stack string -> index */
};

static const char *dir_of(const struct vm_trace_rec *r)
{
	bool wr = r->flags & VM_TRACE_F_WRITE;

	if (r->source != VM_TRACE_USER)
		return "";
	switch (r->reason) {
	case VM_TRACE_KVM_EXIT_IO:
		return wr ? "out" : "in";
	case VM_TRACE_KVM_EXIT_MMIO:
	case VM_TRACE_KVM_EXIT_X86_RDMSR:
	case VM_TRACE_KVM_EXIT_X86_WRMSR:
		return wr ? "write" : "read";
	}
	return "";
}

static const char *region_name(const struct vm_trace_info *in, uint32_t i)
{
	return i && i <= in->nregions ? in->regions[i - 1].name : "";
}

/* A JSON string, escaped. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static unsigned int json_tid(const struct vm_trace_rec *r)
{
	return r->source == VM_TRACE_KERNEL ? 1000u + r->vcpu : r->vcpu;
}

static int json_track(struct export *x, const struct vm_trace_rec *r)
{
	unsigned int tid = json_tid(r);
	struct tally *e = tally_get(&x->tids, tid, 0);
	char name[64];

	if (!e)
		return -ENOMEM;
	if (e->n++)
		return 0;
	snprintf(name, sizeof(name), "vCPU %u%s", r->vcpu,
		 r->source == VM_TRACE_KERNEL ? " (in kernel)" : "");
	fprintf(x->out,
		",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"ts\":0,"
		"\"pid\":1,\"tid\":%u,\"args\":{\"name\":",
		tid);
	json_str(x->out, name);
	fprintf(x->out,
		"}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\","
		"\"ts\":0,\"pid\":1,\"tid\":%u,\"args\":{\"sort_index\":%u}}",
		tid, tid);
	return 0;
}

static int json_rec(void *arg, const struct vm_trace_rec *r,
		    const uint64_t *stack)
{
	struct export *x = arg;
	uint64_t t0 = x->info->t0;
	char name[NAME_LEN];
	int e;

	if ((e = json_track(x, r)) < 0)
		return e;
	fprintf(x->out, ",\n{\"name\":");
	json_str(x->out, vm_trace_reason_name(r->source, r->flags, r->reason,
					      name, sizeof(name)));
	fprintf(x->out,
		",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
		"\"pid\":1,\"tid\":%u,\"args\":{\"rip\":\"%#" PRIx64 "\"",
		r->source == VM_TRACE_KERNEL ? "kernel" : "user",
		r->t_exit >= t0 ? (r->t_exit - t0) / 1e3 :
				  -((double)(t0 - r->t_exit) / 1e3),
		dur_ns(r) / 1e3, json_tid(r), r->rip);
	if (r->cpl != VM_TRACE_CPL_UNKNOWN)
		fprintf(x->out, ",\"cpl\":%u", r->cpl);
	if (r->source == VM_TRACE_KERNEL) {
		fprintf(x->out,
			",\"info1\":\"%#" PRIx64 "\",\"info2\":\"%#" PRIx64
			"\"",
			r->addr, r->data);
	} else if (dir_of(r)[0]) {
		const char *key = r->reason == VM_TRACE_KVM_EXIT_IO   ? "port" :
				  r->reason == VM_TRACE_KVM_EXIT_MMIO ? "gpa" :
									"msr";

		fprintf(x->out,
			",\"%s\":\"%#" PRIx64 "\",\"dir\":\"%s\","
			"\"data\":\"%#" PRIx64 "\"",
			key, r->addr, dir_of(r), r->data);
		if (r->size)
			fprintf(x->out, ",\"size\":%u", r->size);
		if (r->count > 1)
			fprintf(x->out, ",\"count\":%u", r->count);
	}
	if (r->region) {
		fprintf(x->out, ",\"region\":");
		json_str(x->out, region_name(x->info, r->region));
	}
	if (r->nstack) {
		fprintf(x->out, ",\"stack\":[");
		for (unsigned int i = 0; i < r->nstack; i++)
			fprintf(x->out, "%s\"%#" PRIx64 "\"", i ? "," : "",
				stack[i]);
		fprintf(x->out, "]%s",
			r->flags & VM_TRACE_F_STACK_TRUNC ?
				",\"stack_truncated\":true" :
				"");
	}
	fprintf(x->out, "}}");
	x->n++;
	return 0;
}

static int export_json(struct export *x, struct trace_source *src,
		       const struct vm_trace_filter *filter, char *err,
		       size_t errlen)
{
	const struct vm_trace_info *in = x->info;
	int r;

	fprintf(x->out, "{\"displayTimeUnit\":\"ns\",\"metadata\":{\"vm\":");
	json_str(x->out, in->vm);
	fprintf(x->out, ",\"ncpus\":%u,\"spec\":", in->ncpus);
	json_str(x->out, in->spec);
	fprintf(x->out, ",\"kernel\":");
	json_str(x->out, in->kernel);
	fprintf(x->out,
		",\"dropped\":%" PRIu64 ",\"complete\":%s},\n"
		"\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\","
		"\"ts\":0,\"pid\":1,\"tid\":0,\"args\":{\"name\":",
		in->dropped, in->complete ? "true" : "false");
	{
		char name[96];

		snprintf(name, sizeof(name), "vitro VM %s", in->vm);
		json_str(x->out, name);
	}
	fprintf(x->out, "}}");
	r = each_record(src, filter, json_rec, x, err, errlen);
	fprintf(x->out, "\n]}\n");
	tallies_free(&x->tids);
	return r;
}

static int csv_rec(void *arg, const struct vm_trace_rec *r,
		   const uint64_t *stack)
{
	struct export *x = arg;
	char name[NAME_LEN];

	fprintf(x->out,
		"%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u,%s,%s,%#" PRIx64
		",%s,%#" PRIx64 ",%u,%#" PRIx64 ",%s,%u,%s,",
		r->t_exit, r->t_entry, dur_ns(r), r->vcpu,
		r->source == VM_TRACE_KERNEL ? "kernel" : "user",
		vm_trace_reason_name(r->source, r->flags, r->reason, name,
				     sizeof(name)),
		r->rip,
		r->cpl == VM_TRACE_CPL_UNKNOWN ? "" :
		r->cpl == 0		       ? "0" :
		r->cpl == 1		       ? "1" :
		r->cpl == 2		       ? "2" :
						 "3",
		r->addr, r->size, r->data, dir_of(r), r->count,
		region_name(x->info, r->region));
	for (unsigned int i = 0; i < r->nstack; i++)
		fprintf(x->out, "%s%#" PRIx64, i ? " " : "", stack[i]);
	fputc('\n', x->out);
	x->n++;
	return 0;
}

/*
 * A frame's name for folded stacks: the symbol, else the address.  A
 * return address is named by the call before it (ret - 1): after a call
 * that never returns it may be the next function's first byte.
 */
static int frame_name(struct export *x, uint64_t addr, bool ret, char *buf,
		      size_t len)
{
	char line[8];
	uint64_t off;

	if (x->sym && x->sym(x->sym_arg, ret ? addr - 1 : addr, buf, len, &off,
			     line, sizeof(line)) == 0)
		return 0;
	snprintf(buf, len, "%#" PRIx64, addr);
	return 0;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int folded_add(struct export *x, const char *line)
{
	uint64_t h = str_hash(line);
	struct tally *e;

	/* Collisions of the hash: the next key2 that is not this line. */
	for (uint64_t k2 = 0;; k2++) {
		if (!(e = tally_get(&x->index, h, k2)))
			return -ENOMEM;
		if (!e->n)
			break;
		if (strcmp(x->stacks[e->reads], line) == 0) {
			x->counts[e->reads]++;
			return 0;
		}
	}
	if (x->nstacks == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		char **s = realloc(x->stacks, cap * sizeof(*s));
		uint64_t *c;

		if (!s)
			return -ENOMEM;
		x->stacks = s;
		if (!(c = realloc(x->counts, cap * sizeof(*c))))
			return -ENOMEM;
		x->counts = c;
		x->cap = cap;
	}
	if (!(x->stacks[x->nstacks] = strdup(line)))
		return -ENOMEM;
	x->counts[x->nstacks] = 1;
	e->n = 1;
	e->reads = x->nstacks++;
	return 0;
}

/* Root first: the outermost return address, ..., the rip, the reason. */
static int folded_rec(void *arg, const struct vm_trace_rec *r,
		      const uint64_t *stack)
{
	struct export *x = arg;
	/* Room for every frame at its longest, and the reason. */
	char line[(VM_TRACE_STACK_MAX + 2) * 128], frame[128], reason[48];
	size_t off = 0;

	line[0] = 0;
	for (int i = (int)r->nstack - 1; i >= 0; i--) {
		frame_name(x, stack[i], true, frame, sizeof(frame));
		off += snprintf(line + off, sizeof(line) - off, "%s;", frame);
	}
	frame_name(x, r->rip, false, frame, sizeof(frame));
	snprintf(line + off, sizeof(line) - off, "%s;%s", frame,
		 vm_trace_reason_name(r->source, r->flags, r->reason, reason,
				      sizeof(reason)));
	/* ';' and ' ' separate frames and the count: keep names clean. */
	for (char *c = line; *c; c++) {
		if (*c == ' ')
			*c = '_';
	}
	x->n++;
	return folded_add(x, line);
}

static int export_folded(struct export *x, struct trace_source *src,
			 const struct vm_trace_filter *filter, char *err,
			 size_t errlen)
{
	int r = each_record(src, filter, folded_rec, x, err, errlen);

	for (size_t i = 0; i < x->nstacks; i++) {
		if (r == 0)
			fprintf(x->out, "%s %" PRIu64 "\n", x->stacks[i],
				x->counts[i]);
		free(x->stacks[i]);
	}
	free(x->stacks);
	free(x->counts);
	tallies_free(&x->index);
	return r;
}

static int native_rec(void *arg, const struct vm_trace_rec *r,
		      const uint64_t *stack)
{
	struct export *x = arg;

	x->n++;
	return vm_trace_write(x->w, r, stack);
}

static int export_native(struct export *x, const char *path,
			 struct trace_source *src,
			 const struct vm_trace_filter *filter, char *err,
			 size_t errlen)
{
	const struct vm_trace_info *in = x->info;
	struct vm_trace_meta meta = {
		.vm = in->vm,
		.ncpus = in->ncpus,
		.isa = in->isa,
		.spec = in->spec,
		.kernel = in->kernel,
		.stack = in->stack,
		.t0 = in->t0,
		.regions = in->regions,
		.nregions = in->nregions,
	};
	int r, f;

	if (!path)
		return err_set(err, errlen, -EINVAL,
			       "the native format needs an output file");
	if (!(x->w = vm_trace_create(path, &meta, err, errlen)))
		return -errno;
	r = each_record(src, filter, native_rec, x, err, errlen);
	if (r == 0 && in->dropped)
		r = vm_trace_write_drops(x->w, 0, in->dropped, in->t_end);
	f = vm_trace_finish(x->w, in->t_end ? in->t_end : in->t0);
	if (r == 0 && f < 0)
		r = err_set(err, errlen, f, "%s: %s", path, strerror(-f));
	return r;
}

int trace_export(FILE *out, const char *path, struct trace_source *src,
		 enum trace_export_format fmt,
		 const struct vm_trace_filter *filter, trace_sym_fn *sym,
		 void *sym_arg, char *err, size_t errlen)
{
	struct export x = {
		.out = out, .info = src->info, .sym = sym, .sym_arg = sym_arg
	};
	int r;

	switch (fmt) {
	case TRACE_EXPORT_JSON:
		r = export_json(&x, src, filter, err, errlen);
		break;
	case TRACE_EXPORT_CSV:
		fprintf(out, "t_exit_ns,t_entry_ns,dur_ns,vcpu,source,reason,"
			     "rip,cpl,addr,size,data,dir,count,region,stack\n");
		r = each_record(src, filter, csv_rec, &x, err, errlen);
		break;
	case TRACE_EXPORT_FOLDED:
		r = export_folded(&x, src, filter, err, errlen);
		break;
	case TRACE_EXPORT_NATIVE:
		return export_native(&x, path, src, filter, err, errlen);
	default:
		return err_set(err, errlen, -EINVAL, "unknown export format");
	}
	if (r == 0 && out && ferror(out))
		r = err_set(err, errlen, -EIO, "cannot write the export");
	return r;
}
