# pagetables.tcl: the address space of a vCPU, as its page tables map it:
# one line per run of pages with the same permissions.
#
#   in a console:  source scripts/pagetables.tcl; pagetables ?-cpu N?
#   from a shell:  tclsh scripts/pagetables.tcl VM-NAME ?CPU?

proc pagetables {args} {
	set cpu [vcpu select]
	if {[llength $args] == 2 && [lindex $args 0] eq "-cpu"} {
		set cpu [lindex $args 1]
	} elseif {[llength $args]} {
		error "usage: pagetables ?-cpu N?"
	}
	set out [format "vCPU %d, cr3 %s\n" $cpu [vcpu get cr3 -cpu $cpu]]
	append out [format "%-18s  %-18s  %-18s  %s\n" virtual physical size perms]
	foreach r [translate -map -cpu $cpu] {
		append out [format "%-18s  %-18s  %-18s  %s\n" [dict get $r va] \
		    [dict get $r pa] [format %#llx [dict get $r size]] \
		    [dict get $r perms]]
	}
	return $out
}

if {[info exists ::argv0] && [file tail $::argv0] eq [file tail [info script]]} {
	if {[llength $::argv] < 1} {
		puts stderr "usage: tclsh [info script] VM-NAME ?CPU?"
		exit 2
	}
	package require vitro
	namespace import vitro::*
	vitro::attach [lindex $::argv 0]
	puts -nonewline [pagetables -cpu [expr {[llength $::argv] > 1 ?
	    [lindex $::argv 1] : 0}]]
}
