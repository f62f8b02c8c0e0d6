/*
 * test-uart.c: the 16550A register model, through its register interface
 * and callbacks: reset values, DLAB, LCR/MCR/LSR/MSR/SCR, FIFOs and
 * trigger levels, IIR priorities and the irq levels, THR-empty behaviour,
 * loopback and overrun, push flow control, and the port-I/O glue.
 */
#include <errno.h>

#include "monitor/platform.h"
#include "monitor/region.h"
#include "monitor/uart.h"
#include "tests/tap.h"

/* What the uart told its surroundings. */
struct rec {
	int irq_changes; /* irq() calls */
	bool level; /* last level */
	char levels[64]; /* the sequence, as '0'/'1' */
	uint8_t tx[64]; /* transmitted bytes */
	int ntx;
	int rooms; /* room() calls */
};

static void rec_irq(void *arg, bool level)
{
	struct rec *r = arg;

	if (r->irq_changes < (int)sizeof(r->levels) - 1)
		r->levels[r->irq_changes] = level ? '1' : '0';
	r->irq_changes++;
	r->level = level;
}

static void rec_tx(void *arg, uint8_t b)
{
	struct rec *r = arg;

	if (r->ntx < (int)sizeof(r->tx))
		r->tx[r->ntx] = b;
	r->ntx++;
}

static void rec_room(void *arg)
{
	struct rec *r = arg;

	r->rooms++;
}

static void rec_clear(struct rec *r)
{
	memset(r, 0, sizeof(*r));
}

static struct uart *make(struct rec *r)
{
	struct uart *u;

	rec_clear(r);
	u = uart_create(rec_irq, r);
	if (u == NULL)
		tap_bail("uart_create failed");
	uart_set_backend(u, rec_tx, rec_room, r);
	return u;
}

static void test_reset(void)
{
	struct rec r;
	struct uart *u = make(&r);

	is_hex(uart_read(u, UART_IER), 0x00, "IER resets to 0");
	is_hex(uart_read(u, UART_IIR), 0x01, "IIR resets to 0x01");
	is_hex(uart_read(u, UART_LCR), 0x00, "LCR resets to 0");
	is_hex(uart_read(u, UART_MCR), 0x00, "MCR resets to 0");
	is_hex(uart_read(u, UART_LSR), 0x60, "LSR resets to 0x60");
	is_hex(uart_read(u, UART_MSR) & 0xf0, 0xb0,
	       "MSR: CTS, DSR, DCD asserted, no RI");
	is_hex(uart_read(u, UART_SCR), 0x00, "SCR resets to 0");
	is_hex(uart_read(u, UART_RBR), 0x00, "RBR empty reads 0");
	is_int(r.irq_changes, 0, "no irq activity at reset");

	uart_write(u, UART_SCR, 0x5a);
	is_hex(uart_read(u, UART_SCR), 0x5a, "SCR holds a value");
	uart_write(u, UART_LCR, 0x1b);
	is_hex(uart_read(u, UART_LCR), 0x1b, "LCR reads back");
	uart_write(u, UART_MCR, 0xff);
	is_hex(uart_read(u, UART_MCR), 0x1f, "MCR bits 5-7 read 0");
	uart_write(u, UART_MCR, 0x0b);
	uart_write(u, UART_IER, 0xff);
	is_hex(uart_read(u, UART_IER), 0x0f, "IER bits 4-7 read 0");
	uart_write(u, UART_LSR, 0x00);
	is_hex(uart_read(u, UART_LSR) & 0x60, 0x60, "LSR ignores writes");

	uart_reset(u);
	ok(uart_read(u, UART_SCR) == 0 && uart_read(u, UART_IER) == 0 &&
		   uart_read(u, UART_LCR) == 0 && uart_read(u, UART_MCR) == 0,
	   "uart_reset clears the registers");
	ok(!r.level, "irq low after reset");
	uart_destroy(u);
}

