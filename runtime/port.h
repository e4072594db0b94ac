// SPDX-License-Identifier: MIT
// The port interface: everything a host (hosts/<name>/) supplies to the portable
// runtime. It is kept small on purpose so that a FreeRTOS port is a thin file:
// tasks, one kind of queue, a monotonic clock, console output and a fatal exit.
#ifndef PORT_H
#define PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORT_FOREVER UINT32_MAX

// A bounded FIFO of fixed-size items, copied in and out (FreeRTOS queue semantics).
// post and receive may be called from any task; both are thread-safe.
typedef struct port_queue port_queue_t;

port_queue_t* port_queue_create(size_t item_size, size_t capacity);
void port_queue_delete(port_queue_t* queue);
// Waits up to timeout_ms for room; false when the queue stayed full.
bool port_queue_post(port_queue_t* queue, const void* item, uint32_t timeout_ms);
// Waits up to timeout_ms for an item; false on timeout.
bool port_queue_receive(port_queue_t* queue, void* item, uint32_t timeout_ms);
size_t port_queue_count(port_queue_t* queue);
// Busy-waits up to us microseconds for an item, for a task that has just handed
// another task work and expects the answer within microseconds: true once the
// queue holds one. Where waking a sleeping task is dear (Linux, worse in a VM)
// this saves a sleep and a wakeup per exchange; a host where it is cheap
// (FreeRTOS task notifications) just says whether the queue holds an item.
bool port_queue_spin(port_queue_t* queue, uint32_t us);

// A task (FreeRTOS task, POSIX thread). stack_bytes is a request the host may round.
typedef struct port_task port_task_t;

port_task_t* port_task_create(const char* name, void (*entry)(void* arg), void* arg,
	size_t stack_bytes, int priority);
// Waits until the task's entry has returned, then releases the task.
void port_task_join(port_task_t* task);
// Blocks the calling task for ms milliseconds.
void port_task_sleep(uint32_t ms);

// The lowest address the calling task's stack may grow to, less a safety margin:
// the engine stops deep recursion there with a clean "stack overflow".
char* port_stack_limit(void);

// Milliseconds from an arbitrary origin; never goes backwards.
uint64_t port_millis(void);

// Milliseconds since 1970 by the host's calendar clock, or 0 while the host does
// not know the date (a device before SNTP or its RTC has set it). TLS checks
// certificate dates against it.
uint64_t port_epoch_ms(void);

// Fills buf from the host's entropy source. Seeds Math.random at boot, so that
// each device and each boot draws its own sequence (the C library's rand()
// repeats the same one otherwise).
void port_random(void* buf, size_t length);

// Bytes the host could still allocate: the device's free heap, the simulator's
// machine's available memory (MemAvailable). Any task; a snapshot, for health
// reports (the instrumentation module's "System Free Memory").
size_t port_free_memory(void);

// stream 1 is standard output, 2 standard error (a device may send both to its UART).
void port_console_write(int stream, const char* text, size_t length);

// The firmware cannot go on: the sim exits with code, a device restarts (or halts,
// as configured). The reason has already been printed.
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void port_fatal(int code);

#endif
