// SPDX-License-Identifier: MIT
// `--stats`: the XS machine's RAM, printed at exit for people sizing a creation
// profile and for scripts (bench/, tests), on every host with a console.
//
//   xs-ram: boot=<bytes> peak=<bytes> slots=<live>/<max> chunks=<used>/<max>
//
// boot and peak count what the machine holds in RAM: its live slots, its chunk
// bytes in use, and its tables (keys, name and symbol hash tables, aliases of
// preloaded objects). boot is taken just after the machine is created, before
// main is imported; peak is the slots' and chunks' high-water marks plus the
// tables. slots and chunks are live at exit (after a collection) against the
// creation profile's limits. Built-ins and preloaded modules in a prepared
// machine are const data (flash on a device) and are not counted.
//
// The same figures, live, feed the instrumentation module (xm_stats_heap). The
// engine counts its collections only when built with mxInstrument, which also
// slows every call (stack peak tracking): a host object kept alive from C
// counts them instead, since a collection calls its marker exactly once.
#include "xsAll.h"
#include "xm.h"

static size_t boot_bytes;
static uint32_t collections;
static xsSlot counter;  // remembered: a root for as long as the machine lives

static void count_collection(xsMachine* the, void* data, xsMarkRoot mark)
{
	(void)the;
	(void)mark;
	(*(uint32_t*)data)++;
}

static const xsHostHooks counter_hooks = { NULL, count_collection, NULL };

static size_t table_bytes(xsMachine* the)
{
	size_t keys = (size_t)(the->keyCount - the->keyOffset);
	return (keys + (size_t)the->nameModulo + (size_t)the->symbolModulo + (size_t)the->aliasCount) * sizeof(txSlot*);
}

void xm_stats_heap(xsMachine* the, xm_heap_t* heap)
{
	heap->slot_bytes = (size_t)the->currentHeapCount * sizeof(txSlot);
	heap->chunk_bytes = (size_t)the->currentChunksSize;
	heap->keys = (uint32_t)(the->keyIndex - the->keyOffset);
	heap->collections = collections;
}

size_t xm_stats_chunks_free(xsMachine* the, size_t* size)
{
	*size = (size_t)the->maximumChunksSize;
	if (xm_app.profile.chunk_incremental)
		return SIZE_MAX;
	size_t used = (size_t)the->currentChunksSize;
	return used < *size ? *size - used : 0;
}

size_t xm_stats_slots_free(xsMachine* the, size_t* count)
{
	*count = (size_t)the->maximumHeapCount;
	if (xm_app.profile.heap_incremental)
		return SIZE_MAX;
	size_t used = (size_t)the->currentHeapCount;
	return used < *count ? *count - used : 0;
}

void xm_stats_boot(xsMachine* the)
{
	xsBeginHost(the);
	counter = xsNewHostObject(NULL);
	xsSetHostData(counter, &collections);
	xsSetHostHooks(counter, &counter_hooks);
	xsRemember(counter);
	xsEndHost(the);
	xm_heap_t heap;
	xm_stats_heap(the, &heap);
	boot_bytes = heap.slot_bytes + heap.chunk_bytes + table_bytes(the);
}

void xm_stats_print(xsMachine* the)
{
	char line[160];
	size_t peak = (size_t)the->peakHeapCount * sizeof(txSlot) + (size_t)the->peakChunksSize + table_bytes(the);
	int n = snprintf(line, sizeof(line), "xs-ram: boot=%lu peak=%lu slots=%d/%d chunks=%d/%d\n",
		(unsigned long)boot_bytes, (unsigned long)peak, (int)the->currentHeapCount, (int)the->maximumHeapCount,
		(int)the->currentChunksSize, (int)the->maximumChunksSize);
	port_console_write(2, line, (size_t)n);
}

