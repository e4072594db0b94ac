// SPDX-License-Identifier: MIT
// Tests of runtime/xm_loop.c, linked with test doubles for the XS engine and the
// rest of the runtime (xs_stubs.c): xm_post / xm_stop ordering across tasks, the
// refs that keep the loop alive, idle exit, waiting for the next timer, and what
// each turn does, and the loop sources (xm_source_*) a running Manager becomes.
// xm_run may run once per process, so each test is isolated.
#include "check.h"
#include "loop_stubs.h"
#include "xm_host_config.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

enum { LOG_MAX = 4096 };

static xsMachine* machine;
static pthread_t xs_thread;
static intptr_t log_values[LOG_MAX];
static txSlot* log_stacks[LOG_MAX];
static int log_length;
static int wrong_context;  // callbacks run off the XS task or with another machine

static void record(xsMachine* the, void* arg)
{
	if (the != machine || !pthread_equal(pthread_self(), xs_thread))
		wrong_context++;
	if (log_length < LOG_MAX) {
		log_stacks[log_length] = the->stack;
		log_values[log_length++] = (intptr_t)arg;
	}
}

static void remember_machine(xsMachine* the)
{
	machine = the;
	xs_thread = pthread_self();
}

static int run_loop(void)
{
	xm_options_t options = { false };
	return xm_run(&options);
}

static void check_clean_shutdown(void)
{
	CHECK_EQ(stub_counts.machines_created, 1);
	CHECK_EQ(stub_counts.machines_deleted, 1);
	CHECK_EQ(stub_counts.begin_host, stub_counts.end_host);
	CHECK_EQ(stub_counts.aborts, 0);
	CHECK_EQ(wrong_context, 0);
}

// ---- idle exit -----------------------------------------------------------

static void loop_exits_when_idle(void)
{
	stub_boot_hook = remember_machine;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK_EQ(stub_counts.boots, 1);
	CHECK_EQ(stub_counts.begin_host, 1);  // one turn: the boot
	CHECK_EQ(stub_counts.rejection_checks, 1);
	check_clean_shutdown();
}

// ---- order and stop from the XS task ------------------------------------

static void boot_posts_then_stops(xsMachine* the)
{
	remember_machine(the);
	for (intptr_t i = 1; i <= 5; i++)
		CHECK(xm_post(record, (void*)i, 0));
	xm_stop(7);
	CHECK(xm_post(record, (void*)6, 0));  // queued behind the stop: never runs
}

static void loop_runs_posts_in_order_then_stops(void)
{
	stub_boot_hook = boot_posts_then_stops;
	CHECK_EQ(run_loop(), 7);
	CHECK_EQ(log_length, 5);
	for (int i = 0; i < log_length; i++)
		CHECK_EQ(log_values[i], i + 1);
	check_clean_shutdown();
}

// ---- many tasks posting, then a stop ------------------------------------

enum { LOOP_PRODUCERS = 3, LOOP_PER_PRODUCER = 400 };

static void loop_producer(void* arg)
{
	intptr_t id = (intptr_t)arg;
	for (intptr_t seq = 0; seq < LOOP_PER_PRODUCER; seq++) {
		if (!xm_post(record, (void*)(id * 100000 + seq), PORT_FOREVER))
			check_fail(__FILE__, __LINE__, "xm_post with PORT_FOREVER failed");
	}
}

static void controller(void* arg)
{
	(void)arg;
	port_task_t* tasks[LOOP_PRODUCERS];
	for (intptr_t i = 0; i < LOOP_PRODUCERS; i++)
		tasks[i] = port_task_create("producer", loop_producer, (void*)i, 0, 1);
	for (int i = 0; i < LOOP_PRODUCERS; i++)
		if (tasks[i])
			port_task_join(tasks[i]);
	// Every post has returned, so each is queued ahead of the stop.
	xm_stop(42);
}

static port_task_t* controller_task;

static void boot_starts_producers(xsMachine* the)
{
	remember_machine(the);
	xm_ref();  // the producers may not have posted yet: stay alive
	controller_task = port_task_create("controller", controller, NULL, 0, 1);
	CHECK(controller_task != NULL);
}

