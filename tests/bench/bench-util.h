/*
 * bench-util.h: what the benchmark drivers share - finding vitro and the
 * benchmark programs, the skip checks, running a child process with its
 * output captured and its wall time and resource usage measured, medians,
 * a program through $PATH.
 *
 * No global state; a struct bench_child belongs to the thread that
 * started it.
 */
#ifndef TESTS_BENCH_BENCH_UTIL_H
#define TESTS_BENCH_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define BENCH_PATH_MAX 4096

struct bench_paths {
	char vitro[BENCH_PATH_MAX]; /* build/bin/vitro */
	char bare[BENCH_PATH_MAX]; /* build/tests/bench/bare-kvm */
	char guest[BENCH_PATH_MAX]; /* build/tests/bench/loop-guest.elf */
};

/*
 * Find the programs (under $VITRO_BUILD, else three levels above this
 * executable).  When /dev/kvm or vitro is missing, print "skip: reason"
 * and return 1 (the caller exits 0); a missing benchmark program is an
 * error (-1, message printed).  0 when everything is there.
 */
int bench_paths_find(struct bench_paths *p);

struct bench_child {
	pid_t pid;
	int outfd; /* a memfd receiving the child's stdout and stderr */
	uint64_t t0_ns; /* CLOCK_MONOTONIC just before fork */
};

struct bench_result {
	int status; /* exit status, or 128 + signal */
	uint64_t wall_ns; /* from just before fork to after wait4 */
	struct rusage ru; /* the child's own (wait4) */
	char *out; /* its stdout and stderr, NUL-terminated; free() it */
};

/* Start argv[0] with stdout and stderr captured; 0 or -errno. */
int bench_child_start(struct bench_child *c, char *const argv[]);

/* Wait for it; 0 or -errno.  r->out is NULL if the output was lost. */
int bench_child_wait(struct bench_child *c, struct bench_result *r);

/* Both at once. */
int bench_run(char *const argv[], struct bench_result *r);

struct bench_stat {
	double med, min, max;
};

/* Median, minimum and maximum of n > 0 values (sorts v in place). */
struct bench_stat bench_stat(double *v, size_t n);

uint64_t bench_now_ns(void);

/* NAME's path through $PATH into out; 0 or -ENOENT. */
int bench_find_in_path(const char *name, char *out, size_t len);

#endif
