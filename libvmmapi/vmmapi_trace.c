/*
 * vmmapi_trace.c: VM-exit trace files (writer and checking reader), exit
 * reason names, and trace specs (vm_trace.h).  A writer, reader or filter
 * is used by one thread at a time; the name tables are constant.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "libvmmapi/vm_trace.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "trace files are little-endian and written as in memory");

#define VT_WBUF_DATA (64u << 10) /* RECORDS payload per chunk, at most */
#define VT_RBUF (256u << 10) /* the reader's buffer */
#define VT_REC_SIZE_MAX 4096u /* a larger rec_size is corruption */
#define VT_STACK_BYTES (VM_TRACE_STACK_MAX * sizeof(uint64_t))

/* KVM_EXIT_* numbers (KVM's ABI; vmm/ alone includes <linux/kvm.h>). */
#define VT_KVM_EXIT_IO 2
#define VT_KVM_EXIT_MMIO 6
#define VT_KVM_EXIT_X86_RDMSR 29
#define VT_KVM_EXIT_X86_WRMSR 30

#define VT_FIELD(m)                                                     \
	{                                                               \
		.name = #m, .offset = offsetof(struct vm_trace_rec, m), \
		.size = sizeof(((struct vm_trace_rec *)0)->m)           \
	}

/* The record layout: written as FIELDS, and what the reader needs. */
static const struct vm_trace_field vt_fields[] = {
	VT_FIELD(t_exit), VT_FIELD(t_entry), VT_FIELD(rip),    VT_FIELD(addr),
	VT_FIELD(data),	  VT_FIELD(reason),  VT_FIELD(vcpu),   VT_FIELD(source),
	VT_FIELD(cpl),	  VT_FIELD(size),    VT_FIELD(flags),  VT_FIELD(nstack),
	VT_FIELD(pad),	  VT_FIELD(count),   VT_FIELD(region),
};

#define VT_NFIELDS (sizeof(vt_fields) / sizeof(vt_fields[0]))

/* Writing. */

struct vm_trace_writer {
	int fd; /* the file, write-only */
	int err; /* the first write error (-errno), sticky */
	uint64_t records; /* records accepted */
	uint64_t dropped; /* records lost, from vm_trace_write_drops */
	size_t len; /* bytes used in buf, its chunk header included */
	uint8_t buf[sizeof(struct vm_trace_chunk) + VT_WBUF_DATA];
};

static uint64_t vt_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int vt_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int vt_write_chunk(struct vm_trace_writer *w, uint32_t type,
			  const void *data, size_t len)
{
	struct vm_trace_chunk c = { .type = type, .len = (uint32_t)len };
	int r;

	if (w->err)
		return w->err;
	r = vt_write_all(w->fd, &c, sizeof(c));
	if (r == 0 && len > 0)
		r = vt_write_all(w->fd, data, len);
	if (r < 0)
		w->err = r;
	return r;
}

/* Append "key=value\n" with newlines in value made spaces. */
static void vt_meta_add(char *buf, size_t size, const char *key,
			const char *fmt, ...)
{
	size_t orig = strlen(buf), used, start;
	va_list ap;
	int n;

	n = snprintf(buf + orig, size - orig, "%s=", key);
	if (n < 0 || (size_t)n >= size - orig) {
		buf[orig] = '\0'; /* a line too long is left out */
		return;
	}
	used = start = orig + (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 > size - used) {
		buf[orig] = '\0';
		return;
	}
	for (used += (size_t)n; start < used; start++)
		if (buf[start] == '\n')
			buf[start] = ' ';
	strcpy(buf + used, "\n");
}

/* CLOCK_REALTIME at t0, from the two clocks read now. */
static uint64_t vt_start_realtime(uint64_t t0)
{
	uint64_t mono = vt_now(CLOCK_MONOTONIC), real = vt_now(CLOCK_REALTIME);

	if (t0 == 0 || t0 > mono || mono - t0 > real)
		return real;
	return real - (mono - t0);
}

static void vt_meta_text(const struct vm_trace_meta *m, char *buf, size_t size)
{
	struct utsname u;

	buf[0] = '\0';
	vt_meta_add(buf, size, "vm", "%s", m->vm ? m->vm : "");
	vt_meta_add(buf, size, "ncpus", "%u", m->ncpus);
	vt_meta_add(buf, size, "isa", "%s", m->isa ? m->isa : "");
	vt_meta_add(buf, size, "spec", "%s", m->spec ? m->spec : "");
	vt_meta_add(buf, size, "kernel", "%s", m->kernel ? m->kernel : "");
	vt_meta_add(buf, size, "stack", "%u", m->stack);
	vt_meta_add(buf, size, "start", "%" PRIu64, vt_start_realtime(m->t0));
	if (uname(&u) == 0)
		vt_meta_add(buf, size, "host", "%s %s", u.nodename, u.release);
}

static int vt_write_prelude(struct vm_trace_writer *w,
			    const struct vm_trace_meta *m)
{
	struct vm_trace_header h = {
		.major = VM_TRACE_VERSION_MAJOR,
		.minor = VM_TRACE_VERSION_MINOR,
		.header_size = sizeof(struct vm_trace_header),
		.rec_size = sizeof(struct vm_trace_rec),
		.ncpus = m->ncpus,
		.t0 = m->t0,
	};
	char meta[2048];
	int r;

	memcpy(h.magic, VM_TRACE_MAGIC, sizeof(h.magic));
	if ((r = vt_write_all(w->fd, &h, sizeof(h))) < 0)
		return r;
	vt_write_chunk(w, VM_TRACE_CHUNK_FIELDS, vt_fields, sizeof(vt_fields));
	vt_meta_text(m, meta, sizeof(meta));
	vt_write_chunk(w, VM_TRACE_CHUNK_META, meta, strlen(meta));
	return vt_write_chunk(w, VM_TRACE_CHUNK_REGIONS, m->regions,
			      m->nregions * sizeof(*m->regions));
}

struct vm_trace_writer *vm_trace_create(const char *path,
					const struct vm_trace_meta *meta,
					char *err, size_t errlen)
{
	struct vm_trace_writer *w;
	int r;

	if (!(w = calloc(1, sizeof(*w)))) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->len = sizeof(struct vm_trace_chunk);
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path,
			 strerror(-r));
		free(w);
		errno = -r;
		return NULL;
	}
	if ((r = vt_write_prelude(w, meta)) < 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
			 strerror(-r));
		close(w->fd);
		free(w);
		errno = -r;
		return NULL;
	}
	return w;
}

static int vt_flush_records(struct vm_trace_writer *w)
{
	struct vm_trace_chunk c = {
		.type = VM_TRACE_CHUNK_RECORDS,
		.len = (uint32_t)(w->len - sizeof(c)),
	};
	int r;

	if (w->err || c.len == 0)
		return w->err;
	memcpy(w->buf, &c, sizeof(c));
	r = vt_write_all(w->fd, w->buf, w->len);
	w->len = sizeof(c);
	if (r < 0)
		w->err = r;
	return r;
}

