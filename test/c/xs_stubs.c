// SPDX-License-Identifier: MIT
// Test doubles: see loop_stubs.h. The fake machine is a zeroed txMachine with a
// small slot stack so the xs.h macros used by xm_loop.c (xsBeginHost, xsTry,
// xsVars, xsVar, fxPush/fxPop) work on real memory; the engine functions behind
// them only keep the stack balanced and count calls.
#include "loop_stubs.h"

#include <stdlib.h>

enum { FAKE_STACK_SLOTS = 64 };

void (*stub_boot_hook)(xsMachine* the);
uint32_t stub_timer_waits[8];
uint64_t stub_timer_fire_times[8];
int stub_timer_fires;
stub_counts_t stub_counts;
int stub_requeue_jobs;

const xm_app_t xm_app = {
	.main = "main",
	.profile = { .name = "test" },
};

// ---- the rest of the runtime ---------------------------------------------

xsMachine* xm_machine_create(void)
{
	txMachine* the = calloc(1, sizeof(txMachine));
	txSlot* slots = calloc(FAKE_STACK_SLOTS, sizeof(txSlot));
	if (!the || !slots) {
		free(the);
		free(slots);
		return NULL;
	}
	the->stackBottom = slots;
	the->stackTop = slots + FAKE_STACK_SLOTS;
	// stackTop[-1] and [-2] hold the global and the exception, as in the engine.
	the->stack = the->scope = the->frame = the->stackTop - 4;
	stub_counts.machines_created++;
	return the;
}

void xm_modules_check(xsMachine* the)
{
	stub_counts.boots++;
	if (stub_boot_hook)
		stub_boot_hook(the);
}

void xm_console_install(xsMachine* the)
{
	(void)the;
}

void xm_timers_install(xsMachine* the)
{
	(void)the;
}

void xm_stats_boot(xsMachine* the)
{
	(void)the;
}

void xm_stats_print(xsMachine* the)
{
	(void)the;
}

void xm_symbols_install(xsMachine* the)
{
	(void)the;
}

bool xm_timers_pending(void)
{
	return stub_timer_fires < 8 && stub_timer_waits[stub_timer_fires] != 0;
}

uint32_t xm_timers_fire(xsMachine* the)
{
	(void)the;
	if (!xm_timers_pending())
		return PORT_FOREVER;
	stub_timer_fire_times[stub_timer_fires] = port_millis();
	return stub_timer_waits[stub_timer_fires++];
}

void xm_timers_free(xsMachine* the)
{
	(void)the;
}

// The real one prints the exception and exits; the double records it so a test
// can check that the loop reported a throw and carried on safely.
void xm_uncaught(xsMachine* the, const char* what)
{
	(void)the;
	stub_counts.uncaught++;
	stub_counts.last_uncaught = what;
}

// ---- the engine ----------------------------------------------------------

txMachine* fxBeginHost(txMachine* the)
{
	stub_counts.begin_host++;
	return the;
}

void fxEndHost(txMachine* the)
{
	(void)the;
	stub_counts.end_host++;
}

void fxAbort(txMachine* the, int status)
{
	(void)the;
	(void)status;
	stub_counts.aborts++;
	abort();
}

void fxOverflow(txMachine* the, txInteger count, txString path, txInteger line)
{
	(void)path;
	(void)line;
	// count is negative for slots about to be pushed.
	if (count < 0 && the->stack + count < the->stackBottom) {
		stub_counts.overflows++;
		abort();
	}
}

txInteger fxCheckVar(txMachine* the, txInteger index)
{
	(void)the;
	return index;
}

txInteger fxCheckArg(txMachine* the, txInteger index)
{
	(void)the;
	return index;
}

void fxVars(txMachine* the, txInteger count)
{
	the->scope = the->stack;
	the->stack -= count;
	for (txInteger i = 0; i < count; i++)
		the->stack[i].kind = XS_UNDEFINED_KIND;
}

void fxUndefined(txMachine* the, txSlot* slot)
{
	(void)the;
	slot->kind = XS_UNDEFINED_KIND;
}

void fxStringX(txMachine* the, txSlot* slot, txString value)
{
	(void)the;
	slot->kind = XS_STRING_X_KIND;
	slot->value.string = value;
}

txSlot* fxNewHostFunction(txMachine* the, txCallback callback, txInteger length, txInteger name, txInteger profile)
{
	(void)callback;
	(void)length;
	(void)name;
	(void)profile;
	--the->stack;
	the->stack->kind = XS_UNDEFINED_KIND;  // stands in for the function object
	return the->stack;
}

txID fxID(txMachine* the, txString name)
{
	(void)the;
	(void)name;
	return 1;
}

void fxAwaitImport(txMachine* the, txBoolean defaultFlag)
{
	(void)defaultFlag;
	the->stack->kind = XS_UNDEFINED_KIND;  // the specifier becomes the promise
}

void fxCallID(txMachine* the, txID id)
{
	(void)the;
	(void)id;
}

void fxRunCount(txMachine* the, txInteger count)
{
	// Pops the arguments; the "this" slot below them becomes the result.
	the->stack += count;
	the->stack->kind = XS_UNDEFINED_KIND;
}

void fxThrow(txMachine* the, txString path, txInteger line)
{
	(void)path;
	(void)line;
	c_longjmp(the->firstJump->buffer, 1);
}

void fxRunPromiseJobs(txMachine* the)
{
	stub_counts.promise_runs++;
	if (stub_requeue_jobs > 0) {
		stub_requeue_jobs--;
		the->promiseJobs = 1;
	}
}

void fxEndJob(txMachine* the)
{
	(void)the;
	stub_counts.end_jobs++;
}

void fxCheckUnhandledRejections(txMachine* the, txBoolean atExit)
{
	(void)the;
	(void)atExit;
	stub_counts.rejection_checks++;
}

void fxCollectGarbage(txMachine* the)
{
	(void)the;
}

void fxDeleteMachine(txMachine* the)
{
	stub_counts.machines_deleted++;
	free(the->stackBottom);
	free(the);
}
