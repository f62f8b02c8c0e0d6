/*
 * platform.h: the machine vitro presents to a guest, as constants.
 *
 * Only #defines: freestanding guest programs include this file too.
 *
 * Physical memory: RAM from 0 to min(size, 3 GiB), the rest from 4 GiB;
 * the PCI hole lies between.  Memory below 1 MiB:
 *
 *   0x00000-0x00fff  free (the real-mode IVT on a PC)
 *   0x01000-0x07fff  boot information: GDT, Multiboot information, memory
 *                    map, command line, module list
 *   0x08000-0x0ffff  free; guests put AP start-up trampolines here
 *   0x10000-0x7ffff  64-bit entry only: boot page tables, then the boot
 *                    stack (top at BOOT_STACK_TOP); the guest may reuse it
 *                    once it runs on its own tables and stack
 *   0x80000-0x9fbff  free
 *   0x9fc00-0xdffff  reserved (absent in the memory map)
 *   0xe0000-0xeffff  ACPI tables (RSDP first), reserved
 *   0xf0000-0xfffff  MP floating pointer and MP table, reserved
 *
 * A Linux kernel (64-bit boot protocol or PVH) gets the boot GDT, its
 * boot_params ("zero page") at LINUX_BOOT_PARAMS_ADDR or the PVH start
 * info at LINUX_PVH_INFO_ADDR with its memory map after it, the command
 * line at BOOT_CMDLINE_ADDR and the initrd at the top of low memory; the
 * e820 map lists RAM below LOWMEM_FREE_END, from KERNEL_MIN_ADDR to the
 * end of low memory and from 4 GiB, and the table areas above as
 * reserved.
 *
 * Entry in 64-bit mode (an ELF64 kernel without a Multiboot header): CPL 0,
 * long mode, paging with an identity map of the first 4 GiB and of
 * high memory (2 MiB pages, writable, executable), CR0.WP, CR4.PAE,
 * CR4.OSFXSR and CR4.OSXMMEXCPT set (SSE usable), EFER.NXE where the CPU
 * has it, interrupts off, CS = BOOT_SEL_CODE64, other segments
 * BOOT_SEL_DATA, RSP = BOOT_STACK_TOP, RIP = the ELF entry point,
 * RDI = the physical address of a Multiboot 1 information structure
 * (memory, memory map, command line, modules) and RAX = MULTIBOOT_BOOT_MAGIC.
 *
 * Entry through Multiboot 1: as the specification says (32-bit protected
 * mode, paging off, EAX = MULTIBOOT_BOOT_MAGIC, EBX = the information
 * structure), with CS = BOOT_SEL_CODE32 and data segments BOOT_SEL_DATA of
 * the boot GDT.
 *
 * Devices: COM1, a 16550 UART at COM1_PORT on ISA IRQ COM1_IRQ; the
 * in-kernel 8259 PICs, IOAPIC, LAPICs and 8254 PIT; ACPI fixed hardware
 * (PM1a blocks, poweroff through S5); an exit port, as QEMU's
 * isa-debug-exit: writing V to DEBUG_EXIT_PORT ends vitro with status
 * (V << 1) | 1; the CMOS RTC at 0x70-0x71 (vmm's, IRQ 8 not raised), an
 * i8042 with no devices at 0x60/0x64 (IRQ 1 and 12), and configuration
 * mechanism #1 with a 440FX host bridge at 00:00.0 and the reset
 * control register 0xcf9 (monitor/dev/); the HPET at HPET_BASE (vmm's,
 * timers 0 and 1 on IRQs 0 and 8 in legacy mode, else IOAPIC pins
 * 20-23; left out with --no-hpet).  Reads of ports nothing claims return all ones; writes to
 * them are ignored.
 */
#ifndef MONITOR_PLATFORM_H
#define MONITOR_PLATFORM_H

#define BOOT_GDT_ADDR 0x1000 /* boot GDT, 4 entries */
#define BOOT_INFO_ADDR 0x1100 /* Multiboot information structure */
#define BOOT_MMAP_ADDR 0x1200 /* Multiboot memory map */
#define BOOT_MODS_ADDR 0x1800 /* Multiboot module list (up to 64) */
#define BOOT_CMDLINE_ADDR 0x2000 /* kernel command line, then module names */
#define BOOT_CMDLINE_MAX 0x4000 /* bytes for all of those strings */
#define BOOT_INFO_END 0x8000

#define BOOT_PGTABLE_ADDR 0x10000 /* PML4, PDPT, then page directories */
#define BOOT_STACK_TOP 0x80000

#define BOOT_SEL_CODE64 0x08
#define BOOT_SEL_DATA 0x10
#define BOOT_SEL_CODE32 0x18

#define LOWMEM_FREE_END 0x9fc00 /* conventional memory ends here */
#define ACPI_TABLES_ADDR 0xe0000 /* RSDP, then the other tables */
#define ACPI_TABLES_MAX 0x10000
#define MPTABLE_ADDR 0xf0000 /* MP floating pointer, then the table */
#define MPTABLE_MAX 0x10000

#define LINUX_PVH_INFO_ADDR 0x1100 /* hvm_start_info, then its memmap */
#define LINUX_BOOT_PARAMS_ADDR 0x7000 /* struct boot_params, 4 KiB */
#define KERNEL_MIN_ADDR 0x100000 /* images load at or above 1 MiB */

#define MULTIBOOT_BOOT_MAGIC 0x2BADB002
#define MULTIBOOT_HEADER_MAGIC 0x1BADB002

#define COM1_PORT 0x3f8
#define COM1_IRQ 4
#define DEBUG_EXIT_PORT 0xf4

#define LAPIC_BASE 0xfee00000
/* PCI devices' 32-bit memory: the hole from 3 GiB up to the IOAPIC. */
#define PCI_MMIO_BASE 0xc0000000
#define IOAPIC_BASE 0xfec00000
/* The HPET's registers (VM_HPET_MMIO_SIZE bytes); none with --no-hpet. */
#define HPET_BASE 0xfed00000
/* ISA IRQ n reaches IOAPIC pin n, but IRQ 0 (the PIT) pin 2 (vmm.c). */
#define ISA_IRQ0_GSI 2

/*
 * ACPI fixed hardware (monitor/dev/acpi_pm.c, described by the FADT): the
 * PM1a event block (status, enable; 2 bytes each) and control block, the
 * SCI's ISA IRQ (level, active high), and the SLP_TYP of \_S5 in the DSDT:
 * writing SLP_EN with it powers off.
 */
#define ACPI_PM1A_EVT_PORT 0x600
#define ACPI_PM1A_EVT_LEN 4
#define ACPI_PM1A_CNT_PORT 0x604
#define ACPI_PM1A_CNT_LEN 2
#define ACPI_SCI_IRQ 9
#define ACPI_S5_SLP_TYP 5
#define ACPI_PM1_SLP_TYP_SHIFT 10 /* PM1_CNT: SLP_TYP, bits 10-12 */
#define ACPI_PM1_SLP_EN 0x2000 /* PM1_CNT: sleep now */

#endif
