/*
 * uart.c: a 16550A UART register model (see uart.h for the model's
 * simplifications and the callback contract).
 *
 * Locking.  uart->mtx guards every field below it in struct uart.  The irq
 * callback runs under the mutex so that level changes reach the interrupt
 * controller in order; tx and room run after it is dropped, so a back end
 * that blocks on output, or pushes input from room(), cannot stall or
 * deadlock against another thread's register access.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/region.h"
#include "monitor/uart.h"

#define UART_MCR_MASK 0x1f /* bits 5-7 read as 0 on a 16550A */
#define UART_IER_MASK 0x0f /* bits 4-7 read as 0 */
#define UART_MSR_DELTAS 0x0f
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define UART_RESET_DIVISOR 12 /* 9600 baud, as a PC BIOS leaves it */

struct uart {
	pthread_mutex_t mtx;
	uint8_t ier; /* interrupt enable, bits 0-3 */
	uint8_t lcr; /* line control; bit 7 is DLAB */
	uint8_t mcr; /* modem control, bits 0-4 */
	uint8_t lsr_err; /* LSR OE/PE/FE/BI, latched until LSR is read */
	uint8_t msr; /* modem status: lines in 4-7, deltas in 0-3 */
	uint8_t fcr; /* FIFO control as written: enable, DMA, trigger */
	uint8_t scr; /* scratch */
	uint8_t dll; /* divisor latch, low byte */
	uint8_t dlm; /* divisor latch, high byte */
	uint8_t rx[UART_FIFO_SIZE]; /* receive FIFO (or holding register) */
	unsigned rx_head; /* index of the oldest byte in rx */
	unsigned rx_count; /* bytes in rx */
	bool thre_pending; /* THR-empty interrupt pending (until IIR/THR) */
	bool irq_level; /* the level last passed to irq() */
	bool rx_blocked; /* uart_push fell short: call room() on room */
	uint64_t base; /* port of register 0, for the region handler */
	uart_irq_fn *irq; /* interrupt output */
	void *irq_arg;
	uart_tx_fn *tx; /* back end: transmit a byte */
	uart_room_fn *room; /* back end: receive FIFO has room again */
	void *be_arg;
};

