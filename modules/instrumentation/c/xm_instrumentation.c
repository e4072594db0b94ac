// SPDX-License-Identifier: MIT
// The counters of Moddable's instrumentation module that this runtime can
// report honestly, under Moddable's names. Indices start at 1, as Moddable's
// first real counter does, so that an index is never 0. Moddable reads counters
// that reset every second (bytes sent, turns) from a sampler this runtime does
// not have: those names are left out, and map() answers undefined for them.
#include "xm.h"
#include "xm_instrumentation.h"

#include <string.h>

typedef double (*reader_t)(xsMachine* the);

static double sockets(xsMachine* the)
{
	uint32_t count;
	if (!xm_instrumentation_sockets(&count))
		xsUnknownError("Network Sockets: the host could not count its sockets");
	return count;
}

static double timers(xsMachine* the)
{
	(void)the;
	return xm_timers_count();
}

static double free_memory(xsMachine* the)
{
	(void)the;
	return (double)port_free_memory();
}

static double slot_bytes(xsMachine* the)
{
	xm_heap_t heap;
	xm_stats_heap(the, &heap);
	return (double)heap.slot_bytes;
}

static double chunk_bytes(xsMachine* the)
{
	xm_heap_t heap;
	xm_stats_heap(the, &heap);
	return (double)heap.chunk_bytes;
}

static double keys(xsMachine* the)
{
	xm_heap_t heap;
	xm_stats_heap(the, &heap);
	return heap.keys;
}

static double collections(xsMachine* the)
{
	xm_heap_t heap;
	xm_stats_heap(the, &heap);
	return heap.collections;
}

static const struct {
	const char* name;
	reader_t read;
} counters[] = {
	{ "Network Sockets", sockets },
	{ "Timers", timers },
	{ "System Free Memory", free_memory },
	{ "XS Slot Heap Used", slot_bytes },
	{ "XS Chunk Heap Used", chunk_bytes },
	{ "XS Keys Used", keys },
	{ "XS Garbage Collection Count", collections },
};

#define COUNTERS (sizeof(counters) / sizeof(counters[0]))

// The counter at a JavaScript index, or -1 (Moddable answers undefined, not an error).
static int slot_of(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1)
		return -1;
	double index = xsToNumber(xsArg(0));
	return index >= 1 && index <= COUNTERS ? (int)index - 1 : -1;
}

void xm_instrumentation_get(xsMachine* the)
{
	int i = slot_of(the);
	if (i >= 0)
		xsResult = xsNumber(counters[i].read(the));
}

void xm_instrumentation_name(xsMachine* the)
{
	int i = slot_of(the);
	if (i >= 0)
		xsResult = xsString(counters[i].name);
}

void xm_instrumentation_map(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1)
		return;
	const char* name = xsToString(xsArg(0));
	for (size_t i = 0; i < COUNTERS; i++)
		if (!strcmp(counters[i].name, name)) {
			xsResult = xsInteger((int32_t)i + 1);
			return;
		}
}
