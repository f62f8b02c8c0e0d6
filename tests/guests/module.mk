# tests/guests/: freestanding guest programs for vitro, built with the host
# gcc (no cross compiler), with DWARF kept for the debugger tests.
#
#   ELF64, 64-bit entry:     demo smp triple pio-loop dbgtest dbgtrap dbgrmw
#                            tasks trace acpi linuxish cpuid rtc memtouch hpet
#   ELF32, Multiboot 1:      paging multiboot
#   64-bit code in a Multiboot ELF32 (its own 32-bit entry):  memsieve
#
# The runtime in lib/ is compiled twice, for each kind, under
# $(O)/tests/guests/64/ and $(O)/tests/guests/32/; the guests land in
# $(O)/tests/guests/NAME.elf.  Guests take none of the host CFLAGS (no
# sanitizers, no _FORTIFY_SOURCE); no SSE or x87 in their code.

GUEST_CC ?= gcc
GD := tests/guests
GO := $(O)/tests/guests

GUEST_CPPFLAGS := -I. -I$(GD)/lib
GUEST_OPT := -O2
GUEST_CFLAGS = -std=gnu11 $(WARN) $(GUEST_OPT) -g -ffreestanding -fno-builtin \
	-fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
	-fno-optimize-sibling-calls -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -mgeneral-regs-only -MMD -MP
GUEST_ASFLAGS := -g -Wa,--noexecstack -MMD -MP
GUEST_CFLAGS_64 := -m64 -mno-red-zone
GUEST_CFLAGS_32 := -m32 -march=i686
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

GUEST_LIB_COMMON := start printf string cmdline trap
GUEST_LIB64 := $(addprefix $(GO)/64/lib/,$(addsuffix .o,$(GUEST_LIB_COMMON) \
	entry64 idt64 lapic time smp trampoline))
GUEST_LIB32 := $(addprefix $(GO)/32/lib/,$(addsuffix .o,$(GUEST_LIB_COMMON) \
	entry32 idt32))

GUEST64_ELFS := $(addprefix $(GO)/,$(addsuffix .elf,demo smp triple pio-loop \
	dbgtest dbgtrap dbgrmw tasks trace acpi linuxish cpuid rtc memtouch hpet))
GUEST32_ELFS := $(addprefix $(GO)/,$(addsuffix .elf,paging multiboot))

$(GO)/64/%.o: $(GD)/%.c
	@mkdir -p $(@D)
	$(call say,CC64,$@)
	$(Q)$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(GUEST_CFLAGS_64) \
		-c -o $@ $<

$(GO)/64/%.o: $(GD)/%.S
	@mkdir -p $(@D)
	$(call say,AS64,$@)
	$(Q)$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_ASFLAGS) -m64 -c -o $@ $<

$(GO)/32/%.o: $(GD)/%.c
	@mkdir -p $(@D)
	$(call say,CC32,$@)
	$(Q)$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(GUEST_CFLAGS_32) \
		-c -o $@ $<

$(GO)/32/%.o: $(GD)/%.S
	@mkdir -p $(@D)
	$(call say,AS32,$@)
	$(Q)$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_ASFLAGS) -m32 -c -o $@ $<

$(GUEST64_ELFS): $(GO)/%.elf: $(GO)/64/%.o $(GUEST_LIB64) $(GD)/lib/elf64.ld
	$(call say,GUEST,$@)
	$(Q)$(GUEST_CC) -m64 $(GUEST_LDFLAGS) -T $(GD)/lib/elf64.ld -o $@ \
		$(filter %.o,$^)

$(GUEST32_ELFS): $(GO)/%.elf: $(GO)/32/%.o $(GUEST_LIB32) $(GD)/lib/multiboot.ld
	$(call say,GUEST,$@)
	$(Q)$(GUEST_CC) -m32 $(GUEST_LDFLAGS) -T $(GD)/lib/multiboot.ld -o $@ \
		$(filter %.o,$^)

# The demo is what people step through in a debugger.
$(GO)/64/demo.o: GUEST_OPT := -Og

# The gdb tests' guest: -Og too, and its watched globals in the order its
# source defines them (alone on their page).
$(GO)/64/dbgtest.o: GUEST_OPT := -Og -fno-toplevel-reorder
# The debug core's guests: their own debug exceptions, and locked updates
# beside a watched variable (alone on their page, as dbgtest's).
$(GO)/64/dbgtrap.o: GUEST_OPT := -Og
$(GO)/64/dbgrmw.o: GUEST_OPT := -O2 -fno-toplevel-reorder

# The tracing tests' guest: its stacks are walked by frame pointers.
$(GO)/64/trace.o: GUEST_OPT := -O2 -fno-omit-frame-pointer \
	-mno-omit-leaf-frame-pointer

# paging.elf's long-mode half: 64-bit code called from compatibility mode.
$(GO)/paging.elf: $(GO)/32/paging-lm.o

GUESTS += $(GUEST64_ELFS) $(GUEST32_ELFS)

# memsieve.elf, the guest-memory benchmark's guest, boots under QEMU's
# -kernel too, which takes only ELF32 Multiboot kernels: linked as an
# ELF64 with its own 32-bit entry (memsieve64.elf keeps the DWARF), then
# converted.
OBJCOPY ?= objcopy
$(GO)/memsieve64.elf: $(GO)/64/memsieve.o $(GO)/64/memsieve-entry.o \
		$(GUEST_LIB64) $(GD)/lib/elf64.ld
	$(call say,GUEST,$@)
	$(Q)$(GUEST_CC) -m64 $(GUEST_LDFLAGS) -T $(GD)/lib/elf64.ld \
		-Wl,-e,memsieve_entry32 -o $@ $(filter %.o,$^)

$(GO)/memsieve.elf: $(GO)/memsieve64.elf
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -O elf32-i386 --strip-debug $< $@

GUESTS += $(GO)/memsieve.elf

# Host tests, with the host's flags (sanitizers too): the runtime's pure
# parts (printf, options) compiled for the host; vitro's page walker
# against paging.elf; every guest booted under vitro.  The last two skip
# without /dev/kvm.
$(O)/tests/guests/test-rt: $(O)/tests/guests/test-rt.o \
		$(O)/tests/guests/lib/printf.o $(O)/tests/guests/lib/cmdline.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(O)/tests/guests/test-paging-walk: $(O)/tests/guests/test-paging-walk.o \
		$$(TEST_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)

GUEST_TESTS := $(O)/tests/guests/test-rt $(O)/tests/guests/test-paging-walk
TEST_PROGRAMS += $(GUEST_TESTS)
TESTS += $(GUEST_TESTS) tests/guests/boot-guests.sh

.PHONY: guests
guests: $(GUEST64_ELFS) $(GUEST32_ELFS) $(GO)/memsieve.elf
