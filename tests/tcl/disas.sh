#!/bin/bash
# tests/tcl/disas.sh: the console's `disas` against dbgtest.elf (one
# vCPU, loops forever): instructions at a function as objdump -d shows
# them (bytes exactly, the mnemonic up to capstone's size suffix), the
# vCPU's next instruction marked, -text, -syntax, -mode, bytes that
# decode to nothing, and the errors, with the VM answering afterwards.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

ELF=$GUESTS/dbgtest.elf
sym() { printf '0x%x' "0x$(nm "$ELF" | awk -v s="$1" '$3 == s { print $1 }')"; }
ROUND=$(sym dbg_round)
ROUNDS=$(sym dbg_rounds)
# (No process substitution: the nested KVM's guest has no /dev/fd.)
read -r TEXT_SIZE TEXT_ADDR <<<"$(objdump -h "$ELF" |
	awk '$2 == ".text" { print "0x"$3, "0x"$4 }')"
# objdump's first 5 instructions of dbg_round: "ADDR|BYTES|MNEMONIC".
mapfile -t WANT <<<"$(objdump -d "$ELF" |
	awk -F'\t' '/<dbg_round>:/ { f = 1; next }
		f && NF == 0 { exit }
		f && NF >= 3 { a = $1; sub(/^ */, "", a); sub(/:$/, "", a)
			b = $2; sub(/ *$/, "", b); split($3, m, " ")
			print "0x" a "|" b "|" m[1] }' | head -5)"

VM=disas$$
VM_GUEST=$ELF VM_ARGS="-c 1 -m 64M" vm_start $VM || { echo "1..0 # skip no VM"; exit 0; }
for _ in $(seq 1 100); do
	grep -q "running:" "$VOUT" 2>/dev/null && break
	sleep 0.1
done

terr() {
	ctl_eval $VM "catch {$1} m o; list \$m [lindex [dict get \$o -errorcode] 1]"
	like "$OUT" "$3.* $2\$" "$4"
}

ctl_eval $VM "join [lmap i [disas -count 5 $ROUND] {
	format %s|%s|%s [dict get \$i addr] [dict get \$i bytes] \
		[lindex [dict get \$i text] 0]}] \\n"
is "$ST" 0 "disas at dbg_round"
mapfile -t GOT <<<"$OUT"
is "${#WANT[@]}" 5 "objdump shows 5 instructions of dbg_round"
for k in 0 1 2 3 4; do
	IFS='|' read -r wa wb wm <<<"${WANT[$k]}"
	IFS='|' read -r ga gb gm <<<"${GOT[$k]}"
	if [ "$wa|$wb" = "$ga|$gb" ] && [[ "$gm" == "$wm"* ]]; then
		ok 0 "instruction $k as objdump shows it: $wb $wm"
	else
		ok 1 "instruction $k as objdump shows it"
		echo "#   got:  ${GOT[$k]}"
		echo "#   want: ${WANT[$k]}"
	fi
done

ctl_eval $VM "set l [disas -count 3]
	set a [dict get [lindex \$l 0] addr]
	list [dict get [lindex \$l 0] current] [dict get [lindex \$l 1] current] \
		[expr {\$a >= $TEXT_ADDR && \$a < $TEXT_ADDR + $TEXT_SIZE}] \
		[dict get [lindex \$l 0] sym]"
is "$OUT" "1 0 1 {}" \
	"disas without ADDR: at rip in .text, marked current; no symbols loaded"
ctl_eval $VM "disas -text -count 2"
like "$OUT" "^=> 0x[0-9a-f]+:  ([0-9a-f]{2} ?)+ +[a-z]" "-text marks rip with =>"
ctl_eval $VM "disas -text -count 1 $ROUND"
# The guest runs on: its rip may be at dbg_round's first byte just then.
like "$OUT" "^(   |=> )$ROUND:  55 +pushq? +%rbp\$" "-text at a function"
ctl_eval $VM "dict get [lindex [disas -syntax intel -count 2 $ROUND] 1] text"
is "$OUT" "mov rbp, rsp" "-syntax intel"
ctl_eval $VM "dict get [lindex [disas -mode 32 -count 2 $ROUND] 1] bytes"
is "$OUT" "48" "-mode 32: 0x48 is dec %eax there"
ctl_eval $VM "mem writebytes -phys 0x3000000 [binary format H* d690c3]
	lmap i [disas -phys -count 3 0x3000000] {dict get \$i text}"
is "$OUT" "(bad) nop retq" "bytes that do not decode: (bad), then on"

terr "disas 0x100000000" FAULT "virtual address 0x100000000: not mapped" \
	"disas at an unmapped address"
terr "disas -mode 17" VALUE "bad mode 17" "a bad mode"
terr "disas -count 0" VALUE "bad count 0" "a bad count"
terr "disas -syntax foo" VALUE "bad syntax" "a bad syntax"
terr "disas 1 2" USAGE "wrong # args" "two addresses"
terr "disas xyz" NOSYM "neither an address nor a known symbol" \
	"a non-number address"
ctl_eval $VM "set a [mem read $ROUNDS]; after 200; expr {[mem read $ROUNDS] > \$a}"
is "$OUT" 1 "the guest runs on: dbg_rounds grows"

vm_stop
tcl_done
