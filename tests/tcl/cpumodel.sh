#!/usr/bin/env bash
# cpumodel.sh: CPU models on a real KVM.  The cpuid guest prints what
# CPUID shows its kernel (leaf 1 ECX, leaf 7 EBX); a -S script prints the
# console's `vm info` cpu dict (the model, the kind of KVM, the start-up
# probe's answer).  Under -cpu conservative the hidden bits are clear
# where filtering reaches the guest; under -cpu host they are set where
# the host has them; the probe's answer agrees with what the guest saw;
# without -cpu the kind of KVM picks the model (VITRO_VMM_KVM_KIND
# stands in for kvm_pvm), with a notice; bad -cpu values are refused.
. "$(dirname "$0")/tcl-lib.bash"
. "$(dirname "$0")/../kvm/kvm-probe.bash"
tcl_init

CPUID=$GUESTS/cpuid.elf
printf '%s\n' 'puts "info:[dict get [vm info] cpu]"' >"$T/info.tcl"

# run NAME [VITRO-ARGS...]: the cpuid guest; ST, OUT (stdout), ERR, CON,
# and from them E1 (leaf 1 ECX), B7 (leaf 7 EBX) as numbers, INFO.
run() {
	local name=$1
	shift
	: >"$T/$name.con"
	timeout -k 5 120 "$VITRO" --debug-exit -m 64M -k "$CPUID" \
		-l "com1,file:$T/$name.con" -S "$T/info.tcl" "$@" \
		"cpu$name$$" </dev/null >"$T/$name.out" 2>"$T/$name.err"
	ST=$?
	OUT=$(cat "$T/$name.out")
	ERR=$(cat "$T/$name.err")
	CON=$(tr -d '\r' <"$T/$name.con")
	vm_errs+=("$T/$name.err")
	INFO=$(printf '%s\n' "$OUT" | sed -n 's/^info://p')
	E1=$((16#$(printf '%s\n' "$CON" | sed -n 's/.*1\.ecx=\([0-9a-f]*\).*/\1/p')0 / 16))
	B7=$((16#$(printf '%s\n' "$CON" | sed -n 's/.*7\.ebx=\([0-9a-f]*\).*/\1/p')0 / 16))
}

bit() { # bit VALUE N: 0 when bit N is set (a shell status)
	[ $((($1 >> $2) & 1)) = 1 ]
}

host_has() { # host_has FLAG: /proc/cpuinfo lists it
	grep -m1 '^flags' /proc/cpuinfo | grep -qw -- "$1"
}

# The conservative model.
run cons -cpu conservative -v
is "$ST" 33 "-cpu conservative: the guest ran to its end"
like "$CON" 'cpuid 1\.ecx=[0-9a-f]{8} ' "the guest reports CPUID"
echo "# conservative: $(printf '%s\n' "$CON" | grep 'cpuid 1.ecx'); $INFO"
like "$INFO" '^model conservative ' "vm info: model conservative"
like "$INFO" 'hidden \{[^}]*cx16' "vm info lists cx16 among the hidden"
like "$ERR" 'CPU model conservative on [a-z]+ KVM; CPUID filtering' \
	"-v logs the model, the kind of KVM and the probe's answer"
like "$ERR" 'CPU features hidden:' "-v logs the hidden features"
FILTERED=$(printf '%s\n' "$INFO" | sed -n 's/.*filtered \([a-z]*\).*/\1/p')
hidden=0
for b in 13 23 26 27 28; do bit "$E1" $b && hidden=1; done
for b in 0 20; do bit "$B7" $b && hidden=1; done
if [ "$FILTERED" = yes ]; then
	is "$hidden" 0 "filtering reaches the guest: no cx16 popcnt xsave \
osxsave avx fsgsbase smap (1.ecx=$(printf %x "$E1") 7.ebx=$(printf %x "$B7"))"
	bit "$E1" 0
	ok $? "SSE3 stays"
else
	skip "the probe says filtering does not reach the guest" \
		"the hidden bits are clear"
	skip "filtering does not reach the guest" "SSE3 stays"
fi
# The probe and the guest agree: "yes" only where the guest saw the
# filtered CPUID (its SSE3..SSE4.2 shown, cx16 gone where the host has it).
if [ "$FILTERED" = no ]; then
	ok 0 "the probe says not filtered (this KVM shows the host's CPUID)"
elif host_has cx16 || host_has popcnt || host_has xsave; then
	is "$FILTERED:$hidden" "yes:0" \
		"the probe's answer matches what the guest saw"
else
	skip "the host has none of cx16 popcnt xsave" \
		"the probe's answer matches what the guest saw"
fi

# The TSC-deadline timer of KVM's LAPIC is shown under both models,
# although KVM_GET_SUPPORTED_CPUID before Linux 6.14 leaves it out.
E1_CONS=$E1

# The host model.
run host -cpu host
echo "# host: $(printf "%s\n" "$CON" | grep 'cpuid 1.ecx'); $INFO"
is "$ST" 33 "-cpu host: the guest ran to its end"
if ! kvm_probe tsc-deadline; then
	skip "$PROBE_WHY" "-cpu conservative shows the TSC-deadline timer"
	skip "$PROBE_WHY" "-cpu host shows the TSC-deadline timer"
elif [ "$FILTERED" != yes ]; then
	skip "the guest sees the host's CPUID, not KVM's" \
		"-cpu conservative shows the TSC-deadline timer"
	skip "the guest sees the host's CPUID" \
		"-cpu host shows the TSC-deadline timer"
else
	bit "$E1_CONS" 24
	ok $? "-cpu conservative shows the TSC-deadline timer (1.ecx bit 24)"
	bit "$E1" 24
	ok $? "-cpu host shows the TSC-deadline timer (1.ecx bit 24)"
fi
like "$INFO" '^model host hidden \{\} ' "vm info: model host, nothing hidden"
for f in cx16:E1:13 popcnt:E1:23 xsave:E1:26 fsgsbase:B7:0 smap:B7:20; do
	IFS=: read -r name reg b <<<"$f"
	if ! host_has "$name"; then
		skip "the host has no $name" "-cpu host shows $name"
		continue
	fi
	bit "${!reg}" "$b"
	ok $? "-cpu host shows $name, as the host has it"
done

# Automatic: the kind of KVM picks the model.
VITRO_VMM_KVM_KIND=emulated run autoemu
is "$ST" 33 "automatic on an emulating KVM: the guest ran"
like "$ERR" '^vitro: CPU model conservative: this KVM emulates guest kernel code' \
	"a one-line notice says conservative, and why"
like "$INFO" '^model conservative ' "the model is conservative"
VITRO_VMM_KVM_KIND=hardware run autohw -v
like "$INFO" '^model host ' "automatic on hardware KVM: host"
like "$ERR" 'CPU model host: KVM runs guest kernel code natively' \
	"-v says why"
if grep -q 'CPU model conservative' "$T/autohw.err"; then r=1; else r=0; fi
ok $r "no conservative notice on hardware KVM" "$T/autohw.err"

# Bad values: status 4 and a message, before KVM.
run bad -cpu pentium
is "$ST" 4 "-cpu pentium: status 4"
like "$ERR" "-cpu 'pentium': expected host or conservative" \
	"the message names the value and the models"

tcl_done
