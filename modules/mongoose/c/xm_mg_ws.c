// SPDX-License-Identifier: MIT
// WebSocket: upgrade, send, and WsMessage for data and control frames (ping,
// pong and close are delivered as WS_CTL with their payload, unlike the seed).
#include <stdatomic.h>
#include "xm_mg.h"

// upgrade(conn, msg, headerLines)
void xm_mg_conn_ws_upgrade(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	struct mg_http_message* hm = xm_mg_message(the, &xsArg(1), XM_MG_MSG_HTTP);
	if (!hm)
		xsUnknownError("the request has expired: upgrade it from inside its handler");
	const char* headers = xsToString(xsArg(2));
	if (*headers)
		mg_ws_upgrade(c, hm, "%s", headers);
	else
		mg_ws_upgrade(c, hm, NULL);
	if (c->is_websocket)
		xm_mg_ws_guard(c);
}

// send(conn, data, op): returns the bytes queued
void xm_mg_conn_ws_send(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	int op = xsToInteger(xsArg(2));
	const void* data;
	size_t size;
	xm_mg_bytes(the, &xsArg(1), &data, &size);
	xsResult = xsNumber((double)mg_ws_send(c, data, size, op));
}

static struct mg_ws_message* message(xsMachine* the)
{
	return xm_mg_message(the, &xsArg(0), XM_MG_MSG_WS);
}

void xm_mg_wm_data(xsMachine* the)
{
	struct mg_ws_message* wm = message(the);
	xm_mg_new_bytes(the, &xsResult, wm ? wm->data.buf : NULL, wm ? wm->data.len : 0);
}

// text(msg, offset): the payload from offset as UTF-8 (a close frame's reason starts at 2)
void xm_mg_wm_text(xsMachine* the)
{
	struct mg_ws_message* wm = message(the);
	size_t offset = (size_t)xsToInteger(xsArg(1));
	if (!wm || offset > wm->data.len)
		xm_mg_new_string(the, &xsResult, mg_str_n(NULL, 0));
	else
		xm_mg_new_string(the, &xsResult, mg_str_n(wm->data.buf + offset, wm->data.len - offset));
}

// flags(msg): the frame's first byte (FIN bit 0x80, opcode 0x0f)
void xm_mg_wm_flags(xsMachine* the)
{
	struct mg_ws_message* wm = message(the);
	xsResult = xsInteger(wm ? wm->flags : 0);
}

// close(conn, code, reason): a close frame; the connection ends when the peer answers
void xm_mg_conn_ws_close(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	int code = xsToInteger(xsArg(1));
	const char* reason = xsToString(xsArg(2));
	size_t length = strlen(reason);
	if (length > 123)
		xsRangeError("a WebSocket close reason is at most 123 bytes, got %u", (unsigned)length);
	uint8_t payload[125];
	payload[0] = (uint8_t)(code >> 8);
	payload[1] = (uint8_t)code;
	memcpy(payload + 2, reason, length);
	xsResult = xsNumber((double)mg_ws_send(c, payload, 2 + length, WEBSOCKET_OP_CLOSE));
}

// The guard: mongoose parses frames leniently (any mask, reserved bits, a length
// it then waits for forever). The binding puts this handler in front of
// mongoose's and refuses, as RFC 6455 asks, what mongoose would act on wrongly.

// mongoose's own handler, saved when wrapped. Atomic: the Manager (XS task) and the
// AsyncManager (poll task) both store it, the same value.
static _Atomic(mg_event_handler_t) ws_protocol;

enum { WS_CLOSE_PROTOCOL = 1002, WS_CLOSE_TOO_BIG = 1009 };

typedef struct {
	const char* fault;  // NULL while the frames seen are acceptable
	int code;
} ws_verdict_t;

static ws_verdict_t refuse(const char* fault, int code)
{
	return (ws_verdict_t) { fault, code };
}

