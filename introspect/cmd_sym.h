/*
 * introspect/cmd_sym.h: what the symbol commands (cmd_sym.c) give the
 * type commands (cmd_type.c): the DWARF of the files `sym load` loaded.
 *
 * Threads: the interp's thread only.
 */
#ifndef INTROSPECT_CMD_SYM_H
#define INTROSPECT_CMD_SYM_H

#include "introspect/dwarf.h"
#include "introspect/isp_int.h"

/* At most this many files loaded at once (a kernel and its modules). */
#define ISP_SYM_MAXFILES 32

/*
 * The DWARF of the loaded files that have it, in load order, read on
 * first use: TCL_OK with *n of them in out[], or TCL_ERROR with a NOSYM
 * error when no file is loaded and NOFILE when none has DWARF or one's
 * DWARF cannot be read.
 */
int isp_sym_dwarfs(struct isp *isp, Tcl_Interp *interp,
		   struct dwinfo *out[ISP_SYM_MAXFILES], int *n);

struct elfsym;

/*
 * File i (0, 1, ... in load order) of the loaded ones, for the trace
 * commands: its symbols and its DWARF (NULL when it has none or it cannot
 * be read), valid until sym unload; 0, or -ENOENT past the last.
 */
int isp_sym_file(struct isp *isp, int i, struct elfsym **es,
		 struct dwinfo **dw);

#endif
