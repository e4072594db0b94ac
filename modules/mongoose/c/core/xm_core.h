// SPDX-License-Identifier: MIT
// The mongoose core (xm_core_*): C with no XS in it, called by both front ends,
// the synchronous Manager (xm_mg_*, on the XS task) and the AsyncManager
// (xm_am_*, on its poll task). Tested alone by test/c and test/fuzz.
//
// Which task calls what: the functions taking a struct mg_connection* or
// mg_mgr*, the task that owns that connection's manager; the others, any task.
#ifndef XM_CORE_H
#define XM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include "mongoose.h"

// ---- protocol_wrap.c: a workaround in front of mongoose's protocol handler ----

// The kinds of mongoose protocol handler (c->pfn) a workaround wraps: each kind
// is one static function of mongoose.c, the same for every connection.
typedef enum { XM_CORE_HTTP, XM_CORE_WS, XM_CORE_MQTT, XM_CORE_DNS, XM_CORE_KINDS } xm_core_kind_t;

// Puts wrapper in front of c's protocol handler, once (true: c is wrapped now or
// was). is_mongoose: c->pfn is mongoose's handler of that kind (mongoose has just
// installed it), so it may be the one saved; otherwise c is wrapped only when its
// handler is the saved one. Connections whose handler is another are left alone.
bool xm_core_wrap(struct mg_connection* c, xm_core_kind_t kind, mg_event_handler_t wrapper, bool is_mongoose);
// The wrapper's way on to mongoose's handler of that kind.
void xm_core_unwrapped(xm_core_kind_t kind, struct mg_connection* c, int ev, void* ev_data);
// The protocol handler after a refusal: what still arrives is dropped.
void xm_core_drop_input(struct mg_connection* c, int ev, void* ev_data);

// ---- conn.c: the state of a connection, on its fn_data ----

// A server connection's refusal state, part of its state (http_*.c).
typedef struct {
	size_t discard;           // bytes of a refused request body still to drop
	bool refused;             // a request was refused: nothing more is delivered
	bool ws_refused;          // a WebSocket message was refused (message_refuse.c): no more are delivered
} xm_core_http_state_t;

// A listener's limits (conn_limits.c), which the connections it accepts get;
// 0 is no limit.
typedef struct {
	uint32_t headers_ms;      // HTTP: a request head not complete this long after its first byte gets a 408
	uint32_t idle_ms;         // an accepted connection that moves no byte either way this long is closed
	uint32_t max;             // accepted connections open at once; a new one past it is refused
	bool http;                // an HTTP listener: a 503 for a refusal, and headers_ms applies
} xm_core_limits_t;

struct xm_core_conn;

// conn_limits.c's state, part of each connection's.
typedef struct {
	xm_core_limits_t set;     // a listener's, or the copy an accepted connection took
	struct xm_core_conn* listener;  // accepted: the listener counting it, until either closes
	uint32_t open;            // a listener: its accepted connections open
	uint64_t quiet_since;     // mongoose's ms clock at the last poll round that saw bytes move
	uint64_t head_since;      // at the first poll round that saw the request head in progress; 0: none
	bool moved;               // bytes moved since the last poll round
} xm_core_limits_state_t;

// The start of each front end's per-connection state, which is the fn_data of
// the connections it opens. A state made for an open becomes the connection's
// at its first event; c is NULL before, and once the front end saw CLOSE.
typedef struct xm_core_conn {
	struct mg_connection* c;
	unsigned long id;
	xm_core_http_state_t http; // http_refuse.c's state (HTTP server connections)
	xm_core_limits_state_t limits;  // conn_limits.c's; a listener's set before it opens
} xm_core_conn_t;

