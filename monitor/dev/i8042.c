/*
 * i8042.c: the PC keyboard controller with no devices behind it (see
 * i8042.h for what it answers).
 *
 * Locking: k->mtx guards the state (struct i8042_state); irq and reset
 * run after it is dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/dev/i8042.h"
#include "monitor/region.h"

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_INPUT 0xc0
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_KBD_LOOP 0xd2
#define CMD_AUX_LOOP 0xd3
#define CMD_AUX_SEND 0xd4
#define CMD_READ_TEST 0xe0
#define CMD_PULSE 0xf0 /* 0xf0-0xff: pulse output port bits 0-3 low */

#define SELF_TEST_OK 0x55
#define DEV_NO_ANSWER 0xfe
#define STATE_MAGIC 0x32343869 /* "i842" */

/* Where a byte in the output queue comes from. */
enum { SRC_CTRL, SRC_KBD, SRC_AUX };

/* Everything save writes: fixed-width fields. */
struct i8042_state {
	uint32_t magic; /* STATE_MAGIC */
	uint8_t ctr; /* controller configuration byte (RAM byte 0) */
	uint8_t outport; /* output port: reset line, A20 */
	uint8_t status; /* SYS, CMD, TIMEOUT bits as last set */
	uint8_t pending; /* command waiting for its data byte, or 0 */
	uint8_t head; /* first byte of the queue */
	uint8_t count; /* bytes queued */
	uint8_t last; /* the byte last read from port 0x60 */
	uint8_t irq_sent; /* the head byte's interrupt was raised */
	uint8_t queue[I8042_QUEUE]; /* bytes for the guest */
	uint8_t src[I8042_QUEUE]; /* SRC_* of each */
};

struct i8042 {
	pthread_mutex_t mtx;
	struct i8042_state s; /* the registers; mtx */
	i8042_irq_fn *irq; /* interrupt lines */
	i8042_reset_fn *reset; /* the CPU reset line */
	void *arg;
};

static void power_on(struct i8042_state *s)
{
	memset(s, 0, sizeof(*s));
	s->magic = STATE_MAGIC;
	/* What a BIOS leaves: keyboard interrupt, translation, POST done. */
	s->ctr = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE;
	s->outport = I8042_OUT_RESET | I8042_OUT_A20;
	s->status = I8042_STR_SYS;
}

struct i8042 *i8042_create(i8042_irq_fn *irq, i8042_reset_fn *reset, void *arg)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->mtx, NULL);
	k->irq = irq;
	k->reset = reset;
	k->arg = arg;
	power_on(&k->s);
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->mtx);
	free(k);
}

static void put(struct i8042_state *s, uint8_t b, uint8_t src)
{
	/* A full queue drops the oldest byte, as a one-byte buffer would. */
	if (s->count == I8042_QUEUE) {
		s->head = (s->head + 1) % I8042_QUEUE;
		s->count--;
		s->irq_sent = 0;
	}
	s->queue[(s->head + s->count) % I8042_QUEUE] = b;
	s->src[(s->head + s->count) % I8042_QUEUE] = src;
	s->count++;
}

/* The interrupt the head byte should raise now, or 0. */
static int irq_due(struct i8042_state *s)
{
	uint8_t src;

	if (s->count == 0 || s->irq_sent)
		return 0;
	src = s->src[s->head];
	if (src == SRC_AUX && (s->ctr & I8042_CTR_AUXINT)) {
		s->irq_sent = 1;
		return I8042_IRQ_AUX;
	}
	if (src != SRC_AUX && (s->ctr & I8042_CTR_KBDINT)) {
		s->irq_sent = 1;
		return I8042_IRQ_KBD;
	}
	return 0;
}

static uint8_t status(const struct i8042_state *s)
{
	uint8_t v = s->status | I8042_STR_UNLOCKED;

	if (s->count) {
		v |= I8042_STR_OBF;
		if (s->src[s->head] == SRC_AUX)
			v |= I8042_STR_AUXDATA;
	}
	return v;
}

/* A byte sent to a device that is not there. */
static void no_device(struct i8042_state *s, uint8_t src)
{
	s->status |= I8042_STR_TIMEOUT;
	put(s, DEV_NO_ANSWER, src);
}

/* Returns true when the command resets the CPU. */
static bool command(struct i8042_state *s, uint8_t cmd)
{
	s->status |= I8042_STR_CMD;
	s->status &= ~I8042_STR_TIMEOUT;
	s->pending = 0;
	if (cmd >= CMD_PULSE)
		return !(cmd & I8042_OUT_RESET);
	if (cmd >= CMD_READ_CTR && cmd < CMD_READ_CTR + 0x20) {
		/* Internal RAM: byte 0 is the configuration, the rest 0. */
		put(s, cmd == CMD_READ_CTR ? s->ctr : 0, SRC_CTRL);
		return false;
	}
	if (cmd >= CMD_WRITE_CTR && cmd < CMD_WRITE_CTR + 0x20) {
		s->pending = cmd;
		return false;
	}
	switch (cmd) {
	case CMD_AUX_DISABLE:
		s->ctr |= I8042_CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		s->ctr &= ~I8042_CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		put(s, 0, SRC_CTRL);
		break;
	case CMD_SELF_TEST:
		s->status |= I8042_STR_SYS;
		put(s, SELF_TEST_OK, SRC_CTRL);
		break;
	case CMD_KBD_DISABLE:
		s->ctr |= I8042_CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		s->ctr &= ~I8042_CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
	case CMD_READ_TEST:
		put(s, 0, SRC_CTRL);
		break;
	case CMD_READ_OUTPUT:
		put(s, s->outport, SRC_CTRL);
		break;
	case CMD_WRITE_OUTPUT:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		s->pending = cmd;
		break;
	default:
		break; /* unknown commands are ignored */
	}
	return false;
}

