// SPDX-License-Identifier: MIT
// The AsyncManager's XS task side: starting and stopping the poll task, turning
// JavaScript calls into commands, and event batches into dispatch calls.
#include "xm_am.h"
#include "xm_host_config.h"
#include "xm_args.h"

// The machine is deleted (the firmware stops: SIGTERM, a timeout) with the poll
// task running: a running manager is reachable from its remembered dispatch, so
// nothing else collects it. Stop the task before the XS task's queue goes away;
// it posts nothing more. A task stuck in native work is left behind.
static void orphan(xm_am_t* am)
{
	atomic_store(&am->orphaned, true);
	atomic_store(&am->stop, true);
	xm_am_interrupt(am);
	for (int i = 0; i < 1000 && !atomic_load(&am->done); i++)
		port_task_sleep(1);
	if (!atomic_load(&am->done))
		return;
	port_task_join(am->task);
	am->task = NULL;
}

// A command that never runs: an MQTT CONNECT's extra holds two blocks.
static void discard(xm_am_cmd_t* cmd)
{
	free(cmd->data);
	if (cmd->op == XM_AM_CONNECT && cmd->flag == XM_AM_KIND_MQTT)
		xm_am_mqtt_open_free(cmd->extra);
	else
		free(cmd->extra);
}

void xm_am_destroy(void* data)
{
	xm_am_t* am = data;
	if (am && am->task && !am->closed)
		orphan(am);
	if (!am || (am->task && !atomic_load(&am->done)))
		return;  // abandoned with its poll task still running: leaking beats a crash
	xm_am_cmd_t cmd;
	while (port_queue_receive(am->commands, &cmd, 0))
		discard(&cmd);
	port_queue_delete(am->commands);
	mg_iobuf_free(&am->unsent);
	mg_iobuf_free(&am->silenced);
	free(am);
}

static xm_am_t* am_of(xsMachine* the)
{
	return xsGetHostDataValidate(xsArg(0), xm_am_destroy);
}

xm_am_t* xm_am_running(xsMachine* the)
{
	xm_am_t* am = am_of(the);
	if (!am->task || am->closed || atomic_load(&am->stop))
		xsUnknownError("AsyncManager is not started");
	return am;
}

// A connection whose events JavaScript is not to get, or not all of them. One
// refused as it was accepted (not known to JavaScript) loses every event until
// its CLOSE or the marker the poll task sends once it refused it (a RESULT for
// no request). One whose input was refused (known) loses its later input,
// already on its way, until its CLOSE, which JavaScript gets as usual: a stream
// with a hole in it would be worse than none.
typedef struct {
	unsigned long conn;
	bool known;
} silenced_t;

// create(dispatch, pollMs, commandQueueLength): 0 or undefined takes the host's length.
void xm_am_create(xsMachine* the)
{
	xm_am_create_in_t a = xm_am_create_in(the);
	size_t length = a.commandQueueLength ? a.commandQueueLength : XM_HOST_AM_COMMANDS;
	xm_am_t* am = calloc(1, sizeof(xm_am_t));
	if (!am)
		xsUnknownError("no memory for an AsyncManager");
	am->commands = port_queue_create(sizeof(xm_am_cmd_t), length);
	if (!am->commands) {
		free(am);
		xsUnknownError("no memory for the AsyncManager's command queue");
	}
	am->poll_ms = xsToInteger(xsArg(1));  // a fraction or a number past int: as JavaScript's ToInt32
	am->silenced.align = 16 * sizeof(silenced_t);  // the refusal lists grow 16 entries at a time
	am->unsent.align = 16 * sizeof(xm_am_cmd_t);
	am->dispatch = xsArg(0);
	xsRemember(am->dispatch);
	xsResult = xsNewHostObject(xm_am_destroy);
	xsSetHostData(xsResult, am);
}

void xm_am_start(xsMachine* the)
{
	xm_am_start_in(the);
	xm_am_t* am = am_of(the);
	if (am->task || am->closed)
		xsUnknownError("AsyncManager is already started");
	am->task = port_task_create("mg-poll", xm_am_poll_main, am, XM_HOST_POLL_STACK, XM_HOST_POLL_PRIORITY);
	if (!am->task)
		xsUnknownError("cannot create the poll task");
	xm_ref();  // the firmware stays up while the poll task may still send events
}

