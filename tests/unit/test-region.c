/*
 * test-region.c: the named region map: registration, overlap refusal,
 * dispatch and its arguments, the per-vCPU cache and its invalidation,
 * iteration order, hit counts, and dispatch racing registration.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "monitor/region.h"
#include "tests/tap.h"

struct dev {
	int calls; /* handler calls */
	int vcpuid; /* arguments of the last call */
	bool write;
	uint64_t addr;
	unsigned size;
	uint64_t wval; /* last value written */
	uint64_t rval; /* what reads return */
	int ret; /* what the handler returns */
};

static int dev_access(void *arg, int vcpuid, bool write, uint64_t addr,
		      unsigned size, uint64_t *val)
{
	struct dev *d = arg;

	d->calls++;
	d->vcpuid = vcpuid;
	d->write = write;
	d->addr = addr;
	d->size = size;
	if (write)
		d->wval = *val;
	else
		*val = d->rval;
	return d->ret;
}

static void test_register(void)
{
	struct region_map *m = region_map_create("pio");
	struct dev a = { 0 };
	char longname[REGION_NAME_MAX + 1];

	ok(m != NULL, "map created");
	is_str(region_map_name(m), "pio", "map name");
	is_int(region_register(m, "com1", 0x3f8, 8, dev_access, &a), 0,
	       "register com1 at 0x3f8-0x3ff");
	is_int(region_register(m, "overlap-start", 0x3f8, 1, dev_access, &a),
	       -EEXIST, "same base refused");
	is_int(region_register(m, "overlap-inside", 0x3fc, 2, dev_access, &a),
	       -EEXIST, "range inside refused");
	is_int(region_register(m, "overlap-below", 0x3f0, 9, dev_access, &a),
	       -EEXIST, "range reaching into it from below refused");
	is_int(region_register(m, "overlap-above", 0x3ff, 4, dev_access, &a),
	       -EEXIST, "range starting on its last port refused");
	is_int(region_register(m, "covering", 0x300, 0x200, dev_access, &a),
	       -EEXIST, "covering range refused");
	is_int(region_register(m, "below", 0x3f0, 8, dev_access, &a), 0,
	       "adjacent below accepted");
	is_int(region_register(m, "above", 0x400, 1, dev_access, &a), 0,
	       "adjacent above accepted");
	is_int(region_register(m, "empty", 0x500, 0, dev_access, &a), -EINVAL,
	       "zero length refused");
	is_int(region_register(m, "wrap", UINT64_MAX, 2, dev_access, &a),
	       -EINVAL, "wrapping range refused");
	is_int(region_register(m, "top", UINT64_MAX - 15, 16, dev_access, &a),
	       0, "range ending at the top of the space accepted");
	is_int(region_register(m, "nofn", 0x600, 1, NULL, &a), -EINVAL,
	       "NULL handler refused");
	is_int(region_register(m, "", 0x600, 1, dev_access, &a), -EINVAL,
	       "empty name refused");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(region_register(m, longname, 0x600, 1, dev_access, &a),
	       -ENAMETOOLONG, "over-long name refused");
	is_int(region_count(m), 4, "four regions registered");
	is_int(region_unregister(m, 0x3f9), -ENOENT,
	       "unregister needs the exact base");
	is_int(region_unregister(m, 0x3f0), 0, "unregister below");
	is_int(region_unregister(m, 0x3f0), -ENOENT, "unregister twice");
	is_int(region_register(m, "below2", 0x3f0, 8, dev_access, &a), 0,
	       "range free again after unregister");
	region_map_destroy(m);
}

