/*
 * monitor/dump.h: VM_CTL_DUMP_CORE - the guest's core dump written by
 * the monitor (monitor/coredump.h has the layout).
 *
 * Threads: the control thread (the control socket's handler).
 */
#ifndef MONITOR_DUMP_H
#define MONITOR_DUMP_H

#include "libvmmapi/vmmapi.h"

struct vitro;
struct dbg_core;

/*
 * Stop every vCPU (core's borrow, bounded), write d->path, let the vCPUs
 * that ran go again.  0 with d's out fields, or -errno with d->error.
 */
int vitro_dump_core(struct vitro *vm, struct dbg_core *core,
		    struct vm_ctl_dump *d);

#endif
