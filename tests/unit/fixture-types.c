/*
 * fixture-types.c: not a test, a fixture: built with -g into
 * fixture-types.elf (and stripped copies) for test-elfsym and test-dwarf,
 * which check what they read against fixture-types.h.
 */
#include "tests/unit/fixture-types.h"

fx_task_t fx_tasks[3];
struct fx_task *fx_head;
unsigned long fx_counter = 42;
int fx_array[8];

__attribute__((noinline)) int fx_func(int x)
{
	return x * 3 + (int)fx_counter;
}

int main(void)
{
	fx_head = &fx_tasks[0];
	fx_tasks[0].next = &fx_tasks[1];
	return fx_func(fx_tasks[0].pid) & 0;
}
