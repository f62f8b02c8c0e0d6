/*
 * vmmapi_path.c: where a VM's control socket lives, for the monitor that
 * serves it and the clients that open it.  A user without
 * XDG_RUNTIME_DIR (a container, a cron job) gets /tmp/vitro-UID, as tmux
 * does; the monitor creates it 0700 and refuses one that is not the
 * user's own or is open to others (monitor/ctl/unix_socket.c).
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
		n = snprintf(buf, len, "/tmp/vitro-%u", (unsigned)geteuid());
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
