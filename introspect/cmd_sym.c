/*
 * introspect/cmd_sym.c: `sym` - the symbols of ELF files the user loads
 * (a kernel, a module, a test guest), each with a slide, for every
 * command that takes or shows addresses (isp_sym_resolve, _describe,
 * _complete), and their DWARF, read on first use, for `sym line` and the
 * type commands (cmd_sym.h).
 *
 * The files are read in the process the console runs in (vitroctl's,
 * tclsh's or vitro's), not by the VM.
 *
 * Threads: the interp's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/cmd_sym.h"
#include "introspect/elfsym.h"
#include "introspect/kaslr.h"

struct isp_symfile {
	char *path; /* as loaded (realpath when it has one) */
	char *given; /* as the user wrote it */
	struct elfsym *es;
	struct dwinfo *dw; /* NULL until first used */
	bool dw_failed; /* reading it failed: dw_err says why */
	int dw_errno;
	char dw_err[256];
};

struct isp_syms {
	struct isp_symfile *files[ISP_SYM_MAXFILES]; /* in load order */
	int nfiles;
};

static void file_free(struct isp_symfile *f)
{
	if (!f)
		return;
	elfsym_free(f->es);
	dwinfo_free(f->dw);
	free(f->path);
	free(f->given);
	free(f);
}

void isp_sym_free(struct isp *isp)
{
	struct isp_syms *s = isp->syms;

	if (!s)
		return;
	for (int i = 0; i < s->nfiles; i++)
		file_free(s->files[i]);
	free(s);
	isp->syms = NULL;
}

static int nfiles(struct isp *isp)
{
	return isp->syms ? isp->syms->nfiles : 0;
}

static struct isp_symfile *file_at(struct isp *isp, int i)
{
	return isp->syms->files[i];
}

/* The loaded file named path (as given, or the same real file), or -1. */
static int file_find(struct isp *isp, const char *path)
{
	char real[PATH_MAX];
	bool have_real = realpath(path, real) != NULL;

	for (int i = 0; i < nfiles(isp); i++) {
		struct isp_symfile *f = file_at(isp, i);

		if (!strcmp(f->given, path) || !strcmp(f->path, path) ||
		    (have_real && !strcmp(f->path, real)))
			return i;
	}
	return -1;
}

static int dwarf_of(struct isp_symfile *f)
{
	if (f->dw)
		return 0;
	if (f->dw_failed)
		return -f->dw_errno;
	if (!elfsym_has_dwarf(f->es)) {
		snprintf(f->dw_err, sizeof(f->dw_err),
			 "%s has no DWARF (built without -g, or stripped)",
			 f->given);
		f->dw_errno = ENODATA;
		f->dw_failed = true;
		return -ENODATA;
	}
	f->dw = dwinfo_load(f->path, f->dw_err, sizeof(f->dw_err));
	if (!f->dw) {
		f->dw_errno = errno ? errno : EIO;
		f->dw_failed = true;
		return -f->dw_errno;
	}
	return 0;
}

int isp_sym_dwarfs(struct isp *isp, Tcl_Interp *interp,
		   struct dwinfo *out[ISP_SYM_MAXFILES], int *n)
{
	struct isp_symfile *bad = NULL;

	*n = 0;
	if (!nfiles(isp))
		return isp_error(interp, "NOSYM",
				 "no symbols loaded (sym load FILE loads an "
				 "ELF with DWARF)");
	for (int i = 0; i < nfiles(isp); i++) {
		struct isp_symfile *f = file_at(isp, i);

		if (dwarf_of(f) == 0)
			out[(*n)++] = f->dw;
		else if (!bad || f->dw_errno != ENODATA)
			bad = f;
	}
	if (bad && (!*n || bad->dw_errno != ENODATA))
		return isp_error(interp, "NOFILE", "%s", bad->dw_err);
	return TCL_OK;
}

/* The interface to the other commands. */

