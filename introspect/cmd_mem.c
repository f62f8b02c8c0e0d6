/*
 * introspect/cmd_mem.c: the console's guest-memory commands - `mem`
 * (read and write values and bytes, dump to a file, search, hexdump) and
 * `translate` (one address through the vCPU's paging, with the entries
 * walked, or the whole map of the page tables with ptwalk.c).
 *
 * Addresses are virtual, through the paging of a vCPU (-cpu N, default
 * the selected one), unless -phys makes them guest-physical; every access
 * goes through isp_mem_read / isp_mem_write, which never touch the
 * guest's page tables.  Large ranges are done in chunks of CHUNK bytes,
 * so memory use stays bounded whatever the length.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/isp_int.h"
#include "introspect/ptwalk.h"

/* Bytes read or written per request of the long commands. */
#define CHUNK (1U << 20)
/* The most a command returns as one Tcl value. */
#define VALUE_MAX (64U << 20)

/* The options every mem subcommand has: where the address is. */
struct where {
	bool phys;
	int cpu;
};

static int get_len(Tcl_Interp *interp, Tcl_Obj *obj, uint64_t max,
		   uint64_t *out)
{
	uint64_t v;

	if (isp_get_u64(interp, obj, &v) != TCL_OK)
		return TCL_ERROR;
	if (v > max)
		return isp_error(interp, "VALUE",
				 "length %s is too large (at most %" PRIu64 ")",
				 Tcl_GetString(obj), max);
	*out = v;
	return TCL_OK;
}

static int get_width(Tcl_Interp *interp, int width)
{
	if (width == 1 || width == 2 || width == 4 || width == 8)
		return TCL_OK;
	return isp_error(interp, "VALUE",
			 "bad width %d: must be 1, 2, 4 or 8 (bytes)", width);
}

/* A write that stopped short: the first address not written. */
static int write_all(struct isp *isp, Tcl_Interp *interp, const struct where *w,
		     uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = isp_mem_write(isp, w->cpu, w->phys, addr, buf, len);

	if (n == (ssize_t)len)
		return TCL_OK;
	if (n >= 0 || n == -EFAULT)
		return isp_error(interp, "FAULT",
				 "cannot write %s address 0x%" PRIx64
				 ": not mapped%s",
				 w->phys ? "guest-physical" : "virtual",
				 addr + (n > 0 ? n : 0),
				 w->phys ? " as memory" : " by vCPU's paging");
	return isp_errno(interp, (int)n, "writing 0x%" PRIx64, addr);
}

static void *alloc_buf(Tcl_Interp *interp, size_t len)
{
	void *p = attemptckalloc(len ? len : 1);

	if (!p)
		isp_error(interp, "POSIX", "cannot allocate %zu bytes", len);
	return p;
}

/* mem read ?-phys? ?-cpu N? ?-width 1|2|4|8? ADDR ?COUNT? */
static int mem_read(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	int width = 8, i = 1;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ "-width", ISP_OPT_INT, &width },
		{ NULL },
	};
	uint64_t addr, count = 1;
	uint8_t *buf;
	Tcl_Obj *list, *one = NULL;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i < 1 || objc - i > 2)
		return isp_usage(interp, objv,
				 "?-phys? ?-cpu N? ?-width 1|2|4|8? ADDR "
				 "?COUNT?");
	if (get_width(interp, width) != TCL_OK ||
	    isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK)
		return TCL_ERROR;
	if (objc - i == 2 &&
	    get_len(interp, objv[i + 1], VALUE_MAX / 8, &count) != TCL_OK)
		return TCL_ERROR;
	if (!(buf = alloc_buf(interp, count * width)))
		return TCL_ERROR;
	if (isp_mem_read_all(isp, interp, w.cpu, w.phys, addr, buf,
			     count * width) != TCL_OK) {
		ckfree((char *)buf);
		return TCL_ERROR;
	}
	list = Tcl_NewListObj(0, NULL);
	Tcl_IncrRefCount(list);
	for (uint64_t k = 0; k < count; k++) {
		uint64_t v = 0;

		/* Little-endian: the guest's byte order on x86. */
		memcpy(&v, buf + k * width, width);
		Tcl_ListObjAppendElement(NULL, list, isp_hex(v));
	}
	ckfree((char *)buf);
	/* No COUNT: the value itself, not a list of one. */
	if (objc - i == 1)
		Tcl_ListObjIndex(NULL, list, 0, &one);
	Tcl_SetObjResult(interp, objc - i == 1 ? one : list);
	Tcl_DecrRefCount(list);
	return TCL_OK;
}

