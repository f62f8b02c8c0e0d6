/*
 * region.c: named port-I/O and MMIO regions (see region.h for the
 * interface and its threading rules).
 *
 * A map is a sorted array of region pointers searched by binary search,
 * guarded by a read-write lock that is held only for lookups and changes,
 * never across a handler call.  map->gen changes (under the write lock)
 * with every registration change; a region_cache is valid while its gen
 * equals the map's, so the hot path is one atomic load and a range check.
 *
 * Regions are reference-counted: the map holds one reference while the
 * region is registered, a cache holds one on the region it remembers, and
 * an uncached dispatch holds one around the handler call.  The last
 * reference frees the region, so an unregistered region that a vCPU is
 * still using stays valid memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/region.h"

struct region {
	atomic_uint refs; /* map + caches + in-flight uncached dispatches */
	_Atomic uint64_t hits; /* accesses dispatched to the handler */
	uint64_t base; /* first address */
	uint64_t len; /* bytes; base + len - 1 does not wrap */
	region_fn *fn; /* the handler */
	void *arg; /* its argument */
	char name[REGION_NAME_MAX];
};

struct region_map {
	pthread_rwlock_t lock; /* guards tab, n, cap */
	_Atomic uint64_t gen; /* changes with every (un)registration */
	struct region **tab; /* sorted by base, no overlaps */
	unsigned n; /* regions in tab */
	unsigned cap; /* slots in tab */
	char name[16]; /* "pio", "mmio" */
};

