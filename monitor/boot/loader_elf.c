/*
 * loader_elf.c: ELF kernel images, read through their program headers.
 *
 * An ELF64 x86-64 executable without a Multiboot header is entered in
 * 64-bit mode; with a Multiboot header, ELF32 i386 and ELF64 x86-64
 * executables are loaded the same way and entered in 32-bit mode.  PT_LOAD
 * segments go to their physical addresses (p_paddr).  Every field of the
 * file is checked before it is used.  Pure and stateless.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/boot/loader_int.h"
#include "monitor/platform.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the ELF structures are read in host byte order");

/* The fields the loader uses, widened from ELF32 or ELF64. */
struct elf_ehdr {
	unsigned int bits; /* 32 or 64 */
	uint16_t type;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	uint16_t phentsize;
	uint16_t phnum;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

bool loader_is_elf(const uint8_t *data, size_t len)
{
	return len >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0;
}

/* The caller has checked that a whole header of the class is in the file. */
static void elf_read_ehdr(const uint8_t *data, struct elf_ehdr *eh)
{
	if (data[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr e;

		memcpy(&e, data, sizeof(e));
		eh->bits = 64;
		eh->type = e.e_type;
		eh->machine = e.e_machine;
		eh->entry = e.e_entry;
		eh->phoff = e.e_phoff;
		eh->phentsize = e.e_phentsize;
		eh->phnum = e.e_phnum;
	} else {
		Elf32_Ehdr e;

		memcpy(&e, data, sizeof(e));
		eh->bits = 32;
		eh->type = e.e_type;
		eh->machine = e.e_machine;
		eh->entry = e.e_entry;
		eh->phoff = e.e_phoff;
		eh->phentsize = e.e_phentsize;
		eh->phnum = e.e_phnum;
	}
}

static void elf_read_phdr(const uint8_t *p, unsigned int bits,
			  struct elf_phdr *ph)
{
	if (bits == 64) {
		Elf64_Phdr e;

		memcpy(&e, p, sizeof(e));
		ph->type = e.p_type;
		ph->offset = e.p_offset;
		ph->vaddr = e.p_vaddr;
		ph->paddr = e.p_paddr;
		ph->filesz = e.p_filesz;
		ph->memsz = e.p_memsz;
	} else {
		Elf32_Phdr e;

		memcpy(&e, p, sizeof(e));
		ph->type = e.p_type;
		ph->offset = e.p_offset;
		ph->vaddr = e.p_vaddr;
		ph->paddr = e.p_paddr;
		ph->filesz = e.p_filesz;
		ph->memsz = e.p_memsz;
	}
}

static int elf_check_ident(const uint8_t *data, size_t len, bool multiboot,
			   struct elf_ehdr *eh, char *msg, size_t msglen)
{
	size_t need;

	if (len < EI_NIDENT)
		return loader_fail(
			msg, msglen, -EINVAL,
			"truncated ELF header: the file is %zu bytes, the ELF identification alone needs %d",
			len, EI_NIDENT);
	if (data[EI_CLASS] != ELFCLASS32 && data[EI_CLASS] != ELFCLASS64)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"ELF class %u is neither ELF32 (1) nor ELF64 (2)",
			data[EI_CLASS]);
	if (data[EI_DATA] != ELFDATA2LSB)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"ELF data encoding %u is not little-endian (1), as an x86 kernel must be",
			data[EI_DATA]);
	if (data[EI_VERSION] != EV_CURRENT)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF identification version %u, expected 1 (EV_CURRENT)",
			data[EI_VERSION]);
	need = data[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) :
					      sizeof(Elf32_Ehdr);
	if (len < need)
		return loader_fail(
			msg, msglen, -EINVAL,
			"truncated ELF header: the file is %zu bytes, an ELF%d header needs %zu",
			len, data[EI_CLASS] == ELFCLASS64 ? 64 : 32, need);
	elf_read_ehdr(data, eh);

	if (eh->bits == 32 && !multiboot)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"ELF32 image without a Multiboot header: vitro boots 32-bit kernels only through Multiboot (add a Multiboot header) and ELF64 x86-64 kernels in 64-bit mode");
	if (eh->bits == 32 && eh->machine != EM_386)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"ELF32 Multiboot image must be i386 (e_machine 3), not e_machine %u",
			eh->machine);
	if (eh->bits == 64 && eh->machine != EM_X86_64)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"ELF64 image %s a Multiboot header must be x86-64 (e_machine 62), not e_machine %u",
			multiboot ? "with" : "without", eh->machine);
	if (eh->type != ET_EXEC)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"ELF type %u is not an executable (ET_EXEC, 2)",
			eh->type);
	return 0;
}

