// SPDX-License-Identifier: MIT
// A listener's limits, so that a server keeps serving: connections that send
// nothing, or half a request, are not held forever, and a flood of connections
// cannot take every socket (on a device, lwIP has a handful, shared with the
// outgoing ones). Checked once per poll round on MG_EV_POLL, which mongoose
// gives every connection with its clock: the events that carry bytes only set
// a flag, and nothing reads the time per event.
#include "xm_core.h"

#include <string.h>

// How long a refused HTTP connection waits for its request (refused_http).
#define REFUSED_LINGER_MS 500

_Static_assert(MG_DATA_SIZE >= sizeof(uint64_t), "refused_http keeps a time in c->data");

// The protocol handler of an HTTP connection refused for the cap, whose 503 is
// queued: it closes once the request that comes with the connection is read,
// or REFUSED_LINGER_MS after the first poll round without one. Closing on
// unread bytes would reset the connection, and the client could lose the 503
// (mongoose's own client does). The connection has no state but c->data.
static void refused_http(struct mg_connection* c, int ev, void* ev_data)
{
	if (ev == MG_EV_READ) {
		c->recv.len = 0;
		c->is_draining = 1;
	} else if (ev == MG_EV_POLL) {
		uint64_t now = *(const uint64_t*)ev_data, since;
		memcpy(&since, c->data, sizeof(since));
		if (!since)
			memcpy(c->data, &now, sizeof(now));
		else if (now - since >= REFUSED_LINGER_MS)
			c->is_draining = 1;
	}
}

void xm_core_refuse_connection(struct mg_connection* c, bool http, const char* text)
{
	// A TLS client could not read a plain answer; a handshake to say no costs
	// more than the connection it refuses.
	if (http && !c->is_tls) {
		xm_core_http_refuse(c, 503, text);
		c->pfn = refused_http;
	} else {
		c->is_closing = 1;
	}
	c->fn_data = NULL;
}

bool xm_core_limits_admit(struct mg_connection* c, xm_core_conn_t* listener)
{
	const xm_core_limits_state_t* l = &listener->limits;
	if (!l->set.max || l->open < l->set.max)
		return true;
	xm_core_refuse_connection(c, l->set.http, "too many connections\n");
	return false;
}

void xm_core_limits_join(xm_core_conn_t* s, xm_core_conn_t* listener)
{
	s->limits.set = listener->limits.set;
	s->limits.listener = listener;
	s->limits.moved = true;  // the idle clock starts at the next poll round
	listener->limits.open++;
}

// Whether c holds the start of a request head, not all of it, with no
// response owed (a response in progress owns the connection's time).
static bool head_in_progress(const struct mg_connection* c, const xm_core_conn_t* s)
{
	return c->recv.len && !c->is_resp && !c->is_websocket && c->pfn && !s->http.refused &&
		mg_http_get_request_len(c->recv.buf, c->recv.len) == 0;
}

static void check_deadlines(struct mg_connection* c, xm_core_conn_t* s, uint64_t now)
{
	xm_core_limits_state_t* l = &s->limits;
	if (!c->is_accepted || c->is_closing || c->is_draining)
		return;
	// Readable: bytes wait that this round reads after POLL (a poll that came
	// late, after a long handler, must not take them for silence).
	if (l->moved || c->is_resp || c->is_readable) {
		l->moved = false;
		l->quiet_since = now;
	} else if (l->set.idle_ms && now - l->quiet_since >= l->set.idle_ms) {
		c->is_closing = 1;
		return;
	}
	if (!l->set.http || !l->set.headers_ms)
		return;
	if (!head_in_progress(c, s)) {
		l->head_since = 0;
	} else if (!l->head_since) {
		l->head_since = now;
	} else if (now - l->head_since >= l->set.headers_ms) {
		xm_core_http_refuse(c, 408, "the request head took too long\n");
		s->http.refused = true;  // what still arrives is dropped (http_body_over_limit.c)
		c->pfn = xm_core_drop_input;
		c->recv.len = 0;
		c->is_draining = 1;
	}
}

// A listener closing: its connections, which may outlive it, leave its count.
static void orphan(struct mg_connection* lc, xm_core_conn_t* ls)
{
	for (struct mg_connection* c = lc->mgr->conns; c; c = c->next) {
		xm_core_conn_t* s = c->fn == lc->fn ? c->fn_data : NULL;
		if (s && s->c == c && s->limits.listener == ls)
			s->limits.listener = NULL;
	}
}

void xm_core_limits_event(struct mg_connection* c, int ev, void* ev_data, xm_core_conn_t* s)
{
	if (ev == MG_EV_READ || ev == MG_EV_WRITE) {
		s->limits.moved = true;
	} else if (ev == MG_EV_POLL) {
		check_deadlines(c, s, *(const uint64_t*)ev_data);
	} else if (ev == MG_EV_CLOSE) {
		if (c->is_listening)
			orphan(c, s);
		if (s->limits.listener)
			s->limits.listener->limits.open--;
		s->limits.listener = NULL;
	}
}
