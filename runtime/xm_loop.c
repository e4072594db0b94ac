// SPDX-License-Identifier: MIT
// The XS task's run loop: fire due timers, then sleep on the message queue until
// the next timer or a message from another task, or, while loop sources are
// registered (a running Manager), in the first source's own wait, which a post
// interrupts. Each callback is one turn: it runs in a host frame, then promise
// jobs are drained and unhandled rejections checked, as Node does after each
// macrotask.
#include "xsAll.h"
#include "xm.h"
#include "xm_host_config.h"

extern xsMachine* xm_machine_create(void);

typedef struct {
	xm_callback_t fn;
	void* arg;
} xm_msg_t;

#include <stdatomic.h>

// The queue exists from just before boot. A stop is a message, so work posted
// before it still runs; a stop asked for before the queue exists (a signal
// during start-up) is found in requested_code when the queue is created.
static _Atomic(port_queue_t*) queue;
static atomic_int posting;  // other tasks inside xm_post: the queue must outlive them
static uint32_t refs;
static int stop_code = -1;
static atomic_int requested_code = -1;

// The sources, XS task only; waiter is sources[0] (or NULL) for the posters,
// which wake it when they set wake_pending. The loop clears wake_pending before
// it looks at the queue and waits, so a post after that wakes the wait; one
// before is found in the queue. waking counts posters inside a wake: removing
// the waiter waits for them, as teardown waits for posting.
static xm_source_t* sources[XM_SOURCES_MAX];
static size_t source_count;
static _Atomic(xm_source_t*) waiter;
static atomic_bool wake_pending;
static atomic_int waking;

// A poster counts itself in before it loads the queue; teardown clears the queue
// before it waits for the count to drop (both sequentially consistent), so no
// poster is still unlocking the queue's mutex when it is destroyed.
bool xm_post(xm_callback_t fn, void* arg, uint32_t timeout_ms)
{
	atomic_fetch_add(&posting, 1);
	port_queue_t* q = atomic_load(&queue);
	xm_msg_t msg = { fn, arg };
	bool posted = q && port_queue_post(q, &msg, timeout_ms);
	if (posted && !atomic_exchange(&wake_pending, true)) {
		atomic_fetch_add(&waking, 1);
		xm_source_t* s = atomic_load(&waiter);
		if (s)
			s->wake(s);
		atomic_fetch_sub(&waking, 1);
	}
	atomic_fetch_sub(&posting, 1);
	return posted;
}

bool xm_source_add(xm_source_t* source)
{
	if (source_count == XM_SOURCES_MAX)
		return false;
	sources[source_count++] = source;
	refs++;
	if (source_count == 1)
		atomic_store(&waiter, source);
	return true;
}

void xm_source_remove(xm_source_t* source)
{
	size_t i = 0;
	while (i < source_count && sources[i] != source)
		i++;
	if (i == source_count)
		return;
	source_count--;
	refs--;
	for (; i < source_count; i++)
		sources[i] = sources[i + 1];
	if (atomic_load(&waiter) == source) {
		atomic_store(&waiter, source_count ? sources[0] : NULL);
		while (atomic_load(&waking))
			port_task_sleep(1);
		// The new waiter missed the wakes the old one took: a post meanwhile is in
		// the queue, which the loop looks at before the next wait.
	}
}

static void stop(xsMachine* the, void* arg)
{
	stop_code = (int)(intptr_t)arg;
	// This turn is the sources' last: each settles what waits on it (a Manager's run()).
	while (source_count) {
		xm_source_t* s = sources[source_count - 1];
		xm_source_remove(s);
		s->stop(the, s);
	}
}

void xm_stop(int code)
{
	int none = -1;
	atomic_compare_exchange_strong(&requested_code, &none, code);  // the first reason wins
	// Blocking is fine: the stop comes from a signal or timeout thread, never the XS task.
	xm_post(stop, (void*)(intptr_t)atomic_load(&requested_code), PORT_FOREVER);
}

void xm_ref(void)
{
	refs++;
}

void xm_unref(void)
{
	refs--;
}

// Not nested: fxRunPromiseJobs roots the jobs it runs in one list, which a nested
// call would empty under the outer one. Inside a callback's host frame the jobs
// run above it on the stack, as any call from C into JavaScript does.
void xm_turn_end(xsMachine* the)
{
	do {
		while (the->promiseJobs) {
			the->promiseJobs = 0;
			fxRunPromiseJobs(the);
		}
		fxEndJob(the);
	} while (the->promiseJobs);
	fxCheckUnhandledRejections(the, 1);
}

