// SPDX-License-Identifier: MIT
// The port contract: what runtime/port.h promises, tested through port.h alone
// (no POSIX, no FreeRTOS), so that every host's port must pass it. linux-sim runs
// it in test/c; the esp32 check compiles it for rv32imc against the FreeRTOS
// port. Tasks report back through port queues, the only shared state port.h
// offers. What only Linux promises is in test_port_linux.c.
#include "check.h"
#include "port.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---- queue ---------------------------------------------------------------

static void queue_create_rejects_zero_capacity(void)
{
	CHECK(port_queue_create(sizeof(int), 0) == NULL);
	CHECK(port_queue_create(0, 0) == NULL);
	// item_size * capacity does not fit in size_t: refused, not a tiny buffer.
	CHECK(port_queue_create(SIZE_MAX / 2 + 2, 2) == NULL);
	port_queue_delete(NULL);  // a no-op, like free(NULL)
}

static void queue_fifo_order_and_count(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 8);
	CHECK(q != NULL);
	if (!q)
		return;
	CHECK_EQ(port_queue_count(q), 0);
	for (int i = 0; i < 8; i++) {
		CHECK(port_queue_post(q, &i, 0));
		CHECK_EQ(port_queue_count(q), i + 1);
	}
	for (int i = 0; i < 8; i++) {
		int v = -1;
		CHECK(port_queue_receive(q, &v, 0));
		CHECK_EQ(v, i);
		CHECK_EQ(port_queue_count(q), 7 - i);
	}
	int v = 12345;
	CHECK(!port_queue_receive(q, &v, 0));
	CHECK_EQ(v, 12345);  // untouched on failure
	// The ring wraps around many times; order holds across the seam.
	int next_in = 0, next_out = 0;
	for (int round = 0; round < 100; round++) {
		for (int k = 0; k < 5; k++, next_in++)
			CHECK(port_queue_post(q, &next_in, 0));
		for (int k = 0; k < 5; k++, next_out++) {
			CHECK(port_queue_receive(q, &v, 0));
			CHECK_EQ(v, next_out);
		}
	}
	CHECK_EQ(port_queue_count(q), 0);
	port_queue_delete(q);
}

typedef struct {
	uint32_t id;
	char text[13];  // odd size: items are not word-multiples
} record_t;

static void queue_copies_items(void)
{
	port_queue_t* q = port_queue_create(sizeof(record_t), 3);
	CHECK(q != NULL);
	if (!q)
		return;
	record_t r = { 7, "seven" };
	CHECK(port_queue_post(q, &r, 0));
	// Changing (or freeing) the source after post must not affect the queued copy.
	r.id = 8;
	strcpy(r.text, "eight");
	CHECK(port_queue_post(q, &r, 0));
	record_t* heap = malloc(sizeof(*heap));
	CHECK(heap != NULL);
	if (!heap) {
		port_queue_delete(q);
		return;
	}
	*heap = (record_t){ 9, "nine" };
	CHECK(port_queue_post(q, heap, 0));
	memset(heap, 0xAA, sizeof(*heap));
	free(heap);

	// receive writes exactly item_size bytes: the guards around it stay intact.
	struct {
		unsigned char before[8];
		record_t item;
		unsigned char after[8];
	} out;
	memset(&out, 0x5A, sizeof(out));
	CHECK(port_queue_receive(q, &out.item, 0));
	CHECK_EQ(out.item.id, 7);
	CHECK(strcmp(out.item.text, "seven") == 0);
	for (size_t i = 0; i < sizeof(out.before); i++) {
		CHECK_EQ(out.before[i], 0x5A);
		CHECK_EQ(out.after[i], 0x5A);
	}
	record_t got;
	CHECK(port_queue_receive(q, &got, 0));
	CHECK_EQ(got.id, 8);
	CHECK(strcmp(got.text, "eight") == 0);
	CHECK(port_queue_receive(q, &got, 0));
	CHECK_EQ(got.id, 9);
	CHECK(strcmp(got.text, "nine") == 0);
	port_queue_delete(q);
}

