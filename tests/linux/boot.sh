#!/usr/bin/env bash
# boot.sh: the test kernel boots in vitro with 2 vCPUs, through its vmlinux
# (the PVH entry) and through its bzImage (the 64-bit boot protocol), to
# the busybox initramfs's /init, which sees both CPUs, prints its marker
# and powers off: vitro then ends with status 1 (powered off).  On the way
# Linux finds the HPET through its ACPI table and registers it as a
# clocksource, the PCI root bridge in the DSDT and the host bridge on its
# bus, and the TSC-deadline timer of KVM's LAPIC in CPUID.  TAP.
. "$(dirname "$0")/linux-lib.bash"
lx_init

# The guest sees KVM's CPUID, where vitro adds the TSC-deadline timer,
# unless this is kvm_pvm (the host's CPUID reaches the guest there).
if ! kvm_probe tsc-deadline; then
	DEADLINE="$PROBE_WHY"
elif [ -e /sys/module/kvm_pvm ]; then
	DEADLINE="kvm_pvm shows the guest the host's CPUID"
else
	DEADLINE=
fi

boot() { # boot NAME KERNEL WHAT
	local name=$1 kernel=$2 what=$3 was

	lx_boot "$name" "$kernel" "panic=-1 vitro.test=poweroff"
	if ! lx_marker "$LX_TIMEOUT" && [ -n "$LX_REFUSED" ]; then
		gl_skipping "$LX_REFUSED"
		echo "# $LX_REFUSED"
	fi
	has "$what: Linux prints its banner" "$VOUT" "Linux version [0-9]"
	has "$what: /init prints its marker" "$VOUT" "^VITRO-INIT-OK"
	has "$what: Linux finds the HPET in ACPI" "$VOUT" \
		"ACPI: HPET id: 0x8086a201 base: 0xfed00000"
	has "$what: and registers its counter" "$VOUT" "clocksource: hpet: mask"
	has "$what: Linux finds the PCI root bridge in ACPI" "$VOUT" \
		"PCI host bridge to bus 0000:00"
	has "$what: and the 440FX host bridge at 00:00.0" "$VOUT" \
		"pci 0000:00:00.0: \\[8086:1237\\]"
	was=${GL_SKIP:-}
	[ -n "$was" ] || gl_skipping "$DEADLINE"
	has "$what: Linux finds the TSC-deadline timer" "$VOUT" \
		"TSC deadline timer available"
	gl_skipping "$was"
	is "$LX_CPUS" 2 "$what: /init sees 2 CPUs" "$VOUT" "$VERR"
	[ -n "$VST" ] || vitro_wait 120
	is "$VST" 1 "$what: vitro ends with status 1 after poweroff" \
		"$VOUT" "$VERR"
	gl_skipping ""
}

VST=
boot vmlinux "$VMLINUX" "vmlinux (PVH)"
VST=
boot bzimage "$BZIMAGE" bzImage
gdb_done
