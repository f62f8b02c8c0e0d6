#!/bin/bash
# tests/tcl/mem.sh: the console's `mem` and `translate` commands against
# dbgtest.elf (one vCPU, loops forever): values of the guest's globals
# (addresses from nm, values from their initializers), writes read back,
# virtual against guest-physical, byte arrays, dumps compared with the
# ELF, search, hexdump, single translations checked against the page
# tables they name, the page map, and the errors, with the VM answering
# afterwards.  Through `vitroctl --vm NAME eval`.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

ELF=$GUESTS/dbgtest.elf
sym() { printf '0x%x' "0x$(nm "$ELF" | awk -v s="$1" '$3 == s { print $1 }')"; }
ALIAS_VAR=$(sym dbg_alias)   # initialised to 0x3fe00000
RO=$(sym dbg_ro)             # 42 once the guest runs its loop
ROUNDS=$(sym dbg_rounds)     # counts up while the guest runs
SCRATCH=$(sym dbg_watch_end) # 8 bytes the guest never touches
NAME=$(sym guest_name)       # "dbgtest"
# (No process substitution: the nested KVM's guest has no /dev/fd.)
read -r TEXT_SIZE TEXT_ADDR TEXT_OFF <<<"$(objdump -h "$ELF" |
	awk '$2 == ".text" { print "0x"$3, "0x"$4, "0x"$6 }')"

VM=mem$$
VM_GUEST=$ELF VM_ARGS="-c 1 -m 64M" vm_start $VM || { echo "1..0 # skip no VM"; exit 0; }
for _ in $(seq 1 100); do
	grep -q "running:" "$VOUT" 2>/dev/null && break
	sleep 0.1
done

# tv SCRIPT WANT NAME: the script's result is WANT.
tv() {
	ctl_eval $VM "$1"
	[ "$ST" = 0 ] || echo "#   error: $ERR" | head -5
	is "$OUT" "$2" "$3"
}
# terr SCRIPT CODE REGEX NAME: a Tcl error with errorCode {VITRO CODE ...}
# and a message matching REGEX.
terr() {
	ctl_eval $VM "catch {$1} m o; list \$m [lindex [dict get \$o -errorcode] 1]"
	like "$OUT" "$3.* $2\$" "$4"
}

# Values.
tv "mem read $ALIAS_VAR" 0x3fe00000 "mem read: dbg_alias = its initializer"
tv "mem read -width 4 $ALIAS_VAR 2" "0x3fe00000 0x0" \
	"mem read -width 4 COUNT: a list, little-endian halves"
tv "mem read -width 2 $ALIAS_VAR 1" "0x0" "COUNT 1: a list of one value"
tv "mem read $RO" 0x2a "mem read: dbg_ro = 42"
tv "expr {[mem read -phys $ALIAS_VAR] eq [mem read $ALIAS_VAR]}" 1 \
	"-phys and virtual agree on the identity map"
tv "mem write $SCRATCH 0x1122334455667788; mem read $SCRATCH" \
	0x1122334455667788 "mem write, read back"
tv "mem read -width 1 $SCRATCH 8" \
	"0x88 0x77 0x66 0x55 0x44 0x33 0x22 0x11" "bytes of it, little-endian"
tv "mem write -width 2 $SCRATCH 0xbeef 0xcafe; mem read -width 4 $SCRATCH" \
	0xcafebeef "mem write -width 2, two values"
tv "mem write -width 1 $SCRATCH -1; mem read -width 1 $SCRATCH" 0xff \
	"a negative value fits its width"
tv "mem write -phys -width 4 $SCRATCH 7; mem read -width 4 $SCRATCH" 0x7 \
	"mem write -phys, read virtually"
tv "mem write $SCRATCH 0" "" "mem write returns nothing"

# Byte arrays.
tv "mem writebytes $SCRATCH [binary format H* 00ff10805a]
	binary encode hex [mem bytes $SCRATCH 5]" 00ff10805a \
	"writebytes and bytes round trip (bytes above 0x7f, NUL)"
tv "expr {[mem bytes -phys $NAME 64] eq [mem bytes $NAME 64]}" 1 \
	"bytes: -phys and virtual agree"
tv "string length [mem bytes $NAME 0x10000]" 65536 "bytes: 64 KiB"
tv "expr {[mem bytes 0x3ff00000 256] eq [mem bytes -phys 0x100000 256]}" 1 \
	"the alias at 0x3fe00000 reads physical 0"
tv "binary encode hex [mem bytes $NAME 8]" 6462677465737400 \
	"guest_name is \"dbgtest\""

# Dumps.
tv "mem dump $TEXT_ADDR $TEXT_SIZE $T/text.bin" $((TEXT_SIZE)) \
	"dump .text: its size"
dd if="$ELF" of="$T/text.elf" bs=1 skip=$((TEXT_OFF)) count=$((TEXT_SIZE)) \
	status=none
cmp -s "$T/text.bin" "$T/text.elf"
ok $? "dump of .text equals the ELF's .text"
tv "mem dump -phys 0 0x4000000 $T/ram.bin" 67108864 \
	"dump -phys of all 64 MiB"
dd if="$T/ram.bin" of="$T/ram-text" bs=4096 skip=256 count=2 status=none
dd if="$T/text.elf" of="$T/elf-text" bs=4096 count=2 status=none
cmp -s "$T/ram-text" "$T/elf-text"
ok $? "the RAM dump holds .text at 1 MiB"
terr "mem dump -phys 0x3fff000 0x2000 $T/part.bin" FAULT \
	"cannot read guest-physical address 0x4000000: not mapped as memory \\(4096 bytes of 8192" \
	"dump across the end of RAM: a FAULT naming the address"
