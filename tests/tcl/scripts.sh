#!/usr/bin/env bash
# scripts.sh: the user scripts of scripts/ against the demo guest, run as a
# user would, from a shell with a plain tclsh (descriptors.tcl,
# pagetables.tcl, exitrate.tcl) and sourced in vitroctl eval.  TAP.
source "$(dirname "$0")/tcl-lib.bash"
tcl_init
S=$VITRO_SRC/scripts
[ -n "${VITRO_SRC:-}" ] || S=$(cd "$(dirname "$0")/../.." && pwd)/scripts

NAME=scripts-$$
vm_start "$NAME" || { ok 1 "vitro comes up"; tcl_done; }

# The demo runs in long mode: its GDT has a 64-bit code segment, and its
# IDT has gates to its handlers (symbols are not loaded: addresses only).
tclsh_run "$S/descriptors.tcl" "$NAME" 0
like "$OUT" '^GDT at 0x[0-9a-f]+, limit 0x[0-9a-f]+ \(vCPU 0, long mode\)' \
	"descriptors.tcl: the GDT's header"
like "$OUT" ' code64 ' "descriptors.tcl: a 64-bit code segment"
like "$OUT" '^IDT at 0x[0-9a-f]+, limit 0x[0-9a-f]+: [0-9]+ gates' \
	"descriptors.tcl: the IDT's header"
like "$OUT" '^ +14  [0-9a-f]{4}:0x[0-9a-f]+ (int |trap) dpl 0' \
	"descriptors.tcl: the page-fault gate"
is "$ST" 0 "descriptors.tcl: status 0"
[ "$ST" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/#   /'


tclsh_run "$S/pagetables.tcl" "$NAME"
like "$OUT" '^vCPU 0, cr3 0x[0-9a-f]+' "pagetables.tcl: its header"
like "$OUT" '^0x0 +0x0 +0x[0-9a-f]+ +rwx' \
	"pagetables.tcl: the identity map from 0, writable and executable"

# The demo prints a status line every 2 s of its time: port I/O exits at
# least then (three samples of 1.5 s leave room for a guest slowed down by
# a loaded host).
tclsh_run "$S/exitrate.tcl" "$NAME" 1.5 3
is "$(printf '%s\n' "$OUT" | grep -cE '^ +[0-9.]+s')" 3 \
	"exitrate.tcl: three samples"
like "$OUT" '^ +[0-9.]+s  exits' "exitrate.tcl: a sample with exits"

# The same script sourced in a console.
ctl_eval "$NAME" "source $S/descriptors.tcl; descriptors -cpu 1"
like "$OUT" '^GDT at .*\(vCPU 1, long mode\)' \
	"descriptors sourced in vitroctl eval, on vCPU 1" ||
	printf '%s\n' "$ERR" | sed 's/^/#   /'

ctl_eval "$NAME" "source $S/descriptors.tcl; descriptors -cpu 9"
like "$ERR" 'no vCPU 9' "descriptors -cpu 9: the console's error"

tcl_done
