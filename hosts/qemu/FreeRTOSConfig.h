// SPDX-License-Identifier: MIT
// The virtual board's kernel configuration: the esp32 check's (ESP-IDF 5.x's
// values for an ESP32-C3: one core, 25 priorities, 1000 Hz), with the tick from
// the CLINT of QEMU's virt machine, whose mtime counts at 10 MHz.
#ifndef XM_QEMU_FREERTOS_CONFIG_H
#define XM_QEMU_FREERTOS_CONFIG_H

// The RISC-V port derives the tick from this: mtime increments per second.
#define configCPU_CLOCK_HZ (10 * 1000 * 1000)
#define configMTIME_BASE_ADDRESS (0x0200BFF8UL)
#define configMTIMECMP_BASE_ADDRESS (0x02004000UL)

// The kernel allocates with heap_3 (CMakeLists.txt), which ignores
// configTOTAL_HEAP_SIZE (the esp32 check's 160 KiB): from the C library's
// malloc, as ESP-IDF's FreeRTOS allocates task stacks and queues from the heap
// malloc uses. One heap: a separate heap_4 array (44 KiB, its peak 40,704
// reached at boot) kept its ~4 KiB margin and the main task's stack, freed when
// app_main returns, from the XS machine, lwIP and mongoose, and the C heap ran
// out first (an app answering 16 clients at a time at --ram 256). heap_3 holds
// the scheduler around malloc, as libc_locks.c does again inside it: the
// scheduler lock nests.

// errno is picolibc's thread-local variable: one per task (lwIP's sockets set it
// on the task that called them), the kernel switching the TLS block.
#define configUSE_PICOLIBC_TLS 1
#define configUSE_TIMERS 0
// The idle task waits for an interrupt (board.c), as ESP-IDF's does: spinning,
// an idle board cost half a host core (measured with bench/board), which a
// test run with several boards at once cannot spare.
#define configUSE_IDLE_HOOK 1

#include "../esp32/check/FreeRTOSConfig.h"

// The idle task's stack, in words: ESP-IDF's 1,536 bytes
// (CONFIG_FREERTOS_IDLE_TASK_STACKSIZE) where the esp32 check has 3 KiB. Its
// hook only waits for an interrupt: it never used more than 348 bytes.
#undef configMINIMAL_STACK_SIZE
#define configMINIMAL_STACK_SIZE 384

// Interrupts and exceptions run on the startup stack (picolibc's .stack, 2 KiB,
// the size of the esp32 check's ISR stack), which nothing uses once the
// scheduler runs: the link names its top __freertos_irq_stack_top (host.mjs).
// A separate ISR stack took 2 KiB of bss from the heap.
#undef configISR_STACK_SIZE_WORDS

#endif