int isp_sym_file(struct isp *isp, int i, struct elfsym **es, struct dwinfo **dw)
{
	if (i < 0 || i >= nfiles(isp))
		return -ENOENT;
	*es = file_at(isp, i)->es;
	*dw = dwarf_of(file_at(isp, i)) == 0 ? file_at(isp, i)->dw : NULL;
	return 0;
}

int isp_sym_resolve(struct isp *isp, const char *name, uint64_t *addr)
{
	for (int i = 0; i < nfiles(isp); i++) {
		const struct elfsym_sym *s =
			elfsym_by_name(file_at(isp, i)->es, name);

		if (s) {
			*addr = s->addr;
			return 0;
		}
	}
	return -ENOENT;
}

/* The closest symbol covering addr over all files, and its file. */
static const struct elfsym_sym *describe(struct isp *isp, uint64_t addr,
					 int *file)
{
	const struct elfsym_sym *best = NULL;

	for (int i = 0; i < nfiles(isp); i++) {
		const struct elfsym_sym *s =
			elfsym_by_addr(file_at(isp, i)->es, addr);

		if (s && (!best || s->addr > best->addr)) {
			best = s;
			if (file)
				*file = i;
		}
	}
	return best;
}

int isp_sym_describe(struct isp *isp, uint64_t addr, char *buf, size_t len)
{
	const struct elfsym_sym *s = describe(isp, addr, NULL);

	if (!s)
		return -ENOENT;
	if (addr == s->addr)
		snprintf(buf, len, "%s", s->name);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	return 0;
}

Tcl_Obj *isp_sym_complete(struct isp *isp, const char *prefix)
{
	Tcl_Obj *list = Tcl_NewObj();
	Tcl_HashTable seen;

	Tcl_InitHashTable(&seen, TCL_STRING_KEYS);
	for (int i = 0; i < nfiles(isp); i++) {
		struct elfsym *es = file_at(isp, i)->es;
		size_t first, n = elfsym_prefix(es, prefix, &first);

		for (size_t j = 0; j < n; j++) {
			const char *name =
				elfsym_by_name_at(es, first + j)->name;
			int is_new;

			Tcl_CreateHashEntry(&seen, name, &is_new);
			if (is_new)
				Tcl_ListObjAppendElement(
					NULL, list, Tcl_NewStringObj(name, -1));
		}
	}
	Tcl_DeleteHashTable(&seen);
	return list;
}

/* Commands. */

static Tcl_Obj *file_dict(struct isp_symfile *f)
{
	Tcl_Obj *d = Tcl_NewDictObj();

	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("file", -1),
		       Tcl_NewStringObj(f->given, -1));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("symbols", -1),
		       Tcl_NewWideIntObj((Tcl_WideInt)elfsym_count(f->es)));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("dwarf", -1),
		       Tcl_NewIntObj(elfsym_has_dwarf(f->es)));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("slide", -1),
		       isp_hex(elfsym_slide(f->es)));
	return d;
}

