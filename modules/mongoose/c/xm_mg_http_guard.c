// SPDX-License-Identifier: MIT
// Requests a server must refuse rather than half-handle. mongoose drops a
// request it cannot parse, and for a body it cannot buffer drops the connection
// once MG_MAX_RECV_SIZE is reached, both with nothing said; a request line that
// is not METHOD TARGET (a response line, words that are no method or target) it
// takes as a request. Here such requests get a 400 or a 413; a refused body is
// then read and dropped, so that the client reads the answer instead of a
// connection reset.
#include <stdatomic.h>
#include "xm_mg.h"

static void refuse(struct mg_connection* c, int status, const char* text)
{
	size_t n = strlen(text);
	mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %lu\r\n\r\n%s",
		status, status == 400 ? "Bad Request" : "Payload Too Large", (unsigned long)n, text);
	c->is_resp = 0;
}

// mongoose's HTTP handler (http_cb), saved when wrapped. Atomic: the Manager (XS
// task) and the AsyncManager (poll task) both store it, the same value.
static _Atomic(mg_event_handler_t) http_protocol;

// After a refusal nothing more is parsed; what still arrives is dropped.
static void http_refused(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	if (ev == MG_EV_READ)
		c->recv.len = 0;
}

// mongoose refuses a request line without an HTTP/x.y version, a malformed
// header line, and a second Content-Length, Transfer-Encoding, Authorization,
// Cookie or Connection header (mg_http_parse fails); it then drops what it
// received, drains the connection and closes it, having answered nothing. Its
// only trace: draining starts and the receive buffer empties within its
// handler, while nothing was queued to send (a handler that answers a request
// with "Connection: close" queues its answer first).
static void parse_guard(struct mg_connection* c, int ev, void* ev_data)
{
	bool draining = c->is_draining;
	size_t sent = c->send.len;
	atomic_load_explicit(&http_protocol, memory_order_relaxed)(c, ev, ev_data);
	if (!draining && c->is_draining && c->is_accepted && c->recv.len == 0 && c->send.len == sent) {
		refuse(c, 400, "the request could not be parsed\n");
		c->pfn = http_refused;
	}
}

void xm_mg_http_parse_guard(struct mg_connection* c)
{
	if (!c || !c->pfn || c->pfn == parse_guard || !(c->is_listening || c->is_accepted))
		return;
	mg_event_handler_t saved = atomic_load_explicit(&http_protocol, memory_order_relaxed);
	if (!saved && c->is_listening) {
		saved = c->pfn;  // mg_http_listen's: the same for every connection
		atomic_store_explicit(&http_protocol, saved, memory_order_relaxed);
	}
	if (c->pfn == saved)
		c->pfn = parse_guard;
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_one_of(const char* set, char ch)
{
	return ch && strchr(set, ch);
}

// RFC 9110 5.6.2: a method is a token.
static bool is_token(struct mg_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		char ch = s.buf[i];
		if (!is_alpha(ch) && !is_digit(ch) && !is_one_of("!#$%&'*+-.^_`|~", ch))
			return false;
	}
	return s.len > 0;
}

// RFC 9112 3.2: a path, "*", or an absolute URL (scheme "://"); CONNECT's
// host:port is left to the handler. mongoose has already split off the query.
static bool is_target(struct mg_str method, struct mg_str uri)
{
	if (uri.len == 0)
		return false;
	if (uri.buf[0] == '/' || (uri.len == 1 && uri.buf[0] == '*') || mg_strcmp(method, mg_str("CONNECT")) == 0)
		return true;
	size_t i = 0;
	while (i < uri.len && (is_alpha(uri.buf[i]) || (i && (is_digit(uri.buf[i]) || is_one_of("+-.", uri.buf[i])))))
		i++;
	return i && uri.len - i >= 3 && memcmp(uri.buf + i, "://", 3) == 0;
}

bool xm_mg_http_guard_before(struct mg_connection* c, int ev, void* ev_data, xm_mg_http_guard_t* g)
{
	if (ev == MG_EV_HTTP_HDRS && c->is_accepted) {
		struct mg_http_message* hm = ev_data;
		if (is_token(hm->method) && is_target(hm->method, hm->uri))
			return false;
		refuse(c, 400, "not an HTTP request line\n");
		c->recv.len = 0;  // mongoose stops parsing this connection: it changed under it
		c->is_draining = 1;
		if (g)
			g->refused = true;
		return true;
	}
	if (ev == MG_EV_READ && g && g->refused) {
		// The rest of a refused body, or more after it: drop it, close once the body is in.
		size_t n = c->recv.len < g->discard ? c->recv.len : g->discard;
		g->discard -= n;
		c->recv.len = 0;
		if (!g->discard)
			c->is_draining = 1;
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
