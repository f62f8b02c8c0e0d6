/*
 * exit-rate: how fast vitro turns guest port-I/O exits around, against a
 * bare KVM program doing the least possible (bare-kvm.c), in one run.
 *
 *   exit-rate [-n ITERATIONS] [-r ROUNDS]
 *
 * Both run the same guest file (loop-guest.elf, built from loop-guest.c):
 * an `out %al,%dx` to an unclaimed port in a counted loop (`out; dec rcx;
 * jnz`), entered in 64-bit mode at CPL 0 by both, so the loop is the same
 * bytes in the same mode (on a software KVM, CPL 0 code is emulated, so
 * the mode is part of the cost).  The bare program creates the same
 * in-kernel devices as vitro (irqchip, PIT), so the two differ only in
 * what runs in user space per exit: bare-kvm re-enters at once, vitro goes
 * through vmm_run, the exit decode and the port-I/O region dispatch.
 *
 * Method.  Each program is timed from outside as a whole process, by wall
 * time, twice per round: with n=N and with n=0.  The rate is
 * N / (wall(n=N) - wall(n=0)): everything but the loop (exec, VM set-up,
 * loading, the few boot exits, teardown) is in both runs and cancels, and
 * the two programs are measured by one identical method that needs nothing
 * from inside vitro.  Rounds interleave the programs (and alternate which
 * goes first) so drift in the machine's speed hits both alike; medians are
 * reported.  As a check of the method, bare-kvm also times the loop from
 * inside, between the guest's writes to its start and end marker ports;
 * the two bare figures should agree within the noise.  The same
 * subtraction over each process's CPU time (user + system, all threads,
 * from wait4) gives exits per CPU-second: time the process lost to other
 * load on a shared machine is not in it, so its ratio stays steady when
 * the wall-time figures spread (wide min-max), and says the same thing
 * when the machine is quiet.
 *
 * ITERATIONS defaults to what keeps one bare run's loop near CALIB_NS
 * (measured once, with the same method, before the rounds): about 100 000
 * on a software KVM at ~9 us per exit, more on hardware, so that set-up
 * noise stays small next to the loop.  ROUNDS defaults to 7.
 *
 * Tracing.  vitro also runs with `-T FILE` (every exit recorded to a
 * trace file) and with `-T FILE,stack=8` (and 8 return addresses by the
 * guest's frame pointers; loop-guest's loop is at the bottom of a short
 * chain), measured the same way in the same rounds.
 *
 * Prints figures, never judges them; then ratio=R, vitro's median rate
 * over bare KVM's; the last line is ratio_off=A ratio_on=B ratio_stack=C,
 * the median rates of vitro without tracing, with tracing and with
 * tracing and stacks, each over bare KVM's.  Exit status 0, or 1 when a
 * run fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench-util.h"
#include "tests/bench/bench.h"

#define MAX_RUNS 50
#define CALIB_N 10000
#define CALIB_NS 800000000.0 /* a bare run's loop, aimed at */
#define MIN_N 10000
#define MAX_N 20000000
#define MEM "256" /* MiB, both programs (vitro's default) */

enum { BARE, VITRO, VITRO_TRACE, VITRO_STACK, NPROG };

struct prog {
	const char *name;
	const char *trace; /* vitro's -T spec after the file, or NULL */
	double rate[MAX_RUNS]; /* exits/s by subtraction */
	double cpu_rate[MAX_RUNS]; /* exits per CPU-second, likewise */
	double marker[MAX_RUNS]; /* bare only: exits/s between markers */
	int nmarker;
};

static uint64_t tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * 1000000000ULL + tv->tv_usec * 1000ULL;
}

/*
 * One run; its wall time in *ns, its CPU time in *cpu_ns.  0, or -1 with
 * a message printed.
 */
