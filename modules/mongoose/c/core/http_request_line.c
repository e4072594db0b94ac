// SPDX-License-Identifier: MIT
// mongoose bug (seen in 7.23): mg_http_parse, which parses responses too,
// takes a first line whose method is no token or whose target is no path as a
// request line, so a response line ("HTTP/1.1 200 OK": method "HTTP/1.1"),
// "G(T / HTTP/1.1" or "GET index.html HTTP/1.1" reaches a server's handler as
// a request.
// Events: MG_EV_READ; http_cb parses the head; MG_EV_HTTP_HDRS with that
// method and URI, then MG_EV_HTTP_MSG.
// Fix: at MG_EV_HTTP_HDRS of a server connection, a method that is no token
// (RFC 9110 5.6.2) or a target that is no path, "*" or absolute URL (RFC 9112
// 3.2) gets a 400 and the connection drains; the handler never sees it.
#include "xm_core.h"

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

static bool is_token(struct mg_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		char ch = s.buf[i];
		if (!is_alpha(ch) && !is_digit(ch) && !is_one_of("!#$%&'*+-.^_`|~", ch))
			return false;
	}
	return s.len > 0;
}

// CONNECT's host:port is left to the handler. mongoose has already split off the query.
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

bool xm_core_http_request_line(struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* s)
{
	if (ev != MG_EV_HTTP_HDRS || !c->is_accepted)
		return false;
	struct mg_http_message* hm = ev_data;
	if (is_token(hm->method) && is_target(hm->method, hm->uri))
		return false;
	xm_core_http_refuse(c, 400, "not an HTTP request line\n");
	c->recv.len = 0;  // mongoose stops parsing this connection: it changed under it
	c->is_draining = 1;
	if (s)
		s->refused = true;
	return true;
}
