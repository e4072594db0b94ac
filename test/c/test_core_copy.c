// SPDX-License-Identifier: MIT
// The message copies at the poll/XS crossing (core/message_copy.c): every field
// reads the same from the copy once the bytes it came from are gone.
#include "check.h"
#include "core_support.h"

#include <stdlib.h>

// A heap copy of text, so that ASan sees any read of it once freed.
static char* heap(const void* text, size_t n)
{
	char* p = malloc(n + 1);
	memcpy(p, text, n);
	p[n] = 0;
	return p;
}

static bool same(struct mg_str a, const char* b)
{
	return mg_strcmp(a, mg_str(b)) == 0;
}

static void test_copy_http(void)
{
	static const char text[] = "POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody";
	char* bytes = heap(text, sizeof(text) - 1);
	struct mg_http_message hm;
	CHECK(mg_http_parse(bytes, sizeof(text) - 1, &hm) > 0);
	size_t size = 0;
	struct mg_http_message* m = xm_core_copy_http(&hm, &size);
	free(bytes);
	CHECK(m != NULL);
	CHECK(size >= sizeof(*m) + sizeof(text) - 1);
	CHECK(same(m->method, "POST"));
	CHECK(same(m->uri, "/a/b"));
	CHECK(same(m->query, "x=1"));
	CHECK(same(m->proto, "HTTP/1.1"));
	CHECK(same(m->body, "body"));
	CHECK(same(m->message, text));
	CHECK(same(m->head, "POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n"));
	CHECK(same(*mg_http_get_header(m, "Host"), "h"));
	CHECK(same(*mg_http_get_header(m, "Content-Length"), "4"));
	CHECK_EQ(mg_http_get_header(m, "Cookie") == NULL, 1);
	free(m);
}

// A response without Content-Length (a 101) has a body until close: only the head is copied.
static void test_copy_http_endless(void)
{
	static const char text[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
	char* bytes = heap(text, sizeof(text) - 1);
	struct mg_http_message hm;
	CHECK(mg_http_parse(bytes, sizeof(text) - 1, &hm) > 0);
	CHECK(hm.body.len == (size_t)~0 || hm.message.len == (size_t)~0);
	size_t size = 0;
	struct mg_http_message* m = xm_core_copy_http(&hm, &size);
	free(bytes);
	CHECK(m != NULL);
	CHECK_EQ(m->body.len, 0);
	CHECK(same(m->message, text));
	CHECK(same(*mg_http_get_header(m, "Upgrade"), "websocket"));
	CHECK_EQ(mg_http_status(m), 101);
	free(m);
}

static void test_copy_ws(void)
{
	char* bytes = heap("payload", 7);
	struct mg_ws_message wm = { mg_str_n(bytes, 7), 0x81 };
	size_t size = 0;
	struct mg_ws_message* m = xm_core_copy_ws(&wm, &size);
	free(bytes);
	CHECK(m != NULL);
	CHECK(same(m->data, "payload"));
	CHECK_EQ(m->data.buf[7], 0);
	CHECK_EQ(m->flags, 0x81);
	free(m);
}

static void test_copy_mqtt(void)
{
	static const uint8_t packet[] = { 0x32, 10, 0, 3, 'a', '/', 'b', 0, 9, 'd', 'a', 't' };
	char* bytes = heap(packet, sizeof(packet));
	struct mg_mqtt_message mm;
	CHECK_EQ(mg_mqtt_parse((uint8_t*)bytes, sizeof(packet), 4, &mm), MQTT_OK);
	size_t size = 0;
	struct mg_mqtt_message* m = xm_core_copy_mqtt(&mm, &size);
	free(bytes);
	CHECK(m != NULL);
	CHECK(same(m->topic, "a/b"));
	CHECK(same(m->data, "dat"));
	CHECK_EQ(m->dgram.len, sizeof(packet));
	CHECK(memcmp(m->dgram.buf, packet, sizeof(packet)) == 0);
	CHECK_EQ(m->id, mm.id);
	CHECK_EQ(m->qos, 1);
	free(m);

	// A field outside the packet (not expected from mongoose) reads as empty,
	// and an empty one points into the copy.
	bytes = heap(packet, sizeof(packet));
	CHECK_EQ(mg_mqtt_parse((uint8_t*)bytes, sizeof(packet), 4, &mm), MQTT_OK);
	mm.data = mg_str("elsewhere");
	mm.topic = mg_str_n(NULL, 0);
	m = xm_core_copy_mqtt(&mm, &size);
	free(bytes);
	CHECK_EQ(m->data.len, 0);
	CHECK(m->topic.buf == m->dgram.buf);
	free(m);
}

const test_case_t core_copy_tests[] = {
	{ "core: copy of an HTTP message", test_copy_http, false },
	{ "core: copy of an HTTP response with a body until close", test_copy_http_endless, false },
	{ "core: copy of a WebSocket message", test_copy_ws, false },
	{ "core: copy of an MQTT message, fields outside it", test_copy_mqtt, false },
	{ NULL, NULL, false },
};