int vm_trace_write(struct vm_trace_writer *w, const struct vm_trace_rec *rec,
		   const uint64_t *stack)
{
	size_t nst = rec->nstack * sizeof(uint64_t);
	int r;

	if (rec->nstack > VM_TRACE_STACK_MAX || (rec->nstack && !stack))
		return -EINVAL;
	if (w->err)
		return w->err;
	if (w->len + sizeof(*rec) + nst > sizeof(w->buf) &&
	    (r = vt_flush_records(w)) < 0)
		return r;
	memcpy(w->buf + w->len, rec, sizeof(*rec));
	if (nst)
		memcpy(w->buf + w->len + sizeof(*rec), stack, nst);
	w->len += sizeof(*rec) + nst;
	w->records++;
	return 0;
}

int vm_trace_write_drops(struct vm_trace_writer *w, unsigned int vcpu,
			 uint64_t count, uint64_t t)
{
	struct vm_trace_drops d = { .vcpu = vcpu, .count = count, .t = t };
	int r;

	/* After the records that came before the loss was seen. */
	if ((r = vt_flush_records(w)) < 0)
		return r;
	w->dropped += count;
	return vt_write_chunk(w, VM_TRACE_CHUNK_DROPS, &d, sizeof(d));
}

int vm_trace_flush(struct vm_trace_writer *w)
{
	return vt_flush_records(w);
}

uint64_t vm_trace_written(const struct vm_trace_writer *w)
{
	return w->records;
}

int vm_trace_finish(struct vm_trace_writer *w, uint64_t t_end)
{
	struct vm_trace_end e = {
		.records = w->records,
		.dropped = w->dropped,
		.t_end = t_end,
	};
	int r;

	vt_flush_records(w);
	r = vt_write_chunk(w, VM_TRACE_CHUNK_END, &e, sizeof(e));
	if (close(w->fd) < 0 && r == 0)
		r = -errno;
	free(w);
	return r;
}

/* Reading. */

struct vm_trace_file {
	int fd; /* the file, read-only */
	char *path; /* for messages */
	uint64_t size; /* file size at open */
	uint32_t header_size; /* offset of the first chunk */
	uint32_t rec_size; /* bytes per record before its stack */
	uint64_t off; /* file offset of the next byte to parse */
	uint64_t chunk_end; /* end of the RECORDS chunk being read */
	bool done; /* END or the end of the file was reached */
	int error; /* sticky -errno after a corrupt record or I/O error */
	uint8_t *buf; /* read buffer: file bytes from buf_off */
	uint64_t buf_off; /* file offset of buf[0] */
	size_t buf_len; /* valid bytes in buf */
	struct vm_trace_info info;
	struct vm_trace_region *regions; /* info.regions */
	struct vm_trace_rec rec; /* the record vm_trace_next returned */
	uint64_t stack[VM_TRACE_STACK_MAX]; /* and its stack */
	char err[512]; /* the last error */
};

static int vt_fail(struct vm_trace_file *f, int r, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(f->err, sizeof(f->err), "%s: ", f->path);
	n = strlen(f->err);
	va_start(ap, fmt);
	vsnprintf(f->err + n, sizeof(f->err) - n, fmt, ap);
	va_end(ap);
	f->error = r;
	return r;
}

#define vt_corrupt(f, off, fmt, ...)                                       \
	vt_fail(f, -EINVAL, "corrupt/truncated at byte %" PRIu64 ": " fmt, \
		(uint64_t)(off), ##__VA_ARGS__)

/*
 * Make the n bytes at f->off contiguous in the buffer: 0 with *p, 1 when
 * the file ends first, or -errno.
 */
static int vt_peek(struct vm_trace_file *f, size_t n, const uint8_t **p)
{
	size_t keep = 0;
	ssize_t r;

	if (f->off < f->buf_off || f->off + n > f->buf_off + f->buf_len) {
		if (f->off >= f->buf_off && f->off < f->buf_off + f->buf_len)
			keep = f->buf_off + f->buf_len - f->off;
		if (keep)
			memmove(f->buf, f->buf + (f->off - f->buf_off), keep);
		f->buf_off = f->off;
		f->buf_len = keep;
	}
	while (f->buf_len < n) {
		r = pread(f->fd, f->buf + f->buf_len, VT_RBUF - f->buf_len,
			  (off_t)(f->buf_off + f->buf_len));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vt_fail(f, -errno, "read: %s", strerror(errno));
		if (r == 0)
			return 1;
		f->buf_len += (size_t)r;
	}
	*p = f->buf + (f->off - f->buf_off);
	return 0;
}

/* A chunk's whole payload, for the small chunks read at open. */
static int vt_payload(struct vm_trace_file *f, uint64_t off, uint32_t len,
		      uint8_t **out)
{
	uint8_t *p = malloc(len + 1u);
	size_t got = 0;
	ssize_t r;

	if (!p)
		return vt_fail(f, -ENOMEM, "out of memory");
	while (got < len) {
		r = pread(f->fd, p + got, len - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(p);
			if (r == 0)
				return vt_corrupt(f, off + got, "file ends");
			return vt_fail(f, -errno, "read: %s", strerror(errno));
		}
		got += (size_t)r;
	}
	p[len] = '\0';
	*out = p;
	return 0;
}

/*
 * The chunk header at f->off, checked against the limit and the file's
 * end: 0 with *c, 1 when the file ends there, or -EINVAL.
 */
static int vt_chunk_head(struct vm_trace_file *f, struct vm_trace_chunk *c)
{
	uint64_t left = f->size - f->off;
	const uint8_t *p;
	int r;

	if (f->off >= f->size)
		return 1;
	if (left < sizeof(*c))
		return vt_corrupt(f, f->off,
				  "chunk header cut short (%" PRIu64
				  " of %zu bytes)",
				  left, sizeof(*c));
	if ((r = vt_peek(f, sizeof(*c), &p)) != 0)
		return r < 0 ? r : vt_corrupt(f, f->off, "file ends");
	memcpy(c, p, sizeof(*c));
	if (c->len > VM_TRACE_CHUNK_MAX)
		return vt_corrupt(f, f->off,
				  "chunk length %u is over the limit of %u",
				  c->len, VM_TRACE_CHUNK_MAX);
	if (c->len > left - sizeof(*c))
		return vt_corrupt(f, f->off,
				  "chunk of type %u and %u bytes runs past the "
				  "end of the file (%" PRIu64 " bytes)",
				  c->type, c->len, f->size);
	return 0;
}

static const struct vm_trace_field *
vt_field_find(const struct vm_trace_field *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(t[i].name, name, sizeof(t[i].name)) == 0)
			return &t[i];
	return NULL;
}

/* Every field this reader uses must be where it reads it. */
static int vt_fields_check(struct vm_trace_file *f,
			   const struct vm_trace_field *t, size_t n)
{
	const struct vm_trace_field *want, *got;

	for (want = vt_fields; want < vt_fields + VT_NFIELDS; want++) {
		if (strcmp(want->name, "pad") == 0)
			continue;
		if (!(got = vt_field_find(t, n, want->name)))
			return vt_fail(f, -EINVAL,
				       "its records have no field '%s'; this "
				       "vitro cannot read them",
				       want->name);
		if (got->offset != want->offset || got->size != want->size)
			return vt_fail(f, -EINVAL,
				       "record field '%s' is at offset %u size "
				       "%u; this vitro reads it at offset %u "
				       "size %u",
				       want->name, got->offset, got->size,
				       want->offset, want->size);
		if (got->offset + got->size > f->rec_size)
			return vt_fail(f, -EINVAL,
				       "record field '%s' lies past the record "
				       "size %u",
				       want->name, f->rec_size);
	}
	return 0;
}

