/*
 * devices.c: the devices of the machine vitro presents (monitor/platform.h),
 * initialised from one ordered table - core, then platform, then the late
 * ones that touch the host terminal - and torn down in reverse.  Each
 * entry with state has reset, save and restore hooks, which
 * vitro_devices_reset/save/restore run over the table (vitro.h).
 *
 * The models are in monitor/dev/ (the RTC's ports, the HPET's window, the
 * i8042, the PCI host bridge with the reset control register) and
 * monitor/uart.c; here is
 * their glue, and, with --debug-exit only, the exit port at
 * DEBUG_EXIT_PORT, as QEMU's isa-debug-exit: writing V ends vitro with
 * status (V << 1) | 1 (off by default, so that an ordinary guest cannot
 * forge the statuses of a reset, a poweroff or a triple fault).  A reset
 * the guest asks for (the i8042's pulse, 0xcf9) suspends the VM with
 * VM_SUSPEND_RESET, which ends vitro with the reset status, as bhyve does.
 *
 * Threads: init, fini and the hooks run on the main thread while no vCPU
 * runs (before they start, after they stop, or while all are stopped);
 * the region handlers run on vCPU threads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/dev/acpi_pm.h"
#include "monitor/dev/hpet.h"
#include "monitor/dev/i8042.h"
#include "monitor/dev/pci_host.h"
#include "monitor/dev/rtc.h"
#include "monitor/platform.h"
#include "monitor/uart.h"
#include "monitor/vitro.h"

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

static int pc_init(struct vitro *vm, char *err, size_t errlen)
{
	int r = 0;

	if (vm->opt.debug_exit)
		r = region_register(vm->pio, "debug-exit", DEBUG_EXIT_PORT, 4,
				    debug_exit_access, vm);
	if (r < 0)
		snprintf(err, errlen, "debug exit port: %s", strerror(-r));
	return r;
}

/* The reset line of the i8042 and of the reset control register. */
static void guest_reset(void *arg)
{
	struct vitro *vm = arg;

	vm_suspend(vm->ctx, VM_SUSPEND_RESET);
}

static int rtc_init(struct vitro *vm, char *err, size_t errlen)
{
	int r;

	vm->rtc = rtc_dev_create(vm->ctx);
	if (!vm->rtc) {
		r = -errno;
		snprintf(err, errlen, "RTC: %s", strerror(errno));
		return r;
	}
	r = rtc_dev_set_memsize(vm->rtc, vm_get_lowmem_size(vm->ctx),
				vm_get_highmem_size(vm->ctx));
	if (r == 0)
		r = rtc_dev_register(vm->rtc, vm->pio);
	if (r < 0)
		snprintf(err, errlen, "RTC: %s", strerror(-r));
	return r;
}

static void rtc_fini(struct vitro *vm)
{
	rtc_dev_destroy(vm->rtc);
	vm->rtc = NULL;
}

static void rtc_reset(struct vitro *vm)
{
	rtc_dev_reset(vm->rtc);
}

static int rtc_save(struct vitro *vm, void *buf, size_t len)
{
	return rtc_dev_save(vm->rtc, buf, len);
}

static int rtc_restore(struct vitro *vm, const void *buf, size_t len)
{
	return rtc_dev_restore(vm->rtc, buf, len);
}

/* The HPET's window; with --no-hpet none, and no state saved. */
static int hpet_init(struct vitro *vm, char *err, size_t errlen)
{
	int r;

	if (vm->opt.no_hpet)
		return 0;
	r = hpet_dev_register(vm->ctx, vm->mmio);
	if (r < 0)
		snprintf(err, errlen, "HPET: %s", strerror(-r));
	return r;
}

static void hpet_reset(struct vitro *vm)
{
	(void)hpet_dev_reset(vm->ctx);
}

static int hpet_save(struct vitro *vm, void *buf, size_t len)
{
	return vm->opt.no_hpet ? 0 : hpet_dev_save(vm->ctx, buf, len);
}

