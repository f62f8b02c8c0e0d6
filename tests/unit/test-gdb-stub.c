/*
 * test-gdb-stub.c: scripted GDB sessions against the stub over the fake
 * target: every packet the stub handles, stop replies, acks and no-ack
 * mode, qXfer chunking, both register layouts, real mode's linear pc,
 * partial memory reads, breakpoints removed on detach, and errors.  When
 * gdb is installed, the real gdb also talks to the stub over a pipe
 * (this program run with --serve) and must accept both descriptions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gdbstub/gdb_stub.h"
#include "tests/tap.h"
#include "tests/unit/gdb_fake_target.h"

#define OUT_MAX (1 << 20)

struct harness {
	struct gdb_events *ev;
	struct gdb_fake *fake;
	struct gdb_target target;
	struct gdb_stub *stub;
	char *out; /* everything the stub wrote */
	size_t out_len;
	size_t out_pos; /* how far replies have been read */
	struct gdb_rx rx; /* decodes the stub's output */
	int acks; /* '+' seen in the output */
	int nacks; /* '-' seen in the output */
	char *reply; /* the last reply read, NUL-terminated */
	size_t reply_len;
};

static int h_write(void *opaque, const void *buf, size_t len)
{
	struct harness *h = opaque;

	if (len > OUT_MAX - h->out_len)
		tap_bail("the stub wrote more than %d bytes", OUT_MAX);
	memcpy(h->out + h->out_len, buf, len);
	h->out_len += len;
	return 0;
}

static void h_init(struct harness *h, int ncpus, enum gdb_x86_layout layout)
{
	memset(h, 0, sizeof(*h));
	h->out = malloc(OUT_MAX);
	h->reply = malloc(GDB_PACKET_SIZE + 1);
	h->ev = gdb_events_create();
	if (!h->out || !h->reply || !h->ev)
		tap_bail("harness allocation");
	h->fake = gdb_fake_create(h->ev, ncpus);
	if (!h->fake)
		tap_bail("gdb_fake_create");
	h->target = gdb_fake_target(h->fake);
	h->stub = gdb_stub_create(&h->target, h->ev, layout, h_write, h);
	if (!h->stub)
		tap_bail("gdb_stub_create: %s", strerror(errno));
	if (gdb_rx_init(&h->rx, 0))
		tap_bail("gdb_rx_init");
}

static void h_fini(struct harness *h)
{
	gdb_stub_destroy(h->stub);
	gdb_fake_destroy(h->fake);
	gdb_events_destroy(h->ev);
	gdb_rx_fini(&h->rx);
	free(h->out);
	free(h->reply);
}

static void h_raw(struct harness *h, const void *buf, size_t len)
{
	gdb_stub_input(h->stub, buf, len);
}

/* Send one packet as gdb would (no RLE, payload may be binary). */
static void h_send_bin(struct harness *h, const void *payload, size_t len)
{
	char *frame = malloc(len + 4);

	if (!frame)
		tap_bail("malloc");
	gdb_packet_encode(frame, payload, len, false);
	/* Feed in two pieces, to exercise the incremental path. */
	h_raw(h, frame, (len + 4) / 2);
	h_raw(h, frame + (len + 4) / 2, len + 4 - (len + 4) / 2);
	free(frame);
}

static void h_send(struct harness *h, const char *payload)
{
	h_send_bin(h, payload, strlen(payload));
}

/* The next packet the stub wrote, or NULL; acks are counted on the way. */
static const char *h_next(struct harness *h)
{
	while (h->out_pos < h->out_len) {
		enum gdb_rx_event ev;

		h->out_pos += gdb_rx_feed(&h->rx, h->out + h->out_pos,
					  h->out_len - h->out_pos, &ev);
		if (ev == GDB_RX_ACK)
			h->acks++;
		if (ev == GDB_RX_NACK)
			h->nacks++;
		if (ev != GDB_RX_PACKET)
			continue;
		if (h->rx.bad_checksum || h->rx.bad_encoding || h->rx.overlong)
			tap_bail("the stub sent a bad packet");
		memcpy(h->reply, h->rx.buf, h->rx.len + 1);
		h->reply_len = h->rx.len;
		return h->reply;
	}
	return NULL;
}

/* Send a packet and return its (single) reply, "(none)" if none. */
static const char *h_cmd(struct harness *h, const char *payload)
{
	const char *r;

	h_send(h, payload);
	r = h_next(h);
	return r ? r : "(none)";
}

static bool has(const char *s, const char *part)
{
	return s && strstr(s, part) != NULL;
}

static void h_attach(struct harness *h)
{
	if (gdb_stub_attach(h->stub))
		tap_bail("gdb_stub_attach");
}

static uint64_t le_hex(const char *hex, size_t bytes)
{
	uint64_t v = 0;
	size_t i;

	for (i = bytes; i-- > 0;)
		v = v << 8 | (uint64_t)(gdb_hex_digit(hex[2 * i]) << 4 |
					gdb_hex_digit(hex[2 * i + 1]));
	return v;
}

static void test_session_basics(void)
{
	struct harness h;
	const char *r;
	size_t n;

	h_init(&h, 3, GDB_X86_64);
	ok(!gdb_stub_active(h.stub), "no session before attach");
	h_send(&h, "?");
	ok(h.out_len == 0, "input ignored without a session");
	h_attach(&h);
	ok(gdb_stub_active(h.stub), "attached");
	is_int(gdb_stub_attach(h.stub), -EBUSY, "second attach refused");
	is_int(h.fake->stop_all_calls, 1, "attach stopped every vCPU");
	ok(!h.fake->running[0] && !h.fake->running[2], "vCPUs parked");

	r = h_cmd(&h, "qSupported:multiprocess+;swbreak+;hwbreak+;"
		      "xmlRegisters=i386");
	ok(has(r, "PacketSize=20000") && has(r, "qXfer:features:read+") &&
		   has(r, "QStartNoAckMode+") && has(r, "swbreak+") &&
		   has(r, "hwbreak+") && has(r, "vContSupported+"),
	   "qSupported: %s", r);
	is_int(h.acks, 1, "packet acknowledged");
	is_str(h_cmd(&h, "vMustReplyEmpty"), "", "vMustReplyEmpty");
	is_str(h_cmd(&h, "qTStatus"), "", "unknown packet: empty reply");
	is_str(h_cmd(&h, "!"), "", "extended mode not offered");
	is_str(h_cmd(&h, "qAttached"), "1", "qAttached");
	is_str(h_cmd(&h, "qAttached:1"), "1", "qAttached:pid");
	h.fake->slide = 0x1e00000;
	is_str(h_cmd(&h, "qOffsets"), "Text=1e00000;Data=1e00000;Bss=1e00000",
	       "qOffsets: the target's slide");
	h.fake->offsets_err = -EOPNOTSUPP;
	is_str(h_cmd(&h, "qOffsets"), "", "qOffsets without a kernel: empty");
	h.fake->offsets_err = 0;
	r = h_cmd(&h, "?");
	ok(!strncmp(r, "T05thread:1;", 12), "? after attach: %s", r);
	ok(has(r, "10:") && has(r, "07:") && has(r, "06:"),
	   "pc, sp, fp expedited");

	/* Retransmission on '-'. */
	n = h.out_len;
	h_raw(&h, "-", 1);
	ok(h.out_len > n && h_next(&h) && !strncmp(h.reply, "T05", 3),
	   "'-' resends the last reply");
	h_raw(&h, "+", 1);
	n = h.out_len;
	h_raw(&h, "$g#00", 5);
	ok(h.out_len == n + 1 && h.out[n] == '-', "bad checksum: '-' only");
	h_raw(&h, "$?#3f", 5);
	ok(h_next(&h) && h.reply[0] == 'T', "next good packet answered");
	n = h.out_len;
	h_raw(&h, "garbage \xff\x7f", 10);
	ok(h.out_len == n, "garbage between packets ignored");

	/* Threads. */
	is_str(h_cmd(&h, "qfThreadInfo"), "m1,2,3", "qfThreadInfo");
	is_str(h_cmd(&h, "qsThreadInfo"), "l", "qsThreadInfo");
	is_str(h_cmd(&h, "qC"), "QC1", "qC");
	is_str(h_cmd(&h, "Hg2"), "OK", "Hg2");
	is_str(h_cmd(&h, "qC"), "QC2", "qC follows Hg");
	is_str(h_cmd(&h, "Hg9"), "E03", "Hg of a missing thread: ESRCH");
	is_str(h_cmd(&h, "Hg0"), "OK", "Hg0 (any)");
	is_str(h_cmd(&h, "Hgp1.3"), "OK", "multiprocess thread id");
	is_str(h_cmd(&h, "qC"), "QC3", "qC after Hgp1.3");
	is_str(h_cmd(&h, "Hc-1"), "OK", "Hc-1");
	is_str(h_cmd(&h, "Hx1"), "E16", "H with a bad kind");
	is_str(h_cmd(&h, "Hg"), "E16", "H without a thread");
	is_str(h_cmd(&h, "T2"), "OK", "T alive");
	is_str(h_cmd(&h, "T4"), "E03", "T dead");
	is_str(h_cmd(&h, "T0"), "E03", "T0 is no thread");
	is_str(h_cmd(&h, "Tzz"), "E16", "T malformed");
	r = h_cmd(&h, "qThreadExtraInfo,2");
	{
		char text[64] = "";

		gdb_hex_decode(text, r, strlen(r));
		is_str(text, "vCPU 1, halted, long mode, CPL 0",
		       "qThreadExtraInfo");
	}
	is_str(h_cmd(&h, "qThreadExtraInfo,9"), "E03", "extra info, no thread");
	is_int(h.fake->violations, 0, "target contract kept");
	h_fini(&h);

	h_init(&h, 0, GDB_X86_64);
	vm_cpuset_set(&h.fake->cpus, 0);
	vm_cpuset_set(&h.fake->cpus, 5);
	h_attach(&h);
	is_str(h_cmd(&h, "qfThreadInfo"), "m1,6", "sparse vCPU set");
	is_str(h_cmd(&h, "T6"), "OK", "T of vCPU 5");
	h_fini(&h);
}