/* mem write ?-phys? ?-cpu N? ?-width 1|2|4|8? ADDR VALUE ?VALUE ...? */
static int mem_write(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	int width = 8, i = 1, r;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ "-width", ISP_OPT_INT, &width },
		{ NULL },
	};
	uint64_t addr;
	uint8_t *buf;
	int n;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i < 2)
		return isp_usage(interp, objv,
				 "?-phys? ?-cpu N? ?-width 1|2|4|8? ADDR "
				 "VALUE ?VALUE ...?");
	if (get_width(interp, width) != TCL_OK ||
	    isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK)
		return TCL_ERROR;
	n = objc - i - 1;
	if (!(buf = alloc_buf(interp, (size_t)n * width)))
		return TCL_ERROR;
	for (int k = 0; k < n; k++) {
		Tcl_Obj *o = objv[i + 1 + k];
		uint64_t v;

		if (isp_get_u64(interp, o, &v) != TCL_OK) {
			ckfree((char *)buf);
			return TCL_ERROR;
		}
		/* Unsigned up to 2^bits - 1, or negative down to -2^(bits-1). */
		if (width < 8 && v > (~0ULL >> (64 - 8 * width)) &&
		    v < (~0ULL << (8 * width - 1))) {
			ckfree((char *)buf);
			return isp_error(interp, "VALUE",
					 "value %s does not fit in %d byte%s",
					 Tcl_GetString(o), width,
					 width > 1 ? "s" : "");
		}
		memcpy(buf + (size_t)k * width, &v, width);
	}
	r = write_all(isp, interp, &w, addr, buf, (size_t)n * width);
	ckfree((char *)buf);
	if (r == TCL_OK)
		Tcl_ResetResult(interp);
	return r;
}

/* mem bytes ?-phys? ?-cpu N? ADDR LEN */
static int mem_bytes(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	int i = 1;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ NULL },
	};
	uint64_t addr, len;
	Tcl_Obj *o;
	uint8_t *buf;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i != 2)
		return isp_usage(interp, objv, "?-phys? ?-cpu N? ADDR LEN");
	if (isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK ||
	    get_len(interp, objv[i + 1], VALUE_MAX, &len) != TCL_OK)
		return TCL_ERROR;
	o = Tcl_NewByteArrayObj(NULL, 0);
	Tcl_IncrRefCount(o);
	buf = Tcl_SetByteArrayLength(o, (int)len);
	if (isp_mem_read_all(isp, interp, w.cpu, w.phys, addr, buf, len) !=
	    TCL_OK) {
		Tcl_DecrRefCount(o);
		return TCL_ERROR;
	}
	Tcl_SetObjResult(interp, o);
	Tcl_DecrRefCount(o);
	return TCL_OK;
}

/* mem writebytes ?-phys? ?-cpu N? ADDR DATA */
static int mem_writebytes(struct isp *isp, Tcl_Interp *interp, int objc,
			  Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	int i = 1, len;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ NULL },
	};
	const uint8_t *data;
	uint64_t addr;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i != 2)
		return isp_usage(interp, objv, "?-phys? ?-cpu N? ADDR DATA");
	if (isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK)
		return TCL_ERROR;
	data = Tcl_GetByteArrayFromObj(objv[i + 1], &len);
	if (write_all(isp, interp, &w, addr, data, len) != TCL_OK)
		return TCL_ERROR;
	Tcl_ResetResult(interp);
	return TCL_OK;
}

