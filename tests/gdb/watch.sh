#!/usr/bin/env bash
# watch.sh: watchpoints on dbgtest.elf, whose loop writes dbg_w0..dbg_w6 in
# turn, reads dbg_ro (42) and increments dbg_rw, all alone on one data
# page: watch with old and new values, rwatch, awatch, seven at once, and
# the guest running normally again once they are deleted.  Then demo.elf
# on two vCPUs: a watchpoint on one vCPU's slot stops only that vCPU's
# thread, and a read watchpoint on a global that shares its page with the
# guest's GDT.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/dbgtest.elf
vitro_start dbgtest -k "$elf" || gdb_done
wait_for "$VOUT" "^dbgtest: running" 30

gdb_run watch "$elf" <<'EOF'
echo @@layout\n
p ((unsigned long)&dbg_w0 & 4095) == 0
p (unsigned long)&dbg_watch_end - (unsigned long)&dbg_w0 == 4096
p (unsigned long)&dbg_rw < (unsigned long)&dbg_watch_end
p/x &dbg_w3
echo @@watch\n
watch dbg_w3
set debug remote 1
continue
set debug remote 0
echo @@watch2\n
continue
p dbg_w3 - dbg_w2
delete
echo @@rwatch\n
rwatch dbg_ro
continue
continue
p dbg_ro
delete
echo @@awatch\n
awatch dbg_rw
continue
continue
delete
echo @@many\n
watch dbg_w0
watch dbg_w1
watch dbg_w2
watch dbg_w3
watch dbg_w4
watch dbg_w5
watch dbg_w6
continue
continue
continue
continue
continue
continue
continue
continue
echo @@info\n
info watchpoints
delete
echo @@free\n
set var dbg_stop_after = dbg_rounds + 1000
continue
EOF

like "the watched globals start a page" layout '^\$1 = 1$'
like "nothing of the guest's follows them on their page" layout '^\$2 = 1$'
like "dbg_rw is on that page too" layout '^\$3 = 1$'

w3=$(val layout | sed 's/^0x//')
like "watch: a hardware watchpoint" watch "^Hardware watchpoint 1: dbg_w3$"
like "watch: inserted as Z2 of 8 bytes at &dbg_w3" watch "Sending packet: \\\$Z2,${w3:-?},8#"
like "watch: the stop reply says watch:ADDR" watch "Packet received: T05thread:0*1;.*watch:0*${w3:-?};"
like "watch: stops on the write with old and new values" watch2 "^Old value = [0-9]+$"
like "watch: ... new value" watch2 "^New value = [0-9]+$"
old=$(sect watch2 | sed -n 's/^Old value = //p')
new=$(sect watch2 | sed -n 's/^New value = //p')
is "$((new - old))" 1 "watch: one round later the new value is one more ($old -> $new)"
like "watch: stopped after the write, before dbg_w4's" watch2 "^7[0-9][[:space:]]+dbg_w4 = k \+ 4;"

is "$(sect rwatch | grep -c '^Value = 42$')" 2 "rwatch: two reads of dbg_ro, value 42"
like "rwatch: a read watchpoint" rwatch "^Hardware read watchpoint [0-9]+: dbg_ro$"
like "rwatch: stopped at the line that reads it" rwatch "dbg_sum = dbg_add\(dbg_sum, dbg_ro\);"

like "awatch: an access watchpoint" awatch "^Hardware access \(read/write\) watchpoint [0-9]+: dbg_rw$"
like "awatch: stops on the read" awatch "^Value = [0-9]+$"
like "awatch: stops on the write with old and new values" awatch "^Old value = [0-9]+$"

hits=$(sect many | sed -n 's/^Hardware watchpoint \([0-9]*\): \(dbg_w[0-9]\)$/\1:\2/p' | tail -n 8 | tr '\n' ' ')
is "$hits" "4:dbg_w0 5:dbg_w1 6:dbg_w2 7:dbg_w3 8:dbg_w4 9:dbg_w5 10:dbg_w6 4:dbg_w0 " \
	"seven watchpoints at once: each hit in turn, then the first again"
is "$(sect info | grep -c 'hw watchpoint  keep y')" 7 "info watchpoints lists the seven"

like "deleted: the guest runs its rounds and exits through the port" free "^\[Inferior 1 \(Remote target\) exited with code 041\]"
vitro_wait 30
is "$VST" 33 "vitro exits with the guest's pass status"
has "the guest's last line" "$VOUT" "^dbgtest: stopped after [0-9]+ rounds, sum [0-9]+"

