/*
 * test-isp-help.c: every console command has its help (STYLE.md: "a test
 * fails when a command lacks help"), and help, GROUP help and a bad
 * subcommand answer as documented.  No VM needed.  TAP.
 */
#include <stdio.h>
#include <string.h>

#include <tcl.h>

#include "introspect/isp_int.h"

static int n, failed;

static void ok(int cond, const char *fmt, const char *a, const char *b)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - ", cond ? "" : "not ", n);
	printf(fmt, a, b);
	printf("\n");
}

static const char *eval(Tcl_Interp *interp, const char *script, int *code)
{
	*code = Tcl_Eval(interp, script);
	return Tcl_GetStringResult(interp);
}

int main(void)
{
	Tcl_Interp *interp;
	char buf[256];
	const char *res;
	int code;

	Tcl_FindExecutable("test-isp-help");
	interp = Tcl_CreateInterp();
	ok(isp_init(interp, true) == TCL_OK, "isp_init%s%s", "", "");
	for (int i = 0; isp_groups[i]; i++) {
		const struct isp_group *g = isp_groups[i];
		int cmds = 0;

		ok(g->summary && strlen(g->summary) > 10 &&
			   !strstr(g->summary, "not yet"),
		   "%s has a summary%s", g->name, "");
		for (const struct isp_cmd *c = g->cmds; c->name; c++) {
			cmds++;
			ok(c->fn && c->usage && c->help && strlen(c->help) > 15,
			   "%s %s has a handler, usage and help", g->name,
			   c->name);
			snprintf(buf, sizeof(buf), "help %s {%s}", g->name,
				 c->name);
			res = eval(interp, buf, &code);
			ok(code == TCL_OK && strstr(res, c->help),
			   "help %s %s shows it", g->name, c->name);
		}
		ok(cmds > 0, "%s has commands%s", g->name, "");
		snprintf(buf, sizeof(buf), "help %s", g->name);
		res = eval(interp, buf, &code);
		ok(code == TCL_OK && strstr(res, g->summary),
		   "help %s lists its summary%s", g->name, "");
		snprintf(buf, sizeof(buf), "help");
		res = eval(interp, buf, &code);
		ok(code == TCL_OK && strstr(res, g->name), "help names %s%s",
		   g->name, "");
	}
	res = eval(
		interp,
		"catch {mem nosuchsub} m o; list $m [dict get $o -errorcode]",
		&code);
	ok(code == TCL_OK && strstr(res, "unknown subcommand") &&
		   strstr(res, "VITRO USAGE"),
	   "a bad subcommand: message and errorCode (%s)%s", res, "");
	res = eval(interp, "catch {vm info} m o; dict get $o -errorcode",
		   &code);
	ok(code == TCL_OK && !strcmp(res, "VITRO NOVM"),
	   "no VM attached: errorCode VITRO NOVM (%s)%s", res, "");
	res = eval(interp,
		   "set k 0; foreach x {1 2 3} { incr k; break }; set k",
		   &code);
	ok(code == TCL_OK && !strcmp(res, "1"),
	   "break alone is still Tcl's break%s%s", "", "");
	res = eval(interp, "list a b", &code);
	ok(code == TCL_OK && !strcmp(res, "a b"), "list is still Tcl's%s%s", "",
	   "");
	Tcl_DeleteInterp(interp);
	printf("1..%d\n", n);
	return failed != 0;
}