// stop(am): asks the poll task to finish; called again to retry the wakeup.
void xm_am_stop(xsMachine* the)
{
	xm_am_stop_in(the);
	xm_am_t* am = am_of(the);
	if (!am->task || am->closed)
		return;
	atomic_store(&am->stop, true);
	xm_am_interrupt(am);
}

// finish(am, abandon): after the close result (join the task), or giving up on it.
void xm_am_finish(xsMachine* the)
{
	bool abandon = xm_am_finish_in(the).abandon;
	xm_am_t* am = am_of(the);
	if (am->closed)
		return;
	am->closed = true;
	if (!abandon) {
		port_task_join(am->task);
		am->task = NULL;
		xsForget(am->dispatch);
	}
	// Abandoned, the poll task may still post events: dispatch stays remembered.
	xm_unref();
}

void xm_am_activity(xsMachine* the)
{
	static const char* const names[] = {
		"mg_mgr_poll", "running commands", "waiting for room in the XS task's queue",
		"native work (test stall)", "shutting down",
	};
	xm_am_activity_in(the);
	xsResult = xsString(names[atomic_load(&am_of(the)->activity)]);  // only ever an XM_AM_DOING_*
}

void xm_am_post(xsMachine* the, xm_am_t* am, xm_am_cmd_t* cmd)
{
	if (xm_am_command(am, cmd))
		return;
	discard(cmd);
	xsUnknownError("the AsyncManager's command queue is full (%d commands): the poll task is not keeping up",
		(int)port_queue_count(am->commands));
}

// open(am, listen, url, kind, request[, headersTimeout, idleTimeout, maxConnections[,
// ca, cert, key, name, skipVerification]]): a listener's limits; with the TLS
// options, the connection (a listener: each it accepts) speaks TLS.
void xm_am_open(xsMachine* the)
{
	xm_am_open_in_t a = xm_am_open_in(the);
	xm_am_t* am = xm_am_running(the);
	// kind: XM_AM_KIND_* (xm_wire.h)
	xm_am_cmd_t cmd = xm_am_cmd(a.listen ? XM_AM_LISTEN : XM_AM_CONNECT, (uint8_t)a.kind, 0, a.request);
	xm_core_limits_t limits = xm_mg_limits_args(the, 5, a.kind == XM_AM_KIND_HTTP);
	if (xsToInteger(xsArgc) > 8)
		cmd.extra = xm_mg_tls_options(the, 8);
	xm_am_post_open(the, am, &cmd, &xsArg(2), &limits);
}

void xm_am_post_open(xsMachine* the, xm_am_t* am, xm_am_cmd_t* cmd, xsSlot* url, const xm_core_limits_t* limits)
{
	const char* text = xsToString(*url);
	size_t n = strlen(text) + 1;
	cmd->data = malloc(sizeof(*limits) + n);
	if (!cmd->data) {
		discard(cmd);
		xsUnknownError("no memory for the URL");
	}
	memcpy(cmd->data, limits, sizeof(*limits));
	memcpy((char*)cmd->data + sizeof(*limits), text, n);
	xm_am_post(the, am, cmd);
}

xm_am_cmd_t xm_am_cmd(uint8_t op, uint8_t flag, double conn, double request)
{
	xm_am_cmd_t cmd = { 0 };
	cmd.op = op;
	cmd.flag = flag;
	cmd.conn = (unsigned long)conn;
	cmd.request = (uint32_t)request;
	return cmd;
}

// cmd with a copy of bytes (read by a prologue: valid until XS allocates).
static void post_bytes(xsMachine* the, xm_am_cmd_t cmd, struct mg_str bytes)
{
	xm_am_t* am = xm_am_running(the);
	cmd.data = malloc(bytes.len ? bytes.len : 1);
	if (!cmd.data)
		xsUnknownError("no memory for the data to send");
	if (bytes.len)  // an empty buffer's data may be NULL
		memcpy(cmd.data, bytes.buf, bytes.len);
	cmd.size = bytes.len;
	xm_am_post(the, am, &cmd);
}

