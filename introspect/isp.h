/*
 * introspect/isp.h: the vitro console's command set, for any Tcl 8.6
 * interpreter: the one vitro runs (--console, -S, gdb's `monitor`), the
 * one vitroctl runs (shell, eval), and a plain tclsh that did `package
 * require vitro`.  DESIGN.md, "The vmm command set": the commands reach
 * the VM only through libvmmapi, on a handle with the control socket's
 * semantics (vm_open, or vm_open_transport in the monitor), so the three
 * consoles behave alike.
 *
 * The commands live in the namespace ::vitro (vm, vcpu, mem, translate,
 * disas, sym, type, print, list, break, watch, on, help, attach, detach)
 * and are exported; isp_init with import_global also imports them into
 * the global namespace, as the consoles do.  They return Tcl values
 * (lists, dicts); printing is the shell's business.  Errors are Tcl
 * errors with a message naming what was wrong and an errorCode list
 * starting with VITRO (isp_int.h lists the codes).
 *
 * Threads: an interpreter is used by the thread that created it (Tcl's
 * rule); nothing here starts threads.
 */
#ifndef INTROSPECT_ISP_H
#define INTROSPECT_ISP_H

#include <stdbool.h>

#include <tcl.h>

struct vmctx;

/*
 * Create the commands in interp (and the interp's console state, freed
 * with the interp).  Commands that need a VM fail with a message until
 * one is attached.  TCL_OK or TCL_ERROR with the interp's result set.
 */
int isp_init(Tcl_Interp *interp, bool import_global);

/*
 * Attach the console to a VM: ctx must have remote semantics
 * (vm_is_remote).  With own, the console closes ctx when it detaches or
 * the interp is deleted.  Subscribes to the VM's events, which hooks and
 * breakpoint callbacks run on.  A VM attached before is detached first.
 */
int isp_attach(Tcl_Interp *interp, struct vmctx *ctx, bool own);
void isp_detach(Tcl_Interp *interp);

/*
 * Events.  isp_event_fd is readable while events of the attached VM may
 * be waiting (-1 without a VM); the caller's loop watches it and calls
 * isp_dispatch_events, which runs the hooks and callbacks of the events
 * queued now and returns without waiting.  In a tclsh (package require)
 * the package does this itself through Tcl's notifier.
 */
int isp_event_fd(Tcl_Interp *interp);
void isp_dispatch_events(Tcl_Interp *interp);

/*
 * Where asynchronous messages go (an error in a hook, a hook disabled, a
 * VM that went away): a line without its newline.  Default: stderr.
 */
typedef void isp_report_fn(void *arg, const char *line);
void isp_set_report(Tcl_Interp *interp, isp_report_fn *fn, void *arg);

/*
 * What the console does differently inside vitro (NULL members: the
 * default).
 */
struct isp_monitor_ops {
	/*
	 * `exit N`: what ending means for this console (the VM in vitro,
	 * the shell in vitroctl); the script then unwinds with errorCode
	 * {VITRO EXIT N}, which catch cannot stop.
	 */
	void (*exit)(void *arg, int status);
};
void isp_set_monitor(Tcl_Interp *interp, const struct isp_monitor_ops *ops,
		     void *arg);

/* The package's entry point: package require vitro. */
int Vitro_Init(Tcl_Interp *interp);

#endif
