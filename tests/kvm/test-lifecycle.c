/*
 * test-lifecycle.c: VM creation and destruction by name, topology,
 * VM_ACTIVATE_CPU and the VM_GET_CPUS sets, through libvmmapi.
 *
 * Names are unique across processes: a forked child tries a name the
 * parent holds, and the parent one the child holds (a pipe orders them).
 * Single-threaded.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

/* Exit status of a child that tried to create a VM. */
#define CHILD_EEXIST 0
#define CHILD_CREATED 1
#define CHILD_OTHER 2

static int create_errno(const char *name)
{
	struct vmctx *ctx = vm_create(name);

	if (ctx) {
		vm_destroy(ctx);
		return 0;
	}
	return errno;
}

static void test_names(void)
{
	char name[VM_NAME_MAX + 8], other[VM_NAME_MAX];
	struct vmctx *a, *b;
	int st, up[2], down[2], r;
	char c;
	pid_t pid;

	kt_name(name, sizeof(name), "life");
	a = vm_create(name);
	ok(a != NULL, "create %s", name);
	if (!a)
		tap_bail("cannot create a VM: %s", strerror(errno));
	is_str(vm_get_name(a), name, "vm_get_name");
	b = vm_create(name);
	ok(b == NULL && errno == EEXIST,
	   "a second create with the same name fails with EEXIST");

	/* From another process. */
	pid = fork();
	if (pid == 0) {
		r = create_errno(name);
		_exit(r == EEXIST ? CHILD_EEXIST :
		      r == 0	  ? CHILD_CREATED :
				    CHILD_OTHER);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		   WEXITSTATUS(st) == CHILD_EEXIST,
	   "create with the same name from another process fails: EEXIST");

	vm_destroy(a);
	a = vm_create(name);
	ok(a != NULL, "the name is free again after vm_destroy");
	vm_destroy(a);

	/* A name held by another process, until the parent says "done". */
	kt_name(other, sizeof(other), "life-child");
	if (pipe(up) < 0 || pipe(down) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		struct vmctx *ctx = vm_create(other);

		c = ctx ? 'y' : 'n';
		(void)!write(up[1], &c, 1);
		(void)!read(down[0], &c, 1);
		vm_destroy(ctx);
		_exit(0);
	}
	ok(pid > 0 && read(up[0], &c, 1) == 1 && c == 'y',
	   "another process creates %s", other);
	is_int(create_errno(other), EEXIST,
	       "create of a name another process holds fails: EEXIST");
	(void)!write(down[1], "x", 1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exited");
	is_int(create_errno(other), 0,
	       "the name is free after the other process ends");
	for (int i = 0; i < 2; i++) {
		close(up[i]);
		close(down[i]);
	}

	/* Bad names. */
	is_int(create_errno(""), EINVAL, "empty name refused");
	is_int(create_errno("a/b"), EINVAL, "name with / refused");
	is_int(create_errno("a b"), EINVAL, "name with a space refused");
	is_int(create_errno("tab\there"), EINVAL, "name with a tab refused");
	is_int(create_errno("del\x7f"), EINVAL, "name with DEL refused");
	is_int(create_errno("caf\xc3\xa9"), EINVAL, "non-ASCII name refused");
	memset(name, 'x', VM_NAME_MAX);
	name[VM_NAME_MAX] = 0;
	is_int(create_errno(name), EINVAL, "name of %d characters refused",
	       VM_NAME_MAX);
	/* The longest name allowed, made unique by the pid. */
	snprintf(name, sizeof(name), "kt-%d-", (int)getpid());
	memset(name + strlen(name), 'y', VM_NAME_MAX - 1 - strlen(name));
	name[VM_NAME_MAX - 1] = 0;
	is_int(create_errno(name), 0, "name of %d characters accepted",
	       VM_NAME_MAX - 1);
}

static bool set_is(const struct vm_cpuset *s, int a, int b)
{
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm_cpuset_isset(s, i) != (i == a || i == b))
			return false;
	}
	return true;
}

