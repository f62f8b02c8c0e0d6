#!/usr/bin/env bash
# console.sh: vitro --console in tmux: one terminal carries the guest's
# serial console and the vitro prompt, switched with Ctrl-a c.  Guest
# output shows; Ctrl-a c shows the prompt with its hint; a command runs
# while the guest goes on; guest output that came while the prompt showed
# is on screen, none lost; Ctrl-a c goes back to the guest's console, where
# its output goes on; `exit 9` at the prompt ends vitro with status 9.
# Without the prompt in the build (introspect/repl.c), its checks skip.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

NAME=tclcon$$
TM=(tmux -L "vitro-console-$$")
tm_screen() { "${TM[@]}" capture-pane -p -J -S - -t con 2>/dev/null; }
# tm_count REGEX: lines of the screen and its whole history that match.
tm_count() { tm_screen | grep -Ec -- "$1"; }
# tm_wait REGEX [COUNT] [SECONDS]: until the screen (and its history) has
# COUNT lines matching REGEX (default 1), at most SECONDS (default 20).
tm_wait() {
	local want=${2:-1} i
	for i in $(seq 1 $((${3:-20} * 10))); do
		[ "$(tm_screen | grep -Ec -- "$1")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
tm_ok() { # tm_ok STATUS NAME: a TAP line, the screen on failure
	if [ "$1" = 0 ]; then
		ok 0 "$2"
	else
		tm_screen | grep -v '^$' | tail -30 >"$T/screen"
		ok 1 "$2" "$T/screen" "$T/err"
	fi
}
con_cleanup() {
	"${TM[@]}" kill-server 2>/dev/null
	tcl_cleanup
}

CHECKS="guest prompt command during back exit"
skip_all() {
	for t in $CHECKS; do
		n=$((n + 1))
		echo "ok $n # skip console $t: $1"
	done
	tcl_done
}

command -v tmux >/dev/null || skip_all "no tmux"
trap con_cleanup EXIT
# A status line every 300 ms: output keeps coming while the prompt shows.
"${TM[@]}" new-session -d -s con -x 120 -y 50 \
	"env TERM=xterm HOME=$T $VITRO --debug-exit -c 2 -m 64M -k $GUESTS/demo.elf \
	-a interval=300 --console $NAME 2>$T/err; echo VITRO-EXIT=\$?; \
	sleep 60" 2>"$T/tmux.err" ||
	skip_all "tmux cannot start here: $(head -1 "$T/tmux.err")"
vm_errs+=("$T/err")

for _ in $(seq 1 100); do
	grep -q "cannot start the prompt" "$T/err" 2>/dev/null &&
		skip_all "the prompt (introspect/repl.c) is not in this build"
	tm_screen | grep -q '^demo: status' && break
	sleep 0.2
done
tm_wait '^demo: status 2'
tm_ok $? "console: the guest's output shows on the terminal"

"${TM[@]}" send-keys -t con C-a c
tm_wait "Ctrl-a c: back to the guest console" 1 30 || {
	tm_ok 1 "console: Ctrl-a c shows the prompt with the way back"
	tcl_done
}
ok 0 "console: Ctrl-a c shows the prompt with the way back"
last=$(tm_screen | grep -Eo '^demo: status [0-9]+' | tail -1 |
	awk '{print $3}')

"${TM[@]}" send-keys -t con 'expr {6 * 7}' Enter
tm_wait '^42$'
tm_ok $? "console: a command at the prompt gives its result"

# The guest went on meanwhile, and its lines are on screen, in order and
# none missing, above the prompt.
tm_wait "^demo: status $((last + 3))" 1 30
st=$?
seqs=$(tm_screen | grep -Eo '^demo: status [0-9]+' | awk '{print $3}')
gaps=$(printf '%s\n' "$seqs" | awk 'NR > 1 && $1 != p + 1 {g++} {p = $1}
	END {print g + 0}')
[ "$st" = 0 ] && [ "$gaps" = 0 ]
tm_ok $? "console: guest output while the prompt shows is printed, none lost"

"${TM[@]}" send-keys -t con C-a c
now=$(tm_screen | grep -Eo '^demo: status [0-9]+' | tail -1 |
	awk '{print $3}')
tm_wait "^demo: status $((now + 2))" 1 30
st=$?
seqs=$(tm_screen | grep -Eo '^demo: status [0-9]+' | awk '{print $3}')
gaps=$(printf '%s\n' "$seqs" | awk 'NR > 1 && $1 != p + 1 {g++} {p = $1}
	END {print g + 0}')
[ "$st" = 0 ] && [ "$gaps" = 0 ]
tm_ok $? "console: Ctrl-a c at the prompt: back to the guest's console"

# The prompt again (its banner once more), then exit 9.  A slow host may
# take a while to tear the VM down: the wait for the status is generous.
banners=$(tm_count "Ctrl-a c: back to the guest console")
"${TM[@]}" send-keys -t con C-a c
tm_wait "Ctrl-a c: back to the guest console" $((banners + 1)) 30
"${TM[@]}" send-keys -t con 'exit 9' Enter
tm_wait '^VITRO-EXIT=9$' 1 60
tm_ok $? "console: exit 9 at the prompt ends vitro with status 9"

tcl_done
