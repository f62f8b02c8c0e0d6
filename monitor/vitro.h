/*
 * vitro.h: one running VM as the monitor sees it, and the functions that
 * the monitor's parts share.
 *
 * Threads.  The main thread sets the VM up, runs the event loop (mevent:
 * serial back ends, signals, later the gdb and control sockets) and tears
 * the VM down.  One thread per vCPU runs VM_RUN and that vCPU's exit
 * handlers.  The VM ends once, through vitro_end(), from any thread: the
 * first call decides the exit status and message, suspends every vCPU and
 * stops the event loop; the main thread then joins the vCPU threads, tears
 * the devices down in reverse order and prints the message, after the
 * terminal is restored.  vitro_end() also tells the debug core (which
 * lets parked vCPUs go) and the serial back end (whose waits for a slow
 * host become bounded), so no vCPU thread waits forever on the way out.
 */
#ifndef MONITOR_VITRO_H
#define MONITOR_VITRO_H

#include <pthread.h>
#include <stdbool.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/options.h"
#include "monitor/region.h"
#include "monitor/uart_backend.h"

/* Exit statuses, as bhyve's. */
enum vitro_status {
	VITRO_EXIT_RESET = 0,
	VITRO_EXIT_POWEROFF = 1,
	VITRO_EXIT_HALT = 2,
	VITRO_EXIT_TRIPLEFAULT = 3,
	VITRO_EXIT_ERROR = 4,
};

struct vitro;
struct dbg_core;
struct acpi_pm;

struct vitro_vcpu {
	struct vitro *vm;
	struct vcpu *vcpu;
	int id;
	pthread_t thread;
	pid_t tid; /* its thread's id once it runs, else 0; atomic */
	bool started; /* thread created */
	struct region_cache pio_cache; /* last port region hit */
	struct region_cache mmio_cache; /* last MMIO region hit */
};

struct vitro {
	struct vitro_options opt;
	char name[VM_NAME_MAX];
	struct vmctx *ctx;
	unsigned ncpus;
	struct vitro_vcpu *vcpu; /* ncpus of them */

	struct region_map *pio; /* port I/O regions */
	struct region_map *mmio; /* MMIO regions */
	struct mevent_loop *loop;

	struct dbg_core *dbg; /* the debug core, before vCPUs run */
	struct gdb_server *gdb; /* -G */
	struct ctl_server *ctl; /* the control socket (ctl/ctl_server.h) */
	struct console *console; /* the Tcl console (console.h), or NULL */
	struct vitro_trace *trace; /* the exit tracer (trace.h) */
	/*
	 * console_eval, for gdb's monitor (a pointer: the debug core links
	 * without Tcl in tests); set with console.
	 */
	int (*console_eval)(struct console *c, const char *line, char **out,
			    bool *failed);
	int sig_fd; /* signalfd of the signals that end the VM, or -1 */

	/* platform devices (devices.c, monitor/dev/) */
	struct rtc_dev *rtc;
	struct i8042 *i8042;
	struct pci_host *pci_host;
	struct uart *com1;
	struct uart_backend_config com1_cfg;
	struct uart_backend *com1_be;
	struct acpi_pm *acpi_pm; /* PM1a registers (dev/acpi_pm.h) */
	int devices_up; /* entries of the device table done */

	/* How the VM ended; guarded by end_lock, set once. */
	pthread_mutex_t end_lock;
	bool ended;
	int status;
	char end_msg[512];
};

/* The device table, initialised in order and torn down in reverse. */
int vitro_devices_init(struct vitro *vm, char *err, size_t errlen);
void vitro_devices_fini(struct vitro *vm);

/*
 * Over the devices initialised, with no vCPU running: reset each to its
 * power-on state; save each one's state into buf as records (a header
 * with the device's name and length, then its state), returning the
 * bytes written, or with len 0 the bytes needed (-ENOSPC: len too small);
 * restore from what save wrote: 0, -EINVAL for a malformed buffer,
 * -ENOENT for a device not here, -ENODATA when a device had no record,
 * or a device's error (the devices before it are restored then).
 */
#define VITRO_DEV_NAME_MAX 24
void vitro_devices_reset(struct vitro *vm);
int vitro_devices_save(struct vitro *vm, void *buf, size_t len);
int vitro_devices_restore(struct vitro *vm, const void *buf, size_t len);

/* vCPU threads: start them all, and join them after vitro_end(). */
int vitro_vcpus_start(struct vitro *vm);
/*
 * -p: every pinned vCPU's host CPU is one this process may run on.  0, or
 * -1 with a message in err.
 */
int vitro_pins_check(const struct vitro_options *o, char *err, size_t errlen);
void vitro_vcpus_join(struct vitro *vm);
/* The vCPU the calling thread runs, or NULL on other threads. */
struct vitro_vcpu *vitro_vcpu_self(void);

/*
 * End the VM with an exit status and, if msg_fmt is not NULL, a message
 * for stderr.  Only the first call counts; any thread may call it.
 */
void vitro_end(struct vitro *vm, int status, const char *msg_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A signal is waiting on vm->sig_fd: take it and end the VM (status 1),
 * as the event loop does; for waits that hold the loop.
 */
void vitro_take_signal(struct vitro *vm);

/* Log on stderr as "vitro: ..." (with \r on a raw terminal). */
void vitro_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
