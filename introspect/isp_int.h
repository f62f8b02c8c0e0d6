/*
 * introspect/isp_int.h: what the console's command files share - the
 * console's state, the command tables, and helpers for arguments,
 * errors and guest memory.
 *
 * Command tables (STYLE.md: "Tcl commands come from tables"): each
 * command family is a struct isp_group of subcommands, each with its
 * usage and help; isp.c turns a group into an ensemble-like command
 * (unique prefixes accepted, `GROUP help` and `help GROUP` print the
 * table) and test-help checks that every entry has help.  A plain
 * command (translate, disas, print) is a group with one entry named "".
 *
 * Two names meet Tcl's own: `break` with no argument is still Tcl's
 * break (so loops keep working where the commands are imported), and
 * the list walk is `walk`, leaving `list` to Tcl.
 *
 * Handlers get objv[0] = the subcommand word (the command for a plain
 * one), return TCL_OK with a Tcl value as result, or TCL_ERROR through
 * isp_error / isp_errno, which set errorCode to a list starting with
 * VITRO and one of these codes:
 *   USAGE    wrong arguments (the message is "wrong # args: should be ..."
 *            or names the bad option or value)
 *   NOVM     no VM attached
 *   VALUE    a value that does not parse (address, register, number)
 *   FAULT    an address that is not mapped or not memory
 *   NOSYM    a symbol or type not found
 *   NOFILE   a file that cannot be read or parsed
 *   POSIX    an errno from libvmmapi: {VITRO POSIX ENAME message}
 *   BUSY     the VM or a vCPU is not in a state for the request
 *   EXIT     {VITRO EXIT N}: a console's `exit N` unwinding to its shell
 * Threads: the interp's thread only.
 */
#ifndef INTROSPECT_ISP_INT_H
#define INTROSPECT_ISP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <tcl.h>

#include "introspect/isp.h"
#include "libvmmapi/vmmapi.h"

struct isp;
struct isp_syms; /* cmd_sym.c */
struct isp_types; /* cmd_type.c */
struct isp_dbg; /* cmd_debug.c: breakpoints, watchpoints, hooks */

typedef int isp_cmd_fn(struct isp *isp, Tcl_Interp *interp, int objc,
		       Tcl_Obj *const objv[]);

#define ISP_VM 0x1 /* needs an attached VM */

struct isp_cmd {
	const char *name; /* the subcommand; "" for a plain command */
	isp_cmd_fn *fn;
	const char *usage; /* its arguments, as "?-phys? ADDR ?LEN?" */
	const char *help; /* what it does and returns */
	unsigned int flags; /* ISP_* */
};

struct isp_group {
	const char *name; /* the command */
	const char *summary; /* one line, for `help` */
	const struct isp_cmd *cmds; /* ends with a NULL name */
	bool tcl_break; /* no arguments: Tcl's break (TCL_BREAK) */
};

/* The families, one file each (cmd_*.c). */
extern const struct isp_group isp_group_vm, isp_group_vcpu, isp_group_mem,
	isp_group_translate, isp_group_disas, isp_group_sym, isp_group_type,
	isp_group_print, isp_group_walk, isp_group_break, isp_group_watch,
	isp_group_on, isp_group_trace;
/* All of them, in help's order, NULL-terminated (isp.c). */
extern const struct isp_group *const isp_groups[];

/* One console: the per-interp state (assoc data "vitro"). */
struct isp {
	Tcl_Interp *interp;
	struct vmctx *ctx; /* NULL: not attached */
	bool own; /* close ctx on detach */
	int ncpus;
	struct vcpu *vcpu[VM_MAXCPU]; /* opened on first use */
	int cpu; /* the selected vCPU (vcpu select) */
	struct vm_ctl_hello info; /* what the monitor said at attach */
	int evfd; /* tclsh: the event fd watched by Tcl's notifier, or -1 */
	isp_report_fn *report;
	void *report_arg;
	const struct isp_monitor_ops *mon;
	void *mon_arg;
	struct isp_syms *syms; /* cmd_sym.c */
	struct isp_types *types; /* cmd_type.c */
	struct isp_dbg *dbg; /* cmd_debug.c */
};

/* The console of interp (never NULL once isp_init ran). */
struct isp *isp_get(Tcl_Interp *interp);

