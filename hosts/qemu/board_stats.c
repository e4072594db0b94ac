// SPDX-License-Identifier: MIT
// --stats on the board: after the XS machine's xs-ram line (runtime/xm_stats.c),
// the RAM the rest of the board took, for sizing --ram and the tasks' stacks:
//
//   board-ram: heap=<peak>/<size> heap-used=<bytes> stack-unused=<task>:<bytes>,...
//
// heap is how far picolibc's malloc moved the break (mallinfo's arena; its free
// never gives memory back to the break) against what the linker script left of
// --ram. It is the board's one heap (heap_3, FreeRTOSConfig.h): the XS machine,
// the tasks' stacks and blocks, queues, lwIP's pbufs, pcbs and mailboxes,
// mongoose's buffers, the NIC's buffers. heap-used is what is allocated from it
// at the time of printing (the rest of the peak is free, maybe in pieces).
// stack-unused is the least stack each task ever had left, for the tasks alive
// at exit and those deleted before (the main task, an AsyncManager's poll
// task): the link wraps vTaskDelete.
#include "board_stats.h"

#include "esp_system.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

// More than the board runs at once (main, the time limit, idle, lwIP's tcpip,
// the NIC's receive task, the XS task, a poll task) or ends in a run.
#define TASKS_SEEN 10

typedef struct {
	char name[configMAX_TASK_NAME_LEN];
	unsigned long unused;
} ended_t;

static ended_t ended[TASKS_SEEN];
static unsigned ended_count;

void __real_vTaskDelete(TaskHandle_t task);

// Called by the task itself (NULL) or by the one that joins it, never from an interrupt.
void __wrap_vTaskDelete(TaskHandle_t task)
{
	if (ended_count < TASKS_SEEN) {
		ended_t* it = &ended[ended_count++];
		strncpy(it->name, pcTaskGetName(task), sizeof(it->name) - 1);
		it->unused = (unsigned long)(uxTaskGetStackHighWaterMark(task) * sizeof(StackType_t));
	}
	__real_vTaskDelete(task);
}

// ESP-IDF's call (hosts/esp32's port_free_memory) on this board: its one heap
// less what is allocated from it, which counts what malloc has not yet taken
// from the break as free, as ESP-IDF counts its untouched heap regions.
uint32_t esp_get_free_heap_size(void)
{
	extern char __heap_start[], __heap_end[];
	struct mallinfo heap = mallinfo();
	return (uint32_t)((size_t)(__heap_end - __heap_start) - heap.uordblks);
}

void board_stats_print(void)
{
	extern char __heap_start[], __heap_end[];
	static TaskStatus_t tasks[TASKS_SEEN];
	UBaseType_t count = uxTaskGetSystemState(tasks, TASKS_SEEN, NULL);
	struct mallinfo heap = mallinfo();
	printf("board-ram: heap=%lu/%lu heap-used=%lu stack-unused=", (unsigned long)heap.arena,
		(unsigned long)(__heap_end - __heap_start), (unsigned long)heap.uordblks);
	const char* comma = "";
	for (unsigned i = 0; i < ended_count; i++, comma = ",")
		printf("%s%s:%lu", comma, ended[i].name, ended[i].unused);
	// A task that deleted itself is listed until the idle task frees it: counted once, above.
	for (UBaseType_t i = 0; i < count; i++)
		if (tasks[i].eCurrentState != eDeleted) {
			printf("%s%s:%lu", comma, tasks[i].pcTaskName, (unsigned long)(tasks[i].usStackHighWaterMark * sizeof(StackType_t)));
			comma = ",";
		}
	printf("\n");
}
