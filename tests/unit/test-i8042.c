/*
 * test-i8042.c: the keyboard controller model (monitor/dev/i8042.c): the
 * command sequences a guest's probe sends (config byte, self-test,
 * interface tests, ports disabled and enabled, output port), devices
 * that do not answer, the reset line, interrupts, the port glue, and
 * save -> reset -> restore.
 */
#include <errno.h>

#include "monitor/dev/i8042.h"
#include "monitor/region.h"
#include "tests/tap.h"

struct rec {
	int resets;
	int irqs[16]; /* pulses by line */
};

static void rec_irq(void *arg, int irq)
{
	((struct rec *)arg)->irqs[irq & 15]++;
}

static void rec_reset(void *arg)
{
	((struct rec *)arg)->resets++;
}

/* A command, and the byte it answers (-1: none waiting). */
static int cmd(struct i8042 *k, uint8_t c)
{
	i8042_write(k, I8042_CMD_PORT, c);
	if (!(i8042_read(k, I8042_CMD_PORT) & I8042_STR_OBF))
		return -1;
	return i8042_read(k, I8042_DATA_PORT);
}

static void test_probe(void)
{
	struct rec r = { 0 };
	struct i8042 *k = i8042_create(rec_irq, rec_reset, &r);
	uint8_t st = i8042_read(k, I8042_CMD_PORT);

	is_hex(st & (I8042_STR_OBF | I8042_STR_IBF), 0,
	       "status: nothing to read, ready for a command");
	ok(st & I8042_STR_SYS, "status: system flag (POST done)");
	is_hex(cmd(k, 0x20), 0x45, "0x20: config byte as a BIOS leaves it");
	ok(i8042_read(k, I8042_CMD_PORT) & I8042_STR_CMD,
	   "status: the last write was a command");
	/* Linux turns interrupts off around its probe. */
	i8042_write(k, I8042_CMD_PORT, 0x60);
	i8042_write(k, I8042_DATA_PORT, 0x44);
	is_hex(cmd(k, 0x20), 0x44, "0x60 then a byte writes the config");
	is_int(r.irqs[1], 1, "the first 0x20's answer raised IRQ 1");
	r.irqs[1] = 0;
	is_hex(cmd(k, 0xaa), 0x55, "0xaa: self-test passes with 0x55");
	is_hex(cmd(k, 0xab), 0x00, "0xab: keyboard interface test 0");
	is_hex(cmd(k, 0xa9), 0x00, "0xa9: aux interface test 0");
	is_int(cmd(k, 0xad), -1, "0xad answers nothing");
	is_hex(cmd(k, 0x20) & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS,
	       "0xad: keyboard disabled in the config");
	cmd(k, 0xae);
	is_hex(cmd(k, 0x20) & I8042_CTR_KBDDIS, 0, "0xae: enabled again");
	cmd(k, 0xa7);
	is_hex(cmd(k, 0x20) & I8042_CTR_AUXDIS, I8042_CTR_AUXDIS,
	       "0xa7: aux disabled");
	cmd(k, 0xa8);
	is_hex(cmd(k, 0x20) & I8042_CTR_AUXDIS, 0, "0xa8: aux enabled");
	is_hex(cmd(k, 0xd0), 0x03, "0xd0: output port, reset high, A20 on");
	is_hex(cmd(k, 0x21), 0x00, "0x21: other RAM bytes read 0");

	/* Loopback writes come back as the device's data. */
	i8042_write(k, I8042_CMD_PORT, 0xd3);
	i8042_write(k, I8042_DATA_PORT, 0x5a);
	st = i8042_read(k, I8042_CMD_PORT);
	is_hex(st & (I8042_STR_OBF | I8042_STR_AUXDATA),
	       I8042_STR_OBF | I8042_STR_AUXDATA, "0xd3: a byte from aux");
	is_hex(i8042_read(k, I8042_DATA_PORT), 0x5a, "0xd3: the byte looped");

	/* No keyboard: a byte sent to it times out. */
	i8042_write(k, I8042_DATA_PORT, 0xf2);
	st = i8042_read(k, I8042_CMD_PORT);
	is_hex(st & (I8042_STR_OBF | I8042_STR_TIMEOUT),
	       I8042_STR_OBF | I8042_STR_TIMEOUT,
	       "keyboard command: timeout in the status");
	is_hex(i8042_read(k, I8042_DATA_PORT), 0xfe, "and 0xfe to read");
	is_hex(i8042_read(k, I8042_DATA_PORT), 0xfe,
	       "an empty buffer reads the last byte again");
	is_int(r.irqs[1], 0, "no IRQ 1 with the keyboard interrupt off");
	i8042_write(k, I8042_CMD_PORT, 0x60);
	i8042_write(k, I8042_DATA_PORT, 0x47);
	i8042_write(k, I8042_CMD_PORT, 0xd4);
	i8042_write(k, I8042_DATA_PORT, 0xff);
	is_int(r.irqs[12], 1, "mouse command: IRQ 12 with its bit on");
	is_hex(i8042_read(k, I8042_DATA_PORT), 0xfe, "0xfe from no mouse");
	i8042_write(k, I8042_DATA_PORT, 0xee);
	is_int(r.irqs[1], 1, "keyboard byte: IRQ 1 with its bit on");
	i8042_read(k, I8042_DATA_PORT);
	is_int(r.resets, 0, "no reset so far");
	i8042_write(k, I8042_CMD_PORT, 0xfe);
	is_int(r.resets, 1, "0xfe pulses the reset line");
	i8042_write(k, I8042_CMD_PORT, 0xff);
	is_int(r.resets, 1, "0xff pulses nothing");
	i8042_write(k, I8042_CMD_PORT, 0xd1);
	i8042_write(k, I8042_DATA_PORT, 0x02);
	is_int(r.resets, 2, "0xd1 with bit 0 clear resets");
	i8042_destroy(k);
}

