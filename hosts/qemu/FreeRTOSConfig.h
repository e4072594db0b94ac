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

// heap_4 holds the kernel's objects only (task stacks, queues): the XS task's
// 16 KiB stack and the idle task's are most of it. The C library's heap (the XS
// machine) is what the linker script leaves of the RAM budget.
#define configTOTAL_HEAP_SIZE (48 * 1024)
#define configUSE_TIMERS 0

#include "../esp32/check/FreeRTOSConfig.h"

#endif