void xm_dispatch(xsMachine* the, xm_callback_t fn, void* arg)
{
	xsBeginHost(the);
	{
		xsTry {
			fn(the, arg);
		}
		xsCatch {
			xm_uncaught(the, "uncaught exception");
		}
	}
	xsEndHost(the);
	xm_turn_end(the);
}

static void report_main_failure(xsMachine* the)
{
	xsException = xsArg(0);
	xm_uncaught(the, "uncaught exception in main module");
}

static void boot(xsMachine* the, void* arg)
{
	(void)arg;
	xsVars(2);
	xm_modules_check(the);
	xm_console_install(the);
	xm_timers_install(the);
	xm_symbols_install(the);
	xsVar(0) = xsNewHostFunction(report_main_failure, 1);
	xsResult = xsAwaitImport(xm_app.main, XS_IMPORT_ASYNC);
	xsCall2_noResult(xsResult, xsID("then"), xsUndefined, xsVar(0));
}

static bool idle(xsMachine* the)
{
	return !refs && !xm_timers_pending() && !the->promiseJobs && !port_queue_count(atomic_load(&queue));
}

// One round with sources: the first waits (none if work is queued), the others
// are polled, then what was queued by then runs, and no more: a busy poster
// must not hold the sources up. A source removed inside a wait shifts the list,
// so the one after it may miss this round, never more.
static void serve_sources(xsMachine* the, port_queue_t* q, uint32_t wait)
{
	atomic_store(&wake_pending, false);
	for (size_t i = 0; i < source_count; i++)
		if (sources[i]->period_ms < wait)
			wait = sources[i]->period_ms;
	if (port_queue_count(q))
		wait = 0;
	for (size_t i = 0; i < source_count; i++)
		sources[i]->wait(the, sources[i], i ? 0 : wait);
	xm_msg_t msg;
	for (size_t n = port_queue_count(q); n && stop_code < 0 && port_queue_receive(q, &msg, 0); n--)
		xm_dispatch(the, msg.fn, msg.arg);
}

int xm_run(const xm_options_t* options)
{
	port_queue_t* q = port_queue_create(sizeof(xm_msg_t), XM_HOST_XS_QUEUE);
	atomic_store(&queue, q);
	xsMachine* the = xm_machine_create();
	if (!q || !the) {
		static const char why[] = "xsmg: fatal: cannot create the XS machine (not enough memory for the creation profile)\n";
		port_console_write(2, why, sizeof(why) - 1);
		return XM_EXIT_NO_MEMORY;
	}
	xm_stats_boot(the);
	if (atomic_load(&requested_code) >= 0)
		stop_code = atomic_load(&requested_code);  // stopped before the queue existed
	else
		xm_dispatch(the, boot, NULL);
	while (stop_code < 0) {
		uint32_t wait = xm_timers_fire(the);
		if (stop_code >= 0)
			break;
		if (idle(the)) {
			stop_code = XM_EXIT_OK;
			break;
		}
		if (source_count) {
			serve_sources(the, q, wait);
			continue;
		}
		xm_msg_t msg;
		// What the last turn started (a reply, a send) often brings the next
		// message within microseconds: a short spin saves a sleep and a wakeup.
		// Only while another task may post (refs): otherwise nothing can come.
		if (wait && refs)
			port_queue_spin(q, XM_HOST_XS_SPIN_US);
		if (port_queue_receive(q, &msg, wait))
			xm_dispatch(the, msg.fn, msg.arg);
	}
	// Sources added in the stop's turn: no wake may reach them once they are freed.
	while (source_count)
		xm_source_remove(sources[source_count - 1]);
	if (options->stats) {
		xsCollectGarbage();
		xm_stats_print(the);
	}
	xm_timers_free(the);
	xsDeleteMachine(the);
	// With refs left (a poll task still running after a stop) the queue may still be
	// posted to: leave it to the process exit.
	if (!refs) {
		atomic_store(&queue, NULL);
		while (atomic_load(&posting))
			port_task_sleep(1);
		port_queue_delete(q);
	}
	return stop_code;
}
