# tests/unit/: tests of the pure parts, no KVM needed.
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(O)/%)

$(UNIT_BINS): $(O)/tests/unit/%: $(O)/tests/unit/%.o $$(TEST_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)

TEST_PROGRAMS += $(UNIT_BINS)
TESTS += $(UNIT_BINS)
