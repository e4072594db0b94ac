// SPDX-License-Identifier: MIT
// The XS binding of mongoose (xm_mg_*). JavaScript exceptions never cross a
// mongoose frame: every entry from mongoose into JavaScript catches.
//
// Which task calls what. Two tasks run this code: the XS task, and with an
// AsyncManager its poll task (xm_am.h), which owns that manager's mg_mgr.
//   XS task only: every function taking an xsMachine* (the JavaScript bindings,
//     the accessors, the *_args readers, xm_mg_tls_options), the destructors,
//     and the synchronous Manager's mongoose calls, which it polls itself.
//   The task that owns the connection's manager (XS task for a Manager, poll
//     task for an AsyncManager): MQTT sub/unsub and the TLS peer hooks, which
//     call mongoose, as the core's workarounds (core/xm_core.h) do.
//   Any task: the blocks the *_args
//     readers return; mg_wakeup on any manager. mongoose's log comes from
//     both tasks at once: each has a line of its own (xm_mg_log_line_own).
#ifndef XM_MG_H
#define XM_MG_H

#include "core/xm_core.h"
#include "xm.h"

typedef struct xm_mg_timer xm_mg_timer_t;

typedef struct xm_mg {
	struct mg_mgr mgr;
	xm_source_t source;       // the loop's source while run() serves it (xm_mg_run.c)
	xsMachine* the;
	xsSlot report;            // JS (error, conn, ev) => void, for what a handler threw; remembered
	xsSlot handlers;          // JS { manager, opening }: the handlers after a connection's own; remembered
	xsIdentifier id_handler, id_manager, id_opening;  // their property names, looked up once
	xm_mg_timer_t* timers;    // every timer record whose Timer object exists
	bool parked;              // a timer was parked in poll: xm_mg_timers_reap frees it (xm_mg_timer.c)
	unsigned long pipe_id;    // mongoose's wakeup pipe, made by enableWakeup or run(); 0: none
	xsSlot object;            // the host object, remembered while running
	xsSlot resolve;           // run()'s promise's resolve, remembered while running
	char* dns;                // the DNS server URL mongoose points to (xm_mg_net.c), or NULL
	xm_core_fresh_t fresh;    // connections a handler answered, written once mg_mgr_poll returns (core/send_now.c)
	bool polling;
	bool running;             // registered with the loop by run()
	bool turns;               // the loop polls it: each call into JavaScript is a turn
	bool close_pending;       // close() was called (inside poll: done once it returns); true whenever closed is
	bool closed;
	bool in_gc;               // freed by the garbage collector: no JavaScript
} xm_mg_t;

// A TLS client's peer address, kept from mongoose's certificate check while the
// handshake runs (xm_mg_tls.c); part of each connection's state.
typedef struct {
	struct mg_addr real;      // the connection's address, while hidden
	struct mg_addr check;     // what mongoose compares the certificate's SAN IP entries with
	bool pending;             // TLS started before the connection was made: hide at CONNECT
	bool hidden;
} xm_mg_tls_peer_t;

// One per mongoose connection we created or accepted; the host data of the JS
// Connection. Freed only by that object's destructor, so a kept Connection
// stays safe after mongoose has freed the connection (c is NULL then).
typedef struct xm_mg_conn {
	xm_core_conn_t core;      // first: c->fn_data is both
	xm_mg_t* m;
	xsSlot object;            // remembered while the connection is open
	uint32_t events;          // bit ev: its handler is called for ev (XM_MG_EVENTS_ALL: every event)
	xm_mg_tls_peer_t peer;    // xm_mg_tls.c's state
} xm_mg_conn_t;

// The host data of a JS Timer, freed only by that object's destructor.
struct xm_mg_timer {
	xm_mg_timer_t* next;
	struct mg_timer* timer;   // NULL once handed back to mongoose or parked
	xm_mg_t* m;               // NULL once the Manager was collected
	xsSlot object, callback;  // remembered while active
	bool active;
	bool repeat;
};

// A handler that gave no event list gets every event, user events above 31 included.
#define XM_MG_EVENTS_ALL UINT32_MAX

// Host objects whose [[Prototype]] is each TypeScript class's prototype, made by
// register(): C creates instances from them (xsNewHostInstance), which inherit
// the destructor and still pass `instanceof` for the TypeScript class.
enum {
	XM_MG_PROTO_MANAGER, XM_MG_PROTO_CONNECTION, XM_MG_PROTO_HTTP, XM_MG_PROTO_WS,
	XM_MG_PROTO_MQTT, XM_MG_PROTO_TIMER, XM_MG_PROTO_COUNT
};
extern xsSlot xm_mg_protos[XM_MG_PROTO_COUNT];
// Each prototype's host destructor (made: what register() gives it, and so every
// instance), and a message's when the AsyncManager's object owns the copy.
extern const struct xm_mg_host { xsDestructor made, owned; } xm_mg_hosts[XM_MG_PROTO_COUNT];
// Whether value is an object C made from xm_mg_protos[proto], told by its host
// destructor: it stays one when JavaScript gives it another prototype (serve's
// Request is an HttpMessage made so), and an object JavaScript made from the
// class's prototype has none. What the argument prologues check host kinds with.
bool xm_mg_is_host(xsSlot* value, int proto);

