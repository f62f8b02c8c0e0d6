/*
 * gdb_packet.c: the GDB remote serial protocol's packet codec: framing,
 * checksums, run-length encoding, binary escaping and hex.
 *
 * Threads: none.  A struct gdb_rx is used by one thread at a time; the
 * other functions are pure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/gdb_packet.h"

#define RLE_BIAS 29 /* a repeat count n is sent as the character n + 29 */
#define RLE_MAX ('~' - RLE_BIAS) /* largest count a printable char holds */

int gdb_rx_init(struct gdb_rx *rx, size_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->cap = cap ? cap : GDB_PACKET_SIZE;
	rx->buf = malloc(rx->cap + 1);
	if (!rx->buf)
		return -ENOMEM;
	rx->buf[0] = '\0';
	return 0;
}

void gdb_rx_fini(struct gdb_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
}

void gdb_rx_reset(struct gdb_rx *rx)
{
	rx->state = GDB_RX_IDLE;
	rx->len = 0;
	rx->buf[0] = '\0';
}

static void rx_start(struct gdb_rx *rx)
{
	rx->state = GDB_RX_DATA;
	rx->len = 0;
	rx->sum = 0;
	rx->sent_sum = 0;
	rx->bad_checksum = false;
	rx->bad_encoding = false;
	rx->overlong = false;
}

static void rx_append(struct gdb_rx *rx, uint8_t c, size_t count)
{
	size_t room = rx->cap - rx->len;

	if (count > room) {
		rx->overlong = true;
		count = room;
	}
	memset(rx->buf + rx->len, c, count);
	rx->len += count;
}

/* A byte inside a packet, in state DATA. */
static void rx_data(struct gdb_rx *rx, uint8_t c)
{
	switch (c) {
	case '#':
		rx->state = GDB_RX_CSUM1;
		break;
	case '$':
		/* A new packet before this one ended: resynchronise on it. */
		rx->garbage += rx->len + 1;
		rx_start(rx);
		break;
	case '*':
		rx->sum += c;
		if (rx->len == 0)
			rx->bad_encoding = true; /* nothing to repeat */
		rx->state = GDB_RX_RLE;
		break;
	default:
		rx->sum += c;
		rx_append(rx, c, 1);
		break;
	}
}

static void rx_repeat(struct gdb_rx *rx, uint8_t c)
{
	/*
	 * The count may not be '#' or '$' (the spec forbids them because they
	 * frame packets); take those as framing and the RLE as bad.
	 */
	if (c == '#' || c == '$') {
		rx->bad_encoding = true;
		rx->state = GDB_RX_DATA;
		rx_data(rx, c);
		return;
	}
	rx->sum += c;
	rx->state = GDB_RX_DATA;
	if (c <= RLE_BIAS) {
		rx->bad_encoding = true;
		return;
	}
	if (rx->len > 0)
		rx_append(rx, rx->buf[rx->len - 1], c - RLE_BIAS);
}

size_t gdb_rx_feed(struct gdb_rx *rx, const void *data, size_t len,
		   enum gdb_rx_event *ev)
{
	const uint8_t *p = data;
	size_t i;
	int d;

	*ev = GDB_RX_NONE;
	for (i = 0; i < len; i++) {
		uint8_t c = p[i];

		switch (rx->state) {
		case GDB_RX_IDLE:
			if (c == '$') {
				rx_start(rx);
			} else if (c == '+') {
				*ev = GDB_RX_ACK;
				return i + 1;
			} else if (c == '-') {
				*ev = GDB_RX_NACK;
				return i + 1;
			} else if (c == GDB_INTERRUPT_CHAR) {
				*ev = GDB_RX_INTERRUPT;
				return i + 1;
			} else {
				rx->garbage++;
			}
			break;
		case GDB_RX_DATA:
			rx_data(rx, c);
			break;
		case GDB_RX_RLE:
			rx_repeat(rx, c);
			break;
		case GDB_RX_CSUM1:
			d = gdb_hex_digit(c);
			if (d < 0)
				rx->bad_encoding = true;
			rx->sent_sum = (uint8_t)((d < 0 ? 0 : d) << 4);
			rx->state = GDB_RX_CSUM2;
			break;
		case GDB_RX_CSUM2:
			d = gdb_hex_digit(c);
			if (d < 0)
				rx->bad_encoding = true;
			rx->sent_sum |= (uint8_t)(d < 0 ? 0 : d);
			rx->bad_checksum = rx->sent_sum != rx->sum;
			rx->buf[rx->len] = '\0';
			rx->state = GDB_RX_IDLE;
			*ev = GDB_RX_PACKET;
			return i + 1;
		}
	}
	return len;
}

uint8_t gdb_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

static bool rle_ok(uint8_t c)
{
	/* Framing and escape characters are never compressed. */
	return c != '#' && c != '$' && c != '*' && c != '}';
}

size_t gdb_packet_encode(void *out, const void *payload, size_t len, bool rle)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = payload;
	uint8_t *o = out;
	size_t i = 0, n = 0, start;
	uint8_t sum;

	o[n++] = '$';
	start = n;
	while (i < len) {
		uint8_t c = p[i];
		size_t run = 1, rest;

		while (rle && i + run < len && p[i + run] == c)
			run++;
		o[n++] = c;
		rest = run - 1;
		while (rle_ok(c) && rest >= 3) {
			size_t k = rest > RLE_MAX ? RLE_MAX : rest;

			/* Counts 6 and 7 would be sent as '#' and '$'. */
			if (k == 6 || k == 7)
				k = 5;
			o[n++] = '*';
			o[n++] = (uint8_t)(k + RLE_BIAS);
			rest -= k;
		}
		while (rest--)
			o[n++] = c;
		i += run;
	}
	sum = gdb_checksum(o + start, n - start);
	o[n++] = '#';
	o[n++] = hex[sum >> 4];
	o[n++] = hex[sum & 15];
	return n;
}

int gdb_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t gdb_hex_encode(char *out, const void *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = in;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	return 2 * len;
}

ssize_t gdb_hex_decode(void *out, const char *in, size_t hexlen)
{
	uint8_t *o = out;
	size_t i;

	if (hexlen % 2)
		return -EINVAL;
	for (i = 0; i < hexlen; i += 2) {
		int hi = gdb_hex_digit((unsigned char)in[i]);
		int lo = gdb_hex_digit((unsigned char)in[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		o[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(hexlen / 2);
}

static bool bin_needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

size_t gdb_bin_encode(char *out, size_t cap, const void *in, size_t len,
		      size_t *used)
{
	const uint8_t *p = in;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (bin_needs_escape(p[i])) {
			if (n + 2 > cap)
				break;
			out[n++] = '}';
			out[n++] = (char)(p[i] ^ 0x20);
		} else {
			if (n + 1 > cap)
				break;
			out[n++] = (char)p[i];
		}
	}
	*used = i;
	return n;
}

ssize_t gdb_bin_decode(void *out, size_t cap, const char *in, size_t len)
{
	uint8_t *o = out;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		uint8_t c = (uint8_t)in[i];

		if (c == '}') {
			if (++i == len)
				return -EINVAL;
			c = (uint8_t)in[i] ^ 0x20;
		}
		if (n == cap)
			return -E2BIG;
		o[n++] = c;
	}
	return (ssize_t)n;
}
