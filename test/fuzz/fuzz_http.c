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

static void same(struct mg_str a, struct mg_str b)
{
	if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len) != 0))
		__builtin_trap();
}

static void check_copy(const struct mg_http_message* hm)
{
	size_t size;
	struct mg_http_message* m = xm_core_copy_http(hm, &size);
	if (!m)
		return;
	same(m->method, hm->method);
	same(m->uri, hm->uri);
	same(m->query, hm->query);
	same(m->proto, hm->proto);
	for (int i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len; i++) {
		same(m->headers[i].name, hm->headers[i].name);
		same(m->headers[i].value, hm->headers[i].value);
	}
	if (hm->body.len != (size_t)~0 && hm->message.len != (size_t)~0)
		same(m->body, hm->body);
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
	for (size_t at = 1; at < size && !c->is_closing; at += chunk) {
		core_receive(c, data + at, size - at < chunk ? size - at : chunk);
		c->send.len = 0;  // as if written
	}
	core_drop(c);
	return 0;
}
