/*
 * tasks.c: the guest of the console's type tests (tests/tcl/types.sh,
 * scripts/tasks.tcl).  It builds a small task list the way a kernel
 * would - each struct task on a singly linked list through `next` (head:
 * tasks_first) and on a circular struct list_head list (head:
 * tasks_head) - prints one line, and then stays alive: a 10 Hz LAPIC
 * timer wakes it, and each tick counts in tasks_ticks.
 *
 * The console finds everything through the DWARF: struct task has an
 * enum, a char array, a union, bitfields and an embedded list_head.
 * One CPU; the list is built before the line is printed and never
 * changes afterwards.
 */
#include "rt.h"

#define TASKS_TIMER_VECTOR 0x40
#define TASKS_N 5

const char guest_name[] = "tasks";

struct list_head {
	struct list_head *next, *prev;
};

enum task_state { TASK_NEW, TASK_RUNNING, TASK_SLEEPING, TASK_DEAD = 9 };

union task_data {
	uint64_t word;
	uint8_t bytes[8];
};

struct task {
	int pid;
	char name[16];
	enum task_state state;
	struct task *next;
	struct list_head link;
	union task_data data;
	unsigned int prio : 5;
	unsigned int kernel : 1;
	uint64_t runtime;
};

struct task tasks_pool[TASKS_N];
struct task *tasks_first; /* the `next` list */
struct list_head tasks_head; /* the list_head list */
volatile uint64_t tasks_ticks;

void tasks_build(void) __attribute__((noinline));
void tasks_tick(struct trap_frame *f);

static const char *const tasks_names[TASKS_N] = { "init", "kthreadd", "shell",
						  "editor", "idle" };

static void list_add_tail(struct list_head *n, struct list_head *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

void tasks_build(void)
{
	tasks_head.next = tasks_head.prev = &tasks_head;
	for (int i = 0; i < TASKS_N; i++) {
		struct task *t = &tasks_pool[i];
		int j;

		t->pid = i + 1;
		for (j = 0; tasks_names[i][j] && j < 15; j++)
			t->name[j] = tasks_names[i][j];
		t->state =
			i == TASKS_N - 1 ? TASK_DEAD : (enum task_state)(i % 3);
		t->next = i + 1 < TASKS_N ? &tasks_pool[i + 1] : NULL;
		t->data.word = 0x1111111111111111ull * (uint64_t)(i + 1);
		t->prio = (unsigned int)(20 + i);
		t->kernel = i < 2;
		t->runtime = 1000u * (uint64_t)(i + 1);
		list_add_tail(&t->link, &tasks_head);
	}
	tasks_first = &tasks_pool[0];
}

void tasks_tick(struct trap_frame *f)
{
	tasks_ticks++;
	lapic_eoi();
}

int guest_main(void)
{
	tasks_build();
	lapic_enable();
	time_init();
	trap_set_handler(TASKS_TIMER_VECTOR, tasks_tick);
	lapic_timer_periodic(TASKS_TIMER_VECTOR, 100000);
	rt_printf("@%d tasks, first pid %d at %p\n", TASKS_N, tasks_first->pid,
		  (void *)tasks_first);
	for (;;)
		irq_enable_and_halt();
}
