// SPDX-License-Identifier: MIT
// The board's one heap: picolibc's malloc, from which the kernel also allocates
// (heap_3: task stacks, queues, lwIP's mailboxes) besides the XS machine, lwIP's
// buffers and mongoose. It grows with sbrk, and mallinfo says both what is
// allocated (uordblks) and how far sbrk went (arena), which the RAM budget must
// hold.
#include "board_memory.h"

#include <malloc.h>
#include <stdio.h>

int board_memory_line(char* buf, size_t size)
{
	struct mallinfo m = mallinfo();
	return snprintf(buf, size, "heap_used=%u heap_arena=%u", (unsigned)m.uordblks, (unsigned)m.arena);
}