static void test_dlab(void)
{
	struct rec r;
	struct uart *u = make(&r);

	uart_write(u, UART_LCR, 0x83);
	is_hex(uart_read(u, UART_DLL), 12, "divisor low resets to 12 (9600)");
	is_hex(uart_read(u, UART_DLM), 0, "divisor high resets to 0");
	uart_write(u, UART_DLL, 0x01);
	uart_write(u, UART_DLM, 0x02);
	is_hex(uart_read(u, UART_DLL), 0x01, "DLL written with DLAB");
	is_hex(uart_read(u, UART_DLM), 0x02, "DLM written with DLAB");
	is_int(r.ntx, 0, "DLL write transmits nothing");
	is_hex(uart_read(u, UART_LCR), 0x83, "LCR keeps DLAB");
	uart_write(u, UART_LCR, 0x03);
	is_hex(uart_read(u, UART_IER), 0x00, "IER untouched by DLM write");
	uart_write(u, UART_THR, 'A');
	ok(r.ntx == 1 && r.tx[0] == 'A', "THR write without DLAB transmits");
	uart_write(u, UART_LCR, 0x80);
	is_hex(uart_read(u, UART_DLL), 0x01, "divisor kept across DLAB");
	is_hex(uart_read(u, UART_DLM), 0x02, "divisor high kept");
	uart_write(u, UART_SCR, 0x42);
	is_hex(uart_read(u, UART_SCR), 0x42, "SCR reachable with DLAB");
	uart_destroy(u);
}

static void test_thre(void)
{
	struct rec r;
	struct uart *u = make(&r);

	uart_write(u, UART_THR, 'h');
	uart_write(u, UART_THR, 'i');
	ok(r.ntx == 2 && r.tx[0] == 'h' && r.tx[1] == 'i',
	   "bytes reach tx in order");
	is_int(r.irq_changes, 0, "no interrupt with IER 0");
	is_hex(uart_read(u, UART_LSR), 0x60, "THRE and TEMT stay set");

	uart_write(u, UART_IER, UART_IER_THRI);
	ok(r.level && r.irq_changes == 1, "enabling THRI raises irq at once");
	is_hex(uart_read(u, UART_IIR), 0x02, "IIR: THR empty");
	ok(!r.level, "reading IIR acknowledged it: irq low");
	is_hex(uart_read(u, UART_IIR), 0x01, "IIR: nothing pending after");

	rec_clear(&r);
	uart_write(u, UART_THR, 'x');
	ok(r.level && r.irq_changes == 1, "THR write: THR empty again, irq up");
	rec_clear(&r);
	uart_write(u, UART_THR, 'y');
	is_str(r.levels, "01",
	       "THR write while pending: low then high (a fresh edge)");
	ok(r.ntx == 1 && r.tx[0] == 'y', "and the byte went out");

	rec_clear(&r);
	uart_write(u, UART_IER, 0);
	ok(!r.level && r.irq_changes == 1, "disabling THRI lowers irq");
	uart_write(u, UART_IER, UART_IER_THRI);
	ok(r.level, "re-enabling THRI raises it again");
	uart_read(u, UART_IIR);
	uart_destroy(u);
}

