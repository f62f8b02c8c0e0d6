/*
 * vmm.h: the entry points of the vmm core, used by libvmmapi only.
 *
 * A struct vmm is one VM over one KVM VM file descriptor.  It is created by
 * name and destroyed by its owner; between the two, every operation is a
 * command of vmm_dev.h passed to vmm_ioctl(), from any thread (see
 * vmm_dev.h for which commands need the vCPU stopped).  Names are unique
 * within the process.
 */
#ifndef VMM_H
#define VMM_H

#include "vmm/vmm_dev.h"

struct vmm;

/*
 * Whether name may name a VM: 1 to VM_NAME_MAX-1 printable characters,
 * no '/' or space, not starting with '.' (it names a socket file too).
 */
bool vmm_name_valid(const char *name);

/* Create a VM; NULL with errno set (EEXIST for a name in use). */
struct vmm *vmm_create(const char *name);

/* Destroy a VM.  No vCPU thread may be inside vmm_ioctl() any more. */
void vmm_destroy(struct vmm *vm);

const char *vmm_name(const struct vmm *vm);

/* Run a command: 0 or -errno. */
int vmm_ioctl(struct vmm *vm, uint32_t cmd, void *arg);

/* The signal that kicks a thread out of KVM_RUN. */
int vmm_kick_signal(void);

/* Names for exit codes, suspend reasons and registers ("?" if unknown). */
const char *vmm_exitcode_name(enum vm_exitcode code);
const char *vmm_suspend_name(enum vm_suspend_how how);
const char *vmm_reg_name(int reg);

#endif
