/*
 * vitroctl/console.c: `vitroctl --vm NAME shell` and `eval` (console.h):
 * a Tcl interpreter with the console's commands, attached to the VM
 * through its control socket.
 *
 * shell: the REPL (introspect/repl.h) on stdin/stdout with the prompt
 * "vitro NAME> ", history in ~/.vitro_history; one poll loop over stdin
 * and the VM's event fd runs the hooks as events come, and asynchronous
 * reports print above the line being edited.  `exit` or Ctrl-d ends it
 * (status 0, or exit's); so does the VM's end (a message, status 0: the
 * shell did nothing wrong).
 *
 * eval: the script under a Tcl time limit, so a script that loops ends
 * with a message while the VM runs on.
 *
 * `exit ?N?` is replaced: it unwinds the script (catch does not stop it)
 * with errorCode {VITRO EXIT N}, and vitroctl returns N from main, so the
 * interpreter and the VM's handle are closed as on any other way out.
 *
 * Threads: one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tcl.h>

#include "introspect/isp_int.h"
#include "introspect/repl.h"
#include "libvmmapi/vmmapi.h"
#include "monitor/vitroctl/console.h"

struct console {
	Tcl_Interp *interp;
	struct isp_repl *repl; /* shell only */
	bool exiting; /* `exit` ran */
	int status; /* its status */
};

/* exit ?STATUS?: leave vitroctl with that status. */
static void console_exit(void *arg, int status)
{
	struct console *c = arg;

	c->exiting = true;
	c->status = status;
}

static const struct isp_monitor_ops console_ops = { .exit = console_exit };

static void report_repl(void *arg, const char *line)
{
	struct console *c = arg;

	isp_repl_print(c->repl, line, strlen(line));
}

/* Is the attached VM still there?  Its event fd stays readable once not. */
static bool vm_alive(Tcl_Interp *interp)
{
	struct isp *isp = isp_get(interp);
	struct vm_cpuset cpus;
	int r;

	if (!isp->ctx)
		return true;
	r = vm_active_cpus(isp->ctx, &cpus);
	return r >= 0 || r == -EINTR;
}

static bool fd_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static int run_shell(struct console *c, const char *name)
{
	char prompt[256], hist[4096];
	const char *home = getenv("HOME");
	struct isp_repl_config cfg = {
		.interp = c->interp,
		.in_fd = STDIN_FILENO,
		.out_fd = STDOUT_FILENO,
		.prompt = prompt,
		.banner = NULL,
		.history = NULL,
	};
	int status = 0;

	snprintf(prompt, sizeof(prompt), "vitro %s> ", name);
	if (home && *home) {
		snprintf(hist, sizeof(hist), "%s/.vitro_history", home);
		cfg.history = hist;
	}
	c->repl = isp_repl_create(&cfg);
	if (!c->repl) {
		fprintf(stderr, "vitroctl: cannot start the shell: %s\n",
			strerror(errno));
		return 1;
	}
	isp_set_report(c->interp, report_repl, c);
	isp_repl_show(c->repl);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = isp_event_fd(c->interp), .events = POLLIN },
		};
		int n = p[1].fd >= 0 ? 2 : 1;

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vitroctl: poll: %s\n",
				strerror(errno));
			status = 1;
			break;
		}
		if (n == 2 && p[1].revents) {
			isp_dispatch_events(c->interp);
			if (isp_event_fd(c->interp) >= 0 &&
			    fd_ready(isp_event_fd(c->interp)) &&
			    !vm_alive(c->interp)) {
				char msg[300];

				snprintf(msg, sizeof(msg),
					 "vitroctl: the VM %s is gone", name);
				isp_repl_print(c->repl, msg, strlen(msg));
				break;
			}
		}
		if (p[0].revents) {
			enum isp_repl_status st = isp_repl_input(c->repl);

			if (c->exiting) {
				status = c->status;
				break;
			}
			if (st != ISP_REPL_MORE)
				break;
		}
	}
	isp_set_report(c->interp, NULL, NULL);
	isp_repl_hide(c->repl);
	isp_repl_destroy(c->repl);
	c->repl = NULL;
	return status;
}

static int run_eval(struct console *c, int argc, char **argv,
		    unsigned int timeout)
{
	Tcl_Interp *interp = c->interp;
	Tcl_Obj *script = Tcl_NewObj();
	Tcl_Channel out;
	int r;

	for (int i = 0; i < argc; i++) {
		if (i)
			Tcl_AppendToObj(script, " ", 1);
		Tcl_AppendToObj(script, argv[i], -1);
	}
	if (timeout) {
		Tcl_Time t;

		Tcl_GetTime(&t);
		t.sec += timeout;
		Tcl_LimitTypeSet(interp, TCL_LIMIT_TIME);
		Tcl_LimitSetTime(interp, &t);
		Tcl_LimitSetGranularity(interp, TCL_LIMIT_TIME, 1);
	}
	Tcl_IncrRefCount(script);
	r = Tcl_EvalObjEx(interp, script, TCL_EVAL_GLOBAL);
	Tcl_DecrRefCount(script);
	out = Tcl_GetStdChannel(TCL_STDOUT);
	if (out)
		Tcl_Flush(out);
	if (c->exiting)
		return c->status;
	if (timeout && Tcl_LimitExceeded(interp)) {
		fprintf(stderr, "vitroctl: eval: time limit of %u s reached\n",
			timeout);
		return 1;
	}
	if (r == TCL_OK || r == TCL_RETURN) {
		const char *res = Tcl_GetStringResult(interp);

		if (*res)
			printf("%s\n", res);
		return 0;
	}
	if (r == TCL_BREAK || r == TCL_CONTINUE) {
		fprintf(stderr, "vitroctl: invoked \"%s\" outside of a loop\n",
			r == TCL_BREAK ? "break" : "continue");
		return 1;
	}
	fprintf(stderr, "vitroctl: %s\n",
		Tcl_GetVar(interp, "errorInfo", TCL_GLOBAL_ONLY));
	return 1;
}

int vitroctl_console(struct vmctx *ctx, const char *mode, int argc, char **argv,
		     unsigned int timeout)
{
	struct console c = { 0 };
	char name[256];
	int status;

	snprintf(name, sizeof(name), "%s", vm_get_name(ctx));
	Tcl_FindExecutable("vitroctl");
	c.interp = Tcl_CreateInterp();
	if (Tcl_Init(c.interp) != TCL_OK ||
	    isp_init(c.interp, true) != TCL_OK ||
	    isp_attach(c.interp, ctx, true) != TCL_OK) {
		fprintf(stderr, "vitroctl: %s\n",
			Tcl_GetStringResult(c.interp));
		if (!isp_get(c.interp) || !isp_get(c.interp)->ctx)
			vm_destroy(ctx);
		Tcl_DeleteInterp(c.interp);
		return 1;
	}
	isp_set_monitor(c.interp, &console_ops, &c);
	if (!strcmp(mode, "eval"))
		status = run_eval(&c, argc, argv, timeout);
	else
		status = run_shell(&c, name);
	fflush(stdout);
	Tcl_DeleteInterp(c.interp);
	return status;
}