static int vt_read_fields(struct vm_trace_file *f, uint64_t off, uint32_t len)
{
	uint8_t *p;
	int r;

	if (len % sizeof(struct vm_trace_field))
		return vt_corrupt(f, off,
				  "FIELDS of %u bytes is not a whole table of "
				  "%zu-byte entries",
				  len, sizeof(struct vm_trace_field));
	if ((r = vt_payload(f, off + sizeof(struct vm_trace_chunk), len, &p)))
		return r;
	r = vt_fields_check(f, (const struct vm_trace_field *)p,
			    len / sizeof(struct vm_trace_field));
	free(p);
	return r;
}

static void vt_meta_set(struct vm_trace_info *in, const char *key,
			const char *val, int vlen)
{
	if (strcmp(key, "vm") == 0)
		snprintf(in->vm, sizeof(in->vm), "%.*s", vlen, val);
	else if (strcmp(key, "isa") == 0)
		snprintf(in->isa, sizeof(in->isa), "%.*s", vlen, val);
	else if (strcmp(key, "spec") == 0)
		snprintf(in->spec, sizeof(in->spec), "%.*s", vlen, val);
	else if (strcmp(key, "kernel") == 0)
		snprintf(in->kernel, sizeof(in->kernel), "%.*s", vlen, val);
	else if (strcmp(key, "stack") == 0)
		in->stack = (unsigned int)strtoul(val, NULL, 10);
}

static int vt_read_meta(struct vm_trace_file *f, uint64_t off, uint32_t len)
{
	char *text, *line, *eq, *nl, key[32];
	uint8_t *raw;
	int r;

	if ((r = vt_payload(f, off + sizeof(struct vm_trace_chunk), len, &raw)))
		return r;
	text = (char *)raw;
	for (line = text; line < text + len && *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			nl = line + strlen(line);
		eq = memchr(line, '=', (size_t)(nl - line));
		if (eq && eq - line < (long)sizeof(key)) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - line),
				 line);
			vt_meta_set(&f->info, key, eq + 1, (int)(nl - eq - 1));
		}
		if (!*nl)
			break;
	}
	free(text);
	return 0;
}

static int vt_read_regions(struct vm_trace_file *f, uint64_t off, uint32_t len)
{
	size_t n = len / sizeof(struct vm_trace_region), i;
	struct vm_trace_region *v;
	uint8_t *p;
	int r;

	if (len % sizeof(struct vm_trace_region))
		return vt_corrupt(f, off,
				  "REGIONS of %u bytes is not a whole table of "
				  "%zu-byte entries",
				  len, sizeof(struct vm_trace_region));
	if ((r = vt_payload(f, off + sizeof(struct vm_trace_chunk), len, &p)))
		return r;
	v = realloc(f->regions, (f->info.nregions + n + 1) * sizeof(*v));
	if (!v) {
		free(p);
		return vt_fail(f, -ENOMEM, "out of memory");
	}
	memcpy(v + f->info.nregions, p, len);
	free(p);
	for (i = f->info.nregions; i < f->info.nregions + n; i++)
		v[i].name[sizeof(v[i].name) - 1] = '\0';
	f->regions = v;
	f->info.regions = v;
	f->info.nregions += (unsigned int)n;
	return 0;
}

/* The chunks before the first record: FIELDS and META are required. */
static int vt_read_prelude(struct vm_trace_file *f)
{
	bool fields = false, meta = false;
	struct vm_trace_chunk c;
	int r = 0;

	for (;;) {
		if ((r = vt_chunk_head(f, &c)) < 0)
			return r;
		if (r > 0 || c.type == VM_TRACE_CHUNK_RECORDS ||
		    c.type == VM_TRACE_CHUNK_DROPS ||
		    c.type == VM_TRACE_CHUNK_END)
			break;
		if (c.type == VM_TRACE_CHUNK_FIELDS) {
			r = vt_read_fields(f, f->off, c.len);
			fields = true;
		} else if (c.type == VM_TRACE_CHUNK_META) {
			r = vt_read_meta(f, f->off, c.len);
			meta = true;
		} else if (c.type == VM_TRACE_CHUNK_REGIONS) {
			r = vt_read_regions(f, f->off, c.len);
		}
		if (r < 0)
			return r;
		f->off += sizeof(c) + c.len;
	}
	if (!fields || !meta)
		return vt_corrupt(f, f->off, "no %s chunk before the records",
				  fields ? "META" : "FIELDS");
	return 0;
}

static int vt_read_header(struct vm_trace_file *f)
{
	struct vm_trace_header h;
	const uint8_t *p;
	int r;

	if ((r = vt_peek(f, sizeof(h), &p)) < 0)
		return r;
	if (r > 0 || memcmp(p, VM_TRACE_MAGIC, sizeof(h.magic)) != 0)
		return vt_fail(f, -EINVAL,
			       "not a vitro trace file (bad magic)");
	memcpy(&h, p, sizeof(h));
	if (h.major == 0)
		return vt_fail(f, -EINVAL,
			       "trace format version 0.%u was never written "
			       "by vitro",
			       h.minor);
	if (h.major > VM_TRACE_VERSION_MAJOR)
		return vt_fail(f, -EINVAL,
			       "trace format version %u.%u is newer than this "
			       "vitro reads (up to %u.%u); use a newer vitro",
			       h.major, h.minor, VM_TRACE_VERSION_MAJOR,
			       VM_TRACE_VERSION_MINOR);
	if (h.header_size < sizeof(h) || h.header_size > VM_TRACE_CHUNK_MAX)
		return vt_fail(f, -EINVAL, "header size %u is not %zu or more",
			       h.header_size, sizeof(h));
	/* A smaller rec_size fails the FIELDS check, naming a field. */
	if (h.rec_size > VT_REC_SIZE_MAX)
		return vt_fail(f, -EINVAL,
			       "record size %u is over the limit of %u",
			       h.rec_size, VT_REC_SIZE_MAX);
	f->info.major = h.major;
	f->info.minor = h.minor;
	f->info.ncpus = h.ncpus;
	f->info.t0 = h.t0;
	f->header_size = h.header_size;
	f->rec_size = h.rec_size;
	f->off = h.header_size;
	return 0;
}

static struct vm_trace_file *vt_file_alloc(const char *path)
{
	struct vm_trace_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fd = -1;
	f->path = strdup(path);
	f->buf = malloc(VT_RBUF);
	if (!f->path || !f->buf) {
		free(f->path);
		free(f->buf);
		free(f);
		return NULL;
	}
	return f;
}

static int vt_open_fd(struct vm_trace_file *f)
{
	struct stat st;

	f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &st) < 0)
		return vt_fail(f, -errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vt_fail(f, -EINVAL, "not a regular file");
	f->size = (uint64_t)st.st_size;
	return 0;
}

struct vm_trace_file *vm_trace_open(const char *path, char *err, size_t errlen)
{
	struct vm_trace_file *f = vt_file_alloc(path);
	int r;

	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	if ((r = vt_open_fd(f)) == 0 && (r = vt_read_header(f)) == 0)
		r = vt_read_prelude(f);
	if (r < 0) {
		snprintf(err, errlen, "%s", f->err);
		vm_trace_close(f);
		errno = -r;
		return NULL;
	}
	f->off = f->header_size;
	return f;
}

