// SPDX-License-Identifier: MIT
// The firmware's calendar clock, which Date and TLS read: the host's
// (port_epoch_ms) until the network sets it (xm_clock_set, from SNTP), then the
// time set plus the monotonic time since. Kept here, not in the host's clock:
// the simulator must not set its machine's clock, and a device's may be
// unknown (0) until the first sync. XS task only, as Date is.
#include "xm.h"

static uint64_t set_epoch, set_millis;  // set_epoch 0: never set

uint64_t xm_clock_epoch_ms(void)
{
	return set_epoch ? set_epoch + (port_millis() - set_millis) : port_epoch_ms();
}

void xm_clock_set(uint64_t epoch_ms)
{
	set_millis = port_millis();
	set_epoch = epoch_ms;
}

// Date.now() and new Date() (xm_platform.h points the engine's c_gettimeofday
// here). While the date is unknown, milliseconds since boot, from 1970 as a
// device's C library counts them.
int xm_gettimeofday(struct timeval* tv, void* tz)
{
	(void)tz;
	uint64_t ms = xm_clock_epoch_ms();
	if (!ms)
		ms = port_millis();
	tv->tv_sec = (time_t)(ms / 1000u);
	tv->tv_usec = (suseconds_t)(ms % 1000u * 1000u);
	return 0;
}