static void loop_dispatches_every_post_from_other_tasks_before_stop(void)
{
	stub_boot_hook = boot_starts_producers;
	CHECK_EQ(run_loop(), 42);
	if (controller_task)
		port_task_join(controller_task);
	CHECK_EQ(log_length, LOOP_PRODUCERS * LOOP_PER_PRODUCER);
	intptr_t next[LOOP_PRODUCERS] = { 0 };
	int out_of_order = 0;
	for (int i = 0; i < log_length; i++) {
		intptr_t id = log_values[i] / 100000, seq = log_values[i] % 100000;
		if (id < 0 || id >= LOOP_PRODUCERS || seq != next[id])
			out_of_order++;
		else
			next[id]++;
	}
	CHECK_EQ(out_of_order, 0);
	for (int i = 0; i < LOOP_PRODUCERS; i++)
		CHECK_EQ(next[i], LOOP_PER_PRODUCER);
	check_clean_shutdown();
}

// ---- a full queue ----------------------------------------------------------

static void boot_fills_the_queue(xsMachine* the)
{
	remember_machine(the);
	for (intptr_t i = 0; i < (intptr_t)XM_HOST_XS_QUEUE; i++)
		CHECK(xm_post(record, (void*)i, 0));
	CHECK(!xm_post(record, (void*)-1, 0));
	uint64_t t0 = port_millis();
	CHECK(!xm_post(record, (void*)-2, 20));
	CHECK(port_millis() - t0 >= 20);
}

static void loop_post_fails_on_a_full_queue(void)
{
	stub_boot_hook = boot_fills_the_queue;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK_EQ(log_length, (int)XM_HOST_XS_QUEUE);
	for (int i = 0; i < log_length; i++)
		CHECK_EQ(log_values[i], i);  // nothing of the failed posts was queued
	check_clean_shutdown();
}

// ---- refs ----------------------------------------------------------------

static void release(xsMachine* the, void* arg)
{
	record(the, arg);
	xm_unref();
}

static void late_poster(void* arg)
{
	(void)arg;
	sleep_ms(50);
	xm_post(release, (void*)99, PORT_FOREVER);
}

static port_task_t* late_task;
static uint64_t boot_time;

static void boot_refs_and_waits(xsMachine* the)
{
	remember_machine(the);
	boot_time = port_millis();
	xm_ref();
	late_task = port_task_create("late", late_poster, NULL, 0, 1);
	CHECK(late_task != NULL);
}

static void loop_stays_alive_while_referenced(void)
{
	stub_boot_hook = boot_refs_and_waits;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK(port_millis() - boot_time >= 50);
	if (late_task)
		port_task_join(late_task);
	CHECK_EQ(log_length, 1);
	CHECK_EQ(log_values[0], 99);
	check_clean_shutdown();
}

// ---- timers --------------------------------------------------------------

static void loop_sleeps_until_the_next_timer(void)
{
	stub_boot_hook = remember_machine;
	stub_timer_waits[0] = 30;
	stub_timer_waits[1] = 30;
	stub_timer_waits[2] = 30;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK_EQ(stub_timer_fires, 3);
	CHECK(stub_timer_fire_times[1] - stub_timer_fire_times[0] >= 30);
	CHECK(stub_timer_fire_times[2] - stub_timer_fire_times[1] >= 30);
	CHECK(stub_timer_fire_times[2] - stub_timer_fire_times[0] < 3000);
	check_clean_shutdown();
}

static void early_poster(void* arg)
{
	(void)arg;
	sleep_ms(20);
	xm_post(record, (void*)5, PORT_FOREVER);
}

static port_task_t* early_task;

static void boot_starts_early_poster(xsMachine* the)
{
	remember_machine(the);
	early_task = port_task_create("early", early_poster, NULL, 0, 1);
	CHECK(early_task != NULL);
}

