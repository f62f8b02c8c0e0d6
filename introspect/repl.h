/*
 * introspect/repl.h: the console's interactive shell on a terminal, for
 * vitro --console and vitroctl shell: line editing and history (libedit),
 * completion of commands, subcommands and symbols, results printed the
 * way a user reads them.  Driven by its caller's event loop: nothing here
 * blocks waiting for input.
 *
 * Threads: the interp's thread only.
 */
#ifndef INTROSPECT_REPL_H
#define INTROSPECT_REPL_H

#include <stdbool.h>

#include <tcl.h>

struct isp_repl;

struct isp_repl_config {
	Tcl_Interp *interp; /* isp_init done */
	int in_fd, out_fd; /* the terminal */
	const char *prompt; /* "vitro> " */
	const char *banner; /* printed when the shell shows, or NULL */
	const char *history; /* history file, or NULL */
	/*
	 * vitro: the escape (Ctrl-a) then this key leaves the shell for the
	 * guest's console (isp_repl_input returns ISP_REPL_LEAVE); 0: none.
	 */
	int leave_key;
};

struct isp_repl *isp_repl_create(const struct isp_repl_config *cfg);
void isp_repl_destroy(struct isp_repl *r);

enum isp_repl_status {
	ISP_REPL_MORE, /* go on */
	ISP_REPL_LEAVE, /* the user asked for the guest's console */
	ISP_REPL_EOF, /* Ctrl-d on an empty line, or the terminal is gone */
};
/*
 * in_fd is readable: take what is there, edit, and run each complete
 * command (a line, or lines until Tcl's info complete says so).
 */
enum isp_repl_status isp_repl_input(struct isp_repl *r);
/* Show the prompt (and the line being edited), or take it off screen. */
void isp_repl_show(struct isp_repl *r);
void isp_repl_hide(struct isp_repl *r);
/*
 * Print text that did not come from the user (guest output, an event, a
 * hook's error) without garbling the line being edited.
 */
void isp_repl_print(struct isp_repl *r, const char *text, size_t len);

#endif
