#!/usr/bin/env bash
# console.sh: the test kernel with its KASLR on (the bzImage through its
# own entry, entry=bzimage, whose decompressor randomizes), looked at as a
# kernel developer would: the console finds the slide (sym slide -auto)
# and scripts/linux.tcl lists the tasks and the kernel log through DWARF;
# gdb with the vmlinux gets the slide through qOffsets and reads a kernel
# variable; a core dump (vitroctl --dump-core) opens in gdb with the
# vmlinux and shows the same variable.  TAP.
# On the 9p /run of the nested KVM (no unix sockets there), run in a mount
# namespace with a tmpfs on /run/vitro, as tests/tcl/tcl-lib.bash does.
if [ "$(id -u)" = 0 ] && [ -z "${LX_NS:-}" ] &&
	[ "$(findmnt -n -o FSTYPE -T /run 2>/dev/null)" = 9p ]; then
	exec env LX_NS=1 unshare -m --propagation private bash -c \
		'mkdir -p /run/vitro && mount -t tmpfs -o mode=0700 tmpfs \
			/run/vitro && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/linux-lib.bash"
lx_init

NAME=lxcon$$
VITROCTL=$VITRO_BUILD/bin/vitroctl
S=$(cd "$(dirname "$0")/../../scripts" && pwd)
lx_boot "$NAME" "$BZIMAGE,entry=bzimage" "vitro.test=idle" -G "0,sym=$VMLINUX"
if ! lx_marker "$LX_TIMEOUT"; then
	gl_skipping "${LX_REFUSED:-the kernel did not reach /init}"
	echo "# ${LX_REFUSED:-no marker}"
fi
PORT=$(sed -n 's/^vitro: gdb: listening on [^ ]*:\([0-9][0-9]*\)\($\|;.*\)/\1/p' \
	"$VERR" | head -n 1)

# The console: one eval, as the DWARF of a vmlinux takes a while to read
# (seconds on hardware, a minute in a nested KVM).
EV=$T/eval.out
if [ -z "${GL_SKIP:-}" ]; then
	timeout 900 "$VITROCTL" --vm="$NAME" --timeout=800 eval "
		sym load $VMLINUX
		puts \"@@slide\"; puts [sym slide -auto]
		source $S/linux.tcl
		puts \"@@ps\"; puts [lx-ps]
		puts \"@@dmesg\"; puts [lx-dmesg]
		puts \"@@end\"" >"$EV" 2>&1
fi
esect() { awk -v s="@@$1" '$0 == s { on = 1; next } /^@@/ { on = 0 } on' \
	"$EV"; }
slide=$(esect slide | awk '{print $2}')
ok $(((slide + 0) > 0 && (slide + 0) % 0x200000 == 0 ? 0 : 1)) \
	"sym slide -auto: KASLR moved the kernel by $slide, a multiple of 2 MiB" \
	"$EV"
has "lx-ps lists init (pid 1)" "$EV" '^0x[0-9a-f]+ +1 init +[A-Z]'
has "lx-ps lists swapper/0" "$EV" ' 0 swapper/0 '
has "lx-dmesg shows the kernel's banner" "$EV" 'Linux version [0-9]'
has "lx-dmesg shows /init's command line" "$EV" 'vitro\.test=idle'

# gdb: qOffsets (from -G's sym=, the bzImage having no symbols) gives it
# the slide; init_task is then where gdb looks.
if [ -z "${GL_SKIP:-}" ] && [ -n "$PORT" ]; then
	gdb_run kaslr "$VMLINUX" <<'EOF2'
echo @@comm\n
p init_task.comm
echo @@pc\n
p/x $pc
echo @@end\n
detach
EOF2
fi
like "gdb with qOffsets: p init_task.comm is \"swapper/0\"" comm \
	'^\$[0-9]+ = "swapper/0(\\000)*"'

# A core dump: gdb vmlinux CORE reads the same variable.  The file has
# the kernel's mappings at the addresses it ran at; gdb gets the slide
# from its own command (the core has no qOffsets).
CORE=$T/vmcore
if [ -z "${GL_SKIP:-}" ]; then
	timeout 600 "$VITROCTL" --vm="$NAME" --dump-core="$CORE" \
		>"$T/dump.out" 2>&1
	NOCONNECT=1 gdb_run core "" <<EOF2
symbol-file -o $slide $VMLINUX
core-file $CORE
echo @@comm\n
p init_task.comm
echo @@end\n
EOF2
fi
has "vitroctl --dump-core writes the core" "$T/dump.out" 'MiB of guest memory, 2 vCPUs'
like "gdb vmlinux on the core: init_task.comm is \"swapper/0\"" comm \
	'^\$[0-9]+ = "swapper/0(\\000)*"'
vitro_alive
ok $? "the VM runs on after the dump" "$VERR"
gl_skipping ""
gdb_done
