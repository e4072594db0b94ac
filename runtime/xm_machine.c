// SPDX-License-Identifier: MIT
// The engine's platform hooks: machine creation from the creation profile,
// promise job scheduling, stack limit, what happens when the engine aborts, and
// the one look inside a value that modules need (xm_host_destructor).
// Memory comes from malloc; with an incremental size of 0 the engine itself
// refuses to grow an area, which is how a profile's limits are enforced.
#include "xsAll.h"
#include "xm.h"
#include "xm_modules.h"

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

xsMachine* xm_machine_create(void)
{
	const xm_profile_t* p = &xm_app.profile;
	xsCreation creation = {
		p->chunk_initial, p->chunk_incremental, p->heap_initial, p->heap_incremental,
		p->stack, p->keys_initial, p->keys_incremental, p->name_modulo, p->symbol_modulo,
		p->parser_buffer, p->parser_table, 0,
	};
	unsigned seed;
	port_random(&seed, sizeof(seed));
	srand(seed);  // Math.random is the engine's c_rand, the C library's rand()
	// With a prepared machine the built-ins and preloaded modules stay where they
	// are (flash on a device) and the heap starts nearly empty.
	if (xm_image.preparation)
		return fxPrepareMachine(&creation, (txPreparation*)*xm_image.preparation, "xsmg", NULL, NULL);
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

xsDestructor xm_host_destructor(xsSlot* value)
{
	txSlot* slot = (txSlot*)value;
	if (slot->kind != XS_REFERENCE_KIND)
		return NULL;
	txSlot* host = slot->value.reference->next;
	if (!host || !(host->flag & XS_INTERNAL_FLAG) || host->kind != XS_HOST_KIND || (host->flag & XS_HOST_HOOKS_FLAG))
		return NULL;
	return host->value.host.variant.destructor;
}
