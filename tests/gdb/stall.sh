#!/usr/bin/env bash
# stall.sh: a vCPU blocked writing guest output to a host that does not
# read (demo.elf's status lines into a FIFO nobody drains).  gdb's attach
# stops the VM with a bound: vitro names the vCPU that could not stop and
# what it is doing, and gdb works with the other one; and SIGTERM still
# ends vitro promptly, dropping the output the host never took and
# saying how much.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/demo.elf

# The console is a FIFO held open here, read by nobody: once its buffer
# is full, the vCPU that prints (the BSP) waits in the serial back end.
mkfifo "$T/stall.out"
exec 5<>"$T/stall.out"
vitro_start stall -c 2 -k "$elf" -a "interval=10" || gdb_done

# Attach until an attach finds the BSP blocked (the FIFO fills within
# seconds; a try before that just stops and resumes the guest).
for try in $(seq 12); do
	sleep 5
	gdb_run "attach$try" "$elf" <<'EOF'
echo @@threads\n
info threads
p/x $pc
echo @@detach\n
detach
EOF
	grep -q "did not stop within" "$VERR" && break
done
has "vitro names the vCPU that cannot stop, and why" "$VERR" \
	"^vitro: debug: vCPU 0 did not stop within 2000 ms: it is blocked writing guest output to the host"
like "gdb attached all the same, in the vCPU that stopped" threads \
	"^\* 2 +Thread 2 \(vCPU 1"
like "... and lists the other as not stopped" threads \
	"^  1 +Thread 1 \(vCPU 0, not stopped: blocked writing output\)"
ok "$(vitro_alive; echo $?)" "vitro runs on after the detach"

# The end: the BSP still waits for the FIFO; SIGTERM must not wait with it.
kill -TERM "$VPID"
vitro_wait 30
is "$VST" 1 "SIGTERM ends vitro although a vCPU waited on output" "$VERR"
has "... saying how much output it dropped" "$VERR" \
	"^vitro: com1 output: [0-9]+ bytes dropped: the host did not take them within 1000 ms of the VM's end"
exec 5<&-
gdb_done
