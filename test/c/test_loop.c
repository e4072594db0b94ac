// SPDX-License-Identifier: MIT
// Tests of runtime/xm_loop.c, linked with test doubles for the XS engine and the
// rest of the runtime (xs_stubs.c): xm_post / xm_stop ordering across tasks, the
// refs that keep the loop alive, idle exit, waiting for the next timer, and what
// each turn does. xm_run may run once per process, so each test is isolated.
#include "check.h"
#include "loop_stubs.h"
#include "xm_host_config.h"

#include <pthread.h>
#include <string.h>

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
	{ NULL, NULL, false },
};
