/*
 * test-gdb-packet.c: the GDB packet codec - checksums, framing, RLE,
 * binary escaping, hex, and the incremental receiver's handling of acks,
 * interrupts, garbage, bad checksums and overlong packets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/gdb_packet.h"
#include "tests/tap.h"

/* Feed everything; return the events seen (up to max) in order. */
static int feed_all(struct gdb_rx *rx, const void *data, size_t len,
		    size_t chunk, enum gdb_rx_event *evs, int max)
{
	const char *p = data;
	int n = 0;

	while (len > 0) {
		size_t piece = len < chunk ? len : chunk;

		while (piece > 0) {
			enum gdb_rx_event ev;
			size_t used = gdb_rx_feed(rx, p, piece, &ev);

			if (used == 0)
				tap_bail("gdb_rx_feed made no progress");
			p += used;
			len -= used;
			piece -= used;
			if (ev != GDB_RX_NONE && n < max)
				evs[n++] = ev;
		}
	}
	return n;
}

/* "$payload#xx" with the right checksum, written raw (no RLE, no escapes). */
static size_t mk(char *out, const char *payload, size_t len)
{
	out[0] = '$';
	memcpy(out + 1, payload, len);
	snprintf(out + 1 + len, 4, "#%02x", gdb_checksum(payload, len));
	return len + 4;
}

static void test_checksum_and_framing(void)
{
	char out[64];
	size_t n;

	is_hex(gdb_checksum("OK", 2), 0x9a, "checksum of OK");
	is_hex(gdb_checksum("", 0), 0, "checksum of nothing");
	n = gdb_packet_encode(out, "OK", 2, false);
	out[n] = '\0';
	is_str(out, "$OK#9a", "OK framed");
	n = gdb_packet_encode(out, "", 0, true);
	out[n] = '\0';
	is_str(out, "$#00", "empty packet framed");
	n = gdb_packet_encode(out, "qSupported", 10, false);
	out[n] = '\0';
	is_str(out, "$qSupported#37", "qSupported framed");
}

static void test_rle_encode(void)
{
	char out[256], want[256];
	size_t n;

	n = gdb_packet_encode(out, "000", 3, true);
	out[n] = '\0';
	is_str(out, "$000#90", "three repeats stay literal");
	n = gdb_packet_encode(out, "0000", 4, true);
	out[n] = '\0';
	snprintf(want, sizeof(want), "$0* #%02x", gdb_checksum("0* ", 3));
	is_str(out, want, "four zeros: 0* (three more)");
	/* Seven zeros: 6 repeats would be '#', so 5 plus one literal. */
	n = gdb_packet_encode(out, "0000000", 7, true);
	out[n] = '\0';
	snprintf(want, sizeof(want), "$0*\"0#%02x", gdb_checksum("0*\"0", 4));
	is_str(out, want, "seven zeros avoid the '#' count");
	n = gdb_packet_encode(out, "00000000", 8, true);
	out[n] = '\0';
	snprintf(want, sizeof(want), "$0*\"00#%02x", gdb_checksum("0*\"00", 5));
	is_str(out, want, "eight zeros avoid the '$' count");
	n = gdb_packet_encode(out, "}}}}}}", 6, true);
	ok(memchr(out, '*', n) == NULL, "'}' runs are never compressed");
}

/* Random payloads with runs survive encode + receive, in any chunking. */
static void test_rle_roundtrip(void)
{
	static char payload[4096], frame[4096 + 8];
	struct gdb_rx rx;
	int round, bad = 0, shrunk = 0;

	if (gdb_rx_init(&rx, 0))
		tap_bail("gdb_rx_init");
	srand(7);
	for (round = 0; round < 300; round++) {
		size_t len = 0, n, chunk = 1 + (size_t)(rand() % 37);
		enum gdb_rx_event evs[4];
		int nev;

		while (len < sizeof(payload) - 300) {
			char c = "0af}x*#$ "[rand() % 5];
			size_t run = (size_t)(rand() % (round % 4 ? 4 : 250));

			if (rand() % 8 == 0)
				break;
			memset(payload + len, c, run + 1);
			len += run + 1;
		}
		n = gdb_packet_encode(frame, payload, len, true);
		if (n < len + 4)
			shrunk++;
		nev = feed_all(&rx, frame, n, chunk, evs, 4);
		if (nev != 1 || evs[0] != GDB_RX_PACKET || rx.bad_checksum ||
		    rx.bad_encoding || rx.overlong || rx.len != len ||
		    memcmp(rx.buf, payload, len) != 0)
			bad++;
	}
	is_int(bad, 0, "300 random payloads round-trip through RLE");
	ok(shrunk > 0, "RLE made some packets shorter (%d)", shrunk);
	gdb_rx_fini(&rx);
}

