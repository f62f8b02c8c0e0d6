/*
 * monitor/coredump.c: an ELF core of the guest in QEMU's layout
 * (coredump.h).
 *
 * Pure: no libvmmapi; the caller gives registers, memory and mappings.
 * No threads of its own, no state between calls.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/coredump.h"
#include "vmm/vmm_dev.h"

/* Indexes into coredump_cpu.r: the order of coredump_regnums. */
enum {
	R_RAX,
	R_RBX,
	R_RCX,
	R_RDX,
	R_RSI,
	R_RDI,
	R_RBP,
	R_RSP,
	R_R8,
	R_R15 = R_R8 + 7,
	R_RIP,
	R_RFLAGS,
	R_SEL, /* 8 selectors: es cs ss ds fs gs ldtr tr */
	R_BASE = R_SEL + 8, /* 8 bases, same order */
	R_LIMIT = R_BASE + 8,
	R_ACCESS = R_LIMIT + 8,
	R_GDTR_BASE = R_ACCESS + 8,
	R_GDTR_LIMIT,
	R_IDTR_BASE,
	R_IDTR_LIMIT,
	R_CR0,
	R_CR2,
	R_CR3,
	R_CR4,
	R_KGS_BASE,
	R_COUNT
};

/* Segment order of vm_reg_name (and so of R_SEL...). */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR };

const int coredump_regnums[COREDUMP_NREGS] = {
	VM_REG_GUEST_RAX,
	VM_REG_GUEST_RBX,
	VM_REG_GUEST_RCX,
	VM_REG_GUEST_RDX,
	VM_REG_GUEST_RSI,
	VM_REG_GUEST_RDI,
	VM_REG_GUEST_RBP,
	VM_REG_GUEST_RSP,
	VM_REG_GUEST_R8,
	VM_REG_GUEST_R9,
	VM_REG_GUEST_R10,
	VM_REG_GUEST_R11,
	VM_REG_GUEST_R12,
	VM_REG_GUEST_R13,
	VM_REG_GUEST_R14,
	VM_REG_GUEST_R15,
	VM_REG_GUEST_RIP,
	VM_REG_GUEST_RFLAGS,
	VM_REG_GUEST_ES,
	VM_REG_GUEST_CS,
	VM_REG_GUEST_SS,
	VM_REG_GUEST_DS,
	VM_REG_GUEST_FS,
	VM_REG_GUEST_GS,
	VM_REG_GUEST_LDTR,
	VM_REG_GUEST_TR,
	VM_REG_GUEST_ES_BASE,
	VM_REG_GUEST_CS_BASE,
	VM_REG_GUEST_SS_BASE,
	VM_REG_GUEST_DS_BASE,
	VM_REG_GUEST_FS_BASE,
	VM_REG_GUEST_GS_BASE,
	VM_REG_GUEST_LDTR_BASE,
	VM_REG_GUEST_TR_BASE,
	VM_REG_GUEST_ES_LIMIT,
	VM_REG_GUEST_CS_LIMIT,
	VM_REG_GUEST_SS_LIMIT,
	VM_REG_GUEST_DS_LIMIT,
	VM_REG_GUEST_FS_LIMIT,
	VM_REG_GUEST_GS_LIMIT,
	VM_REG_GUEST_LDTR_LIMIT,
	VM_REG_GUEST_TR_LIMIT,
	VM_REG_GUEST_ES_ACCESS,
	VM_REG_GUEST_CS_ACCESS,
	VM_REG_GUEST_SS_ACCESS,
	VM_REG_GUEST_DS_ACCESS,
	VM_REG_GUEST_FS_ACCESS,
	VM_REG_GUEST_GS_ACCESS,
	VM_REG_GUEST_LDTR_ACCESS,
	VM_REG_GUEST_TR_ACCESS,
	VM_REG_GUEST_GDTR_BASE,
	VM_REG_GUEST_GDTR_LIMIT,
	VM_REG_GUEST_IDTR_BASE,
	VM_REG_GUEST_IDTR_LIMIT,
	VM_REG_GUEST_CR0,
	VM_REG_GUEST_CR2,
	VM_REG_GUEST_CR3,
	VM_REG_GUEST_CR4,
	VM_REG_GUEST_KGS_BASE,
	/* Padding up to COREDUMP_NREGS: read, not used. */
	VM_REG_GUEST_CR8,
	VM_REG_GUEST_EFER,
	VM_REG_GUEST_DR6,
	VM_REG_GUEST_DR7,
	VM_REG_GUEST_APIC_BASE,
};
_Static_assert(R_COUNT <= COREDUMP_NREGS, "coredump_regnums too short");

