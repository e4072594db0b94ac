// SPDX-License-Identifier: MIT
// Test doubles for what runtime/xm_loop.c calls besides port.h: the XS engine's
// host API (a fake machine with a small slot stack, no JavaScript) and the rest of
// the runtime (timers, console, modules). They let the loop's own logic (message
// order, stop, refs, idle exit, timer waits, turn ends) run without the engine.
#ifndef LOOP_STUBS_H
#define LOOP_STUBS_H

#include "xsAll.h"
#include "xm.h"

// Called on the XS task when the loop boots (from the xm_modules_check stub).
extern void (*stub_boot_hook)(xsMachine* the);

// Timers: while stub_timer_waits[i] is nonzero, the i-th call of xm_timers_fire
// returns it and xm_timers_pending is true; then no timers are left.
extern uint32_t stub_timer_waits[8];
extern uint64_t stub_timer_fire_times[8];
extern int stub_timer_fires;

// Counters of engine calls, for checking what a turn does.
typedef struct {
	int machines_created, machines_deleted;
	int boots, begin_host, end_host;
	int promise_runs, end_jobs, rejection_checks;
	int uncaught, aborts, overflows;
	const char* last_uncaught;
} stub_counts_t;

extern stub_counts_t stub_counts;

// Fake-only: promise jobs the next fxRunPromiseJobs calls find queued again
// (to check that a turn drains jobs queued by jobs).
extern int stub_requeue_jobs;

#endif