static int elf_check_phdrs(const struct elf_ehdr *eh, size_t len, char *msg,
			   size_t msglen)
{
	size_t entsize =
		eh->bits == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t tablen;

	if (eh->phnum == 0)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF image has no program headers (e_phnum 0); a kernel needs PT_LOAD segments");
	if (eh->phnum == PN_XNUM)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF image uses extended program header numbering (e_phnum 0xffff), which vitro does not support");
	if (eh->phentsize < entsize)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF program header size e_phentsize %u is smaller than an ELF%u program header (%zu bytes)",
			eh->phentsize, eh->bits, entsize);
	/* At most 0xfffe * 0xffff: no overflow in 64 bits. */
	tablen = (uint64_t)eh->phnum * eh->phentsize;
	if (!loader_range_in(eh->phoff, tablen, len))
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF program header table [offset 0x%llx, +0x%llx) extends beyond the end of the %zu-byte file",
			(unsigned long long)eh->phoff,
			(unsigned long long)tablen, len);
	return 0;
}

/* One PT_LOAD segment, checked against the file and the boot area. */
static int elf_check_load(const struct elf_phdr *ph, unsigned int idx,
			  size_t len, char *msg, size_t msglen)
{
	if (ph->filesz > ph->memsz)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF segment %u has p_filesz 0x%llx larger than p_memsz 0x%llx; the file part must fit in the memory part",
			idx, (unsigned long long)ph->filesz,
			(unsigned long long)ph->memsz);
	if (ph->memsz == 0)
		return 0;
	if (ph->filesz && !loader_range_in(ph->offset, ph->filesz, len))
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF segment %u file range [offset 0x%llx, +0x%llx) extends beyond the end of the %zu-byte file",
			idx, (unsigned long long)ph->offset,
			(unsigned long long)ph->filesz, len);
	if (ph->paddr + ph->memsz < ph->paddr)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF segment %u [0x%llx, +0x%llx) wraps around the end of the address space",
			idx, (unsigned long long)ph->paddr,
			(unsigned long long)ph->memsz);
	if (ph->paddr < KERNEL_MIN_ADDR)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF segment %u [0x%llx, 0x%llx) overlaps the boot area below 1 MiB; kernels must load at or above 0x%x",
			idx, (unsigned long long)ph->paddr,
			(unsigned long long)(ph->paddr + ph->memsz),
			KERNEL_MIN_ADDR);
	return 0;
}

/*
 * The entry point, physical.  As GRUB does, an e_entry inside a segment's
 * virtual range is moved by that segment's p_paddr - p_vaddr, so a kernel
 * linked higher up but loaded low starts at the right byte.
 */
static int elf_entry(const struct elf_ehdr *eh, const struct loader_image *img,
		     const uint64_t *vaddr, uint64_t *entry, char *msg,
		     size_t msglen)
{
	unsigned int i;

	for (i = 0; i < img->nsegs; i++) {
		const struct loader_segment *s = &img->segs[i];

		if (eh->entry >= vaddr[i] && eh->entry - vaddr[i] < s->memsz) {
			*entry = s->paddr + (eh->entry - vaddr[i]);
			return 0;
		}
	}
	for (i = 0; i < img->nsegs; i++) {
		const struct loader_segment *s = &img->segs[i];

		if (eh->entry >= s->paddr && eh->entry - s->paddr < s->memsz) {
			*entry = eh->entry;
			return 0;
		}
	}
	return loader_fail(
		msg, msglen, -EINVAL,
		"ELF entry point 0x%llx is not inside any loadable segment",
		(unsigned long long)eh->entry);
}

