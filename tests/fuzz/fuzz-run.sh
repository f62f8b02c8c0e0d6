#!/bin/sh
# fuzz-run.sh TARGET WHAT [LIBFUZZER-OPTION...]: a bounded libFuzzer run of
# tests/fuzz/TARGET.c from its seed corpus (tests/fuzz/corpus/NAME, NAME
# being TARGET without "fuzz-"), as one TAP test for `make test`.  Builds
# the fuzzer (make's rule in tests/fuzz/module.mk), runs it for
# FUZZ_SECONDS (default 15), and says ok unless it found a crash, hang or
# leak.  Skips when clang or its libFuzzer runtime (libclang-rt-14-dev) is
# missing.  WHAT names what is fuzzed, for the test lines.
set -u
target=$1
what=$2
shift 2
src=${VITRO_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${VITRO_BUILD:-$src/build}
cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-15}
bin=$build/tests/fuzz/$target

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "1..0 # skip $cc is not installed"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ return 0; }\n' \
	>"$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" \
	"$tmp/probe.c" >/dev/null 2>&1; then
	echo "1..0 # skip $cc cannot link libFuzzer (libclang-rt-14-dev missing?)"
	exit 0
fi

echo "1..2"
if make -s -C "$src" BUILD="$build" "$bin" >"$tmp/build.log" 2>&1; then
	echo "ok 1 - build the fuzzer"
else
	echo "not ok 1 - build the fuzzer"
	sed 's/^/# /' "$tmp/build.log"
	echo "not ok 2 - fuzz $what # not built"
	exit 1
fi

mkdir -p "$tmp/corpus"
if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
	-artifact_prefix="$build/tests/fuzz/" "$@" \
	"$tmp/corpus" "$src/tests/fuzz/corpus/${target#fuzz-}" \
	>"$tmp/run.log" 2>&1; then
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/run.log")
	echo "ok 2 - fuzz $what for ${seconds}s (${runs:-?} inputs)"
else
	echo "not ok 2 - fuzz $what: the input is in $build/tests/fuzz/"
	tail -40 "$tmp/run.log" | sed 's/^/# /'
	exit 1
fi
