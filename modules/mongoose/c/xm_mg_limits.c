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

xm_core_limits_t xm_mg_limits_args(xsMachine* the, int first, bool http)
{
	xm_core_limits_t l = { 0 };
	l.headers_ms = limit(the, first, "headersTimeout", XM_HOST_HEADERS_TIMEOUT_MS);
	l.idle_ms = limit(the, first + 1, "idleTimeout", XM_HOST_IDLE_TIMEOUT_MS);
	l.max = limit(the, first + 2, "maxConnections", XM_HOST_MAX_CONNECTIONS);
	l.http = http;
	return l;
}
