// SPDX-License-Identifier: MIT
// SNTP. mongoose sends the first request itself once an sntpConnect connection
// is up, delivers SNTP_TIME (epoch milliseconds) for the first valid reply and
// then closes the connection; it also closes it after 3 s without a reply. The
// firmware's clock (runtime/xm_clock.c) follows a time only when asked (clockSet).
#include "xm_args.h"

// sntpRequest(conn): one more request, for a reply that did not come
void xm_mg_conn_sntp_request(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_sntp_request_in(the).conn;
	if (!c->is_udp)
		xsTypeError("connection %lu is not UDP: sntpRequest needs a connection from sntpConnect", c->id);
	mg_sntp_request(c);
}

// clockSet(ms): the runtime's clock follows SNTP from now on. Dates before 2024
// are a server's mistake (or no answer), not a time to run on.
void xm_mg_clock_set(xsMachine* the)
{
	double ms = xm_mg_clock_set_in(the).ms;
	if (!(ms >= 1704067200000.0 && ms < 1e15))
		xsRangeError("clockSet: %g is not a time after 2024 in ms since 1970", ms);
	xm_clock_set((uint64_t)ms);
}
