/*
 * vitroctl/trace.h: `vitroctl trace VERB ...`, the VM-exit trace from the
 * command line: record, stop, status and stats on a running VM (through
 * its control socket), report, plot and export of a trace file (no VM).
 */
#ifndef MONITOR_VITROCTL_TRACE_H
#define MONITOR_VITROCTL_TRACE_H

#include <stdbool.h>

struct vmctx;

/* Whether verb works on a running VM (--vm) rather than on a file. */
bool vitroctl_trace_needs_vm(const char *verb);

/*
 * Run `trace argv[0] argv[1...]` (argc >= 1); ctx is the VM for the verbs
 * that need one, else NULL.  The process's exit status: 0 done, 1 failed
 * (the message on stderr), 2 a bad command line.
 */
int vitroctl_trace(struct vmctx *ctx, int argc, char **argv);

/* The verbs' usage lines, for vitroctl --help. */
extern const char vitroctl_trace_usage[];

#endif
