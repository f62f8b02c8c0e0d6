#!/usr/bin/env bash
# boot-guests.sh: boots each guest of tests/guests under vitro and checks
# its exit status and console.  TAP; skips without /dev/kvm or vitro.
# paging.elf says when the virtual CPU cannot do a mode (status 39,
# GUEST_EXIT_UNSUPPORTED): kvm_pvm refuses CR0.PG outside long mode, and
# few CPUs have LA57.  Whether it may say so is decided by a probe of the
# KVM on a bare VM (tests/kvm/probe.h), never by the guest: where the
# probe finds the mode works the guest must pass, elsewhere it must exit
# 39 and only the check of its mappings is skipped.
set -u

: "${VITRO_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
vitro=$VITRO_BUILD/bin/vitro
g=$VITRO_BUILD/tests/guests
. "$(dirname "$0")/../kvm/kvm-probe.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { # ok STATUS NAME [DIRECTIVE]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2${3:+ # $3}"
	else
		echo "not ok $n - $2"
		sed 's/^/#   /' "$tmp/out" "$tmp/err" | tail -20
	fi
}

# boot NAME WANT-STATUS VITRO-ARGS...: status and console of one run.
boot() {
	local name=$1 want=$2
	shift 2
	timeout 60 "$vitro" --debug-exit "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local st=$?
	[ "$st" = "$want" ]
	ok $? "$name: status $st, want $want"
}


# has NAME PATTERN: the last run's console has a line matching PATTERN.
has() {
	tr -d '\r' <"$tmp/out" | grep -q -- "$2"
	ok $? "$1"
}

if [ ! -x "$vitro" ]; then
	echo "1..0 # skip $vitro not built"
	exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "1..0 # skip no usable /dev/kvm"
	exit 0
fi

boot "demo exits after 2 status lines" 33 -c 2 -m 256M -k "$g/demo.elf" \
	-a "exit-after=2 interval=200"
tr -d '\r' <"$tmp/out" | head -1 | grep -q "^vitro demo: 2 vCPUs, 256 MiB, cmdline 'exit-after=2"
ok $? "demo: first line names the demo, the vCPUs, the memory and the cmdline"
has "demo: status 2 with both vCPUs ticking" "^demo: status 2 .*cpu1 ticks=[1-9]"
boot "demo: a bad option fails" 35 -k "$g/demo.elf" -a "hz=fast"
boot "demo: an exception is reported" 37 -k "$g/demo.elf" \
	-a "fault interval=100"
has "demo: the report names #GP, rip and cpu" \
	"^demo: unexpected #GP (vector 13) error 0 rip 0x[0-9a-f]* cr2 .* cpu 0"

# smp never exits: watch its console, then stop it.
"$vitro" --debug-exit -c 2 -k "$g/smp.elf" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
	grep -q "CPUs counting" "$tmp/out" && break
	sleep 0.1
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
has "smp: both vCPUs counting" "^smp: 2 CPUs counting at 0x90200"

for mode in 64 32 pae la57; do
	case $mode in
	32) kvm_probe legacy-paging ;;
	pae) kvm_probe pae-paging ;;
	la57) kvm_probe la57 ;;
	*) true ;;
	esac
	if [ $? = 1 ]; then
		boot "paging mode=$mode: unsupported here, says the guest" 39 \
			-k "$g/paging.elf" -a "mode=$mode"
		has "paging mode=$mode: the guest says why" "unsupported by this CPU\|does not support it"
		ok 0 "paging mode=$mode: every mapping read back" \
			"skip $PROBE_WHY (probe)"
	else
		boot "paging mode=$mode" 33 -k "$g/paging.elf" -a "mode=$mode"
		has "paging mode=$mode: every mapping read back" \
			"mappings checked, 0 failed"
	fi
done
boot "paging: an unknown mode fails" 35 -k "$g/paging.elf" -a "mode=16"
boot "paging: a #PF in long mode is reported" 37 -k "$g/paging.elf" \
	-a "mode=64 fault"
has "paging: the report names #PF and cr2" \
	"^paging: unexpected #PF (vector 14) error 0 rip .* cr2 0x50000000"

printf 'alpha\n' >"$tmp/a.txt"
printf 'bravo-two' >"$tmp/b.txt"
boot "multiboot: 256 MiB, two modules" 33 -m 256M -k "$g/multiboot.elf" \
	-i "$tmp/a.txt,$tmp/b.txt" \
	-a "mem=256 mods=2 mod0=a.txt:alpha mod1=b.txt:bravo-two"
has "multiboot: checked module 1's content" "ok: module 1: 9 bytes"
boot "multiboot: 5000 MiB, memory above 4 GiB" 33 -m 5000M \
	-k "$g/multiboot.elf" -a "mem=5000"
boot "multiboot: a wrong module content fails" 35 -m 256M \
	-k "$g/multiboot.elf" -i "$tmp/a.txt" -a "mem=256 mods=1 mod0=a.txt:alphx"

boot "triple: vitro reports the triple fault" 3 -k "$g/triple.elf"
has "triple: printed its line first" "^triple: empty IDT"

boot "acpi: powers off through the FADT's PM1a_CNT (status 1)" 1 -c 2 \
	-k "$g/acpi.elf" -a "cpus=2"
has "acpi: found _S5 in the DSDT" "^acpi: ok: .*_S5 SLP_TYP 5; powering off"
has "acpi: the MADT lists both vCPUs" "^acpi: ok: the MADT lists 2 processors"
boot "acpi: 8 vCPUs with threads, all in the MADT" 1 \
	-c 8,sockets=2,cores=2,threads=2 -k "$g/acpi.elf" -a "cpus=8"

boot "pio-loop: 1000 writes" 33 -k "$g/pio-loop.elf" -a "count=1000"
boot "pio-loop: a bad count fails" 35 -k "$g/pio-loop.elf" -a "count=lots"

# memsieve, small: its own long mode, CPL 3 and back, the known count.
boot "memsieve: 1 MiB sieve, 1 MiB buffer" 33 -m 64M -k "$g/memsieve.elf" \
	-a "sieve=1 buf=1 reads=1000"
has "memsieve: 155611 primes below 2^21 at CPL 3" \
	"^memsieve: result sieve=[1-9].* primes=155611 checksum=0x"
boot "memsieve: a buffer not a power of two fails" 35 -m 64M \
	-k "$g/memsieve.elf" -a "buf=3"
boot "memsieve: too little RAM fails" 35 -m 64M -k "$g/memsieve.elf" \
	-a "sieve=64 buf=1"

echo "1..$n"
