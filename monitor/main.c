/*
 * main.c: the vitro program - options, the VM's set-up in order, the event
 * loop, and the way out with the exit status of vitro.8.
 *
 * Set-up reads and checks everything the user gave (options, kernel,
 * modules, serial back end) before it creates the VM, so that bad input
 * ends with a message and status 4 without touching KVM.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked in every thread
 * and read from a signalfd in the event loop, where they end the VM
 * cleanly.  Fatal signals restore the terminal and re-raise; that handler
 * needs the one piece of file-static state below.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/console.h"
#include "monitor/cpumodel.h"
#include "monitor/ctl/ctl_server.h"
#include "monitor/debug/debug.h"
#include "monitor/gdb_server.h"
#include "monitor/memory.h"
#include "monitor/boot/acpi.h"
#include "monitor/boot/loader.h"
#include "monitor/boot/mptable.h"
#include "monitor/mevent.h"
#include "monitor/platform.h"
#include "monitor/trace.h"
#include "monitor/vitro.h"

#define VITRO_VERSION "0.1"
#define MAX_IMAGE (1ULL << 30)
#define HALT_CHECK_NS 250000000ULL /* stopped for 0.5 to 0.75 s */

/* For the fatal-signal handler and atexit: the terminal to restore. */
static const struct uart_backend *volatile restore_be;

static void restore_terminal(void)
{
	if (restore_be)
		uart_backend_restore_terminal(restore_be);
}

static void fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A whole file in memory, for the loader. */
struct blob {
	const char *path;
	uint8_t *data;
	size_t len;
};

