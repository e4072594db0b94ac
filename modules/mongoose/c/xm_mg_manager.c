// SPDX-License-Identifier: MIT
// Manager: an mg_mgr, its poll, and the connections it opens.
#include "xm_mg.h"
#include "xm_args.h"
#include "xm_wire.h"

xsSlot xm_mg_protos[XM_MG_PROTO_COUNT];

// mongoose's log goes to the firmware's stderr, a line per write: mongoose hands
// it over one character at a time, and a write each would fill a pipe in no time.
// Each task fills a line of its own (the XS task xs_line, a poll task the one it
// gave xm_mg_log_line_own), so two tasks logging at once print whole lines. A
// lock would do too, but on a device a task holding it mid-line would hold up a
// higher-priority one (a queue used as a lock has no priority inheritance); the
// thread-local pointer costs one word in every task (ESP-IDF reserves C11
// thread-locals in each task's stack), the lines only the tasks that log.
static xm_mg_log_line_t xs_line;
static _Thread_local xm_mg_log_line_t* own_line;

void xm_mg_log_line_own(xm_mg_log_line_t* line)
{
	own_line = line;
}

static void log_char(char c, void* param)
{
	(void)param;
	xm_mg_log_line_t* line = own_line ? own_line : &xs_line;
	line->text[line->used++] = c;
	if (c == '\n' || line->used == sizeof(line->text)) {
		port_console_write(2, line->text, line->used);
		line->used = 0;
	}
}

void xm_mg_register(xsMachine* the)
{
	xm_mg_register_in(the);
	mg_log_set_fn(log_char, NULL);
	mg_log_set(MG_LL_ERROR);  // mongoose's default (debug) is too chatty for a device log
	xsVars(1);
	xsVar(0) = xsGet(xsGlobal, xsID("Object"));
	for (int i = 0; i < XM_MG_PROTO_COUNT; i++) {
		xm_mg_protos[i] = xsNewHostObject(xm_mg_hosts[i].made);
		xsCall2_noResult(xsVar(0), xsID("setPrototypeOf"), xm_mg_protos[i], xsArg(i));
		xsRemember(xm_mg_protos[i]);
	}
}

static void close_manager(xsMachine* the, xm_mg_t* m)
{
	xm_mg_run_end(the, m);  // first: no wake may reach the pipe mg_mgr_free closes
	m->close_pending = true;  // handlers of the CLOSE events below see a closed Manager
	xm_mg_timers_close(the, m);
	mg_mgr_free(&m->mgr);  // fires CLOSE for every connection, which forgets it
	xsForget(m->report);
	xsForget(m->handlers);
	m->closed = true;
}

void xm_mg_manager_destroy(void* data)
{
	xm_mg_t* m = data;
	if (!m)
		return;
	xm_mg_timers_orphan(m);
	if (!m->closed) {
		// Unreachable, so no open connection (each keeps the Manager alive) and no
		// JavaScript may run now: free quietly.
		m->in_gc = true;
		mg_mgr_free(&m->mgr);
	}
	free(m->dns);
	free(m);
}

xm_mg_t* xm_mg_manager(xsMachine* the, xsSlot* slot)
{
	xm_mg_t* m = xsGetHostDataValidate(*slot, xm_mg_manager_destroy);
	if (m->close_pending)
		xsUnknownError("the Manager is closed");
	return m;
}

// Apps hand over the TypeScript Manager: its host object is behind nativeHandle (manager.ts).
struct mg_mgr* xm_mg_mgr_of(xsMachine* the, xsSlot* manager)
{
	xsSlot handle = *manager;
	if (xsTypeOf(handle) == xsReferenceType && xsHas(handle, xsID("nativeHandle")))
		handle = xsGet(handle, xsID("nativeHandle"));
	return &xm_mg_manager(the, &handle)->mgr;
}

void xm_mg_manager_create(xsMachine* the)
{
	xm_mg_manager_create_in_t a = xm_mg_manager_create_in(the);
	xm_mg_t* m = calloc(1, sizeof(xm_mg_t));
	if (!m)
		xsUnknownError("no memory for a Manager");
	mg_mgr_init(&m->mgr);
	m->the = the;
	if (a.enableWakeup) {
		if (!mg_wakeup_init(&m->mgr)) {
			mg_mgr_free(&m->mgr);
			free(m);
			xsUnknownError("cannot set up wakeup (socketpair failed)");
		}
		m->pipe_id = m->mgr.conns->id;  // mongoose puts the pipe first
	}
	m->report = xsArg(0);
	xsRemember(m->report);
	m->handlers = xsArg(1);
	xsRemember(m->handlers);
	m->id_handler = xsID("handler");
	m->id_manager = xsID("manager");
	m->id_opening = xsID("opening");
	xsResult = xsNewHostInstance(xm_mg_protos[XM_MG_PROTO_MANAGER]);
	xsSetHostData(xsResult, m);
}

void xm_mg_poll(xsMachine* the, xm_mg_t* m, int ms, bool turns)
{
	if (m->polling)
		xsUnknownError("poll() called re-entrantly (from inside an event handler or timer)");
	m->polling = true;
	m->turns = turns;
	xm_core_dns_aaaa_requery(&m->mgr);  // resolver connections made since the last poll
	mg_mgr_poll(&m->mgr, ms < 0 ? 0 : ms);
	xm_core_fresh_send(&m->fresh);  // their MG_EV_WRITE are turns too
	m->turns = false;
	m->polling = false;
	xm_mg_timers_reap(m);
	if (m->close_pending)
		close_manager(the, m);
}

