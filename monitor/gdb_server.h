/*
 * gdb_server.h: the gdb stub's transport in the monitor: `-G` parsing, the
 * listening socket (TCP or unix) in the event loop, one debugger at a
 * time, driving the VM's debug core (monitor/debug/) as one of its owners.
 *
 * Threads: everything here runs in the main thread, which also runs the
 * event loop, except gdb_server_parse, which is pure.
 */
#ifndef MONITOR_GDB_SERVER_H
#define MONITOR_GDB_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "gdbstub/gdb_x86.h"

struct vitro;
struct gdb_server;

struct gdb_server_config {
	bool wait; /* hold the guest until gdb attaches */
	bool is_unix; /* a unix socket at path */
	char host[256]; /* TCP: address to listen on */
	char port[16]; /* TCP: port (0: any free port) */
	char path[108]; /* unix: socket path */
	enum gdb_x86_layout layout; /* register description */
	char sym[4096]; /* sym=FILE: the kernel's symbols for qOffsets */
};

/*
 * -G [w][addr:]port[,arch=x86-64|i386|i8086][,sym=FILE] or
 * -G [w]unix:PATH[,...].  The address may be a name, an IPv4 address or
 * [an IPv6 address]; it is 127.0.0.1 unless given.  sym= (last: the file
 * name may hold commas) names the ELF whose symbols find the kernel's
 * KASLR slide for qOffsets, for a kernel booted from a file without them
 * (a bzImage); -k's file otherwise.  0 or -EINVAL with a message in err.
 */
int gdb_server_parse(const char *spec, struct gdb_server_config *cfg, char *err,
		     size_t errlen);

/*
 * Create the stub on the VM's debug core (vm->dbg, which must exist; with
 * wait, main created it holding every vCPU) and listen.  A port in use is
 * retried every second with the VM running (or held, with wait), as a
 * message says.  NULL with a message in err.  Call before the vCPU
 * threads start.
 */
struct gdb_server *gdb_server_start(struct vitro *vm,
				    const struct gdb_server_config *cfg,
				    char *err, size_t errlen);

/* The VM ended with `status`: tell an attached debugger (W packet). */
void gdb_server_vm_ended(struct gdb_server *gs, int status);

/* Close the connection and the listening socket, free everything. */
void gdb_server_stop(struct gdb_server *gs);

#endif
