// SPDX-License-Identifier: MIT
// The AsyncManager's poll task: owns the mg_mgr, runs commands from the XS task,
// and sends mongoose's events back in one batch per poll iteration.
#include "xm_am.h"
#include "xm_host_config.h"

// Per connection, poll task only: send-completion bookkeeping.
typedef struct pending_send {
	struct pending_send* next;
	uint32_t request;
	uint32_t value;               // what the promise resolves to (an MQTT packet id)
	uint64_t end;                 // resolved once this many bytes have been written
} pending_send_t;

// A connection's state, its fn_data (core/conn.c); made for an open, or by
// on_event for an accepted connection. Its AsyncManager is c->mgr's.
typedef struct {
	xm_core_conn_t core;          // first: c->fn_data is both
	uint64_t written;             // bytes written to the socket
	pending_send_t* sends;
	pending_send_t** sends_tail;
	uint32_t connect_request;     // connect() promise, settled by ERROR, CLOSE or the event of ready
	int ready;                    // a client's first event able to talk: CONNECT, TLS_HS, WS_OPEN or MQTT_OPEN
	bool close_after_reply;       // the request being answered said "Connection: close"
	struct mg_tls_opts* tls;      // listen/connect TLS options (xm_mg_tls_options), freed on CLOSE
	xm_mg_tls_peer_t peer;        // TLS clients: xm_mg_tls.c's state
} conn_state_t;

static xm_am_event_t* event(xm_am_t* am, unsigned long conn, int ev)
{
	xm_am_event_t* e = calloc(1, sizeof(xm_am_event_t));
	if (!e)
		return NULL;  // the event is lost to memory exhaustion; nothing else drops events
	e->am = am;
	e->conn = conn;
	e->ev = ev;
	*am->batch_tail = e;
	am->batch_tail = &e->next;
	return e;
}

// A copy of size bytes as e's payload (none without memory).
static void carry(xm_am_event_t* e, const void* data, size_t size)
{
	e->payload = malloc(size ? size : 1);
	if (!e->payload)
		return;
	if (size)  // data may be NULL then: memcpy's arguments must not be
		memcpy(e->payload, data, size);
	e->size = size;
}

static xm_am_event_t* result(xm_am_t* am, uint32_t request, unsigned long conn, int status, const char* error)
{
	if (!request)
		return NULL;
	xm_am_event_t* e = event(am, conn, XM_AM_EV_RESULT);
	if (!e)
		return NULL;
	e->request = request;
	e->value = status;
	if (error)
		carry(e, error, strlen(error));
	return e;
}

// Settles the open's promise of the connection of s (the open's connect() or the like).
static void settle_connect(xm_am_t* am, conn_state_t* s, struct mg_connection* c, int status, const char* error)
{
	result(am, s->connect_request, c->id, status, error);
	s->connect_request = 0;
}

static void addresses(struct mg_connection* c, xm_am_event_t* e)
{
	mg_snprintf(e->addrs, sizeof(e->addrs), "%M|%M", mg_print_ip_port, &c->loc, mg_print_ip_port, &c->rem);
}

static void settle_sends(xm_am_t* am, conn_state_t* s, unsigned long conn, const char* error)
{
	while (s->sends && (error || s->sends->end <= s->written)) {
		pending_send_t* p = s->sends;
		s->sends = p->next;
		xm_am_event_t* e = result(am, p->request, conn, error ? -1 : 0, error);
		if (e && !error)
			e->number = p->value;
		free(p);
	}
	if (!s->sends)
		s->sends_tail = &s->sends;
}

// After a command queued bytes on c: request settles (with value) once all that
// the send buffer holds now is written. Counted from the buffer, not from what
// commands queued: mongoose queues bytes of its own too (PUBACKs, pongs).
static void track(xm_am_t* am, struct mg_connection* c, uint32_t request, uint32_t value)
{
	conn_state_t* s = c->fn_data;
	if (!request)
		return;
	pending_send_t* p = malloc(sizeof(pending_send_t));
	if (!p) {
		xm_am_event_t* e = result(am, request, c->id, 0, NULL);  // sent; only the notification is early
		if (e)
			e->number = value;
		return;
	}
	p->next = NULL;
	p->request = request;
	p->value = value;
	p->end = s->written + c->send.len;
	*s->sends_tail = p;
	s->sends_tail = &p->next;
	settle_sends(am, s, c->id, NULL);  // nothing buffered (UDP sends at once): now
}