/* A vCPU a bounded stop left running: the session starts elsewhere. */
static void test_not_ready(void)
{
	struct harness h;
	const char *r;

	h_init(&h, 2, GDB_X86_64);
	h.fake->not_ready[0] = true;
	h_attach(&h);
	r = h_cmd(&h, "?");
	ok(!strncmp(r, "T05thread:2;", 12),
	   "vCPU 0 not ready: the stop is reported in thread 2: %s", r);
	is_str(h_cmd(&h, "qC"), "QC2", "and gdb's default thread is it");
	h.fake->fail_regs = -EBUSY;
	r = h_cmd(&h, "g");
	ok(strlen(r) > 100 && strspn(r, "x") == strlen(r),
	   "registers the target cannot read now: all unavailable (x)");
	is_str(h_cmd(&h, "p0"), "xxxxxxxxxxxxxxxx", "one register too");
	h.fake->fail_regs = -EIO;
	is_str(h_cmd(&h, "p0"), "E05", "another error stays an error");
	h_fini(&h);
}

/* The registers target.xml lists: their bit sizes and regnums 0..n-1. */
static void xml_check(const char *xml, size_t g_bytes, unsigned int nregs,
		      const char *what)
{
	const char *p = xml;
	size_t bits = 0;
	unsigned int count = 0, in_order = 0;

	while ((p = strstr(p, "<reg name=")) != NULL) {
		const char *b = strstr(p, "bitsize=\"");
		const char *n = strstr(p, "regnum=\"");

		if (!b || !n)
			break;
		bits += strtoul(b + 9, NULL, 10);
		/* Features may reorder registers; regnum gives the layout. */
		if (strtoul(n + 8, NULL, 10) < nregs)
			in_order++;
		count++;
		p++;
	}
	is_int(bits / 8, g_bytes, "%s: XML register sizes add up to 'g'", what);
	is_int(count, nregs, "%s: XML lists every register", what);
	is_int(in_order, nregs, "%s: every regnum within range", what);
}

static void test_target_xml(void)
{
	const struct gdb_x86_desc *d = gdb_x86_desc_get(GDB_X86_64);
	struct harness h;
	char *xml, *got;
	size_t len, got_len = 0;
	char req[64];
	int chunks = 0;
	bool first_m = false;

	h_init(&h, 1, GDB_X86_64);
	h_attach(&h);
	xml = gdb_x86_xml(d, &len);
	if (!xml)
		tap_bail("gdb_x86_xml");
	got = malloc(len + 1);
	for (;;) {
		const char *r;
		char dec[256];
		ssize_t n;

		snprintf(req, sizeof(req),
			 "qXfer:features:read:target.xml:%zx,64", got_len);
		r = h_cmd(&h, req);
		if (r[0] != 'm' && r[0] != 'l')
			break;
		if (chunks == 0)
			first_m = r[0] == 'm';
		n = gdb_bin_decode(dec, sizeof(dec), r + 1, h.reply_len - 1);
		if (n < 0 || (size_t)n > len - got_len)
			break;
		memcpy(got + got_len, dec, (size_t)n);
		got_len += (size_t)n;
		chunks++;
		if (r[0] == 'l')
			break;
	}
	ok(first_m && chunks > 10, "target.xml in %d chunks", chunks);
	ok(got_len == len && memcmp(got, xml, len) == 0,
	   "chunks reassemble target.xml");
	snprintf(req, sizeof(req), "qXfer:features:read:target.xml:%zx,10",
		 len + 5);
	is_str(h_cmd(&h, req), "l", "offset past the end: l");
	is_str(h_cmd(&h, "qXfer:features:read:other.xml:0,10"), "E00",
	       "unknown annex: E00");
	is_str(h_cmd(&h, "qXfer:features:read:target.xml:zz"), "E00",
	       "malformed qXfer: E00");
	is_str(h_cmd(&h, "qXfer:memory-map:read::0,10"), "",
	       "other qXfer objects unsupported");
	ok(has(xml, "<architecture>i386:x86-64</architecture>"), "x86-64 arch");
	ok(has(xml, "org.gnu.gdb.i386.core") &&
		   has(xml, "org.gnu.gdb.i386.sse") &&
		   has(xml, "org.gnu.gdb.i386.segments"),
	   "core, sse and segments features");
	ok(has(xml, "\"k_gs_base\"") && has(xml, "\"cr3\"") &&
		   has(xml, "\"efer\"") && has(xml, "\"xmm15\"") &&
		   has(xml, "\"fop\""),
	   "system, x87 and SSE registers");
	xml_check(xml, gdb_x86_g_size(d), gdb_x86_nregs(d), "x86-64");
	free(xml);
	free(got);
	h_fini(&h);

	d = gdb_x86_desc_get(GDB_X86_I8086);
	is_str(gdb_x86_arch_name(d), "i8086", "the i8086 description");
	is_int(gdb_x86_g_size(d),
	       gdb_x86_g_size(gdb_x86_desc_get(GDB_X86_I386)),
	       "i8086 has the i386 registers");
	d = gdb_x86_desc_get(GDB_X86_I386);
	xml = gdb_x86_xml(d, &len);
	ok(xml && has(xml, "<architecture>i386</architecture>") &&
		   !has(xml, "\"rax\"") && has(xml, "\"eax\"") &&
		   !has(xml, "\"xmm8\"") && !has(xml, "i386.segments"),
	   "i386 description, without gdb's segments feature");
	xml_check(xml, gdb_x86_g_size(d), gdb_x86_nregs(d), "i386");
	free(xml);
	ok(gdb_x86_desc_get((enum gdb_x86_layout)7) == NULL, "bad layout");
}

