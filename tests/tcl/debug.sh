#!/usr/bin/env bash
# debug.sh: the console's break, watch and on commands (introspect/
# cmd_debug.c) against dbgtest.elf, from a plain tclsh with the vitro
# package, whose events run through Tcl's notifier: watchpoints that stop
# the VM with the event's address, callbacks that resume it (returning 0)
# or fail (reported, disabled, the VM left stopped), hooks that fail or
# wait without running nested, breakpoints that stop at their address,
# and the errors of bad arguments and addresses.  Where the host's KVM
# cannot stop a guest at a breakpoint (the nested SVM KVM: no int3
# intercept, no debug registers), those checks are skips.  TAP.
. "$(dirname "$0")/tcl-lib.bash"
. "$(dirname "$0")/../kvm/kvm-probe.bash"
tcl_init

elf=$GUESTS/dbgtest.elf
sym() { # the address as the console writes it: 0x, no leading zeros
	local a
	a=$(nm "$elf" | awk -v s="$1" '$3 == s { print $1 }')
	[ -n "$a" ] && printf '0x%x\n' "$((16#$a))"
}
ADD=$(sym dbg_add)
W0=$(sym dbg_w0)
W1=$(sym dbg_w1)
[ -n "$ADD" ] && [ -n "$W0" ] && [ -n "$W1" ]
ok $? "nm finds dbg_add, dbg_w0 and dbg_w1 in dbgtest.elf" || tcl_done

VM_GUEST=$elf VM_ARGS="-c 1 -m 64M" vm_start dbg || tcl_done

cat >"$T/debug.tcl" <<'EOF'
package require vitro
lassign $argv name add w0 w1 vitroctl

