#!/usr/bin/env bash
# linux.sh: the Linux debugging aids against test guests - the KASLR slide
# (sym slide, the stub's qOffsets), scripts/linux.tcl on a guest whose
# data is shaped as Linux 6.1's (tests/guests/linuxish.c), and a core
# dump (vm dump-core, vitroctl --dump-core) read back with readelf and
# gdb.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init
S=$(cd "$(dirname "$0")/../.." && pwd)/scripts
ELF=$GUESTS/linuxish.elf
NAME=linux-$$

VM_ARGS="-c 1 -m 16M" VM_GUEST=$ELF vm_start "$NAME" -G 0 || exit 1
for _ in $(seq 1 200); do
	grep -q 'linuxish ready' "$VOUT" 2>/dev/null && break
	sleep 0.05
done
like "$(cat "$VOUT")" 'linuxish: linuxish ready' "the guest built its data"
[ "$n" = 1 ] && [ "$failed" = 0 ] || sed 's/^/#   stderr: /' "$VERR" | head

# KASLR: the test guest runs where it is linked; a wrong slide is undone.
ctl_eval "$NAME" "sym load $ELF -slide 0x400000; sym slide -auto"
like "$OUT" '^slide 0x0 symbol trap_stubs handler 0x[0-9a-f]+ why \{?\}?$' \
	"sym slide -auto: 0 through gate 0 (trap_stubs)"
want=$(nm "$ELF" | awk '$3 == "init_task" { print "0x" $1 }' |
	sed 's/0x0*/0x/')
ctl_eval "$NAME" "sym load $ELF -slide 0x400000; sym slide -auto
	sym addr init_task"
is "$OUT" "$want" "... and symbols are at their link addresses again"
ctl_eval "$NAME" "sym load $ELF; sym slide 0x200000; list [sym slide] \
	[sym addr init_task]"
is "$OUT" "0x200000 $(printf '0x%x' $((want + 0x200000)))" \
	"sym slide VALUE moves the symbols"
ctl_eval "$NAME" "sym load $ELF; sym slide -auto 0x1000"
like "$ERR" 'wrong # args' "sym slide -auto VALUE: a usage error"
ctl_eval "$NAME" "sym load $ELF; sym slide -file /nonexistent"
like "$ERR" '/nonexistent is not loaded' "sym slide -file: an unknown file"
ctl_eval "$NAME" "sym slide"
like "$ERR" 'no symbols loaded' "sym slide without symbols: NOSYM"

PORT=$(sed -n 's/^vitro: gdb: listening on [^ ]*:\([0-9][0-9]*\)\($\|;.*\)/\1/p' \
	"$VERR" | head -n 1)
if command -v gdb >/dev/null && [ -n "$PORT" ]; then
	GOUT=$(timeout 60 gdb -nx -batch "$ELF" \
		-ex "target remote 127.0.0.1:$PORT" \
		-ex "maint packet qOffsets" -ex "detach" 2>&1)
	like "$GOUT" 'received: "Text=0;Data=0;Bss=0"' \
		"the stub answers qOffsets from -k's symbols"
else
	skip "no gdb or no gdb port" "the stub answers qOffsets"
fi

