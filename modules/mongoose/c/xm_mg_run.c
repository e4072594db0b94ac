// SPDX-License-Identifier: MIT
// run(): a Manager served by the runtime's loop as one of its sources (xm.h).
// The XS task waits in mg_mgr_poll instead of on its queue, so timers, promise
// jobs and posted work (an AsyncManager's events, a stop) run beside the
// Manager; a post interrupts the wait through mongoose's wakeup pipe, and each
// event is a turn of its own, as a posted callback is.
#include <limits.h>
#include <stddef.h>
#include "xm_mg.h"
#include "xm_args.h"

static xm_mg_t* manager_of(xm_source_t* source)
{
	return (xm_mg_t*)((char*)source - offsetof(xm_mg_t, source));
}

bool xm_mg_turn_begin(xm_mg_t* m)
{
	bool turn = m->turns;
	m->turns = false;
	return turn;
}

void xm_mg_turn_end(xsMachine* the, xm_mg_t* m)
{
	xm_turn_end(the);
	m->turns = true;
}

static void run_wait(xsMachine* the, xm_source_t* source, uint32_t ms)
{
	xm_mg_t* m = manager_of(source);
	xsBeginHost(the);
	{
		xsTry {
			xm_mg_poll(the, m, ms > INT_MAX ? INT_MAX : (int)ms, true);
		}
		xsCatch {
			xm_uncaught(the, "uncaught exception");
		}
	}
	xsEndHost(the);
	xm_turn_end(the);  // a close() a handler asked for has just settled run()'s promise
}

// Any task. The pipe's socket changes only in mg_mgr_free, which close() calls
// after xm_source_remove has waited for the wakes in progress.
static void run_wake(xm_source_t* source)
{
	xm_mg_t* m = manager_of(source);
	mg_wakeup(&m->mgr, m->pipe_id, "", 0);
}

static void run_stop(xsMachine* the, xm_source_t* source)
{
	xm_mg_run_end(the, manager_of(source));
}

void xm_mg_run_end(xsMachine* the, xm_mg_t* m)
{
	if (!m->running)
		return;
	m->running = false;
	xm_source_remove(&m->source);
	xsCallFunction0(m->resolve, xsUndefined);
	xsForget(m->resolve);
	xsForget(m->object);
}

// run(manager, pollMs, resolve): serves the Manager from the loop until close()
// or a stop, then calls resolve. Remembered meanwhile: a running Manager with no
// connection left is still reachable from the loop, not garbage.
void xm_mg_manager_run(xsMachine* the)
{
	xm_mg_manager_run_in_t a = xm_mg_manager_run_in(the);
	xm_mg_t* m = a.manager;
	if (m->running)
		return;
	if (!m->pipe_id) {
		if (!mg_wakeup_init(&m->mgr))
			xsUnknownError("run: cannot set up the Manager's wakeup pipe (socketpair failed)");
		m->pipe_id = m->mgr.conns->id;  // mongoose puts the pipe first
	}
	m->source = (xm_source_t){ run_wait, run_wake, run_stop, a.pollMs < 0 ? 0 : (uint32_t)a.pollMs };
	if (!xm_source_add(&m->source))
		xsUnknownError("run: %d Managers are running already, the most the loop serves at once", XM_SOURCES_MAX);
	m->running = true;
	m->object = xsArg(0);
	xsRemember(m->object);
	m->resolve = xsArg(2);
	xsRemember(m->resolve);
}
