/*
 * uart_backend.h: what a UART is connected to on the host, chosen with
 * `-l com1,BACKEND`:
 *
 *   stdio      the monitor's stdin and stdout.  On a terminal: raw input
 *              (output processing kept, so "\n" starts a line), with the
 *              escape Ctrl-a: Ctrl-a x quits, Ctrl-a h prints help,
 *              Ctrl-a c switches to the vitro prompt (--console),
 *              Ctrl-a Ctrl-a sends one Ctrl-a (any other key after Ctrl-a
 *              is dropped with the Ctrl-a).  Otherwise stdin is plain
 *              input, and its EOF only ends input, never the VM.
 *              Output goes to stdout unbuffered, and waits while stdout
 *              is slow rather than losing bytes.
 *   pty        a new pseudo-terminal; its path is printed (and returned by
 *              uart_backend_path).  The monitor holds the terminal's slave
 *              side open, so output while no one has it open never blocks
 *              the guest: it collects in the terminal and then in a
 *              bounded buffer that keeps the newest bytes.
 *   file:PATH  output only, to PATH (created or truncated).
 *   unix:PATH  a listening unix stream socket at PATH (mode 0600; a stale
 *              socket there is replaced, removed again on close).  One
 *              client at a time: a second client is told that the port
 *              is busy and closed, the first keeps the line.  Output while
 *              no client is connected (or while it reads slowly) is kept
 *              in a bounded buffer that keeps the newest bytes, and is
 *              delivered when a client connects.
 *
 * Input is read in the event loop (mevent) and pushed into the uart,
 * honouring its flow control: when the receive FIFO is full the back end
 * stops reading until the uart reports room.  Output arrives on vCPU
 * threads (the uart's tx callback) and is written without holding the
 * uart's lock; the buffered back ends never block there.  stdio and file
 * wait for a slow host while the VM runs (no output is lost, and the
 * guest is slowed to the host's pace); once the VM is ending
 * (uart_backend_end) a wait lasts UART_BACKEND_END_MS at most in all,
 * after which output is dropped and counted, and closing says how much.
 *
 * Wiring, in main (error handling left out):
 *
 *	loop = mevent_create();
 *	pio = region_map_create("pio");
 *	com1 = uart_create(com1_irq, ctx);
 *	    (com1_irq(ctx, level): vm_isa_assert_irq(ctx, COM1_IRQ) when
 *	     level is true, vm_isa_deassert_irq(ctx, COM1_IRQ) when false)
 *	uart_register_region(com1, pio, "com1", COM1_PORT);
 *	uart_backend_parse(optarg, &cfg, err, sizeof(err));
 *	be = uart_backend_open(&cfg, loop, com1, on_quit, vm, err, sizeof(err));
 *	... vCPU threads dispatch port I/O; the control thread runs
 *	    mevent_run(loop); on_quit calls mevent_stop(loop) ...
 *	uart_backend_close(be);
 *	uart_destroy(com1);
 *
 * main should ignore SIGPIPE, so that a stdout or client that went away is
 * an error to report rather than a signal that kills the monitor, and call
 * uart_backend_restore_terminal from its fatal-signal handlers and atexit.
 *
 * Threads.  uart_backend_open and uart_backend_close run on the main
 * thread, open before the VM runs and close after the vCPU threads and
 * the event loop have stopped.  The quit callback runs in the loop thread.
 * uart_backend_restore_terminal may be called from anywhere, including a
 * signal handler.
 */
#ifndef MONITOR_UART_BACKEND_H
#define MONITOR_UART_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uart;
struct mevent_loop;
struct uart_backend;

enum uart_backend_kind {
	UART_BACKEND_STDIO,
	UART_BACKEND_PTY,
	UART_BACKEND_FILE,
	UART_BACKEND_UNIX,
};

/* A parsed -l option. */
struct uart_backend_config {
	char device[8]; /* "com1" */
	enum uart_backend_kind kind;
	char path[PATH_MAX]; /* file: and unix: */
	bool quiet; /* no messages on stderr (tests) */
};

/* Bytes of output a pty or unix back end keeps while it cannot write. */
#define UART_BACKEND_BUFSIZE 65536

/* The escape byte on a terminal: Ctrl-a. */
#define UART_ESCAPE_CHAR 0x01

/*
 * Parse "com1,stdio", "com1,pty", "com1,file:PATH" or "com1,unix:PATH"
 * into *cfg.  Returns 0, or -EINVAL with a message in err (naming what
 * was wrong and what was expected; no "-l" prefix) and *cfg untouched.
 */
int uart_backend_parse(const char *opt, struct uart_backend_config *cfg,
		       char *err, size_t errlen);

typedef void uart_backend_quit_fn(void *arg);

