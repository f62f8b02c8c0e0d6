/* introspect/cmd_disas.c: placeholder, filled in by its owner. */
#include "introspect/isp_int.h"

static const struct isp_cmd disas_cmds[] = { { NULL } };
const struct isp_group isp_group_disas = { .name = "disas",
					   .summary = "(not yet)",
					   .cmds = disas_cmds };