static void queue_post_on_full_fails_and_keeps_contents(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 2);
	CHECK(q != NULL);
	if (!q)
		return;
	int a = 1, b = 2, c = 3;
	CHECK(port_queue_post(q, &a, 0));
	CHECK(port_queue_post(q, &b, 0));
	CHECK(!port_queue_post(q, &c, 0));
	CHECK_EQ(port_queue_count(q), 2);
	// A timed post on a full queue gives up after about its timeout.
	uint64_t t0 = port_millis();
	CHECK(!port_queue_post(q, &c, 50));
	uint64_t waited = port_millis() - t0;
	CHECK(waited >= 50);
	CHECK(waited < 2000);
	CHECK_EQ(port_queue_count(q), 2);
	int v;
	CHECK(port_queue_receive(q, &v, 0));
	CHECK_EQ(v, 1);
	CHECK(port_queue_receive(q, &v, 0));
	CHECK_EQ(v, 2);
	CHECK(!port_queue_receive(q, &v, 0));
	port_queue_delete(q);
}

static void queue_receive_times_out(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 4);
	CHECK(q != NULL);
	if (!q)
		return;
	int v = 0;
	uint64_t t0 = port_millis();
	CHECK(!port_queue_receive(q, &v, 0));
	CHECK(port_millis() - t0 < 1000);  // timeout 0 does not wait
	t0 = port_millis();
	CHECK(!port_queue_receive(q, &v, 100));
	uint64_t waited = port_millis() - t0;
	CHECK(waited >= 100);
	CHECK(waited < 2000);
	// Longer than a second: a deadline's seconds and fractions both carry.
	t0 = port_millis();
	CHECK(!port_queue_receive(q, &v, 1250));
	waited = port_millis() - t0;
	CHECK(waited >= 1250);
	CHECK(waited < 3500);
	port_queue_delete(q);
}

// A task blocked on q; it posts its outcome to done when released.
typedef struct {
	port_queue_t* q;
	port_queue_t* done;
	int value;
} blocked_t;

static void blocked_poster(void* arg)
{
	blocked_t* b = arg;
	bool ok = port_queue_post(b->q, &b->value, PORT_FOREVER);
	port_queue_post(b->done, &ok, PORT_FOREVER);
}

static void blocked_receiver(void* arg)
{
	blocked_t* b = arg;
	bool ok = port_queue_receive(b->q, &b->value, PORT_FOREVER);
	port_queue_post(b->done, &ok, PORT_FOREVER);
}

static void queue_blocked_post_released_by_receive(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 1);
	port_queue_t* done = port_queue_create(sizeof(bool), 1);
	CHECK(q && done);
	int first = 100;
	CHECK(q && port_queue_post(q, &first, 0));
	blocked_t b = { q, done, 200 };
	port_task_t* t = q && done ? port_task_create("poster", blocked_poster, &b, 0, 1) : NULL;
	CHECK(t != NULL);
	if (t) {
		port_task_sleep(50);
		CHECK_EQ(port_queue_count(done), 0);  // still waiting for room
		int v = 0;
		CHECK(port_queue_receive(q, &v, 0));
		CHECK_EQ(v, 100);
		port_task_join(t);
		bool ok = false;
		CHECK(port_queue_receive(done, &ok, 0));
		CHECK(ok);
		CHECK(port_queue_receive(q, &v, 1000));
		CHECK_EQ(v, 200);
	}
	port_queue_delete(q);
	port_queue_delete(done);
}

static void queue_blocked_receive_released_by_post(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 1);
	port_queue_t* done = port_queue_create(sizeof(bool), 1);
	CHECK(q && done);
	blocked_t b = { q, done, 0 };
	port_task_t* t = q && done ? port_task_create("receiver", blocked_receiver, &b, 0, 1) : NULL;
	CHECK(t != NULL);
	if (t) {
		port_task_sleep(50);
		CHECK_EQ(port_queue_count(done), 0);  // still waiting for an item
		int v = 300;
		CHECK(port_queue_post(q, &v, 0));
		port_task_join(t);
		bool ok = false;
		CHECK(port_queue_receive(done, &ok, 0));
		CHECK(ok);
		CHECK_EQ(b.value, 300);
		CHECK_EQ(port_queue_count(q), 0);
	}
	port_queue_delete(q);
	port_queue_delete(done);
}

// How long a host spins is its own choice (FreeRTOS only looks): what every
// host promises is the answer.
static void queue_spin_says_whether_an_item_is_there(void)
{
	port_queue_t* q = port_queue_create(sizeof(int), 2);
	CHECK(q != NULL);
	if (!q)
		return;
	CHECK(!port_queue_spin(q, 0));
	CHECK(!port_queue_spin(q, 1000));
	int v = 5;
	CHECK(port_queue_post(q, &v, 0));
	CHECK(port_queue_spin(q, 0));
	CHECK(port_queue_spin(q, 1000));
	CHECK_EQ(port_queue_count(q), 1);  // spinning takes nothing
	port_queue_delete(q);
}

