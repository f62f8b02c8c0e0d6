#!/usr/bin/env bash
# test-tap-strict.sh: tests/tap-strict, the CI wrapper that fails a test
# which did not run on a host with /dev/kvm, on fake tests: what it lets
# through and what it fails, strict (VITRO_STRICT=1) and not (0).  TAP.
set -u
strict=$(cd "$(dirname "$0")" && pwd)/tap-strict
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { # ok STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		sed 's/^/#   /' "$tmp/out"
	fi
}

# fake NAME EXIT-STATUS: a test that prints stdin's lines, then exits.
fake() {
	cat >"$tmp/$1.tap"
	printf '#!/bin/sh\ncat "%s"\nexit %s\n' "$tmp/$1.tap" "$2" >"$tmp/$1"
	chmod +x "$tmp/$1"
}

# run MODE NAME [WRAPPER...]: tap-strict on fake NAME; ST, $tmp/out.
run() {
	local mode=$1 name=$2

	shift 2
	VITRO_STRICT=$mode "$strict" "$@" "$tmp/$name" >"$tmp/out" 2>"$tmp/err"
	ST=$?
}

printf '1..2\nok 1 - one\nok 2 - two\n' | fake pass 0
printf '1..0 # skip no usable /dev/kvm\n' | fake skipall 0
printf 'ok 1 - runs\nok 2 # skip this KVM cannot step (probe)\n1..2\n' |
	fake someskip 0
printf '1..2\nok 1 # skip a\nok 2 - b # SKIP b\n' | fake allskip 0
printf '1..0\n' | fake empty 0
printf '1..1\nnot ok 1 - broken\n' | fake failing 1
fake silent 0 </dev/null

run 1 pass
[ "$ST" = 0 ] && diff -q "$tmp/out" "$tmp/pass.tap" >/dev/null
ok $? "strict: a passing test passes, its output unchanged"
run 1 someskip
[ "$ST" = 0 ] && diff -q "$tmp/out" "$tmp/someskip.tap" >/dev/null
ok $? "strict: single checks skipped with a reason are allowed"
run 1 skipall
[ "$ST" = 1 ] && grep -q '^1\.\.1$' "$tmp/out" &&
	grep -q '^not ok 1 - the whole test was skipped on a host with /dev/kvm: no usable /dev/kvm$' "$tmp/out" &&
	! grep -q '^1\.\.0' "$tmp/out"
ok $? "strict: a whole-file skip becomes a failing check with its reason"
run 1 allskip
[ "$ST" = 1 ] && grep -q "every one of the 2 checks was skipped" "$tmp/out"
ok $? "strict: every check skipped fails"
run 1 empty
[ "$ST" = 1 ] && grep -q "whole test was skipped.*(no reason given)" "$tmp/out"
ok $? "strict: a plan of 1..0 without a reason fails (TAP reads it as a skip)"
run 1 silent
[ "$ST" = 1 ] && grep -q "ran no check" "$tmp/out"
ok $? "strict: no output at all fails"
run 1 failing
[ "$ST" = 1 ] && grep -q '^not ok 1 - broken$' "$tmp/out"
ok $? "strict: a failing test keeps its status and output"
run 0 skipall
[ "$ST" = 0 ] && diff -q "$tmp/out" "$tmp/skipall.tap" >/dev/null
ok $? "not strict (no /dev/kvm): a whole-file skip passes through"
run 0 allskip
[ "$ST" = 0 ]
ok $? "not strict: every check skipped passes through"
run 1 pass timeout 30
[ "$ST" = 0 ] && grep -q '^ok 2 - two$' "$tmp/out"
ok $? "with a wrapper command before the test"
prove -f --exec "env VITRO_STRICT=1 $strict" "$tmp/skipall" >"$tmp/out" 2>&1
[ $? != 0 ] && grep -q "Failed 1/1" "$tmp/out"
ok $? "under prove --exec, a whole-file skip fails the run"
prove -f --exec "env VITRO_STRICT=1 $strict" "$tmp/someskip" "$tmp/pass" \
	>"$tmp/out" 2>&1
[ $? = 0 ] && grep -q '^Result: PASS' "$tmp/out"
ok $? "under prove --exec, probed skips of single checks pass"

echo "1..$n"
exit $((failed > 0))
