/*
 * x86_bits.h: control-register and EFER bits that the KVM tests and the
 * probes set up guests with.
 */
#ifndef TESTS_KVM_X86_BITS_H
#define TESTS_KVM_X86_BITS_H

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define CR4_OSFXSR 0x200ULL
#define CR4_OSXMMEXCPT 0x400ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#endif
