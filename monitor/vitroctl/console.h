/*
 * vitroctl/console.h: vitroctl's Tcl console on a running VM (introspect/),
 * the interpreter in vitroctl, the VM reached over its control socket.
 */
#ifndef MONITOR_VITROCTL_CONSOLE_H
#define MONITOR_VITROCTL_CONSOLE_H

struct vmctx;

/*
 * `shell` (interactive, introspect/repl.h) or `eval WORDS...` (the words
 * joined as one script, stopped after timeout seconds; 0: no limit) on
 * ctx, which it closes.  The process's exit status: 0 when the script
 * succeeded or the shell ended (exit, Ctrl-d, the VM gone), 1 when the
 * script failed or ran out of time (the error on stderr), or what `exit
 * N` asked.
 */
int vitroctl_console(struct vmctx *ctx, const char *mode, int argc, char **argv,
		     unsigned int timeout);

#endif
