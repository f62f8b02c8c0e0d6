#!/usr/bin/env bash
# gdb.sh: gdb with the test kernel's vmlinux against vitro -G, 2 vCPUs,
# nokaslr: a hardware breakpoint at start_kernel and the backtrace there;
# then, once /init's marker is out, init_task's name, both vCPUs as
# threads, and Linux's own gdb scripts (vmlinux-gdb.py): lx-dmesg shows
# the kernel's banner, lx-ps lists init, and lx-symbols reloads vmlinux
# (the test kernel has no modules) with the session still working.  TAP.
. "$(dirname "$0")/linux-lib.bash"
lx_init
GDB_TIMEOUT=${GDB_TIMEOUT:-300}

VOUT=$T/lx.out VERR=$T/lx.err
LX_START=$(date +%s.%N)
"$VITRO" -G w0 -c 2 -m 256M -k "$VMLINUX" -i "$INITRD" \
	-a "console=ttyS0 nokaslr vitro.test=idle" lxgdb \
	</dev/null >"$VOUT" 2>"$VERR" &
VPID=$!
gl_pids+=("$VPID")
wait_for "$VERR" "^vitro: gdb: listening on " 30
PORT=$(sed -n 's/^vitro: gdb: listening on [^ ]*:\([0-9][0-9]*\)\($\|;.*\)/\1/p' \
	"$VERR" | head -n 1)
ok $? "vitro -G w0 listens for gdb" "$VERR"

# Session 1: from the first instruction to start_kernel.
if [ -n "$HWBP_GAP" ]; then
	gdb_run start "$VMLINUX" <<'EOF2'
detach
EOF2
	gl_skipping "$HWBP_GAP"
else
	gdb_run start "$VMLINUX" <<'EOF2'
echo @@hb\n
hbreak start_kernel
continue
echo @@bt\n
bt
echo @@comm\n
p init_task.comm
delete
detach
EOF2
fi
like "hbreak start_kernel stops there" hb \
	"(Breakpoint|Hardware assisted breakpoint) 1, (0x[0-9a-f]+ in )?start_kernel \(\)"
like "bt: start_kernel is frame 0" bt "^#0 +(0x[0-9a-f]+ in )?start_kernel \(\)"
like "bt: called from x86_64_start_reservations" bt \
	"^#[0-9]+ +0x[0-9a-f]+ in x86_64_start_(reservations|kernel) "
like "p init_task.comm at start_kernel: \"swapper\"" comm '^\$[0-9]+ = "swapper'
gl_skipping ""

if ! lx_marker "$LX_TIMEOUT"; then
	[ -n "$LX_REFUSED" ] && gl_skipping "$LX_REFUSED"
	[ -z "$LX_REFUSED" ] && diag "$VOUT" "$VERR"
fi
has "the kernel boots to /init's marker" "$VOUT" "^VITRO-INIT-OK cpus=2"
if ! vitro_alive; then
	gl_skipping "${LX_REFUSED:-vitro is not running}"
fi

# Session 2: a running system, stopped by gdb's attach.
[ -n "${GL_SKIP:-}" ] || gdb_run booted "$VMLINUX" <<EOF2
echo @@comm\n
p init_task.comm
echo @@threads\n
info threads
echo @@source\n
source $LX/vmlinux-gdb.py
echo @@dmesg\n
lx-dmesg
echo @@ps\n
lx-ps
echo @@symbols\n
lx-symbols
echo @@after\n
p init_task.pid
echo @@end\n
detach
EOF2
like "p init_task.comm: \"swapper/0\"" comm '^\$[0-9]+ = "swapper/0(\\000)*"'
is "$(sect threads | grep -c 'Thread [0-9]')" 2 "info threads: two threads"
unlike "vmlinux-gdb.py loads" source "Error|error:|Traceback"
like "lx-dmesg shows the kernel's banner" dmesg "Linux version [0-9]"
like "lx-dmesg shows the command line" dmesg "Command line: .*vitro\.test=idle"
like "lx-ps lists init" ps "[[:space:]]1[[:space:]]+init$"
like "lx-ps lists swapper/0" ps "swapper/0"
like "lx-symbols reloads vmlinux" symbols "^loading vmlinux"
unlike "lx-symbols runs without a Python error" symbols \
	"Traceback|Python Exception|Error occurred"
like "after lx-symbols, symbols still resolve: init_task.pid" after \
	'^\$[0-9]+ = 0$'
gl_skipping ""
gdb_done
