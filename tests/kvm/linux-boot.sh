#!/usr/bin/env bash
# linux-boot.sh: the Linux loader end to end: a tiny synthetic "vmlinux"
# (an ELF64 with Linux's notes, PVH's entry note among them) is booted
# through PVH and through the 64-bit boot protocol; each entry checks what
# it was handed (start info or zero page, segments, paging, e820) and
# prints the command line and the initrd it finds on COM1.  Bad Linux
# input ends vitro with status 4 and a message naming the file.  TAP.
set -u

: "${VITRO_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
vitro=$VITRO_BUILD/bin/vitro
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { # ok COND-STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# run NAME EXPECTED-STATUS PATTERN ARGS...: vitro's status and stderr.
run() {
	local name=$1 want=$2 pat=$3
	shift 3
	timeout 60 "$vitro" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local st=$?
	if [ "$st" != "$want" ]; then
		ok 1 "$name: status $st, expected $want"
		sed 's/^/#   /' "$tmp/err" "$tmp/out"
		return
	fi
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/err"; then
		ok 1 "$name: stderr lacks '$pat'"
		sed 's/^/#   /' "$tmp/err"
		return
	fi
	ok 0 "$name (status $st)"
}

if [ ! -x "$vitro" ]; then
	echo "1..0 # skip $vitro not built"
	exit 0
fi

# The kernel: both entries check, print "ENTRY:CMDLINE|INITRD|" and then
# "ok" (exit status 33) or "bad N" (status 2N+1) for the first failed check.
cat >"$tmp/kern.S" <<'EOF'
	.section .note.Linux, "a", @note
	.balign 4
	.long 6, 4, 0x100
	.asciz "Linux"
	.balign 4
	.long 0
	.long 4, 4, 18			/* Xen, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long pvh_start

	.text
	.code32
pvh_start:
	mov $0x80000, %esp
	mov %ebx, %ebp			/* struct hvm_start_info */
	mov $1, %edi
	cmpl $0x336ec578, 0(%ebp)	/* magic */
	jne fail32
	inc %edi
	cmpl $1, 4(%ebp)		/* version */
	jne fail32
	inc %edi
	cmpl $3, 48(%ebp)		/* memmap_entries */
	jne fail32
	inc %edi
	cmpl $0xe0000, 32(%ebp)		/* rsdp_paddr */
	jne fail32
	inc %edi
	mov %cs, %ax
	cmp $0x08, %ax
	jne fail32
	inc %edi
	mov %cr0, %eax
	test $0x80000000, %eax		/* paging off */
	jnz fail32
	inc %edi
	cmpl $1, 12(%ebp)		/* nr_modules */
	jne fail32
	inc %edi
	mov 40(%ebp), %esi		/* memmap[2]: RAM from 1 MiB */
	cmpl $0x100000, 48(%esi)
	jne fail32
	lea pvh_msg, %esi
	call puts32
	mov 24(%ebp), %esi		/* cmdline_paddr */
	call puts32
	mov $'|', %al
	call putc32
	mov 16(%ebp), %ebx		/* modlist_paddr */
	mov 0(%ebx), %esi
	mov 8(%ebx), %ecx
	call putn32
	lea ok_msg, %esi
	call puts32
	mov $0x10, %al
	jmp exit32
fail32:
	lea bad_msg, %esi
	call puts32
	mov %edi, %eax
	add $'0', %al
	call putc32
	mov $'\n', %al
	call putc32
	mov %edi, %eax
exit32:
	mov $0xf4, %dx
	out %al, %dx
	hlt

putc32:	mov $0x3f8, %dx
	out %al, %dx
	ret
puts32:	lodsb
	test %al, %al
	jz 1f
	call putc32
	jmp puts32
1:	ret
putn32:	test %ecx, %ecx
	jz 1f
	lodsb
	call putc32
	dec %ecx
	jmp putn32
1:	ret

	.code64
	.globl _start
_start:
	mov %rsi, %rbp			/* struct boot_params */
	mov $1, %edi
	cmpw $0xaa55, 0x1fe(%rbp)	/* hdr.boot_flag */
	jne fail64
	inc %edi
	cmpl $0x53726448, 0x202(%rbp)	/* hdr.header */
	jne fail64
	inc %edi
	cmpb $0xff, 0x210(%rbp)		/* hdr.type_of_loader */
	jne fail64
	inc %edi
	cmpb $3, 0x1e8(%rbp)		/* e820_entries */
	jne fail64
	inc %edi
	cmpq $0xe0000, 0x70(%rbp)	/* acpi_rsdp_addr */
	jne fail64
	inc %edi
	mov %cs, %ax
	cmp $0x10, %ax			/* __BOOT_CS */
	jne fail64
	inc %edi
	mov %ds, %ax
	cmp $0x18, %ax			/* __BOOT_DS */
	jne fail64
	inc %edi
	cmpq $0x100000, 0x2d0+40(%rbp)	/* e820_table[2].addr */
	jne fail64
	lea l64_msg(%rip), %rsi
	call puts64
	mov 0x228(%rbp), %esi		/* hdr.cmd_line_ptr */
	call puts64
	mov $'|', %al
	call putc64
	mov 0x218(%rbp), %esi		/* hdr.ramdisk_image */
	mov 0x21c(%rbp), %ecx		/* hdr.ramdisk_size */
	call putn64
	lea ok_msg(%rip), %rsi
	call puts64
	mov $0x10, %al
	jmp exit64
fail64:
	lea bad_msg(%rip), %rsi
	call puts64
	mov %edi, %eax
	add $'0', %al
	call putc64
	mov $'\n', %al
	call putc64
	mov %edi, %eax
exit64:
	mov $0xf4, %dx
	out %al, %dx
	hlt

putc64:	mov $0x3f8, %dx
	out %al, %dx
	ret
puts64:	lodsb
	test %al, %al
	jz 1f
	call putc64
	jmp puts64
1:	ret
putn64:	test %ecx, %ecx
	jz 1f
	lodsb
	call putc64
	dec %ecx
	jmp putn64
1:	ret

	.data
pvh_msg: .asciz "pvh:"
l64_msg: .asciz "linux64:"
ok_msg:	.asciz "|ok\n"
bad_msg: .asciz "bad "
EOF
if ! cc -c -o "$tmp/kern.o" "$tmp/kern.S" ||
	! ld -nostdlib -static -Ttext-segment=0x1000000 -e _start \
		-o "$tmp/vmlinux" "$tmp/kern.o"; then
	echo "1..0 # skip cannot assemble the test kernel"
	exit 0
fi
readelf -lW "$tmp/vmlinux" | grep -q NOTE
ok $? "the test kernel has a PT_NOTE segment"
printf 'initrd-bytes' >"$tmp/initrd"
printf 'x' >"$tmp/initrd2"

# Bad input that needs no KVM.
run "-k with an unknown entry" 4 "-k '$tmp/vmlinux,entry=bios': entry 'bios' is not pvh or linux64" \
	-k "$tmp/vmlinux,entry=bios"
head -c 600 /dev/zero >"$tmp/notakernel"
run "not a kernel" 4 "kernel '$tmp/notakernel': not a kernel vitro boots" \
	-k "$tmp/notakernel"
run "two initrds for Linux" 4 "-i: a Linux kernel takes one initrd, not 2 files" \
	-k "$tmp/vmlinux" -i "$tmp/initrd,$tmp/initrd2"
# A bzImage whose payload is bzip2 (setup header by hand).
{
	head -c 497 /dev/zero			# to 0x1f1
	printf '\x04'				# setup_sects
	head -c 12 /dev/zero			# to 0x1fe
	printf '\x55\xaa\xeb\x6aHdrS\x0f\x02'	# boot_flag, jump, HdrS, 2.15
	head -c 9 /dev/zero			# to 0x211
	printf '\x01'				# loadflags
	head -c 36 /dev/zero			# to 0x236
	printf '\x03\x00'			# xloadflags
	head -c 16 /dev/zero			# to 0x248
	printf '\x00\x00\x00\x00\x10\x00\x00\x00'	# payload at +0, 16 bytes
	head -c $((0xa00 - 0x250)) /dev/zero
	printf 'BZh91AY&SY\x00\x00\x00\x00\x00\x00'
} >"$tmp/bzImage"
run "a bzip2 bzImage" 4 "kernel '$tmp/bzImage': bzImage payload is bzip2-compressed" \
	-k "$tmp/bzImage"

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "# /dev/kvm not available: the rest needs it"
	echo "1..$n"
	exit $((failed > 0))
fi

run "PVH by default" 33 "" -v -k "$tmp/vmlinux" -i "$tmp/initrd" \
	-a "console=ttyS0 quiet"
grep -q "pvh:console=ttyS0 quiet|initrd-bytes|ok" "$tmp/out"
ok $? "PVH: the guest sees its start info, command line and initrd"
sed 's/^/#   /' "$tmp/out"
grep -q "Linux vmlinux, [0-9]* bytes: entry 0x[0-9a-f]* (PVH, 32-bit)" "$tmp/err"
ok $? "-v logs the format and the PVH entry"

run "entry=linux64" 33 "" -v -k "$tmp/vmlinux,entry=linux64" \
	-i "$tmp/initrd" -a "console=ttyS0 root=/dev/ram0"
grep -q "linux64:console=ttyS0 root=/dev/ram0|initrd-bytes|ok" "$tmp/out"
ok $? "64-bit boot protocol: the guest sees its zero page, command line and initrd"
sed 's/^/#   /' "$tmp/out"
grep -q "(64-bit boot protocol)" "$tmp/err"
ok $? "-v logs the 64-bit boot protocol"

run "a command line over 2048 bytes" 4 \
	"kernel '$tmp/vmlinux': command line too long (2049 bytes); this kernel takes at most 2048" \
	-k "$tmp/vmlinux" -a "$(head -c 2049 /dev/zero | tr '\0' a)"
truncate -s 70M "$tmp/big"
run "an initrd that does not fit" 4 \
	"initrd '$tmp/big' (73400320 bytes) does not fit in memory" \
	-m 64M -k "$tmp/vmlinux" -i "$tmp/big"

echo "1..$n"
exit $((failed > 0))