static void test_rx_and_fifo(void)
{
	struct rec r;
	struct uart *u = make(&r);
	const uint8_t data[20] = "0123456789abcdefghij";
	int i;

	/* 16450 mode: one holding register. */
	is_int(uart_push(u, data, 3), 1, "16450 mode takes one byte");
	is_hex(uart_read(u, UART_LSR), 0x61, "LSR.DR set");
	is_int(r.irq_changes, 0, "no irq with IER 0");
	uart_write(u, UART_IER, UART_IER_RDI);
	ok(r.level, "enabling RDI raises irq");
	is_hex(uart_read(u, UART_IIR), 0x04, "IIR: data available, no FIFO");
	is_int(r.rooms, 0, "no room() before a read");
	is_hex(uart_read(u, UART_RBR), '0', "RBR gives the byte");
	ok(!r.level, "irq low once read");
	is_int(r.rooms, 1, "room() after a refused push and a read");
	is_hex(uart_read(u, UART_LSR), 0x60, "LSR.DR clear");
	is_int(uart_push(u, data + 1, 2), 1, "again one byte");
	uart_read(u, UART_RBR);
	is_int(r.rooms, 2, "room() once per refused push");
	uart_read(u, UART_RBR);
	is_int(r.rooms, 2, "no room() without a refused push");

	/* FIFO mode. */
	uart_write(u, UART_FCR, UART_FCR_ENABLE);
	is_hex(uart_read(u, UART_IIR), 0xc1, "IIR shows FIFOs enabled");
	is_int(uart_push(u, data, 20), 16, "FIFO takes 16 of 20");
	is_hex(uart_read(u, UART_IIR), 0xc4, "trigger level 1: data available");
	for (i = 0; i < 16; i++)
		if (uart_read(u, UART_RBR) != data[i])
			break;
	is_int(i, 16, "16 bytes read back in order");
	is_int(r.rooms, 3, "room() once after the refused push");
	ok(!r.level && !(uart_read(u, UART_LSR) & UART_LSR_DR),
	   "empty: irq low, LSR.DR clear");

	/* Trigger levels: 4, 8, 14. */
	uart_write(u, UART_FCR, UART_FCR_ENABLE | 0x40);
	uart_push(u, data, 3);
	is_hex(uart_read(u, UART_IIR), 0xcc,
	       "3 bytes below trigger 4: character timeout");
	ok(r.level, "timeout raises irq");
	uart_push(u, data, 1);
	is_hex(uart_read(u, UART_IIR), 0xc4, "4 bytes: data available");
	uart_read(u, UART_RBR);
	is_hex(uart_read(u, UART_IIR), 0xcc, "read one: timeout again");
	uart_write(u, UART_FCR, UART_FCR_ENABLE | 0x40 | UART_FCR_CLEAR_RX);
	ok(!(uart_read(u, UART_LSR) & UART_LSR_DR) && !r.level,
	   "FCR clear-RX empties the FIFO and lowers irq");
	uart_write(u, UART_FCR, UART_FCR_ENABLE | 0x80);
	uart_push(u, data, 7);
	is_hex(uart_read(u, UART_IIR), 0xcc, "7 below trigger 8: timeout");
	uart_push(u, data, 1);
	is_hex(uart_read(u, UART_IIR), 0xc4, "8: data available");
	uart_write(u, UART_FCR, UART_FCR_ENABLE | 0xc0 | UART_FCR_CLEAR_RX);
	uart_push(u, data, 13);
	is_hex(uart_read(u, UART_IIR), 0xcc, "13 below trigger 14: timeout");
	uart_push(u, data, 1);
	is_hex(uart_read(u, UART_IIR), 0xc4, "14: data available");

	/* Leaving FIFO mode clears the FIFO. */
	uart_write(u, UART_FCR, 0);
	is_hex(uart_read(u, UART_IIR), 0x01, "FIFO off: cleared, no int");
	is_hex(uart_read(u, UART_LSR), 0x60, "and no data");
	uart_destroy(u);
}

static void test_priorities(void)
{
	struct rec r;
	struct uart *u = make(&r);
	uint8_t b = 'z';

	uart_write(u, UART_IER, 0x0f);
	ok(r.level, "all enabled: THR empty raises irq");
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x02, "THR empty alone");
	uart_write(u, UART_IER, 0x0d); /* THRI off */
	uart_write(u, UART_IER, 0x0f); /* and on: THR empty pending again */

	/* Modem status change (loopback lets the guest make one). */
	uart_write(u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x02,
	       "THR empty outranks modem status");
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x00,
	       "then modem status (THR empty acknowledged)");
	is_hex(uart_read(u, UART_MSR),
	       UART_MSR_CTS | UART_MSR_DDSR | UART_MSR_DDCD,
	       "MSR: CTS kept (from RTS), DSR and DCD dropped, with deltas");
	is_hex(uart_read(u, UART_IIR), 0x01, "MSR read cleared it");
	ok(!r.level, "irq low");

	/* Received data outranks THR empty; line status outranks all. */
	uart_write(u, UART_THR, b); /* loops back; THR empty again */
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x04,
	       "data available outranks THR empty");
	uart_write(u, UART_THR, b); /* overrun in 16450 mode */
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x06,
	       "line status (overrun) outranks data available");
	is_hex(uart_read(u, UART_LSR), 0x63, "LSR: DR, OE, THRE, TEMT");
	is_hex(uart_read(u, UART_LSR), 0x61, "OE cleared by the LSR read");
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x04, "back to data available");
	is_hex(uart_read(u, UART_RBR), b, "the byte");
	is_hex(uart_read(u, UART_IIR) & 0x0f, 0x02, "then THR empty");
	is_hex(uart_read(u, UART_IIR), 0x01, "then nothing");
	ok(!r.level, "irq low at the end");
	uart_destroy(u);
}

