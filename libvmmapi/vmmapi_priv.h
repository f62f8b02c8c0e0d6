/*
 * vmmapi_priv.h: libvmmapi's handles and its two transports, shared by
 * vmmapi.c (the API and the in-process transport) and vmmapi_remote.c
 * (the control socket's client side).
 */
#ifndef VMMAPI_PRIV_H
#define VMMAPI_PRIV_H

#include "libvmmapi/vmm_ctl.h"
#include "libvmmapi/vmmapi.h"

struct vmm;
struct vm_remote;

struct vmctx {
	struct vmm *vmm; /* in-process: the VM this process created */
	struct vm_remote *remote; /* remote: a connection to its monitor */
	/* remote: what the monitor said of the VM (name NUL-terminated) */
	struct vm_ctl_hello hello;
	size_t lowmem; /* system memory below the PCI hole */
	size_t highmem; /* system memory from VM_HIGHMEM_BASE */
	/* opened with vm_open_transport: the caller's transport */
	const struct vm_transport_ops *tops;
	void *targ;
	vm_services_fn *services; /* in-process: the monitor's services */
	void *services_arg;
};

struct vcpu {
	struct vmctx *ctx;
	int id;
};

/*
 * The control socket's client.  vm_remote_open connects to the VM named
 * `name` and says hello (0, or -errno: -ENOENT no such VM, -ECONNREFUSED
 * its monitor is gone, -EPROTONOSUPPORT another ABI version...).
 * vm_remote_call sends one request and waits for its reply, keeping the
 * events that arrive meanwhile; it is thread-safe.  The event functions
 * are vm_event_fd and vm_event_next's (vmmapi.h).
 */
int vm_remote_open(const char *name, struct vm_remote **out,
		   struct vm_ctl_hello *hello);
int vm_remote_call(struct vm_remote *r, uint32_t cmd, void *arg);
void vm_remote_set_timeout(struct vm_remote *r, unsigned int ms);
int vm_remote_event_fd(struct vm_remote *r);
int vm_remote_event_next(struct vm_remote *r, struct vm_event *ev,
			 int timeout_ms);
void vm_remote_close(struct vm_remote *r);

#endif