/* Errors: TCL_ERROR, with the message and errorCode {VITRO code ...}. */
int isp_error(Tcl_Interp *interp, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* err is -errno: "message: strerror", errorCode {VITRO POSIX ENAME ...}. */
int isp_errno(Tcl_Interp *interp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "wrong # args: should be \"CMD SUB USAGE\"", code USAGE. */
int isp_usage(Tcl_Interp *interp, Tcl_Obj *const objv[], const char *usage);
/* An asynchronous message through the console's report function. */
void isp_report(struct isp *isp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* TCL_OK when a VM is attached, else a NOVM error. */
int isp_need_vm(struct isp *isp, Tcl_Interp *interp);
/* vCPU `cpu` of the attached VM (opened on first use), or NULL. */
struct vcpu *isp_vcpu(struct isp *isp, int cpu);

/* Values. */
/* An unsigned 64-bit number: decimal, 0x hex, 0o/0b, or a negative one. */
int isp_get_u64(Tcl_Interp *interp, Tcl_Obj *obj, uint64_t *out);
/*
 * An address: a number, a symbol of a loaded ELF (isp_sym_resolve), or
 * SYMBOL+OFFSET / SYMBOL-OFFSET.
 */
int isp_get_addr(struct isp *isp, Tcl_Interp *interp, Tcl_Obj *obj,
		 uint64_t *out);
/* A vCPU id of the attached VM. */
int isp_get_cpu(struct isp *isp, Tcl_Interp *interp, Tcl_Obj *obj, int *out);
/* "0x%llx" as a Tcl object (addresses in results are hex strings). */
Tcl_Obj *isp_hex(uint64_t v);

/*
 * Options: the leading "-name ?value?" words of objv from *i on, up to
 * the first word that is not one of opts (or after "--"); *i is left on
 * it.  Unknown options are a USAGE error naming the valid ones.
 */
enum isp_opt_kind {
	ISP_OPT_FLAG, /* bool: set when present */
	ISP_OPT_INT, /* int */
	ISP_OPT_U64, /* uint64_t */
	ISP_OPT_ADDR, /* uint64_t through isp_get_addr */
	ISP_OPT_CPU, /* int through isp_get_cpu */
	ISP_OPT_STR, /* const char * (valid while objv is) */
	ISP_OPT_OBJ, /* Tcl_Obj * (not ref-counted) */
};
struct isp_opt {
	const char *name; /* with its dash: "-phys" */
	enum isp_opt_kind kind;
	void *dst;
};
int isp_opts(struct isp *isp, Tcl_Interp *interp, int objc,
	     Tcl_Obj *const objv[], int *i, const struct isp_opt *opts);

/*
 * Guest memory, for every command that reads it: by guest-physical
 * address (phys) or by virtual address through vCPU cpu's paging.  The
 * bytes done (fewer than len at an unmapped page or non-memory), or
 * -EFAULT when not even the first byte is there, or -errno.
 */
ssize_t isp_mem_read(struct isp *isp, int cpu, bool phys, uint64_t addr,
		     void *buf, size_t len);
ssize_t isp_mem_write(struct isp *isp, int cpu, bool phys, uint64_t addr,
		      const void *buf, size_t len);
/*
 * Read exactly len bytes or fail with a FAULT error naming the first
 * address that could not be read.
 */
int isp_mem_read_all(struct isp *isp, Tcl_Interp *interp, int cpu, bool phys,
		     uint64_t addr, void *buf, size_t len);

/* Symbols (cmd_sym.c), for every command that names or shows addresses. */
/* 0 and *addr, or -ENOENT. */
int isp_sym_resolve(struct isp *isp, const char *name, uint64_t *addr);
/* "name" or "name+0x1c" for addr into buf; -ENOENT when none covers it. */
int isp_sym_describe(struct isp *isp, uint64_t addr, char *buf, size_t len);
/* Candidates for completion: symbol names starting with prefix. */
Tcl_Obj *isp_sym_complete(struct isp *isp, const char *prefix);
void isp_sym_free(struct isp *isp);
void isp_types_free(struct isp *isp);

/* Breakpoints, watchpoints and hooks (cmd_debug.c). */
/*
 * An event as the dict hooks, callbacks and waits return: event (stop,
 * breakpoint, watchpoint, step, resume, end, message), cpu (-1: none),
 * addr (hex), kind (a hit's: sw hw write read access; else ""), owner
 * (who asked a stop, resume or message; -1 none), owners (a hit's owner
 * ids), status (end's exit status), msg.
 */
Tcl_Obj *isp_event_dict(const struct vm_event *ev);
/* How long the hooks and callbacks of one event may run. */
#define ISP_HOOK_LIMIT_MS 10000

/*
 * Run `script ARG` at global level, the interp's state kept (cmd_debug.c;
 * hooks, breakpoint and trace callbacks).  TCL_OK (TCL_RETURN counts as
 * OK) with *zero, when zero is not NULL, telling whether the result is
 * the integer 0; or TCL_ERROR with *msg the first line of the error
 * message (a new object with one reference).
 */
int isp_run_script(struct isp *isp, Tcl_Obj *script, Tcl_Obj *arg, bool *zero,
		   Tcl_Obj **msg);
/* One event of the attached VM: run the hooks and callbacks it concerns. */
void isp_dbg_event(struct isp *isp, const struct vm_event *ev);
/* The VM is being detached: forget what belongs to it. */
void isp_dbg_detach(struct isp *isp);
/*
 * Wait up to timeout_ms (-1: no limit) for an event whose type is in
 * mask (1 << enum vm_event_type) and, when cpu >= 0, concerns that vCPU;
 * events that come first run their hooks as usual.  TCL_OK with *ev, or
 * TCL_ERROR: a BUSY error on timeout, NOVM when the VM went away (an END
 * event counts as matching when it is in mask).
 */
int isp_dbg_wait(struct isp *isp, Tcl_Interp *interp, uint32_t mask, int cpu,
		 int timeout_ms, struct vm_event *ev);

/* VM-exit traces (cmd_trace.c). */
/* A VM_EVENT_TRACE: run `trace on`'s callback for the records waiting. */
void isp_trace_event(struct isp *isp, const struct vm_event *ev);
/* The VM is being detached: the watch ends with its connection. */
void isp_trace_detach(struct isp *isp);
/*
 * The consoles' global `trace`: vitro's verbs to vitro::trace, the rest
 * to Tcl's own, renamed ::tcl::trace::builtin.
 */
int isp_trace_global(Tcl_Interp *interp);

#endif