// mongoose says only "socket error" when a connect fails: the socket knows why.
// A TLS failure it names, but not as one.
static const char* connect_error(struct mg_connection* c, const char* what, char* buf, size_t size)
{
	if (c->is_tls_hs) {
		snprintf(buf, size, "TLS handshake failed: %s", what);
		return buf;
	}
#if MG_ENABLE_SOCKET
	int err = 0;
	socklen_t len = sizeof(err);
	if (c->is_connecting && getsockopt((int)(size_t)c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
		snprintf(buf, size, "%s (%s)", strerror(err), what);
		return buf;
	}
#else
	(void)c, (void)buf, (void)size;
#endif
	return what;
}

// An accepted connection's own state, from its first event (OPEN, inside
// accept_conn, where the listener ls is alive): TLS when the listener has options,
// which mg_tls_init copies.
static conn_state_t* adopt(struct mg_connection* c, conn_state_t* ls)
{
	conn_state_t* s = calloc(1, sizeof(conn_state_t));
	if (!s)
		return NULL;
	s->sends_tail = &s->sends;
	xm_core_conn_adopt(&s->core, c);
	if (ls->tls)
		xm_mg_tls_init(c, ls->tls);
	return s;
}

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	xm_core_conn_t* listener;
	conn_state_t* s = (conn_state_t*)xm_core_conn_of(c, &listener);
	xm_core_http_unparsed_request(c);  // back in front after mongoose served a file
	if (s)
		xm_core_limits_event(c, ev, ev_data, &s->core);
	if (ev == MG_EV_POLL || (!s && (ev == MG_EV_CLOSE || !listener)))
		return;  // POLL: per connection per iteration, not worth a crossing
	if (!s && !(s = adopt(c, (conn_state_t*)listener))) {
		c->is_closing = 1;  // no memory: JavaScript never hears of it
		return;
	}
	xm_am_t* am = (xm_am_t*)c->mgr;
	xm_mg_tls_peer_event(&s->peer, c, ev);
	if (ev == MG_EV_WRITE) {
		s->written += (uint64_t)*(long*)ev_data;
		settle_sends(am, s, c->id, NULL);
	}
	if (xm_core_http_check(c, ev, ev_data, &s->core.http))
		return;  // a refused request (core/http_*.c): JavaScript never sees it
	// A protocol connection (HTTP, WebSocket, MQTT, SNTP) is parsed on this task:
	// its READ and WRITE events carry nothing JavaScript could use, and the HTTP_MSG
	// that follows HTTP_HDRS carries the request. Not crossing them saves two thirds
	// of the events of an HTTP request.
	if (c->pfn && (ev == MG_EV_READ || ev == MG_EV_WRITE || ev == MG_EV_HTTP_HDRS))
		return;
	xm_am_event_t* e = event(am, c->id, ev);
	if (!e)
		return;
	e->value = xm_mg_flags(c);
	e->request = s->connect_request;  // until it settles: async-manager.ts gives the connection the open's handler
	switch (ev) {
	case MG_EV_OPEN:
	case MG_EV_ACCEPT:
	case MG_EV_CONNECT:
		addresses(c, e);
		e->number = s->core.limits.listener ? (double)s->core.limits.listener->id : 0;  // an accepted one's
		if (ev == MG_EV_CONNECT && s->tls) {
			// A client's TLS, once connected: mongoose wants it before any data flows.
			xm_mg_tls_init(c, s->tls);
			xm_mg_tls_peer_init(&s->peer, c, s->tls->name);
			free(s->tls);
			s->tls = NULL;  // a client connects once: no use keeping them
		}
		break;
	case MG_EV_ERROR: {
		char why[200];
		carry(e, ev_data, strlen(ev_data));
		if (s->connect_request)
			settle_connect(am, s, c, -1, connect_error(c, ev_data, why, sizeof(why)));
		break;
	}
	case MG_EV_READ:
		// Raw TCP/UDP: the data must cross, since JavaScript cannot read mongoose's
		// buffer from the XS task. Protocol connections (HTTP, WS, MQTT) parse it here.
		if (!c->pfn && c->recv.len) {
			carry(e, c->recv.buf, c->recv.len);
			if (e->payload)
				c->recv.len = 0;
		}
		// fall through
	case MG_EV_WRITE:
		e->number = (double)*(long*)ev_data;
		break;
	case MG_EV_HTTP_MSG:
	case MG_EV_WS_OPEN:
		if (ev == MG_EV_HTTP_MSG && c->is_accepted) {
			// mongoose honours it only for a reply made inside its own handler.
			struct mg_str* cc = mg_http_get_header(ev_data, "Connection");
			s->close_after_reply = cc && mg_strcasecmp(*cc, mg_str("close")) == 0;
		}
		e->kind = XM_MG_MSG_HTTP;
		e->payload = xm_core_copy_http(ev_data, &e->size);
		break;
	case MG_EV_WS_MSG:
	case MG_EV_WS_CTL:
		e->kind = XM_MG_MSG_WS;
		e->payload = xm_core_copy_ws(ev_data, &e->size);
		break;
	case MG_EV_MQTT_CMD:
	case MG_EV_MQTT_MSG:
		e->kind = XM_MG_MSG_MQTT;
		e->payload = xm_core_copy_mqtt(ev_data, &e->size);
		break;
	case MG_EV_MQTT_OPEN: {
		char why[120];
		int code = *(uint8_t*)ev_data;  // the CONNACK's return code
		e->number = code;
		if (code && s->connect_request)
			settle_connect(am, s, c, -1, xm_am_mqtt_refusal(c, code, why, sizeof(why)));
		break;
	}
	case MG_EV_SNTP_TIME:
		e->number = (double)*(int64_t*)ev_data;
		break;
	case MG_EV_WAKEUP: {
		const struct mg_str* data = ev_data;
		carry(e, data->buf, data->len);
		break;
	}
	case MG_EV_CLOSE:
		settle_sends(am, s, c->id, "the connection closed before the data was sent");
		result(am, s->connect_request, c->id, -1, "the connection closed before it connected");
		free(s->tls);
		free(s);
		c->fn_data = NULL;
		return;
	default:
		break;
	}
	if (ev == s->ready && s->connect_request)
		settle_connect(am, s, c, 0, NULL);
}

