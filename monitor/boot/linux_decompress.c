/*
 * linux_decompress.c: a bzImage's payload, decompressed on the host by its
 * magic: gzip (zlib), xz and lzma (liblzma), zstd (libzstd) and the lz4
 * legacy frame (liblz4), as the kernel's own decompressors read them.
 * bzip2 and lzo are recognised and refused.
 *
 * The kernel's build appends the decompressed size (4 bytes) to every
 * payload (mkpiggy reads it as the output length): it sizes the first
 * buffer, which grows as needed up to LOADER_LINUX_KERNEL_MAX, and the
 * result must match it.  Data after the end of the stream (that size) is
 * ignored.  Pure and stateless: each call owns its buffers.
 */
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "monitor/boot/loader_int.h"

#define LZ4_LEGACY_MAGIC 0x184c2102
#define LZ4_LEGACY_BLOCK (8u << 20) /* decompressed bytes per block */

struct outbuf {
	uint8_t *p;
	size_t len; /* bytes produced */
	size_t cap;
};

/* Make room for `want` more bytes (at least); -E2BIG past the limit. */
static int out_grow(struct outbuf *o, size_t want)
{
	size_t cap = o->cap ? o->cap : 1 << 20;
	uint8_t *p;

	if (o->len + want <= o->cap)
		return 0;
	while (cap < o->len + want && cap < LOADER_LINUX_KERNEL_MAX)
		cap *= 2;
	if (cap > LOADER_LINUX_KERNEL_MAX)
		cap = LOADER_LINUX_KERNEL_MAX;
	if (o->len + want > cap)
		return -E2BIG;
	p = realloc(o->p, cap);
	if (!p)
		return -ENOMEM;
	o->p = p;
	o->cap = cap;
	return 0;
}

static int fail_grow(int err, const char *what, char *msg, size_t msglen)
{
	if (err == -E2BIG)
		return loader_fail(
			msg, msglen, -E2BIG,
			"%s payload decompresses to more than %u MiB; not a kernel vitro can load",
			what, (unsigned int)(LOADER_LINUX_KERNEL_MAX >> 20));
	return loader_fail(msg, msglen, -ENOMEM,
			   "out of memory decompressing the %s payload", what);
}

static int corrupt(const char *what, const char *why, char *msg, size_t msglen)
{
	return loader_fail(msg, msglen, -EINVAL,
			   "%s payload is corrupt or truncated (%s)", what,
			   why);
}

static int gunzip(const uint8_t *in, size_t len, struct outbuf *o, char *msg,
		  size_t msglen)
{
	z_stream s = { 0 };
	int zr, err = 0;

	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return loader_fail(msg, msglen, -ENOMEM,
				   "cannot start zlib's decompressor");
	s.next_in = (Bytef *)in;
	s.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	do {
		err = out_grow(o, 1 << 20);
		if (err) {
			err = fail_grow(err, "gzip", msg, msglen);
			break;
		}
		s.next_out = o->p + o->len;
		s.avail_out =
			(uInt)(o->cap - o->len > UINT32_MAX ? UINT32_MAX :
							      o->cap - o->len);
		zr = inflate(&s, Z_NO_FLUSH);
		o->len = s.next_out - o->p;
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_BUF_ERROR && s.avail_in == 0) {
			err = corrupt("gzip", "the stream ends early", msg,
				      msglen);
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			err = corrupt("gzip", s.msg ? s.msg : "inflate failed",
				      msg, msglen);
			break;
		}
	} while (1);
	inflateEnd(&s);
	return err;
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR:
		return "not in the expected format";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_DATA_ERROR:
		return "data error";
	case LZMA_BUF_ERROR:
		return "the stream ends early";
	case LZMA_MEMLIMIT_ERROR:
	case LZMA_MEM_ERROR:
		return "out of memory";
	default:
		return "liblzma error";
	}
}

static int unxz(const uint8_t *in, size_t len, bool alone, struct outbuf *o,
		char *msg, size_t msglen)
{
	const char *what = alone ? "lzma" : "xz";
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;
	int err = 0;

	r = alone ? lzma_alone_decoder(&s, UINT64_MAX) :
		    lzma_stream_decoder(&s, UINT64_MAX, 0);
	if (r != LZMA_OK)
		return loader_fail(msg, msglen, -ENOMEM,
				   "cannot start liblzma's %s decoder", what);
	s.next_in = in;
	s.avail_in = len;
	do {
		err = out_grow(o, 1 << 20);
		if (err) {
			err = fail_grow(err, what, msg, msglen);
			break;
		}
		s.next_out = o->p + o->len;
		s.avail_out = o->cap - o->len;
		/* LZMA_FINISH: no input follows, so a cut stream is an error. */
		r = lzma_code(&s, LZMA_FINISH);
		o->len = s.next_out - o->p;
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK) {
			err = corrupt(what, lzma_why(r), msg, msglen);
			break;
		}
	} while (1);
	lzma_end(&s);
	return err;
}

