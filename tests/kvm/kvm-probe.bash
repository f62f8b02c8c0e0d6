# kvm-probe.bash: sourced by shell tests.  kvm_probe NAME asks
# build/tests/kvm/kvm-probe what a bare KVM VM can do (tests/kvm/probe.h):
# status 0 can, 1 cannot, 2 unknown (or the prober is not built), with
# PROBE_WHY saying what the probe saw.  Needs VITRO_BUILD.
kvm_probe() {
	local st

	PROBE_WHY=$("$VITRO_BUILD/tests/kvm/kvm-probe" "$1" 2>&1)
	st=$?
	PROBE_WHY=${PROBE_WHY#*: *: }
	[ -x "$VITRO_BUILD/tests/kvm/kvm-probe" ] || st=2
	return $st
}
