// SPDX-License-Identifier: MIT
// SNTP. mongoose sends the first request itself once an sntpConnect connection
// is up, delivers SNTP_TIME (epoch milliseconds) for the first valid reply and
// then closes the connection; it also closes it after 3 s without a reply.
#include "xm_args.h"

// sntpRequest(conn): one more request, for a reply that did not come
void xm_mg_conn_sntp_request(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_sntp_request_in(the).conn;
	if (!c->is_udp)
		xsTypeError("connection %lu is not UDP: sntpRequest needs a connection from sntpConnect", c->id);
	mg_sntp_request(c);
}
