/*
 * introspect/cmd_disas.c: `disas`, guest code disassembled with capstone
 * in the vCPU's current mode (or one given), each instruction a dict, or
 * the whole as one text with the vCPU's next instruction marked.
 *
 * Threads: the interp's thread only.  A capstone handle is opened per
 * call (cheap), so no state is kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "introspect/isp_int.h"

/* The longest x86 instruction. */
#define INSN_MAX 15
#define COUNT_MAX 10000

/* Where the vCPU is: its mode (16, 32, 64) and linear pc. */
static int vcpu_where(struct isp *isp, Tcl_Interp *interp, int cpu, int *mode,
		      uint64_t *pc)
{
	static const int regs[] = { VM_REG_GUEST_RIP, VM_REG_GUEST_CS_BASE,
				    VM_REG_GUEST_CS_ACCESS };
	struct vm_guest_paging pg;
	struct vcpu *v = isp_vcpu(isp, cpu);
	uint64_t val[3];
	int r;

	if (!v)
		return isp_error(interp, "VALUE", "no vCPU %d", cpu);
	r = vm_get_guest_paging(v, &pg);
	if (r == 0)
		r = vm_get_register_set(v, 3, regs, val);
	if (r < 0)
		return isp_errno(interp, r, "reading vCPU %d's registers", cpu);
	switch (pg.cpu_mode) {
	case CPU_MODE_64BIT:
		*mode = 64;
		*pc = val[0];
		return TCL_OK;
	case CPU_MODE_REAL:
		*mode = 16;
		break;
	default:
		/* Protected or compatibility mode: CS.D picks the size. */
		*mode = val[2] & VM_SEG_ACCESS_DB ? 32 : 16;
		break;
	}
	*pc = (uint32_t)(val[1] + val[0]);
	return TCL_OK;
}

static Tcl_Obj *hex_bytes(const uint8_t *b, size_t n)
{
	char buf[3 * INSN_MAX + 1];
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && i < INSN_MAX; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%02x",
				i ? " " : "", b[i]);
	return Tcl_NewStringObj(buf, -1);
}

/* One line of -text: "=> 0x101000 <sym>:  55 48 89 e5  push %rbp". */
static void text_line(Tcl_Obj *out, bool cur, uint64_t addr, const char *sym,
		      Tcl_Obj *bytes, const char *text)
{
	Tcl_AppendPrintfToObj(out, "%s%s 0x%" PRIx64 "%s%s%s:  %-21s  %s",
			      Tcl_GetCharLength(out) ? "\n" : "",
			      cur ? "=>" : "  ", addr, *sym ? " <" : "", sym,
			      *sym ? ">" : "", Tcl_GetString(bytes), text);
}

/*
 * disas ?-cpu N? ?-phys? ?-mode 16|32|64? ?-count N? ?-syntax att|intel?
 *       ?-text? ?ADDR?
 */