static int hpet_restore(struct vitro *vm, const void *buf, size_t len)
{
	if (vm->opt.no_hpet)
		return len == 0 ? 0 : -EINVAL;
	return hpet_dev_restore(vm->ctx, buf, len);
}

static void i8042_irq(void *arg, int irq)
{
	struct vitro *vm = arg;

	vm_isa_pulse_irq(vm->ctx, irq);
}

static int kbc_init(struct vitro *vm, char *err, size_t errlen)
{
	int r;

	vm->i8042 = i8042_create(i8042_irq, guest_reset, vm);
	if (!vm->i8042) {
		r = -errno;
		snprintf(err, errlen, "i8042: %s", strerror(errno));
		return r;
	}
	r = i8042_register(vm->i8042, vm->pio);
	if (r < 0)
		snprintf(err, errlen, "i8042 ports: %s", strerror(-r));
	return r;
}

static void kbc_fini(struct vitro *vm)
{
	i8042_destroy(vm->i8042);
	vm->i8042 = NULL;
}

static void kbc_reset(struct vitro *vm)
{
	i8042_reset(vm->i8042);
}

static int kbc_save(struct vitro *vm, void *buf, size_t len)
{
	return i8042_save(vm->i8042, buf, len);
}

static int kbc_restore(struct vitro *vm, const void *buf, size_t len)
{
	return i8042_restore(vm->i8042, buf, len);
}

static int pci_host_init(struct vitro *vm, char *err, size_t errlen)
{
	int r;

	vm->pci_host = pci_host_create(guest_reset, vm);
	if (!vm->pci_host) {
		r = -errno;
		snprintf(err, errlen, "PCI host bridge: %s", strerror(errno));
		return r;
	}
	r = pci_host_register(vm->pci_host, vm->pio);
	if (r < 0)
		snprintf(err, errlen, "PCI host bridge ports: %s",
			 strerror(-r));
	return r;
}

static void pci_host_fini(struct vitro *vm)
{
	pci_host_destroy(vm->pci_host);
	vm->pci_host = NULL;
}

static void pci_host_hook_reset(struct vitro *vm)
{
	pci_host_reset(vm->pci_host);
}

static int pci_host_hook_save(struct vitro *vm, void *buf, size_t len)
{
	return pci_host_save(vm->pci_host, buf, len);
}