/* The x86-64 struct elf_prstatus (Linux's, as QEMU writes it). */
struct prstatus {
	uint32_t si_signo, si_code, si_errno;
	uint16_t cursig;
	uint16_t pad0;
	uint64_t sigpend, sighold;
	uint32_t pid, ppid, pgrp, sid;
	uint64_t utime[2], stime[2], cutime[2], cstime[2];
	/* struct user_regs_struct */
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
	uint32_t fpvalid;
	uint32_t pad1;
};
_Static_assert(sizeof(struct prstatus) == COREDUMP_PRSTATUS_SIZE,
	       "elf_prstatus is 336 bytes on x86-64");

/* QEMU's QEMUCPUSegment and QEMUCPUState (target/i386/arch_dump.c). */
struct qemu_seg {
	uint32_t selector, limit, flags, pad;
	uint64_t base;
};

struct qemu_state {
	uint32_t version, size;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	struct qemu_seg cs, ds, es, fs, gs, ss;
	struct qemu_seg ldt, tr, gdt, idt;
	uint64_t cr[5];
	uint64_t kernel_gs_base;
};
_Static_assert(sizeof(struct qemu_state) == COREDUMP_QEMU_STATE_SIZE,
	       "QEMUCPUState is 440 bytes");

#define NOTE_ALIGN(n) (((n) + 3) & ~(size_t)3)

static size_t note_size(const char *name, size_t desc)
{
	return sizeof(Elf64_Nhdr) + NOTE_ALIGN(strlen(name) + 1) +
	       NOTE_ALIGN(desc);
}

static uint8_t *note_put(uint8_t *p, const char *name, uint32_t type,
			 const void *desc, size_t len)
{
	Elf64_Nhdr h = {
		.n_namesz = (Elf64_Word)(strlen(name) + 1),
		.n_descsz = (Elf64_Word)len,
		.n_type = type,
	};

	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, name, h.n_namesz);
	p += NOTE_ALIGN(h.n_namesz);
	memcpy(p, desc, len);
	return p + NOTE_ALIGN(len);
}

static void prstatus_fill(struct prstatus *s, const uint64_t *r, int cpu)
{
	memset(s, 0, sizeof(*s));
	s->pid = (uint32_t)cpu + 1; /* as QEMU: the vCPU index + 1 */
	s->r15 = r[R_R8 + 7];
	s->r14 = r[R_R8 + 6];
	s->r13 = r[R_R8 + 5];
	s->r12 = r[R_R8 + 4];
	s->rbp = r[R_RBP];
	s->rbx = r[R_RBX];
	s->r11 = r[R_R8 + 3];
	s->r10 = r[R_R8 + 2];
	s->r9 = r[R_R8 + 1];
	s->r8 = r[R_R8];
	s->rax = r[R_RAX];
	s->rcx = r[R_RCX];
	s->rdx = r[R_RDX];
	s->rsi = r[R_RSI];
	s->rdi = r[R_RDI];
	s->orig_rax = r[R_RAX];
	s->rip = r[R_RIP];
	s->cs = r[R_SEL + S_CS];
	s->eflags = r[R_RFLAGS];
	s->rsp = r[R_RSP];
	s->ss = r[R_SEL + S_SS];
	s->fs_base = r[R_BASE + S_FS];
	s->gs_base = r[R_BASE + S_GS];
	s->ds = r[R_SEL + S_DS];
	s->es = r[R_SEL + S_ES];
	s->fs = r[R_SEL + S_FS];
	s->gs = r[R_SEL + S_GS];
}