// ---- XS task only ----------------------------------------------------------

// Destructors (also used to validate host data).
void xm_mg_manager_destroy(void* data);
void xm_mg_conn_destroy(void* data);
void xm_mg_http_destroy(void* data);
void xm_mg_ws_destroy(void* data);
void xm_mg_mqtt_destroy(void* data);
void xm_mg_timer_destroy(void* data);

// Event payload kinds for the message host objects.
enum { XM_MG_MSG_HTTP = 1, XM_MG_MSG_WS, XM_MG_MSG_MQTT };

// Host data accessors: throw a TypeError naming what was expected.
xm_mg_t* xm_mg_manager(xsMachine* the, xsSlot* slot);          // open managers only
xm_mg_conn_t* xm_mg_conn(xsMachine* the, xsSlot* slot);        // any Connection
struct mg_connection* xm_mg_live(xsMachine* the, xsSlot* slot); // open connections only
// A message object for data (borrowed for the handler call, or owned and freed with it).
void xm_mg_new_message(xsMachine* the, xsSlot* result, int kind, void* data, bool owned);
// The memory budget of network input (xm_mg_budget.c). counts: the message of
// event ev is subject to it (those with a body: requests, responses, WebSocket
// frames, MQTT packets); admit: whether a message of bytes may go to JavaScript
// (may collect garbage first); if not, why says so. weight: a message's bytes as
// the budget counts them; hold and release: an owned message object took its
// copy, and freed it.
bool xm_mg_budget_counts(int ev);
bool xm_mg_budget_admit(xsMachine* the, size_t bytes, char* why, size_t size);
size_t xm_mg_budget_weight(int kind, const void* msg);
void xm_mg_budget_hold(int kind, const void* msg);
void xm_mg_budget_release(int kind, const void* msg);
// Connection flags as a bit set of XM_MG_FLAG_* (binding.json's wire).
int xm_mg_flags(const struct mg_connection* c);

// Creates the Connection object (into *object) for a mongoose connection we are
// about to make or have accepted; its handler is called for every event until told otherwise.
xm_mg_conn_t* xm_mg_conn_new(xsMachine* the, xm_mg_t* m, xsSlot* object);
// mongoose's event handler for every connection the binding creates.
void xm_mg_on_event(struct mg_connection* c, int ev, void* ev_data);
// The Connection (into xsResult) for a connection of that kind to url, whose handler
// is called for the events in the mask (-1: every event); listen: a listener's
// limits (NULL: a connect); mqtt: an MQTT client's options. Throws when it cannot open.
void xm_mg_open(xsMachine* the, xm_mg_t* m, const char* url, int32_t events, const xm_core_limits_t* listen,
	xm_core_open_kind_t kind, const struct mg_mqtt_opts* mqtt);
// A listener's limits from the arguments xsArg(first) to xsArg(first + 2):
// headersTimeout, idleTimeout (ms) and maxConnections, each undefined for the
// host's default (xm_host_config.h), 0 or Infinity for none (xm_mg_limits.c).
// Throws a RangeError naming the option for a negative number or NaN.
xm_core_limits_t xm_mg_limits_args(xsMachine* the, int first, bool http);
// Bytes of a string, ArrayBuffer, typed array or DataView argument.
void xm_mg_bytes(xsMachine* the, xsSlot* slot, const void** data, size_t* size);
// An HTTP response framed for either manager (core/http_reply.c), malloc'd, or a
// thrown RangeError (status) or "no memory": body_slot (NULL: none) a string or
// bytes, found in *body; reason_slot (NULL or not a string: the status's phrase);
// header_lines (NULL: none) "Name: value\r\n" lines the caller checked. A chunked
// response is its head alone.
char* xm_mg_http_response(xsMachine* the, int status, xsSlot* body_slot, xsSlot* reason_slot, xsSlot* header_lines,
	bool chunked, struct mg_str* body, size_t* total);
// A JavaScript Uint8Array holding a copy of the bytes.
void xm_mg_new_bytes(xsMachine* the, xsSlot* result, const void* data, size_t size);
// A JavaScript string from bytes that need not end with NUL.
void xm_mg_new_string(xsMachine* the, xsSlot* result, struct mg_str s);