const struct vm_trace_info *vm_trace_info(const struct vm_trace_file *f)
{
	return &f->info;
}

const char *vm_trace_error(const struct vm_trace_file *f)
{
	return f->err;
}

static int vt_read_drops(struct vm_trace_file *f, uint64_t off, uint32_t len)
{
	struct vm_trace_drops d;
	const uint8_t *p;
	int r;

	if (len < sizeof(d))
		return vt_corrupt(f, off, "DROPS of %u bytes, not %zu", len,
				  sizeof(d));
	f->off = off + sizeof(struct vm_trace_chunk);
	if ((r = vt_peek(f, sizeof(d), &p)) != 0)
		return r < 0 ? r : vt_corrupt(f, f->off, "file ends");
	memcpy(&d, p, sizeof(d));
	f->info.dropped += d.count;
	f->off += len;
	return 0;
}

static int vt_read_end(struct vm_trace_file *f, uint64_t off, uint32_t len)
{
	struct vm_trace_end e;
	const uint8_t *p;
	int r;

	if (len < sizeof(e))
		return vt_corrupt(f, off, "END of %u bytes, not %zu", len,
				  sizeof(e));
	f->off = off + sizeof(struct vm_trace_chunk);
	if ((r = vt_peek(f, sizeof(e), &p)) != 0)
		return r < 0 ? r : vt_corrupt(f, f->off, "file ends");
	memcpy(&e, p, sizeof(e));
	if (e.records != f->info.records)
		return vt_corrupt(f, off,
				  "END counts %" PRIu64
				  " records but the file holds %" PRIu64,
				  e.records, f->info.records);
	if (e.dropped > f->info.dropped)
		f->info.dropped = e.dropped;
	f->info.t_end = e.t_end;
	f->info.complete = true;
	f->done = true;
	return 0;
}

/* Pass the chunk at f->off: 0 to go on, 1 at the end, or -EINVAL. */
static int vt_next_chunk(struct vm_trace_file *f)
{
	struct vm_trace_chunk c;
	uint64_t off = f->off;
	int r;

	if ((r = vt_chunk_head(f, &c)) != 0) {
		f->done = r > 0;
		return r;
	}
	switch (c.type) {
	case VM_TRACE_CHUNK_RECORDS:
		f->off = off + sizeof(c);
		f->chunk_end = f->off + c.len;
		return 0;
	case VM_TRACE_CHUNK_DROPS:
		return vt_read_drops(f, off, c.len);
	case VM_TRACE_CHUNK_END:
		r = vt_read_end(f, off, c.len);
		return r < 0 ? r : 1;
	default: /* read at open, or a newer minor's */
		f->off = off + sizeof(c) + c.len;
		return 0;
	}
}

static int vt_next_rec(struct vm_trace_file *f)
{
	uint64_t left = f->chunk_end - f->off;
	const uint8_t *p;
	size_t need;
	int r;

	if (left < f->rec_size)
		return vt_corrupt(
			f, f->off,
			"record cut short by its chunk's end (%" PRIu64
			" of %u bytes)",
			left, f->rec_size);
	if ((r = vt_peek(f, f->rec_size, &p)) != 0)
		return r < 0 ? r : vt_corrupt(f, f->off, "file ends");
	memcpy(&f->rec, p, sizeof(f->rec));
	if (f->rec.nstack > VM_TRACE_STACK_MAX)
		return vt_corrupt(
			f, f->off,
			"record has %u return addresses, more than %u",
			f->rec.nstack, VM_TRACE_STACK_MAX);
	need = f->rec_size + f->rec.nstack * sizeof(uint64_t);
	if (need > left)
		return vt_corrupt(f, f->off,
				  "record's %u return addresses run past its "
				  "chunk",
				  f->rec.nstack);
	if ((r = vt_peek(f, need, &p)) != 0)
		return r < 0 ? r : vt_corrupt(f, f->off, "file ends");
	memcpy(f->stack, p + f->rec_size, need - f->rec_size);
	f->off += need;
	f->info.records++;
	return 1;
}

int vm_trace_next(struct vm_trace_file *f, const struct vm_trace_rec **rec,
		  const uint64_t **stack)
{
	int r;

	if (f->error)
		return f->error;
	while (f->off >= f->chunk_end) {
		if (f->done)
			return 0;
		if ((r = vt_next_chunk(f)) < 0)
			return r;
		if (r > 0)
			return 0;
	}
	if ((r = vt_next_rec(f)) < 0)
		return r;
	*rec = &f->rec;
	*stack = f->stack;
	return 1;
}

int vm_trace_rewind(struct vm_trace_file *f)
{
	f->off = f->header_size;
	f->chunk_end = 0;
	f->done = false;
	f->error = 0;
	f->err[0] = '\0';
	f->info.records = 0;
	f->info.dropped = 0;
	f->info.t_end = 0;
	f->info.complete = false;
	return 0;
}

void vm_trace_close(struct vm_trace_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->regions);
	free(f->buf);
	free(f->path);
	free(f);
}

/* Names. */

/* KVM_EXIT_* by number, KVM's names in lower case. */
static const char *const vt_user_names[] = {
	[0] = "unknown",
	[1] = "exception",
	[2] = "io",
	[3] = "hypercall",
	[4] = "debug",
	[5] = "hlt",
	[6] = "mmio",
	[7] = "irq_window_open",
	[8] = "shutdown",
	[9] = "fail_entry",
	[10] = "intr",
	[11] = "set_tpr",
	[12] = "tpr_access",
	[13] = "s390_sieic",
	[14] = "s390_reset",
	[15] = "dcr",
	[16] = "nmi",
	[17] = "internal_error",
	[18] = "osi",
	[19] = "papr_hcall",
	[20] = "s390_ucontrol",
	[21] = "watchdog",
	[22] = "s390_tsch",
	[23] = "epr",
	[24] = "system_event",
	[25] = "s390_stsi",
	[26] = "ioapic_eoi",
	[27] = "hyperv",
	[28] = "arm_nisv",
	[29] = "x86_rdmsr",
	[30] = "x86_wrmsr",
	[31] = "dirty_ring_full",
	[32] = "ap_reset_hold",
	[33] = "x86_bus_lock",
	[34] = "xen",
	[35] = "riscv_sbi",
	[36] = "riscv_csr",
	[37] = "notify",
	[38] = "loongarch_iocsr",
	[39] = "memory_fault",
	[40] = "tdx",
};

