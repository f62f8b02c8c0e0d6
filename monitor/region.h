/*
 * region.h: named port-I/O and MMIO regions, and dispatch of guest
 * accesses to their handlers.
 *
 * One region map per address space (port I/O, MMIO).  A device registers
 * a region by name, base, length, handler and argument; an exit handler
 * calls region_dispatch() with the access, and the region that contains
 * addr runs its handler.  The names, ranges and hit counts are what the
 * console lists (region_foreach) and what traces can refer to.
 *
 * Threads.  Every function may be called from any thread.  Dispatch takes
 * no lock when the caller's cache (struct region_cache, one per vCPU per
 * map) still holds the region hit, and a read lock only for the lookup
 * otherwise; handlers always run with no lock of the map held, so a handler
 * may register or unregister regions (a PCI BAR moving).  Registration
 * takes the write lock and bumps the map's generation, which invalidates
 * every cache.
 *
 * Unregistering.  When region_unregister() returns, later dispatches no
 * longer reach the region, but a handler call that another vCPU started
 * (or is about to start: its lookup succeeded) may still run.  Keep the
 * handler's arg alive until no vCPU can be dispatching (tear devices down
 * after the vCPU threads have stopped).  The region's own memory is
 * reference-counted and never outlives its last user.
 */
#ifndef MONITOR_REGION_H
#define MONITOR_REGION_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A handler for port I/O and MMIO alike.  addr is absolute (not an offset
 * in the region), size is 1, 2, 4 or 8 bytes; a read stores the value in
 * *val (the low size bytes count), a write finds it there.  Returns 0 or
 * -errno (an access the device refuses).  vcpuid is -1 when the access does
 * not come from a vCPU (the debugger reading device memory).
 */
typedef int region_fn(void *arg, int vcpuid, bool write, uint64_t addr,
		      unsigned size, uint64_t *val);

#define REGION_NAME_MAX 32 /* with the terminating NUL */

struct region_map;
struct region;

/*
 * A vCPU's cache of the last region it hit in one map.  Caller-owned, used
 * by one thread at a time; start it zeroed (= { 0 }) and
 * call region_cache_release() before freeing it.
 */
struct region_cache {
	const struct region_map *map; /* the map gen belongs to */
	uint64_t gen; /* the map's generation when region was cached */
	struct region *region; /* holds a reference; NULL if none */
	uint64_t miss; /* the last address no region claimed... */
	bool has_miss; /* ...if any, in generation gen */
};

/* What region_foreach and region_lookup report about a region. */
struct region_info {
	char name[REGION_NAME_MAX];
	uint64_t base; /* first address */
	uint64_t len; /* length in bytes (ports or bytes of MMIO) */
	uint64_t hits; /* dispatched accesses so far */
};

/* An empty map; name ("pio", "mmio") is for messages.  NULL, errno. */
struct region_map *region_map_create(const char *name);

/* Free the map and drop its regions (caches keep theirs until released). */
void region_map_destroy(struct region_map *map);

const char *region_map_name(const struct region_map *map);

/*
 * Claim [base, base + len) for fn(arg, ...).  Returns 0; -EINVAL for an
 * empty or wrapping range, a NULL fn or an empty name; -ENAMETOOLONG for a
 * name of REGION_NAME_MAX bytes or more; -EEXIST when the range overlaps a
 * region already registered (names need not be unique); -ENOMEM.
 */
int region_register(struct region_map *map, const char *name, uint64_t base,
		    uint64_t len, region_fn *fn, void *arg);

/* Remove the region that starts at base; -ENOENT if there is none. */
int region_unregister(struct region_map *map, uint64_t base);

/*
 * Run the handler of the region containing addr and count the hit.
 * Returns the handler's result, or -ENOENT when no region claims addr (the
 * caller applies the platform rule: reads see all ones, writes are
 * ignored).  cache may be NULL (a lookup every time).  Allocation-free.
 */
int region_dispatch(struct region_map *map, struct region_cache *cache,
		    int vcpuid, bool write, uint64_t addr, unsigned size,
		    uint64_t *val);

/* Drop the cache's reference; the cache is empty (and reusable) after. */
void region_cache_release(struct region_cache *cache);

/* Describe the region containing addr: 0, or -ENOENT. */
int region_lookup(struct region_map *map, uint64_t addr,
		  struct region_info *info);

/* Describe the first region (in address order) named name: 0, -ENOENT. */
int region_find(struct region_map *map, const char *name,
		struct region_info *info);

/*
 * Call fn(arg, info) for each region in increasing address order, under
 * the map's read lock (fn must not register or unregister regions in this
 * map).  Stops at, and returns, the first non-zero value fn returns;
 * otherwise 0.
 */
int region_foreach(struct region_map *map,
		   int (*fn)(void *arg, const struct region_info *info),
		   void *arg);

/* The number of regions registered. */
unsigned region_count(struct region_map *map);

#endif
