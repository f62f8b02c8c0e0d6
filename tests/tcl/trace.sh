#!/usr/bin/env bash
# trace.sh: VM-exit tracing from the user's side, on trace.elf, whose
# exits are known: P outs to port 0x510, M MMIO accesses to 0xd0000000, R
# rdmsr and W wrmsr of MSR 0x40005ead (each a #GP), C calls trace_a ->
# trace_b -> trace_c that end in an out to port 0x511.
#   - vitro -T records a whole run; vitroctl trace report, plot and export
#     (CSV, JSON, folded, native) count exactly those exits, and every
#     filter key keeps exactly its records;
#   - a damaged file (truncated, corrupt, of a future version) and a bad
#     spec give messages that say so, with status 1;
#   - vitroctl trace record/status/stats/stop on a running VM, and the
#     errors of a second recording and of stopping none;
#   - the console's trace: status, stats, record and stop, a `trace on`
#     callback that sees each exit of the guest, and Tcl's own trace
#     (variable traces) still working beside it.
# TAP.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

elf=$GUESTS/trace.elf
P=7 M=6 R=3 W=2 C=4
GARGS="pio=$P mmio=$M rdmsr=$R wrmsr=$W chain=$C"

# vctl ARGS...: vitroctl; OUT, ERR, ST.
vctl() {
	timeout 60 "$VITROCTL" "$@" >"$T/out" 2>"$T/err"
	ST=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# st_like STATUS TEXT REGEX NAME: vitroctl's status and a line of TEXT.
st_like() {
	if [ "$ST" = "$1" ] && printf '%s\n' "$2" | grep -Eq -- "$3"; then
		ok 0 "$4"
	else
		ok 1 "$4"
		echo "#   status $ST (want $1)"
		printf '%s\n' "$2" | sed 's/^/#   got: /' | head -20
		echo "#   want a line matching: $3"
	fi
}

# Counts of a CSV export by reason and address: lines "reason addr n".
cat >"$T/count.py" <<'EOF'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
n = collections.Counter()
for r in rows:
    a = r.get('addr', '')
    try:
        a = '0x%x' % int(a, 0)
    except ValueError:
        pass
    n[(r.get('reason', '?'), a)] += 1
for (reason, a), k in sorted(n.items()):
    print(reason, a, k)
print('total', len(rows))
EOF

# rows SPEC: the records an export with that filter keeps.
rows() {
	vctl trace export --format csv --sym "$elf" --filter "$1" "$T/a.trc"
	if [ "$ST" != 0 ]; then
		echo "error: $ERR"
		return
	fi
	python3 "$T/count.py" "$T/out" | awk '$1 == "total" { print $2 }'
}

# 1. A whole run under vitro -T.
timeout 300 "$VITRO" --debug-exit -c 1 -m 64M -k "$elf" -a "$GARGS" \
	-T "$T/a.trc,stack=8" -l "com1,file:$T/a.console" </dev/null \
	>"$T/a.out" 2>"$T/a.err"
st=$?
is "$st" 33 "trace.elf under vitro -T passes (status 33)"
like "$(cat "$T/a.console")" "done pio=$P mmio=$M rdmsr=$R wrmsr=$W chain=$C gp=$((R + W))" \
	"the guest made its exits and took R + W #GPs"

vctl trace report "$T/a.trc"
is "$ST" 0 "trace report reads the file"
like "$OUT" "^ *io +[0-9]+ " "the report has an io row"
vctl trace report --filter port=0x510 "$T/a.trc"
like "$OUT" "^ *io +$P " "report --filter port=0x510: io $P"
vctl trace report --filter reason=mmio "$T/a.trc"
like "$OUT" "^ *mmio +$M " "report --filter reason=mmio: mmio $M"
vctl trace report --filter msr=0x40005ead "$T/a.trc"
like "$OUT" "^ *x86_rdmsr +$R " "report --filter msr=: x86_rdmsr $R"
like "$OUT" "^ *x86_wrmsr +$W " "report --filter msr=: x86_wrmsr $W"
vctl trace report --sym "$elf" --per-vcpu --top 5 --by-time "$T/a.trc"
is "$ST" 0 "report --sym --per-vcpu --top --by-time"
like "$OUT" "trace_pio" "the report names rips with the ELF's symbols"
like "$OUT" "trace\.c:[0-9]+" "and their source lines"

vctl trace export --format csv "$T/a.trc"
is "$ST" 0 "export --format csv"
cp "$T/out" "$T/a.csv"
counts=$(python3 "$T/count.py" "$T/a.csv")
like "$counts" "^io 0x510 $P\$" "CSV: $P io records to port 0x510"
like "$counts" "^io 0x511 $C\$" "CSV: $C io records to port 0x511"
like "$counts" "^mmio 0xd0000000 $M\$" "CSV: $M mmio records"
like "$counts" "^x86_rdmsr 0x40005ead $R\$" "CSV: $R x86_rdmsr records"
like "$counts" "^x86_wrmsr 0x40005ead $W\$" "CSV: $W x86_wrmsr records"
total=$(printf '%s\n' "$counts" | awk '$1 == "total" { print $2 }')

# Every filter key keeps exactly its records.
is "$(rows port=0x510)" "$P" "filter port=0x510"
is "$(rows port=0x510-0x511)" "$((P + C))" "filter port=0x510-0x511"
is "$(rows gpa=0xd0000000-0xd0000fff)" "$M" "filter gpa= range"
is "$(rows msr=0x40005ead)" "$((R + W))" "filter msr="
is "$(rows reason=x86_rdmsr)" "$R" "filter reason=x86_rdmsr"
is "$(rows reason=mmio,reason=x86_wrmsr)" "$((M + W))" \
	"filter: a key twice matches either"
is "$(rows reason=io,port=0x511)" "$C" "filter: two keys must both match"
is "$(rows rip=trace_c)" "$C" "filter rip=trace_c (symbol)"
is "$(rows rip=trace_mmio)" "$M" "filter rip=trace_mmio (symbol)"
is "$(rows vcpu=0)" "$total" "filter vcpu=0: every record"
is "$(rows vcpu=1)" 0 "filter vcpu=1: none"
is "$(rows cpl=0)" "$total" "filter cpl=0: every record"
is "$(rows cpl=3)" 0 "filter cpl=3: none"
is "$(rows min=0)" "$total" "filter min=0: every record"
is "$(rows min=10s)" 0 "filter min=10s: none"
com1=$(rows region=com1)
[ "$com1" -gt 0 ] 2>/dev/null && [ "$com1" -lt "$total" ]
ok $? "filter region=com1: the console's records ($com1 of $total)"
vctl trace export --format csv --filter bogus=1 "$T/a.trc"
is "$ST" 1 "a bad filter: status 1"
like "$ERR" "bogus" "the message names the bad term"
vctl trace report --filter rip=no_such_function --sym "$elf" "$T/a.trc"
st_like 1 "$ERR" "no_such_function" "an unknown symbol in rip=: named"
vctl trace report --filter rip=trace_c "$T/a.trc"
st_like 1 "$ERR" "(symbol|--sym)" "rip=SYMBOL without symbols: says so"

# JSON (Chrome/Perfetto trace events).
vctl trace export --format json "$T/a.trc"
cp "$T/out" "$T/a.json"
python3 - "$T/a.json" >"$T/json.out" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d['traceEvents'] if isinstance(d, dict) else d
bad = [e for e in ev if not all(k in e for k in ('name', 'ph', 'ts', 'pid', 'tid'))]
x = [e for e in ev if e['ph'] == 'X']
nodur = [e for e in x if 'dur' not in e]
print('events', len(ev), 'x', len(x), 'bad', len(bad), 'nodur', len(nodur))
sys.exit(1 if bad or nodur or not x else 0)
EOF
ok $? "JSON export: every event has name ph ts pid tid, X events a dur" \
	"$T/json.out"

# Folded stacks: the known chain, root first.
vctl trace export --format folded --sym "$elf" --filter port=0x511 "$T/a.trc"
like "$OUT" "guest_main;trace_a;trace_b;trace_c;io $C\$" \
	"folded: guest_main;trace_a;trace_b;trace_c;io (root first, the exit last), $C times"

# Plot, native.
vctl trace plot --buckets 10 "$T/a.trc"
st_like 0 "$OUT" "io" "plot: the exit rate of io"
vctl trace plot --svg "$T/a.trc"
st_like 0 "$OUT" "<svg" "plot --svg: an SVG document"
vctl trace export --format native --filter reason=mmio -o "$T/m.trc" "$T/a.trc"
is "$ST" 0 "export --format native -o"
vctl trace export --format csv "$T/m.trc"
is "$(python3 "$T/count.py" "$T/out" | awk '$1 == "total" { print $2 }')" \
	"$M" "the native export holds the $M mmio records"
vctl trace export --format native "$T/a.trc"
st_like 2 "$ERR" "-o" "native without -o: a usage error"

# Damaged files.
vctl trace report "$T/none.trc"
st_like 1 "$ERR" "none\.trc" "a missing file: status 1, named"
head -c 100 "$T/a.trc" >"$T/short.trc"
vctl trace report "$T/short.trc"
st_like 1 "$ERR" "short\.trc" "a file cut in its header chunks: status 1"
size=$(stat -c %s "$T/a.trc")
head -c $((size * 2 / 3)) "$T/a.trc" >"$T/cut.trc"
vctl trace report "$T/cut.trc"
like "$ST $OUT $ERR" "(incomplete|truncated)" \
	"a file cut in its records: said to be incomplete or truncated"
cp "$T/a.trc" "$T/bad.trc"
printf 'XXXXXXXX' | dd of="$T/bad.trc" conv=notrunc 2>/dev/null
vctl trace report "$T/bad.trc"
st_like 1 "$ERR" "bad\.trc" "a file that is not a trace: status 1, named"
cp "$T/a.trc" "$T/future.trc"
printf '\143\000' | dd of="$T/future.trc" bs=1 seek=8 conv=notrunc \
	2>/dev/null
vctl trace report "$T/future.trc"
st_like 1 "$ERR" "(version|99)" "a future major version: status 1, said"

# A ring of one record overflows between two drains: the losses are said.
timeout 300 "$VITRO" --debug-exit -c 1 -m 64M -k "$elf" -a "$GARGS" \
	-T "$T/d.trc,ring=1" -l "com1,file:$T/d.console" </dev/null \
	>"$T/d.out" 2>"$T/d.err"
is "$?" 33 "trace.elf under vitro -T FILE,ring=1 passes"
like "$(cat "$T/d.err")" "some lost" "vitro says records were lost"
vctl trace report "$T/d.trc"
like "$OUT" "WARNING: [1-9][0-9]* records were dropped" \
	"the report says how many records were dropped"

# In-kernel exits in the same file, where the host has kvm tracepoints.
timeout 300 "$VITRO" --debug-exit -c 1 -m 64M -k "$elf" -a "$GARGS" \
	-T "$T/k.trc,kernel" -l "com1,file:$T/k.console" </dev/null \
	>"$T/k.out" 2>"$T/k.err"
is "$?" 33 "trace.elf under vitro -T FILE,kernel passes"
vctl trace report "$T/k.trc"
kstate=$(printf '%s\n' "$OUT" | sed -n 's/^In-kernel exits: //p')
if [ "${kstate%%:*}" = off ]; then
	skip "in-kernel exits: $kstate" "a table of in-kernel exits"
	skip "in-kernel exits: $kstate" "an in-kernel record per exit"
else
	like "$OUT" "Exits handled in the host kernel" \
		"the report has a table of in-kernel exits ($kstate)"
	vctl trace export --format csv --filter source=kernel "$T/k.trc"
	nk=$(python3 "$T/count.py" "$T/out" | awk '$1 == "total" { print $2 }')
	[ "${nk:-0}" -ge $((P + M + R + W + C)) ]
	ok $? "at least one in-kernel record per exit to user space ($nk)"
fi

# 2. vitroctl on a running VM (the guest's exits, forever).
VM_GUEST=$elf VM_ARGS="-c 1 -m 64M" vm_start live -a "pio=1 rounds=0" ||
	tcl_done
vctl --vm=live trace status
st_like 0 "$OUT" "recording: *no" "trace status: not recording"
vctl --vm=live trace stats
like "$ST $OUT" "exits\.inout +[1-9]" "trace stats: live port exits of vCPU 0"
(cd "$T" && timeout 60 "$VITROCTL" --vm=live trace record rel.trc reason=io \
	>"$T/out" 2>"$T/err")
like "$? $(cat "$T/out")" "^0 .*$T/rel\.trc" \
	"trace record: a relative file made absolute"
vctl --vm=live trace record "$T/other.trc"
st_like 1 "$ERR" "(already|busy)" "a second recording: refused"
vctl --vm=live trace status
like "$OUT" "recording: *$T/rel\.trc" "trace status: the file recorded"
sleep 1
vctl --vm=live trace stop
st_like 0 "$OUT" " [1-9][0-9]* records written, [0-9]+ dropped" \
	"trace stop: records written and dropped"
vctl --vm=live trace stop
st_like 1 "$ERR" "no recording" "stop without a recording: refused"
vctl trace export --format csv "$T/rel.trc"
counts=$(python3 "$T/count.py" "$T/out")
like "$counts" "^io 0x510 [1-9]" "the attached recording holds the guest's outs"
like "$(printf '%s\n' "$counts" | grep -v '^total' | grep -v '^io ')" "^$" \
	"and only io records (reason=io)"
vctl --vm=live trace record "$T/x.trc" nonsense=3
st_like 1 "$ERR" "nonsense" "record with a bad spec: the term named"
vctl trace record "$T/x.trc"
is "$ST" 2 "trace record without --vm: a usage error"
vm_stop

# 3. The console: a guest that waits for trace_go.
VM_GUEST=$elf VM_ARGS="-c 1 -m 64M" vm_start con -a "wait hold $GARGS" ||
	tcl_done
ctl_eval con '
	set x 1
	trace add variable x write {apply {args {incr ::hits}}}
	set x 2; set x 3
	proc p {} {
		set y 0
		trace add variable y write {apply {args {incr ::phits}}}
		set y 1
	}
	p
	list $::hits $::phits [llength [trace info variable x]] \
		[dict get [trace status] recording]'
is "$ST $OUT" "0 2 1 1 0" \
	"console: Tcl's trace add/info still work (also in a proc) beside trace status"
ctl_eval con 'trace help'
like "$OUT" "trace on" "trace help lists vitro's subcommands"
ctl_eval con 'trace bogus'
st_like 1 "$ERR" "bad option \"bogus\"" "an unknown verb goes to Tcl's trace"
ctl_eval con 'dict get [trace stats] 0'
like "$OUT" "exits\.inout [1-9]" "trace stats: a dict per vCPU"

cat >"$T/on.tcl" <<'EOF'
package require vitro
lassign $argv name elf P M
proc R {k v} { puts "R $k [string map {\n " "} $v]"; flush stdout }
proc waitfor {cond ms} {
	set end [expr {[clock milliseconds] + $ms}]
	while {![uplevel #0 [list expr $cond]]} {
		if {[clock milliseconds] > $end} { return 0 }
		after 50 {set ::tick 1}
		vwait ::tick
	}
	return 1
}
vitro::attach $name
vitro::sym load $elf
set ::io 0
set ::all 0
set ::first {}
proc cb {d} {
	incr ::all
	if {[dict get $d reason] eq "io" && [dict get $d addr] eq "0x510"} {
		incr ::io
		if {$::first eq {}} { set ::first $d }
	}
}
R bad "[catch {vitro::trace on -filter bogus=2 cb} m] $m"
vitro::trace on -filter reason=io,port=0x510 cb
R watching [dict get [vitro::trace watching] filter]
vitro::mem write -width 8 trace_go 1
waitfor {$::io >= $P} 30000
after 500 {set ::tick 1}
vwait ::tick
R io $::io
R first $::first
vitro::trace off
R off [vitro::trace watching]
EOF
tclsh_run "$T/on.tcl" con "$elf" "$P" "$M"
like "$OUT" "^R bad 1 .*bogus" "trace on with a bad filter: the term named"
like "$OUT" "^R watching reason=io,port=0x510" "trace watching: the filter"
like "$OUT" "^R io $P\$" "trace on: the callback saw each of the $P outs"
first=$(printf '%s\n' "$OUT" | sed -n 's/^R first //p')
for kv in "vcpu 0" "source user" "reason io" "cpl 0" "size 1" "dir out" \
	"count 1"; do
	like "$first" "(^| )$kv( |\$)" "the callback's dict: $kv"
done
like "$first" "rip 0x[0-9a-f]+ " "the callback's dict: rip in hex"
like "$first" "dur_ns [0-9]+ t_ns [0-9]+" "the callback's dict: dur_ns, t_ns"
like "$OUT" "^R off \$" "trace off: no watch left"
vm_stop

tcl_done
