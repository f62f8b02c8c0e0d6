/*
 * gdb_stub.h: the GDB remote serial protocol server, independent of the
 * transport and of the machine.
 *
 * The stub is fed the bytes a debugger sent (gdb_stub_input) and writes
 * its answers through a callback, so the control thread owns the socket
 * and tests use memory buffers.  It drives a struct gdb_target
 * (gdb_target.h) and takes stop events from a struct gdb_events queue.
 *
 * Sessions.  One debugger at a time: the transport calls
 * gdb_stub_attach() when a connection opens (which stops every vCPU, as
 * attaching does in gdb), gdb_stub_detach() when it closes (which removes
 * every breakpoint and watchpoint and resumes the guest), and refuses a
 * second connection while gdb_stub_active() says a session is open.  A
 * session also ends on gdb's 'D' and 'k'; the transport then closes the
 * connection when gdb_stub_active() turns false.
 *
 * Threads: every function here runs in the control thread, which owns the
 * stub.  Only the event queue is shared with vCPU threads.  Poll
 * gdb_events_fd() for readability and call gdb_stub_poll() when it is.
 *
 * Memory is bounded: buffers of about GDB_PACKET_SIZE are allocated at
 * creation, and the breakpoint list is capped (GDB_STUB_MAX_BREAKPOINTS).
 */
#ifndef GDB_STUB_H
#define GDB_STUB_H

#include <stdbool.h>
#include <stddef.h>

#include "gdbstub/gdb_packet.h"
#include "gdbstub/gdb_target.h"
#include "gdbstub/gdb_x86.h"

/* Breakpoints and watchpoints one session may have inserted at once. */
#define GDB_STUB_MAX_BREAKPOINTS 4096

/*
 * Write len bytes to the debugger.  The stub does not retry: a transport
 * that cannot write should drop the connection (and call
 * gdb_stub_detach).  The return value is ignored.
 */
typedef int (*gdb_stub_write_fn)(void *opaque, const void *buf, size_t len);

struct gdb_stub;

/*
 * A stub serving target t, taking stop events from q, with register
 * description `layout`.  The target and the queue must outlive the stub.
 * NULL with errno set on failure.
 */
struct gdb_stub *gdb_stub_create(const struct gdb_target *t,
				 struct gdb_events *q,
				 enum gdb_x86_layout layout,
				 gdb_stub_write_fn write, void *write_opaque);
/* Detaches first if a session is open. */
void gdb_stub_destroy(struct gdb_stub *s);

/*
 * A debugger connected: start a session and stop every vCPU.  -EBUSY when
 * a session is already open, or the target's error from stop_all().
 */
int gdb_stub_attach(struct gdb_stub *s);
/* The connection is gone: remove all breakpoints, resume, end the session. */
void gdb_stub_detach(struct gdb_stub *s);
/* Whether a session is open. */
bool gdb_stub_active(const struct gdb_stub *s);
/* Whether gdb has resumed the target and waits for a stop reply. */
bool gdb_stub_running(const struct gdb_stub *s);

/* Bytes from the debugger, in pieces of any size.  Ignored with no session. */
void gdb_stub_input(struct gdb_stub *s, const void *buf, size_t len);
/* The event queue's fd is readable: take stop events and report them. */
void gdb_stub_poll(struct gdb_stub *s);

#endif