static void test_registers_64(void)
{
	struct harness h;
	uint64_t *regs;
	const char *r;
	char g[2048], cmd[2100];
	unsigned int i, nregs;
	size_t off = 0;
	int mismatches = 0;

	h_init(&h, 2, GDB_X86_64);
	regs = h.fake->regs[0];
	regs[VM_REG_GUEST_RAX] = 0x1122334455667788ULL;
	regs[VM_REG_GUEST_R15] = 0xf15;
	regs[VM_REG_GUEST_RIP] = 0xffffffff81000000ULL;
	regs[VM_REG_GUEST_RFLAGS] = 0x246;
	regs[VM_REG_GUEST_SS] = 0x18;
	regs[VM_REG_GUEST_FS_BASE] = 0x7f0000001000ULL;
	regs[VM_REG_GUEST_KGS_BASE] = 0xffff888000000000ULL;
	regs[VM_REG_GUEST_CR3] = 0x1000;
	regs[VM_REG_GUEST_CR8] = 0xf;
	regs[VM_REG_GUEST_XMMn_LO(3)] = 0x0706050403020100ULL;
	regs[VM_REG_GUEST_XMMn_HI(3)] = 0x0f0e0d0c0b0a0908ULL;
	regs[VM_REG_GUEST_FIP] = 0x1234567890ULL;
	regs[VM_REG_GUEST_FSW] = 0; /* TOP = 0 */
	regs[VM_REG_GUEST_FTW] = 0x01; /* R0 valid */
	regs[VM_REG_GUEST_STn_LO(0)] = 0x8000000000000000ULL; /* 1.0 */
	regs[VM_REG_GUEST_STn_HI(0)] = 0x3fff;
	h_attach(&h);

	r = h_cmd(&h, "g");
	is_int(strlen(r), 2 * 608, "x86-64 'g' is 608 bytes");
	snprintf(g, sizeof(g), "%s", r);
	ok(!strncmp(g, "8877665544332211", 16), "rax first, little-endian");
	is_hex(le_hex(g + 2 * 15 * 8, 8), 0xf15, "r15 is register 15");
	is_hex(le_hex(g + 2 * 128, 8), 0xffffffff81000000ULL, "rip at 128");
	is_hex(le_hex(g + 2 * 136, 4), 0x246, "eflags, 4 bytes");
	is_hex(le_hex(g + 2 * 144, 4), 0x18, "ss selector");
	is_hex(le_hex(g + 2 * 164, 8), 0x7f0000001000ULL, "fs_base");
	is_hex(le_hex(g + 2 * 180, 8), 0xffff888000000000ULL, "k_gs_base");

	/* Every register read alone equals its slice of 'g'. */
	nregs = gdb_x86_nregs(gdb_x86_desc_get(GDB_X86_64));
	is_int(nregs, 66, "66 registers, as QEMU's");
	for (i = 0; i < nregs; i++) {
		size_t sz = gdb_x86_reg_size(gdb_x86_desc_get(GDB_X86_64), i);

		snprintf(cmd, sizeof(cmd), "p%x", i);
		r = h_cmd(&h, cmd);
		if (strlen(r) != 2 * sz || strncmp(r, g + off, 2 * sz) != 0)
			mismatches++;
		off += 2 * sz;
	}
	is_int(mismatches, 0, "p N agrees with 'g' for every register");
	is_hex(le_hex(h_cmd(&h, "p1d"), 8), 0x1000, "p 29 is cr3");
	is_hex(le_hex(h_cmd(&h, "p1f"), 8), 0xf, "p 31 is cr8");
	is_str(h_cmd(&h, "p21"), "0000000000000080ff3f", "st0 is 1.0, 80 bits");
	is_hex(le_hex(h_cmd(&h, "p2b"), 4), 0xfffc,
	       "ftag: R0 valid, the rest empty");
	is_hex(le_hex(h_cmd(&h, "p2c"), 4), 0x12, "fiseg: FIP high half");
	is_hex(le_hex(h_cmd(&h, "p2d"), 4), 0x34567890, "fioff: FIP low half");
	is_str(h_cmd(&h, "p34"), "000102030405060708090a0b0c0d0e0f",
	       "xmm3, 16 bytes");
	is_hex(le_hex(h_cmd(&h, "p41"), 4), 0x1f80, "mxcsr is register 65");
	is_str(h_cmd(&h, "p42"), "E16", "p past the last register");
	is_str(h_cmd(&h, "p"), "E16", "p without a number");
	is_str(h_cmd(&h, "p10x"), "E16", "p with junk");

	/* G: change rbx only; only rbx is written back. */
	snprintf(cmd, sizeof(cmd), "G%s", g);
	memcpy(cmd + 1 + 16, "efbeadde00000000", 16);
	is_str(h_cmd(&h, cmd), "OK", "G");
	is_hex(regs[VM_REG_GUEST_RBX], 0xdeadbeef, "G wrote rbx");
	is_int(h.fake->regs_set_count, 1, "G wrote only what changed");
	is_hex(regs[VM_REG_GUEST_RAX], 0x1122334455667788ULL, "rax kept");
	cmd[100] = '\0';
	is_str(h_cmd(&h, cmd), "E16", "G of the wrong length");
	is_str(h_cmd(&h, "Gzz"), "E16", "G with bad hex");

	/* P */
	is_str(h_cmd(&h, "P10=0010000081ffffff"), "OK", "P rip");
	is_hex(regs[VM_REG_GUEST_RIP], 0xffffff8100001000ULL, "rip written");
	is_str(h_cmd(&h, "P11=02030000"), "OK", "P eflags");
	is_hex(regs[VM_REG_GUEST_RFLAGS], 0x302, "eflags written");
	is_str(h_cmd(&h, "P2b=ffff0000"), "OK", "P ftag: all empty");
	is_hex(regs[VM_REG_GUEST_FTW], 0, "abridged tag cleared");
	is_str(h_cmd(&h, "P2c=77000000"), "OK", "P fiseg");
	is_hex(regs[VM_REG_GUEST_FIP], 0x7734567890ULL, "FIP high half set");
	is_str(h_cmd(&h, "P34=ffeeddccbbaa99887766554433221100"), "OK",
	       "P xmm3");
	is_hex(regs[VM_REG_GUEST_XMMn_HI(3)], 0x0011223344556677ULL,
	       "xmm3 high half");
	is_str(h_cmd(&h, "P10=00"), "E16", "P of the wrong size");
	is_str(h_cmd(&h, "P99=00"), "E16", "P of no register");
	is_str(h_cmd(&h, "P10"), "E16", "P without a value");

	/* Registers of the Hg thread. */
	h.fake->regs[1][VM_REG_GUEST_RAX] = 0xbbbb;
	is_str(h_cmd(&h, "Hg2"), "OK", "Hg2");
	is_hex(le_hex(h_cmd(&h, "p0"), 8), 0xbbbb, "p reads vCPU 1");
	h.fake->fail_regs = -EIO;
	is_str(h_cmd(&h, "g"), "E05", "a target error is E + errno");
	h.fake->fail_regs = 0;
	is_int(h.fake->violations, 0, "target contract kept");
	h_fini(&h);
}

