/*
 * trace_kernel.h: the exits KVM handles inside the host kernel, which
 * never reach user space, read from the kvm:kvm_exit and kvm:kvm_entry
 * tracepoints of the VM's vCPU threads (perf_event_open on each thread,
 * CLOCK_MONOTONIC timestamps, one mmap ring per event).  Each kvm_exit is
 * paired with the next kvm_entry of the same thread into one kernel
 * record (vm_trace.h: source VM_TRACE_KERNEL, the hardware reason with
 * VM_TRACE_F_VMX or VM_TRACE_F_SVM, info1 in addr and info2 in data).
 *
 * Needs the tracepoints (tracefs, a kernel with KVM tracing) and the
 * right to open them (root, or perf_event_paranoid permitting).  When any
 * is missing, trace_kernel_open fails with a message that says which and
 * what would fix it; the trace then says the source is off and why.
 *
 * Threads.  Opened, drained and closed by one thread (the monitor's trace
 * thread); the vCPU threads it watches need not cooperate.
 */
#ifndef TRACE_KERNEL_H
#define TRACE_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libvmmapi/vm_trace.h"

struct trace_kernel;

/*
 * Watch the threads tids[i], which run vCPU vcpus[i].  NULL with errno
 * set and why (a sentence for the user) written.
 */
struct trace_kernel *trace_kernel_open(const pid_t *tids, const int *vcpus,
				       unsigned int n, char *why,
				       size_t whylen);

/*
 * Take what the rings hold: emit is called for each finished kernel
 * record, in order per vCPU.  Returns the number emitted, or -errno.
 * *lost (may be NULL) is increased by the events the kernel dropped.
 */
typedef void trace_kernel_emit_fn(void *arg, const struct vm_trace_rec *rec);
int trace_kernel_drain(struct trace_kernel *tk, trace_kernel_emit_fn *emit,
		       void *arg, uint64_t *lost);

/* "vmx", "svm", or "" while no exit was seen. */
const char *trace_kernel_isa(const struct trace_kernel *tk);

void trace_kernel_close(struct trace_kernel *tk);

#endif
