# tests/unit/: tests of the pure parts, no KVM needed.
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(O)/%)

$(UNIT_BINS): $(O)/tests/unit/%: $(O)/tests/unit/%.o $$(TEST_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)

TEST_PROGRAMS += $(UNIT_BINS)
TESTS += $(UNIT_BINS)

# The debug core's test links a fake libvmmapi instead of the real one.
DBG_FAKE_OBJ := $(O)/tests/unit/dbg_fake_vmm.o

$(O)/tests/unit/test-debug-core: $(DBG_FAKE_OBJ)
$(O)/tests/unit/test-debug-core: TEST_LIBS = $(DBG_FAKE_OBJ) \
	$(O)/lib/libmonitor.a $(VITRO_LIBS)

# The range page-table walker is pure: it needs only its own object.
$(O)/tests/unit/test-ptwalk: TEST_LIBS = $(O)/lib/libintrospect.a
