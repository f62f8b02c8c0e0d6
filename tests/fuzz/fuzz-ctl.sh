#!/bin/sh
# fuzz-ctl.sh: the control socket's request decoder and dispatch
# (fuzz-ctl.c), fuzzed for a bounded time by fuzz-run.sh.
exec "$(dirname "$0")/fuzz-run.sh" fuzz-ctl "the control requests"
