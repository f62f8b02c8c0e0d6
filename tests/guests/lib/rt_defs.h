/*
 * rt_defs.h: constants the runtime's C and assembly code share.
 * Only #defines.
 */
#ifndef GUESTS_RT_DEFS_H
#define GUESTS_RT_DEFS_H

#define RT_STACK_SIZE 16384 /* per CPU; a multiple of 16 */

/*
 * The AP start-up trampoline is copied here (platform.h leaves 0x8000 free)
 * and the SIPI vector names its page.
 */
#define RT_TRAMP_ADDR 0x8000
#define RT_TRAMP_SIPI_VECTOR (RT_TRAMP_ADDR >> 12)
#define RT_TRAMP_MAX 0x1000

/* Interrupt vectors the runtime itself uses. */
#define RT_VECTOR_WAKE 0xfe /* one-shot LAPIC timer of sleep_us */
#define RT_VECTOR_SPURIOUS 0xff

/* The runtime's GDT: the boot GDT's selectors (platform.h), plus a TSS-less
 * layout any guest can reuse. */
#define RT_SEL_CODE64 0x08
#define RT_SEL_DATA 0x10
#define RT_SEL_CODE32 0x18

#endif
