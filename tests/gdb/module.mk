# tests/gdb/: the real gdb (batch mode) against vitro's debug server (-G)
# and guests from tests/guests/.  Each *.sh is a TAP test that sources
# gdb-lib.bash; they find vitro and the guests through VITRO_BUILD, so
# `make check-asan` runs them against the sanitizer build.  They skip
# without /dev/kvm or gdb.
TESTS += $(sort $(wildcard tests/gdb/*.sh))