enum { PRODUCERS = 4, PER_PRODUCER = 20000, STRESS_CAPACITY = 16 };

typedef struct {
	uint32_t producer, seq;
} stress_item_t;

typedef struct {
	port_queue_t* q;
	uint32_t id;
} producer_t;

static void producer(void* arg)
{
	producer_t* p = arg;
	for (uint32_t seq = 0; seq < PER_PRODUCER; seq++) {
		stress_item_t item = { p->id, seq };
		if (p->id % 2 == 0)
			port_queue_post(p->q, &item, PORT_FOREVER);
		else {
			// Odd producers use short timed waits and retry: this drives the
			// timed-wait path (and its races with wakeups) as well.
			while (!port_queue_post(p->q, &item, 1))
				;
		}
	}
}

static void queue_multi_producer_stress(void)
{
	port_queue_t* q = port_queue_create(sizeof(stress_item_t), STRESS_CAPACITY);
	CHECK(q != NULL);
	if (!q)
		return;
	producer_t producers[PRODUCERS];
	port_task_t* tasks[PRODUCERS];
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		producers[i] = (producer_t){ q, i };
		tasks[i] = port_task_create("producer", producer, &producers[i], 0, 1);
		CHECK(tasks[i] != NULL);
	}
	uint32_t next[PRODUCERS] = { 0 };
	uint32_t received = 0, out_of_order = 0, bad = 0, timeouts = 0;
	size_t max_count = 0;
	while (received < PRODUCERS * PER_PRODUCER) {
		stress_item_t item;
		size_t n = port_queue_count(q);
		if (n > max_count)
			max_count = n;
		if (!port_queue_receive(q, &item, 10000)) {
			timeouts++;
			break;  // 10 s without an item: producers are stuck (or failed to start)
		}
		received++;
		if (item.producer >= PRODUCERS) {
			bad++;
			continue;
		}
		if (item.seq != next[item.producer])
			out_of_order++;
		next[item.producer] = item.seq + 1;
	}
	for (uint32_t i = 0; i < PRODUCERS; i++)
		if (tasks[i])
			port_task_join(tasks[i]);
	CHECK_EQ(timeouts, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(out_of_order, 0);
	CHECK_EQ(received, PRODUCERS * PER_PRODUCER);
	for (uint32_t i = 0; i < PRODUCERS; i++)
		CHECK_EQ(next[i], PER_PRODUCER);  // each item once, none missing
	stress_item_t extra;
	CHECK(!port_queue_receive(q, &extra, 0));  // and none duplicated
	CHECK_EQ(port_queue_count(q), 0);
	CHECK(max_count <= STRESS_CAPACITY);
	port_queue_delete(q);
}

// ---- tasks ---------------------------------------------------------------

typedef struct {
	int value;
	void* self_arg;
} task_probe_t;

static void probe_entry(void* arg)
{
	task_probe_t* p = arg;
	p->self_arg = arg;
	port_task_sleep(30);  // join must wait for this
	p->value *= 2;
}

static void task_runs_entry_and_join_waits(void)
{
	task_probe_t p = { 21, NULL };
	port_task_t* t = port_task_create("probe", probe_entry, &p, 16 * 1024, 5);
	CHECK(t != NULL);
	if (!t)
		return;
	port_task_join(t);
	CHECK_EQ(p.value, 42);
	CHECK(p.self_arg == &p);
}