static void test_topology_cpus(void)
{
	char name[VM_NAME_MAX];
	uint16_t s, c, t, m;
	struct vm_cpuset set;
	struct vmctx *ctx;
	struct vcpu *v0, *v1, *v2, *bad;
	struct vm_exit e;

	kt_name(name, sizeof(name), "topo");
	ctx = vm_create(name);
	if (!ctx)
		tap_bail("vm_create: %s", strerror(errno));
	ok(vm_get_topology(ctx, &s, &c, &t, &m) == 0 && s == 1 && c == 1 &&
		   t == 1 && m == 1,
	   "default topology 1 socket, 1 core, 1 thread, 1 vCPU");
	is_int(vm_set_topology(ctx, 2, 2, 1, 4), 0, "set 2x2x1, 4 vCPUs");
	ok(vm_get_topology(ctx, &s, &c, &t, &m) == 0 && s == 2 && c == 2 &&
		   t == 1 && m == 4,
	   "get returns it");
	is_int(vm_set_topology(ctx, 0, 1, 1, 1), -EINVAL, "0 sockets refused");
	is_int(vm_set_topology(ctx, 1, 0, 1, 1), -EINVAL, "0 cores refused");
	is_int(vm_set_topology(ctx, 1, 1, 0, 1), -EINVAL, "0 threads refused");
	is_int(vm_set_topology(ctx, 2, 2, 1, 3), -EINVAL,
	       "fewer vCPUs than sockets*cores*threads refused");
	is_int(vm_set_topology(ctx, 1, 1, 1, VM_MAXCPU + 1), -EINVAL,
	       "more than VM_MAXCPU vCPUs refused");
	/*
	 * 16 * 49152 * 49152 is 9 << 32: a product computed in 32 bits is 0
	 * and passes for "no more than maxcpus".  Accepted, the topology
	 * later makes vmm_apic_id() overflow.
	 */
	is_int(vm_set_topology(ctx, 16, 49152, 49152, 1), -EINVAL,
	       "a topology whose product overflows 32 bits refused");
	is_int(vm_set_topology(ctx, 1, 2, 2, 5), 0, "set 1x2x2, 5 vCPUs");

	v0 = vm_vcpu_open(ctx, 0);
	v1 = vm_vcpu_open(ctx, 1);
	v2 = vm_vcpu_open(ctx, 2);
	bad = vm_vcpu_open(ctx, 5);
	if (!v0 || !v1 || !v2 || !bad)
		tap_bail("vm_vcpu_open: %s", strerror(errno));
	ok(vm_vcpu_open(ctx, -1) == NULL && errno == EINVAL,
	   "vm_vcpu_open(-1) fails: EINVAL");
	ok(vm_vcpu_open(ctx, VM_MAXCPU) == NULL && errno == EINVAL,
	   "vm_vcpu_open(VM_MAXCPU) fails: EINVAL");
	is_int(vm_run(v0, &e), -ENOENT, "VM_RUN of a vCPU not activated");
	is_int(vm_activate_cpu(bad), -EINVAL,
	       "activate a vCPU beyond the topology's maximum");
	is_int(vm_activate_cpu(v0), 0, "activate vCPU 0");
	is_int(vm_activate_cpu(v0), -EEXIST, "activate vCPU 0 again: EEXIST");
	is_int(vm_activate_cpu(v1), 0, "activate vCPU 1");
	is_int(vm_set_topology(ctx, 1, 1, 1, 1), -EBUSY,
	       "topology refused once a vCPU exists");
	ok(vm_get_topology(ctx, &s, &c, &t, &m) == 0 && s == 1 && c == 2 &&
		   t == 2 && m == 5,
	   "topology unchanged");

	ok(vm_active_cpus(ctx, &set) == 0 && set_is(&set, 0, 1),
	   "active set is {0, 1}");
	ok(vm_suspended_cpus(ctx, &set) == 0 && set_is(&set, -1, -1),
	   "suspended set is empty");
	ok(vm_debug_cpus(ctx, &set) == 0 && set_is(&set, -1, -1),
	   "debug set is empty");
	is_int(vm_suspend_cpu(v1), 0, "suspend vCPU 1");
	ok(vm_debug_cpus(ctx, &set) == 0 && set_is(&set, 1, -1),
	   "debug set is {1}");
	is_int(vm_suspend_cpu(v2), -ENOENT,
	       "suspend a vCPU not activated: ENOENT");
	is_int(vm_suspend_all_cpus(ctx), 0, "suspend all");
	ok(vm_debug_cpus(ctx, &set) == 0 && set_is(&set, 0, 1),
	   "debug set is {0, 1}");
	is_int(vm_resume_cpu(v0), 0, "resume vCPU 0");
	ok(vm_debug_cpus(ctx, &set) == 0 && set_is(&set, 1, -1),
	   "debug set is {1}");
	is_int(vm_resume_all_cpus(ctx), 0, "resume all");
	ok(vm_debug_cpus(ctx, &set) == 0 && set_is(&set, -1, -1),
	   "debug set is empty");

	is_int(vm_suspend(ctx, VM_SUSPEND_POWEROFF), 0, "VM_SUSPEND poweroff");
	ok(vm_suspended_cpus(ctx, &set) == 0 && set_is(&set, -1, -1),
	   "suspended set empty until a vCPU sees it");
	ok(vm_run(v1, &e) == 0 && e.exitcode == VM_EXITCODE_SUSPENDED,
	   "vCPU 1 returns SUSPENDED");
	ok(vm_suspended_cpus(ctx, &set) == 0 && set_is(&set, 1, -1),
	   "suspended set is {1}");
	ok(vm_run(v0, &e) == 0 && e.exitcode == VM_EXITCODE_SUSPENDED,
	   "vCPU 0 returns SUSPENDED");
	ok(vm_suspended_cpus(ctx, &set) == 0 && set_is(&set, 0, 1),
	   "suspended set is {0, 1}");
	ok(vm_active_cpus(ctx, &set) == 0 && set_is(&set, 0, 1),
	   "active set still {0, 1}");

	vm_vcpu_close(v0);
	vm_vcpu_close(v1);
	vm_vcpu_close(v2);
	vm_vcpu_close(bad);
	vm_destroy(ctx);
}

int main(void)
{
	kt_require_kvm();
	test_names();
	test_topology_cpus();
	return tap_done();
}