proc R {k v} {
	puts "R $k [string map {\n " "} $v]"
	flush stdout
}
# errorCode|message of a script that should fail, or ok|result.
proc err {script} {
	if {[catch {uplevel 1 $script} m o]} {
		return "[dict get $o -errorcode]|$m"
	}
	return "ok|$m"
}
# Let the event loop run until cond holds, for at most ms.
proc waitfor {cond ms} {
	set end [expr {[clock milliseconds] + $ms}]
	while {![uplevel #0 [list expr $cond]]} {
		if {[clock milliseconds] > $end} {
			return 0
		}
		after 50 {set ::tick 1}
		vwait ::tick
	}
	return 1
}
proc settle {ms} {
	after $ms {set ::tick 1}
	vwait ::tick
}
proc ctl {args} {
	exec $::vitroctl --vm=$::name {*}$args 2>@1
}
proc rip {} {
	return [lindex [ctl --get-rip] end]
}
# The vCPUs the debug core holds: "0", or "(none)".
proc held {} {
	return [string trim [lindex [split [ctl --get-debug-cpus] :] 1]]
}

R attach [vitro::attach $name]

# Errors.
R e-break-args [err {vitro::break set}]
R e-break-nosym [err {vitro::break set no_such_symbol}]
R e-break-value [err {vitro::break set 0xzz}]
R e-break-cpu [err {vitro::break set $add -cpu 5}]
R e-break-opt [err {vitro::break set $add -bogus}]
R e-watch-args [err {vitro::watch set $w0}]
R e-watch-len [err {vitro::watch set $w0 0}]
R e-watch-both [err {vitro::watch set $w0 8 -read -write}]
R e-watch-fault [err {vitro::watch set 0x7f0000000000 8}]
R e-break-delete [err {vitro::break delete 99}]
R e-on-event [err {vitro::on bogus {set x}}]
R e-on-delete [err {vitro::on delete 99}]
R break-alone [catch {vitro::break}]
R break-empty [vitro::break list]

# Hooks: every event recorded, one that fails, one that waits.
set ::evs {}
set ::msgs {}
set ::depth 0
set ::maxdepth 0
proc rec {ev} {
	lappend ::evs $ev
	if {[dict get $ev event] eq "message"} {
		lappend ::msgs [dict get $ev msg]
	}
}
proc slow {ev} {
	incr ::depth
	if {$::depth > $::maxdepth} {
		set ::maxdepth $::depth
	}
	after 30
	update
	incr ::depth -1
	return 0
}
proc count {type} {
	set k 0
	foreach e $::evs {
		if {[dict get $e event] eq $type} {
			incr k
		}
	}
	return $k
}
proc last {type} {
	foreach e [lreverse $::evs] {
		if {[dict get $e event] eq $type} {
			return $e
		}
	}
	return {}
}
set hrec [vitro::on any rec]
set hslow [vitro::on any slow]
set hbad [vitro::on stop {error "hook boom"}]
R hook-ids "$hrec $hslow $hbad"

# A watchpoint without callback: the VM stops and stays stopped.
set wp [vitro::watch set $w1 8]
R wp-id $wp
R wp-hit [waitfor {[count watchpoint] >= 1 && [count stop] >= 1} 20000]
set ev [last watchpoint]
R wp-ev "[dict get $ev addr] [dict get $ev kind] [dict get $ev cpu]"
set l [lindex [vitro::watch list] 0]
R wp-list "[dict get $l id] [dict get $l addr] [dict get $l len] [dict get $l type] [dict get $l hits]"
settle 500
R wp-stays "[count watchpoint] [held]"
R maxdepth $::maxdepth
foreach h [vitro::on list] {
	if {[dict get $h id] == $hbad} {
		R hook-bad "[dict get $h enabled] [dict get $h runs]"
	}
}
vitro::watch delete $wp
R wp-deleted [vitro::watch list]
set n0 [count watchpoint]
ctl --cpu=all --resume-cpu
settle 500
R wp-gone "[expr {[count watchpoint] - $n0}] [held]"

# A callback that fails: reported, disabled, the VM left stopped.
proc cberr {ev} {
	error "callback boom"
}
set wp [vitro::watch set $w0 8 -command cberr]
set n0 [count watchpoint]
R cberr-hit [waitfor {[count watchpoint] > $n0} 20000]
settle 300
set l [lindex [vitro::watch list] 0]
R cberr-list "[dict get $l enabled] [dict get $l hits] [dict get $l command]"
R cberr-held [held]
vitro::watch delete $wp
ctl --cpu=all --resume-cpu

# A callback that returns 0 lets the guest run on; 1 keeps it stopped.
set ::cbn 0
set ::cbids {}
proc cb {ev} {
	incr ::cbn
	lappend ::cbids [dict get $ev id]
	if {$::cbn >= 3} {
		return 1
	}
	return 0
}
set wp [vitro::watch set $w0 8 -command cb]
R cb-hit [waitfor {$::cbn >= 3} 20000]
settle 500
set l [lindex [vitro::watch list] 0]
R cb-list "$::cbn [dict get $l hits] [lsort -unique $::cbids] $wp"
R cb-held [held]
vitro::watch delete all
ctl --cpu=all --resume-cpu
vitro::on delete $hslow
vitro::on delete $hbad
R on-list [llength [vitro::on list]]

# Breakpoints: a callback that resumes once, then stays.
set ::bn 0
proc cbb {ev} {
	incr ::bn
	set ::bev $ev
	if {$::bn >= 2} {
		return 1
	}
	return 0
}
set bp [vitro::break set $add -command cbb]
R bp-id $bp
R bp-hit [waitfor {$::bn >= 2} 10000]
if {$::bn >= 2} {
	settle 300
	R bp-rip [expr {[rip] == $add}]
	R bp-ev "[dict get $::bev addr] [dict get $::bev kind] [dict get $::bev cpu] [dict get $::bev id]"
	set l [lindex [vitro::break list] 0]
	R bp-list "[dict get $l addr] [dict get $l type] [dict get $l hits]"
	R bp-held [held]
	R bp-stop [expr {[dict get [last stop] addr] == $add}]
}
R bp-msgs [join $::msgs "; "]
vitro::break delete $bp
R bp-deleted [vitro::break list]
set n0 [count breakpoint]
ctl --cpu=all --resume-cpu
settle 1000
R bp-gone "[expr {[count breakpoint] - $n0}] [held]"

# A hardware breakpoint.
set ::msgs {}
set r [err {vitro::break set $add -hw}]
R hw-set $r
set n0 [count breakpoint]
if {[string match ok|* $r]} {
	R hw-hit [waitfor {[count breakpoint] > $n0} 5000]
	if {[count breakpoint] > $n0} {
		R hw-ev "[dict get [last breakpoint] addr] [dict get [last breakpoint] kind]"
	}
	R hw-msgs [join $::msgs "; "]
	vitro::break delete all
	ctl --cpu=all --resume-cpu
}

# Where there is no memory: int3 cannot go there (debug registers can).
set r [err {vitro::break set 0x7f0000000000}]
R bp-fault $r
catch {vitro::break delete all}

# Detach takes the console's watchpoints out of the VM.
# (The VM stops at the watchpoint first; stops outlive the console.)
vitro::watch set $w0 8
settle 300
vitro::detach
ctl --cpu=all --resume-cpu
settle 500
R detach-held [held]
EOF

tclsh_run "$T/debug.tcl" dbg "$ADD" "$W0" "$W1" "$VITROCTL"
val() { printf '%s\n' "$OUT" | sed -n "s/^R $1 //p" | head -n 1; }
is "$ST" 0 "the test script ran to its end" || printf '%s\n' "$OUT" "$ERR" | sed 's/^/#   /' | head -40
is "$(val attach)" dbg "vitro::attach"

like "$(val e-break-args)" '^VITRO USAGE\|wrong # args: should be "break set addr' \
	"break set without an address: USAGE"
like "$(val e-break-nosym)" '^VITRO NOSYM\|"no_such_symbol" is neither an address nor a known symbol' \
	"break set on an unknown symbol: NOSYM"
like "$(val e-break-value)" '^VITRO VALUE\|expected a 64-bit number but got "0xzz"' \
	"break set 0xzz: VALUE"
like "$(val e-break-cpu)" '^VITRO VALUE\|no vCPU 5' "break set -cpu 5 on one vCPU: VALUE"
like "$(val e-break-opt)" '^VITRO USAGE\|bad option "-bogus": must be -cpu, -hw, -command' \
	"break set -bogus: USAGE naming the options"
like "$(val e-watch-args)" '^VITRO USAGE\|wrong # args: should be "watch set addr len' \
	"watch set without a length: USAGE"
like "$(val e-watch-len)" '^VITRO VALUE\|cannot watch 0 bytes' "watch set LEN 0: VALUE"
like "$(val e-watch-both)" '^VITRO USAGE\|choose one of -write, -read and -access' \
	"watch set -read -write: USAGE"
like "$(val e-watch-fault)" '^VITRO FAULT\|cannot set a watchpoint at 0x7f0000000000: the address is not mapped' \
	"watch set on an unmapped address: FAULT naming it"
like "$(val e-break-delete)" '^VITRO VALUE\|no breakpoint 99' "break delete 99: VALUE"
like "$(val e-on-event)" '^VITRO USAGE\|unknown subcommand "bogus"' "on bogus: USAGE"
like "$(val e-on-delete)" '^VITRO VALUE\|no hook 99' "on delete 99: VALUE"
is "$(val break-alone)" 3 "break alone is Tcl's break"
is "$(val break-empty)" "" "break list: none at first"

is "$(val hook-ids)" "1 2 3" "on returns the hooks' ids"
like "$(val wp-id)" '^[0-9]+$' "watch set returns an id"
is "$(val wp-hit)" 1 "a write watchpoint stops the VM (watchpoint and stop events)"
is "$(val wp-ev)" "$W1 write 0" "the event: the watched address, kind write, vCPU 0"
is "$(val wp-list)" "$(val wp-id) $W1 8 write 1" "watch list: id addr len type hits"
is "$(val wp-stays)" "1 0" \
	"without a callback the VM stays stopped"
is "$(val maxdepth)" 1 "a hook that runs update does not run nested"
is "$(val hook-bad)" "0 1" "a failing hook is disabled after its first run"
like "$ERR" '^vitro: hook 3 \(on stop\) failed: hook boom \(hook disabled\)' \
	"... and reported"
is "$(val wp-deleted)" "" "watch delete removes it from the list"
is "$(val wp-gone)" "0 (none)" \
	"... and from the VM: the guest runs on without stopping"

is "$(val cberr-hit)" 1 "a watchpoint with a failing callback is hit"
like "$ERR" '^vitro: the callback of watchpoint [0-9]+ failed: callback boom \(callback disabled; the VM stays stopped\)' \
	"the callback's error is reported with the watchpoint's id"
is "$(val cberr-list)" "0 1 cberr" "watch list: the callback is disabled (enabled 0)"
is "$(val cberr-held)" "0" \
	"the VM stays stopped after a failing callback"

is "$(val cb-hit)" 1 "a callback returning 0 lets the guest run to the next hit"
set -- $(val cb-list)
is "$1 $2" "3 3" "three hits, the third callback returned 1"
is "$3" "$4" "the callback's event dict has the watchpoint's id"
is "$(val cb-held)" "0" \
	"a callback returning 1 leaves the VM stopped"
is "$(val on-list)" 1 "on delete removes hooks"

like "$(val bp-id)" '^[0-9]+$' "break set returns an id"
if [ "$(val bp-hit)" = 1 ]; then
	is "$(val bp-rip)" 1 "the VM stops with rip at the breakpoint"
	is "$(val bp-ev)" "$ADD sw 0 $(val bp-id)" \
		"the callback's event: address, kind sw, vCPU, id"
	is "$(val bp-list)" "$ADD sw 2" \
		"break list: hit twice (the first callback resumed)"
	is "$(val bp-held)" "0" \
		"the second callback returned 1: the VM stays stopped"
	is "$(val bp-stop)" 1 "the stop event has the breakpoint's address"
else
	kvm_probe sw-bp
	why="no breakpoint hit within 10 s (probe sw-bp: $PROBE_WHY; core: $(val bp-msgs))"
	for c in "the VM stops with rip at the breakpoint" \
		"the callback's event: address, kind sw, vCPU, id" \
		"break list: hit twice" "the VM stays stopped" \
		"the stop event has the breakpoint's address"; do
		skip "$why" "$c"
	done
fi
is "$(val bp-deleted)" "" "break delete removes it from the list"
is "$(val bp-gone)" "0 (none)" \
	"... and from the VM: no more hits"

hw=$(val hw-set)
if [ "$(val hw-hit)" = 1 ]; then
	is "$(val hw-ev)" "$ADD hw" "break set -hw stops the VM, kind hw"
else
	kvm_probe hw-bp
	skip "no hardware breakpoint hit (break set -hw: ${hw#ok|}; probe hw-bp: $PROBE_WHY; core: $(val hw-msgs))" \
		"break set -hw stops the VM, kind hw"
fi
bpf=$(val bp-fault)
if [[ $bpf == ok* ]]; then
	skip "breakpoints live in the debug registers here, which need no memory" \
		"break set on an unmapped address: FAULT"
else
	like "$bpf" '^VITRO FAULT\|cannot set a breakpoint at 0x7f0000000000: the address is not mapped' \
		"break set on an unmapped address: FAULT"
fi
is "$(val detach-held)" "(none)" \
	"detach removes the console's watchpoints: the guest runs"
tcl_done
