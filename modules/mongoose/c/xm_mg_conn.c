// SPDX-License-Identifier: MIT
// Connections: the JS object behind each mongoose connection, and the event
// handler that carries mongoose's events to the handlers.
#include "xm_mg.h"
#include "xm_args.h"

void xm_mg_conn_destroy(void* data)
{
	free(data);
}

xm_mg_conn_t* xm_mg_conn(xsMachine* the, xsSlot* slot)
{
	return xsGetHostDataValidate(*slot, xm_mg_conn_destroy);
}

struct mg_connection* xm_mg_live(xsMachine* the, xsSlot* slot)
{
	xm_mg_conn_t* xc = xm_mg_conn(the, slot);
	if (!xc->core.c)
		xsUnknownError("connection %lu is closed", xc->core.id);
	return xc->core.c;
}

xm_mg_conn_t* xm_mg_conn_new(xsMachine* the, xm_mg_t* m, xsSlot* object)
{
	xm_mg_conn_t* xc = calloc(1, sizeof(xm_mg_conn_t));
	if (!xc)
		xsUnknownError("no memory for a connection");
	xc->m = m;
	xc->events = XM_MG_EVENTS_ALL;
	*object = xsNewHostInstance(xm_mg_protos[XM_MG_PROTO_CONNECTION]);
	xsSetHostData(*object, xc);
	// An own slot, set or not: deliver() finds it at once, where a missing one is
	// looked for property by property along the prototype chain.
	xsSet(*object, m->id_handler, xsUndefined);
	xc->object = *object;
	xsRemember(xc->object);
	return xc;
}

// Messages point into mongoose's buffers and own nothing; distinct functions
// tell the kinds apart. The AsyncManager's messages are copies they own (freed
// with the object), which the memory budget counts until then: one destructor
// per kind, for its weight.
#define MESSAGE_DESTRUCTORS(name, kind) \
	void xm_mg_##name##_destroy(void* data) \
	{ \
		(void)data; \
	} \
	static void owned_##name##_destroy(void* data) \
	{ \
		if (data) \
			xm_mg_budget_release(kind, data); \
		free(data); \
	}
MESSAGE_DESTRUCTORS(http, XM_MG_MSG_HTTP)
MESSAGE_DESTRUCTORS(ws, XM_MG_MSG_WS)
MESSAGE_DESTRUCTORS(mqtt, XM_MG_MSG_MQTT)

const struct xm_mg_host xm_mg_hosts[XM_MG_PROTO_COUNT] = {
	[XM_MG_PROTO_MANAGER] = { xm_mg_manager_destroy, NULL },
	[XM_MG_PROTO_CONNECTION] = { xm_mg_conn_destroy, NULL },
	[XM_MG_PROTO_HTTP] = { xm_mg_http_destroy, owned_http_destroy },
	[XM_MG_PROTO_WS] = { xm_mg_ws_destroy, owned_ws_destroy },
	[XM_MG_PROTO_MQTT] = { xm_mg_mqtt_destroy, owned_mqtt_destroy },
	[XM_MG_PROTO_TIMER] = { xm_mg_timer_destroy, NULL },
};

bool xm_mg_is_host(xsSlot* value, int proto)
{
	xsDestructor d = xm_host_destructor(value);
	return d && (d == xm_mg_hosts[proto].made || d == xm_mg_hosts[proto].owned);
}

_Static_assert(XM_MG_PROTO_WS - XM_MG_PROTO_HTTP == XM_MG_MSG_WS - XM_MG_MSG_HTTP &&
	XM_MG_PROTO_MQTT - XM_MG_PROTO_HTTP == XM_MG_MSG_MQTT - XM_MG_MSG_HTTP, "a message kind's prototype is at the same offset");

void xm_mg_new_message(xsMachine* the, xsSlot* result, int kind, void* data, bool owned)
{
	int proto = XM_MG_PROTO_HTTP + kind - XM_MG_MSG_HTTP;
	*result = xsNewHostInstance(xm_mg_protos[proto]);
	xsSetHostData(*result, data);
	if (owned) {
		xsSetHostDestructor(*result, xm_mg_hosts[proto].owned);
		xm_mg_budget_hold(kind, data);
	}
}

// The kind of the message each event carries, 0 for none.
static const uint8_t event_messages[] = {
	[MG_EV_HTTP_HDRS] = XM_MG_MSG_HTTP, [MG_EV_HTTP_MSG] = XM_MG_MSG_HTTP, [MG_EV_WS_OPEN] = XM_MG_MSG_HTTP,
	[MG_EV_WS_MSG] = XM_MG_MSG_WS, [MG_EV_WS_CTL] = XM_MG_MSG_WS,
	[MG_EV_MQTT_CMD] = XM_MG_MSG_MQTT, [MG_EV_MQTT_MSG] = XM_MG_MSG_MQTT,
};

