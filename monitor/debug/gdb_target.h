/*
 * debug/gdb_target.h: the gdb stub's target (gdbstub/gdb_target.h) on top
 * of the debug core, gdb being one owner among the core's clients.
 *
 * The adapter takes an owner id ("gdb") and a subscription to the bus.
 * Its target operations are the core's requests with that owner; its pump
 * turns the bus's events into the stub's stop events:
 * - a breakpoint or watchpoint of gdb's own: the stop gdb expects
 *   (swbreak, hwbreak, watch, rwatch, awatch);
 * - a step gdb asked for: a step;
 * - a vCPU that stopped for anything else (another owner's breakpoint or
 *   watchpoint or step, a message of the core's): a plain SIGTRAP stop,
 *   which the stub never drops as stale, so the VM stays stopped and gdb
 *   hears of it;
 * - another owner's stop request while gdb waits for a stop: SIGINT;
 * - the VM's end: W.
 * While no debugger is attached, nothing but the end is passed on: the
 * stub would resume the guest on a stop that was not its own.
 *
 * Threads: the control thread only, as the stub.
 */
#ifndef MONITOR_DEBUG_GDB_TARGET_H
#define MONITOR_DEBUG_GDB_TARGET_H

#include <stdbool.h>

#include "gdbstub/gdb_target.h"
#include "monitor/debug/debug.h"

struct dbg_gdb;

/* NULL with errno set (EUSERS when the core has no owner id left). */
struct dbg_gdb *dbg_gdb_create(struct dbg_core *d, struct gdb_events *events);
/* Frees the owner: whatever gdb left inserted goes with it. */
void dbg_gdb_destroy(struct dbg_gdb *g);
struct gdb_target dbg_gdb_target(struct dbg_gdb *g);
/*
 * The ELF whose symbols find the kernel's KASLR slide for qOffsets (kept
 * by reference; read at the first qOffsets); without it, -k's file.
 */
void dbg_gdb_set_symbols(struct dbg_gdb *g, const char *path);
/* Readable when the bus has events for gdb: then call dbg_gdb_pump. */
int dbg_gdb_fd(const struct dbg_gdb *g);
/*
 * Move the bus's events into the stub's queue.  active: a debugger is
 * attached; running: it waits for a stop reply (gdb_stub_running).
 */
void dbg_gdb_pump(struct dbg_gdb *g, bool active, bool running);

#endif
