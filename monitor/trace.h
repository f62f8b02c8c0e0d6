/*
 * trace.h: the monitor's VM-exit tracer.  It drains vmm's per-vCPU rings
 * (and, when asked, the in-kernel exits of trace_kernel.h) into one
 * recording (a trace file: `vitro -T FILE,SPEC` or VM_CTL_TRACE RECORD)
 * and into the live watches of control-socket clients (VM_CTL_TRACE
 * WATCH, VM_CTL_TRACE_READ), each with its own filter.
 *
 * Threads.  trace_create and trace_destroy on the main thread; the
 * control functions on the main thread (the control socket's); the
 * tracer's own thread drains.  One mutex guards the recording, the
 * watches and vmm's trace commands.
 */
#ifndef MONITOR_TRACE_H
#define MONITOR_TRACE_H

#include <stddef.h>

#include "libvmmapi/vmmapi.h"

struct vitro;
struct vitro_trace;

/*
 * The tracer, recording from the start when vm->opt.trace (-T) says so.
 * Before the vCPUs run; NULL with err written when -T cannot be honoured
 * (a bad spec, a file that cannot be created) or the tracer cannot start.
 */
struct vitro_trace *trace_create(struct vitro *vm, char *err, size_t errlen);

/*
 * After the vCPU threads ended: what the rings still hold goes to the
 * file, which gets its END; then everything is freed.
 */
void trace_destroy(struct vitro_trace *t);

/* VM_CTL_TRACE for the connection of owner id `owner`: 0 or -errno. */
int trace_control(struct vitro_trace *t, int owner, struct vm_ctl_trace *a);

/* VM_CTL_TRACE_READ for that connection: 0 or -errno. */
int trace_fetch(struct vitro_trace *t, int owner, struct vm_ctl_trace_read *a);

/* The connection of owner went: its watch ends. */
void trace_owner_gone(struct vitro_trace *t, int owner);

#endif