// c's state. An accepted connection arrives with its listener's (mongoose
// copies fn_data): NULL then, with the listener's in *listener, for the front
// end to give c a state of its own with xm_core_conn_adopt. A connection past
// its listener's cap is refused there (conn_limits.c): NULL, listener NULL, and
// its fn_data NULL from then on, so the front end never hears of it.
xm_core_conn_t* xm_core_conn_of(struct mg_connection* c, xm_core_conn_t** listener);
// Binds s to c; an accepted connection (c's fn_data still its listener's) takes
// its listener's limits and is counted.
void xm_core_conn_adopt(xm_core_conn_t* s, struct mg_connection* c);

// ---- conn_limits.c: a listener's timeouts and connection cap ----

// Both front ends, on every event of a connection that has its own state s
// (the owner's task): READ and WRITE count as activity, POLL checks the
// deadlines (once per poll round: 408 and "Connection: close" for a request
// head past headers_ms, a close past idle_ms), CLOSE takes c out of its
// listener's count (a listener's, its connections out of its count).
void xm_core_limits_event(struct mg_connection* c, int ev, void* ev_data, xm_core_conn_t* s);
// For xm_core_conn_of: false when the listener's count is at its cap; c is then
// refused (an HTTP listener's gets a 503 and "Connection: close", others are
// closed) and its fn_data cleared.
bool xm_core_limits_admit(struct mg_connection* c, xm_core_conn_t* listener);
// Refuses c as a whole, as over the cap: an HTTP connection (not TLS) gets a 503
// saying text and "Connection: close", any other closes; its fn_data is cleared.
void xm_core_refuse_connection(struct mg_connection* c, bool http, const char* text);
// The text of a 503 for want of XS heap (a connection's or a request's).
#define XM_CORE_SHORT_OF_MEMORY "the server is short of memory: try again later\n"
// For xm_core_conn_adopt: s, accepted by listener, joins its count.
void xm_core_limits_join(xm_core_conn_t* s, xm_core_conn_t* listener);

// ---- open.c: a connection of a kind, with the workarounds it needs ----

// The kinds of connection a front end opens; their numbers are the AsyncManager's
// LISTEN/CONNECT command flags (xm_am.h).
typedef enum {
	XM_CORE_OPEN_RAW, XM_CORE_OPEN_HTTP, XM_CORE_OPEN_WS, XM_CORE_OPEN_MQTT, XM_CORE_OPEN_SNTP, XM_CORE_OPEN_KINDS
} xm_core_open_kind_t;

// Listens on or connects to url (a listener: raw, HTTP or MQTT only); mqtt is
// an MQTT client's options. mongoose may call fn (OPEN; RESOLVE, CONNECT or
// ERROR for an address) before this returns. NULL when it cannot, with the
// reason in why: "<call> <url>: <reason>", the call named as the binding's
// (connect, mqttConnect, mqttListen...).
struct mg_connection* xm_core_open(struct mg_mgr* mgr, bool listen, xm_core_open_kind_t kind, const char* url,
	const struct mg_mqtt_opts* mqtt, mg_event_handler_t fn, void* fn_data, char* why, size_t size);

// ---- http_reply.c: HTTP responses, framed once for both front ends ----

// The reason phrase of an HTTP status ("" when unknown).
const char* xm_core_http_reason(int status);
// A response in one malloc'd block (NULL without memory), *total bytes: the
// status line (status 100 to 999; reason NULL: the status's own phrase), headers ("Name: value\r\n"
// lines), then Content-Length and the body; chunked, the head alone, its body
// to go in chunks (mg_http_write_chunk).
char* xm_core_http_response(int status, const char* reason, const char* headers, const void* body, size_t size,
	bool chunked, size_t* total);
// The answer to a request whose handler threw before answering.
void xm_core_http_500(struct mg_connection* c);

// ---- send_now.c: bytes written without waiting for mongoose's next poll ----

// The connections whose send buffer a front end filled from empty, outside
// mongoose's own writing: by an AsyncManager's command, or by a Manager's
// handler answering an event. Past its length, mongoose's next poll writes
// them, as it would anyway.
typedef struct {
	struct mg_connection* conns[64];
	int count;
} xm_core_fresh_t;

