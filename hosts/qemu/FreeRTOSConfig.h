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

// heap_4 holds the kernel's objects only (task stacks, queues, lwIP's mailboxes
// and semaphores): the stacks of the XS task (16 KiB), an AsyncManager's poll
// task (4 KiB, xm_host_config.h), lwIP's tcpip task (3 KiB), the receive task
// (2 KiB), the idle task and ESP-IDF's main task until app_main returns are
// most of it. The C library's heap (the XS machine, lwIP's buffers, mongoose)
// is what the linker script leaves of the RAM budget, so every KiB here is one
// the C heap lacks. Measured with --stats (board-ram: kernel-heap=): at most
// 40,704 bytes taken, at boot, by the demo and by an AsyncManager app serving
// 200 requests 16 at a time; 44 KiB leaves a tenth of that as the margin.
#define configTOTAL_HEAP_SIZE (44 * 1024)
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

#endif
