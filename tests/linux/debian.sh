#!/usr/bin/env bash
# debian.sh: Debian's own kernel (linux-image-amd64's bzImage in /boot, a
# big xz-compressed kernel with most drivers as modules) boots in vitro
# with 2 vCPUs to the test initramfs's /init, which sees both CPUs and
# powers off: status 1.  Its RTC, i8042 and PCI probes find vitro's
# devices.  Its checks skip where /boot has no such kernel, or on a KVM that
# emulates guest kernel code (kvm_pvm), which cannot run it in time.  TAP.
. "$(dirname "$0")/linux-lib.bash"
lx_init

# Where it cannot run, its checks skip one by one (a whole skip would
# fail tests/tap-strict on a host with /dev/kvm).
DEB=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
VST=
if [ -z "$DEB" ]; then
	gl_skipping "no Debian kernel in /boot (linux-image-amd64)"
elif [ -e /sys/module/kvm_pvm ]; then
	gl_skipping "this KVM emulates guest kernel code: Debian's kernel would take hours"
else
	echo "# kernel: $DEB"
	lx_boot debian "$DEB" "panic=-1 vitro.test=poweroff"
	if ! lx_marker "$LX_TIMEOUT"; then
		echo "# ${LX_REFUSED:-no marker}"
	fi
fi
has "Debian's kernel prints its banner" "$VOUT" "Linux version [0-9].*Debian"
has "/init prints its marker" "$VOUT" "^VITRO-INIT-OK"
is "$LX_CPUS" 2 "/init sees 2 CPUs" "$VOUT" "$VERR"
has "the kernel reads the CMOS RTC" "$VOUT" "rtc_cmos .*setting system clock"
has "the kernel finds the i8042" "$VOUT" "serio: i8042 KBD port at 0x60,0x64"
has "the kernel finds PCI configuration access" "$VOUT" \
	"PCI: Using configuration type 1"
has "the kernel's SMP comes from the MADT" "$VOUT" \
	"ACPI: Using ACPI \(MADT\) for SMP"
[ -n "${VST:-}" ] || [ -n "${GL_SKIP:-}" ] || vitro_wait 120
is "$VST" 1 "vitro ends with status 1 after the ACPI poweroff" "$VOUT" \
	"$VERR"
gl_skipping ""
gdb_done
