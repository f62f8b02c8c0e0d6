/*
 * console.h: the Tcl console inside vitro (introspect/isp.h), one
 * interpreter for the three ways in: the -S script, the --console prompt
 * on the terminal (introspect/repl.h) and gdb's `monitor LINE`.  It is a
 * client of the control server like any other, through a local
 * connection (ctl_server_open_local): its own owner id and events.
 *
 * Threads: the main thread only (set-up, event-loop callbacks, gdb's
 * monitor, teardown), as Tcl wants an interpreter used by one thread.
 */
#ifndef MONITOR_CONSOLE_H
#define MONITOR_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct vitro;
struct console;

/*
 * Check the -S script before anything is created: it must be a readable
 * file whose commands parse.  0, or -errno with a message in err naming
 * the file (and the line of a syntax error).
 */
int console_script_check(const char *path, char *err, size_t errlen);

/*
 * The console of vm, after the control server and the serial back end
 * are up and before the vCPUs run: the interpreter, attached to the VM,
 * its events watched in vm->loop; the -S script (vm->opt.script), run
 * from the loop once it starts; the prompt of --console.  With a script,
 * the vCPUs are held (dbg_create's hold) until it returns; then, unless
 * hold_after (gdb's -G w holds them too), every vCPU is resumed.  NULL
 * with a message in err.
 */
struct console *console_create(struct vitro *vm, bool hold_after, char *err,
			       size_t errlen);
/* Give the terminal back (if the prompt has it) and delete the interp. */
void console_destroy(struct console *c);

/*
 * gdb's `monitor LINE`: run LINE in the console's interpreter.  0 with
 * *out the result (malloc'd, ending in a newline, or NULL when empty)
 * and *failed telling whether it was a Tcl error, *out then being its
 * message.  -errno when it could not run.
 */
int console_eval(struct console *c, const char *line, char **out, bool *failed);

#endif