static void test_registers_i386_and_real_mode(void)
{
	struct harness h;
	uint64_t *regs;
	const char *r;

	h_init(&h, 1, GDB_X86_I386);
	regs = h.fake->regs[0];
	regs[VM_REG_GUEST_RAX] = 0xaaaaaaaa12345678ULL;
	regs[VM_REG_GUEST_RCX] = 0xc;
	regs[VM_REG_GUEST_RSP] = 0x7000;
	h_attach(&h);
	r = h_cmd(&h, "g");
	is_int(strlen(r), 2 * 340, "i386 'g' is 340 bytes");
	ok(!strncmp(r, "78563412", 8), "eax: the low half of rax");
	is_hex(le_hex(r + 8, 4), 0xc, "ecx is register 1 (gdb's order)");
	is_hex(le_hex(r + 2 * 16, 4), 0x7000, "esp is register 4");
	is_str(h_cmd(&h, "P0=efbeadde"), "OK", "P eax");
	is_hex(regs[VM_REG_GUEST_RAX], 0xaaaaaaaadeadbeefULL,
	       "writing eax keeps the upper half");
	is_int(strlen(h_cmd(&h, "p2e")), 32, "xmm7 is register 46");
	is_hex(le_hex(h_cmd(&h, "p2f"), 4), 0x1f80, "mxcsr is register 47");
	is_str(h_cmd(&h, "p30"), "E16", "no register 48");

	/* Real mode after reset: the pc is CS.base + IP. */
	regs[VM_REG_GUEST_CR0] = 0x60000010;
	regs[VM_REG_GUEST_CS] = 0xf000;
	regs[VM_REG_GUEST_CS_BASE] = 0xffff0000;
	regs[VM_REG_GUEST_RIP] = 0xfff0;
	is_hex(le_hex(h_cmd(&h, "p8"), 4), 0xfffffff0, "reset vector pc");
	r = h_cmd(&h, "?");
	ok(has(r, "08:f0ffffff;"), "stop reply's pc is linear: %s", r);
	r = h_cmd(&h, "g");
	{
		char cmd[700];
		int before = h.fake->regs_set_calls;

		snprintf(cmd, sizeof(cmd), "G%s", r);
		is_str(h_cmd(&h, cmd), "OK", "G of unchanged registers");
		is_int(h.fake->regs_set_calls, before, "nothing written back");
		is_hex(regs[VM_REG_GUEST_CS_BASE], 0xffff0000,
		       "CS.base kept after reset");
	}
	is_str(h_cmd(&h, "P8=007c0000"), "OK", "pc = 0x7c00");
	is_hex(regs[VM_REG_GUEST_CS], 0x7c0, "CS reloaded");
	is_hex(regs[VM_REG_GUEST_CS_BASE], 0x7c00, "CS.base = CS * 16");
	is_hex(regs[VM_REG_GUEST_RIP], 0, "IP 0");
	is_str(h_cmd(&h, "P8=107c0000"), "OK", "pc = 0x7c10");
	is_hex(regs[VM_REG_GUEST_RIP], 0x10, "IP moved within CS");
	is_hex(regs[VM_REG_GUEST_CS], 0x7c0, "CS unchanged");
	is_str(h_cmd(&h, "P8=00001000"), "E16", "pc beyond real mode's reach");
	is_str(h_cmd(&h, "Pc=00100000"), "OK", "ds = 0x1000");
	is_hex(regs[VM_REG_GUEST_DS_BASE], 0x10000, "DS.base = DS * 16");
	regs[VM_REG_GUEST_CR0] = 0x11; /* protected mode */
	regs[VM_REG_GUEST_CS_BASE] = 0x10000;
	is_hex(le_hex(h_cmd(&h, "p8"), 4), 0x10, "protected mode: pc = eip");
	h_fini(&h);

	h_init(&h, 1, GDB_X86_64);
	regs = h.fake->regs[0];
	regs[VM_REG_GUEST_CR0] = 0x10;
	regs[VM_REG_GUEST_CS_BASE] = 0x7c00;
	regs[VM_REG_GUEST_RIP] = 0x3;
	h_attach(&h);
	is_hex(le_hex(h_cmd(&h, "p10"), 8), 0x7c03, "64-bit layout too");
	regs[VM_REG_GUEST_CR0] = 0x80000011;
	regs[VM_REG_GUEST_RFLAGS] = 0x20002; /* virtual-8086 */
	is_hex(le_hex(h_cmd(&h, "p10"), 8), 0x7c03, "v8086 mode: linear pc");
	h_fini(&h);
}

static void test_memory(void)
{
	struct harness h;
	const char *r;
	char cmd[128];
	size_t n;
	int i;

	h_init(&h, 2, GDB_X86_64);
	for (i = 0; i < GDB_FAKE_MEM; i++)
		h.fake->mem[i] = (uint8_t)(i * 7);
	h_attach(&h);
	snprintf(cmd, sizeof(cmd), "m%llx,4",
		 (unsigned long long)GDB_FAKE_LINEAR + 0x100);
	is_str(h_cmd(&h, cmd), "00070e15", "m reads linear memory");
	is_int(h.fake->last_mem_flags, 0, "by linear address");
	snprintf(cmd, sizeof(cmd), "m%llx,10",
		 (unsigned long long)GDB_FAKE_HOLE - 4);
	r = h_cmd(&h, cmd);
	is_int(strlen(r), 8, "partial read up to the unmapped page");
	snprintf(cmd, sizeof(cmd), "m%llx,4",
		 (unsigned long long)GDB_FAKE_HOLE);
	is_str(h_cmd(&h, cmd), "E0e", "unmapped: E0e (EFAULT)");
	snprintf(cmd, sizeof(cmd), "m%llx,30000",
		 (unsigned long long)GDB_FAKE_LINEAR + 0x20000);
	n = h.out_len;
	r = h_cmd(&h, cmd);
	is_int(strlen(r), 2 * 0x10000, "a 64 KiB read in one packet");
	ok(h.out_len - n <= GDB_PACKET_SIZE + 5, "the reply fits: %zu bytes",
	   h.out_len - n);
	is_str(h_cmd(&h, "m0"), "E16", "m without a length");
	is_str(h_cmd(&h, "mzz,1"), "E16", "m with a bad address");
	is_str(h_cmd(&h, "m11111111111111111,1"), "E16", "m with 65 bits");
	is_str(h_cmd(&h, "m100,0"), "", "m of nothing");

	is_str(h_cmd(&h, "Hg2"), "OK", "Hg2");
	snprintf(cmd, sizeof(cmd), "m%llx,1",
		 (unsigned long long)GDB_FAKE_LINEAR);
	h_cmd(&h, cmd);
	is_int(h.fake->last_mem_vcpu, 1, "memory through the Hg thread");

	is_str(h_cmd(&h, "qqemu.PhyMemMode"), "0", "physical mode off");
	is_str(h_cmd(&h, "Qqemu.PhyMemMode:1"), "OK", "physical mode on");
	is_str(h_cmd(&h, "qqemu.PhyMemMode"), "1", "physical mode is on");
	is_str(h_cmd(&h, "m100,2"), "0007", "m by physical address");
	is_int(h.fake->last_mem_flags, GDB_MEM_PHYS, "flagged physical");
	is_str(h_cmd(&h, "Qqemu.PhyMemMode:2"), "E16", "bad PhyMemMode");
	is_str(h_cmd(&h, "Qqemu.PhyMemMode:0"), "OK", "physical mode off");

	/* M and X */
	snprintf(cmd, sizeof(cmd), "M%llx,4:deadbeef",
		 (unsigned long long)GDB_FAKE_LINEAR + 0x200);
	is_str(h_cmd(&h, cmd), "OK", "M");
	ok(h.fake->mem[0x200] == 0xde && h.fake->mem[0x203] == 0xef,
	   "M wrote memory");
	snprintf(cmd, sizeof(cmd), "M%llx,4:dead",
		 (unsigned long long)GDB_FAKE_LINEAR + 0x200);
	is_str(h_cmd(&h, cmd), "E16", "M with too little data");
	snprintf(cmd, sizeof(cmd), "M%llx,4:deadbeef",
		 (unsigned long long)GDB_FAKE_HOLE - 2);
	is_str(h_cmd(&h, cmd), "E0e", "M into an unmapped page");
	{
		char pkt[64];
		int hl = snprintf(pkt, sizeof(pkt), "X%llx,5:",
				  (unsigned long long)GDB_FAKE_LINEAR + 0x300);

		memcpy(pkt + hl, "}\x03}\x04\x00}]\x03", 8);
		h_send_bin(&h, pkt, (size_t)hl + 8);
		r = h_next(&h);
		is_str(r, "OK", "X with escapes, NUL and 0x03");
		ok(!memcmp(h.fake->mem + 0x300, "#$\0}\x03", 5),
		   "X wrote the unescaped bytes");
		memcpy(pkt + hl, "ab", 2);
		h_send_bin(&h, pkt, (size_t)hl + 2);
		is_str(h_next(&h), "E16", "X length mismatch");
	}
	{
		/* More than 64 KiB of binary data in one X (gdb's restore). */
		size_t big = 0x19000, hl;
		char *pkt = malloc(big + 64);
		bool same = true;

		hl = snprintf(pkt, 64, "X%llx,%zx:",
			      (unsigned long long)GDB_FAKE_LINEAR + 0x20000,
			      big);
		for (size_t k = 0; k < big; k++)
			pkt[hl + k] = 'a' + k % 26;
		h_send_bin(&h, pkt, hl + big);
		is_str(h_next(&h), "OK", "X of 100 KiB (a whole packet)");
		for (size_t k = 0; k < big && same; k++)
			same = h.fake->mem[0x20000 + k] == 'a' + k % 26;
		ok(same, "X of 100 KiB wrote every byte");
		free(pkt);
	}
	is_str(h_cmd(&h, "X0,0:"), "OK", "X probe of length 0");
	is_str(h_cmd(&h, "X0,1:}"), "E16", "X with a lone escape");
	r = h_cmd(&h, "qRcmd,2070687973200a"); /* " phys \n" */
	ok(r[0] == 'O' && has(r, "6f66660a"), "monitor phys: mode is off");
	is_str(h_next(&h), "OK", "trimmed monitor line");
	is_int(h.fake->violations, 0, "target contract kept");
	h_fini(&h);
}

