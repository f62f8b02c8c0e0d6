/*
 * test-trace-file.c: the trace file (vm_trace.h): a round trip of
 * records, stacks, drops, regions and META; files cut at every byte;
 * bad magic, a newer major, bad headers and FIELDS; unknown chunks;
 * END that miscounts; corrupt chunks and records; rewind; a file without
 * END; write errors; and the read speed.  Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libvmmapi/vm_trace.h"
#include "tests/tap.h"

static char dir[64];

/* The message got holds sub. */
#define like_msg(got, sub)                                                   \
	({                                                                   \
		const char *g_ = (got);                                      \
		bool r_ = ok(g_ && strstr(g_, sub), "message has: %s", sub); \
		if (!r_)                                                     \
			printf("#   got \"%s\"\n", g_ ? g_ : "(null)");      \
		r_;                                                          \
	})

static const char *tpath(const char *name)
{
	static char buf[4][128];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* Record i of a test trace, and its stack. */
static void rec_make(unsigned int i, struct vm_trace_rec *r, uint64_t *stack)
{
	unsigned int j;

	memset(r, 0, sizeof(*r));
	r->t_exit = 1000000 + 1000ull * i;
	r->t_entry = r->t_exit + 10 + i % 7;
	r->rip = 0xffffffff81000000ull + i;
	r->addr = 0x3f8 + i % 8;
	r->data = 0x1122334455667788ull ^ i;
	r->reason = i % 3 ? 2 : 6;
	r->vcpu = (uint16_t)(i % 4);
	r->source = i % 5 == 4 ? VM_TRACE_KERNEL : VM_TRACE_USER;
	r->cpl = (uint8_t)(i % 4);
	r->size = 1;
	r->flags = i % 2 ? VM_TRACE_F_WRITE : 0;
	r->nstack = (uint8_t)(i % 6);
	r->count = 1;
	r->region = i % 3 ? 1 : 2;
	for (j = 0; j < r->nstack; j++)
		stack[j] = 0xffffffff82000000ull + i * 64 + j;
}

static const struct vm_trace_region regions[] = {
	{ .name = "com1",
	  .kind = VM_TRACE_REGION_PIO,
	  .base = 0x3f8,
	  .size = 8 },
	{ .name = "hpet",
	  .kind = VM_TRACE_REGION_MMIO,
	  .base = 0xfed00000,
	  .size = 0x400 },
};

static const struct vm_trace_meta meta = {
	.vm = "demo",
	.ncpus = 4,
	.isa = "vmx",
	.spec = "reason=io,stack=5",
	.kernel = "off: not root",
	.stack = 5,
	.t0 = 123456,
	.regions = regions,
	.nregions = 2,
};

/*
 * Write n records, a RECORDS chunk per `every` records (0: as the writer
 * likes), drops of 7 from vCPU 1 in the middle, and END unless !finish.
 */
static struct vm_trace_writer *write_trace(const char *path, unsigned int n,
					   unsigned int every, bool finish)
{
	struct vm_trace_writer *w;
	struct vm_trace_rec r;
	uint64_t stack[VM_TRACE_STACK_MAX];
	char err[256];
	unsigned int i;

	if (!(w = vm_trace_create(path, &meta, err, sizeof(err))))
		tap_bail("%s", err);
	for (i = 0; i < n; i++) {
		rec_make(i, &r, stack);
		if (vm_trace_write(w, &r, stack) < 0)
			tap_bail("vm_trace_write %u", i);
		if (every && i % every == every - 1)
			vm_trace_flush(w);
		if (i == n / 2)
			vm_trace_write_drops(w, 1, 7, r.t_exit);
	}
	if (finish && vm_trace_finish(w, 999999999) < 0)
		tap_bail("vm_trace_finish");
	return finish ? NULL : w;
}

/* Read every record, checking each against rec_make: the count or -err. */
static long read_all(struct vm_trace_file *f, bool *same)
{
	const struct vm_trace_rec *r;
	const uint64_t *st;
	struct vm_trace_rec want;
	uint64_t wst[VM_TRACE_STACK_MAX];
	long n = 0;
	int ret;

	*same = true;
	while ((ret = vm_trace_next(f, &r, &st)) == 1) {
		rec_make((unsigned int)n, &want, wst);
		if (memcmp(r, &want, sizeof(want)) != 0 ||
		    memcmp(st, wst, want.nstack * sizeof(uint64_t)) != 0)
			*same = false;
		n++;
	}
	return ret < 0 ? ret : n;
}

static void test_round_trip(void)
{
	const char *path = tpath("rt.trace");
	const struct vm_trace_info *in;
	struct vm_trace_file *f;
	char err[256];
	bool same;

	write_trace(path, 3000, 0, true);
	f = vm_trace_open(path, err, sizeof(err));
	if (!ok(f != NULL, "open a written trace") && printf("# %s\n", err))
		return;
	in = vm_trace_info(f);
	is_int(in->major, VM_TRACE_VERSION_MAJOR, "major");
	is_int(in->minor, VM_TRACE_VERSION_MINOR, "minor");
	is_int(in->ncpus, 4, "ncpus");
	is_int(in->t0, 123456, "t0");
	is_str(in->vm, "demo", "META vm");
	is_str(in->isa, "vmx", "META isa");
	is_str(in->spec, "reason=io,stack=5", "META spec");
	is_str(in->kernel, "off: not root", "META kernel");
	is_int(in->stack, 5, "META stack");
	is_int(in->nregions, 2, "two regions");
	is_str(in->regions[1].name, "hpet", "region name");
	is_hex(in->regions[1].base, 0xfed00000, "region base");
	is_int(in->regions[0].kind, VM_TRACE_REGION_PIO, "region kind");
	ok(!in->complete, "not complete before END is read");
	is_int(read_all(f, &same), 3000, "3000 records read");
	ok(same, "records and stacks as written");
	ok(in->complete, "complete after END");
	is_int(in->records, 3000, "info->records");
	is_int(in->dropped, 7, "info->dropped from DROPS");
	is_int(in->t_end, 999999999, "t_end from END");
	is_int(read_all(f, &same), 0, "at the end, next says 0 again");

	ok(vm_trace_rewind(f) == 0, "rewind");
	ok(!in->complete && in->records == 0 && in->dropped == 0,
	   "rewind resets what END and DROPS said");
	is_int(read_all(f, &same), 3000, "second pass reads 3000 records");
	ok(same && in->complete && in->dropped == 7, "second pass the same");
	vm_trace_close(f);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		tap_bail("open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n)
		tap_bail("read %s", path);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
		tap_bail("write %s", path);
}

static void test_meta_text(void)
{
	size_t len;
	char *b = slurp(tpath("rt.trace"), &len);
	char *m = memmem(b, len, "vm=demo\n", 8);

	ok(m != NULL, "META holds vm=demo");
	ok(m && strstr(m, "\nncpus=4\n") && strstr(m, "\nisa=vmx\n") &&
		   strstr(m, "\nkernel=off: not root\n") &&
		   strstr(m, "\nstack=5\n"),
	   "META holds ncpus, isa, kernel and stack");
	ok(m && strstr(m, "\nstart=1") && strstr(m, "\nhost="),
	   "META holds start and host");
	free(b);
}

/* The offsets of the chunks of a file image, up to max. */
static int chunks(const char *b, size_t len, size_t *off, int max)
{
	struct vm_trace_chunk c;
	size_t o = sizeof(struct vm_trace_header);
	int n = 0;

	while (o + sizeof(c) <= len && n < max) {
		memcpy(&c, b + o, sizeof(c));
		off[n++] = o;
		o += sizeof(c) + c.len;
	}
	return n;
}

static uint32_t chunk_type(const char *b, size_t off)
{
	struct vm_trace_chunk c;

	memcpy(&c, b + off, sizeof(c));
	return c.type;
}

/* Open and read a file cut at `cut`: a clean partial read or an error. */
static bool cut_ok(const char *full, size_t cut, bool boundary,
		   unsigned int *clean)
{
	const char *path = tpath("cut.trace");
	struct vm_trace_file *f;
	char err[256];
	bool same;
	long n;

	spit(path, full, cut);
	if (!(f = vm_trace_open(path, err, sizeof(err))))
		return strstr(err, "bad magic") || strstr(err, "at byte ");
	n = read_all(f, &same);
	if (n >= 0) {
		(*clean)++;
		same = same && !vm_trace_info(f)->complete;
	} else {
		same = same && !boundary &&
		       strstr(vm_trace_error(f), "corrupt/truncated at byte ");
	}
	vm_trace_close(f);
	return same;
}

static void test_cuts(void)
{
	const char *path = tpath("small.trace");
	size_t len, off[64], cut, bad = 0;
	unsigned int clean = 0;
	int nc, i;
	char *b;
	bool boundary;

	write_trace(path, 40, 8, true);
	b = slurp(path, &len);
	nc = chunks(b, len, off, 64);
	for (cut = 0; cut < len; cut++) {
		boundary = false;
		for (i = 3; i < nc; i++) /* past FIELDS, META, REGIONS */
			boundary |= off[i] == cut;
		if (!cut_ok(b, cut, boundary, &clean)) {
			if (bad++ < 5)
				printf("# cut at %zu went wrong\n", cut);
		}
	}
	is_int(bad, 0,
	       "every cut of %zu bytes reads cleanly or names the "
	       "offset",
	       len);
	ok(clean >= (unsigned int)nc - 3,
	   "cuts at chunk boundaries read cleanly (%u clean reads)", clean);
	free(b);
}

static void test_incomplete(void)
{
	const char *path = tpath("live.trace");
	struct vm_trace_writer *w = write_trace(path, 100, 0, false);
	struct vm_trace_file *f;
	char err[256];
	bool same;

	is_int(vm_trace_written(w), 100, "vm_trace_written");
	is_int(vm_trace_flush(w), 0, "flush");
	f = vm_trace_open(path, err, sizeof(err));
	ok(f != NULL, "a trace still being written opens");
	if (f) {
		is_int(read_all(f, &same), 100, "its 100 records read");
		ok(same && !vm_trace_info(f)->complete, "said incomplete");
		is_int(vm_trace_info(f)->dropped, 7, "its drops counted");
		vm_trace_close(f);
	}
	is_int(vm_trace_finish(w, 5), 0, "finish");
}

static void expect_open_err(const char *path, const char *want,
			    const char *what)
{
	struct vm_trace_file *f;
	char err[256] = "";
	char full[512];

	snprintf(full, sizeof(full), "%s: %s", path, want);
	f = vm_trace_open(path, err, sizeof(err));
	ok(f == NULL && errno == EINVAL, "%s refused", what);
	is_str(err, full, "%s: message", what);
	vm_trace_close(f);
}

static void put_header(char *b, uint16_t major, uint16_t minor, uint32_t hsize,
		       uint32_t rsize)
{
	struct vm_trace_header h = { .major = major,
				     .minor = minor,
				     .header_size = hsize,
				     .rec_size = rsize };

	memcpy(h.magic, VM_TRACE_MAGIC, 8);
	memcpy(b, &h, sizeof(h));
}

static void test_bad_headers(void)
{
	const char *path = tpath("bad.trace");
	char err[256];
	char b[256] = { 0 };
	size_t len;
	char *full = slurp(tpath("rt.trace"), &len);
	struct vm_trace_file *f;

	spit(path, "VITRO", 5);
	expect_open_err(path, "not a vitro trace file (bad magic)",
			"a 5-byte file");
	memcpy(b, full, 256);
	b[3] = 'X';
	spit(path, b, 256);
	expect_open_err(path, "not a vitro trace file (bad magic)",
			"a wrong magic");
	put_header(b, 2, 3, 64, 64);
	spit(path, b, 256);
	expect_open_err(path,
			"trace format version 2.3 is newer than this vitro "
			"reads (up to 1.0); use a newer vitro",
			"major 2");
	put_header(b, 1, 0, 32, 64);
	spit(path, b, 256);
	expect_open_err(path, "header size 32 is not 64 or more",
			"header_size 32");
	ok(vm_trace_open(tpath("nonexistent"), err, sizeof(err)) == NULL &&
		   errno == ENOENT && strstr(err, "nonexistent: No such"),
	   "a missing file: ENOENT, named");

	/* A newer minor with a bigger header and record still reads. */
	memcpy(full + 10, &(uint16_t){ 7 }, 2);
	spit(path, full, len);
	f = vm_trace_open(path, err, sizeof(err));
	ok(f && vm_trace_info(f)->minor == 7, "minor 7 of major 1 opens");
	vm_trace_close(f);
	free(full);
}

/* A file of header, FIELDS (as given) and META, then END of 0. */
static void fields_file(const char *path, const struct vm_trace_field *fl,
			size_t nfl, uint32_t rec_size)
{
	char b[4096] = { 0 };
	struct vm_trace_chunk c;
	struct vm_trace_end e = { 0 };
	size_t o = 64;

	put_header(b, 1, 0, 64, rec_size);
	c = (struct vm_trace_chunk){ VM_TRACE_CHUNK_FIELDS,
				     (uint32_t)(nfl * sizeof(*fl)) };
	memcpy(b + o, &c, 8);
	memcpy(b + o + 8, fl, c.len);
	o += 8 + c.len;
	c = (struct vm_trace_chunk){ VM_TRACE_CHUNK_META, 8 };
	memcpy(b + o, &c, 8);
	memcpy(b + o + 8, "vm=hand\n", 8);
	o += 16;
	c = (struct vm_trace_chunk){ VM_TRACE_CHUNK_END, sizeof(e) };
	memcpy(b + o, &c, 8);
	memcpy(b + o + 8, &e, sizeof(e));
	spit(path, b, o + 8 + sizeof(e));
}

static void test_fields(void)
{
	const char *path = tpath("fields.trace");
	struct vm_trace_field fl[16];
	struct vm_trace_file *f;
	size_t len, i, n;
	char err[256];
	char *full = slurp(tpath("rt.trace"), &len);

	/* The writer's own FIELDS: first chunk after the header. */
	n = ((struct vm_trace_chunk *)(full + 64))->len / sizeof(fl[0]);
	ok(n == 15, "FIELDS lists the 15 members of struct vm_trace_rec");
	memcpy(fl, full + 72, n * sizeof(fl[0]));
	for (i = 0; i < n && strcmp(fl[i].name, "cpl"); i++)
		;
	ok(i < n && fl[i].offset == offsetof(struct vm_trace_rec, cpl) &&
		   fl[i].size == 1,
	   "FIELDS gives cpl's offset and size");
	free(full);

	fields_file(path, fl, n, 64);
	f = vm_trace_open(path, err, sizeof(err));
	ok(f && vm_trace_info(f)->complete == false, "hand-made FIELDS opens");
	vm_trace_close(f);

	fl[i].offset = 40;
	fields_file(path, fl, n, 64);
	expect_open_err(path,
			"record field 'cpl' is at offset 40 size 1; this "
			"vitro reads it at offset 47 size 1",
			"a moved field");
	fl[i].offset = 47;
	fields_file(path, fl + 1, n - 1, 64);
	expect_open_err(path,
			"its records have no field 't_exit'; this vitro "
			"cannot read them",
			"a missing field");
	fields_file(path, fl, n, 48);
	expect_open_err(path,
			"record field 'size' lies past the record size 48",
			"rec_size 48");
	fields_file(path, fl, n, 128);
	f = vm_trace_open(path, err, sizeof(err));
	ok(f != NULL, "a larger rec_size whose FIELDS match opens");
	vm_trace_close(f);
}

/* Insert chunk (type, len of zeros) at off of a file image. */
static char *insert_chunk(const char *b, size_t len, size_t off, uint32_t type,
			  uint32_t clen, size_t *nlen)
{
	struct vm_trace_chunk c = { type, clen };
	char *n = calloc(1, len + 8 + clen);

	memcpy(n, b, off);
	memcpy(n + off, &c, 8);
	memcpy(n + off + 8 + clen, b + off, len - off);
	*nlen = len + 8 + clen;
	return n;
}

/* Read a file image: the record count or -EINVAL with *err. */
static long read_image(const char *b, size_t len, const char **msg)
{
	static char err[512];
	const char *path = tpath("img.trace");
	struct vm_trace_file *f;
	bool same;
	long n;

	spit(path, b, len);
	if (!(f = vm_trace_open(path, err, sizeof(err)))) {
		*msg = err;
		return -errno;
	}
	n = read_all(f, &same);
	snprintf(err, sizeof(err), "%s", vm_trace_error(f));
	*msg = err;
	vm_trace_close(f);
	return n;
}

static void test_chunks(void)
{
	size_t len, nlen, off[64];
	char *b = slurp(tpath("small.trace"), &len), *n;
	int nc = chunks(b, len, off, 64), i;
	const char *msg;
	struct vm_trace_chunk c;
	uint64_t recs;

	ok(chunk_type(b, off[0]) == VM_TRACE_CHUNK_FIELDS &&
		   chunk_type(b, off[1]) == VM_TRACE_CHUNK_META &&
		   chunk_type(b, off[2]) == VM_TRACE_CHUNK_REGIONS &&
		   chunk_type(b, off[nc - 1]) == VM_TRACE_CHUNK_END,
	   "FIELDS, META, REGIONS first; END last");
	is_int(read_image(b, len, &msg), 40, "the small trace reads");

	n = insert_chunk(b, len, off[4], 99, 13, &nlen);
	is_int(read_image(n, nlen, &msg), 40, "an unknown chunk is skipped");
	free(n);
	n = insert_chunk(b, len, off[0], 77, 3, &nlen);
	is_int(read_image(n, nlen, &msg), 40,
	       "an unknown chunk before FIELDS is skipped");
	free(n);

	n = insert_chunk(b, len, off[0], VM_TRACE_CHUNK_RECORDS, 0, &nlen);
	is_int(read_image(n, nlen, &msg), -EINVAL, "RECORDS before FIELDS");
	like_msg(msg, "corrupt/truncated at byte 64: no FIELDS chunk before "
		      "the records");
	free(n);

	memcpy(&recs, b + len - 24, 8);
	is_int(recs, 40, "END counts 40 records");
	recs = 41;
	memcpy(b + len - 24, &recs, 8);
	is_int(read_image(b, len, &msg), -EINVAL, "END that miscounts");
	like_msg(msg, "END counts 41 records but the file holds 40");
	recs = 40;
	memcpy(b + len - 24, &recs, 8);

	for (i = 3; i < nc && chunk_type(b, off[i]) != VM_TRACE_CHUNK_RECORDS;
	     i++)
		;
	memcpy(&c, b + off[i], 8);
	c.len = VM_TRACE_CHUNK_MAX + 1;
	memcpy(b + off[i], &c, 8);
	is_int(read_image(b, len, &msg), -EINVAL, "a chunk over the limit");
	like_msg(msg, "is over the limit");
	c.len = 4000000;
	memcpy(b + off[i], &c, 8);
	is_int(read_image(b, len, &msg), -EINVAL, "a chunk past the end");
	like_msg(msg, "runs past the end of the file");
	c.len = 64 + 64 + 8 - 1; /* record 1 has one return address */
	memcpy(b + off[i], &c, 8);
	is_int(read_image(b, len, &msg), -EINVAL, "a record past its chunk");
	like_msg(msg, "return addresses run past its chunk");
	c.len = 40;
	memcpy(b + off[i], &c, 8);
	is_int(read_image(b, len, &msg), -EINVAL, "a chunk ending in a record");
	like_msg(msg, "record cut short by its chunk's end (40 of 64 bytes)");
	free(b);

	b = slurp(tpath("small.trace"), &len);
	b[off[i] + 8 + offsetof(struct vm_trace_rec, nstack)] = 33;
	is_int(read_image(b, len, &msg), -EINVAL, "nstack 33");
	like_msg(msg, "record has 33 return addresses, more than 32");
	free(b);
}

static void test_write_errors(void)
{
	struct vm_trace_writer *w;
	struct vm_trace_rec r = { .nstack = VM_TRACE_STACK_MAX + 1 };
	uint64_t st[VM_TRACE_STACK_MAX + 1] = { 0 };
	char err[256] = "";

	w = vm_trace_create(tpath("no/such/dir"), &meta, err, sizeof(err));
	ok(w == NULL && errno == ENOENT && strstr(err, "cannot create"),
	   "create in a missing directory fails: %s", err);
	if (access("/dev/full", W_OK) == 0) {
		w = vm_trace_create("/dev/full", &meta, err, sizeof(err));
		ok(w == NULL && errno == ENOSPC &&
			   strstr(err, "/dev/full: cannot write"),
		   "a full disk: ENOSPC: %s", err);
	} else {
		tap_skip("no writable /dev/full");
	}
	w = vm_trace_create(tpath("e.trace"), &meta, err, sizeof(err));
	is_int(vm_trace_write(w, &r, st), -EINVAL, "nstack 33 refused");
	r.nstack = 32;
	is_int(vm_trace_write(w, &r, st), 0, "nstack 32 taken");
	is_int(vm_trace_written(w), 1, "one record written");
	is_int(vm_trace_finish(w, 0), 0, "finish");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_speed(void)
{
	const char *path = tpath("big.trace");
	const unsigned int n = 1000000;
	struct vm_trace_writer *w;
	struct vm_trace_file *f;
	const struct vm_trace_rec *rp;
	const uint64_t *st;
	struct vm_trace_rec r = { .count = 1 };
	char err[256];
	uint64_t t, sum = 0;
	unsigned int i, got = 0;

	w = vm_trace_create(path, &meta, err, sizeof(err));
	for (i = 0; i < n; i++) {
		r.t_exit = i;
		vm_trace_write(w, &r, NULL);
	}
	vm_trace_finish(w, n);
	f = vm_trace_open(path, err, sizeof(err));
	t = now_ns();
	while (f && vm_trace_next(f, &rp, &st) == 1) {
		sum += rp->t_exit;
		got++;
	}
	t = now_ns() - t;
	ok(got == n && sum == (uint64_t)n * (n - 1) / 2 &&
		   vm_trace_info(f)->complete,
	   "1M records read back");
	tap_diag("read %u records in %.1f ms: %.1f M records/s", got, t / 1e6,
		 t ? got * 1e3 / t : 0.0);
	vm_trace_close(f);
	unlink(path);
}

static void cleanup(void)
{
	static const char *const names[] = {
		"rt.trace",  "cut.trace",    "small.trace", "live.trace",
		"bad.trace", "fields.trace", "img.trace",   "e.trace",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tpath(names[i]));
	rmdir(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/vt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp %s", dir);
	test_round_trip();
	test_meta_text();
	test_cuts();
	test_incomplete();
	test_bad_headers();
	test_fields();
	test_chunks();
	test_write_errors();
	test_speed();
	cleanup();
	return tap_done();
}
