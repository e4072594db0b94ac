// SPDX-License-Identifier: MIT
// The engine's platform hooks: memory inside the creation profile's budget,
// promise job scheduling, stack limit, and what happens when the engine aborts.
#include "xsAll.h"
#include "xm.h"

// One machine per firmware, so its accounting is global. XS task only.
static struct {
	size_t chunk_bytes, chunk_limit;
	size_t slot_count, slot_limit;
} budget;

// Chunks and slots are freed without a size, so each block carries its own.
typedef union {
	size_t size;
	max_align_t align;
} block_header_t;

static void* allocate(size_t bytes, size_t units, size_t* used, size_t limit)
{
	if (limit && *used + units > limit)
		return NULL;
	block_header_t* block = malloc(sizeof(block_header_t) + bytes);
	if (!block)
		return NULL;
	block->size = units;
	*used += units;
	return block + 1;
}

static void release(void* data, size_t* used)
{
	if (!data)
		return;
	block_header_t* block = (block_header_t*)data - 1;
	*used -= block->size;
	free(block);
}

static size_t limit_of(int32_t initial, int32_t incremental)
{
	return incremental ? 0 : (size_t)initial;
}

void* fxAllocateChunks(txMachine* the, txSize size)
{
	(void)the;
	return allocate((size_t)size, (size_t)size, &budget.chunk_bytes, budget.chunk_limit);
}

void fxFreeChunks(txMachine* the, void* chunks)
{
	(void)the;
	release(chunks, &budget.chunk_bytes);
}

txSlot* fxAllocateSlots(txMachine* the, txSize count)
{
	(void)the;
	return allocate((size_t)count * sizeof(txSlot), (size_t)count, &budget.slot_count, budget.slot_limit);
}

void fxFreeSlots(txMachine* the, void* slots)
{
	(void)the;
	release(slots, &budget.slot_count);
}

void fxCreateMachinePlatform(txMachine* the)
{
	the->promiseJobs = 0;
}

void fxDeleteMachinePlatform(txMachine* the)
{
	(void)the;
}

void fxQueuePromiseJobs(txMachine* the)
{
	the->promiseJobs = 1;
}

char* fxCStackLimit(void)
{
	return port_stack_limit();
}

// The firmware carries no parser: modules are compiled ahead of time.
txScript* fxParseScript(txMachine* the, void* stream, txGetter getter, txUnsigned flags)
{
	(void)stream;
	(void)getter;
	(void)flags;
	mxTypeError("eval and new Function are not available: firmware modules are compiled ahead of time");
	return NULL;
}

#ifndef mxUseGCCAtomics
// Without compare-and-swap (rv32imc) the engine asks the host to lock shared
// chunks; a firmware has a single machine, so nothing else can hold them.
void fxLockSharedChunk(void* data)
{
	(void)data;
}

void fxUnlockSharedChunk(void* data)
{
	(void)data;
}
#endif

xsMachine* xm_machine_create(void)
{
	const xm_profile_t* p = &xm_app.profile;
	xsCreation creation = {
		p->chunk_initial, p->chunk_incremental, p->heap_initial, p->heap_incremental,
		p->stack, p->keys_initial, p->keys_incremental, p->name_modulo, p->symbol_modulo,
		p->parser_buffer, p->parser_table, 0,
	};
	budget.chunk_limit = limit_of(p->chunk_initial, p->chunk_incremental);
	budget.slot_limit = limit_of(p->heap_initial, p->heap_incremental);
	return xsCreateMachine(&creation, "xsmg", NULL);
}

static void print_reason(const char* reason)
{
	char line[256];
	const xm_profile_t* p = &xm_app.profile;
	int n = snprintf(line, sizeof(line), "xsmg: fatal: %s (creation profile '%s': %d heap slots, %d chunk bytes, %d stack slots)\n",
		reason, p->name, (int)p->heap_initial, (int)p->chunk_initial, (int)p->stack);
	port_console_write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

// The engine calls this when it cannot go on. The machine may be out of memory
// or stack, so only the uncaught cases run JavaScript to describe the value.
void fxAbort(txMachine* the, int status)
{
	switch (status) {
	case XS_UNHANDLED_EXCEPTION_EXIT:
		xm_uncaught(the, "uncaught exception");
		break;
	case XS_UNHANDLED_REJECTION_EXIT:
		xm_uncaught(the, "unhandled rejection");
		break;
	case XS_NOT_ENOUGH_MEMORY_EXIT:
		print_reason("out of memory: the XS heap is full");
		port_fatal(XM_EXIT_NO_MEMORY);
	case XS_NO_MORE_KEYS_EXIT:
		print_reason("out of memory: no more XS keys");
		port_fatal(XM_EXIT_NO_MEMORY);
	case XS_STACK_OVERFLOW_EXIT:
		print_reason("stack overflow");
		port_fatal(XM_EXIT_STACK);
	default:
		print_reason("the XS engine aborted");
		port_fatal(XM_EXIT_FATAL);
	}
	port_fatal(XM_EXIT_UNCAUGHT);
}