// A refused connection has no state: JavaScript never knew it.
static struct mg_connection* find(xm_am_t* am, unsigned long id)
{
	for (struct mg_connection* c = am->mgr.conns; c; c = c->next)
		if (c->id == id && c->fn == on_event && !c->is_closing && c->fn_data)
			return c;
	return NULL;
}

// The XS task had no room for an accepted connection's object (xm_am_xs.c): it
// goes as one over the cap would, its state with it. The marker event, after all
// of its events sent so far, tells the XS task that no more of them follow.
static void refuse_connection(xm_am_t* am, struct mg_connection* c, conn_state_t* s)
{
	xm_core_limits_event(c, MG_EV_CLOSE, NULL, &s->core);  // out of its listener's count
	xm_core_refuse_connection(c, s->core.limits.set.http, XM_CORE_SHORT_OF_MEMORY);
	free(s);
	event(am, c->id, XM_AM_EV_RESULT);
}

_Static_assert((int)XM_AM_KIND_MQTT == (int)XM_CORE_OPEN_MQTT && (int)XM_AM_KIND_SNTP == (int)XM_CORE_OPEN_SNTP, "an open command's kind is the core's");

static void open_connection(xm_am_t* am, xm_am_cmd_t* cmd)
{
	bool listen = cmd->op == XM_AM_LISTEN;
	conn_state_t* s = calloc(1, sizeof(conn_state_t));
	if (!s) {
		result(am, cmd->request, 0, -1, "no memory for the connection's state");
		return;
	}
	s->sends_tail = &s->sends;
	s->connect_request = listen ? 0 : cmd->request;  // set now: mongoose may call back before it returns
	// An MQTT client's extra holds its MQTT and TLS options; every other open's
	// (an MQTT listener's too) is the TLS options alone.
	xm_am_mqtt_open_t* mqtt = cmd->flag == XM_CORE_OPEN_MQTT && !listen ? cmd->extra : NULL;
	s->tls = mqtt ? mqtt->tls : cmd->extra;  // taken by the connection
	s->ready = cmd->flag == XM_CORE_OPEN_WS ? MG_EV_WS_OPEN : mqtt ? MG_EV_MQTT_OPEN : s->tls ? MG_EV_TLS_HS : MG_EV_CONNECT;
	// Only the connections a listener accepts use its limits.
	memcpy(&s->core.limits.set, cmd->data, sizeof(xm_core_limits_t));
	const char* url = (const char*)cmd->data + sizeof(xm_core_limits_t);
	char why[600];
	struct mg_connection* c = xm_core_open(&am->mgr, listen, cmd->flag, url, mqtt ? mqtt->mqtt : NULL,
		on_event, s, why, sizeof(why));
	if (mqtt) {
		free(mqtt->mqtt);  // the CONNECT is queued: mongoose keeps no pointer into it
		*mqtt = (xm_am_mqtt_open_t) { NULL, NULL };  // run_commands frees the rest
	}
	else
		cmd->extra = NULL;
	if (!c) {
		free(s->tls);
		free(s);
		result(am, cmd->request, 0, -1, why);
		return;
	}
	xm_am_event_t* e = listen ? result(am, cmd->request, c->id, 0, NULL) : NULL;
	if (e) {
		e->number = (double)c->id;
		addresses(c, e);
	}
}