static int message_kind(int ev)
{
	return (unsigned)ev < sizeof(event_messages) ? event_messages[ev] : 0;
}

// The third handler argument: a message object valid during the call, or a value.
static void event_data(xsMachine* the, xsSlot* result, int ev, void* ev_data)
{
	int kind = message_kind(ev);
	if (kind) {
		xm_mg_new_message(the, result, kind, ev_data, false);
		return;
	}
	switch (ev) {
	case MG_EV_ERROR:
		*result = xsString((const char*)ev_data);
		break;
	case MG_EV_READ:
	case MG_EV_WRITE:
		*result = xsNumber((double)*(long*)ev_data);
		break;
	case MG_EV_MQTT_OPEN:
		*result = xsInteger(*(uint8_t*)ev_data);  // the CONNACK's return code, a byte
		break;
	case MG_EV_SNTP_TIME:
		*result = xsNumber((double)*(int64_t*)ev_data);
		break;
	case MG_EV_WAKEUP: {
		struct mg_str* s = ev_data;
		xm_mg_new_bytes(the, result, s->buf, s->len);
		break;
	}
	default:
		*result = xsUndefined;
		break;
	}
}

// An accepted connection arrives with its listener's fn_data: give it its own
// Connection, inheriting the listener's handler. Uses the two slots given.
static xm_mg_conn_t* adopt(xsMachine* the, struct mg_connection* c, xm_mg_conn_t* listener, xsSlot* object, xsSlot* scratch)
{
	xm_mg_conn_t* xc = xm_mg_conn_new(the, listener->m, object);
	xm_core_conn_adopt(&xc->core, c);
	xc->events = listener->events;
	*scratch = xsGet(listener->object, xc->m->id_handler);
	xsSet(*object, xc->m->id_handler, *scratch);
	return xc;
}

// Whether the connection's handler asked for ev. User events past bit 31 cannot
// be asked for one by one: only a handler taking every event gets them.
static bool wanted(const xm_mg_conn_t* xc, int ev)
{
	return ev < 32 ? (xc->events >> ev) & 1u : xc->events == XM_MG_EVENTS_ALL;
}

// Whether a handler slot holds none (conn.handler ?? opening ?? manager).
static bool unset(xsMachine* the, xsSlot* slot)
{
	xsType type = xsTypeOf(*slot);
	return type == xsUndefinedType || type == xsNullType;
}

// The handler for xc's events, into *slot: its own, else the one of the
// connection being opened (Manager's #open), else the Manager's.
static void find_handler(xsMachine* the, xm_mg_conn_t* xc, xsSlot* slot)
{
	xm_mg_t* m = xc->m;
	*slot = xsGet(xc->object, m->id_handler);
	if (unset(the, slot))
		*slot = xsGet(m->handlers, m->id_opening);
	if (unset(the, slot))
		*slot = xsGet(m->handlers, m->id_manager);
}

// Calls the handler when it wants ev (what it throws goes to the Manager's
// report); either way an accepted connection gets its Connection
// (mgr.connections lists it) and CLOSE lets the Connection go. The handler is
// found and called here, not by a JavaScript dispatcher: one JavaScript call
// less per event.
static void deliver(xsMachine* the, xm_mg_conn_t* first, struct mg_connection* c, int ev, void* ev_data, bool call)
{
	size_t sent = c->send.len;
	// Assigned inside xsTry and read after it: volatile, or longjmp may lose them.
	xm_mg_conn_t* volatile xc = first;
	volatile bool threw = false, called = false;
	xsBeginHost(the);
	{
		xsVars(4);
		xsTry {
			if (xc->core.c != c)
				xc = adopt(the, c, xc, &xsVar(0), &xsVar(3));
			if (call) {
				xsVar(0) = xc->object;
				find_handler(the, xc, &xsVar(1));
				if (!unset(the, &xsVar(1))) {
					event_data(the, &xsVar(2), ev, ev_data);
					called = true;
					xsVar(3) = xsCallFunction3(xsVar(1), xsUndefined, xsVar(0), xsInteger(ev), xsVar(2));
				}
			}
		}
		xsCatch {
			threw = true;
			// What the handler threw goes to the Manager's report (which catches what
			// errorHandler throws). Nothing else (out of memory and the like) may
			// leave this frame into mongoose's.
			if (called) {
				xsVar(3) = xsException;
				xsTry {
					xsVar(3) = xsCallFunction3(xc->m->report, xsUndefined, xsVar(3), xsVar(0), xsInteger(ev));
				}
				xsCatch {
				}
			}
		}
		if (message_kind(ev) && xsTypeOf(xsVar(2)) == xsReferenceType)
			xsSetHostData(xsVar(2), NULL);  // a kept message reads as empty from now on
		if (ev == MG_EV_CLOSE) {
			xc->core.c = NULL;
			xsForget(xc->object);
		}
	}
	xsEndHost(the);
	// The seed leaves a client hanging when its handler throws: answer it.
	if (threw && ev == MG_EV_HTTP_MSG && c->send.len == sent && !c->is_closing && !c->is_client)
		xm_core_http_500(c);
}

