// SPDX-License-Identifier: MIT
// The native of broker_heap.js: the XS machine's live heap after a collection,
// so that garbage is not counted (bench/mqtt/broker.mjs divides the growth by
// the clients connected).
#include <stdio.h>

#include "xsAll.h"
#include "xsmc.h"

void bench_broker_heap(xsMachine* the)
{
	xsCollectGarbage();
	char line[80];
	snprintf(line, sizeof(line), "slots=%u chunks=%u", (unsigned)(the->currentHeapCount * sizeof(txSlot)),
		(unsigned)the->currentChunksSize);
	xsmcSetString(xsResult, line);
}