static int read_file(const char *what, const char *path, struct blob *b,
		     char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t done = 0;
	int fd;

	b->path = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s '%s': %s", what, path,
			 strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s '%s': not a regular file", what,
			 path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > MAX_IMAGE) {
		snprintf(err, errlen, "%s '%s': %lld bytes is more than 1 GiB",
			 what, path, (long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	b->len = st.st_size;
	b->data = malloc(b->len ? b->len : 1);
	if (!b->data) {
		close(fd);
		snprintf(err, errlen, "%s '%s': out of memory", what, path);
		return -ENOMEM;
	}
	while (done < b->len &&
	       (n = read(fd, b->data + done, b->len - done)) > 0)
		done += n;
	close(fd);
	if (done != b->len) {
		snprintf(err, errlen, "%s '%s': short read", what, path);
		return -EIO;
	}
	return 0;
}

struct boot_files {
	struct blob kernel;
	struct blob mods[LOADER_MAX_MODULES];
	struct loader_module lmods[LOADER_MAX_MODULES];
	char *initrd_copy;
	unsigned nmods;
};

static int read_boot_files(const struct vitro_options *o, struct boot_files *bf,
			   char *err, size_t errlen)
{
	char *save, *tok;
	int r;

	if ((r = read_file("kernel", o->kernel, &bf->kernel, err, errlen)))
		return r;
	if (!o->initrd)
		return 0;
	bf->initrd_copy = strdup(o->initrd);
	if (!bf->initrd_copy)
		return -ENOMEM;
	for (tok = strtok_r(bf->initrd_copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (bf->nmods == LOADER_MAX_MODULES) {
			snprintf(err, errlen, "-i: more than %d modules",
				 LOADER_MAX_MODULES);
			return -E2BIG;
		}
		r = read_file("module", tok, &bf->mods[bf->nmods], err, errlen);
		if (r)
			return r;
		bf->lmods[bf->nmods] = (struct loader_module){
			.name = tok,
			.data = bf->mods[bf->nmods].data,
			.len = bf->mods[bf->nmods].len,
		};
		bf->nmods++;
	}
	return 0;
}

static void free_boot_files(struct boot_files *bf)
{
	free(bf->kernel.data);
	for (unsigned i = 0; i < bf->nmods; i++)
		free(bf->mods[i].data);
	free(bf->initrd_copy);
}

static void *map_guest(void *arg, uint64_t gpa, size_t len)
{
	return vm_map_gpa(arg, gpa, len);
}

static bool cpu_has_nx(void)
{
	unsigned a = 0x80000001, b = 0, c = 0, d = 0;

	__asm__("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d & (1u << 20);
}

/*
 * The firmware tables every guest gets: ACPI at ACPI_TABLES_ADDR (the HPET's
 * table too, but with --no-hpet), the MP table at MPTABLE_ADDR (left out,
 * with a notice, when an APIC ID does not fit its 8 bits).
 */
static int firmware_tables_write(struct vitro *vm, char *err, size_t errlen)
{
	struct acpi_config cfg;
	size_t used;
	void *p;
	int r;

	acpi_config_init(&cfg, &vm->opt.topo, vm->ncpus);
	if (!vm->opt.no_hpet) {
		uint64_t id;

		r = vm_hpet_read(vm->ctx, 0, 4, &id);
		if (r < 0) {
			snprintf(err, errlen, "HPET: %s", strerror(-r));
			return r;
		}
		cfg.hpet_base = HPET_BASE;
		cfg.hpet_id = (uint32_t)id;
	}
	p = vm_map_gpa(vm->ctx, ACPI_TABLES_ADDR, ACPI_TABLES_MAX);
	if (!p) {
		snprintf(err, errlen, "no guest memory at %#x for ACPI tables",
			 ACPI_TABLES_ADDR);
		return -EFAULT;
	}
	r = acpi_build(&cfg, ACPI_TABLES_ADDR, p, ACPI_TABLES_MAX, &used);
	if (r < 0) {
		snprintf(err, errlen, "ACPI tables: %s", strerror(-r));
		return r;
	}
	p = vm_map_gpa(vm->ctx, MPTABLE_ADDR, MPTABLE_MAX);
	if (!p) {
		snprintf(err, errlen, "no guest memory at %#x for the MP table",
			 MPTABLE_ADDR);
		return -EFAULT;
	}
	r = mptable_build(&cfg, MPTABLE_ADDR, p, MPTABLE_MAX, &used);
	if (r == -ERANGE)
		vitro_log("no MP table: APIC IDs above 254 (ACPI has them)");
	else if (r < 0) {
		snprintf(err, errlen, "MP table: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* The CPU model chosen for the VM, and what the guest will see of it. */
struct cpu_choice {
	enum vm_cpu_model_id model;
	struct vm_cpuid_mask hidden; /* hidden features the host has */
	bool filtered; /* the CPUID set reaches the guest (or unknown) */
};

static void log_hidden(const char *what, const struct vm_cpuid_mask *m)
{
	char line[1024] = "", buf[32];
	size_t n = 0;

	for (int w = 0; w < VM_CPUID_NWORDS; w++) {
		for (int b = 0; b < 32 && n < sizeof(line) - 40; b++) {
			if (m->w[w] & (1u << b))
				n += snprintf(line + n, sizeof(line) - n, " %s",
					      vm_cpuid_feature_name(
						      w, b, buf, sizeof(buf)));
		}
	}
	vitro_log("%s:%s", what, n ? line : " nothing");
}

/*
 * Choose the CPU model before the vCPUs exist: -cpu, or by the kind of
 * KVM (vm_cpuid_probe): conservative where KVM emulates guest kernel
 * code, host elsewhere.
 */
static int vm_choose_cpu(struct vitro *vm, struct cpu_choice *c, char *err,
			 size_t errlen)
{
	const struct vitro_options *o = &vm->opt;
	struct vm_cpuid_probe p;
	int r;

	r = vm_cpuid_probe(vm->ctx, &p);
	if (r < 0) {
		snprintf(err, errlen, "cannot probe the host's KVM: %s",
			 strerror(-r));
		return -1;
	}
	c->filtered = p.filtered != 0;
	if (o->cpu_model >= 0) {
		c->model = o->cpu_model;
	} else if (p.kvm == VM_KVM_EMULATED) {
		c->model = VM_CPU_MODEL_CONSERVATIVE;
		vitro_log("CPU model conservative: this KVM emulates guest "
			  "kernel code (kvm_pvm)%s; -cpu host overrides",
			  p.filtered == 0 ? " and shows the guest the host's "
					    "CPUID" :
					    "");
	} else {
		c->model = VM_CPU_MODEL_HOST;
		if (o->verbose)
			vitro_log("CPU model host: KVM runs guest kernel code "
				  "natively");
	}
	r = vm_set_cpu_model(vm->ctx, c->model, NULL, &c->hidden);
	if (r < 0) {
		snprintf(err, errlen, "cannot set CPU model %s: %s",
			 vm_cpu_model_name(c->model), strerror(-r));
		return -1;
	}
	if (o->verbose) {
		vitro_log(
			"CPU model %s on %s KVM; CPUID filtering %s the guest",
			vm_cpu_model_name(c->model), vm_kvm_kind_name(p.kvm),
			p.filtered == 1 ? "reaches" :
			p.filtered == 0 ? "does not reach" :
					  "(not measured) is taken to reach");
		log_hidden("CPU features hidden", &c->hidden);
	}
	return 0;
}

/*
 * A Linux guest that sees the host's CPUID whatever vitro sets is told on
 * its command line to leave the hidden features alone.  cmdline is the
 * user's; buf receives the one to load.  NULL and a message on error.
 */
static const char *linux_cmdline(const struct cpu_choice *c,
				 const char *cmdline, char *buf, size_t len,
				 char *err, size_t errlen)
{
	char added[512];
	unsigned dropped;
	int r;

	r = cpu_model_linux_cmdline(&c->hidden, c->filtered, cmdline, buf, len,
				    added, sizeof(added), &dropped);
	if (r < 0) {
		snprintf(err, errlen,
			 "the kernel command line is too long for the CPU "
			 "model's options");
		return NULL;
	}
	if (added[0])
		vitro_log("CPUID filtering does not reach the guest here: "
			  "Linux gets '%s'%s",
			  added,
			  dropped ? " (some features did not fit in "
				    "clearcpuid=)" :
				    "");
	return buf;
}

/* Create the VM and its vCPUs, and load the kernel into it. */
static int vm_build(struct vitro *vm, const struct loader_image *img,
		    struct boot_files *bf, char *err, size_t errlen)
{
	const struct vitro_options *o = &vm->opt;
	struct loader_params lp;
	struct loader_result res;
	char msg[LOADER_MSG_MAX];
	struct cpu_choice cpu;
	const char *cmdline = o->cmdline;
	char cmdline_buf[4096];
	int r;

	vm->ctx = vm_create(vm->name);
	if (!vm->ctx) {
		if (errno == EEXIST)
			snprintf(err, errlen,
				 "a VM named '%s' is already running",
				 vm->name);
		else
			snprintf(err, errlen, "cannot create VM '%s': %s%s",
				 vm->name, strerror(errno),
				 errno == ENOENT || errno == EACCES ?
					 " (is /dev/kvm there and yours?)" :
					 "");
		return -1;
	}
	r = vm_set_topology(vm->ctx, o->topo.sockets, o->topo.cores,
			    o->topo.threads, o->topo.maxcpus);
	if (r < 0) {
		snprintf(err, errlen, "cannot set the CPU topology: %s",
			 strerror(-r));
		return -1;
	}
	if (memory_setup(vm->ctx, o->memsize, o->mem_flags, o->verbose, err,
			 errlen) < 0)
		return -1;
	if (vm_choose_cpu(vm, &cpu, err, errlen) < 0)
		return -1;
	vm->vcpu = calloc(vm->ncpus, sizeof(*vm->vcpu));
	if (!vm->vcpu)
		return -1;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vitro_vcpu *vc = &vm->vcpu[i];

		vc->vm = vm;
		vc->id = i;
		vc->vcpu = vm_vcpu_open(vm->ctx, i);
		r = vc->vcpu ? vm_activate_cpu(vc->vcpu) : -errno;
		if (r < 0) {
			snprintf(err, errlen, "cannot create vCPU %u: %s", i,
				 strerror(-r));
			return -1;
		}
	}

	/* A Linux kernel may be told on its command line what it must not use. */
	if (loader_is_linux(img) &&
	    !(cmdline = linux_cmdline(&cpu, o->cmdline, cmdline_buf,
				      sizeof(cmdline_buf), err, errlen)))
		return -1;
	lp = (struct loader_params){
		.cmdline = cmdline,
		.modules = bf->lmods,
		.nmodules = bf->nmods,
		.lowmem_size = vm_get_lowmem_size(vm->ctx),
		.highmem_size = vm_get_highmem_size(vm->ctx),
		.nxe = cpu_has_nx(),
		.map = map_guest,
		.map_arg = vm->ctx,
	};
	if (loader_is_linux(img) && bf->nmods == 1) {
		/* -i FILE is a Linux kernel's initrd. */
		lp.initrd = bf->lmods[0].data;
		lp.initrd_len = bf->lmods[0].len;
		lp.initrd_name = bf->lmods[0].name;
		lp.nmodules = 0;
	}
	if (firmware_tables_write(vm, err, errlen) < 0)
		return -1;
	r = loader_place(img, &lp, &res, msg, sizeof(msg));
	if (r < 0) {
		snprintf(err, errlen, "kernel '%s': %s", o->kernel, msg);
		return -1;
	}
	r = vm_set_register_set(vm->vcpu[0].vcpu, res.nregs, res.regnums,
				res.regvals);
	if (r < 0) {
		snprintf(err, errlen,
			 "cannot set the boot vCPU's registers: %s",
			 strerror(-r));
		return -1;
	}
	if (o->verbose)
		vitro_log("%s", res.desc);
	return 0;
}

static void on_signal(struct mevent *ev, int fd, enum mevent_type type,
		      void *arg)
{
	vitro_take_signal(arg);
}

/* A vCPU thread waits for the host to take guest output, or stops. */
static void on_output_wait(void *arg, bool waiting)
{
	struct vitro *vm = arg;

	dbg_vcpu_set_state(vm->dbg, vitro_vcpu_self(),
			   waiting ? VM_DBG_CPU_OUTPUT : VM_DBG_CPU_EXIT);
}

/* KVM runs HLT in the kernel: ask now and then whether the guest stopped. */
static void on_halt_timer(struct mevent *ev, int fd, enum mevent_type type,
			  void *arg)
{
	struct vitro *vm = arg;

	vm_check_halt(vm->ctx);
}

static int signals_setup(struct vitro *vm, sigset_t *set)
{
	struct sigaction sa = { .sa_handler = fatal_signal };
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	int fd;

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0 || !mevent_add(vm->loop, fd, MEVENT_READ, on_signal, vm))
		return -1;
	vm->sig_fd = fd;
	return fd;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Peak resident memory of vitro and what of guest memory is resident. */
static void print_memory_figures(struct vitro *vm, double startup_ms)
{
	unsigned long long hwm = 0;
	size_t touched = 0, pages, low = vm_get_lowmem_size(vm->ctx);
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	uint8_t *mem = vm_map_gpa(vm->ctx, 0, low);

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "VmHWM: %llu", &hwm);
	if (f)
		fclose(f);
	pages = low / 4096;
	if (mem) {
		unsigned char vec[4096];

		for (size_t p = 0; p < pages; p += sizeof(vec)) {
			size_t n = pages - p < sizeof(vec) ? pages - p :
							     sizeof(vec);

			if (mincore(mem + p * 4096, n * 4096, vec) < 0)
				break;
			for (size_t i = 0; i < n; i++)
				touched += vec[i] & 1;
		}
	}
	vitro_log("figures: startup_cpu_ms=%.2f rss_peak_kib=%llu "
		  "guest_resident_kib=%zu",
		  startup_ms, hwm, touched * 4);
}

int main(int argc, char **argv)
{
	struct vitro vm = { .end_lock = PTHREAD_MUTEX_INITIALIZER,
			    .sig_fd = -1 };
	struct gdb_server_config gcfg;
	bool gdb_ok = false, gdb_hold = false;
	struct boot_files bf = { 0 };
	struct loader_image img = { 0 };
	enum loader_entry entry;
	bool self_dec;
	char err[512], msg[LOADER_MSG_MAX];
	double startup_ms = 0;
	sigset_t sigs;
	bool ctl_fatal;
	int r, status = VITRO_EXIT_ERROR;

	if (options_parse(argc, argv, &vm.opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "vitro: %s\n", err);
		return VITRO_EXIT_ERROR;
	}
	if (vm.opt.help) {
		fputs(options_usage, stdout);
		return 0;
	}
	if (vm.opt.version) {
		printf("vitro %s\n", VITRO_VERSION);
		return 0;
	}
	vm.ncpus = vm.opt.ncpus;
	snprintf(vm.name, sizeof(vm.name), "%s",
		 vm.opt.name ? vm.opt.name : "");
	if (!vm.opt.name)
		snprintf(vm.name, sizeof(vm.name), "vitro-%d", (int)getpid());
	else if (strlen(vm.opt.name) >= VM_NAME_MAX) {
		fprintf(stderr, "vitro: VM name '%s' is longer than %d bytes\n",
			vm.opt.name, VM_NAME_MAX - 1);
		return VITRO_EXIT_ERROR;
	} else if (!vm_name_valid(vm.opt.name)) {
		/* It names a file in the runtime directory, and nothing else. */
		fprintf(stderr,
			"vitro: VM name '%s': expected printable characters "
			"other than '/' and spaces, not starting with '.'\n",
			vm.opt.name);
		return VITRO_EXIT_ERROR;
	}

	/* Check all the user gave before creating anything. */
	if (uart_backend_parse(vm.opt.com1, &vm.com1_cfg, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "vitro: -l %s: %s\n", vm.opt.com1, err);
		return VITRO_EXIT_ERROR;
	}
	/* A bad -G costs the debugger, not the VM (vitro.8). */
	if (vm.opt.gdb) {
		if (gdb_server_parse(vm.opt.gdb, &gcfg, err, sizeof(err)) < 0)
			vitro_log("-G %s; going on without a debugger", err);
		else
			gdb_ok = true;
	}
	if (vm.opt.script &&
	    console_script_check(vm.opt.script, err, sizeof(err)) < 0) {
		fprintf(stderr, "vitro: -S %s\n", err);
		return VITRO_EXIT_ERROR;
	}
	if (vitro_pins_check(&vm.opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "vitro: %s\n", err);
		return VITRO_EXIT_ERROR;
	}
	if (vm.opt.console && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "vitro: --console needs a terminal on stdin\n");
		return VITRO_EXIT_ERROR;
	}
	if (read_boot_files(&vm.opt, &bf, err, sizeof(err)) < 0) {
		fprintf(stderr, "vitro: %s\n", err);
		goto out_files;
	}
	if (loader_parse(bf.kernel.data, bf.kernel.len, &img, msg,
			 sizeof(msg)) < 0) {
		fprintf(stderr, "vitro: kernel '%s': %s\n", vm.opt.kernel, msg);
		goto out_files;
	}
	if (vm.opt.kernel_entry &&
	    (loader_entry_parse(vm.opt.kernel_entry, &entry, &self_dec) < 0 ||
	     (self_dec ?
		      loader_set_self_decompress(&img, msg, sizeof(msg)) :
		      loader_set_entry(&img, entry, msg, sizeof(msg))) < 0)) {
		fprintf(stderr, "vitro: kernel '%s': %s\n", vm.opt.kernel, msg);
		goto out_img;
	}
	if (loader_is_linux(&img) && bf.nmods > 1) {
		fprintf(stderr,
			"vitro: -i: a Linux kernel takes one initrd, not %u "
			"files\n",
			bf.nmods);
		goto out_img;
	}

	r = vm_build(&vm, &img, &bf, err, sizeof(err));
	loader_image_free(&img); /* a bzImage's kernel is in the guest now */
	if (r < 0) {
		fprintf(stderr, "vitro: %s\n", err);
		goto out_vm;
	}
	/* Always there, with or without -G; -G w and -S hold every vCPU. */
	gdb_hold = gdb_ok && gcfg.wait;
	vm.dbg = dbg_create(&vm, gdb_hold || vm.opt.script);
	if (!vm.dbg) {
		fprintf(stderr, "vitro: cannot create the debug core: %s\n",
			strerror(errno));
		goto out_vm;
	}
	vm.pio = region_map_create("pio");
	vm.mmio = region_map_create("mmio");
	vm.loop = mevent_create();
	if (!vm.pio || !vm.mmio || !vm.loop) {
		fprintf(stderr, "vitro: out of memory\n");
		goto out_vm;
	}
	if (signals_setup(&vm, &sigs) < 0) {
		fprintf(stderr, "vitro: cannot watch signals: %s\n",
			strerror(errno));
		goto out_vm;
	}
	if (!mevent_add_timer(vm.loop, HALT_CHECK_NS, HALT_CHECK_NS,
			      on_halt_timer, &vm)) {
		fprintf(stderr, "vitro: cannot start a timer: %s\n",
			strerror(errno));
		goto out_vm;
	}
	atexit(restore_terminal);
	if (vitro_devices_init(&vm, err, sizeof(err)) < 0) {
		fprintf(stderr, "vitro: %s\n", err);
		goto out_devices;
	}
	restore_be = vm.com1_be;
	if (vm.com1_be)
		uart_backend_set_wait_hook(vm.com1_be, on_output_wait, &vm);
	if (gdb_ok &&
	    !(vm.gdb = gdb_server_start(&vm, &gcfg, err, sizeof(err)))) {
		vitro_log("gdb: %s; going on without a debugger", err);
		/* Nobody would ever resume a guest held for gdb. */
		gdb_hold = false;
		if (gcfg.wait && !vm.opt.script)
			dbg_resume(vm.dbg, -1, -1);
	}
	/* Like -G, a control socket that cannot be served costs only itself. */
	vm.ctl = ctl_server_start(&vm, &ctl_fatal, err, sizeof(err));
	if (!vm.ctl && ctl_fatal) {
		fprintf(stderr, "vitro: %s\n", err);
		goto out_devices;
	}
	if (err[0])
		vitro_log("control socket: %s; going on without one", err);
	/* The Tcl console: for gdb's monitor always, -S and --console. */
	vm.console = console_create(&vm, gdb_hold, err, sizeof(err));
	vm.console_eval = console_eval;
	if (!vm.console && (vm.opt.script || vm.opt.console)) {
		fprintf(stderr, "vitro: %s\n", err);
		goto out_devices;
	}
	if (!vm.console)
		vitro_log("%s; gdb's monitor has only its built-in commands",
			  err);

	/* -T records from the guest's first instruction. */
	if (!(vm.trace = trace_create(&vm, err, sizeof(err)))) {
		fprintf(stderr, "vitro: %s\n", err);
		goto out_devices;
	}

	startup_ms = cpu_ms();
	if ((r = vitro_vcpus_start(&vm)) < 0) {
		vitro_end(&vm, VITRO_EXIT_ERROR,
			  "cannot start vCPU threads: %s", strerror(-r));
	}
	r = mevent_run(vm.loop);
	if (r < 0)
		vitro_end(&vm, VITRO_EXIT_ERROR, "event loop: %s",
			  strerror(-r));
	vitro_vcpus_join(&vm);
	status = vm.status;
	gdb_server_vm_ended(vm.gdb, status);
out_devices:
	trace_destroy(vm.trace);
	vm.trace = NULL;
	console_destroy(vm.console);
	vm.console = NULL;
	ctl_server_stop(vm.ctl);
	vm.ctl = NULL;
	gdb_server_stop(vm.gdb);
	vm.gdb = NULL;
	restore_be = NULL;
	vitro_devices_fini(&vm);
	if (vm.end_msg[0])
		fprintf(stderr, "vitro: %s\n", vm.end_msg);
	if (vm.opt.verbose && vm.ctx)
		print_memory_figures(&vm, startup_ms);
out_vm:
	dbg_destroy(vm.dbg);
	vm.dbg = NULL;
	if (vm.loop)
		mevent_destroy(vm.loop);
	if (vm.pio)
		region_map_destroy(vm.pio);
	if (vm.mmio)
		region_map_destroy(vm.mmio);
	for (unsigned i = 0; vm.vcpu && i < vm.ncpus; i++)
		vm_vcpu_close(vm.vcpu[i].vcpu);
	free(vm.vcpu);
	vm_destroy(vm.ctx);
out_img:
	loader_image_free(&img);
out_files:
	free_boot_files(&bf);
	return status;
}