// For native extensions: the mg_mgr behind a Manager, given the TypeScript Manager
// or its nativeHandle (XS task only; mg_wakeup on it is safe from any thread).
struct mg_mgr* xm_mg_mgr_of(xsMachine* the, xsSlot* manager);

// ---- the task that owns the manager -----------------------------------------

// MQTT for both managers (xm_mg_mqtt.c). The *_args functions (XS task) read a call's
// arguments from xsArg(first) on, in the order binding.json gives them (mqttConnect's
// after the URL), into one malloc'd block holding the options and every byte they
// point to: it is valid on any task until free(). pub uses the two slots at scratch.
struct mg_mqtt_opts* xm_mg_mqtt_connect_args(xsMachine* the, int first);
struct mg_mqtt_opts* xm_mg_mqtt_pub_args(xsMachine* the, int first, xsSlot* scratch);
// mqttSub's topic, qos: *op is XM_CORE_MQTT_UNSUB when qos is undefined, else XM_CORE_MQTT_SUB.
struct mg_mqtt_opts* xm_mg_mqtt_sub_args(xsMachine* the, int first, xm_core_mqtt_op_t* op);
// mqttSendHeader's cmd, flags, length: the header's first byte, and *length.
uint8_t xm_mg_mqtt_header_args(xsMachine* the, int first, uint32_t* length);
// mqttControl's cmd (PINGREQ, PINGRESP or DISCONNECT): its XM_CORE_MQTT_* op.
xm_core_mqtt_op_t xm_mg_mqtt_control_args(xsMachine* the, int first);

// The peer address for a TLS client: _init right after mg_tls_init with the
// options' name (a server's connection is left alone), _event before handling
// each of the connection's events. _real gives the connection's remote address,
// hidden or not.
void xm_mg_tls_peer_init(xm_mg_tls_peer_t* p, struct mg_connection* c, struct mg_str name);
void xm_mg_tls_peer_event(xm_mg_tls_peer_t* p, struct mg_connection* c, int ev);
const struct mg_addr* xm_mg_tls_peer_real(const xm_mg_tls_peer_t* p, const struct mg_connection* c);
// XS task: TLS options from JavaScript arguments xsArg(first) to xsArg(first + 4): ca, cert,
// key, name (each a string, bytes or undefined) and skipVerification, copied into
// one malloc'd block that free() releases whole (xm_mg_tls.c). Throws on bad types.
struct mg_tls_opts* xm_mg_tls_options(xsMachine* the, int first);
// On the task that polls c's manager, instead of mg_tls_init: gives mongoose the date
// the options carry first, if it has none (xm_mg_tls.c).
void xm_mg_tls_init(struct mg_connection* c, const struct mg_tls_opts* opts);

// Polls once: handlers and timers run inside, and a close() they asked for is
// done after. turns: called by the loop (run()), each event is a turn of its own.
// Throws when the Manager is polled already.
void xm_mg_poll(xsMachine* the, xm_mg_t* m, int ms, bool turns);
// Around each call from mongoose into JavaScript: begin says whether the call is
// a turn of its own (the loop polls the Manager), and makes what it fires
// itself (OPEN of a connection it opens) part of it; end, given true, ends the turn.
bool xm_mg_turn_begin(xm_mg_t* m);
void xm_mg_turn_end(xsMachine* the, xm_mg_t* m);
// run() is over (the Manager is closing): leave the loop, settle run()'s promise.
void xm_mg_run_end(xsMachine* the, xm_mg_t* m);

// The synchronous Manager's lifecycle hooks for its timers (XS task).
void xm_mg_timers_close(xsMachine* the, xm_mg_t* m);  // before mg_mgr_free
void xm_mg_timers_reap(xm_mg_t* m);                  // after mg_mgr_poll
void xm_mg_timers_orphan(xm_mg_t* m);                // the Manager is being collected

// ---- any task -------------------------------------------------------------

// mongoose's log: a line is written whole once it ends (or fills the buffer).
typedef struct {
	size_t used;
	char text[256];
} xm_mg_log_line_t;
// A task other than the XS task, before it calls mongoose: the line its log
// fills, which must outlive the task's last mongoose call. Without it, the task
// would share the XS task's line.
void xm_mg_log_line_own(xm_mg_log_line_t* line);

// The most data one mg_wakeup delivers whole: mongoose sends the connection id and
// the data as one datagram and reads it into a buffer of MG_IO_SIZE bytes; the
// kernel drops what does not fit without a word (and mg_wakeup still returns true).
#define XM_MG_WAKEUP_MAX (MG_IO_SIZE - sizeof(unsigned long))

#endif