// A command for a connection c, found open.
static void run_on(xm_am_t* am, struct mg_connection* c, xm_am_cmd_t* cmd)
{
	switch (cmd->op) {
	case XM_AM_SEND:
	case XM_AM_WS_SEND: {
		bool ok = true;  // mg_http_write_chunk reports nothing: as on the sync Manager
		if (cmd->op == XM_AM_WS_SEND)
			ok = mg_ws_send(c, cmd->data, cmd->size, cmd->flag) > 0;
		else if (cmd->flag == XM_AM_SEND_CHUNK)
			mg_http_write_chunk(c, cmd->data, cmd->size);
		else
			ok = mg_send(c, cmd->data, cmd->size);
		if (!ok) {
			result(am, cmd->request, c->id, -1, "no memory for the send buffer");
			break;
		}
		// A reply's head: mongoose parses the next request of a kept-alive
		// connection only once is_resp is clear, as mg_http_reply leaves it. A
		// whole response also ends a "Connection: close" request's connection; a
		// chunked one is still being written, and its handler closes it.
		if (cmd->op == XM_AM_SEND && (cmd->flag == XM_AM_SEND_RESPONSE || cmd->flag == XM_AM_SEND_OPEN_RESPONSE)) {
			c->is_resp = 0;
			conn_state_t* s = c->fn_data;
			if (s->close_after_reply && cmd->flag == XM_AM_SEND_RESPONSE)
				c->is_draining = 1;
		}
		track(am, c, cmd->request, 0);
		break;
	}
	case XM_AM_MQTT:
	case XM_AM_SNTP: {
		char why[160];
		uint32_t value = 0;
		if (xm_am_mqtt_run(c, cmd, &value, why, sizeof(why)))
			track(am, c, cmd->request, value);
		else
			result(am, cmd->request, c->id, -1, why);
		break;
	}
	case XM_AM_CLOSE:
		if (cmd->flag)
			c->is_draining = 1;
		else
			c->is_closing = 1;
		result(am, cmd->request, c->id, 0, NULL);
		break;
	case XM_AM_WS_UPGRADE:
		mg_ws_upgrade(c, cmd->extra, cmd->size ? "%s" : NULL, (const char*)cmd->data);
		if (c->is_websocket)
			xm_core_ws_frame_check(c);  // as for the sync Manager
		result(am, cmd->request, c->id, 0, NULL);
		break;
	case XM_AM_REFUSE:
		if (cmd->flag == MG_EV_OPEN)
			refuse_connection(am, c, c->fn_data);
		else
			xm_core_refuse_message(c, cmd->flag, &((conn_state_t*)c->fn_data)->core.http);
		break;
	case XM_AM_WAKEUP: {
		// Straight into this iteration's batch, in command order. mg_wakeup would
		// send a datagram to ourselves: a burst overflows the socket's queue (tiny
		// on lwIP) and the kernel drops the excess without a word.
		struct mg_str data = mg_str_n(cmd->data, cmd->size);
		on_event(c, MG_EV_WAKEUP, &data);
		break;
	}
	default:
		break;
	}
}

static void run_command(xm_am_t* am, xm_am_cmd_t* cmd)
{
	if (cmd->op == XM_AM_LISTEN || cmd->op == XM_AM_CONNECT) {
		open_connection(am, cmd);
		return;
	}
	if (cmd->op == XM_AM_FANOUT) {
		xm_am_mqtt_fanout_run(am, cmd);
		return;
	}
	if (cmd->op == XM_AM_STALL) {
		// Test hook: stands for native work that does not return (a slow file, a TLS handshake).
		atomic_store(&am->activity, XM_AM_DOING_STALL);
		port_task_sleep((uint32_t)cmd->size);
		return;
	}
	struct mg_connection* c = find(am, cmd->conn);
	if (!c) {
		char why[80];
		snprintf(why, sizeof(why), "connection %lu is closed", cmd->conn);
		result(am, cmd->request, cmd->conn, -1, why);
		return;
	}
	size_t before = c->send.len;
	run_on(am, c, cmd);
	xm_core_fresh_add(&am->fresh, c, before);
}

