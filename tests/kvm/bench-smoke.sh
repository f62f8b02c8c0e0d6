#!/usr/bin/env bash
# bench-smoke.sh: each benchmark driver of tests/bench/ still runs, in its
# smallest configuration, to status 0 and its figures line.  `make check`
# runs no benchmark (they take minutes and judge nothing), so a driver
# that vitro's command line had outgrown went unseen: exit-rate's traced
# runs failed from the day --debug-exit took a slot of its argv.  This
# checks that each one runs and says its figures, not what they are.  A
# driver that skips (no qemu-system-x86_64, no gdb with Python, no
# control socket where /run/vitro cannot hold one, no hardware breakpoints
# for gdb-vs-qemu's hbreak) is a skipped check with its reason.  TAP;
# skips without /dev/kvm or vitro.
set -u

: "${VITRO_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
bench=$VITRO_BUILD/tests/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
	echo "1..0 # skip no usable /dev/kvm"
	exit 0
fi
if [ ! -x "$VITRO_BUILD/bin/vitro" ]; then
	echo "1..0 # skip $VITRO_BUILD/bin/vitro not built"
	exit 0
fi

# run NAME LAST-LINE-REGEX COMMAND...: the driver's status and last line.
run() {
	local name=$1 want=$2 st last
	shift 2
	n=$((n + 1))
	timeout -k 5 600 "$@" >"$tmp/out" 2>&1
	st=$?
	last=$(tail -n 1 "$tmp/out")
	if [ "$st" = 0 ] && [[ "$last" == skip:* ]]; then
		echo "ok $n - $name # skip ${last#skip: }"
	elif [ "$st" = 0 ] && [[ "$last" =~ $want ]]; then
		echo "ok $n - $name: $last"
	else
		echo "not ok $n - $name: status $st, last line '$last'"
		echo "#   want a last line matching: $want"
		sed 's/^/#   /' "$tmp/out" | tail -30
	fi
}

num='[0-9]+(\.[0-9]+)?'
run "exit-rate -n 2000 -r 1" \
	"^ratio_off=$num ratio_on=$num ratio_stack=$num\$" \
	"$bench/exit-rate" -n 2000 -r 1
run "footprint -r 1" "^startup_cpu_ms=$num rss_overhead_kib=$num\$" \
	"$bench/footprint" -r 1
run "control -t 1" \
	"^ctl_regs_s=$num ctl_mem_mib_s=$num inproc_mem_mib_s=$num\$" \
	"$bench/control" -t 1
run "gdb-vs-qemu -c free -n 1000 -r 1" "^stepi_ratio=$num dump_ratio=$num\$" \
	"$bench/gdb-vs-qemu" -c free -n 1000 -r 1
run "guest-mem, 1 MiB sieve and buffer, 1 round" "^mem_ratio=$num\$" \
	"$bench/guest-mem" -s 1 -b 1 -n 1000 -m 64 -r 1
echo "1..$n"
