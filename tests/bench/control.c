/*
 * control: what the VM control socket carries, against the in-process
 * transport, in one run.
 *
 *   control [-t SECONDS]
 *
 * vitro runs the benchmark guest (loop-guest.elf, in its port loop) with
 * 256 MiB; this program opens it with vm_open() and measures, through the
 * socket: register reads per second (VM_GET_REGISTER of rip, one request
 * each) on a stopped vCPU, then on the running vCPU (each read stops it
 * for the read and resumes it), and guest-physical memory reads in MiB/s
 * (vm_read_gpa of 1 MiB at a time, carried as VM_GPA_RW_MAX requests).
 * Then it creates a VM of the same size in this process and measures the
 * same memory reads in-process, as the monitor itself would make them.
 * Each figure runs for SECONDS (default 1) or a fixed amount, whichever
 * ends first.
 *
 * Prints figures, never judges them; the last line is
 * ctl_regs_s=A ctl_mem_mib_s=B inproc_mem_mib_s=C.  Prints skip (exit 0)
 * without /dev/kvm or vitro, or when vitro serves no control socket here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libvmmapi/vmmapi.h"
#include "tests/bench/bench-util.h"

#define MEM (256u << 20)
#define CHUNK (1u << 20)
#define MAX_REGS 200000
#define MAX_MEM_MIB 2048
#define OPEN_WAIT_NS 60000000000ULL

static bool file_has(const char *path, const char *text)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

/* Register reads per second on vCPU 0 of ctx; -1 on an error. */
static double regs_rate(struct vmctx *ctx, double seconds)
{
	struct vcpu *v = vm_vcpu_open(ctx, 0);
	uint64_t t0 = bench_now_ns(), end = t0 + seconds * 1e9, rip;
	long n = 0;

	for (; n < MAX_REGS && bench_now_ns() < end; n++) {
		int r = vm_get_register(v, VM_REG_GUEST_RIP, &rip);

		if (r < 0) {
			fprintf(stderr, "control: register read: %s\n",
				strerror(-r));
			vm_vcpu_close(v);
			return -1;
		}
	}
	vm_vcpu_close(v);
	return n / ((bench_now_ns() - t0) / 1e9);
}

/* Guest-physical reads in MiB/s; -1 on an error. */
static double mem_rate(struct vmctx *ctx, uint8_t *buf, double seconds)
{
	uint64_t t0 = bench_now_ns(), end = t0 + seconds * 1e9, gpa = 0;
	long mib = 0;

	for (; mib < MAX_MEM_MIB && bench_now_ns() < end; mib++) {
		ssize_t n = vm_read_gpa(ctx, gpa, buf, CHUNK);

		if (n != CHUNK) {
			fprintf(stderr, "control: memory read at %#llx: %s\n",
				(unsigned long long)gpa,
				n < 0 ? strerror(-n) : "short");
			return -1;
		}
		gpa = (gpa + CHUNK) % MEM;
	}
	return mib / ((bench_now_ns() - t0) / 1e9);
}

static double inproc_mem_rate(uint8_t *buf, double seconds)
{
	char name[64];
	struct vmctx *ctx;
	double rate;
	int r;

	snprintf(name, sizeof(name), "bench-control-%d", (int)getpid());
	if (!(ctx = vm_create(name))) {
		fprintf(stderr, "control: vm_create: %s\n", strerror(errno));
		return -1;
	}
	if ((r = vm_setup_memory(ctx, MEM)) < 0) {
		fprintf(stderr, "control: vm_setup_memory: %s\n", strerror(-r));
		vm_destroy(ctx);
		return -1;
	}
	rate = mem_rate(ctx, buf, seconds);
	vm_destroy(ctx);
	return rate;
}

int main(int argc, char **argv)
{
	struct bench_paths p;
	char name[64], errfile[] = "/tmp/bench-control.XXXXXX", gdb[128];
	struct vmctx *ctx = NULL;
	double stopped, running, ctl_mem, inproc, seconds = 1.0;
	uint8_t *buf;
	uint64_t t0;
	pid_t pid;
	int r, opt, efd, st;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't' || (seconds = atof(optarg)) <= 0) {
			fprintf(stderr, "usage: control [-t SECONDS]\n");
			return 1;
		}
	}
	if ((r = bench_paths_find(&p)) != 0)
		return r > 0 ? 0 : 1;
	buf = malloc(CHUNK);
	efd = mkstemp(errfile);
	if (!buf || efd < 0) {
		fprintf(stderr, "control: out of memory or /tmp\n");
		return 1;
	}
	snprintf(name, sizeof(name), "bench-ctl-%d", (int)getpid());
	snprintf(gdb, sizeof(gdb), "unix:%s.gdb", errfile);
	pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDWR);

		dup2(in, 0);
		dup2(in, 1);
		dup2(efd, 2);
		/* -G: until the debug core lands, stops need its debugger. */
		execl(p.vitro, "vitro", "--debug-exit", "-m", "256M", "-G", gdb,
		      "-k", p.guest, "-a", "n=100000000000", name,
		      (char *)NULL);
		_exit(127);
	}
	t0 = bench_now_ns();
	while (bench_now_ns() - t0 < OPEN_WAIT_NS &&
	       waitpid(pid, NULL, WNOHANG) == 0 &&
	       !file_has(errfile, "control socket:")) {
		if ((ctx = vm_open(name)))
			break;
		usleep(100000);
	}
	if (!ctx) {
		bool none = file_has(errfile, "control socket:");

		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		unlink(errfile);
		if (none) {
			printf("skip: vitro serves no control socket here\n");
			return 0;
		}
		fprintf(stderr, "control: cannot open VM %s: %s\n", name,
			strerror(errno));
		return 1;
	}
	r = vm_debug_stop(ctx, -1, 5000, NULL);
	stopped = r == 0 ? regs_rate(ctx, seconds) : -1;
	ctl_mem = r == 0 ? mem_rate(ctx, buf, seconds) : -1;
	running = r == 0 && vm_debug_resume(ctx, -1) == 0 ?
			  regs_rate(ctx, seconds) :
			  -1;
	vm_destroy(ctx);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	unlink(errfile);
	inproc = inproc_mem_rate(buf, seconds);
	free(buf);
	if (stopped < 0 || running < 0 || ctl_mem < 0 || inproc < 0) {
		fprintf(stderr, "control: a measurement failed%s\n",
			r < 0 ? " (the vCPUs did not stop)" : "");
		return 1;
	}
	printf("register reads through the socket: %.0f/s on a stopped vCPU, "
	       "%.0f/s on a running one\n",
	       stopped, running);
	printf("guest memory reads: %.1f MiB/s through the socket, %.1f MiB/s "
	       "in-process\n",
	       ctl_mem, inproc);
	printf("ctl_regs_s=%.0f ctl_mem_mib_s=%.1f inproc_mem_mib_s=%.1f\n",
	       stopped, ctl_mem, inproc);
	return 0;
}