// send(am, conn, data, request, wsOp): wsOp < 0 sends raw bytes
void xm_am_send(xsMachine* the)
{
	xm_am_send_in_t a = xm_am_send_in(the);
	bool ws = a.wsOp >= 0;
	post_bytes(the, xm_am_cmd(ws ? XM_AM_WS_SEND : XM_AM_SEND, ws ? (uint8_t)a.wsOp : XM_AM_SEND_BYTES, a.conn, a.request),
		a.data);
}

// chunk(am, conn, data, request): one chunk of a chunked reply, framed by mongoose
// on the poll task as the sync Manager's are; empty data ends the response.
void xm_am_chunk(xsMachine* the)
{
	xm_am_chunk_in_t a = xm_am_chunk_in(the);
	post_bytes(the, xm_am_cmd(XM_AM_SEND, XM_AM_SEND_CHUNK, a.conn, a.request), a.data);
}

// reply(am, conn, status, body[, headerLines, request, chunked]): framed here, sent
// whole by the poll task. A chunked reply is its head alone: its body goes in
// chunks. The one native called for every request (serve's answers pass the
// first four alone: each argument costs the call), so, as the sync Manager's
// reply, it reads its arguments itself, without the prologue's table; the types
// are async-connection.ts's, and xm_mg_http_response checks the status and body.
void xm_am_reply(xsMachine* the)
{
	xm_am_t* am = xm_am_running(the);
	int argc = xsToInteger(xsArgc);
	bool chunked = argc > 6 && xsTest(xsArg(6));
	// The poll task treats a reply's head apart (XM_AM_SEND in xm_am_poll.c).
	double conn = xsToNumber(xsArg(1));  // one XS call per statement: each uses the machine's scratch slot
	double request = argc > 5 ? xsToNumber(xsArg(5)) : 0;
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_SEND, chunked ? XM_AM_SEND_OPEN_RESPONSE : XM_AM_SEND_RESPONSE, conn, request);
	struct mg_str body;
	cmd.data = xm_mg_http_response(the, xsToInteger(xsArg(2)), &xsArg(3), NULL, argc > 4 ? &xsArg(4) : NULL, chunked,
		&body, &cmd.size);
	if (chunked && body.len) {
		free(cmd.data);
		xsRangeError("a chunked reply's body goes in chunks");
	}
	xm_am_post(the, am, &cmd);
}

// close(am, conn, drain, request)
void xm_am_close(xsMachine* the)
{
	xm_am_close_in_t a = xm_am_close_in(the);
	xm_am_t* am = xm_am_running(the);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_CLOSE, a.drain, a.conn, a.request);
	xm_am_post(the, am, &cmd);
}

// wsUpgrade(am, conn, msg, headerLines, request)
void xm_am_ws_upgrade(xsMachine* the)
{
	xm_am_ws_upgrade_in_t a = xm_am_ws_upgrade_in(the);
	xm_am_t* am = xm_am_running(the);
	struct mg_http_message* hm = a.msg;
	if (!hm)
		xsUnknownError("the request has expired");
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_WS_UPGRADE, 0, a.conn, a.request);
	size_t size;
	cmd.extra = xm_core_copy_http(hm, &size);  // the poll task may run after JS dropped msg
	cmd.data = strdup(xsToString(xsArg(3)));
	if (!cmd.extra || !cmd.data) {
		free(cmd.extra);
		free(cmd.data);
		xsUnknownError("no memory for the upgrade");
	}
	cmd.size = strlen(cmd.data);
	xm_am_post(the, am, &cmd);
}

// wakeup(am, conn, data)
void xm_am_wakeup(xsMachine* the)
{
	xm_am_wakeup_in_t a = xm_am_wakeup_in(the);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_WAKEUP, 0, a.conn, 0);  // no request: no promise
	if (a.data.len)  // else no data: the poll task reads none as empty
		post_bytes(the, cmd, a.data);
	else
		xm_am_post(the, xm_am_running(the), &cmd);
}

