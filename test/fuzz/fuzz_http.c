// SPDX-License-Identifier: MIT
// libFuzzer target: bytes a client sends to an HTTP server, through mongoose's
// http_cb (mg_http_parse) and the core's HTTP workarounds, as the synchronous
// Manager calls them (core/http_*.c); each request that arrives is copied
// (core/message_copy.c) and the copy compared with mongoose's message.
// The first byte picks how the rest is split into reads (bit 7: answer each request).
#include "core_support.h"

#include <stdlib.h>

static xm_core_http_state_t state;
static bool answer;

static void check_copy(const struct mg_http_message* hm)
{
	size_t size;
	struct mg_http_message* m = xm_core_copy_http(hm, &size);
	if (!m)
		return;
	core_same_or_trap(m->method, hm->method);
	core_same_or_trap(m->uri, hm->uri);
	core_same_or_trap(m->query, hm->query);
	core_same_or_trap(m->proto, hm->proto);
	for (int i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len; i++) {
		core_same_or_trap(m->headers[i].name, hm->headers[i].name);
		core_same_or_trap(m->headers[i].value, hm->headers[i].value);
	}
	if (hm->body.len != (size_t)~0 && hm->message.len != (size_t)~0)
		core_same_or_trap(m->body, hm->body);
	free(m);
}

// The front end's handler: the refusals around the application's, which
// copies each request and, when asked, answers it.
static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	xm_core_http_unparsed_request(c);
	if (xm_core_http_before(c, ev, ev_data, &state))
		return;
	size_t sent = c->send.len, received = c->recv.len;
	if (ev == MG_EV_HTTP_MSG) {
		check_copy(ev_data);
		if (answer)
			mg_http_reply(c, 200, "", "ok\n");
	}
	xm_core_http_body_over_limit(c, ev, ev_data, sent, received, &state);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	static struct mg_mgr mgr;
	static struct mg_connection* listener;
	if (!listener) {
		core_mgr_init(&mgr);
		listener = mg_http_listen(&mgr, "http://127.0.0.1:0", on_event, NULL);
		xm_core_http_unparsed_request(listener);
	}
	if (size < 1)
		return 0;
	size_t chunk = (data[0] & 0x7f) + 1;
	answer = data[0] & 0x80;
	memset(&state, 0, sizeof(state));
	struct mg_connection* c = core_accepted(&mgr, listener, NULL);
	c->fn = on_event;
	core_receive_chunks(c, data + 1, size - 1, chunk);
	core_drop(c);
	return 0;
}
