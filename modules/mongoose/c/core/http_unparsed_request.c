// SPDX-License-Identifier: MIT
// mongoose bug (new in 7.21, seen in 7.23): a request mg_http_parse refuses is
// dropped without an answer. Refused are a request line without an HTTP/x.y
// version, a malformed header line, and a second Content-Length (conflicting
// or not), Transfer-Encoding, Authorization, Cookie or Connection header.
// Events: MG_EV_READ; http_cb's parse fails; it empties the receive buffer,
// sets is_draining and the connection closes having sent nothing. The client
// sees a reset or an empty reply.
// Fix: wrap http_cb; when that sequence happened inside it (draining started,
// the receive buffer emptied, nothing was queued to send; a handler answering
// with "Connection: close" queues its answer first), queue a 400.
#include "xm_core.h"

static void answer_unparsed(struct mg_connection* c, int ev, void* ev_data)
{
	bool draining = c->is_draining;
	size_t sent = c->send.len;
	xm_core_unwrapped(XM_CORE_HTTP, c, ev, ev_data);
	if (!draining && c->is_draining && c->is_accepted && c->recv.len == 0 && c->send.len == sent) {
		xm_core_http_refuse(c, 400, "the request could not be parsed\n");
		c->pfn = xm_core_drop_input;
	}
}

void xm_core_http_unparsed_request(struct mg_connection* c)
{
	// Only a listener's handler is known to be http_cb: an accepted connection
	// may be an MQTT server's (mqtt_cb).
	if (c && (c->is_listening || c->is_accepted))
		xm_core_wrap(c, XM_CORE_HTTP, answer_unparsed, c->is_listening);
}