static int disas_cmd(struct isp *isp, Tcl_Interp *interp, int objc,
		     Tcl_Obj *const objv[])
{
	int cpu = isp->cpu, mode = 0, count = 10, i = 1, vmode = 64;
	bool phys = false, text = false;
	const char *syntax = "att";
	const struct isp_opt opts[] = {
		{ "-cpu", ISP_OPT_CPU, &cpu },
		{ "-phys", ISP_OPT_FLAG, &phys },
		{ "-mode", ISP_OPT_INT, &mode },
		{ "-count", ISP_OPT_INT, &count },
		{ "-syntax", ISP_OPT_STR, &syntax },
		{ "-text", ISP_OPT_FLAG, &text },
		{ NULL },
	};
	uint8_t buf[16 * INSN_MAX], *mem = buf;
	uint64_t addr, pc = 0;
	size_t want, size;
	const uint8_t *code;
	ssize_t got;
	Tcl_Obj *out;
	cs_insn *insn;
	csh h;

	if (isp_opts(isp, interp, objc, objv, &i, opts) != TCL_OK)
		return TCL_ERROR;
	if (objc - i > 1)
		return isp_usage(interp, objv,
				 "?-cpu N? ?-phys? ?-mode 16|32|64? ?-count N? "
				 "?-syntax att|intel? ?-text? ?ADDR?");
	if (mode && mode != 16 && mode != 32 && mode != 64)
		return isp_error(interp, "VALUE",
				 "bad mode %d: must be 16, 32 or 64", mode);
	if (count < 1 || count > COUNT_MAX)
		return isp_error(interp, "VALUE",
				 "bad count %d: must be 1 to %d", count,
				 COUNT_MAX);
	if (strcmp(syntax, "att") && strcmp(syntax, "intel"))
		return isp_error(interp, "VALUE",
				 "bad syntax \"%s\": must be att or intel",
				 syntax);
	if (vcpu_where(isp, interp, cpu, &vmode, &pc) != TCL_OK)
		return TCL_ERROR;
	if (!mode)
		mode = vmode;
	addr = pc;
	if (objc - i == 1 &&
	    isp_get_addr(isp, interp, objv[i], &addr) != TCL_OK)
		return TCL_ERROR;

	want = (size_t)count * INSN_MAX;
	if (want > sizeof(buf) && !(mem = attemptckalloc(want)))
		return isp_error(interp, "POSIX", "cannot allocate %zu bytes",
				 want);
	/* Fewer bytes than asked is fine: the code may end at a hole. */
	got = isp_mem_read(isp, cpu, phys, addr, mem, want);
	if (got <= 0) {
		isp_mem_read_all(isp, interp, cpu, phys, addr, mem, 1);
		if (mem != buf)
			ckfree((char *)mem);
		return TCL_ERROR;
	}
	if (cs_open(CS_ARCH_X86,
		    mode == 64 ? CS_MODE_64 :
		    mode == 32 ? CS_MODE_32 :
				 CS_MODE_16,
		    &h) != CS_ERR_OK) {
		if (mem != buf)
			ckfree((char *)mem);
		return isp_error(interp, "POSIX", "capstone: cannot open");
	}
	if (!strcmp(syntax, "att"))
		cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
	insn = cs_malloc(h);
	out = Tcl_NewObj();
	Tcl_IncrRefCount(out);
	code = mem;
	size = got;
	for (int k = 0; k < count && size > 0; k++) {
		uint64_t at = addr + (code - mem);
		uint64_t next = at;
		const uint8_t *start = code;
		char sym[256], line[192];
		Tcl_Obj *bytes;
		size_t len;

		if (cs_disasm_iter(h, &code, &size, &next, insn)) {
			len = insn->size;
			snprintf(line, sizeof(line), "%s%s%s", insn->mnemonic,
				 insn->op_str[0] ? " " : "", insn->op_str);
		} else if (size < INSN_MAX && (size_t)got < want) {
			/* Cut off by the end of what could be read. */
			break;
		} else {
			/* Not an instruction: show one byte and go on. */
			len = 1;
			code++;
			size--;
			snprintf(line, sizeof(line), "(bad)");
		}
		if (isp_sym_describe(isp, at, sym, sizeof(sym)) < 0)
			sym[0] = 0;
		bytes = hex_bytes(start, len);
		if (text) {
			text_line(out, at == pc, at, sym, bytes, line);
			/* bytes was only formatted: free it. */
			Tcl_IncrRefCount(bytes);
			Tcl_DecrRefCount(bytes);
			continue;
		}
		Tcl_Obj *d = Tcl_NewDictObj();

		Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("addr", -1),
			       isp_hex(at));
		Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("bytes", -1), bytes);
		Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("text", -1),
			       Tcl_NewStringObj(line, -1));
		Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("sym", -1),
			       Tcl_NewStringObj(sym, -1));
		Tcl_DictObjPut(NULL, d, Tcl_NewStringObj("current", -1),
			       Tcl_NewIntObj(at == pc));
		Tcl_ListObjAppendElement(NULL, out, d);
	}
	cs_free(insn, 1);
	cs_close(&h);
	if (mem != buf)
		ckfree((char *)mem);
	Tcl_SetObjResult(interp, out);
	Tcl_DecrRefCount(out);
	return TCL_OK;
}

static const struct isp_cmd disas_cmds[] = {
	{ "", disas_cmd,
	  "?-cpu N? ?-phys? ?-mode 16|32|64? ?-count N? ?-syntax att|intel? "
	  "?-text? ?ADDR?",
	  "disassemble -count instructions (default 10) from ADDR (default: "
	  "where vCPU -cpu is, CS.base + rip) in the vCPU's mode (real: 16; "
	  "protected and compatibility: CS.D; long: 64) unless -mode, in "
	  "AT&T syntax as objdump and gdb show it unless -syntax intel.  A "
	  "list of dicts {addr bytes text sym current}: bytes in hex, sym "
	  "the symbol and offset when symbols are loaded (else \"\"), "
	  "current 1 for the vCPU's next instruction.  Bytes that decode to "
	  "nothing come out as \"(bad)\", one at a time.  With -text: one "
	  "string, a line per instruction, \"=>\" marking the current one",
	  ISP_VM },
	{ NULL },
};

const struct isp_group isp_group_disas = {
	.name = "disas",
	.summary = "disassemble guest code",
	.cmds = disas_cmds,
};