/* mem dump ?-phys? ?-cpu N? ADDR LEN FILE */
static int mem_dump(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	int i = 1, r = TCL_OK;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ NULL },
	};
	uint64_t addr, len, done = 0;
	Tcl_DString ds;
	const char *path;
	uint8_t *buf;
	FILE *f;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i != 3)
		return isp_usage(interp, objv,
				 "?-phys? ?-cpu N? ADDR LEN FILE");
	if (isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK ||
	    get_len(interp, objv[i + 1], ~0ULL, &len) != TCL_OK)
		return TCL_ERROR;
	path = Tcl_TranslateFileName(interp, Tcl_GetString(objv[i + 2]), &ds);
	if (!path)
		return TCL_ERROR;
	f = fopen(path, "wb");
	if (!f) {
		r = isp_errno(interp, -errno, "cannot create \"%s\"", path);
		Tcl_DStringFree(&ds);
		return r;
	}
	if (!(buf = alloc_buf(interp, CHUNK))) {
		fclose(f);
		Tcl_DStringFree(&ds);
		return TCL_ERROR;
	}
	while (done < len) {
		size_t n = len - done < CHUNK ? len - done : CHUNK;
		ssize_t got =
			isp_mem_read(isp, w.cpu, w.phys, addr + done, buf, n);

		/* What was read before a hole goes to the file too. */
		if (got > 0 && fwrite(buf, 1, got, f) != (size_t)got) {
			r = isp_errno(interp, -errno, "writing \"%s\"", path);
			break;
		}
		if (got > 0)
			done += got;
		if (got != (ssize_t)n) {
			r = isp_mem_read_all(isp, interp, w.cpu, w.phys,
					     addr + done, buf, 1);
			if (r == TCL_OK)
				continue; /* mapped after all: go on */
			Tcl_AppendPrintfToObj(Tcl_GetObjResult(interp),
					      " (%" PRIu64 " bytes of %" PRIu64
					      " written to \"%s\")",
					      done, len, path);
			break;
		}
	}
	ckfree((char *)buf);
	if (fclose(f) != 0 && r == TCL_OK)
		r = isp_errno(interp, -errno, "writing \"%s\"", path);
	Tcl_DStringFree(&ds);
	if (r == TCL_OK)
		Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)done));
	return r;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Pairs of hex digits (blanks between pairs allowed) as a byte array. */
static int parse_hex(Tcl_Interp *interp, const char *s, Tcl_Obj **out)
{
	Tcl_Obj *o = Tcl_NewByteArrayObj(NULL, 0);
	const char *p = s;
	int n = 0;

	Tcl_IncrRefCount(o);
	while (*p) {
		int hi, lo;

		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		hi = hex_digit(p[0]);
		lo = hi < 0 ? -1 : hex_digit(p[1]);
		if (lo < 0) {
			Tcl_DecrRefCount(o);
			return isp_error(interp, "VALUE",
					 "-hex: expected pairs of hex digits "
					 "but got \"%s\"",
					 s);
		}
		Tcl_SetByteArrayLength(o, n + 1)[n] = (uint8_t)(hi << 4 | lo);
		n++;
		p += 2;
	}
	*out = o;
	return TCL_OK;
}