static int pci_host_hook_restore(struct vitro *vm, const void *buf, size_t len)
{
	return pci_host_restore(vm->pci_host, buf, len);
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

static void com1_reset(struct vitro *vm)
{
	uart_reset(vm->com1);
}

static int com1_save(struct vitro *vm, void *buf, size_t len)
{
	return uart_save(vm->com1, buf, len);
}

static int com1_restore(struct vitro *vm, const void *buf, size_t len)
{
	return uart_restore(vm->com1, buf, len);
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

/*
 * A device: init and fini (NULL: nothing to undo), and for one with state
 * reset (back to power-on), save (its state into buf: the bytes written;
 * with len 0 the bytes it needs; -errno) and restore (from what save
 * wrote: 0 or -errno).  A device without state has NULL hooks.
 */
struct vitro_device {
	const char *name; /* shorter than VITRO_DEV_NAME_MAX */
	int (*init)(struct vitro *vm, char *err, size_t errlen);
	void (*fini)(struct vitro *vm);
	void (*reset)(struct vitro *vm);
	int (*save)(struct vitro *vm, void *buf, size_t len);
	int (*restore)(struct vitro *vm, const void *buf, size_t len);
};

static const struct vitro_device devices[] = {
	/* platform */
	{ .name = "pc", .init = pc_init },
	{ .name = "rtc",
	  .init = rtc_init,
	  .fini = rtc_fini,
	  .reset = rtc_reset,
	  .save = rtc_save,
	  .restore = rtc_restore },
	{ .name = "hpet",
	  .init = hpet_init,
	  .reset = hpet_reset,
	  .save = hpet_save,
	  .restore = hpet_restore },
	{ .name = "i8042",
	  .init = kbc_init,
	  .fini = kbc_fini,
	  .reset = kbc_reset,
	  .save = kbc_save,
	  .restore = kbc_restore },
	{ .name = "pci-host",
	  .init = pci_host_init,
	  .fini = pci_host_fini,
	  .reset = pci_host_hook_reset,
	  .save = pci_host_hook_save,
	  .restore = pci_host_hook_restore },
	{ .name = "com1",
	  .init = com1_init,
	  .fini = com1_fini,
	  .reset = com1_reset,
	  .save = com1_save,
	  .restore = com1_restore },
	{ .name = "acpi-pm",
	  .init = acpi_pm_device_init,
	  .fini = acpi_pm_device_fini,
	  .reset = acpi_pm_device_reset,
	  .save = acpi_pm_device_save,
	  .restore = acpi_pm_device_restore },
	/* late */
	{ .name = "com1-backend",
	  .init = com1_backend_init,
	  .fini = com1_backend_fini },
};

#define NDEVICES (sizeof(devices) / sizeof(devices[0]))

int vitro_devices_init(struct vitro *vm, char *err, size_t errlen)
{
	for (size_t i = 0; i < NDEVICES; i++) {
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

void vitro_devices_reset(struct vitro *vm)
{
	for (int i = 0; i < vm->devices_up; i++) {
		if (devices[i].reset)
			devices[i].reset(vm);
	}
}

/* A record of vitro_devices_save: this header, then len bytes. */
struct devstate_hdr {
	char name[VITRO_DEV_NAME_MAX]; /* the device's, NUL-padded */
	uint32_t len; /* bytes of state after the header */
	uint32_t pad;
};

int vitro_devices_save(struct vitro *vm, void *buf, size_t len)
{
	size_t total = 0;
	uint8_t *p = buf;

	for (int i = 0; i < vm->devices_up; i++) {
		int n;

		if (!devices[i].save)
			continue;
		if ((n = devices[i].save(vm, NULL, 0)) < 0)
			return n;
		total += sizeof(struct devstate_hdr) + (size_t)n;
	}
	if (total > INT32_MAX)
		return -EOVERFLOW;
	if (len == 0)
		return (int)total;
	if (len < total)
		return -ENOSPC;
	for (int i = 0; i < vm->devices_up; i++) {
		struct devstate_hdr h = { .len = 0 };
		int n;

		if (!devices[i].save)
			continue;
		n = devices[i].save(
			vm, p + sizeof(h),
			len - (size_t)(p + sizeof(h) - (uint8_t *)buf));
		if (n < 0)
			return n;
		snprintf(h.name, sizeof(h.name), "%s", devices[i].name);
		h.len = (uint32_t)n;
		memcpy(p, &h, sizeof(h));
		p += sizeof(h) + (size_t)n;
	}
	return (int)(p - (uint8_t *)buf);
}

static const struct vitro_device *device_find(struct vitro *vm,
					      const char *name)
{
	for (int i = 0; i < vm->devices_up; i++) {
		if (strcmp(devices[i].name, name) == 0)
			return &devices[i];
	}
	return NULL;
}

int vitro_devices_restore(struct vitro *vm, const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len;
	int seen = 0, want = 0;

	for (int i = 0; i < vm->devices_up; i++)
		want += devices[i].restore != NULL;
	while (p < end) {
		const struct vitro_device *d;
		struct devstate_hdr h;
		int r;

		if ((size_t)(end - p) < sizeof(h))
			return -EINVAL;
		memcpy(&h, p, sizeof(h));
		p += sizeof(h);
		h.name[sizeof(h.name) - 1] = 0;
		if (h.len > (size_t)(end - p))
			return -EINVAL;
		d = device_find(vm, h.name);
		if (!d || !d->restore)
			return -ENOENT;
		if ((r = d->restore(vm, p, h.len)) < 0)
			return r;
		p += h.len;
		seen++;
	}
	return seen == want ? 0 : -ENODATA;
}
