/*
 * options.h: vitro's command line, parsed into a struct without side
 * effects, so that tests can check every option and every error message.
 */
#ifndef MONITOR_OPTIONS_H
#define MONITOR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

#define VITRO_DEFAULT_MEM (256ULL << 20)
#define VITRO_MIN_MEM (2ULL << 20)
#define VITRO_MAX_MEM (1ULL << 40)
#define VITRO_MAX_HOSTCPU 1024 /* CPU_SETSIZE */

struct vitro_options {
	const char *name; /* the VM's name, or NULL for a default */
	unsigned ncpus; /* vCPUs started */
	struct vm_cpu_topology topo; /* maxcpus = sockets*cores*threads */
	uint64_t
		memsize; /* bytes, a multiple of 2 MiB (of 1 GiB for 1G pages) */
	unsigned mem_flags; /* -m ...: VM_MEMSEG_F_* */
	int pin[VM_MAXCPU]; /* -p: vCPU i's host CPU, or -1 */
	const char *kernel; /* -k FILE, without ",entry=..." */
	const char *kernel_entry; /* -k FILE,entry=E: "pvh" or "linux64" */
	char kernel_buf[4096]; /* FILE, when -k had an entry= suffix */
	const char *cmdline; /* -a */
	const char *initrd; /* -i: comma-separated files */
	const char *com1; /* -l com1,BACKEND as given */
	const char *gdb; /* -G, kept for the gdb stub */
	const char *script; /* -S: a Tcl script for the console */
	const char *trace; /* -T FILE[,SPEC]: record exits from the start */
	int cpu_model; /* -cpu: enum vm_cpu_model_id, or -1 (automatic) */
	bool console; /* --console: the Tcl prompt on the terminal */
	bool debug_exit; /* --debug-exit: the exit port at DEBUG_EXIT_PORT */
	bool no_hpet; /* --no-hpet: no HPET, no ACPI HPET table */
	int verbose; /* -v, repeatable */
	bool help; /* --help */
	bool version; /* --version */
};

/*
 * Parse argv.  Returns 0, or -EINVAL with a message in err naming the
 * option and what was expected.  Strings in *o point into argv.
 */
int options_parse(int argc, char **argv, struct vitro_options *o, char *err,
		  size_t errlen);

/*
 * A size: a number with an optional K, M, G or T suffix (KiB, MiB...; a
 * plain number means MiB, as bhyve and QEMU read it).  0 or -EINVAL.
 */
int options_parse_size(const char *s, uint64_t *out);

/* -c: N[,sockets=S][,cores=C][,threads=T], or cpus=N,... */
int options_parse_cpus(const char *s, unsigned *ncpus,
		       struct vm_cpu_topology *topo, char *err, size_t errlen);

/* The usage text for --help. */
extern const char options_usage[];

#endif
