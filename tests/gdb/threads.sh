#!/usr/bin/env bash
# threads.sh: vCPUs as threads, on smp.elf with two vCPUs that each count
# in a tight loop (their counters at 0x90200 and 0x90240): info threads,
# thread N with each vCPU's own registers and backtrace, stepping one vCPU
# while the other stays stopped, and continuing both.  Then one
# breakpoint that both vCPUs of demo.elf keep hitting: no hit is lost
# or doubled while gdb steps each off it.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/smp.elf
vitro_start smp -c 2 -k "$elf" || gdb_done
wait_for "$VOUT" "^smp: 2 CPUs counting" 30
has "smp.elf: both vCPUs count" "$VOUT" "^smp: 2 CPUs counting"

GDB_INT=1 gdb_run threads "$elf" <<'EOF'
echo @@info\n
info threads
echo @@t1\n
thread 1
p/x $rsp
p/x $gs_base
bt
echo @@t2\n
thread 2
p/x $rsp
p/x $gs_base
bt
echo @@lock\n
set scheduler-locking on
thread 1
p/x $pc
p *(unsigned long *)0x90200
thread 2
p *(unsigned long *)0x90240
stepi
stepi
stepi
stepi
stepi
stepi
stepi
stepi
p *(unsigned long *)0x90240
p *(unsigned long *)0x90200
thread 1
p/x $pc
echo @@both\n
set scheduler-locking off
p *(unsigned long *)0x90200
p *(unsigned long *)0x90240
continue
echo @@after\n
p *(unsigned long *)0x90200
p *(unsigned long *)0x90240
EOF

like "info threads: vCPU 0 is thread 1" info "^\* 1 +Thread 1 \(vCPU 0, long mode, CPL 0\) "
like "info threads: vCPU 1 is thread 2" info "^  2 +Thread 2 \(vCPU 1, long mode, CPL 0\) "
is "$(sect info | grep -c 'Thread [0-9]')" 2 "info threads: two threads"

like "thread 2: switching" t2 "^\[Switching to thread 2 \(Thread 2\)\]"
rsp1=$(val t1 1) gs1=$(val t1 2) rsp2=$(val t2 1) gs2=$(val t2 2)
[ -n "$rsp1" ] && [ -n "$rsp2" ] && [ "$rsp1" != "$rsp2" ]
ok $? "each thread has its own rsp ($rsp1, $rsp2)"
[ -n "$gs1" ] && [ -n "$gs2" ] && [ "$gs1" != "$gs2" ]
ok $? "each thread has its own gs_base (per-CPU data: $gs1, $gs2)"
like "thread 1: bt in smp_count" t1 "^#0 +(0x[0-9a-f]+ in )?smp_count \(cpu=[^)]*\) at .*smp\.c:"
like "thread 1: bt through guest_main" t1 "^#[0-9]+ +0x[0-9a-f]+ in guest_main \(\) at .*smp\.c:"
like "thread 2: bt in smp_count" t2 "^#0 +(0x[0-9a-f]+ in )?smp_count \(cpu=[^)]*\) at .*smp\.c:"
like "thread 2: bt through smp_ap_main" t2 "^#[0-9]+ +0x[0-9a-f]+ in smp_ap_main \(cpu=[^)]*\) at .*smp\.c:"
like "thread 2: bt down to rt_ap_start64" t2 "^#[0-9]+ +0x[0-9a-f]+ in rt_ap_start64 \(\)"

pc1=$(val lock 1) c0=$(val lock 2) c1=$(val lock 3)
c1b=$(val lock 4) c0b=$(val lock 5) pc1b=$(val lock 6)
is "$c0b" "$c0" "stepping thread 2 leaves vCPU 0's counter alone"
is "$pc1b" "$pc1" "stepping thread 2 leaves vCPU 0's pc alone"
[ -n "$c1" ] && [ -n "$c1b" ] && [ "$c1b" -gt "$c1" ] && [ "$c1b" -le $((c1 + 8)) ]
ok $? "eight steps of thread 2 count vCPU 1 up by 1 to 8 ($c1 -> $c1b)"

like "continue, then Ctrl-C: stops with SIGINT" both "^Thread [12] received signal SIGINT, Interrupt\.$"
c0=$(val both 1) c1=$(val both 2) c0b=$(val after 1) c1b=$(val after 2)
[ -n "$c0b" ] && [ "$c0b" -gt "$c0" ] && [ -n "$c1b" ] && [ "$c1b" -gt "$c1" ]
ok $? "continue runs both vCPUs (cpu0 $c0 -> $c0b, cpu1 $c1 -> $c1b)"
vitro_stop

# demo.elf: vCPU i computes demo_collatz_len(n) for n = i + 1, i + 3, ...
elf=$GUESTS/demo.elf
gl_skipping "$BP_GAP"
[ -n "$BP_GAP" ] || vitro_start demo -c 2 -k "$elf" -a "hz=1000" || gdb_done
[ -n "$BP_GAP" ] || wait_for "$VOUT" "^vitro demo: 2 vCPUs" 30
[ -n "$BP_GAP" ] || gdb_run shared "$elf" <<'EOF'
break demo_collatz_len
set $k = 0
while $k < 24
continue
printf "@hit %d %d\n", $_thread, n
set $k = $k + 1
end
EOF
for t in 1 2; do
	seq=$(sect "" | sed -n "s/^@hit $t //p" | tr '\n' ' ')
	read -r -a n <<<"$seq"
	good=$((${#n[@]} > 1))
	for ((i = 1; i < ${#n[@]}; i++)); do
		[ $((n[i] - n[i - 1])) = 2 ] || good=0
	done
	[ "$good" = 1 ] && [ $((n[0] % 2)) = $((t % 2)) ] || good=0
	ok $((!good)) "thread $t hit the shared breakpoint with n = $t + 2k, none lost or doubled ($seq)"
done
is "$(sect "" | grep -c '^@hit ')" 24 "24 stops, all at the breakpoint"
unlike "no stray SIGTRAP" "" "SIGTRAP"
gl_skipping ""
gdb_done
