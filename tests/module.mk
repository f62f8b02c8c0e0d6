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

# The tests that need /dev/kvm (they skip without it): what make
# check-nested runs, on a nested KVM where this machine has none.
KVM_TESTS = $(filter $(O)/tests/kvm/test-% tests/kvm/% \
	$(O)/tests/guests/test-paging-walk tests/guests/boot-guests.sh \
	tests/gdb/% tests/tcl/%,$(TESTS))
