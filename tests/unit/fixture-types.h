/*
 * fixture-types.h: the types of the DWARF fixture (fixture-types.c), also
 * compiled into test-dwarf, which checks DWARF's layout against the
 * compiler's offsetof and sizeof.
 */
#ifndef TESTS_UNIT_FIXTURE_TYPES_H
#define TESTS_UNIT_FIXTURE_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum fx_state { FX_NEW = 0, FX_RUNNING = 1, FX_DEAD = 7, FX_NEG = -2 };

struct fx_list {
	struct fx_list *next, *prev;
};

union fx_val {
	uint64_t u;
	int32_t i[2];
	char c[8];
};

typedef struct fx_task fx_task_t;

struct fx_task {
	int pid;
	char name[16];
	enum fx_state state;
	struct fx_task *next;
	struct fx_list link;
	union fx_val val;
	unsigned int flag_a : 3;
	unsigned int flag_b : 5;
	signed int flag_c : 4;
	short grid[2][3];
	union {
		long anon_l;
		void *anon_p;
	};
	const char *label;
	unsigned long long big;
};

#endif
