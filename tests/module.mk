# tests/: every test is an executable speaking TAP, run by prove in the
# order listed here (fast unit tests first).
-include tests/unit/module.mk
-include tests/guests/module.mk
-include tests/kvm/module.mk
-include tests/gdb/module.mk
-include tests/tcl/module.mk
-include tests/fuzz/module.mk
-include tests/bench/module.mk

TESTS += tests/format.sh tests/test-tap-strict.sh

# A C test program links whatever it uses from the project's libraries.
TEST_LIBS := $(KVM_PROBE_LIB) $(MONITOR_LIBS)
TEST_LDLIBS := $(MONITOR_LDLIBS)
