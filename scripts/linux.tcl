# scripts/linux.tcl: a live Linux guest read through its vmlinux's DWARF
# with the vitro console (sym, type, print, walk, mem) - the task list,
# the kernel log and the loaded modules, as the kernel's own gdb scripts
# (scripts/gdb: lx-ps, lx-dmesg, lx-lsmod) show them.  Written for Linux
# 6.1 (the printk ringbuffer of 5.10 and later; task_struct.__state of
# 5.14 and later, .state before).
#
# In a console (vitro --console, vitroctl shell or eval):
#     sym load vmlinux; sym slide -auto     ;# the KASLR slide, if any
#     source scripts/linux.tcl
#     lx-ps; lx-dmesg; lx-lsmod             ;# each takes --help
# From a shell:
#     tclsh scripts/linux.tcl VM-NAME VMLINUX ?ps|dmesg|lsmod?
#
# Each command reads the guest through vCPU -cpu N (default: the
# selected one) and returns text, or with -list a Tcl list of dicts.

namespace eval ::vitro::linux {
	variable help
	set help(lx-ps) {lx-ps ?-cpu N? ?-list?
The tasks of the guest kernel, from init_task along its tasks list:
one line "ADDRESS PID COMM STATE" each, STATE as ps shows it (R S D T
t X Z P I).  With -list: a list of dicts {addr pid comm state}.}
	set help(lx-dmesg) {lx-dmesg ?-cpu N? ?-list?
The kernel log from the printk ringbuffer (prb), oldest first, as
lx-dmesg prints it: "[SECONDS.MICROS] LINE" per line.  With -list: a
list of dicts {seq ts_nsec text}.}
	set help(lx-lsmod) {lx-lsmod ?-cpu N? ?-list?
The loaded modules along the modules list: "ADDRESS NAME BASE SIZE"
each (nothing without modules, or for a kernel built without
CONFIG_MODULES).  With -list: a list of dicts {addr
name base size}.}

	# Options of every command: -cpu N, -list, --help.
	proc opts {cmd argv} {
		variable help
		set o [dict create cpu [::vitro::vcpu select] list 0]
		for {set i 0} {$i < [llength $argv]} {incr i} {
			switch -- [lindex $argv $i] {
				--help - -help - -h {
					return -code return $help($cmd)
				}
				-cpu {
					if {$i + 1 >= [llength $argv]} {
						usage $cmd "-cpu needs a vCPU number"
					}
					dict set o cpu [lindex $argv [incr i]]
				}
				-list { dict set o list 1 }
				default {
					usage $cmd "unknown argument\
					    \"[lindex $argv $i]\""
				}
			}
		}
		return $o
	}

	proc usage {cmd why} {
		variable help
		return -code error -errorcode {VITRO USAGE} \
		    "$cmd: $why; usage: [lindex [split $help($cmd) \n] 0]"
	}

	proc hex {v} { format 0x%llx $v }

	proc addr {name} { expr {[::vitro::sym addr $name]} }

	proc off {type member} { ::vitro::type offsetof $type $member }

	# A member of a struct in the guest, as print gives it.
	proc rd {cpu type addr path} {
		::vitro::print -cpu $cpu -type $type [hex $addr] $path
	}

	# The task state letter, as the kernel's task_state_index().
	proc state_letter {state exit_state} {
		if {$state == 0x402} {
			return I
		}
		set s [expr {($state | $exit_state) & 0x7f}]
		set i 0
		while {$s} {
			incr i
			set s [expr {$s >> 1}]
		}
		return [string index RSDTtXZPI $i]
	}
}

proc lx-ps {args} {
	set o [::vitro::linux::opts lx-ps $args]
	set cpu [dict get $o cpu]
	set T {struct task_struct}
	set init [::vitro::linux::addr init_task]
	set head [expr {$init + [::vitro::linux::off $T tasks]}]
	set sfield __state
	if {[catch {::vitro::type offsetof $T __state}]} {
		set sfield state
	}
	set rows {}
	set tasks [concat [list $init] [::vitro::walk -cpu $cpu -type $T \
	    -member tasks [::vitro::linux::hex $head]]]
	foreach t $tasks {
		set rd [list ::vitro::linux::rd $cpu $T $t]
		set st [::vitro::linux::state_letter [{*}$rd $sfield] \
		    [{*}$rd exit_state]]
		lappend rows [dict create addr [::vitro::linux::hex $t] \
		    pid [{*}$rd pid] comm [{*}$rd comm] state $st]
	}
	if {[dict get $o list]} {
		return $rows
	}
	set out [list [format "%-18s %7s %-16s %s" ADDRESS PID COMM STATE]]
	foreach r $rows {
		lappend out [format "%-18s %7d %-16s %s" [dict get $r addr] \
		    [dict get $r pid] [dict get $r comm] [dict get $r state]]
	}
	join $out \n
}