/* VMX basic exit reasons (SDM vol. 3 appendix C), as Linux names them. */
static const char *const vt_vmx_names[] = {
	[0] = "EXCEPTION_NMI",
	[1] = "EXTERNAL_INTERRUPT",
	[2] = "TRIPLE_FAULT",
	[3] = "INIT_SIGNAL",
	[4] = "SIPI_SIGNAL",
	[5] = "IO_SMI",
	[6] = "OTHER_SMI",
	[7] = "INTERRUPT_WINDOW",
	[8] = "NMI_WINDOW",
	[9] = "TASK_SWITCH",
	[10] = "CPUID",
	[11] = "GETSEC",
	[12] = "HLT",
	[13] = "INVD",
	[14] = "INVLPG",
	[15] = "RDPMC",
	[16] = "RDTSC",
	[17] = "RSM",
	[18] = "VMCALL",
	[19] = "VMCLEAR",
	[20] = "VMLAUNCH",
	[21] = "VMPTRLD",
	[22] = "VMPTRST",
	[23] = "VMREAD",
	[24] = "VMRESUME",
	[25] = "VMWRITE",
	[26] = "VMOFF",
	[27] = "VMON",
	[28] = "CR_ACCESS",
	[29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION",
	[31] = "MSR_READ",
	[32] = "MSR_WRITE",
	[33] = "INVALID_STATE",
	[34] = "MSR_LOAD_FAIL",
	[36] = "MWAIT_INSTRUCTION",
	[37] = "MONITOR_TRAP_FLAG",
	[39] = "MONITOR_INSTRUCTION",
	[40] = "PAUSE_INSTRUCTION",
	[41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD",
	[44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED",
	[46] = "GDTR_IDTR",
	[47] = "LDTR_TR",
	[48] = "EPT_VIOLATION",
	[49] = "EPT_MISCONFIG",
	[50] = "INVEPT",
	[51] = "RDTSCP",
	[52] = "PREEMPTION_TIMER",
	[53] = "INVVPID",
	[54] = "WBINVD",
	[55] = "XSETBV",
	[56] = "APIC_WRITE",
	[57] = "RDRAND",
	[58] = "INVPCID",
	[59] = "VMFUNC",
	[60] = "ENCLS",
	[61] = "RDSEED",
	[62] = "PML_FULL",
	[63] = "XSAVES",
	[64] = "XRSTORS",
	[66] = "SPP",
	[67] = "UMWAIT",
	[68] = "TPAUSE",
	[69] = "LOADIWKEY",
	[70] = "ENCLV",
	[74] = "BUS_LOCK",
	[75] = "NOTIFY",
	[76] = "TDCALL",
};

struct vt_name {
	uint32_t code;
	const char *name;
};

/*
 * SVM exit codes, as Linux's SVM_EXIT_REASONS names them, except: intr,
 * ioio and vmmcall (AMD's names, which Linux prints as interrupt, io and
 * hypercall: vt_svm_alias takes those), read_tr/write_tr for Linux's
 * read_rt/write_rt, and exceptions as DE_excp for "DE excp".
 */
static const struct vt_name vt_svm_names[] = {
	{ 0x000, "read_cr0" },
	{ 0x002, "read_cr2" },
	{ 0x003, "read_cr3" },
	{ 0x004, "read_cr4" },
	{ 0x008, "read_cr8" },
	{ 0x010, "write_cr0" },
	{ 0x012, "write_cr2" },
	{ 0x013, "write_cr3" },
	{ 0x014, "write_cr4" },
	{ 0x018, "write_cr8" },
	{ 0x020, "read_dr0" },
	{ 0x021, "read_dr1" },
	{ 0x022, "read_dr2" },
	{ 0x023, "read_dr3" },
	{ 0x024, "read_dr4" },
	{ 0x025, "read_dr5" },
	{ 0x026, "read_dr6" },
	{ 0x027, "read_dr7" },
	{ 0x030, "write_dr0" },
	{ 0x031, "write_dr1" },
	{ 0x032, "write_dr2" },
	{ 0x033, "write_dr3" },
	{ 0x034, "write_dr4" },
	{ 0x035, "write_dr5" },
	{ 0x036, "write_dr6" },
	{ 0x037, "write_dr7" },
	{ 0x040, "DE_excp" },
	{ 0x041, "DB_excp" },
	{ 0x043, "BP_excp" },
	{ 0x044, "OF_excp" },
	{ 0x045, "BR_excp" },
	{ 0x046, "UD_excp" },
	{ 0x047, "NM_excp" },
	{ 0x048, "DF_excp" },
	{ 0x04a, "TS_excp" },
	{ 0x04b, "NP_excp" },
	{ 0x04c, "SS_excp" },
	{ 0x04d, "GP_excp" },
	{ 0x04e, "PF_excp" },
	{ 0x050, "MF_excp" },
	{ 0x051, "AC_excp" },
	{ 0x052, "MC_excp" },
	{ 0x053, "XF_excp" },
	{ 0x060, "intr" },
	{ 0x061, "nmi" },
	{ 0x062, "smi" },
	{ 0x063, "init" },
	{ 0x064, "vintr" },
	{ 0x065, "cr0_sel_write" },
	{ 0x066, "read_idtr" },
	{ 0x067, "read_gdtr" },
	{ 0x068, "read_ldtr" },
	{ 0x069, "read_tr" },
	{ 0x06a, "write_idtr" },
	{ 0x06b, "write_gdtr" },
	{ 0x06c, "write_ldtr" },
	{ 0x06d, "write_tr" },
	{ 0x06e, "rdtsc" },
	{ 0x06f, "rdpmc" },
	{ 0x070, "pushf" },
	{ 0x071, "popf" },
	{ 0x072, "cpuid" },
	{ 0x073, "rsm" },
	{ 0x074, "iret" },
	{ 0x075, "swint" },
	{ 0x076, "invd" },
	{ 0x077, "pause" },
	{ 0x078, "hlt" },
	{ 0x079, "invlpg" },
	{ 0x07a, "invlpga" },
	{ 0x07b, "ioio" },
	{ 0x07c, "msr" },
	{ 0x07d, "task_switch" },
	{ 0x07e, "ferr_freeze" },
	{ 0x07f, "shutdown" },
	{ 0x080, "vmrun" },
	{ 0x081, "vmmcall" },
	{ 0x082, "vmload" },
	{ 0x083, "vmsave" },
	{ 0x084, "stgi" },
	{ 0x085, "clgi" },
	{ 0x086, "skinit" },
	{ 0x087, "rdtscp" },
	{ 0x088, "icebp" },
	{ 0x089, "wbinvd" },
	{ 0x08a, "monitor" },
	{ 0x08b, "mwait" },
	{ 0x08c, "mwait_cond" },
	{ 0x08d, "xsetbv" },
	{ 0x08e, "rdpru" },
	{ 0x08f, "write_efer_trap" },
	{ 0x090, "write_cr0_trap" },
	{ 0x094, "write_cr4_trap" },
	{ 0x098, "write_cr8_trap" },
	{ 0x0a2, "invpcid" },
	{ 0x400, "npf" },
	{ 0x401, "avic_incomplete_ipi" },
	{ 0x402, "avic_unaccelerated_access" },
	{ 0x403, "vmgexit" },
	{ 0xffffffff, "invalid_guest_state" },
};

/* Linux's other names for SVM codes: parsed, never printed. */
static const struct vt_name vt_svm_alias[] = {
	{ 0x060, "interrupt" }, { 0x069, "read_rt" },	{ 0x06d, "write_rt" },
	{ 0x07b, "io" },	{ 0x081, "hypercall" }, { 0xffffffff, "err" },
};

#define VT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *vt_svm_name(uint32_t code)
{
	size_t i;

	for (i = 0; i < VT_ARRAY_SIZE(vt_svm_names); i++)
		if (vt_svm_names[i].code == code)
			return vt_svm_names[i].name;
	return NULL;
}

const char *vm_trace_reason_name(unsigned int source, unsigned int flags,
				 uint32_t reason, char *buf, size_t len)
{
	const char *name = NULL;

	if (source == VM_TRACE_USER && reason < VT_ARRAY_SIZE(vt_user_names))
		name = vt_user_names[reason];
	else if (source == VM_TRACE_KERNEL && (flags & VM_TRACE_F_VMX) &&
		 reason < VT_ARRAY_SIZE(vt_vmx_names))
		name = vt_vmx_names[reason];
	else if (source == VM_TRACE_KERNEL && (flags & VM_TRACE_F_SVM))
		name = vt_svm_name(reason);
	if (name)
		return name;
	snprintf(buf, len, "reason_%" PRIu32, reason);
	return buf;
}

/* Names compare without case, and a space is an underscore. */
static bool vt_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int ca = *a == ' ' ? '_' : tolower((unsigned char)*a);
		int cb = *b == ' ' ? '_' : tolower((unsigned char)*b);

		if (ca != cb)
			return false;
	}
	return *a == *b;
}

/* A decimal or 0x-hex number filling [s, end): 0 or -EINVAL. */
static int vt_parse_u64(const char *s, const char *end, uint64_t *out)
{
	unsigned int base = 10, d;
	uint64_t v = 0;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (s >= end)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (unsigned int)((*s | 0x20) - 'a' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static int vt_parse_num32(const char *name, uint32_t *reason)
{
	uint64_t v;

	if (strncasecmp(name, "reason_", 7) == 0)
		name += 7;
	if (vt_parse_u64(name, name + strlen(name), &v) < 0 || v > UINT32_MAX)
		return -ENOENT;
	*reason = (uint32_t)v;
	return 0;
}

static int vt_find_indexed(const char *const *t, size_t n, const char *name,
			   uint32_t *reason)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i] && vt_name_eq(t[i], name)) {
			*reason = (uint32_t)i;
			return 0;
		}
	}
	return -ENOENT;
}

