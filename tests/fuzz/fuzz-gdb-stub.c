/*
 * fuzz-gdb-stub.c: libFuzzer target for the GDB stub: arbitrary bytes
 * from a "debugger" against the stub over the fake target.
 *
 * Input: the first byte picks the register layout (bit 0) and how the
 * rest is cut into pieces for gdb_stub_input (bits 1-7: 1 to 128 bytes);
 * the rest is the byte stream.  After every piece the stub polls for stop
 * events (the fake reports one on every resume).  A session ended by D or
 * k is re-attached, as a reconnecting debugger would.
 *
 * Besides crashes, hangs and leaks (ASan, UBSan, libFuzzer), it aborts
 * when the stub writes anything but well-formed packets and acks, when
 * the target contract is broken (guest state touched while a vCPU runs,
 * a breakpoint inserted twice or removed unknown), or when a breakpoint
 * survives the final detach.
 *
 * Threads: one.  No state survives between inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/gdb_stub.h"
#include "tests/unit/gdb_fake_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_out {
	struct gdb_rx rx; /* checks what the stub writes */
	size_t bytes; /* written this input */
};

static int fuzz_write(void *opaque, const void *buf, size_t len)
{
	struct fuzz_out *o = opaque;
	const uint8_t *p = buf;

	o->bytes += len;
	while (len > 0) {
		enum gdb_rx_event ev;
		size_t n = gdb_rx_feed(&o->rx, p, len, &ev);

		p += n;
		len -= n;
		if (ev == GDB_RX_INTERRUPT)
			abort(); /* the stub never sends 0x03 */
		if (ev == GDB_RX_PACKET &&
		    (o->rx.bad_checksum || o->rx.bad_encoding ||
		     o->rx.overlong))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdb_events *ev;
	struct gdb_fake *fake;
	struct gdb_target target;
	struct gdb_stub *stub;
	struct fuzz_out out;
	size_t chunk, off;
	int i;

	if (size < 1)
		return 0;
	memset(&out, 0, sizeof(out));
	if (gdb_rx_init(&out.rx, 0))
		abort();
	ev = gdb_events_create();
	fake = ev ? gdb_fake_create(ev, 3) : NULL;
	if (!fake)
		abort();
	fake->auto_stop = true;
	for (i = 0; i < 4096; i++)
		fake->mem[i] = (uint8_t)i;
	target = gdb_fake_target(fake);
	stub = gdb_stub_create(&target, ev,
			       (data[0] & 1) ? GDB_X86_I386 : GDB_X86_64,
			       fuzz_write, &out);
	if (!stub)
		abort();
	chunk = (size_t)(data[0] >> 1) + 1;
	if (gdb_stub_attach(stub))
		abort();
	for (off = 1; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (!gdb_stub_active(stub) && gdb_stub_attach(stub))
			abort();
		gdb_stub_input(stub, data + off, n);
		gdb_stub_poll(stub);
	}
	gdb_stub_detach(stub);
	if (fake->violations || fake->nbps)
		abort();
	gdb_stub_destroy(stub);
	gdb_fake_destroy(fake);
	gdb_events_destroy(ev);
	gdb_rx_fini(&out.rx);
	return 0;
}
