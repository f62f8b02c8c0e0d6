#!/usr/bin/env bash
# multiboot64.sh: a 64-bit kernel entered through a 32-bit Multiboot entry,
# as many hobby kernels (and Linux through PVH) are, debugged with its own
# ELF64 from its first instruction: the default x86-64 description shows
# the 32-bit state zero-extended, a breakpoint in the 64-bit code after the
# switch to long mode is hit, and no register packet changes size on the
# way.  The kernel is assembled here.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

src=$T/mb64.S
elf=$T/mb64.elf
cat >"$src" <<'EOF'
	.section .text
	.code32
	.globl _start
	.align 4
mb_header:
	.long 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)
_start:
	mov %eax, %esi			/* the Multiboot magic, kept */
	mov $0x200000, %esp
	/* PML4 -> PDPT -> PD: 2 MiB pages for the first 8 MiB. */
	mov $pml4, %edi
	movl $pdpt + 3, (%edi)
	mov $pdpt, %edi
	movl $pd + 3, (%edi)
	mov $pd, %edi
	movl $0x83, (%edi)
	movl $0x200083, 8(%edi)
	movl $0x400083, 16(%edi)
	movl $0x600083, 24(%edi)
	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG, PE */
	mov %eax, %cr0
	lgdt gdtr
	ljmp $8, $long_mode
	.code64
	.globl long_mode
long_mode:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x1122334455667788, %rbx
	.globl in_64
in_64:
	mov $0x10, %al
	out %al, $0xf4			/* pass: status 33 */
	hlt
	.section .data
	.align 8
gdt:	.quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdtr:	.word 23
	.long gdt
	.section .bss
	.align 4096
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4096
EOF
if ! cc -c -g -o "$T/mb64.o" "$src" ||
	! ld -nostdlib -static -Ttext-segment=0x100000 -e _start \
		-o "$elf" "$T/mb64.o"; then
	echo "1..0 # skip cannot assemble the test kernel"
	exit 0
fi

vitro_start mb64 -G w0 -k "$elf" || gdb_done
# Where hardware breakpoints do not stop the guest, it runs straight to
# its end and the checks at in_64 are skipped.
{
	cat <<'EOF'
echo @@entry\n
info registers rip eax cs
p $pc == _start
EOF
	[ -n "$HWBP_GAP" ] || cat <<'EOF'
hbreak in_64
echo @@long\n
continue
info registers rip rbx cs efer
x/i $pc
EOF
	echo continue
} >"$T/mb64.in"
gdb_run mb64 "$elf" <"$T/mb64.in"
like "held at the 32-bit entry: rip is _start" entry '^\$1 = 1$'
like "... eax holds the Multiboot magic, zero-extended in rax" entry "^eax +0x2badb002"
like "... cs is the 32-bit code selector" entry "^cs +0x18"
gl_skipping "$HWBP_GAP"
like "the breakpoint in the 64-bit code is hit" long "^Breakpoint 1, .*in_64"
like "... with the 64-bit register the code set" long "^rbx +0x1122334455667788"
like "... in long mode (EFER.LMA)" long "^efer +0x[0-9a-f]*5[0-9a-f]{2} .*LMA"
like "... and disassembled as 64-bit code" long "=> 0x[0-9a-f]+ <in_64>:\s+mov +\\\$0x10,%al"
gl_skipping ""
like "the kernel runs to its end" "" "exited with code 041"
vitro_wait 30
is "$VST" 33 "vitro exits with the kernel's status"
gdb_done
