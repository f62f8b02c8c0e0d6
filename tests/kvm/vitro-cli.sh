#!/usr/bin/env bash
# vitro-cli.sh: vitro's command line, its exit statuses and its messages
# for bad input, with small guests assembled here.  TAP.
set -u

: "${VITRO_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
vitro=$VITRO_BUILD/bin/vitro
. "$(dirname "$0")/kvm-probe.bash"
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

# run NAME EXPECTED-STATUS PATTERN ARGS...: vitro's status and stderr,
# with the exit port unless NO_EXIT_PORT is set.
run() {
	local name=$1 want=$2 pat=$3
	shift 3
	timeout 60 "$vitro" ${NO_EXIT_PORT:---debug-exit} "$@" </dev/null \
		>"$tmp/out" 2>"$tmp/err"
	local st=$?
	if [ "$st" != "$want" ]; then
		ok 1 "$name: status $st, expected $want"
		sed 's/^/#   /' "$tmp/err"
		return
	fi
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/err"; then
		ok 1 "$name: stderr lacks '$pat'"
		sed 's/^/#   /' "$tmp/err"
		return
	fi
	ok 0 "$name (status $st)"
}


# guest NAME: assemble $tmp/NAME.elf from the assembly on stdin.
guest() {
	cat >"$tmp/$1.S"
	cc -c -o "$tmp/$1.o" "$tmp/$1.S" &&
		ld -nostdlib -static -Ttext-segment=0x100000 -e _start \
			-o "$tmp/$1.elf" "$tmp/$1.o"
}

if [ ! -x "$vitro" ]; then
	echo "1..0 # skip $vitro not built"
	exit 0
fi

# Options and files: no KVM needed.
run "--help" 0 "" --help
grep -q "usage: vitro" "$tmp/out"
ok $? "--help prints the usage on stdout"
run "--version" 0 "" --version
run "no kernel" 4 "no kernel: give one with -k"
run "unknown option" 4 "unknown option -z" -z -k x
run "unknown long option" 4 "unknown option '--bogus'" --bogus -k x
run "bad memory size" 4 "-m 'lots': expected a size" -m lots -k x
run "too little memory" 4 "from 2M to 1T" -m 1M -k x
run "bad cpu count" 4 "-c: '0' is not a number" -c 0 -k x
run "bad serial back end" 4 "-l com1,tty" -l com1,tty -k x
run "missing kernel" 4 "kernel '$tmp/none': No such file" -k "$tmp/none"
run "a VM name with a slash" 4 "VM name '../x': expected printable" \
	-k "$tmp/none" ../x
run "a VM name starting with a dot" 4 "VM name '.x': expected printable" \
	-k "$tmp/none" .x
run "kernel is a directory" 4 "not a regular file" -k "$tmp"
head -c 4096 /dev/urandom >"$tmp/random.bin"
printf 'garbage' >>"$tmp/random.bin"
run "malformed kernel" 4 "not a kernel vitro boots" -k "$tmp/random.bin"
: >"$tmp/empty.bin"
run "empty kernel" 4 "kernel '$tmp/empty.bin'" -k "$tmp/empty.bin"

guest exit <<'EOF'
	.globl _start
_start:	mov $0xf4, %dx
	mov $0x10, %al
	out %al, %dx
	hlt
EOF
head -c 40 "$tmp/exit.elf" >"$tmp/truncated.elf"
run "truncated ELF" 4 "kernel '$tmp/truncated.elf'" -k "$tmp/truncated.elf"
run "missing module" 4 "module '$tmp/nomod': No such file" \
	-k "$tmp/exit.elf" -i "$tmp/nomod"

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "# /dev/kvm not available: the rest needs it"
	echo "1..$n"
	exit $((failed > 0))
fi

# Running guests.
run "exit port: (0x10 << 1) | 1" 33 "" -k "$tmp/exit.elf"
# Without --debug-exit the port is not there: the write is ignored and
# the guest's hlt (interrupts off) ends it as halted.
NO_EXIT_PORT=" " run "no exit port without --debug-exit" 2 "the guest halted" \
	-k "$tmp/exit.elf"