/* mem search ?-phys? ?-cpu N? ?-all? ?-hex HEX? ADDR LEN ?PATTERN? */
static int mem_search(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	bool all = false;
	const char *hex = NULL;
	int i = 1, plen, r = TCL_OK;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ "-all", ISP_OPT_FLAG, &all },
		{ "-hex", ISP_OPT_STR, &hex },
		{ NULL },
	};
	uint64_t addr, len, pos = 0;
	const uint8_t *pat;
	Tcl_Obj *po = NULL, *hits;
	uint8_t *buf;
	size_t keep = 0;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i != (hex ? 2 : 3))
		return isp_usage(interp, objv,
				 "?-phys? ?-cpu N? ?-all? ADDR LEN PATTERN, "
				 "or with -hex HEX: ADDR LEN");
	if (isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK ||
	    get_len(interp, objv[i + 1], ~0ULL, &len) != TCL_OK)
		return TCL_ERROR;
	if (hex) {
		if (parse_hex(interp, hex, &po) != TCL_OK)
			return TCL_ERROR;
	} else {
		po = objv[i + 2];
		Tcl_IncrRefCount(po);
	}
	pat = Tcl_GetByteArrayFromObj(po, &plen);
	if (plen == 0 || plen > (int)(CHUNK / 2)) {
		Tcl_DecrRefCount(po);
		return isp_error(interp, "VALUE",
				 "the pattern must be 1 to %u bytes long",
				 CHUNK / 2);
	}
	if (!(buf = alloc_buf(interp, CHUNK))) {
		Tcl_DecrRefCount(po);
		return TCL_ERROR;
	}
	hits = Tcl_NewListObj(0, NULL);
	Tcl_IncrRefCount(hits);
	/*
	 * buf[0..keep) holds the last plen-1 bytes of the chunk before, so
	 * that a match across two chunks is found.  pos: bytes read.
	 */
	while (pos < len) {
		size_t n = CHUNK - keep;
		uint8_t *p, *end;
		bool stop = false;

		if (n > len - pos)
			n = len - pos;
		r = isp_mem_read_all(isp, interp, w.cpu, w.phys, addr + pos,
				     buf + keep, n);
		if (r != TCL_OK)
			break;
		end = buf + keep + n;
		for (p = buf; (size_t)(end - p) >= (size_t)plen;) {
			uint8_t *m = memmem(p, end - p, pat, plen);

			if (!m)
				break;
			Tcl_ListObjAppendElement(
				NULL, hits,
				isp_hex(addr + pos - keep + (m - buf)));
			if (!all) {
				stop = true;
				break;
			}
			p = m + 1;
		}
		pos += n;
		if (stop)
			break;
		keep = (size_t)plen - 1 < (size_t)(end - buf) ?
			       (size_t)plen - 1 :
			       (size_t)(end - buf);
		memmove(buf, end - keep, keep);
	}
	ckfree((char *)buf);
	Tcl_DecrRefCount(po);
	if (r == TCL_OK) {
		Tcl_Obj *first = NULL;

		if (!all)
			Tcl_ListObjIndex(NULL, hits, 0, &first);
		Tcl_SetObjResult(interp, all   ? hits :
					 first ? first :
						 Tcl_NewObj());
	}
	Tcl_DecrRefCount(hits);
	return r;
}

/* mem hexdump ?-phys? ?-cpu N? ADDR ?LEN? */
static int mem_hexdump(struct isp *isp, Tcl_Interp *interp, int objc,
		       Tcl_Obj *const objv[])
{
	struct where w = { .cpu = isp->cpu };
	int i = 1, digits;
	const struct isp_opt opts[] = {
		{ "-phys", ISP_OPT_FLAG, &w.phys },
		{ "-cpu", ISP_OPT_CPU, &w.cpu },
		{ NULL },
	};
	uint64_t addr, len = 64;
	uint8_t *buf;
	Tcl_Obj *o;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i < 1 || objc - i > 2)
		return isp_usage(interp, objv, "?-phys? ?-cpu N? ADDR ?LEN?");
	if (isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK)
		return TCL_ERROR;
	if (objc - i == 2 &&
	    get_len(interp, objv[i + 1], CHUNK, &len) != TCL_OK)
		return TCL_ERROR;
	if (!(buf = alloc_buf(interp, len)))
		return TCL_ERROR;
	if (isp_mem_read_all(isp, interp, w.cpu, w.phys, addr, buf, len) !=
	    TCL_OK) {
		ckfree((char *)buf);
		return TCL_ERROR;
	}
	/* hexdump -C's layout, with the guest's addresses. */
	digits = len && addr + (len - 1) > 0xffffffffULL ? 16 : 8;
	o = Tcl_NewObj();
	for (uint64_t off = 0; off < len; off += 16) {
		char line[128], *p = line;
		int n = len - off < 16 ? (int)(len - off) : 16;

		p += sprintf(p, "%s%0*" PRIx64 " ", off ? "\n" : "", digits,
			     addr + off);
		for (int j = 0; j < 16; j++) {
			if (j == 8)
				*p++ = ' ';
			if (j < n)
				p += sprintf(p, " %02x", buf[off + j]);
			else
				p += sprintf(p, "   ");
		}
		p += sprintf(p, "  |");
		for (int j = 0; j < n; j++) {
			uint8_t c = buf[off + j];

			*p++ = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		*p++ = '|';
		Tcl_AppendToObj(o, line, (int)(p - line));
	}
	ckfree((char *)buf);
	Tcl_SetObjResult(interp, o);
	return TCL_OK;
}