static int vt_find_svm(const char *name, uint32_t *reason)
{
	size_t i;

	for (i = 0; i < VT_ARRAY_SIZE(vt_svm_names); i++) {
		if (vt_name_eq(vt_svm_names[i].name, name)) {
			*reason = vt_svm_names[i].code;
			return 0;
		}
	}
	for (i = 0; i < VT_ARRAY_SIZE(vt_svm_alias); i++) {
		if (vt_name_eq(vt_svm_alias[i].name, name)) {
			*reason = vt_svm_alias[i].code;
			return 0;
		}
	}
	return -ENOENT;
}

int vm_trace_reason_parse(const char *name, unsigned int source,
			  unsigned int flags, uint32_t *reason)
{
	if (vt_parse_num32(name, reason) == 0)
		return 0;
	if (source == VM_TRACE_USER)
		return vt_find_indexed(vt_user_names,
				       VT_ARRAY_SIZE(vt_user_names), name,
				       reason);
	if (source == VM_TRACE_KERNEL && (flags & VM_TRACE_F_VMX))
		return vt_find_indexed(vt_vmx_names,
				       VT_ARRAY_SIZE(vt_vmx_names), name,
				       reason);
	if (source == VM_TRACE_KERNEL && (flags & VM_TRACE_F_SVM))
		return vt_find_svm(name, reason);
	return -ENOENT;
}

/* Specs. */

/* Which records a reason value applies to. */
#define VT_T_USER 0x1 /* user records */
#define VT_T_VMX 0x2 /* kernel records with VM_TRACE_F_VMX */
#define VT_T_SVM 0x4 /* kernel records with VM_TRACE_F_SVM */
#define VT_T_KOTHER 0x8 /* kernel records with neither */

struct vt_reason {
	uint32_t code;
	unsigned int tables; /* VT_T_* */
};

struct vt_range {
	uint64_t lo, hi; /* inclusive */
};

struct vt_ranges {
	struct vt_range *v;
	unsigned int n;
};

/* The keys a filter was given. */
enum {
	VT_K_REASON = 1u << 0,
	VT_K_VCPU = 1u << 1,
	VT_K_PORT = 1u << 2,
	VT_K_GPA = 1u << 3,
	VT_K_REGION = 1u << 4,
	VT_K_MSR = 1u << 5,
	VT_K_RIP = 1u << 6,
	VT_K_CPL = 1u << 7,
	VT_K_MIN = 1u << 8,
	VT_K_SOURCE = 1u << 9,
};

struct vm_trace_filter {
	unsigned int keys; /* VT_K_*: the keys given */
	struct vt_reason *reasons;
	unsigned int nreasons;
	struct vt_ranges vcpu, port, gpa, msr, rip;
	struct vt_ranges region_pio; /* region=NAME of PIO regions */
	struct vt_ranges region_mmio; /* and of MMIO regions */
	unsigned int cpl; /* bit N: CPL N */
	unsigned int sources; /* bit N: enum vm_trace_source N */
	uint64_t min_ns; /* shortest duration kept */
};

/* One parse: its inputs and where the results go. */
struct vt_parse {
	struct vm_trace_filter *f;
	struct vm_trace_capture *cap; /* NULL: capture terms refused */
	const struct vm_trace_region *regions;
	unsigned int nregions;
	vm_trace_sym_fn *sym;
	void *sym_arg;
	const char *term; /* the term being parsed, for messages */
	char *err;
	size_t errlen;
};

static int vt_spec_err(struct vt_parse *p, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(p->err, p->errlen, "trace spec: '%s': ", p->term);
	n = strlen(p->err);
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int vt_ranges_add(struct vt_ranges *s, uint64_t lo, uint64_t hi)
{
	struct vt_range *v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[s->n].lo = lo;
	v[s->n].hi = hi;
	s->v = v;
	s->n++;
	return 0;
}

static bool vt_ranges_has(const struct vt_ranges *s, uint64_t x)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (x >= s->v[i].lo && x <= s->v[i].hi)
			return true;
	return false;
}

/* "A" or "A-B" with A <= B <= max: 0 or -EINVAL. */
static int vt_parse_range(const char *val, uint64_t max, uint64_t *lo,
			  uint64_t *hi)
{
	const char *dash = strchr(val, '-'), *end = val + strlen(val);

	if (vt_parse_u64(val, dash ? dash : end, lo) < 0)
		return -EINVAL;
	*hi = *lo;
	if (dash && vt_parse_u64(dash + 1, end, hi) < 0)
		return -EINVAL;
	return *lo <= *hi && *hi <= max ? 0 : -EINVAL;
}

static int vt_key_range(struct vt_parse *p, const char *val,
			struct vt_ranges *s, uint64_t max, const char *what)
{
	uint64_t lo, hi;

	if (vt_parse_range(val, max, &lo, &hi) < 0)
		return vt_spec_err(p, "expected %s or range N-M", what);
	if (vt_ranges_add(s, lo, hi) < 0)
		return vt_spec_err(p, "out of memory");
	return 0;
}

static int vt_key_vcpu(struct vt_parse *p, const char *val)
{
	return vt_key_range(p, val, &p->f->vcpu, UINT16_MAX, "a vCPU number");
}