static struct qemu_seg seg(const uint64_t *r, int i)
{
	uint64_t ar = r[R_ACCESS + i];

	/* VMX access rights to the descriptor's second dword, as QEMU. */
	return (struct qemu_seg){
		.selector = (uint32_t)r[R_SEL + i],
		.limit = (uint32_t)r[R_LIMIT + i],
		.flags = (uint32_t)(((ar & 0xff) << 8) |
				    (((ar >> 12) & 0xf) << 20)),
		.base = r[R_BASE + i],
	};
}

static void qemu_fill(struct qemu_state *q, const uint64_t *r)
{
	memset(q, 0, sizeof(*q));
	q->version = 1;
	q->size = sizeof(*q);
	q->rax = r[R_RAX];
	q->rbx = r[R_RBX];
	q->rcx = r[R_RCX];
	q->rdx = r[R_RDX];
	q->rsi = r[R_RSI];
	q->rdi = r[R_RDI];
	q->rsp = r[R_RSP];
	q->rbp = r[R_RBP];
	q->r8 = r[R_R8];
	q->r9 = r[R_R8 + 1];
	q->r10 = r[R_R8 + 2];
	q->r11 = r[R_R8 + 3];
	q->r12 = r[R_R8 + 4];
	q->r13 = r[R_R8 + 5];
	q->r14 = r[R_R8 + 6];
	q->r15 = r[R_R8 + 7];
	q->rip = r[R_RIP];
	q->rflags = r[R_RFLAGS];
	q->cs = seg(r, S_CS);
	q->ds = seg(r, S_DS);
	q->es = seg(r, S_ES);
	q->fs = seg(r, S_FS);
	q->gs = seg(r, S_GS);
	q->ss = seg(r, S_SS);
	q->ldt = seg(r, S_LDTR);
	q->tr = seg(r, S_TR);
	q->gdt.base = r[R_GDTR_BASE];
	q->gdt.limit = (uint32_t)r[R_GDTR_LIMIT];
	q->idt.base = r[R_IDTR_BASE];
	q->idt.limit = (uint32_t)r[R_IDTR_LIMIT];
	q->cr[0] = r[R_CR0];
	q->cr[2] = r[R_CR2];
	q->cr[3] = r[R_CR3];
	q->cr[4] = r[R_CR4];
	q->kernel_gs_base = r[R_KGS_BASE];
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * The PT_LOADs of a virtual range: one per memory range it falls in,
 * over that memory's bytes in the file (moff).  At most room; their
 * number.
 */
static size_t virt_parts(const struct coredump *cd, const uint64_t *moff,
			 const struct coredump_vrange *v, Elf64_Phdr *out,
			 size_t room)
{
	size_t n = 0;

	for (int m = 0; m < cd->nmem && n < room; m++) {
		const struct coredump_mem *mm = &cd->mem[m];
		uint64_t lo = v->pa > mm->gpa ? v->pa : mm->gpa;
		uint64_t vend = v->pa + v->size, mend = mm->gpa + mm->len;
		uint64_t hi = vend < mend ? vend : mend;

		if (lo >= hi)
			continue;
		out[n++] = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = moff[m] + (lo - mm->gpa),
			.p_vaddr = v->va + (lo - v->pa),
			.p_paddr = lo,
			.p_filesz = hi - lo,
			.p_memsz = hi - lo,
			.p_align = 0,
		};
	}
	return n;
}

#define CHUNK (1u << 20)

