# libvmmapi/: the public API.  libvmmapi.a and libvmmapi.so each carry the
# vmm core, so a program links one library.
VMMAPI_SRCS := $(wildcard libvmmapi/*.c)
VMMAPI_OBJS := $(VMMAPI_SRCS:%.c=$(O)/%.o)
VMMAPI_PIC_OBJS := $(patsubst %.c,$(O)/pic/%.o,$(VMMAPI_SRCS) $(VMM_SRCS))
VMMAPI_VERSION := 1.0.0

$(O)/lib/libvmmapi.a: $(VMMAPI_OBJS) $(VMM_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(O)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -fvisibility=default -c -o $@ $<

$(O)/lib/libvmmapi.so: $(VMMAPI_PIC_OBJS)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libvmmapi.so.1 -o $@ $^ \
		$(LDLIBS_THREAD)

$(O)/lib/pkgconfig/vmmapi.pc: libvmmapi/vmmapi.pc.in
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(abspath $(O))|' \
	    -e 's|@SRC@|$(abspath .)|' \
	    -e 's|@VERSION@|$(VMMAPI_VERSION)|' $< > $@

LIBS += $(O)/lib/libvmmapi.a $(O)/lib/libvmmapi.so \
	$(O)/lib/pkgconfig/vmmapi.pc
