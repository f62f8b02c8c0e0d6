/*
 * console.c: the Tcl console inside vitro (console.h): the interpreter,
 * attached to the VM through a local connection of the control server,
 * the -S script, the --console prompt sharing the terminal with COM1,
 * and gdb's `monitor LINE`.
 *
 * `exit ?N?` is replaced: it ends the VM with status N through
 * vitro_end (the console's isp_monitor_ops exit) and unwinds what runs
 * (catch does not stop it) with errorCode {VITRO EXIT N}.
 *
 * The terminal.  With COM1 on stdio on a terminal, Ctrl-a c (the uart
 * back end's escape) hands the terminal to the prompt: the back end stops
 * reading stdin and sends guest output into a pipe, which the loop reads
 * and prints above the prompt a whole line at a time (a partial line
 * waits for its end, or for the way back); a guest whose output nobody
 * takes waits, so nothing is lost.  Ctrl-a c at the prompt
 * (ISP_REPL_LEAVE) or Ctrl-d gives the terminal back: what the pipe still
 * holds goes to stdout first.  Without COM1 on the terminal, the prompt
 * has it from the start.
 *
 * Threads: the main thread only; vCPU threads only write into the pipe
 * (through the back end).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <tcl.h>

#include "introspect/isp.h"
#include "introspect/repl.h"
#include "monitor/console.h"
#include "monitor/ctl/ctl_server.h"
#include "monitor/mevent.h"
#include "monitor/vitro.h"

#define CONSOLE_LINE_MAX 4096 /* a longer guest line is printed in parts */
#define CONSOLE_LEAVE_KEY 'c'

struct console {
	struct vitro *vm;
	Tcl_Interp *interp;
	struct vmctx *ctx; /* the local connection, owned by the interp */
	struct mevent *ev_events; /* isp_event_fd */
	struct mevent *ev_script; /* one-shot timer: run the -S script */
	bool hold_after; /* leave the vCPUs held after the script */
	bool exiting; /* `exit` ran */

	/* --console */
	struct isp_repl *repl;
	struct uart_backend *be; /* COM1 on this terminal, or NULL */
	bool shown; /* the prompt has the terminal */
	bool tty_saved; /* tty: the terminal as the prompt found it */
	struct termios tty;
	struct mevent *ev_in; /* stdin, while shown */
	int pipe[2]; /* guest output while shown; -1 without be */
	struct mevent *ev_out; /* pipe[0], while shown */
	char line[CONSOLE_LINE_MAX]; /* a partial guest line */
	size_t line_len;
};

/* Reports and `exit`. */

static void report(void *arg, const char *line)
{
	struct console *c = arg;

	if (c->repl && c->shown)
		isp_repl_print(c->repl, line, strlen(line));
	else
		vitro_log("%s", line);
}

static void mon_exit(void *arg, int status)
{
	struct console *c = arg;

	c->exiting = true;
	vitro_end(c->vm, status, NULL);
}

static const struct isp_monitor_ops mon_ops = { .exit = mon_exit };

static void on_events(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	struct console *c = arg;

	isp_dispatch_events(c->interp);
}

/* The script. */

int console_script_check(const char *path, char *err, size_t errlen)
{
	Tcl_Interp *interp;
	Tcl_Parse parse;
	struct stat st;
	char *text = NULL;
	const char *p, *end;
	ssize_t n;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = fd < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "script '%s': %s", path,
			 r == -EINVAL ? "not a regular file" : strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	text = malloc(st.st_size + 1);
	while (text && len < (size_t)st.st_size &&
	       (n = read(fd, text + len, st.st_size - len)) > 0)
		len += n;
	close(fd);
	if (!text) {
		snprintf(err, errlen, "script '%s': out of memory", path);
		return -ENOMEM;
	}
	text[len] = 0;
	interp = Tcl_CreateInterp();
	for (p = text, end = text + len; p < end;) {
		if (Tcl_ParseCommand(interp, p, end - p, 0, &parse) != TCL_OK) {
			/* term: where the error is (Tcl_ParseCommand). */
			const char *at =
				parse.term >= text && parse.term <= end ?
					parse.term :
					p;
			int line = 1;

			for (const char *q = text; q < at; q++)
				line += *q == '\n';
			snprintf(err, errlen,
				 "script '%s', line %d: %s (the command "
				 "starting there does not parse)",
				 path, line, Tcl_GetStringResult(interp));
			r = -EINVAL;
			break;
		}
		p = parse.commandStart + parse.commandSize;
		Tcl_FreeParse(&parse);
		if (parse.commandSize == 0)
			break;
	}
	Tcl_DeleteInterp(interp);
	free(text);
	return r;
}

/* The script's error, errorInfo's lines on stderr. */
static void script_failed(struct console *c, int r)
{
	const char *info =
		Tcl_GetVar2(c->interp, "errorInfo", NULL, TCL_GLOBAL_ONLY);
	const char *path = c->vm->opt.script;

	if (r != TCL_ERROR || !info)
		info = Tcl_GetStringResult(c->interp);
	vitro_log("script '%s' failed:", path);
	while (*info) {
		size_t n = strcspn(info, "\n");

		vitro_log("  %.*s", (int)n, info);
		info += n + (info[n] == '\n');
	}
	vitro_end(c->vm, VITRO_EXIT_ERROR, "the script '%s' failed", path);
}

