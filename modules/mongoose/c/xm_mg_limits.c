// SPDX-License-Identifier: MIT
// listen's limit options, read the same way for both managers (XS task): what
// the app leaves out is its host's default, stated in xm_host_config.h.
#include <math.h>
#include "xm_mg.h"
#include "xm_host_config.h"

static uint32_t limit(xsMachine* the, int i, const char* name, uint32_t host)
{
	if (xsToInteger(xsArgc) <= i || xsTypeOf(xsArg(i)) == xsUndefinedType)
		return host;
	double n = xsToNumber(xsArg(i));
	if (!(n >= 0))  // NaN as well
		xsRangeError("%s must be a number >= 0 (0 or Infinity: no limit), not %g", name, n);
	return n >= (double)UINT32_MAX ? 0 : (uint32_t)ceil(n);
}

// A fixed XS heap bounds the default cap too: an idle AsyncConnection holds 13
// slots, so at one connection per 20 slots a full house of idle connections
// takes two thirds of the heap, and the rest stays for the app and for the
// requests, which the budget guards (xm_mg_budget.c). The esp32 profile's 4,927
// slots take 246, enough for the burst of 200 that preload.test.ts sends;
// without the bound, 400 idle connections to the simulator (whose own default
// is 4,096) filled the slots and XS stopped the firmware.
#define SLOTS_PER_CONNECTION 20

static uint32_t default_max(xsMachine* the)
{
	size_t count;
	if (xm_stats_slots_free(the, &count) == SIZE_MAX)
		return XM_HOST_MAX_CONNECTIONS;
	size_t bound = count / SLOTS_PER_CONNECTION;
	return bound && bound < XM_HOST_MAX_CONNECTIONS ? (uint32_t)bound : XM_HOST_MAX_CONNECTIONS;
}

xm_core_limits_t xm_mg_limits_args(xsMachine* the, int first, bool http)
{
	xm_core_limits_t l = { 0 };
	l.headers_ms = limit(the, first, "headersTimeout", XM_HOST_HEADERS_TIMEOUT_MS);
	l.idle_ms = limit(the, first + 1, "idleTimeout", XM_HOST_IDLE_TIMEOUT_MS);
	l.max = limit(the, first + 2, "maxConnections", default_max(the));
	l.http = http;
	return l;
}
