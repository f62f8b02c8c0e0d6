# tests/kvm/: tests that run guests on /dev/kvm (they skip without it).
# Each test-*.c is a program, linked with the shared set-up in kvm_util.c
# and the probes (probe*.c), which measure on a bare KVM VM what this
# host's KVM can do, so that a test skips exactly what the KVM cannot.
KVMTEST_SRCS := $(wildcard tests/kvm/test-*.c)
KVMTEST_BINS := $(KVMTEST_SRCS:%.c=$(O)/%)
KVMTEST_UTIL_OBJS := $(O)/tests/kvm/kvm_util.o

# The probes, an archive that tests/module.mk puts in every test's
# TEST_LIBS (tests/guests uses them too).
KVM_PROBE_OBJS := $(addprefix $(O)/tests/kvm/,probe.o probe_vm.o \
	probe-debug.o probe-cpu.o)
KVM_PROBE_LIB := $(O)/tests/kvm/libkvmprobe.a

$(KVM_PROBE_LIB): $(KVM_PROBE_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(KVMTEST_BINS): $(O)/tests/kvm/%: $(O)/tests/kvm/%.o $(KVMTEST_UTIL_OBJS) \
		$$(TEST_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(KVMTEST_UTIL_OBJS) $(TEST_LIBS) \
		$(TEST_LDLIBS)

# kvm-probe: the probes for shell tests (tests/gdb, vitro-cli.sh...).
$(O)/tests/kvm/kvm-probe: $(O)/tests/kvm/kvm-probe.o $(KVM_PROBE_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

TEST_PROGRAMS += $(KVMTEST_BINS) $(O)/tests/kvm/kvm-probe
TESTS += $(KVMTEST_BINS) $(sort $(wildcard tests/kvm/*.sh))