static void on_script(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	struct console *c = arg;
	int r;

	mevent_delete(c->ev_script);
	c->ev_script = NULL;
	r = Tcl_EvalFile(c->interp, c->vm->opt.script);
	if (c->exiting)
		return;
	if (r != TCL_OK) {
		script_failed(c, r);
		return;
	}
	if (!c->hold_after) {
		r = vm_debug_resume(c->ctx, -1);
		if (r < 0 && r != -ESHUTDOWN)
			vitro_end(c->vm, VITRO_EXIT_ERROR,
				  "cannot resume the guest after the script: "
				  "%s",
				  strerror(-r));
	}
}

/* The prompt and the terminal. */

/* Print the whole guest lines of what was read, keep the partial one. */
static void guest_lines(struct console *c)
{
	size_t start = 0;

	for (size_t i = 0; i < c->line_len; i++) {
		if (c->line[i] != '\n')
			continue;
		isp_repl_print(c->repl, c->line + start, i + 1 - start);
		start = i + 1;
	}
	if (start == 0 && c->line_len == sizeof(c->line)) {
		isp_repl_print(c->repl, c->line, c->line_len);
		start = c->line_len;
	}
	memmove(c->line, c->line + start, c->line_len - start);
	c->line_len -= start;
}

static void on_guest_output(struct mevent *ev, int fd, enum mevent_type type,
			    void *arg)
{
	struct console *c = arg;
	ssize_t n = read(c->pipe[0], c->line + c->line_len,
			 sizeof(c->line) - c->line_len);

	if (n > 0) {
		c->line_len += n;
		guest_lines(c);
	}
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}

/* Guest output kept or in the pipe, to stdout (the prompt is hidden). */
static void drain_to_stdout(void *arg)
{
	struct console *c = arg;
	ssize_t n;

	uart_backend_console_echo(c->be, c->line, c->line_len);
	c->line_len = 0;
	while ((n = read(c->pipe[0], c->line, sizeof(c->line))) > 0)
		uart_backend_console_echo(c->be, c->line, n);
}

/* The terminal's width, or 80 when it does not say. */
static unsigned term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/*
 * The prompt starts on a line of its own: a guest line the terminal shows
 * unfinished is taken off the screen and kept, to be printed whole above
 * the prompt when its newline comes; one too long for that is ended.
 */
static void take_partial_line(struct console *c, const char *part, ssize_t n)
{
	if (n == 0)
		return;
	if (n > 0 && (size_t)n < term_cols() &&
	    c->line_len + n <= sizeof(c->line)) {
		write_all(STDOUT_FILENO, "\r\033[K", 4);
		memmove(c->line + n, c->line, c->line_len);
		memcpy(c->line, part, n);
		c->line_len += n;
		return;
	}
	write_all(STDOUT_FILENO, "\r\n", 2);
}

static void on_input(struct mevent *ev, int fd, enum mevent_type type,
		     void *arg);

/* Ctrl-a c on the guest's console: the prompt takes the terminal. */
static void show(void *arg)
{
	struct console *c = arg;

	if (c->shown)
		return;
	if (c->be) {
		char part[UART_BACKEND_TAIL_MAX];

		take_partial_line(c, part,
				  uart_backend_console_hold(c->be, c->pipe[1],
							    part,
							    sizeof(part)));
		c->ev_out = mevent_add(c->vm->loop, c->pipe[0], MEVENT_READ,
				       on_guest_output, c);
	}
	c->ev_in =
		mevent_add(c->vm->loop, STDIN_FILENO, MEVENT_READ, on_input, c);
	c->shown = true;
	c->tty_saved = tcgetattr(STDIN_FILENO, &c->tty) == 0;
	isp_repl_show(c->repl);
}

static void hide(struct console *c)
{
	if (!c->shown)
		return;
	isp_repl_hide(c->repl);
	/* libedit leaves it cooked; COM1's back end had it raw. */
	if (c->tty_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &c->tty);
	c->shown = false;
	if (c->ev_in)
		mevent_delete(c->ev_in);
	c->ev_in = NULL;
	if (c->ev_out)
		mevent_delete(c->ev_out);
	c->ev_out = NULL;
	if (c->be)
		uart_backend_console_release(c->be, drain_to_stdout, c);
}

static void on_input(struct mevent *ev, int fd, enum mevent_type type,
		     void *arg)
{
	struct console *c = arg;

	switch (isp_repl_input(c->repl)) {
	case ISP_REPL_MORE:
		break;
	case ISP_REPL_LEAVE:
	case ISP_REPL_EOF:
		if (c->be) {
			hide(c);
			break;
		}
		/* No guest console to go back to: the prompt is closed. */
		hide(c);
		if (!c->exiting)
			vitro_log("the console is closed; the VM runs on");
		break;
	}
}