static int run_one(const struct bench_paths *p, int which, unsigned long n,
		   uint64_t *ns, uint64_t *cpu_ns, struct prog *pr)
{
	char arg[64];
	char *bare[] = { (char *)p->bare,  "-i", "-t", "-m", MEM,
			 (char *)p->guest, arg,	 NULL };
	char tfile[64] = "", targ[128];
	char *vitro[] = { (char *)p->vitro,
			  "--debug-exit",
			  "-c",
			  "1",
			  "-m",
			  MEM "M",
			  "-k",
			  (char *)p->guest,
			  "-a",
			  arg,
			  NULL,
			  NULL,
			  NULL };
	struct bench_result r;
	unsigned long long mns, mexits;
	const char *m;
	int e;

	snprintf(arg, sizeof(arg), "n=%lu", n);
	if (pr->trace) {
		size_t k = 0;
		int fd;

		snprintf(tfile, sizeof(tfile), "/tmp/exit-rate-XXXXXX");
		if ((fd = mkstemp(tfile)) < 0) {
			fprintf(stderr, "error: cannot make a trace file: %s\n",
				strerror(errno));
			return -1;
		}
		close(fd);
		snprintf(targ, sizeof(targ), "%s%s%s", tfile,
			 pr->trace[0] ? "," : "", pr->trace);
		while (vitro[k]) /* after the options: two spare NULLs */
			k++;
		vitro[k] = "-T";
		vitro[k + 1] = targ;
	}
	e = bench_run(which == BARE ? bare : vitro, &r);
	if (tfile[0])
		unlink(tfile);
	if (e < 0) {
		fprintf(stderr, "error: cannot run %s: %s\n", pr->name,
			strerror(-e));
		return -1;
	}
	if (r.status != BENCH_STATUS(BENCH_EXIT_OK)) {
		fprintf(stderr,
			"error: %s with %s: exit status %d, expected %d; "
			"it said:\n%s",
			pr->name, arg, r.status, BENCH_STATUS(BENCH_EXIT_OK),
			r.out ? r.out : "(output lost)\n");
		free(r.out);
		return -1;
	}
	if (which == BARE && n && r.out && (m = strstr(r.out, "marker_ns=")) &&
	    sscanf(m, "marker_ns=%llu marker_exits=%llu", &mns, &mexits) == 2 &&
	    mns && pr->nmarker < MAX_RUNS)
		/* marker_exits counts the end marker's exit too. */
		pr->marker[pr->nmarker++] = (mexits - 1) * 1e9 / mns;
	free(r.out);
	*ns = r.wall_ns;
	*cpu_ns = tv_ns(&r.ru.ru_utime) + tv_ns(&r.ru.ru_stime);
	return 0;
}

static double print_rate(const char *label, const char *unit, double *v, int n)
{
	struct bench_stat s = bench_stat(v, n);

	printf("%-34s median %8.0f %s  (min %.0f, max %.0f, %d runs)\n", label,
	       s.med, unit, s.min, s.max, n);
	return s.med;
}