# Many pages: gdb's watchpoints on 64 pages of free RAM (at 3 MiB) and
# dbg_w0, all inserted at once.  Then by hand, as gdb cannot be made to
# send them in this order: Z2 on pages until the stub refuses one, with a
# Z2 on dbg_w0's page tried (and removed again) before each, so that one
# is refused too as the stub nears its limit (a page in the middle of
# guest memory costs the stub more than one next to a page already
# watched); all removed, D; a new session watches dbg_w6 to stop after a
# round's last write (dbg_w0 is the next write on the page), then watches
# dbg_w3 only, and must stop there, not at dbg_w0.  No breakpoint needed.
vitro_start pages -k "$elf" || gdb_done
wait_for "$VOUT" "^dbgtest: running" 30
{
	for i in $(seq 0 63); do
		echo "watch *(long *)$((0x300000 + i * 4096))"
	done
	echo "watch dbg_w0"
	echo "echo @@hit\\n"
	echo "continue"
	echo "p/x &dbg_w0"
	echo "p/x &dbg_w3"
	echo "p/x &dbg_w6"
} >"$T/pages.in"
gdb_run pages "$elf" <"$T/pages.in"
like "65 watchpoints on 65 pages: dbg_w0's is hit" hit "^Hardware watchpoint 65: dbg_w0$"
unlike "... none refused" "" "Could not insert"
w0=$(val hit 1) w3=$(val hit 2) w6=$(val hit 3)
w0=${w0#0x} w3=${w3#0x} w6=${w6#0x}
rsp_open
inserted=()
refused= refused_w0= w0_at=
for i in $(seq 0 299); do
	if [ -z "$refused_w0" ]; then
		rsp "Z2,${w0:-0},8"
		if [ "$RSP" = OK ]; then
			rsp "z2,${w0:-0},8"
		else
			refused_w0=$RSP w0_at=${#inserted[@]}
		fi
	fi
	a=$(printf %x $((0x300000 + i * 4096)))
	rsp "Z2,$a,8"
	if [ "$RSP" != OK ]; then
		refused=$RSP
		break
	fi
	inserted+=("$a")
done
if [ -z "$refused_w0" ]; then
	# Not refused before the pages ran out: at the limit it must be.
	rsp "Z2,${w0:-0},8"
	refused_w0=$RSP w0_at=${#inserted[@]}
	[ "$RSP" = OK ] && rsp "z2,${w0:-0},8"
fi
for a in "${inserted[@]}"; do
	rsp "z2,$a,8"
done
rsp D
rsp_close
[ ${#inserted[@]} -ge 100 ] && [[ "$refused" =~ ^E[0-9a-f]{2}$ ]]
ok $? "by hand: ${#inserted[@]} pages watched, then Z2 refused ($refused)"
[[ "$refused_w0" =~ ^E[0-9a-f]{2}$ ]]
ok $? "Z2 on dbg_w0's page refused near the limit, with $w0_at pages watched ($refused_w0)"
wait_for "$VERR" "debugger detached" 30
rsp_open
rsp "Z2,${w6:-0},8"
rsp c
first=$RSP
rsp "z2,${w6:-0},8"
rsp "Z2,${w3:-0},8"
rsp c
stop=$RSP
rsp D
rsp_close
[[ "$first" =~ watch:0*${w6:-x}\; ]]
ok $? "a new session stops after dbg_w6's write, the end of a round ($first)"
# A refused watchpoint must not outlive its refusal and stop the guest
# once its page is protected again.
[[ "$stop" =~ watch:0*${w3:-x}\; ]]
ok $? "a refused watchpoint leaves nothing behind: the next stop is at dbg_w3, not dbg_w0 ($stop)"
vitro_stop

elf=$GUESTS/demo.elf
vitro_start demo -c 2 -k "$elf" -a "hz=1000" || gdb_done
wait_for "$VOUT" "^vitro demo: 2 vCPUs" 30
gdb_run smp "$elf" <<'EOF'
watch demo_steps[1]
continue
continue
continue
delete
echo @@gdt\n
p (unsigned long)&demo_best_len[0] / 4096 == (unsigned long)&rt_gdt / 4096
rwatch demo_best_len[0]
continue
continue
delete
echo @@ownpage\n
rwatch rt_gdt[1]
continue
EOF
is "$(sect "" | grep -c '^Thread 2 hit Hardware watchpoint 1: demo_steps\[1\]$')" 3 \
	"watch demo_steps[1]: three stops, all in thread 2 (vCPU 1)"
unlike "... none in thread 1" "" "^Thread 1 hit Hardware watchpoint 1"
is "$(sect "" | grep -A3 'hit Hardware watchpoint 1' | grep -c '^Old value = ')" 3 \
	"... each with old and new values"
like "demo_best_len[0] no longer shares its page with rt_gdt" gdt '^\$1 = 0$'
like "rwatch demo_best_len[0] stops on the read" gdt \
	"hit Hardware read watchpoint [0-9]+: demo_best_len\\[0\\]"
# A read watchpoint makes its page inaccessible, which the CPU's own reads
# of the GDT (interrupt delivery, iretq) would not survive: refused.
like "rwatch on the GDT itself is refused" ownpage \
	"Could not insert hardware watchpoint"
has "... and vitro says why" "$VERR" \
	"no read watchpoint at 0x[0-9a-f]+: its page holds vCPU [0-9]+'s GDT"
unlike "the guest survives" "" "exited with code 03|Remote connection closed"
vitro_alive
ok $? "... and vitro runs on" "$VERR"
gdb_done
