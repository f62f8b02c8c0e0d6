# vmm/: the hypervisor core, libvmm.a (internal; linked into libvmmapi).
VMM_SRCS := $(wildcard vmm/*.c)
VMM_OBJS := $(VMM_SRCS:%.c=$(O)/%.o)

$(O)/lib/libvmm.a: $(VMM_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

LIBS += $(O)/lib/libvmm.a
