// SPDX-License-Identifier: MIT
// The virtual board: QEMU's RISC-V virt machine standing in for an ESP32-C3.
// What ESP-IDF would supply to hosts/esp32/port_freertos.c is here, and no more:
// esp_timer_get_time from the CLINT's mtime, esp_restart as the end of QEMU,
// and the entry point (main, in place of app_main: no NVS, no network yet).
// The console is the C library's stdout and stderr, which picolibc's semihost
// library hands to QEMU (-semihosting), as its exit() hands over the exit code.
#include "xm.h"
#include "xm_host_config.h"

#include <stdio.h>
#include <stdlib.h>

#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

// virt's CLINT: mtime counts at 10 MHz from reset.
#define MTIME_LOW ((volatile uint32_t*)0x0200BFF8)
#define MTIME_HIGH ((volatile uint32_t*)0x0200BFFC)
#define MTIME_HZ 10000000u

int64_t esp_timer_get_time(void)
{
	uint32_t high, low;
	do {
		high = *MTIME_HIGH;
		low = *MTIME_LOW;
	} while (high != *MTIME_HIGH);
	return (int64_t)((((uint64_t)high << 32) | low) / (MTIME_HZ / 1000000u));
}

// port_fatal (hosts/esp32/port_freertos.c) prints its line, then restarts the
// chip. Here the restart ends QEMU with the code, as the simulator exits: the
// link wraps port_fatal (-Wl,--wrap=port_fatal) to keep the code for esp_restart.
static int fatal_code = XM_EXIT_FATAL;

__attribute__((noreturn)) void __real_port_fatal(int code);

__attribute__((noreturn)) void __wrap_port_fatal(int code)
{
	fatal_code = code;
	__real_port_fatal(code);
}

void esp_restart(void)
{
	fflush(stdout);
	fflush(stderr);
	exit(fatal_code);
}

// An exception (a bad address, an illegal instruction) in any task: said, then
// the end, where the kernel's default would spin forever. stdio here runs in the
// trap, under the C library's lock (the scheduler's): harmless, as nothing runs after.
void freertos_risc_v_application_exception_handler(void)
{
	uint32_t cause, pc, value;
	__asm volatile("csrr %0, mcause" : "=r"(cause));
	__asm volatile("csrr %0, mepc" : "=r"(pc));
	__asm volatile("csrr %0, mtval" : "=r"(value));
	fprintf(stderr, "xsmg: fatal: CPU exception %lu at pc 0x%08lx (mtval 0x%08lx)\n",
		(unsigned long)cause, (unsigned long)pc, (unsigned long)value);
	fflush(stderr);
	exit(XM_EXIT_FATAL);
}

static void xs_task(void* arg)
{
	(void)arg;
	xm_options_t options = { false };
	int code = xm_run(&options);
	if (code != XM_EXIT_OK)
		port_fatal(code);
	// Nothing is left to run: the board powers off, as the simulator exits 0.
	fflush(stdout);
	fflush(stderr);
	exit(XM_EXIT_OK);
}

int main(void)
{
	extern void freertos_risc_v_trap_handler(void);
	// The kernel's port takes every trap (tick, exceptions) but leaves mtvec to the startup code.
	__asm volatile("csrw mtvec, %0" ::"r"(freertos_risc_v_trap_handler));
	if (xTaskCreatePinnedToCore(xs_task, "xs", XM_HOST_XS_STACK, NULL, XM_HOST_XS_PRIORITY, NULL,
			XM_HOST_XS_CORE) != pdPASS) {
		fprintf(stderr, "xsmg: fatal: cannot create the XS task (not enough memory)\n");
		return XM_EXIT_NO_MEMORY;
	}
	vTaskStartScheduler();
	return XM_EXIT_FATAL;
}