static void test_breakpoints_and_detach(void)
{
	struct harness h;
	char cmd[64];
	int i, ok_count = 0;

	h_init(&h, 2, GDB_X86_64);
	h.fake->no_read_watch = true;
	h_attach(&h);
	is_str(h_cmd(&h, "Z0,ffffffff81000000,1"), "OK", "Z0");
	is_int(h.fake->nbps, 1, "inserted in the target");
	is_str(h_cmd(&h, "Z0,ffffffff81000000,1"), "OK", "Z0 again");
	is_int(h.fake->nbps, 1, "not inserted twice");
	is_str(h_cmd(&h, "z0,ffffffff81000000,1"), "OK", "z0");
	is_int(h.fake->nbps, 0, "removed from the target");
	is_str(h_cmd(&h, "z0,ffffffff81000000,1"), "OK", "z0 again is OK");
	/* Translated through the Hg thread's paging, removed with it. */
	is_str(h_cmd(&h, "Hg2"), "OK", "Hg2");
	is_str(h_cmd(&h, "Z0,ffffffff81000000,1"), "OK", "Z0 with Hg2");
	is_int(h.fake->bps[0].vcpu, 1, "the target got the Hg vCPU");
	is_str(h_cmd(&h, "Hg1"), "OK", "Hg1");
	is_str(h_cmd(&h, "z0,ffffffff81000000,1"), "OK", "z0 with Hg1");
	is_int(h.fake->nbps, 0, "removed, with the vCPU that inserted it");
	for (i = 0; i < 10; i++) {
		snprintf(cmd, sizeof(cmd), "Z0,%x,1", 0x1000 + i);
		ok_count += !strcmp(h_cmd(&h, cmd), "OK");
	}
	is_int(ok_count, 10, "ten software breakpoints");
	for (i = 0, ok_count = 0; i < 4; i++) {
		snprintf(cmd, sizeof(cmd), "Z1,%x,1", 0x2000 + i);
		ok_count += !strcmp(h_cmd(&h, cmd), "OK");
	}
	is_int(ok_count, 4, "four hardware breakpoints");
	is_str(h_cmd(&h, "Z1,3000,1"), "E1c",
	       "a fifth: ENOSPC from the target");
	is_str(h_cmd(&h, "z1,2003,1"), "OK", "free one");
	is_str(h_cmd(&h, "Z2,5000,3"), "E16", "target refuses length 3");
	is_str(h_cmd(&h, "Z2,5000,4"), "OK", "write watchpoint");
	is_str(h_cmd(&h, "Z3,5000,4"), "", "read watchpoints unsupported");
	is_str(h_cmd(&h, "Z4,6000,8"), "E1c", "access watchpoint: no slot");
	is_str(h_cmd(&h, "Z5,0,1"), "", "unknown type: empty");
	is_str(h_cmd(&h, "Z0,1000"), "E16", "Z without kind");
	is_str(h_cmd(&h, "Z0,1000,0"), "E16", "Z of kind 0");
	is_str(h_cmd(&h, "Z0,1000,1;X1,0"), "E16", "conditions refused");
	is_str(h_cmd(&h, "z9,1000,1"), "", "z of an unknown type: empty");
	is_int(h.fake->nbps, 10 + 3 + 1, "software, hardware, watchpoint");

	is_str(h_cmd(&h, "Dx"), "E16", "D with junk");
	is_str(h_cmd(&h, "vKill"), "", "vKill without a pid is not vKill");
	is_str(h_cmd(&h, "D"), "OK", "D");
	is_int(h.fake->nbps, 0, "D removed every breakpoint and watchpoint");
	ok(h.fake->running[0] && h.fake->running[1], "D resumed the guest");
	ok(!gdb_stub_active(h.stub), "session over after D");
	is_int(gdb_stub_attach(h.stub), 0, "attach again");
	is_int(h.fake->stop_all_calls, 2, "stopped again");
	is_str(h_cmd(&h, "Z0,1000,1"), "OK", "new breakpoint");
	gdb_stub_detach(h.stub);
	is_int(h.fake->nbps, 0, "a dropped connection removes them too");
	ok(h.fake->running[0], "and resumes");
	ok(!gdb_stub_active(h.stub), "session over after the drop");

	/* Dropped while running. */
	h_attach(&h);
	is_str(h_cmd(&h, "Z1,1000,1"), "OK", "hardware breakpoint");
	h_send(&h, "vCont;c");
	ok(h.fake->running[0], "running");
	gdb_stub_detach(h.stub);
	is_int(h.fake->nbps, 0, "removed after stopping");
	ok(h.fake->running[0] && h.fake->running[1], "running again");
	is_int(h.fake->violations, 0, "target contract kept");
	h_fini(&h);
}