static const struct isp_cmd mem_cmds[] = {
	{ "read", mem_read, "?-phys? ?-cpu N? ?-width 1|2|4|8? ADDR ?COUNT?",
	  "COUNT values of -width bytes (default 8) from ADDR, little-endian, "
	  "as a list of hex strings; without COUNT the one value itself.  "
	  "Addresses are virtual through the paging of vCPU -cpu (default "
	  "the selected one), or guest-physical with -phys; an address that "
	  "is not mapped is an error (errorCode VITRO FAULT)",
	  ISP_VM },
	{ "write", mem_write,
	  "?-phys? ?-cpu N? ?-width 1|2|4|8? ADDR VALUE ?VALUE ...?",
	  "store the VALUEs at ADDR, each -width bytes (default 8), "
	  "little-endian; each must fit its width, as unsigned or negative. "
	  "Returns nothing; a write that reaches an unmapped page stops "
	  "there with a FAULT error, the bytes before it written",
	  ISP_VM },
	{ "bytes", mem_bytes, "?-phys? ?-cpu N? ADDR LEN",
	  "LEN bytes from ADDR as a Tcl byte array (binary string), up to "
	  "64 MiB",
	  ISP_VM },
	{ "writebytes", mem_writebytes, "?-phys? ?-cpu N? ADDR DATA",
	  "store the byte array DATA at ADDR (what `mem bytes` returns); "
	  "returns nothing",
	  ISP_VM },
	{ "dump", mem_dump, "?-phys? ?-cpu N? ADDR LEN FILE",
	  "write LEN bytes from ADDR to FILE (created or truncated), 1 MiB "
	  "at a time, and return the count.  At an unmapped page a FAULT "
	  "error names its address; the file keeps what was read before it",
	  ISP_VM },
	{ "search", mem_search,
	  "?-phys? ?-cpu N? ?-all? ADDR LEN PATTERN | ... -hex HEX ADDR LEN",
	  "find the byte array PATTERN (or the bytes of -hex HEX, as "
	  "\"4142\" or \"41 42\") in LEN bytes from ADDR: the address of "
	  "the first match, or \"\" when there is none; with -all the list "
	  "of every match (overlapping ones too).  An unmapped page in the "
	  "range is a FAULT error",
	  ISP_VM },
	{ "hexdump", mem_hexdump, "?-phys? ?-cpu N? ADDR ?LEN?",
	  "LEN bytes (default 64, at most 1 MiB) from ADDR as text, 16 a "
	  "line in hexdump -C's form: \"ADDRESS  xx xx ... xx  |ascii|\"",
	  ISP_VM },
	{ NULL },
};

const struct isp_group isp_group_mem = {
	.name = "mem",
	.summary = "read, write, dump and search guest memory",
	.cmds = mem_cmds,
};

/* translate: one address, or the whole map. */

static void paging_for_walk(const struct vm_guest_paging *vp,
			    struct ptwalk_paging *pg)
{
	*pg = (struct ptwalk_paging){
		.mode = vp->paging_mode,
		.cr3 = vp->cr3,
		.nxe = vp->nxe,
		.pse = vp->pse,
	};
}

