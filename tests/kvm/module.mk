# tests/kvm/: tests that run guests on /dev/kvm (they skip without it).
# Each test-*.c is a program, linked with the shared set-up in kvm_util.c.
KVMTEST_SRCS := $(wildcard tests/kvm/test-*.c)
KVMTEST_BINS := $(KVMTEST_SRCS:%.c=$(O)/%)
KVMTEST_UTIL_OBJS := $(O)/tests/kvm/kvm_util.o

$(KVMTEST_BINS): $(O)/tests/kvm/%: $(O)/tests/kvm/%.o $(KVMTEST_UTIL_OBJS) \
		$$(TEST_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(KVMTEST_UTIL_OBJS) $(TEST_LIBS) \
		$(TEST_LDLIBS)

TEST_PROGRAMS += $(KVMTEST_BINS)
TESTS += $(KVMTEST_BINS) $(sort $(wildcard tests/kvm/*.sh))