static void test_execution(void)
{
	struct harness h;
	const char *r;
	int resumes;

	h_init(&h, 3, GDB_X86_64);
	h_attach(&h);
	h_cmd(&h, "qSupported:swbreak+;hwbreak+");
	is_str(h_cmd(&h, "vCont?"), "vCont;c;C;s;S;t", "vCont?");
	is_str(h_cmd(&h, "Z0,ffffffff81000000,1"), "OK", "breakpoint");

	h_send(&h, "vCont;c");
	ok(h_next(&h) == NULL, "no reply while running");
	ok(h.fake->running[0] && h.fake->running[1] && h.fake->running[2],
	   "vCont;c runs every vCPU");
	is_str(h_cmd(&h, "g"), "E10", "registers while running: EBUSY");
	gdb_fake_stop(h.fake, 1, GDB_STOP_SWBREAK, 0xffffffff81000000ULL);
	ok(h_next(&h) == NULL, "nothing before the poll");
	gdb_stub_poll(h.stub);
	r = h_next(&h);
	ok(r && !strncmp(r, "T05thread:2;", 12) && has(r, "swbreak:;"),
	   "breakpoint stop reply: %s", r ? r : "(none)");
	ok(!h.fake->running[0] && !h.fake->running[2], "all-stop");
	is_str(h_cmd(&h, "qC"), "QC2", "the stopped thread is current");
	ok(!strncmp(h_cmd(&h, "?"), "T05thread:2;", 12), "? repeats it");

	h_send(&h, "c");
	gdb_fake_stop(h.fake, 0, GDB_STOP_HWBREAK, 0x1234);
	gdb_stub_poll(h.stub);
	r = h_next(&h);
	ok(has(r, "T05thread:1;") && has(r, "hwbreak:;"), "hwbreak: %s", r);
	h_send(&h, "c");
	gdb_fake_stop(h.fake, 2, GDB_STOP_WATCH, 0x5000);
	gdb_stub_poll(h.stub);
	ok(has(h_next(&h), "watch:5000;"), "watch:ADDR");
	h_send(&h, "c");
	gdb_fake_stop(h.fake, 2, GDB_STOP_RWATCH, 0x5008);
	gdb_stub_poll(h.stub);
	ok(has(h_next(&h), "rwatch:5008;"), "rwatch:ADDR");
	h_send(&h, "c");
	gdb_fake_stop(h.fake, 2, GDB_STOP_AWATCH, 0x5010);
	gdb_stub_poll(h.stub);
	ok(has(h_next(&h), "awatch:5010;"), "awatch:ADDR");

	/* Steps: one vCPU, the others parked; interrupts masked. */
	h_send(&h, "vCont;s:1");
	ok(h.fake->last_act[0].kind == GDB_RESUME_STEP &&
		   h.fake->last_act[1].kind == GDB_RESUME_STOP &&
		   h.fake->last_act[2].kind == GDB_RESUME_STOP,
	   "vCont;s:1 steps vCPU 0 alone");
	is_hex(h.fake->last_step_flags, GDB_SSTEP_ENABLE | GDB_SSTEP_NOIRQ,
	       "step masks interrupts by default");
	gdb_fake_stop(h.fake, 0, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	r = h_next(&h);
	ok(r && !strncmp(r, "T05thread:1;", 12) && !has(r, "swbreak") &&
		   !has(r, "watch"),
	   "step done: %s", r ? r : "(none)");
	h_send(&h, "vCont;s:2;c");
	ok(h.fake->last_act[1].kind == GDB_RESUME_STEP &&
		   h.fake->last_act[0].kind == GDB_RESUME_CONT &&
		   h.fake->last_act[2].kind == GDB_RESUME_CONT,
	   "vCont;s:2;c: the others continue");
	gdb_fake_stop(h.fake, 1, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	h_send(&h, "vCont;c;s:2");
	ok(h.fake->last_act[1].kind == GDB_RESUME_CONT,
	   "the leftmost matching action wins");
	gdb_fake_stop(h.fake, 1, GDB_STOP_SIGNAL, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	h_send(&h, "vCont;C0b:3;S02:1");
	ok(h.fake->last_act[2].kind == GDB_RESUME_CONT &&
		   h.fake->last_act[2].signal == 11 &&
		   h.fake->last_act[0].kind == GDB_RESUME_STEP &&
		   h.fake->last_act[0].signal == 2 &&
		   h.fake->last_act[1].kind == GDB_RESUME_STOP,
	   "vCont with signals per thread");
	gdb_fake_stop(h.fake, 0, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	is_str(h_cmd(&h, "vCont;r1,2:1"), "E16", "range step refused");
	is_str(h_cmd(&h, "vCont;c:9"), "E03", "vCont on a missing thread");
	is_str(h_cmd(&h, "vCont;t"), "E16", "vCont resuming nothing");
	is_str(h_cmd(&h, "vCont;x"), "E16", "vCont with a bad action");
	is_str(h_cmd(&h, "vCont"), "E16", "vCont with no action");

	/* Legacy s steps the Hc thread; c continues all. */
	is_str(h_cmd(&h, "Hc3"), "OK", "Hc3");
	h_send(&h, "s");
	ok(h.fake->last_act[2].kind == GDB_RESUME_STEP &&
		   h.fake->last_act[0].kind == GDB_RESUME_STOP,
	   "s steps the Hc thread only");
	gdb_fake_stop(h.fake, 2, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T05thread:3;", 12), "its step reported");
	h_send(&h, "S0b");
	ok(h.fake->last_act[2].signal == 11, "S with a signal");
	gdb_fake_stop(h.fake, 2, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	h_send(&h, "C02");
	ok(h.fake->last_act[0].kind == GDB_RESUME_CONT &&
		   h.fake->last_act[2].signal == 2 &&
		   h.fake->last_act[0].signal == 0,
	   "C: everyone runs, the Hc thread gets the signal");
	gdb_fake_stop(h.fake, 0, GDB_STOP_SIGNAL, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	h_send(&h, "s1000");
	is_hex(h.fake->regs[2][VM_REG_GUEST_RIP], 0x1000, "s ADDR sets the pc");
	gdb_fake_stop(h.fake, 2, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	is_str(h_cmd(&h, "cxyz"), "E16", "c with junk");
	is_str(h_cmd(&h, "Czz"), "E16", "C without a signal");

	/* Step flags, QEMU style. */
	is_str(h_cmd(&h, "qqemu.Supported"), "sstepbits;sstep;PhyMemMode",
	       "qqemu.Supported");
	is_str(h_cmd(&h, "qqemu.sstepbits"), "ENABLE=1,NOIRQ=2",
	       "qqemu.sstepbits: what the target offers");
	is_str(h_cmd(&h, "qqemu.sstep"), "0x3", "qqemu.sstep default");
	is_str(h_cmd(&h, "Qqemu.sstep=0x1"), "OK", "Qqemu.sstep=0x1");
	is_str(h_cmd(&h, "qqemu.sstep"), "0x1", "flags changed");
	h_send(&h, "vCont;s:1");
	is_hex(h.fake->last_step_flags, GDB_SSTEP_ENABLE,
	       "interrupts no longer masked");
	gdb_fake_stop(h.fake, 0, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	is_str(h_cmd(&h, "Qqemu.sstep=5"), "E16", "unsupported bit refused");
	is_str(h_cmd(&h, "Qqemu.sstep:3"), "OK", "Qqemu.sstep:3");
	is_str(h_cmd(&h, "Qqemu.sstep"), "E16", "Qqemu.sstep without value");

	/* Ctrl-C and vCtrlC. */
	h_send(&h, "c");
	h_raw(&h, "\x03", 1);
	r = h_next(&h);
	ok(r && !strncmp(r, "T02thread:", 10), "Ctrl-C: SIGINT stop: %s",
	   r ? r : "(none)");
	ok(!h.fake->running[0] && !h.fake->running[1], "Ctrl-C stopped all");
	h_raw(&h, "\x03", 1);
	ok(h_next(&h) == NULL, "Ctrl-C while stopped is ignored");
	h_send(&h, "c");
	is_str(h_cmd(&h, "vCtrlC"), "OK", "vCtrlC answers OK");
	ok(!strncmp(h_next(&h), "T02", 3), "then the stop reply");
	is_str(h_cmd(&h, "vCtrlC"), "OK", "vCtrlC while stopped");
	ok(h_next(&h) == NULL, "and no stop reply");

	/* A stop a vCPU reports on its own is SIGINT too. */
	h_send(&h, "c");
	gdb_fake_stop(h.fake, 1, GDB_STOP_INTERRUPT, 0);
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T02thread:2;", 12), "target interrupt");
	h_send(&h, "c");
	gdb_events_report(
		h.ev, &(struct gdb_stop_event){ .reason = GDB_STOP_SIGNAL,
						.vcpu = 0,
						.signal = GDB_SIGNAL_SEGV });
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T0bthread:1;", 12), "target's own signal");

	/* Two vCPUs stop at once: the second is reported on the next c. */
	is_str(h_cmd(&h, "Z0,a000,1"), "OK", "breakpoint A");
	is_str(h_cmd(&h, "Z0,b000,1"), "OK", "breakpoint B");
	h_send(&h, "vCont;c");
	gdb_fake_stop(h.fake, 0, GDB_STOP_SWBREAK, 0xa000);
	gdb_fake_stop(h.fake, 2, GDB_STOP_SWBREAK, 0xb000);
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T05thread:1;", 12), "first stop");
	resumes = h.fake->resume_calls;
	h_send(&h, "vCont;c");
	r = h_next(&h);
	ok(r && !strncmp(r, "T05thread:3;", 12), "pending stop reported");
	is_int(h.fake->resume_calls, resumes, "without resuming");
	/* Again, but B is removed in between: that stop went stale. */
	h_send(&h, "vCont;c");
	gdb_fake_stop(h.fake, 0, GDB_STOP_SWBREAK, 0xa000);
	gdb_fake_stop(h.fake, 2, GDB_STOP_SWBREAK, 0xb000);
	gdb_stub_poll(h.stub);
	h_next(&h);
	is_str(h_cmd(&h, "z0,b000,1"), "OK", "remove B");
	h_send(&h, "vCont;s:3");
	ok(h_next(&h) == NULL && h.fake->resume_calls == resumes + 2,
	   "stale stop dropped, the step runs");
	gdb_fake_stop(h.fake, 2, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	/* A pending stop of a vCPU that stays parked waits. */
	h_send(&h, "vCont;c");
	gdb_fake_stop(h.fake, 0, GDB_STOP_SWBREAK, 0xa000);
	gdb_fake_stop(h.fake, 1, GDB_STOP_SWBREAK, 0xa000);
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T05thread:1;", 12), "vCPU 0 first");
	h_send(&h, "vCont;s:1");
	ok(h_next(&h) == NULL, "vCPU 1's stop waits while vCPU 0 steps");
	gdb_fake_stop(h.fake, 0, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T05thread:1;", 12), "vCPU 0 stepped");
	h_send(&h, "c");
	ok(!strncmp(h_next(&h), "T05thread:2;", 12), "then vCPU 1's stop");

	/* A step that finished while another stop was reported. */
	h_send(&h, "vCont;s:1;c");
	gdb_fake_stop(h.fake, 1, GDB_STOP_SWBREAK, 0xa000);
	gdb_fake_stop(h.fake, 0, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	ok(!strncmp(h_next(&h), "T05thread:2;", 12), "the breakpoint first");
	resumes = h.fake->resume_calls;
	h_send(&h, "vCont;s:1");
	ok(!strncmp(h_next(&h), "T05thread:1;", 12) &&
		   h.fake->resume_calls == resumes,
	   "stepping again gets the finished step, not a second one");
	h_send(&h, "vCont;s:1;c");
	gdb_fake_stop(h.fake, 1, GDB_STOP_SWBREAK, 0xa000);
	gdb_fake_stop(h.fake, 0, GDB_STOP_STEP, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);
	h_send(&h, "vCont;c");
	ok(h_next(&h) == NULL && h.fake->resume_calls == resumes + 2,
	   "continuing drops the finished step");
	gdb_fake_stop(h.fake, 0, GDB_STOP_SIGNAL, 0);
	gdb_stub_poll(h.stub);
	h_next(&h);

	/* c ADDR */
	h_send(&h, "Hc2");
	h_next(&h);
	h_send(&h, "c2000");
	is_hex(h.fake->regs[1][VM_REG_GUEST_RIP], 0x2000, "c ADDR sets the pc");

	/* The VM ends. */
	gdb_events_exit(h.ev, 1);
	gdb_stub_poll(h.stub);
	is_str(h_next(&h), "W01", "exit: W01");
	is_str(h_cmd(&h, "?"), "W01", "? after the exit");
	is_str(h_cmd(&h, "g"), "E03", "no registers after the exit");
	is_str(h_cmd(&h, "c"), "E03", "no continuing either");
	is_int(h.fake->violations, 0, "target contract kept");
	h_fini(&h);

	h_init(&h, 1, GDB_X86_64);
	h_attach(&h);
	h_cmd(&h, "qSupported");
	h_send(&h, "c");
	gdb_fake_stop(h.fake, 0, GDB_STOP_SWBREAK, 0x1000);
	gdb_stub_poll(h.stub);
	r = h_next(&h);
	ok(r && !has(r, "swbreak"), "no swbreak: unless gdb offered it");
	h_send(&h, "c");
	gdb_events_report(
		h.ev, &(struct gdb_stop_event){ .reason = GDB_STOP_KILLED,
						.signal = GDB_SIGNAL_ABRT });
	gdb_stub_poll(h.stub);
	is_str(h_next(&h), "X06", "killed: X06");
	h_fini(&h);
}

static void test_noack_monitor_kill(void)
{
	struct harness h;
	const char *r;
	char text[8192];
	size_t n, tlen = 0;
	int opackets = 0;

	h_init(&h, 1, GDB_X86_64);
	h_attach(&h);
	h_send(&h, "QStartNoAckMode");
	ok(h.out_len > 0 && h.out[0] == '+', "QStartNoAckMode acknowledged");
	is_str(h_next(&h), "OK", "QStartNoAckMode");
	n = h.out_len;
	h_raw(&h, "+", 1); /* gdb's ack of the OK */
	h_send(&h, "qC");
	ok(h.out[n] == '$', "no '+' in no-ack mode");
	is_str(h_next(&h), "QC1", "reply");
	n = h.out_len;
	h_raw(&h, "-", 1);
	ok(h.out_len == n, "'-' ignored in no-ack mode");
	h_raw(&h, "$qC#00", 6);
	is_str(h_next(&h), "QC1", "bad checksum taken as is");

	/* monitor */
	h_send(&h, "qRcmd,68656c70"); /* help */
	while ((r = h_next(&h)) && r[0] == 'O' && strcmp(r, "OK")) {
		ssize_t k = gdb_hex_decode(text + tlen, r + 1, strlen(r + 1));

		if (k > 0)
			tlen += (size_t)k;
		opackets++;
	}
	text[tlen] = '\0';
	is_str(r, "OK", "monitor help ends with OK");
	ok(has(text, "phys [on|off]") && has(text, "echo TEXT"),
	   "help lists the stub's and the target's commands");
	h_send(&h, "qRcmd,6563686f206869"); /* echo hi */
	r = h_next(&h);
	is_str(r, "O68690a", "echo: output in an O packet");
	is_str(h_next(&h), "OK", "then OK");
	is_str(h.fake->last_monitor, "echo hi", "the target got the line");
	h_send(&h, "qRcmd,626967"); /* big */
	tlen = 0;
	opackets = 0;
	while ((r = h_next(&h)) && r[0] == 'O' && strcmp(r, "OK")) {
		tlen += strlen(r + 1) / 2;
		opackets++;
	}
	ok(tlen == 5000 && opackets == 5, "5000 bytes in %d O packets",
	   opackets);
	h_send(&h, "qRcmd,6e6f7065"); /* nope */
	r = h_next(&h);
	ok(r && r[0] == 'O', "unknown command explained");
	is_str(h_next(&h), "OK", "and OK");
	is_str(h_cmd(&h, "qRcmd,6661696c"), "E05", "failing command: E05");
	is_str(h_cmd(&h, "qRcmd,70687973206f6e"),
	       "O706879736963616c206d656d"
	       "6f7279206d6f6465206f6e0a",
	       "monitor phys on");
	is_str(h_next(&h), "OK", "OK");
	is_str(h_cmd(&h, "qqemu.PhyMemMode"), "1", "phys on took effect");
	is_str(h_cmd(&h, "qRcmd,70687"), "E16", "odd hex");
	is_str(h_cmd(&h, "qRcmd,610062"), "E16", "embedded NUL");
	is_str(h_cmd(&h, "qRcmd,"), "OK", "empty monitor line");

	/* Overlong packet: an error, then business as usual. */
	{
		size_t len = GDB_PACKET_SIZE + 100;
		char *big = malloc(len);

		memset(big, 'm', len);
		h_send_bin(&h, big, len);
		free(big);
		is_str(h_next(&h), "E5a", "overlong packet: EMSGSIZE");
		is_str(h_cmd(&h, "qC"), "QC1", "next packet fine");
	}
	h_raw(&h, "$#00", 4);
	is_str(h_next(&h), "", "empty packet: empty reply");

	is_str(h_cmd(&h, "Z0,1000,1"), "OK", "a breakpoint");
	h_send(&h, "k");
	ok(h_next(&h) == NULL, "k has no reply");
	is_int(h.fake->kill_calls, 1, "k powered off");
	is_int(h.fake->nbps, 0, "breakpoints removed first");
	ok(!gdb_stub_active(h.stub), "session over after k");
	is_int(gdb_stub_attach(h.stub), 0, "attach to the dead VM");
	is_str(h_cmd(&h, "?"), "X09", "? says it was killed");
	gdb_stub_detach(h.stub);
	h_fini(&h);

	h_init(&h, 1, GDB_X86_64);
	h_attach(&h);
	is_str(h_cmd(&h, "vKill;1"), "OK", "vKill");
	is_int(h.fake->kill_calls, 1, "vKill powered off");
	h_fini(&h);
}

static void test_no_session_events(void)
{
	struct harness h;

	h_init(&h, 2, GDB_X86_64);
	gdb_fake_stop(h.fake, 1, GDB_STOP_SWBREAK, 0x1000);
	gdb_stub_poll(h.stub);
	ok(h.fake->running[1], "a stop with no debugger resumes the vCPU");
	is_int(h.out_len, 0, "and says nothing");
	gdb_events_exit(h.ev, 0);
	gdb_stub_poll(h.stub);
	h_attach(&h);
	is_str(h_cmd(&h, "?"), "W00", "an exit is remembered for the next gdb");
	is_int(h.fake->violations, 0, "target contract kept");
	h_fini(&h);

	/* The queue is bounded and thread-safe; a full queue refuses. */
	{
		struct gdb_events *q = gdb_events_create();
		struct gdb_stop_event ev;
		int i, refused = 0, taken = 0;

		for (i = 0; i < 1000; i++)
			refused += gdb_events_stop(q, i % 4, GDB_STOP_STEP,
						   0) == -ENOSPC;
		ok(refused > 0 && refused < 1000, "full queue: ENOSPC (%d)",
		   refused);
		is_int(gdb_events_exit(q, 3), 0, "an exit always fits");
		ok(gdb_events_take(q, &ev) && ev.reason == GDB_STOP_EXITED &&
			   ev.status == 3,
		   "the exit comes first");
		while (gdb_events_take(q, &ev))
			taken++;
		is_int(taken, 1000 - refused, "every queued stop taken");
		is_int(gdb_events_stop(q, VM_MAXCPU, GDB_STOP_STEP, 0), -EINVAL,
		       "a bad vCPU refused");
		gdb_events_destroy(q);
	}
}

/*
 * --serve: the stub over stdin/stdout, for gdb's "target remote |".
 * The fake stops again right after every resume.
 */
static int serve_write(void *opaque, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(1, p, len);

		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int serve(enum gdb_x86_layout layout)
{
	struct gdb_events *ev = gdb_events_create();
	struct gdb_fake *f = gdb_fake_create(ev, 2);
	struct gdb_target t = gdb_fake_target(f);
	struct gdb_stub *s = gdb_stub_create(&t, ev, layout, serve_write, NULL);
	char buf[4096];
	int i;

	if (!s)
		return 1;
	for (i = 0; i < GDB_FAKE_MEM; i++)
		f->mem[i] = (uint8_t)i;
	f->mem[0x1000] = 0x90; /* nop */
	f->regs[0][VM_REG_GUEST_RAX] = 0x1234;
	f->regs[0][VM_REG_GUEST_XMMn_LO(0)] = 0x3ff0000000000000ULL; /* 1.0 */
	f->auto_stop = true;
	gdb_stub_attach(s);
	while (gdb_stub_active(s)) {
		struct pollfd p[2] = { { 0, POLLIN, 0 },
				       { gdb_events_fd(ev), POLLIN, 0 } };
		ssize_t n;

		if (poll(p, 2, -1) < 0)
			break;
		if (p[1].revents & POLLIN)
			gdb_stub_poll(s);
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0)
				break;
			gdb_stub_input(s, buf, (size_t)n);
		}
	}
	gdb_stub_destroy(s);
	gdb_fake_destroy(f);
	gdb_events_destroy(ev);
	return 0;
}

/* Run gdb against "self --serve" and return its output (malloc'd). */
static char *run_gdb(const char *layout, const char *const *cmds, int ncmds)
{
	char self[512], target[600], *out;
	const char *argv[64];
	int pipefd[2], argc = 0, i, status;
	size_t len = 0, cap = 1 << 16;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	snprintf(target, sizeof(target), "target remote | %s --serve %s", self,
		 layout);
	argv[argc++] = "gdb";
	argv[argc++] = "-nx";
	argv[argc++] = "-batch";
	argv[argc++] = "-ex";
	argv[argc++] = "set confirm off";
	argv[argc++] = "-ex";
	argv[argc++] = target;
	for (i = 0; i < ncmds && argc < 60; i++) {
		argv[argc++] = "-ex";
		argv[argc++] = cmds[i];
	}
	argv[argc] = NULL;
	if (pipe(pipefd))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };
		int null = open("/dev/null", O_RDONLY);

		/* A gdb that crashes leaves no core; one that hangs dies. */
		setrlimit(RLIMIT_CORE, &nocore);
		alarm(60);

		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execvp("gdb", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	out = malloc(cap + 1);
	while (out && (n = read(pipefd[0], out + len, cap - len)) > 0)
		len += (size_t)n;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (out)
		out[len] = '\0';
	return out;
}

static void test_real_gdb(void)
{
	static const char *const cmds64[] = {
		"info registers rip",
		"p/x $rax",
		"p $xmm0.v2_double[0]",
		"p $cr0",
		"p/x $efer",
		"p/x $k_gs_base",
		"p/x $fs_base",
		"x/4xb 0xffffffff80000100",
		"info threads",
		"thread 2",
		"stepi",
		"p/x $pc",
		"hbreak *0xffffffff80002000",
		"watch *(int *)0xffffffff80003000",
		"monitor help",
		"detach",
	};
	static const char *const cmds32[] = {
		"show architecture",	 "p/x $eax",   "p/x $eip",
		"info registers eflags", "x/2xb 0x10", "detach",
	};
	char *out;

	if (system("gdb --version >/dev/null 2>&1") != 0) {
		tap_skip("gdb is not installed: no check against real gdb");
		return;
	}
	out = run_gdb("64", cmds64, sizeof(cmds64) / sizeof(cmds64[0]));
	if (!out) {
		ok(0, "running gdb");
		return;
	}
	ok(!has(out, "too long") && !has(out, "Remote failure") &&
		   !has(out, "Protocol error") && !has(out, "arning: Remote"),
	   "gdb x86-64 session without complaints");
	ok(has(out, "rip            0xffffffff80001000"), "gdb reads rip");
	ok(has(out, "$1 = 0x1234"), "gdb reads rax");
	ok(has(out, "$2 = 1"), "gdb reads xmm0 as a vector");
	ok(has(out, "$3 = [ PE MP ET NE WP AM PG ]"), "cr0 flags");
	ok(has(out, "0xffffffff80000100:\t0x00\t0x01\t0x02\t0x03"),
	   "gdb reads memory");
	ok(has(out, "Thread 2") && has(out, "vCPU 1"), "gdb lists both vCPUs");
	ok(has(out, "Hardware assisted breakpoint 1"), "hbreak accepted");
	ok(has(out, "atchpoint 2"), "watchpoint accepted");
	ok(has(out, "phys [on|off]"), "monitor output shown");
	ok(has(out, "Detaching") || has(out, "detached"), "detached");
	if (!has(out, "0xffffffff80001000"))
		tap_diag("gdb said:\n%s", out);
	free(out);

	out = run_gdb("32", cmds32, sizeof(cmds32) / sizeof(cmds32[0]));
	if (!out) {
		ok(0, "running gdb");
		return;
	}
	ok(!has(out, "too long") && !has(out, "Remote failure") &&
		   !has(out, "arning: Remote"),
	   "gdb i386 session without complaints");
	ok(has(out, "\"i386\""), "architecture i386");
	ok(has(out, "$1 = 0x1234"), "gdb reads eax");
	ok(has(out, "$2 = 0x80001000"), "gdb reads eip (32 bits)");
	if (!has(out, "0x1234"))
		tap_diag("gdb said:\n%s", out);
	free(out);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		return serve(strcmp(argv[2], "32") == 0 ? GDB_X86_I386 :
							  GDB_X86_64);
	test_session_basics();
	test_not_ready();
	test_target_xml();
	test_registers_64();
	test_registers_i386_and_real_mode();
	test_memory();
	test_breakpoints_and_detach();
	test_execution();
	test_noack_monitor_kill();
	test_no_session_events();
	test_real_gdb();
	return tap_done();
}