static int vt_key_port(struct vt_parse *p, const char *val)
{
	return vt_key_range(p, val, &p->f->port, 0xffff,
			    "a port number (0-0xffff)");
}

static int vt_key_gpa(struct vt_parse *p, const char *val)
{
	return vt_key_range(p, val, &p->f->gpa, UINT64_MAX,
			    "a guest-physical address");
}

/*
 * MSR terms match user records only (x86_rdmsr/x86_wrmsr): a kernel
 * record's addr is the exit's info1, which does not hold the MSR number.
 */
static int vt_key_msr(struct vt_parse *p, const char *val)
{
	return vt_key_range(p, val, &p->f->msr, UINT32_MAX, "an MSR number");
}

static int vt_key_rip(struct vt_parse *p, const char *val)
{
	uint64_t start, end;

	if (*val >= '0' && *val <= '9')
		return vt_key_range(p, val, &p->f->rip, UINT64_MAX,
				    "an address");
	if (!p->sym)
		return vt_spec_err(p,
				   "rip=%s needs symbols (give an ELF with "
				   "--sym, or load them with `sym load`)",
				   val);
	if (p->sym(p->sym_arg, val, &start, &end) < 0)
		return vt_spec_err(p, "no symbol %s", val);
	if (vt_ranges_add(&p->f->rip, start, end > start ? end - 1 : start))
		return vt_spec_err(p, "out of memory");
	return 0;
}

static int vt_reason_add(struct vt_parse *p, uint32_t code, unsigned int tables)
{
	struct vm_trace_filter *f = p->f;
	struct vt_reason *v;

	v = realloc(f->reasons, (f->nreasons + 1) * sizeof(*v));
	if (!v)
		return vt_spec_err(p, "out of memory");
	v[f->nreasons].code = code;
	v[f->nreasons].tables = tables;
	f->reasons = v;
	f->nreasons++;
	return 0;
}

/* A name adds one value per table that knows it; a number fits all. */
static int vt_key_reason(struct vt_parse *p, const char *val)
{
	static const struct {
		unsigned int source, flags, table;
	} tabs[] = {
		{ VM_TRACE_USER, 0, VT_T_USER },
		{ VM_TRACE_KERNEL, VM_TRACE_F_VMX, VT_T_VMX },
		{ VM_TRACE_KERNEL, VM_TRACE_F_SVM, VT_T_SVM },
	};
	bool found = false;
	uint32_t code;
	size_t i;
	int r;

	if (vt_parse_num32(val, &code) == 0)
		return vt_reason_add(
			p, code, VT_T_USER | VT_T_VMX | VT_T_SVM | VT_T_KOTHER);
	for (i = 0; i < VT_ARRAY_SIZE(tabs); i++) {
		if (vm_trace_reason_parse(val, tabs[i].source, tabs[i].flags,
					  &code) < 0)
			continue;
		if ((r = vt_reason_add(p, code, tabs[i].table)) < 0)
			return r;
		found = true;
	}
	if (!found)
		return vt_spec_err(p,
				   "no exit reason %s (user: io, mmio, hlt, "
				   "...; VMX: IO_INSTRUCTION, EPT_VIOLATION, "
				   "...; SVM: ioio, npf, ...; or a number)",
				   val);
	return 0;
}

static int vt_key_region(struct vt_parse *p, const char *val)
{
	const struct vm_trace_region *rg;
	struct vt_ranges *s;
	unsigned int i;

	for (i = 0; i < p->nregions; i++)
		if (strcmp(p->regions[i].name, val) == 0)
			break;
	if (i == p->nregions)
		return vt_spec_err(p, "no region named %s%s", val,
				   p->nregions ? "" : " (no regions known)");
	rg = &p->regions[i];
	s = rg->kind == VM_TRACE_REGION_PIO ? &p->f->region_pio :
					      &p->f->region_mmio;
	if (rg->size == 0)
		return vt_spec_err(p, "region %s is empty", val);
	if (vt_ranges_add(s, rg->base, rg->base + (rg->size - 1)) < 0)
		return vt_spec_err(p, "out of memory");
	return 0;
}

static int vt_key_cpl(struct vt_parse *p, const char *val)
{
	uint64_t v;

	if (vt_parse_u64(val, val + strlen(val), &v) < 0 || v > 3)
		return vt_spec_err(p, "expected a CPL 0-3");
	p->f->cpl |= 1u << v;
	return 0;
}

static int vt_parse_duration(const char *val, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "", 1e3 },
		      { "ns", 1 },
		      { "us", 1e3 },
		      { "ms", 1e6 },
		      { "s", 1e9 } };
	char *end;
	double v;
	size_t i;

	if (!((*val >= '0' && *val <= '9') || *val == '.'))
		return -EINVAL;
	v = strtod(val, &end);
	for (i = 0; i < VT_ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].unit) == 0 && end != val) {
			v *= units[i].ns;
			if (!(v >= 0 && v < 1.8e19))
				return -EINVAL;
			*ns = (uint64_t)v;
			return 0;
		}
	}
	return -EINVAL;
}

static int vt_key_min(struct vt_parse *p, const char *val)
{
	uint64_t ns;

	if (vt_parse_duration(val, &ns) < 0)
		return vt_spec_err(p,
				   "expected a duration: a number with ns, us, "
				   "ms or s (default us)");
	/* Any of several minimums: the smallest. */
	if (!(p->f->keys & VT_K_MIN) || ns < p->f->min_ns)
		p->f->min_ns = ns;
	return 0;
}

static int vt_key_source(struct vt_parse *p, const char *val)
{
	if (strcmp(val, "user") == 0)
		p->f->sources |= 1u << VM_TRACE_USER;
	else if (strcmp(val, "kernel") == 0)
		p->f->sources |= 1u << VM_TRACE_KERNEL;
	else
		return vt_spec_err(p, "expected source=user or source=kernel");
	return 0;
}

static int vt_key_stack(struct vt_parse *p, const char *val)
{
	uint64_t v;

	if (vt_parse_u64(val, val + strlen(val), &v) < 0 ||
	    v > VM_TRACE_STACK_MAX)
		return vt_spec_err(p, "expected a stack depth 0-%u",
				   VM_TRACE_STACK_MAX);
	p->cap->stack = (unsigned int)v;
	return 0;
}

static int vt_key_ring(struct vt_parse *p, const char *val)
{
	uint64_t v;

	if (vt_parse_u64(val, val + strlen(val), &v) < 0 || v == 0 ||
	    v > VM_TRACE_RING_MAX)
		return vt_spec_err(p, "expected records per ring, 1-%u",
				   VM_TRACE_RING_MAX);
	p->cap->ring = (unsigned int)v;
	return 0;
}

static int vt_key_kernel(struct vt_parse *p, const char *val)
{
	p->cap->kernel = true;
	return 0;
}

struct vt_key {
	const char *name;
	int (*parse)(struct vt_parse *p, const char *val);
	unsigned int bit; /* VT_K_*; 0 for a capture term */
	bool value; /* takes =VALUE */
};

