// SPDX-License-Identifier: MIT
// Timers for the web globals (setTimeout, setInterval, clearTimeout,
// clearInterval) and for Moddable's `timer` module (Timer.set, repeat, schedule,
// clear), in one list ordered by due time. The run loop sleeps until the head is
// due, so an idle firmware uses no CPU. XS task only.
#include "xm.h"

typedef struct xm_timer {
	struct xm_timer* next;
	uint64_t due;
	uint32_t id;
	uint32_t interval;       // 0: one-shot
	bool scheduled;          // in the list (a Moddable timer can be dormant)
	bool cancelled;
	bool asleep;             // put to sleep by Timer.schedule(id) while firing
	bool pass_id;            // Moddable callbacks receive the timer id
	xsSlot callback;
	xsSlot args;             // extra setTimeout arguments (an array) or undefined
} xm_timer_t;

static xm_timer_t* head;     // scheduled timers, by due time then creation order
static xm_timer_t* dormant;  // Moddable timers not scheduled right now
static xm_timer_t* firing;
static uint32_t last_id;
static uint32_t live;         // created and not yet destroyed, for xm_timers_count

static void insert(xm_timer_t* t)
{
	xm_timer_t** link = &head;
	while (*link && (*link)->due <= t->due)
		link = &(*link)->next;
	t->next = *link;
	*link = t;
	t->scheduled = true;
}

static bool unlink_from(xm_timer_t** link, xm_timer_t* t)
{
	for (; *link; link = &(*link)->next) {
		if (*link == t) {
			*link = t->next;
			t->next = NULL;
			return true;
		}
	}
	return false;
}

static void detach(xm_timer_t* t)
{
	if (!unlink_from(&head, t))
		unlink_from(&dormant, t);
	t->scheduled = false;
}