// Checks the frames in buf[start..len); in_message: a fragmented message is open.
static ws_verdict_t check_frames(const struct mg_connection* c, const uint8_t* buf, size_t start, size_t len, bool in_message)
{
	static const char* const fault_too_big = "WebSocket frame too big for the receive buffer";
	for (size_t at = start; at + 2 <= len;) {
		const uint8_t* p = buf + at;
		uint8_t op = p[0] & 0x0f;
		bool fin = (p[0] & 0x80) != 0, masked = (p[1] & 0x80) != 0, control = (op & 0x08) != 0;
		if (p[0] & 0x70)
			return refuse("WebSocket frame with reserved bits set", WS_CLOSE_PROTOCOL);
		if (op > 2 && op != WEBSOCKET_OP_CLOSE && op != WEBSOCKET_OP_PING && op != WEBSOCKET_OP_PONG)
			return refuse("WebSocket frame with an unknown opcode", WS_CLOSE_PROTOCOL);
		if (masked == (c->is_client != 0))
			return refuse(masked ? "masked WebSocket frame from a server" : "unmasked WebSocket frame from a client",
				WS_CLOSE_PROTOCOL);
		size_t n = p[1] & 0x7f, header = 2 + (n == 126 ? 2 : n == 127 ? 8 : 0) + (masked ? 4 : 0);
		uint64_t size = n;
		if (control && (!fin || n > 125))
			return refuse("WebSocket control frame fragmented or over 125 bytes", WS_CLOSE_PROTOCOL);
		if (!control && op == 0 && !in_message)
			return refuse("WebSocket continuation frame outside a message", WS_CLOSE_PROTOCOL);
		if (!control && op != 0 && in_message)
			return refuse("WebSocket message inside a fragmented message", WS_CLOSE_PROTOCOL);
		if (n >= 126) {
			size_t bytes = n == 126 ? 2 : 8;
			if (at + 2 + bytes > len)
				break;  // the length is still on its way
			size = 0;
			for (size_t i = 0; i < bytes; i++)
				size = (size << 8) | p[2 + i];
		}
		if (size > MG_MAX_RECV_SIZE || at + header + size > MG_MAX_RECV_SIZE)
			return refuse(fault_too_big, WS_CLOSE_TOO_BIG);
		if (at + header + size > len)
			break;  // mongoose waits for the rest
		if (!control)
			in_message = !fin;
		at += header + (size_t)size;
	}
	return refuse(NULL, 0);
}

// After a refusal nothing more is parsed; what still arrives is dropped.
static void ws_refused(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	if (ev == MG_EV_READ)
		c->recv.len = 0;
}

static void ws_refuse(struct mg_connection* c, ws_verdict_t verdict)
{
	MG_ERROR(("%lu %s", c->id, verdict.fault));
	c->pfn = ws_refused;
	c->recv.len = 0;
	uint8_t payload[2] = { (uint8_t)(verdict.code >> 8), (uint8_t)verdict.code };
	mg_ws_send(c, payload, sizeof(payload), WEBSOCKET_OP_CLOSE);
	c->is_draining = 1;  // the close frame goes out, then the connection closes
	mg_call(c, MG_EV_ERROR, (void*)verdict.fault);
}

static void ws_guard(struct mg_connection* c, int ev, void* ev_data)
{
	if (ev == MG_EV_READ) {
		size_t start = (size_t)c->pfn_data;  // mongoose keeps a fragmented message's offset there
		bool ready = c->is_websocket;
		if (!ready) {
			// A client before the 101 response: frames may follow it in the same read.
			int head = mg_http_get_request_len(c->recv.buf, c->recv.len);
			ready = c->is_client && head > 0;
			start = ready ? (size_t)head : 0;
		}
		if (ready) {
			ws_verdict_t verdict = check_frames(c, c->recv.buf, start, c->recv.len, start > 0 && c->is_websocket);
			if (verdict.fault) {
				ws_refuse(c, verdict);
				return;
			}
		}
	}
	atomic_load_explicit(&ws_protocol, memory_order_relaxed)(c, ev, ev_data);
}

void xm_mg_ws_guard(struct mg_connection* c)
{
	if (!c || !c->pfn || c->pfn == ws_guard)
		return;
	mg_event_handler_t saved = atomic_load_explicit(&ws_protocol, memory_order_relaxed);
	if (saved && saved != c->pfn)
		return;  // not mongoose's WebSocket handler (mg_ws_cb, the same for every connection)
	atomic_store_explicit(&ws_protocol, c->pfn, memory_order_relaxed);
	c->pfn = ws_guard;
}
