// SPDX-License-Identifier: MIT
// Manager timers (mg_timer) calling JavaScript. mongoose reads a timer after
// calling it and frees one-shot timers itself, so a timer cancelled or finished
// during poll is parked (it can never fire again) and freed once mg_mgr_poll
// has returned.
#include "xm_args.h"

struct xm_mg_doomed {
	struct xm_mg_doomed* next;
	struct mg_timer* timer;
};

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
		// Parked: it never fires again. With no memory to list it for freeing, it
		// stays, harmless, until the Manager closes.
		timer->flags = MG_TIMER_ONCE | MG_TIMER_CALLED;
		struct xm_mg_doomed* d = malloc(sizeof(*d));
		if (d) {
			d->timer = timer;
			d->next = m->doomed;
			m->doomed = d;
		}
		return;
	}
	mg_timer_free(&m->mgr.timers, timer);
	free(timer);
}

static void fire(void* arg)
{
	xm_mg_timer_t* t = arg;
	if (!t->active || !t->m || t->m->in_gc)
		return;
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

void xm_mg_timers_reap(xm_mg_t* m)
{
	while (m->doomed) {
		struct xm_mg_doomed* d = m->doomed;
		m->doomed = d->next;
		mg_timer_free(&m->mgr.timers, d->timer);
		free(d->timer);
		free(d);
	}
}

void xm_mg_timers_close(xsMachine* the, xm_mg_t* m)
{
	xm_mg_timers_reap(m);
	for (xm_mg_timer_t* t = m->timers; t; t = t->next) {
		t->timer = NULL;  // mg_mgr_free frees every mongoose timer
		deactivate(the, t);
	}
}

void xm_mg_timers_orphan(xm_mg_t* m)
{
	for (xm_mg_timer_t* t = m->timers; t; t = t->next) {
		t->m = NULL;
		t->timer = NULL;
	}
	m->timers = NULL;
	xm_mg_timers_reap(m);  // the mg_mgr is still there: mg_mgr_free, if to come, frees the others
}

// timerAdd(manager, ms, callback, repeat, runNow)
void xm_mg_timer_add(xsMachine* the)
{
	xm_mg_timer_add_in_t a = xm_mg_timer_add_in(the);
	xm_mg_t* m = a.manager;
	double ms = a.ms;
	if (!(ms >= 0))
		xsRangeError("timer period must be a number of milliseconds >= 0");
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
	xsResult = xsNewHostInstance(xm_mg_protos[XM_MG_PROTO_TIMER]);
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
