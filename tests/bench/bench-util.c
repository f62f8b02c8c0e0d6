/*
 * bench-util.c: see bench-util.h.  Single-threaded use; no global state.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench-util.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int bench_find_in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[BENCH_PATH_MAX], *save, *d;

	snprintf(dirs, sizeof(dirs), "%s",
		 path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(out, len, "%s/%s", d, name) < len &&
		    access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static int build_dir(char *out, size_t len)
{
	const char *env = getenv("VITRO_BUILD");
	char self[BENCH_PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if ((size_t)snprintf(out, len, "%s", env) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	/* BUILD/tests/bench/PROGRAM */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	if ((size_t)snprintf(out, len, "%s", dirname(dirname(dirname(self)))) >=
	    len)
		return -ENAMETOOLONG;
	return 0;
}

int bench_paths_find(struct bench_paths *p)
{
	/* Room left in each path for what follows the directory. */
	char dir[BENCH_PATH_MAX / 2];
	int fd;

	if (build_dir(dir, sizeof(dir)) < 0) {
		fprintf(stderr, "error: cannot find the build directory\n");
		return -1;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("skip: /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	snprintf(p->vitro, sizeof(p->vitro), "%s/bin/vitro", dir);
	snprintf(p->bare, sizeof(p->bare), "%s/tests/bench/bare-kvm", dir);
	snprintf(p->guest, sizeof(p->guest), "%s/tests/bench/loop-guest.elf",
		 dir);
	if (access(p->vitro, X_OK) < 0) {
		printf("skip: %s: %s\n", p->vitro, strerror(errno));
		return 1;
	}
	if (access(p->bare, X_OK) < 0 || access(p->guest, R_OK) < 0) {
		fprintf(stderr, "error: %s or %s missing: run make\n", p->bare,
			p->guest);
		return -1;
	}
	return 0;
}

int bench_child_start(struct bench_child *c, char *const argv[])
{
	int fd = memfd_create("bench-out", MFD_CLOEXEC);
	pid_t pid;

	if (fd < 0)
		return -errno;
	fflush(NULL);
	c->t0_ns = bench_now_ns();
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->outfd = fd;
	return 0;
}

static char *read_all(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf;

	if (len < 0)
		return NULL;
	buf = malloc((size_t)len + 1);
	if (!buf)
		return NULL;
	if (pread(fd, buf, (size_t)len, 0) != len) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

int bench_child_wait(struct bench_child *c, struct bench_result *r)
{
	int st;

	while (wait4(c->pid, &st, 0, &r->ru) < 0) {
		if (errno != EINTR) {
			int e = errno;

			close(c->outfd);
			return -e;
		}
	}
	r->wall_ns = bench_now_ns() - c->t0_ns;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = read_all(c->outfd);
	close(c->outfd);
	return 0;
}

int bench_run(char *const argv[], struct bench_result *r)
{
	struct bench_child c;
	int e = bench_child_start(&c, argv);

	return e < 0 ? e : bench_child_wait(&c, r);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct bench_stat bench_stat(double *v, size_t n)
{
	struct bench_stat s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}
