// SPDX-License-Identifier: MIT
// mongoose bug (seen in 7.23): a request whose Content-Length is more than
// MG_MAX_RECV_SIZE allows is buffered until the limit, then the connection is
// dropped with nothing said.
// Events: MG_EV_HTTP_HDRS (body.len is the Content-Length), MG_EV_READs while
// the body arrives, then at the limit MG_EV_ERROR and the close; the client,
// still sending, reads a connection reset.
// Fix: after the handler's MG_EV_HTTP_HDRS, unless it took the request over
// (read or answered it), a body that cannot fit gets a 413; the body is then
// read and dropped, and the connection closes once it is in.
#include "xm_core.h"

bool xm_core_http_body_over_limit(struct mg_connection* c, int ev, void* ev_data, size_t sent, size_t received, xm_core_http_state_t* s)
{
	if (!s || ev != MG_EV_HTTP_HDRS || !c->is_accepted || c->is_closing || c->is_draining)
		return false;
	if (c->recv.len != received || c->send.len != sent)
		return false;
	struct mg_http_message* hm = ev_data;
	size_t head = hm->head.len, length = hm->body.len;  // mongoose parsed Content-Length into it
	if (!mg_http_get_header(hm, "Content-Length") || length <= MG_MAX_RECV_SIZE - head)
		return false;
	xm_core_http_refuse(c, 413, "the request body is too large\n");
	size_t buffered = c->recv.len - (size_t)(hm->head.buf - (char*)c->recv.buf) - head;
	s->discard = length > buffered ? length - buffered : 0;
	s->refused = true;
	c->recv.len = 0;  // mongoose detaches its HTTP parser: the READs that follow are ours
	if (!s->discard)
		c->is_draining = 1;
	return true;
}

bool xm_core_http_body_discard(struct mg_connection* c, int ev, xm_core_http_state_t* s)
{
	if (ev != MG_EV_READ || !s || !s->refused)
		return false;
	// The rest of a refused body, or more after it: drop it, close once the body is in.
	size_t n = c->recv.len < s->discard ? c->recv.len : s->discard;
	s->discard -= n;
	c->recv.len = 0;
	if (!s->discard)
		c->is_draining = 1;
	return true;
}
