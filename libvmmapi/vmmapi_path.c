/*
 * vmmapi_path.c: where a VM's control socket lives, for the monitor that
 * serves it and the clients that open it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libvmmapi/vmmapi.h"

int vm_ctl_runtime_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/vitro");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/vitro", xdg);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int vm_ctl_socket_path(const char *name, char *buf, size_t len)
{
	char dir[256];
	int n, r;

	if ((r = vm_ctl_runtime_dir(dir, sizeof(dir))) < 0)
		return r;
	n = snprintf(buf, len, "%s/%s.sock", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