static void loop_wakes_for_a_message_before_the_timer(void)
{
	stub_boot_hook = boot_starts_early_poster;
	stub_timer_waits[0] = 5000;  // a far timer; pending until fired once more
	stub_timer_waits[1] = 1;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	if (early_task)
		port_task_join(early_task);
	CHECK_EQ(log_length, 1);
	CHECK(stub_timer_fires >= 2);
	CHECK(stub_timer_fire_times[1] - stub_timer_fire_times[0] < 2500);
	check_clean_shutdown();
}

// ---- what a turn does ----------------------------------------------------

static int promise_runs_seen;

static void queue_jobs(xsMachine* the, void* arg)
{
	(void)arg;
	the->promiseJobs = 1;
	stub_requeue_jobs = 1;  // and the jobs queue one more round
}

static void see_promise_runs(xsMachine* the, void* arg)
{
	(void)the;
	(void)arg;
	promise_runs_seen = stub_counts.promise_runs;
}

static void boot_posts_jobs(xsMachine* the)
{
	remember_machine(the);
	CHECK(xm_post(queue_jobs, NULL, 0));
	CHECK(xm_post(see_promise_runs, NULL, 0));
}

static void loop_drains_promise_jobs_after_each_turn(void)
{
	stub_boot_hook = boot_posts_jobs;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK_EQ(promise_runs_seen, 2);  // both rounds ran before the next callback
	CHECK_EQ(stub_counts.promise_runs, 2);
	CHECK_EQ(stub_counts.rejection_checks, 3);  // boot and two callbacks
	CHECK(stub_counts.end_jobs >= 3);
	check_clean_shutdown();
}

static void throws(xsMachine* the, void* arg)
{
	(void)arg;
	xsThrow(xsUndefined);
}

static void boot_posts_a_throw(xsMachine* the)
{
	remember_machine(the);
	CHECK(xm_post(record, (void*)1, 0));
	CHECK(xm_post(throws, NULL, 0));
	CHECK(xm_post(record, (void*)2, 0));
}

static void loop_reports_a_throw_and_restores_the_stack(void)
{
	stub_boot_hook = boot_posts_a_throw;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK_EQ(stub_counts.uncaught, 1);
	CHECK(stub_counts.last_uncaught && !strcmp(stub_counts.last_uncaught, "uncaught exception"));
	CHECK_EQ(log_length, 2);
	if (log_length == 2)
		CHECK(log_stacks[0] == log_stacks[1]);  // the throw left the stack balanced
	check_clean_shutdown();
}

// ---- loop sources ----------------------------------------------------------

// A source waiting on a pipe, as a Manager waits on its sockets: wake writes a
// byte, wait polls the pipe and drains it. alive is false outside add..remove:
// a wake then would reach a source its owner may have freed.
typedef struct {
	xm_source_t source;
	int fds[2];
	atomic_bool alive;
	atomic_int late_wakes;
	int waits, woken_early, stops;
	uint32_t first_ms, last_ms;
	void (*after_wait)(xsMachine* the, int waits);
} pipe_source_t;

static pipe_source_t pipes[2];

static void pipe_wait(xsMachine* the, xm_source_t* source, uint32_t ms)
{
	pipe_source_t* p = (pipe_source_t*)source;
	if (!p->waits++)
		p->first_ms = ms;
	p->last_ms = ms;
	struct pollfd fd = { p->fds[0], POLLIN, 0 };
	if (poll(&fd, 1, ms > 100000 ? 100000 : (int)ms) > 0) {
		char drain[64];
		if (read(p->fds[0], drain, sizeof(drain)) > 0)
			p->woken_early++;
	}
	if (p->after_wait)
		p->after_wait(the, p->waits);
}

static void pipe_wake(xm_source_t* source)
{
	pipe_source_t* p = (pipe_source_t*)source;
	if (!atomic_load(&p->alive))
		atomic_fetch_add(&p->late_wakes, 1);
	if (write(p->fds[1], "w", 1) < 0) {
		// full: a wake is pending already
	}
}

