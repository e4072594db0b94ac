// SPDX-License-Identifier: MIT
// Manager timers (mg_timer) calling JavaScript. mongoose reads a timer after
// calling it and frees one-shot timers itself, so a timer cancelled or finished
// during poll is parked (it can never fire again, and without MG_TIMER_AUTODELETE
// mongoose keeps it) and freed once mg_mgr_poll has returned.
#include "xm_args.h"

// Inactive timers are not remembered, so this runs only for them. A record
// with a Manager is on its list: timerAdd links it, only orphaning unlinks it.
void xm_mg_timer_destroy(void* data)
{
	xm_mg_timer_t* t = data;
	if (!t)
		return;
	if (t->m) {
		xm_mg_timer_t** link = &t->m->timers;
		while (*link != t)
			link = &(*link)->next;
		*link = t->next;
	}
	free(t);
}

// A record without a Manager has no mongoose timer either (orphaned: both cleared).
static void deactivate(xsMachine* the, xm_mg_timer_t* t)
{
	if (!t->active)
		return;
	t->active = false;
	xsForget(t->callback);
	xsForget(t->object);
	struct mg_timer* timer = t->timer;
	t->timer = NULL;
	if (!timer)
		return;
	xm_mg_t* m = t->m;
	if (m->polling) {
		timer->flags = MG_TIMER_ONCE | MG_TIMER_CALLED;
		m->parked = true;
		return;
	}
	mg_timer_free(&m->mgr.timers, timer);
	free(timer);
}

// Only an active timer of a live Manager fires: a cancelled one is freed or
// parked, and mg_mgr_free (close, collection) frees them all before it polls.
static void fire(void* arg)
{
	xm_mg_timer_t* t = arg;
	xm_mg_t* m = t->m;  // a running Manager, remembered, outlives the turn
	xsMachine* the = m->the;
	bool turn = xm_mg_turn_begin(m);
	xsBeginHost(the);
	{
		xsVars(2);
		xsVar(0) = t->callback;
		xsVar(1) = t->object;  // keeps the record alive through a one-shot's deactivation
		if (!t->repeat)
			deactivate(the, t);  // first: the callback may add timers or cancel this one
		xsTry {
			xsCallFunction0(xsVar(0), xsUndefined);
		}
		xsCatch {
			xm_uncaught(the, "uncaught exception in a Manager timer");
		}
	}
	xsEndHost(the);
	if (turn)
		xm_mg_turn_end(the, m);
}

// Parked timers are ours (fire) without MG_TIMER_AUTODELETE, which mg_timer_add sets on every other.
void xm_mg_timers_reap(xm_mg_t* m)
{
	if (!m->parked)
		return;
	m->parked = false;
	for (struct mg_timer** link = &m->mgr.timers; *link;) {
		struct mg_timer* timer = *link;
		if (timer->fn == fire && !(timer->flags & MG_TIMER_AUTODELETE)) {
			*link = timer->next;
			free(timer);
		} else {
			link = &timer->next;
		}
	}
}

void xm_mg_timers_close(xsMachine* the, xm_mg_t* m)
{
	for (xm_mg_timer_t* t = m->timers; t; t = t->next) {
		t->timer = NULL;  // mg_mgr_free frees every mongoose timer, parked ones too
		deactivate(the, t);
	}
}

void xm_mg_timers_orphan(xm_mg_t* m)
{
	for (xm_mg_timer_t* t = m->timers; t; t = t->next) {
		t->m = NULL;
		t->timer = NULL;
	}
	m->timers = NULL;  // the mongoose timers, parked ones too, go with mg_mgr_free (done or to come)
}

// timerAdd(manager, ms, callback, repeat, runNow)
void xm_mg_timer_add(xsMachine* the)
{
	xm_mg_timer_add_in_t a = xm_mg_timer_add_in(the);
	xm_mg_t* m = a.manager;
	double ms = a.ms;
	if (!(ms >= 0))
		xsRangeError("timer period must be a number of milliseconds >= 0");
	// First, while nothing is allocated: it throws when the XS heap is full.
	xsResult = xsNewHostInstance(xm_mg_protos[XM_MG_PROTO_TIMER]);
	xm_mg_timer_t* t = calloc(1, sizeof(xm_mg_timer_t));
	if (!t)
		xsUnknownError("no memory for a timer");
	t->repeat = a.repeat;
	unsigned flags = (t->repeat ? MG_TIMER_REPEAT : MG_TIMER_ONCE) | (a.runNow ? MG_TIMER_RUN_NOW : 0);
	t->timer = mg_timer_add(&m->mgr, (uint64_t)ms, flags, fire, t);
	if (!t->timer) {
		free(t);
		xsUnknownError("no memory for a timer");
	}
	t->m = m;
	t->active = true;
	t->callback = xsArg(2);
	xsSetHostData(xsResult, t);
	t->object = xsResult;
	xsRemember(t->callback);
	xsRemember(t->object);
	t->next = m->timers;
	m->timers = t;
}

void xm_mg_timer_cancel(xsMachine* the)
{
	deactivate(the, xm_mg_timer_cancel_in(the).timer);
}

void xm_mg_timer_active(xsMachine* the)
{
	xsResult = xsBoolean(xm_mg_timer_active_in(the).timer->active);
}
