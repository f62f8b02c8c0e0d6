/*
 * bare-kvm.c: the reference point of the exit-rate benchmark - the least a
 * VMM can do to run the benchmark guest, with plain /dev/kvm ioctls and no
 * vitro code.
 *
 *   bare-kvm [-i] [-m MIB] [-t] GUEST.elf CMDLINE
 *
 * It creates a VM, one memory slot and one vCPU, loads the PT_LOAD segments
 * of an ELF64 guest, and enters it in 64-bit mode at CPL 0 exactly as vitro
 * does (monitor/platform.h: the same GDT, identity-mapped 2 MiB pages at
 * BOOT_PGTABLE_ADDR, RSP, RDI = a Multiboot information structure holding
 * CMDLINE), so the guest runs the same bytes in the same mode under both.
 * The mode matters on a software KVM, where CPL 0 code is emulated.
 *
 * Every KVM_EXIT_IO is handled by re-entering at once (an `in` reads all
 * ones); a write of V to DEBUG_EXIT_PORT ends the program with vitro's
 * status, (V << 1) | 1.  -i adds what vitro's platform puts in the kernel
 * (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2), so that the two VMs differ only in
 * their user-space exit path.  -t prints, on stdout, the wall time between
 * the guest's writes to BENCH_PORT_START and BENCH_PORT_END and the exits
 * counted between them.  The status is 4 on any error.
 *
 * Single-threaded; no state outside main's locals.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor/platform.h"
#include "tests/bench/bench.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define PTE_P 1ULL
#define PTE_W 2ULL
#define PTE_PS 0x80ULL
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)

#define EXIT_ERROR 4

static int die(const char *what)
{
	fprintf(stderr, "bare-kvm: %s: %s\n", what, strerror(errno));
	return EXIT_ERROR;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Copy the PT_LOAD segments to their physical addresses; 0 or -1. */
static int load_elf(const char *path, uint8_t *mem, uint64_t memsize,
		    uint64_t *entry)
{
	struct stat st;
	const Elf64_Ehdr *eh;
	uint8_t *f;
	int fd, r = -1;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return -1;
	}
	f = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED) {
		perror(path);
		return -1;
	}
	eh = (const Elf64_Ehdr *)f;
	if ((size_t)st.st_size < sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) >
		    (uint64_t)st.st_size) {
		fprintf(stderr, "bare-kvm: %s: not an ELF64 image\n", path);
		goto out;
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph =
			(const Elf64_Phdr *)(f + eh->e_phoff) + i;

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz ||
		    ph->p_offset + ph->p_filesz > (uint64_t)st.st_size ||
		    ph->p_paddr + ph->p_memsz > memsize) {
			fprintf(stderr,
				"bare-kvm: %s: segment %d out of range\n", path,
				i);
			goto out;
		}
		memcpy(mem + ph->p_paddr, f + ph->p_offset, ph->p_filesz);
		memset(mem + ph->p_paddr + ph->p_filesz, 0,
		       ph->p_memsz - ph->p_filesz);
	}
	*entry = eh->e_entry;
	r = 0;
out:
	munmap(f, st.st_size);
	return r;
}

/* GDT, Multiboot information with the command line, identity map of 4 GiB. */
static void write_boot_data(uint8_t *mem, const char *cmdline, uint64_t memsize)
{
	static const uint64_t gdt[] = { 0, 0x00af9b000000ffffULL,
					0x00cf93000000ffffULL,
					0x00cf9b000000ffffULL };
	uint32_t *mbi = (uint32_t *)(mem + BOOT_INFO_ADDR);
	uint64_t *pml4 = (uint64_t *)(mem + BOOT_PGTABLE_ADDR);
	uint64_t *pdpt = pml4 + 512;

	memcpy(mem + BOOT_GDT_ADDR, gdt, sizeof(gdt));
	mbi[0] = MB1_INFO_MEMORY | MB1_INFO_CMDLINE;
	mbi[1] = 640;
	mbi[2] = (uint32_t)(memsize / 1024 - 1024);
	mbi[4] = BOOT_CMDLINE_ADDR;
	snprintf((char *)mem + BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX, "%s",
		 cmdline);
	pml4[0] = (BOOT_PGTABLE_ADDR + 0x1000) | PTE_P | PTE_W;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t *pd = pml4 + 512 * (2 + i);

		pdpt[i] =
			(BOOT_PGTABLE_ADDR + (2 + i) * 0x1000) | PTE_P | PTE_W;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = (i << 30) | (j << 21) | PTE_P | PTE_W | PTE_PS;
	}
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = code ? 11 : 3;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

