# tests/bench/: benchmarks that print figures and never judge them; `make
# bench` runs each BENCHES entry in turn.  They find vitro and their guest
# through VITRO_BUILD (exported by the top-level Makefile), or next to
# themselves when run by hand.
#
# The guest (loop-guest.elf) is always built from tests/bench/loop-guest.c,
# not taken from tests/guests/: the exit-rate comparison depends on its
# exact loop bytes and marker ports, which must not change under it.
# Likewise step-guest.elf (Multiboot, ELF32) for gdb-vs-qemu.  guest-mem's
# guest is tests/guests/memsieve.elf (its module.mk builds it).

BENCH_DRIVERS := $(O)/tests/bench/exit-rate $(O)/tests/bench/footprint \
	$(O)/tests/bench/gdb-vs-qemu $(O)/tests/bench/guest-mem
BENCH_GUEST := $(O)/tests/bench/loop-guest.elf
STEP_GUEST := $(O)/tests/bench/step-guest.elf

# bare-kvm links nothing of vitro's, on purpose.
$(O)/tests/bench/bare-kvm: $(O)/tests/bench/bare-kvm.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $<

$(BENCH_DRIVERS): $(O)/tests/bench/%: $(O)/tests/bench/%.o \
		$(O)/tests/bench/bench-util.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# Freestanding, whatever the host build's flags (sanitizers included).
BENCH_GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding \
	-fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables
BENCH_GUEST_LDFLAGS := -nostdlib -static -no-pie \
	-Wl,-Ttext-segment=0x100000 -Wl,--build-id=none -Wl,-z,noexecstack

$(BENCH_GUEST): tests/bench/loop-guest.c tests/bench/bench.h \
		monitor/platform.h
	@mkdir -p $(@D)
	$(call say,GUEST,$@)
	$(Q)$(CC) -I. $(BENCH_GUEST_CFLAGS) -fno-omit-frame-pointer \
		$(BENCH_GUEST_LDFLAGS) -o $@ $<

# A Multiboot 1 kernel is an ELF32: built with -m32 (top-level asm only,
# so no 32-bit libraries are needed).
$(STEP_GUEST): tests/bench/step-guest.c tests/bench/bench.h \
		monitor/platform.h
	@mkdir -p $(@D)
	$(call say,GUEST,$@)
	$(Q)$(CC) -m32 -I. $(BENCH_GUEST_CFLAGS) $(BENCH_GUEST_LDFLAGS) -o $@ $<

# control measures libvmmapi itself, so it links it.
$(O)/tests/bench/control: $(O)/tests/bench/control.o \
		$(O)/tests/bench/bench-util.o $(O)/lib/libvmmapi.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_THREAD)

PROGRAMS += $(O)/tests/bench/bare-kvm $(BENCH_DRIVERS) \
	$(O)/tests/bench/control
GUESTS += $(BENCH_GUEST) $(STEP_GUEST)
BENCHES += $(BENCH_DRIVERS) $(O)/tests/bench/control
BENCHES += tests/bench/console
BENCHES += tests/bench/linux-boot
