/*
 * uart.h: a 16550A UART register model (COM1).
 *
 * The model knows nothing of terminals or KVM.  It talks to its back end
 * through callbacks: tx(byte) for each byte the guest transmits, and
 * room() when the receive FIFO has space again after uart_push() refused
 * bytes (flow control); and to the interrupt controller through irq(level),
 * called on every change of the interrupt output: high while an enabled
 * interrupt is pending, low when none is, so that an edge-triggered PIC
 * input sees one rising edge per new interrupt.
 *
 * Model notes.  Transmission is instantaneous: the byte goes to tx() and
 * THR and the shift register are empty again (LSR.THRE and TEMT always
 * read 1), so a THR write lowers and re-raises a pending THR-empty
 * interrupt, which the PIC sees as a new edge.  The character timeout is
 * treated simply: characters below the FIFO trigger level report the
 * timeout interrupt (IIR 0xc) at once, characters at or above it report
 * received data available (IIR 0x4).  In loopback mode (MCR.LOOP) THR
 * feeds the receive FIFO, MSR reflects MCR, and uart_push() takes nothing.
 * MCR.OUT2 does not gate the interrupt output (as in QEMU and bhyve).
 * Parity, framing and break never occur; overrun does (a loopback byte
 * arriving at a full FIFO) and sets LSR.OE.
 *
 * Threads.  One mutex guards the registers; uart_read, uart_write,
 * uart_push and uart_reset may be called from any thread.  irq() is called
 * with that mutex held, so it must not call into this uart; tx() and room()
 * are called without it, from the thread that accessed the register (tx
 * from a vCPU thread, room from a vCPU thread or uart_reset's caller), and
 * may call uart_push().
 */
#ifndef MONITOR_UART_H
#define MONITOR_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uart;
struct region_map;

/* Register offsets from the base port. */
#define UART_RBR 0 /* receive buffer (read), DLAB=0 */
#define UART_THR 0 /* transmit holding (write), DLAB=0 */
#define UART_DLL 0 /* divisor latch low, DLAB=1 */
#define UART_IER 1 /* interrupt enable, DLAB=0 */
#define UART_DLM 1 /* divisor latch high, DLAB=1 */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define UART_SCR 7 /* scratch */
#define UART_NREGS 8

#define UART_IER_RDI 0x01 /* received data available */
#define UART_IER_THRI 0x02 /* THR empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01 /* no interrupt pending */
#define UART_IIR_ID 0x0e /* the pending interrupt: */
#define UART_IIR_MSI 0x00 /* modem status */
#define UART_IIR_THRI 0x02 /* THR empty */
#define UART_IIR_RDI 0x04 /* received data available */
#define UART_IIR_RLSI 0x06 /* receiver line status */
#define UART_IIR_TIMEOUT 0x0c /* character timeout */
#define UART_IIR_FIFO 0xc0 /* FIFOs enabled */

#define UART_FCR_ENABLE 0x01 /* enable the FIFOs */
#define UART_FCR_CLEAR_RX 0x02 /* clear the receive FIFO */
#define UART_FCR_CLEAR_TX 0x04 /* clear the transmit FIFO */
#define UART_FCR_DMA 0x08 /* DMA mode select */
#define UART_FCR_TRIGGER 0xc0 /* receive trigger: 1, 4, 8, 14 bytes */

#define UART_LCR_DLAB 0x80 /* divisor latch access */

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10 /* loopback */

#define UART_LSR_DR 0x01 /* data ready */
#define UART_LSR_OE 0x02 /* overrun error */
#define UART_LSR_PE 0x04 /* parity error */
#define UART_LSR_FE 0x08 /* framing error */
#define UART_LSR_BI 0x10 /* break interrupt */
#define UART_LSR_THRE 0x20 /* THR empty */
#define UART_LSR_TEMT 0x40 /* transmitter empty */
#define UART_LSR_FIFOE 0x80 /* error in receive FIFO */

#define UART_MSR_DCTS 0x01 /* delta CTS */
#define UART_MSR_DDSR 0x02 /* delta DSR */
#define UART_MSR_TERI 0x04 /* trailing edge of RI */
#define UART_MSR_DDCD 0x08 /* delta DCD */
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#define UART_FIFO_SIZE 16

typedef void uart_irq_fn(void *arg, bool level);
typedef void uart_tx_fn(void *arg, uint8_t byte);
typedef void uart_room_fn(void *arg);

/*
 * A UART in its reset state, with its interrupt output wired to
 * irq(irq_arg, level) (irq may be NULL).  NULL with errno set on failure.
 */
struct uart *uart_create(uart_irq_fn *irq, void *irq_arg);
void uart_destroy(struct uart *uart);

/*
 * Attach a back end: tx(arg, byte) for each transmitted byte (NULL: bytes
 * are dropped), room(arg) when pushed bytes were refused and there is room
 * again (may be NULL).  Attach before the guest runs; to detach, pass NULLs
 * once no vCPU can be accessing the uart.
 */
void uart_set_backend(struct uart *uart, uart_tx_fn *tx, uart_room_fn *room,
		      void *arg);

/* Master reset: registers and FIFOs as at power-on; the divisor is 12. */
void uart_reset(struct uart *uart);

/*
 * Save the registers and the receive FIFO into buf: the bytes written, or
 * with len 0 the bytes needed; -ENOSPC when len is too small.  Restore
 * takes what save wrote (0, or -EINVAL for anything else, the uart then
 * unchanged) and sets the interrupt output to match.  The back end and
 * the interrupt wiring are not state: they stay as they are.
 */
int uart_save(struct uart *uart, void *buf, size_t len);
int uart_restore(struct uart *uart, const void *buf, size_t len);

/* A guest register access at offset (0-7) from the base port. */
uint8_t uart_read(struct uart *uart, unsigned offset);
void uart_write(struct uart *uart, unsigned offset, uint8_t val);

/*
 * Bytes received from the line: returns how many were taken into the
 * receive FIFO (fewer than len when it fills, 0 in loopback mode).  After
 * a short count, room() is called once when the guest has made room, and
 * the back end should stop reading until then.
 */
size_t uart_push(struct uart *uart, const uint8_t *buf, size_t len);

/*
 * The port-I/O glue: register the uart's 8 ports at base in the map, as
 * region name.  Accesses wider than a byte are split into byte accesses to
 * consecutive registers, as an 8-bit ISA device sees them.  0 or -errno
 * from region_register.
 */
int uart_register_region(struct uart *uart, struct region_map *map,
			 const char *name, uint64_t base);

/* The region handler behind uart_register_region (arg is the uart). */
int uart_region_access(void *arg, int vcpuid, bool write, uint64_t addr,
		       unsigned size, uint64_t *val);

#endif