int loader_elf_parse(const uint8_t *data, size_t len, bool multiboot,
		     struct loader_image *img, char *msg, size_t msglen)
{
	uint64_t vaddr[LOADER_MAX_SEGMENTS];
	struct elf_ehdr eh = { 0 };
	unsigned int i, j;
	uint64_t entry = 0;
	int err;

	err = elf_check_ident(data, len, multiboot, &eh, msg, msglen);
	if (err)
		return err;
	err = elf_check_phdrs(&eh, len, msg, msglen);
	if (err)
		return err;

	img->nsegs = 0;
	for (i = 0; i < eh.phnum; i++) {
		struct loader_segment *s;
		struct elf_phdr ph;

		elf_read_phdr(data + eh.phoff + (uint64_t)i * eh.phentsize,
			      eh.bits, &ph);
		if (ph.type != PT_LOAD)
			continue;
		err = elf_check_load(&ph, i, len, msg, msglen);
		if (err)
			return err;
		if (ph.memsz == 0)
			continue;
		if (img->nsegs == LOADER_MAX_SEGMENTS)
			return loader_fail(
				msg, msglen, -E2BIG,
				"ELF image has more than %d loadable segments",
				LOADER_MAX_SEGMENTS);
		for (j = 0; j < img->nsegs; j++) {
			const struct loader_segment *o = &img->segs[j];

			if (ph.paddr < o->paddr + o->memsz &&
			    o->paddr < ph.paddr + ph.memsz)
				return loader_fail(
					msg, msglen, -EINVAL,
					"%s [0x%llx, 0x%llx) and ELF segment %u [0x%llx, 0x%llx) overlap in physical memory",
					o->what, (unsigned long long)o->paddr,
					(unsigned long long)(o->paddr +
							     o->memsz),
					i, (unsigned long long)ph.paddr,
					(unsigned long long)(ph.paddr +
							     ph.memsz));
		}
		s = &img->segs[img->nsegs];
		snprintf(s->what, sizeof(s->what), "ELF segment %u", i);
		s->offset = ph.filesz ? ph.offset : 0;
		s->filesz = ph.filesz;
		s->memsz = ph.memsz;
		s->paddr = ph.paddr;
		vaddr[img->nsegs++] = ph.vaddr;
	}
	if (img->nsegs == 0)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF image has no loadable segments (no PT_LOAD with p_memsz > 0)");

	err = elf_entry(&eh, img, vaddr, &entry, msg, msglen);
	if (err)
		return err;
	if (multiboot && entry > UINT32_MAX)
		return loader_fail(
			msg, msglen, -EINVAL,
			"ELF64 Multiboot image's entry point 0x%llx is above 4 GiB; Multiboot enters 32-bit code",
			(unsigned long long)entry);

	img->entry = entry;
	if (!multiboot) {
		img->format = LOADER_FMT_ELF64;
		img->entry_mode = LOADER_ENTRY_LONG64;
	} else {
		img->format = eh.bits == 64 ? LOADER_FMT_MB_ELF64 :
					      LOADER_FMT_MB_ELF32;
		img->entry_mode = LOADER_ENTRY_MB32;
	}
	return 0;
}

int loader_elf_probe(const uint8_t *data, size_t len, struct loader_image *img,
		     char *msg, size_t msglen)
{
	if (!loader_is_elf(data, len))
		return -ENOENT;
	return loader_elf_parse(data, len, false, img, msg, msglen);
}