static xm_timer_t* find(uint32_t id)
{
	if (firing && firing->id == id)
		return firing;
	for (xm_timer_t* t = head; t; t = t->next)
		if (t->id == id)
			return t;
	for (xm_timer_t* t = dormant; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void destroy(xsMachine* the, xm_timer_t* t)
{
	xsForget(t->callback);
	xsForget(t->args);
	free(t);
	live--;
}

static uint32_t delay_arg(xsMachine* the, int index)
{
	if (xsToInteger(xsArgc) <= index || xsTypeOf(xsArg(index)) == xsUndefinedType)
		return 0;
	double ms = xsToNumber(xsArg(index));
	if (!(ms > 0))  // NaN and negatives fire as soon as possible, as in browsers
		return 0;
	return ms > 2147483647.0 ? 2147483647u : (uint32_t)ms;
}

static void check_callback(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1 || !xsIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("timer callback must be a function");
}

static void schedule(xm_timer_t* t, uint32_t delay, uint32_t interval)
{
	t->due = port_millis() + delay;
	t->interval = interval;
	insert(t);
}

// A timer for xsArg(0), scheduled; its id is the result. Called last, after every
// argument was read: what can throw (a delay that is a Symbol, no memory for the
// extra arguments) has thrown before a timer exists to leak. The slots are set
// before they are remembered: assigning a remembered slot would overwrite the
// link XS keeps its roots in.
static void start(xsMachine* the, bool pass_id, xsSlot args, uint32_t delay, uint32_t interval)
{
	xm_timer_t* t = calloc(1, sizeof(xm_timer_t));
	if (!t)
		xsUnknownError("no memory for a timer");
	live++;
	t->id = ++last_id;
	t->pass_id = pass_id;
	t->callback = xsArg(0);
	t->args = args;
	xsRemember(t->callback);
	xsRemember(t->args);
	schedule(t, delay, interval);
	xsResult = xsInteger((int32_t)t->id);
}

static void web_timer(xsMachine* the, bool repeat)
{
	check_callback(the);
	uint32_t delay = delay_arg(the, 1);
	int argc = xsToInteger(xsArgc);
	xsVars(1);
	if (argc > 2) {
		xsVar(0) = xsNewArray(0);
		for (int i = 2; i < argc; i++)
			xsCall1_noResult(xsVar(0), xsID("push"), xsArg(i));
	}
	start(the, false, xsVar(0), delay, repeat ? (delay ? delay : 1) : 0);
}

static void set_timeout(xsMachine* the)
{
	web_timer(the, false);
}

static void set_interval(xsMachine* the)
{
	web_timer(the, true);
}

static void clear(xsMachine* the)
{
	// An id is a number, whichever form XS keeps it in: a Set or Map key, or the
	// result of arithmetic, is a double.
	int type = xsToInteger(xsArgc) < 1 ? xsUndefinedType : xsTypeOf(xsArg(0));
	if (type != xsIntegerType && type != xsNumberType)
		return;  // clearing nothing or a stale id is a no-op, as on the web
	double id = xsToNumber(xsArg(0));
	if (!(id >= 1 && id <= INT32_MAX) || id != (double)(int32_t)id)
		return;
	xm_timer_t* t = find((uint32_t)id);
	if (!t)
		return;
	if (t == firing) {
		t->cancelled = true;
		return;
	}
	detach(t);
	destroy(the, t);
}

// Moddable: Timer.set(callback[, delay[, repeat]]) and Timer.repeat(callback, interval)
void xm_timer_set(xsMachine* the)
{
	check_callback(the);
	uint32_t delay = delay_arg(the, 1), interval = delay_arg(the, 2);
	start(the, true, xsUndefined, delay, interval);
}

void xm_timer_repeat(xsMachine* the)
{
	check_callback(the);
	uint32_t interval = delay_arg(the, 1);
	start(the, true, xsUndefined, interval, interval ? interval : 1);
}

// Moddable: Timer.schedule(id[, delay[, repeat]]); without delay the timer sleeps.
void xm_timer_schedule(xsMachine* the)
{
	xm_timer_t* t = find((uint32_t)xsToInteger(xsArg(0)));
	if (!t || t->cancelled)
		xsUnknownError("no such timer");
	bool sleeps = xsToInteger(xsArgc) < 2 || xsTypeOf(xsArg(1)) == xsUndefinedType;
	// Read before the timer leaves its list: a delay that throws leaves it where it was.
	uint32_t delay = sleeps ? 0 : delay_arg(the, 1), interval = sleeps ? 0 : delay_arg(the, 2);
	if (t != firing)
		detach(t);
	if (sleeps) {
		t->interval = 0;
		t->scheduled = false;
		if (t == firing)
			t->asleep = true;
		else {
			t->next = dormant;
			dormant = t;
		}
		return;
	}
	if (t == firing) {
		t->due = port_millis() + delay;
		t->interval = interval;
		t->scheduled = true;  // fire() re-inserts it
		t->asleep = false;    // a Timer.schedule(id) earlier in this callback no longer holds
		return;
	}
	schedule(t, delay, interval);
}

void xm_timer_clear(xsMachine* the)
{
	clear(the);
}

static void fire(xsMachine* the, void* arg)
{
	xm_timer_t* t = arg;
	if (t->pass_id)
		xsCallFunction1(t->callback, xsUndefined, xsInteger((int32_t)t->id));
	else if (xsTypeOf(t->args) == xsUndefinedType)
		xsCallFunction0(t->callback, xsUndefined);
	else {
		xsVars(1);
		xsVar(0) = xsGet(xsGlobal, xsID("Reflect"));
		xsCall3_noResult(xsVar(0), xsID("apply"), t->callback, xsUndefined, t->args);
	}
}

uint32_t xm_timers_fire(xsMachine* the)
{
	uint64_t now = port_millis();
	// Only timers due when this pass began: one that re-arms itself at 0 ms
	// must not starve the message queue.
	uint64_t horizon = now;
	while (head && head->due <= horizon) {
		xm_timer_t* t = head;
		head = t->next;
		t->next = NULL;
		t->scheduled = false;
		if (t->interval) {
			t->due += t->interval;
			if (t->due <= now)
				t->due = now + t->interval;  // fell behind: skip, do not burst
			t->scheduled = true;
		}
		firing = t;
		xm_dispatch(the, fire, t);
		firing = NULL;
		if (t->cancelled)
			destroy(the, t);
		else if (t->scheduled)
			insert(t);
		else if (t->asleep) {
			t->asleep = false;
			t->next = dormant;
			dormant = t;
		}
		else
			destroy(the, t);
		now = port_millis();
	}
	if (!head)
		return PORT_FOREVER;
	return head->due > now ? (uint32_t)(head->due - now) : 0;
}

bool xm_timers_pending(void)
{
	return head != NULL;
}

uint32_t xm_timers_count(void)
{
	return live;
}

void xm_timers_free(xsMachine* the)
{
	xm_timer_t* lists[] = { head, dormant };
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			xm_timer_t* t = lists[i];
			lists[i] = t->next;
			destroy(the, t);
		}
	}
	head = dormant = NULL;
}

void xm_timers_install(xsMachine* the)
{
	static const struct {
		const char* name;
		xsCallback fn;
		int length;
	} globals[] = {
		{ "setTimeout", set_timeout, 2 }, { "setInterval", set_interval, 2 },
		{ "clearTimeout", clear, 1 }, { "clearInterval", clear, 1 },
	};
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		xsVar(0) = xsNewHostFunction(globals[i].fn, globals[i].length);
		xsDefine(xsGlobal, xsID(globals[i].name), xsVar(0), xsDontEnum);
	}
}