static void pipe_stop(xsMachine* the, xm_source_t* source)
{
	(void)the;
	pipe_source_t* p = (pipe_source_t*)source;
	atomic_store(&p->alive, false);
	p->stops++;
}

static pipe_source_t* pipe_add(int i, uint32_t period_ms)
{
	pipe_source_t* p = &pipes[i];
	if (!p->source.wait) {
		CHECK_EQ(pipe(p->fds), 0);
		fcntl(p->fds[1], F_SETFL, O_NONBLOCK);
	}
	p->source = (xm_source_t){ pipe_wait, pipe_wake, pipe_stop, period_ms };
	atomic_store(&p->alive, true);
	CHECK(xm_source_add(&p->source));
	return p;
}

static void pipe_remove(pipe_source_t* p)
{
	xm_source_remove(&p->source);
	atomic_store(&p->alive, false);
}

static void remove_first(xsMachine* the, void* arg)
{
	record(the, arg);
	pipe_remove(&pipes[0]);
}

static void post_remove_first(void* arg)
{
	(void)arg;
	sleep_ms(40);
	xm_post(remove_first, (void*)1, PORT_FOREVER);
}

static port_task_t* source_task;
static uint64_t source_t0;

static void boot_adds_a_slow_source(xsMachine* the)
{
	remember_machine(the);
	source_t0 = port_millis();
	pipe_add(0, 5000);
	source_task = port_task_create("poster", post_remove_first, NULL, 0, 1);
	CHECK(source_task != NULL);
}

static void source_waits_instead_of_the_queue_and_a_post_wakes_it(void)
{
	stub_boot_hook = boot_adds_a_slow_source;
	CHECK_EQ(run_loop(), XM_EXIT_OK);  // the source kept it alive until removed, then idle
	if (source_task)
		port_task_join(source_task);
	CHECK(port_millis() - source_t0 < 2500);  // not the 5 s period
	CHECK_EQ(pipes[0].first_ms, 5000u);
	CHECK(pipes[0].woken_early >= 1);
	CHECK_EQ(log_length, 1);
	CHECK_EQ(atomic_load(&pipes[0].late_wakes), 0);
	check_clean_shutdown();
}

static void remove_after_three_waits(xsMachine* the, int waits)
{
	(void)the;
	if (waits == 3)
		pipe_remove(&pipes[0]);
}

static void boot_adds_two_sources(xsMachine* the)
{
	remember_machine(the);
	pipe_add(0, 5000)->after_wait = remove_after_three_waits;
	pipe_add(1, 40);
}

static void remove_second(xsMachine* the, void* arg)
{
	record(the, arg);
	pipe_remove(&pipes[1]);
}

static void remove_second_after_three_waits(xsMachine* the, int waits)
{
	if (waits == 3)
		xm_post(remove_second, (void*)2, 0);
	(void)the;
}

static void sources_wait_the_shortest_period_or_next_timer_and_only_the_first_waits(void)
{
	stub_boot_hook = boot_adds_two_sources;
	stub_timer_waits[0] = 30;  // then far timers, then none
	stub_timer_waits[1] = 5000;
	stub_timer_waits[2] = 5000;
	pipes[1].after_wait = remove_second_after_three_waits;
	uint64_t t0 = port_millis();
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	CHECK(port_millis() - t0 < 2500);
	CHECK_EQ(pipes[0].first_ms, 30u);  // the next timer
	CHECK_EQ(pipes[0].last_ms, 40u);   // the second source's period
	CHECK_EQ(pipes[1].first_ms, 0u);   // polled, never waits while the first is there
	CHECK(pipes[1].last_ms == 40u);    // alone: it waits
	CHECK_EQ(log_length, 1);
	check_clean_shutdown();
}

static void stop_soon(void* arg)
{
	(void)arg;
	sleep_ms(30);
	xm_stop(9);
}

static void boot_adds_two_and_a_stopper(xsMachine* the)
{
	remember_machine(the);
	pipe_add(0, 5000);
	pipe_add(1, 5000);
	source_task = port_task_create("stopper", stop_soon, NULL, 0, 1);
	CHECK(source_task != NULL);
}

