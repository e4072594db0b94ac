// SPDX-License-Identifier: MIT
// WebSocket: upgrade, send, and WsMessage for data and control frames (ping,
// pong and close are delivered as WS_CTL with their payload, unlike the seed).
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
		xm_core_ws_frame_check(c);
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
