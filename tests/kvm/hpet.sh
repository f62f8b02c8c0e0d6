#!/usr/bin/env bash
# hpet.sh: the HPET on KVM.  The hpet guest checks GCAP_ID, the counter's
# rate against the TSC, timer 0 in legacy mode on IRQ 0 through the
# IOAPIC (one-shot, then periodic) and a level interrupt that stays
# pending until the guest clears its ISR bit; it exits with pass (status
# 33).  With --no-hpet there is no HPET to find: the guest fails (35).
# TAP; skips without /dev/kvm or vitro.
set -u

: "${VITRO_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
vitro=$VITRO_BUILD/bin/vitro
guest=$VITRO_BUILD/tests/guests/hpet.elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { # ok STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		sed 's/^/#   /' "$tmp/out" "$tmp/err" | tail -20
	fi
}

# boot NAME WANT-STATUS VITRO-ARGS...: the status of one run.
boot() {
	local name=$1 want=$2
	shift 2
	timeout 300 "$vitro" --debug-exit "$@" </dev/null >"$tmp/out" \
		2>"$tmp/err"
	local st=$?
	[ "$st" = "$want" ]
	ok $? "$name: status $st, want $want"
}

# has NAME PATTERN: the last run's console has a line matching PATTERN.
has() {
	tr -d '\r' <"$tmp/out" | grep -q -- "$2"
	ok $? "$1"
}

if [ ! -x "$vitro" ] || [ ! -r "$guest" ]; then
	echo "1..0 # skip $vitro or $guest not built"
	exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "1..0 # skip no usable /dev/kvm"
	exit 0
fi

boot "hpet guest passes" 33 -m 32M -k "$guest" -a "ticks=5"
has "GCAP_ID: 3 timers, 64-bit, legacy, 10 ns" \
	"^hpet: ok: GCAP_ID 0x[0-9a-f]*: 3 timers, 64-bit, legacy, 10000000 fs"
has "the counter runs at the advertised rate" "^hpet: ok: counter: "
has "timer 0, one-shot, on IRQ 0 (IOAPIC pin 2) once" \
	"^hpet: ok: one-shot: IRQ 0 once through IOAPIC pin 2"
has "timer 0, periodic, 5 interrupts" "^hpet: ok: periodic: 5 interrupts"
has "a level interrupt stays pending until the ISR bit is cleared" \
	"^hpet: ok: level: pending on pin 20 until the ISR bit was cleared"
boot "--no-hpet: no HPET for the guest" 35 --no-hpet -m 32M -k "$guest"
has "--no-hpet: the guest says what it missed" "^hpet: FAIL: GCAP_ID"
boot "a bad option fails" 35 -m 32M -k "$guest" -a "ticks=lots"
echo "1..$n"
