/*
 * ctl_proto.h: the control socket's requests, apart from any socket: the
 * decoder that checks a message against the protocol (vmm_ctl.h), the
 * policy of what a client may ask, and the execution of a request over a
 * small set of operations on the VM (struct ctl_ops), which the server
 * implements over the debug core and libvmmapi and tests implement with a
 * fake.  Pure: no I/O, no state of its own, so that it can be fuzzed.
 *
 * Threads: no state; the caller serialises requests on one VM.
 */
#ifndef MONITOR_CTL_CTL_PROTO_H
#define MONITOR_CTL_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvmmapi/vmm_ctl.h"

/* What the server does with a command. */
enum ctl_policy {
	CTL_ANY, /* no vCPU state involved: done as it comes */
	CTL_CPU, /* a vCPU's state: that vCPU is stopped for it if it runs */
	CTL_MONITOR, /* the monitor's own: -EPERM */
	CTL_LOCAL, /* in-process only: -EOPNOTSUPP */
	CTL_STOP, /* VM_SUSPEND_CPU, VM_DBG_STOP: the core's stop */
	CTL_RESUME, /* VM_RESUME_CPU, VM_DBG_RESUME: the core's resume */
	CTL_CORE, /* VM_DBG_STEP, VM_DBG_BREAKPOINT: the core's services */
	CTL_SUSPEND, /* VM_SUSPEND: reset or power off, through the monitor */
	CTL_HELLO, /* the server answers */
	CTL_SUBSCRIBE, /* the server subscribes the connection */
	CTL_REGION, /* VM_CTL_REGION: the monitor's region maps */
	CTL_TRACE, /* VM_CTL_TRACE, _READ: the monitor's exit tracer */
	CTL_DUMP, /* VM_CTL_DUMP_CORE: the monitor writes a core dump */
};

struct ctl_cmd {
	uint32_t cmd; /* the full command number */
	const char *name;
	uint8_t policy; /* enum ctl_policy */
	int8_t cpuid_at; /* offset of the int32_t vCPU id, or -1 */
	uint8_t all_ok; /* cpuid -1 (all vCPUs) is allowed */
};

/* A decoded request: what the server needs to act and to reply. */
struct ctl_request {
	struct vm_ctl_hdr hdr; /* as received, as far as it was there */
	const struct ctl_cmd *cmd; /* NULL unless decoded */
	const uint8_t *arg; /* the struct, VMM_CMD_SIZE(hdr.cmd) bytes */
	int cpuid; /* the vCPU it is about, -1 all, -2 none */
};

/* The command table entry of cmd, or NULL. */
const struct ctl_cmd *ctl_cmd_find(uint32_t cmd);

/*
 * Decode one message of `len` bytes (the real length, which may exceed
 * what msg holds when len > VM_CTL_MSG_MAX: then only the header is
 * read) from a client of a VM with `ncpus` vCPUs.  0 with *req filled;
 * -errno (vmm_ctl.h lists them) with req->hdr holding what could be read
 * of cmd and seq, for the error reply.
 */
int ctl_request_decode(const void *msg, size_t len, unsigned int ncpus,
		       struct ctl_request *req);

/*
 * A header-only error reply to req in buf (at least a header): its
 * length.
 */
size_t ctl_error_reply(const struct ctl_request *req, int err, void *buf);

/* What a request does to the VM; the server's are over the debug core. */
struct ctl_ops {
	/* One command in-process (vm_command): 0 or -errno. */
	int (*command)(void *vm, uint32_t cmd, void *arg);
	/*
	 * Stop a vCPU quietly for one command, waiting up to timeout_ms,
	 * unless it is stopped already (*held false): 0, -ETIMEDOUT (then
	 * it runs on), or -errno.  unborrow lets a held one go again.
	 */
	int (*borrow)(void *vm, int cpuid, unsigned int timeout_ms, bool *held);
	void (*unborrow)(void *vm, int cpuid);
	/* The core's bounded stop (out may be NULL) and its resume. */
	int (*stop)(void *vm, int owner, int cpuid, unsigned int timeout_ms,
		    struct vm_dbg_stop *out);
	int (*resume)(void *vm, int owner, int cpuid);
	/*
	 * End the VM as the guest would by resetting or powering off
	 * (VM_SUSPEND_RESET or _POWEROFF): the monitor's way out, which
	 * also lets go vCPUs that a debugger holds.
	 */
	int (*suspend)(void *vm, int owner, uint32_t how);
	/* VM_CTL_REGION: region r->index (NULL: -EOPNOTSUPP). */
	int (*region)(void *vm, struct vm_ctl_region *r);
	/*
	 * VM_CTL_TRACE and VM_CTL_TRACE_READ (cmd) for the connection of
	 * owner (NULL: -EOPNOTSUPP).
	 */
	int (*trace)(void *vm, int owner, uint32_t cmd, void *arg);
	/* VM_CTL_DUMP_CORE (NULL: -EOPNOTSUPP). */
	int (*dump)(void *vm, struct vm_ctl_dump *d);
};

/* How long a vCPU may take to stop for one command. */
#define CTL_CMD_STOP_MS 2000

/*
 * Carry out a decoded request whose policy is neither CTL_HELLO nor
 * CTL_SUBSCRIBE, for the connection with owner id `owner` (-1: none
 * could be had), on `arg`, a writable copy of req->arg that becomes the
 * reply's struct.  0 or -errno, the reply's error.
 */
int ctl_execute(const struct ctl_ops *ops, void *vm, int owner,
		const struct ctl_request *req, void *arg);

/* Whether a request needs the connection's owner id. */
int ctl_needs_owner(const struct ctl_request *req);

#endif
