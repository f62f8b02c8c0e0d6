/*
 * linuxish.c: the guest of scripts/linux.tcl's test (tests/tcl/linux.sh):
 * data shaped as Linux 6.1's, under the kernel's names, so the script
 * walks them as it would a kernel - init_task and its tasks list (pid,
 * comm, __state, exit_state), the printk ringbuffer behind prb (6.1's
 * desc_ring and text_data_ring, records written as printk writes them,
 * the last wrapping to the data ring's start over the first, which the
 * tail has left), and the modules list with one
 * module.  Only the members the script reads are kept, at other offsets
 * than the kernel's: the script finds them through DWARF.
 *
 * One CPU; everything is built before the marker line and never changes
 * afterwards; then the guest halts in a loop.
 */
#include "rt.h"

const char guest_name[] = "linuxish";

struct list_head {
	struct list_head *next, *prev;
};

typedef struct {
	long counter;
} atomic_long_t;

struct task_struct {
	unsigned int __state;
	void *stack;
	struct list_head tasks;
	int exit_state;
	int pid;
	int tgid;
	char comm[16];
};

struct module_layout {
	void *base;
	unsigned int size;
};

struct module {
	int state;
	struct list_head list;
	char name[56];
	struct module_layout core_layout;
};

struct printk_info {
	unsigned long long seq;
	unsigned long long ts_nsec;
	unsigned short text_len;
	unsigned char facility;
	unsigned char flags : 5;
	unsigned char level : 3;
	unsigned int caller_id;
};

struct prb_data_blk_lpos {
	unsigned long begin;
	unsigned long next;
};

struct prb_desc {
	atomic_long_t state_var;
	struct prb_data_blk_lpos text_blk_lpos;
};

struct prb_data_ring {
	unsigned int size_bits;
	char *data;
	atomic_long_t head_lpos;
	atomic_long_t tail_lpos;
};

struct prb_desc_ring {
	unsigned int count_bits;
	struct prb_desc *descs;
	struct printk_info *infos;
	atomic_long_t head_id;
	atomic_long_t tail_id;
	atomic_long_t last_finalized_id;
};

struct printk_ringbuffer {
	struct prb_desc_ring desc_ring;
	struct prb_data_ring text_data_ring;
	atomic_long_t fail;
};

#define NTASKS 4
#define DESC_BITS 3
#define DATA_BITS 7 /* 128 bytes: the fourth record wraps */
#define DESC_FINALIZED 2ul

struct task_struct init_task;
struct task_struct linuxish_tasks[NTASKS - 1];
struct list_head modules;
struct module linuxish_mod;
static struct prb_desc descs[1 << DESC_BITS];
static struct printk_info infos[1 << DESC_BITS];
static char text[1 << DATA_BITS] __attribute__((aligned(8)));
static struct printk_ringbuffer printk_rb_static;
/* Used by the kernel; here only written, so kept by hand. */
static struct printk_ringbuffer *prb __attribute__((used));

static void list_add_tail(struct list_head *n, struct list_head *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void copy(char *d, const char *s, int max)
{
	for (int i = 0; s[i] && i < max - 1; i++)
		d[i] = s[i];
}

static unsigned int len(const char *s)
{
	unsigned int n = 0;

	while (s[n])
		n++;
	return n;
}

/* Append record id with msg at lpos, as prb_reserve and _commit do. */
static unsigned long record(unsigned long id, unsigned long lpos,
			    const char *msg, unsigned long long ts)
{
	unsigned long size = 1ul << DATA_BITS, n = len(msg);
	unsigned long need = (sizeof(long) + n + 7) & ~7ul;
	unsigned long begin = lpos, at;
	struct prb_desc *d = &descs[id % (1 << DESC_BITS)];
	struct printk_info *in = &infos[id % (1 << DESC_BITS)];

	/* A block does not wrap: it starts again at the ring's start. */
	if (begin % size + need > size)
		at = 0, lpos = begin + (size - begin % size);
	else
		at = begin % size;
	*(unsigned long *)&text[at] = id;
	for (unsigned long i = 0; i < n; i++)
		text[at + sizeof(long) + i] = msg[i];
	d->text_blk_lpos.begin = begin;
	d->text_blk_lpos.next = lpos + need;
	d->state_var.counter = (long)((DESC_FINALIZED << 62) | id);
	in->seq = id;
	in->ts_nsec = ts;
	in->text_len = (unsigned short)n;
	in->level = 6;
	return lpos + need;
}

void linuxish_build(void) __attribute__((noinline));
void linuxish_build(void)
{
	static const char *const names[NTASKS] = { "swapper/0", "init",
						   "kthreadd", "sh" };
	static const unsigned int states[NTASKS] = { 0, 1, 0x402, 0 };
	static const char *const msgs[] = {
		"Linux version 6.1.0-vitro",
		"Command line: console=ttyS0",
		"two lines:\nsecond line",
		"Run /init as init process",
	};
	unsigned long lpos = 0;

	init_task.tasks.next = init_task.tasks.prev = &init_task.tasks;
	for (int i = 0; i < NTASKS; i++) {
		struct task_struct *t = i ? &linuxish_tasks[i - 1] : &init_task;

		t->pid = t->tgid = i;
		t->__state = states[i];
		copy(t->comm, names[i], sizeof(t->comm));
		if (i)
			list_add_tail(&t->tasks, &init_task.tasks);
	}
	linuxish_tasks[NTASKS - 2].exit_state = 0x20; /* a zombie */

	modules.next = modules.prev = &modules;
	copy(linuxish_mod.name, "vitro_test", sizeof(linuxish_mod.name));
	linuxish_mod.core_layout.base = (void *)0xffffffffc0000000ul;
	linuxish_mod.core_layout.size = 0x3000;
	list_add_tail(&linuxish_mod.list, &modules);

	printk_rb_static.desc_ring.count_bits = DESC_BITS;
	printk_rb_static.desc_ring.descs = descs;
	printk_rb_static.desc_ring.infos = infos;
	printk_rb_static.text_data_ring.size_bits = DATA_BITS;
	printk_rb_static.text_data_ring.data = text;
	for (unsigned long id = 0; id < 4; id++)
		lpos = record(id, lpos, msgs[id], 1000000ull * (id + 1) + 5);
	/* The fourth record wrapped over the first one's data. */
	printk_rb_static.desc_ring.tail_id.counter = 1;
	printk_rb_static.desc_ring.head_id.counter = 3;
	printk_rb_static.text_data_ring.head_lpos.counter = (long)lpos;
	prb = &printk_rb_static;
}

int guest_main(void)
{
	linuxish_build();
	rt_printf("@linuxish ready\n");
	for (;;)
		irq_enable_and_halt();
}
