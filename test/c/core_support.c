// SPDX-License-Identifier: MIT
#include "core_support.h"

#include <stdlib.h>

void core_record(struct mg_connection* c, int ev, void* ev_data)
{
	recorder_t* rec = c->fn_data;
	if (!rec)
		return;
	if (rec->count < sizeof(rec->events) / sizeof(rec->events[0]))
		rec->events[rec->count] = ev;
	rec->count++;
	struct mg_str data = { NULL, 0 };
	if (ev == MG_EV_ERROR)
		snprintf(rec->error, sizeof(rec->error), "%s", (const char*)ev_data);
	else if (ev == MG_EV_WS_MSG)
		data = ((struct mg_ws_message*)ev_data)->data;
	else if (ev == MG_EV_MQTT_MSG)
		data = ((struct mg_mqtt_message*)ev_data)->data;
	if (ev == MG_EV_WS_MSG || ev == MG_EV_MQTT_MSG) {
		free(rec->owned);
		rec->owned = malloc(data.len + 1);
		if (data.len)
			memcpy(rec->owned, data.buf, data.len);
		rec->data = mg_str_n(rec->owned, data.len);
	}
}

size_t core_seen(const recorder_t* rec, int ev)
{
	size_t n = 0;
	for (size_t i = 0; i < rec->count && i < sizeof(rec->events) / sizeof(rec->events[0]); i++)
		n += rec->events[i] == ev;
	return n;
}

void core_free(recorder_t* rec)
{
	free(rec->owned);
	rec->owned = NULL;
}

static void log_sink(char ch, void* param)
{
	(void)ch;
	(void)param;
}

void core_mgr_init(struct mg_mgr* mgr)
{
	mg_log_set(MG_LL_NONE);
	mg_log_set_fn(log_sink, NULL);  // mg_hexdump writes whatever the level
	mg_mgr_init(mgr);
}

struct mg_connection* core_accepted(struct mg_mgr* mgr, const struct mg_connection* listener, recorder_t* rec)
{
	struct mg_connection* c = mg_alloc_conn(mgr);
	if (!c)
		abort();
	c->next = mgr->conns;
	mgr->conns = c;
	c->is_accepted = 1;
	c->pfn = listener ? listener->pfn : NULL;
	c->pfn_data = listener ? listener->pfn_data : NULL;
	c->fn = core_record;
	c->fn_data = rec;
	return c;
}

void core_drop(struct mg_connection* c)
{
	mg_close_conn(c);
}

void core_receive(struct mg_connection* c, const void* data, size_t size)
{
	mg_iobuf_add(&c->recv, c->recv.len, data, size);
	long n = (long)size;
	mg_call(c, MG_EV_READ, &n);
}

void core_receive_chunks(struct mg_connection* c, const uint8_t* data, size_t size, size_t chunk)
{
	for (size_t at = 0; at < size && !c->is_closing; at += chunk) {
		c->send.len = 0;
		core_receive(c, data + at, size - at < chunk ? size - at : chunk);
	}
}

void core_same_or_trap(struct mg_str a, struct mg_str b)
{
	if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len) != 0))
		__builtin_trap();
}

bool core_sent_starts(const struct mg_connection* c, const char* text)
{
	size_t n = strlen(text);
	return c->send.len >= n && memcmp(c->send.buf, text, n) == 0;
}
