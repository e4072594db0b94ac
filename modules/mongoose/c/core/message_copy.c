// SPDX-License-Identifier: MIT
// One copy of an event's data at the poll/XS crossing: the message struct and its
// bytes in a single allocation, with every mg_str moved to point into the copy,
// so HttpMessage/WsMessage/MqttMessage read it with the same accessors.
#include <stdlib.h>
#include "xm_core.h"

static void rebase(struct mg_str* s, const char* from, char* to, size_t size)
{
	if (s->buf && s->buf >= from && s->buf + s->len <= from + size)
		s->buf = to + (s->buf - from);
	else if (s->len == 0)
		s->buf = to;
	else
		*s = mg_str_n(to, 0);  // outside the copied region: not expected, read as empty
}

void* xm_core_copy_http(const struct mg_http_message* hm, size_t* size)
{
	// message spans the request line, headers and body, contiguously.
	const char* from = hm->message.buf;
	size_t n = hm->message.len;
	// A response without Content-Length (the 101 of a WebSocket handshake) has a
	// body "until close": ~0. Only the head is in the buffer then.
	bool endless = hm->body.len == (size_t)~0 || n == (size_t)~0;
	if (endless)
		n = (size_t)(hm->body.buf - from);
	struct { struct mg_http_message hm; char bytes[]; }* copy = malloc(sizeof(*copy) + n + 1);
	if (!copy)
		return NULL;
	memcpy(copy->bytes, from, n);
	copy->bytes[n] = 0;
	copy->hm = *hm;
	struct mg_http_message* m = &copy->hm;
	struct mg_str* fields[] = { &m->method, &m->uri, &m->query, &m->proto, &m->body, &m->head, &m->message };
	if (endless) {
		m->body.len = 0;
		m->message.len = n;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		rebase(fields[i], from, copy->bytes, n);
	for (int i = 0; i < MG_MAX_HTTP_HEADERS && m->headers[i].name.len; i++) {
		rebase(&m->headers[i].name, from, copy->bytes, n);
		rebase(&m->headers[i].value, from, copy->bytes, n);
	}
	*size = sizeof(*copy) + n;
	return copy;
}

void* xm_core_copy_ws(const struct mg_ws_message* wm, size_t* size)
{
	struct { struct mg_ws_message wm; char bytes[]; }* copy = malloc(sizeof(*copy) + wm->data.len + 1);
	if (!copy)
		return NULL;
	memcpy(copy->bytes, wm->data.buf, wm->data.len);
	copy->bytes[wm->data.len] = 0;
	copy->wm = *wm;
	copy->wm.data.buf = copy->bytes;
	*size = sizeof(*copy) + wm->data.len;
	return copy;
}

void* xm_core_copy_mqtt(const struct mg_mqtt_message* mm, size_t* size)
{
	// dgram is the whole packet; topic and data lie inside it.
	const char* from = mm->dgram.buf;
	size_t n = mm->dgram.len;
	struct { struct mg_mqtt_message mm; char bytes[]; }* copy = malloc(sizeof(*copy) + n + 1);
	if (!copy)
		return NULL;
	memcpy(copy->bytes, from, n);
	copy->bytes[n] = 0;
	copy->mm = *mm;
	rebase(&copy->mm.topic, from, copy->bytes, n);
	rebase(&copy->mm.data, from, copy->bytes, n);
	rebase(&copy->mm.dgram, from, copy->bytes, n);
	*size = sizeof(*copy) + n;
	return copy;
}
