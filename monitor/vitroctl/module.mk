# monitor/vitroctl/: vitroctl, bhyvectl's counterpart: a libvmmapi program
# that inspects and controls a running VM through its control socket.
$(O)/bin/vitroctl: $(O)/monitor/vitroctl/vitroctl.o $(O)/lib/libvmmapi.a
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_THREAD)

PROGRAMS += $(O)/bin/vitroctl