static void test_state(void)
{
	struct rec r = { 0 };
	struct i8042 *k = i8042_create(rec_irq, rec_reset, &r);
	struct region_map *m = region_map_create("pio");
	uint8_t buf[256];
	uint64_t v;
	int n;

	is_int(i8042_register(k, m), 0, "ports 0x60 and 0x64 registered");
	v = 0xaa;
	region_dispatch(m, NULL, 0, true, I8042_CMD_PORT, 1, &v);
	region_dispatch(m, NULL, 0, false, I8042_CMD_PORT, 1, &v);
	is_hex(v & 0xff,
	       I8042_STR_OBF | I8042_STR_SYS | I8042_STR_CMD |
		       I8042_STR_UNLOCKED,
	       "inb 0x64 after 0xaa");
	i8042_write(k, I8042_CMD_PORT, 0x60);
	i8042_write(k, I8042_DATA_PORT, 0x25);
	i8042_write(k, I8042_CMD_PORT, 0x20);
	/* Two bytes waiting: 0x55, then 0x25. */
	n = i8042_save(k, NULL, 0);
	ok(n > 0 && n <= (int)sizeof(buf), "save: needs %d bytes", n);
	is_int(i8042_save(k, buf, 1), -ENOSPC, "save: too small");
	is_int(i8042_save(k, buf, sizeof(buf)), n, "save");
	i8042_reset(k);
	is_hex(i8042_read(k, I8042_CMD_PORT) & I8042_STR_OBF, 0,
	       "reset: buffer empty");
	is_hex(cmd(k, 0x20), 0x45, "reset: config at power-on");
	is_int(i8042_restore(k, buf, n), 0, "restore");
	is_hex(i8042_read(k, I8042_DATA_PORT), 0x55, "restored: first byte");
	is_hex(i8042_read(k, I8042_DATA_PORT), 0x25, "restored: second byte");
	is_hex(cmd(k, 0x20), 0x25, "restored: the config byte");
	is_int(i8042_restore(k, buf, n + 1), -EINVAL, "restore: bad size");
	buf[0] = 0;
	is_int(i8042_restore(k, buf, n), -EINVAL, "restore: not a save");
	region_map_destroy(m);
	i8042_destroy(k);
}

int main(void)
{
	test_probe();
	test_state();
	return tap_done();
}