static void test_hex(void)
{
	const uint8_t bytes[] = { 0x00, 0x7f, 0x80, 0xff, 0x12 };
	uint8_t back[8];
	char hex[16];

	is_int(gdb_hex_encode(hex, bytes, 5), 10, "hex length");
	hex[10] = '\0';
	is_str(hex, "007f80ff12", "hex digits, lowercase");
	is_int(gdb_hex_decode(back, "007F80fF12", 10), 5, "hex decode");
	ok(memcmp(back, bytes, 5) == 0, "hex decodes either case");
	is_int(gdb_hex_decode(back, "123", 3), -EINVAL, "odd hex rejected");
	is_int(gdb_hex_decode(back, "1g", 2), -EINVAL, "bad digit rejected");
	is_int(gdb_hex_digit('F'), 15, "F is 15");
	is_int(gdb_hex_digit('x'), -1, "x is not hex");
}

static void test_binary(void)
{
	const uint8_t raw[] = { '#', '$', '}', '*', 'a', 0x00, 0x03 };
	const char want[] = "}\x03}\x04}]}\x0a"
			    "a\0\x03";
	char enc[32];
	uint8_t dec[32];
	size_t used, n;

	n = gdb_bin_encode(enc, sizeof(enc), raw, sizeof(raw), &used);
	is_int(n, 11, "escaped length");
	is_int(used, sizeof(raw), "all input consumed");
	ok(memcmp(enc, want, 11) == 0, "# $ } * escaped as } and xor 0x20");
	is_int(gdb_bin_decode(dec, sizeof(dec), enc, n), sizeof(raw),
	       "unescaped length");
	ok(memcmp(dec, raw, sizeof(raw)) == 0, "binary round trip");
	n = gdb_bin_encode(enc, 3, raw, sizeof(raw), &used);
	is_int(n, 2, "escape stops before a pair that does not fit");
	is_int(used, 1, "one byte consumed");
	is_int(gdb_bin_decode(dec, sizeof(dec), "ab}", 3), -EINVAL,
	       "trailing escape rejected");
	is_int(gdb_bin_decode(dec, 2, "abc", 3), -E2BIG, "output bounded");
}

