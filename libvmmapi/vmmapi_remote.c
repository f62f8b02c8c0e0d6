/*
 * vmmapi_remote.c: the control socket's client side (vmm_ctl.h).
 * Not written yet: vm_open() says so.
 */
#include <errno.h>

#include "libvmmapi/vmmapi_priv.h"

int vm_remote_open(const char *name, struct vm_remote **out,
		   struct vm_ctl_hello *hello)
{
	return -ENOSYS;
}

int vm_remote_call(struct vm_remote *r, uint32_t cmd, void *arg)
{
	return -ENOSYS;
}

void vm_remote_close(struct vm_remote *r)
{
}
