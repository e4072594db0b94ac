// SPDX-License-Identifier: MIT
// The native of xs_memory.js: board_memory_line, then the XS machine's heap
// after a collection, so that garbage is not counted. Slots and chunks are
// what is live; "reserved" is what the machine took from the C library's heap
// (XS never gives it back), and is part of heap_used.
#include "board_memory.h"

#include <stdio.h>

#include "xsAll.h"
#include "xsmc.h"

void bench_board_memory(xsMachine* the)
{
	xsCollectGarbage();
	char line[320];
	int n = board_memory_line(line, sizeof(line));
	if (n < 0 || (size_t)n >= sizeof(line))
		xsUnknownError("bench_board_memory: the line does not fit in %u bytes", (unsigned)sizeof(line));
	snprintf(line + n, sizeof(line) - (size_t)n, " xs_slots=%u xs_chunks=%u xs_reserved=%u",
		(unsigned)(the->currentHeapCount * sizeof(txSlot)), (unsigned)the->currentChunksSize,
		(unsigned)(the->maximumHeapCount * sizeof(txSlot) + the->maximumChunksSize));
	xsmcSetString(xsResult, line);
}
