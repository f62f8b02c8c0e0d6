# linux-lib.bash: shared by the tests in tests/linux/, which boot the test
# kernel (tests/linux/build-kernel) and its busybox initramfs
# (scripts/mkinitramfs) in vitro.  Sourced, not run; it sources
# tests/gdb/gdb-lib.bash for the TAP helpers (ok, is, has, like, wait_for,
# vitro_start, vitro_wait, gdb_run...) and adds:
#
#   lx_init               gdb_init, then skip the whole test without the
#                         kernel or the initramfs; LX is build/linux,
#                         VMLINUX, BZIMAGE, INITRD the files.  The kvm_pvm
#                         kernel (build/linux/pvm) where that KVM is
#   lx_boot NAME KERNEL APPEND [VITRO-ARGS...]
#                         start vitro (-c 2 -m 256M) on KERNEL with the
#                         initramfs and the command line "console=ttyS0
#                         APPEND"; VPID, VOUT (the console), VERR
#   lx_marker SECONDS     wait for /init's "VITRO-INIT-OK cpus=N" line:
#                         0 seen (LX_CPUS is N); 1 not.  When vitro ended
#                         first with status 4 (it refuses the kernel: no
#                         Linux loader yet), LX_REFUSED says why
#
# Timeouts: LX_TIMEOUT (default 600 s) for a boot to its marker; the
# software KVMs of the development machines run guest kernel code about
# a thousand times slower than hardware.

. "$(dirname "${BASH_SOURCE[0]}")/../gdb/gdb-lib.bash"

LX=${VITRO_LINUX:-$VITRO_BUILD/linux}
LX_TIMEOUT=${LX_TIMEOUT:-600}

lx_init() {
	gdb_init
	if [ -e /sys/module/kvm_pvm ] && [ -w /dev/kvm ] &&
		[ -z "${VITRO_LINUX:-}" ]; then
		LX=$LX/pvm
	fi
	VMLINUX=$LX/vmlinux
	BZIMAGE=$LX/bzImage
	INITRD=${VITRO_INITRD:-$VITRO_BUILD/linux/initramfs.cpio.gz}
	[ -f "$VMLINUX" ] && [ -f "$BZIMAGE" ] ||
		gl_skip "no test kernel in $LX (make check-linux builds it)"
	[ -f "$INITRD" ] ||
		gl_skip "no $INITRD (make check-linux builds it)"
	echo "# kernel: $LX; initramfs: $INITRD"
}

lx_boot() { # lx_boot NAME KERNEL APPEND [VITRO-ARGS...]
	local name=$1 kernel=$2 append=$3

	shift 3
	VOUT=$T/$name.out
	VERR=$T/$name.err
	LX_START=$(date +%s.%N)
	"$VITRO" -c 2 -m 256M "$@" -k "$kernel" -i "$INITRD" \
		-a "console=ttyS0 $append" "$name" \
		</dev/null >"$VOUT" 2>"$VERR" &
	VPID=$!
	gl_pids+=("$VPID")
}

lx_marker() { # lx_marker SECONDS
	local i line

	LX_REFUSED= LX_CPUS= LX_SECS=
	for ((i = 0; i < $1 * 10; i++)); do
		line=$(tr -d '\r' <"$VOUT" 2>/dev/null |
			grep -m1 '^VITRO-INIT-OK')
		if [ -n "$line" ]; then
			LX_SECS=$(echo "$(date +%s.%N) - $LX_START" | bc)
			LX_CPUS=$(echo "$line" | sed -n 's/.*cpus=\([0-9]*\).*/\1/p')
			echo "# marker after ${LX_SECS%.*} s: $line"
			return 0
		fi
		if ! kill -0 "$VPID" 2>/dev/null; then
			wait "$VPID"
			VST=$?
			if [ "$VST" = 4 ] && ! grep -q 'Linux version' "$VOUT"
			then
				LX_REFUSED="vitro refuses the kernel:"
				LX_REFUSED+=" $(head -n 1 "$VERR")"
			fi
			return 1
		fi
		sleep 0.1
	done
	return 1
}