static void test_loopback(void)
{
	struct rec r;
	struct uart *u = make(&r);
	const uint8_t in[4] = "abcd";
	int i;

	uart_write(u, UART_FCR, UART_FCR_ENABLE);
	uart_write(u, UART_MCR, UART_MCR_LOOP);
	is_hex(uart_read(u, UART_MSR),
	       UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD,
	       "entering loopback: all lines drop, deltas set");
	uart_write(u, UART_MCR, UART_MCR_LOOP | 0x0f);
	is_hex(uart_read(u, UART_MSR),
	       0xf0 | UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD,
	       "DTR, RTS, OUT1, OUT2 show as DSR, CTS, RI, DCD");
	uart_write(u, UART_MCR, UART_MCR_LOOP);
	is_hex(uart_read(u, UART_MSR) & 0x0f,
	       UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD | UART_MSR_TERI,
	       "RI falling sets TERI");

	uart_write(u, UART_THR, 'L');
	is_int(r.ntx, 0, "loopback: nothing reaches tx");
	is_hex(uart_read(u, UART_LSR) & UART_LSR_DR, UART_LSR_DR,
	       "the byte is received");
	is_hex(uart_read(u, UART_RBR), 'L', "and reads back");
	is_int(uart_push(u, in, 4), 0, "loopback: the line input is refused");

	for (i = 0; i < 17; i++)
		uart_write(u, UART_THR, 'a' + i);
	is_hex(uart_read(u, UART_LSR) & (UART_LSR_OE | UART_LSR_DR),
	       UART_LSR_OE | UART_LSR_DR, "17 bytes into 16: LSR.OE");
	for (i = 0; i < 16; i++)
		if (uart_read(u, UART_RBR) != 'a' + i)
			break;
	is_int(i, 16, "FIFO keeps the first 16, the 17th is lost");
	is_hex(uart_read(u, UART_LSR), 0x60, "OE was cleared by the read");

	is_int(r.rooms, 0, "no room() while in loopback");
	uart_write(u, UART_MCR, 0);
	is_int(r.rooms, 1, "room() when loopback ends");
	is_int(uart_push(u, in, 4), 4, "the line input is taken again");
	uart_write(u, UART_THR, 'T');
	ok(r.ntx == 1 && r.tx[0] == 'T', "tx works again");
	uart_destroy(u);
}

static void test_no_backend(void)
{
	struct uart *u = uart_create(NULL, NULL);

	uart_write(u, UART_IER, UART_IER_THRI);
	uart_write(u, UART_THR, 'q');
	is_hex(uart_read(u, UART_IIR), 0x02,
	       "no back end, no irq callback: still a register model");
	uart_destroy(u);
}

static void test_region(void)
{
	struct region_map *m = region_map_create("pio");
	struct region_info info;
	struct rec r;
	struct uart *u = make(&r);
	uint64_t v;

	is_int(uart_register_region(u, m, "com1", COM1_PORT), 0,
	       "registered at COM1_PORT");
	is_int(region_lookup(m, COM1_PORT + 7, &info), 0, "8 ports claimed");
	ok(info.base == COM1_PORT && info.len == 8, "0x3f8-0x3ff");
	v = 'Z';
	region_dispatch(m, NULL, 0, true, COM1_PORT + UART_THR, 1, &v);
	ok(r.ntx == 1 && r.tx[0] == 'Z', "outb to 0x3f8 transmits");
	v = 0;
	region_dispatch(m, NULL, 0, false, COM1_PORT + UART_LSR, 1, &v);
	is_hex(v, 0x60, "inb 0x3fd reads LSR");
	v = 0x0300 | 0x5a;
	region_dispatch(m, NULL, 0, true, COM1_PORT + UART_LCR, 2, &v);
	ok(uart_read(u, UART_LCR) == 0x5a && uart_read(u, UART_MCR) == 0x03,
	   "outw splits into LCR then MCR");
	v = 0;
	region_dispatch(m, NULL, 0, false, COM1_PORT + 6, 4, &v);
	is_hex(v >> 16, 0xffff, "inl past the last register: ones above");
	uart_write(u, UART_SCR, 0x77);
	region_dispatch(m, NULL, 0, false, COM1_PORT + 6, 2, &v);
	is_hex(v >> 8, 0x77, "inw 0x3fe: MSR then SCR");
	region_map_destroy(m);
	uart_destroy(u);
}

int main(void)
{
	test_reset();
	test_dlab();
	test_thre();
	test_rx_and_fifo();
	test_priorities();
	test_loopback();
	test_no_backend();
	test_region();
	return tap_done();
}
