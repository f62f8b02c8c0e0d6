# descriptors.tcl: dump a vCPU's GDT and IDT, decoded.
#
#   in a console:  source scripts/descriptors.tcl; descriptors ?-cpu N?
#   from a shell:  tclsh scripts/descriptors.tcl VM-NAME ?CPU?
#                  (TCLLIBPATH must hold vitro's build/lib)
#
# Long mode has 16-byte system descriptors (TSS, LDT) in the GDT and
# 16-byte gates in the IDT; protected mode has 8-byte ones.

namespace eval descriptors {}

# A segment or system descriptor: {base limit dpl present what system}.
proc descriptors::seg {lo hi} {
	set base [expr {(($lo >> 16) & 0xffffff) | ((($lo >> 56) & 0xff) << 24)}]
	set limit [expr {($lo & 0xffff) | ((($lo >> 48) & 0xf) << 16)}]
	set access [expr {($lo >> 40) & 0xff}]
	set flags [expr {($lo >> 52) & 0xf}]
	if {$flags & 0x8} { set limit [expr {($limit << 12) | 0xfff}] }
	set present [expr {($access >> 7) & 1}]
	set dpl [expr {($access >> 5) & 3}]
	set s [expr {($access >> 4) & 1}]
	set type [expr {$access & 0xf}]
	if {$s} {
		if {$type & 0x8} {
			set what [expr {$flags & 0x2 ? "code64" :
			    ($flags & 0x4 ? "code32" : "code16")}]
			if {$type & 0x2} { append what " r" }
		} else {
			set what "data"
			if {$type & 0x2} { append what " w" }
		}
		set sys 0
	} else {
		set names {
			1 tss16 2 ldt 3 tss16-busy 4 call16 5 task 6 int16
			7 trap16 9 tss 11 tss-busy 12 call 14 int 15 trap
		}
		set what [expr {[dict exists $names $type] ?
		    [dict get $names $type] : "system-type-$type"}]
		set sys 1
		# In long mode the upper half holds base bits 32-63.
		if {$hi ne ""} {
			set base [expr {$base | (($hi & 0xffffffff) << 32)}]
		}
	}
	list $base $limit $dpl $present $what $sys
}

# The GDT and IDT of a vCPU, as text.
proc descriptors {args} {
	set cpu [vcpu select]
	if {[llength $args] == 2 && [lindex $args 0] eq "-cpu"} {
		set cpu [lindex $args 1]
	} elseif {[llength $args]} {
		error "usage: descriptors ?-cpu N?"
	}
	set long [expr {[vcpu get efer -cpu $cpu] & 0x400 ? 1 : 0}]
	set out ""
	set gbase [vcpu get gdtr_base -cpu $cpu]
	set glimit [vcpu get gdtr_limit -cpu $cpu]
	append out [format "GDT at %s, limit %s (vCPU %d, %s mode)\n" \
	    $gbase $glimit $cpu [expr {$long ? "long" : "protected"}]]
	set n [expr {($glimit + 1) / 8}]
	set words [mem read -cpu $cpu -width 8 $gbase $n]
	for {set i 0} {$i < $n} {incr i} {
		set lo [lindex $words $i]
		if {$lo == 0} { continue }
		set hi ""
		if {$long && $i + 1 < $n} { set hi [lindex $words [expr {$i + 1}]] }
		lassign [descriptors::seg $lo $hi] base limit dpl p what sys
		append out [format "  %#06x  base %#018llx limit %#010x dpl %d %s%s\n" \
		    [expr {$i * 8}] $base $limit $dpl $what \
		    [expr {$p ? "" : " (not present)"}]]
		if {$sys && $long} { incr i }
	}
	set ibase [vcpu get idtr_base -cpu $cpu]
	set ilimit [vcpu get idtr_limit -cpu $cpu]
	set size [expr {$long ? 16 : 8}]
	set n [expr {($ilimit + 1) / $size}]
	append out [format "IDT at %s, limit %s: %d gates\n" $ibase $ilimit $n]
	if {$n > 0} {
		set words [mem read -cpu $cpu -width 8 $ibase \
		    [expr {$n * $size / 8}]]
	}
	for {set v 0} {$v < $n} {incr v} {
		set lo [lindex $words [expr {$v * $size / 8}]]
		set hi [expr {$long ? [lindex $words [expr {$v * 2 + 1}]] : 0}]
		if {!(($lo >> 47) & 1)} { continue }
		set off [expr {($lo & 0xffff) | ((($lo >> 48) & 0xffff) << 16) |
		    (($hi & 0xffffffff) << 32)}]
		set sel [expr {($lo >> 16) & 0xffff}]
		set type [expr {($lo >> 40) & 0xf}]
		set dpl [expr {($lo >> 45) & 3}]
		set ist [expr {$long ? ($lo >> 32) & 7 : 0}]
		set sym ""
		catch {set sym " [sym lookup $off]"}
		append out [format "  %3d  %04x:%#018llx %s dpl %d%s%s\n" $v \
		    $sel $off [expr {$type == 15 ? "trap" : "int "}] $dpl \
		    [expr {$ist ? " ist $ist" : ""}] $sym]
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
	puts -nonewline [descriptors -cpu [expr {[llength $::argv] > 1 ?
	    [lindex $::argv 1] : 0}]]
}
