// SPDX-License-Identifier: MIT
// port.h for Linux: POSIX threads, a mutex/condition-variable ring buffer for the
// queue, CLOCK_MONOTONIC, and exit() for fatal errors.
#define _GNU_SOURCE
#include "port.h"
#include "xm_host_config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct port_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	size_t item_size, capacity, head;
	atomic_size_t count;  // written under lock; port_queue_spin reads it without
	unsigned char* items;
};

port_queue_t* port_queue_create(size_t item_size, size_t capacity)
{
	port_queue_t* q = calloc(1, sizeof(*q));
	// A zero capacity, or item_size * capacity overflowing, is refused.
	if (!q || !capacity || item_size > SIZE_MAX / capacity)
		goto fail;
	q->items = malloc(item_size * capacity);
	if (!q->items)
		goto fail;
	q->item_size = item_size;
	q->capacity = capacity;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, &attr);
	pthread_cond_init(&q->not_full, &attr);
	pthread_condattr_destroy(&attr);
	return q;
fail:
	free(q);
	return NULL;
}

void port_queue_delete(port_queue_t* q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->items);
	free(q);
}

static struct timespec deadline_after(uint32_t ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

// Waits on cond until ready() or the timeout; the lock is held on return.
static bool wait_until(port_queue_t* q, pthread_cond_t* cond, bool (*ready)(port_queue_t*), uint32_t ms)
{
	if (ready(q))
		return true;
	if (!ms)
		return false;
	struct timespec deadline = deadline_after(ms);
	while (!ready(q)) {
		int rc = ms == PORT_FOREVER ? pthread_cond_wait(cond, &q->lock)
			: pthread_cond_timedwait(cond, &q->lock, &deadline);
		if (rc == ETIMEDOUT)
			return ready(q);
	}
	return true;
}

static bool has_room(port_queue_t* q)
{
	return q->count < q->capacity;
}

static bool has_item(port_queue_t* q)
{
	return q->count > 0;
}

bool port_queue_post(port_queue_t* q, const void* item, uint32_t timeout_ms)
{
	pthread_mutex_lock(&q->lock);
	bool ok = wait_until(q, &q->not_full, has_room, timeout_ms);
	if (ok) {
		size_t tail = (q->head + q->count) % q->capacity;
		memcpy(q->items + tail * q->item_size, item, q->item_size);
		q->count++;
		pthread_cond_signal(&q->not_empty);
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

bool port_queue_receive(port_queue_t* q, void* item, uint32_t timeout_ms)
{
	pthread_mutex_lock(&q->lock);
	bool ok = wait_until(q, &q->not_empty, has_item, timeout_ms);
	if (ok) {
		memcpy(item, q->items + q->head * q->item_size, q->item_size);
		q->head = (q->head + 1) % q->capacity;
		q->count--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static uint64_t micros(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

// Waking a thread asleep on a condition variable costs a futex call and, when its
// CPU has gone idle (in a VM, a halted vCPU), an interrupt: tens of microseconds,
// more than the work of a request. Yielding between looks lets whatever else is
// runnable have the CPU meanwhile.
bool port_queue_spin(port_queue_t* q, uint32_t us)
{
	uint64_t end = micros() + us;
	while (!atomic_load_explicit(&q->count, memory_order_relaxed)) {
		if (micros() >= end)
			return false;
		sched_yield();
	}
	return true;
}

size_t port_queue_count(port_queue_t* q)
{
	pthread_mutex_lock(&q->lock);
	size_t count = q->count;
	pthread_mutex_unlock(&q->lock);
	return count;
}

struct port_task {
	pthread_t thread;
	void (*entry)(void*);
	void* arg;
};

static void* task_main(void* it)
{
	port_task_t* task = it;
	task->entry(task->arg);
	return NULL;
}

port_task_t* port_task_create(const char* name, void (*entry)(void*), void* arg, size_t stack_bytes, int priority)
{
	(void)priority;  // the sim leaves scheduling to Linux
	port_task_t* task = calloc(1, sizeof(*task));
	if (!task)
		return NULL;
	task->entry = entry;
	task->arg = arg;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (stack_bytes) {
		// PTHREAD_STACK_MIN is a call to sysconf (a long) in newer glibc.
		const size_t min = (size_t)PTHREAD_STACK_MIN;
		pthread_attr_setstacksize(&attr, stack_bytes < min ? min : stack_bytes);
	}
	int rc = pthread_create(&task->thread, &attr, task_main, task);
	pthread_attr_destroy(&attr);
	if (rc) {
		free(task);
		return NULL;
	}
	if (name)
		pthread_setname_np(task->thread, name);  // ERANGE past 15 characters: keeps the default
	return task;
}

void port_task_join(port_task_t* task)
{
	pthread_join(task->thread, NULL);
	free(task);
}

void port_task_sleep(uint32_t ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

char* port_stack_limit(void)
{
	char* limit = NULL;
	pthread_attr_t attr;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void* base;
		size_t size;
		size_t spare = XM_HOST_STACK_SPARE;
		if (pthread_attr_getstack(&attr, &base, &size) == 0) {
			// A small task stack keeps three quarters of itself usable: without
			// this the limit could lie at or above the stack's top.
			if (spare > size / 4)
				spare = size / 4;
			limit = (char*)base + spare;
		}
		pthread_attr_destroy(&attr);
	}
	return limit;
}

uint64_t port_millis(void)
{
	return micros() / 1000u;
}

// --clock-offset MS (main.c): the simulator plays a device whose clock is off,
// as one is before SNTP corrects it; the machine's own clock is not touched.
int64_t port_linux_clock_offset_ms;

uint64_t port_epoch_ms(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_REALTIME, &t) != 0)
		return 0;
	return (uint64_t)((int64_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u) + port_linux_clock_offset_ms);
}

void port_random(void* buf, size_t length)
{
	for (size_t done = 0; done < length;) {
		ssize_t n = getrandom((char*)buf + done, length - done, 0);
		if (n > 0)
			done += (size_t)n;
		else if (errno != EINTR)
			abort();  // no entropy source at all: nothing to fall back to that is not a fixed sequence
	}
}

// The machine's MemAvailable (what the kernel could hand out without swapping),
// not the process's: the simulator's heap is the host's, and a device's free
// heap is likewise all that is left for anyone. 0 if /proc cannot be read.
size_t port_free_memory(void)
{
	FILE* info = fopen("/proc/meminfo", "r");
	if (!info)
		return 0;
	char line[128];
	unsigned long long kib = 0;
	while (fgets(line, sizeof(line), info))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(info);
	return (size_t)(kib * 1024u);
}

void port_console_write(int stream, const char* text, size_t length)
{
	int fd = stream == 2 ? STDERR_FILENO : STDOUT_FILENO;
	while (length) {
		ssize_t n = write(fd, text, length);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;  // a closed pipe must not take the firmware down
		}
		text += n;
		length -= (size_t)n;
	}
}

void port_fatal(int code)
{
	_exit(code);
}