static int repl_start(struct console *c, char *err, size_t errlen)
{
	char prompt[VM_NAME_MAX + 16], banner[256];
	struct isp_repl_config cfg = {
		.interp = c->interp,
		.in_fd = STDIN_FILENO,
		.out_fd = STDOUT_FILENO,
		.prompt = prompt,
		.banner = banner,
	};
	struct uart_backend *be = c->vm->com1_be;

	snprintf(prompt, sizeof(prompt), "vitro %s> ", c->vm->name);
	if (be && uart_backend_is_terminal(be)) {
		if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
			snprintf(err, errlen, "--console: %s", strerror(errno));
			return -1;
		}
		c->be = be;
		cfg.leave_key = CONSOLE_LEAVE_KEY;
		snprintf(banner, sizeof(banner),
			 "vitro console on VM %s (Tcl; help lists the "
			 "commands).  Ctrl-a c: back to the guest console",
			 c->vm->name);
	} else {
		snprintf(banner, sizeof(banner),
			 "vitro console on VM %s (Tcl; help lists the "
			 "commands)",
			 c->vm->name);
	}
	/* libedit's set-up puts the terminal in its cooked mode: undo that. */
	c->tty_saved = tcgetattr(STDIN_FILENO, &c->tty) == 0;
	c->repl = isp_repl_create(&cfg);
	if (c->tty_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &c->tty);
	if (!c->repl) {
		snprintf(err, errlen, "--console: cannot start the prompt: %s",
			 strerror(errno));
		return -1;
	}
	if (c->be)
		uart_backend_set_console(be, show, c);
	else
		show(c);
	return 0;
}

/* Set-up and teardown. */

struct console *console_create(struct vitro *vm, bool hold_after, char *err,
			       size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));
	int fd;

	if (!c) {
		snprintf(err, errlen, "console: out of memory");
		return NULL;
	}
	c->vm = vm;
	c->hold_after = hold_after;
	c->pipe[0] = c->pipe[1] = -1;
	Tcl_FindExecutable(NULL);
	c->interp = Tcl_CreateInterp();
	if (Tcl_Init(c->interp) != TCL_OK)
		vitro_log("console: Tcl's init.tcl was not found (%s); going "
			  "on without Tcl's library procedures",
			  Tcl_GetStringResult(c->interp));
	if (isp_init(c->interp, true) != TCL_OK) {
		snprintf(err, errlen, "console: %s",
			 Tcl_GetStringResult(c->interp));
		goto fail;
	}
	isp_set_report(c->interp, report, c);
	isp_set_monitor(c->interp, &mon_ops, c);
	c->ctx = ctl_server_open_local(vm->ctl);
	if (!c->ctx) {
		snprintf(err, errlen, "console: cannot connect to the VM: %s",
			 strerror(errno));
		goto fail;
	}
	if (isp_attach(c->interp, c->ctx, true) != TCL_OK) {
		snprintf(err, errlen, "console: %s",
			 Tcl_GetStringResult(c->interp));
		vm_destroy(c->ctx);
		c->ctx = NULL;
		goto fail;
	}
	fd = isp_event_fd(c->interp);
	if (fd >= 0 && !(c->ev_events = mevent_add(vm->loop, fd, MEVENT_READ,
						   on_events, c))) {
		snprintf(err, errlen, "console: cannot watch its events: %s",
			 strerror(errno));
		goto fail;
	}
	if (vm->opt.script &&
	    !(c->ev_script = mevent_add_timer(vm->loop, 0, 0, on_script, c))) {
		snprintf(err, errlen, "console: cannot start the script: %s",
			 strerror(errno));
		goto fail;
	}
	if (vm->opt.console && repl_start(c, err, errlen) < 0)
		goto fail;
	return c;
fail:
	console_destroy(c);
	return NULL;
}

void console_destroy(struct console *c)
{
	if (!c)
		return;
	if (c->repl) {
		hide(c);
		if (c->be)
			uart_backend_set_console(c->be, NULL, NULL);
		isp_repl_destroy(c->repl);
	}
	if (c->ev_script)
		mevent_delete(c->ev_script);
	if (c->ev_events)
		mevent_delete(c->ev_events);
	if (c->interp)
		Tcl_DeleteInterp(c->interp); /* closes c->ctx */
	for (int i = 0; i < 2; i++) {
		if (c->pipe[i] >= 0)
			close(c->pipe[i]);
	}
	free(c);
}

int console_eval(struct console *c, const char *line, char **out, bool *failed)
{
	const char *res;
	size_t len;
	int r;

	if (!c)
		return -ENODEV;
	Tcl_Preserve(c->interp);
	r = Tcl_EvalEx(c->interp, line, -1, TCL_EVAL_GLOBAL);
	res = Tcl_GetStringResult(c->interp);
	len = strlen(res);
	*failed = r == TCL_ERROR;
	*out = NULL;
	if (len) {
		*out = malloc(len + 2);
		if (*out) {
			memcpy(*out, res, len);
			strcpy(*out + len, res[len - 1] == '\n' ? "" : "\n");
		}
	}
	Tcl_ResetResult(c->interp);
	Tcl_Release(c->interp);
	return 0;
}