/* A byte written to port 0x60.  Returns true when it resets the CPU. */
static bool data(struct i8042_state *s, uint8_t val)
{
	uint8_t cmd = s->pending;

	s->status &= ~(I8042_STR_CMD | I8042_STR_TIMEOUT);
	s->pending = 0;
	if (cmd == CMD_WRITE_CTR) {
		s->ctr = val;
		s->status = (s->status & ~I8042_STR_SYS) |
			    (val & I8042_CTR_SYS ? I8042_STR_SYS : 0);
		return false;
	}
	if (cmd > CMD_WRITE_CTR && cmd < CMD_WRITE_CTR + 0x20)
		return false;
	switch (cmd) {
	case CMD_WRITE_OUTPUT:
		s->outport = val;
		return !(val & I8042_OUT_RESET);
	case CMD_KBD_LOOP:
		put(s, val, SRC_KBD);
		return false;
	case CMD_AUX_LOOP:
		put(s, val, SRC_AUX);
		return false;
	case CMD_AUX_SEND:
		no_device(s, SRC_AUX);
		return false;
	default:
		no_device(s, SRC_KBD);
		return false;
	}
}

uint8_t i8042_read(struct i8042 *k, unsigned port)
{
	struct i8042_state *s = &k->s;
	uint8_t v;
	int irq;

	pthread_mutex_lock(&k->mtx);
	if (port == I8042_CMD_PORT) {
		v = status(s);
	} else {
		if (s->count) {
			s->last = s->queue[s->head];
			s->head = (s->head + 1) % I8042_QUEUE;
			s->count--;
			s->irq_sent = 0;
		}
		v = s->last;
	}
	irq = irq_due(s);
	pthread_mutex_unlock(&k->mtx);
	if (irq && k->irq)
		k->irq(k->arg, irq);
	return v;
}

void i8042_write(struct i8042 *k, unsigned port, uint8_t val)
{
	bool reset;
	int irq;

	pthread_mutex_lock(&k->mtx);
	if (port == I8042_CMD_PORT)
		reset = command(&k->s, val);
	else
		reset = data(&k->s, val);
	irq = irq_due(&k->s);
	pthread_mutex_unlock(&k->mtx);
	if (irq && k->irq)
		k->irq(k->arg, irq);
	if (reset && k->reset)
		k->reset(k->arg);
}

int i8042_region_access(void *arg, int vcpuid, bool write, uint64_t addr,
			unsigned size, uint64_t *val)
{
	struct i8042 *k = arg;

	/* An 8-bit device: a wider access sees all ones above byte 0. */
	if (write)
		i8042_write(k, (unsigned)addr, (uint8_t)*val);
	else
		*val = ~0xffULL | i8042_read(k, (unsigned)addr);
	return 0;
}

int i8042_register(struct i8042 *k, struct region_map *map)
{
	int r = region_register(map, "i8042-data", I8042_DATA_PORT, 1,
				i8042_region_access, k);

	if (r == 0)
		r = region_register(map, "i8042-cmd", I8042_CMD_PORT, 1,
				    i8042_region_access, k);
	return r;
}

void i8042_reset(struct i8042 *k)
{
	pthread_mutex_lock(&k->mtx);
	power_on(&k->s);
	pthread_mutex_unlock(&k->mtx);
}

int i8042_save(struct i8042 *k, void *buf, size_t len)
{
	if (len == 0)
		return sizeof(k->s);
	if (len < sizeof(k->s))
		return -ENOSPC;
	pthread_mutex_lock(&k->mtx);
	memcpy(buf, &k->s, sizeof(k->s));
	pthread_mutex_unlock(&k->mtx);
	return sizeof(k->s);
}

int i8042_restore(struct i8042 *k, const void *buf, size_t len)
{
	struct i8042_state s;

	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.magic != STATE_MAGIC || s.head >= I8042_QUEUE ||
	    s.count > I8042_QUEUE)
		return -EINVAL;
	for (unsigned i = 0; i < I8042_QUEUE; i++) {
		if (s.src[i] > SRC_AUX)
			return -EINVAL;
	}
	pthread_mutex_lock(&k->mtx);
	k->s = s;
	pthread_mutex_unlock(&k->mtx);
	return 0;
}