static void run_commands(xm_am_t* am)
{
	xm_am_cmd_t cmd;
	atomic_store(&am->activity, XM_AM_DOING_COMMANDS);
	while (port_queue_receive(am->commands, &cmd, 0)) {
		run_command(am, &cmd);
		free(cmd.data);
		free(cmd.extra);  // mongoose keeps no pointer into it past the command
	}
	// Closed by a command meanwhile (is_closing), a connection is still there
	// until the next poll frees it; send_now leaves it alone.
	xm_core_fresh_send(&am->fresh);
}

// Hands this iteration's events to the XS task, waiting while its queue is full
// (back-pressure). Only a stop request ends the wait: then the events, of
// connections about to close anyway, are dropped, so shutdown cannot deadlock.
// true when the batch held more than command results: something JavaScript may
// answer (a request, a message).
static bool flush(xm_am_t* am)
{
	xm_am_event_t* batch = am->batch;
	if (!batch)
		return false;
	bool answerable = false;
	for (xm_am_event_t* e = batch; e && !answerable; e = e->next)
		answerable = e->ev != XM_AM_EV_RESULT;
	am->batch = NULL;
	am->batch_tail = &am->batch;
	int was = atomic_exchange(&am->activity, XM_AM_DOING_POSTING);
	while (atomic_load(&am->orphaned) || !xm_post(xm_am_deliver, batch, 50)) {
		if (atomic_load(&am->orphaned) || (atomic_load(&am->stop) && was != XM_AM_DOING_EXIT)) {
			while (batch) {
				xm_am_event_t* next = batch->next;
				xm_am_event_free(batch);
				batch = next;
			}
			break;
		}
	}
	atomic_store(&am->activity, was);
	return answerable;
}

// JavaScript often answers an event within microseconds: waiting for that
// command here, briefly, beats sleeping in mg_mgr_poll until its datagram wakes
// us. Meanwhile wake_pending stands, so commands send no datagram; once it is
// cleared the queue is drained again, for a command that came in between.
static void await_answer(xm_am_t* am)
{
	bool was = atomic_exchange(&am->wake_pending, true);
	port_queue_spin(am->commands, XM_HOST_POLL_SPIN_US);
	if (!was)
		atomic_store(&am->wake_pending, false);
	run_commands(am);
	flush(am);
}

void xm_am_poll_main(void* arg)
{
	xm_am_t* am = arg;
	xm_mg_log_line_own(&am->log_line);
	am->batch_tail = &am->batch;
	mg_mgr_init(&am->mgr);
	if (!mg_wakeup_init(&am->mgr)) {
		result(am, 1, 0, -1, "cannot set up the poll task's wakeup (socketpair failed)");
		flush(am);
		mg_mgr_free(&am->mgr);
		atomic_store(&am->done, true);
		return;
	}
	am->pipe_id = am->mgr.conns->id;
	atomic_store(&am->ready, true);
	result(am, 1, 0, 0, NULL);  // request 1 is start()
	flush(am);  // now: the first poll may wait pollInterval before anything else flushes
	while (!atomic_load(&am->stop)) {
		atomic_store(&am->activity, XM_AM_DOING_POLL);
		xm_core_dns_aaaa_requery(&am->mgr);  // as the sync Manager does
		mg_mgr_poll(&am->mgr, am->poll_ms);
		atomic_store(&am->wake_pending, false);  // before draining: a later command wakes us again
		run_commands(am);
		if (flush(am) && !atomic_load(&am->stop))
			await_answer(am);
	}
	run_commands(am);  // settle what was queued before stop
	// mg_mgr_free closes the wakeup pipe: no other task may be sending on it then.
	atomic_store(&am->ready, false);
	while (atomic_load(&am->waking))
		port_task_sleep(1);
	mg_mgr_free(&am->mgr);  // CLOSE for every connection
	result(am, 2, 0, 0, NULL);  // request 2 is close()
	atomic_store(&am->activity, XM_AM_DOING_EXIT);
	flush(am);
	atomic_store(&am->done, true);
}

bool xm_am_command(xm_am_t* am, const xm_am_cmd_t* cmd)
{
	if (!port_queue_post(am->commands, cmd, 0))
		return false;
	if (!atomic_exchange(&am->wake_pending, true))
		xm_am_interrupt(am);
	return true;
}

// A caller counts itself in before it checks ready; the poll task clears ready
// before it checks the count (both sequentially consistent), so either the caller
// sees ready false or the poll task waits for its mg_wakeup to finish.
void xm_am_interrupt(xm_am_t* am)
{
	atomic_fetch_add(&am->waking, 1);
	if (atomic_load(&am->ready))
		mg_wakeup(&am->mgr, am->pipe_id, "", 0);
	atomic_fetch_sub(&am->waking, 1);
}
