# gdbstub/: the GDB remote serial protocol server, libgdbstub.a, linked
# into vitro (through VITRO_LIBS) and into the test programs.
GDBSTUB_SRCS := $(wildcard gdbstub/*.c)
GDBSTUB_OBJS := $(GDBSTUB_SRCS:%.c=$(O)/%.o)

$(O)/lib/libgdbstub.a: $(GDBSTUB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

LIBS += $(O)/lib/libgdbstub.a
VITRO_LIBS += $(O)/lib/libgdbstub.a

# The unit test of the stub also links the fake target it drives.
GDB_FAKE_OBJ := $(O)/tests/unit/gdb_fake_target.o

$(O)/tests/unit/test-gdb-stub: $(GDB_FAKE_OBJ)
$(O)/tests/unit/test-gdb-stub: TEST_LIBS = $(GDB_FAKE_OBJ) $(MONITOR_LIBS)