static bool fifo_enabled(const struct uart *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart *u)
{
	return fifo_enabled(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
	static const unsigned levels[4] = { 1, 4, 8, 14 };

	return fifo_enabled(u) ? levels[(u->fcr & UART_FCR_TRIGGER) >> 6] : 1;
}

static bool loopback(const struct uart *u)
{
	return u->mcr & UART_MCR_LOOP;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

static void rx_put(struct uart *u, uint8_t b)
{
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
	u->rx_count++;
}

static uint8_t rx_get(struct uart *u)
{
	uint8_t b = u->rx[u->rx_head];

	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return b;
}

/* A byte arriving from the serial input (the loopback path). */
static void rx_receive(struct uart *u, uint8_t b)
{
	if (u->rx_count < rx_capacity(u)) {
		rx_put(u, b);
		return;
	}
	u->lsr_err |= UART_LSR_OE;
	/*
	 * In 16450 mode the new character overwrites the holding register;
	 * with FIFOs the FIFO is kept and the character in the shift
	 * register is lost.
	 */
	if (!fifo_enabled(u))
		u->rx[u->rx_head] = b;
}

/* The modem input lines (MSR bits 4-7) for the current MCR. */
static uint8_t modem_lines(uint8_t mcr)
{
	uint8_t msr = 0;

	if (!(mcr & UART_MCR_LOOP))
		/* Nothing is attached: report a ready, present peer. */
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if (mcr & UART_MCR_RTS)
		msr |= UART_MSR_CTS;
	if (mcr & UART_MCR_DTR)
		msr |= UART_MSR_DSR;
	if (mcr & UART_MCR_OUT1)
		msr |= UART_MSR_RI;
	if (mcr & UART_MCR_OUT2)
		msr |= UART_MSR_DCD;
	return msr;
}

static void msr_update(struct uart *u)
{
	uint8_t old = u->msr, now = modem_lines(u->mcr);
	uint8_t delta = old & UART_MSR_DELTAS;

	if ((old ^ now) & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if ((old ^ now) & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if ((old ^ now) & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	u->msr = now | delta;
}

/* The highest-priority enabled interrupt pending, as an IIR value. */
static uint8_t intr_pending(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && (u->lsr_err & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count > 0)
		return u->rx_count < rx_trigger(u) ? UART_IIR_TIMEOUT :
						     UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void irq_update(struct uart *u)
{
	bool level = intr_pending(u) != UART_IIR_NO_INT;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq != NULL)
		u->irq(u->irq_arg, level);
}

/* True (once) when a refused push can now be taken: call room(). */
static bool room_due(struct uart *u)
{
	if (!u->rx_blocked || loopback(u) || u->rx_count >= rx_capacity(u))
		return false;
	u->rx_blocked = false;
	return true;
}

struct uart *uart_create(uart_irq_fn *irq, void *irq_arg)
{
	struct uart *u;

	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	pthread_mutex_init(&u->mtx, NULL);
	u->irq = irq;
	u->irq_arg = irq_arg;
	uart_reset(u);
	return u;
}

void uart_destroy(struct uart *u)
{
	if (u == NULL)
		return;
	pthread_mutex_destroy(&u->mtx);
	free(u);
}

void uart_set_backend(struct uart *u, uart_tx_fn *tx, uart_room_fn *room,
		      void *arg)
{
	pthread_mutex_lock(&u->mtx);
	u->tx = tx;
	u->room = room;
	u->be_arg = arg;
	pthread_mutex_unlock(&u->mtx);
}

void uart_reset(struct uart *u)
{
	uart_room_fn *room;
	void *arg;
	bool notify;

	pthread_mutex_lock(&u->mtx);
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr_err = 0;
	u->fcr = 0;
	u->scr = 0;
	u->dll = UART_RESET_DIVISOR & 0xff;
	u->dlm = UART_RESET_DIVISOR >> 8;
	rx_clear(u);
	u->thre_pending = false;
	u->msr = modem_lines(u->mcr);
	irq_update(u);
	notify = room_due(u);
	room = u->room;
	arg = u->be_arg;
	pthread_mutex_unlock(&u->mtx);
	if (notify && room != NULL)
		room(arg);
}

uint8_t uart_read(struct uart *u, unsigned offset)
{
	uart_room_fn *room;
	void *arg;
	bool notify;
	uint8_t val = 0;

	pthread_mutex_lock(&u->mtx);
	if ((u->lcr & UART_LCR_DLAB) && offset <= UART_DLM) {
		val = offset == UART_DLL ? u->dll : u->dlm;
		goto out;
	}
	switch (offset) {
	case UART_RBR:
		if (u->rx_count > 0)
			val = rx_get(u);
		break;
	case UART_IER:
		val = u->ier;
		break;
	case UART_IIR:
		val = intr_pending(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (val == UART_IIR_THRI)
			u->thre_pending = false;
		if (fifo_enabled(u))
			val |= UART_IIR_FIFO;
		break;
	case UART_LCR:
		val = u->lcr;
		break;
	case UART_MCR:
		val = u->mcr;
		break;
	case UART_LSR:
		val = u->lsr_err | UART_LSR_THRE | UART_LSR_TEMT;
		if (u->rx_count > 0)
			val |= UART_LSR_DR;
		u->lsr_err = 0;
		break;
	case UART_MSR:
		val = u->msr;
		u->msr &= ~UART_MSR_DELTAS;
		break;
	case UART_SCR:
		val = u->scr;
		break;
	default:
		val = 0xff;
		break;
	}
out:
	irq_update(u);
	notify = room_due(u);
	room = u->room;
	arg = u->be_arg;
	pthread_mutex_unlock(&u->mtx);
	if (notify && room != NULL)
		room(arg);
	return val;
}

void uart_write(struct uart *u, unsigned offset, uint8_t val)
{
	uart_room_fn *room;
	uart_tx_fn *tx;
	void *arg;
	bool notify, send = false;
	uint8_t ier;

	pthread_mutex_lock(&u->mtx);
	if ((u->lcr & UART_LCR_DLAB) && offset <= UART_DLM) {
		if (offset == UART_DLL)
			u->dll = val;
		else
			u->dlm = val;
		goto out;
	}
	switch (offset) {
	case UART_THR:
		/*
		 * Writing THR clears the THR-empty interrupt; the byte leaves
		 * at once and THR is empty again.  Lowering the output in
		 * between gives an edge-triggered PIC a fresh edge.
		 */
		u->thre_pending = false;
		irq_update(u);
		if (loopback(u)) {
			rx_receive(u, val);
			u->thre_pending = true;
		} else {
			send = true;
		}
		break;
	case UART_IER:
		ier = val & UART_IER_MASK;
		/* THR is always empty: enabling its interrupt raises it. */
		if ((ier & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thre_pending = true;
		u->ier = ier;
		break;
	case UART_FCR:
		/* Switching between 16450 and FIFO mode clears the FIFOs. */
		if ((val ^ u->fcr) & UART_FCR_ENABLE)
			rx_clear(u);
		if (val & UART_FCR_ENABLE) {
			if (val & UART_FCR_CLEAR_RX)
				rx_clear(u);
			u->fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA |
					UART_FCR_TRIGGER);
		} else {
			u->fcr = 0;
		}
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & UART_MCR_MASK;
		msr_update(u);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR are read-only (LSR writes are factory test). */
		break;
	}
out:
	irq_update(u);
	notify = room_due(u);
	tx = u->tx;
	room = u->room;
	arg = u->be_arg;
	pthread_mutex_unlock(&u->mtx);

	if (send) {
		if (tx != NULL)
			tx(arg, val);
		pthread_mutex_lock(&u->mtx);
		u->thre_pending = true;
		irq_update(u);
		pthread_mutex_unlock(&u->mtx);
	}
	if (notify && room != NULL)
		room(arg);
}

#define UART_STATE_MAGIC 0x74726175 /* "uart" */

/* What uart_save writes: fixed-width fields. */
struct uart_state {
	uint32_t magic; /* UART_STATE_MAGIC */
	uint8_t ier, lcr, mcr, lsr_err, msr, fcr, scr, dll, dlm;
	uint8_t rx_head, rx_count, thre_pending;
	uint8_t rx[UART_FIFO_SIZE];
};

int uart_save(struct uart *u, void *buf, size_t len)
{
	struct uart_state st = { .magic = UART_STATE_MAGIC };

	if (len == 0)
		return sizeof(st);
	if (len < sizeof(st))
		return -ENOSPC;
	pthread_mutex_lock(&u->mtx);
	st.ier = u->ier;
	st.lcr = u->lcr;
	st.mcr = u->mcr;
	st.lsr_err = u->lsr_err;
	st.msr = u->msr;
	st.fcr = u->fcr;
	st.scr = u->scr;
	st.dll = u->dll;
	st.dlm = u->dlm;
	st.rx_head = (uint8_t)u->rx_head;
	st.rx_count = (uint8_t)u->rx_count;
	st.thre_pending = u->thre_pending;
	memcpy(st.rx, u->rx, sizeof(st.rx));
	pthread_mutex_unlock(&u->mtx);
	memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

int uart_restore(struct uart *u, const void *buf, size_t len)
{
	struct uart_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.magic != UART_STATE_MAGIC || st.rx_head >= UART_FIFO_SIZE ||
	    st.rx_count > UART_FIFO_SIZE || st.thre_pending > 1 ||
	    (st.ier & ~UART_IER_MASK) || (st.mcr & ~UART_MCR_MASK) ||
	    (st.lsr_err & ~UART_LSR_ERRORS) ||
	    (st.fcr & ~(UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER)) ||
	    (!(st.fcr & UART_FCR_ENABLE) && st.rx_count > 1))
		return -EINVAL;
	pthread_mutex_lock(&u->mtx);
	u->ier = st.ier;
	u->lcr = st.lcr;
	u->mcr = st.mcr;
	u->lsr_err = st.lsr_err;
	u->msr = st.msr;
	u->fcr = st.fcr;
	u->scr = st.scr;
	u->dll = st.dll;
	u->dlm = st.dlm;
	u->rx_head = st.rx_head;
	u->rx_count = st.rx_count;
	u->thre_pending = st.thre_pending;
	memcpy(u->rx, st.rx, sizeof(u->rx));
	irq_update(u);
	pthread_mutex_unlock(&u->mtx);
	return 0;
}

size_t uart_push(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->mtx);
	if (!loopback(u)) {
		while (n < len && u->rx_count < rx_capacity(u))
			rx_put(u, buf[n++]);
	}
	if (n < len)
		u->rx_blocked = true;
	irq_update(u);
	pthread_mutex_unlock(&u->mtx);
	return n;
}

int uart_region_access(void *arg, int vcpuid, bool write, uint64_t addr,
		       unsigned size, uint64_t *val)
{
	struct uart *u = arg;
	uint64_t off, v = 0;
	unsigned i;

	for (i = 0; i < size && i < 8; i++) {
		off = addr + i - u->base;
		if (write) {
			if (off < UART_NREGS)
				uart_write(u, off, *val >> (8 * i));
		} else {
			v |= (uint64_t)(off < UART_NREGS ? uart_read(u, off) :
							   0xff)
			     << (8 * i);
		}
	}
	if (!write)
		*val = v;
	return 0;
}

int uart_register_region(struct uart *u, struct region_map *map,
			 const char *name, uint64_t base)
{
	u->base = base;
	return region_register(map, name, base, UART_NREGS, uart_region_access,
			       u);
}
