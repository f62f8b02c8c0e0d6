/*
 * trace_kernel.c: the in-kernel exit source (trace_kernel.h), not built
 * yet: it says so, and recordings go on without it.
 */
#include <errno.h>
#include <stdio.h>

#include "monitor/trace_kernel.h"

struct trace_kernel *trace_kernel_open(const pid_t *tids, const int *vcpus,
				       unsigned int n, char *why, size_t whylen)
{
	(void)tids;
	(void)vcpus;
	(void)n;
	snprintf(why, whylen, "this vitro reads no kvm tracepoints yet");
	errno = ENOSYS;
	return NULL;
}

int trace_kernel_drain(struct trace_kernel *tk, trace_kernel_emit_fn *emit,
		       void *arg, uint64_t *lost)
{
	(void)tk;
	(void)emit;
	(void)arg;
	(void)lost;
	return -ENOSYS;
}

const char *trace_kernel_isa(const struct trace_kernel *tk)
{
	(void)tk;
	return "";
}

void trace_kernel_close(struct trace_kernel *tk)
{
	(void)tk;
}