static int set_cpu_state(int kvm, int vcpu, uint64_t entry)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	int n = 100;

	/* KVM's supported CPUID, as any VMM sets it (long mode needs LM). */
	cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -1;
	cpuid->nent = n;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) {
		free(cpuid);
		return -1;
	}
	free(cpuid);

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	seg_flat(&sregs.cs, BOOT_SEL_CODE64, 1);
	seg_flat(&sregs.ds, BOOT_SEL_DATA, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 31;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = BOOT_PGTABLE_ADDR;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return -1;
	regs.rip = entry;
	regs.rsp = BOOT_STACK_TOP;
	regs.rdi = BOOT_INFO_ADDR;
	regs.rax = MULTIBOOT_BOOT_MAGIC;
	regs.rflags = 2;
	return ioctl(vcpu, KVM_SET_REGS, &regs);
}

int main(int argc, char **argv)
{
	uint64_t memsize = 16ULL << 20, entry = 0, t0 = 0, t1 = 0;
	uint64_t exits = 0, exits0 = 0, exits1 = 0;
	int irqchip = 0, timing = 0, kvm, vm, vcpu, c;
	struct kvm_run *run;
	uint8_t *mem;
	long runsz;

	while ((c = getopt(argc, argv, "im:t")) != -1) {
		switch (c) {
		case 'i':
			irqchip = 1;
			break;
		case 'm':
			memsize = strtoull(optarg, NULL, 0) << 20;
			break;
		case 't':
			timing = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || memsize < (2ULL << 20)) {
usage:
		fprintf(stderr,
			"usage: bare-kvm [-i] [-m MIB] [-t] GUEST.elf CMDLINE\n");
		return EXIT_ERROR;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return die("KVM_CREATE_VM");
	if (irqchip) {
		struct kvm_pit_config pit = { .flags = 0 };

		if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
			return die("KVM_CREATE_IRQCHIP");
		if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
			return die("KVM_CREATE_PIT2");
	}
	mem = mmap(NULL, memsize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return die("guest memory");
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = memsize,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return die("KVM_SET_USER_MEMORY_REGION");
	if (load_elf(argv[optind], mem, memsize, &entry) < 0)
		return EXIT_ERROR;
	write_boot_data(mem, argv[optind + 1], memsize);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return die("KVM_CREATE_VCPU");
	runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (runsz <= 0)
		return die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return die("vCPU run area");
	if (set_cpu_state(kvm, vcpu, entry) < 0)
		return die("vCPU state");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return die("KVM_RUN");
		}
		exits++;
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "bare-kvm: unexpected exit %u\n",
				run->exit_reason);
			return EXIT_ERROR;
		}
		uint8_t *data = (uint8_t *)run + run->io.data_offset;

		if (run->io.direction == KVM_EXIT_IO_IN) {
			memset(data, 0xff,
			       (size_t)run->io.size * run->io.count);
			continue;
		}
		switch (run->io.port) {
		case BENCH_PORT_START:
			t0 = now_ns();
			exits0 = exits;
			break;
		case BENCH_PORT_END:
			t1 = now_ns();
			exits1 = exits;
			break;
		case DEBUG_EXIT_PORT:
			if (timing)
				printf("bare-kvm: marker_ns=%llu "
				       "marker_exits=%llu\n",
				       (unsigned long long)(t1 - t0),
				       (unsigned long long)(exits1 - exits0));
			return BENCH_STATUS(data[0]);
		}
	}
}