is "$(stat -c %s "$T/part.bin" 2>/dev/null)" 4096 \
	"the file keeps what was read"
terr "mem dump $NAME 16 /nonexistent/dir/f" POSIX "cannot create" \
	"dump to a path that cannot be created"

# Search.
tv "mem search 0x100000 0x10000 dbgtest" "$NAME" \
	"search finds guest_name"
tv "mem search -hex 64626774657374 0x100000 0x10000" "$NAME" \
	"search -hex finds it too"
tv "expr {\"$NAME\" in [mem search -all 0x100000 0x10000 dbgtest]}" 1 \
	"search -all lists it"
tv "mem search $NAME 0x1000 zq-not-there-qz" "" "absent: an empty result"
tv "mem writebytes -phys 0x2fffffd VITROMARK
	mem search -phys 0x2f00000 0x200000 VITROMARK" 0x2fffffd \
	"a match across two 1 MiB chunks"
terr "mem search -hex 6g 0 16" VALUE "pairs of hex digits" "search -hex: bad hex"

# Hexdump.
ctl_eval $VM "mem hexdump $NAME 20"
like "$OUT" "^00102fa0  64 62 67 74 65 73 74 00  [0-9a-f ]{23}  \\|dbgtest\\.[^|]{8}\\|\$" \
	"hexdump: address, bytes, |ascii|"
like "$OUT" "^00102fb0  ([0-9a-f]{2} ){4} {38}\\|.{4}\\|\$" \
	"hexdump: a short last line"
tv "llength [split [mem hexdump $NAME] \\n]" 4 "hexdump: 64 bytes by default"

# Translate.
ctl_eval $VM "set t [translate $ALIAS_VAR]
	list [dict get \$t fault] [dict get \$t gpa] [dict get \$t mode] \
		[llength [dict get \$t levels]] [dict get \$t size] \
		[dict get [lindex [dict get \$t levels] 0] entry_addr] \
		[expr {\"PS\" in [dict get [lindex [dict get \$t levels] end] flags]}]"
is "$OUT" "0 $ALIAS_VAR 4-level 3 0x200000 0x10000 1" \
	"translate: identity, 4-level, PML4 at the boot tables, a 2 MiB leaf"
tv "set ok 1
	foreach l [dict get [translate 0x3ff00000] levels] {
		if {[mem read -phys [dict get \$l entry_addr]] != [dict get \$l entry]} {
			set ok 0
		}
	}
	list \$ok [dict get [translate 0x3ff00000] gpa]" "1 0x100000" \
	"each level's entry is at its entry_addr; the alias maps 1 MiB to 1 MiB"
tv "dict get [translate -write -exec $ALIAS_VAR] fault" 0 \
	"a write and a fetch are allowed"
tv "dict get [translate -user $ALIAS_VAR] fault" 1 \
	"CPL 3 faults: supervisor pages"
tv "set t [translate 0x100000000]
	list [dict get \$t fault] [dict get \$t vector] [llength [dict get \$t levels]] [dict get \$t gpa]" \
	"1 14 2 {}" "translate unmapped: fault 1, #PF, the 2 levels walked"
tv "set t [translate 0x800000000000]
	list [dict get \$t fault] [dict get \$t vector] [llength [dict get \$t levels]]" \
	"1 13 0" "translate non-canonical: #GP, no level"
ctl_eval $VM "translate -map"
is "$OUT" "{va 0x0 pa 0x0 size 0x3fe00000 perms rwx-} {va 0x3fe00000 pa 0x0 size 0x200000 perms rwx-} {va 0x40000000 pa 0x40000000 size 0xc0000000 perms rwx-}" \
	"translate -map: the 4 GiB identity map with dbgtest's alias"
tv "translate -map -from 0x1000 -to 0x3000" \
	"{va 0x1000 pa 0x1000 size 0x2000 perms rwx-}" "translate -map -from -to"
terr "translate -map -from 0x2000 -to 0x1000" VALUE "not above" \
	"translate -map: -to below -from"

# Errors, and the VM still answers.
terr "mem read 0x100000000" FAULT "virtual address 0x100000000: not mapped" \
	"mem read of an unmapped address"
terr "mem read -phys 0x10000000" FAULT "guest-physical address 0x10000000" \
	"mem read -phys beyond RAM"
terr "mem write 0x100000000 1" FAULT "cannot write virtual address" \
	"mem write to an unmapped address"
terr "mem read -width 3 $RO" VALUE "bad width 3" "bad width"
terr "mem read" USAGE "wrong # args: should be \"mem read" "wrong # args"
terr "mem read nonumber" NOSYM "neither an address nor a known symbol" \
	"a non-number address"
terr "mem write -width 1 $SCRATCH 256" VALUE "does not fit in 1 byte" \
	"a value too wide"
terr "mem read -bogus 0" USAGE "bad option \"-bogus\"" "an unknown option"
terr "translate" USAGE "wrong # args" "translate without an address"
terr "mem read -cpu 5 0" VALUE "no vCPU 5" "a vCPU that is not there"
ctl_eval $VM "set a [mem read $ROUNDS]; after 200; expr {[mem read $ROUNDS] > \$a}"
is "$OUT" 1 "the guest runs on: dbg_rounds grows"

vm_stop
tcl_done
