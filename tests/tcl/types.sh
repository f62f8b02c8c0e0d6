#!/bin/bash
# types.sh: sym, type, print and walk against tasks.elf (a guest that
# builds a task list, tests/guests/tasks.c) through vitroctl eval: the
# symbols and DWARF it loads, struct task's layout against gdb's ptype/o,
# the tasks' values as the guest set them, both of its lists walked,
# scripts/tasks.tcl, and the errors (unknown symbol, type and member, a
# missing, truncated or DWARF-less file, an unmapped address) with the VM
# answering afterwards.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

SRC=$(cd "$(dirname "$0")/../.." && pwd)
ELF=$GUESTS/tasks.elf
VM=types$$
VM_GUEST=$ELF VM_ARGS="-c 1 -m 64M" vm_start "$VM" || {
	ok 1 "vitro starts tasks.elf"
	tcl_done
}
for _ in $(seq 1 200); do
	grep -q "tasks: 5 tasks" "$VOUT" 2>/dev/null && break
	sleep 0.1
done
like "$(cat "$VOUT")" "^tasks: 5 tasks, first pid 1" "the guest built its tasks"

L="sym load $ELF"
ctl_eval "$VM" "$L"
like "$OUT" "dwarf 1" "sym load: dwarf 1"
like "$OUT" "symbols [1-9][0-9]*" "sym load: a symbol count"

ctl_eval "$VM" "$L; set a [sym addr tasks_build]
	list \$a [sym lookup \$a] [sym lookup [expr {\$a + 3}]]"
want=$(printf '0x%x' "0x$(nm "$ELF" | awk '$3 == "tasks_build" { print $1 }')")
is "$OUT" "$want tasks_build tasks_build+0x3" "sym addr and lookup agree with nm"

ctl_eval "$VM" "$L; set d [sym line tasks_build]
	list [file tail [dict get \$d file]] [dict get \$d line]"
def=$(grep -n '^void tasks_build(void)$' "$SRC/tests/guests/tasks.c" | cut -d: -f1)
like "$OUT" "^tasks.c ($def|$((def + 1)))$" "sym line tasks_build: tasks.c:$def"

# struct task's members and offsets, against gdb's ptype/o.
gdb -batch -ex 'ptype/o struct task' "$ELF" 2>/dev/null | awk '
	/^\/\* +[0-9]+(: *[0-9]+)? +\| +[0-9]+ \*\// && depth == 1 {
		off = $2; sub(/:.*/, "", off)
		if ($0 ~ /\{$/) { pending = off; depth++; next }
		line = $0; sub(/;.*/, "", line); sub(/ : [0-9]+$/, "", line)
		sub(/\[.*/, "", line); n = split(line, w, /[ *]+/)
		print w[n], off; next
	}
	/\{$/ { depth++; next }
	/^ *\} [A-Za-z_0-9]+;/ {
		depth--
		if (depth == 1 && pending != "") {
			name = $2; sub(/;/, "", name); print name, pending
			pending = ""
		}
		next
	}
	/^ *\} *$/ { depth-- }' >"$T/gdb.txt"
ctl_eval "$VM" "$L; set o {}
	foreach m [dict get [type show {struct task}] members] {
		lappend o \"[dict get \$m name] [dict get \$m offset]\"
	}
	join \$o \\n"
if [ -s "$T/gdb.txt" ]; then
	is "$OUT" "$(cat "$T/gdb.txt")" "type show struct task: gdb's offsets"
else
	ok 1 "type show struct task: gdb gave no layout"
fi
ctl_eval "$VM" "$L; list [type size {struct task}] \
	[type offsetof {struct task} link.next] [type offsetof {struct task} name\[3\]]"
is "$OUT" "72 32 7" "type size and offsetof"

P="$L; set first [print -type {struct task *} tasks_first]"
ctl_eval "$VM" "$P; set t [print -type {struct task} \$first]
	list [dict get \$t pid] [dict get \$t name] [dict get \$t state] \
		[dict get \$t prio] [dict get \$t kernel] [dict get \$t data word]"
is "$OUT" "1 init TASK_NEW 20 1 1229782938247303441" \
	"print struct task: the first task's values"
ctl_eval "$VM" "$P; list [print -type {struct task} \$first next.name] \
	[print -type {struct task} \$first next.next.pid] \
	[dict get [print -depth 1 -type {struct task} \$first next] value pid]"
is "$OUT" "kthreadd 3 2" "print through pointers: a path and -depth"

ctl_eval "$VM" "$P; set a [walk -type {struct task} -member next \$first]
	set b [walk -type {struct task} -member link tasks_head]
	list [llength \$a] [expr {\$a eq \$b}]"
is "$OUT" "5 1" "walk: 5 tasks through next, the same through list_head"
ctl_eval "$VM" "$P; set o {}
	foreach t [walk -type {struct task} -member link tasks_head -print] {
		lappend o [dict get \$t pid]
	}
	list \$o [llength [walk -max 2 -type {struct task} -member next \$first]]"
is "$OUT" "{1 2 3 4 5} 2" "walk -print in list order; -max 2"

ctl_eval "$VM" "source $SRC/scripts/tasks.tcl; tasks $ELF"
like "$OUT" "^ +5 idle +TASK_DEAD$" "scripts/tasks.tcl: the last task"
is "$(printf '%s\n' "$OUT" | wc -l)" 5 "scripts/tasks.tcl: five lines"
tclsh_run "$SRC/scripts/tasks.tcl" "$VM" "$ELF"
like "$OUT" "^ +2 kthreadd +TASK_RUNNING$" "scripts/tasks.tcl from tclsh"

# Errors: message and errorCode, and the VM still answers.
err() { # err SCRIPT REGEX NAME
	ctl_eval "$VM" "$L; list [catch {$1} m o] [dict get \$o -errorcode] \$m"
	like "$OUT" "$2" "$3"
}
err "sym addr no_such_sym" "^1 \{VITRO NOSYM\} .*no_such_sym" \
	"unknown symbol: NOSYM"
err "type show {struct no_such}" "^1 \{VITRO NOSYM\} .*struct no_such" \
	"unknown type: NOSYM"
err "print -type {struct task} tasks_first nosuch" \
	"^1 \{VITRO VALUE\} .*no member nosuch" "bad member path: VALUE"
err "sym load $T/none.elf" "^1 \{VITRO NOFILE\} .*none.elf" \
	"missing file: NOFILE"
head -c 3000 "$ELF" >"$T/cut.elf"
err "sym load $T/cut.elf" "^1 \{VITRO NOFILE\} .*cut.elf.*corrupt" \
	"truncated ELF: NOFILE, corrupt"
strip -g -o "$T/nodebug.elf" "$ELF"
ctl_eval "$VM" "sym load $T/nodebug.elf"
like "$OUT" "dwarf 0" "strip -g: symbols load, dwarf 0"
ctl_eval "$VM" "sym load $T/nodebug.elf
	list [catch {type show {struct task}} m o] [dict get \$o -errorcode] \$m"
like "$OUT" "^1 \{VITRO NOFILE\} .*no DWARF" "no DWARF: type show says so"
err "print -phys -type {struct task} 0xfff000000" "^1 \{VITRO FAULT\}" \
	"an address beyond memory: FAULT"

ctl_eval "$VM" "$L; set a [print -type {unsigned long} tasks_ticks]
	after 500
	expr {[print -type {unsigned long} tasks_ticks] > \$a}"
is "$OUT" 1 "the VM answers afterwards and the guest ticks on"
tcl_done