void xm_mg_manager_poll(xsMachine* the)
{
	xm_mg_manager_poll_in_t a = xm_mg_manager_poll_in(the);
	xm_mg_poll(the, a.manager, a.ms, false);
}

void xm_mg_manager_close(xsMachine* the)
{
	xm_mg_t* m = xsGetHostDataValidate(xsArg(0), xm_mg_manager_destroy);
	if (m->close_pending)
		return;
	if (m->polling) {
		// Inside a handler: mongoose still walks its connections. Finish after poll.
		m->close_pending = true;
		for (struct mg_connection* c = m->mgr.conns; c; c = c->next)
			c->is_closing = 1;
		return;
	}
	close_manager(the, m);
}

void xm_mg_manager_closed(xsMachine* the)
{
	xm_mg_t* m = xsGetHostDataValidate(xsArg(0), xm_mg_manager_destroy);
	xsResult = xsBoolean(m->close_pending);
}

void xm_mg_manager_wakeup_max(xsMachine* the)
{
	xsResult = xsNumber((double)XM_MG_WAKEUP_MAX);
}

void xm_mg_manager_wakeup_id(xsMachine* the)
{
	xsResult = xsNumber((double)xm_mg_manager_wakeup_id_in(the).manager->pipe_id);
}

// Ids of the connections the binding owns (not mongoose's own DNS or wakeup pipe).
void xm_mg_manager_connections(xsMachine* the)
{
	xm_mg_t* m = xm_mg_manager_connections_in(the).manager;
	int n = 0;
	xsResult = xsNewArray(0);
	for (struct mg_connection* c = m->mgr.conns; c; c = c->next) {
		if (c->fn != xm_mg_on_event || c->is_closing)
			continue;
		xm_mg_conn_t* xc = c->fn_data;
		if (xc && xc->core.c == c)
			xsSetIndex(xsResult, n++, xc->object);
	}
}

// wakeup(manager, id, data): true only when a live connection has that id.
void xm_mg_manager_wakeup(xsMachine* the)
{
	xm_mg_manager_wakeup_in_t a = xm_mg_manager_wakeup_in(the);
	xm_mg_t* m = a.manager;
	if (!m->pipe_id)
		xsUnknownError("wakeup is not enabled: create the Manager with { enableWakeup: true }, or run() it");
	unsigned long id = (unsigned long)a.id;
	if (a.data.len > XM_MG_WAKEUP_MAX)
		xsRangeError("wakeup: %lu bytes is more than one wakeup carries (at most %lu, WAKEUP_MAX_BYTES)",
			(unsigned long)a.data.len, (unsigned long)XM_MG_WAKEUP_MAX);
	bool live = false;
	for (struct mg_connection* c = m->mgr.conns; c && !live; c = c->next)
		live = c->id == id && !c->is_closing && id != m->pipe_id;
	xsResult = xsBoolean(live && mg_wakeup(&m->mgr, id, a.data.buf, a.data.len));
}

// Opens a connection of that kind for a fresh Connection, its fn_data, whose
// handler is called for the events in the mask: mongoose may call back (OPEN,
// and for an address RESOLVE and CONNECT) before xm_core_open returns. listen:
// a listener's limits, NULL for a connect.
void xm_mg_open(xsMachine* the, xm_mg_t* m, const char* url, int32_t events, const xm_core_limits_t* listen,
	xm_core_open_kind_t kind, const struct mg_mqtt_opts* mqtt)
{
	char copy[512], why[600];
	snprintf(copy, sizeof(copy), "%s", url);  // JavaScript in callbacks may move XS's heap
	xm_mg_conn_t* xc = xm_mg_conn_new(the, m, &xsResult);
	xc->events = (uint32_t)events;  // an int32: -1 is every event
	if (listen)
		xc->core.limits.set = *listen;
	struct mg_connection* c = xm_core_open(&m->mgr, listen != NULL, kind, copy, mqtt, xm_mg_on_event, xc, why, sizeof(why));
	if (!c) {
		xsForget(xc->object);  // mongoose never called back: the Connection is garbage
		xsUnknownError("%s", why);
	}
	xm_core_conn_adopt(&xc->core, c);
}

// open(manager, listen, url, kind, events, limits...): kind is the core's, as the
// AsyncManager's open numbers it.
_Static_assert(XM_AM_KIND_RAW == XM_CORE_OPEN_RAW && XM_AM_KIND_HTTP == XM_CORE_OPEN_HTTP
	&& XM_AM_KIND_WS == XM_CORE_OPEN_WS && XM_AM_KIND_MQTT == XM_CORE_OPEN_MQTT && XM_AM_KIND_SNTP == XM_CORE_OPEN_SNTP,
	"mongoose/wire's kinds are the core's");
void xm_mg_manager_open(xsMachine* the)
{
	xm_mg_manager_open_in_t a = xm_mg_manager_open_in(the);
	xm_core_limits_t limits = a.listen ? xm_mg_limits_args(the, 5, a.kind == XM_CORE_OPEN_HTTP) : (xm_core_limits_t){ 0 };
	xm_mg_open(the, a.manager, a.url, a.events, a.listen ? &limits : NULL, (xm_core_open_kind_t)a.kind, NULL);
}
