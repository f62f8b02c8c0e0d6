#!/usr/bin/env bash
# rtc.sh: the CMOS RTC on a running VM.  The rtc guest reads the clock
# through ports 0x70/0x71 and prints it on COM1 whenever it changes; the
# test checks that it starts at the host's time, then sets it with
# vitroctl --set-rtc-time and reads it back with --get-rtc-time and in
# the guest's own output, writes and reads an NVRAM byte the guest sees,
# and checks vitroctl's refusals of bad offsets and values.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

NAME=rtc$$
VM_GUEST=$GUESTS/rtc.elf VM_ARGS="-c 1 -m 32M" vm_start "$NAME" || {
	ok 1 "vitro starts with the rtc guest"
	tcl_done
}

# The guest's last "epoch=N" once one passes the test: wait_line REGEX
wait_line() {
	for _ in $(seq 1 600); do
		grep -Eq "$1" "$VOUT" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ctl() { # ctl ARGS...: OUT, ERR, ST
	timeout 60 "$VITROCTL" --vm="$NAME" "$@" >"$T/out" 2>"$T/err"
	ST=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

wait_line 'epoch=[0-9]+'
first=$(grep -Eo 'epoch=[0-9]+' "$VOUT" | head -1 | cut -d= -f2)
now=$(date +%s)
ok $([ -n "$first" ] && [ $((now - first)) -ge -2 ] &&
	[ $((now - first)) -le 60 ] && echo 0 || echo 1) \
	"the guest reads the host's time at start ($first, host $now)" "$VOUT"

ctl --get-rtc-time
secs=$((16#$(sed -n 's/^rtc time 0x\([0-9a-f]*\): .*/\1/p' <<<"$OUT")))
ok $([ $ST = 0 ] && [ $((secs - $(date +%s))) -ge -2 ] &&
	[ $((secs - $(date +%s))) -le 2 ] && echo 0 || echo 1) \
	"--get-rtc-time: the host's time ($OUT)"

ctl --set-rtc-time=1000000000
is "$ST" 0 "--set-rtc-time=1000000000"
ctl --get-rtc-time
like "$OUT" '^rtc time 0x3b9aca0[0-9a]: Sun Sep 09 01:46:4[0-9] 2001$' \
	"--get-rtc-time: the time set, as bhyvectl prints it"
wait_line 'rtc: 2001-09-09 01:46:[45][0-9] epoch=10000000[0-9][0-9] '
ok $? "the guest reads 2001-09-09 01:46:4x through ports 0x70/0x71" "$VOUT"

ctl --json --get-rtc-time
like "$OUT" '"rtc_time": ?100000[0-9]{4}' "--json --get-rtc-time"

ctl --set-rtc-nvram=0x5a --rtc-nvram-offset=0x40
is "$ST" 0 "--set-rtc-nvram=0x5a --rtc-nvram-offset=0x40"
ctl --get-rtc-nvram --rtc-nvram-offset=0x40
is "$OUT" "rtc nvram[064]: 0x5a" "--get-rtc-nvram reads it back"
wait_line 'nvram40=0x5a'
ok $? "the guest reads NVRAM byte 0x40 as 0x5a" "$VOUT"
ctl --get-rtc-nvram --rtc-nvram-offset=0x32
is "$OUT" "rtc nvram[050]: 0x20" "the century byte: 0x20 (BCD)"
ctl --get-rtc-nvram --rtc-nvram-offset=0x0d
is "$OUT" "rtc nvram[013]: 0x80" "register D: valid RAM and time"

# Errors: a message naming the problem, status 2, the VM goes on.
ctl --set-rtc-nvram=1 --rtc-nvram-offset=0x32
ok $([ $ST = 2 ] && echo 0 || echo 1) "the century byte is refused"
like "$ERR" "rtc-nvram-offset=0x32: not an NVRAM byte that can be set" \
	"the message names the offset"
ctl --set-rtc-nvram=1 --rtc-nvram-offset=5
like "$ERR" "rtc-nvram-offset=0x05: not an NVRAM byte" "a clock register"
ctl --get-rtc-nvram --rtc-nvram-offset=128
like "$ERR" "'128' is not a CMOS offset \(0 to 0x7f\)" "offset 128"
ctl --get-rtc-nvram
like "$ERR" "needs --rtc-nvram-offset" "--get-rtc-nvram without offset"
ctl --set-rtc-nvram=256 --rtc-nvram-offset=0x40
like "$ERR" "'256' is not a byte value" "--set-rtc-nvram=256"
ctl --set-rtc-time=-5
like "$ERR" "'-5' is not a time in seconds" "--set-rtc-time=-5"
ctl --get-rtc-time
ok $ST "the VM still answers after the refusals"
kill -0 "$VPID" 2>/dev/null
ok $? "vitro still runs"

tcl_done
