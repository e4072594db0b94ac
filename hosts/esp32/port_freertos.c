// SPDX-License-Identifier: MIT
// port.h on ESP-IDF: FreeRTOS tasks and queues, esp_timer for the clock, the
// C library's stdout (ESP-IDF's console) for output, esp_restart for fatal errors.
// The numbers are in xm_host_config.h.
#include "port.h"
#include "xm_host_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

// Rounded up: a wait is never shorter than asked. PORT_FOREVER is the kernel's forever.
static TickType_t ticks(uint32_t ms)
{
	if (ms == PORT_FOREVER)
		return portMAX_DELAY;
	uint64_t t = ((uint64_t)ms * configTICK_RATE_HZ + 999) / 1000;
	return t >= portMAX_DELAY ? portMAX_DELAY - 1 : (TickType_t)t;
}

// A port_queue_t is the FreeRTOS queue itself.
static QueueHandle_t handle(port_queue_t* q)
{
	return (QueueHandle_t)(void*)q;
}

port_queue_t* port_queue_create(size_t item_size, size_t capacity)
{
	// Refused here rather than by the kernel, whose configASSERT would abort.
	if (!item_size || !capacity || item_size > SIZE_MAX / capacity || capacity > (UBaseType_t)-1)
		return NULL;
	return (port_queue_t*)(void*)xQueueCreate((UBaseType_t)capacity, (UBaseType_t)item_size);
}

void port_queue_delete(port_queue_t* q)
{
	if (q)
		vQueueDelete(handle(q));
}

bool port_queue_post(port_queue_t* q, const void* item, uint32_t timeout_ms)
{
	return xQueueSend(handle(q), item, ticks(timeout_ms)) == pdTRUE;
}

bool port_queue_receive(port_queue_t* q, void* item, uint32_t timeout_ms)
{
	return xQueueReceive(handle(q), item, ticks(timeout_ms)) == pdTRUE;
}

size_t port_queue_count(port_queue_t* q)
{
	return uxQueueMessagesWaiting(handle(q));
}

// A blocked FreeRTOS task wakes within microseconds of a post: spinning would
// only keep a lower-priority task (lwIP's, Wi-Fi's) off the CPU.
bool port_queue_spin(port_queue_t* q, uint32_t us)
{
	(void)us;
	return uxQueueMessagesWaiting(handle(q)) > 0;
}

// FreeRTOS has no join: the task signals `done` when its entry returns and
// waits to be deleted by port_task_join, so that nothing the joiner frees is
// touched afterwards (on two cores a task that deleted itself could still be
// inside xSemaphoreGive, holding the semaphore's spinlock, when the joiner
// deletes it).
struct port_task {
	TaskHandle_t handle;
	SemaphoreHandle_t done;
	void (*entry)(void*);
	void* arg;
};

static void task_main(void* it)
{
	port_task_t* task = it;
	task->entry(task->arg);
	xSemaphoreGive(task->done);
	for (;;)
		vTaskSuspend(NULL);  // a FreeRTOS task must not return
}

static UBaseType_t task_priority(int requested)
{
	if (requested < XM_HOST_PRIORITY_MIN)
		return XM_HOST_PRIORITY_MIN;
	return requested > XM_HOST_PRIORITY_MAX ? XM_HOST_PRIORITY_MAX : (UBaseType_t)requested;
}

port_task_t* port_task_create(const char* name, void (*entry)(void*), void* arg, size_t stack_bytes, int priority)
{
	port_task_t* task = calloc(1, sizeof(*task));
	if (!task)
		return NULL;
	task->entry = entry;
	task->arg = arg;
	task->done = xSemaphoreCreateBinary();
	size_t stack = stack_bytes ? stack_bytes : XM_HOST_TASK_STACK_DEFAULT;
	if (task->done && xTaskCreatePinnedToCore(task_main, name ? name : "xm", stack, task,
			task_priority(priority), &task->handle, XM_HOST_TASK_CORE) == pdPASS)
		return task;
	if (task->done)
		vSemaphoreDelete(task->done);
	free(task);
	return NULL;
}

void port_task_join(port_task_t* task)
{
	xSemaphoreTake(task->done, portMAX_DELAY);
	vTaskDelete(task->handle);
	vSemaphoreDelete(task->done);
	free(task);
}

void port_task_sleep(uint32_t ms)
{
	vTaskDelay(ticks(ms));
}

// The stack grows down from its top to pxTaskGetStackStart, its lowest address.
// A small stack keeps three quarters of what is left usable: without this the
// limit could lie above the caller's own frame.
char* port_stack_limit(void)
{
	char* start = (char*)pxTaskGetStackStart(NULL);
	size_t left = (size_t)((char*)__builtin_frame_address(0) - start);
	size_t spare = XM_HOST_STACK_SPARE;
	return start + (spare > left / 4 ? left / 4 : spare);
}

uint64_t port_millis(void)
{
	return (uint64_t)esp_timer_get_time() / 1000u;
}

// ESP-IDF's calendar clock counts from 1970 at boot until SNTP (or an RTC kept
// across a deep sleep) sets it: a date before 2024 means nobody has.
#define DATE_KNOWN_FROM_S 1704067200  // 2024-01-01T00:00:00Z

uint64_t port_epoch_ms(void)
{
	struct timeval tv;
	if (gettimeofday(&tv, NULL) != 0 || tv.tv_sec < DATE_KNOWN_FROM_S)
		return 0;
	return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

// The hardware RNG; before Wi-Fi or Bluetooth runs its entropy comes from the
// bootloader's seeding, which ESP-IDF documents as enough for non-crypto use.
void port_random(void* buf, size_t length)
{
	esp_fill_random(buf, length);
}

// All the free heap malloc can use (MALLOC_CAP_DEFAULT), perhaps in pieces;
// the largest block may be smaller. The virtual board defines it from its one heap.
size_t port_free_memory(void)
{
	return esp_get_free_heap_size();
}

// ESP-IDF routes both streams to the console (UART or USB serial); stderr is
// unbuffered and stdout line-buffered, so a line reaches the console whole.
void port_console_write(int stream, const char* text, size_t length)
{
	fwrite(text, 1, length, stream == 2 ? stderr : stdout);
}

void port_fatal(int code)
{
	fprintf(stderr, "xsmg: %s (code %d)\n", XM_HOST_FATAL_RESTART ? "restarting" : "halted", code);
	fflush(stdout);
	fflush(stderr);
#if XM_HOST_FATAL_RESTART
	esp_restart();
#else
	for (;;)
		vTaskSuspend(NULL);
#endif
}
