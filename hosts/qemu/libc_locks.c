// SPDX-License-Identifier: MIT
// picolibc's retargetable locks (malloc, and the rest of the C library's shared
// state) on the kernel's scheduler lock: picolibc's own are no-ops, and more than
// one task allocates (the XS task; port_task_create's callers). One core, so
// holding the scheduler is mutual exclusion; it nests, so every lock is
// recursive, and the kernel's own allocations (heap_3, which holds the scheduler
// around malloc) take it again inside. No C library call made under it blocks
// on the kernel.
#include <sys/lock.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

// The single lock picolibc names (malloc's and its other shared state's).
struct __lock {
	char unused;
};
struct __lock __lock___libc_recursive_mutex;

void __retarget_lock_init(_LOCK_T* lock)
{
	*lock = &__lock___libc_recursive_mutex;
}

void __retarget_lock_init_recursive(_LOCK_T* lock)
{
	*lock = &__lock___libc_recursive_mutex;
}

void __retarget_lock_close(_LOCK_T lock)
{
	(void)lock;
}

void __retarget_lock_close_recursive(_LOCK_T lock)
{
	(void)lock;
}

void __retarget_lock_acquire(_LOCK_T lock)
{
	(void)lock;
	vTaskSuspendAll();
}

void __retarget_lock_acquire_recursive(_LOCK_T lock)
{
	(void)lock;
	vTaskSuspendAll();
}

int __retarget_lock_try_acquire(_LOCK_T lock)
{
	(void)lock;
	vTaskSuspendAll();
	return 1;
}

int __retarget_lock_try_acquire_recursive(_LOCK_T lock)
{
	(void)lock;
	vTaskSuspendAll();
	return 1;
}

void __retarget_lock_release(_LOCK_T lock)
{
	(void)lock;
	(void)xTaskResumeAll();
}

void __retarget_lock_release_recursive(_LOCK_T lock)
{
	(void)lock;
	(void)xTaskResumeAll();
}
