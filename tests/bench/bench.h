/*
 * bench.h: what the benchmark guest (loop-guest.c), the bare KVM program
 * (bare-kvm.c) and the drivers agree on.  Only #defines: the freestanding
 * guest includes it too.
 *
 * The guest writes once to BENCH_PORT_START, n times to BENCH_PORT_LOOP,
 * once to BENCH_PORT_END, then BENCH_EXIT_OK (or BENCH_EXIT_BADARG when
 * its command line has no "n=N") to DEBUG_EXIT_PORT.  None of the three
 * ports is claimed by any vitro device: a write to them costs one exit to
 * user space and a dispatch that finds nothing.
 *
 * The gdb benchmark's guest (step-guest.c) stores STEP_SIGNATURE at
 * STEP_SIGNATURE_ADDR, the last word of the guest-physical range
 * [STEP_DUMP_START, STEP_DUMP_START + STEP_DUMP_LEN) that gdb dumps.
 */
#ifndef TESTS_BENCH_BENCH_H
#define TESTS_BENCH_BENCH_H

#define BENCH_PORT_START 0x6b0
#define BENCH_PORT_LOOP 0x6b1
#define BENCH_PORT_END 0x6b2

#define BENCH_EXIT_OK 0x10
#define BENCH_EXIT_BADARG 0x11

/* vitro's exit status for a guest that wrote V to DEBUG_EXIT_PORT. */
#define BENCH_STATUS(v) (((v) << 1) | 1)

#define STEP_DUMP_START 0x100000
#define STEP_DUMP_LEN 0x1000000 /* 16 MiB */
#define STEP_SIGNATURE_ADDR 0x10ffffc /* STEP_DUMP_START + LEN - 4 */
#define STEP_SIGNATURE 0x600df00d

#endif
