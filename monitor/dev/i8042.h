/*
 * i8042.h: the PC keyboard controller (an Intel 8042) with no keyboard
 * and no mouse behind it: data port 0x60, status and command port 0x64.
 *
 * The controller answers its own commands (configuration byte 0x20/0x60,
 * self-test 0xaa -> 0x55, interface tests 0xab/0xa9 -> 0, ports disabled
 * and enabled with 0xad/0xae and 0xa7/0xa8, output port 0xd0/0xd1, the
 * loopback writes 0xd2/0xd3) so that a guest's probe finds a controller;
 * a byte sent to a device (port 0x60, or 0xd4 then port 0x60) gets 0xfe
 * with the status's timeout bit, as when no device answers, so that the
 * guest's device probe gives up at once.  Pulsing the reset line (0xfe,
 * or any 0xf0-0xff command with bit 0 clear) and clearing bit 0 of the
 * output port call reset(arg).  Bytes for the guest raise irq(arg, 1) or
 * irq(arg, 12) once each when the configuration byte enables it.
 *
 * Threads.  One mutex guards the state; every function may be called from
 * any thread.  irq and reset are called without it held.
 */
#ifndef MONITOR_DEV_I8042_H
#define MONITOR_DEV_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64 /* status on reads */

#define I8042_STR_OBF 0x01 /* output buffer full */
#define I8042_STR_IBF 0x02 /* input buffer full (never: writes are taken) */
#define I8042_STR_SYS 0x04 /* system flag, from the config byte */
#define I8042_STR_CMD 0x08 /* the last write was a command */
#define I8042_STR_UNLOCKED 0x10 /* keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20 /* the output byte is the mouse's */
#define I8042_STR_TIMEOUT 0x40 /* a device did not answer */

#define I8042_CTR_KBDINT 0x01 /* IRQ 1 for keyboard bytes */
#define I8042_CTR_AUXINT 0x02 /* IRQ 12 for mouse bytes */
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

#define I8042_OUT_RESET 0x01 /* output port: low resets the CPU */
#define I8042_OUT_A20 0x02

#define I8042_IRQ_KBD 1
#define I8042_IRQ_AUX 12
#define I8042_QUEUE 8 /* bytes waiting for the guest */

struct i8042;
struct region_map;

typedef void i8042_irq_fn(void *arg, int irq);
typedef void i8042_reset_fn(void *arg);

/* A controller in its power-on state.  NULL with errno set. */
struct i8042 *i8042_create(i8042_irq_fn *irq, i8042_reset_fn *reset, void *arg);
void i8042_destroy(struct i8042 *k);

/* A guest access to I8042_DATA_PORT or I8042_CMD_PORT. */
uint8_t i8042_read(struct i8042 *k, unsigned port);
void i8042_write(struct i8042 *k, unsigned port, uint8_t val);

/* Register the two ports as regions "i8042-data" and "i8042-cmd". */
int i8042_register(struct i8042 *k, struct region_map *map);
int i8042_region_access(void *arg, int vcpuid, bool write, uint64_t addr,
			unsigned size, uint64_t *val);

/* Power-on state. */
void i8042_reset(struct i8042 *k);
/*
 * Save the state into buf: the bytes written, or with len 0 the bytes
 * needed; -ENOSPC when len is too small.  Restore takes what save wrote:
 * 0, or -EINVAL for anything else (the state is then unchanged).
 */
int i8042_save(struct i8042 *k, void *buf, size_t len);
int i8042_restore(struct i8042 *k, const void *buf, size_t len);

#endif
