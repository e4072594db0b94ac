// SPDX-License-Identifier: MIT
// What hosts/linux-sim/port_linux.c promises beyond the port contract
// (port_contract.c): spins that wait, POSIX threads, the calendar clock, the
// stack limit against the thread's real stack, console output to file descriptors.
#define _GNU_SOURCE
#include "check.h"
#include "port.h"

#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// ---- queue ---------------------------------------------------------------

typedef struct {
	port_queue_t* q;
	atomic_int done;
	bool ok;
} blocked_t;

static void spinner(void* arg)
{
	blocked_t* b = arg;
	b->ok = port_queue_spin(b->q, 5 * 1000 * 1000);
	atomic_store(&b->done, 1);
}

static void queue_spin_waits_for_an_item_within_its_budget(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 2);
	CHECK(q != NULL);
	if (!q)
		return;
	uint64_t t0 = port_millis();
	CHECK(!port_queue_spin(q, 30 * 1000));  // empty throughout: false once the budget is spent
	uint64_t spun = port_millis() - t0;
	CHECK(spun >= 29);  // millisecond clock: the 30 ms may straddle fewer ticks
	CHECK(spun < 2000);
	int v = 5;
	// A post from another task ends the spin long before its 5 s budget.
	blocked_t b = { q, 0, false };
	port_task_t* t = port_task_create("spinner", spinner, &b, 0, 1);
	CHECK(t != NULL);
	if (!t)
		return;
	sleep_ms(20);
	CHECK(!atomic_load(&b.done));  // still spinning
	CHECK(port_queue_post(q, &v, 0));
	t0 = port_millis();
	port_task_join(t);
	CHECK(b.ok);
	CHECK(port_millis() - t0 < 2000);
	port_queue_delete(q);
}

// ---- tasks ---------------------------------------------------------------

typedef struct {
	int value;
	pthread_t thread;
} task_probe_t;

static void probe_entry(void* arg)
{
	task_probe_t* p = arg;
	p->thread = pthread_self();
	p->value *= 2;
}

// A thread each; the sim takes any size, rounding a tiny one up to the minimum
// and ignoring priorities (0 is below what a device allows).
static void task_threads_and_stack_sizes(void)
{
	const size_t sizes[] = { 1, 128 * 1024, 4 * 1024 * 1024 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	task_probe_t probes[N];
	port_task_t* tasks[N];
	for (int i = 0; i < N; i++) {
		probes[i] = (task_probe_t){ i, pthread_self() };
		tasks[i] = port_task_create("sized", probe_entry, &probes[i], sizes[i], 0);
		CHECK(tasks[i] != NULL);
	}
	for (int i = 0; i < N; i++) {
		if (!tasks[i])
			continue;
		port_task_join(tasks[i]);
		CHECK_EQ(probes[i].value, 2 * i);
		CHECK(!pthread_equal(probes[i].thread, pthread_self()));
	}
}

// ---- stack limit ---------------------------------------------------------

typedef struct {
	char* limit;
	char* sp;
	char* base;
	size_t size;
	bool have_attr;
} stack_probe_t;

static __attribute__((noinline)) void probe_stack(stack_probe_t* p)
{
	p->sp = __builtin_frame_address(0);
	p->limit = port_stack_limit();
	pthread_attr_t attr;
	void* base = NULL;
	p->have_attr = pthread_getattr_np(pthread_self(), &attr) == 0;
	if (p->have_attr) {
		p->have_attr = pthread_attr_getstack(&attr, &base, &p->size) == 0;
		pthread_attr_destroy(&attr);
	}
	p->base = base;
}

static void probe_stack_entry(void* arg)
{
	probe_stack(arg);
}

static void check_stack_probe(const stack_probe_t* p, const char* where)
{
	CHECK(p->have_attr);
	CHECK(p->limit != NULL);
	if (!p->limit || !p->have_attr)
		return;
	bool below_sp = p->limit < p->sp;
	bool inside = p->limit >= p->base && p->limit < p->base + p->size;
	if (!below_sp || !inside)
		fprintf(stderr, "  %s: stack [%p, %p) sp %p limit %p\n", where, (void*)p->base,
			(void*)(p->base + p->size), (void*)p->sp, (void*)p->limit);
	CHECK(below_sp);
	CHECK(inside);
}

static void epoch_ms_is_the_calendar_date(void)
{
	uint64_t ms = port_epoch_ms();
	uint64_t now = (uint64_t)time(NULL) * 1000u;
	CHECK(ms + 2000 >= now && ms <= now + 2000);
}

static void stack_limit_is_inside_the_stack(void)
{
	stack_probe_t main_probe;
	probe_stack(&main_probe);
	check_stack_probe(&main_probe, "main thread");

	// Tasks of several sizes, including ones smaller than the safety margin.
	const size_t sizes[] = { 0, 64 * 1024, 192 * 1024, 1024 * 1024, 4 * 1024 * 1024 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		stack_probe_t p;
		memset(&p, 0, sizeof(p));
		port_task_t* t = port_task_create("stack", probe_stack_entry, &p, sizes[i], 1);
		CHECK(t != NULL);
		if (!t)
			continue;
		port_task_join(t);
		char where[64];
		snprintf(where, sizeof(where), "task with %zu stack bytes", sizes[i]);
		check_stack_probe(&p, where);
		// A large stack keeps most of itself usable above the limit.
		if (sizes[i] >= 1024 * 1024 && p.limit)
			CHECK((size_t)(p.sp - p.limit) > sizes[i] / 2);
	}
}

// ---- console -------------------------------------------------------------

static void console_write_reaches_the_stream(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	CHECK(saved >= 0);
	dup2(fds[1], STDOUT_FILENO);
	port_console_write(1, "hello\0world", 11);  // binary-safe, exact length
	port_console_write(1, "", 0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fds[1]);
	char buf[32];
	ssize_t n = read(fds[0], buf, sizeof(buf));
	close(fds[0]);
	CHECK_EQ(n, 11);
	CHECK(n == 11 && memcmp(buf, "hello\0world", 11) == 0);

	// A closed pipe is not fatal (SIGPIPE ignored, as the sim's main does).
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	saved = dup(STDERR_FILENO);
	fflush(stderr);
	dup2(fds[1], STDERR_FILENO);
	port_console_write(2, "lost\n", 5);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	signal(SIGPIPE, old);
}

const test_case_t port_linux_tests[] = {
	{ "linux queue: spin waits out its budget, and a post from another task ends it", queue_spin_waits_for_an_item_within_its_budget, false },
	{ "linux task: a thread each; stack sizes from 1 byte to 4 MiB", task_threads_and_stack_sizes, false },
	{ "linux epoch ms: the calendar clock, within 2 s of time()", epoch_ms_is_the_calendar_date, false },
	{ "linux stack limit: below sp and inside the stack (main thread and tasks)", stack_limit_is_inside_the_stack, false },
	{ "linux console: writes exact bytes; a closed pipe is not fatal", console_write_reaches_the_stream, false },
	{ NULL, NULL, false },
};