static void test_dispatch(void)
{
	struct region_map *m = region_map_create("mmio");
	struct dev a = { .rval = 0x1234 }, b = { .rval = 0xabcd, .ret = -EIO };
	uint64_t v;

	region_register(m, "a", 0x1000, 0x100, dev_access, &a);
	region_register(m, "b", 0x2000, 0x10, dev_access, &b);

	v = 0;
	is_int(region_dispatch(m, NULL, 1, false, 0x1010, 4, &v), 0,
	       "read dispatched to a");
	is_hex(v, 0x1234, "read value from a's handler");
	ok(a.calls == 1 && a.vcpuid == 1 && !a.write && a.addr == 0x1010 &&
		   a.size == 4,
	   "a got vcpuid 1, read, absolute addr 0x1010, size 4");
	v = 0x55;
	is_int(region_dispatch(m, NULL, 0, true, 0x200f, 1, &v), -EIO,
	       "b's error returned");
	ok(b.calls == 1 && b.write && b.wval == 0x55 && b.addr == 0x200f &&
		   b.vcpuid == 0 && b.size == 1,
	   "b got the write of 0x55 at 0x200f");
	v = 0x77;
	is_int(region_dispatch(m, NULL, 0, false, 0x2010, 1, &v), -ENOENT,
	       "just past b: unclaimed");
	is_hex(v, 0x77, "unclaimed read leaves *val alone");
	is_int(region_dispatch(m, NULL, 0, false, 0xfff, 1, &v), -ENOENT,
	       "just below a: unclaimed");
	is_int(region_dispatch(m, NULL, 0, false, 0, 1, &v), -ENOENT,
	       "address 0: unclaimed");
	is_int(region_dispatch(m, NULL, 0, false, UINT64_MAX, 1, &v), -ENOENT,
	       "top address: unclaimed");
	is_int(region_dispatch(m, NULL, 0, false, 0x10ff, 1, &v), 0,
	       "last byte of a claimed");
	is_int(a.calls, 2, "a called twice");
	region_map_destroy(m);
}

/* A handler that counts calls in *arg (an int), if arg is not NULL. */
static int null_access(void *arg, int vcpuid, bool write, uint64_t addr,
		       unsigned size, uint64_t *val)
{
	if (arg != NULL)
		++*(int *)arg;
	return 0;
}

static void test_cache(void)
{
	struct region_map *m = region_map_create("pio");
	struct region_cache c = { 0 };
	struct dev a = { .rval = 1 }, b = { .rval = 2 };
	struct region_info info;
	int count_calls = 0;
	uint64_t v;

	region_register(m, "a", 0x10, 4, dev_access, &a);
	region_register(m, "b", 0x20, 4, dev_access, &b);

	is_int(region_dispatch(m, &c, 0, false, 0x11, 1, &v), 0,
	       "first access through the cache");
	ok(c.region != NULL, "cache filled");
	is_hex(v, 1, "a answered");
	region_dispatch(m, &c, 0, false, 0x12, 1, &v);
	ok(a.calls == 2 && a.addr == 0x12, "cache hit goes to a, addr 0x12");
	region_dispatch(m, &c, 0, false, 0x21, 1, &v);
	is_hex(v, 2, "miss outside the cached region reaches b");
	is_int(b.calls, 1, "b called once");

	/* Unregister b: the cached pointer must not be used again. */
	is_int(region_unregister(m, 0x20), 0, "unregister b while cached");
	v = 0x99;
	is_int(region_dispatch(m, &c, 0, false, 0x21, 1, &v), -ENOENT,
	       "cached region gone: -ENOENT");
	is_int(b.calls, 1, "b not called after unregister");
	ok(c.region == NULL, "cache emptied by the miss");

	/* A new region at the same place is found after a cache hit. */
	region_dispatch(m, &c, 0, false, 0x10, 1, &v);
	region_register(m, "b2", 0x20, 4, null_access, &count_calls);
	count_calls = 0;
	is_int(region_dispatch(m, &c, 0, false, 0x22, 1, &v), 0,
	       "region registered after caching is found");
	is_int(count_calls, 1, "its handler ran");

	/* Stale gen on a still-registered region: revalidated, same one. */
	region_dispatch(m, &c, 0, false, 0x10, 1, &v);
	region_register(m, "c", 0x30, 4, null_access, NULL);
	a.calls = 0;
	region_dispatch(m, &c, 0, false, 0x10, 1, &v);
	is_int(a.calls, 1, "revalidated cache still reaches a");

	/* Unregister the cached region and put another handler there. */
	region_unregister(m, 0x10);
	region_register(m, "a2", 0x10, 4, null_access, &count_calls);
	count_calls = 0;
	a.calls = 0;
	region_dispatch(m, &c, 0, false, 0x10, 1, &v);
	ok(a.calls == 0 && count_calls == 1,
	   "replaced region: the new handler runs, the old does not");

	/* The cache keeps the old region alive across map destruction. */
	region_map_destroy(m);
	region_cache_release(&c);
	ok(c.region == NULL && c.gen == 0, "cache released");

	/* A cache used with two maps never confuses them. */
	{
		struct region_map *m1 = region_map_create("m1");
		struct region_map *m2 = region_map_create("m2");
		struct region_cache c2 = { 0 };
		struct dev d1 = { .rval = 1 }, d2 = { .rval = 2 };

		region_register(m1, "d1", 0x100, 0x10, dev_access, &d1);
		region_register(m2, "d2", 0x100, 0x10, dev_access, &d2);
		region_dispatch(m1, &c2, 0, false, 0x100, 1, &v);
		region_dispatch(m2, &c2, 0, false, 0x100, 1, &v);
		ok(d1.calls == 1 && d2.calls == 1 && v == 2,
		   "same cache, two maps: each map's own region");
		region_cache_release(&c2);
		is_int(region_lookup(m2, 0x10f, &info), 0, "lookup in m2");
		is_str(info.name, "d2", "lookup names d2");
		region_map_destroy(m1);
		region_map_destroy(m2);
	}
}

