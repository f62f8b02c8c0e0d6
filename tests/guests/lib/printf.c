/*
 * printf.c: the COM1 console (a polled 16550) and a small printf.
 *
 * Formats: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width and a
 * precision (either may be '*'), and the length modifiers hh h l ll z j t.
 * No floating point.  Lines end in CR LF, as on a serial console.
 *
 * Locking: one rt_printf call prints as a unit under console_owner, taken
 * with interrupts off.  A CPU that already holds it (an exception while
 * printing) goes ahead rather than deadlock.
 */
#include "rt.h"

#define UART_THR 0 /* transmit holding register (DLAB 0) */
#define UART_IER 1 /* interrupt enable (DLAB 0) */
#define UART_DLL 0 /* divisor low (DLAB 1) */
#define UART_DLM 1 /* divisor high (DLAB 1) */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_LSR_THRE 0x20
#define UART_LCR_DLAB 0x80

/* Polls before giving up on a UART that never drains: output is lost
 * rather than the guest hung. */
#define UART_POLL_MAX 100000

/* 0, or 1 + the index of the CPU printing. */
volatile uint32_t console_owner;

void uart_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, UART_LCR_DLAB);
	outb(COM1_PORT + UART_DLL, 1); /* 115200 baud */
	outb(COM1_PORT + UART_DLM, 0);
	outb(COM1_PORT + UART_LCR, 0x03); /* 8N1 */
	outb(COM1_PORT + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(COM1_PORT + UART_MCR, 0x03); /* DTR, RTS; OUT2 (IRQ) off */
}

void uart_putc(char c)
{
	int n;

	if (c == '\n')
		uart_putc('\r');
	for (n = 0; n < UART_POLL_MAX; n++)
		if (inb(COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

/* Where formatted output goes: the UART, or a buffer. */
struct sink {
	char *buf;
	size_t size;
	size_t len; /* characters produced, even past size */
	bool console;
};

static void sink_put(struct sink *s, char c)
{
	if (s->console)
		uart_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

/* n / 10 without the 64-bit division 32-bit code would need libgcc for. */
static uint64_t div10(uint64_t n, unsigned int *rem)
{
	uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
	uint32_t qhi = hi / 10, r = hi % 10;
	uint32_t mid = (r << 16) | (lo >> 16);
	uint32_t qmid = mid / 10;
	uint32_t low = ((mid % 10) << 16) | (lo & 0xffff);

	*rem = low % 10;
	return ((uint64_t)qhi << 32) | ((uint64_t)qmid << 16) | (low / 10);
}

struct spec {
	bool left; /* '-' */
	bool zero; /* '0' */
	int width;
	int prec; /* -1: none */
};

static void put_padded(struct sink *s, const struct spec *sp, const char *str,
		       size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);
	int pad = sp->width - (int)(len + plen);
	char padc = sp->zero && !sp->left ? '0' : ' ';

	if (padc == ' ')
		for (; !sp->left && pad > 0; pad--)
			sink_put(s, ' ');
	while (*prefix)
		sink_put(s, *prefix++);
	for (; !sp->left && pad > 0; pad--)
		sink_put(s, '0');
	while (len--)
		sink_put(s, *str++);
	for (; pad > 0; pad--)
		sink_put(s, ' ');
}

static void put_number(struct sink *s, const struct spec *sp, uint64_t v,
		       int base, bool neg, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = sizeof(tmp);
	unsigned int rem;

	do {
		if (base == 10) {
			v = div10(v, &rem);
		} else {
			rem = v & 15;
			v >>= 4;
		}
		tmp[--i] = digits[rem];
	} while (v);
	if (neg)
		prefix = "-";
	put_padded(s, sp, tmp + i, sizeof(tmp) - i, prefix);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		struct spec sp = { false, false, 0, -1 };
		int lng = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char */
		bool alt = false;
		uint64_t u;
		int64_t d;

		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		for (fmt++;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			fmt++;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			sp.width = sp.width * 10 + (*fmt - '0');
		if (*fmt == '.') {
			sp.prec = 0;
			if (*++fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			}
			for (; *fmt >= '0' && *fmt <= '9'; fmt++)
				sp.prec = sp.prec * 10 + (*fmt - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'h')
				lng--;
			else if (*fmt == 'z' || *fmt == 't')
				lng = sizeof(size_t) == sizeof(long) ? 1 : 0;
			else if (*fmt == 'j')
				lng = 2;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 2)
				d = va_arg(ap, long long);
			else if (lng == 1)
				d = va_arg(ap, long);
			else
				d = va_arg(ap, int);
			if (lng == -1)
				d = (short)d;
			else if (lng <= -2)
				d = (signed char)d;
			put_number(s, &sp, d < 0 ? -(uint64_t)d : (uint64_t)d,
				   10, d < 0, false, "");
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng <= -2)
				u = (unsigned char)u;
			put_number(s, &sp, u, *fmt == 'u' ? 10 : 16, false,
				   *fmt == 'X', alt && u ? "0x" : "");
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			put_number(s, &sp, u, 16, false, false, "0x");
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t len;

			if (!str)
				str = "(null)";
			for (len = 0;
			     str[len] && (sp.prec < 0 || len < (size_t)sp.prec);
			     len++)
				;
			sp.zero = false;
			put_padded(s, &sp, str, len, "");
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			sp.zero = false;
			put_padded(s, &sp, &c, 1, "");
			break;
		}
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default:
			sink_put(s, '%');
			sink_put(s, *fmt);
			break;
		}
	}
}

int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0, false };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static bool console_lock(unsigned long *flags)
{
	uint32_t me = cpu_index() + 1, free;

	*flags = irq_save();
	if (console_owner == me)
		return false;
	for (;;) {
		free = 0;
		if (__atomic_compare_exchange_n(&console_owner, &free, me,
						false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		cpu_relax();
	}
}

static void console_unlock(bool locked, unsigned long flags)
{
	if (locked)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
}

int rt_vprintf(const char *fmt, va_list ap)
{
	struct sink s = { NULL, 0, 0, true };
	unsigned long flags;
	bool locked = console_lock(&flags);

	if (*fmt == '@') {
		const char *p;

		for (p = guest_name; *p; p++)
			sink_put(&s, *p);
		sink_put(&s, ':');
		sink_put(&s, ' ');
		fmt++;
	}
	format(&s, fmt, ap);
	console_unlock(locked, flags);
	return (int)s.len;
}

int rt_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
