/*
 * gdb_packet.h: the GDB remote serial protocol's packet codec - framing,
 * checksums, run-length encoding, binary escaping and hex - with no
 * knowledge of what packets mean.
 *
 * The receiver (struct gdb_rx) is incremental: feed it whatever bytes the
 * transport delivered, in pieces of any size, and it reports one event at
 * a time.  Its memory is fixed when it is initialised: a packet longer
 * than its capacity is consumed and reported as overlong, never stored.
 *
 * Two stages of decoding, as gdb itself does: the receiver expands
 * run-length encoding ("x*n") over the raw packet text; '}' escapes are
 * left in place and undone by gdb_bin_decode() for the packets that carry
 * binary data (X).  A '}' is therefore an ordinary character to the
 * receiver, and a '#' always ends a packet (escaping keeps '#' out of
 * binary data).
 *
 * Threads: none of its own.  A struct gdb_rx belongs to one thread; the
 * other functions are pure.
 */
#ifndef GDB_PACKET_H
#define GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The largest packet payload accepted and sent, which the stub advertises
 * as PacketSize.  gdb asks for at most PacketSize / 2 bytes per 'm', so
 * this gives 64 KiB memory reads.
 */
#define GDB_PACKET_SIZE 0x20000

/* Interrupt (Ctrl-C), sent outside any packet. */
#define GDB_INTERRUPT_CHAR 0x03

enum gdb_rx_event {
	GDB_RX_NONE, /* all input consumed, nothing complete yet */
	GDB_RX_ACK, /* '+' */
	GDB_RX_NACK, /* '-' */
	GDB_RX_INTERRUPT, /* 0x03 between packets */
	GDB_RX_PACKET, /* a packet: see buf, len and the error flags */
};

enum gdb_rx_state {
	GDB_RX_IDLE, /* between packets */
	GDB_RX_DATA, /* after '$' */
	GDB_RX_RLE, /* after '*': the repeat count comes next */
	GDB_RX_CSUM1, /* after '#' */
	GDB_RX_CSUM2, /* after the first checksum digit */
};

struct gdb_rx {
	enum gdb_rx_state state;
	uint8_t *buf; /* payload, RLE expanded, NUL-terminated */
	size_t cap; /* payload bytes buf can hold */
	size_t len; /* payload bytes in buf */
	uint8_t sum; /* checksum of the raw bytes so far */
	uint8_t sent_sum; /* checksum received after '#' */
	bool bad_checksum; /* the packet's checksum did not match */
	bool bad_encoding; /* bad RLE or checksum digits */
	bool overlong; /* the payload exceeded cap and was dropped */
	uint64_t garbage; /* bytes skipped between packets, ever */
};

/* A receiver for payloads of up to cap bytes (0 for GDB_PACKET_SIZE). */
int gdb_rx_init(struct gdb_rx *rx, size_t cap);
void gdb_rx_fini(struct gdb_rx *rx);
/* Forget any partial packet (a new connection). */
void gdb_rx_reset(struct gdb_rx *rx);

/*
 * Consume bytes from data until one event completes or the input runs
 * out; return how many bytes were consumed (at least one when len > 0)
 * and the event in *ev.  After GDB_RX_PACKET the payload is in rx->buf
 * (rx->len bytes, plus a NUL) until the next call.  A packet is good when
 * none of bad_checksum, bad_encoding and overlong is set.
 */
size_t gdb_rx_feed(struct gdb_rx *rx, const void *data, size_t len,
		   enum gdb_rx_event *ev);

/* Sum of the bytes, modulo 256. */
uint8_t gdb_checksum(const void *data, size_t len);

/*
 * Frame a payload as "$payload#xx" into out, which must hold len + 4
 * bytes; with rle, runs of four or more identical characters are
 * compressed.  Returns the bytes written.
 */
size_t gdb_packet_encode(void *out, const void *payload, size_t len, bool rle);

/* 0-15 for a hex digit (either case), -1 otherwise. */
int gdb_hex_digit(int c);
/* Write 2 * len lowercase hex digits to out; returns 2 * len. */
size_t gdb_hex_encode(char *out, const void *in, size_t len);
/*
 * Decode hexlen hex digits from in into hexlen / 2 bytes at out.
 * Returns the bytes written, or -EINVAL for an odd length or a bad digit.
 */
ssize_t gdb_hex_decode(void *out, const char *in, size_t hexlen);

/*
 * Escape binary data for a packet ('#', '$', '}' and '*' become '}' and
 * the byte xor 0x20) into out, at most cap bytes.  Stops before a byte
 * that does not fit; *used gets the input bytes consumed.  Returns the
 * bytes written.
 */
size_t gdb_bin_encode(char *out, size_t cap, const void *in, size_t len,
		      size_t *used);
/*
 * Undo the escaping of len bytes at in into out (at most cap bytes).
 * Returns the bytes written, -EINVAL for a trailing lone '}', -E2BIG when
 * out is too small.
 */
ssize_t gdb_bin_decode(void *out, size_t cap, const char *in, size_t len);

#endif
