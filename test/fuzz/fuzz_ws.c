// SPDX-License-Identifier: MIT
// libFuzzer target: WebSocket frames a peer sends, through the core's frame
// check (core/ws_frame_check.c) and mongoose's mg_ws_cb behind it. Each message
// that arrives is copied (core/message_copy.c) and compared.
// The first byte: bits 0-5 how the rest is split into reads, bit 6 the side
// (set: we are the client, frames come from a server).
#include "core_support.h"

#include <stdlib.h>

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	(void)c;
	if (ev == MG_EV_WS_MSG || ev == MG_EV_WS_CTL) {
		const struct mg_ws_message* wm = ev_data;
		size_t size;
		struct mg_ws_message* m = xm_core_copy_ws(wm, &size);
		if (!m)
			return;
		core_same_or_trap(m->data, wm->data);
		if (m->flags != wm->flags)
			__builtin_trap();
		free(m);
	}
}

static const char upgrade[] = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	static struct mg_mgr mgr;
	static struct mg_http_message hm;
	static bool ready;
	if (!ready) {
		ready = true;
		core_mgr_init(&mgr);
		mg_http_parse(upgrade, sizeof(upgrade) - 1, &hm);
	}
	if (size < 1)
		return 0;
	size_t chunk = (data[0] & 0x3f) + 1;
	struct mg_connection* c = core_accepted(&mgr, NULL, NULL);
	c->fn = on_event;
	mg_ws_upgrade(c, &hm, NULL);
	if (data[0] & 0x40) {
		c->is_accepted = 0;
		c->is_client = 1;
	}
	xm_core_ws_frame_check(c);
	core_receive_chunks(c, data + 1, size - 1, chunk);
	core_drop(c);
	return 0;
}