# scripts/linux.tcl
run_lx() { # run_lx COMMAND...
	ctl_eval "$NAME" "sym load $ELF; source $S/linux.tcl; $*"
	[ "$ST" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/#   error: /' | head
}
run_lx lx-ps
like "$OUT" '^0x[0-9a-f]+ +0 swapper/0 +R$' "lx-ps: init_task first"
like "$OUT" '^0x[0-9a-f]+ +1 init +S$' "... pid 1, sleeping"
like "$OUT" '^0x[0-9a-f]+ +2 kthreadd +I$' "... an idle kthread"
like "$OUT" '^0x[0-9a-f]+ +3 sh +Z$' "... a zombie"
is "$(printf '%s\n' "$OUT" | wc -l)" 5 "... header and 4 tasks"
run_lx "llength [lx-ps -list]"
is "$OUT" 4 "lx-ps -list: 4 dicts"
run_lx lx-dmesg
is "$OUT" "[    0.002000] Command line: console=ttyS0
[    0.003000] two lines:
[    0.003000] second line
[    0.004000] Run /init as init process" \
	"lx-dmesg: from the tail, a record wrapped to the ring's start"
run_lx "lindex [lx-dmesg -list] 0"
like "$OUT" '^seq 1 ts_nsec 2000005 text \{Command line' \
	"lx-dmesg -list: seq, ts_nsec, text"
run_lx lx-lsmod
like "$OUT" '^0x[0-9a-f]+ +vitro_test +0xffffffffc0000000 +12288$' \
	"lx-lsmod: the module, its base and size"
run_lx "lx-ps --help"
like "$OUT" 'init_task' "lx-ps --help"
run_lx "lx-dmesg --help"
like "$OUT" 'printk ringbuffer' "lx-dmesg --help"
run_lx "lx-lsmod -help"
like "$OUT" 'modules list' "lx-lsmod -help"
run_lx "lx-ps -bogus"
like "$ERR" 'lx-ps: unknown argument "-bogus"' "lx-ps -bogus: a usage error"

# Core dumps: the VM stopped, its rip known, then dumped and read back.
ctl_eval "$NAME" "vm stop; set rip [vcpu get rip]
	set d [vm dump-core $T/core]; vm continue
	list \$rip [dict get \$d ncpus] [dict get \$d memory]"
read -r rip ncpus mem <<<"$OUT"
is "$ST/$ncpus/$mem" "0/1/$((16 << 20))" \
	"vm dump-core: 1 vCPU and the 16 MiB of memory" "$T/err"
if command -v readelf >/dev/null; then
	notes=$(readelf -n "$T/core" 2>&1)
	like "$notes" 'CORE +0x00000150.*NT_PRSTATUS' "readelf -n: NT_PRSTATUS"
	like "$notes" 'QEMU +0x000001b8' "readelf -n: QEMU's CPU state"
	like "$(readelf -l "$T/core")" 'LOAD +0x[0-9a-f]+ 0x0+ 0x0+$' \
		"readelf -l: a physical PT_LOAD at gpa 0"
else
	skip "no readelf" "readelf -n: NT_PRSTATUS"
	skip "no readelf" "readelf -n: QEMU"
	skip "no readelf" "readelf -l"
fi
if command -v gdb >/dev/null; then
	GOUT=$(timeout 60 gdb -nx -batch "$ELF" "$T/core" \
		-ex 'p linuxish_tasks[0].comm' -ex 'p init_task.tasks.next->next == &linuxish_tasks[1].tasks' \
		-ex 'info registers rip' 2>&1)
	like "$GOUT" '^\$1 = "init", ' "gdb ELF core: a global's value"
	like "$GOUT" '^\$2 = 1' "... pointers between globals"
	like "$GOUT" "^rip +$rip " "... the vCPU's rip ($rip)"
else
	skip "no gdb" "gdb reads the core"
	skip "no gdb" "gdb reads the core"
	skip "no gdb" "gdb reads the core"
fi
(cd "$T" && timeout 60 "$VITROCTL" --vm="$NAME" --dump-core=core2 \
	>"$T/out" 2>"$T/err")
ST=$?
like "$ST $(cat "$T/out")" "^0 $T/core2: 16 MiB of guest memory, 1 vCPUs" \
	"vitroctl --dump-core: a relative name, written by the monitor"
is "$(head -c 4 "$T/core2" | od -An -c | tr -d ' ')" '177ELF' \
	"... an ELF file"
ctl_eval "$NAME" "vm dump-core /nonexistent/dir/core"
like "$ERR" 'cannot create the file' "vm dump-core into a missing dir"
ctl_eval "$NAME" "vm dump-core"
like "$ERR" 'wrong # args' "vm dump-core without a file"
ctl_eval "$NAME" "dict get [vm info] state"
is "$OUT" running "the VM runs on after the dumps"
tcl_done
