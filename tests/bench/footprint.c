/*
 * footprint: what vitro costs before the guest runs and beside it, for a
 * 1-vCPU, 256 MiB guest (loop-guest.elf).
 *
 *   footprint [-r RUNS]
 *
 * startup_cpu_ms: CPU time (user + system, every thread) from process
 * start to the first guest instruction, as `vitro -v` reports it in its
 * figures line.  Cross-check, independent of vitro's own accounting: the
 * whole CPU time of a run whose guest exits at once (n=0), from the
 * child's rusage (wait4).  That run also pays for a handful of exits and
 * for teardown, so it bounds the start-up figure from above and should be
 * close to it.  For scale, the same for bare-kvm (exit-rate's reference
 * program): what creating and destroying a KVM VM costs with no monitor.
 *
 * rss_overhead_kib: resident memory that is not guest memory, from vitro's
 * figures: its peak RSS (VmHWM) minus the guest memory resident at exit;
 * the guest touches little, so this is what vitro itself holds (heap,
 * stacks, libraries, page tables it wrote for the guest excluded).
 * Cross-check: while the guest runs a long loop, /proc/PID/smaps is read
 * every few milliseconds; the sample with the largest RSS gives the sum of
 * every mapping's Rss minus the Rss of the guest memory mapping (the memfd
 * named vitro:NAME:sysmem).  The peak RSS from wait4 (ru_maxrss) minus
 * that guest Rss is printed too.  Counted in RSS, as the kernel counts it:
 * shared library pages mapped by vitro, not KVM's kernel allocations.
 *
 * Medians over RUNS (default 7).  Prints figures, never judges them; the
 * last line is `startup_cpu_ms=X rss_overhead_kib=Y`, from vitro's own
 * figures, or from the cross-checks (and says so) when vitro prints none.
 * Exit status 0, or 1 when a run fails.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench-util.h"
#include "tests/bench/bench.h"

#define MAX_RUNS 50
#define LONG_LOOP "n=30000" /* a few tenths of a second at ~10 us/exit */
#define SAMPLE_NS 5000000

struct smaps_sample {
	double rss_kib; /* every mapping */
	double guest_kib; /* the guest memory mapping */
	double anon_kib; /* private anonymous memory (heap, stacks) */
};

static double tv_ms(const struct timeval *tv)
{
	return tv->tv_sec * 1e3 + tv->tv_usec / 1e3;
}

/* 0, or -1 when the process has no guest mapping (yet, or any more). */
static int smaps_read(pid_t pid, struct smaps_sample *s)
{
	char path[64], line[512];
	int guest = 0, found = 0;
	unsigned long kib;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *name;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, ' ')) {
			/* A mapping's first line: its name is the 6th field. */
			name = strstr(line, "/memfd:vitro:");
			guest = name && strstr(name, ":sysmem");
			found |= guest;
		} else if (sscanf(line, "Rss: %lu kB", &kib) == 1) {
			s->rss_kib += kib;
			if (guest)
				s->guest_kib += kib;
		} else if (sscanf(line, "Anonymous: %lu kB", &kib) == 1) {
			s->anon_kib += kib;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static int exited(pid_t pid)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return 1;
	return si.si_pid == pid;
}

static int check_status(const char *what, struct bench_result *r)
{
	if (r->status == BENCH_STATUS(BENCH_EXIT_OK))
		return 0;
	fprintf(stderr,
		"error: vitro (%s): exit status %d, expected %d; it said:\n%s",
		what, r->status, BENCH_STATUS(BENCH_EXIT_OK),
		r->out ? r->out : "(output lost)\n");
	free(r->out);
	return -1;
}

