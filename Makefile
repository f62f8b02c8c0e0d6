# vitro: top-level GNU Makefile.
#
#   make            build everything into $(BUILD) (default build/)
#   make run        install what is missing, build, boot the demo guest
#   make check      install what is missing, build, run every test
#   make check-asan the same under AddressSanitizer + UBSan (build/asan/)
#   make check-tsan the same under ThreadSanitizer (build/tsan/)
#   make check-nested  the KVM tests, in a nested KVM when there is no /dev/kvm
#   make check-linux   build a small Linux and boot it, debug it (tests/linux/)
#   make bench      run the benchmarks in tests/bench/
#   make fuzz       long fuzzing runs (tests/fuzz/)
#   make format     reformat the C sources; make format-check checks them
#
# Each directory adds its objects, programs and tests in a module.mk file.

BUILD ?= build
O := $(BUILD)
SAN ?=

# Quiet by default, as kbuild: `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
PROVE ?= prove
PROVE_FLAGS ?= -f

CFLAGS ?= -O2 -g
CPPFLAGS += -I. -D_GNU_SOURCE
# SAN=1 (or address): AddressSanitizer + UBSan; SAN=thread: ThreadSanitizer
# (the two cannot be combined).
ifeq ($(SAN),thread)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS += -fsanitize=thread
else ifneq ($(SAN),)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
CPPFLAGS += -D_FORTIFY_SOURCE=2
endif
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wmissing-prototypes -Wstrict-prototypes
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -MMD -MP
LDLIBS_THREAD := -lpthread

# Everything a module defines.
PROGRAMS :=
LIBS :=
TESTS :=
TEST_PROGRAMS :=
GUESTS :=
BENCHES :=
CLEAN :=

.PHONY: all
.SECONDEXPANSION:
all:

# Order matters: gdbstub and introspect add to VITRO_OBJS before monitor
# links vitro.
include vmm/module.mk
include libvmmapi/module.mk
-include gdbstub/module.mk
-include introspect/module.mk
include monitor/module.mk
include tests/module.mk

all: $(LIBS) $(PROGRAMS) $(GUESTS) $(TEST_PROGRAMS)

# Host C objects: build/<dir>/<file>.o from <dir>/<file>.c.
$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

.PHONY: deps
deps:
	@scripts/install-deps

.PHONY: run
run: deps
	@$(MAKE) --no-print-directory all
	$(O)/bin/vitro -c 2 -m 256M -k $(O)/tests/guests/demo.elf

export VITRO_BUILD := $(abspath $(O))
export VITRO_SRC := $(abspath .)

.PHONY: check test
check: deps
	@$(MAKE) --no-print-directory test

test: all
	$(PROVE) $(PROVE_FLAGS) $(TESTS)

.PHONY: check-asan
check-asan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 test

# ThreadSanitizer: every report fails its test (exit status 66, and the
# shell tests look for reports in vitro's stderr); what is suppressed, and
# why, is in tests/tsan.supp.
TSAN_OPTIONS_CHECK := suppressions=$(abspath tests/tsan.supp) \
	second_deadlock_stack=1

.PHONY: check-tsan
check-tsan: deps
	@TSAN_OPTIONS="$(TSAN_OPTIONS_CHECK) $$TSAN_OPTIONS" \
		$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SAN=thread test

# The KVM tests (KVM_TESTS) where this machine has no /dev/kvm: inside a
# small QEMU guest whose /dev/kvm is kvm_amd on QEMU's emulated SVM
# (../shared/tools/nested-kvm; its README lists that KVM's gaps, which
# the tests' probes find and skip).  Built here first; every test under
# tests/tap-strict, which fails a test that skips as a whole, and under a
# timeout of its own; one guest per test directory, and a guest that
# wedges as a whole is tried once more (tests/nested-check).  With
# /dev/kvm they simply run here.
NESTED_KVM ?= ../shared/tools/nested-kvm/run
NESTED_KVM_TIMEOUT ?= 1200
NESTED_PROVE_FLAGS ?= -f --timer --exec tests/tap-strict\ timeout\ -k\ 5\ 300

.PHONY: check-nested
check-nested: deps
	@$(MAKE) --no-print-directory all
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then \
		echo "check-nested: /dev/kvm is here; the KVM tests run on it"; \
		$(PROVE) $(NESTED_PROVE_FLAGS) $(KVM_TESTS); \
	elif [ -x "$(NESTED_KVM)" ]; then \
		tests/nested-check $(NESTED_KVM) $(NESTED_KVM_TIMEOUT) \
			$(PROVE) $(NESTED_PROVE_FLAGS) -- $(KVM_TESTS); \
	else \
		echo "check-nested: no /dev/kvm, and no $(NESTED_KVM) to" \
			"make one (set NESTED_KVM=)" >&2; \
		exit 1; \
	fi

# The Linux tests: a test kernel from Debian's linux-source (built once,
# cached in $(O)/linux while tests/linux/config is unchanged), a busybox
# initramfs, and tests/linux/*.sh against them; in a nested KVM, as
# check-nested, where there is no /dev/kvm.  A boot there takes minutes.
LINUX_TESTS = $(sort $(wildcard tests/linux/*.sh))
LINUX_JOBS ?= 2
LINUX_NESTED_TIMEOUT ?= 3600
LINUX_PROVE_FLAGS ?= -f --timer --exec tests/tap-strict\ timeout\ -k\ 5\ 1500

.PHONY: check-linux linux-kernel
linux-kernel:
	@scripts/install-deps --linux
	@JOBS=$(LINUX_JOBS) tests/linux/build-kernel $(abspath $(O))/linux
	@scripts/mkinitramfs -o $(O)/linux/initramfs.cpio.gz

check-linux: deps linux-kernel
	@$(MAKE) --no-print-directory all
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then \
		$(PROVE) $(LINUX_PROVE_FLAGS) $(LINUX_TESTS); \
	elif [ -x "$(NESTED_KVM)" ]; then \
		tests/nested-check $(NESTED_KVM) $(LINUX_NESTED_TIMEOUT) \
			$(PROVE) $(LINUX_PROVE_FLAGS) -- $(LINUX_TESTS); \
	else \
		echo "check-linux: no /dev/kvm, and no $(NESTED_KVM) to" \
			"make one (set NESTED_KVM=)" >&2; \
		exit 1; \
	fi

.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory all
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null | \
	grep -v '^tests/fuzz/corpus')

.PHONY: format format-check
format:
	clang-format -i $(C_SOURCES)

format-check:
	@out=$$(clang-format --dry-run $(C_SOURCES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" | head -40; \
		echo "format-check: run 'make format'"; exit 1; fi; \
	echo "format-check: ok"

.PHONY: clean
clean:
	rm -rf $(BUILD)

# build/linux holds the test kernel's tree (tests/linux/build-kernel).
-include $(shell find $(O) -path $(O)/linux -prune -o -name '*.d' -type f \
	-print 2>/dev/null)
