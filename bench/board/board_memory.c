// SPDX-License-Identifier: MIT
// The board's two heaps: FreeRTOS's heap_4 (task stacks, queues, lwIP's
// mailboxes) is a fixed array in bss, so its used part is its size minus
// xPortGetFreeHeapSize; picolibc's malloc (the XS machine, lwIP's buffers,
// mongoose) grows with sbrk, and mallinfo says both what is allocated
// (uordblks) and how far sbrk went (arena), which the RAM budget must hold.
#include "board_memory.h"

#include <malloc.h>
#include <stdio.h>

// heap_4's own functions, declared here because an app's C (the TypeScript
// apps' native) is compiled without the kernel's headers.
size_t xPortGetFreeHeapSize(void);
size_t xPortGetMinimumEverFreeHeapSize(void);

int board_memory_line(char* buf, size_t size)
{
	struct mallinfo m = mallinfo();
	return snprintf(buf, size, "kernel_free=%u kernel_min_free=%u libc_used=%u libc_arena=%u",
		(unsigned)xPortGetFreeHeapSize(), (unsigned)xPortGetMinimumEverFreeHeapSize(), (unsigned)m.uordblks,
		(unsigned)m.arena);
}
