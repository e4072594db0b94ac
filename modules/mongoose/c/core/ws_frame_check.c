// SPDX-License-Identifier: MIT
// mongoose bug (seen in 7.23): its WebSocket parser takes frames RFC 6455 says
// to refuse, reserved bits, unknown opcodes, a client's unmasked frames,
// fragmented or long control frames, continuations outside a message, and
// waits (up to 1 GiB) for a frame larger than the receive limit.
// Events: MG_EV_READ; mg_ws_cb parses the frames and fires MG_EV_WS_MSG or
// MG_EV_WS_CTL for each, or keeps reading for the rest of a frame.
// Fix: at MG_EV_READ, before mg_ws_cb, check the frames received; on a fault,
// log it, send a close frame (1002 protocol error, 1009 too big), fire
// MG_EV_ERROR with the fault and drop whatever else arrives.
#include "xm_core.h"

enum { WS_CLOSE_PROTOCOL = 1002, WS_CLOSE_TOO_BIG = 1009 };

const char* xm_core_ws_frames_fault(bool client, const uint8_t* buf, size_t start, size_t len, bool in_message, int* code)
{
	*code = WS_CLOSE_PROTOCOL;  // every fault's but a frame too big
	for (size_t at = start; at + 2 <= len;) {
		const uint8_t* p = buf + at;
		uint8_t op = p[0] & 0x0f;
		bool fin = (p[0] & 0x80) != 0, masked = (p[1] & 0x80) != 0, control = (op & 0x08) != 0;
		if (p[0] & 0x70)
			return "WebSocket frame with reserved bits set";
		if (op > 2 && op != WEBSOCKET_OP_CLOSE && op != WEBSOCKET_OP_PING && op != WEBSOCKET_OP_PONG)
			return "WebSocket frame with an unknown opcode";
		if (masked == client)
			return masked ? "masked WebSocket frame from a server" : "unmasked WebSocket frame from a client";
		size_t n = p[1] & 0x7f, header = 2 + (n == 126 ? 2 : n == 127 ? 8 : 0) + (masked ? 4 : 0);
		uint64_t size = n;
		if (control && (!fin || n > 125))
			return "WebSocket control frame fragmented or over 125 bytes";
		if (!control && op == 0 && !in_message)
			return "WebSocket continuation frame outside a message";
		if (!control && op != 0 && in_message)
			return "WebSocket message inside a fragmented message";
		if (n >= 126) {
			size_t bytes = n == 126 ? 2 : 8;
			if (at + 2 + bytes > len)
				break;  // the length is still on its way
			size = 0;
			for (size_t i = 0; i < bytes; i++)
				size = (size << 8) | p[2 + i];
		}
		if (size > MG_MAX_RECV_SIZE || at + header + size > MG_MAX_RECV_SIZE) {
			*code = WS_CLOSE_TOO_BIG;
			return "WebSocket frame too big for the receive buffer";
		}
		if (at + header + size > len)
			break;  // mongoose waits for the rest
		if (!control)
			in_message = !fin;
		at += header + (size_t)size;
	}
	return NULL;
}

static void refuse(struct mg_connection* c, const char* why, int code)
{
	MG_ERROR(("%lu %s", c->id, why));
	c->pfn = xm_core_drop_input;
	c->recv.len = 0;
	uint8_t payload[2] = { (uint8_t)(code >> 8), (uint8_t)code };
	mg_ws_send(c, payload, sizeof(payload), WEBSOCKET_OP_CLOSE);
	c->is_draining = 1;  // the close frame goes out, then the connection closes
	mg_call(c, MG_EV_ERROR, (void*)why);
}

static void check(struct mg_connection* c, int ev, void* ev_data)
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
		int code = 0;
		const char* why = ready ? xm_core_ws_frames_fault(c->is_client, c->recv.buf, start, c->recv.len,
			start > 0 && c->is_websocket, &code) : NULL;
		if (why) {
			refuse(c, why, code);
			return;
		}
	}
	xm_core_unwrapped(XM_CORE_WS, c, ev, ev_data);
}

void xm_core_ws_frame_check(struct mg_connection* c)
{
	xm_core_wrap(c, XM_CORE_WS, check, true);
}
