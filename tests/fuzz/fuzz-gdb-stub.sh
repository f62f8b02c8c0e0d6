#!/bin/sh
# fuzz-gdb-stub.sh: the GDB stub (fuzz-gdb-stub.c), fuzzed for a bounded
# time by fuzz-run.sh, with the protocol's words as a dictionary.
src=${VITRO_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$(dirname "$0")/fuzz-run.sh" fuzz-gdb-stub "the stub" \
	-dict="$src/tests/fuzz/gdb-stub.dict"
