// SPDX-License-Identifier: MIT
// The virtual board: QEMU's RISC-V virt machine standing in for an ESP32-C3.
// What ESP-IDF's system would supply to hosts/esp32 (port_freertos.c, main.c,
// mg_arch.c) is here: esp_timer_get_time from the CLINT's mtime, esp_restart
// as the end of QEMU, esp_fill_random, and the startup that reads the run's
// options (board_args.c), makes the flash region read-only and runs app_main
// on a main task. NVS is nvs_ram.c (kept in a file by nvs_file.c), the network
// netif.c, the calendar clock rtc.c.
// The console is the C library's stdout and stderr, which picolibc's semihost
// library hands to QEMU (-semihosting), as its exit() hands over the exit code.
#include "xm.h"
#include "board_args.h"
#include "board_stats.h"
#include "nvs_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "esp_random.h"
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
	// Where the RAM went is what --stats is for when the board runs out of it.
	if (board_args.stats)
		board_stats_print();
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

// main.c's XS task ends the app with xm_run; when nothing is left to run, a
// board idles (Wi-Fi stays up) but this one powers off, as the simulator exits
// 0: the link wraps xm_run (-Wl,--wrap=xm_run). Other codes go on to port_fatal.
// The wrapper also hands xm_run the run's options, which main.c's do not carry.
int __real_xm_run(const xm_options_t* options);

int __wrap_xm_run(const xm_options_t* options)
{
	xm_options_t with_args = *options;
	with_args.stats = board_args.stats;
	int code = __real_xm_run(&with_args);
	if (board_args.stats)
		board_stats_print();
	// --timeout ends the run, not the app's life: no restart line, as the simulator exits.
	if (code == XM_EXIT_OK || code == XM_EXIT_TIMEOUT) {
		fflush(stdout);
		fflush(stderr);
		exit(code);
	}
	return code;
}

// The idle task's hook: wait for the next interrupt (the tick, the NIC) rather
// than spin, which kept QEMU's vCPU busy while the board had nothing to do.
void vApplicationIdleHook(void)
{
	__asm volatile("wfi");
}

// Not the hardware RNG ESP-IDF reads: virt has none without a virtio-rng
// device. A splitmix64 sequence seeded from the host's clock (the RTC) and
// mtime differs per boot but is predictable: no key made on this board is secret.
void esp_fill_random(void* buf, size_t len)
{
	static uint64_t state;
	if (!state) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		state = ((uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec) ^ ((uint64_t)esp_timer_get_time() << 32) ^ 1;
	}
	uint8_t* out = buf;
	while (len) {
		uint64_t z = (state += 0x9e3779b97f4a7c15u);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
		for (int i = 0; i < 8 && len; i++, len--, z >>= 8)
			*out++ = (uint8_t)z;
	}
}

// --timeout: the simulator's watcher thread's job (hosts/linux-sim/main.c), a
// task here, above every other so that a busy XS task cannot delay it. It asks
// the run loop to stop, so the app ends as it would there (--stats printed);
// xsmg kills QEMU a little later should the XS task never come back to its loop.
#define TIME_LIMIT_PRIORITY (configMAX_PRIORITIES - 1)
#define TIME_LIMIT_STACK 1024

static void time_limit_task(void* arg)
{
	(void)arg;
	vTaskDelay(pdMS_TO_TICKS((uint32_t)(board_args.timeout * 1000)));
	static const char why[] = "xsmg: run time limit reached, stopping\n";
	port_console_write(2, why, sizeof(why) - 1);
	xm_stop(XM_EXIT_TIMEOUT);
	vTaskDelete(NULL);
}

void app_main(void);

// ESP-IDF's main task: priority 1, 3584 bytes of stack, deleted when app_main returns.
#define MAIN_TASK_PRIORITY 1
#define MAIN_TASK_STACK 3584

static void main_task(void* arg)
{
	(void)arg;
	app_main();
	vTaskDelete(NULL);
}

// Code and constants live in the "flash" region (host.mjs links them there),
// which a device cannot write: one PMP entry lets it be read and run, not
// written, so a store through a stray const pointer is an access fault (cause
// 7) as on a device. Locked, because only a locked entry binds machine mode,
// where this port of FreeRTOS runs every task. NAPOT: the region is a power of
// two in size and aligned to it.
static void protect_flash(void)
{
	extern char __flash[], __flash_size[];
	uint32_t napot = ((uint32_t)__flash >> 2) | (((uint32_t)__flash_size >> 3) - 1);
	uint32_t cfg = 0x80 /* L */ | 0x18 /* NAPOT */ | 0x04 /* X */ | 0x01 /* R */;
	__asm volatile("csrw pmpaddr0, %0" ::"r"(napot));
	__asm volatile("csrw pmpcfg0, %0" ::"r"(cfg));
}

int main(void)
{
	extern void freertos_risc_v_trap_handler(void);
	// The kernel's port takes every trap (tick, exceptions) but leaves mtvec to the startup code.
	__asm volatile("csrw mtvec, %0" ::"r"(freertos_risc_v_trap_handler));
	protect_flash();
	// A bad option or store file is the run's mistake, as the simulator's usage error is.
	if (!board_args_read() || (board_args.config_file && !nvs_file_open(board_args.config_file)))
		return 2;
	if (board_args.timeout > 0 &&
		xTaskCreatePinnedToCore(time_limit_task, "limit", TIME_LIMIT_STACK, NULL, TIME_LIMIT_PRIORITY, NULL, tskNO_AFFINITY) !=
			pdPASS) {
		fprintf(stderr, "xsmg: fatal: cannot create the time limit's task (not enough memory)\n");
		return XM_EXIT_NO_MEMORY;
	}
	if (xTaskCreatePinnedToCore(main_task, "main", MAIN_TASK_STACK, NULL, MAIN_TASK_PRIORITY, NULL, tskNO_AFFINITY) !=
		pdPASS) {
		fprintf(stderr, "xsmg: fatal: cannot create the main task (not enough memory)\n");
		return XM_EXIT_NO_MEMORY;
	}
	vTaskStartScheduler();
	return XM_EXIT_FATAL;
}
