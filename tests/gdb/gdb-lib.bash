# gdb-lib.bash: shared by the tests in tests/gdb/, which drive the real gdb
# against vitro's debug server (-G).  Sourced, not run.
#
# A test sources this, calls gdb_init (which skips the whole test without
# vitro, a usable /dev/kvm or gdb), then:
#
#   vitro_start NAME [-G SPEC] VITRO-ARGS...
#       start vitro in the background with -G 0 (or SPEC) and wait for its
#       "gdb: listening on ..." line; sets VPID, PORT (empty for a unix
#       socket), VOUT (the console) and VERR (stderr).  Every vitro
#       started is stopped by gdb_done.  With NOWAIT=1 it returns at once.
#   gdb_run NAME ELF <<'EOF' ... EOF
#       run gdb in batch mode on the script from stdin, after a preamble
#       that connects to PORT (unless NOCONNECT=1), with a timeout
#       (GDB_TIMEOUT seconds, default 60); ELF may be "" for none.  Sets
#       GOUT (gdb's stdout and stderr) and GST (its exit status).  In
#       the script @T@, @PORT@, @VOUT@ and @VERR@ stand for those values.
#       gdb_start runs it in the background (GPID); gdb_finish waits.
#       With GDB_INT=SECONDS, gdb gets a SIGINT (as from Ctrl-C) that
#       long after it started its first `continue` (each `continue` line
#       of the script is preceded by "echo gl: continue\n" to say so: gdb
#       in batch mode prints no "Continuing."), so that a slow start
#       cannot take the signal in its place; gdb is killed GDB_TIMEOUT
#       seconds later if still running.
#   like NAME SECTION REGEX / unlike NAME SECTION REGEX
#       a TAP line: whether the section of the last gdb output (the lines
#       after "echo @@SECTION\n" up to the next "@@" marker; "" for all of
#       it) has a line matching the extended regex.  On failure the
#       section (or all of GOUT) is shown as TAP comments.
#   has NAME FILE REGEX   the same for any file (VOUT, VERR...)
#   sect SECTION          that section of the last gdb output
#   val SECTION [K]       the value of its last (K-th) "$N = VALUE" line
#   ok STATUS NAME [FILE...]  a TAP line, ok if STATUS is 0; the files are
#                         shown on failure
#   is GOT WANT NAME [FILE...]  ok if GOT equals WANT; both shown if not
#   wait_for FILE REGEX SECONDS  until a line of FILE matches
#   rsp_open, rsp PAYLOAD, rsp_close  the protocol by hand (RSP: reply)
#   vitro_wait SECONDS    wait for vitro to exit; VST is its status, or
#                         "timeout"
#   vitro_alive / vitro_stop  whether it still runs / SIGTERM it and wait
#   BP_GAP, HWBP_GAP      set by gdb_init: why gdb's breakpoints (Z0) or
#                         hardware breakpoints (Z1) cannot stop a guest on
#                         this KVM, as probes on a bare VM found
#                         (tests/kvm/probe.h), or empty where they can;
#                         SWBP_GAP why vitro uses debug registers for Z0
#   kvm_probe NAME        run that probe (tests/kvm/kvm-probe.bash):
#                         status 0 can, 1 cannot, 2
#                         unknown; PROBE_WHY says what it saw
#   gl_skipping REASON    from now on every check is "ok N - NAME # skip
#                         REASON" (and not evaluated); gl_skipping "" ends
#                         that.  For the checks of a session that cannot
#                         run here, which the test then does not start.
#   gdb_done              stops every vitro, checks their stderr for
#                         sanitizer reports and every gdb output of the
#                         test for "'g' packet reply is too long" and gdb
#                         internal errors, prints the plan; exits 1 if
#                         anything failed
#
# Timeouts are generous on purpose: this host's KVM emulates guest kernel
# code about a thousand times slower than hardware, and the ASan build of
# vitro is slower still.  No check depends on how long something took
# beyond them, except where a test says so.