// A message the XS heap has no room for (xm_mg_budget.c), or a raw connection's
// bytes, which conn.recv() makes a Uint8Array: refused (core/message_refuse.c),
// and the handler told why, unless it was an HTTP request: the client's 503
// says it all.
static bool over_budget(xsMachine* the, struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* http)
{
	char why[160];
	bool raw = ev == MG_EV_READ && !c->pfn;
	if (!raw && !xm_mg_budget_counts(ev))
		return false;
	size_t weight = raw ? c->recv.len : xm_mg_budget_weight(message_kind(ev), ev_data);
	if (xm_mg_budget_admit(the, weight, why, sizeof(why)))
		return false;
	xm_core_refuse_message(c, ev, http);
	if (ev != MG_EV_HTTP_MSG || !c->is_accepted)
		mg_call(c, MG_EV_ERROR, why);
	return true;
}

void xm_mg_on_event(struct mg_connection* c, int ev, void* ev_data)
{
	xm_mg_conn_t* first = c->fn_data;  // an accepted connection's listener's until deliver() adopts it
	if (!first || first->m->in_gc)  // NULL: refused by core/conn_limits.c
		return;
	if (ev == MG_EV_CLOSE)
		xm_core_fresh_forget(&first->m->fresh, c);
	xm_core_conn_t* listener;
	xm_mg_conn_t* xc = (xm_mg_conn_t*)xm_core_conn_of(c, &listener);
	if (!xc && !listener)
		return;  // refused, past its listener's cap (core/conn_limits.c)
	xm_mg_t* m = first->m;
	// An accepted connection's Connection takes XS heap too: without room for it
	// (xm_mg_budget.c), the connection goes as one over the cap does.
	char why[160];
	if (!xc && !xm_mg_budget_admit(m->the, 0, why, sizeof(why))) {
		xm_core_refuse_connection(c, listener->limits.set.http, XM_CORE_SHORT_OF_MEMORY);
		return;
	}
	if (xc)
		xm_core_limits_event(c, ev, ev_data, &xc->core);
	xm_core_http_unparsed_request(c);  // on any event: mongoose's file serving may have unwrapped it
	// Most events come to a Connection whose handler does not want them (POLL, for
	// every connection on every poll) and that none of the checks below acts on:
	// not POLL, WRITE, nor READ but a refused body's.
	if (xc && !wanted(xc, ev) && (ev == MG_EV_POLL || ev == MG_EV_WRITE || (ev == MG_EV_READ && !xc->core.http.refused)))
		return;
	if (xc)
		xm_mg_tls_peer_event(&xc->peer, c, ev);
	xm_core_http_state_t* http = xc ? &xc->core.http : NULL;  // before deliver(): CLOSE may let xc go
	if (xm_core_http_before(c, ev, ev_data, http))
		return;
	size_t sent = c->send.len, received = c->recv.len;
	bool call = wanted(first, ev);
	if (call && xc && over_budget(m->the, c, ev, ev_data, http))
		return;
	// An unwanted event with nothing to keep up costs no XS call (POLL fires per connection per poll).
	bool turn = false;
	if (call || !xc || ev == MG_EV_CLOSE) {
		turn = xm_mg_turn_begin(m);
		deliver(m->the, first, c, ev, ev_data, call);
	}
	xm_core_http_body_over_limit(c, ev, ev_data, sent, received, http);
	// An answer in an empty send buffer is written once mg_mgr_poll returns
	// (core/send_now.c), not in its next round.
	if (ev != MG_EV_CLOSE)
		xm_core_fresh_add(&m->fresh, c, sent);
	// Last: the turn's jobs may collect the Connection, and http with it.
	if (turn)
		xm_mg_turn_end(m->the, m);
}

void xm_mg_conn_id(xsMachine* the)
{
	xsResult = xsNumber((double)xm_mg_conn_id_in(the).conn->core.id);
}

void xm_mg_conn_flags(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_flags_in(the).conn->core.c;
	xsResult = xsInteger(c ? xm_mg_flags(c) : 1 << 1);  // gone: reads as closing
}