// c's send buffer held before bytes until the caller added to it: from empty,
// c joins f (epoll's EPOLLOUT interest, which mongoose takes back once it has
// emptied the buffer, is then not set).
void xm_core_fresh_add(xm_core_fresh_t* f, struct mg_connection* c, size_t before);
// c's CLOSE: mongoose frees it after, maybe before f is sent.
void xm_core_fresh_forget(xm_core_fresh_t* f, struct mg_connection* c);
// Not inside a mongoose call (the MG_EV_WRITE of what goes reaches c's
// protocol handler, which must not get it inside one of its own events): writes
// what each connection of f holds, as mongoose's loop would, or leaves it to the
// loop (TLS, UDP, a socket not ready); then empties f. A connection a WRITE
// handler refills meanwhile joins again, while f has room.
void xm_core_fresh_send(xm_core_fresh_t* f);

// ---- the workarounds, one file each (each file says the bug) ----

// http_unparsed_request.c: a 400 for requests mg_http_parse refuses. Call on an
// HTTP listener right after mg_http_listen (its connections inherit it) and on
// every event of an accepted connection (mongoose puts its own handler back
// after serving a file). NULL and other connections are left alone.
void xm_core_http_unparsed_request(struct mg_connection* c);

// http_request_line.c: MG_EV_HTTP_HDRS whose request line is no METHOD TARGET
// gets a 400 (true: refused, the event is consumed). s may be NULL.
bool xm_core_http_request_line(struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* s);
// http_body_over_limit.c: MG_EV_HTTP_HDRS announcing a body mongoose cannot
// buffer gets a 413 (true: refused now), given the send and receive buffer
// lengths from before the handler ran; the MG_EV_READs of a refused request are
// dropped by xm_core_http_body_discard (true: consumed).
bool xm_core_http_body_over_limit(struct mg_connection* c, int ev, void* ev_data, size_t sent, size_t received, xm_core_http_state_t* s);
bool xm_core_http_body_discard(struct mg_connection* c, int ev, xm_core_http_state_t* s);

// http_refuse.c: the refusals around a handler's event. before: true when the
// event was consumed; after the handler comes xm_core_http_body_over_limit. s
// NULL: no state yet, nothing is refused for lack of it. check is both at once,
// for a handler that runs after the event (the AsyncManager's, on the XS task,
// can neither read nor answer in between).
bool xm_core_http_before(struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* s);
bool xm_core_http_check(struct mg_connection* c, int ev, void* ev_data, xm_core_http_state_t* s);
// Queues an answer with that status (400, 408, 413, 503), text as its body, and
// "Connection: close".
void xm_core_http_refuse(struct mg_connection* c, int status, const char* text);

// message_refuse.c: the answer to a message (event ev: MG_EV_HTTP_MSG,
// MG_EV_WS_MSG, MG_EV_MQTT_MSG..., or MG_EV_READ: a raw connection's bytes)
// that JavaScript could not take for lack of XS heap (the front ends' memory
// budget, xm_mg_budget.c). An accepted HTTP request gets a 503 and the
// connection closes once it is sent, what arrives meanwhile dropped; a
// WebSocket gets a close frame 1009, and its messages are dropped (by
// xm_core_http_before) until the peer's close frame, which mongoose answers by
// closing; a UDP connection drops the datagram in its receive buffer and serves
// on; any other connection closes at once. s is c's state
// (NULL: an HTTP request's connection closes at once, a WebSocket's messages
// still arrive). A connection refused already is left alone.
void xm_core_refuse_message(struct mg_connection* c, int ev, xm_core_http_state_t* s);