static void task_default_stack_and_names(void)
{
	// 0: the host's default stack; a name longer than FreeRTOS's 16 characters
	// or Linux's 15 is shortened or ignored, not an error; no name at all.
	const struct {
		const char* name;
		size_t stack;
	} cases[] = {
		{ "default", 0 }, { "a-very-long-task-name-indeed", 16 * 1024 }, { NULL, 0 },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	task_probe_t probes[N];
	port_task_t* tasks[N];
	for (int i = 0; i < N; i++) {
		probes[i] = (task_probe_t){ i, NULL };
		tasks[i] = port_task_create(cases[i].name, probe_entry, &probes[i], cases[i].stack, 1);
		CHECK(tasks[i] != NULL);
	}
	for (int i = 0; i < N; i++) {
		if (!tasks[i])
			continue;
		port_task_join(tasks[i]);
		CHECK_EQ(probes[i].value, 2 * i);
	}
}

// ---- clock ---------------------------------------------------------------

static void millis_is_monotonic_and_sleep_waits(void)
{
	uint64_t prev = port_millis();
	for (int i = 0; i < 100000; i++) {
		uint64_t now = port_millis();
		if (now < prev) {
			CHECK(now >= prev);
			break;
		}
		prev = now;
	}
	uint64_t t0 = port_millis();
	port_task_sleep(20);
	uint64_t t1 = port_millis();
	CHECK(t1 >= t0 + 20);
	CHECK(t1 < t0 + 2000);
}

// ---- entropy -------------------------------------------------------------

static void random_fills_and_differs(void)
{
	uint8_t a[32], b[32];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	port_random(a, sizeof(a));
	port_random(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);  // 2^-256 of a false failure
	uint8_t zero[32] = { 0 };
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
	uint8_t odd[3] = { 0 };
	port_random(odd, 0);  // nothing asked, nothing written
	CHECK(odd[0] == 0 && odd[1] == 0 && odd[2] == 0);
}

// ---- free memory ---------------------------------------------------------

// Only that it is there: what else runs on the host (other processes on Linux,
// other tasks on a board) moves the figure between any two calls.
static void free_memory_is_positive(void)
{
	CHECK(port_free_memory() > 0);
}

// ---- stack limit ---------------------------------------------------------

typedef struct {
	char* limit;
	char* sp;
} stack_probe_t;

static __attribute__((noinline)) void probe_stack(stack_probe_t* p)
{
	p->sp = __builtin_frame_address(0);
	p->limit = port_stack_limit();
}

static void probe_stack_entry(void* arg)
{
	probe_stack(arg);
}

// The limit lies below the caller's frame (else the engine would stop at once),
// and a stack of 32 KiB keeps more than half of itself above it.
static void stack_limit_is_below_the_caller(void)
{
	stack_probe_t here;
	probe_stack(&here);
	CHECK(here.limit != NULL && here.limit < here.sp);
	const size_t sizes[] = { 0, 8 * 1024, 32 * 1024 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		stack_probe_t p = { NULL, NULL };
		port_task_t* t = port_task_create("stack", probe_stack_entry, &p, sizes[i], 1);
		CHECK(t != NULL);
		if (!t)
			continue;
		port_task_join(t);
		CHECK(p.limit != NULL && p.limit < p.sp);
		if (sizes[i] >= 32 * 1024 && p.limit)
			CHECK((size_t)(p.sp - p.limit) > sizes[i] / 2);
	}
}

const test_case_t port_contract_tests[] = {
	{ "queue: create with capacity 0 (or an overflowing size) returns NULL", queue_create_rejects_zero_capacity, false },
	{ "queue: FIFO order, count, wrap-around", queue_fifo_order_and_count, false },
	{ "queue: items are copied in and out", queue_copies_items, false },
	{ "queue: post on a full queue fails (timeout 0 and timed) and keeps contents", queue_post_on_full_fails_and_keeps_contents, false },
	{ "queue: receive on an empty queue times out", queue_receive_times_out, false },
	{ "queue: a blocked post is released by a receive", queue_blocked_post_released_by_receive, false },
	{ "queue: a blocked receive is released by a post", queue_blocked_receive_released_by_post, false },
	{ "queue: spin says whether an item is there, and takes none", queue_spin_says_whether_an_item_is_there, false },
	{ "queue: 4 producers x 20000 items, capacity 16, one consumer", queue_multi_producer_stress, false },
	{ "task: entry runs with its arg, join waits for it", task_runs_entry_and_join_waits, false },
	{ "task: default stack, long and missing names", task_default_stack_and_names, false },
	{ "millis: monotonic, advances across a 20 ms task sleep", millis_is_monotonic_and_sleep_waits, false },
	{ "random: two 32-byte draws differ and are not all zero; length 0 writes nothing", random_fills_and_differs, false },
	{ "free memory: positive", free_memory_is_positive, false },
	{ "stack limit: below the caller's frame; a 32 KiB stack keeps most of itself", stack_limit_is_below_the_caller, false },
	{ NULL, NULL, false },
};