// stall(am, ms): test hook, see XM_AM_STALL
void xm_am_stall(xsMachine* the)
{
	xm_am_stall_in_t a = xm_am_stall_in(the);
	xm_am_t* am = xm_am_running(the);
	xm_am_cmd_t cmd = { 0 };
	cmd.op = XM_AM_STALL;
	cmd.size = (size_t)a.ms;
	xm_am_post(the, am, &cmd);
}

void xm_am_event_free(xm_am_event_t* e)
{
	free(e->payload);
	free(e);
}

// A request, response, WebSocket or MQTT message, or a raw connection's bytes, the
// XS heap has no room for (xm_mg_budget.c): the poll task refuses it
// (core/message_refuse.c), except a UDP datagram, which is just lost. An HTTP
// request's 503 says it all (SILENT), as does a refused connection's; for anything
// else the handler gets an ERROR event instead, saying why (TOLD).
enum { ADMITTED, SILENT, TOLD };

// A refusal the full command queue does not take waits, in order, for the next
// batch (by then the poll task has emptied the queue): otherwise its peer would
// wait for an answer that never comes. false when the C heap has no room for it.
static bool post_refusal(xm_am_t* am, const xm_am_cmd_t* cmd)
{
	if (!am->unsent.len && xm_am_command(am, cmd))
		return true;
	return mg_iobuf_add(&am->unsent, am->unsent.len, cmd, sizeof(*cmd)) != 0;
}

static void post_unsent(xm_am_t* am)
{
	const xm_am_cmd_t* unsent = (const void*)am->unsent.buf;
	size_t count = am->unsent.len / sizeof(*unsent), sent = 0;
	while (sent < count && xm_am_command(am, &unsent[sent]))
		sent++;
	mg_iobuf_del(&am->unsent, 0, sent * sizeof(*unsent));
}

// Whether ev brings the peer's input to JavaScript: a message, or a raw connection's bytes.
static bool input(int ev)
{
	return ev == MG_EV_READ || xm_mg_budget_counts(ev);
}

static bool silenced(xm_am_t* am, const xm_am_event_t* e)
{
	silenced_t* list = (void*)am->silenced.buf;
	size_t count = am->silenced.len / sizeof(*list);
	for (size_t i = 0; i < count; i++) {
		if (list[i].conn != e->conn)
			continue;
		bool known = list[i].known;
		if (e->ev == MG_EV_CLOSE || (!known && e->ev == XM_AM_EV_RESULT && !e->request)) {
			list[i] = list[count - 1];
			am->silenced.len -= sizeof(*list);
			return !known;
		}
		return !known || input(e->ev);
	}
	return false;
}

// Has the poll task refuse e's connection (OPEN) or its input (e->ev), and
// silences what follows; false when neither the command queue nor the C heap
// takes the refusal.
static bool silence(xm_am_t* am, const xm_am_event_t* e, bool known)
{
	silenced_t entry = { e->conn, known };
	if (!mg_iobuf_add(&am->silenced, am->silenced.len, &entry, sizeof(entry)))
		return false;
	if (post_refusal(am, &(xm_am_cmd_t) { .op = XM_AM_REFUSE, .flag = (uint8_t)e->ev, .conn = e->conn }))
		return true;
	am->silenced.len -= sizeof(entry);
	return false;
}

// An accepted connection's first event: its object takes XS heap too. Without
// room, the poll task refuses the connection (as over the cap: a 503 to HTTP).
// A refusal that cannot be made admits it after all: better than a connection
// nobody answers.
static bool refuse_connection(xsMachine* the, xm_am_event_t* e, char* why, size_t size)
{
	return !xm_mg_budget_admit(the, 0, why, size) && silence(e->am, e, false);
}

static int refusal(xsMachine* the, xm_am_event_t* e, char* why, size_t size)
{
	if (e->ev == MG_EV_OPEN && (e->value & XM_MG_FLAG_ACCEPTED))
		return refuse_connection(the, e, why, size) ? SILENT : ADMITTED;
	if (!e->payload || !input(e->ev))
		return ADMITTED;
	// A raw connection's bytes become a Uint8Array as long as the chunk read.
	size_t weight = e->kind ? xm_mg_budget_weight(e->kind, e->payload) : e->size;
	if (xm_mg_budget_admit(the, weight, why, size))
		return ADMITTED;
	// A datagram is lost alone (core/message_refuse.c); the poll task handed it
	// over already, and has nothing of it to refuse.
	bool datagram = e->ev == MG_EV_READ && (e->value & XM_MG_FLAG_UDP);
	if (!datagram && !silence(e->am, e, true))
		return ADMITTED;  // as a connection is (refuse_connection): better than a peer nobody answers
	if (e->ev == MG_EV_HTTP_MSG && (e->value & XM_MG_FLAG_ACCEPTED))
		return SILENT;
	e->ev = MG_EV_ERROR;
	return TOLD;
}

