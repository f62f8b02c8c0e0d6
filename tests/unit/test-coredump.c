/*
 * test-coredump.c: the core dump writer (monitor/coredump.h) on a fake
 * guest of 2 vCPUs and two memory ranges with a hole: the ELF header,
 * the notes (NT_PRSTATUS and QEMU's state per vCPU, their registers at
 * their offsets), the physical PT_LOADs and their bytes, the virtual
 * PT_LOADs over the same bytes (cut at the hole), and readelf's view.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/coredump.h"
#include "tests/tap.h"
#include "vmm/vmm_dev.h"

#define MEM0 0x4000ull /* bytes at gpa 0 */
#define MEM1_GPA 0x100000ull
#define MEM1 0x2000ull

static uint8_t fake_mem(uint64_t gpa)
{
	return (uint8_t)(gpa * 7 + (gpa >> 12));
}

static int fake_read(void *arg, uint64_t gpa, void *buf, size_t len)
{
	int *calls = arg;

	(*calls)++;
	if (!(gpa + len <= MEM0 ||
	      (gpa >= MEM1_GPA && gpa + len <= MEM1_GPA + MEM1)))
		return -EFAULT;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = fake_mem(gpa + i);
	return 0;
}

static int reg_index(int reg)
{
	for (int i = 0; i < COREDUMP_NREGS; i++)
		if (coredump_regnums[i] == reg)
			return i;
	tap_bail("register %d not in coredump_regnums", reg);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int main(void)
{
	char path[] = "/tmp/test-coredump.XXXXXX", err[256], cmd[512];
	struct coredump_cpu cpus[2];
	static const struct coredump_mem mem[] = { { 0, MEM0 },
						   { MEM1_GPA, MEM1 } };
	/* One range in the first memory, one across the hole. */
	static const struct coredump_vrange virt[] = {
		{ 0xffffffff81000000ull, 0x1000, 0x2000 },
		{ 0xffff888000000000ull, 0x3000, MEM1_GPA + 0x1000 - 0x3000 },
	};
	int calls = 0, fd, r;
	struct coredump cd;
	uint8_t *f;
	long size;
	FILE *fp;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;

	tap_plan(24);
	memset(cpus, 0, sizeof(cpus));
	for (int c = 0; c < 2; c++) {
		cpus[c].r[reg_index(VM_REG_GUEST_RIP)] = 0x1000 + (uint64_t)c;
		cpus[c].r[reg_index(VM_REG_GUEST_RSP)] = 0x8000 + (uint64_t)c;
		cpus[c].r[reg_index(VM_REG_GUEST_RAX)] = 0xaa00 + (uint64_t)c;
		cpus[c].r[reg_index(VM_REG_GUEST_R15)] = 0xff00 + (uint64_t)c;
		cpus[c].r[reg_index(VM_REG_GUEST_CS)] = 0x10;
		cpus[c].r[reg_index(VM_REG_GUEST_CS_ACCESS)] = 0xa09b;
		cpus[c].r[reg_index(VM_REG_GUEST_CR3)] = 0x9000;
		cpus[c].r[reg_index(VM_REG_GUEST_GS_BASE)] = 0x5500;
	}
	fd = mkstemp(path);
	if (fd < 0)
		tap_bail("mkstemp: %s", strerror(errno));
	cd = (struct coredump){
		.ncpus = 2,
		.cpus = cpus,
		.nmem = 2,
		.mem = mem,
		.nvirt = 2,
		.virt = virt,
		.read = fake_read,
		.arg = &calls,
	};
	r = coredump_write(fd, &cd, err, sizeof(err));
	is_int(r, 0, "written (%s)", r ? err : "no error");
	size = lseek(fd, 0, SEEK_END);
	f = malloc((size_t)size);
	if (!f || pread(fd, f, (size_t)size, 0) != size)
		tap_bail("reading the dump back");
	close(fd);

	eh = (Elf64_Ehdr *)f;
	ok(!memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
		   eh->e_ident[EI_CLASS] == ELFCLASS64 &&
		   eh->e_type == ET_CORE && eh->e_machine == EM_X86_64,
	   "an x86-64 ELF64 core");
	/* note, 3 virtual parts (the second range is cut by the hole), 2 */
	is_int(eh->e_phnum, 6, "PT_NOTE, 3 virtual PT_LOADs, 2 physical");
	ph = (Elf64_Phdr *)(f + eh->e_phoff);
	is_int(ph[0].p_type, PT_NOTE, "the notes first");

	/* The notes: CORE x2 then QEMU x2. */
	{
		const uint8_t *n = f + ph[0].p_offset;
		const Elf64_Nhdr *h = (const Elf64_Nhdr *)n;
		const uint8_t *d = n + sizeof(*h) + 8;
		size_t one = sizeof(*h) + 8 + COREDUMP_PRSTATUS_SIZE;
		const uint8_t *q = n + 2 * one + sizeof(*h) + 8;

		ok(h->n_type == NT_PRSTATUS && h->n_namesz == 5 &&
			   !strcmp((const char *)(n + sizeof(*h)), "CORE"),
		   "an NT_PRSTATUS note named CORE");
		is_int(h->n_descsz, COREDUMP_PRSTATUS_SIZE, "... 336 bytes");
		is_int(*(const uint32_t *)(d + 32), 1, "... pr_pid vCPU 0 + 1");
		/* pr_reg at 112: r15 0, rax 10, rip 16, cs 17, rsp 19 */
		is_hex(rd64(d + 112 + 16 * 8), 0x1000, "... rip");
		is_hex(rd64(d + 112 + 0 * 8), 0xff00, "... r15");
		is_hex(rd64(d + 112 + 10 * 8), 0xaa00, "... rax");
		is_hex(rd64(d + 112 + 19 * 8), 0x8000, "... rsp");
		is_hex(rd64(d + 112 + 22 * 8), 0x5500, "... gs_base");
		is_hex(rd64(d + one + 112 + 16 * 8), 0x1001, "vCPU 1's rip");
		h = (const Elf64_Nhdr *)(n + 2 * one);
		ok(h->n_type == 0 && !strcmp((const char *)(h + 1), "QEMU") &&
			   h->n_descsz == COREDUMP_QEMU_STATE_SIZE,
		   "then a QEMU note of 440 bytes");
		ok(*(const uint32_t *)q == 1 &&
			   *(const uint32_t *)(q + 4) ==
				   COREDUMP_QEMU_STATE_SIZE,
		   "... version 1, its size");
		is_hex(rd64(q + 8 + 16 * 8), 0x1000, "... rip");
		/* cs: selector, limit, flags at 152 */
		is_hex(*(const uint32_t *)(q + 152 + 8), 0xa09b00,
		       "... cs flags as the descriptor's (L, P, S, type)");
		/* cr[3] at 152 + 10 * 24 + 24 */
		is_hex(rd64(q + 152 + 240 + 24), 0x9000, "... cr3");
	}

	/* Virtual first: 0x1000-0x3000; 0x3000-0x4000 and 0x100000-... */
	ok(ph[1].p_type == PT_LOAD && ph[1].p_vaddr == 0xffffffff81000000ull &&
		   ph[1].p_paddr == 0x1000 && ph[1].p_filesz == 0x2000,
	   "a virtual PT_LOAD at the kernel's text");
	ok(ph[2].p_vaddr == 0xffff888000000000ull && ph[2].p_filesz == 0x1000 &&
		   ph[3].p_vaddr == 0xffff888000000000ull + MEM1_GPA - 0x3000 &&
		   ph[3].p_paddr == MEM1_GPA && ph[3].p_filesz == 0x1000,
	   "a range across the hole is cut at it");
	ok(ph[4].p_paddr == 0 && ph[4].p_vaddr == 0 && ph[4].p_filesz == MEM0 &&
		   ph[5].p_paddr == MEM1_GPA && ph[5].p_filesz == MEM1,
	   "physical PT_LOADs: p_paddr the gpa, p_vaddr 0");
	ok(ph[1].p_offset == ph[4].p_offset + 0x1000 &&
		   ph[3].p_offset == ph[5].p_offset,
	   "virtual PT_LOADs share the physical bytes");
	{
		bool same = ph[5].p_offset + MEM1 <= (uint64_t)size;

		for (uint64_t i = 0; same && i < MEM1; i++)
			same = f[ph[5].p_offset + i] == fake_mem(MEM1_GPA + i);
		ok(same, "the second range's bytes are the guest's");
	}

	snprintf(cmd, sizeof(cmd), "readelf -n %s 2>&1", path);
	fp = popen(cmd, "r");
	if (fp && system("command -v readelf >/dev/null 2>&1") == 0) {
		char line[256];
		int core = 0, qemu = 0;

		while (fgets(line, sizeof(line), fp)) {
			core += strstr(line, "CORE") &&
				strstr(line, "NT_PRSTATUS");
			qemu += strstr(line, "QEMU") != NULL;
		}
		ok(core == 2 && qemu == 2,
		   "readelf -n: 2 NT_PRSTATUS and 2 QEMU notes");
	} else {
		tap_skip("readelf is not installed");
	}
	if (fp)
		pclose(fp);
	unlink(path);
	free(f);
	return tap_done();
}
