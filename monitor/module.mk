# monitor/: the vitro program.  Everything but main.c also goes into
# libmonitor.a, which tests link to reach device models, loaders, the
# debug core (monitor/debug/) and the control socket (monitor/ctl/).
MONITOR_SRCS := $(filter-out monitor/main.c,$(wildcard monitor/*.c)) \
	$(wildcard monitor/debug/*.c) $(wildcard monitor/ctl/*.c) \
	$(wildcard monitor/boot/*.c) $(wildcard monitor/dev/*.c)
MONITOR_OBJS := $(MONITOR_SRCS:%.c=$(O)/%.o)
# The console (console.c) embeds Tcl and the introspect commands.
$(O)/monitor/console.o: CPPFLAGS += $(ISP_CFLAGS)

$(O)/lib/libmonitor.a: $(MONITOR_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

# The Linux loader decompresses bzImage payloads (monitor/boot/linux*).
LOADER_PKGS := zlib liblzma libzstd liblz4
LOADER_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LOADER_PKGS))
LOADER_LDLIBS := $(shell $(PKG_CONFIG) --libs $(LOADER_PKGS))
$(O)/monitor/boot/linux_decompress.o: CPPFLAGS += $(LOADER_CFLAGS)

# Libraries a program linking the monitor needs, in link order.
MONITOR_LIBS := $(O)/lib/libmonitor.a $(VITRO_LIBS) $(O)/lib/libvmmapi.a
MONITOR_LDLIBS := $(VITRO_LDLIBS) $(LOADER_LDLIBS) $(LDLIBS_THREAD)

$(O)/bin/vitro: $(O)/monitor/main.o $(MONITOR_LIBS)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(O)/monitor/main.o $(MONITOR_LIBS) \
		$(MONITOR_LDLIBS)

LIBS += $(O)/lib/libmonitor.a
PROGRAMS += $(O)/bin/vitro
include monitor/vitroctl/module.mk
