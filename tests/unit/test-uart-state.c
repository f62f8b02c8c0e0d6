/*
 * test-uart-state.c: the 16550A's save -> reset -> restore round trip
 * (uart_save, uart_restore): registers, the divisor, the receive FIFO
 * and the interrupt output come back; bad buffers are refused.
 */
#include <errno.h>
#include <string.h>

#include "monitor/uart.h"
#include "tests/tap.h"

static int level;

static void rec_irq(void *arg, bool l)
{
	(void)arg;
	level = l;
}

int main(void)
{
	struct uart *u = uart_create(rec_irq, NULL);
	uint8_t buf[256];
	int n;

	uart_write(u, UART_LCR, UART_LCR_DLAB);
	uart_write(u, UART_DLL, 1);
	uart_write(u, UART_LCR, 0x03);
	uart_write(u, UART_FCR, UART_FCR_ENABLE | 0x40);
	uart_write(u, UART_SCR, 0x5a);
	uart_write(u, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	uart_write(u, UART_IER, UART_IER_RDI);
	uart_push(u, (const uint8_t *)"abc", 3);
	is_int(level, 1, "data waiting raises the interrupt");

	n = uart_save(u, NULL, 0);
	ok(n > 0 && n <= (int)sizeof(buf), "save: needs %d bytes", n);
	is_int(uart_save(u, buf, 2), -ENOSPC, "save: too small");
	is_int(uart_save(u, buf, sizeof(buf)), n, "save");
	uart_reset(u);
	is_int(level, 0, "reset lowers the interrupt");
	is_hex(uart_read(u, UART_SCR), 0, "reset: scratch 0");
	is_int(uart_restore(u, buf, n), 0, "restore");
	is_int(level, 1, "restored: the interrupt is up again");
	is_hex(uart_read(u, UART_LCR), 0x03, "restored: LCR");
	is_hex(uart_read(u, UART_SCR), 0x5a, "restored: scratch");
	is_hex(uart_read(u, UART_MCR), UART_MCR_OUT2 | UART_MCR_DTR,
	       "restored: MCR");
	is_hex(uart_read(u, UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT,
	       "restored: FIFO on, 3 bytes below the trigger of 4");
	is_hex(uart_read(u, UART_RBR), 'a', "restored FIFO: a");
	is_hex(uart_read(u, UART_RBR), 'b', "restored FIFO: b");
	is_hex(uart_read(u, UART_RBR), 'c', "restored FIFO: c");
	uart_write(u, UART_LCR, 0x83);
	is_hex(uart_read(u, UART_DLL), 1, "restored: the divisor");
	is_int(uart_restore(u, buf, n - 1), -EINVAL, "restore: bad size");
	memset(buf, 0, 4);
	is_int(uart_restore(u, buf, n), -EINVAL, "restore: not a save");
	uart_destroy(u);
	return tap_done();
}