proc lx-dmesg {args} {
	set o [::vitro::linux::opts lx-dmesg $args]
	set cpu [dict get $o cpu]
	set L ::vitro::linux
	# prb is a pointer (static struct printk_ringbuffer *prb).
	set prb [::vitro::print -cpu $cpu -type {struct printk_ringbuffer *} prb]
	set rb [::vitro::print -cpu $cpu -type {struct printk_ringbuffer} $prb]
	set dr [dict get $rb desc_ring]
	set tr [dict get $rb text_data_ring]
	set count [expr {1 << [dict get $dr count_bits]}]
	set dsize [::vitro::type size {struct prb_desc}]
	set isize [::vitro::type size {struct printk_info}]
	set sv_off [${L}::off {struct prb_desc} state_var.counter]
	set begin_off [${L}::off {struct prb_desc} text_blk_lpos.begin]
	set next_off [${L}::off {struct prb_desc} text_blk_lpos.next]
	set seq_off [${L}::off {struct printk_info} seq]
	set ts_off [${L}::off {struct printk_info} ts_nsec]
	set len_off [${L}::off {struct printk_info} text_len]
	set tsize [expr {1 << [dict get $tr size_bits]}]
	# The three arrays, each in one read.
	set descs [::vitro::mem bytes -cpu $cpu [dict get $dr descs] \
	    [expr {$count * $dsize}]]
	set infos [::vitro::mem bytes -cpu $cpu [dict get $dr infos] \
	    [expr {$count * $isize}]]
	set text [::vitro::mem bytes -cpu $cpu [dict get $tr data] $tsize]

	# kernel/printk/printk_ringbuffer.h: the state in the top 2 bits.
	set flags_shift 62
	set id_mask [expr {(1 << 62) - 1}]
	set committed 1
	set finalized 2
	set tail [expr {[dict get $dr tail_id counter] & $id_mask}]
	set head [expr {[dict get $dr head_id counter] & $id_mask}]
	set rows {}
	set did $tail
	for {set n 0} {$n <= $count} {incr n} {
		set ind [expr {$did % $count}]
		set d [expr {$ind * $dsize}]
		set i [expr {$ind * $isize}]
		binary scan $descs @[expr {$d + $sv_off}]w sv
		set state [expr {($sv >> $flags_shift) & 3}]
		if {$state == $committed || $state == $finalized} {
			binary scan $descs @[expr {$d + $begin_off}]w begin
			binary scan $descs @[expr {$d + $next_off}]w next
			binary scan $infos @[expr {$i + $seq_off}]w seq
			binary scan $infos @[expr {$i + $ts_off}]w ts
			binary scan $infos @[expr {$i + $len_off}]su len
			set begin [expr {($begin & 0xffffffffffffffff) % $tsize}]
			set end [expr {($next & 0xffffffffffffffff) % $tsize}]
			if {$begin & 1} {
				set msg ""
			} else {
				# A block that wraps starts at the ring's start.
				if {$begin > $end} {
					set begin 0
				}
				set start [expr {$begin + 8}]
				if {$end - $start < $len} {
					set len [expr {$end - $start}]
				}
				set msg [encoding convertfrom utf-8 [string range \
				    $text $start [expr {$start + $len - 1}]]]
			}
			lappend rows [dict create seq $seq \
			    ts_nsec [expr {$ts & 0xffffffffffffffff}] text $msg]
		}
		if {$did == $head} {
			break
		}
		set did [expr {($did + 1) & $id_mask}]
	}
	if {[dict get $o list]} {
		return $rows
	}
	set out {}
	foreach r $rows {
		set ts [dict get $r ts_nsec]
		foreach line [split [dict get $r text] \n] {
			lappend out [format "\[%5d.%06d\] %s" \
			    [expr {$ts / 1000000000}] \
			    [expr {$ts % 1000000000 / 1000}] $line]
		}
	}
	join $out \n
}

proc lx-lsmod {args} {
	set o [::vitro::linux::opts lx-lsmod $args]
	set cpu [dict get $o cpu]
	set M {struct module}
	set rows {}
	# A kernel built without CONFIG_MODULES has no modules list.
	set mods {}
	if {![catch {::vitro::sym addr modules}]} {
		set mods [::vitro::walk -cpu $cpu -type $M -member list modules]
	}
	foreach m $mods {
		set rd [list ::vitro::linux::rd $cpu $M $m]
		# 6.1 has core_layout; 6.4 and later mem[MOD_TEXT].
		if {[catch {set base [{*}$rd core_layout.base]
			set size [{*}$rd core_layout.size]}]} {
			set base [{*}$rd mem\[0\].base]
			set size [{*}$rd mem\[0\].size]
		}
		lappend rows [dict create addr [::vitro::linux::hex $m] \
		    name [{*}$rd name] base $base size $size]
	}
	if {[dict get $o list]} {
		return $rows
	}
	set out {}
	foreach r $rows {
		lappend out [format "%-18s %-24s %-18s %d" [dict get $r addr] \
		    [dict get $r name] [dict get $r base] [dict get $r size]]
	}
	join $out \n
}

# Run as a program: tclsh linux.tcl VM VMLINUX ?ps|dmesg|lsmod?
if {[info exists ::argv0] &&
    [file normalize $::argv0] eq [file normalize [info script]]} {
	if {[llength $::argv] < 2 || [llength $::argv] > 3} {
		puts stderr "usage: tclsh linux.tcl VM-NAME VMLINUX\
		    ?ps|dmesg|lsmod?"
		exit 2
	}
	package require vitro
	::vitro::attach [lindex $::argv 0]
	::vitro::sym load [lindex $::argv 1]
	catch {::vitro::sym slide -auto}
	set what [expr {[llength $::argv] > 2 ? [lindex $::argv 2] : "ps"}]
	puts [lx-$what]
}
