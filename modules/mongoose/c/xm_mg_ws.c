// SPDX-License-Identifier: MIT
// WebSocket: upgrade, send, and WsMessage for data and control frames (ping,
// pong and close are delivered as WS_CTL with their payload, unlike the seed).
#include "xm_args.h"

// upgrade(conn, msg, headerLines)
void xm_mg_conn_ws_upgrade(xsMachine* the)
{
	xm_mg_conn_ws_upgrade_in_t a = xm_mg_conn_ws_upgrade_in(the);
	if (!a.msg)
		xsUnknownError("the request has expired: upgrade it from inside its handler");
	mg_ws_upgrade(a.conn, a.msg, "%s", a.headerLines);  // "" adds no header
	if (a.conn->is_websocket)
		xm_core_ws_frame_check(a.conn);
}

// send(conn, data, op): returns the bytes queued
void xm_mg_conn_ws_send(xsMachine* the)
{
	xm_mg_conn_ws_send_in_t a = xm_mg_conn_ws_send_in(the);
	xsResult = xsNumber((double)mg_ws_send(a.conn, a.data.buf, a.data.len, a.op));
}

void xm_mg_wm_data(xsMachine* the)
{
	struct mg_ws_message* wm = xm_mg_wm_data_in(the).msg;
	xm_mg_new_bytes(the, &xsResult, wm ? wm->data.buf : NULL, wm ? wm->data.len : 0);
}

// text(msg, offset): the payload from offset as UTF-8 (a close frame's reason starts at 2)
void xm_mg_wm_text(xsMachine* the)
{
	xm_mg_wm_text_in_t a = xm_mg_wm_text_in(the);
	struct mg_ws_message* wm = a.msg;
	size_t offset = (size_t)a.offset;
	bool any = wm && offset <= wm->data.len;
	xm_mg_new_string(the, &xsResult, any ? mg_str_n(wm->data.buf + offset, wm->data.len - offset) : mg_str_n(NULL, 0));
}

// flags(msg): the frame's first byte (FIN bit 0x80, opcode 0x0f)
void xm_mg_wm_flags(xsMachine* the)
{
	struct mg_ws_message* wm = xm_mg_wm_flags_in(the).msg;
	xsResult = xsInteger(wm ? wm->flags : 0);
}