int main(int argc, char **argv)
{
	double startup[MAX_RUNS], overhead[MAX_RUNS], cpu[MAX_RUNS];
	double bare_cpu[MAX_RUNS];
	double peak[MAX_RUNS], guest[MAX_RUNS];
	double s_over[MAX_RUNS], s_peak_over[MAX_RUNS], s_anon[MAX_RUNS];
	double s_guest[MAX_RUNS];
	int runs = 7, nfig = 0, nsamp = 0, c, r;
	struct bench_paths p;
	struct bench_stat st_cpu, st_bare, st_over = { 0 };
	char arg[32];
	char *argv_v[] = { NULL,   "-v", "--debug-exit", "-c", "1", "-m",
			   "256M", "-k", NULL,		 "-a", arg, NULL };
	char *argv_bare[] = { NULL, "-i", "-m", "256", NULL, "n=0", NULL };

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r') {
			fprintf(stderr, "usage: footprint [-r RUNS]\n");
			return 1;
		}
		runs = atoi(optarg);
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "footprint: -r 1 to %d\n", MAX_RUNS);
		return 1;
	}
	if ((r = bench_paths_find(&p)) != 0)
		return r > 0 ? 0 : 1;
	argv_v[0] = p.vitro;
	argv_v[8] = p.guest;
	argv_bare[0] = p.bare;
	argv_bare[4] = p.guest;

	printf("footprint: vitro -v -c 1 -m 256M -k loop-guest.elf, "
	       "%d runs each\n",
	       runs);
	/* Start-up and peak figures: a guest that exits at once. */
	snprintf(arg, sizeof(arg), "n=0");
	for (int i = 0; i < runs; i++) {
		struct bench_result res;
		const char *fig;
		double su, pk, gr;

		if ((r = bench_run(argv_v, &res)) < 0) {
			fprintf(stderr, "error: cannot run vitro: %s\n",
				strerror(-r));
			return 1;
		}
		if (check_status("n=0", &res) < 0)
			return 1;
		cpu[i] = tv_ms(&res.ru.ru_utime) + tv_ms(&res.ru.ru_stime);
		fig = res.out ? strstr(res.out, "vitro: figures:") : NULL;
		if (fig && sscanf(fig,
				  "vitro: figures: startup_cpu_ms=%lf "
				  "rss_peak_kib=%lf guest_resident_kib=%lf",
				  &su, &pk, &gr) == 3) {
			startup[nfig] = su;
			peak[nfig] = pk;
			guest[nfig] = gr;
			overhead[nfig] = pk - gr;
			nfig++;
		}
		free(res.out);
		if ((r = bench_run(argv_bare, &res)) < 0 ||
		    res.status != BENCH_STATUS(BENCH_EXIT_OK)) {
			fprintf(stderr, "error: bare-kvm n=0 failed\n");
			return 1;
		}
		bare_cpu[i] = tv_ms(&res.ru.ru_utime) + tv_ms(&res.ru.ru_stime);
		free(res.out);
	}

	/* The smaps cross-check: sample a guest that keeps running. */
	snprintf(arg, sizeof(arg), LONG_LOOP);
	for (int i = 0; i < runs; i++) {
		struct smaps_sample best = { 0 }, s;
		struct bench_child ch;
		struct bench_result res;
		int got = 0;

		if ((r = bench_child_start(&ch, argv_v)) < 0) {
			fprintf(stderr, "error: cannot run vitro: %s\n",
				strerror(-r));
			return 1;
		}
		while (!exited(ch.pid)) {
			struct timespec ts = { 0, SAMPLE_NS };

			if (smaps_read(ch.pid, &s) == 0 &&
			    s.rss_kib > best.rss_kib) {
				best = s;
				got = 1;
			}
			nanosleep(&ts, NULL);
		}
		if ((r = bench_child_wait(&ch, &res)) < 0) {
			fprintf(stderr, "error: wait: %s\n", strerror(-r));
			return 1;
		}
		if (check_status(LONG_LOOP, &res) < 0)
			return 1;
		free(res.out);
		if (!got)
			continue;
		s_over[nsamp] = best.rss_kib - best.guest_kib;
		s_peak_over[nsamp] = res.ru.ru_maxrss - best.guest_kib;
		s_anon[nsamp] = best.anon_kib;
		s_guest[nsamp] = best.guest_kib;
		nsamp++;
	}

	st_cpu = bench_stat(cpu, runs);
	st_bare = bench_stat(bare_cpu, runs);
	printf("independent: whole-run CPU, guest exiting at once (wait4):"
	       "  median %.1f ms (min %.1f, max %.1f)\n",
	       st_cpu.med, st_cpu.min, st_cpu.max);
	printf("             the same for bare-kvm (a KVM VM, no monitor):"
	       " median %.1f ms (min %.1f, max %.1f)\n",
	       st_bare.med, st_bare.min, st_bare.max);
	if (nsamp) {
		st_over = bench_stat(s_over, nsamp);
		printf("independent: smaps while the guest runs: Rss minus "
		       "guest Rss median %.0f KiB (min %.0f, max %.0f)\n",
		       st_over.med, st_over.min, st_over.max);
		printf("             peak RSS (wait4) minus guest Rss median "
		       "%.0f KiB; anonymous %.0f KiB; guest Rss %.0f KiB\n",
		       bench_stat(s_peak_over, nsamp).med,
		       bench_stat(s_anon, nsamp).med,
		       bench_stat(s_guest, nsamp).med);
	} else {
		printf("independent: smaps: no sample caught the guest "
		       "running\n");
	}
	if (nfig) {
		struct bench_stat su = bench_stat(startup, nfig);

		printf("vitro -v: startup_cpu_ms median %.2f (min %.2f, max "
		       "%.2f); rss_peak_kib %.0f, guest_resident_kib %.0f "
		       "(%d runs)\n",
		       su.med, su.min, su.max, bench_stat(peak, nfig).med,
		       bench_stat(guest, nfig).med, nfig);
		printf("startup_cpu_ms=%.2f rss_overhead_kib=%.0f\n", su.med,
		       bench_stat(overhead, nfig).med);
		return 0;
	}
	printf("vitro -v printed no figures line: the last line is from the "
	       "independent measurements\n");
	printf("startup_cpu_ms=%.2f rss_overhead_kib=%.0f\n", st_cpu.med,
	       nsamp ? st_over.med : 0.0);
	return 0;
}
