/*
 * vmmapi_names.c: libvmmapi's name lookups, over the vmm core's tables.
 */
#include "libvmmapi/vmmapi.h"
#include "vmm/vmm.h"

const char *vm_exitcode_name(enum vm_exitcode code)
{
	return vmm_exitcode_name(code);
}

const char *vm_suspend_name(enum vm_suspend_how how)
{
	return vmm_suspend_name(how);
}

const char *vm_reg_name(int reg)
{
	return vmm_reg_name(reg);
}
