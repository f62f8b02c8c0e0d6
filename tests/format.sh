#!/usr/bin/env bash
# format.sh: the C sources follow .clang-format (make format fixes them).
# TAP, so that make check and CI report it with the other tests.
cd "$(dirname "$0")/.." || exit 1
if ! command -v clang-format >/dev/null 2>&1; then
	echo "1..0 # skip clang-format is not installed"
	exit 0
fi
if ! files=$(git ls-files '*.c' '*.h' 2>/dev/null) || [ -z "$files" ]; then
	echo "1..0 # skip not in a git checkout"
	exit 0
fi
echo "1..1"
out=$(echo "$files" | grep -v '^tests/fuzz/corpus' |
	xargs clang-format --dry-run 2>&1 | grep 'warning:')
if [ -z "$out" ]; then
	echo "ok 1 - every C file is formatted"
else
	echo "not ok 1 - clang-format differences (run make format)"
	echo "$out" | head -20 | sed 's/^/#   /'
	exit 1
fi
