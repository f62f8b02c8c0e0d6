/* introspect/cmd_debug.c: placeholder, filled in by its owner. */
#include <errno.h>

#include "introspect/isp_int.h"

static const struct isp_cmd break_cmds[] = { { NULL } };
const struct isp_group isp_group_break = { .name = "break",
					   .summary = "(not yet)",
					   .cmds = break_cmds,
					   .tcl_break = true };
static const struct isp_cmd watch_cmds[] = { { NULL } };
const struct isp_group isp_group_watch = { .name = "watch",
					   .summary = "(not yet)",
					   .cmds = watch_cmds };
static const struct isp_cmd on_cmds[] = { { NULL } };
const struct isp_group isp_group_on = { .name = "on",
					.summary = "(not yet)",
					.cmds = on_cmds };

void isp_dbg_event(struct isp *isp, const struct vm_event *ev)
{
}

void isp_dbg_detach(struct isp *isp)
{
}

int isp_dbg_wait(struct isp *isp, Tcl_Interp *interp, uint32_t mask, int cpu,
		 int timeout_ms, struct vm_event *ev)
{
	Tcl_Time now, end;

	Tcl_GetTime(&end);
	end.sec += timeout_ms / 1000;
	end.usec += (timeout_ms % 1000) * 1000;
	for (;;) {
		long left = -1;
		int r;

		if (!isp->ctx)
			return isp_error(interp, "NOVM", "the VM is gone");
		if (timeout_ms >= 0) {
			Tcl_GetTime(&now);
			left = (end.sec - now.sec) * 1000 +
			       (end.usec - now.usec) / 1000;
			if (left < 0)
				left = 0;
		}
		r = vm_event_next(isp->ctx, ev, left < 0 ? 1000 : (int)left);
		if (r == -ETIMEDOUT && (left < 0 || left > 0))
			continue;
		if (r == -ETIMEDOUT)
			return isp_error(interp, "BUSY",
					 "no such event within %d ms",
					 timeout_ms);
		if (r < 0)
			return isp_errno(interp, r, "waiting for the VM");
		isp_dbg_event(isp, ev);
		if (((1u << ev->type) & mask) &&
		    (cpu < 0 || ev->cpuid == cpu || ev->cpuid < 0))
			return TCL_OK;
		if (ev->type == VM_EVENT_END)
			return isp_error(interp, "NOVM",
					 "the VM ended (status %d)",
					 ev->status);
	}
}
