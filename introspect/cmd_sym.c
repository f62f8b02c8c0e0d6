/* introspect/cmd_sym.c: placeholder, filled in by its owner. */
#include <errno.h>

#include "introspect/isp_int.h"

static const struct isp_cmd sym_cmds[] = { { NULL } };
const struct isp_group isp_group_sym = { .name = "sym",
					 .summary = "(not yet)",
					 .cmds = sym_cmds };

int isp_sym_resolve(struct isp *isp, const char *name, uint64_t *addr)
{
	return -ENOENT;
}

int isp_sym_describe(struct isp *isp, uint64_t addr, char *buf, size_t len)
{
	return -ENOENT;
}

Tcl_Obj *isp_sym_complete(struct isp *isp, const char *prefix)
{
	return Tcl_NewObj();
}

void isp_sym_free(struct isp *isp)
{
}
