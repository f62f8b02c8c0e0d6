/* introspect/cmd_debug.c: placeholder, filled in by its owner. */
#include "introspect/isp_int.h"

static const struct isp_cmd break_cmds[] = { { NULL } };
const struct isp_group isp_group_break = { .name = "break", .summary = "(not yet)", .cmds = break_cmds, .tcl_break = true };
static const struct isp_cmd watch_cmds[] = { { NULL } };
const struct isp_group isp_group_watch = { .name = "watch", .summary = "(not yet)", .cmds = watch_cmds };
static const struct isp_cmd on_cmds[] = { { NULL } };
const struct isp_group isp_group_on = { .name = "on", .summary = "(not yet)", .cmds = on_cmds };

void isp_dbg_event(struct isp *isp, const struct vm_event *ev)
{
}

void isp_dbg_detach(struct isp *isp)
{
}
