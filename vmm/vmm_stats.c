/*
 * vmm_stats.c: VM_STATS and VM_STAT_DESC.
 *
 * A vCPU's counters are numbered: first its exits by exit code, then
 * vmm's own counters (enum vmm_stat), then KVM's scalar per-vCPU binary
 * statistics, whose descriptors are learnt once from the first vCPU (they
 * are the same for every vCPU of a KVM).  Counters are relaxed atomics and
 * KVM's are read with one pread, so statistics are readable at any time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/vmm_priv.h"

static const char *const vmm_stat_names[VMM_STAT_MAX] = {
	[VMM_STAT_EXITS] = "vmm.exits",
	[VMM_STAT_KVM_RUNS] = "vmm.kvm_runs",
	[VMM_STAT_KICKS] = "vmm.kicks",
	[VMM_STAT_EINTR] = "vmm.run_interrupted",
	[VMM_STAT_COMPLETIONS] = "vmm.stop_completions",
};

#define FIRST_VMM VM_EXITCODE_MAX
#define FIRST_KVM (FIRST_VMM + VMM_STAT_MAX)

/* Learn KVM's descriptors; vm->lock is held by the vCPU's creator. */
void vmm_stats_learn(struct vmm *vm, int fd)
{
	struct kvm_stats_header h;
	size_t dsize;
	char *descs;
	bool blocking = false, exits = false;
	int n = 0;

	if (vm->kvm_stat)
		return;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 4096 ||
	    h.name_size > 4096)
		return;
	dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsize * h.num_desc);
	vm->kvm_stat =
		calloc(h.num_desc ? h.num_desc : 1, sizeof(*vm->kvm_stat));
	if (!descs || !vm->kvm_stat ||
	    pread(fd, descs, dsize * h.num_desc, h.desc_offset) !=
		    (ssize_t)(dsize * h.num_desc)) {
		free(descs);
		free(vm->kvm_stat);
		vm->kvm_stat = NULL;
		return;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsize);
		uint32_t end = d->offset + 8;

		if (d->size != 1)
			continue; /* histograms: not exported (yet) */
		snprintf(vm->kvm_stat[n].name, VM_STAT_NAME_MAX, "kvm.%.*s",
			 (int)h.name_size, d->name);
		vm->kvm_stat[n].offset = d->offset;
		if (!strncmp(d->name, "blocking", h.name_size))
			vm->kvm_stat_blocking = d->offset, blocking = true;
		if (!strncmp(d->name, "exits", h.name_size))
			vm->kvm_stat_exits = d->offset, exits = true;
		if (end > vm->kvm_stat_data_size)
			vm->kvm_stat_data_size = end;
		n++;
	}
	vm->nkvm_stat = n;
	vm->kvm_stat_data_offset = h.data_offset;
	vm->kvm_stat_halt = blocking && exits;
	free(descs);
}

static int stat_count(struct vmm *vm)
{
	return FIRST_KVM + vm->nkvm_stat;
}

int vmm_stat_desc(struct vmm *vm, struct vm_stat_desc *d)
{
	int i = d->index;
	const char *name;
	char buf[VM_STAT_NAME_MAX];

	if (i < 0)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (i >= stat_count(vm)) {
		pthread_mutex_unlock(&vm->lock);
		return -ENOENT;
	}
	if (i < FIRST_VMM) {
		snprintf(buf, sizeof(buf), "exits.%s", vmm_exitcode_name(i));
		name = buf;
	} else if (i < FIRST_KVM) {
		name = vmm_stat_names[i - FIRST_VMM];
	} else {
		name = vm->kvm_stat[i - FIRST_KVM].name;
	}
	snprintf(d->desc, sizeof(d->desc), "%s", name);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int vmm_get_stats(struct vmm_vcpu *v, struct vm_stats *st)
{
	struct vmm *vm = v->vm;
	uint64_t *kvm = NULL;
	struct timespec ts;
	int total, n = 0;

	/* From a socket, maybe: keep index + VM_STATS_BATCH in range. */
	if (st->index < 0 || st->index > INT_MAX - VM_STATS_BATCH)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	total = stat_count(vm);
	if (vm->nkvm_stat && v->stats_fd >= 0 &&
	    st->index + VM_STATS_BATCH > FIRST_KVM) {
		kvm = calloc(1, vm->kvm_stat_data_size);
		if (kvm && pread(v->stats_fd, kvm, vm->kvm_stat_data_size,
				 vm->kvm_stat_data_offset) < 0) {
			free(kvm);
			kvm = NULL;
		}
	}
	for (int i = st->index; i < total && n < VM_STATS_BATCH; i++, n++) {
		uint64_t val = 0;

		if (i < FIRST_VMM)
			val = atomic_load_explicit(&v->exits[i],
						   memory_order_relaxed);
		else if (i < FIRST_KVM)
			val = atomic_load_explicit(&v->stat[i - FIRST_VMM],
						   memory_order_relaxed);
		else if (kvm)
			memcpy(&val,
			       (char *)kvm + vm->kvm_stat[i - FIRST_KVM].offset,
			       8);
		st->statbuf[n] = val;
	}
	pthread_mutex_unlock(&vm->lock);
	free(kvm);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	st->tv_usec = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
	st->num_entries = n;
	return 0;
}

bool vmm_stats_halt_candidate(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	uint64_t blocking, exits;
	bool quiet;

	if (!vm->kvm_stat_halt || v->stats_fd < 0 ||
	    pread(v->stats_fd, &blocking, 8,
		  vm->kvm_stat_data_offset + vm->kvm_stat_blocking) != 8 ||
	    pread(v->stats_fd, &exits, 8,
		  vm->kvm_stat_data_offset + vm->kvm_stat_exits) != 8)
		return true;
	/* A vCPU halted with interrupts off makes no exit while blocked. */
	quiet = blocking && exits == v->halt_exits_seen;
	v->halt_exits_seen = exits;
	return quiet;
}