static void test_receiver_events(void)
{
	struct gdb_rx rx;
	enum gdb_rx_event evs[16];
	char f[64];
	size_t len;
	int n;

	if (gdb_rx_init(&rx, 0))
		tap_bail("gdb_rx_init");
	n = feed_all(&rx, "+-\x03", 3, 100, evs, 16);
	is_int(n, 3, "three events");
	ok(evs[0] == GDB_RX_ACK && evs[1] == GDB_RX_NACK &&
		   evs[2] == GDB_RX_INTERRUPT,
	   "ack, nack, interrupt");

	n = feed_all(&rx, "$g#67", 5, 1, evs, 16);
	ok(n == 1 && evs[0] == GDB_RX_PACKET, "packet byte by byte");
	ok(!rx.bad_checksum && !rx.bad_encoding && !rx.overlong, "good");
	is_str((char *)rx.buf, "g", "payload g");

	n = feed_all(&rx, "$g#6A", 5, 100, evs, 16);
	ok(n == 1 && rx.bad_checksum, "bad checksum flagged");
	n = feed_all(&rx, "$OK#9A", 6, 100, evs, 16);
	ok(n == 1 && !rx.bad_checksum, "uppercase checksum digits accepted");
	n = feed_all(&rx, "$g#zz", 5, 100, evs, 16);
	ok(n == 1 && rx.bad_encoding, "non-hex checksum flagged");

	rx.garbage = 0;
	n = feed_all(&rx, "hello\r\n$m0,4#fd", 15, 3, evs, 16);
	ok(n == 1 && evs[0] == GDB_RX_PACKET && !rx.bad_checksum,
	   "garbage before a packet skipped");
	is_int(rx.garbage, 7, "garbage counted");
	is_str((char *)rx.buf, "m0,4", "payload after garbage");

	n = feed_all(&rx, "$junk$g#67", 10, 100, evs, 16);
	ok(n == 1 && !rx.bad_checksum, "a '$' restarts the packet");
	is_str((char *)rx.buf, "g", "restarted payload");

	n = feed_all(&rx, f, mk(f, "X0,1:\x03", 7), 100, evs, 16);
	ok(n == 1 && evs[0] == GDB_RX_PACKET && !rx.bad_checksum,
	   "0x03 inside a packet is data");
	is_int(rx.len, 7, "with its 0x03");

	len = mk(f, "a}]b", 4);
	n = feed_all(&rx, f, len - 2, 100, evs, 16);
	n = feed_all(&rx, f + len - 2, 2, 100, evs, 16);
	ok(n == 1 && !rx.bad_checksum && rx.len == 4 && rx.buf[1] == '}',
	   "escapes pass through the receiver");

	n = feed_all(&rx, f, mk(f, "0* ", 3), 100, evs, 16);
	ok(n == 1 && !rx.bad_checksum && !rx.bad_encoding, "RLE packet");
	is_str((char *)rx.buf, "0000", "RLE expanded");
	n = feed_all(&rx, "$* #2a", 6, 100, evs, 16);
	ok(n == 1 && rx.bad_encoding, "RLE with nothing to repeat flagged");
	n = feed_all(&rx, "$a*\x01#8c", 7, 100, evs, 16);
	ok(n == 1 && rx.bad_encoding, "RLE count below 3 flagged");
	n = feed_all(&rx, "$a*#0b", 6, 100, evs, 16);
	ok(n == 1 && rx.bad_encoding, "RLE count '#' ends the packet, flagged");

	n = feed_all(&rx, "$\0\xff#ff", 6, 100, evs, 16);
	ok(n == 1 && rx.len == 2 && rx.buf[0] == 0 && !rx.bad_checksum,
	   "NUL and 0xff bytes in a payload");
	gdb_rx_fini(&rx);
}

static void test_receiver_overlong(void)
{
	static char big[300];
	struct gdb_rx rx;
	enum gdb_rx_event evs[4];
	char frame[400];
	size_t n;
	int nev;

	if (gdb_rx_init(&rx, 16))
		tap_bail("gdb_rx_init");
	memset(big, 'A', sizeof(big));
	n = gdb_packet_encode(frame, big, sizeof(big), false);
	nev = feed_all(&rx, frame, n, 7, evs, 4);
	ok(nev == 1 && evs[0] == GDB_RX_PACKET && rx.overlong,
	   "overlong packet reported");
	ok(!rx.bad_checksum, "its checksum still checked");
	is_int(rx.len, 16, "only the capacity was stored");
	nev = feed_all(&rx, "$A*~#", 5, 100, evs, 4);
	nev = feed_all(&rx, "00", 2, 100, evs, 4);
	ok(nev == 1 && rx.overlong, "RLE cannot overflow the buffer");
	nev = feed_all(&rx, "$g#67", 5, 100, evs, 4);
	ok(nev == 1 && !rx.overlong && rx.len == 1, "next packet fine");

	/* A packet that never ends stays bounded. */
	for (n = 0; n < 1000; n++)
		feed_all(&rx, n ? big : "$", n ? sizeof(big) : 1, 64, evs, 4);
	ok(rx.len <= rx.cap && rx.state == GDB_RX_DATA,
	   "endless packet kept within capacity");
	gdb_rx_reset(&rx);
	nev = feed_all(&rx, "+", 1, 1, evs, 4);
	ok(nev == 1 && evs[0] == GDB_RX_ACK, "reset returns to idle");
	gdb_rx_fini(&rx);
}

int main(void)
{
	test_checksum_and_framing();
	test_rle_encode();
	test_rle_roundtrip();
	test_hex();
	test_binary();
	test_receiver_events();
	test_receiver_overlong();
	return tap_done();
}
