/*
 * unix_socket.h: listening unix sockets that are safe to create in a
 * shared place, for the control socket (ctl_server.c) and the gdb
 * server's -G unix:PATH.
 *
 * A socket is created with mode 0600, set on the socket before bind() so
 * that the path never exists with more.  A socket left at the path by a
 * process that is gone (nothing listens) is replaced; one that a live
 * process listens on is -EADDRINUSE; anything else at the path (a regular
 * file, a directory, a symlink, a fifo) is an error and is never removed.
 *
 * Threads: no state; callable from any thread.
 */
#ifndef MONITOR_CTL_UNIX_SOCKET_H
#define MONITOR_CTL_UNIX_SOCKET_H

#include <stddef.h>

/*
 * Listen on `path` with a socket of `type` (SOCK_STREAM, SOCK_SEQPACKET),
 * close-on-exec and non-blocking.  The fd, or -errno with a message in err
 * that names the path: -EADDRINUSE when a live process serves it, -EEXIST
 * when something that is not a socket is there, -ENAMETOOLONG...
 */
int unix_socket_listen(const char *path, int type, int backlog, char *err,
		       size_t errlen);

/*
 * Make sure `dir` is a private directory of ours: created mode 0700 when
 * missing (its parent must exist); refused when it is not a directory (a
 * symlink included), belongs to another user, or is open to the group or
 * others.  0, or -errno with a message in err saying what to fix.
 */
int unix_socket_private_dir(const char *dir, char *err, size_t errlen);

#endif