static int unzstd(const uint8_t *in, size_t len, struct outbuf *o, char *msg,
		  size_t msglen)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t zr;
	int err = 0;

	if (!d)
		return loader_fail(msg, msglen, -ENOMEM,
				   "cannot start libzstd's decompressor");
	do {
		ZSTD_outBuffer ob;

		err = out_grow(o, 1 << 20);
		if (err) {
			err = fail_grow(err, "zstd", msg, msglen);
			break;
		}
		ob = (ZSTD_outBuffer){ o->p, o->cap, o->len };
		zr = ZSTD_decompressStream(d, &ob, &ib);
		o->len = ob.pos;
		if (ZSTD_isError(zr)) {
			err = corrupt("zstd", ZSTD_getErrorName(zr), msg,
				      msglen);
			break;
		}
		if (zr == 0)
			break; /* the frame is complete */
		if (ib.pos == ib.size && ob.pos < ob.size) {
			err = corrupt("zstd", "the stream ends early", msg,
				      msglen);
			break;
		}
	} while (1);
	ZSTD_freeDStream(d);
	return err;
}

/*
 * The legacy frame: a magic, then blocks of a 4-byte compressed size and
 * up to 8 MiB of decompressed data each.  The kernel's size trailer looks
 * like a block size with nothing after it: it ends the frame.
 */
static int unlz4(const uint8_t *in, size_t len, struct outbuf *o, char *msg,
		 size_t msglen)
{
	size_t pos = 4, nblocks = 0;
	int err;

	while (pos < len) {
		uint32_t csize;
		int n;

		if (len - pos < 4)
			return corrupt("lz4", "a block header is cut short",
				       msg, msglen);
		csize = loader_le32(in + pos);
		if (csize == LZ4_LEGACY_MAGIC) {
			pos += 4; /* another frame follows: go on */
			continue;
		}
		if (len - pos == 4 && nblocks)
			break; /* the size trailer */
		pos += 4;
		if (csize == 0 || csize > len - pos ||
		    csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return corrupt("lz4", "a block is longer than the data",
				       msg, msglen);
		err = out_grow(o, LZ4_LEGACY_BLOCK);
		if (err)
			return fail_grow(err, "lz4", msg, msglen);
		n = LZ4_decompress_safe((const char *)in + pos,
					(char *)o->p + o->len, (int)csize,
					LZ4_LEGACY_BLOCK);
		if (n < 0)
			return corrupt("lz4", "a block does not decompress",
				       msg, msglen);
		o->len += n;
		pos += csize;
		nblocks++;
	}
	if (!nblocks)
		return corrupt("lz4", "no blocks", msg, msglen);
	return 0;
}

int loader_linux_decompress(const uint8_t *in, size_t len, const char **name,
			    uint8_t **out, size_t *outlen, char *msg,
			    size_t msglen)
{
	static const uint8_t xz_magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	struct outbuf o = { 0 };
	uint32_t hint = len >= 4 ? loader_le32(in + len - 4) : 0;
	int err;

	*name = NULL;
	if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b)
		*name = "gzip";
	else if (len >= sizeof(xz_magic) &&
		 memcmp(in, xz_magic, sizeof(xz_magic)) == 0)
		*name = "xz";
	else if (len >= 2 && in[0] == 0x5d && in[1] == 0)
		*name = "lzma";
	else if (len >= 4 && loader_le32(in) == 0xfd2fb528)
		*name = "zstd";
	else if (len >= 4 && loader_le32(in) == LZ4_LEGACY_MAGIC)
		*name = "lz4";
	else if (len >= 3 && memcmp(in, "BZh", 3) == 0)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"bzImage payload is bzip2-compressed, which vitro does not decompress; build the kernel with gzip, xz, lzma, zstd or lz4");
	else if (len >= 4 && memcmp(in, "\x89LZO", 4) == 0)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"bzImage payload is lzo-compressed, which vitro does not decompress; build the kernel with gzip, xz, lzma, zstd or lz4");
	else
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"bzImage payload has an unknown compression (first bytes %02x %02x %02x %02x); expected gzip, xz, lzma, zstd or lz4",
			len > 0 ? in[0] : 0, len > 1 ? in[1] : 0,
			len > 2 ? in[2] : 0, len > 3 ? in[3] : 0);

	/* The trailer, when plausible, sizes the first buffer. */
	if (hint >= 4096 && hint <= LOADER_LINUX_KERNEL_MAX) {
		err = out_grow(&o, hint);
		if (err) {
			free(o.p);
			return fail_grow(err, *name, msg, msglen);
		}
	}
	if (strcmp(*name, "gzip") == 0)
		err = gunzip(in, len, &o, msg, msglen);
	else if (strcmp(*name, "xz") == 0)
		err = unxz(in, len, false, &o, msg, msglen);
	else if (strcmp(*name, "lzma") == 0)
		err = unxz(in, len, true, &o, msg, msglen);
	else if (strcmp(*name, "zstd") == 0)
		err = unzstd(in, len, &o, msg, msglen);
	else
		err = unlz4(in, len, &o, msg, msglen);
	if (!err && o.len != hint) {
		char why[96];

		snprintf(
			why, sizeof(why),
			"it decompresses to %zu bytes, its size trailer says %u",
			o.len, hint);
		err = corrupt(*name, why, msg, msglen);
	}
	if (err) {
		free(o.p);
		return err;
	}
	*out = o.p;
	*outlen = o.len;
	return 0;
}