guest hello <<'EOF'
	.globl _start
_start:	lea msg(%rip), %rsi
1:	lodsb
	test %al, %al
	jz 2f
	mov $0x3f8, %dx
	out %al, %dx
	jmp 1b
2:	mov $0xf4, %dx
	mov $0, %al
	out %al, %dx
msg:	.asciz "hello from the guest\n"
EOF
run "COM1 output on stdout" 1 "" -k "$tmp/hello.elf"
grep -q "hello from the guest" "$tmp/out"
ok $? "the guest's line arrived"
run "COM1 to a file" 1 "" -l "com1,file:$tmp/com1.txt" -k "$tmp/hello.elf"
grep -q "hello from the guest" "$tmp/com1.txt"
ok $? "the guest's line is in the file"

guest triple <<'EOF'
	.globl _start
_start:	lidt idt(%rip)
	ud2
idt:	.word 0
	.quad 0
EOF
# kvm_amd resets the vCPU on a shutdown intercept: where a bare VM shows
# that (the probe), vitro must say the state was lost instead.
if kvm_probe shutdown-state; [ $? = 1 ]; then
	echo "# probe shutdown-state: $PROBE_WHY"
	run "triple fault" 3 "triple fault: " -k "$tmp/triple.elf"
	grep -q "KVM reset the vCPU at the shutdown (it is at the reset vector, cs:rip f000:fff0" "$tmp/err"
	ok $? "the triple-fault message says KVM reset the vCPU, so the rip is lost"
else
	run "triple fault" 3 "triple fault at rip 0x" -k "$tmp/triple.elf"
	grep -q "bytes 0f 0b" "$tmp/err"
	ok $? "the triple-fault message shows the faulting instruction"
fi
sed 's/^/#   /' "$tmp/err"

guest halt <<'EOF'
	.globl _start
_start:	cli
	hlt
	jmp _start
EOF
run "halt with interrupts off, 2 vCPUs" 2 "the guest halted" -c 2 -k "$tmp/halt.elf"

guest reset <<'EOF'
	.globl _start
_start:	mov $0xcf9, %dx
	mov $0x6, %al
	out %al, %dx
1:	jmp 1b
EOF
run "reset through port 0xcf9" 0 "" -k "$tmp/reset.elf"

# popcnt cannot be emulated in kernel mode on a software KVM; on hardware
# it simply runs and the guest exits through the port.
guest emul <<'EOF'
	.globl _start
_start:	mov $5, %eax
	popcnt %eax, %ebx
	mov $0xf4, %dx
	mov $0x10, %al
	out %al, %dx
EOF
timeout 60 "$vitro" --debug-exit -k "$tmp/emul.elf" </dev/null >/dev/null 2>"$tmp/err"
st=$?
if [ "$st" = 4 ]; then
	grep -q "could not emulate the instruction at rip 0x10100[0-9a-f], bytes f3 0f b8" "$tmp/err"
	ok $? "emulation failure: status 4 with rip and bytes"
	sed 's/^/#   /' "$tmp/err"
else
	[ "$st" = 33 ]
	ok $? "popcnt runs on this KVM (status $st)"
fi

guest spin <<'EOF'
	.globl _start
_start:	jmp _start
EOF
"$vitro" --debug-exit -k "$tmp/spin.elf" clash-$$ </dev/null >/dev/null 2>&1 &
pid=$!
# Until the first holds the name (an abstract socket, @vitro-vm:NAME), at
# most 30 s; not a fixed delay, which a slow host can outlast.
for _ in $(seq 300); do
	grep -q "@vitro-vm:clash-$$\$" /proc/net/unix 2>/dev/null && break
	sleep 0.1
done
run "a second VM with the same name" 4 "a VM named 'clash-$$' is already running" \
	-k "$tmp/exit.elf" clash-$$
kill -TERM $pid
wait $pid
ok $(($? != 1)) "SIGTERM ends vitro with the power-off status"

echo "1..$n"
exit $((failed > 0))
