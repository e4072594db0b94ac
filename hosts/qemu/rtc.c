// SPDX-License-Identifier: MIT
// The calendar clock (gettimeofday, which port_epoch_ms reads, as ESP-IDF's C
// library keeps it) from the virt machine's goldfish RTC: QEMU starts it at the
// host's time and it follows the host's clock, in nanoseconds since 1970. In
// place of picolibc's semihosting gettimeofday, a host call per read.
#include <stdint.h>
#include <sys/time.h>

#define RTC_TIME_LOW ((volatile uint32_t*)0x00101000)
#define RTC_TIME_HIGH ((volatile uint32_t*)0x00101004)

int gettimeofday(struct timeval* restrict tv, void* restrict tz)
{
	(void)tz;
	// Reading the low word latches the high word of the same instant.
	uint32_t low = *RTC_TIME_LOW;
	uint64_t ns = ((uint64_t)*RTC_TIME_HIGH << 32) | low;
	tv->tv_sec = (time_t)(ns / 1000000000u);
	tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
	return 0;
}
