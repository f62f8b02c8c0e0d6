/*
 * introspect/repl.c: the console's interactive shell (repl.h).  On a
 * terminal, libedit in its unbuffered mode: each isp_repl_input takes the
 * bytes that are there and feeds them to el_gets one key at a time, so
 * the caller's loop never waits on the user.  A complete line leaves
 * unbuffered mode (libedit puts the terminal back as it found it), runs,
 * and enters it again (a fresh line and the prompt).  Without a terminal
 * (a script piped in) lines are read as they come, with no editing and no
 * prompt.
 *
 * The shell is created hidden: isp_repl_show puts the terminal in
 * libedit's mode and draws the prompt; isp_repl_hide takes the line off
 * the screen (kept for the next show) and gives the terminal back.  After
 * ISP_REPL_LEAVE the caller hides the shell.
 *
 * Keys: libedit's emacs bindings, and: Tab completes (the first word from
 * the commands, the second from the subcommands of the vitro command
 * before it, later ones from symbols and register names); Ctrl-c drops
 * the line (and an unfinished multi-line command); Ctrl-d on an empty
 * line ends the shell; with a leave key, Ctrl-a then that key leaves
 * (Ctrl-a Ctrl-a is libedit's Ctrl-a, to the start of the line).  While a
 * command runs, the terminal has ISIG on and Ctrl-c cancels the command
 * (Tcl_CancelEval with TCL_CANCEL_UNWIND, through a Tcl async handler).
 *
 * A command that fails with an errorCode starting {VITRO EXIT} asks to
 * leave (vitroctl's `exit`): nothing is printed and isp_repl_input
 * returns ISP_REPL_EOF.
 *
 * libedit's own signal handling (EL_SIGNAL) stays off: it would take
 * SIGINT and friends from the caller for as long as the prompt shows.
 *
 * Threads: the interp's thread only.  repl_sigint is the one file-static
 * variable: the SIGINT handler's way to the running command's async
 * handler, set only while a command runs.
 */
#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include "introspect/isp_int.h"
#include "introspect/repl.h"

#define REPL_ESCAPE 0x01 /* Ctrl-a */
#define REPL_INTR 0x03 /* Ctrl-c */
#define REPL_MORE_PROMPT "> "
#define REPL_HISTORY_SIZE 1000

struct isp_repl {
	Tcl_Interp *interp;
	int in_fd, out_fd;
	bool tty; /* in_fd is a terminal: libedit edits */
	bool shown; /* the prompt is on screen (libedit's unbuffered mode) */
	bool running; /* a command runs: nothing to redraw */
	bool eof; /* in_fd gave end of file or an error */
	bool esc; /* the escape came: the next key decides */
	bool pass; /* give the next byte to libedit as it is */
	bool leaving; /* a command asked to leave (errorCode VITRO EXIT) */
	int leave_key;
	char *prompt, *banner, *histfile;
	const char *cur_prompt; /* prompt, or REPL_MORE_PROMPT */
	EditLine *el;
	History *hist;
	FILE *fin, *fout;
	Tcl_DString cmd; /* the lines of an unfinished command */
	Tcl_DString line; /* without a terminal: the line being read */
	char *saved; /* the line being edited while hidden */
	Tcl_AsyncHandler async; /* Ctrl-c while a command runs */
	unsigned char in[512]; /* bytes read, not yet edited */
	size_t in_pos, in_len;
};

static Tcl_AsyncHandler repl_sigint;

/*
 * Tcl 8.6 leaves an interp canceled with TCL_CANCEL_UNWIND canceled
 * after the top-level eval returns (every later eval fails with "eval
 * unwound"); its internal stubs table exports the reset (tclInt.decls
 * 237), which tclsh's own `interp cancel` relies on for child interps.
 */
int TclResetCancellation(Tcl_Interp *interp, int force);

/* Output. */