static void stop_ends_the_sources_wait_and_calls_their_stop_hooks(void)
{
	stub_boot_hook = boot_adds_two_and_a_stopper;
	uint64_t t0 = port_millis();
	CHECK_EQ(run_loop(), 9);
	if (source_task)
		port_task_join(source_task);
	CHECK(port_millis() - t0 < 2500);
	CHECK_EQ(pipes[0].stops, 1);
	CHECK_EQ(pipes[1].stops, 1);
	CHECK_EQ(atomic_load(&pipes[0].late_wakes), 0);
	check_clean_shutdown();
}

// Other tasks post without pause while the XS task removes and adds the source
// again after each message: no wake may reach it between remove and add.
enum { CHURN_PRODUCERS = 3, CHURN_POSTS = 2000 };

static atomic_int churn_done;

static void churn(xsMachine* the, void* arg)
{
	(void)arg;
	(void)the;
	pipe_remove(&pipes[0]);
	if (atomic_load(&churn_done) < CHURN_PRODUCERS)
		pipe_add(0, 5000);
}

static void churn_producer(void* arg)
{
	(void)arg;
	for (int i = 0; i < CHURN_POSTS; i++)
		xm_post(churn, NULL, PORT_FOREVER);
	atomic_fetch_add(&churn_done, 1);
	xm_post(churn, NULL, PORT_FOREVER);  // the last ones see churn_done
}

static port_task_t* churn_tasks[CHURN_PRODUCERS];

static void boot_starts_churn(xsMachine* the)
{
	remember_machine(the);
	pipe_add(0, 5000);
	for (int i = 0; i < CHURN_PRODUCERS; i++)
		churn_tasks[i] = port_task_create("churn", churn_producer, NULL, 0, 1);
}

static void removing_a_source_while_tasks_post_never_lets_a_wake_through(void)
{
	stub_boot_hook = boot_starts_churn;
	CHECK_EQ(run_loop(), XM_EXIT_OK);
	for (int i = 0; i < CHURN_PRODUCERS; i++)
		if (churn_tasks[i])
			port_task_join(churn_tasks[i]);
	CHECK_EQ(atomic_load(&pipes[0].late_wakes), 0);
	CHECK(pipes[0].waits > 0);
	check_clean_shutdown();
}

const test_case_t loop_tests[] = {
	{ "loop: exits 0 when idle", loop_exits_when_idle, true },
	{ "loop: posts run in order; a stop ends the loop after them, not before", loop_runs_posts_in_order_then_stops, true },
	{ "loop: posts from 3 tasks through a queue of 16 all run, in order, before the stop", loop_dispatches_every_post_from_other_tasks_before_stop, true },
	{ "loop: xm_post on a full queue fails and queues nothing", loop_post_fails_on_a_full_queue, true },
	{ "loop: xm_ref keeps the loop alive until xm_unref", loop_stays_alive_while_referenced, true },
	{ "loop: sleeps until the next timer", loop_sleeps_until_the_next_timer, true },
	{ "loop: a message wakes it before the next timer", loop_wakes_for_a_message_before_the_timer, true },
	{ "loop: promise jobs are drained after each turn", loop_drains_promise_jobs_after_each_turn, true },
	{ "loop: a throw from a callback is reported and the stack restored", loop_reports_a_throw_and_restores_the_stack, true },
	{ "loop: a source waits instead of the queue, and a post from another task wakes it", source_waits_instead_of_the_queue_and_a_post_wakes_it, true },
	{ "loop: sources wait up to the next timer or shortest period; only the first waits", sources_wait_the_shortest_period_or_next_timer_and_only_the_first_waits, true },
	{ "loop: a stop wakes the sources and calls each one's stop hook", stop_ends_the_sources_wait_and_calls_their_stop_hooks, true },
	{ "loop: removing a source while 3 tasks post lets no wake reach it", removing_a_source_while_tasks_post_never_lets_a_wake_through, true },
	{ NULL, NULL, false },
};
