# introspect/: the Tcl console's command set (isp.h).  Linked into vitro
# and vitroctl from libintrospect.a, and built as the Tcl package `vitro`
# (build/lib/vitro/: libvitro.so and pkgIndex.tcl) for a plain tclsh.
# Debian's libdwarf has no .pc file; Tcl's adds its stub library, which
# an embedding program does not want.
ISP_CFLAGS := -I/usr/include/tcl8.6 -I/usr/include/libdwarf \
	-I/usr/include/capstone -I/usr/include/editline
ISP_LDLIBS := -ltcl8.6 -ldwarf -lelf -lcapstone -ledit -lm

ISP_SRCS := $(wildcard introspect/*.c)
ISP_OBJS := $(ISP_SRCS:%.c=$(O)/%.o)
ISP_PIC_OBJS := $(ISP_SRCS:%.c=$(O)/pic/%.o)

$(ISP_OBJS) $(ISP_PIC_OBJS): CPPFLAGS += $(ISP_CFLAGS)

$(O)/lib/libintrospect.a: $(ISP_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

# The package: the command set and libvmmapi in one shared object.
$(O)/lib/vitro/libvitro.so: $(ISP_PIC_OBJS) $(VMMAPI_PIC_OBJS)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $^ $(ISP_LDLIBS) $(LDLIBS_THREAD)

$(O)/lib/vitro/pkgIndex.tcl: introspect/pkgIndex.tcl.in
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)cp $< $@

LIBS += $(O)/lib/libintrospect.a $(O)/lib/vitro/libvitro.so \
	$(O)/lib/vitro/pkgIndex.tcl

# The monitor and vitroctl link it (monitor/module.mk adds these).
VITRO_LIBS += $(O)/lib/libintrospect.a
VITRO_LDLIBS += $(ISP_LDLIBS)
