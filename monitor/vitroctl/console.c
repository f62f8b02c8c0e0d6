/*
 * vitroctl/console.c: `vitroctl --vm NAME shell` and `eval` (console.h):
 * a Tcl interpreter with the console's commands, attached to the VM
 * through its control socket.
 *
 * Threads: one.
 */
#include <stdio.h>
#include <string.h>

#include <tcl.h>

#include "introspect/isp.h"
#include "libvmmapi/vmmapi.h"
#include "monitor/vitroctl/console.h"

int vitroctl_console(struct vmctx *ctx, const char *mode, int argc, char **argv)
{
	Tcl_Interp *interp;
	Tcl_Obj *script;
	int r, status;

	Tcl_FindExecutable("vitroctl");
	interp = Tcl_CreateInterp();
	if (Tcl_Init(interp) != TCL_OK || isp_init(interp, true) != TCL_OK ||
	    isp_attach(interp, ctx, true) != TCL_OK) {
		fprintf(stderr, "vitroctl: %s\n", Tcl_GetStringResult(interp));
		Tcl_DeleteInterp(interp);
		return 1;
	}
	if (strcmp(mode, "eval")) {
		fprintf(stderr, "vitroctl: shell is not built yet\n");
		Tcl_DeleteInterp(interp);
		return 1;
	}
	script = Tcl_NewObj();
	for (int i = 0; i < argc; i++) {
		if (i)
			Tcl_AppendToObj(script, " ", 1);
		Tcl_AppendToObj(script, argv[i], -1);
	}
	Tcl_IncrRefCount(script);
	r = Tcl_EvalObjEx(interp, script, TCL_EVAL_GLOBAL);
	Tcl_DecrRefCount(script);
	if (r == TCL_OK) {
		const char *res = Tcl_GetStringResult(interp);

		if (*res)
			printf("%s\n", res);
		status = 0;
	} else {
		fprintf(stderr, "vitroctl: %s\n",
			Tcl_GetVar(interp, "errorInfo", TCL_GLOBAL_ONLY));
		status = 1;
	}
	fflush(stdout);
	Tcl_DeleteInterp(interp);
	return status;
}
