#!/usr/bin/env bash
# bad-input.sh: what vitro's debug server does with bad input: a port in
# use (it says so and retries, and the guest runs, or waits with w), an
# unparsable or unusable -G (a message, and the guest runs), a client that
# speaks something other than the remote protocol, one that vanishes
# mid-packet, bad checksums, an overlong packet and garbage between
# packets (the guest keeps running, and gdb attaches fine afterwards), and
# a unix socket left behind by a vitro that was killed.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

demo=$GUESTS/demo.elf
dbgtest=$GUESTS/dbgtest.elf

# runs_on NAME: the demo's console gets two more status lines (it runs).
runs_on() {
	local n

	n=$(tr -d '\r' <"$VOUT" | grep -c "^demo: status")
	wait_for "$VOUT" "^demo: status $((n + 2)) " 30
	ok $? "$1" "$VOUT" "$VERR"
}

# An unparsable or unusable -G: a message, and the guest runs to its end.
nspec=0
bad_spec() { # bad_spec SPEC MESSAGE-REGEX
	local out=$T/spec$nspec.out err=$T/spec$nspec.err

	nspec=$((nspec + 1))
	timeout 60 "$VITRO" --debug-exit -G "$1" -k "$dbgtest" -a rounds=1000 \
		</dev/null >"$out" 2>"$err"
	is "$?" 33 "-G '$1': the guest runs to its end" "$err"
	has "-G '$1': says so and goes on without a debugger" \
		"$err" "$2"
}
bad_spec bogus "^vitro: -G 'bogus': expected \[w\]\[address:\]port .*; going on without a debugger$"
bad_spec 70000 "^vitro: -G '70000': expected .*port from 0 to 65535.*; going on without a debugger$"
bad_spec 1234,arch=arm "arch=arm.*expected arch=x86-64, arch=i386, arch=i8086 or sym=FILE.*; going on without a debugger$"
bad_spec "unix:" "^vitro: -G 'unix:': expected unix:PATH.*; going on without a debugger$"
# The message names the address and the port.
bad_spec 999.1.1.1:5 "^vitro: gdb: cannot listen on 999\.1\.1\.1:5: .*; going on without a debugger$"

# A port in use.
vitro_start holder -k "$dbgtest" || gdb_done
held=$PORT holder=$VPID
NOWAIT=1 vitro_start busyw -G "w$held" -k "$demo" -a "interval=100"
busyw=$VPID busyw_out=$VOUT
wait_for "$VERR" "cannot listen" 30
has "port in use, with w: vitro says so, retries, and the guest waits" "$VERR" \
	"^vitro: gdb: cannot listen on (127\.0\.0\.1:)?$held: Address already in use; trying again every second \(the guest waits\)$"
NOWAIT=1 vitro_start busy -G "$held" -k "$demo" -a "interval=100"
wait_for "$VERR" "cannot listen" 30
has "port in use: vitro says so and retries" "$VERR" \
	"^vitro: gdb: cannot listen on (127\.0\.0\.1:)?$held: Address already in use; trying again every second$"
runs_on "port in use: the guest runs"
is "$(wc -c <"$busyw_out")" 0 "port in use, with w: the guest has printed nothing"
kill -TERM "$busyw"
VPID=$holder vitro_stop
wait_for "$VERR" "^vitro: gdb: listening on 127\.0\.0\.1:$held$" 30
ok $? "the port is free again: vitro listens on it" "$VERR"
PORT=$held
gdb_run busy "$demo" <<'EOF'
echo @@attached\n
p demo_status_lines
EOF
like "... and gdb attaches there" attached '^\$1 = [1-9][0-9]*$'

# Not the remote protocol: vitro logs it, closes, and the guest runs on.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET / HTTP/1.0\r\n\r\n' >&3
timeout 10 cat <&3 >"$T/http.reply"
st=$?
exec 3<&-
is "$st" 0 "an HTTP client: vitro closes the connection"
is "$(wc -c <"$T/http.reply")" 0 "... without a word to it"
has "... and logs what it sent" "$VERR" \
	"^vitro: gdb: 127\.0\.0\.1:[0-9]+ does not speak the GDB remote protocol \(it sent \"GET / HTTP/1\.0\.\.\"\); closing the connection$"
runs_on "... and the guest runs on"

# A client that vanishes mid-packet.
n=$(grep -c "debugger detached" "$VERR")
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf '$m10' >&3
exec 3<&-
for _ in $(seq 300); do
	[ "$(grep -c "debugger detached" "$VERR")" -gt "$n" ] && break
	sleep 0.1
done
[ "$(grep -c "debugger detached" "$VERR")" -gt "$n" ]
ok $? "a client sends \$m10 and closes: vitro sees it go" "$VERR"
runs_on "... and the guest runs on"

# Bad checksums, garbage between packets, an overlong packet: answered
# or refused, never fatal.  $? has checksum 3f, qC b4.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf '$?#00' >&3
read -r -t 10 -n 1 -u 3 nak
is "${nak:-}" "-" "a bad checksum is answered with -"
printf '+$?#3f' >&3
read -r -t 10 -d '#' -u 3 reply
like_reply() { # like_reply NAME REGEX
	if [[ "${reply:-}" =~ $2 ]]; then ok 0 "$1"; else
		ok 1 "$1"
		echo "#   reply: '${reply:-}'"
	fi
}
like_reply "then ? gets a stop reply" '^\+\$T05thread:0*1;'
read -r -t 10 -n 2 -u 3 _
printf '+ garbage !@ \x01\x7f $qC#b4' >&3
read -r -t 10 -d '#' -u 3 reply
like_reply "garbage between packets is skipped: qC answered" '\$QC0*1$'
read -r -t 10 -n 2 -u 3 _
{ printf '+$'; head -c 100000 /dev/zero | tr '\0' a; printf '#00$qC#b4'; } >&3
read -r -t 10 -d '#' -u 3 reply
like_reply "after a 100000-byte packet the next is answered" '\$QC0*1$'
exec 3<&-
runs_on "... and when that client leaves, the guest runs on"

gdb_run after "$demo" <<'EOF'
echo @@attached\n
p demo_status_lines
info threads
EOF
like "gdb attaches fine after all of that" attached "^\* 1 +Thread 1 \(vCPU 0, (halted, )?long mode, CPL 0\)"
vitro_alive
ok $? "vitro still runs"
vitro_stop

# A unix socket left by a vitro that was killed is replaced.
sock=$T/gdb.sock
vitro_start unix1 -G "unix:$sock" -k "$dbgtest" || gdb_done
kill -KILL "$VPID"
wait "$VPID" 2>/dev/null
[ -S "$sock" ]
ok $? "a killed vitro leaves its socket"
vitro_start unix2 -G "unix:$sock" -k "$dbgtest" || gdb_done
has "the next vitro listens on the same path" "$VERR" "^vitro: gdb: listening on unix:$sock$"
NOCONNECT=1 gdb_run unix "$dbgtest" <<'EOF'
target remote @T@/gdb.sock
p dbg_ro
EOF
like "gdb attaches through the unix socket" "" '^\$1 = 42$'
vitro_stop
[ ! -e "$sock" ]
ok $? "vitro removes its socket when it ends"
gdb_done
