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

# The symbol and DWARF readers' tests read a fixture built with -g (with
# the host compiler, none of the test flags), and copies of it without
# DWARF (strip -g) and without symbols (strip -s).
FX_ELF := $(O)/tests/unit/fixture-types.elf
FX_ELFS := $(FX_ELF) $(FX_ELF:.elf=-nodebug.elf) $(FX_ELF:.elf=-nosyms.elf)

$(FX_ELF): tests/unit/fixture-types.c tests/unit/fixture-types.h
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) -I. -g -O0 -fno-pie -no-pie -o $@ $<

$(FX_ELF:.elf=-nodebug.elf): $(FX_ELF)
	$(call say,STRIP,$@)
	$(Q)strip -g -o $@ $<

$(FX_ELF:.elf=-nosyms.elf): $(FX_ELF)
	$(call say,STRIP,$@)
	$(Q)strip -s -o $@ $<

$(O)/tests/unit/test-elfsym $(O)/tests/unit/test-dwarf: $(FX_ELFS)
$(O)/tests/unit/test-elfsym.o $(O)/tests/unit/test-dwarf.o: \
	CPPFLAGS += -DFIXTURE_BASE='"$(abspath $(FX_ELF:.elf=))"'

# The range page-table walker is pure: it needs only its own object.
$(O)/tests/unit/test-ptwalk: TEST_LIBS = $(O)/lib/libintrospect.a

# The console's help test embeds Tcl.
$(O)/tests/unit/test-isp-help.o: CPPFLAGS += $(ISP_CFLAGS)

# The Linux loader's test compresses its bzImages with the libraries.
$(O)/tests/unit/test-loader-linux.o: CPPFLAGS += $(LOADER_CFLAGS)
