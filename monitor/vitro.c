/*
 * vitro.c: how a VM ends (vitro_end) and how the monitor logs.
 *
 * Threads: vitro_end() may be called from any thread, any number of
 * times; end_lock makes the first call the one that counts.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "monitor/debug/debug.h"
#include "monitor/mevent.h"
#include "monitor/vitro.h"

void vitro_end(struct vitro *vm, int status, const char *msg_fmt, ...)
{
	va_list ap;
	bool first;

	pthread_mutex_lock(&vm->end_lock);
	first = !vm->ended;
	if (first) {
		vm->ended = true;
		vm->status = status;
		vm->end_msg[0] = 0;
		if (msg_fmt) {
			va_start(ap, msg_fmt);
			vsnprintf(vm->end_msg, sizeof(vm->end_msg), msg_fmt,
				  ap);
			va_end(ap);
		}
	}
	pthread_mutex_unlock(&vm->end_lock);
	if (!first)
		return;
	/*
	 * Stop every vCPU (the reason given to vmm does not matter: the
	 * status is decided) and the event loop; main does the rest.
	 */
	vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF);
	dbg_vm_ending(vm->dbg, status);
	if (vm->com1_be)
		uart_backend_end(vm->com1_be);
	if (vm->loop)
		mevent_stop(vm->loop);
}

void vitro_take_signal(struct vitro *vm)
{
	struct signalfd_siginfo si;

	if (vm->sig_fd >= 0 && read(vm->sig_fd, &si, sizeof(si)) == sizeof(si))
		vitro_end(vm, VITRO_EXIT_POWEROFF, "stopped by signal %s",
			  sigabbrev_np(si.ssi_signo) ?
				  sigabbrev_np(si.ssi_signo) :
				  "?");
}

void vitro_log(const char *fmt, ...)
{
	struct termios t;
	va_list ap;
	/* A terminal in raw mode does not turn \n into \r\n. */
	bool raw = isatty(STDERR_FILENO) && tcgetattr(STDERR_FILENO, &t) == 0 &&
		   !(t.c_oflag & OPOST);

	fputs("vitro: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(raw ? "\r\n" : "\n", stderr);
}