// Throws only what the dispatch lets escape (or an allocation failure), which is
// fatal: xm_am_deliver's one try per batch reports it.
static void deliver_one(xsMachine* the, xm_am_event_t* e)
{
	char why[160];
	if (e->am->silenced.len && silenced(e->am, e))
		return;
	int refused = refusal(the, e, why, sizeof(why));
	if (refused == SILENT)
		return;
	xsVar(0) = xsNumber((double)e->conn);
	xsVar(1) = xsInteger(e->ev);
	if (refused == TOLD)
		xsVar(2) = xsString(why);
	else if (e->kind && e->payload) {
		xm_mg_new_message(the, &xsVar(2), e->kind, e->payload, true);
		e->payload = NULL;  // the message object owns it now
	}
	else if (e->payload && (e->ev == MG_EV_READ || e->ev == MG_EV_WAKEUP))
		xm_mg_new_bytes(the, &xsVar(2), e->payload, e->size);
	else if (e->payload)
		xm_mg_new_string(the, &xsVar(2), mg_str_n(e->payload, e->size));
	else
		xsVar(2) = xsUndefined;
	xsVar(3) = xsInteger(e->value);
	xsVar(4) = xsNumber(e->number);
	// Most events carry no addresses: no string for them on the hot path.
	xsVar(5) = e->addrs[0] ? xsString(e->addrs) : xsUndefined;
	xsVar(6) = xsNumber((double)e->request);
	xsCallFunction7(e->am->dispatch, xsUndefined, xsVar(0), xsVar(1), xsVar(2), xsVar(3), xsVar(4), xsVar(5), xsVar(6));
}

// A message's copy (an HTTP request, a WebSocket or MQTT message) is in the C heap,
// owned by its message object until XS collects that object; XS collects when its
// own heap is full, which a fixed profile with small messages reaches only after
// many. On a device the C heap (XS's heap among it) would run out first, each
// answered request keeping its copy. So once XM_HOST_AM_GARBAGE_BYTES of copies
// were handed over since the last collection, one runs before the next event.
// The count is of the XS task alone, whatever manager the copies came from.
static size_t handed;

static void collect_if_due(xsMachine* the, const xm_am_event_t* e)
{
	if (!e->kind || !e->payload)
		return;
	handed += e->size;
	if (handed < XM_HOST_AM_GARBAGE_BYTES)
		return;
	handed = 0;
	xsCollectGarbage();
}

// dispatch(connId, ev, data, flags|status, number, addrs, request) per event, in
// order. Each event is a turn of its own, as a macrotask is in Node: a batch may
// hold hundreds of requests, and with the promise jobs run only after the last,
// all of them would be live at once in a fixed creation profile. Run after each,
// they let a handler that answers at once finish, and its request be garbage,
// before the next request is made.
void xm_am_deliver(xsMachine* the, void* batch)
{
	xsVars(7);
	if (((xm_am_event_t*)batch)->am->unsent.len)
		post_unsent(((xm_am_event_t*)batch)->am);
	// One try for the batch, not one per event (each costs XS a setjmp): what
	// escapes the dispatch is fatal, so the events after it need no delivery.
	xsTry {
		for (xm_am_event_t* e = batch; e;) {
			xm_am_event_t* next = e->next;
			collect_if_due(the, e);
			deliver_one(the, e);
			xm_am_event_free(e);
			if (next)
				xm_turn_end(the);  // after the last one, xm_dispatch ends the turn
			e = next;
		}
	}
	xsCatch {
		xm_uncaught(the, "uncaught exception in the AsyncManager's dispatch");
	}
}