static void out_write(struct isp_repl *r, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(r->out_fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void out_str(struct isp_repl *r, const char *s)
{
	out_write(r, s, strlen(s));
}

/* Text with "\r\n" for "\n": the terminal may be in a raw mode. */
static void out_text(struct isp_repl *r, const char *s, size_t len)
{
	bool raw = r->tty && r->shown && !r->running;
	size_t i, from = 0;

	if (!raw) {
		out_write(r, s, len);
		return;
	}
	for (i = 0; i < len; i++) {
		if (s[i] != '\n' || (i > 0 && s[i - 1] == '\r'))
			continue;
		out_write(r, s + from, i - from);
		out_write(r, "\r\n", 2);
		from = i + 1;
	}
	out_write(r, s + from, len - from);
}

static int term_cols(struct isp_repl *r)
{
	int cols = 0;

	if (el_get(r->el, EL_GETTC, "co", &cols) != 0 || cols <= 0)
		cols = 80;
	return cols;
}

/*
 * Where the edited text lies on screen, in rows from its first: the
 * cursor's row and the last row (one column per byte: near enough).
 */
static void edit_rows(struct isp_repl *r, int *cursor_row, int *last_row)
{
	const LineInfo *li = el_line(r->el);
	size_t plen = strlen(r->cur_prompt);
	int cols = term_cols(r);

	*cursor_row = (int)((plen + (size_t)(li->cursor - li->buffer)) / cols);
	*last_row = (int)((plen + (size_t)(li->lastchar - li->buffer)) / cols);
}

/* Take the prompt and the edited text off the screen. */
static void edit_erase(struct isp_repl *r)
{
	int cur, last;
	char buf[32];

	edit_rows(r, &cur, &last);
	out_str(r, "\r");
	if (cur > 0) {
		snprintf(buf, sizeof(buf), "\033[%dA", cur);
		out_str(r, buf);
	}
	out_str(r, "\033[J");
}

/* Leave the edited text on screen and go to the start of the next row. */
static void edit_below(struct isp_repl *r)
{
	int cur, last;
	char buf[32];

	edit_rows(r, &cur, &last);
	if (last > cur) {
		snprintf(buf, sizeof(buf), "\033[%dB", last - cur);
		out_str(r, buf);
	}
	out_str(r, "\r\n");
}

/* The cursor is at the start of an empty row: draw prompt and line. */
static void edit_redraw(struct isp_repl *r)
{
	el_set(r->el, EL_REFRESH);
}

/* libedit's hooks. */

static struct isp_repl *repl_of(EditLine *el)
{
	void *r = NULL;

	el_get(el, EL_CLIENTDATA, &r);
	return r;
}

static char *prompt_fn(EditLine *el)
{
	return (char *)repl_of(el)->cur_prompt;
}

/*
 * libedit's reads: the bytes isp_repl_input took first, then (in the
 * middle of a key's sequence) from in_fd, waiting for them.  Multibyte
 * characters in the locale's encoding.
 */
static int getc_fn(EditLine *el, wchar_t *wc)
{
	struct isp_repl *r = repl_of(el);
	mbstate_t st;

	memset(&st, 0, sizeof(st));
	for (;;) {
		unsigned char b;
		size_t m;

		if (r->in_pos < r->in_len) {
			b = r->in[r->in_pos++];
		} else {
			ssize_t n = read(r->in_fd, &b, 1);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				struct pollfd p = { .fd = r->in_fd,
						    .events = POLLIN };

				poll(&p, 1, -1);
				continue;
			}
			if (n <= 0) {
				r->eof = true;
				*wc = 0;
				return n == 0 ? 0 : -1;
			}
		}
		m = mbrtowc(wc, (const char *)&b, 1, &st);
		if (m == (size_t)-2)
			continue;
		if (m == (size_t)-1)
			*wc = b;
		return 1;
	}
}

/* Completion. */

static void add_matches(Tcl_Obj *out, Tcl_Obj *list, const char *prefix,
			const char *strip)
{
	Tcl_Obj **v;
	int n;

	if (!list || Tcl_ListObjGetElements(NULL, list, &n, &v) != TCL_OK)
		return;
	for (int i = 0; i < n; i++) {
		const char *s = Tcl_GetString(v[i]);

		if (strip && !strncmp(s, strip, strlen(strip)))
			s += strlen(strip);
		if (!strncmp(s, prefix, strlen(prefix)))
			Tcl_ListObjAppendElement(NULL, out,
						 Tcl_NewStringObj(s, -1));
	}
}

/* `info commands PATTERN` for the names starting with prefix. */
static Tcl_Obj *commands_like(Tcl_Interp *interp, const char *ns,
			      const char *prefix)
{
	Tcl_Obj *pat = Tcl_NewStringObj(ns, -1);
	Tcl_Obj *objv[3];
	Tcl_Obj *res = NULL;

	for (const char *p = prefix; *p; p++) {
		if (strchr("*?[]\\", *p))
			Tcl_AppendToObj(pat, "\\", 1);
		Tcl_AppendToObj(pat, p, 1);
	}
	Tcl_AppendToObj(pat, "*", 1);
	objv[0] = Tcl_NewStringObj("info", -1);
	objv[1] = Tcl_NewStringObj("commands", -1);
	objv[2] = pat;
	for (int i = 0; i < 3; i++)
		Tcl_IncrRefCount(objv[i]);
	if (Tcl_EvalObjv(interp, 3, objv, TCL_EVAL_GLOBAL) == TCL_OK)
		res = Tcl_DuplicateObj(Tcl_GetObjResult(interp));
	for (int i = 0; i < 3; i++)
		Tcl_DecrRefCount(objv[i]);
	return res;
}

static const struct isp_group *group_named(const char *w)
{
	if (!strncmp(w, "::", 2))
		w += 2;
	if (!strncmp(w, "vitro::", 7))
		w += 7;
	for (int i = 0; isp_groups[i]; i++)
		if (!strcmp(isp_groups[i]->name, w))
			return isp_groups[i];
	return NULL;
}

/* The candidates for word `word` (0: the command) that starts prefix. */
static Tcl_Obj *candidates(struct isp_repl *r, int word, const char *first,
			   const char *prefix)
{
	Tcl_Interp *interp = r->interp;
	Tcl_Obj *out = Tcl_NewObj();
	const struct isp_group *g;
	Tcl_Obj *l;

	if (word == 0) {
		l = commands_like(interp, "", prefix);
		if (l) {
			Tcl_IncrRefCount(l);
			add_matches(out, l, prefix,
				    strncmp(prefix, "::", 2) ? "::" : NULL);
			Tcl_DecrRefCount(l);
		}
		if (!strstr(prefix, "::")) {
			l = commands_like(interp, "::vitro::", prefix);
			if (l) {
				Tcl_IncrRefCount(l);
				add_matches(out, l, prefix, "::vitro::");
				Tcl_DecrRefCount(l);
			}
		}
		return out;
	}
	g = group_named(first);
	if (word == 1 && g && !(g->cmds[0].name && !g->cmds[0].name[0])) {
		for (const struct isp_cmd *c = g->cmds; c->name; c++)
			if (!strncmp(c->name, prefix, strlen(prefix)))
				Tcl_ListObjAppendElement(
					NULL, out,
					Tcl_NewStringObj(c->name, -1));
		if (!strncmp("help", prefix, strlen(prefix)))
			Tcl_ListObjAppendElement(NULL, out,
						 Tcl_NewStringObj("help", -1));
		return out;
	}
	if (word == 1 &&
	    (!strcmp(first, "help") || !strcmp(first, "vitro::help") ||
	     !strcmp(first, "::vitro::help"))) {
		for (int i = 0; isp_groups[i]; i++)
			if (!strncmp(isp_groups[i]->name, prefix,
				     strlen(prefix)))
				Tcl_ListObjAppendElement(
					NULL, out,
					Tcl_NewStringObj(isp_groups[i]->name,
							 -1));
		return out;
	}
	if (!*prefix)
		return out;
	l = isp_sym_complete(isp_get(interp), prefix);
	if (l) {
		Tcl_IncrRefCount(l);
		add_matches(out, l, prefix, NULL);
		Tcl_DecrRefCount(l);
	}
	for (int reg = 0; reg < VM_REG_LAST; reg++) {
		const char *name = vm_reg_name(reg);

		if (name && strcmp(name, "?") &&
		    !strncmp(name, prefix, strlen(prefix)))
			Tcl_ListObjAppendElement(NULL, out,
						 Tcl_NewStringObj(name, -1));
	}
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Print the candidates in columns below the line, then redraw it. */
static void list_candidates(struct isp_repl *r, const char **names, int n)
{
	int cols = term_cols(r), width = 0, per_row;
	Tcl_DString ds;

	for (int i = 0; i < n; i++)
		if ((int)strlen(names[i]) > width)
			width = (int)strlen(names[i]);
	width += 2;
	per_row = cols / width > 0 ? cols / width : 1;
	Tcl_DStringInit(&ds);
	for (int i = 0; i < n; i++) {
		Tcl_DStringAppend(&ds, names[i], -1);
		if ((i + 1) % per_row == 0 || i == n - 1) {
			Tcl_DStringAppend(&ds, "\r\n", 2);
		} else {
			for (int k = (int)strlen(names[i]); k < width; k++)
				Tcl_DStringAppend(&ds, " ", 1);
		}
	}
	edit_below(r);
	out_write(r, Tcl_DStringValue(&ds), (size_t)Tcl_DStringLength(&ds));
	Tcl_DStringFree(&ds);
	edit_redraw(r);
}

static unsigned char complete_fn(EditLine *el, int ch)
{
	struct isp_repl *r = repl_of(el);
	const LineInfo *li = el_line(el);
	const char *start = li->buffer, *p, *wstart;
	char first[128] = "";
	char *prefix;
	int word = 0, n, ret = CC_REFRESH;
	Tcl_InterpState state;
	Tcl_Obj *cands, **v;
	const char **names;

	/* The command the cursor is in: after the last ; [ { or newline. */
	for (p = li->cursor; p > li->buffer; p--)
		if (strchr(";[{\n", p[-1])) {
			start = p;
			break;
		}
	while (start < li->cursor && (*start == ' ' || *start == '\t'))
		start++;
	wstart = li->cursor;
	while (wstart > start && wstart[-1] != ' ' && wstart[-1] != '\t')
		wstart--;
	for (p = start; p < wstart;) {
		const char *w = p;

		while (p < wstart && *p != ' ' && *p != '\t')
			p++;
		if (word == 0 && (size_t)(p - w) < sizeof(first)) {
			memcpy(first, w, (size_t)(p - w));
			first[p - w] = 0;
		}
		word++;
		while (p < wstart && (*p == ' ' || *p == '\t'))
			p++;
	}
	prefix = strndup(wstart, (size_t)(li->cursor - wstart));
	if (!prefix)
		return CC_ERROR;

	state = Tcl_SaveInterpState(r->interp, TCL_OK);
	cands = candidates(r, word, first, prefix);
	Tcl_IncrRefCount(cands);
	Tcl_RestoreInterpState(r->interp, state);
	Tcl_ListObjGetElements(NULL, cands, &n, &v);
	names = calloc((size_t)n + 1, sizeof(*names));
	if (!names) {
		n = 0;
		ret = CC_ERROR;
	}
	for (int i = 0; i < n; i++)
		names[i] = Tcl_GetString(v[i]);
	if (n > 1) {
		int k = 1;

		qsort(names, (size_t)n, sizeof(*names), cmp_str);
		for (int i = 1; i < n; i++)
			if (strcmp(names[i], names[k - 1]))
				names[k++] = names[i];
		n = k;
	}
	if (n == 0 && names) {
		ret = CC_REFRESH_BEEP;
	} else if (n == 1) {
		el_insertstr(el, names[0] + strlen(prefix));
		el_insertstr(el, " ");
	} else if (n > 1) {
		size_t common = strlen(names[0]);

		for (int i = 1; i < n; i++) {
			size_t k = 0;

			while (k < common && names[i][k] == names[0][k])
				k++;
			common = k;
		}
		if (common > strlen(prefix)) {
			char *add = strndup(names[0] + strlen(prefix),
					    common - strlen(prefix));

			if (add)
				el_insertstr(el, add);
			free(add);
		} else {
			list_candidates(r, names, n);
			ret = CC_NORM;
		}
	}
	free(names);
	Tcl_DecrRefCount(cands);
	free(prefix);
	return (unsigned char)ret;
}

/* Running commands. */

static void on_sigint(int sig)
{
	(void)sig;
	if (repl_sigint)
		Tcl_AsyncMark(repl_sigint);
}

static int cancel_proc(ClientData cd, Tcl_Interp *interp, int code)
{
	struct isp_repl *r = cd;

	Tcl_CancelEval(r->interp, NULL, NULL, TCL_CANCEL_UNWIND);
	return code;
}

static void print_outcome(struct isp_repl *r, int code)
{
	Tcl_Interp *interp = r->interp;
	Tcl_Obj *res = Tcl_GetObjResult(interp);
	Tcl_Obj *opts, *key, *ec = NULL;
	const char *ecs;

	if (code == TCL_OK || code == TCL_RETURN) {
		if (Tcl_GetCharLength(res) > 0) {
			out_str(r, Tcl_GetString(res));
			out_str(r, "\n");
		}
		return;
	}
	if (code == TCL_BREAK || code == TCL_CONTINUE) {
		out_str(r,
			code == TCL_BREAK ?
				"error: invoked \"break\" outside of a loop\n" :
				"error: invoked \"continue\" outside of a "
				"loop\n");
		return;
	}
	Tcl_IncrRefCount(res);
	opts = Tcl_GetReturnOptions(interp, code);
	Tcl_IncrRefCount(opts);
	key = Tcl_NewStringObj("-errorcode", -1);
	Tcl_IncrRefCount(key);
	Tcl_DictObjGet(NULL, opts, key, &ec);
	ecs = ec ? Tcl_GetString(ec) : "NONE";
	if (!strncmp(ecs, "VITRO EXIT", 10)) {
		r->leaving = true;
	} else if (!strncmp(ecs, "TCL CANCEL", 10)) {
		out_str(r, "interrupted\n");
	} else {
		out_str(r, "error: ");
		out_str(r, Tcl_GetString(res));
		out_str(r, "\n");
		if (strcmp(ecs, "NONE")) {
			out_str(r, "  errorCode: ");
			out_str(r, ecs);
			out_str(r, "\n");
		}
	}
	Tcl_DecrRefCount(key);
	Tcl_DecrRefCount(opts);
	Tcl_DecrRefCount(res);
}

static void run_command(struct isp_repl *r, const char *script)
{
	struct sigaction sa, old;
	sigset_t intr, oldmask;
	struct termios saved, tio;
	bool restore = false;
	int code;

	/* Ctrl-c must reach us as SIGINT whatever mode the caller left. */
	if (r->tty && tcgetattr(r->in_fd, &saved) == 0) {
		tio = saved;
		tio.c_lflag |= ISIG;
		if (tio.c_cc[VINTR] == _POSIX_VDISABLE)
			tio.c_cc[VINTR] = REPL_INTR;
		if (tio.c_lflag != saved.c_lflag ||
		    tio.c_cc[VINTR] != saved.c_cc[VINTR])
			restore = tcsetattr(r->in_fd, TCSANOW, &tio) == 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	repl_sigint = r->async;
	sigaction(SIGINT, &sa, &old);
	/*
	 * A caller that takes its signals from a signalfd (vitro) blocks
	 * SIGINT: let this thread take it while the command runs, or a
	 * Ctrl-c meant for the command would end the VM afterwards.
	 */
	sigemptyset(&intr);
	sigaddset(&intr, SIGINT);
	pthread_sigmask(SIG_UNBLOCK, &intr, &oldmask);
	r->running = true;
	Tcl_Preserve(r->interp);
	code = Tcl_EvalEx(r->interp, script, -1, TCL_EVAL_GLOBAL);
	r->running = false;
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	sigaction(SIGINT, &old, NULL);
	repl_sigint = NULL;
	TclResetCancellation(r->interp, 1);
	if (restore)
		tcsetattr(r->in_fd, TCSANOW, &saved);
	/* What the command wrote comes before its result. */
	for (int i = 0; i < 2; i++) {
		Tcl_Channel ch = Tcl_GetStdChannel(i ? TCL_STDERR : TCL_STDOUT);

		if (ch)
			Tcl_Flush(ch);
	}
	print_outcome(r, code);
	Tcl_ResetResult(r->interp);
	Tcl_Release(r->interp);
}

/* One line (without its newline): into the command, run it when whole. */
static void take_line(struct isp_repl *r, const char *line, size_t len)
{
	char *cmd;

	if (r->hist && len > 0 && strspn(line, " \t") < len) {
		HistEvent ev;
		char *h = strndup(line, len);

		if (h) {
			history(r->hist, &ev, H_ENTER, h);
			if (r->histfile)
				history(r->hist, &ev, H_SAVE, r->histfile);
		}
		free(h);
	}
	Tcl_DStringAppend(&r->cmd, line, (int)len);
	Tcl_DStringAppend(&r->cmd, "\n", 1);
	if (!Tcl_CommandComplete(Tcl_DStringValue(&r->cmd))) {
		r->cur_prompt = REPL_MORE_PROMPT;
		return;
	}
	r->cur_prompt = r->prompt;
	cmd = strdup(Tcl_DStringValue(&r->cmd));
	Tcl_DStringSetLength(&r->cmd, 0);
	if (cmd && strspn(cmd, " \t\n") < strlen(cmd))
		run_command(r, cmd);
	free(cmd);
}

/* Input on a terminal. */

/* Start a fresh line with the prompt (libedit's read_prepare). */
static void edit_restart(struct isp_repl *r)
{
	el_set(r->el, EL_UNBUFFERED, 0);
	el_set(r->el, EL_UNBUFFERED, 1);
}

/* One key through libedit. */
static enum isp_repl_status edit_key(struct isp_repl *r)
{
	const char *s;
	int count = 0;
	char *line;

	s = el_gets(r->el, &count);
	if (r->eof)
		return ISP_REPL_EOF;
	if (!s || count <= 0)
		return ISP_REPL_MORE;
	if (count == 1 && s[0] == 0x04) {
		/* Ctrl-d on an empty line: libedit put it in the line. */
		el_deletestr(r->el, 1);
		out_str(r, "\r\n");
		return ISP_REPL_EOF;
	}
	if (s[count - 1] != '\n')
		return ISP_REPL_MORE;
	line = strndup(s, (size_t)count - 1);
	/* The terminal as it was while the command runs. */
	el_set(r->el, EL_UNBUFFERED, 0);
	if (line)
		take_line(r, line, strlen(line));
	free(line);
	if (r->shown)
		el_set(r->el, EL_UNBUFFERED, 1);
	return ISP_REPL_MORE;
}

static enum isp_repl_status input_tty(struct isp_repl *r)
{
	if (r->in_pos >= r->in_len) {
		ssize_t n = read(r->in_fd, r->in, sizeof(r->in));

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return ISP_REPL_MORE;
		if (n <= 0)
			return ISP_REPL_EOF;
		r->in_pos = 0;
		r->in_len = (size_t)n;
	}
	if (!r->shown)
		isp_repl_show(r);
	while (r->in_pos < r->in_len) {
		unsigned char c = r->in[r->in_pos];
		enum isp_repl_status st;

		if (r->esc) {
			r->esc = false;
			if (c == r->leave_key) {
				r->in_pos++;
				return ISP_REPL_LEAVE;
			}
			r->pass = c == REPL_ESCAPE;
		}
		if (r->pass) {
			r->pass = false;
		} else if (c == REPL_ESCAPE && r->leave_key) {
			r->in_pos++;
			r->esc = true;
			continue;
		} else if (c == REPL_INTR) {
			r->in_pos++;
			edit_below(r);
			Tcl_DStringSetLength(&r->cmd, 0);
			r->cur_prompt = r->prompt;
			edit_restart(r);
			continue;
		}
		st = edit_key(r);
		if (st != ISP_REPL_MORE)
			return st;
		if (r->leaving)
			return ISP_REPL_EOF;
	}
	return ISP_REPL_MORE;
}

/* Input from a pipe or file: whole lines, no editing, no prompt. */
static enum isp_repl_status input_lines(struct isp_repl *r)
{
	char buf[4096];
	ssize_t n = read(r->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return ISP_REPL_MORE;
	if (n <= 0) {
		if (Tcl_DStringLength(&r->line) > 0) {
			char *l = strdup(Tcl_DStringValue(&r->line));

			Tcl_DStringSetLength(&r->line, 0);
			if (l)
				take_line(r, l, strlen(l));
			free(l);
		}
		if (Tcl_DStringLength(&r->cmd) > 0) {
			/* An unfinished command: run it for its error. */
			char *c = strdup(Tcl_DStringValue(&r->cmd));

			Tcl_DStringSetLength(&r->cmd, 0);
			if (c)
				run_command(r, c);
			free(c);
		}
		return ISP_REPL_EOF;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			Tcl_DStringAppend(&r->line, buf + i, 1);
			continue;
		}
		char *l = strdup(Tcl_DStringValue(&r->line));

		Tcl_DStringSetLength(&r->line, 0);
		if (l)
			take_line(r, l, strlen(l));
		free(l);
		if (r->leaving)
			return ISP_REPL_EOF;
	}
	return ISP_REPL_MORE;
}

/* The interface. */

enum isp_repl_status isp_repl_input(struct isp_repl *r)
{
	if (r->eof || r->leaving)
		return ISP_REPL_EOF;
	return r->tty ? input_tty(r) : input_lines(r);
}

void isp_repl_show(struct isp_repl *r)
{
	if (!r->tty)
		return;
	if (r->banner && !r->shown) {
		out_str(r, r->banner);
		if (*r->banner && r->banner[strlen(r->banner) - 1] != '\n')
			out_str(r, "\n");
	}
	if (r->running) {
		/* The prompt comes back when the command is done. */
		r->shown = true;
		return;
	}
	if (r->shown) {
		out_str(r, "\r");
		edit_redraw(r);
		return;
	}
	r->shown = true;
	el_resize(r->el);
	el_set(r->el, EL_UNBUFFERED, 1);
	if (r->saved) {
		el_insertstr(r->el, r->saved);
		free(r->saved);
		r->saved = NULL;
		out_str(r, "\r");
		edit_redraw(r);
	}
}

void isp_repl_hide(struct isp_repl *r)
{
	const LineInfo *li;

	if (!r->tty || !r->shown)
		return;
	if (r->running) {
		/* A command hides it: nothing of it is on screen now. */
		r->shown = false;
		return;
	}
	li = el_line(r->el);
	free(r->saved);
	r->saved = li->lastchar > li->buffer ?
			   strndup(li->buffer,
				   (size_t)(li->lastchar - li->buffer)) :
			   NULL;
	edit_erase(r);
	r->shown = false;
	el_set(r->el, EL_UNBUFFERED, 0);
}

void isp_repl_print(struct isp_repl *r, const char *text, size_t len)
{
	bool editing = r->tty && r->shown && !r->running;

	if (!len)
		return;
	if (editing)
		edit_erase(r);
	out_text(r, text, len);
	if (text[len - 1] != '\n')
		out_str(r, editing ? "\r\n" : "\n");
	if (editing)
		edit_redraw(r);
}

struct isp_repl *isp_repl_create(const struct isp_repl_config *cfg)
{
	struct isp_repl *r = calloc(1, sizeof(*r));
	HistEvent ev;
	int fi = -1, fo = -1;

	if (!r)
		return NULL;
	r->interp = cfg->interp;
	r->in_fd = cfg->in_fd;
	r->out_fd = cfg->out_fd;
	r->leave_key = cfg->leave_key;
	r->prompt = strdup(cfg->prompt ? cfg->prompt : "vitro> ");
	r->banner = cfg->banner ? strdup(cfg->banner) : NULL;
	r->histfile = cfg->history ? strdup(cfg->history) : NULL;
	r->cur_prompt = r->prompt;
	Tcl_DStringInit(&r->cmd);
	Tcl_DStringInit(&r->line);
	r->async = Tcl_AsyncCreate(cancel_proc, r);
	if (!r->prompt || (cfg->banner && !r->banner) ||
	    (cfg->history && !r->histfile))
		goto nomem;
	r->tty = isatty(r->in_fd);
	if (!r->tty)
		return r;

	fi = dup(r->in_fd);
	fo = dup(r->out_fd);
	if (fi < 0 || fo < 0)
		goto fail;
	r->fin = fdopen(fi, "r");
	if (!r->fin)
		goto fail;
	fi = -1;
	r->fout = fdopen(fo, "w");
	if (!r->fout)
		goto fail;
	fo = -1;
	r->el = el_init_fd("vitro", r->fin, r->fout, r->fout, r->in_fd,
			   r->out_fd, r->out_fd);
	if (!r->el)
		goto fail;
	r->hist = history_init();
	if (!r->hist)
		goto fail;
	history(r->hist, &ev, H_SETSIZE, REPL_HISTORY_SIZE);
	history(r->hist, &ev, H_SETUNIQUE, 1);
	if (r->histfile)
		history(r->hist, &ev, H_LOAD, r->histfile);
	el_set(r->el, EL_CLIENTDATA, r);
	el_set(r->el, EL_EDITOR, "emacs");
	el_set(r->el, EL_SIGNAL, 0);
	el_set(r->el, EL_PROMPT, prompt_fn);
	el_set(r->el, EL_HIST, history, r->hist);
	el_set(r->el, EL_GETCFN, getc_fn);
	/* Ctrl-c is a key while editing (it drops the line). */
	el_set(r->el, EL_SETTY, "-d", "-isig", NULL);
	el_source(r->el, NULL);
	/*
	 * The wide form: the narrow one copies the name and help with
	 * wcsdup, and el_end never frees those copies.
	 */
	el_wset(r->el, EL_ADDFN, L"vitro-complete",
		L"complete a command, subcommand, symbol or register",
		complete_fn);
	el_set(r->el, EL_BIND, "^I", "vitro-complete", NULL);
	return r;

fail:
	if (fi >= 0)
		close(fi);
	if (fo >= 0)
		close(fo);
nomem:
	isp_repl_destroy(r);
	errno = errno ? errno : ENOMEM;
	return NULL;
}

void isp_repl_destroy(struct isp_repl *r)
{
	HistEvent ev;

	if (!r)
		return;
	isp_repl_hide(r);
	if (r->hist) {
		if (r->histfile)
			history(r->hist, &ev, H_SAVE, r->histfile);
		history_end(r->hist);
	}
	if (r->el)
		el_end(r->el);
	if (r->fin)
		fclose(r->fin);
	if (r->fout)
		fclose(r->fout);
	if (r->async)
		Tcl_AsyncDelete(r->async);
	Tcl_DStringFree(&r->cmd);
	Tcl_DStringFree(&r->line);
	free(r->saved);
	free(r->prompt);
	free(r->banner);
	free(r->histfile);
	free(r);
}