// ws_frame_check.c: RFC 6455's checks of incoming frames, in front of mongoose's
// WebSocket handler: call right after mg_ws_upgrade or mg_ws_connect.
void xm_core_ws_frame_check(struct mg_connection* c);
// The check itself: frames in buf[start..len) as the peer of c (client or not)
// sends them; in_message: a fragmented message is open. NULL when acceptable so
// far, else the fault, with the close code to send in *code.
const char* xm_core_ws_frames_fault(bool client, const uint8_t* buf, size_t start, size_t len, bool in_message, int* code);

// mqtt5_short_publish.c: the MQTT 5 PUBLISH repair in front of mongoose's MQTT
// handler: call right after mg_mqtt_connect (MQTT 3.1.1 connections are left alone).
void xm_core_mqtt5_short_publish(struct mg_connection* c);
// The repair itself, on a message mg_mqtt_parse made.
void xm_core_mqtt5_repair(struct mg_mqtt_message* mm);
// mqtt_server_version.c: an MQTT listener's accepted connections speak the
// version their client's CONNECT names (mongoose takes 3.1.1); call right after mg_mqtt_listen.
void xm_core_mqtt_server_version(struct mg_connection* listener);

// dns_aaaa_requery.c: in front of the manager's resolver connections when they
// exist: call before each mg_mgr_poll.
void xm_core_dns_aaaa_requery(struct mg_mgr* mgr);
// true for a response to one AAAA question without an AAAA record.
bool xm_core_dns_aaaa_unanswered(const uint8_t* p, size_t len);

// ---- mqtt_send.c: the MQTT client packets ----

// XM_CORE_MQTT_*: the AsyncManager's MQTT command flags too (xm_am_mqtt.c).
typedef enum {
	XM_CORE_MQTT_PUB, XM_CORE_MQTT_SUB, XM_CORE_MQTT_UNSUB, XM_CORE_MQTT_PING, XM_CORE_MQTT_PONG,
	XM_CORE_MQTT_DISCONNECT, XM_CORE_MQTT_HEADER,
} xm_core_mqtt_op_t;

// Queues op's packet on c: PUB, SUB and UNSUB with opts (their packet id is the
// result, 0 for a QoS 0 PUBLISH), HEADER a fixed header (header its first byte,
// length the remaining length; the caller sends the rest), the others alone.
uint16_t xm_core_mqtt_send(struct mg_connection* c, xm_core_mqtt_op_t op, const struct mg_mqtt_opts* opts,
	uint8_t header, uint32_t length);

// ---- message_copy.c: one copy of an event's data at the poll/XS crossing ----

// Copies of mongoose's messages, laid out like them so the same accessors read
// both: the struct and its bytes in one malloc'd block (NULL without memory),
// every mg_str pointing into it; *size is the block's size.
void* xm_core_copy_http(const struct mg_http_message* hm, size_t* size);
void* xm_core_copy_ws(const struct mg_ws_message* wm, size_t* size);
void* xm_core_copy_mqtt(const struct mg_mqtt_message* mm, size_t* size);

// ---- text.c: bytes to XS's UTF-8 and back ----

// BAD: not valid UTF-8 where strict, or not valid JSON string content.
#define XM_CORE_TEXT_BAD ((size_t)-1)
extern const char xm_core_replacement[3];  // U+FFFD
size_t xm_core_utf8_length(const unsigned char* s, size_t n, bool xs);
size_t xm_core_text_size(const char* s, size_t n, bool strict, bool xs);
void xm_core_text_fill(char* to, const char* s, size_t n, bool xs);
size_t xm_core_put_code_point(char* to, long c);
size_t xm_core_xs_to_utf8(const unsigned char* s, size_t n, unsigned char* out);

// ---- json_unescape.c ----

// Unescapes the inside of a JSON string (n bytes at s, no quotes) into to, in
// XS's UTF-8 (or only sizes it when to is NULL): the size, or XM_CORE_TEXT_BAD.
size_t xm_core_json_unescape(const char* s, size_t n, char* to);

#endif
