# monitor/vitroctl/: vitroctl, bhyvectl's counterpart: a libvmmapi program
# that inspects and controls a running VM through its control socket.
VITROCTL_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard monitor/vitroctl/*.c))
$(VITROCTL_OBJS): CPPFLAGS += $(ISP_CFLAGS)

$(O)/bin/vitroctl: $(VITROCTL_OBJS) $(O)/lib/libintrospect.a \
		$(O)/lib/libvmmapi.a
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(ISP_LDLIBS) $(LDLIBS_THREAD)

PROGRAMS += $(O)/bin/vitroctl