static void region_get(struct region *r)
{
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

static void region_put(struct region *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		free(r);
}

static bool region_contains(const struct region *r, uint64_t addr)
{
	return addr >= r->base && addr - r->base < r->len;
}

struct region_map *region_map_create(const char *name)
{
	struct region_map *map;
	struct timespec ts;
	uint64_t seed;

	map = calloc(1, sizeof(*map));
	if (map == NULL)
		return NULL;
	if (pthread_rwlock_init(&map->lock, NULL) != 0) {
		free(map);
		errno = ENOMEM;
		return NULL;
	}
	/*
	 * Start the generation somewhere unpredictable, so that a stale cache
	 * from a destroyed map at the same address cannot match by chance;
	 * never 0, which an empty cache has.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	atomic_init(&map->gen, seed | 1);
	strncpy(map->name, name ? name : "", sizeof(map->name) - 1);
	return map;
}

void region_map_destroy(struct region_map *map)
{
	unsigned i;

	if (map == NULL)
		return;
	for (i = 0; i < map->n; i++)
		region_put(map->tab[i]);
	free(map->tab);
	pthread_rwlock_destroy(&map->lock);
	free(map);
}

const char *region_map_name(const struct region_map *map)
{
	return map->name;
}

/* The number of regions whose base is below addr. */
static unsigned lower_bound(const struct region_map *map, uint64_t addr)
{
	unsigned lo = 0, hi = map->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (map->tab[mid]->base < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The region containing addr, or NULL; under the lock. */
static struct region *find(const struct region_map *map, uint64_t addr)
{
	unsigned lo = 0, hi = map->n, mid;

	/* The last region with base <= addr is the only candidate. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (map->tab[mid]->base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !region_contains(map->tab[lo - 1], addr))
		return NULL;
	return map->tab[lo - 1];
}

int region_register(struct region_map *map, const char *name, uint64_t base,
		    uint64_t len, region_fn *fn, void *arg)
{
	struct region *r, **tab;
	unsigned i, cap;
	size_t nlen;

	if (map == NULL || name == NULL || fn == NULL || len == 0 ||
	    len - 1 > UINT64_MAX - base)
		return -EINVAL;
	nlen = strlen(name);
	if (nlen == 0)
		return -EINVAL;
	if (nlen >= REGION_NAME_MAX)
		return -ENAMETOOLONG;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	atomic_init(&r->refs, 1);
	atomic_init(&r->hits, 0);
	r->base = base;
	r->len = len;
	r->fn = fn;
	r->arg = arg;
	memcpy(r->name, name, nlen + 1);

	pthread_rwlock_wrlock(&map->lock);
	i = lower_bound(map, base);
	if ((i > 0 && region_contains(map->tab[i - 1], base)) ||
	    (i < map->n && map->tab[i]->base - base < len)) {
		pthread_rwlock_unlock(&map->lock);
		free(r);
		return -EEXIST;
	}
	if (map->n == map->cap) {
		cap = map->cap ? map->cap * 2 : 16;
		tab = realloc(map->tab, cap * sizeof(*tab));
		if (tab == NULL) {
			pthread_rwlock_unlock(&map->lock);
			free(r);
			return -ENOMEM;
		}
		map->tab = tab;
		map->cap = cap;
	}
	memmove(&map->tab[i + 1], &map->tab[i],
		(map->n - i) * sizeof(*map->tab));
	map->tab[i] = r;
	map->n++;
	atomic_fetch_add_explicit(&map->gen, 2, memory_order_release);
	pthread_rwlock_unlock(&map->lock);
	return 0;
}

int region_unregister(struct region_map *map, uint64_t base)
{
	struct region *r;
	unsigned i;

	if (map == NULL)
		return -EINVAL;
	pthread_rwlock_wrlock(&map->lock);
	i = lower_bound(map, base);
	if (i == map->n || map->tab[i]->base != base) {
		pthread_rwlock_unlock(&map->lock);
		return -ENOENT;
	}
	r = map->tab[i];
	memmove(&map->tab[i], &map->tab[i + 1],
		(map->n - i - 1) * sizeof(*map->tab));
	map->n--;
	atomic_fetch_add_explicit(&map->gen, 2, memory_order_release);
	pthread_rwlock_unlock(&map->lock);
	region_put(r);
	return 0;
}

void region_cache_release(struct region_cache *cache)
{
	if (cache == NULL)
		return;
	if (cache->region != NULL)
		region_put(cache->region);
	cache->region = NULL;
	cache->map = NULL;
	cache->gen = 0;
}

/* region_dispatch() past the vCPU's cache: look the address up. */
static __attribute__((noinline)) int
dispatch_lookup(struct region_map *map, struct region_cache *cache, int vcpuid,
		bool write, uint64_t addr, unsigned size, uint64_t *val)
{
	struct region *r, *old;
	uint64_t gen;
	int ret;

	pthread_rwlock_rdlock(&map->lock);
	r = find(map, addr);
	if (r != NULL)
		region_get(r);
	gen = atomic_load_explicit(&map->gen, memory_order_relaxed);
	pthread_rwlock_unlock(&map->lock);
	if (cache == NULL) {
		if (r == NULL)
			return -ENOENT;
		atomic_fetch_add_explicit(&r->hits, 1, memory_order_relaxed);
		ret = r->fn(r->arg, vcpuid, write, addr, size, val);
		region_put(r);
		return ret;
	}
	if (cache->map != map || cache->gen != gen) {
		/* A new generation: forget what was cached. */
		old = cache->region;
		cache->region = NULL;
		cache->has_miss = false;
		cache->map = map;
		cache->gen = gen;
		if (old != NULL)
			region_put(old);
	}
	if (r == NULL) {
		cache->miss = addr;
		cache->has_miss = true;
		return -ENOENT;
	}
	old = cache->region;
	cache->region = r;
	if (old != NULL)
		region_put(old);
	/* The cache's reference keeps r alive during the call. */
	atomic_fetch_add_explicit(&r->hits, 1, memory_order_relaxed);
	return r->fn(r->arg, vcpuid, write, addr, size, val);
}

/*
 * The vCPU's cache answers most accesses without the lock: the region of
 * the last access, or the last address nobody claimed (a guest's writes
 * to port 0x80).  Kept small: it runs on every exit.
 */
int region_dispatch(struct region_map *map, struct region_cache *cache,
		    int vcpuid, bool write, uint64_t addr, unsigned size,
		    uint64_t *val)
{
	if (cache != NULL && cache->map == map &&
	    cache->gen ==
		    atomic_load_explicit(&map->gen, memory_order_acquire)) {
		struct region *r = cache->region;

		if (r != NULL && region_contains(r, addr)) {
			/* The cache's reference keeps r alive during the call. */
			atomic_fetch_add_explicit(&r->hits, 1,
						  memory_order_relaxed);
			return r->fn(r->arg, vcpuid, write, addr, size, val);
		}
		if (cache->has_miss && cache->miss == addr)
			return -ENOENT;
	}
	return dispatch_lookup(map, cache, vcpuid, write, addr, size, val);
}

static void fill_info(const struct region *r, struct region_info *info)
{
	memcpy(info->name, r->name, sizeof(info->name));
	info->base = r->base;
	info->len = r->len;
	info->hits = atomic_load_explicit(&r->hits, memory_order_relaxed);
}

int region_lookup(struct region_map *map, uint64_t addr,
		  struct region_info *info)
{
	struct region *r;

	pthread_rwlock_rdlock(&map->lock);
	r = find(map, addr);
	if (r != NULL)
		fill_info(r, info);
	pthread_rwlock_unlock(&map->lock);
	return r != NULL ? 0 : -ENOENT;
}

int region_find(struct region_map *map, const char *name,
		struct region_info *info)
{
	unsigned i;
	int ret = -ENOENT;

	pthread_rwlock_rdlock(&map->lock);
	for (i = 0; i < map->n; i++) {
		if (strcmp(map->tab[i]->name, name) == 0) {
			fill_info(map->tab[i], info);
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&map->lock);
	return ret;
}

int region_foreach(struct region_map *map,
		   int (*fn)(void *arg, const struct region_info *info),
		   void *arg)
{
	struct region_info info;
	unsigned i;
	int ret = 0;

	pthread_rwlock_rdlock(&map->lock);
	for (i = 0; i < map->n && ret == 0; i++) {
		fill_info(map->tab[i], &info);
		ret = fn(arg, &info);
	}
	pthread_rwlock_unlock(&map->lock);
	return ret;
}

unsigned region_count(struct region_map *map)
{
	unsigned n;

	pthread_rwlock_rdlock(&map->lock);
	n = map->n;
	pthread_rwlock_unlock(&map->lock);
	return n;
}
