/*
 * introspect/repl.c: TEMPORARY STUB from h-mon, only so that vitro links
 * while the real shell (h-shell's introspect/repl.c) is not merged.  The
 * integrator takes h-shell's file over this one.  Without it there is no
 * prompt: isp_repl_create fails with ENOSYS, and vitro --console says so.
 *
 * Threads: none.
 */
#include <errno.h>

#include "introspect/repl.h"

struct isp_repl *isp_repl_create(const struct isp_repl_config *cfg)
{
	errno = ENOSYS;
	return NULL;
}

void isp_repl_destroy(struct isp_repl *r)
{
}

enum isp_repl_status isp_repl_input(struct isp_repl *r)
{
	return ISP_REPL_EOF;
}

void isp_repl_show(struct isp_repl *r)
{
}

void isp_repl_hide(struct isp_repl *r)
{
}

void isp_repl_print(struct isp_repl *r, const char *text, size_t len)
{
}
