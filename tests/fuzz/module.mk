# tests/fuzz/: libFuzzer targets, built with clang straight from the
# sources they cover (with ASan and UBSan), not from the gcc objects.
#
#   make test     runs each for a bounded time (tests/fuzz/*.sh, TAP;
#                 they skip when clang's libFuzzer is missing)
#   make fuzz     long runs: FUZZ_TIME seconds each (default 600), new
#                 inputs kept in tests/fuzz/corpus-run/ (not in git)
FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TIME ?= 600

FUZZ_GDB_STUB_SRCS := tests/fuzz/fuzz-gdb-stub.c \
	tests/unit/gdb_fake_target.c $(GDBSTUB_SRCS)

$(O)/tests/fuzz/fuzz-gdb-stub: $(FUZZ_GDB_STUB_SRCS) $(wildcard gdbstub/*.h) \
		tests/unit/gdb_fake_target.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $(FUZZ_GDB_STUB_SRCS) \
		$(LDLIBS_THREAD)

TESTS += tests/fuzz/fuzz-gdb-stub.sh

FUZZ_CTL_SRCS := tests/fuzz/fuzz-ctl.c monitor/ctl/ctl_proto.c

$(O)/tests/fuzz/fuzz-ctl: $(FUZZ_CTL_SRCS) monitor/ctl/ctl_proto.h \
		tests/unit/ctl_fake.h libvmmapi/vmm_ctl.h vmm/vmm_dev.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $(FUZZ_CTL_SRCS)

TESTS += tests/fuzz/fuzz-ctl.sh

.PHONY: fuzz
fuzz: $(O)/tests/fuzz/fuzz-gdb-stub $(O)/tests/fuzz/fuzz-ctl
	@mkdir -p tests/fuzz/corpus-run/gdb-stub
	$(O)/tests/fuzz/fuzz-gdb-stub -max_total_time=$(FUZZ_TIME) \
		-timeout=10 -dict=tests/fuzz/gdb-stub.dict \
		-artifact_prefix=$(O)/tests/fuzz/ \
		tests/fuzz/corpus-run/gdb-stub tests/fuzz/corpus/gdb-stub
	@mkdir -p tests/fuzz/corpus-run/ctl
	$(O)/tests/fuzz/fuzz-ctl -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-artifact_prefix=$(O)/tests/fuzz/ \
		tests/fuzz/corpus-run/ctl tests/fuzz/corpus/ctl
