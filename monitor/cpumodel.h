/*
 * cpumodel.h: the CPU model's part in booting Linux - the command-line
 * options that hide from a Linux guest what the model hides, for a KVM
 * whose CPUID filtering does not reach the guest.  Pure: no VM, no I/O.
 */
#ifndef MONITOR_CPUMODEL_H
#define MONITOR_CPUMODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/vmm_dev.h"

/* Linux's clearcpuid= value holds at most this many characters. */
#define CPU_CLEARCPUID_MAX 127

/*
 * Append to cmdline the options that make Linux (6.1 and later) leave the
 * features in `hidden` alone, when `filtered` is false: noxsave (which
 * takes AVX, PKU and the other XSAVE features with it), nofsgsbase,
 * nopcid, noinvpcid, no5lvl, and clearcpuid=N,... for the rest, with
 * Linux's feature numbers (word * 32 + bit; 6.1 takes numbers whatever
 * its configuration, names only with X86_FEATURE_NAMES).  The features a
 * kernel's own code would run (cmpxchg16b, popcnt, clac/stac, rdrand...)
 * come first; those that do not fit in clearcpuid='s CPU_CLEARCPUID_MAX
 * characters are counted in *dropped.  A cmdline that has clearcpuid=
 * already keeps the user's.  When filtered, or nothing is hidden, out is
 * cmdline as it is.  added gets the options alone ("" for none).
 * cmdline may be NULL (empty).  0, or -ENAMETOOLONG when out or added is
 * too small.
 */
int cpu_model_linux_cmdline(const struct vm_cpuid_mask *hidden, bool filtered,
			    const char *cmdline, char *out, size_t outlen,
			    char *added, size_t addedlen, unsigned *dropped);

#endif