/* A handler that moves its own region, as a PCI BAR write would. */
struct mover {
	struct region_map *map;
	uint64_t base;
	int ret;
};

static int mover_access(void *arg, int vcpuid, bool write, uint64_t addr,
			unsigned size, uint64_t *val)
{
	struct mover *mv = arg;

	mv->ret = region_unregister(mv->map, mv->base);
	if (mv->ret == 0)
		mv->ret = region_register(mv->map, "mover", mv->base + 0x100,
					  0x10, mover_access, mv);
	if (mv->ret == 0)
		mv->base += 0x100;
	return 0;
}

static void test_reentrant(void)
{
	struct region_map *m = region_map_create("pio");
	struct region_cache c = { 0 };
	struct mover mv = { .map = m, .base = 0x1000 };
	struct region_info info;
	uint64_t v = 0;

	region_register(m, "mover", 0x1000, 0x10, mover_access, &mv);
	is_int(region_dispatch(m, &c, 0, true, 0x1004, 1, &v), 0,
	       "a handler re-registering its own region does not deadlock");
	is_int(mv.ret, 0, "its unregister and register succeeded");
	is_int(region_lookup(m, 0x1104, &info), 0, "region moved to 0x1100");
	is_int(info.hits, 0, "the new registration starts with no hits");
	is_int(region_dispatch(m, &c, 0, true, 0x1004, 1, &v), -ENOENT,
	       "old place unclaimed, stale cache not used");
	is_int(region_dispatch(m, NULL, 0, true, 0x1100, 1, &v), 0,
	       "uncached dispatch, moving again");
	is_int(region_lookup(m, 0x1200, &info), 0, "region moved to 0x1200");
	region_cache_release(&c);
	region_map_destroy(m);
}

struct listing {
	int n;
	char names[8][REGION_NAME_MAX];
	uint64_t bases[8];
	uint64_t hits[8];
};

static int list_one(void *arg, const struct region_info *info)
{
	struct listing *l = arg;

	if (l->n < 8) {
		strcpy(l->names[l->n], info->name);
		l->bases[l->n] = info->base;
		l->hits[l->n] = info->hits;
	}
	l->n++;
	return 0;
}

static int stop_at_two(void *arg, const struct region_info *info)
{
	int *n = arg;

	return ++*n == 2 ? 42 : 0;
}

static void test_iterate(void)
{
	struct region_map *m = region_map_create("pio");
	struct region_cache c = { 0 };
	struct listing l = { 0 };
	struct region_info info;
	uint64_t v;
	int i, n = 0;

	region_register(m, "pic2", 0xa0, 2, null_access, NULL);
	region_register(m, "com1", 0x3f8, 8, null_access, NULL);
	region_register(m, "exit", 0xf4, 1, null_access, NULL);
	region_register(m, "pic1", 0x20, 2, null_access, NULL);

	for (i = 0; i < 5; i++)
		region_dispatch(m, &c, 0, true, 0x3f8 + i, 1, &v);
	region_dispatch(m, NULL, 1, false, 0xf4, 1, &v);
	region_dispatch(m, &c, 0, false, 0xa1, 1, &v);
	region_dispatch(m, &c, 0, false, 0xa0, 1, &v);

	is_int(region_foreach(m, list_one, &l), 0, "foreach returns 0");
	is_int(l.n, 4, "four regions listed");
	ok(l.bases[0] == 0x20 && l.bases[1] == 0xa0 && l.bases[2] == 0xf4 &&
		   l.bases[3] == 0x3f8,
	   "listed in address order");
	ok(strcmp(l.names[0], "pic1") == 0 && strcmp(l.names[3], "com1") == 0,
	   "with their names");
	ok(l.hits[0] == 0 && l.hits[1] == 2 && l.hits[2] == 1 && l.hits[3] == 5,
	   "hit counts 0, 2, 1, 5 (cached and uncached hits both count)");
	is_int(region_foreach(m, stop_at_two, &n), 42,
	       "foreach stops at a non-zero return");
	is_int(n, 2, "after the second region");
	is_int(region_find(m, "exit", &info), 0, "find by name");
	ok(info.base == 0xf4 && info.len == 1 && info.hits == 1,
	   "found exit at 0xf4, 1 port, 1 hit");
	is_int(region_find(m, "nope", &info), -ENOENT, "unknown name");
	is_int(region_lookup(m, 0x3fd, &info), 0, "lookup by address");
	is_str(info.name, "com1", "0x3fd is com1");
	is_int(region_lookup(m, 0x3f7, &info), -ENOENT, "0x3f7 is nobody's");
	region_cache_release(&c);
	region_map_destroy(m);
}

