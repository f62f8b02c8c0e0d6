/* introspect/cmd_vm.c: placeholder, filled in by its owner. */
#include "introspect/isp_int.h"

static const struct isp_cmd vm_cmds[] = { { NULL } };
const struct isp_group isp_group_vm = { .name = "vm",
					.summary = "(not yet)",
					.cmds = vm_cmds };
static const struct isp_cmd vcpu_cmds[] = { { NULL } };
const struct isp_group isp_group_vcpu = { .name = "vcpu",
					  .summary = "(not yet)",
					  .cmds = vcpu_cmds };
