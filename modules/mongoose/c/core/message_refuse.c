// SPDX-License-Identifier: MIT
// A message refused for the XS heap's sake: the peer is told in its protocol's
// words where it has some (HTTP's 503, WebSocket's 1009 "message too big"), so
// that a client retries later instead of reading a reset.
#include "xm_core.h"

void xm_core_refuse_message(struct mg_connection* c, int ev, xm_core_http_state_t* s)
{
	if (c->is_closing || c->is_draining || (s && (s->refused || s->ws_refused)))
		return;
	if (ev == MG_EV_HTTP_MSG && c->is_accepted && s) {
		xm_core_http_refuse(c, 503, XM_CORE_SHORT_OF_MEMORY);
		s->refused = true;  // later requests and bytes are dropped (http_body_over_limit.c)
		s->discard = 0;
		c->is_draining = 1;
		c->is_resp = 1;  // as while a handler answers: mongoose parses no pipelined request after it
	}
	else if (c->is_websocket) {
		static const char close[] = "\x03\xf1" "message too big for the server's memory";  // 1009
		mg_ws_send(c, close, sizeof(close) - 1, WEBSOCKET_OP_CLOSE);
		// Not draining: closing now, with the peer's frames unread, would reset the
		// connection, and the peer would lose the close frame with its code.
		if (s)
			s->ws_refused = true;
	}
	else if (c->is_udp)
		c->recv.len = 0;  // the datagram alone is lost: a UDP connection (a listener) serves on
	else
		c->is_closing = 1;
}