static int tr_read(void *arg, uint64_t gpa, void *buf, size_t len)
{
	struct isp *isp = arg;
	ssize_t n = vm_read_gpa(isp->ctx, gpa, buf, len);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? (int)n : -EFAULT;
}

static int tr_range(void *arg, const struct ptwalk_range *r)
{
	Tcl_Obj *list = arg, *d = Tcl_NewDictObj();
	char perms[5];

	perms[0] = 'r';
	perms[1] = r->perms & PTWALK_W ? 'w' : '-';
	perms[2] = r->perms & PTWALK_X ? 'x' : '-';
	perms[3] = r->perms & PTWALK_U ? 'u' : '-';
	perms[4] = 0;
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("va", -1), isp_hex(r->va));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("pa", -1), isp_hex(r->pa));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("size", -1), isp_hex(r->size));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("perms", -1),
		       Tcl_NewStringObj(perms, -1));
	Tcl_ListObjAppendElement(NULL, list, d);
	return 0;
}

static int translate_map(struct isp *isp, Tcl_Interp *interp,
			 const struct vm_guest_paging *vp, uint64_t from,
			 uint64_t last)
{
	struct ptwalk_paging pg;
	Tcl_Obj *list = Tcl_NewListObj(0, NULL);
	int r;

	paging_for_walk(vp, &pg);
	Tcl_IncrRefCount(list);
	r = ptwalk_map(&pg, from, last, tr_read, isp, tr_range, list, NULL);
	if (r < 0) {
		Tcl_DecrRefCount(list);
		return isp_errno(interp, r,
				 "walking the page tables at 0x%" PRIx64,
				 vp->cr3);
	}
	Tcl_SetObjResult(interp, list);
	Tcl_DecrRefCount(list);
	return TCL_OK;
}

static void dict_put(Tcl_Obj *d, const char *key, Tcl_Obj *v)
{
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj(key, -1), v);
}

/*
 * translate ?-cpu N? ?-write? ?-exec? ?-user? ADDR
 * translate -map ?-cpu N? ?-from ADDR? ?-to ADDR?
 */