int xm_mg_flags(const struct mg_connection* c)
{
	unsigned bits[] = { c->is_listening, c->is_closing, c->is_client, c->is_tls, c->is_udp,
		c->is_websocket, c->is_readable, c->is_writable, c->is_full, c->is_draining, c->is_accepted };
	int flags = 0;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		flags |= (bits[i] ? 1 : 0) << i;
	return flags;
}

void xm_mg_conn_buffers(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_buffers_in(the).conn->core.c;
	struct mg_iobuf none = { 0 }, *recv = c ? &c->recv : &none, *send = c ? &c->send : &none;
	size_t values[4] = { recv->len, recv->size, send->len, send->size };
	xsResult = xsNewArray(4);
	for (int i = 0; i < 4; i++)
		xsSetIndex(xsResult, i, xsNumber((double)values[i]));
}

void xm_mg_conn_addr(xsMachine* the)
{
	xm_mg_conn_addr_in_t in = xm_mg_conn_addr_in(the);
	struct mg_connection* c = in.conn->core.c;
	if (!c)
		return;
	const struct mg_addr* a = in.remote ? xm_mg_tls_peer_real(&in.conn->peer, c) : &c->loc;
	char text[64];
	mg_snprintf(text, sizeof(text), "%M", mg_print_ip, a);
	xsVars(1);
	xsResult = xsNewObject();
	xsVar(0) = xsString(text);
	xsSet(xsResult, xsID("address"), xsVar(0));
	xsVar(0) = xsInteger(mg_ntohs(a->port));
	xsSet(xsResult, xsID("port"), xsVar(0));
	xsVar(0) = xsString(a->is_ip6 ? "IPv6" : "IPv4");
	xsSet(xsResult, xsID("family"), xsVar(0));
}

void xm_mg_conn_send(xsMachine* the)
{
	xm_mg_conn_send_in_t a = xm_mg_conn_send_in(the);
	xsResult = xsBoolean(mg_send(a.conn, a.data.buf, a.data.len));
}

// recv(conn, max): consumes up to max received bytes (all when max < 0).
void xm_mg_conn_recv(xsMachine* the)
{
	xm_mg_conn_recv_in_t a = xm_mg_conn_recv_in(the);
	struct mg_connection* c = a.conn;
	double max = a.max;
	size_t n = c->recv.len;
	if (max >= 0 && max < (double)n)
		n = (size_t)max;
	xm_mg_new_bytes(the, &xsResult, c->recv.buf, n);
	mg_iobuf_del(&c->recv, 0, n);
}

// peek(conn, which): a copy of the receive (0) or send (1) buffer, not consumed
void xm_mg_conn_peek(xsMachine* the)
{
	xm_mg_conn_peek_in_t a = xm_mg_conn_peek_in(the);
	struct mg_iobuf* io = a.which ? &a.conn->send : &a.conn->recv;
	xm_mg_new_bytes(the, &xsResult, io->buf, io->len);
}

void xm_mg_conn_close(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_close_in(the).conn->core.c;
	if (c)
		c->is_closing = 1;  // mongoose frees it after this poll iteration
}

void xm_mg_conn_drain(xsMachine* the)
{
	xm_mg_conn_drain_in(the).conn->is_draining = 1;
}

void xm_mg_conn_set_full(xsMachine* the)
{
	xm_mg_conn_set_full_in_t a = xm_mg_conn_set_full_in(the);
	a.conn->is_full = a.full ? 1 : 0;
}

void xm_mg_conn_error(xsMachine* the)
{
	xm_mg_conn_error_in_t a = xm_mg_conn_error_in(the);
	mg_error(a.conn, "%s", a.message);
}

// mongoose's mg_resolve ends in a new socket for the connection: on one that has
// a socket already (a listener, an accepted or connected one) it would leak that
// socket and turn the connection into a client of the resolved address.
void xm_mg_conn_resolve(xsMachine* the)
{
	xm_mg_conn_resolve_in_t a = xm_mg_conn_resolve_in(the);
	struct mg_connection* c = a.conn;
	if (!c->is_client || !c->is_resolving)
		xsUnknownError("connection %lu is %s: resolve() re-targets a client connection still resolving its host",
			c->id, c->is_listening ? "a listener" : c->is_client ? "already resolved" : "an accepted connection");
	char url[512];
	snprintf(url, sizeof(url), "%s", a.url);
	mg_resolve_cancel(c);  // its pending request would connect it too
	mg_resolve(c, url);
}

void xm_mg_conn_resolve_cancel(xsMachine* the)
{
	mg_resolve_cancel(xm_mg_conn_resolve_cancel_in(the).conn);
}
