# exitrate.tcl: watch a running VM's exit rate: every interval, the exits
# per second by reason, busiest first.
#
#   in a console:  source scripts/exitrate.tcl; exitrate ?SECONDS? ?COUNT?
#   from a shell:  tclsh scripts/exitrate.tcl VM-NAME ?SECONDS? ?COUNT?
#
# Each sample is printed as it comes (COUNT samples, default 5, SECONDS
# apart, default 1); the result is the list of samples, each a dict of
# counter -> exits per second.

proc exitrate {{seconds 1} {count 5}} {
	set samples {}
	set before [vm stats]
	set t0 [clock milliseconds]
	set start $t0
	for {set i 0} {$i < $count} {incr i} {
		after [expr {int($seconds * 1000)}]
		set after [vm stats]
		set t1 [clock milliseconds]
		set dt [expr {($t1 - $t0) / 1000.0}]
		set rate {}
		dict for {name n} $after {
			if {![string match exits* $name]} { continue }
			set was [expr {[dict exists $before $name] ?
			    [dict get $before $name] : 0}]
			if {$n > $was} {
				dict set rate $name [expr {round(($n - $was) / $dt)}]
			}
		}
		set line [format "%5.1fs" [expr {($t1 - $start) / 1000.0}]]
		foreach {name r} [lsort -stride 2 -index 1 -integer -decreasing $rate] {
			append line [format "  %s %d/s" $name $r]
		}
		puts $line
		flush stdout
		lappend samples $rate
		set before $after
		set t0 $t1
	}
	return $samples
}

if {[info exists ::argv0] && [file tail $::argv0] eq [file tail [info script]]} {
	if {[llength $::argv] < 1} {
		puts stderr "usage: tclsh [info script] VM-NAME ?SECONDS? ?COUNT?"
		exit 2
	}
	package require vitro
	namespace import vitro::*
	vitro::attach [lindex $::argv 0]
	exitrate {*}[lrange $::argv 1 end]
}