static int translate_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
			 Tcl_Obj *const objv[])
{
	bool map = false, wr = false, ex = false, user = false;
	uint64_t from = 0, to = 0;
	Tcl_Obj *to_obj = NULL;
	int cpu = isp->cpu, i = 1, r;
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &cpu },
		{ "-write", ISP_OPT_FLAG, &wr },
		{ "-exec", ISP_OPT_FLAG, &ex },
		{ "-user", ISP_OPT_FLAG, &user },
		{ "-map", ISP_OPT_FLAG, &map },
		{ "-from", ISP_OPT_ADDR, &from },
		{ "-to", ISP_OPT_OBJ, &to_obj },
		{ NULL },
	};
	struct vm_guest_paging vp;
	struct ptwalk_paging pg;
	struct vm_gla2gpa w;
	uint64_t addrs[VM_WALK_MAX_LEVELS];
	struct vcpu *vcpu;
	Tcl_Obj *d, *levels;
	int top;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (map ? objc != i : objc - i != 1)
		return isp_usage(interp, objv,
				 "?-cpu N? ?-write? ?-exec? ?-user? ADDR, or "
				 "-map ?-cpu N? ?-from ADDR? ?-to ADDR?");
	if (to_obj && isp_get_addr(isp, interp, to_obj, &to) != TCL_OK)
		return TCL_ERROR;
	if (to_obj && to <= from)
		return isp_error(interp, "VALUE",
				 "-to 0x%" PRIx64
				 " is not above -from 0x%" PRIx64,
				 to, from);
	if (!(vcpu = isp_vcpu(isp, cpu)))
		return isp_error(interp, "VALUE", "no vCPU %d", cpu);
	r = vm_get_guest_paging(vcpu, &vp);
	if (r < 0)
		return isp_errno(interp, r, "reading vCPU %d's paging state",
				 cpu);
	if (map)
		return translate_map(isp, interp, &vp, from,
				     to_obj ? to - 1 : ~0ULL);

	memset(&w, 0, sizeof(w));
	if (isp_get_addr(isp, interp, objv[i], &w.gla) != TCL_OK)
		return TCL_ERROR;
	if (user)
		vp.cpl = 3;
	w.paging = vp;
	w.prot = VM_PROT_READ | (wr ? VM_PROT_WRITE : 0) |
		 (ex ? VM_PROT_EXEC : 0);
	r = vm_gla2gpa_walk(vcpu, &w, true);
	if (r == -EFAULT)
		return isp_error(interp, "FAULT",
				 "the page tables of 0x%" PRIx64
				 " are not in guest memory (cr3 0x%" PRIx64 ")",
				 w.gla, vp.cr3);
	if (r < 0)
		return isp_errno(interp, r, "translating 0x%" PRIx64, w.gla);

	paging_for_walk(&vp, &pg);
	top = ptwalk_levels(vp.paging_mode);
	if (w.levels > VM_WALK_MAX_LEVELS || w.levels < 0)
		w.levels = 0;
	ptwalk_entry_addrs(&pg, w.gla, w.pte, w.levels, addrs);
	levels = Tcl_NewListObj(0, NULL);
	for (int k = 0; k < w.levels; k++) {
		Tcl_Obj *l = Tcl_NewDictObj();
		char flags[64];

		dict_put(l, "level", Tcl_NewIntObj(top - k));
		dict_put(l, "entry_addr", isp_hex(addrs[k]));
		dict_put(l, "entry", isp_hex(w.pte[k]));
		dict_put(l, "flags",
			 Tcl_NewStringObj(ptwalk_entry_flags(&pg, top - k,
							     w.pte[k], flags,
							     sizeof(flags)),
					  -1));
		Tcl_ListObjAppendElement(NULL, levels, l);
	}
	d = Tcl_NewDictObj();
	dict_put(d, "gla", isp_hex(w.gla));
	dict_put(d, "gpa", w.fault ? Tcl_NewObj() : isp_hex(w.gpa));
	dict_put(d, "fault", Tcl_NewIntObj(w.fault));
	dict_put(d, "mode",
		 Tcl_NewStringObj(ptwalk_mode_name(vp.paging_mode) ?
					  ptwalk_mode_name(vp.paging_mode) :
					  "unknown",
				  -1));
	dict_put(d, "levels", levels);
	if (w.fault) {
		dict_put(d, "vector", Tcl_NewIntObj(w.vector));
		dict_put(d, "error_code", isp_hex(w.error_code));
		dict_put(d, "fault_level", Tcl_NewIntObj(w.fault_level));
	} else {
		dict_put(d, "size", isp_hex(w.page_size));
	}
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

static const struct isp_cmd translate_cmds[] = {
	{ "", translate_cmd,
	  "?-cpu N? ?-write? ?-exec? ?-user? ADDR | -map ?-cpu N? ?-from "
	  "ADDR? ?-to ADDR?",
	  "ADDR through vCPU -cpu's paging (never touching the guest) for a "
	  "read, or a write / fetch / CPL-3 access: a dict {gla gpa fault "
	  "mode levels} with size (the page's) when it maps, or vector, "
	  "error_code and fault_level when the CPU would fault (fault 1, "
	  "gpa \"\"; not an error); levels lists the entries read, top "
	  "first, as {level entry_addr entry flags}.  mode: flat, 32-bit, "
	  "pae, 4-level or 5-level.  With -map: every mapped range of the "
	  "page tables (from -from, below -to), as dicts {va pa size "
	  "perms}, runs contiguous in both spaces with equal rights merged; "
	  "perms is r, w or -, x or -, u (user) or -",
	  ISP_VM },
	{ NULL },
};

const struct isp_group isp_group_translate = {
	.name = "translate",
	.summary = "translate guest-virtual addresses; list the page map",
	.cmds = translate_cmds,
};