/* sym load ?-slide OFFSET? FILE ?-slide OFFSET? */
static int sym_load(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	uint64_t slide = 0;
	const struct isp_opt opts[] = {
		{ "-slide", ISP_OPT_U64, &slide },
		{ 0 },
	};
	static const char usage[] = "FILE ?-slide OFFSET?";
	struct isp_symfile *f;
	char err[512], real[PATH_MAX];
	const char *path;
	int i = 1, at;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i >= objc)
		return isp_usage(interp, objv, usage);
	path = Tcl_GetString(objv[i++]);
	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (i != objc)
		return isp_usage(interp, objv, usage);
	at = file_find(isp, path);
	if (at < 0 && nfiles(isp) >= ISP_SYM_MAXFILES)
		return isp_error(interp, "NOFILE",
				 "cannot load %s: %d files are loaded already "
				 "(sym unload one)",
				 path, ISP_SYM_MAXFILES);
	f = calloc(1, sizeof(*f));
	if (!f)
		return isp_errno(interp, -ENOMEM, "loading %s", path);
	f->es = elfsym_load(path, err, sizeof(err));
	if (!f->es) {
		file_free(f);
		return isp_error(interp, "NOFILE", "%s", err);
	}
	f->given = strdup(path);
	f->path = strdup(realpath(path, real) ? real : path);
	if (!isp->syms)
		isp->syms = calloc(1, sizeof(*isp->syms));
	if (!f->given || !f->path || !isp->syms) {
		file_free(f);
		return isp_errno(interp, -ENOMEM, "loading %s", path);
	}
	elfsym_set_slide(f->es, slide);
	/* Loading a file again replaces it, in its place. */
	if (at >= 0) {
		file_free(isp->syms->files[at]);
		isp->syms->files[at] = f;
	} else {
		isp->syms->files[isp->syms->nfiles++] = f;
	}
	Tcl_SetObjResult(interp, file_dict(f));
	return TCL_OK;
}

static int sym_unload(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	int at;

	if (objc != 2)
		return isp_usage(interp, objv, "FILE");
	at = file_find(isp, Tcl_GetString(objv[1]));
	if (at < 0)
		return isp_error(interp, "NOFILE",
				 "%s is not loaded (sym files "
				 "lists what is)",
				 Tcl_GetString(objv[1]));
	file_free(isp->syms->files[at]);
	memmove(&isp->syms->files[at], &isp->syms->files[at + 1],
		(isp->syms->nfiles - at - 1) * sizeof(isp->syms->files[0]));
	isp->syms->nfiles--;
	return TCL_OK;
}

static int sym_files(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	Tcl_Obj *list = Tcl_NewObj();

	if (objc != 1)
		return isp_usage(interp, objv, "");
	for (int i = 0; i < nfiles(isp); i++)
		Tcl_ListObjAppendElement(NULL, list,
					 file_dict(file_at(isp, i)));
	Tcl_SetObjResult(interp, list);
	return TCL_OK;
}

static int need_syms(struct isp *isp, Tcl_Interp *interp)
{
	if (nfiles(isp))
		return TCL_OK;
	return isp_error(interp, "NOSYM",
			 "no symbols loaded (sym load FILE loads them)");
}

static int sym_lookup(struct isp *isp, Tcl_Interp *interp, int objc,
		      Tcl_Obj *const objv[])
{
	char buf[512];
	uint64_t addr;

	if (objc != 2)
		return isp_usage(interp, objv, "ADDR");
	if (need_syms(isp, interp) != TCL_OK ||
	    isp_get_addr(isp, interp, objv[1], &addr) != TCL_OK)
		return TCL_ERROR;
	if (isp_sym_describe(isp, addr, buf, sizeof(buf)) < 0)
		return isp_error(interp, "NOSYM",
				 "no symbol covers address 0x%" PRIx64, addr);
	Tcl_SetObjResult(interp, Tcl_NewStringObj(buf, -1));
	return TCL_OK;
}

static int sym_addr(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	uint64_t addr;

	if (objc != 2)
		return isp_usage(interp, objv, "NAME");
	if (need_syms(isp, interp) != TCL_OK)
		return TCL_ERROR;
	if (isp_sym_resolve(isp, Tcl_GetString(objv[1]), &addr) < 0)
		return isp_error(interp, "NOSYM", "unknown symbol \"%s\"",
				 Tcl_GetString(objv[1]));
	Tcl_SetObjResult(interp, isp_hex(addr));
	return TCL_OK;
}

static const char *sym_type_name(const struct elfsym_sym *s)
{
	if (s->abs)
		return "abs";
	switch (s->type) {
	case 1:
		return "object";
	case 2:
		return "func";
	case 10:
		return "ifunc";
	default:
		return "notype";
	}
}