int main(int argc, char **argv)
{
	struct prog prog[NPROG] = {
		[BARE] = { .name = "bare-kvm" },
		[VITRO] = { .name = "vitro" },
		[VITRO_TRACE] = { .name = "vitro -T", .trace = "" },
		[VITRO_STACK] = { .name = "vitro -T stack=8",
				  .trace = "stack=8" },
	};
	double ratio[MAX_RUNS], med[NPROG], cpu_med[NPROG];
	unsigned long n = 0;
	int runs = 7, c, r;
	struct bench_paths p;
	struct bench_stat st;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			if (n == 0) {
				fprintf(stderr, "exit-rate: -n must be > 0\n");
				return 1;
			}
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: exit-rate [-n ITERATIONS] "
					"[-r ROUNDS]\n");
			return 1;
		}
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "exit-rate: -r 1 to %d\n", MAX_RUNS);
		return 1;
	}
	if ((r = bench_paths_find(&p)) != 0)
		return r > 0 ? 0 : 1;
	if (n == 0) {
		struct prog calib = { .name = "bare-kvm" };
		uint64_t big, small, cpu;
		double per_exit;

		if (run_one(&p, BARE, CALIB_N, &big, &cpu, &calib) < 0 ||
		    run_one(&p, BARE, 0, &small, &cpu, &calib) < 0)
			return 1;
		per_exit = big > small ? (double)(big - small) / CALIB_N : 1;
		n = (unsigned long)(CALIB_NS / per_exit) / 10000 * 10000;
		n = n < MIN_N ? MIN_N : n > MAX_N ? MAX_N : n;
	}

	printf("exit-rate: guest loop-guest.elf, `out %%al,%%dx; dec %%rcx; "
	       "jnz` x %lu,\n"
	       "  64-bit mode at CPL 0 in both programs, %s MiB, 1 vCPU; "
	       "rate = %lu / (wall(n=%lu) - wall(n=0))\n",
	       n, MEM, n, n);
	for (int i = 0; i < runs; i++) {
		uint64_t big[NPROG], small[NPROG], cbig[NPROG], csmall[NPROG];

		/* Alternate the order so neither always runs first. */
		for (int k = 0; k < NPROG; k++) {
			int w = (i + k) % NPROG;

			if (run_one(&p, w, n, &big[w], &cbig[w], &prog[w]) <
				    0 ||
			    run_one(&p, w, 0, &small[w], &csmall[w], &prog[w]) <
				    0)
				return 1;
		}
		for (int w = 0; w < NPROG; w++) {
			double d = (double)big[w] - (double)small[w];

			prog[w].rate[i] = d > 0 ? n * 1e9 / d : 0;
			d = (double)cbig[w] - (double)csmall[w];
			prog[w].cpu_rate[i] = d > 0 ? n * 1e9 / d : 0;
		}
		ratio[i] = prog[BARE].rate[i] ?
				   prog[VITRO].rate[i] / prog[BARE].rate[i] :
				   0;
		printf("  round %d: bare %.0f/s, vitro %.0f/s, traced %.0f/s, "
		       "with stacks %.0f/s\n",
		       i + 1, prog[BARE].rate[i], prog[VITRO].rate[i],
		       prog[VITRO_TRACE].rate[i], prog[VITRO_STACK].rate[i]);
	}
	med[BARE] = print_rate("bare KVM (irqchip+PIT, no vitro):", "exits/s",
			       prog[BARE].rate, runs);
	med[VITRO] = print_rate("vitro:", "exits/s", prog[VITRO].rate, runs);
	med[VITRO_TRACE] = print_rate("vitro -T FILE:", "exits/s",
				      prog[VITRO_TRACE].rate, runs);
	med[VITRO_STACK] = print_rate("vitro -T FILE,stack=8:", "exits/s",
				      prog[VITRO_STACK].rate, runs);
	if (prog[BARE].nmarker)
		print_rate("bare KVM, timed between markers:", "exits/s",
			   prog[BARE].marker, prog[BARE].nmarker);
	cpu_med[BARE] = print_rate("bare KVM, by CPU time:", "exits/cpu-s",
				   prog[BARE].cpu_rate, runs);
	cpu_med[VITRO] = print_rate("vitro, by CPU time:", "exits/cpu-s",
				    prog[VITRO].cpu_rate, runs);
	cpu_med[VITRO_TRACE] =
		print_rate("vitro -T FILE, by CPU time:", "exits/cpu-s",
			   prog[VITRO_TRACE].cpu_rate, runs);
	cpu_med[VITRO_STACK] =
		print_rate("vitro -T FILE,stack=8, by CPU:", "exits/cpu-s",
			   prog[VITRO_STACK].cpu_rate, runs);
	printf("%-34s %.3f\n", "vitro / bare by CPU time:",
	       cpu_med[BARE] ? cpu_med[VITRO] / cpu_med[BARE] : 0);
	printf("%-34s off %.3f, on %.3f, stack %.3f\n",
	       "traced / bare by CPU time:",
	       cpu_med[BARE] ? cpu_med[VITRO] / cpu_med[BARE] : 0,
	       cpu_med[BARE] ? cpu_med[VITRO_TRACE] / cpu_med[BARE] : 0,
	       cpu_med[BARE] ? cpu_med[VITRO_STACK] / cpu_med[BARE] : 0);
	st = bench_stat(ratio, runs);
	printf("%-34s median %.3f  (min %.3f, max %.3f)\n",
	       "vitro / bare, round by round:", st.med, st.min, st.max);
	printf("per exit: bare %.2f us, vitro %.2f us\n", 1e6 / med[BARE],
	       1e6 / med[VITRO]);
	printf("ratio=%.3f\n", med[BARE] ? med[VITRO] / med[BARE] : 0);
	printf("ratio_off=%.3f ratio_on=%.3f ratio_stack=%.3f\n",
	       med[BARE] ? med[VITRO] / med[BARE] : 0,
	       med[BARE] ? med[VITRO_TRACE] / med[BARE] : 0,
	       med[BARE] ? med[VITRO_STACK] / med[BARE] : 0);
	return 0;
}