/* Dispatch on two threads while a third registers and unregisters. */

#define RACE_SLOTS 8

struct race {
	struct region_map *map;
	atomic_bool stop;
	atomic_long calls[RACE_SLOTS]; /* per slot */
	atomic_long wrong; /* a handler saw an address not its own */
	atomic_long dispatched, unclaimed;
};

struct slot_arg {
	struct race *race;
	int slot;
};

static int race_access(void *arg, int vcpuid, bool write, uint64_t addr,
		       unsigned size, uint64_t *val)
{
	struct slot_arg *s = arg;

	if (addr / 0x10 != (uint64_t)s->slot)
		atomic_fetch_add(&s->race->wrong, 1);
	atomic_fetch_add(&s->race->calls[s->slot], 1);
	*val = s->slot;
	return 0;
}

static void *race_vcpu(void *arg)
{
	struct race *r = arg;
	struct region_cache c = { 0 };
	uint64_t v, i = 0;
	int ret;

	while (!atomic_load(&r->stop)) {
		/* Runs of accesses to one slot, so the cache gets hits. */
		uint64_t addr = ((i / 16) % RACE_SLOTS) * 0x10 + (i % 16);

		ret = region_dispatch(r->map, &c, 0, false, addr, 1, &v);
		if (ret == 0) {
			atomic_fetch_add(&r->dispatched, 1);
			if (v != addr / 0x10)
				atomic_fetch_add(&r->wrong, 1);
		} else {
			atomic_fetch_add(&r->unclaimed, 1);
		}
		i++;
	}
	region_cache_release(&c);
	return NULL;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void test_race(void)
{
	struct race r = { 0 };
	struct slot_arg slots[RACE_SLOTS];
	pthread_t t[2];
	struct timespec start;
	long dispatched0;
	char name[16];
	int i, iter, errors = 0;
	time_t t0;

	r.map = region_map_create("race");
	atomic_init(&r.stop, false);
	for (i = 0; i < RACE_SLOTS; i++) {
		slots[i].race = &r;
		slots[i].slot = i;
		snprintf(name, sizeof(name), "slot%d", i);
		region_register(r.map, name, i * 0x10, 0x10, race_access,
				&slots[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race_vcpu, &r);
	/* Overlap for real: start once both threads dispatch, and go on
	 * for at least 200 ms. */
	t0 = time(NULL);
	while (atomic_load(&r.dispatched) < 1000 && time(NULL) - t0 < 10)
		sched_yield();
	dispatched0 = atomic_load(&r.dispatched);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (iter = 0; iter < 20000 || elapsed_ms(&start) < 200; iter++) {
		i = iter % RACE_SLOTS;
		if (region_unregister(r.map, i * 0x10) != 0)
			errors++;
		snprintf(name, sizeof(name), "slot%d", i);
		if (region_register(r.map, name, i * 0x10, 0x10, race_access,
				    &slots[i]) != 0)
			errors++;
	}
	atomic_store(&r.stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	is_int(errors, 0, "%d unregister/register pairs all succeeded", iter);
	is_int(atomic_load(&r.wrong), 0,
	       "no access reached another slot's handler");
	ok(atomic_load(&r.dispatched) > dispatched0,
	   "accesses dispatched while registering (%ld)",
	   atomic_load(&r.dispatched) - dispatched0);
	tap_diag("%ld dispatched, %ld unclaimed during re-registration",
		 atomic_load(&r.dispatched), atomic_load(&r.unclaimed));
	is_int(region_count(r.map), RACE_SLOTS, "all slots registered at end");
	region_map_destroy(r.map);
}

int main(void)
{
	test_register();
	test_dispatch();
	test_cache();
	test_reentrant();
	test_iterate();
	test_race();
	return tap_done();
}