static int sym_list(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	const char *pat = objc == 2 ? Tcl_GetString(objv[1]) : NULL;
	Tcl_Obj *list = Tcl_NewObj();

	if (objc > 2)
		return isp_usage(interp, objv, "?PATTERN?");
	for (int i = 0; i < nfiles(isp); i++) {
		struct elfsym *es = file_at(isp, i)->es;

		for (size_t j = 0; j < elfsym_count(es); j++) {
			const struct elfsym_sym *s = elfsym_at(es, j);
			Tcl_Obj *e[4];

			if (pat && !Tcl_StringMatch(s->name, pat))
				continue;
			e[0] = Tcl_NewStringObj(s->name, -1);
			e[1] = isp_hex(s->addr);
			e[2] = Tcl_NewWideIntObj((Tcl_WideInt)s->size);
			e[3] = Tcl_NewStringObj(sym_type_name(s), -1);
			Tcl_ListObjAppendElement(NULL, list,
						 Tcl_NewListObj(4, e));
		}
	}
	Tcl_SetObjResult(interp, list);
	return TCL_OK;
}

static int sym_line(struct isp *isp, Tcl_Interp *interp, int objc,
		    Tcl_Obj *const objv[])
{
	const char *file = NULL;
	unsigned int line = 0;
	uint64_t addr;
	int at = -1, r = -ENOENT;
	Tcl_Obj *d;

	if (objc != 2)
		return isp_usage(interp, objv, "ADDR");
	if (need_syms(isp, interp) != TCL_OK ||
	    isp_get_addr(isp, interp, objv[1], &addr) != TCL_OK)
		return TCL_ERROR;
	/* The file whose symbol covers addr first, then the others. */
	describe(isp, addr, &at);
	for (int k = -1; k < nfiles(isp) && r < 0; k++) {
		int i = k < 0 ? at : k;
		struct isp_symfile *f;

		if (i < 0 || (k >= 0 && k == at))
			continue;
		f = file_at(isp, i);
		if (dwarf_of(f) < 0) {
			if (nfiles(isp) == 1 || i == at)
				return isp_error(interp, "NOFILE", "%s",
						 f->dw_err);
			continue;
		}
		r = dwinfo_line(f->dw, addr - elfsym_slide(f->es), &file,
				&line);
	}
	if (r < 0)
		return isp_error(interp, "NOSYM",
				 "no line information for address 0x%" PRIx64,
				 addr);
	d = Tcl_NewDictObj();
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("file", -1),
		       Tcl_NewStringObj(file, -1));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("line", -1),
		       Tcl_NewIntObj((int)line));
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

/* The running kernel's state for kaslr_find, through the console. */
struct slide_src {
	struct isp *isp;
	int cpu;
};

static int slide_regs(void *arg, struct kaslr_cpu *cpu)
{
	struct slide_src *src = arg;
	struct vcpu *v = isp_vcpu(src->isp, src->cpu);
	uint64_t val[KASLR_CPU_NREGS];
	int r;

	if (!v)
		return -errno;
	r = vm_get_register_set(v, KASLR_CPU_NREGS, kaslr_cpu_regs, val);
	if (r < 0)
		return r;
	kaslr_cpu_set(cpu, val);
	return 0;
}

static ssize_t slide_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct slide_src *src = arg;

	return isp_mem_read(src->isp, src->cpu, false, addr, buf, len);
}

