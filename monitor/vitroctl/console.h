/*
 * vitroctl/console.h: vitroctl's Tcl console on a running VM (introspect/),
 * the interpreter in vitroctl, the VM reached over its control socket.
 */
#ifndef MONITOR_VITROCTL_CONSOLE_H
#define MONITOR_VITROCTL_CONSOLE_H

struct vmctx;

/*
 * `shell` (interactive) or `eval WORDS...` (the words joined as one
 * script) on ctx, which it closes.  The process's exit status: 0 when the
 * script succeeded, 1 when it failed (the error on stderr), or what
 * `exit N` asked.
 */
int vitroctl_console(struct vmctx *ctx, const char *mode, int argc,
		     char **argv);

#endif