. "$(dirname "${BASH_SOURCE[0]}")/../kvm/kvm-probe.bash"
: "${VITRO_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
VITRO=$VITRO_BUILD/bin/vitro
GUESTS=$VITRO_BUILD/tests/guests
GDB=${GDB:-gdb}
GDB_TIMEOUT=${GDB_TIMEOUT:-60}

tap_n=0
tap_failed=0
gl_pids=()
gl_gdbs=()
GOUT=/dev/null

gl_cleanup() {
	local p

	for p in "${gl_gdbs[@]}" "${gl_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${gl_pids[@]}"; do
		# vitro powers off on SIGTERM; a hung one is killed.
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${KEEP:-}" ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}

gl_skip() {
	echo "1..0 # skip $1"
	exit 0
}


# What breakpoints can do here.  vitro plants gdb's breakpoints (Z0) as
# int3, which a KVM either intercepts or fails to emulate (kvm_pvm), or
# else in the debug registers; hardware breakpoints (Z1) are the debug
# registers.  A KVM that intercepts neither (kvm_amd on QEMU's emulated
# SVM) lets the guest run through them.
gl_bp_gaps() {
	local sw= hw=

	BP_GAP= HWBP_GAP= SWBP_GAP=
	kvm_probe hw-bp
	[ $? = 1 ] && hw=$PROBE_WHY
	kvm_probe sw-bp
	[ $? = 1 ] && sw=$PROBE_WHY
	HWBP_GAP=${hw:+hardware breakpoints cannot stop the guest here: $hw (probe hw-bp)}
	SWBP_GAP=${sw:+int3 is not intercepted here, so vitro puts breakpoints in the debug registers: $sw (probe sw-bp)}
	if [ -n "${sw:-}" ] && [ -n "$hw" ]; then
		BP_GAP="no breakpoint can stop the guest here (probes sw-bp, hw-bp): $sw; $hw"
	fi
}

gl_skipping() {
	GL_SKIP=$1
}

gdb_init() {
	[ -x "$VITRO" ] || gl_skip "$VITRO not built"
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || gl_skip "no usable /dev/kvm"
	command -v "$GDB" >/dev/null 2>&1 || gl_skip "no gdb"
	command -v timeout >/dev/null 2>&1 || gl_skip "no timeout(1)"
	gl_bp_gaps
	[ -z "$BP_GAP" ] || echo "# $BP_GAP"
	[ -z "$HWBP_GAP" ] || echo "# $HWBP_GAP"
	T=$(mktemp -d "${TMPDIR:-/tmp}/vitro-gdb.XXXXXX")
	trap gl_cleanup EXIT
	trap 'exit 1' INT TERM
}

diag() {
	local f

	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "# --- $(basename "$f"):"
		tr -d '\r' <"$f" | tail -n 60 | sed 's/^/#   /'
	done
}

ok() { # ok STATUS NAME [FILE...]: a TAP line; the files shown on failure
	local st=$1 name=$2

	shift 2
	tap_n=$((tap_n + 1))
	if [ -n "${GL_SKIP:-}" ]; then
		echo "ok $tap_n - $name # skip $GL_SKIP"
	elif [ "$st" = 0 ]; then
		echo "ok $tap_n - $name"
	else
		echo "not ok $tap_n - $name"
		tap_failed=$((tap_failed + 1))
		diag "$@"
	fi
}

is() { # is GOT WANT NAME [FILE...]
	local got=$1 want=$2 name=$3

	shift 3
	if [ -n "${GL_SKIP:-}" ]; then ok 0 "$name"; return; fi
	if [ "$got" = "$want" ]; then
		ok 0 "$name"
	else
		ok 1 "$name" "$@"
		echo "#   got:  '$got'"
		echo "#   want: '$want'"
	fi
}

# vitro

vitro_start() { # vitro_start NAME [-G SPEC] ARGS...
	local name=$1 spec=0 port

	shift
	if [ "${1:-}" = -G ]; then
		spec=$2
		shift 2
	fi
	VOUT=$T/$name.out
	VERR=$T/$name.err
	"$VITRO" --debug-exit -G "$spec" "$@" </dev/null >"$VOUT" 2>"$VERR" &
	VPID=$!
	gl_pids+=("$VPID")
	PORT=
	[ -z "${NOWAIT:-}" ] || return 0
	for _ in $(seq 300); do
		if grep -q "^vitro: gdb: listening on " "$VERR" 2>/dev/null; then
			PORT=$(sed -n 's/^vitro: gdb: listening on [^ ]*:\([0-9][0-9]*\)\($\|;.*\)/\1/p' "$VERR" | head -n 1)
			return 0
		fi
		kill -0 "$VPID" 2>/dev/null || break
		sleep 0.1
	done
	ok 1 "vitro $* listens for gdb" "$VERR" "$VOUT"
	return 1
}

vitro_alive() {
	kill -0 "$VPID" 2>/dev/null
}

vitro_wait() { # vitro_wait SECONDS: VST is vitro's exit status or timeout
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		if ! kill -0 "$VPID" 2>/dev/null; then
			wait "$VPID"
			VST=$?
			return 0
		fi
		sleep 0.1
	done
	VST=timeout
	return 1
}

vitro_stop() {
	kill -TERM "$VPID" 2>/dev/null
	vitro_wait 10 || kill -KILL "$VPID" 2>/dev/null
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	local i

	for ((i = 0; i < $3 * 10; i++)); do
		tr -d '\r' 2>/dev/null <"$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# gdb

gdb_start() { # gdb_start NAME ELF, script on stdin; GPID, GOUT
	local name=$1 elf=$2 script=$T/$1.gdbx

	{
		echo "set pagination off"
		echo "set confirm off"
		echo "set width 0"
		echo "set height 0"
		echo "set print pretty off"
		echo "set remotetimeout 20"
		[ -n "${NOCONNECT:-}" ] ||
			echo "target remote 127.0.0.1:$PORT"
		sed -e "s|@VOUT@|$VOUT|g" -e "s|@VERR@|$VERR|g" -e "s|@T@|$T|g" \
			-e "s|@PORT@|$PORT|g" \
			${GDB_INT:+-e 's/^continue$/echo gl: continue\\n\ncontinue/'}
	} >"$script"
	GOUT=$T/$name.gdb
	: >"$GOUT"
	if [ -n "${GDB_INT:-}" ]; then
		# --foreground: without it timeout signals its process group
		# as well, and a second SIGINT makes gdb give up waiting and
		# disconnect.  timeout passes the SIGINT on to gdb and kills
		# it GDB_TIMEOUT seconds later if it is still running.
		set -- --foreground -k "$GDB_TIMEOUT" "$GDB_TIMEOUT"
	else
		set -- -k 5 "$GDB_TIMEOUT"
	fi
	timeout "$@" "$GDB" -q -batch -nx -x "$script" ${elf:+"$elf"} \
		>"$GOUT" 2>&1 &
	GPID=$!
	gl_gdbs+=("$GPID")
	if [ -n "${GDB_INT:-}" ]; then
		(wait_for "$GOUT" '^gl: continue$' "$GDB_TIMEOUT" &&
			sleep "$GDB_INT" && kill -INT "$GPID" 2>/dev/null) &
		gl_gdbs+=("$!")
	fi
}

gdb_finish() {
	wait "$GPID" 2>/dev/null
	GST=$?
	if [ "$GST" = 124 ]; then
		echo "# gdb timed out after ${GDB_TIMEOUT}s: $GOUT"
	fi
}

gdb_run() {
	gdb_start "$@"
	gdb_finish
}

# The remote protocol by hand, for what gdb cannot be made to send: one
# connection on fd 3 in no-ack mode.  rsp PAYLOAD sends a packet and sets
# RSP to the payload of the reply (empty on a timeout).

rsp_open() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf '+' >&3
	rsp QStartNoAckMode
	printf '+' >&3
}

rsp_close() {
	exec 3<&-
}

rsp() {
	local s=$1 sum=0 i c junk

	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		sum=$((sum + c))
	done
	printf '$%s#%02x' "$s" $((sum & 255)) >&3
	RSP=
	IFS= read -r -t 20 -d '#' -u 3 RSP || return 1
	IFS= read -r -t 20 -n 2 -u 3 junk
	RSP=${RSP#*\$}
}

# sect SECTION: that section of GOUT ("" for all of it).
sect() {
	if [ -z "$1" ]; then
		tr -d '\r' <"$GOUT"
	else
		tr -d '\r' <"$GOUT" | awk -v s="@@$1" '
			$0 == s { on = 1; next }
			/^@@/ { on = 0 }
			on'
	fi
}

gl_show() { # the section, or all of GOUT when it is empty
	local s

	s=$(sect "$1")
	if [ -n "$1" ] && [ -n "$s" ]; then
		echo "# --- gdb output, section $1:"
		printf '%s\n' "$s" | sed 's/^/#   /'
	else
		[ -n "$1" ] && echo "# (no section $1 in the gdb output)"
		diag "$GOUT"
	fi
}

like() { # like NAME SECTION REGEX
	if [ -n "${GL_SKIP:-}" ]; then ok 0 "$1"; return; fi
	if sect "$2" | grep -Eq -- "$3"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   no line matches: $3"
		gl_show "$2"
	fi
}

has() { # has NAME FILE REGEX: a line of FILE matches
	if [ -n "${GL_SKIP:-}" ]; then ok 0 "$1"; return; fi
	if tr -d '\r' <"$2" | grep -Eq -- "$3"; then
		ok 0 "$1"
	else
		ok 1 "$1" "$2"
		echo "#   no line matches: $3"
	fi
}

unlike() { # unlike NAME SECTION REGEX
	if [ -n "${GL_SKIP:-}" ]; then ok 0 "$1"; return; fi
	if ! sect "$2" | grep -Eq -- "$3"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   a line matches: $3"
		gl_show "$2"
	fi
}

# val SECTION [K]: the value of the last (or the K-th) "$N = VALUE" line
# there.
val() {
	if [ -n "${2:-}" ]; then
		sect "$1" | sed -n 's/^\$[0-9][0-9]* = //p' | sed -n "$2p"
	else
		sect "$1" | sed -n 's/^\$[0-9][0-9]* = //p' | tail -n 1
	fi
}

gdb_done() {
	GL_SKIP=
	local outs=("$T"/*.gdb) errs p

	# Stop every vitro now, so that their exit reports (LeakSanitizer's
	# in the ASan build) are in before the last check.
	for p in "${gl_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${gl_pids[@]}"; do
		VPID=$p vitro_wait 20 || kill -KILL "$p" 2>/dev/null
	done
	errs=("$T"/*.err)
	if [ -e "${errs[0]}" ]; then
		! grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|WARNING: ThreadSanitizer\|runtime error:" \
			"${errs[@]}" >"$T/sanitizer"
		ok $? "no sanitizer report from vitro" $(cat "$T/sanitizer")
	fi

	if [ -e "${outs[0]}" ]; then
		! grep -l "packet reply is too long" "${outs[@]}" >"$T/toolong"
		ok $? "no gdb session said \"'g' packet reply is too long\"" \
			$(cat "$T/toolong")
		! grep -l -i "internal-error\|internal problem" "${outs[@]}" \
			>"$T/internal"
		ok $? "gdb reported no internal error" $(cat "$T/internal")
	fi
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
	exit $?
}
