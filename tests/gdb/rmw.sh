#!/usr/bin/env bash
# rmw.sh: locked read-modify-writes stay atomic across vCPUs while a read
# or access watchpoint makes their page inaccessible (dbgrmw.elf on two
# vCPUs: lock xadd, a lock cmpxchg loop and an xchg spin lock, each CPU
# adding n to three counters beside the watched variable; a lost update
# makes a count short and the guest fail).  Every access to the page goes
# through vitro; the watched variable itself is never touched, so gdb
# does not stop.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/dbgrmw.elf

for kind in awatch rwatch; do
	vitro_start "$kind" -G w0 -c 2 -k "$elf" -a "n=400" || gdb_done
	gdb_run "$kind" "$elf" <<EOF
echo @@layout\n
p ((unsigned long)&dbgrmw_xadd & 4095) == 0
p (unsigned long)&dbgrmw_page_end - (unsigned long)&dbgrmw_xadd == 4096
echo @@watch\n
$kind dbgrmw_watched
continue
EOF
	is "$(val layout 1)$(val layout 2)" 11 \
		"$kind: the counters and the watched variable share one page"
	like "$kind: set" watch "^(Hardware )?(read|access \(read/write\)) watchpoint 1: dbgrmw_watched"
	like "$kind: the guest runs to its end without a stop" watch \
		"^\[Inferior 1 \(Remote target\) exited with code 041\]$"
	vitro_wait 60
	is "$VST" 33 "$kind: every locked update counted (guest passes)" \
		"$VOUT" "$VERR"
	has "$kind: two CPUs took part" "$VOUT" "^dbgrmw: 2 CPUs"
done
gdb_done