int coredump_write(int fd, const struct coredump *cd, char *err, size_t errlen)
{
	size_t nnote = 0, maxph, nph = 1, nvirt = 0;
	uint64_t off, total = 0, done = 0, *moff = NULL;
	Elf64_Phdr *ph = NULL;
	uint8_t *notes = NULL, *p, *buf = NULL;
	Elf64_Ehdr eh;
	int r = -ENOMEM;

	for (int i = 0; i < cd->ncpus; i++)
		nnote += note_size("CORE", sizeof(struct prstatus)) +
			 note_size("QEMU", sizeof(struct qemu_state));
	maxph = 1 + (size_t)cd->nmem + COREDUMP_MAX_VIRT;
	ph = calloc(maxph, sizeof(*ph));
	notes = calloc(1, nnote ? nnote : 1);
	moff = calloc((size_t)cd->nmem + 1, sizeof(*moff));
	buf = malloc(CHUNK);
	if (!ph || !notes || !moff || !buf) {
		snprintf(err, errlen, "out of memory for the dump's headers");
		goto out;
	}
	p = notes;
	for (int i = 0; i < cd->ncpus; i++) {
		struct prstatus s;

		prstatus_fill(&s, cd->cpus[i].r, i);
		p = note_put(p, "CORE", NT_PRSTATUS, &s, sizeof(s));
	}
	for (int i = 0; i < cd->ncpus; i++) {
		struct qemu_state q;

		qemu_fill(&q, cd->cpus[i].r);
		p = note_put(p, "QEMU", 0, &q, sizeof(q));
	}

	/* Where memory goes: after the headers that can be, page-aligned. */
	for (size_t v = 0; v < cd->nvirt; v++)
		nvirt += (size_t)cd->nmem; /* an upper bound of the parts */
	if (nvirt > COREDUMP_MAX_VIRT)
		nvirt = COREDUMP_MAX_VIRT;
	off = sizeof(eh) + (1 + (uint64_t)cd->nmem + nvirt) * sizeof(*ph) +
	      nnote;
	off = (off + 4095) & ~4095ull;
	for (int m = 0; m < cd->nmem; m++) {
		moff[m] = off;
		off += cd->mem[m].len;
		total += cd->mem[m].len;
	}
	nvirt = 0;
	for (size_t v = 0; v < cd->nvirt && nvirt < COREDUMP_MAX_VIRT; v++)
		nvirt += virt_parts(cd, moff, &cd->virt[v], ph + 1 + nvirt,
				    COREDUMP_MAX_VIRT - nvirt);
	nph = 1 + nvirt;
	for (int m = 0; m < cd->nmem; m++)
		ph[nph++] = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = moff[m],
			.p_vaddr = 0,
			.p_paddr = cd->mem[m].gpa,
			.p_filesz = cd->mem[m].len,
			.p_memsz = cd->mem[m].len,
		};
	ph[0] = (Elf64_Phdr){
		.p_type = PT_NOTE,
		.p_offset = sizeof(eh) + nph * sizeof(*ph),
		.p_filesz = nnote,
		.p_memsz = nnote,
	};
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(*ph);
	eh.e_phnum = (Elf64_Half)nph;

	if ((r = write_all(fd, &eh, sizeof(eh), 0)) < 0 ||
	    (r = write_all(fd, ph, nph * sizeof(*ph), sizeof(eh))) < 0 ||
	    (r = write_all(fd, notes, nnote, ph[0].p_offset)) < 0) {
		snprintf(err, errlen, "writing the dump's headers: %s",
			 strerror(-r));
		goto out;
	}
	for (int m = 0; m < cd->nmem; m++) {
		for (uint64_t at = 0; at < cd->mem[m].len;) {
			size_t n = cd->mem[m].len - at < CHUNK ?
					   (size_t)(cd->mem[m].len - at) :
					   CHUNK;

			r = cd->read(cd->arg, cd->mem[m].gpa + at, buf, n);
			if (r < 0) {
				snprintf(err, errlen,
					 "reading guest memory at 0x%llx: %s",
					 (unsigned long long)(cd->mem[m].gpa +
							      at),
					 strerror(-r));
				goto out;
			}
			r = write_all(fd, buf, n, moff[m] + at);
			if (r < 0) {
				snprintf(err, errlen, "writing the dump: %s",
					 strerror(-r));
				goto out;
			}
			at += n;
			done += n;
			if (cd->progress)
				cd->progress(cd->arg, done, total);
		}
	}
	if (ftruncate(fd, (off_t)off) < 0) {
		r = -errno;
		snprintf(err, errlen, "writing the dump: %s", strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(ph);
	free(notes);
	free(moff);
	free(buf);
	return r;
}
