#!/usr/bin/env bash
# step.sh: single-stepping a hlt.  The demo waits for its timer with
# `sti; hlt`; a stepi there must finish at once (the hlt left as a
# spurious wake-up would), and the guest must go on taking timer
# interrupts afterwards: a KVM that applies the halt late would leave the
# vCPU halted with interrupts off for good.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/demo.elf

vitro_start demo -k "$elf" -a "interval=200" || gdb_done
wait_for "$VOUT" "^vitro demo: 1 vCPUs" 30
# The session reaches the hlt, and the timer, by breakpoints.
gl_skipping "$BP_GAP"
[ -n "$BP_GAP" ] || gdb_run hlt "$elf" <<'EOF'
python
f = gdb.lookup_global_symbol("demo_task_loop").value()
start = int(f.address)
arch = gdb.selected_frame().architecture()
for insn in arch.disassemble(start, start + 512):
    if insn["asm"].startswith("hlt"):
        gdb.execute("break *%#x" % insn["addr"])
        break
end
continue
echo @@at\n
x/i $pc
delete
echo @@step\n
stepi
x/i $pc
stepi
x/i $pc
echo @@ticks\n
p demo_ticks[0]
break demo_timer_irq
continue
bt 1
delete
echo @@later\n
p demo_ticks[0]
detach
EOF
like "stopped at the demo's hlt" at "=> 0x[0-9a-f]+ <demo_task_loop\+[0-9]+>:\s+hlt"
like "a stepi over hlt finishes" step "=> 0x[0-9a-f]+ <demo_task_loop\+[0-9]+>:\s+cli"
unlike "... without waiting for an interrupt (no SIGINT, no timeout)" step "SIGINT|Remote connection closed"
like "... and the next stepi goes on from there" step "=> 0x[0-9a-f]+ <demo_task_loop\+[0-9]+>:\s+jmp"
like "the timer interrupt still comes after the step" "" "^Breakpoint [0-9]+, demo_timer_irq"
gl_skipping ""
sleep 1
vitro_alive
ok $? "the guest is alive after the debugger left" "$VERR"
unlike "... and did not halt for good" "" "halted"
n1=$(grep -c "^demo: status" "$VOUT")
sleep 1
n2=$(grep -c "^demo: status" "$VOUT")
[ "$n2" -gt "$n1" ]
ok $? "... and still prints its status lines ($n1, then $n2)" "$VOUT" "$VERR"
gdb_done
