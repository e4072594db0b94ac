// SPDX-License-Identifier: MIT
// Check build only: the kernel configuration the port is compiled against, in
// place of ESP-IDF's. The values that change what the port sees are ESP-IDF
// 5.x's for an ESP32-C3 (one core, 25 priorities, stack depth type uint32_t);
// the tick rate is the 1000 Hz a board build sets in sdkconfig (CONFIG_FREERTOS_HZ),
// as Moddable does, so that a 1 ms timeout is one tick rather than ten. The
// virtual board (hosts/qemu/FreeRTOSConfig.h) includes this file, having set
// first what a running kernel there needs: its clock, its CLINT, no timer task,
// an idle hook (its kernel allocates with heap_3, from malloc, so the heap size
// below is the check build's alone).
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <assert.h>
#include <stdint.h>

#ifndef configCPU_CLOCK_HZ
#define configCPU_CLOCK_HZ (160 * 1000 * 1000)
#endif
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
#ifndef configUSE_IDLE_HOOK
#define configUSE_IDLE_HOOK 0
#endif
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
#define configTOTAL_HEAP_SIZE (160 * 1024)

// vTaskGetInfo, which the check's pxTaskGetStackStart uses.
#define configUSE_TRACE_FACILITY 1
#ifndef configUSE_TIMERS
#define configUSE_TIMERS 1
#endif
#define configTIMER_TASK_PRIORITY (configMAX_PRIORITIES - 1)
#define configTIMER_QUEUE_LENGTH 8
#define configTIMER_TASK_STACK_DEPTH configMINIMAL_STACK_SIZE

#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_vTaskDelay 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1
#define INCLUDE_uxTaskGetStackHighWaterMark 1

// The ESP32-C3 ticks from its systimer, not a RISC-V CLINT: no machine timer here.
#ifndef configMTIME_BASE_ADDRESS
#define configMTIME_BASE_ADDRESS 0
#define configMTIMECMP_BASE_ADDRESS 0
#endif
#define configISR_STACK_SIZE_WORDS 512

#endif
