# tcl-lib.bash: shared by the tests in tests/tcl/, which drive the vitro
# console's commands (introspect/) against real VMs.  Sourced, not run.
#
#   tcl_init               skip the whole test without vitro, vitroctl, the
#                          Tcl package or a usable /dev/kvm; make $T (a
#                          temporary directory, removed at the end)
#   vm_start NAME [VITRO-ARGS...]
#                          start vitro in the background (default guest:
#                          the demo on 2 vCPUs; VM_GUEST=elf and
#                          VM_ARGS="..." change that) and wait until its
#                          control socket answers; VPID is its pid, VOUT
#                          its console file, VERR its stderr
#   vm_stop                power the last VM off (SIGTERM) and wait
#   ctl_eval NAME SCRIPT   `vitroctl --vm NAME eval SCRIPT`: OUT and ERR
#                          hold its stdout and stderr, ST its status
#   tclsh_run SCRIPT-FILE  a plain tclsh with the package on its path
#                          (package require vitro); OUT, ERR, ST as above.
#                          A package built with ASan (SAN=1) cannot load
#                          into the uninstrumented tclsh alone: TCLSH_ENV
#                          then preloads the ASan runtime (tcl_init)
#   ok STATUS NAME [FILE...]  a TAP line; files shown on failure
#   is GOT WANT NAME       ok when equal, both shown when not
#   like TEXT REGEX NAME   ok when TEXT has a line matching REGEX
#   tcl_done               stop the VMs, check their stderr for sanitizer
#                          reports, print the plan, exit 1 on a failure
#
# On the 9p /run of the nested KVM, the test re-executes itself in a
# mount namespace with a tmpfs on /run/vitro (as tests/kvm/vitroctl.sh).

if [ "$(id -u)" = 0 ] && [ -z "${TCL_LIB_NS:-}" ] &&
	[ "$(findmnt -n -o FSTYPE -T /run 2>/dev/null)" = 9p ]; then
	exec env TCL_LIB_NS=1 unshare -m --propagation private bash -c \
		'mkdir -p /run/vitro && mount -t tmpfs -o mode=0700 tmpfs \
			/run/vitro && exec bash "$0"' "$0"
fi

: "${VITRO_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
VITRO=$VITRO_BUILD/bin/vitro
VITROCTL=$VITRO_BUILD/bin/vitroctl
GUESTS=$VITRO_BUILD/tests/guests
export TCLLIBPATH=$VITRO_BUILD/lib
n=0
failed=0
vm_pids=()
vm_errs=()

tcl_cleanup() {
	for p in "${vm_pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

tcl_init() {
	local why=
	if [ ! -x "$VITRO" ] || [ ! -x "$VITROCTL" ]; then
		why="vitro or vitroctl not built"
	elif [ ! -f "$VITRO_BUILD/lib/vitro/pkgIndex.tcl" ]; then
		why="the Tcl package is not built"
	elif ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		why="/dev/kvm not available"
	fi
	if [ -n "$why" ]; then
		echo "1..0 # skip $why"
		exit 0
	fi
	T=$(mktemp -d)
	trap tcl_cleanup EXIT
	TCLSH_ENV=()
	if nm -D "$VITRO_BUILD/lib/vitro/libvitro.so" 2>/dev/null |
		grep -q __asan_init; then
		TCLSH_ENV=("LD_PRELOAD=$(${CC:-gcc} -print-file-name=libasan.so)"
			"ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}")
	fi
}

ok() { # ok STATUS NAME [FILE...]
	local st=$1 name=$2 f
	shift 2
	n=$((n + 1))
	if [ "$st" = 0 ]; then
		echo "ok $n - $name"
		return 0
	fi
	echo "not ok $n - $name"
	failed=$((failed + 1))
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|#   $(basename "$f"): |" "$f" | head -40 >&2
	done
	return 1
}

skip() { # skip REASON NAME
	n=$((n + 1))
	echo "ok $n - $2 # skip $1"
}

is() { # is GOT WANT NAME
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2" | head -40
	fi
}

like() { # like TEXT REGEX NAME
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '%s\n' "$1" | sed 's/^/#   got: /' | head -40
		echo "#   want a line matching: $2"
	fi
}

vm_start() { # vm_start NAME [VITRO-ARGS...]
	local name=$1
	shift
	VOUT=$T/$name.console
	VERR=$T/$name.err
	"$VITRO" --debug-exit ${VM_ARGS:--c 2 -m 64M} -k "${VM_GUEST:-$GUESTS/demo.elf}" \
		-l "com1,file:$VOUT" "$@" "$name" </dev/null >"$T/$name.out" \
		2>"$VERR" &
	VPID=$!
	vm_pids+=("$VPID")
	vm_errs+=("$VERR")
	for _ in $(seq 1 300); do
		"$VITROCTL" --vm="$name" --get-active-cpus >/dev/null 2>&1 &&
			return 0
		kill -0 "$VPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# vitro $name did not come up:"
	sed 's/^/#   /' "$VERR"
	return 1
}

vm_stop() {
	kill "$VPID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$VPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$VPID" 2>/dev/null
	wait "$VPID" 2>/dev/null
}

ctl_eval() { # ctl_eval NAME SCRIPT
	timeout 60 "$VITROCTL" --vm="$1" eval "$2" >"$T/out" 2>"$T/err"
	ST=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

tclsh_run() { # tclsh_run SCRIPT-FILE [ARGS...]
	timeout 60 env "${TCLSH_ENV[@]}" tclsh "$@" >"$T/out" 2>"$T/err"
	ST=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

tcl_done() {
	local e
	for p in "${vm_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	for e in "${vm_errs[@]}"; do
		if grep -Eq 'Sanitizer|runtime error:' "$e" 2>/dev/null; then
			ok 1 "no sanitizer report from vitro ($(basename "$e"))" "$e"
		fi
	done
	echo "1..$n"
	[ $failed = 0 ] || exit 1
	exit 0
}
