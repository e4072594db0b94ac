// SPDX-License-Identifier: MIT
// Requests a server must refuse rather than half-handle. mongoose takes the
// first of two Content-Length headers (a smuggling vector) and, for a body it
// cannot buffer, drops the connection with nothing said once MG_MAX_RECV_SIZE is
// reached. Here such requests get a 400 or a 413; a refused body is then read and
// dropped, so that the client reads the answer instead of a connection reset.
#include "xm_mg.h"

static void refuse(struct mg_connection* c, int status, const char* text)
{
	size_t n = strlen(text);
	mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %lu\r\n\r\n%s",
		status, status == 400 ? "Bad Request" : "Payload Too Large", (unsigned long)n, text);
	c->is_resp = 0;
}

// Two Content-Length headers that disagree (RFC 9112 6.3: unrecoverable).
static bool conflicting_length(struct mg_http_message* hm)
{
	struct mg_str* first = NULL;
	for (int i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len; i++) {
		if (mg_strcasecmp(hm->headers[i].name, mg_str("Content-Length")) != 0)
			continue;
		if (!first)
			first = &hm->headers[i].value;
		else if (mg_strcmp(*first, hm->headers[i].value) != 0)
			return true;
	}
	return false;
}

bool xm_mg_http_guard_before(struct mg_connection* c, int ev, void* ev_data, xm_mg_http_guard_t* g)
{
	if (ev == MG_EV_READ && g && g->refused) {
		// The rest of a refused body, or more after it: drop it, close once the body is in.
		size_t n = c->recv.len < g->discard ? c->recv.len : g->discard;
		g->discard -= n;
		c->recv.len = 0;
		if (!g->discard)
			c->is_draining = 1;
		return true;
	}
	if (ev != MG_EV_HTTP_HDRS || !c->is_accepted)
		return false;
	if (conflicting_length(ev_data)) {
		refuse(c, 400, "conflicting Content-Length headers\n");
		c->recv.len = 0;  // mongoose stops parsing this connection: it changed under it
		c->is_draining = 1;
		if (g)
			g->refused = true;
		return true;
	}
	return false;
}

bool xm_mg_http_guard_after(struct mg_connection* c, int ev, void* ev_data, size_t sent, size_t received, xm_mg_http_guard_t* g)
{
	if (!g || ev != MG_EV_HTTP_HDRS || !c->is_accepted || c->is_closing || c->is_draining)
		return false;
	// The handler took the connection over (read or answered it): its business.
	if (c->recv.len != received || c->send.len != sent)
		return false;
	struct mg_http_message* hm = ev_data;
	size_t head = hm->head.len, length = hm->body.len;  // mongoose parsed Content-Length into it
	if (!mg_http_get_header(hm, "Content-Length") || length <= MG_MAX_RECV_SIZE - head)
		return false;
	refuse(c, 413, "the request body is too large\n");
	size_t buffered = c->recv.len - (size_t)(hm->head.buf - (char*)c->recv.buf) - head;
	g->discard = length > buffered ? length - buffered : 0;
	g->refused = true;
	c->recv.len = 0;  // mongoose detaches its HTTP parser: the READs that follow are ours
	if (!g->discard)
		c->is_draining = 1;
	return true;
}

// A handler that cannot act within the event (the AsyncManager's runs later, on
// the XS task) neither reads nor answers in between: both checks at once.
bool xm_mg_http_guard(struct mg_connection* c, int ev, void* ev_data, xm_mg_http_guard_t* g)
{
	return xm_mg_http_guard_before(c, ev, ev_data, g) ||
		xm_mg_http_guard_after(c, ev, ev_data, c->send.len, c->recv.len, g);
}