/* sym slide ?-cpu N? ?-file FILE? ?-auto|OFFSET? */
static int sym_slide(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	static const char usage[] = "?-cpu N? ?-file FILE? ?-auto|OFFSET?";
	static const struct kaslr_ops ops = { slide_regs, slide_read };
	struct slide_src src = { .isp = isp, .cpu = isp->cpu };
	const char *file = NULL;
	bool autos = false;
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &src.cpu },
		{ "-file", ISP_OPT_STR, &file },
		{ "-auto", ISP_OPT_FLAG, &autos },
		{ 0 },
	};
	struct kaslr_result res;
	struct elfsym *es;
	uint64_t slide;
	int i = 1, at = 0, r;
	Tcl_Obj *d;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i > 1 || (autos && i != objc))
		return isp_usage(interp, objv, usage);
	if (need_syms(isp, interp) != TCL_OK)
		return TCL_ERROR;
	if (file && (at = file_find(isp, file)) < 0)
		return isp_error(interp, "NOFILE",
				 "%s is not loaded (sym files lists what is)",
				 file);
	es = file_at(isp, at)->es;
	if (i < objc) {
		if (isp_get_u64(interp, objv[i], &slide) != TCL_OK)
			return TCL_ERROR;
		elfsym_set_slide(es, slide);
	}
	if (!autos) {
		Tcl_SetObjResult(interp, isp_hex(elfsym_slide(es)));
		return TCL_OK;
	}
	if (isp_need_vm(isp, interp) != TCL_OK)
		return TCL_ERROR;
	r = kaslr_find(&ops, &src, es, NULL, &res);
	if (r == -ENOENT || r == -EFAULT)
		return isp_error(interp, r == -ENOENT ? "NOSYM" : "FAULT",
				 "cannot find the slide of %s on vCPU %d: %s",
				 file_at(isp, at)->given, src.cpu, res.why);
	if (r < 0)
		return isp_errno(interp, r, "reading vCPU %d's IDT", src.cpu);
	elfsym_set_slide(es, res.slide);
	d = Tcl_NewDictObj();
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("slide", -1),
		       isp_hex(res.slide));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("symbol", -1),
		       Tcl_NewStringObj(res.symbol ? res.symbol : "", -1));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("handler", -1),
		       isp_hex(res.handler));
	Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("why", -1),
		       Tcl_NewStringObj(res.symbol ? "" : res.why, -1));
	Tcl_SetObjResult(interp, d);
	return TCL_OK;
}

static const struct isp_cmd sym_cmds[] = {
	{ "load", sym_load, "FILE ?-slide OFFSET?",
	  "Load an ELF file's symbols (its DWARF is read when type, print, "
	  "walk or sym line first need it), moved by OFFSET (where it is "
	  "loaded minus where it was linked).  Loading a file again "
	  "replaces it.  Returns {file F symbols N dwarf 0|1 slide S}.",
	  0 },
	{ "unload", sym_unload, "FILE", "Forget a loaded file.", 0 },
	{ "files", sym_files, "",
	  "The loaded files: a list of dicts as sym load returns.", 0 },
	{ "lookup", sym_lookup, "ADDR",
	  "The symbol covering ADDR, as name or name+0xOFFSET.", 0 },
	{ "addr", sym_addr, "NAME", "The address of symbol NAME.", 0 },
	{ "list", sym_list, "?PATTERN?",
	  "Symbols whose names match the glob PATTERN (all without one), "
	  "by address: a list of {name addr size type}, type one of func, "
	  "object, notype, ifunc, abs.",
	  0 },
	{ "slide", sym_slide, "?-cpu N? ?-file FILE? ?-auto|OFFSET?",
	  "The slide of a loaded file (the first loaded without -file: the "
	  "kernel), which every address of its symbols includes; with "
	  "OFFSET set it.  With -auto find a running kernel's KASLR slide "
	  "from vCPU N's IDT (gate 0 holds asm_exc_divide_error, or "
	  "early_idt_handler_array early in boot, at a 2 MiB-aligned "
	  "slide), set it and return {slide S symbol NAME handler H why "
	  "W}: slide 0 with why set when the kernel does not run in its "
	  "virtual map yet.",
	  0 },
	{ "line", sym_line, "ADDR",
	  "The source line of ADDR from the DWARF line tables: "
	  "{file PATH line N}.",
	  0 },
	{ 0 },
};

const struct isp_group isp_group_sym = {
	.name = "sym",
	.summary = "ELF symbols and source lines (sym load FILE first)",
	.cmds = sym_cmds,
};
