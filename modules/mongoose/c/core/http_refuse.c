// SPDX-License-Identifier: MIT
// Requests a server must refuse rather than half-handle get an answer (400, 413
// or, over the memory budget, 503) instead of mongoose's silence; the
// workarounds are in http_*.c. The limits' answers (408, 503: conn_limits.c)
// are framed here too. A refused body is then read and dropped, so that the
// client reads the answer instead of a connection reset.
#include "xm_core.h"

void xm_core_http_refuse(struct mg_connection* c, int status, const char* text)
{
	size_t n = strlen(text);
	mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %lu\r\n\r\n%s",
		status, xm_core_http_reason(status), (unsigned long)n, text);
	c->is_resp = 0;
}

bool xm_core_http_before(struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* s)
{
	return xm_core_http_request_line(c, ev, ev_data, s) || xm_core_http_body_discard(c, ev, s) ||
		(ev == MG_EV_WS_MSG && s && s->ws_refused);
}

bool xm_core_http_check(struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* s)
{
	return xm_core_http_before(c, ev, ev_data, s) || xm_core_http_body_over_limit(c, ev, ev_data, c->send.len, c->recv.len, s);
}
