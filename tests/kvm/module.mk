# tests/kvm/: tests that run guests on /dev/kvm (they skip without it).
KVMTEST_SRCS := $(wildcard tests/kvm/test-*.c)
KVMTEST_BINS := $(KVMTEST_SRCS:%.c=$(O)/%)

$(KVMTEST_BINS): $(O)/tests/kvm/%: $(O)/tests/kvm/%.o $$(TEST_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)

TEST_PROGRAMS += $(KVMTEST_BINS)
TESTS += $(KVMTEST_BINS) $(sort $(wildcard tests/kvm/*.sh))
