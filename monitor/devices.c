/*
 * devices.c: the devices of the machine vitro presents (monitor/platform.h),
 * initialised from one ordered table - core, then platform, then the late
 * ones that touch the host terminal - and torn down in reverse.
 *
 * Also the small PC devices that need no module of their own:
 * - with --debug-exit only, the exit port at DEBUG_EXIT_PORT, as QEMU's
 *   isa-debug-exit: writing V ends vitro with status (V << 1) | 1.  Off
 *   by default, so that an ordinary guest cannot forge the statuses of a
 *   reset, a poweroff or a triple fault;
 * - reset: the reset control register at 0xcf9 (a write with bit 2 set)
 *   and the keyboard controller's pulse-reset command (0xfe to port 0x64),
 *   which end vitro with the reset status, as bhyve does.  The keyboard
 *   controller's status reads 0 (no data, ready for a command) so that a
 *   guest polling it before a reset does not spin.
 *
 * Threads: init and fini run on the main thread before the vCPUs start and
 * after they stop; the handlers run on vCPU threads and keep no state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/dev/acpi_pm.h"
#include "monitor/platform.h"
#include "monitor/uart.h"
#include "monitor/vitro.h"

#define PORT_KBD_STATUS 0x64
#define PORT_RESET_CONTROL 0xcf9
#define KBD_CMD_PULSE_RESET 0xfe
#define RCR_RESET 0x04

static int debug_exit_access(void *arg, int vcpuid, bool write, uint64_t addr,
			     unsigned size, uint64_t *val)
{
	struct vitro *vm = arg;

	if (!write) {
		*val = ~0ULL;
		return 0;
	}
	/* The status an exit code can carry is 8 bits wide, as in QEMU. */
	vitro_end(vm, (int)((((uint32_t)*val << 1) | 1) & 0xff), NULL);
	return 0;
}

static int reset_access(void *arg, int vcpuid, bool write, uint64_t addr,
			unsigned size, uint64_t *val)
{
	struct vitro *vm = arg;
	uint8_t v = (uint8_t)*val;

	if (!write) {
		*val = 0;
		return 0;
	}
	if ((addr == PORT_KBD_STATUS && v == KBD_CMD_PULSE_RESET) ||
	    (addr == PORT_RESET_CONTROL && (v & RCR_RESET)))
		vm_suspend(vm->ctx, VM_SUSPEND_RESET);
	return 0;
}

static int pc_init(struct vitro *vm, char *err, size_t errlen)
{
	int r = 0;

	if (vm->opt.debug_exit)
		r = region_register(vm->pio, "debug-exit", DEBUG_EXIT_PORT, 4,
				    debug_exit_access, vm);
	if (r == 0)
		r = region_register(vm->pio, "kbd-reset", PORT_KBD_STATUS, 1,
				    reset_access, vm);
	if (r == 0)
		r = region_register(vm->pio, "reset-control",
				    PORT_RESET_CONTROL, 1, reset_access, vm);
	if (r < 0)
		snprintf(err, errlen, "platform ports: %s", strerror(-r));
	return r;
}

static void com1_irq(void *arg, bool level)
{
	struct vitro *vm = arg;

	if (level)
		vm_isa_assert_irq(vm->ctx, COM1_IRQ);
	else
		vm_isa_deassert_irq(vm->ctx, COM1_IRQ);
}

static int com1_init(struct vitro *vm, char *err, size_t errlen)
{
	int r;

	vm->com1 = uart_create(com1_irq, vm);
	if (!vm->com1) {
		r = -errno;
		snprintf(err, errlen, "COM1: %s", strerror(errno));
		return r;
	}
	r = uart_register_region(vm->com1, vm->pio, "com1", COM1_PORT);
	if (r < 0)
		snprintf(err, errlen, "COM1 ports: %s", strerror(-r));
	return r;
}

static void com1_fini(struct vitro *vm)
{
	uart_destroy(vm->com1);
	vm->com1 = NULL;
}

static void com1_quit(void *arg)
{
	vitro_end(arg, VITRO_EXIT_POWEROFF, NULL);
}

/* Late: the back end may put the terminal in raw mode. */
static int com1_backend_init(struct vitro *vm, char *err, size_t errlen)
{
	char msg[256];

	vm->com1_be = uart_backend_open(&vm->com1_cfg, vm->loop, vm->com1,
					com1_quit, vm, msg, sizeof(msg));
	if (!vm->com1_be) {
		snprintf(err, errlen, "-l %s: %s", vm->opt.com1, msg);
		return -EINVAL;
	}
	return 0;
}

static void com1_backend_fini(struct vitro *vm)
{
	uart_backend_close(vm->com1_be);
	vm->com1_be = NULL;
}

struct vitro_device {
	const char *name;
	int (*init)(struct vitro *vm, char *err, size_t errlen);
	void (*fini)(struct vitro *vm);
};

static const struct vitro_device devices[] = {
	/* platform */
	{ "pc", pc_init, NULL },
	{ "com1", com1_init, com1_fini },
	{ "acpi-pm", acpi_pm_device_init, acpi_pm_device_fini },
	/* late */
	{ "com1-backend", com1_backend_init, com1_backend_fini },
};

int vitro_devices_init(struct vitro *vm, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		int r = devices[i].init(vm, err, errlen);

		if (r < 0)
			return r;
		vm->devices_up = i + 1;
	}
	return 0;
}

void vitro_devices_fini(struct vitro *vm)
{
	while (vm->devices_up > 0) {
		const struct vitro_device *d = &devices[--vm->devices_up];

		if (d->fini)
			d->fini(vm);
	}
}
