// SPDX-License-Identifier: MIT
// The virtual board's kernel configuration: the esp32 check's (ESP-IDF 5.x's
// values for an ESP32-C3: one core, 25 priorities, 1000 Hz), with the tick from
// the CLINT of QEMU's virt machine, whose mtime counts at 10 MHz.
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <assert.h>
#include <stdint.h>

// The RISC-V port derives the tick from this: mtime increments per second.
#define configCPU_CLOCK_HZ (10 * 1000 * 1000)
#define configMTIME_BASE_ADDRESS (0x0200BFF8UL)
#define configMTIMECMP_BASE_ADDRESS (0x02004000UL)
#define configISR_STACK_SIZE_WORDS 512

#define configTICK_RATE_HZ 1000
#define configUSE_PREEMPTION 1
#define configUSE_TIME_SLICING 1
#define configMAX_PRIORITIES 25
#define configNUMBER_OF_CORES 1
#define portNUM_PROCESSORS configNUMBER_OF_CORES
#define configMINIMAL_STACK_SIZE 768
#define configMAX_TASK_NAME_LEN 16
#define configSTACK_DEPTH_TYPE uint32_t
#define configTICK_TYPE_WIDTH_IN_BITS TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD 0
#define configUSE_IDLE_HOOK 0
#define configUSE_TICK_HOOK 0
#define configCHECK_FOR_STACK_OVERFLOW 0
#define configUSE_MALLOC_FAILED_HOOK 0
#define configASSERT(a) assert(a)

#define configUSE_MUTEXES 1
#define configUSE_RECURSIVE_MUTEXES 1
#define configUSE_COUNTING_SEMAPHORES 1
#define configUSE_TASK_NOTIFICATIONS 1
#define configQUEUE_REGISTRY_SIZE 0

#define configSUPPORT_STATIC_ALLOCATION 0
#define configSUPPORT_DYNAMIC_ALLOCATION 1
// heap_4 holds the kernel's objects only (task stacks, queues): the XS task's
// 16 KiB stack and the idle task's are most of it. The C library's heap (the XS
// machine) is what the linker script leaves of the RAM budget.
#define configTOTAL_HEAP_SIZE (48 * 1024)

// vTaskGetInfo, which pxTaskGetStackStart (esp_idf_decls) uses.
#define configUSE_TRACE_FACILITY 1
#define configUSE_TIMERS 0

#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_vTaskDelay 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1
#define INCLUDE_uxTaskGetStackHighWaterMark 1

#endif