/*
 * Connect uart to the back end cfg describes: open it, attach it as the
 * uart's back end, and register its input with loop.  Unless cfg->quiet,
 * prints a line on stderr: for stdio on a terminal the escape hint, for a
 * pty its path, for unix the socket path.  quit(quit_arg) is called in the
 * loop thread when the user types the quit escape (Ctrl-a x).  Returns
 * NULL with errno set and a message in err on failure, leaving the
 * terminal as it was.
 */
struct uart_backend *uart_backend_open(const struct uart_backend_config *cfg,
				       struct mevent_loop *loop,
				       struct uart *uart,
				       uart_backend_quit_fn *quit,
				       void *quit_arg, char *err,
				       size_t errlen);

/*
 * Detach from the uart, delete the loop registrations, close what was
 * opened, remove a unix socket's path, and restore the terminal.
 */
void uart_backend_close(struct uart_backend *be);

/*
 * Put the terminal back as it was before uart_backend_open (a no-op for
 * other back ends or when stdin is no terminal).  Async-signal-safe and
 * idempotent: main calls it from its fatal-signal handlers and atexit so
 * that every exit path restores the terminal.
 */
void uart_backend_restore_terminal(const struct uart_backend *be);

/* The pty's slave path, or the file or socket path; NULL for stdio. */
const char *uart_backend_path(const struct uart_backend *be);

/* Output bytes dropped so far because the buffer was full. */
uint64_t uart_backend_dropped(const struct uart_backend *be);

/*
 * wait(arg, true) is called on a vCPU thread before it waits for the host
 * to take output (or for another vCPU's output to be taken), and
 * wait(arg, false) after.  Set before the VM runs.
 */
typedef void uart_backend_wait_fn(void *arg, bool waiting);
void uart_backend_set_wait_hook(struct uart_backend *be,
				uart_backend_wait_fn *wait, void *arg);

/*
 * The console of vitro --console on the terminal of a stdio back end.
 * fn(arg) runs in the loop thread when the user types Ctrl-a c (without
 * it, Ctrl-a c says that --console gives a prompt); set before the VM
 * runs.  With a console set, the terminal is read a byte at a time, so
 * that what follows Ctrl-a c stays in the terminal for the console.
 * uart_backend_is_terminal: stdio on a terminal, with the escape.
 */
typedef void uart_backend_console_fn(void *arg);
void uart_backend_set_console(struct uart_backend *be,
			      uart_backend_console_fn *fn, void *arg);
bool uart_backend_is_terminal(const struct uart_backend *be);
/*
 * Loop thread.  hold: stop reading stdin and send guest output to out_fd
 * instead of stdout, waiting for it as for stdout (nothing is lost: a
 * guest whose output nobody takes waits).  It copies the guest's line that
 * stdout shows unfinished (no newline yet) to `partial` and returns its
 * length (0: the cursor is at a line's start), or -1 when that line is
 * longer than `max` or UART_BACKEND_TAIL_MAX; the caller may take it off
 * the screen and print it whole once its newline comes.  release: output goes to
 * stdout again and stdin is read again; drain(arg) is called until no
 * vCPU writes to out_fd any more, and once after, to take what is left
 * there (drain must not block).
 */
#define UART_BACKEND_TAIL_MAX 256
ssize_t uart_backend_console_hold(struct uart_backend *be, int out_fd,
				  char *partial, size_t max);
void uart_backend_console_release(struct uart_backend *be,
				  void (*drain)(void *arg), void *arg);
/*
 * From drain(): write guest output the console kept to stdout, so that
 * the back end knows what line the terminal shows.
 */
void uart_backend_console_echo(struct uart_backend *be, const void *buf,
			       size_t n);

/* How long output may still wait for the host once the VM is ending. */
#define UART_BACKEND_END_MS 1000

/*
 * The VM is ending: from now on output waits for the host at most
 * UART_BACKEND_END_MS in all, also a wait already under way; what the
 * host does not take is dropped and counted.  Any thread, async-safe
 * enough for vitro_end (an atomic and an eventfd write).
 */
void uart_backend_end(struct uart_backend *be);
/* Output bytes dropped because the host did not take them at the end. */
uint64_t uart_backend_lost(const struct uart_backend *be);

/*
 * The terminal escape parser, a pure state machine.  Feed it each byte
 * typed; it says what to do with it.
 */
struct uart_escape {
	bool armed; /* the previous byte was the escape character */
};

enum uart_escape_action {
	UART_ESCAPE_NONE, /* swallow the byte */
	UART_ESCAPE_SEND, /* send *out to the guest */
	UART_ESCAPE_QUIT, /* the user asked to quit */
	UART_ESCAPE_HELP, /* print the escape help */
	UART_ESCAPE_CONSOLE, /* Ctrl-a c: the vitro prompt (--console) */
};

enum uart_escape_action uart_escape_feed(struct uart_escape *esc, uint8_t c,
					 uint8_t *out);

/* The help text for the escape keys (lines end in "\r\n"). */
extern const char uart_escape_help[];

#endif
