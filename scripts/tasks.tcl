# scripts/tasks.tcl: the task list of vitro's test guest
# (tests/guests/tasks.c), one line per task: pid, name, state - an
# example of walking a kernel-style list with the vitro console's sym,
# print and walk.
#
# In a console (vitro --console, vitroctl shell or eval):
#     source scripts/tasks.tcl
#     tasks build/tests/guests/tasks.elf
# From a shell:
#     tclsh scripts/tasks.tcl VM-NAME build/tests/guests/tasks.elf
#
# tasks ?ELF?: with ELF, load its symbols first (sym load); then follow
# tasks_first through struct task's next pointers, and return the lines.
# tasks_lh ?ELF?: the same through the struct list_head list at
# tasks_head.

proc tasks_format {list} {
	set out {}
	foreach t $list {
		lappend out [format "%5d %-15s %s" [dict get $t pid] \
			[dict get $t name] [dict get $t state]]
	}
	return [join $out \n]
}

proc tasks {{elf ""}} {
	if {$elf ne ""} {
		::vitro::sym load $elf
	}
	set first [::vitro::print -type {struct task *} tasks_first]
	tasks_format [::vitro::walk -type {struct task} -member next $first \
		-print]
}

proc tasks_lh {{elf ""}} {
	if {$elf ne ""} {
		::vitro::sym load $elf
	}
	tasks_format [::vitro::walk -type {struct task} -member link \
		tasks_head -print]
}

# Run as a program: tclsh tasks.tcl VM ELF
if {[info exists ::argv0] &&
    [file normalize $::argv0] eq [file normalize [info script]]} {
	if {[llength $::argv] != 2} {
		puts stderr "usage: tclsh tasks.tcl VM-NAME ELF"
		exit 2
	}
	package require vitro
	::vitro::attach [lindex $::argv 0]
	puts [tasks [lindex $::argv 1]]
}
