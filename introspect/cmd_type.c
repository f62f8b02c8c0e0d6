/* introspect/cmd_type.c: placeholder, filled in by its owner. */
#include "introspect/isp_int.h"

static const struct isp_cmd type_cmds[] = { { NULL } };
const struct isp_group isp_group_type = { .name = "type",
					  .summary = "(not yet)",
					  .cmds = type_cmds };
static const struct isp_cmd print_cmds[] = { { NULL } };
const struct isp_group isp_group_print = { .name = "print",
					   .summary = "(not yet)",
					   .cmds = print_cmds };
static const struct isp_cmd walk_cmds[] = { { NULL } };
const struct isp_group isp_group_walk = { .name = "walk",
					  .summary = "(not yet)",
					  .cmds = walk_cmds };

void isp_types_free(struct isp *isp)
{
}
