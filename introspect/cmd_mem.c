/* introspect/cmd_mem.c: placeholder, filled in by its owner. */
#include "introspect/isp_int.h"

static const struct isp_cmd mem_cmds[] = { { NULL } };
const struct isp_group isp_group_mem = { .name = "mem",
					 .summary = "(not yet)",
					 .cmds = mem_cmds };
static const struct isp_cmd translate_cmds[] = { { NULL } };
const struct isp_group isp_group_translate = { .name = "translate",
					       .summary = "(not yet)",
					       .cmds = translate_cmds };