static const struct vt_key vt_keys[] = {
	{ "reason", vt_key_reason, VT_K_REASON, true },
	{ "vcpu", vt_key_vcpu, VT_K_VCPU, true },
	{ "port", vt_key_port, VT_K_PORT, true },
	{ "gpa", vt_key_gpa, VT_K_GPA, true },
	{ "region", vt_key_region, VT_K_REGION, true },
	{ "msr", vt_key_msr, VT_K_MSR, true },
	{ "rip", vt_key_rip, VT_K_RIP, true },
	{ "cpl", vt_key_cpl, VT_K_CPL, true },
	{ "min", vt_key_min, VT_K_MIN, true },
	{ "source", vt_key_source, VT_K_SOURCE, true },
	{ "stack", vt_key_stack, 0, true },
	{ "ring", vt_key_ring, 0, true },
	{ "kernel", vt_key_kernel, 0, false },
};

static const struct vt_key *vt_key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < VT_ARRAY_SIZE(vt_keys); i++)
		if (strlen(vt_keys[i].name) == len &&
		    strncmp(vt_keys[i].name, name, len) == 0)
			return &vt_keys[i];
	return NULL;
}

static int vt_term(struct vt_parse *p, char *term)
{
	char *eq = strchr(term, '=');
	size_t klen = eq ? (size_t)(eq - term) : strlen(term);
	const struct vt_key *k = vt_key_find(term, klen);
	int r;

	p->term = term;
	if (!k)
		return vt_spec_err(p,
				   "unknown key (keys: reason, vcpu, port, "
				   "gpa, region, msr, rip, cpl, min, source, "
				   "stack, ring, kernel)");
	if (k->value && (!eq || !eq[1]))
		return vt_spec_err(p, "expected %s=VALUE", k->name);
	if (!k->value && eq)
		return vt_spec_err(p, "%s takes no value", k->name);
	if (!k->bit && !p->cap) {
		snprintf(p->err, p->errlen,
			 "trace spec: %s is a capture option: give it when "
			 "recording",
			 term);
		return -EINVAL;
	}
	if ((r = k->parse(p, eq ? eq + 1 : "")) == 0)
		p->f->keys |= k->bit;
	return r;
}

static char *vt_trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int vt_terms(struct vt_parse *p, char *spec)
{
	char *term, *comma;
	int r;

	for (term = spec;; term = comma + 1) {
		if ((comma = strchr(term, ',')))
			*comma = '\0';
		term = vt_trim(term);
		if (!*term) {
			snprintf(p->err, p->errlen,
				 "trace spec: empty term (two commas, or a "
				 "comma at an end)");
			return -EINVAL;
		}
		if ((r = vt_term(p, term)) < 0)
			return r;
		if (!comma)
			return 0;
	}
}

int vm_trace_filter_parse(const char *spec,
			  const struct vm_trace_region *regions,
			  unsigned int nregions, vm_trace_sym_fn *sym,
			  void *sym_arg, struct vm_trace_filter **out,
			  struct vm_trace_capture *cap, char *err,
			  size_t errlen)
{
	struct vm_trace_capture c = { .ring = VM_TRACE_RING_DEFAULT };
	struct vt_parse p = {
		.cap = cap ? &c : NULL,
		.regions = regions,
		.nregions = regions ? nregions : 0,
		.sym = sym,
		.sym_arg = sym_arg,
		.err = err,
		.errlen = errlen,
	};
	char *copy = NULL;
	int r = 0;

	if (!(p.f = calloc(1, sizeof(*p.f))) ||
	    (spec && !(copy = strdup(spec)))) {
		free(p.f);
		snprintf(err, errlen, "trace spec: out of memory");
		return -ENOMEM;
	}
	if (spec && *spec)
		r = vt_terms(&p, copy);
	free(copy);
	if (r < 0) {
		vm_trace_filter_free(p.f);
		return r;
	}
	if (!p.f->keys) {
		vm_trace_filter_free(p.f);
		p.f = NULL;
	}
	*out = p.f;
	if (cap)
		*cap = c;
	return 0;
}

static bool vt_reason_match(const struct vm_trace_filter *f,
			    const struct vm_trace_rec *rec)
{
	unsigned int t, i;

	if (rec->source == VM_TRACE_USER)
		t = VT_T_USER;
	else if (rec->flags & VM_TRACE_F_VMX)
		t = VT_T_VMX;
	else if (rec->flags & VM_TRACE_F_SVM)
		t = VT_T_SVM;
	else
		t = VT_T_KOTHER;
	for (i = 0; i < f->nreasons; i++)
		if ((f->reasons[i].tables & t) &&
		    f->reasons[i].code == rec->reason)
			return true;
	return false;
}

static bool vt_is_user(const struct vm_trace_rec *rec, uint32_t reason)
{
	return rec->source == VM_TRACE_USER && rec->reason == reason;
}

static bool vt_region_match(const struct vm_trace_filter *f,
			    const struct vm_trace_rec *rec)
{
	if (vt_is_user(rec, VT_KVM_EXIT_IO))
		return vt_ranges_has(&f->region_pio, rec->addr);
	if (vt_is_user(rec, VT_KVM_EXIT_MMIO))
		return vt_ranges_has(&f->region_mmio, rec->addr);
	return false;
}

static bool vt_access_match(const struct vm_trace_filter *f,
			    const struct vm_trace_rec *rec)
{
	bool msr = vt_is_user(rec, VT_KVM_EXIT_X86_RDMSR) ||
		   vt_is_user(rec, VT_KVM_EXIT_X86_WRMSR);

	if ((f->keys & VT_K_PORT) && !(vt_is_user(rec, VT_KVM_EXIT_IO) &&
				       vt_ranges_has(&f->port, rec->addr)))
		return false;
	if ((f->keys & VT_K_GPA) && !(vt_is_user(rec, VT_KVM_EXIT_MMIO) &&
				      vt_ranges_has(&f->gpa, rec->addr)))
		return false;
	if ((f->keys & VT_K_MSR) && !(msr && vt_ranges_has(&f->msr, rec->addr)))
		return false;
	if ((f->keys & VT_K_REGION) && !vt_region_match(f, rec))
		return false;
	return true;
}

bool vm_trace_filter_match(const struct vm_trace_filter *f,
			   const struct vm_trace_rec *rec)
{
	uint64_t dur;

	if (!f)
		return true;
	if ((f->keys & VT_K_SOURCE) &&
	    (rec->source > 31 || !(f->sources & (1u << rec->source))))
		return false;
	if ((f->keys & VT_K_REASON) && !vt_reason_match(f, rec))
		return false;
	if ((f->keys & VT_K_VCPU) && !vt_ranges_has(&f->vcpu, rec->vcpu))
		return false;
	if (!vt_access_match(f, rec))
		return false;
	if ((f->keys & VT_K_RIP) && !vt_ranges_has(&f->rip, rec->rip))
		return false;
	if ((f->keys & VT_K_CPL) &&
	    (rec->cpl > 3 || !(f->cpl & 1u << rec->cpl)))
		return false;
	dur = rec->t_entry > rec->t_exit ? rec->t_entry - rec->t_exit : 0;
	if ((f->keys & VT_K_MIN) && dur < f->min_ns)
		return false;
	return true;
}

void vm_trace_filter_free(struct vm_trace_filter *f)
{
	if (!f)
		return;
	free(f->reasons);
	free(f->vcpu.v);
	free(f->port.v);
	free(f->gpa.v);
	free(f->msr.v);
	free(f->rip.v);
	free(f->region_pio.v);
	free(f->region_mmio.v);
	free(f);
}
